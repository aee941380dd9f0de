/*
 * nftjson.c — `nft -j list ruleset` into the IR.
 *
 * jansson reads the JSON; this file maps nft's expression tree onto the
 * IR's flat "matches then verdict" rules. Two passes over the top-level
 * array: first tables, sets, maps and chains (rules may refer to any of
 * them), then rules.
 *
 * A rule whose match can take one of several values that a packet has only
 * one of (an interface set, a protocol set, a verdict map's keys) becomes
 * several IR rules, one per value, in a row: at most one of them can match a
 * given packet, so the order and the outcome are those of the original rule.
 * Everything else nft can say and xenguard does not model becomes
 * XG_MATCH_UNKNOWN or XG_VERDICT_UNKNOWN with a short description, so the
 * evaluator's may/must bounds stay honest. Rules keep their nft handle.
 */
#include "analyze/analyze.h"

#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/space.h"
#include "ir/names.h"

struct nmap {
    const char *family, *table, *name;
    json_t *elem; /* borrowed from the document */
    bool is_addr; /* ipv4_addr / ipv6_addr set, mirrored into the IR */
};

struct ntable {
    const char *family; /* borrowed from the document */
    struct xg_table *t;
};

struct nctx {
    const char *path;
    struct ntable *tables;
    size_t ntables;
    struct xg_ruleset *rs;
    struct nmap *maps; /* sets and maps */
    size_t nmaps;
    struct xg_err *err;
    size_t item; /* index in the nftables array, for errors */
};

/* A rule being built: alternatives (see above). */
struct alts {
    struct xg_rule *r;
    size_t n;
};

static void alts_free(struct alts *a)
{
    for (size_t i = 0; i < a->n; i++)
        xg_rule_clear(&a->r[i]);
    free(a->r);
    a->r = NULL;
    a->n = 0;
}

static enum xg_table_family table_family(const char *f)
{
    return xg_table_family_parse(f);
}

static struct xg_table *find_table(struct nctx *c, const char *family, const char *name)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (!strcmp(c->tables[i].t->name, name) && !strcmp(c->tables[i].family, family))
            return c->tables[i].t;
    return NULL;
}

static int fail(struct nctx *c, const char *what)
{
    return xg_fail_at(c->err, c->path, 0, 0, "nftables item %zu: %s", c->item + 1, what);
}

static enum xg_hook hook_of(const char *h)
{
    return xg_hook_parse(h);
}

static int prio_of(json_t *p)
{
    size_t count;
    const struct xg_priority_name *t = xg_priority_names(&count);
    if (json_is_integer(p))
        return (int)json_integer_value(p);
    if (json_is_string(p)) {
        const char *s = json_string_value(p);
        for (size_t i = 0; i < count; i++) {
            size_t n = strlen(t[i].name);
            if (!strncmp(s, t[i].name, n))
                return t[i].value + atoi(s + n); /* "filter + 10" -> atoi(" + 10") is 0; rare */
        }
    }
    return 0;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* --- values --- */

/* An address-ish value: "a", {"prefix":..}, {"range":[a,b]}; appends prefixes. */
static int addr_value(json_t *v, uint8_t family, struct xg_prefix_list *out)
{
    struct xg_prefix p, q;
    char why[160];
    json_t *x;
    if (json_is_object(v) && (x = json_object_get(v, "elem")))
        return addr_value(json_object_get(x, "val"), family, out);
    if (json_is_string(v)) {
        if (xg_prefix_parse(json_string_value(v), XG_PREFIX_MASK, &p, why, sizeof(why)) < 0 ||
            (family && p.family != family))
            return -1;
        return xg_prefix_list_add(out, &p);
    }
    if (json_is_object(v) && (x = json_object_get(v, "prefix"))) {
        const char *a = jstr(x, "addr");
        json_t *len = json_object_get(x, "len");
        if (!a || !json_is_integer(len) || xg_addr_parse(a, &p) < 0 ||
            (family && p.family != family) || json_integer_value(len) < 0 ||
            json_integer_value(len) > xg_family_bits(p.family))
            return -1;
        p.len = (uint8_t)json_integer_value(len);
        xg_prefix_mask(&p);
        return xg_prefix_list_add(out, &p);
    }
    if (json_is_object(v) && (x = json_object_get(v, "range")) && json_is_array(x) &&
        json_array_size(x) == 2) {
        json_t *a = json_array_get(x, 0), *b = json_array_get(x, 1);
        if (!json_is_string(a) || !json_is_string(b) ||
            xg_addr_parse(json_string_value(a), &p) < 0 ||
            xg_addr_parse(json_string_value(b), &q) < 0 || p.family != q.family ||
            (family && p.family != family) || xg_prefix_lo(&p) > xg_prefix_lo(&q))
            return -1;
        return xg_range_to_prefixes(xg_prefix_lo(&p), xg_prefix_lo(&q), p.family, out);
    }
    return -1;
}

static int port_value(json_t *v, struct xg_port_range *r)
{
    json_t *x;
    if (json_is_object(v) && (x = json_object_get(v, "elem")))
        return port_value(json_object_get(x, "val"), r);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 65535) {
        r->lo = r->hi = (uint16_t)json_integer_value(v);
        return 0;
    }
    if (json_is_object(v) && (x = json_object_get(v, "range")) && json_array_size(x) == 2) {
        struct xg_port_range a, b;
        if (port_value(json_array_get(x, 0), &a) < 0 || port_value(json_array_get(x, 1), &b) < 0)
            return -1;
        r->lo = a.lo < b.lo ? a.lo : b.lo;
        r->hi = a.hi > b.hi ? a.hi : b.hi;
        return 0;
    }
    if (json_is_string(v)) {
        static const struct {
            const char *n;
            uint16_t p;
        } svc[] = {{"ssh", 22}, {"http", 80}, {"https", 443}, {"domain", 53}, {"ntp", 123}};
        for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++)
            if (!strcmp(json_string_value(v), svc[i].n)) {
                r->lo = r->hi = svc[i].p;
                return 0;
            }
    }
    return -1;
}

