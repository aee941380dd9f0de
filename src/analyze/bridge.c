/*
 * bridge.c — what a guest can claim through the bridge it is plugged into:
 * `analyze --spoofing` per guest port (vif*, tap*).
 *
 * A frame from guest port P meets the bridge family's chains (iifname = P),
 * then, when it is for Dom0, the IP family's input path. The question per
 * port is which addresses it can claim as an IPv4 or IPv6 source, an ARP
 * sender or a neighbour-advertisement target. The evaluator answers
 * questions over source addresses, so each claim is asked of a *view* of
 * the ruleset made for that port and kind of frame: the claimed field
 * becomes the source (`arp saddr ip` and the ND target turn into source
 * matches), the interface-keyed sets turn into plain matches for P (its
 * declared addresses and MACs), fields the frame does not have make their
 * rule never match (nft's implicit `ether type` dependency), and the rest
 * is decided per frame (ether type, ICMPv6 type, the ND frame's own IPv6
 * source: P's declared address, else a link-local one). Frames carry P's
 * declared MAC when it has one (else a MAC no rule names).
 *
 * Whom a claim hurts: Dom0 (the map's own addresses), the other guests (the
 * addresses other ports declared), and the addresses the bridge table
 * protects (sets named protected4/protected6, XG_BR_SET_PROTECT*). When none
 * of those is known, any claim is counted.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "analyze/path.h"
#include "analyze/space.h"

struct frame {
    enum xg_claim_kind kind;
    uint8_t family; /* of the claimed address */
    uint16_t ethertype;
    struct xg_prefix nd_saddr; /* ND: the advertisement's own IPv6 source */
    bool has_mac;              /* the port's declared MAC (frames carry it), else none named */
    uint8_t mac[6];
};

static void drop_match(struct xg_rule *r, size_t k)
{
    xg_match_clear(&r->matches[k]);
    memmove(&r->matches[k], &r->matches[k + 1], (r->match_count - k - 1) * sizeof(*r->matches));
    r->match_count--;
}

/* Replace `m` (an ifset) by a plain match for port `port`; false: never matches. */
static int ifset_plain(const struct xg_table *t, struct xg_match *m, const char *port,
                       const struct frame *f, bool *never)
{
    const struct xg_set *s = xg_table_find_set(t, m->u.ifset.set_name);
    enum xg_ifset_field field = m->u.ifset.field;
    struct xg_prefix_list pl = {0};
    struct xg_mac_match macs = {0};
    bool neg = m->negate;
    *never = false;
    if (!s || field == XG_IFSET_IFNAME)
        return 0; /* decided by path.c (or unknown) */
    if ((field == XG_IFSET_SADDR && f->kind != XG_CLAIM_IP && f->kind != XG_CLAIM_ND) ||
        (field == XG_IFSET_ARP_SPA && f->kind != XG_CLAIM_ARP) ||
        (field == XG_IFSET_ND_TARGET && f->kind != XG_CLAIM_ND) ||
        (field == XG_IFSET_SADDR && s->family && s->family != f->family)) {
        *never = true;
        return 0;
    }
    for (size_t i = 0; i < s->pair_count; i++) {
        if (!xg_ifname_matches(s->pairs[i].ifname, port))
            continue;
        if (field == XG_IFSET_ETHER_SADDR && macs.count < XG_MAX_MACS)
            memcpy(macs.addrs[macs.count++], s->pairs[i].mac, 6);
        else if (field != XG_IFSET_ETHER_SADDR && xg_prefix_list_add(&pl, &s->pairs[i].addr) < 0)
            return -1;
    }
    if (field == XG_IFSET_SADDR && f->kind == XG_CLAIM_ND) {
        /* the ND frame's own source, not the claim */
        bool in = xg_prefix_list_covers(&pl, &f->nd_saddr);
        xg_prefix_list_free(&pl);
        *never = in == neg;
        free(m->u.ifset.set_name);
        memset(&m->u, 0, sizeof(m->u));
        m->kind = XG_MATCH_NFPROTO; /* decided: a match that always holds for ND */
        m->negate = false;
        m->u.family = 6;
        return 0;
    }
    free(m->u.ifset.set_name);
    memset(&m->u, 0, sizeof(m->u));
    if (field == XG_IFSET_ETHER_SADDR) {
        m->kind = XG_MATCH_ETHER_SADDR;
        m->u.macs = macs;
    } else {
        m->kind = XG_MATCH_SADDR;
        m->u.addrs.prefixes = pl;
    }
    m->negate = neg;
    return 0;
}

