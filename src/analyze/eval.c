/*
 * eval.c — what a ruleset lets through, computed over sets of sources.
 *
 * The kernel's semantics, written down once: a new connection's packet
 * traverses every base chain on its path (prerouting, then input or
 * forward (and postrouting)) of every table of its family, each table on
 * its own; a base chain ends in accept (next base chain) or drop (the
 * packet is gone). Inside a chain rules are tried in order; jump pushes a
 * return point, goto does not, return (or falling off a called chain) pops,
 * falling off a base chain applies its policy. Because a packet survives
 * exactly when every base chain accepts it, the order of base chains does
 * not change the answer, only which chain is named as the one that dropped.
 *
 * Instead of one address at a time, the evaluator pushes a set of atoms
 * (space.h) through the rules: at each rule the set splits into the part the
 * rule matches and the rest. Other dimensions (interface, port, state) are
 * fixed by the query and evaluate to true/false/unknown. An unknown match
 * (or an unmodelled target) sends the matched part both ways, so each atom
 * collects the set of outcomes it can have: `may` = accept possible, `must`
 * = drop impossible. Without unknowns the two coincide and are exact.
 *
 * This file holds the analysis (atoms, compiled address matches) and the
 * symbolic walk; the matches fixed by the query and the base-chain path are
 * in path.c, one packet's trace in trace.c, the interface and port classes
 * in classes.c, the service matrix (sources x destinations) in matrix.c.
 */
#include "analyze/analyze.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/path.h"
#include "analyze/space.h"

/* A rule's address matches compiled to atom ranges for one family. */
struct crule {
    bool family_ok; /* false: the rule can never match this family */
    bool has_addr;  /* ranges restrict the atoms; otherwise all match */
    size_t nranges;
    size_t (*ranges)[2];
};

struct cfam {
    struct xg_atoms atoms;
    /* comp[table][chain][rule] flattened: offsets per chain */
    struct crule **chains; /* indexed by global chain number */
};

struct chain_ref {
    const struct xg_chain *c;
    size_t n;
};

struct xg_analysis {
    const struct xg_ruleset *rs;
    size_t nchains;
    const struct xg_chain **chain_of; /* global chain number -> chain */
    struct chain_ref *by_ptr;         /* sorted by chain pointer, for lookups */
    struct cfam fam[2];               /* [0] IPv4, [1] IPv6 */
};

static int fam_index(uint8_t family)
{
    return family == XG_FAMILY_IPV6;
}

static int cut_list(struct xg_atoms *a, const struct xg_prefix_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].family == a->family &&
            xg_atoms_cut(a, xg_prefix_lo(&l->items[i]), xg_prefix_hi(&l->items[i])) < 0)
            return -1;
    return 0;
}

static int compile_rule(const struct xg_table *t, const struct xg_rule *r, uint8_t family,
                        const struct xg_atoms *atoms, struct crule *out)
{
    struct xg_ivlist acc = {0};
    bool have = false;
    uint8_t rf = xg_rule_family(t, r);

    out->family_ok = rf == 0 || rf == family;
    if (!out->family_ok)
        return 0;
    for (size_t i = 0; i < r->match_count; i++) {
        const struct xg_match *m = &r->matches[i];
        const struct xg_prefix_list *pl;
        struct xg_ivlist iv = {0}, tmp = {0};
        if (m->kind != XG_MATCH_SADDR)
            continue;
        pl = xg_addr_prefixes(t, m);
        if (!pl)
            continue; /* a missing set: the rule is kept as unknown elsewhere */
        if (xg_ivlist_from_prefixes(&iv, pl, family) < 0)
            goto fail;
        if (m->negate) {
            if (xg_ivlist_complement(&iv, family, &tmp) < 0) {
                xg_ivlist_free(&iv);
                goto fail;
            }
            xg_ivlist_free(&iv);
            iv = tmp;
            tmp = (struct xg_ivlist){0};
        }
        if (have) {
            if (xg_ivlist_intersect(&acc, &iv, &tmp) < 0) {
                xg_ivlist_free(&iv);
                goto fail;
            }
            xg_ivlist_free(&acc);
            xg_ivlist_free(&iv);
            acc = tmp;
        } else {
            acc = iv;
            have = true;
        }
    }
    out->has_addr = have;
    if (have && acc.count) {
        out->ranges = calloc(acc.count, sizeof(*out->ranges));
        if (!out->ranges)
            goto fail;
        for (size_t i = 0; i < acc.count; i++)
            xg_atoms_span(atoms, acc.items[i].lo, acc.items[i].hi, &out->ranges[i][0],
                          &out->ranges[i][1]);
        out->nranges = acc.count;
    }
    xg_ivlist_free(&acc);
    return 0;
fail:
    xg_ivlist_free(&acc);
    return -1;
}

