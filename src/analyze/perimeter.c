/*
 * perimeter.c — the chapter's two perimeter requirements asked of a router's
 * ruleset (see perimeter.h). Only the analyzer's public API is used: one
 * xg_analysis per family, xg_analysis_reach() per question (forward path,
 * oifname = an inside interface, daddr = a destination class), and
 * xg_packet_trace() for the one packet that names the rule behind a hole.
 */
#include "analyze/perimeter.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "backend/backend.h"
#include "compile/perimeter.h"

struct ctx {
    const struct xg_ruleset *rs;
    const struct xg_policy *p;
    struct xg_analysis *an;
    struct xg_port_range *classes; /* port classes of the ruleset */
    size_t nclasses;
    struct xg_per_result *out;
    struct xg_err *err;
};

const char *xg_per_id(int req)
{
    return req ? "XG-PER-002" : "XG-PER-001";
}

const char *xg_per_title(int req)
{
    return req ? "management ports of the peers reachable only from inside the cluster"
               : "spoofed sources from outside do not get through to the inside";
}

const char *xg_per_status_name(enum xg_per_status s)
{
    return s == XG_PER_HOLDS ? "holds" : s == XG_PER_FAILS ? "FAILS" : "UNDECIDED";
}

/* ---------- destination classes ---------- */

/* The address after the last one of `p`; false when it wraps around. */
static bool after(const struct xg_prefix *p, struct xg_prefix *out)
{
    unsigned bits = xg_family_bits(p->family);
    *out = *p;
    for (unsigned b = p->len; b < bits; b++)
        out->addr[b / 8] |= (uint8_t)(0x80u >> (b % 8));
    out->len = (uint8_t)bits;
    for (int i = (int)bits / 8 - 1; i >= 0; i--)
        if (++out->addr[i] != 0)
            return true;
    return false;
}

static int add_host(struct xg_prefix_list *l, const struct xg_prefix *a, const struct xg_prefix *in)
{
    struct xg_prefix h = *a;
    h.len = (uint8_t)xg_family_bits(a->family);
    if (!xg_prefix_contains(in, &h) || xg_prefix_list_covers(l, &h))
        return 0;
    return xg_prefix_list_add(l, &h);
}

/* Every destination a rule of the ruleset can tell apart inside `in`. */
static int dest_bounds(const struct xg_ruleset *rs, const struct xg_prefix *in,
                       struct xg_prefix_list *out)
{
    if (add_host(out, in, in) < 0)
        return -1;
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *tb = rs->tables[t];
        for (size_t c = 0; c < tb->chain_count; c++)
            for (size_t r = 0; r < tb->chains[c]->rule_count; r++) {
                const struct xg_rule *ru = &tb->chains[c]->rules[r];
                for (size_t m = 0; m < ru->match_count; m++) {
                    const struct xg_match *ma = &ru->matches[m];
                    const struct xg_prefix_list *pl = &ma->u.addrs.prefixes;
                    if (ma->kind != XG_MATCH_DADDR)
                        continue;
                    if (ma->u.addrs.set_name) {
                        const struct xg_set *s = xg_table_find_set(tb, ma->u.addrs.set_name);
                        if (!s)
                            continue;
                        pl = &s->elements;
                    }
                    for (size_t i = 0; i < pl->count; i++) {
                        struct xg_prefix next;
                        if (pl->items[i].family != in->family)
                            continue;
                        if (add_host(out, &pl->items[i], in) < 0 ||
                            (after(&pl->items[i], &next) && add_host(out, &next, in) < 0))
                            return -1;
                    }
                }
            }
    }
    return 0;
}

static int dests_of(const struct xg_ruleset *rs, const struct xg_prefix_list *l, uint8_t family,
                    struct xg_prefix_list *out)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].family == family && dest_bounds(rs, &l->items[i], out) < 0)
            return -1;
    return 0;
}

/* ---------- naming the rule ---------- */

