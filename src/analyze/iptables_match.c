/*
 * iptables_match.c — one iptables rule's options into IR matches and its
 * target into a verdict: addresses (with the dirty forms real dumps hold),
 * ports, protocols, conntrack states, match modules, and the targets that
 * continue (LOG, MARK...) or are kept as unknown.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/iptables.h"
#include "analyze/space.h"
#include "ir/names.h"

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

int ipt_parse_proto(const char *text, int *out)
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

const char *ipt_arg(struct rule_state *st, const char *opt, unsigned col)
{
    if (st->i >= st->l->n) {
        xg_fail_at(st->c->err, st->c->path, st->c->lineno, col, "option %s needs a value", opt);
        return NULL;
    }
    return st->l->w[st->i++].s;
}

/* Old syntax: "-s ! X" */
const char *ipt_arg_neg(struct rule_state *st, const char *opt, unsigned col)
{
    if (st->i < st->l->n && !strcmp(st->l->w[st->i].s, "!")) {
        st->neg = !st->neg;
        st->i++;
    }
    return ipt_arg(st, opt, col);
}

int ipt_add_unknown(struct rule_state *st, const char *text)
{
    struct xg_match *m = xg_rule_add_match(st->r, XG_MATCH_UNKNOWN, st->neg);
    st->neg = false;
    if (!m || !(m->u.text = strdup(text)))
        return xg_fail(st->c->err, "out of memory");
    return 0;
}

/* Add an address match of `kind` holding `pl` (taken over), or free it and say so. */
static int add_prefix_match(struct rule_state *st, enum xg_match_kind kind,
                            struct xg_prefix_list pl)
{
    struct xg_match *m = xg_rule_add_match(st->r, kind, st->neg);
    st->neg = false;
    if (!m) {
        xg_prefix_list_free(&pl);
        return xg_fail(st->c->err, "out of memory");
    }
    m->u.addrs.prefixes = pl;
    return 0;
}

int ipt_add_addr(struct rule_state *st, enum xg_match_kind kind, const char *val, const char *opt)
{
    struct xg_prefix_list pl = {0};
    char text[256];
    if (parse_addr_list(val, st->c->family, &pl) < 0) {
        xg_prefix_list_free(&pl);
        snprintf(text, sizeof(text), "%s %s", opt, val);
        return ipt_add_unknown(st, text);
    }
    return add_prefix_match(st, kind, pl);
}

static int add_range(struct rule_state *st, enum xg_match_kind kind, const char *val,
                     const char *opt)
{
    char buf[128], text[256];
    char *dash;
    struct xg_prefix a, b;
    struct xg_prefix_list pl = {0};
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
        return ipt_add_unknown(st, text);
    }
    return add_prefix_match(st, kind, pl);
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
        return ipt_add_unknown(st, text);
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

/* --src-type/--dst-type TYPE[,TYPE...] */
static int add_addrtype(struct rule_state *st, bool dst, const char *val, const char *opt)
{
    char *dup = strdup(val), *save = NULL;
    uint32_t types = 0;
    bool bad = false;
    if (!dup)
        return xg_fail(st->c->err, "out of memory");
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint32_t bit = xg_addrtype_parse(tok);
        bad |= !bit;
        types |= bit;
    }
    free(dup);
    if (bad || !types) {
        char text[256];
        snprintf(text, sizeof(text), "%s %s", opt, val);
        return ipt_add_unknown(st, text);
    }
    if (xg_rule_match_addrtype(st->r, dst, types, st->neg) < 0)
        return xg_fail(st->c->err, "out of memory");
    st->neg = false;
    return 0;
}

static int add_mac(struct rule_state *st, const char *val, const char *opt)
{
    uint8_t mac[1][6];
    if (xg_mac_parse(val, mac[0]) < 0) {
        char text[256];
        snprintf(text, sizeof(text), "%s %s", opt, val);
        return ipt_add_unknown(st, text);
    }
    if (xg_rule_match_macs(st->r, (const uint8_t(*)[6])mac, 1) < 0)
        return xg_fail(st->c->err, "out of memory");
    st->r->matches[st->r->match_count - 1].negate = st->neg;
    st->neg = false;
    return 0;
}