static int fixed_type_ranges(uint8_t family, bool mcast, struct xg_prefix_list *out);

/* Address types are ranges too: cut at multicast and broadcast. */
static int cut_type_ranges(struct xg_atoms *a)
{
    struct xg_prefix_list l = {0};
    int rc =
        fixed_type_ranges(a->family, true, &l) < 0 || fixed_type_ranges(a->family, false, &l) < 0
            ? -1
            : cut_list(a, &l);
    xg_prefix_list_free(&l);
    return rc;
}

void xg_analysis_free(struct xg_analysis *an)
{
    if (!an)
        return;
    for (int f = 0; f < 2; f++) {
        if (an->fam[f].chains) {
            for (size_t c = 0; c < an->nchains; c++) {
                struct crule *cr = an->fam[f].chains[c];
                if (!cr)
                    continue;
                for (size_t r = 0; r < an->chain_of[c]->rule_count; r++)
                    free(cr[r].ranges);
                free(cr);
            }
            free(an->fam[f].chains);
        }
        xg_atoms_free(&an->fam[f].atoms);
    }
    free(an->chain_of);
    free(an->by_ptr);
    free(an);
}

static int cmp_ref(const void *a, const void *b)
{
    const struct chain_ref *x = a, *y = b;
    return x->c < y->c ? -1 : x->c > y->c;
}

struct xg_analysis *xg_analysis_new(const struct xg_ruleset *rs, const struct xg_prefix_list *extra,
                                    struct xg_err *err)
{
    struct xg_analysis *an = calloc(1, sizeof(*an));
    size_t n = 0;
    if (!an)
        goto oom;
    an->rs = rs;
    for (size_t t = 0; t < rs->table_count; t++)
        an->nchains += rs->tables[t]->chain_count;
    an->chain_of = calloc(an->nchains ? an->nchains : 1, sizeof(*an->chain_of));
    if (!an->chain_of)
        goto oom;
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++)
            an->chain_of[n++] = rs->tables[t]->chains[c];
    an->by_ptr = calloc(an->nchains ? an->nchains : 1, sizeof(*an->by_ptr));
    if (!an->by_ptr)
        goto oom;
    for (size_t i = 0; i < an->nchains; i++)
        an->by_ptr[i] = (struct chain_ref){an->chain_of[i], i};
    qsort(an->by_ptr, an->nchains, sizeof(*an->by_ptr), cmp_ref);

    for (int f = 0; f < 2; f++) {
        uint8_t family = f ? XG_FAMILY_IPV6 : XG_FAMILY_IPV4;
        struct cfam *cf = &an->fam[f];
        cf->atoms.family = family;
        if (extra && cut_list(&cf->atoms, extra) < 0)
            goto oom;
        if (cut_type_ranges(&cf->atoms) < 0)
            goto oom;
        for (size_t t = 0; t < rs->table_count; t++) {
            const struct xg_table *tb = rs->tables[t];
            for (size_t s = 0; s < tb->set_count; s++)
                if (cut_list(&cf->atoms, &tb->sets[s]->elements) < 0)
                    goto oom;
            for (size_t c = 0; c < tb->chain_count; c++)
                for (size_t r = 0; r < tb->chains[c]->rule_count; r++) {
                    const struct xg_rule *ru = &tb->chains[c]->rules[r];
                    for (size_t m = 0; m < ru->match_count; m++)
                        if (ru->matches[m].kind == XG_MATCH_SADDR &&
                            !ru->matches[m].u.addrs.set_name &&
                            cut_list(&cf->atoms, &ru->matches[m].u.addrs.prefixes) < 0)
                            goto oom;
                }
        }
        if (xg_atoms_finish(&cf->atoms) < 0)
            goto oom;
        cf->chains = calloc(an->nchains ? an->nchains : 1, sizeof(*cf->chains));
        if (!cf->chains)
            goto oom;
        n = 0;
        for (size_t t = 0; t < rs->table_count; t++) {
            const struct xg_table *tb = rs->tables[t];
            for (size_t c = 0; c < tb->chain_count; c++, n++) {
                const struct xg_chain *ch = tb->chains[c];
                cf->chains[n] = calloc(ch->rule_count ? ch->rule_count : 1, sizeof(struct crule));
                if (!cf->chains[n])
                    goto oom;
                if (!xg_table_has_family(tb, family) && tb->family != XG_TABLE_BRIDGE)
                    continue;
                for (size_t r = 0; r < ch->rule_count; r++)
                    if (compile_rule(tb, &ch->rules[r], family, &cf->atoms, &cf->chains[n][r]) < 0)
                        goto oom;
            }
        }
    }
    return an;
