/*
 * path.h — the evaluator's shared semantics (path.c), used by eval.c (sets
 * of sources), trace.c (one packet), classes.c (interface classes) and
 * matrix.c (sources x destinations).
 * Internal to src/analyze/.
 */
#ifndef XG_ANALYZE_PATH_H
#define XG_ANALYZE_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/analyze.h"

#define XG_MAX_JUMP_DEPTH 128

enum xg_tri { TRI_F, TRI_T, TRI_U };

bool xg_table_has_family(const struct xg_table *t, uint8_t family);
/* The prefixes an address match stands for (its own, or its set's); NULL: unknown set. */
const struct xg_prefix_list *xg_addr_prefixes(const struct xg_table *t, const struct xg_match *m);
enum xg_tri xg_tri_neg(enum xg_tri v, bool negate);
enum xg_tri xg_addr_in(const struct xg_table *t, const struct xg_match *m,
                       const struct xg_prefix *a);
/* One match other than the source address, for the query's fixed packet. */
enum xg_tri xg_match_fixed(const struct xg_table *t, const struct xg_match *m,
                           const struct xg_packet_query *q, uint32_t ct);
/* An address-type match, given an address's possible types (known: they are sure). */
enum xg_tri xg_addrtype_tri(const struct xg_match *m, uint32_t types, bool known);
/* All of a rule's fixed matches; *has_rpf: it has a match decided per source (reverse path with a
 * map, the source's address type), by atoms. */
enum xg_tri xg_rule_fixed(const struct xg_table *t, const struct xg_rule *r,
                          const struct xg_packet_query *q, uint32_t ct, bool *has_rpf);
/* The conntrack state a base chain sees for a new connection's first packet. */
uint32_t xg_ct_state_at(const struct xg_chain *base);

struct xg_base_ref {
    const struct xg_table *t;
    const struct xg_chain *c;
    int hook_order;
};
/* The base chains a packet of `q` traverses, in order (*out to free). */
int xg_path_chains(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                   struct xg_base_ref **out, size_t *count);

/* The evaluator over atoms (eval.c), for callers that combine many answers
 * (the service matrix): may/must as bitsets over the analysis's atoms of
 * q->family, and those atoms. */
struct xg_atoms;
struct xg_bits;
int xg_analysis_reach_bits(struct xg_analysis *an, const struct xg_packet_query *q,
                           struct xg_bits *may, struct xg_bits *must, struct xg_err *err);
const struct xg_atoms *xg_analysis_atoms(const struct xg_analysis *an, uint8_t family);
const struct xg_ruleset *xg_analysis_ruleset(const struct xg_analysis *an);

#endif
