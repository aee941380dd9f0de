/*
 * trace.c — one packet's way through the base chains on its path, with the
 * rule that decided each (the answer `analyze --from` prints and the lockout
 * guard names). Unknown matches are taken as not matching; the first one
 * met is recorded so the caller can say the answer is a bound, and why
 * (xg_explain_may: an unmodelled match, or a packet field the query left
 * open).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/path.h"

/* --- one packet, with the deciding rule --- */

struct walk {
    uint32_t ct;
    const struct xg_packet_query *q;
    const struct xg_prefix *saddr;
    const struct xg_rule *unknown;
    struct xg_err *err;
};

static enum xg_tri src_addrtype(const struct xg_match *m, const struct xg_packet_query *q,
                                const struct xg_prefix *saddr)
{
    bool known;
    uint32_t types = xg_addrtype_of(saddr, q, &known);
    return xg_addrtype_tri(m, types, known);
}

/* 1 = decided (verdict/rule/chain set), 0 = fell off or returned. */
static int walk_chain(struct walk *w, const struct xg_table *t, const struct xg_chain *c, int depth,
                      struct xg_trace_step *st)
{
    if (depth > XG_MAX_JUMP_DEPTH)
        return xg_fail(w->err, "chain '%s': jumps nest deeper than %d", c->name, XG_MAX_JUMP_DEPTH);
    for (size_t i = 0; i < c->rule_count; i++) {
        const struct xg_rule *r = &c->rules[i];
        uint8_t rf = xg_rule_family(t, r);
        enum xg_tri all = TRI_T;
        if (rf && rf != w->q->family)
            continue;
        for (size_t k = 0; k < r->match_count && all != TRI_F; k++) {
            const struct xg_match *m = &r->matches[k];
            enum xg_tri v;
            if (m->kind == XG_MATCH_SADDR)
                v = xg_tri_neg(xg_addr_in(t, m, w->saddr), m->negate);
            else if (m->kind == XG_MATCH_RPF_OK && w->q->rpf_ok)
                v = xg_tri_neg(xg_prefix_list_covers(w->q->rpf_ok, w->saddr) ? TRI_T : TRI_F,
                               m->negate);
            else if (m->kind == XG_MATCH_ADDRTYPE && !m->u.addrtype.dst)
                v = src_addrtype(m, w->q, w->saddr);
            else
                v = xg_match_fixed(t, m, w->q, w->ct);
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
    struct xg_base_ref *bases = NULL;
    size_t nbases = 0;
    memset(out, 0, sizeof(*out));
    if (xg_path_chains(rs, q, &bases, &nbases) < 0)
        return xg_fail(err, "out of memory");
    out->steps = calloc(nbases ? nbases : 1, sizeof(*out->steps));
    if (!out->steps) {
        free(bases);
        return xg_fail(err, "out of memory");
    }
    for (size_t b = 0; b < nbases; b++) {
        struct walk w = {.q = q, .saddr = saddr, .err = err, .ct = xg_ct_state_at(bases[b].c)};
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
        st->unknown_table = w.unknown ? bases[b].t : NULL;
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

/* --- why a bound is not exact --- */

static bool open_field(const struct xg_match *m, const struct xg_packet_query *q, char *what,
                       size_t n)
{
    switch (m->kind) {
    case XG_MATCH_SPORT:
        snprintf(what, n, "source port (no --sport given; an ordinary client uses %u-65535)",
                 XG_CLIENT_PORT_LO);
        return true;
    case XG_MATCH_DADDR:
        snprintf(what, n, "destination address (no --to given)");
        return true;
    case XG_MATCH_OIFNAME:
        snprintf(what, n, "outgoing interface (no --oface given)");
        return true;
    case XG_MATCH_IIFNAME:
        snprintf(what, n, "incoming interface (no --iface given)");
        return true;
    case XG_MATCH_RPF_OK:
        snprintf(what, n, "reverse path (no --ifmap given)");
        return true;
    case XG_MATCH_ADDRTYPE:
        snprintf(what, n, "the source's address type (the host's addresses: no --ifmap given)");
        return true;
    case XG_MATCH_ICMP_TYPE:
    case XG_MATCH_ND_TARGET:
        snprintf(what, n, "ICMP type or target (not part of the query)");
        return true;
    default:
        (void)q;
        return false;
    }
}

void xg_describe_unknown(const struct xg_table *t, const struct xg_rule *r,
                         const struct xg_packet_query *q, struct xg_may_reason *out)
{
    memset(out, 0, sizeof(*out));
    out->rule = r;
    for (size_t k = 0; k < r->match_count; k++) {
        const struct xg_match *m = &r->matches[k];
        enum xg_tri v = m->kind == XG_MATCH_SADDR ? (xg_addr_prefixes(t, m) ? TRI_T : TRI_U)
                        : m->kind == XG_MATCH_ADDRTYPE && !m->u.addrtype.dst
                            ? (q->local ? TRI_T : TRI_U)
                            : xg_match_fixed(t, m, q, XG_CT_NEW);
        if (v != TRI_U)
            continue;
        out->match = m;
        if (m->kind == XG_MATCH_SADDR || m->kind == XG_MATCH_DADDR) {
            if (m->u.addrs.set_name && !xg_table_find_set(t, m->u.addrs.set_name)) {
                snprintf(out->what, sizeof(out->what), "set @%s (not in the dump)",
                         m->u.addrs.set_name);
                return;
            }
        }
        if ((out->open_field = open_field(m, q, out->what, sizeof(out->what))))
            return;
        if (m->kind == XG_MATCH_UNKNOWN)
            snprintf(out->what, sizeof(out->what), "unmodelled match: %s", m->u.text);
        else if (m->kind == XG_MATCH_LIMIT)
            snprintf(out->what, sizeof(out->what), "unmodelled match: rate limit");
        else
            snprintf(out->what, sizeof(out->what), "unmodelled match");
        return;
    }
    if (r->verdict == XG_VERDICT_UNKNOWN)
        snprintf(out->what, sizeof(out->what), "unmodelled target: %s",
                 r->target ? r->target : "?");
    else if (r->verdict == XG_VERDICT_JUMP || r->verdict == XG_VERDICT_GOTO)
        snprintf(out->what, sizeof(out->what), "jump to a chain not in the dump: %s",
                 r->target ? r->target : "?");
    else
        snprintf(out->what, sizeof(out->what), "unmodelled match");
}

int xg_explain_may(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                   const struct xg_prefix *saddr, struct xg_may_reason *out, struct xg_err *err)
{
    struct xg_trace tr;
    memset(out, 0, sizeof(*out));
    if (xg_packet_trace(rs, q, saddr, &tr, err) < 0)
        return -1;
    for (size_t i = 0; i < tr.count; i++)
        if (tr.steps[i].unknown) {
            xg_describe_unknown(tr.steps[i].unknown_table, tr.steps[i].unknown, q, out);
            break;
        }
    xg_trace_free(&tr);
    return 0;
}