static int proto_value(json_t *v, uint8_t *out)
{
    json_t *x;
    int p;
    if (json_is_object(v) && (x = json_object_get(v, "elem")))
        return proto_value(json_object_get(x, "val"), out);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 256) {
        *out = (uint8_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && (p = xg_l4proto_parse(json_string_value(v))) >= 0) {
        *out = (uint8_t)p;
        return 0;
    }
    return -1;
}

/* The list of values of a right-hand side: a literal, an anonymous set, a
 * named set. Returns a new reference to an array, or NULL. */
static json_t *values_of(struct nctx *c, const char *family, const char *table, json_t *right,
                         const char **set_name)
{
    json_t *x;
    *set_name = NULL;
    if (json_is_string(right) && json_string_value(right)[0] == '@') {
        const char *name = json_string_value(right) + 1;
        for (size_t i = 0; i < c->nmaps; i++)
            if (!strcmp(c->maps[i].name, name) && !strcmp(c->maps[i].table, table) &&
                !strcmp(c->maps[i].family, family)) {
                *set_name = c->maps[i].is_addr ? c->maps[i].name : NULL;
                return c->maps[i].elem ? json_incref(c->maps[i].elem) : json_array();
            }
        return NULL;
    }
    if (json_is_object(right) && (x = json_object_get(right, "set"))) {
        if (json_is_array(x))
            return json_incref(x);
        json_t *a = json_array();
        json_array_append(a, x);
        return a;
    }
    if (json_is_array(right))
        return json_incref(right);
    json_t *a = json_array();
    json_array_append(a, right);
    return a;
}

/* --- building --- */

static int add_unknown(struct nctx *c, struct alts *a, const char *text)
{
    for (size_t i = 0; i < a->n; i++) {
        struct xg_match *m = xg_rule_add_match(&a->r[i], XG_MATCH_UNKNOWN, false);
        if (!m || !(m->u.text = strdup(text)))
            return xg_fail(c->err, "out of memory");
    }
    return 0;
}

static int add_family(struct nctx *c, struct alts *a, uint8_t family)
{
    for (size_t i = 0; i < a->n; i++)
        if (xg_rule_match_family(&a->r[i], family) < 0)
            return xg_fail(c->err, "out of memory");
    return 0;
}

static int add_proto(struct nctx *c, struct alts *a, uint8_t proto, bool negate)
{
    for (size_t i = 0; i < a->n; i++) {
        struct xg_match *m = xg_rule_add_match(&a->r[i], XG_MATCH_L4PROTO, negate);
        if (!m)
            return xg_fail(c->err, "out of memory");
        m->u.proto = proto;
    }
    return 0;
}

/* Replace each alternative by n copies, the j-th getting `fill(j)`. */
typedef int (*fill_fn)(struct xg_rule *r, size_t j, void *arg);

static int expand(struct nctx *c, struct alts *a, size_t n, fill_fn fill, void *arg)
{
    struct alts out = {0};
    if (n == 0) {
        /* no value can match: keep nothing (an empty anonymous set) */
        alts_free(a);
        return 0;
    }
    if (a->n > 65536 / n)
        return fail(c, "rule expands into more than 65536 alternatives");
    out.r = calloc(a->n * n + 1, sizeof(*out.r));
    if (!out.r)
        return xg_fail(c->err, "out of memory");
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < n; j++) {
            struct xg_rule *r = &out.r[out.n];
            if (xg_rule_copy(r, &a->r[i]) < 0) {
                alts_free(&out);
                return xg_fail(c->err, "out of memory");
            }
            out.n++;
            if (fill(r, j, arg) < 0) {
                alts_free(&out);
                return xg_fail(c->err, "out of memory");
            }
        }
    alts_free(a);
    *a = out;
    return 0;
}

