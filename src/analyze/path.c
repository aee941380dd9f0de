/*
 * path.c — where a packet goes and what it is, for the evaluator and the
 * packet trace (see path.h): the base chains on a packet's path in the
 * kernel's order, and the matches fixed by the query (interfaces, ports,
 * protocol, conntrack state, MAC, address types) as true / false / unknown.
 *
 * Address types follow the kernel's inet_addr_type: 0.0.0.0/8 and
 * 255.255.255.255 are BROADCAST, 224.0.0.0/4 and ff00::/8 MULTICAST, the
 * host's own addresses LOCAL, its subnets' broadcast addresses BROADCAST,
 * everything else UNICAST (routes of type blackhole, unreachable or
 * prohibit are taken as absent).
 */
#include "analyze/path.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

bool xg_table_has_family(const struct xg_table *t, uint8_t family)
{
    switch (t->family) {
    case XG_TABLE_INET:
        return true;
    case XG_TABLE_IP:
        return family == XG_FAMILY_IPV4;
    case XG_TABLE_IP6:
        return family == XG_FAMILY_IPV6;
    default:
        return false;
    }
}

/* The prefixes an address match stands for (its own, or its set's). */
const struct xg_prefix_list *xg_addr_prefixes(const struct xg_table *t, const struct xg_match *m)
{
    if (m->u.addrs.set_name) {
        const struct xg_set *s = xg_table_find_set(t, m->u.addrs.set_name);
        return s ? &s->elements : NULL;
    }
    return &m->u.addrs.prefixes;
}

/* --- matching the fixed dimensions --- */

bool xg_ifname_matches(const char *pattern, const char *name)
{
    size_t n = strlen(pattern);
    if (n && (pattern[n - 1] == '+' || pattern[n - 1] == '*'))
        return strncmp(pattern, name, n - 1) == 0;
    return strcmp(pattern, name) == 0;
}

enum xg_tri xg_tri_neg(enum xg_tri v, bool negate)
{
    if (!negate || v == TRI_U)
        return v;
    return v == TRI_T ? TRI_F : TRI_T;
}

enum xg_tri xg_addr_in(const struct xg_table *t, const struct xg_match *m,
                       const struct xg_prefix *a)
{
    const struct xg_prefix_list *pl = xg_addr_prefixes(t, m);
    if (!pl)
        return TRI_U;
    return xg_prefix_list_covers(pl, a) ? TRI_T : TRI_F;
}

static bool in_prefix(const struct xg_prefix *a, const char *cidr)
{
    struct xg_prefix p;
    char why[80];
    if (xg_prefix_parse(cidr, XG_PREFIX_MASK, &p, why, sizeof(why)) < 0 || p.family != a->family)
        return false;
    return xg_prefix_contains(&p, a);
}

uint32_t xg_addrtype_of(const struct xg_prefix *a, const struct xg_packet_query *q, bool *known)
{
    *known = true;
    if (in_prefix(a, "224.0.0.0/4") || in_prefix(a, "ff00::/8"))
        return XG_ADDRTYPE_MULTICAST;
    if (in_prefix(a, "0.0.0.0/8") || in_prefix(a, "255.255.255.255/32"))
        return XG_ADDRTYPE_BROADCAST;
    if (q->bcast && xg_prefix_list_covers(q->bcast, a))
        return XG_ADDRTYPE_BROADCAST;
    if (q->local)
        return xg_prefix_list_covers(q->local, a) ? XG_ADDRTYPE_LOCAL : XG_ADDRTYPE_UNICAST;
    *known = false;
    return XG_ADDRTYPE_LOCAL | XG_ADDRTYPE_UNICAST;
}

/* An address-type match given the address's possible types. */
enum xg_tri xg_addrtype_tri(const struct xg_match *m, uint32_t types, bool known)
{
    uint32_t hit = types & m->u.addrtype.types;
    enum xg_tri v = !hit ? TRI_F : (known || hit == types) ? TRI_T : TRI_U;
    return xg_tri_neg(v, m->negate);
}

/* The destination's type: --to decides, else the path (local for input). */
static enum xg_tri dst_addrtype(const struct xg_match *m, const struct xg_packet_query *q)
{
    uint32_t types = q->path == XG_HOOK_FORWARD ? XG_ADDRTYPE_UNICAST : XG_ADDRTYPE_LOCAL;
    if (q->daddr) {
        bool known;
        uint32_t t = xg_addrtype_of(q->daddr, q, &known);
        if (t == XG_ADDRTYPE_MULTICAST || t == XG_ADDRTYPE_BROADCAST)
            types = t;
    }
    return xg_addrtype_tri(m, types, true);
}

