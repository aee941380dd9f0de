/*
 * query.c — the analyzer's per-interface questions, answered as plain data
 * for `analyze` (and any other caller) to render: reachability of one
 * service per interface class (with what only a chosen source port or MAC
 * reaches, listed apart, and why a bound is not exact), and spoofing per
 * interface of a map.
 *
 * Spoofing: a source outside an interface's own prefixes (and routes) that
 * can open a new connection arriving on it is spoofed in. The question is
 * asked for every port class and TCP/UDP with the map's reverse paths
 * (fib/rpfilter decided), and stops at the first class where some such
 * source must get in; the first one found is the example.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/host.h"

int xg_mac_parse(const char *text, uint8_t out[6])
{
    unsigned v[6];
    char tail;
    if (strlen(text) != 17 || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
                                     &v[4], &v[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (!isxdigit((unsigned char)text[3 * i]) || !isxdigit((unsigned char)text[3 * i + 1]))
            return -1;
        out[i] = (uint8_t)v[i];
    }
    return 0;
}

/* --- source ports and MACs a ruleset tells apart --- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int xg_ruleset_sport_classes(const struct xg_ruleset *rs, struct xg_port_range **out, size_t *count)
{
    uint32_t *cuts = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    *count = 0;
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t k = 0; k < ch->rules[r].match_count; k++) {
                    const struct xg_match *m = &ch->rules[r].matches[k];
                    if (m->kind != XG_MATCH_SPORT)
                        continue;
                    for (size_t i = 0; i < m->u.ports.count; i++) {
                        if (n + 2 > cap) {
                            uint32_t *g = realloc(cuts, (cap = cap * 2 + 16) * sizeof(*g));
                            if (!g) {
                                free(cuts);
                                return -1;
                            }
                            cuts = g;
                        }
                        cuts[n++] = m->u.ports.ranges[i].lo;
                        cuts[n++] = (uint32_t)m->u.ports.ranges[i].hi + 1;
                    }
                }
        }
    if (!n) {
        free(cuts);
        return 0;
    }
    qsort(cuts, n, sizeof(*cuts), cmp_u32);
    /* classes below the ordinary client's ports: [0, c1), [c1, c2), ... up to 1024 */
    *out = calloc(n + 2, sizeof(**out));
    if (!*out) {
        free(cuts);
        return -1;
    }
    uint32_t lo = 0;
    for (size_t i = 0; i <= n && lo < XG_CLIENT_PORT_LO; i++) {
        uint32_t hi = i < n && cuts[i] < XG_CLIENT_PORT_LO ? cuts[i] : XG_CLIENT_PORT_LO;
        if (hi <= lo)
            continue;
        (*out)[(*count)++] = (struct xg_port_range){(uint16_t)lo, (uint16_t)(hi - 1)};
        lo = hi;
    }
    free(cuts);
    return 0;
}

int xg_ruleset_macs(const struct xg_ruleset *rs, uint8_t (**out)[6], size_t *count)
{
    *out = NULL;
    *count = 0;
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t k = 0; k < ch->rules[r].match_count; k++) {
                    const struct xg_match *m = &ch->rules[r].matches[k];
                    for (size_t i = 0; m->kind == XG_MATCH_ETHER_SADDR && i < m->u.macs.count;
                         i++) {
                        bool seen = false;
                        for (size_t j = 0; j < *count && !seen; j++)
                            seen = !memcmp((*out)[j], m->u.macs.addrs[i], 6);
                        if (seen)
                            continue;
                        uint8_t(*g)[6] = realloc(*out, (*count + 1) * sizeof(*g));
                        if (!g)
                            return -1;
                        *out = g;
                        memcpy(g[(*count)++], m->u.macs.addrs[i], 6);
                    }
                }
        }
    return 0;
}

