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
    /* Source port: has_sport false is an ordinary client, whose port is any of
     * XG_CLIENT_PORT_LO..65535 (a source-port match is decided when it covers
     * all of them or none, unknown otherwise). */
    bool has_sport;
    uint16_t sport;
    /* Link-layer source (--mac); NULL is a MAC no rule names ("any MAC not
     * listed"), so MAC matches are decided either way. */
    const uint8_t *mac;
    /* Address types: the host's own addresses (source type LOCAL) and its
     * subnets' broadcast addresses; NULL leaves LOCAL versus UNICAST of a
     * source unknown. Multicast and limited broadcast go by their ranges. The
     * destination of the input path is LOCAL (--to in a multicast or broadcast
     * range says otherwise), of the forward path UNICAST. */
    const struct xg_prefix_list *local;
    const struct xg_prefix_list *bcast;
    /* A frame entering a bridge from this port (a guest's vif): the bridge
     * family's chains run first, their iifname is the port; then, on the
     * input path, the IP chains with iifname = the bridge device (iifname).
     * The forward path is then the bridge's (no br_netfilter). */
    const char *brport;
};

/* The ephemeral ports an ordinary client's connection comes from. */
#define XG_CLIENT_PORT_LO 1024

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
    const struct xg_table *unknown_table; /* the table holding `unknown` */
};

struct xg_trace {
    struct xg_trace_step *steps;
    size_t count;
};

/* Why a bound is not exact: the first rule on a packet's path whose outcome
 * the analyzer cannot decide, and what it cannot decide about it. */
struct xg_may_reason {
    const struct xg_rule *rule;   /* NULL: no reason found */
    const struct xg_match *match; /* the undecided match; NULL: the rule's target */
    bool open_field;              /* a packet field the query left open (not unmodelled) */
    char what[160];               /* "source port (no --sport given)", "-m recent --rcheck" */
};
/* For a packet from `saddr` (one in may but not must). */
int xg_explain_may(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                   const struct xg_prefix *saddr, struct xg_may_reason *out, struct xg_err *err);
/* The same for the first unknown of a trace step (see xg_packet_trace). */
void xg_describe_unknown(const struct xg_table *t, const struct xg_rule *r,
                         const struct xg_packet_query *q, struct xg_may_reason *out);

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

/* Sources that get in only with a chosen source port or MAC (listed apart
 * from the ordinary client's answer, which assumes neither). */
enum xg_extra_kind { XG_EXTRA_SPORT, XG_EXTRA_MAC };
struct xg_reach_extra {
    enum xg_extra_kind kind;
    uint16_t lo, hi;               /* XG_EXTRA_SPORT: the source ports */
    uint8_t mac[6];                /* XG_EXTRA_MAC */
    struct xg_prefix_list sources; /* what it reaches (may bound); listed only when that
                                      holds sources the ordinary answer's may bound lacks */
    bool exact;                    /* its may and must bounds agree */
    const struct xg_rule *rule;    /* the rule that lets an example in (NULL: none found) */
};

