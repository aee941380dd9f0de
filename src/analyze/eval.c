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
 */
#include "analyze/analyze.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/space.h"

#define MAX_DEPTH 128

enum tri { TRI_F, TRI_T, TRI_U };

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

static bool table_has_family(const struct xg_table *t, uint8_t family)
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
static const struct xg_prefix_list *addr_prefixes(const struct xg_table *t,
                                                  const struct xg_match *m)
{
    if (m->u.addrs.set_name) {
        const struct xg_set *s = xg_table_find_set(t, m->u.addrs.set_name);
        return s ? &s->elements : NULL;
    }
    return &m->u.addrs.prefixes;
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
        pl = addr_prefixes(t, m);
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
                if (!table_has_family(tb, family))
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

/* --- matching the fixed dimensions --- */

static bool ifname_matches(const char *pattern, const char *name)
{
    size_t n = strlen(pattern);
    if (n && (pattern[n - 1] == '+' || pattern[n - 1] == '*'))
        return strncmp(pattern, name, n - 1) == 0;
    return strcmp(pattern, name) == 0;
}

static enum tri neg(enum tri v, bool negate)
{
    if (!negate || v == TRI_U)
        return v;
    return v == TRI_T ? TRI_F : TRI_T;
}

static enum tri addr_in(const struct xg_table *t, const struct xg_match *m,
                        const struct xg_prefix *a)
{
    const struct xg_prefix_list *pl = addr_prefixes(t, m);
    if (!pl)
        return TRI_U;
    return xg_prefix_list_covers(pl, a) ? TRI_T : TRI_F;
}

/* One match other than the source address, for the query's fixed packet. */
static enum tri match_fixed(const struct xg_table *t, const struct xg_match *m,
                            const struct xg_packet_query *q, uint32_t ct)
{
    switch (m->kind) {
    case XG_MATCH_IIFNAME:
        if (!q->iifname)
            return TRI_U;
        return neg(ifname_matches(m->u.ifname, q->iifname) ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_OIFNAME:
        if (q->path == XG_HOOK_INPUT || q->path == XG_HOOK_NONE)
            return neg(m->u.ifname[0] == '\0' ? TRI_T : TRI_F, m->negate);
        if (!q->oifname)
            return TRI_U;
        return neg(ifname_matches(m->u.ifname, q->oifname) ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_NFPROTO:
        return neg(m->u.family == q->family ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_SADDR:
        return addr_prefixes(t, m) ? TRI_T : TRI_U; /* handled by atoms */
    case XG_MATCH_DADDR:
        if (!q->daddr)
            return TRI_U;
        return neg(addr_in(t, m, q->daddr), m->negate);
    case XG_MATCH_L4PROTO:
        return neg(m->u.proto == q->proto ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_DPORT:
        if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP && q->proto != IPPROTO_SCTP)
            return TRI_F;
        for (size_t i = 0; i < m->u.ports.count; i++)
            if (q->dport >= m->u.ports.ranges[i].lo && q->dport <= m->u.ports.ranges[i].hi)
                return neg(TRI_T, m->negate);
        return neg(TRI_F, m->negate);
    case XG_MATCH_CTSTATE:
        return neg((m->u.ct_states & ct) ? TRI_T : TRI_F, m->negate);
    case XG_MATCH_ICMP_TYPE:
        return q->proto == IPPROTO_ICMP || q->proto == IPPROTO_ICMPV6 ? TRI_U : TRI_F;
    case XG_MATCH_RPF_OK:
        return q->rpf_ok ? TRI_T : TRI_U; /* with a map: handled by atoms */
    case XG_MATCH_SPORT:
    case XG_MATCH_LIMIT:
    case XG_MATCH_UNKNOWN:
    default:
        return TRI_U;
    }
}

static enum tri rule_fixed(const struct xg_table *t, const struct xg_rule *r,
                           const struct xg_packet_query *q, uint32_t ct, bool *has_rpf)
{
    enum tri all = TRI_T;
    *has_rpf = false;
    for (size_t i = 0; i < r->match_count; i++) {
        enum tri v = match_fixed(t, &r->matches[i], q, ct);
        if (v == TRI_F)
            return TRI_F;
        if (v == TRI_U)
            all = TRI_U;
        if (r->matches[i].kind == XG_MATCH_RPF_OK && q->rpf_ok)
            *has_rpf = true;
    }
    return all;
}

/* --- symbolic evaluation --- */

struct ev {
    struct xg_analysis *an;
    const struct cfam *cf;
    const struct xg_packet_query *q;
    size_t nw;
    struct xg_bits accept, drop; /* outcomes reached in the current base chain */
    struct xg_bits rpf;          /* atoms whose reverse path is ok (with q->rpf_ok) */
    uint32_t ct;                 /* the conntrack state the current base chain sees */
    struct xg_err *err;
};

/*
 * What `ct state` says in a base chain: conntrack itself sits on prerouting
 * at priority -200, so chains before it (raw) see no conntrack entry, which
 * both iptables and nft report as INVALID; later chains see NEW.
 */
static uint32_t ct_state_at(const struct xg_chain *base)
{
    if ((base->hook == XG_HOOK_PREROUTING || base->hook == XG_HOOK_OUTPUT) && base->priority < -200)
        return XG_CT_INVALID;
    return XG_CT_NEW;
}

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
    uint64_t *u = NULL, *m = NULL, *sub = NULL;
    int rc = -1;
    bool live = false;

    if (depth > MAX_DEPTH)
        return xg_fail(e->err, "chain '%s' of table '%s': jumps nest deeper than %d (a loop?)",
                       c->name, t->name, MAX_DEPTH);
    u = malloc(nw * sizeof(*u));
    m = malloc(nw * sizeof(*m));
    sub = malloc(nw * sizeof(*sub));
    if (!u || !m || !sub) {
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
        enum tri fixed;

        if (!cr->family_ok)
            continue;
        fixed = rule_fixed(t, r, e->q, e->ct, &has_rpf);
        if (fixed == TRI_F)
            continue;
        if (!restrict_addr(cr, u, m, nw))
            continue;
        if (has_rpf) {
            for (size_t k = 0; k < r->match_count; k++) {
                if (r->matches[k].kind != XG_MATCH_RPF_OK)
                    continue;
                for (size_t w = 0; w < nw; w++)
                    m[w] &= r->matches[k].negate ? ~e->rpf.w[w] : e->rpf.w[w];
            }
            bool any = false;
            for (size_t w = 0; w < nw && !any; w++)
                any = m[w] != 0;
            if (!any)
                continue;
        }
        bool definite = fixed == TRI_T;
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
            definite = false; /* it may also continue */
            break;
        case XG_VERDICT_JUMP:
            memset(sub, 0, nw * sizeof(*sub));
            if (call_chain(e, t, r, m, sub, depth) < 0)
                goto out;
            if (definite) {
                andnot_into(u, m, nw);
                or_into(u, sub, nw);
            }
            live = false;
            for (size_t w = 0; w < nw && !live; w++)
                live = u[w] != 0;
            continue;
        case XG_VERDICT_GOTO:
            if (call_chain(e, t, r, m, ret, depth) < 0)
                goto out;
            break;
        }
        if (definite)
            live = andnot_into(u, m, nw);
    }
    or_into(ret, u, nw);
    rc = 0;
out:
    free(u);
    free(m);
    free(sub);
    return rc;
}

struct base_ref {
    const struct xg_table *t;
    const struct xg_chain *c;
    int hook_order;
};

static int cmp_base(const void *a, const void *b)
{
    const struct base_ref *x = a, *y = b;
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

/* The base chains a packet of `q` traverses, in order. */
static int path_chains(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                       struct base_ref **out, size_t *count)
{
    size_t n = 0, cap = 0;
    struct base_ref *v = NULL;
    enum xg_hook path = q->path == XG_HOOK_FORWARD ? XG_HOOK_FORWARD : XG_HOOK_INPUT;
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *tb = rs->tables[t];
        if (!table_has_family(tb, q->family))
            continue;
        for (size_t c = 0; c < tb->chain_count; c++) {
            int ho = hook_order(tb->chains[c]->hook, path);
            if (!ho)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                struct base_ref *g = realloc(v, cap * sizeof(*g));
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

static int build_rpf(struct ev *e)
{
    struct xg_ivlist iv = {0};
    const struct xg_atoms *a = &e->cf->atoms;
    if (xg_ivlist_from_prefixes(&iv, e->q->rpf_ok, a->family) < 0)
        return -1;
    for (size_t i = 0; i < iv.count; i++) {
        size_t f, l;
        xg_atoms_span(a, iv.items[i].lo, iv.items[i].hi, &f, &l);
        xg_bits_set_range(&e->rpf, f, l);
    }
    xg_ivlist_free(&iv);
    return 0;
}

/* may/must as atom bitsets. */
static int reach_bits(struct xg_analysis *an, const struct xg_packet_query *q, struct xg_bits *may,
                      struct xg_bits *must, struct xg_err *err)
{
    struct ev e = {.an = an, .q = q, .err = err};
    struct base_ref *bases = NULL;
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
        xg_bits_init(may, natoms) < 0 || xg_bits_init(must, natoms) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    e.nw = cur.nwords;
    if (q->rpf_ok && build_rpf(&e) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    xg_bits_set_range(&cur, 0, natoms - 1);
    if (path_chains(an->rs, q, &bases, &nbases) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    for (size_t b = 0; b < nbases; b++) {
        e.ct = ct_state_at(bases[b].c);
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
    if (rc < 0) {
        xg_bits_free(may);
        xg_bits_free(must);
    }
    return rc;
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
    struct xg_analysis *an = xg_analysis_new(rs, q->rpf_ok, err);
    int rc;
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

/* --- service matrix --- */

struct sig_atom {
    uint64_t sig;
    size_t atom;
};

static int cmp_sig(const void *a, const void *b)
{
    const struct sig_atom *x = a, *y = b;
    if (x->sig != y->sig)
        return x->sig < y->sig ? -1 : 1;
    return x->atom < y->atom ? -1 : x->atom > y->atom;
}

static int cmp_class(const void *a, const void *b)
{
    const struct xg_matrix_class *x = a, *y = b;
    if (!x->sources.count || !y->sources.count)
        return (int)x->sources.count - (int)y->sources.count;
    return xg_prefix_cmp(&x->sources.items[0], &y->sources.items[0]);
}

int xg_analysis_matrix(struct xg_analysis *an, const struct xg_packet_query *qs, size_t nq,
                       uint8_t family, struct xg_matrix *out, struct xg_err *err)
{
    const struct xg_atoms *a = &an->fam[fam_index(family)].atoms;
    struct sig_atom *sa = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (nq > 32)
        return xg_fail(err, "at most 32 services in a matrix");
    sa = calloc(a->count, sizeof(*sa));
    if (!sa)
        return xg_fail(err, "out of memory");
    for (size_t i = 0; i < a->count; i++)
        sa[i].atom = i;
    for (size_t k = 0; k < nq; k++) {
        struct xg_bits may = {0}, must = {0};
        struct xg_packet_query q = qs[k];
        q.family = family;
        if (reach_bits(an, &q, &may, &must, err) < 0)
            goto out;
        for (size_t i = 0; i < a->count; i++)
            sa[i].sig |= ((uint64_t)xg_bits_get(&may, i) << (2 * k)) |
                         ((uint64_t)xg_bits_get(&must, i) << (2 * k + 1));
        xg_bits_free(&may);
        xg_bits_free(&must);
    }
    qsort(sa, a->count, sizeof(*sa), cmp_sig);
    for (size_t i = 0; i < a->count;) {
        size_t j = i;
        struct xg_bits bits = {0};
        struct xg_matrix_class *g = realloc(out->classes, (out->count + 1) * sizeof(*out->classes));
        if (!g || xg_bits_init(&bits, a->count) < 0) {
            free(g == out->classes ? NULL : NULL);
            if (g)
                out->classes = g;
            xg_fail(err, "out of memory");
            goto out;
        }
        out->classes = g;
        memset(&g[out->count], 0, sizeof(*g));
        g[out->count].sig = sa[i].sig;
        while (j < a->count && sa[j].sig == sa[i].sig)
            xg_bits_set(&bits, sa[j++].atom);
        out->count++;
        if (xg_bits_to_prefixes(&bits, a, &g[out->count - 1].sources) < 0) {
            xg_bits_free(&bits);
            xg_fail(err, "out of memory");
            goto out;
        }
        xg_bits_free(&bits);
        i = j;
    }
    qsort(out->classes, out->count, sizeof(*out->classes), cmp_class);
    rc = 0;
out:
    free(sa);
    if (rc < 0)
        xg_matrix_free(out);
    return rc;
}

void xg_matrix_free(struct xg_matrix *m)
{
    for (size_t i = 0; i < m->count; i++)
        xg_prefix_list_free(&m->classes[i].sources);
    free(m->classes);
    m->classes = NULL;
    m->count = 0;
}

/* --- one packet, with the deciding rule --- */

struct walk {
    uint32_t ct;
    const struct xg_packet_query *q;
    const struct xg_prefix *saddr;
    const struct xg_rule *unknown;
    struct xg_err *err;
};

/* 1 = decided (verdict/rule/chain set), 0 = fell off or returned. */
static int walk_chain(struct walk *w, const struct xg_table *t, const struct xg_chain *c, int depth,
                      struct xg_trace_step *st)
{
    if (depth > MAX_DEPTH)
        return xg_fail(w->err, "chain '%s': jumps nest deeper than %d", c->name, MAX_DEPTH);
    for (size_t i = 0; i < c->rule_count; i++) {
        const struct xg_rule *r = &c->rules[i];
        uint8_t rf = xg_rule_family(t, r);
        enum tri all = TRI_T;
        if (rf && rf != w->q->family)
            continue;
        for (size_t k = 0; k < r->match_count && all != TRI_F; k++) {
            const struct xg_match *m = &r->matches[k];
            enum tri v;
            if (m->kind == XG_MATCH_SADDR)
                v = neg(addr_in(t, m, w->saddr), m->negate);
            else if (m->kind == XG_MATCH_RPF_OK && w->q->rpf_ok)
                v = neg(xg_prefix_list_covers(w->q->rpf_ok, w->saddr) ? TRI_T : TRI_F, m->negate);
            else
                v = match_fixed(t, m, w->q, w->ct);
            if (v == TRI_F)
                all = TRI_F;
            else if (v == TRI_U)
                all = TRI_U;
        }
        if (all == TRI_F)
            continue;
        if (all == TRI_U || r->verdict == XG_VERDICT_UNKNOWN) {
            if (!w->unknown)
                w->unknown = r;
            if (all == TRI_U)
                continue; /* unknowns are taken as not matching */
        }
        switch (r->verdict) {
        case XG_VERDICT_CONTINUE:
        case XG_VERDICT_UNKNOWN:
            continue;
        case XG_VERDICT_ACCEPT:
        case XG_VERDICT_DROP:
        case XG_VERDICT_REJECT:
            st->verdict = r->verdict;
            st->rule = r;
            st->chain = c;
            return 1;
        case XG_VERDICT_RETURN:
            return 0;
        case XG_VERDICT_JUMP:
        case XG_VERDICT_GOTO: {
            const struct xg_chain *target = r->target ? xg_table_find_chain(t, r->target) : NULL;
            int rc = target ? walk_chain(w, t, target, depth + 1, st) : 0;
            if (rc != 0)
                return rc;
            if (r->verdict == XG_VERDICT_GOTO)
                return 0;
            continue;
        }
        }
    }
    return 0;
}

int xg_packet_trace(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                    const struct xg_prefix *saddr, struct xg_trace *out, struct xg_err *err)
{
    struct base_ref *bases = NULL;
    size_t nbases = 0;
    memset(out, 0, sizeof(*out));
    if (path_chains(rs, q, &bases, &nbases) < 0)
        return xg_fail(err, "out of memory");
    out->steps = calloc(nbases ? nbases : 1, sizeof(*out->steps));
    if (!out->steps) {
        free(bases);
        return xg_fail(err, "out of memory");
    }
    for (size_t b = 0; b < nbases; b++) {
        struct walk w = {.q = q, .saddr = saddr, .err = err, .ct = ct_state_at(bases[b].c)};
        struct xg_trace_step *st = &out->steps[out->count++];
        int rc;
        st->table = bases[b].t;
        st->base = bases[b].c;
        rc = walk_chain(&w, bases[b].t, bases[b].c, 0, st);
        if (rc < 0) {
            free(bases);
            xg_trace_free(out);
            return -1;
        }
        if (rc == 0) {
            st->verdict =
                bases[b].c->policy == XG_VERDICT_DROP ? XG_VERDICT_DROP : XG_VERDICT_ACCEPT;
            st->rule = NULL;
            st->chain = bases[b].c;
        }
        st->unknown = w.unknown;
        if (st->verdict != XG_VERDICT_ACCEPT)
            break;
    }
    free(bases);
    return 0;
}

void xg_trace_free(struct xg_trace *t)
{
    free(t->steps);
    t->steps = NULL;
    t->count = 0;
}

/* --- interface and port classes --- */

static bool has_name(char **names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int xg_ruleset_ifnames(const struct xg_ruleset *rs, char ***names, size_t *count)
{
    char **v = NULL;
    size_t n = 0;
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t m = 0; m < ch->rules[r].match_count; m++) {
                    const struct xg_match *mm = &ch->rules[r].matches[m];
                    char name[XG_IFNAMSIZ];
                    size_t len;
                    if (mm->kind != XG_MATCH_IIFNAME || !mm->u.ifname[0])
                        continue;
                    snprintf(name, sizeof(name), "%s", mm->u.ifname);
                    len = strlen(name);
                    if (name[len - 1] == '*')
                        name[len - 1] = '+';
                    if (has_name(v, n, name))
                        continue;
                    char **g = realloc(v, (n + 1) * sizeof(*g));
                    if (!g || !(g[n] = strdup(name))) {
                        if (g)
                            v = g;
                        for (size_t i = 0; i < n; i++)
                            free(v[i]);
                        free(v);
                        return -1;
                    }
                    v = g;
                    n++;
                }
        }
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    *names = v;
    *count = n;
    return 0;
}

static bool any_pattern_matches(const struct xg_ruleset *rs, const char *name)
{
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t m = 0; m < ch->rules[r].match_count; m++) {
                    const struct xg_match *mm = &ch->rules[r].matches[m];
                    if ((mm->kind == XG_MATCH_IIFNAME) && ifname_matches(mm->u.ifname, name))
                        return true;
                }
        }
    return false;
}

void xg_ruleset_other_ifname(const struct xg_ruleset *rs, char out[XG_IFNAMSIZ])
{
    static const char *const tries[] = {"xg-other", "~other", "0other", "Zother"};
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        if (!any_pattern_matches(rs, tries[i])) {
            snprintf(out, XG_IFNAMSIZ, "%s", tries[i]);
            return;
        }
    }
    snprintf(out, XG_IFNAMSIZ, "%s", tries[0]);
}

void xg_ifclass_representative(const struct xg_ruleset *rs, const char *cls, char out[XG_IFNAMSIZ])
{
    size_t len = strlen(cls);
    (void)rs;
    if (!len || cls[len - 1] != '+') {
        snprintf(out, XG_IFNAMSIZ, "%s", cls);
        return;
    }
    /* the stem followed by a character no exact name in practice uses next */
    snprintf(out, XG_IFNAMSIZ, "%.*s~", (int)(len - 1), cls);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int xg_ruleset_port_classes(const struct xg_ruleset *rs, struct xg_port_range **out, size_t *count)
{
    uint32_t *cuts = NULL;
    size_t n = 0, cap = 0;
    struct xg_port_range *v;

#define PUSH(x)                                                                                    \
    do {                                                                                           \
        if (n == cap) {                                                                            \
            cap = cap ? cap * 2 : 64;                                                              \
            uint32_t *g_ = realloc(cuts, cap * sizeof(*g_));                                       \
            if (!g_) {                                                                             \
                free(cuts);                                                                        \
                return -1;                                                                         \
            }                                                                                      \
            cuts = g_;                                                                             \
        }                                                                                          \
        cuts[n++] = (x);                                                                           \
    } while (0)

    PUSH(0);
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t m = 0; m < ch->rules[r].match_count; m++) {
                    const struct xg_match *mm = &ch->rules[r].matches[m];
                    if (mm->kind != XG_MATCH_DPORT)
                        continue;
                    for (size_t k = 0; k < mm->u.ports.count; k++) {
                        PUSH(mm->u.ports.ranges[k].lo);
                        PUSH((uint32_t)mm->u.ports.ranges[k].hi + 1);
                    }
                }
        }
#undef PUSH
    qsort(cuts, n, sizeof(*cuts), cmp_u32);
    v = calloc(n, sizeof(*v));
    if (!v) {
        free(cuts);
        return -1;
    }
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (cuts[i] > 65535 || (i && cuts[i] == cuts[i - 1]))
            continue;
        uint32_t next = 65536;
        for (size_t j = i + 1; j < n; j++)
            if (cuts[j] != cuts[i]) {
                next = cuts[j];
                break;
            }
        v[*count].lo = (uint16_t)cuts[i];
        v[*count].hi = (uint16_t)((next > 65536 ? 65536 : next) - 1);
        (*count)++;
    }
    free(cuts);
    *out = v;
    return 0;
}