const struct xg_rule *xg_deciding_rule(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                                       const struct xg_prefix *saddr, enum xg_match_kind kind,
                                       bool *named)
{
    struct xg_trace tr;
    struct xg_err ignored = {{0}};
    const struct xg_rule *first = NULL, *best = NULL;
    if (named)
        *named = false;
    if (xg_packet_trace(rs, q, saddr, &tr, &ignored) < 0)
        return NULL;
    for (size_t i = 0; i < tr.count && !best; i++) {
        const struct xg_rule *r = tr.steps[i].rule;
        if (!r)
            continue;
        if (!first)
            first = r;
        for (size_t k = 0; k < r->match_count && !best; k++)
            if (r->matches[k].kind == kind)
                best = r;
    }
    xg_trace_free(&tr);
    if (named)
        *named = best != NULL;
    return best ? best : first;
}

/* One chosen source port or MAC: the sources it adds to `base`. */
static int add_extra(struct xg_analysis *an, const struct xg_ruleset *rs,
                     const struct xg_packet_query *q, const struct xg_reach *base,
                     struct xg_reach_extra *x, size_t *n, struct xg_err *err)
{
    struct xg_reach r;
    struct xg_prefix_list gained = {0};
    if (xg_analysis_reach(an, q, &r, err) < 0)
        return -1;
    if (xg_prefix_list_minus(&r.may, &base->may, q->family, &gained) < 0) {
        xg_reach_free(&r);
        xg_prefix_list_free(&gained);
        return xg_fail(err, "out of memory");
    }
    if (!gained.count) {
        xg_reach_free(&r);
        xg_prefix_list_free(&gained);
        return 0;
    }
    struct xg_prefix ex = gained.items[0];
    ex.len = (uint8_t)xg_family_bits(q->family);
    x->exact = xg_prefix_list_equal(&r.may, &r.must);
    x->sources = r.may; /* everything this port or MAC reaches: "from 0.0.0.0/0 with ..." */
    r.may = (struct xg_prefix_list){0};
    xg_reach_free(&r);
    xg_prefix_list_free(&gained);
    x->rule = xg_deciding_rule(
        rs, q, &ex, x->kind == XG_EXTRA_SPORT ? XG_MATCH_SPORT : XG_MATCH_ETHER_SADDR, NULL);
    (*n)++;
    return 0;
}

struct chosen {
    struct xg_port_range *sports;
    size_t nsports;
    uint8_t (*macs)[6];
    size_t nmacs;
};

/* Adjacent source-port classes with the same answer and rule are one line. */
static void merge_last(struct xg_reach_extra *x, size_t *n)
{
    struct xg_reach_extra *a, *b;
    if (*n < 2)
        return;
    a = &x[*n - 2];
    b = &x[*n - 1];
    if (a->kind != XG_EXTRA_SPORT || b->kind != XG_EXTRA_SPORT || (uint32_t)a->hi + 1 != b->lo ||
        a->rule != b->rule || a->exact != b->exact ||
        !xg_prefix_list_equal(&a->sources, &b->sources))
        return;
    a->hi = b->hi;
    xg_prefix_list_free(&b->sources);
    (*n)--;
}

/* Everything only a chosen source port or MAC reaches, for one query. */
static int extras(struct xg_analysis *an, const struct xg_ruleset *rs,
                  const struct xg_packet_query *q, const struct chosen *ch,
                  const struct xg_reach *base, struct xg_reach_extra **out, size_t *n,
                  struct xg_err *err)
{
    size_t total = (q->has_sport ? 0 : ch->nsports) + (q->mac ? 0 : ch->nmacs);
    *out = NULL;
    *n = 0;
    if (!total)
        return 0;
    if (!(*out = calloc(total, sizeof(**out))))
        return xg_fail(err, "out of memory");
    for (size_t i = 0; !q->has_sport && i < ch->nsports; i++) {
        struct xg_packet_query qq = *q;
        qq.has_sport = true;
        qq.sport = ch->sports[i].lo;
        (*out)[*n] = (struct xg_reach_extra){
            .kind = XG_EXTRA_SPORT, .lo = ch->sports[i].lo, .hi = ch->sports[i].hi};
        if (add_extra(an, rs, &qq, base, &(*out)[*n], n, err) < 0)
            return -1;
        merge_last(*out, n);
    }
    for (size_t i = 0; !q->mac && i < ch->nmacs; i++) {
        struct xg_packet_query qq = *q;
        qq.mac = ch->macs[i];
        (*out)[*n] = (struct xg_reach_extra){.kind = XG_EXTRA_MAC};
        memcpy((*out)[*n].mac, ch->macs[i], 6);
        if (add_extra(an, rs, &qq, base, &(*out)[*n], n, err) < 0)
            return -1;
    }
    return 0;
}