/* One rule of the view: *never when the frame cannot match it. */
static int view_rule(const struct xg_table *t, struct xg_rule *r, const char *port,
                     const struct frame *f, bool *never)
{
    *never = false;
    for (size_t k = 0; k < r->match_count && !*never;) {
        struct xg_match *m = &r->matches[k];
        bool keep = true;
        enum xg_tri v = TRI_U;
        switch (m->kind) {
        case XG_MATCH_IFSET:
            if (ifset_plain(t, m, port, f, never) < 0)
                return -1;
            break;
        case XG_MATCH_ETHERTYPE:
            v = xg_tri_neg(m->u.ethertype == f->ethertype ? TRI_T : TRI_F, m->negate);
            break;
        case XG_MATCH_ARP_SPA:
        case XG_MATCH_ND_TARGET:
            if ((m->kind == XG_MATCH_ARP_SPA) != (f->kind == XG_CLAIM_ARP) ||
                (m->kind == XG_MATCH_ND_TARGET) != (f->kind == XG_CLAIM_ND))
                *never = true; /* the frame has no such field */
            else
                m->kind = XG_MATCH_SADDR;
            break;
        case XG_MATCH_SADDR:
            if (f->kind == XG_CLAIM_ARP)
                *never = true;
            else if (f->kind == XG_CLAIM_ND)
                v = xg_tri_neg(xg_addr_in(t, m, &f->nd_saddr), m->negate);
            break;
        case XG_MATCH_DADDR:
        case XG_MATCH_L4PROTO:
        case XG_MATCH_DPORT:
        case XG_MATCH_SPORT:
        case XG_MATCH_ICMP_TYPE:
            if (f->kind == XG_CLAIM_ARP)
                *never = true;
            else if (f->kind == XG_CLAIM_ND && m->kind == XG_MATCH_ICMP_TYPE) {
                bool hit = false;
                for (size_t i = 0; i < m->u.icmp.count; i++)
                    hit |= m->u.icmp.family == 6 && m->u.icmp.types[i] == 136;
                v = xg_tri_neg(hit ? TRI_T : TRI_F, m->negate);
            }
            break;
        case XG_MATCH_NFPROTO:
            if (f->kind == XG_CLAIM_ARP)
                v = xg_tri_neg(TRI_F, m->negate);
            break;
        case XG_MATCH_ADDRTYPE:
            /* the ND frame's own source (a guest's address: unicast), not the claim */
            if (f->kind == XG_CLAIM_ND && !m->u.addrtype.dst)
                v = xg_addrtype_tri(m, XG_ADDRTYPE_UNICAST, true);
            break;
        default:
            break;
        }
        if (v == TRI_F)
            *never = true;
        else if (v == TRI_T)
            keep = false;
        if (!keep)
            drop_match(r, k);
        else
            k++;
    }
    return 0;
}

static int copy_set(struct xg_table *dst, const struct xg_set *s)
{
    struct xg_set *c = xg_table_add_set(dst, s->name, s->family);
    if (!c || xg_prefix_list_copy(&c->elements, &s->elements) < 0)
        return -1;
    c->key = s->key;
    for (size_t i = 0; i < s->pair_count; i++)
        if (xg_set_add_pair(c, &s->pairs[i]) < 0)
            return -1;
    return 0;
}

/* The ruleset as a frame of kind `f` from `port` sees it (see the top). */
static int make_view(const struct xg_ruleset *rs, const char *port, const struct frame *f,
                     struct xg_ruleset *out)
{
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *tb = rs->tables[t];
        struct xg_table *nt;
        if (tb->family == XG_TABLE_OTHER ||
            (f->kind == XG_CLAIM_ARP && tb->family != XG_TABLE_BRIDGE))
            continue; /* ARP is not routed through the IP chains */
        if (!(nt = xg_ruleset_add_table(out, tb->name, tb->family)))
            return -1;
        for (size_t s = 0; s < tb->set_count; s++)
            if (copy_set(nt, tb->sets[s]) < 0)
                return -1;
        for (size_t c = 0; c < tb->chain_count; c++) {
            const struct xg_chain *ch = tb->chains[c];
            struct xg_chain *nc =
                xg_table_add_chain(nt, ch->name, ch->hook, ch->priority, ch->policy);
            if (!nc)
                return -1;
            for (size_t r = 0; r < ch->rule_count; r++) {
                struct xg_rule *nr = xg_chain_add_rule(nc);
                bool never;
                if (!nr || xg_rule_copy(nr, &ch->rules[r]) < 0 ||
                    view_rule(tb, nr, port, f, &never) < 0)
                    return -1;
                if (never) {
                    xg_rule_clear(nr);
                    nc->rule_count--;
                }
            }
        }
    }
    return 0;
}

