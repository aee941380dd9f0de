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
 * per option kind, as in wireguard-tools' config.c.
 */
#include "analyze/analyze.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/space.h"
#include "ir/iptsave.h"
#include "ir/names.h"

struct ctx {
    const char *path;
    unsigned lineno;
    uint8_t family;
    struct xg_ruleset *rs;
    struct xg_table *table;
    struct xg_err *err;
};

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
    static const struct {
        const char *name;
        enum xg_hook hook;
    } hooks[] = {{"PREROUTING", XG_HOOK_PREROUTING},
                 {"INPUT", XG_HOOK_INPUT},
                 {"FORWARD", XG_HOOK_FORWARD},
                 {"OUTPUT", XG_HOOK_OUTPUT},
                 {"POSTROUTING", XG_HOOK_POSTROUTING}};
    enum xg_hook h = XG_HOOK_NONE;
    for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
        if (!strcmp(chain, hooks[i].name))
            h = hooks[i].hook;
    if (h == XG_HOOK_NONE)
        return 0;
    if (!strcmp(table, "filter")) {
        if (h == XG_HOOK_PREROUTING || h == XG_HOOK_POSTROUTING)
            return 0;
        *prio = XG_PRIO_FILTER;
    } else if (!strcmp(table, "raw")) {
        if (h != XG_HOOK_PREROUTING && h != XG_HOOK_OUTPUT)
            return 0;
        *prio = XG_PRIO_RAW;
    } else if (!strcmp(table, "mangle")) {
        *prio = XG_PRIO_MANGLE;
    } else if (!strcmp(table, "nat")) {
        if (h == XG_HOOK_FORWARD)
            return 0;
        *prio = (h == XG_HOOK_PREROUTING || h == XG_HOOK_OUTPUT) ? XG_PRIO_DSTNAT : XG_PRIO_SRCNAT;
    } else if (!strcmp(table, "security")) {
        if (h == XG_HOOK_PREROUTING || h == XG_HOOK_POSTROUTING)
            return 0;
        *prio = XG_PRIO_SECURITY;
    } else {
        return 0;
    }
    *hook = h;
    return 1;
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

/* --- values --- */

/* Dotted mask to a prefix length; -1 if not contiguous. */
static int mask_len(const char *text, uint8_t family)
{
    struct xg_prefix m;
    unsigned bits, len = 0;
    if (xg_addr_parse(text, &m) < 0 || m.family != family)
        return -1;
    bits = xg_family_bits(family);
    while (len < bits && (m.addr[len / 8] & (0x80 >> (len % 8))))
        len++;
    for (unsigned i = len; i < bits; i++)
        if (m.addr[i / 8] & (0x80 >> (i % 8)))
            return -1;
    return (int)len;
}

/* "ADDR", "ADDR/LEN", "ADDR/MASK"; 0 ok, -1 not understood (censored, non-contiguous). */
static int parse_one_addr(const char *text, uint8_t family, struct xg_prefix *out)
{
    char buf[128], why[160];
    const char *slash = strchr(text, '/');
    if (strlen(text) >= sizeof(buf))
        return -1;
    if (slash && strchr(slash + 1, family == XG_FAMILY_IPV4 ? '.' : ':')) {
        int len = mask_len(slash + 1, family);
        if (len < 0)
            return -1;
        snprintf(buf, sizeof(buf), "%.*s/%d", (int)(slash - text), text, len);
    } else {
        snprintf(buf, sizeof(buf), "%s", text);
    }
    if (xg_prefix_parse(buf, XG_PREFIX_MASK, out, why, sizeof(why)) < 0)
        return -1;
    return out->family == family ? 0 : -1;
}

static int parse_addr_list(const char *text, uint8_t family, struct xg_prefix_list *out)
{
    char *dup = strdup(text), *save = NULL;
    int rc = 0;
    if (!dup)
        return -1;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct xg_prefix p;
        if (parse_one_addr(tok, family, &p) < 0 || xg_prefix_list_add(out, &p) < 0) {
            rc = -1;
            break;
        }
    }
    if (!out->count)
        rc = -1;
    free(dup);
    return rc;
}

