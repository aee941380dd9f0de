/*
 * addr.h — IPv4/IPv6 addresses and CIDR prefixes as plain values.
 *
 * One struct serves both families so that sets of sources can be handled
 * uniformly by the compiler and the analyzer. IPv4 addresses live in the
 * first 4 bytes of addr[]; the rest is zero. A prefix is canonical when no
 * bit beyond `len` is set: parsing refuses non-canonical prefixes and says
 * what the input would really have meant (the specification's
 * "192.168.1.1/8" is 192.0.0.0/8), unless the caller asks for masking, as
 * the analyzer must for real rule dumps that the kernel already masked.
 */
#ifndef XG_NET_ADDR_H
#define XG_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xg_family {
    XG_FAMILY_ANY = 0,
    XG_FAMILY_IPV4 = 4,
    XG_FAMILY_IPV6 = 6,
};

struct xg_prefix {
    uint8_t family; /* XG_FAMILY_IPV4 or XG_FAMILY_IPV6 */
    uint8_t len;    /* 0..32 or 0..128 */
    uint8_t addr[16];
};

#define XG_PREFIX_STRLEN 64 /* enough for "ffff:...:ffff/128" */

/* Maximum prefix length for a family (32 or 128). */
unsigned xg_family_bits(uint8_t family);

enum xg_prefix_mode {
    XG_PREFIX_STRICT, /* host bits set -> error naming the real network */
    XG_PREFIX_MASK,   /* host bits silently cleared (rule dumps) */
};

/*
 * Parse "ADDR" (a host prefix) or "ADDR/LEN". In strict mode an input with
 * host bits fails, and `why` (>= 160 bytes) says e.g.
 * "192.168.1.1/8 has host bits set: as a prefix it means 192.0.0.0/8".
 * Returns 0 or -1 (why filled).
 */
int xg_prefix_parse(const char *text, enum xg_prefix_mode mode, struct xg_prefix *out, char *why,
                    size_t why_size);

/* Parse a bare address (no /LEN); returns 0 or -1. */
int xg_addr_parse(const char *text, struct xg_prefix *out);

/* "192.0.2.0/24", "2001:db8::/64"; host prefixes print without /32 or /128 when bare is true. */
void xg_prefix_format(const struct xg_prefix *p, bool bare_host, char out[XG_PREFIX_STRLEN]);

/* Clear the bits beyond p->len. */
void xg_prefix_mask(struct xg_prefix *p);
bool xg_prefix_is_canonical(const struct xg_prefix *p);
/* Does `outer` contain all of `inner` (same family)? */
bool xg_prefix_contains(const struct xg_prefix *outer, const struct xg_prefix *inner);
bool xg_prefix_overlaps(const struct xg_prefix *a, const struct xg_prefix *b);
bool xg_prefix_equal(const struct xg_prefix *a, const struct xg_prefix *b);
/* Total order: family, then address, then length. */
int xg_prefix_cmp(const struct xg_prefix *a, const struct xg_prefix *b);

/* A growable list of prefixes. */
struct xg_prefix_list {
    struct xg_prefix *items;
    size_t count;
    size_t cap;
};

int xg_prefix_list_add(struct xg_prefix_list *l, const struct xg_prefix *p);
int xg_prefix_list_copy(struct xg_prefix_list *dst, const struct xg_prefix_list *src);
size_t xg_prefix_list_count_family(const struct xg_prefix_list *l, uint8_t family);
/* Is `p` inside some prefix of the list? */
bool xg_prefix_list_covers(const struct xg_prefix_list *l, const struct xg_prefix *p);
void xg_prefix_list_free(struct xg_prefix_list *l);
/* Same prefixes in the same order (lists from the analyzer are sorted and minimal). */
bool xg_prefix_list_equal(const struct xg_prefix_list *a, const struct xg_prefix_list *b);
/* The one printer of a prefix list: prefixes joined by `sep` (hosts without /32 or /128 when
 * bare_host), or `empty` when there are none; appended to `out`. */
struct xg_buf;
void xg_prefix_list_print(struct xg_buf *out, const struct xg_prefix_list *l, const char *sep,
                          bool bare_host, const char *empty);

#endif
