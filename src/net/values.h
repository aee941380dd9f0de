/*
 * values.h — plain network values that the policy and the ruleset IR share:
 * interface names, port ranges, link-layer address lists.
 *
 * They live below both so that the policy does not depend on the IR (the
 * compiler reads the policy and writes the IR; nothing goes the other way).
 */
#ifndef XG_NET_VALUES_H
#define XG_NET_VALUES_H

#include <stdint.h>

/* Interface names hold at most 15 characters (the kernel's IFNAMSIZ). */
#define XG_IFNAMSIZ 16

/* At most this many link-layer addresses in one list (gateway MACs). */
#define XG_MAX_MACS 8

struct xg_port_range {
    uint16_t lo, hi; /* inclusive */
};

#endif