/* Protocols iptables-save may name that the shared table (ir/names) does not. */
static const struct {
    const char *name;
    uint8_t num;
} extra_protos[] = {{"igmp", IPPROTO_IGMP}, {"ipv6", IPPROTO_IPV6}, {"ipip", IPPROTO_IPIP},
                    {"ospf", 89},           {"vrrp", 112},          {"pim", 103}};

static int parse_proto(const char *text, int *out)
{
    int p;
    if (!strcasecmp(text, "all") || !strcmp(text, "0")) {
        *out = -1;
        return 0;
    }
    if ((p = xg_l4proto_parse(text)) > 0) {
        *out = p;
        return 0;
    }
    for (size_t i = 0; i < sizeof(extra_protos) / sizeof(extra_protos[0]); i++)
        if (!strcasecmp(text, extra_protos[i].name)) {
            *out = extra_protos[i].num;
            return 0;
        }
    return -1;
}

static const struct {
    const char *name;
    uint16_t port;
} services[] = {{"ssh", 22},   {"http", 80},       {"https", 443},  {"domain", 53},
                {"smtp", 25},  {"ftp", 21},        {"telnet", 23},  {"ntp", 123},
                {"snmp", 161}, {"bootps", 67},     {"bootpc", 68},  {"imap", 143},
                {"pop3", 110}, {"ldap", 389},      {"mysql", 3306}, {"postgresql", 5432},
                {"www", 80},   {"submission", 587}};

static int parse_port(const char *text, uint16_t *out)
{
    char *end;
    unsigned long v;
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (!strcmp(text, services[i].name)) {
            *out = services[i].port;
            return 0;
        }
    if (!isdigit((unsigned char)*text))
        return -1;
    v = strtoul(text, &end, 10);
    if (*end || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* "22", "1000:2000", ":1024", "1024:" (sep ':' or '-') */
static int parse_port_range(const char *text, struct xg_port_range *r)
{
    char buf[64];
    char *sep;
    snprintf(buf, sizeof(buf), "%s", text);
    sep = strchr(buf, ':');
    if (!sep)
        sep = strchr(buf, '-');
    if (!sep) {
        if (parse_port(buf, &r->lo) < 0)
            return -1;
        r->hi = r->lo;
        return 0;
    }
    *sep = '\0';
    r->lo = 0;
    r->hi = 65535;
    if (buf[0] && parse_port(buf, &r->lo) < 0)
        return -1;
    if (sep[1] && parse_port(sep + 1, &r->hi) < 0)
        return -1;
    if (r->lo > r->hi) {
        uint16_t t = r->lo;
        r->lo = r->hi;
        r->hi = t;
    }
    return 0;
}

static int parse_port_list(const char *text, struct xg_port_range **out, size_t *count)
{
    char *dup = strdup(text), *save = NULL;
    *out = NULL;
    *count = 0;
    if (!dup)
        return -1;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct xg_port_range r, *g;
        if (parse_port_range(tok, &r) < 0 || !(g = realloc(*out, (*count + 1) * sizeof(*g)))) {
            free(dup);
            free(*out);
            *out = NULL;
            return -1;
        }
        *out = g;
        (*out)[(*count)++] = r;
    }
    free(dup);
    if (!*count)
        return -1;
    return 0;
}

static int parse_ct_states(const char *text, uint32_t *out)
{
    char *dup = strdup(text), *save = NULL;
    *out = 0;
    if (!dup)
        return -1;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint32_t bit = xg_ct_state_parse(tok);
        /* SNAT/DNAT: NATed connections; a new connection is not (yet) one */
        if (!bit && strcasecmp(tok, "SNAT") && strcasecmp(tok, "DNAT")) {
            free(dup);
            return -1;
        }
        *out |= bit;
    }
    free(dup);
    return 0;
}

/* --- rules --- */

