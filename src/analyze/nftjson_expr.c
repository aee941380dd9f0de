/*
 * nftjson_expr.c — nft match expressions into IR matches: values
 * (addresses, ports, protocols, named and anonymous sets) and the
 * alternatives a rule becomes when a match takes one of several values.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/nftjson.h"
#include "analyze/space.h"
#include "ir/names.h"

/* --- values --- */

/* An address-ish value: "a", {"prefix":..}, {"range":[a,b]}; appends prefixes. */
int nj_addr_value(json_t *v, uint8_t family, struct xg_prefix_list *out)
{
    struct xg_prefix p, q;
    char why[160];
    json_t *x;
    if (json_is_object(v) && (x = json_object_get(v, "elem")))
        return nj_addr_value(json_object_get(x, "val"), family, out);
    if (json_is_string(v)) {
        if (xg_prefix_parse(json_string_value(v), XG_PREFIX_MASK, &p, why, sizeof(why)) < 0 ||
            (family && p.family != family))
            return -1;
        return xg_prefix_list_add(out, &p);
    }
    if (json_is_object(v) && (x = json_object_get(v, "prefix"))) {
        const char *a = nj_jstr(x, "addr");
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

int nj_port_value(json_t *v, struct xg_port_range *r)
{
    json_t *x;
    if (json_is_object(v) && (x = json_object_get(v, "elem")))
        return nj_port_value(json_object_get(x, "val"), r);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 65535) {
        r->lo = r->hi = (uint16_t)json_integer_value(v);
        return 0;
    }
    if (json_is_object(v) && (x = json_object_get(v, "range")) && json_array_size(x) == 2) {
        struct xg_port_range a, b;
        if (nj_port_value(json_array_get(x, 0), &a) < 0 ||
            nj_port_value(json_array_get(x, 1), &b) < 0)
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

int nj_proto_value(json_t *v, uint8_t *out)
{
    json_t *x;
    int p;
    if (json_is_object(v) && (x = json_object_get(v, "elem")))
        return nj_proto_value(json_object_get(x, "val"), out);
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
json_t *nj_values_of(struct nctx *c, const char *family, const char *table, json_t *right,
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

int nj_add_unknown(struct nctx *c, struct alts *a, const char *text)
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

int nj_expand(struct nctx *c, struct alts *a, size_t n, fill_fn fill, void *arg)
{
    struct alts out = {0};
    if (n == 0) {
        /* no value can match: keep nothing (an empty anonymous set) */
        nj_alts_free(a);
        return 0;
    }
    if (a->n > 65536 / n)
        return nj_fail(c, "rule expands into more than 65536 alternatives");
    out.r = calloc(a->n * n + 1, sizeof(*out.r));
    if (!out.r)
        return xg_fail(c->err, "out of memory");
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < n; j++) {
            struct xg_rule *r = &out.r[out.n];
            if (xg_rule_copy(r, &a->r[i]) < 0) {
                nj_alts_free(&out);
                return xg_fail(c->err, "out of memory");
            }
            out.n++;
            if (fill(r, j, arg) < 0) {
                nj_alts_free(&out);
                return xg_fail(c->err, "out of memory");
            }
        }
    nj_alts_free(a);
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
            return nj_add_unknown(c, a, "interface match on a non-name");
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
    return nj_expand(c, a, n, fill_ifname, &f);
}

static int match_addr(struct nctx *c, struct alts *a, enum xg_match_kind kind, bool negate,
                      uint8_t family, json_t *vals, const char *set_name)
{
    struct xg_prefix_list pl = {0};
    if (add_family(c, a, family) < 0)
        return -1;
    if (!set_name) {
        for (size_t k = 0; k < json_array_size(vals); k++)
            if (nj_addr_value(json_array_get(vals, k), family, &pl) < 0) {
                xg_prefix_list_free(&pl);
                return nj_add_unknown(c, a, "address match on a value not modelled");
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
        if (nj_port_value(json_array_get(vals, k), &r[k]) < 0) {
            free(r);
            return nj_add_unknown(c, a, "port match on a value not modelled");
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
            return nj_add_unknown(c, a, "port comparison not modelled");
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
            return nj_add_unknown(c, a, "ct state value not modelled");
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
        if (nj_proto_value(json_array_get(vals, k), &p[k]) < 0) {
            free(p);
            return nj_add_unknown(c, a, "protocol value not modelled");
        }
    if (negate) {
        rc = 0;
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = add_proto(c, a, p[k], true);
    } else {
        struct proto_fill f = {p};
        rc = nj_expand(c, a, n, fill_proto, &f);
    }
    free(p);
    return rc;
}

uint8_t nj_payload_family(const char *proto)
{
    if (!strcmp(proto, "ip") || !strcmp(proto, "icmp"))
        return 4;
    if (!strcmp(proto, "ip6") || !strcmp(proto, "icmpv6"))
        return 6;
    return 0;
}

int nj_parse_match(struct nctx *c, const char *family, const char *table, json_t *m, struct alts *a)
{
    const char *op = nj_jstr(m, "op");
    json_t *left = json_object_get(m, "left"), *right = json_object_get(m, "right"), *x;
    const char *set_name;
    bool negate;
    json_t *vals;
    int rc = 0;

    if (!op || !left || !right)
        return nj_fail(c, "match without op, left or right");
    bool handled;
    if ((rc = nj_parse_link_match(c, family, table, m, a, &handled)) < 0 || handled)
        return rc;
    negate = !strcmp(op, "!=");
    if ((x = json_object_get(left, "fib"))) {
        json_t *flags = json_object_get(x, "flags");
        const char *res = nj_jstr(x, "result");
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
        return nj_add_unknown(c, a, "fib expression not modelled");
    }
    if (strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "in") &&
        !json_object_get(left, "payload"))
        return nj_add_unknown(c, a, "comparison not modelled");
    vals = nj_values_of(c, family, table, right, &set_name);
    if (!vals)
        return nj_add_unknown(c, a, "reference to a set not in the dump");

    if ((x = json_object_get(left, "payload"))) {
        const char *proto = nj_jstr(x, "protocol"), *field = nj_jstr(x, "field");
        if (!proto || !field) {
            rc = nj_add_unknown(c, a, "raw payload match");
        } else if ((!strcmp(proto, "ip") || !strcmp(proto, "ip6")) &&
                   (!strcmp(field, "saddr") || !strcmp(field, "daddr"))) {
            if (strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "in"))
                rc = nj_add_unknown(c, a, "address comparison not modelled");
            else
                rc = match_addr(c, a, field[0] == 's' ? XG_MATCH_SADDR : XG_MATCH_DADDR, negate,
                                nj_payload_family(proto), vals, set_name);
        } else if ((!strcmp(field, "dport") || !strcmp(field, "sport")) &&
                   (!strcmp(proto, "tcp") || !strcmp(proto, "udp") || !strcmp(proto, "sctp") ||
                    !strcmp(proto, "udplite") || !strcmp(proto, "dccp") || !strcmp(proto, "th"))) {
            if (strcmp(proto, "th")) {
                uint8_t p = 0;
                json_t *pj = json_string(proto);
                nj_proto_value(pj, &p);
                json_decref(pj);
                rc = add_proto(c, a, p, false);
            }
            if (rc == 0)
                rc = match_ports(c, a, field[0] == 'd' ? XG_MATCH_DPORT : XG_MATCH_SPORT, op, vals);
        } else {
            uint8_t f = nj_payload_family(proto);
            uint8_t p = 0;
            json_t *pj = json_string(proto);
            rc = f ? add_family(c, a, f) : 0;
            /* a header field of a transport (icmp type, tcp flags) implies it */
            if (rc == 0 && nj_proto_value(pj, &p) == 0)
                rc = add_proto(c, a, p, false);
            if (rc == 0)
                rc = nj_add_unknown(c, a, "payload field not modelled");
            json_decref(pj);
        }
    } else if ((x = json_object_get(left, "meta"))) {
        const char *key = nj_jstr(x, "key");
        if (!key) {
            rc = nj_add_unknown(c, a, "meta match");
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
                rc = nj_add_unknown(c, a, "nfproto value not modelled");
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
            rc = nj_add_unknown(c, a, text);
        }
    } else if ((x = json_object_get(left, "ct"))) {
        const char *key = nj_jstr(x, "key");
        if (key && !strcmp(key, "state"))
            rc = match_ct_state(c, a, negate, vals);
        else
            rc = nj_add_unknown(c, a, "ct match not modelled");
    } else {
        rc = nj_add_unknown(c, a, "match not modelled");
    }
    json_decref(vals);
    return rc;
}
