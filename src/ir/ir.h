/*
 * ir.h — the ruleset intermediate representation.
 *
 * One representation for every firewall xenguard touches:
 *   policy --compile--> IR --backend/nft------> `nft -f` text
 *                          --backend/iptables-> `iptables-restore` text
 *   iptables-save / nft -j (analyzer parsers) --> IR --> reachability
 * so the two backends cannot disagree, and the analyzer checks the
 * compiler's output with the very structures the compiler produced.
 *
 * The model is netfilter's: tables hold named sets and chains; base chains
 * sit on a hook with a priority and a policy; a rule is a conjunction of
 * matches followed by one verdict. Things a real dump can hold that xenguard
 * does not model (marks, `recent`, MAC, rate limits for the analyzer) are
 * kept as XG_MATCH_UNKNOWN / XG_VERDICT_UNKNOWN with their original text, so
 * the analyzer can compute may/must bounds instead of guessing. Verdict maps
 * are expanded by the parsers into one rule per key (the keys are disjoint,
 * so order does not matter), which keeps the evaluator small.
 *
 * Ownership: an xg_ruleset owns everything below it; xg_ruleset_free()
 * releases it all, xg_table_free() one table taken out of it. Builders
 * below copy what they are given. Netfilter's words (hooks, families,
 * priorities, xenguard's own table and chain names) are in names.h.
 */
#ifndef XG_IR_IR_H
#define XG_IR_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/names.h"
#include "net/addr.h"
#include "net/values.h"

enum xg_match_kind {
    XG_MATCH_IIFNAME, /* ifname: exact, or trailing '+' (iptables) / '*' (nft) wildcard */
    XG_MATCH_OIFNAME,
    XG_MATCH_NFPROTO, /* family: only packets of this IP family (inet tables) */
    XG_MATCH_SADDR,   /* addrs: source in any of the prefixes (or named set) */
    XG_MATCH_DADDR,
    XG_MATCH_L4PROTO, /* proto: IPPROTO_* number */
    XG_MATCH_SPORT,   /* ports: in any of the ranges */
    XG_MATCH_DPORT,
    XG_MATCH_CTSTATE,     /* ct_states: conntrack state in the mask */
    XG_MATCH_RPF_OK,      /* reverse path valid: the route back to saddr leaves via iif.
                             negate=true is nft `fib saddr . iif oif missing`,
                             iptables `-m rpfilter --invert` */
    XG_MATCH_ICMP_TYPE,   /* icmp: family 4 = ICMP, 6 = ICMPv6; type in the list */
    XG_MATCH_LIMIT,       /* limit: rate limit (the analyzer treats it as unknown) */
    XG_MATCH_ETHER_SADDR, /* macs: link-layer source in the list */
    XG_MATCH_ADDRTYPE,    /* addrtype: source or destination address type (iptables -m
                             addrtype, nft `fib saddr/daddr type`) */
    XG_MATCH_ETHERTYPE,   /* ethertype: link-layer protocol (bridge family): 0x0800, 0x86dd,
                             0x0806 (ARP) */
    XG_MATCH_ARP_SPA,     /* addrs: ARP sender protocol address (IPv4; bridge and arp family) */
    XG_MATCH_ND_TARGET,   /* addrs: target address of an ICMPv6 neighbour solicitation or
                             advertisement (nft `icmpv6 taddr`) */
    XG_MATCH_IFSET,       /* ifset: `iifname . FIELD` (or `iifname` alone) in a named set of the
                             table whose key is XG_SETKEY_IF* */
    XG_MATCH_UNKNOWN,     /* text: anything not modelled; may or may not match */
};

/* Address types (netfilter's RTN_* classes), as a bitmask. */
enum {
    XG_ADDRTYPE_UNSPEC = 1u << 0,
    XG_ADDRTYPE_UNICAST = 1u << 1,
    XG_ADDRTYPE_LOCAL = 1u << 2,
    XG_ADDRTYPE_BROADCAST = 1u << 3,
    XG_ADDRTYPE_ANYCAST = 1u << 4,
    XG_ADDRTYPE_MULTICAST = 1u << 5,
    XG_ADDRTYPE_BLACKHOLE = 1u << 6,
    XG_ADDRTYPE_UNREACHABLE = 1u << 7,
    XG_ADDRTYPE_PROHIBIT = 1u << 8,
};

struct xg_addrtype_match {
    bool dst;         /* false: the source address's type */
    uint32_t types;   /* XG_ADDRTYPE_* mask: matches when the address's type is in it */
    bool limit_iface; /* iptables --limit-iface-in/out, nft `. iif`: types as seen on that iface */
};