struct rule_state {
    struct ctx *c;
    struct xg_ipt_line *l;
    size_t i;          /* next word */
    struct xg_rule *r; /* being filled */
    bool neg;          /* a pending "!" */
    int proto;         /* -p value, -1 none */
};

static bool is_generic(const char *s)
{
    static const char *const g[] = {"-m",
                                    "--match",
                                    "-j",
                                    "--jump",
                                    "-g",
                                    "--goto",
                                    "-s",
                                    "--source",
                                    "--src",
                                    "-d",
                                    "--destination",
                                    "--dst",
                                    "-p",
                                    "--protocol",
                                    "-i",
                                    "--in-interface",
                                    "-o",
                                    "--out-interface",
                                    "-c",
                                    "--set-counters",
                                    "-f",
                                    "--fragment",
                                    "-4",
                                    "-6",
                                    "-A",
                                    "--append",
                                    "-I",
                                    "--insert"};
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
        if (!strcmp(s, g[i]))
            return true;
    return false;
}

static const char *arg(struct rule_state *st, const char *opt, unsigned col)
{
    if (st->i >= st->l->n) {
        xg_fail_at(st->c->err, st->c->path, st->c->lineno, col, "option %s needs a value", opt);
        return NULL;
    }
    return st->l->w[st->i++].s;
}

/* Old syntax: "-s ! X" */
static const char *arg_neg(struct rule_state *st, const char *opt, unsigned col)
{
    if (st->i < st->l->n && !strcmp(st->l->w[st->i].s, "!")) {
        st->neg = !st->neg;
        st->i++;
    }
    return arg(st, opt, col);
}

static int add_unknown(struct rule_state *st, const char *text)
{
    struct xg_match *m = xg_rule_add_match(st->r, XG_MATCH_UNKNOWN, st->neg);
    st->neg = false;
    if (!m || !(m->u.text = strdup(text)))
        return xg_fail(st->c->err, "out of memory");
    return 0;
}

static int add_addr(struct rule_state *st, enum xg_match_kind kind, const char *val,
                    const char *opt)
{
    struct xg_prefix_list pl = {0};
    struct xg_match *m;
    char text[256];
    if (parse_addr_list(val, st->c->family, &pl) < 0) {
        xg_prefix_list_free(&pl);
        snprintf(text, sizeof(text), "%s %s", opt, val);
        return add_unknown(st, text);
    }
    m = xg_rule_add_match(st->r, kind, st->neg);
    st->neg = false;
    if (!m) {
        xg_prefix_list_free(&pl);
        return xg_fail(st->c->err, "out of memory");
    }
    m->u.addrs.prefixes = pl;
    return 0;
}

static int add_range(struct rule_state *st, enum xg_match_kind kind, const char *val,
                     const char *opt)
{
    char buf[128], text[256];
    char *dash;
    struct xg_prefix a, b;
    struct xg_prefix_list pl = {0};
    struct xg_match *m;
    snprintf(buf, sizeof(buf), "%s", val);
    dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    if (xg_addr_parse(buf, &a) < 0 || a.family != st->c->family ||
        xg_addr_parse(dash ? dash + 1 : buf, &b) < 0 || b.family != a.family ||
        xg_prefix_lo(&a) > xg_prefix_lo(&b) ||
        xg_range_to_prefixes(xg_prefix_lo(&a), xg_prefix_lo(&b), a.family, &pl) < 0) {
        xg_prefix_list_free(&pl);
        snprintf(text, sizeof(text), "%s %s", opt, val);
        return add_unknown(st, text);
    }
    m = xg_rule_add_match(st->r, kind, st->neg);
    st->neg = false;
    if (!m) {
        xg_prefix_list_free(&pl);
        return xg_fail(st->c->err, "out of memory");
    }
    m->u.addrs.prefixes = pl;
    return 0;
}