static void describe_rule(const struct xg_table *t, const struct xg_chain *c,
                          const struct xg_rule *r, char *out, size_t size)
{
    struct xg_buf text = {0};
    struct xg_err ignored;
    const char *fam = xg_table_family_name(t->family);
    if (!r) {
        snprintf(out, size, "the policy (accept) of chain %s in table %s %s", c ? c->name : "?",
                 fam ? fam : "?", t->name);
        return;
    }
    if (xg_backend_nft_rule(t, r, &text, &ignored) < 0)
        xg_buf_free(&text);
    if (r->src_file && r->src_line)
        snprintf(out, size, "%s:%u: %s", r->src_file, r->src_line, xg_buf_str(&text));
    else if (r->src_handle)
        snprintf(out, size, "table %s %s chain %s handle %u: %s", fam ? fam : "?", t->name,
                 c ? c->name : "?", r->src_handle, xg_buf_str(&text));
    else
        snprintf(out, size, "table %s %s chain %s: %s", fam ? fam : "?", t->name, c ? c->name : "?",
                 xg_buf_str(&text));
    xg_buf_free(&text);
}

/* The rule that let the packet through (the forward chain's deciding rule), or the first
 * one the analyzer could not decide when the trace did not get through. */
static int name_rule(struct ctx *c, const struct xg_packet_query *q, const struct xg_prefix *src,
                     char *out, size_t size)
{
    struct xg_trace tr = {0};
    if (xg_packet_trace(c->rs, q, src, &tr, c->err) < 0)
        return -1;
    snprintf(out, size, "no base chain on the forward path: nothing filters it");
    /* the chain that stopped it (the trace ends there), else the forward chain that let it
     * through (one with a deciding rule rather than its policy), else the last one */
    const struct xg_trace_step *pick = NULL, *fwd = NULL;
    for (size_t i = 0; i < tr.count; i++) {
        if (tr.steps[i].verdict != XG_VERDICT_ACCEPT)
            pick = &tr.steps[i];
        if (tr.steps[i].base->hook == XG_HOOK_FORWARD && (!fwd || (!fwd->rule && tr.steps[i].rule)))
            fwd = &tr.steps[i];
    }
    if (!pick)
        pick = fwd ? fwd : tr.count ? &tr.steps[tr.count - 1] : NULL;
    if (pick && pick->verdict != XG_VERDICT_ACCEPT) {
        const struct xg_trace_step *u = NULL;
        for (size_t i = 0; i < tr.count && !u; i++)
            if (tr.steps[i].unknown)
                u = &tr.steps[i];
        if (u) {
            char d[600];
            describe_rule(u->table, NULL, u->unknown, d, sizeof(d));
            snprintf(out, size, "undecided at %s", d);
        }
    } else if (pick) {
        describe_rule(pick->table, pick->rule ? pick->chain : pick->base, pick->rule, out, size);
    }
    xg_trace_free(&tr);
    return 0;
}

/* ---------- the questions ---------- */

