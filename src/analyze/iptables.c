/*
 * iptables.c — iptables-save / ip6tables-save text into the IR.
 *
 * Real dumps are dirty: hand-edited files without chain declarations, the
 * old `-d ! X` negation, masks in dotted form or with host bits set,
 * censored addresses, matches and targets from every corner of xtables.
 * The parser accepts all of it, and keeps what it does not model as
 * XG_MATCH_UNKNOWN / XG_VERDICT_UNKNOWN with the original text, so the
 * evaluator's may/must bounds stay honest. Only malformed structure (a rule
 * outside a table, a missing argument, an unterminated quote) is an error,
 * reported as FILE:LINE:COL.
 *
 * Each line is split into words (double quotes and backslash escapes as
 * iptables-save writes them) that remember their column; one parse_<thing>
 * per option kind, as in wireguard-tools' config.c. This file reads lines,
 * tables, chains and rules; iptables_match.c the values, match modules and
 * targets of one rule (shared parts: iptables.h).
 */
#include "analyze/iptables.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/space.h"
#include "ir/iptsave.h"
#include "ir/names.h"

/* One line into words by the shared tokenizer (src/ir/iptsave.c). */
static int split_words(struct ctx *c, const char *s, size_t len, struct xg_ipt_line *out)
{
    unsigned col;
    if (xg_ipt_split(s, len, out, &col) == 0)
        return 0;
    if (!col)
        return xg_fail(c->err, "out of memory");
    return xg_fail_at(c->err, c->path, c->lineno, col, "unterminated quote");
}

/* --- built-in chains --- */

static int builtin_hook(const char *table, const char *chain, enum xg_hook *hook, int *prio)
{
    return xg_ipt_builtin(table, chain, hook, prio);
}

static struct xg_chain *get_chain(struct ctx *c, const char *name, unsigned col)
{
    struct xg_chain *ch = xg_table_find_chain(c->table, name);
    enum xg_hook hook = XG_HOOK_NONE;
    int prio = 0;
    if (ch)
        return ch;
    if (!*name || strlen(name) > 28) {
        xg_fail_at(c->err, c->path, c->lineno, col, "bad chain name '%s'", name);
        return NULL;
    }
    builtin_hook(c->table->name, name, &hook, &prio);
    ch = xg_table_add_chain(c->table, name, hook, prio, XG_VERDICT_ACCEPT);
    if (!ch)
        xg_fail(c->err, "out of memory");
    return ch;
}

