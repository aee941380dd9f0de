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
    /* Extensions (zero means "not known": matches on them are unknown). */
    const struct xg_prefix *daddr; /* destination address (--to) */
    const char *oifname;           /* outgoing interface (forward path) */
    /* Sources whose reverse path leads back through iifname (from an
     * interface map); NULL leaves reverse-path (fib/rpfilter) matches unknown. */
    const struct xg_prefix_list *rpf_ok;
};

/* Sources (as minimal, sorted CIDR lists) that may / must get a new connection through. */
struct xg_reach {
    struct xg_prefix_list may;
    struct xg_prefix_list must;
};

int xg_reach_compute(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                     struct xg_reach *out, struct xg_err *err);
void xg_reach_free(struct xg_reach *r);

/*
 * The same, with the work shared between many queries on one ruleset: an
 * analysis cuts each family's address space into atoms once (every prefix,
 * range and set element of the ruleset, plus `extra`), and compiles each
 * rule's address matches to atom ranges. `rs` must outlive it.
 */
struct xg_analysis;
struct xg_analysis *xg_analysis_new(const struct xg_ruleset *rs, const struct xg_prefix_list *extra,
                                    struct xg_err *err);
void xg_analysis_free(struct xg_analysis *an);
int xg_analysis_reach(struct xg_analysis *an, const struct xg_packet_query *q, struct xg_reach *out,
                      struct xg_err *err);

/* One base chain's part in a single packet's fate (see xg_packet_trace). */
struct xg_trace_step {
    const struct xg_table *table;
    const struct xg_chain *base;
    enum xg_verdict_kind verdict;  /* ACCEPT, DROP or REJECT (or UNKNOWN target) */
    const struct xg_rule *rule;    /* the deciding rule; NULL = the chain's policy */
    const struct xg_chain *chain;  /* the chain holding `rule` */
    const struct xg_rule *unknown; /* first unmodelled match/target met on the way, or NULL */
};

struct xg_trace {
    struct xg_trace_step *steps;
    size_t count;
};

/* One packet from `saddr`: each base chain on its path in priority order,
 * with unknown matches taken as not matching (the bounds say whether that
 * matters). Stops at the first chain that drops. */
int xg_packet_trace(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                    const struct xg_prefix *saddr, struct xg_trace *out, struct xg_err *err);
void xg_trace_free(struct xg_trace *t);

/* Interface classes of a ruleset: every interface name its rules match on
 * (wildcards as "eth+"), for per-interface answers; "any other" is added
 * by the caller. */
int xg_ruleset_ifnames(const struct xg_ruleset *rs, char ***names, size_t *count);
/* A name that matches none of the ruleset's interface patterns. */
void xg_ruleset_other_ifname(const struct xg_ruleset *rs, char out[XG_IFNAMSIZ]);
/* A representative name for a class: the name itself, or a wildcard's stem
 * completed so that it equals no exact name. */
void xg_ifclass_representative(const struct xg_ruleset *rs, const char *cls, char out[XG_IFNAMSIZ]);

/* An interface class to ask about: its label ("eth0", "vlan+", "*" = any other), the
 * name evaluated for it, and its kind ("name", "wildcard", "other"). */
struct xg_ifclass {
    char label[XG_IFNAMSIZ + 2];
    char rep[XG_IFNAMSIZ];
    const char *kind;
};
/* Every class of the ruleset's interface matches plus "any other"; or just `only`. */
int xg_ifclasses(const struct xg_ruleset *rs, const char *only, struct xg_ifclass **out,
                 size_t *count);

/* --- per-interface questions (query.c) --- */

struct xg_ifmap;

/* One service on each interface class, both families (IPv4 = [0]). */
struct xg_iface_reach {
    bool asked[2]; /* false: the family does not apply (tmpl->daddr of the other family) */
    struct xg_reach r[2];
};
/* `tmpl` gives service, path, oifname, daddr; `map` (or NULL) decides reverse-path matches. */
int xg_reach_by_iface(const struct xg_ruleset *rs, const struct xg_packet_query *tmpl,
                      const struct xg_ifclass *ifs, size_t nifs, const struct xg_ifmap *map,
                      struct xg_iface_reach *out, struct xg_err *err);
void xg_iface_reach_free(struct xg_iface_reach *v, size_t n);

