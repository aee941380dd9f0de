/*
 * matrix.c — the service matrix: who reaches whom, for one service and one
 * family, as fffuu's service matrix (Diekmann et al., "Verified iptables
 * Firewall Analysis and Verification") answers it.
 *
 * Evaluating every (source atom, destination atom) pair is hopeless on a
 * router's ruleset, and even one symbolic evaluation (sources as a bitset,
 * eval.c) per destination atom wastes work. Instead, as fffuu does:
 *
 *  1. The rules that matter: those in chains the path reaches, with a
 *     verdict, that the service does not rule out (port, protocol, state).
 *  2. Candidate classes: the coarsest partition of the source atoms such
 *     that every such rule's source match (and each interface's prefixes
 *     of the map) is a union of classes; the same for destinations over
 *     their own atoms (destination matches, the map, the destination set).
 *     Addresses of one candidate class are treated alike by every rule.
 *  3. One symbolic evaluation per (destination candidate, interface the
 *     sources arrive on): the sources come out as a bitset, read at one
 *     representative atom per source candidate. That fills a matrix
 *     candidates x candidates of may/must bits.
 *  4. Rows with the same bits merge (sources with identical access), then
 *     columns (destinations with identical access); the classes reported
 *     are the common refinement of both, so one class list serves as
 *     source and as destination, and each edge is (row of X, column of Y).
 *
 * Interfaces: with an interface map a source belongs to the interface whose
 * prefix covers it most specifically (fffuu's interface assumptions, and
 * what routing and a strict reverse-path filter assume), and on the forward
 * path a destination leaves by its interface the same way; a source nothing
 * binds may arrive on any interface class, so its edges are may = some
 * interface lets it through, must = every one does.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "analyze/matrix.h"
#include "analyze/path.h"
#include "analyze/space.h"

/* Address sets of the relevant rules, by side. */
struct setlist {
    struct xg_ivlist *v;
    size_t n, cap;
};

struct mx {
    struct xg_analysis *an;
    const struct xg_ifmap *map; /* NULL: none */
    bool bound;                 /* interface matches rewritten over the map (matrix_bind.c) */
    const struct xg_ruleset *rs;
    const struct xg_matrix_query *mq;
    uint8_t family;
    struct xg_err *err;
    struct setlist srcs, dsts; /* address matches of relevant rules */
    const struct xg_atoms *sa; /* source atoms (the analysis's) */
    struct xg_atoms da;        /* destination atoms */
    struct xg_partition sp, dp;
    int *sgroup;   /* per source atom: 0 bound (by the map, or a fixed iifname), -1 unbound */
    int *dgroup;   /* per destination atom: map entry (oif), -1 none */
    bool *dinside; /* per destination atom: in mq->dsts */
    /* candidates: representative atom of each class */
    size_t *srep, *drep;
    /* rows: nsrc x (2 * ndst) bits */
    uint64_t *rows;
    size_t rw;
};

static int fail_oom(struct mx *m)
{
    return xg_fail(m->err, "out of memory");
}

/* --- 1. the rules that matter --- */

static int setlist_add(struct setlist *l, const struct xg_prefix_list *pl, uint8_t family)
{
    struct xg_ivlist iv = {0};
    if (xg_ivlist_from_prefixes(&iv, pl, family) < 0)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct xg_ivlist *g = realloc(l->v, cap * sizeof(*g));
        if (!g) {
            xg_ivlist_free(&iv);
            return -1;
        }
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n++] = iv;
    return 0;
}

static void setlist_free(struct setlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        xg_ivlist_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Can the rule match a packet of this service somewhere on the path? */
static bool rule_relevant(const struct mx *m, const struct xg_table *t, const struct xg_rule *r)
{
    struct xg_packet_query q = m->mq->svc;
    bool rpf;
    uint8_t rf = xg_rule_family(t, r);
    if (r->verdict == XG_VERDICT_CONTINUE || (rf && rf != m->family))
        return false;
    q.family = m->family;
    q.iifname = q.oifname = NULL;
    q.daddr = NULL;
    q.rpf_ok = NULL;
    return xg_rule_fixed(t, r, &q, XG_CT_NEW, &rpf) != TRI_F ||
           xg_rule_fixed(t, r, &q, XG_CT_INVALID, &rpf) != TRI_F;
}

struct chain_stack {
    const struct xg_table **t;
    const struct xg_chain **c;
    size_t n, cap;
};

static int stack_push(struct chain_stack *x, const struct xg_table *t, const struct xg_chain *c)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        const struct xg_table **gt = realloc(x->t, cap * sizeof(*gt));
        if (!gt)
            return -1;
        x->t = gt;
        const struct xg_chain **gc = realloc(x->c, cap * sizeof(*gc));
        if (!gc)
            return -1;
        x->c = gc;
        x->cap = cap;
    }
    x->t[x->n] = t;
    x->c[x->n++] = c;
    return 0;
}