struct ifname_fill {
    json_t *vals;
    enum xg_match_kind kind;
};

static int fill_ifname(struct xg_rule *r, size_t j, void *arg)
{
    struct ifname_fill *f = arg;
    json_t *v = json_array_get(f->vals, j);
    struct xg_match *m = xg_rule_add_match(r, f->kind, false);
    if (!m)
        return -1;
    if (json_is_object(v) && json_object_get(v, "elem"))
        v = json_object_get(json_object_get(v, "elem"), "val");
    snprintf(m->u.ifname, sizeof(m->u.ifname), "%s", json_is_string(v) ? json_string_value(v) : "");
    return 0;
}

struct proto_fill {
    uint8_t *protos;
};

static int fill_proto(struct xg_rule *r, size_t j, void *arg)
{
    struct proto_fill *f = arg;
    return xg_rule_match_proto(r, f->protos[j]);
}

static int match_ifname(struct nctx *c, struct alts *a, enum xg_match_kind kind, bool negate,
                        json_t *vals)
{
    size_t n = json_array_size(vals);
    for (size_t k = 0; k < n; k++) {
        json_t *v = json_array_get(vals, k);
        if (json_is_object(v) && json_object_get(v, "elem"))
            v = json_object_get(json_object_get(v, "elem"), "val");
        if (!json_is_string(v))
            return add_unknown(c, a, "interface match on a non-name");
    }
    if (negate) {
        for (size_t i = 0; i < a->n; i++)
            for (size_t k = 0; k < n; k++) {
                struct ifname_fill f = {vals, kind};
                if (fill_ifname(&a->r[i], k, &f) < 0)
                    return xg_fail(c->err, "out of memory");
                a->r[i].matches[a->r[i].match_count - 1].negate = true;
            }
        return 0;
    }
    struct ifname_fill f = {vals, kind};
    return expand(c, a, n, fill_ifname, &f);
}

static int match_addr(struct nctx *c, struct alts *a, enum xg_match_kind kind, bool negate,
                      uint8_t family, json_t *vals, const char *set_name)
{
    struct xg_prefix_list pl = {0};
    if (add_family(c, a, family) < 0)
        return -1;
    if (!set_name) {
        for (size_t k = 0; k < json_array_size(vals); k++)
            if (addr_value(json_array_get(vals, k), family, &pl) < 0) {
                xg_prefix_list_free(&pl);
                return add_unknown(c, a, "address match on a value not modelled");
            }
    }
    for (size_t i = 0; i < a->n; i++) {
        struct xg_match *m = xg_rule_add_match(&a->r[i], kind, negate);
        if (!m)
            goto oom;
        if (set_name) {
            if (!(m->u.addrs.set_name = strdup(set_name)))
                goto oom;
        } else if (xg_prefix_list_copy(&m->u.addrs.prefixes, &pl) < 0) {
            goto oom;
        }
    }
    xg_prefix_list_free(&pl);
    return 0;
oom:
    xg_prefix_list_free(&pl);
    return xg_fail(c->err, "out of memory");
}

static int match_ports(struct nctx *c, struct alts *a, enum xg_match_kind kind, const char *op,
                       json_t *vals)
{
    size_t n = json_array_size(vals);
    struct xg_port_range *r = calloc(n ? n : 1, sizeof(*r));
    bool negate = !strcmp(op, "!=");
    if (!r)
        return xg_fail(c->err, "out of memory");
    for (size_t k = 0; k < n; k++)
        if (port_value(json_array_get(vals, k), &r[k]) < 0) {
            free(r);
            return add_unknown(c, a, "port match on a value not modelled");
        }
    if (n == 1 && strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "in")) {
        uint16_t v = r[0].lo;
        if (!strcmp(op, "<"))
            r[0] = (struct xg_port_range){0, v ? v - 1 : 0}, negate = v == 0;
        else if (!strcmp(op, "<="))
            r[0] = (struct xg_port_range){0, v};
        else if (!strcmp(op, ">"))
            r[0] = (struct xg_port_range){v == 65535 ? 65535 : v + 1, 65535}, negate = v == 65535;
        else if (!strcmp(op, ">="))
            r[0] = (struct xg_port_range){v, 65535};
        else {
            free(r);
            return add_unknown(c, a, "port comparison not modelled");
        }
    }
    for (size_t i = 0; i < a->n; i++) {
        struct xg_match *m = xg_rule_add_match(&a->r[i], kind, negate);
        if (!m || !(m->u.ports.ranges = calloc(n ? n : 1, sizeof(*r)))) {
            free(r);
            return xg_fail(c->err, "out of memory");
        }
        memcpy(m->u.ports.ranges, r, n * sizeof(*r));
        m->u.ports.count = n;
    }
    free(r);
    return 0;
}

