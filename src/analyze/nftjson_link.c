/*
 * nftjson_link.c — the nft matches below and beside IP, into IR matches:
 * link-layer (`ether saddr`, `ether type`), ARP (`arp saddr ip`), ICMP
 * types (`icmp type`, `icmpv6 type`), the
 * neighbour-discovery target (`icmpv6 taddr`, or nft 1.0.6's raw
 * `@th,64,128` against a NAME_nd companion set), address types (`fib saddr
 * type`, `fib daddr . iif type`), and the bridge table's interface-keyed
 * concatenations (`iifname . ip saddr @set`, `iifname . ether saddr @set`,
 * ...) with the sets they name (`type ifname . ipv4_addr` and kin).
 *
 * Kept apart from nftjson_expr.c (the IP-layer matches) so each file stays
 * one reader's worth; nj_parse_link_match() is asked first and says whether
 * it took the match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/nftjson.h"
#include "ir/names.h"

/* The suffix of the integer companion sets nft 1.0.6 needs for raw ND targets. */
#define ND_SUFFIX "_nd"

static json_t *elem_val(json_t *v)
{
    json_t *x;
    if (json_is_object(v) && (x = json_object_get(v, "elem")))
        return json_object_get(x, "val");
    return v;
}

/* The values of a right-hand side that is a literal or an anonymous set (new reference). */
static json_t *literal_values(json_t *right)
{
    json_t *x, *a;
    if (json_is_object(right) && (x = json_object_get(right, "set")))
        return json_is_array(x) ? json_incref(x) : json_pack("[O]", x);
    if (json_is_array(right))
        return json_incref(right);
    a = json_array();
    json_array_append(a, right);
    return a;
}

static bool is_raw_nd(json_t *left)
{
    json_t *p = json_object_get(left, "payload");
    const char *base = nj_jstr(p, "base");
    json_t *off = json_object_get(p, "offset"), *len = json_object_get(p, "len");
    return base && !strcmp(base, "th") && json_integer_value(off) == 64 &&
           json_integer_value(len) == 128;
}

/* "which field": ether saddr / ether type / arp saddr ip / icmpv6 taddr / raw ND. */
enum link_field { LF_NONE, LF_ETHER_SADDR, LF_ETHER_TYPE, LF_ARP_SPA, LF_ND, LF_IP_SADDR };

static enum link_field field_of(json_t *left, uint8_t *family)
{
    json_t *p = json_object_get(left, "payload");
    const char *proto = nj_jstr(p, "protocol"), *field = nj_jstr(p, "field");
    *family = 0;
    if (!p)
        return LF_NONE;
    if (is_raw_nd(left))
        return LF_ND;
    if (!proto || !field)
        return LF_NONE;
    if (!strcmp(proto, "ether"))
        return !strcmp(field, "saddr")  ? LF_ETHER_SADDR
               : !strcmp(field, "type") ? LF_ETHER_TYPE
                                        : LF_NONE;
    if (!strcmp(proto, "arp") && !strcmp(field, "saddr ip"))
        return LF_ARP_SPA;
    if (!strcmp(proto, "icmpv6") && !strcmp(field, "taddr"))
        return LF_ND;
    if ((!strcmp(proto, "ip") || !strcmp(proto, "ip6")) && !strcmp(field, "saddr")) {
        *family = proto[2] == '6' ? 6 : 4;
        return LF_IP_SADDR;
    }
    return LF_NONE;
}

static int fill_all(struct nctx *c, struct alts *a, int (*add)(struct xg_rule *, const void *),
                    const void *arg)
{
    for (size_t i = 0; i < a->n; i++)
        if (add(&a->r[i], arg) < 0)
            return xg_fail(c->err, "out of memory");
    return 0;
}

struct macs_arg {
    uint8_t macs[XG_MAX_MACS][6];
    size_t n;
    bool negate;
};

static int add_macs(struct xg_rule *r, const void *arg)
{
    const struct macs_arg *m = arg;
    if (xg_rule_match_macs(r, (const uint8_t(*)[6])m->macs, m->n) < 0)
        return -1;
    r->matches[r->match_count - 1].negate = m->negate;
    return 0;
}

static int match_macs(struct nctx *c, struct alts *a, bool negate, json_t *vals)
{
    struct macs_arg m = {.negate = negate};
    for (size_t k = 0; k < json_array_size(vals); k++) {
        json_t *v = elem_val(json_array_get(vals, k));
        if (m.n == XG_MAX_MACS || !json_is_string(v) ||
            xg_mac_parse(json_string_value(v), m.macs[m.n]) < 0)
            return nj_add_unknown(c, a, "ether saddr match not modelled (a long list or a value)");
        m.n++;
    }
    if (!m.n) /* an empty set: `==` never matches, `!=` always */
        return negate ? 0 : nj_expand(c, a, 0, NULL, NULL);
    return fill_all(c, a, add_macs, &m);
}