/* Onto the work stack unless seen before. */
static int push_chain(struct chain_stack *todo, struct chain_stack *seen, const struct xg_table *t,
                      const struct xg_chain *c)
{
    for (size_t i = 0; i < seen->n; i++)
        if (seen->c[i] == c)
            return 0;
    return stack_push(seen, t, c) < 0 || stack_push(todo, t, c) < 0 ? -1 : 0;
}

static int rule_sets(struct mx *m, const struct xg_table *t, const struct xg_rule *r)
{
    for (size_t k = 0; k < r->match_count; k++) {
        const struct xg_match *mt = &r->matches[k];
        const struct xg_prefix_list *pl;
        if (mt->kind != XG_MATCH_SADDR && mt->kind != XG_MATCH_DADDR)
            continue;
        if (!(pl = xg_addr_prefixes(t, mt)))
            continue; /* a missing set: unknown for every address alike */
        if (setlist_add(mt->kind == XG_MATCH_SADDR ? &m->srcs : &m->dsts, pl, m->family) < 0)
            return -1;
    }
    return 0;
}

/* Walk the chains the path reaches (base chains, then jump and goto
 * targets of relevant rules) and collect the relevant rules' address sets. */
static int collect_rules(struct mx *m)
{
    struct xg_packet_query q = m->mq->svc;
    struct xg_base_ref *bases = NULL;
    struct chain_stack todo = {0}, seen = {0};
    size_t nbases = 0;
    int rc = -1;
    q.family = m->family;
    if (xg_path_chains(m->rs, &q, &bases, &nbases) < 0)
        goto out;
    for (size_t b = 0; b < nbases; b++)
        if (push_chain(&todo, &seen, bases[b].t, bases[b].c) < 0)
            goto out;
    while (todo.n) {
        const struct xg_table *t = todo.t[--todo.n];
        const struct xg_chain *c = todo.c[todo.n];
        for (size_t i = 0; i < c->rule_count; i++) {
            const struct xg_rule *r = &c->rules[i];
            const struct xg_chain *target;
            if (!rule_relevant(m, t, r))
                continue;
            if (rule_sets(m, t, r) < 0)
                goto out;
            if ((r->verdict == XG_VERDICT_JUMP || r->verdict == XG_VERDICT_GOTO) && r->target &&
                (target = xg_table_find_chain(t, r->target)) &&
                push_chain(&todo, &seen, t, target) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    if (rc < 0)
        fail_oom(m);
    free(bases);
    free(todo.t);
    free(todo.c);
    free(seen.t);
    free(seen.c);
    return rc;
}

/* --- 2. candidate classes --- */

/* The atom ranges of a normalized interval list (its ends must be atom ends). */
static int spans_of(const struct xg_atoms *a, const struct xg_ivlist *iv, size_t (**out)[2],
                    bool *aligned)
{
    size_t(*r)[2] = calloc(iv->count ? iv->count : 1, sizeof(*r));
    if (!r)
        return -1;
    *aligned = true;
    for (size_t i = 0; i < iv->count; i++) {
        xg_atoms_span(a, iv->items[i].lo, iv->items[i].hi, &r[i][0], &r[i][1]);
        if (a->starts[r[i][0]] != iv->items[i].lo || xg_atoms_hi(a, r[i][1]) != iv->items[i].hi)
            *aligned = false;
    }
    *out = r;
    return 0;
}

static int split_by(struct mx *m, struct xg_partition *p, const struct xg_atoms *a,
                    const struct xg_ivlist *iv)
{
    size_t(*r)[2];
    bool aligned;
    if (spans_of(a, iv, &r, &aligned) < 0)
        return fail_oom(m);
    if (!aligned) {
        free(r);
        return xg_fail(m->err, "service matrix: an address set is not a union of atoms "
                               "(the analysis lacks the interface map's prefixes)");
    }
    xg_partition_split(p, r, iv->count);
    free(r);
    return 0;
}

/* Longest-prefix binding of atoms to map entries; refines `p` by every map prefix. */
static int bind_map(struct mx *m, struct xg_partition *p, const struct xg_atoms *a, int *group)
{
    const struct xg_ifmap *map = m->map;
    int *best = malloc((a->count ? a->count : 1) * sizeof(*best));
    if (!best)
        return fail_oom(m);
    for (size_t i = 0; i < a->count; i++)
        best[i] = -1, group[i] = -1;
    for (size_t e = 0; e < map->count; e++)
        for (size_t k = 0; k < map->entries[e].prefixes.count; k++) {
            const struct xg_prefix *pf = &map->entries[e].prefixes.items[k];
            struct xg_ivlist iv = {0};
            if (pf->family != m->family)
                continue;
            if (xg_ivlist_add(&iv, xg_prefix_lo(pf), xg_prefix_hi(pf)) < 0 ||
                split_by(m, p, a, &iv) < 0) {
                xg_ivlist_free(&iv);
                free(best);
                return -1;
            }
            size_t f, l;
            xg_atoms_span(a, iv.items[0].lo, iv.items[0].hi, &f, &l);
            for (size_t i = f; i <= l; i++)
                if (pf->len > best[i]) {
                    best[i] = pf->len;
                    group[i] = (int)e;
                }
            xg_ivlist_free(&iv);
        }
    free(best);
    return 0;
}

static int source_candidates(struct mx *m)
{
    const struct xg_packet_query *svc = &m->mq->svc;
    m->sa = xg_analysis_atoms(m->an, m->family);
    if (xg_partition_init(&m->sp, m->sa->count) < 0 ||
        !(m->sgroup = calloc(m->sa->count, sizeof(*m->sgroup))))
        return fail_oom(m);
    for (size_t i = 0; i < m->srcs.n; i++)
        if (split_by(m, &m->sp, m->sa, &m->srcs.v[i]) < 0)
            return -1;
    if (svc->iifname) {
        /* one fixed interface: every source is bound to it (group 0) */
    } else if (m->map) {
        if (bind_map(m, &m->sp, m->sa, m->sgroup) < 0)
            return -1;
        for (size_t i = 0; i < m->sa->count; i++)
            m->sgroup[i] = m->sgroup[i] >= 0 ? 0 : -1;
    } else {
        for (size_t i = 0; i < m->sa->count; i++)
            m->sgroup[i] = -1;
    }
    if (!(m->srep = xg_partition_reps(&m->sp)))
        return fail_oom(m);
    return 0;
}

static int cut_ivlist(struct xg_atoms *a, const struct xg_ivlist *iv)
{
    for (size_t i = 0; i < iv->count; i++)
        if (xg_atoms_cut(a, iv->items[i].lo, iv->items[i].hi) < 0)
            return -1;
    return 0;
}

/* Every prefix of the map (interfaces, and whatever else the map names, such
 * as the host's own addresses) cuts the destinations too: what a rule can
 * tell about a destination by its interface or its type stays per class. */
static int map_cuts(struct mx *m, const struct xg_prefix_list *extra)
{
    for (size_t i = 0; i < extra->count; i++) {
        struct xg_prefix_list one = {0};
        int rc;
        if (extra->items[i].family != m->family)
            continue;
        if (xg_prefix_list_add(&one, &extra->items[i]) < 0)
            return fail_oom(m);
        rc = setlist_add(&m->dsts, &one, m->family);
        xg_prefix_list_free(&one);
        if (rc < 0)
            return fail_oom(m);
    }
    return 0;
}

static int destination_candidates(struct mx *m)
{
    const struct xg_matrix_query *mq = m->mq;
    const struct xg_ifmap *map = m->map;
    bool bind = map && mq->svc.path == XG_HOOK_FORWARD && !mq->svc.oifname;
    struct xg_ivlist inside = {0};
    size_t n;
    int rc = -1;
    m->da.family = m->family;
    for (size_t i = 0; i < m->dsts.n; i++)
        if (cut_ivlist(&m->da, &m->dsts.v[i]) < 0)
            goto oom;
    if (mq->dsts && (xg_ivlist_from_prefixes(&inside, mq->dsts, m->family) < 0 ||
                     cut_ivlist(&m->da, &inside) < 0))
        goto oom;
    if (xg_atoms_finish(&m->da) < 0)
        goto oom;
    n = m->da.count;
    if (xg_partition_init(&m->dp, n) < 0 || !(m->dgroup = malloc(n * sizeof(*m->dgroup))) ||
        !(m->dinside = calloc(n, sizeof(*m->dinside))))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        m->dgroup[i] = -1;
        m->dinside[i] = !mq->dsts;
    }
    for (size_t i = 0; i < m->dsts.n; i++)
        if (split_by(m, &m->dp, &m->da, &m->dsts.v[i]) < 0)
            goto out;
    if (mq->dsts) {
        if (split_by(m, &m->dp, &m->da, &inside) < 0)
            goto out;
        for (size_t i = 0; i < inside.count; i++) {
            size_t f, l;
            xg_atoms_span(&m->da, inside.items[i].lo, inside.items[i].hi, &f, &l);
            for (size_t a = f; a <= l; a++)
                m->dinside[a] = true;
        }
    }
    if (bind && bind_map(m, &m->dp, &m->da, m->dgroup) < 0)
        goto out;
    if (!(m->drep = xg_partition_reps(&m->dp)))
        goto oom;
    rc = 0;
    goto out;
oom:
    fail_oom(m);
out:
    xg_ivlist_free(&inside);
    return rc;
}

/* --- 3. one evaluation per (destination candidate, arrival interface) --- */

/* An interface sources arrive on, with what a reverse-path check accepts there. */
struct arrival {
    const char *name;
    struct xg_prefix_list rpf;
    bool has_rpf;
    size_t *cls; /* source candidates bound to it (for the map's and the fixed one) */
    size_t ncls;
};

struct arrivals {
    struct arrival *bound; /* map entries, or the one fixed interface */
    size_t nbound;
    struct arrival *any; /* interface classes an unbound source may arrive on */
    size_t nany;
    struct xg_ifclass *ifs;
    size_t *unbound; /* source candidates bound to nothing */
    size_t nunbound;
};

static void arrivals_free(struct arrivals *v)
{
    for (size_t i = 0; i < v->nbound; i++) {
        xg_prefix_list_free(&v->bound[i].rpf);
        free(v->bound[i].cls);
    }
    for (size_t i = 0; i < v->nany; i++)
        xg_prefix_list_free(&v->any[i].rpf);
    free(v->bound);
    free(v->any);
    free(v->ifs);
    free(v->unbound);
}

static int arrival_init(struct mx *m, struct arrival *a, const char *name)
{
    a->name = name;
    a->has_rpf = m->map != NULL && name;
    if (a->has_rpf && xg_ifmap_rpf(m->map, name, m->family, &a->rpf) < 0)
        return -1;
    return 0;
}

/* Bound sources arrive together: on the fixed interface, or (rewritten
 * ruleset) on the one the map binds each to, with no interface left to
 * name; unbound ones on each interface class in turn. */
static int arrivals_make(struct mx *m, struct arrivals *v)
{
    const struct xg_matrix_query *mq = m->mq;
    size_t nsrc = m->sp.count;
    v->nbound = mq->svc.iifname || m->bound ? 1 : 0;
    v->bound = calloc(v->nbound + 1, sizeof(*v->bound));
    v->unbound = calloc(nsrc + 1, sizeof(*v->unbound));
    if (!v->bound || !v->unbound)
        return -1;
    if (v->nbound && (arrival_init(m, &v->bound[0], mq->svc.iifname) < 0 ||
                      !(v->bound[0].cls = calloc(nsrc + 1, sizeof(size_t)))))
        return -1;
    for (size_t i = 0; i < nsrc; i++) {
        if (m->sgroup[m->srep[i]] < 0)
            v->unbound[v->nunbound++] = i;
        else
            v->bound[0].cls[v->bound[0].ncls++] = i;
    }
    if (!v->nunbound)
        return 0;
    if (xg_ifclasses(m->rs, NULL, &v->ifs, &v->nany) < 0 ||
        !(v->any = calloc(v->nany + 1, sizeof(*v->any))))
        return -1;
    for (size_t c = 0; c < v->nany; c++)
        if (arrival_init(m, &v->any[c], v->ifs[c].rep) < 0)
            return -1;
    return 0;
}

static void put_bits(struct mx *m, size_t row, size_t col, bool may, bool must)
{
    uint64_t *r = m->rows + row * m->rw;
    size_t b = 2 * col;
    if (may)
        r[b / 64] |= (uint64_t)1 << (b % 64);
    if (must)
        r[(b + 1) / 64] |= (uint64_t)1 << ((b + 1) % 64);
}

static int eval_once(struct mx *m, struct xg_packet_query *q, const struct arrival *a,
                     struct xg_bits *may, struct xg_bits *must, size_t *evals)
{
    q->iifname = a->name;
    q->rpf_ok = a->has_rpf ? &a->rpf : NULL;
    (*evals)++;
    return xg_analysis_reach_bits(m->an, q, may, must, m->err);
}

/* Column `col`: every source candidate's may/must towards destination `addr`. */
static int eval_column(struct mx *m, const struct arrivals *v, size_t col,
                       const struct xg_prefix *addr, const char *oif, bool *umay, bool *umust,
                       size_t *evals)
{
    struct xg_packet_query q = m->mq->svc;
    struct xg_bits may = {0}, must = {0};
    q.family = m->family;
    q.daddr = addr;
    q.oifname = oif;
    for (size_t b = 0; b < v->nbound; b++) {
        if (!v->bound[b].ncls)
            continue;
        if (eval_once(m, &q, &v->bound[b], &may, &must, evals) < 0)
            return -1;
        for (size_t k = 0; k < v->bound[b].ncls; k++) {
            size_t i = v->bound[b].cls[k], a = m->srep[i];
            put_bits(m, i, col, xg_bits_get(&may, a), xg_bits_get(&must, a));
        }
        xg_bits_free(&may);
        xg_bits_free(&must);
    }
    for (size_t k = 0; k < v->nunbound; k++)
        umay[k] = false, umust[k] = true;
    for (size_t c = 0; c < v->nany && v->nunbound; c++) {
        if (eval_once(m, &q, &v->any[c], &may, &must, evals) < 0)
            return -1;
        for (size_t k = 0; k < v->nunbound; k++) {
            size_t a = m->srep[v->unbound[k]];
            umay[k] |= xg_bits_get(&may, a);
            umust[k] &= xg_bits_get(&must, a);
        }
        xg_bits_free(&may);
        xg_bits_free(&must);
    }
    for (size_t k = 0; k < v->nunbound; k++)
        put_bits(m, v->unbound[k], col, umay[k], umay[k] && umust[k]);
    return 0;
}

static int fill_rows(struct mx *m, size_t *evals)
{
    struct arrivals v = {0};
    size_t nsrc = m->sp.count, ndst = m->dp.count;
    bool *umay = NULL, *umust = NULL;
    int rc = -1;
    m->rw = (2 * ndst + 63) / 64;
    if (nsrc > (size_t)400 * 1024 * 1024 / 8 / m->rw)
        return xg_fail(m->err, "service matrix: %zu x %zu candidate classes is too large", nsrc,
                       ndst);
    if (!(m->rows = calloc(nsrc * m->rw + 1, sizeof(*m->rows))) || arrivals_make(m, &v) < 0 ||
        !(umay = calloc(nsrc + 1, 1)) || !(umust = calloc(nsrc + 1, 1))) {
        fail_oom(m);
        goto out;
    }
    for (size_t j = 0; j < ndst; j++) {
        size_t a = m->drep[j];
        struct xg_prefix addr;
        int g = m->dgroup[a];
        if (!m->dinside[a])
            continue;
        xg_u128_to_addr(m->da.starts[a], m->family, &addr);
        if (eval_column(m, &v, j, &addr, g >= 0 ? m->map->entries[g].ifname : m->mq->svc.oifname,
                        umay, umust, evals) < 0)
            goto out;
    }
    rc = 0;
out:
    arrivals_free(&v);
    free(umay);
    free(umust);
    return rc;
}

/* --- 4. merge identical rows, then identical columns --- */

static bool row_bit(const struct mx *m, size_t row, size_t bit)
{
    return (m->rows[row * m->rw + bit / 64] >> (bit % 64)) & 1;
}

/* The reduced matrix: sources x destinations with distinct access. */
struct reduced {
    size_t *sid, *srow, ns; /* candidate row -> source class; a row per class */
    size_t *did, *dcol, nd; /* candidate column -> destination class */
    uint8_t *f;             /* ns x nd: bit 0 may, bit 1 must */
};

static void reduced_free(struct reduced *r)
{
    free(r->sid);
    free(r->srow);
    free(r->did);
    free(r->dcol);
    free(r->f);
}

static int reduce(struct mx *m, struct reduced *r)
{
    size_t nsrc = m->sp.count, ndst = m->dp.count, cw;
    uint64_t *cols = NULL;
    int rc = -1;
    if (!(r->sid = malloc((nsrc + 1) * sizeof(size_t))) ||
        !(r->did = malloc((ndst + 1) * sizeof(size_t))) ||
        xg_group_equal(m->rows, nsrc, m->rw, r->sid, &r->srow, &r->ns) < 0)
        goto out;
    cw = (2 * r->ns + 63) / 64;
    if (!(cols = calloc(ndst * cw + 1, sizeof(*cols))))
        goto out;
    for (size_t s = 0; s < r->ns; s++)
        for (size_t j = 0; j < ndst; j++)
            for (size_t k = 0; k < 2; k++)
                if (row_bit(m, r->srow[s], 2 * j + k))
                    cols[j * cw + (2 * s + k) / 64] |= (uint64_t)1 << ((2 * s + k) % 64);
    if (xg_group_equal(cols, ndst, cw, r->did, &r->dcol, &r->nd) < 0 ||
        !(r->f = calloc(r->ns * r->nd + 1, 1)))
        goto out;
    for (size_t s = 0; s < r->ns; s++)
        for (size_t d = 0; d < r->nd; d++)
            r->f[s * r->nd + d] = (uint8_t)(row_bit(m, r->srow[s], 2 * r->dcol[d]) |
                                            row_bit(m, r->srow[s], 2 * r->dcol[d] + 1) << 1);
    rc = 0;
out:
    free(cols);
    return rc < 0 ? fail_oom(m) : 0;
}

/* --- 5. one class list for both sides, and the edges --- */

struct piece {
    xg_u128 lo, hi;
    uint64_t key; /* source class * nd + destination class */
    size_t cls;
};

/* The address line cut where the source or the destination class changes. */
static int pieces_of(const struct mx *m, const struct reduced *r, struct piece **out, size_t *n)
{
    const struct xg_atoms *sa = m->sa, *da = &m->da;
    struct piece *v = malloc((sa->count + da->count + 1) * sizeof(*v));
    size_t i = 0, k = 0, cnt = 0;
    xg_u128 lo = 0, max = xg_family_max(m->family);
    if (!v)
        return -1;
    for (;;) {
        xg_u128 shi = xg_atoms_hi(sa, i), dhi = xg_atoms_hi(da, k), hi = shi < dhi ? shi : dhi;
        uint64_t key = (uint64_t)r->sid[m->sp.cls[i]] * r->nd + r->did[m->dp.cls[k]];
        if (cnt && v[cnt - 1].key == key)
            v[cnt - 1].hi = hi;
        else
            v[cnt++] = (struct piece){lo, hi, key, 0};
        if (hi == max)
            break;
        lo = hi + 1;
        if (shi == hi)
            i++;
        if (dhi == hi)
            k++;
    }
    *out = v;
    *n = cnt;
    return 0;
}

static int cmp_piece_key(const void *a, const void *b)
{
    const struct piece *const *x = a, *const *y = b;
    if ((*x)->key != (*y)->key)
        return (*x)->key < (*y)->key ? -1 : 1;
    return *x < *y ? -1 : *x > *y;
}

/* Number the classes in address order (pieces are in address order). */
static int number_classes(struct piece *v, size_t n, uint64_t **keys, size_t *count)
{
    struct piece **ord = malloc((n + 1) * sizeof(*ord));
    size_t *first = malloc((n + 1) * sizeof(*first)), groups = 0;
    uint64_t *k = malloc((n + 1) * sizeof(*k));
    if (!ord || !first || !k) {
        free(ord);
        free(first);
        free(k);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        ord[i] = &v[i];
    qsort(ord, n, sizeof(*ord), cmp_piece_key);
    /* a group's first piece (lowest address) is its first in `ord`; mark it */
    for (size_t i = 0; i < n; i++)
        v[i].cls = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (!i || ord[i]->key != ord[i - 1]->key)
            ord[i]->cls = SIZE_MAX - 1;
    for (size_t i = 0; i < n; i++)
        if (v[i].cls == SIZE_MAX - 1) {
            k[groups] = v[i].key;
            v[i].cls = groups++;
        }
    for (size_t i = 0, g = 0; i < n; i++) {
        if (!i || ord[i]->key != ord[i - 1]->key)
            g = ord[i]->cls;
        ord[i]->cls = g;
    }
    free(ord);
    free(first);
    *keys = k;
    *count = groups;
    return 0;
}

static int make_classes(struct mx *m, const struct reduced *r, struct xg_matrix *out)
{
    struct piece *v = NULL;
    uint64_t *keys = NULL;
    struct xg_ivlist *iv = NULL;
    size_t n = 0, nc = 0;
    int rc = -1;
    if (pieces_of(m, r, &v, &n) < 0 || number_classes(v, n, &keys, &nc) < 0 ||
        !(out->classes = calloc(nc + 1, sizeof(*out->classes))) ||
        !(iv = calloc(nc + 1, sizeof(*iv))))
        goto out;
    out->count = nc;
    for (size_t i = 0; i < n; i++)
        if (xg_ivlist_add(&iv[v[i].cls], v[i].lo, v[i].hi) < 0)
            goto out;
    for (size_t c = 0; c < nc; c++) {
        xg_class_name(c, out->classes[c].name);
        if (xg_ivlist_to_prefixes(&iv[c], m->family, &out->classes[c].addrs) < 0)
            goto out;
    }
    out->exact = true;
    size_t cap = 0;
    for (size_t x = 0; x < nc; x++)
        for (size_t y = 0; y < nc; y++) {
            uint8_t f = r->f[(keys[x] / r->nd) * r->nd + keys[y] % r->nd];
            if (!(f & 1))
                continue;
            if (out->nedges == cap) {
                cap = cap ? 2 * cap : 64;
                struct xg_matrix_edge *g = realloc(out->edges, cap * sizeof(*g));
                if (!g)
                    goto out;
                out->edges = g;
            }
            out->edges[out->nedges++] = (struct xg_matrix_edge){x, y, (f & 2) != 0};
            out->exact &= (f & 2) != 0;
        }
    rc = 0;
out:
    for (size_t c = 0; iv && c < nc; c++)
        xg_ivlist_free(&iv[c]);
    free(iv);
    free(v);
    free(keys);
    return rc < 0 ? fail_oom(m) : 0;
}

/* --- the whole --- */

static void mx_free(struct mx *m)
{
    setlist_free(&m->srcs);
    setlist_free(&m->dsts);
    xg_atoms_free(&m->da);
    xg_partition_free(&m->sp);
    xg_partition_free(&m->dp);
    free(m->sgroup);
    free(m->dgroup);
    free(m->dinside);
    free(m->srep);
    free(m->drep);
    free(m->rows);
}

int xg_service_matrix(struct xg_matrix_ctx *cx, const struct xg_matrix_query *mq,
                      struct xg_matrix *out, struct xg_err *err)
{
    struct mx m = {.map = xg_matrix_map(cx), .mq = mq, .family = mq->svc.family, .err = err};
    struct reduced r = {0};
    int rc = -1;
    memset(out, 0, sizeof(*out));
    out->family = m.family;
    if (m.family != XG_FAMILY_IPV4 && m.family != XG_FAMILY_IPV6)
        return xg_fail(err, "service matrix without an address family");
    m.bound = m.map && !mq->svc.iifname;
    if (!(m.an = xg_matrix_analysis(cx, m.family, m.bound, err)))
        return -1;
    m.rs = xg_analysis_ruleset(m.an);
    if (collect_rules(&m) < 0 || (m.map && map_cuts(&m, xg_matrix_extra(cx)) < 0) ||
        source_candidates(&m) < 0 || destination_candidates(&m) < 0 ||
        fill_rows(&m, &out->evaluations) < 0 || reduce(&m, &r) < 0 || make_classes(&m, &r, out) < 0)
        goto out;
    out->src_candidates = m.sp.count;
    out->dst_candidates = m.dp.count;
    rc = 0;
out:
    reduced_free(&r);
    mx_free(&m);
    if (rc < 0)
        xg_matrix_free(out);
    return rc;
}

void xg_matrix_free(struct xg_matrix *m)
{
    for (size_t i = 0; i < m->count; i++)
        xg_prefix_list_free(&m->classes[i].addrs);
    free(m->classes);
    free(m->edges);
    memset(m, 0, sizeof(*m));
}