/* --- whom a claim hurts --- */

static bool is_protect_set(const char *name)
{
    return !strcmp(name, XG_BR_SET_PROTECT4) || !strcmp(name, XG_BR_SET_PROTECT6);
}

/* Dom0 [0], the other guests [1], the protected sets [2], for `port`. */
static int targets(const struct xg_ruleset *rs, const struct xg_ifmap *map, const char *port,
                   struct xg_prefix_list tg[3])
{
    if (map && xg_prefix_list_copy(&tg[0], &map->local) < 0)
        return -1;
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *tb = rs->tables[t];
        if (tb->family != XG_TABLE_BRIDGE)
            continue;
        for (size_t s = 0; s < tb->set_count; s++) {
            const struct xg_set *st = tb->sets[s];
            if (st->key == XG_SETKEY_ADDR && is_protect_set(st->name) &&
                xg_prefix_list_copy(&tg[2], &st->elements) < 0)
                return -1;
            for (size_t i = 0; st->key == XG_SETKEY_IF_ADDR && i < st->pair_count; i++)
                if (strcmp(st->pairs[i].ifname, port) &&
                    xg_prefix_list_add(&tg[1], &st->pairs[i].addr) < 0)
                    return -1;
        }
    }
    return 0;
}

/* The port's declared MAC, if any: a guest sends with its own. */
static bool port_mac(const struct xg_ruleset *rs, const char *port, uint8_t mac[6])
{
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t s = 0; rs->tables[t]->family == XG_TABLE_BRIDGE && s < rs->tables[t]->set_count;
             s++) {
            const struct xg_set *st = rs->tables[t]->sets[s];
            for (size_t i = 0; st->key == XG_SETKEY_IF_MAC && i < st->pair_count; i++)
                if (!strcmp(st->pairs[i].ifname, port)) {
                    memcpy(mac, st->pairs[i].mac, 6);
                    return true;
                }
        }
    return false;
}

/* A declared IPv6 address of the port (the ND frame's source), else fe80::1. */
static void nd_source(const struct xg_ruleset *rs, const char *port, struct xg_prefix *out)
{
    xg_addr_parse("fe80::1", out);
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t s = 0; rs->tables[t]->family == XG_TABLE_BRIDGE && s < rs->tables[t]->set_count;
             s++) {
            const struct xg_set *st = rs->tables[t]->sets[s];
            for (size_t i = 0;
                 st->key == XG_SETKEY_IF_ADDR && st->family == 6 && i < st->pair_count; i++)
                if (!strcmp(st->pairs[i].ifname, port)) {
                    *out = st->pairs[i].addr;
                    return;
                }
        }
}

/* A union of prefixes as a minimal CIDR list. */
static int minimal(struct xg_prefix_list *l, uint8_t family)
{
    struct xg_ivlist iv = {0};
    struct xg_prefix_list out = {0};
    if (xg_ivlist_from_prefixes(&iv, l, family) < 0)
        return -1;
    xg_ivlist_normalize(&iv);
    int rc = xg_ivlist_to_prefixes(&iv, family, &out);
    xg_ivlist_free(&iv);
    if (rc < 0) {
        xg_prefix_list_free(&out);
        return -1;
    }
    xg_prefix_list_free(l);
    *l = out;
    return 0;
}

/* The addresses `port` can claim with frames of kind `f`: the union over the
 * input (to Dom0) and the bridge's forward path, and over services for IP. */