static int parse_rule(struct ctx *c, struct xg_ipt_line *l, size_t start)
{
    struct rule_state st = {.c = c, .l = l, .i = start + 1, .proto = -1};
    struct xg_ipt_word *cmd = &l->w[start];
    struct xg_chain *ch;
    bool insert = !strcmp(cmd->s, "-I") || !strcmp(cmd->s, "--insert");
    const char *name;
    if (st.i >= l->n)
        return xg_fail_at(c->err, c->path, c->lineno, cmd->col, "%s needs a chain name", cmd->s);
    name = l->w[st.i].s;
    if (!(ch = get_chain(c, name, l->w[st.i].col)))
        return -1;
    st.i++;
    size_t pos = 1; /* -I CHAIN [N]: 1-based position, the top by default */
    if (insert && st.i < l->n && isdigit((unsigned char)l->w[st.i].s[0])) {
        pos = strtoul(l->w[st.i].s, NULL, 10);
        if (pos == 0)
            return xg_fail_at(c->err, c->path, c->lineno, l->w[st.i].col,
                              "rule positions start at 1");
        st.i++;
    }
    if (!(st.r = xg_chain_add_rule(ch)))
        return xg_fail(c->err, "out of memory");
    st.r->src_file = c->path;
    st.r->src_line = c->lineno;

    while (st.i < l->n) {
        struct xg_ipt_word *w = &l->w[st.i++];
        const char *o = w->s, *v;
        if (!strcmp(o, "!")) {
            st.neg = !st.neg;
            continue;
        }
        if (!strcmp(o, "-s") || !strcmp(o, "--source") || !strcmp(o, "--src")) {
            if (!(v = ipt_arg_neg(&st, o, w->col)) || ipt_add_addr(&st, XG_MATCH_SADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "-d") || !strcmp(o, "--destination") || !strcmp(o, "--dst")) {
            if (!(v = ipt_arg_neg(&st, o, w->col)) || ipt_add_addr(&st, XG_MATCH_DADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "-i") || !strcmp(o, "--in-interface")) {
            if (!(v = ipt_arg_neg(&st, o, w->col)) || ipt_add_ifname(&st, XG_MATCH_IIFNAME, v) < 0)
                return -1;
        } else if (!strcmp(o, "-o") || !strcmp(o, "--out-interface")) {
            if (!(v = ipt_arg_neg(&st, o, w->col)) || ipt_add_ifname(&st, XG_MATCH_OIFNAME, v) < 0)
                return -1;
        } else if (!strcmp(o, "-p") || !strcmp(o, "--protocol")) {
            int p;
            if (!(v = ipt_arg_neg(&st, o, w->col)))
                return -1;
            if (ipt_parse_proto(v, &p) < 0) {
                char text[128];
                snprintf(text, sizeof(text), "-p %s", v);
                if (ipt_add_unknown(&st, text) < 0)
                    return -1;
            } else if (p >= 0) {
                struct xg_match *m = xg_rule_add_match(st.r, XG_MATCH_L4PROTO, st.neg);
                if (!m)
                    return xg_fail(c->err, "out of memory");
                m->u.proto = (uint8_t)p;
                st.proto = st.neg ? -1 : p;
            }
            st.neg = false;
        } else if (!strcmp(o, "-m") || !strcmp(o, "--match")) {
            if (!(v = ipt_arg(&st, o, w->col)) || ipt_parse_module(&st, v, w->col) < 0)
                return -1;
        } else if (!strcmp(o, "-j") || !strcmp(o, "--jump") || !strcmp(o, "-g") ||
                   !strcmp(o, "--goto")) {
            if (!(v = ipt_arg(&st, o, w->col)) ||
                ipt_parse_target(&st, v, o[1] == 'g' || o[2] == 'g') < 0)
                return -1;
        } else if (!strcmp(o, "-c") || !strcmp(o, "--set-counters")) {
            if (!ipt_arg(&st, o, w->col) || !ipt_arg(&st, o, w->col))
                return -1;
        } else if (!strcmp(o, "-f") || !strcmp(o, "--fragment")) {
            if (ipt_add_unknown(&st, "-f") < 0)
                return -1;
        } else if (!strcmp(o, "-4") || !strcmp(o, "-6")) {
            if ((o[1] == '4') != (c->family == XG_FAMILY_IPV4)) {
                /* the rule is for the other family: it never matches here */
                struct xg_match *m = xg_rule_add_match(st.r, XG_MATCH_NFPROTO, false);
                if (!m)
                    return xg_fail(c->err, "out of memory");
                m->u.family = o[1] == '4' ? 4 : 6;
            }
        } else if (!strncmp(o, "--", 2) && (st.proto == IPPROTO_TCP || st.proto == IPPROTO_UDP ||
                                            st.proto == IPPROTO_SCTP || st.proto == IPPROTO_ICMP ||
                                            st.proto == IPPROTO_ICMPV6)) {
            /* implicit protocol match: "-p tcp --dport 22" */
            st.i--;
            if (ipt_parse_module(&st, st.proto == IPPROTO_TCP ? "tcp" : "udp", w->col) < 0)
                return -1;
            if (st.i < l->n && l->w[st.i].s == o) {
                st.i++;
                if (ipt_add_unknown(&st, o) < 0)
                    return -1;
            }
        } else {
            return xg_fail_at(c->err, c->path, c->lineno, w->col, "unknown option '%s'", o);
        }
    }
    if (insert && ch->rule_count > 1) {
        size_t at = pos - 1 < ch->rule_count - 1 ? pos - 1 : ch->rule_count - 1;
        struct xg_rule tmp = ch->rules[ch->rule_count - 1];
        memmove(&ch->rules[at + 1], &ch->rules[at], (ch->rule_count - 1 - at) * sizeof(tmp));
        ch->rules[at] = tmp;
    }
    return 0;
}

/* Targets that named a chain declared later become jumps. */
static void resolve_jumps(struct xg_table *t)
{
    for (size_t c = 0; c < t->chain_count; c++)
        for (size_t r = 0; r < t->chains[c]->rule_count; r++) {
            struct xg_rule *ru = &t->chains[c]->rules[r];
            if (ru->verdict == XG_VERDICT_UNKNOWN && ru->target &&
                xg_table_find_chain(t, ru->target))
                ru->verdict = XG_VERDICT_JUMP;
        }
}

static int parse_line(struct ctx *c, struct xg_ipt_line *l)
{
    struct xg_ipt_word *w0;
    size_t start = 0;
    if (!l->n || l->w[0].s[0] == '#')
        return 0;
    w0 = &l->w[0];
    if (w0->s[0] == '*') {
        if (!w0->s[1])
            return xg_fail_at(c->err, c->path, c->lineno, w0->col, "table name missing");
        if (c->table)
            resolve_jumps(c->table);
        if (!(c->table = xg_ruleset_add_table(
                  c->rs, w0->s + 1, c->family == XG_FAMILY_IPV6 ? XG_TABLE_IP6 : XG_TABLE_IP)))
            return xg_fail(c->err, "out of memory");
        return 0;
    }
    if (!strcmp(w0->s, "COMMIT")) {
        if (!c->table)
            return xg_fail_at(c->err, c->path, c->lineno, w0->col, "COMMIT outside a table");
        resolve_jumps(c->table);
        c->table = NULL;
        return 0;
    }
    if (!c->table)
        return xg_fail_at(c->err, c->path, c->lineno, w0->col,
                          "'%s' before any table (a line like '*filter')", w0->s);
    if (w0->s[0] == ':') {
        struct xg_chain *ch;
        if (!w0->s[1])
            return xg_fail_at(c->err, c->path, c->lineno, w0->col, "chain name missing");
        if (!(ch = get_chain(c, w0->s + 1, w0->col)))
            return -1;
        if (l->n > 1) {
            const char *p = l->w[1].s;
            if (!strcmp(p, "DROP"))
                ch->policy = XG_VERDICT_DROP;
            else if (!strcmp(p, "ACCEPT") || !strcmp(p, "-"))
                ch->policy = XG_VERDICT_ACCEPT;
            else
                return xg_fail_at(c->err, c->path, c->lineno, l->w[1].col,
                                  "policy must be ACCEPT or DROP, not '%s'", p);
        }
        return 0;
    }
    if (w0->s[0] == '[') {
        /* [packets:bytes] counters before the rule */
        if (w0->s[strlen(w0->s) - 1] != ']')
            return xg_fail_at(c->err, c->path, c->lineno, w0->col, "bad counters '%s'", w0->s);
        start = 1;
        if (l->n < 2)
            return xg_fail_at(c->err, c->path, c->lineno, w0->col, "counters without a rule");
    }
    if (!strcmp(l->w[start].s, "-A") || !strcmp(l->w[start].s, "--append") ||
        !strcmp(l->w[start].s, "-I") || !strcmp(l->w[start].s, "--insert"))
        return parse_rule(c, l, start);
    if (!strcmp(l->w[start].s, "-N") || !strcmp(l->w[start].s, "--new-chain")) {
        if (l->n < start + 2)
            return xg_fail_at(c->err, c->path, c->lineno, l->w[start].col, "-N needs a name");
        return get_chain(c, l->w[start + 1].s, l->w[start + 1].col) ? 0 : -1;
    }
    if (!strcmp(l->w[start].s, "-P") || !strcmp(l->w[start].s, "--policy")) {
        struct xg_chain *ch;
        if (l->n < start + 3)
            return xg_fail_at(c->err, c->path, c->lineno, l->w[start].col,
                              "-P needs a chain and a policy");
        if (!(ch = get_chain(c, l->w[start + 1].s, l->w[start + 1].col)))
            return -1;
        ch->policy = !strcmp(l->w[start + 2].s, "DROP") ? XG_VERDICT_DROP : XG_VERDICT_ACCEPT;
        return 0;
    }
    return xg_fail_at(c->err, c->path, c->lineno, l->w[start].col, "unexpected '%s'",
                      l->w[start].s);
}

int xg_parse_iptables_save(const char *text, size_t len, const char *path, uint8_t family,
                           struct xg_ruleset *out, struct xg_err *err)
{
    struct ctx c = {.path = path ? path : "<input>", .family = family, .rs = out, .err = err};
    size_t pos = 0;
    if (family != XG_FAMILY_IPV4 && family != XG_FAMILY_IPV6)
        return xg_fail(err, "iptables-save parser: family must be 4 or 6");
    while (pos < len) {
        const char *eol = memchr(text + pos, '\n', len - pos);
        size_t ll = eol ? (size_t)(eol - (text + pos)) : len - pos;
        struct xg_ipt_line l;
        c.lineno++;
        if (memchr(text + pos, '\0', ll))
            return xg_fail_at(err, c.path, c.lineno, 0, "NUL byte in text");
        if (split_words(&c, text + pos, ll, &l) < 0) {
            xg_ipt_line_free(&l);
            return -1;
        }
        if (parse_line(&c, &l) < 0) {
            xg_ipt_line_free(&l);
            return -1;
        }
        xg_ipt_line_free(&l);
        pos += ll + 1;
    }
    if (c.table)
        resolve_jumps(c.table); /* a dump cut before COMMIT: keep what is there */
    /* gotos to chains that do not exist: create them empty, as the kernel
     * would refuse the file anyway and this keeps the evaluator total */
    return 0;
}