oom:
    xg_analysis_free(an);
    xg_fail(err, "out of memory");
    return NULL;
}

/* --- symbolic evaluation --- */

struct ev {
    struct xg_analysis *an;
    const struct cfam *cf;
    const struct xg_packet_query *q;
    size_t nw;
    struct xg_bits accept, drop;        /* outcomes reached in the current base chain */
    struct xg_bits rpf;                 /* atoms whose reverse path is ok (with q->rpf_ok) */
    struct xg_bits mcast, bcast, local; /* atoms by address type (local: with q->local) */
    uint32_t ct;                        /* the conntrack state the current base chain sees */
    struct xg_err *err;
};

static size_t chain_number(const struct xg_analysis *an, const struct xg_chain *c)
{
    struct chain_ref key = {c, 0};
    const struct chain_ref *hit =
        bsearch(&key, an->by_ptr, an->nchains, sizeof(*an->by_ptr), cmp_ref);
    return hit ? hit->n : 0;
}

static bool and_into(uint64_t *dst, const uint64_t *a, const uint64_t *b, size_t nw)
{
    uint64_t any = 0;
    for (size_t i = 0; i < nw; i++)
        any |= (dst[i] = a[i] & b[i]);
    return any != 0;
}

static void or_into(uint64_t *dst, const uint64_t *a, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        dst[i] |= a[i];
}

static bool andnot_into(uint64_t *dst, const uint64_t *a, size_t nw)
{
    uint64_t any = 0;
    for (size_t i = 0; i < nw; i++)
        any |= (dst[i] &= ~a[i]);
    return any != 0;
}

/* M = U restricted to the rule's address ranges; returns whether M is non-empty. */
static bool restrict_addr(const struct crule *cr, const uint64_t *u, uint64_t *m, size_t nw)
{
    uint64_t any = 0;
    if (!cr->has_addr) {
        memcpy(m, u, nw * sizeof(*m));
        for (size_t i = 0; i < nw && !any; i++)
            any |= u[i];
        return any != 0;
    }
    memset(m, 0, nw * sizeof(*m));
    for (size_t k = 0; k < cr->nranges; k++) {
        size_t first = cr->ranges[k][0], last = cr->ranges[k][1];
        size_t fw = first / 64, lw = last / 64;
        for (size_t w = fw; w <= lw; w++) {
            uint64_t mask = ~(uint64_t)0;
            if (w == fw)
                mask &= ~(uint64_t)0 << (first % 64);
            if (w == lw)
                mask &= ~(uint64_t)0 >> (63 - last % 64);
            m[w] |= u[w] & mask;
            any |= u[w] & mask;
        }
    }
    return any != 0;
}

/* A source address type's match over the atoms: those that may match into
 * `may`, those that surely match into `sure` (both intersected). */
static void addrtype_atoms(const struct ev *e, const struct xg_match *mt, uint64_t *may,
                           uint64_t *sure)
{
    static const uint32_t types[] = {XG_ADDRTYPE_MULTICAST, XG_ADDRTYPE_BROADCAST,
                                     XG_ADDRTYPE_LOCAL, XG_ADDRTYPE_UNICAST};
    enum xg_tri v[4];
    bool known = e->q->local != NULL;
    for (int k = 0; k < 4; k++)
        v[k] = xg_addrtype_tri(mt, k < 2 || known ? types[k] : types[2] | types[3], k < 2 || known);
    for (size_t w = 0; w < e->nw; w++) {
        uint64_t mc = e->mcast.w[w], bc = e->bcast.w[w] & ~mc, lo = e->local.w[w] & ~mc & ~bc;
        uint64_t rest = ~mc & ~bc & ~lo, cls[4] = {mc, bc, lo, rest};
        uint64_t mm = 0, ss = 0;
        for (int k = 0; k < 4; k++) {
            if (v[k] != TRI_F)
                mm |= cls[k];
            if (v[k] == TRI_T)
                ss |= cls[k];
        }
        may[w] &= mm;
        sure[w] &= ss;
    }
}

