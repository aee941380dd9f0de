/*
 * names.c — netfilter's words, each written once (see names.h).
 */
#include "ir/names.h"

#include "ir/ir.h" /* XG_ADDRTYPE_* */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* --- table families --- */

static const char *const family_names[] = {
    [XG_TABLE_INET] = "inet",
    [XG_TABLE_IP] = "ip",
    [XG_TABLE_IP6] = "ip6",
    [XG_TABLE_BRIDGE] = XG_NFT_BRIDGE_FAMILY,
};

const char *xg_table_family_name(enum xg_table_family family)
{
    return (unsigned)family < COUNT(family_names) ? family_names[family] : NULL;
}

enum xg_table_family xg_table_family_parse(const char *name)
{
    for (size_t i = 0; i < COUNT(family_names); i++)
        if (!strcmp(name, family_names[i]))
            return (enum xg_table_family)i;
    return XG_TABLE_OTHER;
}

/* --- hooks: nft's name and iptables' built-in chain --- */

static const struct {
    const char *nft, *builtin;
} hook_names[] = {
    [XG_HOOK_NONE] = {"", NULL},
    [XG_HOOK_PREROUTING] = {"prerouting", "PREROUTING"},
    [XG_HOOK_INPUT] = {"input", "INPUT"},
    [XG_HOOK_FORWARD] = {"forward", "FORWARD"},
    [XG_HOOK_OUTPUT] = {"output", "OUTPUT"},
    [XG_HOOK_POSTROUTING] = {"postrouting", "POSTROUTING"},
    [XG_HOOK_INGRESS] = {"ingress", NULL},
};

const char *xg_hook_name(enum xg_hook hook)
{
    return (unsigned)hook < COUNT(hook_names) ? hook_names[hook].nft : "?";
}

enum xg_hook xg_hook_parse(const char *name)
{
    for (size_t i = XG_HOOK_PREROUTING; i < COUNT(hook_names); i++)
        if (!strcmp(name, hook_names[i].nft))
            return (enum xg_hook)i;
    return XG_HOOK_NONE;
}

const char *xg_builtin_chain_name(enum xg_hook hook)
{
    return (unsigned)hook < COUNT(hook_names) ? hook_names[hook].builtin : NULL;
}

enum xg_hook xg_builtin_chain_parse(const char *name)
{
    for (size_t i = XG_HOOK_PREROUTING; i < COUNT(hook_names); i++)
        if (hook_names[i].builtin && !strcmp(name, hook_names[i].builtin))
            return (enum xg_hook)i;
    return XG_HOOK_NONE;
}

/* --- priorities --- */

static const struct xg_priority_name priority_names[] = {
    {"raw", XG_PRIO_RAW},       {"mangle", XG_PRIO_MANGLE},     {"dstnat", XG_PRIO_DSTNAT},
    {"filter", XG_PRIO_FILTER}, {"security", XG_PRIO_SECURITY}, {"srcnat", XG_PRIO_SRCNAT},
};

const struct xg_priority_name *xg_priority_names(size_t *count)
{
    *count = COUNT(priority_names);
    return priority_names;
}

const char *xg_priority_name(int prio)
{
    for (size_t i = 0; i < COUNT(priority_names); i++)
        if (priority_names[i].value == prio)
            return priority_names[i].name;
    return NULL;
}

/* --- iptables' tables --- */

#define H(h) (1u << XG_HOOK_##h)

static const struct xg_ipt_table ipt_tables[] = {
    {"raw", H(PREROUTING) | H(OUTPUT), XG_PRIO_RAW},
    {"mangle", H(PREROUTING) | H(INPUT) | H(FORWARD) | H(OUTPUT) | H(POSTROUTING), XG_PRIO_MANGLE},
    {"nat", H(PREROUTING) | H(INPUT) | H(OUTPUT) | H(POSTROUTING), XG_PRIO_DSTNAT},
    {"filter", H(INPUT) | H(FORWARD) | H(OUTPUT), XG_PRIO_FILTER},
    {"security", H(INPUT) | H(FORWARD) | H(OUTPUT), XG_PRIO_SECURITY},
};