static int match_ct_state(struct nctx *c, struct alts *a, bool negate, json_t *vals)
{
    uint32_t mask = 0;
    for (size_t k = 0; k < json_array_size(vals); k++) {
        json_t *v = json_array_get(vals, k);
        uint32_t bit = json_is_string(v) ? xg_ct_state_parse(json_string_value(v)) : 0;
        if (!bit)
            return add_unknown(c, a, "ct state value not modelled");
        mask |= bit;
    }
    for (size_t i = 0; i < a->n; i++)
        if (xg_rule_match_ct(&a->r[i], mask) < 0)
            return xg_fail(c->err, "out of memory");
        else
            a->r[i].matches[a->r[i].match_count - 1].negate = negate;
    return 0;
}

static int match_protos(struct nctx *c, struct alts *a, bool negate, json_t *vals)
{
    size_t n = json_array_size(vals);
    uint8_t *p = calloc(n ? n : 1, 1);
    int rc;
    if (!p)
        return xg_fail(c->err, "out of memory");
    for (size_t k = 0; k < n; k++)
        if (proto_value(json_array_get(vals, k), &p[k]) < 0) {
            free(p);
            return add_unknown(c, a, "protocol value not modelled");
        }
    if (negate) {
        rc = 0;
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = add_proto(c, a, p[k], true);
    } else {
        struct proto_fill f = {p};
        rc = expand(c, a, n, fill_proto, &f);
    }
    free(p);
    return rc;
}

static uint8_t payload_family(const char *proto)
{
    if (!strcmp(proto, "ip") || !strcmp(proto, "icmp"))
        return 4;
    if (!strcmp(proto, "ip6") || !strcmp(proto, "icmpv6"))
        return 6;
    return 0;
}

static int parse_match(struct nctx *c, const char *family, const char *table, json_t *m,
                       struct alts *a)
{
    const char *op = jstr(m, "op");
    json_t *left = json_object_get(m, "left"), *right = json_object_get(m, "right"), *x;
    const char *set_name;
    bool negate;
    json_t *vals;
    int rc = 0;

    if (!op || !left || !right)
        return fail(c, "match without op, left or right");
    negate = !strcmp(op, "!=");
    if ((x = json_object_get(left, "fib"))) {
        json_t *flags = json_object_get(x, "flags");
        const char *res = jstr(x, "result");
        bool saddr = false, iif = false;
        for (size_t k = 0; k < json_array_size(flags); k++) {
            const char *f = json_string_value(json_array_get(flags, k));
            saddr |= f && !strcmp(f, "saddr");
            iif |= f && !strcmp(f, "iif");
        }
        if (res && !strcmp(res, "oif") && saddr && iif && json_is_boolean(right) &&
            (!strcmp(op, "==") || negate)) {
            /* `fib saddr . iif oif missing`: the reverse path is not ok */
            bool missing = json_is_false(right) != negate;
            for (size_t i = 0; i < a->n; i++)
                if (!xg_rule_add_match(&a->r[i], XG_MATCH_RPF_OK, missing))
                    return xg_fail(c->err, "out of memory");
            return 0;
        }
        return add_unknown(c, a, "fib expression not modelled");
    }
    if (strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "in") &&
        !json_object_get(left, "payload"))
        return add_unknown(c, a, "comparison not modelled");
    vals = values_of(c, family, table, right, &set_name);
    if (!vals)
        return add_unknown(c, a, "reference to a set not in the dump");

    if ((x = json_object_get(left, "payload"))) {
        const char *proto = jstr(x, "protocol"), *field = jstr(x, "field");
        if (!proto || !field) {
            rc = add_unknown(c, a, "raw payload match");
        } else if ((!strcmp(proto, "ip") || !strcmp(proto, "ip6")) &&
                   (!strcmp(field, "saddr") || !strcmp(field, "daddr"))) {
            if (strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "in"))
                rc = add_unknown(c, a, "address comparison not modelled");
            else
                rc = match_addr(c, a, field[0] == 's' ? XG_MATCH_SADDR : XG_MATCH_DADDR, negate,
                                payload_family(proto), vals, set_name);
        } else if ((!strcmp(field, "dport") || !strcmp(field, "sport")) &&
                   (!strcmp(proto, "tcp") || !strcmp(proto, "udp") || !strcmp(proto, "sctp") ||
                    !strcmp(proto, "udplite") || !strcmp(proto, "dccp") || !strcmp(proto, "th"))) {
            if (strcmp(proto, "th")) {
                uint8_t p = 0;
                json_t *pj = json_string(proto);
                proto_value(pj, &p);
                json_decref(pj);
                rc = add_proto(c, a, p, false);
            }
            if (rc == 0)
                rc = match_ports(c, a, field[0] == 'd' ? XG_MATCH_DPORT : XG_MATCH_SPORT, op, vals);
        } else {
            uint8_t f = payload_family(proto);
            uint8_t p = 0;
            json_t *pj = json_string(proto);
            rc = f ? add_family(c, a, f) : 0;
            /* a header field of a transport (icmp type, tcp flags) implies it */
            if (rc == 0 && proto_value(pj, &p) == 0)
                rc = add_proto(c, a, p, false);
            if (rc == 0)
                rc = add_unknown(c, a, "payload field not modelled");
            json_decref(pj);
        }
    } else if ((x = json_object_get(left, "meta"))) {
        const char *key = jstr(x, "key");
        if (!key) {
            rc = add_unknown(c, a, "meta match");
        } else if (!strcmp(key, "iifname") || !strcmp(key, "iif")) {
            rc = match_ifname(c, a, XG_MATCH_IIFNAME, negate, vals);
        } else if (!strcmp(key, "oifname") || !strcmp(key, "oif")) {
            rc = match_ifname(c, a, XG_MATCH_OIFNAME, negate, vals);
        } else if (!strcmp(key, "l4proto") || (!strcmp(key, "protocol") && 0)) {
            rc = match_protos(c, a, negate, vals);
        } else if (!strcmp(key, "nfproto") && json_array_size(vals) == 1 &&
                   json_is_string(json_array_get(vals, 0))) {
            const char *f = json_string_value(json_array_get(vals, 0));
            uint8_t fam = !strcmp(f, "ipv4") ? 4 : !strcmp(f, "ipv6") ? 6 : 0;
            if (!fam) {
                rc = add_unknown(c, a, "nfproto value not modelled");
            } else {
                for (size_t i = 0; i < a->n && rc == 0; i++) {
                    if (xg_rule_match_family(&a->r[i], fam) < 0)
                        rc = xg_fail(c->err, "out of memory");
                    else
                        a->r[i].matches[a->r[i].match_count - 1].negate = negate;
                }
            }
        } else {
            char text[96];
            snprintf(text, sizeof(text), "meta %s", key);
            rc = add_unknown(c, a, text);
        }
    } else if ((x = json_object_get(left, "ct"))) {
        const char *key = jstr(x, "key");
        if (key && !strcmp(key, "state"))
            rc = match_ct_state(c, a, negate, vals);
        else
            rc = add_unknown(c, a, "ct match not modelled");
    } else {
        rc = add_unknown(c, a, "match not modelled");
    }
    json_decref(vals);
    return rc;
}

