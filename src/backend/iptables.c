/*
 * iptables.c — IR -> input for `iptables-restore --noflush` /
 * `ip6tables-restore --noflush`.
 *
 * iptables has no sets without ipset, and ipset cannot be loaded in the
 * same atomic restore; so a rule that matches a set becomes one rule per
 * element (the nft backend keeps the set; the rule count there does not
 * grow with the cluster, here it does). A rule with a *negated* set, e.g.
 * "on eth1, source not in the management networks: drop", becomes a jump
 * to an auxiliary chain that RETURNs for each element and applies the
 * verdict at its end.
 *
 * Every chain is xenguard's own (XENGUARD-<NAME>): declaring it in a
 * --noflush restore flushes and refills it atomically, per table, and
 * nothing else in the table changes. Base chains are hooked with
 * `-I <BUILTIN> 1 -j XENGUARD-<NAME>` unless the caller asks for no hook
 * (the chains are already hooked). The hook's table follows the chain's
 * priority: raw, mangle or filter. A base chain's drop policy becomes a
 * final `-j DROP`; accept is the end of the chain (RETURN).
 */
#include "backend/backend.h"

#include <ctype.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/names.h"

#define MAX_ALTERNATIVES 65536

/* One match spelled as alternatives: the rule is repeated for each. */
struct alts {
    char **items;
    size_t count;
};

struct ctx {
    struct xg_buf *b;    /* the current table's rule lines */
    struct xg_buf *decl; /* the current table's chain declarations */
    struct xg_err *err;
    const struct xg_table *t;
    uint8_t family;
    unsigned aux_count;
};

static void alts_free(struct alts *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->items[i]);
    free(a->items);
    a->items = NULL;
    a->count = 0;
}