#undef H

const struct xg_ipt_table *xg_ipt_tables(size_t *count)
{
    *count = COUNT(ipt_tables);
    return ipt_tables;
}

const struct xg_ipt_table *xg_ipt_table_find(const char *name)
{
    for (size_t i = 0; i < COUNT(ipt_tables); i++)
        if (!strcmp(name, ipt_tables[i].name))
            return &ipt_tables[i];
    return NULL;
}

bool xg_ipt_builtin(const char *table, const char *chain, enum xg_hook *hook, int *prio)
{
    const struct xg_ipt_table *t = xg_ipt_table_find(table);
    enum xg_hook h = xg_builtin_chain_parse(chain);
    if (!t || h == XG_HOOK_NONE || !(t->hooks & (1u << h)))
        return false;
    *hook = h;
    *prio = t->priority;
    /* nat: destination NAT before routing (prerouting, output), source NAT after */
    if (t->priority == XG_PRIO_DSTNAT && (h == XG_HOOK_INPUT || h == XG_HOOK_POSTROUTING))
        *prio = XG_PRIO_SRCNAT;
    return true;
}

/* --- ICMP types --- */

struct icmp_name {
    uint8_t family, type;
    const char *nft, *ipt; /* NULL: this syntax has no name for it */
};

static const struct icmp_name icmp_names[] = {
    {4, 0, "echo-reply", "echo-reply"},
    {4, 3, "destination-unreachable", "destination-unreachable"},
    {4, 4, "source-quench", "source-quench"},
    {4, 5, "redirect", "redirect"},
    {4, 8, "echo-request", "echo-request"},
    {4, 9, "router-advertisement", "router-advertisement"},
    {4, 10, "router-solicitation", "router-solicitation"},
    {4, 11, "time-exceeded", "time-exceeded"},
    {4, 12, "parameter-problem", "parameter-problem"},
    {4, 13, "timestamp-request", "timestamp-request"},
    {4, 14, "timestamp-reply", "timestamp-reply"},
    {4, 17, "address-mask-request", "address-mask-request"},
    {4, 18, "address-mask-reply", "address-mask-reply"},
    {6, 1, "destination-unreachable", "destination-unreachable"},
    {6, 2, "packet-too-big", "packet-too-big"},
    {6, 3, "time-exceeded", "time-exceeded"},
    {6, 4, "parameter-problem", "parameter-problem"},
    {6, 128, "echo-request", "echo-request"},
    {6, 129, "echo-reply", "echo-reply"},
    {6, 130, "mld-listener-query", NULL},
    {6, 131, "mld-listener-report", NULL},
    {6, 132, "mld-listener-done", NULL},
    {6, 133, "nd-router-solicit", "router-solicitation"},
    {6, 134, "nd-router-advert", "router-advertisement"},
    {6, 135, "nd-neighbor-solicit", "neighbour-solicitation"},
    {6, 136, "nd-neighbor-advert", "neighbour-advertisement"},
    {6, 137, "nd-redirect", "redirect"},
    {6, 143, "mld2-listener-report", NULL},
};

const char *xg_icmp_type_name(uint8_t family, uint8_t type, enum xg_syntax syntax)
{
    for (size_t i = 0; i < COUNT(icmp_names); i++)
        if (icmp_names[i].family == family && icmp_names[i].type == type)
            return syntax == XG_SYNTAX_NFT ? icmp_names[i].nft : icmp_names[i].ipt;
    return NULL;
}

static int parse_number(const char *s, long max)
{
    char *end;
    long v;
    if (!*s)
        return -1;
    v = strtol(s, &end, 10);
    return (*end || v < 0 || v > max) ? -1 : (int)v;
}