static int claim_set(const struct xg_ruleset *view, const struct xg_ifmap *map, const char *port,
                     const char *bridge, const struct frame *f, struct xg_reach *out,
                     struct xg_err *err)
{
    static const uint8_t ipp[] = {IPPROTO_TCP, IPPROTO_UDP};
    struct xg_port_range *ports = NULL;
    size_t nports = 0;
    struct xg_prefix_list extra = {0};
    struct xg_analysis *an = NULL;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if ((map && xg_ifmap_all_prefixes(map, &extra) < 0) ||
        xg_ruleset_port_classes(view, &ports, &nports) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    if (!(an = xg_analysis_new(view, &extra, err)))
        goto done;
    for (int p = 0; p < 2; p++) {
        size_t nproto = f->kind == XG_CLAIM_IP ? 2 : 1;
        for (size_t k = 0; k < nproto; k++)
            for (size_t c = 0; c < (f->kind == XG_CLAIM_IP ? nports : 1); c++) {
                struct xg_packet_query q = {.family = f->family,
                                            .proto = f->kind == XG_CLAIM_IP   ? ipp[k]
                                                     : f->kind == XG_CLAIM_ND ? IPPROTO_ICMPV6
                                                                              : 0,
                                            .dport = f->kind == XG_CLAIM_IP ? ports[c].lo : 0,
                                            .iifname = bridge,
                                            .brport = port,
                                            .mac = f->has_mac ? f->mac : NULL,
                                            .path = p ? XG_HOOK_FORWARD : XG_HOOK_INPUT};
                struct xg_reach r;
                if (map)
                    xg_ifmap_addrtypes(map, &q);
                if (xg_analysis_reach(an, &q, &r, err) < 0)
                    goto done;
                if (xg_prefix_list_copy(&out->may, &r.may) < 0 ||
                    xg_prefix_list_copy(&out->must, &r.must) < 0) {
                    xg_reach_free(&r);
                    xg_fail(err, "out of memory");
                    goto done;
                }
                xg_reach_free(&r);
            }
    }
    rc = minimal(&out->may, f->family) < 0 || minimal(&out->must, f->family) < 0
             ? xg_fail(err, "out of memory")
             : 0;
done:
    free(ports);
    xg_prefix_list_free(&extra);
    xg_analysis_free(an);
    if (rc < 0)
        xg_reach_free(out);
    return rc;
}

/* Does `l` meet any of `tg` (all three empty: anything counts)? An example into *ex. */
static bool hurts(const struct xg_prefix_list *l, const struct xg_prefix_list tg[3], uint8_t family,
                  struct xg_prefix *ex, int *whom)
{
    bool any_target = false;
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < tg[i].count; k++) {
            const struct xg_prefix *t = &tg[i].items[k];
            if (t->family != family)
                continue;
            any_target = true;
            for (size_t j = 0; j < l->count; j++)
                if (xg_prefix_contains(&l->items[j], t) || xg_prefix_contains(t, &l->items[j])) {
                    *ex = xg_prefix_contains(&l->items[j], t) ? *t : l->items[j];
                    *whom = i;
                    return true;
                }
        }
    if (!any_target && l->count) {
        *ex = l->items[0];
        *whom = 3;
        return true;
    }
    return false;
}

