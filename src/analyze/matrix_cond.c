/*
 * matrix_cond.c — the service matrix's conditional edges: who reaches whom
 * only with a chosen source port or a particular source MAC.
 *
 * The matrix (matrix.c) assumes an ordinary client, as --reach does: source
 * port 1024-65535 and a MAC no rule names. A rule such as `--sport 53 -j
 * ACCEPT` opens more to whoever picks that port. For every source-port class
 * and MAC the ruleset tells apart (query.c), the matrix is computed again
 * with that choice, and each of its edges is read back onto the ordinary
 * matrix's classes: where a (source class, destination class) pair is not
 * an edge there, the part of both classes the chosen edge covers is a
 * conditional edge, with the rule that lets an example through. Adjacent
 * source-port classes with the same answer and rule are one edge.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/matrix.h"
#include "analyze/path.h"
#include "analyze/space.h"

/* One (base source class, base destination class) pair a choice opens. */
struct acc {
    bool used, must;
    struct xg_ivlist src, dst;
};

struct cond_list {
    struct xg_matrix_cond *v;
    size_t n, cap;
};

static int classes_iv(const struct xg_matrix *m, struct xg_ivlist **out)
{
    struct xg_ivlist *iv = calloc(m->count + 1, sizeof(*iv));
    if (!iv)
        return -1;
    for (size_t c = 0; c < m->count; c++)
        if (xg_ivlist_from_prefixes(&iv[c], &m->classes[c].addrs, m->family) < 0) {
            for (size_t k = 0; k <= c; k++)
                xg_ivlist_free(&iv[k]);
            free(iv);
            return -1;
        }
    *out = iv;
    return 0;
}

static void ivs_free(struct xg_ivlist *iv, size_t n)
{
    for (size_t i = 0; iv && i < n; i++)
        xg_ivlist_free(&iv[i]);
    free(iv);
}

