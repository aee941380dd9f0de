/*
 * perimeter.h — does a router's ruleset do the chapter's two perimeter jobs?
 *
 * "A subnet behind a firewall" asks the cluster's firewall to (1) prevent IP
 * spoofing from outside the subnet and (2) prevent access to the relocation
 * port of any node except from within the cluster. Asked of any ruleset (one
 * xenguard did not write), exactly, on the forward path, with the analyzer's
 * public API (analyze.h), for the policy's [perimeter] interfaces:
 *
 *   XG-PER-001  for each outside interface and each inside interface: no
 *               source in [cluster] networks or a special-purpose range
 *               (compile/perimeter.h) opens a new TCP or UDP connection to an
 *               address of the networks, on any port;
 *   XG-PER-002  arriving on any interface but an inside one, nothing opens a
 *               new TCP connection to a peer's management ports (the ports of
 *               `xenguard perimeter`), except sshd from [admin] ssh-from.
 *
 * Destinations are asked per class: the networks' and peers' first
 * addresses and every boundary a destination match of the ruleset draws
 * inside them, so a rule for one address is seen. A hole is reported once
 * per requirement and rule, with an example packet and the rule that lets
 * it through (FILE:LINE, or the nft handle), found by tracing that packet.
 */
#ifndef XG_ANALYZE_PERIMETER_H
#define XG_ANALYZE_PERIMETER_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/ir.h"
#include "policy/policy.h"
#include "util/err.h"

#define XG_PER_MAX_HOLES 32

enum xg_per_status { XG_PER_HOLDS, XG_PER_UNDECIDED, XG_PER_FAILS };

struct xg_per_hole {
    int req;      /* 0: spoofing (XG-PER-001), 1: management plane (XG-PER-002) */
    bool certain; /* every reading of the rules lets it through (else: some reading does) */
    char iif[XG_IFNAMSIZ + 2], oif[XG_IFNAMSIZ];
    struct xg_prefix source, dest;
    uint8_t proto;
    uint16_t port;
    char rule[640]; /* the rule that lets it through, or the first one the analyzer cannot decide */
};

struct xg_per_result {
    enum xg_per_status status[2];
    struct xg_per_hole holes[XG_PER_MAX_HOLES];
    size_t count;
    size_t asked; /* questions asked, for the evidence */
};

/* Check `rs` against the policy's [perimeter] (present: else an error). */
int xg_perimeter_check(const struct xg_ruleset *rs, const struct xg_policy *p,
                       struct xg_per_result *out, struct xg_err *err);

/* "XG-PER-001" / "XG-PER-002", and what each asks, in one line. */
const char *xg_per_id(int req);
const char *xg_per_title(int req);
const char *xg_per_status_name(enum xg_per_status s);
/* One line: "eth0 -> eth1: 192.0.2.1 -> 192.0.2.10 tcp/80 gets through: FILE:LINE ...". */
void xg_per_hole_describe(const struct xg_per_hole *h, char *out, size_t size);

#endif