/* Spoofing per interface of a map: can a source outside its prefixes get in? */
enum xg_spoof_verdict { XG_SPOOF_UNCHECKED, XG_SPOOF_NO, XG_SPOOF_MAYBE, XG_SPOOF_YES };
struct xg_spoof_family {
    enum xg_spoof_verdict verdict; /* UNCHECKED: the map has no prefix of this family */
    bool has_example;
    struct xg_prefix example; /* a source that gets in */
    uint8_t proto;
    uint16_t lo, hi; /* the port class it gets in to */
};
struct xg_spoof_answer {
    struct xg_spoof_family fam[2]; /* [0] IPv4, [1] IPv6 */
};
/* One answer per map entry, in the map's order (out has map->count entries). */
int xg_spoofing(const struct xg_ruleset *rs, const struct xg_ifmap *map, enum xg_hook path,
                const char *oifname, struct xg_spoof_answer *out, struct xg_err *err);

/* --- the service matrix (matrix.c): who reaches whom --- */

/*
 * One service's matrix for one family, as fffuu's service matrix: the
 * address space cut into classes whose addresses have identical access as
 * source and as destination, and the (source class, destination class)
 * pairs a new connection can go.
 *
 * A context holds what every matrix of one ruleset shares: the ruleset,
 * the interface map (or NULL) and the analyses made from them. With a map,
 * a packet from interface I has its source in I's prefixes (the longest
 * prefix decides, as routing does; fffuu's interface assumptions), and on
 * the forward path a packet to D leaves by D's interface. Sources no map
 * entry covers, and every source without a map, may arrive on any
 * interface class of the ruleset: such an edge is exact only if it is one
 * on all of them. `rs` and `map` must outlive the context.
 *
 * A query: `svc` gives family, proto, dport, path and optionally a fixed
 * iifname (every source arrives there) and oifname (daddr and rpf_ok are
 * ignored); `dsts` (NULL: every address) restricts the destinations, e.g.
 * to the host's own addresses on the input path.
 */
struct xg_matrix_ctx;
struct xg_matrix_ctx *xg_matrix_ctx_new(const struct xg_ruleset *rs, const struct xg_ifmap *map,
                                        struct xg_err *err);
void xg_matrix_ctx_free(struct xg_matrix_ctx *cx);

struct xg_matrix_query {
    struct xg_packet_query svc;
    const struct xg_prefix_list *dsts;
};

struct xg_matrix_class {
    char name[8]; /* "A", "B", ... "Z", "AA", ... in address order */
    struct xg_prefix_list addrs;
};

struct xg_matrix_edge {
    size_t src, dst; /* class indexes */
    bool must;       /* false: only through unmodelled matches ("may") */
};

struct xg_matrix {
    uint8_t family;
    struct xg_matrix_class *classes;
    size_t count;
    struct xg_matrix_edge *edges; /* sorted by (src, dst) */
    size_t nedges;
    bool exact; /* every edge is a must edge and every non-edge a must-not */
    /* work done: evaluations, and the classes before merging */
    size_t evaluations, src_candidates, dst_candidates;
};

int xg_service_matrix(struct xg_matrix_ctx *cx, const struct xg_matrix_query *mq,
                      struct xg_matrix *out, struct xg_err *err);
void xg_matrix_free(struct xg_matrix *m);

/* --- diff (diff.c): what two rulesets let in differently --- */

/* One question: a packet query, the label its interface is reported under
 * ("*" = any other), and the last port of the class q.dport..hi it stands for. */
struct xg_diff_question {
    struct xg_packet_query q;
    const char *label;
    uint16_t hi;
};

/* A question the two sides answer differently. */
struct xg_reach_change {
    const char *label; /* the question's (not owned) */
    uint8_t family, proto;
    uint16_t lo, hi;
    struct xg_reach old, new;           /* both answers */
    struct xg_prefix_list gained, lost; /* may bound: new minus old, old minus new */
    bool must_changed;
};

struct xg_reach_diff {
    struct xg_reach_change *items;
    size_t count;
    size_t asked; /* questions answered */
};

/* Ask every question of both rulesets; `merge` joins adjacent port classes that changed alike. */
int xg_reach_diff(const struct xg_ruleset *old, const struct xg_ruleset *new,
                  const struct xg_diff_question *qs, size_t n, bool merge,
                  struct xg_reach_diff *out, struct xg_err *err);
void xg_reach_diff_free(struct xg_reach_diff *d);

/* a minus b (one family), as a minimal prefix list appended to `out`. */
int xg_prefix_list_minus(const struct xg_prefix_list *a, const struct xg_prefix_list *b,
                         uint8_t family, struct xg_prefix_list *out);

/* Destination port classes: ranges no rule can tell apart, for `proto`. */
int xg_ruleset_port_classes(const struct xg_ruleset *rs, struct xg_port_range **out, size_t *count);

#endif
