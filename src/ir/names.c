/*
 * names.c — ICMP type and protocol spellings for nft and iptables (names.h).
 */
#include "ir/names.h"

#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    for (size_t i = 0; i < sizeof(icmp_names) / sizeof(icmp_names[0]); i++)
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
    for (size_t i = 0; i < sizeof(icmp_names) / sizeof(icmp_names[0]); i++) {
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
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
        if (protos[i].proto == proto)
            return protos[i].name;
    return NULL;
}

int xg_l4proto_parse(const char *name)
{
    if (!strcasecmp(name, "icmpv6") || !strcasecmp(name, "icmp6"))
        return 58;
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
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
    for (size_t i = 0; i < sizeof(ct_states) / sizeof(ct_states[0]); i++) {
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
    for (size_t i = 0; i < sizeof(ct_states) / sizeof(ct_states[0]); i++)
        if (!strcasecmp(ct_states[i].name, name))
            return ct_states[i].bit;
    return 0;
}