static int set_verdict_all(struct nctx *c, struct alts *a, enum xg_verdict_kind v,
                           const char *target)
{
    for (size_t i = 0; i < a->n; i++) {
        if (a->r[i].verdict != XG_VERDICT_CONTINUE)
            continue; /* the first verdict ends the rule */
        if (xg_rule_set_target(&a->r[i], v, target) < 0)
            return xg_fail(c->err, "out of memory");
    }
    return 0;
}

/* A verdict object ({"accept":null}, {"jump":{"target":..}}) -> kind/target. */
static int verdict_of(json_t *v, enum xg_verdict_kind *kind, const char **target)
{
    json_t *x;
    *target = NULL;
    if (json_object_get(v, "accept"))
        *kind = XG_VERDICT_ACCEPT;
    else if (json_object_get(v, "drop"))
        *kind = XG_VERDICT_DROP;
    else if (json_object_get(v, "return"))
        *kind = XG_VERDICT_RETURN;
    else if (json_object_get(v, "continue"))
        *kind = XG_VERDICT_CONTINUE;
    else if ((x = json_object_get(v, "jump"))) {
        *kind = XG_VERDICT_JUMP;
        *target = jstr(x, "target");
    } else if ((x = json_object_get(v, "goto"))) {
        *kind = XG_VERDICT_GOTO;
        *target = jstr(x, "target");
    } else
        return -1;
    if ((*kind == XG_VERDICT_JUMP || *kind == XG_VERDICT_GOTO) && !*target)
        return -1;
    return 0;
}

struct vmap_fill {
    json_t *keys;
    enum xg_match_kind kind; /* IIFNAME, SADDR, DPORT, L4PROTO */
    uint8_t family;
    uint8_t proto;
    bool ok;
};

