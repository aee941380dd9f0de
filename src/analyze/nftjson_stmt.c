/*
 * nftjson_stmt.c — nft statements into IR verdicts: accept/drop/jump/...,
 * verdict maps (one IR rule per key), and the statements xenguard keeps as
 * unknown or lets pass (counters, logging, xtables targets that continue).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/nftjson.h"
#include "analyze/space.h"
#include "ir/names.h"

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
        *target = nj_jstr(x, "target");
    } else if ((x = json_object_get(v, "goto"))) {
        *kind = XG_VERDICT_GOTO;
        *target = nj_jstr(x, "target");
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
        if (nj_addr_value(key, f->family, &pl) < 0) {
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
        if (nj_port_value(key, &pr) < 0) {
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
        if (nj_proto_value(key, &p) < 0) {
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
        const char *k = nj_jstr(x, "key");
        if (k && (!strcmp(k, "iifname") || !strcmp(k, "iif")))
            f.kind = XG_MATCH_IIFNAME;
        else if (k && (!strcmp(k, "oifname") || !strcmp(k, "oif")))
            f.kind = XG_MATCH_OIFNAME;
        else if (k && !strcmp(k, "l4proto"))
            f.kind = XG_MATCH_L4PROTO;
    } else if ((x = json_object_get(key, "ct"))) {
        const char *k = nj_jstr(x, "key");
        if (k && !strcmp(k, "state"))
            f.kind = XG_MATCH_CTSTATE;
    } else if ((x = json_object_get(key, "payload"))) {
        const char *p = nj_jstr(x, "protocol"), *fl = nj_jstr(x, "field");
        if (p && fl && (!strcmp(p, "ip") || !strcmp(p, "ip6")) &&
            (!strcmp(fl, "saddr") || !strcmp(fl, "daddr"))) {
            f.kind = fl[0] == 's' ? XG_MATCH_SADDR : XG_MATCH_DADDR;
            f.family = nj_payload_family(p);
        } else if (p && fl && !strcmp(fl, "dport")) {
            json_t *pj = json_string(p);
            f.kind = XG_MATCH_DPORT;
            if (strcmp(p, "th"))
                nj_proto_value(pj, &f.proto);
            json_decref(pj);
        }
    }
    pairs = nj_values_of(c, family, table, data, &set_name);
    if (!pairs) {
        /* a map not in the dump: the verdict is anyone's guess */
        if (nj_add_unknown(c, a, "verdict map not in the dump") < 0)
            return -1;
        return set_verdict_all(c, a, XG_VERDICT_UNKNOWN, "vmap");
    }
    for (size_t k = 0; k < json_array_size(pairs); k++) {
        json_t *p = json_array_get(pairs, k);
        if (!json_is_array(p) || json_array_size(p) != 2) {
            json_decref(pairs);
            return nj_fail(c, "verdict map element is not a [key, verdict] pair");
        }
    }
    f.keys = pairs;
    rc = nj_expand(c, a, json_array_size(pairs), fill_vmap, &f);
    json_decref(pairs);
    return rc;
}

static const char *const continuing_xt[] = {"LOG",   "NFLOG",    "MARK",    "CONNMARK",
                                            "TRACE", "AUDIT",    "TCPMSS",  "DSCP",
                                            "TOS",   "CLASSIFY", "CHECKSUM"};

int nj_parse_stmt(struct nctx *c, const char *family, const char *table, json_t *s, struct alts *a)
{
    json_t *x;
    enum xg_verdict_kind kind;
    const char *target;
    if ((x = json_object_get(s, "match")))
        return nj_parse_match(c, family, table, x, a);
    if (verdict_of(s, &kind, &target) == 0)
        return set_verdict_all(c, a, kind, target);
    if ((x = json_object_get(s, "reject"))) {
        const char *type = json_is_object(x) ? nj_jstr(x, "type") : NULL;
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
        const char *prefix = json_is_object(x) ? nj_jstr(x, "prefix") : NULL;
        for (size_t i = 0; i < a->n; i++)
            if (xg_rule_set_log(&a->r[i], prefix ? prefix : "", -1) < 0)
                return xg_fail(c->err, "out of memory");
        return 0;
    }
    if (json_object_get(s, "limit") || json_object_get(s, "quota"))
        return nj_add_unknown(c, a, json_object_get(s, "limit") ? "limit" : "quota");
    if ((x = json_object_get(s, "xt"))) {
        const char *type = nj_jstr(x, "type"), *name = nj_jstr(x, "name");
        char text[96];
        snprintf(text, sizeof(text), "xt %s %s", type ? type : "?", name ? name : "?");
        if (type && !strcmp(type, "target")) {
            for (size_t k = 0; k < sizeof(continuing_xt) / sizeof(continuing_xt[0]); k++)
                if (name && !strcmp(name, continuing_xt[k]))
                    return 0;
            return set_verdict_all(c, a, XG_VERDICT_UNKNOWN, text);
        }
        return nj_add_unknown(c, a, text);
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