/* Matches decided per source (reverse path with a map, the source's address
 * type): narrow m (may match) and d (surely matches); false when m is empty. */
static bool per_source(const struct ev *e, const struct xg_rule *r, uint64_t *m, uint64_t *d)
{
    bool any = false;
    for (size_t k = 0; k < r->match_count; k++) {
        const struct xg_match *mt = &r->matches[k];
        if (mt->kind == XG_MATCH_RPF_OK && e->q->rpf_ok) {
            for (size_t w = 0; w < e->nw; w++) {
                uint64_t ok = mt->negate ? ~e->rpf.w[w] : e->rpf.w[w];
                m[w] &= ok;
                d[w] &= ok;
            }
        } else if (mt->kind == XG_MATCH_ADDRTYPE && !mt->u.addrtype.dst) {
            addrtype_atoms(e, mt, m, d);
        }
    }
    for (size_t w = 0; w < e->nw && !any; w++)
        any = m[w] != 0;
    return any;
}

static int eval_chain(struct ev *e, const struct xg_table *t, const struct xg_chain *c,
                      const uint64_t *in, uint64_t *ret, int depth);

static int call_chain(struct ev *e, const struct xg_table *t, const struct xg_rule *r,
                      const uint64_t *m, uint64_t *sub_ret, int depth)
{
    const struct xg_chain *target = r->target ? xg_table_find_chain(t, r->target) : NULL;
    if (!target) {
        /* a jump to nowhere cannot be loaded; treat as unknown outcome */
        or_into(e->accept.w, m, e->nw);
        or_into(e->drop.w, m, e->nw);
        or_into(sub_ret, m, e->nw);
        return 0;
    }
    return eval_chain(e, t, target, m, sub_ret, depth + 1);
}

static int eval_chain(struct ev *e, const struct xg_table *t, const struct xg_chain *c,
                      const uint64_t *in, uint64_t *ret, int depth)
{
    size_t nw = e->nw, cn = chain_number(e->an, c);
    const struct crule *crs = e->cf->chains[cn];
    uint64_t *u = NULL, *m = NULL, *sub = NULL, *d = NULL;
    int rc = -1;
    bool live = false;

    if (depth > XG_MAX_JUMP_DEPTH)
        return xg_fail(e->err, "chain '%s' of table '%s': jumps nest deeper than %d (a loop?)",
                       c->name, t->name, XG_MAX_JUMP_DEPTH);
    u = malloc(nw * sizeof(*u));
    m = malloc(nw * sizeof(*m));
    sub = malloc(nw * sizeof(*sub));
    d = malloc(nw * sizeof(*d));
    if (!u || !m || !sub || !d) {
        xg_fail(e->err, "out of memory");
        goto out;
    }
    memcpy(u, in, nw * sizeof(*u));
    for (size_t i = 0; i < nw && !live; i++)
        live = u[i] != 0;

    for (size_t i = 0; i < c->rule_count && live; i++) {
        const struct xg_rule *r = &c->rules[i];
        const struct crule *cr = &crs[i];
        bool has_rpf;
        enum xg_tri fixed;

        if (!cr->family_ok)
            continue;
        fixed = xg_rule_fixed(t, r, e->q, e->ct, &has_rpf);
        if (fixed == TRI_F)
            continue;
        if (!restrict_addr(cr, u, m, nw))
            continue;
        memcpy(d, m, nw * sizeof(*d));
        if (has_rpf && !per_source(e, r, m, d))
            continue;
        bool definite = fixed == TRI_T;
        if (!definite)
            memset(d, 0, nw * sizeof(*d));
        switch (r->verdict) {
        case XG_VERDICT_CONTINUE:
            continue;
        case XG_VERDICT_ACCEPT:
            or_into(e->accept.w, m, nw);
            break;
        case XG_VERDICT_DROP:
        case XG_VERDICT_REJECT:
            or_into(e->drop.w, m, nw);
            break;
        case XG_VERDICT_RETURN:
            or_into(ret, m, nw);
            break;
        case XG_VERDICT_UNKNOWN:
            or_into(e->accept.w, m, nw);
            or_into(e->drop.w, m, nw);
            memset(d, 0, nw * sizeof(*d)); /* it may also continue */
            break;
        case XG_VERDICT_JUMP:
            memset(sub, 0, nw * sizeof(*sub));
            if (call_chain(e, t, r, m, sub, depth) < 0)
                goto out;
            /* the sure part leaves, what returns comes back (sub lies within m) */
            andnot_into(u, d, nw);
            or_into(u, sub, nw);
            live = false;
            for (size_t w = 0; w < nw && !live; w++)
                live = u[w] != 0;
            continue;
        case XG_VERDICT_GOTO:
            if (call_chain(e, t, r, m, ret, depth) < 0)
                goto out;
            break;
        }
        live = andnot_into(u, d, nw);
    }
    or_into(ret, u, nw);
    rc = 0;
out:
    free(u);
    free(m);
    free(sub);
    free(d);
    return rc;
}