int ipt_add_ifname(struct rule_state *st, enum xg_match_kind kind, const char *val)
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
    return ipt_add_unknown(st, text);
}

/* addrtype's and mac's options: 1 taken, 0 not one of them, -1 error. */
static int link_option(struct rule_state *st, const char *o, unsigned col)
{
    const char *v;
    if (!strcmp(o, "--src-type") || !strcmp(o, "--dst-type"))
        return !(v = ipt_arg_neg(st, o, col)) || add_addrtype(st, o[2] == 'd', v, o) < 0 ? -1 : 1;
    if (!strcmp(o, "--mac-source"))
        return !(v = ipt_arg_neg(st, o, col)) || add_mac(st, v, o) < 0 ? -1 : 1;
    if (strcmp(o, "--limit-iface-in") && strcmp(o, "--limit-iface-out"))
        return 0;
    /* types as seen on the packet's interface: the host's own addresses are
     * LOCAL on every interface for the analyzer (see path.c) */
    for (size_t k = st->r->match_count; k-- > 0;)
        if (st->r->matches[k].kind == XG_MATCH_ADDRTYPE) {
            st->r->matches[k].u.addrtype.limit_iface = true;
            break;
        }
    return 1;
}

int ipt_parse_module(struct rule_state *st, const char *mod, unsigned col)
{
    int rc;
    static const char *const modelled[] = {"tcp",   "udp",       "sctp",    "multiport", "iprange",
                                           "state", "conntrack", "comment", "physdev",   "rpfilter",
                                           "icmp",  "icmp6",     "limit",   "addrtype",  "mac"};
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
            if (!(v = ipt_arg_neg(st, o, w->col)) || add_ports(st, XG_MATCH_DPORT, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--sport") || !strcmp(o, "--source-port") || !strcmp(o, "--sports") ||
                   !strcmp(o, "--source-ports")) {
            if (!(v = ipt_arg_neg(st, o, w->col)) || add_ports(st, XG_MATCH_SPORT, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--ports")) {
            /* source or destination port: for a new connection the source
             * port is the client's choice, so this is unknown unless it
             * covers every port */
            char text[256];
            if (!(v = ipt_arg_neg(st, o, w->col)))
                return -1;
            snprintf(text, sizeof(text), "-m multiport --ports %s", v);
            if (ipt_add_unknown(st, text) < 0)
                return -1;
        } else if ((rc = link_option(st, o, w->col)) != 0) {
            if (rc < 0)
                return -1;
        } else if (!strcmp(o, "--src-range")) {
            if (!(v = ipt_arg_neg(st, o, w->col)) || add_range(st, XG_MATCH_SADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--dst-range")) {
            if (!(v = ipt_arg_neg(st, o, w->col)) || add_range(st, XG_MATCH_DADDR, v, o) < 0)
                return -1;
        } else if (!strcmp(o, "--state") || !strcmp(o, "--ctstate")) {
            uint32_t states;
            struct xg_match *m;
            if (!(v = ipt_arg_neg(st, o, w->col)))
                return -1;
            if (parse_ct_states(v, &states) < 0) {
                char text[256];
                snprintf(text, sizeof(text), "%s %s", o, v);
                if (ipt_add_unknown(st, text) < 0)
                    return -1;
                continue;
            }
            if (!(m = xg_rule_add_match(st->r, XG_MATCH_CTSTATE, st->neg)))
                return xg_fail(st->c->err, "out of memory");
            m->u.ct_states = states;
            st->neg = false;
        } else if (!strcmp(o, "--comment")) {
            if (!(v = ipt_arg(st, o, w->col)))
                return -1;
            if (xg_rule_set_comment(st->r, v) < 0)
                return xg_fail(st->c->err, "out of memory");
        } else if (!strcmp(o, "--syn")) {
            /* a new connection's first packet is a SYN: --syn holds */
            if (st->neg) {
                if (ipt_add_unknown(st, "! --syn") < 0)
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
            if (ipt_add_unknown(st, text) < 0)
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

int ipt_parse_target(struct rule_state *st, const char *target, bool is_goto)
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