/* Does the union of `ranges` cover lo..65535? (lo to the first port not covered) */
static bool ports_cover_from(const struct xg_port_match *pm, uint32_t lo)
{
    bool grew = true;
    while (grew && lo <= 65535) {
        grew = false;
        for (size_t i = 0; i < pm->count; i++)
            if (pm->ranges[i].lo <= lo && pm->ranges[i].hi >= lo) {
                lo = (uint32_t)pm->ranges[i].hi + 1;
                grew = true;
            }
    }
    return lo > 65535;
}

/* A source-port match: the chosen port, or every port an ordinary client may pick. */
static enum xg_tri sport_fixed(const struct xg_match *m, const struct xg_packet_query *q)
{
    bool any = false;
    if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP && q->proto != IPPROTO_SCTP)
        return TRI_F;
    for (size_t i = 0; i < m->u.ports.count; i++) {
        const struct xg_port_range *r = &m->u.ports.ranges[i];
        if (q->has_sport && q->sport >= r->lo && q->sport <= r->hi)
            return xg_tri_neg(TRI_T, m->negate);
        any |= !q->has_sport && r->hi >= XG_CLIENT_PORT_LO;
    }
    if (!any)
        return xg_tri_neg(TRI_F, m->negate);
    return ports_cover_from(&m->u.ports, XG_CLIENT_PORT_LO) ? xg_tri_neg(TRI_T, m->negate) : TRI_U;
}

static enum xg_tri mac_fixed(const struct xg_match *m, const struct xg_packet_query *q)
{
    bool hit = false;
    for (size_t i = 0; q->mac && i < m->u.macs.count && !hit; i++)
        hit = !memcmp(m->u.macs.addrs[i], q->mac, 6);
    return xg_tri_neg(hit ? TRI_T : TRI_F, m->negate);
}

/* `iifname @set` is decided by the port; the pairs with a packet field
 * are made plain matches per port by the bridge view (bridge.c). */
static enum xg_tri ifset_fixed(const struct xg_table *t, const struct xg_match *m,
                               const struct xg_packet_query *q)
{
    const struct xg_set *s = xg_table_find_set(t, m->u.ifset.set_name);
    const char *in = t->family == XG_TABLE_BRIDGE && q->brport ? q->brport : q->iifname;
    bool hit = false;
    if (!s || !in || m->u.ifset.field != XG_IFSET_IFNAME)
        return TRI_U;
    for (size_t i = 0; i < s->pair_count && !hit; i++)
        hit = xg_ifname_matches(s->pairs[i].ifname, in);
    return xg_tri_neg(hit ? TRI_T : TRI_F, m->negate);
}