static int fill_vmap(struct xg_rule *r, size_t j, void *arg)
{
    struct vmap_fill *f = arg;
    json_t *pair = json_array_get(f->keys, j);
    json_t *key = json_array_get(pair, 0), *data = json_array_get(pair, 1);
    enum xg_verdict_kind kind;
    const char *target;
    struct xg_match *m;

    if (verdict_of(data, &kind, &target) < 0) {
        kind = XG_VERDICT_UNKNOWN;
        target = "verdict not modelled";
    }
    switch (f->kind) {
    case XG_MATCH_IIFNAME:
    case XG_MATCH_OIFNAME:
        if (json_is_object(key) && json_object_get(key, "elem"))
            key = json_object_get(json_object_get(key, "elem"), "val");
        if (!(m = xg_rule_add_match(r, f->kind, false)))
            return -1;
        snprintf(m->u.ifname, sizeof(m->u.ifname), "%s",
                 json_is_string(key) ? json_string_value(key) : "");
        break;
    case XG_MATCH_SADDR:
    case XG_MATCH_DADDR: {
        struct xg_prefix_list pl = {0};
        if (addr_value(key, f->family, &pl) < 0) {
            xg_prefix_list_free(&pl);
            m = xg_rule_add_match(r, XG_MATCH_UNKNOWN, false);
            if (!m || !(m->u.text = strdup("verdict map key not modelled")))
                return -1;
            break;
        }
        if (xg_rule_match_family(r, f->family) < 0 || !(m = xg_rule_add_match(r, f->kind, false))) {
            xg_prefix_list_free(&pl);
            return -1;
        }
        m->u.addrs.prefixes = pl;
        break;
    }
    case XG_MATCH_DPORT: {
        struct xg_port_range pr;
        if (f->proto && xg_rule_match_proto(r, f->proto) < 0)
            return -1;
        if (port_value(key, &pr) < 0) {
            m = xg_rule_add_match(r, XG_MATCH_UNKNOWN, false);
            if (!m || !(m->u.text = strdup("verdict map key not modelled")))
                return -1;
            break;
        }
        if (xg_rule_match_dports(r, &pr, 1) < 0)
            return -1;
        break;
    }
    case XG_MATCH_CTSTATE: {
        uint32_t mask;
        if (json_is_object(key) && json_object_get(key, "elem"))
            key = json_object_get(json_object_get(key, "elem"), "val");
        mask = json_is_string(key) ? xg_ct_state_parse(json_string_value(key)) : 0;
        if (!mask) {
            m = xg_rule_add_match(r, XG_MATCH_UNKNOWN, false);
            if (!m || !(m->u.text = strdup("verdict map key not modelled")))
                return -1;
            break;
        }
        if (xg_rule_match_ct(r, mask) < 0)
            return -1;
        break;
    }
    case XG_MATCH_L4PROTO: {
        uint8_t p;
        if (proto_value(key, &p) < 0) {
            m = xg_rule_add_match(r, XG_MATCH_UNKNOWN, false);
            if (!m || !(m->u.text = strdup("verdict map key not modelled")))
                return -1;
            break;
        }
        if (xg_rule_match_proto(r, p) < 0)
            return -1;
        break;
    }
    default: {
        m = xg_rule_add_match(r, XG_MATCH_UNKNOWN, false);
        if (!m || !(m->u.text = strdup("verdict map key not modelled")))
            return -1;
        break;
    }
    }
    return xg_rule_set_target(r, kind, target);
}

static int parse_vmap(struct nctx *c, const char *family, const char *table, json_t *vm,
                      struct alts *a)
{
    json_t *key = json_object_get(vm, "key"), *data = json_object_get(vm, "data"), *x;
    struct vmap_fill f = {0};
    json_t *pairs;
    const char *set_name;
    int rc;

    f.kind = XG_MATCH_UNKNOWN;
    if ((x = json_object_get(key, "meta"))) {
        const char *k = jstr(x, "key");
        if (k && (!strcmp(k, "iifname") || !strcmp(k, "iif")))
            f.kind = XG_MATCH_IIFNAME;
        else if (k && (!strcmp(k, "oifname") || !strcmp(k, "oif")))
            f.kind = XG_MATCH_OIFNAME;
        else if (k && !strcmp(k, "l4proto"))
            f.kind = XG_MATCH_L4PROTO;
    } else if ((x = json_object_get(key, "ct"))) {
        const char *k = jstr(x, "key");
        if (k && !strcmp(k, "state"))
            f.kind = XG_MATCH_CTSTATE;
    } else if ((x = json_object_get(key, "payload"))) {
        const char *p = jstr(x, "protocol"), *fl = jstr(x, "field");
        if (p && fl && (!strcmp(p, "ip") || !strcmp(p, "ip6")) &&
            (!strcmp(fl, "saddr") || !strcmp(fl, "daddr"))) {
            f.kind = fl[0] == 's' ? XG_MATCH_SADDR : XG_MATCH_DADDR;
            f.family = payload_family(p);
        } else if (p && fl && !strcmp(fl, "dport")) {
            json_t *pj = json_string(p);
            f.kind = XG_MATCH_DPORT;
            if (strcmp(p, "th"))
                proto_value(pj, &f.proto);
            json_decref(pj);
        }
    }
    pairs = values_of(c, family, table, data, &set_name);
    if (!pairs) {
        /* a map not in the dump: the verdict is anyone's guess */
        if (add_unknown(c, a, "verdict map not in the dump") < 0)
            return -1;
        return set_verdict_all(c, a, XG_VERDICT_UNKNOWN, "vmap");
    }
    for (size_t k = 0; k < json_array_size(pairs); k++) {
        json_t *p = json_array_get(pairs, k);
        if (!json_is_array(p) || json_array_size(p) != 2) {
            json_decref(pairs);
            return fail(c, "verdict map element is not a [key, verdict] pair");
        }
    }
    f.keys = pairs;
    rc = expand(c, a, json_array_size(pairs), fill_vmap, &f);
    json_decref(pairs);
    return rc;
}