/* One service on each interface class, both families (IPv4 = [0]). */
struct xg_iface_reach {
    bool asked[2]; /* false: the family does not apply (tmpl->daddr of the other family) */
    struct xg_reach r[2];
    struct xg_may_reason why[2]; /* when may != must: the first reason */
    struct xg_reach_extra *extra[2];
    size_t nextra[2];
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

/* --- guests on bridges (bridge.c): what a guest port can claim --- */

enum xg_claim_kind { XG_CLAIM_IP, XG_CLAIM_ARP, XG_CLAIM_ND };
#define XG_CLAIM_KINDS 4 /* IPv4 source, IPv6 source, ARP sender, ND target */

struct xg_guest_claim {
    struct xg_reach can;           /* addresses the port may / must be able to claim */
    enum xg_spoof_verdict verdict; /* does a claim hit Dom0, another guest or a protected one */
    struct xg_prefix example;      /* such an address (verdict YES or MAYBE) */
    int whom;                      /* 0 Dom0, 1 another guest, 2 protected, 3 any (none known) */
};
struct xg_guest_answer {
    char port[XG_IFNAMSIZ];
    struct xg_guest_claim claim[XG_CLAIM_KINDS]; /* IPv4, IPv6, ARP, ND */
};
/* One guest port: frames from `port`, to Dom0 through `bridge` (the IP chains'
 * iifname; NULL: any) and across the bridge. `map` gives Dom0's addresses. */
int xg_guest_spoofing(const struct xg_ruleset *rs, const struct xg_ifmap *map, const char *port,
                      const char *bridge, struct xg_guest_answer *out, struct xg_err *err);
void xg_guest_answer_free(struct xg_guest_answer *a);
/* The guest ports to ask about (names matching `patterns`, e.g. "vif*"). */
int xg_guest_ports(const struct xg_ruleset *rs, const struct xg_ifmap *map,
                   const char *const *patterns, size_t npat, char (**out)[XG_IFNAMSIZ],
                   size_t *count);

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

/* What only a chosen source port or a particular source MAC opens, on the
 * classes of `base` (the ordinary client's matrix of the same query,
 * matrix_cond.c): pairs that are not an edge of `base`, with the part of
 * each class the choice opens. Sorted by (src, dst, choice); adjacent
 * source-port classes with the same answer and rule are one entry. */
struct xg_matrix_cond {
    size_t src, dst; /* classes of `base` */
    enum xg_extra_kind kind;
    uint16_t lo, hi;                      /* XG_EXTRA_SPORT: the source ports */
    uint8_t mac[6];                       /* XG_EXTRA_MAC */
    struct xg_prefix_list sources, dests; /* the part of src and dst it opens */
    bool exact;                           /* every such pair is a must edge with the choice */
    const struct xg_rule *rule;           /* the rule that lets an example through, or NULL */
};
int xg_matrix_conditional(struct xg_matrix_ctx *cx, const struct xg_matrix_query *mq,
                          const struct xg_matrix *base, struct xg_matrix_cond **out, size_t *n,
                          struct xg_err *err);
void xg_matrix_cond_free(struct xg_matrix_cond *v, size_t n);

/* Every source-port class and MAC a ruleset's matches tell apart, beyond the
 * ordinary client (query.c): `reps` are classes' first ports outside the
 * ordinary range, or within it when a rule splits it. */
int xg_ruleset_sport_classes(const struct xg_ruleset *rs, struct xg_port_range **out,
                             size_t *count);
int xg_ruleset_macs(const struct xg_ruleset *rs, uint8_t (**out)[6], size_t *count);
/* The rule that decides `q` from `saddr`: the first deciding rule on the
 * trace with a match of `kind` (*named = true), else the first deciding rule. */
const struct xg_rule *xg_deciding_rule(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                                       const struct xg_prefix *saddr, enum xg_match_kind kind,
                                       bool *named);
/* An interface pattern ("eth0", iptables' "eth+", nft's "eth*") against a name (path.c). */
bool xg_ifname_matches(const char *pattern, const char *name);
/* "02:00:5e:00:01:01" (case-insensitive) into 6 bytes; -1 if not a MAC. */
int xg_mac_parse(const char *text, uint8_t out[6]);
/* The address types of a source or destination, for `q` (path.c). */
uint32_t xg_addrtype_of(const struct xg_prefix *a, const struct xg_packet_query *q, bool *known);

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

/* The questions a reachability diff asks: every interface class x family (4,
 * 6) x protocol (tcp, udp) x port class, on `path` (oface may be NULL).
 * *out is calloc'd (free it); -1 when out of memory. */
int xg_diff_questions(const struct xg_ifclass *ifs, size_t nifs, const struct xg_port_range *ports,
                      size_t nports, enum xg_hook path, const char *oface,
                      struct xg_diff_question **out, size_t *n);

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
