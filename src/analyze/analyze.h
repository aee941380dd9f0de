/*
 * analyze.h — reading real rulesets into the IR, and what they let through.
 *
 * The contract between the analyzer (issue 3) and its users (audit, apply's
 * lockout guard, status). Parsers turn iptables-save and `nft -j list
 * ruleset` text into an xg_ruleset (rules keep src_file/src_line); the
 * evaluator follows netfilter's semantics across every base chain of every
 * table on the packet's path and computes, for a service, the exact set of
 * sources that may / must open a new connection. `may` assumes unknown
 * matches take whichever value accepts; `must` the opposite; both are equal
 * when every match is modelled.
 */
#ifndef XG_ANALYZE_ANALYZE_H
#define XG_ANALYZE_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"
#include "net/addr.h"
#include "util/err.h"

/* iptables-save (family 4) or ip6tables-save (family 6) text; appends tables to `out`. */
int xg_parse_iptables_save(const char *text, size_t len, const char *path, uint8_t family,
                           struct xg_ruleset *out, struct xg_err *err);

/* `nft -j list ruleset` JSON; appends tables to `out`. */
int xg_parse_nft_json(const char *text, size_t len, const char *path, struct xg_ruleset *out,
                      struct xg_err *err);

/* A new connection's description, for evaluation. */
struct xg_packet_query {
    uint8_t family; /* 4 or 6 */
    uint8_t proto;  /* IPPROTO_TCP, IPPROTO_UDP */
    uint16_t dport;
    const char *iifname; /* interface it arrives on */
    enum xg_hook path;   /* XG_HOOK_INPUT (default) or XG_HOOK_FORWARD */
};

/* Sources (as minimal, sorted CIDR lists) that may / must get a new connection through. */
struct xg_reach {
    struct xg_prefix_list may;
    struct xg_prefix_list must;
};

int xg_reach_compute(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                     struct xg_reach *out, struct xg_err *err);
void xg_reach_free(struct xg_reach *r);

#endif