static const char *const continuing_xt[] = {"LOG",   "NFLOG",    "MARK",    "CONNMARK",
                                            "TRACE", "AUDIT",    "TCPMSS",  "DSCP",
                                            "TOS",   "CLASSIFY", "CHECKSUM"};

static int parse_stmt(struct nctx *c, const char *family, const char *table, json_t *s,
                      struct alts *a)
{
    json_t *x;
    enum xg_verdict_kind kind;
    const char *target;
    if ((x = json_object_get(s, "match")))
        return parse_match(c, family, table, x, a);
    if (verdict_of(s, &kind, &target) == 0)
        return set_verdict_all(c, a, kind, target);
    if ((x = json_object_get(s, "reject"))) {
        const char *type = json_is_object(x) ? jstr(x, "type") : NULL;
        if (set_verdict_all(c, a, XG_VERDICT_REJECT, NULL) < 0)
            return -1;
        for (size_t i = 0; i < a->n; i++)
            if (type && !strcmp(type, "tcp reset"))
                a->r[i].reject = XG_REJECT_TCP_RESET;
        return 0;
    }
    if ((x = json_object_get(s, "vmap")))
        return parse_vmap(c, family, table, x, a);
    if (json_object_get(s, "counter")) {
        for (size_t i = 0; i < a->n; i++)
            a->r[i].counter = true;
        return 0;
    }
    if ((x = json_object_get(s, "log"))) {
        const char *prefix = json_is_object(x) ? jstr(x, "prefix") : NULL;
        for (size_t i = 0; i < a->n; i++)
            if (xg_rule_set_log(&a->r[i], prefix ? prefix : "", -1) < 0)
                return xg_fail(c->err, "out of memory");
        return 0;
    }
    if (json_object_get(s, "limit") || json_object_get(s, "quota"))
        return add_unknown(c, a, json_object_get(s, "limit") ? "limit" : "quota");
    if ((x = json_object_get(s, "xt"))) {
        const char *type = jstr(x, "type"), *name = jstr(x, "name");
        char text[96];
        snprintf(text, sizeof(text), "xt %s %s", type ? type : "?", name ? name : "?");
        if (type && !strcmp(type, "target")) {
            for (size_t k = 0; k < sizeof(continuing_xt) / sizeof(continuing_xt[0]); k++)
                if (name && !strcmp(name, continuing_xt[k]))
                    return 0;
            return set_verdict_all(c, a, XG_VERDICT_UNKNOWN, text);
        }
        return add_unknown(c, a, text);
    }
    /* packet/conntrack field updates and set updates do not decide */
    if (json_object_get(s, "mangle") || json_object_get(s, "set") || json_object_get(s, "meter"))
        return 0;
    /* nat, queue, notrack, synproxy, ...: not modelled, may end evaluation */
    {
        const char *k = json_object_iter_key(json_object_iter(s));
        char text[96];
        snprintf(text, sizeof(text), "statement %s", k ? k : "?");
        return set_verdict_all(c, a, XG_VERDICT_UNKNOWN, text);
    }
}

static int parse_rule(struct nctx *c, json_t *o)
{
    const char *family = jstr(o, "family"), *table = jstr(o, "table"), *chain = jstr(o, "chain");
    json_t *expr = json_object_get(o, "expr"), *h = json_object_get(o, "handle");
    struct xg_table *t;
    struct xg_chain *ch;
    struct alts a = {0};
    json_t *s;
    size_t k;

    if (!family || !table || !chain || !json_is_array(expr))
        return fail(c, "rule without family, table, chain or expr");
    if (!(t = find_table(c, family, table)))
        return fail(c, "rule of a table not in the dump");
    if (!(ch = xg_table_find_chain(t, chain)))
        return fail(c, "rule of a chain not in the dump");
    a.r = calloc(1, sizeof(*a.r));
    if (!a.r)
        return xg_fail(c->err, "out of memory");
    a.n = 1;
    a.r[0].src_file = c->path;
    a.r[0].src_line = 0;
    a.r[0].src_handle = json_is_integer(h) ? (unsigned)json_integer_value(h) : 0;
    json_array_foreach(expr, k, s)
    {
        if (!json_is_object(s)) {
            alts_free(&a);
            return fail(c, "rule statement is not an object");
        }
        if (parse_stmt(c, family, table, s, &a) < 0) {
            alts_free(&a);
            return -1;
        }
        if (!a.n)
            break;
    }
    for (size_t i = 0; i < a.n; i++) {
        struct xg_rule *r = xg_chain_add_rule(ch);
        if (!r) {
            alts_free(&a);
            return xg_fail(c->err, "out of memory");
        }
        *r = a.r[i];
        memset(&a.r[i], 0, sizeof(a.r[i]));
    }
    alts_free(&a);
    return 0;
}