static int ethertype_value(json_t *v, uint16_t *out)
{
    static const struct {
        const char *name;
        uint16_t type;
    } names[] = {{"ip", 0x0800}, {"ip6", 0x86dd}, {"arp", 0x0806}, {"vlan", 0x8100}};
    v = elem_val(v);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 0xffff) {
        *out = (uint16_t)json_integer_value(v);
        return 0;
    }
    for (size_t i = 0; json_is_string(v) && i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(json_string_value(v), names[i].name)) {
            *out = names[i].type;
            return 0;
        }
    return -1;
}

struct etype_fill {
    uint16_t *types;
};

static int fill_etype(struct xg_rule *r, size_t j, void *arg)
{
    return xg_rule_match_ethertype(r, ((struct etype_fill *)arg)->types[j], false);
}

static int match_ethertype(struct nctx *c, struct alts *a, bool negate, json_t *vals)
{
    size_t n = json_array_size(vals);
    uint16_t *types = calloc(n ? n : 1, sizeof(*types));
    int rc = 0;
    if (!types)
        return xg_fail(c->err, "out of memory");
    for (size_t k = 0; k < n; k++)
        if (ethertype_value(json_array_get(vals, k), &types[k]) < 0) {
            free(types);
            return nj_add_unknown(c, a, "ether type value not modelled");
        }
    if (negate) {
        for (size_t i = 0; i < a->n && rc == 0; i++)
            for (size_t k = 0; k < n && rc == 0; k++)
                if (xg_rule_match_ethertype(&a->r[i], types[k], true) < 0)
                    rc = xg_fail(c->err, "out of memory");
    } else {
        struct etype_fill f = {types};
        rc = nj_expand(c, a, n, fill_etype, &f);
    }
    free(types);
    return rc;
}

/* `fib saddr|daddr [. iif|oif] type` against type names. */
static int match_fib_type(struct nctx *c, struct alts *a, json_t *fib, bool negate, json_t *right)
{
    json_t *flags = json_object_get(fib, "flags"), *vals;
    bool dst = false, src = false, iface = false;
    uint32_t types = 0;
    for (size_t k = 0; k < json_array_size(flags); k++) {
        const char *f = json_string_value(json_array_get(flags, k));
        dst |= f && !strcmp(f, "daddr");
        src |= f && !strcmp(f, "saddr");
        iface |= f && (!strcmp(f, "iif") || !strcmp(f, "oif"));
    }
    if (dst == src || (json_is_string(right) && json_string_value(right)[0] == '@'))
        return nj_add_unknown(c, a, "fib type expression not modelled");
    vals = literal_values(right);
    for (size_t k = 0; k < json_array_size(vals); k++) {
        json_t *v = elem_val(json_array_get(vals, k));
        uint32_t bit = json_is_string(v) ? xg_addrtype_parse(json_string_value(v)) : 0;
        if (!bit) {
            json_decref(vals);
            return nj_add_unknown(c, a, "fib type value not modelled");
        }
        types |= bit;
    }
    json_decref(vals);
    for (size_t i = 0; i < a->n; i++) {
        if (xg_rule_match_addrtype(&a->r[i], dst, types, negate) < 0)
            return xg_fail(c->err, "out of memory");
        a->r[i].matches[a->r[i].match_count - 1].u.addrtype.limit_iface = iface;
    }
    return 0;
}

static struct xg_set *table_set(struct nctx *c, const char *family, const char *table,
                                const char *name)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (!strcmp(c->tables[i].family, family) && !strcmp(c->tables[i].t->name, table))
            return xg_table_find_set(c->tables[i].t, name);
    return NULL;
}

/* A named set for a raw ND target: NAME_nd stands for the address set NAME. */
static struct xg_set *nd_base_set(struct nctx *c, const char *family, const char *table,
                                  const char *ref)
{
    char base[256];
    size_t n = strlen(ref), sl = strlen(ND_SUFFIX);
    struct xg_set *s = table_set(c, family, table, ref);
    if (s)
        return s;
    if (n <= sl || n - sl >= sizeof(base) || strcmp(ref + n - sl, ND_SUFFIX))
        return NULL;
    snprintf(base, sizeof(base), "%.*s", (int)(n - sl), ref);
    return table_set(c, family, table, base);
}