/* The value an XG_MATCH_IFSET pairs with the packet's input interface. */
enum xg_ifset_field {
    XG_IFSET_IFNAME,      /* `iifname @set`: the interface alone (set key XG_SETKEY_IFNAME) */
    XG_IFSET_SADDR,       /* `iifname . ip(6) saddr @set` (XG_SETKEY_IF_ADDR) */
    XG_IFSET_ETHER_SADDR, /* `iifname . ether saddr @set` (XG_SETKEY_IF_MAC) */
    XG_IFSET_ARP_SPA,     /* `iifname . arp saddr ip @set` (XG_SETKEY_IF_ADDR, family 4) */
    XG_IFSET_ND_TARGET,   /* `iifname . icmpv6 taddr @set` (XG_SETKEY_IF_ADDR, family 6) */
};

struct xg_ifset_match {
    enum xg_ifset_field field;
    char *set_name;
};

struct xg_addr_match {
    struct xg_prefix_list prefixes; /* inline prefixes (already masked) */
    char *set_name;                 /* or a named set of the table (prefixes then empty) */
};

struct xg_port_match {
    struct xg_port_range *ranges;
    size_t count;
};

struct xg_icmp_match {
    uint8_t family; /* 4 or 6 */
    uint8_t types[32];
    size_t count;
};

enum xg_rate_unit { XG_RATE_SECOND, XG_RATE_MINUTE, XG_RATE_HOUR, XG_RATE_DAY };

struct xg_limit_match {
    unsigned rate;
    enum xg_rate_unit unit;
    unsigned burst;
};

struct xg_mac_match {
    uint8_t addrs[XG_MAX_MACS][6];
    size_t count;
};

struct xg_match {
    enum xg_match_kind kind;
    bool negate;
    union {
        char ifname[XG_IFNAMSIZ];
        uint8_t family;
        struct xg_addr_match addrs;
        uint8_t proto;
        struct xg_port_match ports;
        uint32_t ct_states;
        struct xg_icmp_match icmp;
        struct xg_limit_match limit;
        struct xg_mac_match macs;
        struct xg_addrtype_match addrtype;
        uint16_t ethertype;
        struct xg_ifset_match ifset;
        char *text;
    } u;
};

enum xg_verdict_kind {
    XG_VERDICT_CONTINUE, /* no verdict: log, counter, comment-only rules */
    XG_VERDICT_ACCEPT,
    XG_VERDICT_DROP,
    XG_VERDICT_REJECT,
    XG_VERDICT_JUMP,
    XG_VERDICT_GOTO,
    XG_VERDICT_RETURN,
    XG_VERDICT_UNKNOWN, /* a target not modelled (QUEUE, TPROXY, ...): may end evaluation */
};

enum xg_reject_kind {
    XG_REJECT_DEFAULT,          /* icmp port-unreachable (kernel default) */
    XG_REJECT_TCP_RESET,        /* tcp reset (only valid with l4proto tcp) */
    XG_REJECT_ADMIN_PROHIBITED, /* icmp(x)/icmpv6 administratively prohibited */
};

struct xg_log {
    char prefix[64]; /* without quotes */
    int level;       /* syslog level, -1 for the default */
};

struct xg_rule {
    struct xg_match *matches;
    size_t match_count;
    enum xg_verdict_kind verdict;
    enum xg_reject_kind reject;
    char *target;       /* chain for JUMP/GOTO; the original text for UNKNOWN */
    struct xg_log *log; /* non-NULL: the rule logs (then continues unless verdict says otherwise) */
    bool counter;
    char *comment;
    /* where the rule came from: input file and line for parsed rules */
    const char *src_file;
    unsigned src_line;
    unsigned src_handle; /* nft rule handle (JSON input has no useful lines); 0 = none */
};

struct xg_chain {
    char *name;
    enum xg_hook hook;
    int priority;
    enum xg_verdict_kind policy; /* ACCEPT or DROP for base chains */
    struct xg_rule *rules;
    size_t rule_count;
    size_t rule_cap;
    char *comment;
};

/* What a set's elements are. Address sets (the default) hold prefixes in
 * `elements`; the others, used by the guests' bridge table, hold pairs. */
enum xg_set_key {
    XG_SETKEY_ADDR,    /* ipv4_addr / ipv6_addr (by family), intervals allowed */
    XG_SETKEY_IFNAME,  /* ifname: pairs[i].ifname */
    XG_SETKEY_IF_ADDR, /* ifname . ipv4_addr / ipv6_addr (by family): ifname, addr */
    XG_SETKEY_IF_MAC,  /* ifname . ether_addr: ifname, mac */
};

struct xg_set_pair {
    char ifname[XG_IFNAMSIZ];
    struct xg_prefix addr; /* a host address (/32, /128) for XG_SETKEY_IF_ADDR */
    uint8_t mac[6];
};