static int parse_set(struct nctx *c, json_t *o, bool is_map)
{
    const char *family = jstr(o, "family"), *table = jstr(o, "table"), *name = jstr(o, "name");
    json_t *type = json_object_get(o, "type"), *elem = json_object_get(o, "elem");
    struct xg_table *t;
    struct nmap *g;
    bool is_addr = false;
    if (!family || !table || !name)
        return fail(c, "set without family, table or name");
    if (!(t = find_table(c, family, table)))
        return fail(c, "set of a table not in the dump");
    if (!is_map && json_is_string(type) &&
        (!strcmp(json_string_value(type), "ipv4_addr") ||
         !strcmp(json_string_value(type), "ipv6_addr"))) {
        uint8_t fam = json_string_value(type)[3] == '4' ? 4 : 6;
        struct xg_set *s = xg_table_add_set(t, name, fam);
        if (!s)
            return xg_fail(c->err, "out of memory");
        for (size_t k = 0; k < json_array_size(elem); k++)
            if (addr_value(json_array_get(elem, k), fam, &s->elements) < 0)
                return fail(c, "set element is not an address, prefix or range");
        is_addr = true;
    }
    g = realloc(c->maps, (c->nmaps + 1) * sizeof(*g));
    if (!g)
        return xg_fail(c->err, "out of memory");
    c->maps = g;
    g[c->nmaps++] = (struct nmap){family, table, name, json_is_array(elem) ? elem : NULL, is_addr};
    return 0;
}

static int parse_chain(struct nctx *c, json_t *o)
{
    const char *family = jstr(o, "family"), *table = jstr(o, "table"), *name = jstr(o, "name");
    const char *hook = jstr(o, "hook"), *policy = jstr(o, "policy");
    struct xg_table *t;
    struct xg_chain *ch;
    if (!family || !table || !name)
        return fail(c, "chain without family, table or name");
    if (!(t = find_table(c, family, table)))
        return fail(c, "chain of a table not in the dump");
    if (xg_table_find_chain(t, name))
        return 0;
    ch = xg_table_add_chain(
        t, name, hook ? hook_of(hook) : XG_HOOK_NONE, prio_of(json_object_get(o, "prio")),
        policy && !strcmp(policy, "drop") ? XG_VERDICT_DROP : XG_VERDICT_ACCEPT);
    if (!ch)
        return xg_fail(c->err, "out of memory");
    /* a chain that is not of type filter/route/nat still filters; keep it */
    return 0;
}

int xg_parse_nft_json(const char *text, size_t len, const char *path, struct xg_ruleset *out,
                      struct xg_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *arr, *o;
    struct nctx c = {.path = path ? path : "<input>", .rs = out, .err = err};
    int rc = -1;
    size_t i;

    if (!root)
        return xg_fail_at(err, c.path, (unsigned)(jerr.line > 0 ? jerr.line : 0),
                          (unsigned)(jerr.column > 0 ? jerr.column : 0), "%s", jerr.text);
    arr = json_object_get(root, "nftables");
    if (!json_is_array(arr)) {
        xg_fail_at(err, c.path, 1, 1, "not `nft -j list ruleset` output (no \"nftables\" array)");
        goto out;
    }
    for (int pass = 0; pass < 3; pass++) {
        json_array_foreach(arr, i, o)
        {
            json_t *x;
            c.item = i;
            if (!json_is_object(o)) {
                fail(&c, "item is not an object");
                goto out;
            }
            if (pass == 0 && (x = json_object_get(o, "table"))) {
                const char *family = jstr(x, "family"), *name = jstr(x, "name");
                struct xg_table *t;
                if (!family || !name) {
                    fail(&c, "table without family or name");
                    goto out;
                }
                if (find_table(&c, family, name))
                    continue;
                struct ntable *g = realloc(c.tables, (c.ntables + 1) * sizeof(*g));
                if (!g || !(t = xg_ruleset_add_table(out, name, table_family(family)))) {
                    if (g)
                        c.tables = g;
                    xg_fail(err, "out of memory");
                    goto out;
                }
                c.tables = g;
                g[c.ntables++] = (struct ntable){family, t};
            } else if (pass == 1 && (x = json_object_get(o, "set"))) {
                if (parse_set(&c, x, false) < 0)
                    goto out;
            } else if (pass == 1 && (x = json_object_get(o, "map"))) {
                if (parse_set(&c, x, true) < 0)
                    goto out;
            } else if (pass == 1 && (x = json_object_get(o, "chain"))) {
                if (parse_chain(&c, x) < 0)
                    goto out;
            } else if (pass == 2 && (x = json_object_get(o, "rule"))) {
                if (parse_rule(&c, x) < 0)
                    goto out;
            }
        }
    }
    rc = 0;
out:
    free(c.maps);
    free(c.tables);
    json_decref(root);
    return rc;
}