static int one_claim(const struct xg_ruleset *rs, const struct xg_ifmap *map, const char *port,
                     const char *bridge, const struct frame *f, const struct xg_prefix_list tg[3],
                     struct xg_guest_claim *out, struct xg_err *err)
{
    struct xg_ruleset view = {0};
    int rc = -1, whom = 3;
    if (make_view(rs, port, f, &view) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    if (claim_set(&view, map, port, bridge, f, &out->can, err) < 0)
        goto done;
    if (hurts(&out->can.must, tg, f->family, &out->example, &whom))
        out->verdict = XG_SPOOF_YES;
    else if (hurts(&out->can.may, tg, f->family, &out->example, &whom))
        out->verdict = XG_SPOOF_MAYBE;
    else
        out->verdict = XG_SPOOF_NO;
    out->whom = whom;
    out->example.len = (uint8_t)xg_family_bits(f->family);
    rc = 0;
done:
    xg_ruleset_free(&view);
    return rc;
}

int xg_guest_spoofing(const struct xg_ruleset *rs, const struct xg_ifmap *map, const char *port,
                      const char *bridge, struct xg_guest_answer *out, struct xg_err *err)
{
    struct xg_prefix_list tg[3] = {{0}};
    struct frame fr[XG_CLAIM_KINDS] = {
        {XG_CLAIM_IP, 4, 0x0800, {0}},
        {XG_CLAIM_IP, 6, 0x86dd, {0}},
        {XG_CLAIM_ARP, 4, 0x0806, {0}},
        {XG_CLAIM_ND, 6, 0x86dd, {0}},
    };
    int rc = -1;
    memset(out, 0, sizeof(*out));
    snprintf(out->port, sizeof(out->port), "%s", port);
    nd_source(rs, port, &fr[3].nd_saddr);
    for (int k = 0; k < XG_CLAIM_KINDS; k++)
        fr[k].has_mac = port_mac(rs, port, fr[k].mac);
    if (targets(rs, map, port, tg) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    for (int k = 0; k < XG_CLAIM_KINDS; k++)
        if (one_claim(rs, map, port, bridge, &fr[k], tg, &out->claim[k], err) < 0)
            goto done;
    rc = 0;
done:
    for (int i = 0; i < 3; i++)
        xg_prefix_list_free(&tg[i]);
    if (rc < 0)
        xg_guest_answer_free(out);
    return rc;
}

void xg_guest_answer_free(struct xg_guest_answer *a)
{
    for (int k = 0; k < XG_CLAIM_KINDS; k++)
        xg_reach_free(&a->claim[k].can);
}

/* Guest ports to ask about: every name the bridge tables and the map give
 * that matches a pattern, and one more per pattern that no rule names. */
int xg_guest_ports(const struct xg_ruleset *rs, const struct xg_ifmap *map,
                   const char *const *patterns, size_t npat, char (**out)[XG_IFNAMSIZ],
                   size_t *count)
{
    *out = NULL;
    *count = 0;
#define ADD(name)                                                                                  \
    do {                                                                                           \
        bool seen_ = false, match_ = false;                                                        \
        for (size_t p_ = 0; p_ < npat; p_++)                                                       \
            match_ |= xg_ifname_matches(patterns[p_], (name));                                     \
        for (size_t j_ = 0; j_ < *count && !seen_; j_++)                                           \
            seen_ = !strcmp((*out)[j_], (name));                                                   \
        if (match_ && !seen_ && strlen(name) < XG_IFNAMSIZ) {                                      \
            char(*g_)[XG_IFNAMSIZ] = realloc(*out, (*count + 1) * sizeof(*g_));                    \
            if (!g_)                                                                               \
                return -1;                                                                         \
            *out = g_;                                                                             \
            snprintf(g_[(*count)++], XG_IFNAMSIZ, "%s", (name));                                   \
        }                                                                                          \
    } while (0)
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *tb = rs->tables[t];
        if (tb->family != XG_TABLE_BRIDGE)
            continue;
        for (size_t s = 0; s < tb->set_count; s++)
            for (size_t i = 0; i < tb->sets[s]->pair_count; i++)
                ADD(tb->sets[s]->pairs[i].ifname);
        for (size_t c = 0; c < tb->chain_count; c++)
            for (size_t r = 0; r < tb->chains[c]->rule_count; r++)
                for (size_t k = 0; k < tb->chains[c]->rules[r].match_count; k++) {
                    const struct xg_match *m = &tb->chains[c]->rules[r].matches[k];
                    size_t n = strlen(m->u.ifname);
                    if (m->kind == XG_MATCH_IIFNAME && n && m->u.ifname[n - 1] != '*' &&
                        m->u.ifname[n - 1] != '+')
                        ADD(m->u.ifname);
                }
    }
    for (size_t i = 0; map && i < map->count; i++)
        ADD(map->entries[i].ifname);
    for (size_t p = 0; p < npat; p++) {
        /* an exact name is a port; a wildcard gets one port no rule names:
         * the stem, then a number no name has */
        char rep[XG_IFNAMSIZ];
        size_t n = strlen(patterns[p]);
        if (!n || (patterns[p][n - 1] != '*' && patterns[p][n - 1] != '+')) {
            ADD(patterns[p]);
            continue;
        }
        for (unsigned k = 999;; k++) {
            bool taken = false;
            snprintf(rep, sizeof(rep), "%.*s%u.9", (int)(n ? n - 1 : 0), patterns[p], k);
            for (size_t j = 0; j < *count && !taken; j++)
                taken = !strcmp((*out)[j], rep);
            if (!taken)
                break;
        }
        ADD(rep);
    }
#undef ADD
    return 0;
}