/* When the bounds differ: the reason for the first source in may but not must. */
static int explain(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                   const struct xg_reach *r, struct xg_may_reason *why, struct xg_err *err)
{
    struct xg_prefix_list gap = {0};
    int rc = 0;
    memset(why, 0, sizeof(*why));
    if (xg_prefix_list_minus(&r->may, &r->must, q->family, &gap) < 0)
        return xg_fail(err, "out of memory");
    if (gap.count) {
        struct xg_prefix ex = gap.items[0];
        ex.len = (uint8_t)xg_family_bits(q->family);
        rc = xg_explain_may(rs, q, &ex, why, err);
    }
    xg_prefix_list_free(&gap);
    return rc;
}

/* One interface class and family: the answer, why it is a bound, and what only
 * a chosen source port or MAC adds. */
static int reach_one(struct xg_analysis *an, const struct xg_ruleset *rs,
                     const struct xg_packet_query *q, const struct chosen *ch,
                     struct xg_iface_reach *o, int f, struct xg_err *err)
{
    if (xg_analysis_reach(an, q, &o->r[f], err) < 0)
        return -1;
    o->asked[f] = true;
    if (explain(rs, q, &o->r[f], &o->why[f], err) < 0)
        return -1;
    return extras(an, rs, q, ch, &o->r[f], &o->extra[f], &o->nextra[f], err);
}

int xg_reach_by_iface(const struct xg_ruleset *rs, const struct xg_packet_query *tmpl,
                      const struct xg_ifclass *ifs, size_t nifs, const struct xg_ifmap *map,
                      struct xg_iface_reach *out, struct xg_err *err)
{
    struct xg_prefix_list extra = {0};
    struct xg_analysis *an = NULL;
    struct chosen ch = {0};
    int rc = -1;
    memset(out, 0, nifs * sizeof(*out));
    if ((map && xg_ifmap_all_prefixes(map, &extra) < 0) ||
        xg_ruleset_sport_classes(rs, &ch.sports, &ch.nsports) < 0 ||
        xg_ruleset_macs(rs, &ch.macs, &ch.nmacs) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    if (!(an = xg_analysis_new(rs, &extra, err)))
        goto done;
    for (size_t i = 0; i < nifs; i++)
        for (int f = 0; f < 2; f++) {
            struct xg_packet_query q = *tmpl;
            struct xg_prefix_list rpf = {0};
            q.family = f ? 6 : 4;
            q.iifname = ifs[i].rep;
            if (tmpl->daddr && tmpl->daddr->family != q.family)
                continue;
            if (map) {
                if (xg_ifmap_rpf(map, q.iifname, q.family, &rpf) < 0) {
                    xg_fail(err, "out of memory");
                    goto done;
                }
                q.rpf_ok = &rpf;
                xg_ifmap_addrtypes(map, &q);
            }
            int r = reach_one(an, rs, &q, &ch, &out[i], f, err);
            xg_prefix_list_free(&rpf);
            if (r < 0)
                goto done;
        }
    rc = 0;
done:
    if (rc < 0)
        xg_iface_reach_free(out, nifs);
    xg_analysis_free(an);
    xg_prefix_list_free(&extra);
    free(ch.sports);
    free(ch.macs);
    return rc;
}

void xg_iface_reach_free(struct xg_iface_reach *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < 2; f++) {
            xg_reach_free(&v[i].r[f]);
            for (size_t k = 0; k < v[i].nextra[f]; k++)
                xg_prefix_list_free(&v[i].extra[f][k].sources);
            free(v[i].extra[f]);
            v[i].extra[f] = NULL;
            v[i].nextra[f] = 0;
        }
}