static bool base_edge(const struct xg_matrix *m, size_t s, size_t d)
{
    size_t lo = 0, hi = m->nedges;
    while (lo < hi) { /* edges are sorted by (src, dst) */
        size_t mid = (lo + hi) / 2;
        const struct xg_matrix_edge *e = &m->edges[mid];
        if (e->src == s && e->dst == d)
            return true;
        if (e->src < s || (e->src == s && e->dst < d))
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* a ∩ b appended to `into`; *hit says whether it was not empty. */
static int meet(const struct xg_ivlist *a, const struct xg_ivlist *b, struct xg_ivlist *into,
                bool *hit)
{
    struct xg_ivlist x = {0};
    if (xg_ivlist_intersect(a, b, &x) < 0)
        return -1;
    *hit = x.count > 0;
    for (size_t i = 0; i < x.count; i++)
        if (xg_ivlist_add(into, x.items[i].lo, x.items[i].hi) < 0) {
            xg_ivlist_free(&x);
            return -1;
        }
    xg_ivlist_free(&x);
    return 0;
}

static int acc_add(struct acc *a, const struct xg_ivlist *sp, const struct xg_ivlist *dp, bool must)
{
    a->must = a->used ? a->must && must : must;
    a->used = true;
    for (size_t i = 0; i < sp->count; i++)
        if (xg_ivlist_add(&a->src, sp->items[i].lo, sp->items[i].hi) < 0)
            return -1;
    for (size_t i = 0; i < dp->count; i++)
        if (xg_ivlist_add(&a->dst, dp->items[i].lo, dp->items[i].hi) < 0)
            return -1;
    return 0;
}

/* Every edge of the chosen matrix `c` onto the base classes (acc: nb x nb). */
static int project(const struct xg_matrix *base, const struct xg_ivlist *biv,
                   const struct xg_matrix *c, struct acc *acc)
{
    struct xg_ivlist *civ = NULL;
    size_t nb = base->count;
    int rc = -1;
    if (classes_iv(c, &civ) < 0)
        return -1;
    for (size_t e = 0; e < c->nedges; e++) {
        const struct xg_ivlist *s = &civ[c->edges[e].src], *d = &civ[c->edges[e].dst];
        for (size_t S = 0; S < nb; S++) {
            struct xg_ivlist sp = {0};
            bool hit;
            if (meet(&biv[S], s, &sp, &hit) < 0)
                goto out;
            for (size_t D = 0; hit && D < nb; D++) {
                struct acc *a = &acc[S * nb + D];
                struct xg_ivlist dp = {0};
                bool dhit;
                if (base_edge(base, S, D))
                    continue;
                if (meet(&biv[D], d, &dp, &dhit) < 0) {
                    xg_ivlist_free(&sp);
                    goto out;
                }
                if (dhit && acc_add(a, &sp, &dp, c->edges[e].must) < 0) {
                    xg_ivlist_free(&dp);
                    xg_ivlist_free(&sp);
                    goto out;
                }
                xg_ivlist_free(&dp);
            }
            xg_ivlist_free(&sp);
        }
    }
    rc = 0;
out:
    ivs_free(civ, c->count);
    return rc;
}

/* The rule that lets the example through: traced on the analysis the matrix used, on the
 * query's interface, else on each interface class until one names the choice. */
static const struct xg_rule *example_rule(struct xg_matrix_ctx *cx, const struct xg_packet_query *q,
                                          const struct xg_matrix_cond *c, struct xg_err *err)
{
    bool bound = xg_matrix_map(cx) && !q->iifname;
    struct xg_analysis *an = xg_matrix_analysis(cx, q->family, bound, err);
    const struct xg_ruleset *rs = an ? xg_analysis_ruleset(an) : NULL;
    enum xg_match_kind kind = c->kind == XG_EXTRA_SPORT ? XG_MATCH_SPORT : XG_MATCH_ETHER_SADDR;
    struct xg_packet_query qq = *q;
    struct xg_prefix src = c->sources.items[0], dst = c->dests.items[0];
    struct xg_ifclass *ifs = NULL;
    size_t nifs = 0;
    const struct xg_rule *r;
    src.len = dst.len = (uint8_t)xg_family_bits(q->family);
    qq.daddr = &dst;
    qq.rpf_ok = NULL;
    if (!rs)
        return NULL;
    r = xg_deciding_rule(rs, &qq, &src, kind, NULL);
    if (bound || q->iifname || xg_ifclasses(rs, NULL, &ifs, &nifs) < 0)
        return r;
    for (size_t i = 0; i < nifs; i++) {
        bool named = false;
        const struct xg_rule *x;
        qq.iifname = ifs[i].rep;
        x = xg_deciding_rule(rs, &qq, &src, kind, &named);
        if (named) {
            r = x;
            break;
        }
    }
    free(ifs);
    return r;
}

static int emit(struct cond_list *l, const struct acc *a, size_t S, size_t D,
                const struct xg_matrix_cond *proto, uint8_t family)
{
    struct xg_matrix_cond *c;
    struct xg_ivlist s = a->src, d = a->dst;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct xg_matrix_cond *g = realloc(l->v, cap * sizeof(*g));
        if (!g)
            return -1;
        l->v = g;
        l->cap = cap;
    }
    c = &l->v[l->n];
    *c = *proto;
    c->src = S;
    c->dst = D;
    c->exact = a->must;
    memset(&c->sources, 0, sizeof(c->sources));
    memset(&c->dests, 0, sizeof(c->dests));
    xg_ivlist_normalize(&s);
    xg_ivlist_normalize(&d);
    if (xg_ivlist_to_prefixes(&s, family, &c->sources) < 0 ||
        xg_ivlist_to_prefixes(&d, family, &c->dests) < 0) {
        xg_prefix_list_free(&c->sources);
        xg_prefix_list_free(&c->dests);
        return -1;
    }
    l->n++;
    return 0;
}

/* Same pair, adjacent ports, same parts and rule: one edge. */
static bool merge_into(struct xg_matrix_cond *a, const struct xg_matrix_cond *b)
{
    if (a->kind != XG_EXTRA_SPORT || b->kind != XG_EXTRA_SPORT || a->src != b->src ||
        a->dst != b->dst || (uint32_t)a->hi + 1 != b->lo || a->rule != b->rule ||
        a->exact != b->exact || !xg_prefix_list_equal(&a->sources, &b->sources) ||
        !xg_prefix_list_equal(&a->dests, &b->dests))
        return false;
    a->hi = b->hi;
    return true;
}

/* One choice: its matrix, projected onto the base, appended to `l`. */
static int one_choice(struct xg_matrix_ctx *cx, const struct xg_matrix_query *mq,
                      const struct xg_matrix *base, const struct xg_ivlist *biv,
                      const struct xg_matrix_cond *proto, struct cond_list *l, struct xg_err *err)
{
    struct xg_matrix_query q = *mq;
    struct xg_matrix c;
    size_t nb = base->count, first = l->n;
    struct acc *acc = calloc(nb * nb + 1, sizeof(*acc));
    int rc = -1;
    if (!acc)
        return xg_fail(err, "out of memory");
    if (proto->kind == XG_EXTRA_SPORT) {
        q.svc.has_sport = true;
        q.svc.sport = proto->lo;
    } else {
        q.svc.mac = proto->mac;
    }
    if (xg_service_matrix(cx, &q, &c, err) < 0)
        goto out;
    if (project(base, biv, &c, acc) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nb * nb; i++)
        if (acc[i].used && emit(l, &acc[i], i / nb, i % nb, proto, base->family) < 0) {
            xg_fail(err, "out of memory");
            goto done;
        }
    for (size_t i = first; i < l->n; i++)
        l->v[i].rule = example_rule(cx, &q.svc, &l->v[i], err);
    rc = 0;
done:
    xg_matrix_free(&c);
out:
    for (size_t i = 0; i < nb * nb; i++) {
        xg_ivlist_free(&acc[i].src);
        xg_ivlist_free(&acc[i].dst);
    }
    free(acc);
    return rc;
}

static int cmp_cond(const void *x, const void *y)
{
    const struct xg_matrix_cond *a = x, *b = y;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->kind == XG_EXTRA_MAC)
        return memcmp(a->mac, b->mac, 6);
    return (a->lo > b->lo) - (a->lo < b->lo);
}