static int addr_field(struct nctx *c, const char *family, const char *table, struct alts *a,
                      enum xg_match_kind kind, bool negate, json_t *right)
{
    struct xg_prefix_list pl = {0};
    uint8_t fam = kind == XG_MATCH_ARP_SPA ? 4 : 6;
    if (json_is_string(right) && json_string_value(right)[0] == '@') {
        const char *ref = json_string_value(right) + 1;
        struct xg_set *s = kind == XG_MATCH_ND_TARGET ? nd_base_set(c, family, table, ref)
                                                      : table_set(c, family, table, ref);
        if (!s || s->key != XG_SETKEY_ADDR || s->family != fam)
            return nj_add_unknown(c, a, "address set for this field not modelled");
        for (size_t i = 0; i < a->n; i++)
            if (xg_rule_match_addr_set(&a->r[i], kind, s->name, negate) < 0)
                return xg_fail(c->err, "out of memory");
        return 0;
    }
    json_t *vals = literal_values(right);
    for (size_t k = 0; k < json_array_size(vals); k++)
        if (nj_addr_value(json_array_get(vals, k), fam, &pl) < 0) {
            json_decref(vals);
            xg_prefix_list_free(&pl);
            return nj_add_unknown(c, a, "address value not modelled (a raw ND target literal?)");
        }
    json_decref(vals);
    for (size_t i = 0; i < a->n; i++)
        if (xg_rule_match_addrs(&a->r[i], kind, &pl, negate) < 0) {
            xg_prefix_list_free(&pl);
            return xg_fail(c->err, "out of memory");
        }
    xg_prefix_list_free(&pl);
    return 0;
}

/* `iifname . FIELD @set`: an interface-keyed set of the table. */
static int match_concat(struct nctx *c, const char *family, const char *table, struct alts *a,
                        json_t *parts, bool negate, json_t *right)
{
    json_t *first = json_array_get(parts, 0), *second = json_array_get(parts, 1);
    const char *key = nj_jstr(json_object_get(first, "meta"), "key");
    const char *ref = json_is_string(right) ? json_string_value(right) : NULL;
    enum xg_ifset_field f;
    uint8_t fam;
    struct xg_set *s;
    if (json_array_size(parts) != 2 || !key || strcmp(key, "iifname") || !ref || ref[0] != '@')
        return nj_add_unknown(c, a, "concatenation not modelled");
    switch (field_of(second, &fam)) {
    case LF_IP_SADDR:
        f = XG_IFSET_SADDR;
        break;
    case LF_ETHER_SADDR:
        f = XG_IFSET_ETHER_SADDR;
        break;
    case LF_ARP_SPA:
        f = XG_IFSET_ARP_SPA;
        break;
    case LF_ND:
        f = XG_IFSET_ND_TARGET;
        break;
    default:
        return nj_add_unknown(c, a, "concatenation not modelled");
    }
    s = f == XG_IFSET_ND_TARGET ? nd_base_set(c, family, table, ref + 1)
                                : table_set(c, family, table, ref + 1);
    if (!s || s->key == XG_SETKEY_ADDR || s->key == XG_SETKEY_IFNAME ||
        (f == XG_IFSET_ETHER_SADDR) != (s->key == XG_SETKEY_IF_MAC))
        return nj_add_unknown(c, a, "interface-keyed set not in the dump or of another type");
    for (size_t i = 0; i < a->n; i++)
        if (xg_rule_match_ifset(&a->r[i], f, s->name, negate) < 0)
            return xg_fail(c->err, "out of memory");
    return 0;
}

/* `icmp type X` / `icmpv6 type { X, Y }`: the protocol, and the types. */
static int match_icmp_type(struct nctx *c, struct alts *a, uint8_t fam, bool negate, json_t *vals)
{
    uint8_t types[32];
    size_t n = 0;
    for (size_t k = 0; k < json_array_size(vals); k++) {
        json_t *v = elem_val(json_array_get(vals, k));
        int t = json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 256
                    ? (int)json_integer_value(v)
                : json_is_string(v) ? xg_icmp_type_parse(fam, json_string_value(v), XG_SYNTAX_NFT)
                                    : -1;
        if (t < 0 || n == sizeof(types))
            return nj_add_unknown(c, a, "icmp type value not modelled");
        types[n++] = (uint8_t)t;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (xg_rule_match_family(&a->r[i], fam) < 0 ||
            xg_rule_match_proto(&a->r[i], fam == 4 ? 1 : 58) < 0 ||
            xg_rule_match_icmp(&a->r[i], fam, types, n) < 0)
            return xg_fail(c->err, "out of memory");
        a->r[i].matches[a->r[i].match_count - 1].negate = negate;
    }
    return 0;
}