/* The atoms of a prefix list, into `bits`. */
static int list_bits(const struct xg_atoms *a, const struct xg_prefix_list *l, struct xg_bits *bits)
{
    struct xg_ivlist iv = {0};
    if (xg_ivlist_from_prefixes(&iv, l, a->family) < 0)
        return -1;
    for (size_t i = 0; i < iv.count; i++) {
        size_t f, l2;
        xg_atoms_span(a, iv.items[i].lo, iv.items[i].hi, &f, &l2);
        xg_bits_set_range(bits, f, l2);
    }
    xg_ivlist_free(&iv);
    return 0;
}

/* The kernel's fixed address-type ranges (see path.c). */
static int fixed_type_ranges(uint8_t family, bool mcast, struct xg_prefix_list *out)
{
    static const char *const m4[] = {"224.0.0.0/4"}, *const m6[] = {"ff00::/8"},
                             *const b4[] = {"0.0.0.0/8", "255.255.255.255/32"};
    const char *const *v = family == 6 ? (mcast ? m6 : NULL) : mcast ? m4 : b4;
    size_t n = family == 6 ? (mcast ? 1 : 0) : mcast ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        struct xg_prefix p;
        char why[80];
        if (xg_prefix_parse(v[i], XG_PREFIX_MASK, &p, why, sizeof(why)) < 0 ||
            xg_prefix_list_add(out, &p) < 0)
            return -1;
    }
    return 0;
}

static int build_sets(struct ev *e)
{
    const struct xg_atoms *a = &e->cf->atoms;
    struct xg_prefix_list mc = {0}, bc = {0};
    int rc = -1;
    if (fixed_type_ranges(a->family, true, &mc) < 0 || fixed_type_ranges(a->family, false, &bc) < 0)
        goto out;
    if (list_bits(a, &mc, &e->mcast) < 0 || list_bits(a, &bc, &e->bcast) < 0)
        goto out;
    if ((e->q->bcast && list_bits(a, e->q->bcast, &e->bcast) < 0) ||
        (e->q->local && list_bits(a, e->q->local, &e->local) < 0) ||
        (e->q->rpf_ok && list_bits(a, e->q->rpf_ok, &e->rpf) < 0))
        goto out;
    rc = 0;
out:
    xg_prefix_list_free(&mc);
    xg_prefix_list_free(&bc);
    return rc;
}

/* may/must as atom bitsets. */
static int reach_bits(struct xg_analysis *an, const struct xg_packet_query *q, struct xg_bits *may,
                      struct xg_bits *must, struct xg_err *err)
{
    struct ev e = {.an = an, .q = q, .err = err};
    struct xg_base_ref *bases = NULL;
    size_t nbases = 0;
    struct xg_bits cur = {0}, dropped = {0}, ret = {0};
    int rc = -1;
    size_t natoms;