int xg_icmp_type_parse(uint8_t family, const char *name, enum xg_syntax syntax)
{
    for (size_t i = 0; i < COUNT(icmp_names); i++) {
        const char *n = syntax == XG_SYNTAX_NFT ? icmp_names[i].nft : icmp_names[i].ipt;
        if (icmp_names[i].family == family && n && !strcmp(n, name))
            return icmp_names[i].type;
    }
    return parse_number(name, 255);
}

static const struct {
    uint8_t proto;
    const char *name;
} protos[] = {{1, "icmp"}, {6, "tcp"}, {17, "udp"},       {33, "dccp"},  {47, "gre"},
              {50, "esp"}, {51, "ah"}, {58, "ipv6-icmp"}, {132, "sctp"}, {136, "udplite"}};

const char *xg_l4proto_name(uint8_t proto)
{
    for (size_t i = 0; i < COUNT(protos); i++)
        if (protos[i].proto == proto)
            return protos[i].name;
    return NULL;
}

int xg_l4proto_parse(const char *name)
{
    if (!strcasecmp(name, "icmpv6") || !strcasecmp(name, "icmp6"))
        return 58;
    for (size_t i = 0; i < COUNT(protos); i++)
        if (!strcasecmp(protos[i].name, name))
            return protos[i].proto;
    return parse_number(name, 255);
}

static const struct {
    uint32_t bit;
    const char *name; /* nft spelling; iptables is the same in capitals */
} ct_states[] = {{XG_CT_INVALID, "invalid"},
                 {XG_CT_ESTABLISHED, "established"},
                 {XG_CT_RELATED, "related"},
                 {XG_CT_NEW, "new"},
                 {XG_CT_UNTRACKED, "untracked"}};

void xg_ct_states_format(uint32_t mask, enum xg_syntax syntax, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < COUNT(ct_states); i++) {
        if (!(mask & ct_states[i].bit))
            continue;
        for (const char *c = used ? "," : ""; *c && used + 1 < size; c++)
            out[used++] = *c;
        for (const char *c = ct_states[i].name; *c && used + 1 < size; c++)
            out[used++] = syntax == XG_SYNTAX_IPTABLES ? (char)(*c - 'a' + 'A') : *c;
        out[used] = '\0';
    }
}

uint32_t xg_ct_state_parse(const char *name)
{
    for (size_t i = 0; i < COUNT(ct_states); i++)
        if (!strcasecmp(ct_states[i].name, name))
            return ct_states[i].bit;
    return 0;
}

/* --- address types (iptables -m addrtype, nft fib ... type) --- */

static const struct {
    const char *name; /* nft's spelling; iptables' is the same in capitals */
    uint32_t bit;
} addr_types[] = {
    {"unspec", XG_ADDRTYPE_UNSPEC},       {"unicast", XG_ADDRTYPE_UNICAST},
    {"local", XG_ADDRTYPE_LOCAL},         {"broadcast", XG_ADDRTYPE_BROADCAST},
    {"anycast", XG_ADDRTYPE_ANYCAST},     {"multicast", XG_ADDRTYPE_MULTICAST},
    {"blackhole", XG_ADDRTYPE_BLACKHOLE}, {"unreachable", XG_ADDRTYPE_UNREACHABLE},
    {"prohibit", XG_ADDRTYPE_PROHIBIT},
};

uint32_t xg_addrtype_parse(const char *name)
{
    for (size_t i = 0; i < COUNT(addr_types); i++)
        if (!strcasecmp(addr_types[i].name, name))
            return addr_types[i].bit;
    return 0;
}

void xg_addrtype_format(uint32_t mask, enum xg_syntax syntax, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < COUNT(addr_types); i++) {
        if (!(mask & addr_types[i].bit))
            continue;
        for (const char *c = used ? "," : ""; *c && used + 1 < size; c++)
            out[used++] = *c;
        for (const char *c = addr_types[i].name; *c && used + 1 < size; c++)
            out[used++] = syntax == XG_SYNTAX_IPTABLES ? (char)(*c - 'a' + 'A') : *c;
        out[used] = '\0';
    }
}
