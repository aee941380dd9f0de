/*
 * names.h — netfilter's vocabulary, in one table: hooks, table families,
 * standard priorities, iptables' tables and built-in chains, the names of
 * xenguard's own tables and chains, and the spellings of ICMP types,
 * protocols and conntrack states in nft and iptables syntax.
 *
 * The compiler, both backends, apply and the analyzer's parsers all print
 * or read these words. Each lives here once, so a reader and a writer can
 * never disagree about how `prerouting`, `XENGUARD-` or `inet xenguard` is
 * spelled. The enums sit here too (ir.h includes this file): a value and
 * its names are one thing.
 */
#ifndef XG_IR_NAMES_H
#define XG_IR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- xenguard's own objects --- */

/* Every nft table xenguard creates has this name; the host firewall is
 * `table inet xenguard`, the guests' (bridge) firewall `table bridge xenguard`. */
#define XG_NFT_TABLE         "xenguard"
#define XG_NFT_FAMILY        "inet"
#define XG_NFT_BRIDGE_FAMILY "bridge"
/* The guests' table (`table bridge xenguard`): its dynamic sets, which
 * `xenguard vif online/offline` fill and empty at run time (apply keeps them
 * across a reload), and the sets of addresses no guest port may claim. */
#define XG_BR_SET_DECLARED "vif_declared" /* ifname: ports with declared addresses */
#define XG_BR_SET_IP4      "vif_ip4"      /* ifname . ipv4_addr */
#define XG_BR_SET_IP6      "vif_ip6"      /* ifname . ipv6_addr */
#define XG_BR_SET_MAC      "vif_mac"      /* ifname . ether_addr */
#define XG_BR_SET_PROTECT4 "protected4"   /* Dom0, peers, ssh-from, management (IPv4) */
#define XG_BR_SET_PROTECT6 "protected6"   /* the same, IPv6 */
/* nft 1.0.6 cannot match an ND target (`@th,64,128`, an integer) against an ipv6_addr set:
 * a set an ND target match names has a companion NAME_nd of the same addresses as integers
 * (`vif_ip6_nd`, `protected6_nd`; backend/nft.c). */
#define XG_NFT_ND_SUFFIX "_nd"
/* iptables has no tables of its own to give: xenguard's chains are XENGUARD-<NAME>. */
#define XG_IPT_CHAIN_PREFIX "XENGUARD-"

/* --- table families --- */

enum xg_table_family {
    XG_TABLE_INET,   /* nft inet: both IPv4 and IPv6 */
    XG_TABLE_IP,     /* nft ip, or an iptables table */
    XG_TABLE_IP6,    /* nft ip6, or an ip6tables table */
    XG_TABLE_BRIDGE, /* nft bridge: frames crossing a bridge (guest ports); not on IP paths */
    XG_TABLE_OTHER   /* arp, netdev: kept, not evaluated */
};

/* "inet", "ip", "ip6", "bridge"; NULL for XG_TABLE_OTHER. */
const char *xg_table_family_name(enum xg_table_family family);
/* XG_TABLE_OTHER for anything but inet, ip, ip6 and bridge. */
enum xg_table_family xg_table_family_parse(const char *name);

/* --- hooks --- */

enum xg_hook {
    XG_HOOK_NONE = 0, /* a regular (non-base) chain */
    XG_HOOK_PREROUTING,
    XG_HOOK_INPUT,
    XG_HOOK_FORWARD,
    XG_HOOK_OUTPUT,
    XG_HOOK_POSTROUTING,
    XG_HOOK_INGRESS,
};

/* nft's name: "prerouting", "input", ...; "" for XG_HOOK_NONE. */
const char *xg_hook_name(enum xg_hook hook);
/* XG_HOOK_NONE when `name` is no hook. */
enum xg_hook xg_hook_parse(const char *name);
/* iptables' built-in chain on a hook: "PREROUTING", "INPUT", ...; NULL for none. */
const char *xg_builtin_chain_name(enum xg_hook hook);
/* XG_HOOK_NONE when `name` is no built-in chain. */
enum xg_hook xg_builtin_chain_parse(const char *name);

/* --- priorities: netfilter's standard ones (nf_ip_hook_priorities) --- */

enum {
    XG_PRIO_RAW = -300,
    XG_PRIO_MANGLE = -150,
    XG_PRIO_DSTNAT = -100,
    XG_PRIO_FILTER = 0,
    XG_PRIO_SECURITY = 50,
    XG_PRIO_SRCNAT = 100,
};

struct xg_priority_name {
    const char *name; /* nft's keyword: "raw", "mangle", "dstnat", ... */
    int value;
};

/* The table of priority keywords (for parsers that accept "filter + 10"). */
const struct xg_priority_name *xg_priority_names(size_t *count);
/* The keyword for a standard priority, NULL for any other number. */
const char *xg_priority_name(int prio);

/* --- iptables' tables --- */

struct xg_ipt_table {
    const char *name; /* "raw", "mangle", "nat", "filter", "security" */
    unsigned hooks;   /* built-in chains it has: bit (1u << XG_HOOK_*) */
    int priority;     /* of its built-in chains (nat: dstnat before routing, srcnat after) */
};

/* All of them, in netfilter's priority order. */
const struct xg_ipt_table *xg_ipt_tables(size_t *count);
const struct xg_ipt_table *xg_ipt_table_find(const char *name);
/* Is CHAIN a built-in chain of iptables TABLE? Then its hook and priority. */
bool xg_ipt_builtin(const char *table, const char *chain, enum xg_hook *hook, int *prio);

/* --- conntrack states, as a bitmask --- */

enum {
    XG_CT_NEW = 1u << 0,
    XG_CT_ESTABLISHED = 1u << 1,
    XG_CT_RELATED = 1u << 2,
    XG_CT_INVALID = 1u << 3,
    XG_CT_UNTRACKED = 1u << 4,
};

/* --- ICMP types, protocols, conntrack states in either syntax --- */

enum xg_syntax { XG_SYNTAX_NFT, XG_SYNTAX_IPTABLES };

/* Name of an ICMP (family 4) or ICMPv6 (family 6) type, or NULL if the syntax has none. */
const char *xg_icmp_type_name(uint8_t family, uint8_t type, enum xg_syntax syntax);
/* Type number for a name (or a decimal number); -1 if unknown. */
int xg_icmp_type_parse(uint8_t family, const char *name, enum xg_syntax syntax);
/* Conntrack states of a mask (XG_CT_*), comma-separated: "established,related" (nft) or
 * "ESTABLISHED,RELATED" (iptables). */
void xg_ct_states_format(uint32_t mask, enum xg_syntax syntax, char *out, size_t size);
/* One state name, either spelling; 0 if unknown. */
uint32_t xg_ct_state_parse(const char *name);

/* "tcp", "udp", "icmp", "ipv6-icmp" ... or NULL. */
const char *xg_l4proto_name(uint8_t proto);
/* Protocol number for a name (or a decimal number); -1 if unknown. */
int xg_l4proto_parse(const char *name);

#endif