/* Sorted by pair and choice; adjacent port classes folded. */
static void fold(struct cond_list *l)
{
    size_t k = 0;
    if (!l->n)
        return;
    qsort(l->v, l->n, sizeof(*l->v), cmp_cond);
    for (size_t i = 0; i < l->n; i++) {
        if (k && merge_into(&l->v[k - 1], &l->v[i])) {
            xg_prefix_list_free(&l->v[i].sources);
            xg_prefix_list_free(&l->v[i].dests);
            continue;
        }
        l->v[k++] = l->v[i];
    }
    l->n = k;
}

int xg_matrix_conditional(struct xg_matrix_ctx *cx, const struct xg_matrix_query *mq,
                          const struct xg_matrix *base, struct xg_matrix_cond **out, size_t *n,
                          struct xg_err *err)
{
    const struct xg_ruleset *rs = xg_matrix_ruleset(cx);
    struct xg_port_range *ports = NULL;
    size_t nports = 0, nmacs = 0;
    uint8_t(*macs)[6] = NULL;
    struct xg_ivlist *biv = NULL;
    struct cond_list l = {0};
    int rc = -1;
    *out = NULL;
    *n = 0;
    if ((!mq->svc.has_sport && xg_ruleset_sport_classes(rs, &ports, &nports) < 0) ||
        (!mq->svc.mac && xg_ruleset_macs(rs, &macs, &nmacs) < 0) || classes_iv(base, &biv) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nports; i++) {
        struct xg_matrix_cond p = {.kind = XG_EXTRA_SPORT, .lo = ports[i].lo, .hi = ports[i].hi};
        if (one_choice(cx, mq, base, biv, &p, &l, err) < 0)
            goto out;
    }
    for (size_t i = 0; i < nmacs; i++) {
        struct xg_matrix_cond p = {.kind = XG_EXTRA_MAC};
        memcpy(p.mac, macs[i], 6);
        if (one_choice(cx, mq, base, biv, &p, &l, err) < 0)
            goto out;
    }
    fold(&l);
    *out = l.v;
    *n = l.n;
    l.v = NULL;
    l.n = 0;
    rc = 0;
out:
    xg_matrix_cond_free(l.v, l.n);
    ivs_free(biv, base->count);
    free(ports);
    free(macs);
    return rc;
}

void xg_matrix_cond_free(struct xg_matrix_cond *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        xg_prefix_list_free(&v[i].sources);
        xg_prefix_list_free(&v[i].dests);
    }
    free(v);
}