/* One family of one interface: may/must a source outside `own` get in, and an example. */
static int spoof_family(struct xg_analysis *an, const struct xg_ifmap *map,
                        const struct xg_ifmap_entry *e, uint8_t family, enum xg_hook path,
                        const char *oifname, const struct xg_port_range *ports, size_t nports,
                        struct xg_spoof_family *out, struct xg_err *err)
{
    static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};
    struct xg_prefix_list rpf = {0};
    bool may = false, must = false;
    if (!xg_prefix_list_count_family(&e->prefixes, family)) {
        out->verdict = XG_SPOOF_UNCHECKED;
        return 0;
    }
    if (xg_ifmap_rpf(map, e->ifname, family, &rpf) < 0)
        return xg_fail(err, "out of memory");
    for (size_t p = 0; p < 2 && !must; p++)
        for (size_t k = 0; k < nports && !must; k++) {
            struct xg_packet_query q = {.family = family,
                                        .proto = protos[p],
                                        .dport = ports[k].lo,
                                        .iifname = e->ifname,
                                        .oifname = oifname,
                                        .path = path,
                                        .rpf_ok = &rpf};
            xg_ifmap_addrtypes(map, &q);
            struct xg_reach r;
            struct xg_prefix_list out_may = {0}, out_must = {0};
            if (xg_analysis_reach(an, &q, &r, err) < 0) {
                xg_prefix_list_free(&rpf);
                return -1;
            }
            xg_prefix_list_minus(&r.may, &e->prefixes, family, &out_may);
            xg_prefix_list_minus(&r.must, &e->prefixes, family, &out_must);
            if ((out_may.count && !may) || (out_must.count && !must)) {
                const struct xg_prefix_list *l = out_must.count ? &out_must : &out_may;
                out->example = l->items[0];
                out->example.len = (uint8_t)xg_family_bits(family);
                out->proto = protos[p];
                out->lo = ports[k].lo;
                out->hi = ports[k].hi;
                out->has_example = true;
            }
            may |= out_may.count > 0;
            must |= out_must.count > 0;
            xg_prefix_list_free(&out_may);
            xg_prefix_list_free(&out_must);
            xg_reach_free(&r);
        }
    xg_prefix_list_free(&rpf);
    out->verdict = must ? XG_SPOOF_YES : may ? XG_SPOOF_MAYBE : XG_SPOOF_NO;
    return 0;
}

int xg_spoofing(const struct xg_ruleset *rs, const struct xg_ifmap *map, enum xg_hook path,
                const char *oifname, struct xg_spoof_answer *out, struct xg_err *err)
{
    struct xg_prefix_list extra = {0};
    struct xg_analysis *an = NULL;
    struct xg_port_range *ports = NULL;
    size_t nports = 0;
    int rc = -1;
    memset(out, 0, map->count * sizeof(*out));
    if (xg_ifmap_all_prefixes(map, &extra) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    if (!(an = xg_analysis_new(rs, &extra, err)))
        goto done;
    if (xg_ruleset_port_classes(rs, &ports, &nports) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < map->count; i++)
        for (int f = 0; f < 2; f++)
            if (spoof_family(an, map, &map->entries[i], f ? 6 : 4, path, oifname, ports, nports,
                             &out[i].fam[f], err) < 0)
                goto done;
    rc = 0;
done:
    free(ports);
    xg_prefix_list_free(&extra);
    xg_analysis_free(an);
    return rc;
}