/* Sources of `reach` not in `allowed` (its `may` and `must` bounds). */
static int bad_sources(const struct xg_reach *r, const struct xg_prefix_list *spoofed,
                       const struct xg_prefix_list *allowed, uint8_t family,
                       struct xg_prefix_list *may, struct xg_prefix_list *must)
{
    const struct xg_reach *rr = r;
    for (int k = 0; k < 2; k++) {
        const struct xg_prefix_list *from = k ? &rr->must : &rr->may;
        struct xg_prefix_list *to = k ? must : may, rest = {0};
        int rc = 0;
        if (spoofed) { /* from ∩ spoofed = from − (from − spoofed) */
            rc = xg_prefix_list_minus(from, spoofed, family, &rest);
            if (rc == 0)
                rc = xg_prefix_list_minus(from, &rest, family, to);
        } else {
            rc = xg_prefix_list_minus(from, allowed, family, to);
        }
        xg_prefix_list_free(&rest);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static void record(struct ctx *c, int req, bool certain, const struct xg_packet_query *q,
                   const char *label, const struct xg_prefix *src, const char *rule)
{
    struct xg_per_result *o = c->out;
    enum xg_per_status st = certain ? XG_PER_FAILS : XG_PER_UNDECIDED;
    if (o->status[req] < st)
        o->status[req] = st;
    for (size_t i = 0; i < o->count; i++)
        if (o->holes[i].req == req && !strcmp(o->holes[i].rule, rule)) {
            if (certain && !o->holes[i].certain)
                o->holes[i].certain = true;
            return;
        }
    if (o->count == XG_PER_MAX_HOLES)
        return;
    struct xg_per_hole *h = &o->holes[o->count++];
    memset(h, 0, sizeof(*h));
    h->req = req;
    h->certain = certain;
    snprintf(h->iif, sizeof(h->iif), "%s", label);
    snprintf(h->oif, sizeof(h->oif), "%s", q->oifname);
    h->source = *src;
    h->source.len = (uint8_t)xg_family_bits(src->family);
    h->dest = *q->daddr;
    h->proto = q->proto;
    h->port = q->dport;
    snprintf(h->rule, sizeof(h->rule), "%s", rule);
}

/* One question: who gets through with `q`; the sources outside `allowed` (or inside `spoofed`)
 * are a hole of requirement `req`. */
static int ask(struct ctx *c, int req, const struct xg_packet_query *q, const char *label,
               const struct xg_prefix_list *spoofed, const struct xg_prefix_list *allowed)
{
    struct xg_reach r = {0};
    struct xg_prefix_list may = {0}, must = {0};
    int rc = -1;
    c->out->asked++;
    if (xg_analysis_reach(c->an, q, &r, c->err) < 0)
        goto out;
    if (bad_sources(&r, spoofed, allowed, q->family, &may, &must) < 0) {
        xg_fail(c->err, "out of memory");
        goto out;
    }
    if (may.count) {
        char rule[640];
        const struct xg_prefix_list *l = must.count ? &must : &may;
        const struct xg_prefix *src = &l->items[0];
        for (size_t i = 0; i < l->count; i++) /* a cluster address says more than 0.0.0.0 */
            if (xg_prefix_list_covers(&c->p->networks, &l->items[i])) {
                src = &l->items[i];
                break;
            }
        struct xg_prefix host = *src;
        host.len = (uint8_t)xg_family_bits(src->family);
        if (name_rule(c, q, &host, rule, sizeof(rule)) < 0)
            goto out;
        record(c, req, must.count > 0, q, label, src, rule);
    }
    rc = 0;
out:
    xg_reach_free(&r);
    xg_prefix_list_free(&may);
    xg_prefix_list_free(&must);
    return rc;
}

/* XG-PER-001 for one family: every outside -> inside pair, TCP and UDP, every port class, every
 * destination class of the networks. */
static int spoofing(struct ctx *c, uint8_t family, const struct xg_prefix_list *dests)
{
    static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};
    const struct xg_perimeter *pm = &c->p->perimeter;
    struct xg_prefix_list spoofed = {0};
    int rc = 0;
    if (xg_perimeter_special_sources(&spoofed) < 0 ||
        xg_prefix_list_copy(&spoofed, &c->p->networks) < 0)
        rc = xg_fail(c->err, "out of memory");
    for (size_t o = 0; o < pm->outside_count && rc == 0; o++)
        for (size_t i = 0; i < pm->inside_count && rc == 0; i++)
            for (size_t pr = 0; pr < 2 && rc == 0; pr++)
                for (size_t k = 0; k < c->nclasses && rc == 0; k++)
                    for (size_t d = 0; d < dests->count && rc == 0; d++) {
                        struct xg_packet_query q = {.family = family,
                                                    .proto = protos[pr],
                                                    .dport = c->classes[k].lo,
                                                    .iifname = pm->outside[o],
                                                    .path = XG_HOOK_FORWARD,
                                                    .daddr = &dests->items[d],
                                                    .oifname = pm->inside[i]};
                        rc = ask(c, 0, &q, pm->outside[o], &spoofed, NULL);
                    }
    xg_prefix_list_free(&spoofed);
    return rc;
}

/* The ports to ask for a management range: its first and every class boundary inside it. */
static bool port_asked(const struct ctx *c, const struct xg_port_range *r, uint16_t port)
{
    if (port == r->lo)
        return true;
    for (size_t k = 0; k < c->nclasses; k++)
        if (c->classes[k].lo == port)
            return port > r->lo && port <= r->hi;
    return false;
}

static bool is_inside(const struct xg_perimeter *pm, const char *name)
{
    for (size_t i = 0; i < pm->inside_count; i++)
        if (!strcmp(pm->inside[i], name))
            return true;
    return false;
}

/* XG-PER-002 for one family: from every interface class but the inside ones. */
static int management(struct ctx *c, uint8_t family, const struct xg_prefix_list *dests)
{
    const struct xg_perimeter *pm = &c->p->perimeter;
    struct xg_port_range ports[XG_PERIMETER_MAX_PORTS + 8];
    size_t nports = xg_perimeter_ports(c->p, ports, sizeof(ports) / sizeof(ports[0]));
    struct xg_ifclass *ifs = NULL;
    size_t nifs = 0;
    struct xg_prefix_list none = {0};
    int rc = 0;
    if (xg_ifclasses(c->rs, NULL, &ifs, &nifs) < 0)
        return xg_fail(c->err, "out of memory");
    for (size_t f = 0; f < nifs && rc == 0; f++) {
        if (is_inside(pm, ifs[f].rep))
            continue;
        for (size_t i = 0; i < pm->inside_count && rc == 0; i++)
            for (size_t r = 0; r < nports && rc == 0; r++)
                for (uint32_t port = ports[r].lo; port <= ports[r].hi && rc == 0; port++) {
                    if (!port_asked(c, &ports[r], (uint16_t)port))
                        continue;
                    for (size_t d = 0; d < dests->count && rc == 0; d++) {
                        struct xg_packet_query q = {.family = family,
                                                    .proto = IPPROTO_TCP,
                                                    .dport = (uint16_t)port,
                                                    .iifname = ifs[f].rep,
                                                    .path = XG_HOOK_FORWARD,
                                                    .daddr = &dests->items[d],
                                                    .oifname = pm->inside[i]};
                        bool ssh = port == c->p->ssh_port;
                        rc = ask(c, 1, &q, ifs[f].label, NULL, ssh ? &c->p->ssh_from : &none);
                    }
                }
    }
    free(ifs);
    return rc;
}

int xg_perimeter_check(const struct xg_ruleset *rs, const struct xg_policy *p,
                       struct xg_per_result *out, struct xg_err *err)
{
    struct ctx c = {.rs = rs, .p = p, .out = out, .err = err};
    struct xg_prefix_list extra = {0};
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (!p->perimeter.present)
        return xg_fail(err,
                       "%s: no [perimeter] section: name the router's outside-interface and "
                       "inside-interface there",
                       p->path ? p->path : "policy");
    if (xg_perimeter_special_sources(&extra) < 0 || xg_prefix_list_copy(&extra, &p->networks) ||
        xg_prefix_list_copy(&extra, &p->peers) || xg_prefix_list_copy(&extra, &p->ssh_from) ||
        xg_ruleset_port_classes(rs, &c.classes, &c.nclasses) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    if (!(c.an = xg_analysis_new(rs, &extra, err)))
        goto done;
    for (uint8_t family = 4; family <= 6; family += 2) {
        struct xg_prefix_list nets = {0}, peers = {0};
        int frc = dests_of(rs, &p->networks, family, &nets) < 0 ||
                          dests_of(rs, &p->peers, family, &peers) < 0
                      ? xg_fail(err, "out of memory")
                      : 0;
        if (frc == 0)
            frc = spoofing(&c, family, &nets);
        if (frc == 0)
            frc = management(&c, family, &peers);
        xg_prefix_list_free(&nets);
        xg_prefix_list_free(&peers);
        if (frc < 0)
            goto done;
    }
    rc = 0;
done:
    xg_analysis_free(c.an);
    free(c.classes);
    xg_prefix_list_free(&extra);
    return rc;
}

void xg_per_hole_describe(const struct xg_per_hole *h, char *out, size_t size)
{
    char s[XG_PREFIX_STRLEN], d[XG_PREFIX_STRLEN];
    xg_prefix_format(&h->source, true, s);
    xg_prefix_format(&h->dest, true, d);
    snprintf(out, size, "%s%s -> %s: a new connection from %s to %s %s/%u %s through: %s",
             strcmp(h->iif, "*") ? "" : "any other interface ", strcmp(h->iif, "*") ? h->iif : "",
             h->oif, s, d, h->proto == IPPROTO_TCP ? "tcp" : "udp", h->port,
             h->certain ? "gets" : "may get", h->rule);
}