static int add_ports(struct rule_state *st, enum xg_match_kind kind, const char *val,
                     const char *opt)
{
    struct xg_port_range *ranges;
    size_t n;
    struct xg_match *m;
    if (parse_port_list(val, &ranges, &n) < 0) {
        char text[256];
        snprintf(text, sizeof(text), "%s %s", opt, val);
        return add_unknown(st, text);
    }
    m = xg_rule_add_match(st->r, kind, st->neg);
    st->neg = false;
    if (!m) {
        free(ranges);
        return xg_fail(st->c->err, "out of memory");
    }
    m->u.ports.ranges = ranges;
    m->u.ports.count = n;
    return 0;
}

static int add_ifname(struct rule_state *st, enum xg_match_kind kind, const char *val)
{
    struct xg_match *m = xg_rule_add_match(st->r, kind, st->neg);
    st->neg = false;
    if (!m)
        return xg_fail(st->c->err, "out of memory");
    snprintf(m->u.ifname, sizeof(m->u.ifname), "%s", val);
    return 0;
}

/* Consume the options of a module we do not model, into one UNKNOWN match. */
static int skip_module(struct rule_state *st, const char *module)
{
    char text[512];
    size_t used = (size_t)snprintf(text, sizeof(text), "-m %s", module);
    bool neg = st->neg;
    st->neg = false;
    while (st->i < st->l->n) {
        const char *w = st->l->w[st->i].s;
        if (!strcmp(w, "!")) {
            if (st->i + 1 < st->l->n && !is_generic(st->l->w[st->i + 1].s)) {
                if (used < sizeof(text))
                    used += (size_t)snprintf(text + used, sizeof(text) - used, " !");
                st->i++;
                continue;
            }
            break;
        }
        if (is_generic(w))
            break;
        if (used < sizeof(text))
            used += (size_t)snprintf(text + used, sizeof(text) - used, " %s", w);
        st->i++;
    }
    st->neg = neg;
    return add_unknown(st, text);
}

