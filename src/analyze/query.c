/*
 * query.c — the analyzer's per-interface questions, answered as plain data
 * for `analyze` (and any other caller) to render: reachability of one
 * service per interface class, and spoofing per interface of a map.
 *
 * Spoofing: a source outside an interface's own prefixes (and routes) that
 * can open a new connection arriving on it is spoofed in. The question is
 * asked for every port class and TCP/UDP with the map's reverse paths
 * (fib/rpfilter decided), and stops at the first class where some such
 * source must get in; the first one found is the example.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/host.h"

int xg_reach_by_iface(const struct xg_ruleset *rs, const struct xg_packet_query *tmpl,
                      const struct xg_ifclass *ifs, size_t nifs, const struct xg_ifmap *map,
                      struct xg_iface_reach *out, struct xg_err *err)
{
    struct xg_prefix_list extra = {0};
    struct xg_analysis *an = NULL;
    int rc = -1;
    memset(out, 0, nifs * sizeof(*out));
    if (map && xg_ifmap_all_prefixes(map, &extra) < 0) {
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
            }
            int r = xg_analysis_reach(an, &q, &out[i].r[f], err);
            xg_prefix_list_free(&rpf);
            if (r < 0)
                goto done;
            out[i].asked[f] = true;
        }
    rc = 0;
done:
    if (rc < 0)
        xg_iface_reach_free(out, nifs);
    xg_analysis_free(an);
    xg_prefix_list_free(&extra);
    return rc;
}

void xg_iface_reach_free(struct xg_iface_reach *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < 2; f++)
            xg_reach_free(&v[i].r[f]);
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