static int alts_add(struct alts *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int alts_add(struct alts *a, const char *fmt, ...)
{
    va_list ap;
    char *s;
    char **grown = realloc(a->items, (a->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    a->items = grown;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        va_end(ap);
        return -1;
    }
    va_end(ap);
    a->items[a->count++] = s;
    return 0;
}

static void chain_name(const char *ir_name, char out[32])
{
    snprintf(out, 32, XG_IPT_CHAIN_PREFIX "%s", ir_name);
    for (char *c = out; *c; c++)
        *c = (char)toupper((unsigned char)*c);
}

/* The iptables table whose built-in chain hooks a chain: raw, mangle or filter
 * by its priority (regular chains live in filter). */
static const char *table_for(const struct xg_chain *c)
{
    int prio = c->hook == XG_HOOK_NONE || c->priority >= XG_PRIO_FILTER ? XG_PRIO_FILTER
               : c->priority > XG_PRIO_RAW                              ? XG_PRIO_MANGLE
                                                                        : XG_PRIO_RAW;
    size_t n;
    const struct xg_ipt_table *tables = xg_ipt_tables(&n);
    for (size_t i = 0; i < n; i++)
        if (tables[i].priority == prio)
            return tables[i].name;
    return NULL;
}

static void put_quoted(struct xg_buf *b, const char *s)
{
    xg_buf_puts(b, "\"");
    for (; *s; s++)
        if (*s != '"' && *s != '\\' && *s != '\n')
            xg_buf_printf(b, "%c", *s);
    xg_buf_puts(b, "\"");
}

/* The prefixes of this family that an address match names. */
static int addr_prefixes(struct ctx *c, const struct xg_match *m, struct xg_prefix_list *out)
{
    const struct xg_prefix_list *src = &m->u.addrs.prefixes;
    if (m->u.addrs.set_name) {
        const struct xg_set *s = xg_table_find_set(c->t, m->u.addrs.set_name);
        if (!s)
            return xg_fail(c->err, "iptables backend: rule refers to unknown set '%s'",
                           m->u.addrs.set_name);
        src = &s->elements;
    }
    for (size_t i = 0; i < src->count; i++)
        if (src->items[i].family == c->family && xg_prefix_list_add(out, &src->items[i]))
            return xg_fail(c->err, "out of memory");
    return 0;
}

static size_t addr_count(struct ctx *c, const struct xg_match *m)
{
    struct xg_prefix_list l = {0};
    size_t n;
    if (addr_prefixes(c, m, &l) < 0)
        return 0;
    n = l.count;
    xg_prefix_list_free(&l);
    return n;
}

/*
 * iptables allows one -s and one -d per rule. Negated address matches move
 * to an auxiliary chain (RETURN per element) when a direction has more than
 * one negated prefix, or a negated one beside a positive one.
 */
static bool goes_to_aux(struct ctx *c, const struct xg_rule *r, const struct xg_match *m)
{
    size_t negated = 0, positive = 0;
    if (!m->negate || (m->kind != XG_MATCH_SADDR && m->kind != XG_MATCH_DADDR))
        return false;
    for (size_t i = 0; i < r->match_count; i++) {
        const struct xg_match *o = &r->matches[i];
        if (o->kind != m->kind)
            continue;
        if (o->negate)
            negated += addr_count(c, o);
        else
            positive++;
    }
    return negated > 1 || (negated && positive);
}

static int ports_alts(const struct xg_match *m, const char *dir, struct alts *a)
{
    const struct xg_port_match *p = &m->u.ports;
    const char *neg = m->negate ? "! " : "";
    if (p->count == 1) {
        if (p->ranges[0].lo == p->ranges[0].hi)
            return alts_add(a, "%s--%s %u", neg, dir, p->ranges[0].lo);
        return alts_add(a, "%s--%s %u:%u", neg, dir, p->ranges[0].lo, p->ranges[0].hi);
    }
    if (m->negate && p->count > 7)
        return -1; /* multiport takes 15 slots; a negated list cannot be split */
    /* multiport: at most 15 slots, a range takes two */
    for (size_t i = 0; i < p->count;) {
        char list[256] = "";
        size_t slots = 0;
        for (; i < p->count && slots + 2 <= 15; i++) {
            char one[16];
            if (p->ranges[i].lo == p->ranges[i].hi)
                snprintf(one, sizeof(one), "%u", p->ranges[i].lo), slots += 1;
            else
                snprintf(one, sizeof(one), "%u:%u", p->ranges[i].lo, p->ranges[i].hi), slots += 2;
            if (*list)
                strcat(list, ",");
            strcat(list, one);
        }
        if (alts_add(a, "-m multiport %s--%ss %s", neg, dir, list))
            return -1;
    }
    return 0;
}

static int ct_alts(const struct xg_match *m, struct alts *a)
{
    char list[96];
    xg_ct_states_format(m->u.ct_states, XG_SYNTAX_IPTABLES, list, sizeof(list));
    return alts_add(a, "-m conntrack %s--ctstate %s", m->negate ? "! " : "", list);
}

static int icmp_alts(struct ctx *c, const struct xg_match *m, struct alts *a)
{
    const struct xg_icmp_match *ic = &m->u.icmp;
    const char *proto = ic->family == 4 ? "icmp" : "ipv6-icmp";
    const char *opt = ic->family == 4 ? "--icmp-type" : "--icmpv6-type";
    if (m->negate)
        return xg_fail(c->err, "iptables backend: negated ICMP type lists are not supported");
    for (size_t i = 0; i < ic->count; i++) {
        const char *name = xg_icmp_type_name(ic->family, ic->types[i], XG_SYNTAX_IPTABLES);
        int rc = name ? alts_add(a, "-p %s -m %s %s %s", proto, ic->family == 4 ? "icmp" : "icmp6",
                                 opt, name)
                      : alts_add(a, "-p %s -m %s %s %u", proto, ic->family == 4 ? "icmp" : "icmp6",
                                 opt, ic->types[i]);
        if (rc)
            return -1;
    }
    return 0;
}

/* Spell match `m` of a rule as alternatives (an empty list: the rule never matches). */
static int match_alts(struct ctx *c, const struct xg_rule *r, const struct xg_match *m,
                      struct alts *a)
{
    static const char *const units[] = {"sec", "min", "hour", "day"};
    const char *neg = m->negate ? "! " : "";
    switch (m->kind) {
    case XG_MATCH_IIFNAME:
    case XG_MATCH_OIFNAME: {
        char name[XG_IFNAMSIZ + 1];
        size_t n = strlen(m->u.ifname);
        snprintf(name, sizeof(name), "%s", m->u.ifname);
        if (n && name[n - 1] == '*')
            name[n - 1] = '+';
        return alts_add(a, "%s%s %s", neg, m->kind == XG_MATCH_IIFNAME ? "-i" : "-o", name);
    }
    case XG_MATCH_NFPROTO:
        return (m->u.family == c->family) != m->negate ? alts_add(a, "%s", "") : 0;
    case XG_MATCH_SADDR:
    case XG_MATCH_DADDR: {
        struct xg_prefix_list l = {0};
        const char *opt = m->kind == XG_MATCH_SADDR ? "-s" : "-d";
        int rc = addr_prefixes(c, m, &l);
        if (rc == 0 && m->negate && l.count == 0)
            rc = alts_add(a, "%s", ""); /* "not in nothing": always true */
        for (size_t i = 0; rc == 0 && i < l.count; i++) {
            char text[XG_PREFIX_STRLEN];
            xg_prefix_format(&l.items[i], false, text);
            rc = alts_add(a, "%s%s %s", neg, opt, text);
        }
        xg_prefix_list_free(&l);
        return rc;
    }
    case XG_MATCH_L4PROTO: {
        const char *name = xg_l4proto_name(m->u.proto);
        if (name)
            return alts_add(a, "%s-p %s", neg, name);
        return alts_add(a, "%s-p %u", neg, m->u.proto);
    }
    case XG_MATCH_SPORT:
    case XG_MATCH_DPORT:
        if (ports_alts(m, m->kind == XG_MATCH_SPORT ? "sport" : "dport", a) < 0)
            return xg_fail(c->err, "iptables backend: cannot spell this port list");
        (void)r;
        return 0;
    case XG_MATCH_CTSTATE:
        return ct_alts(m, a);
    case XG_MATCH_RPF_OK:
        return alts_add(a, "-m rpfilter%s", m->negate ? " --invert" : "");
    case XG_MATCH_ICMP_TYPE:
        return icmp_alts(c, m, a);
    case XG_MATCH_LIMIT:
        if (m->negate)
            return xg_fail(c->err, "iptables backend: 'limit over' is not supported");
        return alts_add(a, "-m limit --limit %u/%s --limit-burst %u", m->u.limit.rate,
                        units[m->u.limit.unit], m->u.limit.burst ? m->u.limit.burst : 5);
    case XG_MATCH_ETHER_SADDR:
        for (size_t k = 0; k < m->u.macs.count; k++) {
            const uint8_t *x = m->u.macs.addrs[k];
            if (alts_add(a, "-m mac %s--mac-source %02x:%02x:%02x:%02x:%02x:%02x", neg, x[0], x[1],
                         x[2], x[3], x[4], x[5]))
                return -1;
        }
        if (m->negate && m->u.macs.count > 1)
            return xg_fail(c->err, "iptables backend: a negated MAC list is not supported");
        return 0;
    case XG_MATCH_ADDRTYPE:
    case XG_MATCH_ETHERTYPE:
    case XG_MATCH_ARP_SPA:
    case XG_MATCH_ND_TARGET:
    case XG_MATCH_IFSET:
    case XG_MATCH_UNKNOWN:
        break;
    }
    return xg_fail(c->err, "iptables backend: cannot express a match of kind %d", (int)m->kind);
}

static void put_verdict(struct ctx *c, const struct xg_rule *r)
{
    char target[32];
    switch (r->verdict) {
    case XG_VERDICT_ACCEPT:
        xg_buf_puts(c->b, " -j ACCEPT");
        break;
    case XG_VERDICT_DROP:
        xg_buf_puts(c->b, " -j DROP");
        break;
    case XG_VERDICT_RETURN:
        xg_buf_puts(c->b, " -j RETURN");
        break;
    case XG_VERDICT_REJECT:
        xg_buf_puts(c->b, " -j REJECT");
        if (r->reject == XG_REJECT_TCP_RESET)
            xg_buf_puts(c->b, " --reject-with tcp-reset");
        else if (r->reject == XG_REJECT_ADMIN_PROHIBITED)
            xg_buf_puts(c->b, c->family == 4 ? " --reject-with icmp-admin-prohibited"
                                             : " --reject-with icmp6-adm-prohibited");
        break;
    case XG_VERDICT_JUMP:
    case XG_VERDICT_GOTO:
        chain_name(r->target ? r->target : "?", target);
        xg_buf_printf(c->b, " -%c %s", r->verdict == XG_VERDICT_JUMP ? 'j' : 'g', target);
        break;
    default:
        break;
    }
}

static void put_comment(struct ctx *c, const struct xg_rule *r)
{
    if (!r->comment)
        return;
    xg_buf_puts(c->b, " -m comment --comment ");
    put_quoted(c->b, r->comment);
}

/* The rule's log line (if any) and verdict line (if any), with `prefix` matches. */
static void put_action_lines(struct ctx *c, const char *chain, const char *prefix,
                             const struct xg_rule *r)
{
    if (r->log) {
        xg_buf_printf(c->b, "-A %s%s", chain, prefix);
        put_comment(c, r);
        xg_buf_puts(c->b, " -j LOG --log-prefix ");
        put_quoted(c->b, r->log->prefix);
        if (r->log->level >= 0)
            xg_buf_printf(c->b, " --log-level %d", r->log->level);
        xg_buf_puts(c->b, "\n");
    }
    if (r->verdict != XG_VERDICT_CONTINUE || (!r->log && !r->counter)) {
        xg_buf_printf(c->b, "-A %s%s", chain, prefix);
        put_comment(c, r);
        put_verdict(c, r);
        xg_buf_puts(c->b, "\n");
    }
}

/* Emit every combination of the alternatives (a cartesian product). */
static int put_product(struct ctx *c, const char *chain, struct alts *alts, size_t n,
                       const struct xg_rule *r, const char *aux)
{
    size_t idx[64] = {0}, total = 1;
    if (n > 64)
        return xg_fail(c->err, "iptables backend: rule has too many matches");
    for (size_t i = 0; i < n; i++) {
        if (!alts[i].count)
            return 0; /* a match that never matches: no rule at all */
        total *= alts[i].count;
        if (total > MAX_ALTERNATIVES)
            return xg_fail(c->err, "iptables backend: a rule expands to more than %d rules",
                           MAX_ALTERNATIVES);
    }
    for (size_t k = 0; k < total; k++) {
        struct xg_buf prefix = {0};
        for (size_t i = 0; i < n; i++)
            if (*alts[i].items[idx[i]])
                xg_buf_printf(&prefix, " %s", alts[i].items[idx[i]]);
        if (aux) {
            xg_buf_printf(c->b, "-A %s%s", chain, xg_buf_str(&prefix));
            put_comment(c, r);
            xg_buf_printf(c->b, " -j %s\n", aux);
        } else {
            put_action_lines(c, chain, xg_buf_str(&prefix), r);
        }
        xg_buf_free(&prefix);
        for (size_t i = n; i-- > 0;) {
            if (++idx[i] < alts[i].count)
                break;
            idx[i] = 0;
        }
    }
    return 0;
}

/* An auxiliary chain for the negated multi-element matches of a rule:
 * RETURN for every element, then the rule's action. */
static int put_aux_chain(struct ctx *c, const struct xg_rule *r, const char *aux)
{
    xg_buf_printf(c->decl, ":%s - [0:0]\n", aux);
    for (size_t i = 0; i < r->match_count; i++) {
        const struct xg_match *m = &r->matches[i];
        struct xg_prefix_list l = {0};
        if (!goes_to_aux(c, r, m))
            continue;
        if (addr_prefixes(c, m, &l) < 0)
            return -1;
        for (size_t j = 0; j < l.count; j++) {
            char text[XG_PREFIX_STRLEN];
            xg_prefix_format(&l.items[j], false, text);
            xg_buf_printf(c->b, "-A %s %s %s -j RETURN\n", aux,
                          m->kind == XG_MATCH_SADDR ? "-s" : "-d", text);
        }
        xg_prefix_list_free(&l);
    }
    put_action_lines(c, aux, "", r);
    return 0;
}

static int put_rule(struct ctx *c, const char *chain, const struct xg_rule *r)
{
    struct alts alts[64];
    size_t n = 0;
    bool need_aux = false;
    char aux[32];
    int rc = 0;
    uint8_t fam = xg_rule_family(c->t, r);

    if (fam && fam != c->family)
        return 0;
    if (r->verdict == XG_VERDICT_UNKNOWN)
        return xg_fail(c->err, "iptables backend: cannot express an unknown verdict");
    if (r->match_count > 64)
        return xg_fail(c->err, "iptables backend: rule has too many matches");
    for (size_t i = 0; i < r->match_count && rc == 0; i++) {
        if (goes_to_aux(c, r, &r->matches[i])) {
            need_aux = true;
            continue;
        }
        memset(&alts[n], 0, sizeof(alts[n]));
        rc = match_alts(c, r, &r->matches[i], &alts[n++]);
        if (rc && !c->err->msg[0])
            xg_fail(c->err, "out of memory");
    }
    if (rc == 0 && need_aux) {
        snprintf(aux, sizeof(aux), XG_IPT_CHAIN_PREFIX "AUX%u", ++c->aux_count);
        rc = put_aux_chain(c, r, aux);
    }
    if (rc == 0)
        rc = put_product(c, chain, alts, n, r, need_aux ? aux : NULL);
    for (size_t i = 0; i < n; i++)
        alts_free(&alts[i]);
    return rc;
}

static bool chain_in_table(const struct xg_chain *ch, const char *table)
{
    return !strcmp(table_for(ch), table);
}

static int put_table(struct ctx *c, const char *table, bool hook, struct xg_buf *out)
{
    struct xg_buf decl = {0}, rules = {0}, hooks = {0};
    bool any = false;
    int rc = 0;

    c->decl = &decl;
    c->b = &rules;
    for (size_t i = 0; i < c->t->chain_count && rc == 0; i++) {
        const struct xg_chain *ch = c->t->chains[i];
        char name[32];
        if (!chain_in_table(ch, table))
            continue;
        any = true;
        chain_name(ch->name, name);
        xg_buf_printf(&decl, ":%s - [0:0]\n", name);
        for (size_t j = 0; j < ch->rule_count && rc == 0; j++)
            rc = put_rule(c, name, &ch->rules[j]);
        if (ch->hook != XG_HOOK_NONE && ch->policy == XG_VERDICT_DROP)
            xg_buf_printf(&rules, "-A %s -m comment --comment \"policy drop\" -j DROP\n", name);
        if (hook && xg_builtin_chain_name(ch->hook))
            xg_buf_printf(&hooks, "-I %s 1 -j %s\n", xg_builtin_chain_name(ch->hook), name);
    }
    if (rc == 0 && any) {
        xg_buf_printf(out, "*%s\n%s%s%sCOMMIT\n", table, xg_buf_str(&decl), xg_buf_str(&rules),
                      xg_buf_str(&hooks));
    }
    if (rc == 0 && (xg_buf_failed(&decl) || xg_buf_failed(&rules) || xg_buf_failed(&hooks)))
        rc = xg_fail(c->err, "out of memory while writing the iptables ruleset");
    xg_buf_free(&decl);
    xg_buf_free(&rules);
    xg_buf_free(&hooks);
    return rc;
}

int xg_backend_iptables_ex(const struct xg_ruleset *rs, uint8_t family, bool hook,
                           struct xg_buf *out, struct xg_err *err)
{
    struct ctx c = {.err = err, .family = family};
    size_t table_count;
    const struct xg_ipt_table *tables = xg_ipt_tables(&table_count);

    err->msg[0] = '\0';
    if (family != 4 && family != 6)
        return xg_fail(err, "iptables backend: family must be 4 or 6");
    xg_buf_printf(out, "# For %s-restore --noflush: replaces xenguard's own chains only.\n",
                  family == 4 ? "iptables" : "ip6tables");
    for (size_t i = 0; i < rs->table_count; i++) {
        c.t = rs->tables[i];
        if (c.t->family == XG_TABLE_OTHER || c.t->family == XG_TABLE_BRIDGE ||
            (c.t->family == XG_TABLE_IP && family != 4) ||
            (c.t->family == XG_TABLE_IP6 && family != 6))
            continue;
        for (size_t k = 0; k < table_count; k++) /* table_for() fills raw, mangle, filter */
            if (put_table(&c, tables[k].name, hook, out) < 0)
                return -1;
    }
    if (xg_buf_failed(out))
        return xg_fail(err, "out of memory while writing the iptables ruleset");
    return 0;
}

int xg_backend_iptables(const struct xg_ruleset *rs, uint8_t family, struct xg_buf *out,
                        struct xg_err *err)
{
    return xg_backend_iptables_ex(rs, family, true, out, err);
}