struct xg_set {
    char *name;
    uint8_t family; /* 4 or 6: ipv4_addr / ipv6_addr (0 for IFNAME and IF_MAC sets) */
    enum xg_set_key key;
    struct xg_prefix_list elements; /* XG_SETKEY_ADDR */
    struct xg_set_pair *pairs;      /* the other keys */
    size_t pair_count, pair_cap;
    bool dynamic; /* elements change at run time (`xenguard vif`): a reload keeps them */
    char *comment;
};

struct xg_table {
    char *name;
    enum xg_table_family family;
    struct xg_set **sets; /* pointers: stay valid while the table grows */
    size_t set_count;
    struct xg_chain **chains;
    size_t chain_count;
    char *comment;
};

struct xg_ruleset {
    struct xg_table **tables;
    size_t table_count;
};

/* --- building (all return NULL / -1 only on allocation failure) --- */
struct xg_table *xg_ruleset_add_table(struct xg_ruleset *rs, const char *name,
                                      enum xg_table_family family);
/* An address set (XG_SETKEY_ADDR); set ->key afterwards for the other kinds. */
struct xg_set *xg_table_add_set(struct xg_table *t, const char *name, uint8_t family);
int xg_set_add_pair(struct xg_set *s, const struct xg_set_pair *p);
struct xg_chain *xg_table_add_chain(struct xg_table *t, const char *name, enum xg_hook hook,
                                    int priority, enum xg_verdict_kind policy);
/* Appends an empty rule with verdict CONTINUE; fill it with the helpers below.
 * The pointer is valid until the next rule is added to the same chain. */
struct xg_rule *xg_chain_add_rule(struct xg_chain *c);
struct xg_match *xg_rule_add_match(struct xg_rule *r, enum xg_match_kind kind, bool negate);
int xg_rule_match_iifname(struct xg_rule *r, const char *ifname, bool negate);
int xg_rule_match_family(struct xg_rule *r, uint8_t family);
int xg_rule_match_saddr_set(struct xg_rule *r, const char *set_name, bool negate);
int xg_rule_match_saddr(struct xg_rule *r, const struct xg_prefix_list *prefixes, bool negate);
int xg_rule_match_proto(struct xg_rule *r, uint8_t proto);
int xg_rule_match_dports(struct xg_rule *r, const struct xg_port_range *ranges, size_t count);
int xg_rule_match_ct(struct xg_rule *r, uint32_t states);
int xg_rule_match_icmp(struct xg_rule *r, uint8_t family, const uint8_t *types, size_t count);
/* General forms: kind is SADDR/DADDR/ARP_SPA/ND_TARGET, SPORT/DPORT. */
int xg_rule_match_addrs(struct xg_rule *r, enum xg_match_kind kind,
                        const struct xg_prefix_list *prefixes, bool negate);
int xg_rule_match_addr_set(struct xg_rule *r, enum xg_match_kind kind, const char *set_name,
                           bool negate);
int xg_rule_match_ports(struct xg_rule *r, enum xg_match_kind kind,
                        const struct xg_port_range *ranges, size_t count);
int xg_rule_match_rpf(struct xg_rule *r, bool negate);
int xg_rule_match_macs(struct xg_rule *r, const uint8_t (*macs)[6], size_t count);
int xg_rule_match_ethertype(struct xg_rule *r, uint16_t ethertype, bool negate);
int xg_rule_match_addrtype(struct xg_rule *r, bool dst, uint32_t types, bool negate);
int xg_rule_match_ifset(struct xg_rule *r, enum xg_ifset_field field, const char *set_name,
                        bool negate);
int xg_rule_match_limit(struct xg_rule *r, unsigned rate, enum xg_rate_unit unit, unsigned burst);
int xg_rule_set_comment(struct xg_rule *r, const char *comment);
int xg_rule_set_log(struct xg_rule *r, const char *prefix, int level);
void xg_rule_set_verdict(struct xg_rule *r, enum xg_verdict_kind verdict);
int xg_rule_set_target(struct xg_rule *r, enum xg_verdict_kind verdict, const char *chain);

/* --- lookup --- */
struct xg_chain *xg_table_find_chain(const struct xg_table *t, const char *name);
struct xg_set *xg_table_find_set(const struct xg_table *t, const char *name);
/* The IP family a rule is limited to by its table and matches (4, 6), or 0 for both. */
uint8_t xg_rule_family(const struct xg_table *t, const struct xg_rule *r);

/* "accept", "drop", ... (hook and table names are in names.h) */
const char *xg_verdict_name(enum xg_verdict_kind v);

/* Deep copy of a rule into an empty `dst` (src_file is shared, not owned). */
int xg_rule_copy(struct xg_rule *dst, const struct xg_rule *src);

void xg_match_clear(struct xg_match *m);
void xg_rule_clear(struct xg_rule *r);
/* A table and everything in it (a table taken out of a ruleset; NULL is fine). */
void xg_table_free(struct xg_table *t);
/* Every table, and the array; `rs` is left empty and reusable. */
void xg_ruleset_free(struct xg_ruleset *rs);

#endif