static int parse_module(struct rule_state *st, const char *mod, unsigned col)
{
    static const char *const modelled[] = {"tcp",   "udp",       "sctp",    "multiport", "iprange",
                                           "state", "conntrack", "comment", "physdev",   "rpfilter",
                                           "icmp",  "icmp6",     "limit"};
    bool known = false;
    (void)col;
    for (size_t i = 0; i < sizeof(modelled) / sizeof(modelled[0]); i++)
        if (!strcmp(mod, modelled[i]))
            known = true;
    if (!known)
        return skip_module(st, mod);
    if (!strcmp(mod, "rpfilter")) {
        struct xg_match *m = xg_rule_add_match(st->r, XG_MATCH_RPF_OK, st->neg);
        if (!m)
            return xg_fail(st->c->err, "out of memory");
        st->neg = false;
    }

    while (st->i < st->l->n) {
        struct xg_ipt_word *w = &st->l->w[st->i];
        const char *o = w->s, *v;
        if (!strcmp(o, "!")) {
            if (st->i + 1 < st->l->n && !is_generic(st->l->w[st->i + 1].s)) {
                st->neg = !st->neg;
                st->i++;
                continue;
            }
            return 0;
        }
        if (is_generic(o) || strncmp(o, "--", 2) != 0)
            return 0;
        st->i++;
        if (!strcmp(o, "--dport") || !strcmp(o, "--destination-port") || !strcmp(o, "--dports") ||
            !strcmp(o, "--destination-ports")) {
            if (!(v = arg_neg(st, o, w->col)) || add_ports(st, XG_MATCH_DPORT, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--sport") || !strcmp(o, "--source-port") || !strcmp(o, "--sports") ||
                   !strcmp(o, "--source-ports")) {
            if (!(v = arg_neg(st, o, w->col)) || add_ports(st, XG_MATCH_SPORT, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--ports")) {
            /* source or destination port: for a new connection the source
             * port is the client's choice, so this is unknown unless it
             * covers every port */
            char text[256];
            if (!(v = arg_neg(st, o, w->col)))
                return -1;
            snprintf(text, sizeof(text), "-m multiport --ports %s", v);
            if (add_unknown(st, text) < 0)
                return -1;
        } else if (!strcmp(o, "--src-range")) {
            if (!(v = arg_neg(st, o, w->col)) || add_range(st, XG_MATCH_SADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--dst-range")) {
            if (!(v = arg_neg(st, o, w->col)) || add_range(st, XG_MATCH_DADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--state") || !strcmp(o, "--ctstate")) {
            uint32_t states;
            struct xg_match *m;
            if (!(v = arg_neg(st, o, w->col)))
                return -1;
            if (parse_ct_states(v, &states) < 0) {
                char text[256];
                snprintf(text, sizeof(text), "%s %s", o, v);
                if (add_unknown(st, text) < 0)
                    return -1;
                continue;
            }
            if (!(m = xg_rule_add_match(st->r, XG_MATCH_CTSTATE, st->neg)))
                return xg_fail(st->c->err, "out of memory");
            m->u.ct_states = states;
            st->neg = false;
        } else if (!strcmp(o, "--comment")) {
            if (!(v = arg(st, o, w->col)))
                return -1;
            if (xg_rule_set_comment(st->r, v) < 0)
                return xg_fail(st->c->err, "out of memory");
        } else if (!strcmp(o, "--syn")) {
            /* a new connection's first packet is a SYN: --syn holds */
            if (st->neg) {
                if (add_unknown(st, "! --syn") < 0)
                    return -1;
                /* mark as never for new connections: an unknown that is false
                 * would be more precise; keep it honest and simple */
            }
        } else if (!strcmp(o, "--invert") && !strcmp(mod, "rpfilter")) {
            for (size_t k = st->r->match_count; k-- > 0;)
                if (st->r->matches[k].kind == XG_MATCH_RPF_OK) {
                    st->r->matches[k].negate = !st->r->matches[k].negate;
                    break;
                }
        } else {
            /* an option of a known module we do not model: take its values too */
            char text[512];
            size_t used = (size_t)snprintf(text, sizeof(text), "%s", o);
            while (st->i < st->l->n && strncmp(st->l->w[st->i].s, "--", 2) != 0 &&
                   strcmp(st->l->w[st->i].s, "!") != 0 && !is_generic(st->l->w[st->i].s)) {
                if (used < sizeof(text))
                    used += (size_t)snprintf(text + used, sizeof(text) - used, " %s",
                                             st->l->w[st->i].s);
                st->i++;
            }
            if (!strcmp(o, "--loose") || !strcmp(o, "--validmark") || !strcmp(o, "--accept-local"))
                continue; /* rpfilter flags: keep the plain rpfilter model */
            if (add_unknown(st, text) < 0)
                return -1;
        }
    }
    return 0;
}

static const char *const continuing_targets[] = {"LOG",         "NFLOG",
                                                 "ULOG",        "MARK",
                                                 "CONNMARK",    "TRACE",
                                                 "AUDIT",       "TCPMSS",
                                                 "DSCP",        "TOS",
                                                 "TTL",         "HL",
                                                 "CLASSIFY",    "SECMARK",
                                                 "CONNSECMARK", "IDLETIMER",
                                                 "LED",         "CHECKSUM",
                                                 "SET",         "TEE",
                                                 "RATEEST",     "NFQUEUE-bypass-never"};

static int parse_target(struct rule_state *st, const char *target, bool is_goto)
{
    struct xg_rule *r = st->r;
    if (is_goto)
        return xg_rule_set_target(r, XG_VERDICT_GOTO, target) < 0
                   ? xg_fail(st->c->err, "out of memory")
                   : 0;
    if (!strcmp(target, "ACCEPT")) {
        r->verdict = XG_VERDICT_ACCEPT;
    } else if (!strcmp(target, "DROP")) {
        r->verdict = XG_VERDICT_DROP;
    } else if (!strcmp(target, "REJECT")) {
        r->verdict = XG_VERDICT_REJECT;
    } else if (!strcmp(target, "RETURN")) {
        r->verdict = XG_VERDICT_RETURN;
    } else {
        bool cont = false;
        for (size_t i = 0; i < sizeof(continuing_targets) / sizeof(continuing_targets[0]); i++)
            if (!strcmp(target, continuing_targets[i]))
                cont = true;
        if (cont) {
            r->verdict = XG_VERDICT_CONTINUE;
            if ((!strcmp(target, "LOG") || !strcmp(target, "NFLOG")) &&
                xg_rule_set_log(r, "", -1) < 0)
                return xg_fail(st->c->err, "out of memory");
        } else if (xg_table_find_chain(st->c->table, target)) {
            if (xg_rule_set_target(r, XG_VERDICT_JUMP, target) < 0)
                return xg_fail(st->c->err, "out of memory");
        } else if (xg_rule_set_target(r, XG_VERDICT_UNKNOWN, target) < 0) {
            /* resolved to a jump at COMMIT if a chain of that name appears */
            return xg_fail(st->c->err, "out of memory");
        }
    }
    /* target options */
    while (st->i < st->l->n) {
        const char *o = st->l->w[st->i].s;
        if (is_generic(o))
            break;
        st->i++;
        if (!strcmp(o, "--reject-with") && st->i < st->l->n) {
            const char *v = st->l->w[st->i++].s;
            r->reject = !strcmp(v, "tcp-reset") ? XG_REJECT_TCP_RESET
                        : strstr(v, "admin-prohib") || strstr(v, "adm-prohibited")
                            ? XG_REJECT_ADMIN_PROHIBITED
                            : XG_REJECT_DEFAULT;
        } else if ((!strcmp(o, "--log-prefix") || !strcmp(o, "--nflog-prefix")) &&
                   st->i < st->l->n) {
            if (r->log)
                snprintf(r->log->prefix, sizeof(r->log->prefix), "%s", st->l->w[st->i].s);
            st->i++;
        } else if (!strcmp(o, "--log-level") && st->i < st->l->n) {
            if (r->log)
                r->log->level = atoi(st->l->w[st->i].s);
            st->i++;
        }
    }
    return 0;
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
            if (!(v = arg_neg(&st, o, w->col)) || add_addr(&st, XG_MATCH_SADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "-d") || !strcmp(o, "--destination") || !strcmp(o, "--dst")) {
            if (!(v = arg_neg(&st, o, w->col)) || add_addr(&st, XG_MATCH_DADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "-i") || !strcmp(o, "--in-interface")) {
            if (!(v = arg_neg(&st, o, w->col)) || add_ifname(&st, XG_MATCH_IIFNAME, v) < 0)
                return -1;
        } else if (!strcmp(o, "-o") || !strcmp(o, "--out-interface")) {
            if (!(v = arg_neg(&st, o, w->col)) || add_ifname(&st, XG_MATCH_OIFNAME, v) < 0)
                return -1;
        } else if (!strcmp(o, "-p") || !strcmp(o, "--protocol")) {
            int p;
            if (!(v = arg_neg(&st, o, w->col)))
                return -1;
            if (parse_proto(v, &p) < 0) {
                char text[128];
                snprintf(text, sizeof(text), "-p %s", v);
                if (add_unknown(&st, text) < 0)
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
            if (!(v = arg(&st, o, w->col)) || parse_module(&st, v, w->col) < 0)
                return -1;
        } else if (!strcmp(o, "-j") || !strcmp(o, "--jump") || !strcmp(o, "-g") ||
                   !strcmp(o, "--goto")) {
            if (!(v = arg(&st, o, w->col)) || parse_target(&st, v, o[1] == 'g' || o[2] == 'g') < 0)
                return -1;
        } else if (!strcmp(o, "-c") || !strcmp(o, "--set-counters")) {
            if (!arg(&st, o, w->col) || !arg(&st, o, w->col))
                return -1;
        } else if (!strcmp(o, "-f") || !strcmp(o, "--fragment")) {
            if (add_unknown(&st, "-f") < 0)
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
            if (parse_module(&st, st.proto == IPPROTO_TCP ? "tcp" : "udp", w->col) < 0)
                return -1;
            if (st.i < l->n && l->w[st.i].s == o) {
                st.i++;
                if (add_unknown(&st, o) < 0)
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
