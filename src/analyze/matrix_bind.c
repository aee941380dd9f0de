/*
 * matrix_bind.c — the interface assumptions of the service matrix, as a
 * rewrite of the ruleset (what fffuu does with its interface assumptions).
 *
 * With an interface map, a source belongs to the interface whose prefix
 * covers it most specifically (xg_ifmap_rpf() computes exactly that region
 * per interface). Then `-i vlan7` is a source match in disguise: the
 * sources bound to the interfaces the pattern names. Rewriting every
 * interface match that way lets one symbolic evaluation over sources cover
 * sources of every interface at once, instead of one evaluation per
 * interface (on a 40-VLAN router, 40 times less work). A rule with
 * interface or reverse-path matches becomes, for one family:
 *
 *   its bound part    the interface matches replaced by `saddr in` the
 *                     regions of the interfaces that satisfy them all; a
 *                     reverse-path check holds for every bound source (its
 *                     route back is its interface), so `rpf ok` is dropped
 *                     and a rule needing `rpf missing` has no bound part;
 *   its unbound part  the rule as it was, limited to the sources no map
 *                     entry covers (they may still arrive anywhere).
 *
 * The two parts match disjoint packets, so their order does not matter and
 * the rewritten ruleset decides every packet as the original does with the
 * interface the map binds its source to. Rules without such matches are
 * copied as they are. A rewrite is made per family (an address match is of
 * one family) and only when the matrix asks for it.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/host.h"
#include "analyze/matrix.h"
#include "analyze/path.h"
#include "analyze/space.h"

struct xg_matrix_ctx {
    const struct xg_ruleset *rs;
    const struct xg_ifmap *map;
    struct xg_prefix_list extra; /* the map's prefixes: cut points of every analysis */
    struct xg_analysis *plain;   /* the ruleset as it is */
    struct xg_ruleset bound[2];  /* rewritten, per family ([0] IPv4) */
    struct xg_analysis *bound_an[2];
    struct xg_prefix_list *region[2]; /* per map entry: the sources bound to it */
    struct xg_prefix_list unbound[2]; /* sources no entry covers */
};

struct xg_matrix_ctx *xg_matrix_ctx_new(const struct xg_ruleset *rs, const struct xg_ifmap *map,
                                        struct xg_err *err)
{
    struct xg_matrix_ctx *cx = calloc(1, sizeof(*cx));
    if (!cx || (map && xg_ifmap_all_prefixes(map, &cx->extra) < 0)) {
        xg_matrix_ctx_free(cx);
        xg_fail(err, "out of memory");
        return NULL;
    }
    cx->rs = rs;
    cx->map = map;
    return cx;
}

void xg_matrix_ctx_free(struct xg_matrix_ctx *cx)
{
    if (!cx)
        return;
    xg_analysis_free(cx->plain);
    for (int f = 0; f < 2; f++) {
        xg_analysis_free(cx->bound_an[f]);
        xg_ruleset_free(&cx->bound[f]);
        for (size_t e = 0; cx->region[f] && e < cx->map->count; e++)
            xg_prefix_list_free(&cx->region[f][e]);
        free(cx->region[f]);
        xg_prefix_list_free(&cx->unbound[f]);
    }
    xg_prefix_list_free(&cx->extra);
    free(cx);
}

const struct xg_ruleset *xg_matrix_ruleset(const struct xg_matrix_ctx *cx)
{
    return cx->rs;
}

const struct xg_ifmap *xg_matrix_map(const struct xg_matrix_ctx *cx)
{
    return cx->map;
}

const struct xg_prefix_list *xg_matrix_extra(const struct xg_matrix_ctx *cx)
{
    return &cx->extra;
}

/* Regions per entry and the unbound rest, for one family. */
static int make_regions(struct xg_matrix_ctx *cx, int f, uint8_t family)
{
    struct xg_ivlist all = {0}, rest = {0};
    int rc = -1;
    if (!(cx->region[f] = calloc(cx->map->count + 1, sizeof(*cx->region[f]))))
        return -1;
    for (size_t e = 0; e < cx->map->count; e++)
        if (xg_ifmap_rpf(cx->map, cx->map->entries[e].ifname, family, &cx->region[f][e]) < 0)
            goto out;
    if (xg_ivlist_from_prefixes(&all, &cx->extra, family) < 0 ||
        xg_ivlist_complement(&all, family, &rest) < 0 ||
        xg_ivlist_to_prefixes(&rest, family, &cx->unbound[f]) < 0)
        goto out;
    rc = 0;
out:
    xg_ivlist_free(&all);
    xg_ivlist_free(&rest);
    return rc;
}