    if (q->family != XG_FAMILY_IPV4 && q->family != XG_FAMILY_IPV6)
        return xg_fail(err, "query without an address family");
    e.cf = &an->fam[fam_index(q->family)];
    natoms = e.cf->atoms.count;
    if (xg_bits_init(&cur, natoms) < 0 || xg_bits_init(&dropped, natoms) < 0 ||
        xg_bits_init(&ret, natoms) < 0 || xg_bits_init(&e.accept, natoms) < 0 ||
        xg_bits_init(&e.drop, natoms) < 0 || xg_bits_init(&e.rpf, natoms) < 0 ||
        xg_bits_init(&e.mcast, natoms) < 0 || xg_bits_init(&e.bcast, natoms) < 0 ||
        xg_bits_init(&e.local, natoms) < 0 || xg_bits_init(may, natoms) < 0 ||
        xg_bits_init(must, natoms) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    e.nw = cur.nwords;
    if (build_sets(&e) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    xg_bits_set_range(&cur, 0, natoms - 1);
    if (xg_path_chains(an->rs, q, &bases, &nbases) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    for (size_t b = 0; b < nbases; b++) {
        e.ct = xg_ct_state_at(bases[b].c);
        memset(e.accept.w, 0, e.nw * 8);
        memset(e.drop.w, 0, e.nw * 8);
        memset(ret.w, 0, e.nw * 8);
        if (eval_chain(&e, bases[b].t, bases[b].c, cur.w, ret.w, 0) < 0)
            goto out;
        if (bases[b].c->policy == XG_VERDICT_DROP || bases[b].c->policy == XG_VERDICT_REJECT)
            or_into(e.drop.w, ret.w, e.nw);
        else
            or_into(e.accept.w, ret.w, e.nw);
        or_into(dropped.w, e.drop.w, e.nw);
        and_into(cur.w, cur.w, e.accept.w, e.nw);
    }
    memcpy(may->w, cur.w, e.nw * 8);
    memcpy(must->w, cur.w, e.nw * 8);
    andnot_into(must->w, dropped.w, e.nw);
    rc = 0;
out:
    free(bases);
    xg_bits_free(&cur);
    xg_bits_free(&dropped);
    xg_bits_free(&ret);
    xg_bits_free(&e.accept);
    xg_bits_free(&e.drop);
    xg_bits_free(&e.rpf);
    xg_bits_free(&e.mcast);
    xg_bits_free(&e.bcast);
    xg_bits_free(&e.local);
    if (rc < 0) {
        xg_bits_free(may);
        xg_bits_free(must);
    }
    return rc;
}

int xg_analysis_reach_bits(struct xg_analysis *an, const struct xg_packet_query *q,
                           struct xg_bits *may, struct xg_bits *must, struct xg_err *err)
{
    return reach_bits(an, q, may, must, err);
}

const struct xg_ruleset *xg_analysis_ruleset(const struct xg_analysis *an)
{
    return an->rs;
}

const struct xg_atoms *xg_analysis_atoms(const struct xg_analysis *an, uint8_t family)
{
    return &an->fam[fam_index(family)].atoms;
}

int xg_analysis_reach(struct xg_analysis *an, const struct xg_packet_query *q, struct xg_reach *out,
                      struct xg_err *err)
{
    struct xg_bits may = {0}, must = {0};
    const struct xg_atoms *a = &an->fam[fam_index(q->family)].atoms;
    memset(out, 0, sizeof(*out));
    if (reach_bits(an, q, &may, &must, err) < 0)
        return -1;
    if (xg_bits_to_prefixes(&may, a, &out->may) < 0 ||
        xg_bits_to_prefixes(&must, a, &out->must) < 0) {
        xg_bits_free(&may);
        xg_bits_free(&must);
        xg_reach_free(out);
        return xg_fail(err, "out of memory");
    }
    xg_bits_free(&may);
    xg_bits_free(&must);
    return 0;
}

int xg_reach_compute(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                     struct xg_reach *out, struct xg_err *err)
{
    struct xg_prefix_list extra = {0};
    struct xg_analysis *an;
    int rc;
    if ((q->rpf_ok && xg_prefix_list_copy(&extra, q->rpf_ok) < 0) ||
        (q->local && xg_prefix_list_copy(&extra, q->local) < 0) ||
        (q->bcast && xg_prefix_list_copy(&extra, q->bcast) < 0)) {
        xg_prefix_list_free(&extra);
        return xg_fail(err, "out of memory");
    }
    an = xg_analysis_new(rs, &extra, err);
    xg_prefix_list_free(&extra);
    if (!an)
        return -1;
    rc = xg_analysis_reach(an, q, out, err);
    xg_analysis_free(an);
    return rc;
}

void xg_reach_free(struct xg_reach *r)
{
    xg_prefix_list_free(&r->may);
    xg_prefix_list_free(&r->must);
}