int nj_parse_link_match(struct nctx *c, const char *family, const char *table, json_t *m,
                        struct alts *a, bool *handled)
{
    const char *op = nj_jstr(m, "op");
    json_t *left = json_object_get(m, "left"), *right = json_object_get(m, "right"), *x, *vals;
    bool negate = op && !strcmp(op, "!=");
    uint8_t fam;
    int rc;
    *handled = true;
    if (!op || !left || !right || (strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "in"))) {
        *handled = false;
        return 0;
    }
    if ((x = json_object_get(left, "fib")) &&
        !strcmp(nj_jstr(x, "result") ? nj_jstr(x, "result") : "", "type"))
        return match_fib_type(c, a, x, negate, right);
    if ((x = json_object_get(left, "concat")))
        return match_concat(c, family, table, a, x, negate, right);
    json_t *pl = json_object_get(left, "payload");
    const char *pp = nj_jstr(pl, "protocol"), *pf = nj_jstr(pl, "field");
    if (pp && pf && !strcmp(pf, "type") && (!strcmp(pp, "icmp") || !strcmp(pp, "icmpv6")) &&
        !(json_is_string(right) && json_string_value(right)[0] == '@')) {
        vals = literal_values(right);
        rc = match_icmp_type(c, a, pp[4] ? 6 : 4, negate, vals);
        json_decref(vals);
        return rc;
    }
    switch (field_of(left, &fam)) {
    case LF_ARP_SPA:
        return addr_field(c, family, table, a, XG_MATCH_ARP_SPA, negate, right);
    case LF_ND:
        return addr_field(c, family, table, a, XG_MATCH_ND_TARGET, negate, right);
    case LF_ETHER_SADDR:
    case LF_ETHER_TYPE: {
        const char *set_name;
        vals = nj_values_of(c, family, table, right, &set_name);
        if (!vals)
            return nj_add_unknown(c, a, "reference to a set not in the dump");
        rc = field_of(left, &fam) == LF_ETHER_SADDR ? match_macs(c, a, negate, vals)
                                                    : match_ethertype(c, a, negate, vals);
        json_decref(vals);
        return rc;
    }
    default:
        *handled = false;
        return 0;
    }
}

/* A set keyed by interface (`type ifname`, `ifname . ipv4_addr`, `ifname . ipv6_addr`,
 * `ifname . ether_addr`) into the IR; *handled false for any other type. */
int nj_parse_if_set(struct nctx *c, struct xg_table *t, const char *name, json_t *type,
                    json_t *elem, bool *handled)
{
    const char *k0 =
        json_is_string(type) ? json_string_value(type) : json_string_value(json_array_get(type, 0));
    const char *k1 = json_is_array(type) ? json_string_value(json_array_get(type, 1)) : NULL;
    enum xg_set_key key;
    uint8_t fam = 0;
    struct xg_set *s;
    *handled = false;
    if (!k0 || strcmp(k0, "ifname") || (json_is_array(type) && json_array_size(type) != 2))
        return 0;
    if (!k1)
        key = XG_SETKEY_IFNAME;
    else if (!strcmp(k1, "ipv4_addr") || !strcmp(k1, "ipv6_addr"))
        key = XG_SETKEY_IF_ADDR, fam = k1[3] == '4' ? 4 : 6;
    else if (!strcmp(k1, "ether_addr"))
        key = XG_SETKEY_IF_MAC;
    else
        return 0;
    *handled = true;
    if (!(s = xg_table_add_set(t, name, fam)))
        return xg_fail(c->err, "out of memory");
    s->key = key;
    for (size_t i = 0; i < json_array_size(elem); i++) {
        json_t *v = elem_val(json_array_get(elem, i)), *cc = json_object_get(v, "concat");
        struct xg_set_pair p = {0};
        const char *ifn = json_string_value(key == XG_SETKEY_IFNAME ? v : json_array_get(cc, 0));
        const char *val = json_string_value(json_array_get(cc, 1));
        struct xg_prefix_list one = {0};
        if (!ifn || strlen(ifn) >= XG_IFNAMSIZ)
            return nj_fail(c, "interface set element is not an interface name");
        snprintf(p.ifname, sizeof(p.ifname), "%s", ifn);
        if (key == XG_SETKEY_IF_MAC && (!val || xg_mac_parse(val, p.mac) < 0))
            return nj_fail(c, "interface set element: not a MAC address");
        if (key == XG_SETKEY_IF_ADDR) {
            if (nj_addr_value(json_array_get(cc, 1), fam, &one) < 0 || one.count != 1) {
                xg_prefix_list_free(&one);
                return nj_fail(c, "interface set element: not an address");
            }
            p.addr = one.items[0];
            xg_prefix_list_free(&one);
        }
        if (xg_set_add_pair(s, &p) < 0)
            return xg_fail(c->err, "out of memory");
    }
    return 0;
}