static bool binds(const struct xg_rule *r)
{
    for (size_t i = 0; i < r->match_count; i++)
        if (r->matches[i].kind == XG_MATCH_IIFNAME || r->matches[i].kind == XG_MATCH_RPF_OK)
            return true;
    return false;
}

/* The rule's bound part into `c` (nothing if no bound source can match it). */
static int bound_part(struct xg_matrix_ctx *cx, int f, struct xg_chain *c, const struct xg_rule *r)
{
    struct xg_prefix_list where = {0};
    struct xg_rule *nr;
    int rc = -1;
    for (size_t e = 0; e < cx->map->count; e++) {
        bool ok = true;
        for (size_t i = 0; i < r->match_count && ok; i++) {
            const struct xg_match *m = &r->matches[i];
            if (m->kind == XG_MATCH_IIFNAME)
                ok = xg_ifname_matches(m->u.ifname, cx->map->entries[e].ifname) != m->negate;
            else if (m->kind == XG_MATCH_RPF_OK)
                ok = !m->negate;
        }
        if (ok && xg_prefix_list_copy(&where, &cx->region[f][e]) < 0)
            goto out;
    }
    rc = 0;
    if (!where.count)
        goto out;
    rc = -1;
    if (!(nr = xg_chain_add_rule(c)) || xg_rule_copy(nr, r) < 0)
        goto out;
    for (size_t i = 0; i < nr->match_count;) {
        if (nr->matches[i].kind == XG_MATCH_IIFNAME || nr->matches[i].kind == XG_MATCH_RPF_OK) {
            xg_match_clear(&nr->matches[i]);
            memmove(&nr->matches[i], &nr->matches[i + 1],
                    (nr->match_count - i - 1) * sizeof(*nr->matches));
            nr->match_count--;
        } else {
            i++;
        }
    }
    rc = xg_rule_match_saddr(nr, &where, false);
out:
    xg_prefix_list_free(&where);
    return rc;
}

static int copy_rule(struct xg_chain *c, const struct xg_rule *r, const struct xg_prefix_list *only)
{
    struct xg_rule *nr = xg_chain_add_rule(c);
    if (!nr || xg_rule_copy(nr, r) < 0)
        return -1;
    return only ? xg_rule_match_saddr(nr, only, false) : 0;
}

static int copy_sets(struct xg_table *to, const struct xg_table *from)
{
    for (size_t s = 0; s < from->set_count; s++) {
        const struct xg_set *os = from->sets[s];
        struct xg_set *ns = xg_table_add_set(to, os->name, os->family);
        if (!ns || xg_prefix_list_copy(&ns->elements, &os->elements) < 0)
            return -1;
        ns->key = os->key;
        ns->dynamic = os->dynamic;
        for (size_t p = 0; p < os->pair_count; p++)
            if (xg_set_add_pair(ns, &os->pairs[p]) < 0)
                return -1;
    }
    return 0;
}

static int rewrite(struct xg_matrix_ctx *cx, int f, uint8_t family)
{
    const struct xg_ruleset *rs = cx->rs;
    if (make_regions(cx, f, family) < 0)
        return -1;
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *ot = rs->tables[t];
        struct xg_table *nt = xg_ruleset_add_table(&cx->bound[f], ot->name, ot->family);
        if (!nt || copy_sets(nt, ot) < 0)
            return -1;
        for (size_t c = 0; c < ot->chain_count; c++) {
            const struct xg_chain *oc = ot->chains[c];
            struct xg_chain *nc =
                xg_table_add_chain(nt, oc->name, oc->hook, oc->priority, oc->policy);
            if (!nc)
                return -1;
            for (size_t r = 0; r < oc->rule_count; r++) {
                const struct xg_rule *ru = &oc->rules[r];
                if (!binds(ru)) {
                    if (copy_rule(nc, ru, NULL) < 0)
                        return -1;
                    continue;
                }
                if (bound_part(cx, f, nc, ru) < 0 ||
                    (cx->unbound[f].count && copy_rule(nc, ru, &cx->unbound[f]) < 0))
                    return -1;
            }
        }
    }
    return 0;
}

struct xg_analysis *xg_matrix_analysis(struct xg_matrix_ctx *cx, uint8_t family, bool bound,
                                       struct xg_err *err)
{
    int f = family == XG_FAMILY_IPV6;
    if (!bound || !cx->map) {
        if (!cx->plain)
            cx->plain = xg_analysis_new(cx->rs, &cx->extra, err);
        return cx->plain;
    }
    if (!cx->bound_an[f]) {
        if (rewrite(cx, f, family) < 0) {
            xg_fail(err, "out of memory");
            return NULL;
        }
        cx->bound_an[f] = xg_analysis_new(&cx->bound[f], &cx->extra, err);
    }
    return cx->bound_an[f];
}