/* One match other than the source address, for the query's fixed packet. */
enum xg_tri xg_match_fixed(const struct xg_table *t, const struct xg_match *m,
                           const struct xg_packet_query *q, uint32_t ct)
{
    switch (m->kind) {
    case XG_MATCH_IIFNAME: {
        const char *in = t->family == XG_TABLE_BRIDGE && q->brport ? q->brport : q->iifname;
        if (!in)
            return TRI_U;
        return xg_tri_neg(xg_ifname_matches(m->u.ifname, in) ? TRI_T : TRI_F, m->negate);
    }
    case XG_MATCH_IFSET:
        return ifset_fixed(t, m, q);
    case XG_MATCH_OIFNAME:
        if (q->path == XG_HOOK_INPUT || q->path == XG_HOOK_NONE)
            return xg_tri_neg(m->u.ifname[0] == '\0' ? TRI_T : TRI_F, m->negate);
        if (!q->oifname)
            return TRI_U;
        return xg_tri_neg(xg_ifname_matches(m->u.ifname, q->oifname) ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_NFPROTO:
        return xg_tri_neg(m->u.family == q->family ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_SADDR:
        return xg_addr_prefixes(t, m) ? TRI_T : TRI_U; /* handled by atoms */
    case XG_MATCH_DADDR:
        if (!q->daddr)
            return TRI_U;
        return xg_tri_neg(xg_addr_in(t, m, q->daddr), m->negate);
    case XG_MATCH_L4PROTO:
        return xg_tri_neg(m->u.proto == q->proto ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_DPORT:
        if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP && q->proto != IPPROTO_SCTP)
            return TRI_F;
        for (size_t i = 0; i < m->u.ports.count; i++)
            if (q->dport >= m->u.ports.ranges[i].lo && q->dport <= m->u.ports.ranges[i].hi)
                return xg_tri_neg(TRI_T, m->negate);
        return xg_tri_neg(TRI_F, m->negate);
    case XG_MATCH_CTSTATE:
        return xg_tri_neg((m->u.ct_states & ct) ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_ICMP_TYPE:
        return q->proto == IPPROTO_ICMP || q->proto == IPPROTO_ICMPV6 ? TRI_U : TRI_F;
    case XG_MATCH_RPF_OK:
        return q->rpf_ok ? TRI_T : TRI_U; /* with a map: handled by atoms */
    case XG_MATCH_SPORT:
        return sport_fixed(m, q);
    case XG_MATCH_ETHER_SADDR:
        return mac_fixed(m, q);
    case XG_MATCH_ADDRTYPE:
        if (!m->u.addrtype.dst)
            return TRI_T; /* the source's type: handled by atoms */
        return dst_addrtype(m, q);
    case XG_MATCH_ETHERTYPE: {
        uint16_t et = q->family == XG_FAMILY_IPV6 ? 0x86dd : 0x0800;
        return xg_tri_neg(m->u.ethertype == et ? TRI_T : TRI_F, m->negate);
    }
    case XG_MATCH_ARP_SPA:
        return xg_tri_neg(TRI_F, m->negate); /* an IP packet is no ARP */
    case XG_MATCH_ND_TARGET:
        return q->proto == IPPROTO_ICMPV6 ? TRI_U : xg_tri_neg(TRI_F, m->negate);
    case XG_MATCH_LIMIT:
    case XG_MATCH_UNKNOWN:
    default:
        return TRI_U;
    }
}

enum xg_tri xg_rule_fixed(const struct xg_table *t, const struct xg_rule *r,
                          const struct xg_packet_query *q, uint32_t ct, bool *has_rpf)
{
    enum xg_tri all = TRI_T;
    *has_rpf = false;
    /* per-source matches (reverse path with a map, the source's address type) */
    for (size_t i = 0; i < r->match_count; i++) {
        enum xg_tri v = xg_match_fixed(t, &r->matches[i], q, ct);
        if (v == TRI_F)
            return TRI_F;
        if (v == TRI_U)
            all = TRI_U;
        if ((r->matches[i].kind == XG_MATCH_RPF_OK && q->rpf_ok) ||
            (r->matches[i].kind == XG_MATCH_ADDRTYPE && !r->matches[i].u.addrtype.dst))
            *has_rpf = true;
    }
    return all;
}

/*
 * What `ct state` says in a base chain: conntrack itself sits on prerouting
 * at priority -200, so chains before it (raw) see no conntrack entry, which
 * both iptables and nft report as INVALID; later chains see NEW.
 */
uint32_t xg_ct_state_at(const struct xg_chain *base)
{
    if ((base->hook == XG_HOOK_PREROUTING || base->hook == XG_HOOK_OUTPUT) && base->priority < -200)
        return XG_CT_INVALID;
    return XG_CT_NEW;
}

static int cmp_base(const void *a, const void *b)
{
    const struct xg_base_ref *x = a, *y = b;
    if (x->hook_order != y->hook_order)
        return x->hook_order - y->hook_order;
    if (x->c->priority != y->c->priority)
        return x->c->priority < y->c->priority ? -1 : 1;
    return 0;
}

static int hook_order(enum xg_hook h, enum xg_hook path)
{
    if (h == XG_HOOK_PREROUTING)
        return 1;
    if (h == path)
        return 2;
    if (path == XG_HOOK_FORWARD && h == XG_HOOK_POSTROUTING)
        return 3;
    return 0;
}

/* Where a table's base chain sits on the query's path (0: not on it). A
 * bridged frame meets the bridge family's chains first (order 1-3), then on
 * the input path the IP family's (11-12); bridged forwarding stays in the
 * bridge. Without a bridge port, bridge tables are off the path. */
static int chain_order(const struct xg_table *tb, const struct xg_chain *c,
                       const struct xg_packet_query *q, enum xg_hook path)
{
    if (tb->family == XG_TABLE_BRIDGE)
        return q->brport ? hook_order(c->hook, path) : 0;
    if (!xg_table_has_family(tb, q->family))
        return 0;
    if (!q->brport)
        return hook_order(c->hook, path);
    if (path == XG_HOOK_FORWARD)
        return 0;
    int o = hook_order(c->hook, path);
    return o ? 10 + o : 0;
}

/* The base chains a packet of `q` traverses, in order. */
int xg_path_chains(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                   struct xg_base_ref **out, size_t *count)
{
    size_t n = 0, cap = 0;
    struct xg_base_ref *v = NULL;
    enum xg_hook path = q->path == XG_HOOK_FORWARD ? XG_HOOK_FORWARD : XG_HOOK_INPUT;
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *tb = rs->tables[t];
        for (size_t c = 0; c < tb->chain_count; c++) {
            int ho = chain_order(tb, tb->chains[c], q, path);
            if (!ho)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                struct xg_base_ref *g = realloc(v, cap * sizeof(*g));
                if (!g) {
                    free(v);
                    return -1;
                }
                v = g;
            }
            v[n].t = tb;
            v[n].c = tb->chains[c];
            v[n].hook_order = ho;
            n++;
        }
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_base);
    *out = v;
    *count = n;
    return 0;
}
