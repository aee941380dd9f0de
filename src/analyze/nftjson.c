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
 *
 * This file reads the document; match expressions are in nftjson_expr.c,
 * verdicts and statements in nftjson_stmt.c (shared parts: nftjson.h).
 */
#include "analyze/nftjson.h"

#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/space.h"
#include "ir/names.h"

void nj_alts_free(struct alts *a)
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

int nj_fail(struct nctx *c, const char *what)
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

const char *nj_jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int parse_rule(struct nctx *c, json_t *o)
{
    const char *family = nj_jstr(o, "family"), *table = nj_jstr(o, "table"),
               *chain = nj_jstr(o, "chain");
    json_t *expr = json_object_get(o, "expr"), *h = json_object_get(o, "handle");
    struct xg_table *t;
    struct xg_chain *ch;
    struct alts a = {0};
    json_t *s;
    size_t k;

    if (!family || !table || !chain || !json_is_array(expr))
        return nj_fail(c, "rule without family, table, chain or expr");
    if (!(t = find_table(c, family, table)))
        return nj_fail(c, "rule of a table not in the dump");
    if (!(ch = xg_table_find_chain(t, chain)))
        return nj_fail(c, "rule of a chain not in the dump");
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
            nj_alts_free(&a);
            return nj_fail(c, "rule statement is not an object");
        }
        if (nj_parse_stmt(c, family, table, s, &a) < 0) {
            nj_alts_free(&a);
            return -1;
        }
        if (!a.n)
            break;
    }
    for (size_t i = 0; i < a.n; i++) {
        struct xg_rule *r = xg_chain_add_rule(ch);
        if (!r) {
            nj_alts_free(&a);
            return xg_fail(c->err, "out of memory");
        }
        *r = a.r[i];
        memset(&a.r[i], 0, sizeof(a.r[i]));
    }
    nj_alts_free(&a);
    return 0;
}

static int parse_set(struct nctx *c, json_t *o, bool is_map)
{
    const char *family = nj_jstr(o, "family"), *table = nj_jstr(o, "table"),
               *name = nj_jstr(o, "name");
    json_t *type = json_object_get(o, "type"), *elem = json_object_get(o, "elem");
    struct xg_table *t;
    struct nmap *g;
    bool is_addr = false;
    if (!family || !table || !name)
        return nj_fail(c, "set without family, table or name");
    if (!(t = find_table(c, family, table)))
        return nj_fail(c, "set of a table not in the dump");
    bool if_set = false;
    if (!is_map && nj_parse_if_set(c, t, name, type, elem, &if_set) < 0)
        return -1;
    if (!if_set && !is_map && json_is_string(type) &&
        (!strcmp(json_string_value(type), "ipv4_addr") ||
         !strcmp(json_string_value(type), "ipv6_addr"))) {
        uint8_t fam = json_string_value(type)[3] == '4' ? 4 : 6;
        struct xg_set *s = xg_table_add_set(t, name, fam);
        if (!s)
            return xg_fail(c->err, "out of memory");
        for (size_t k = 0; k < json_array_size(elem); k++)
            if (nj_addr_value(json_array_get(elem, k), fam, &s->elements) < 0)
                return nj_fail(c, "set element is not an address, prefix or range");
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
    const char *family = nj_jstr(o, "family"), *table = nj_jstr(o, "table"),
               *name = nj_jstr(o, "name");
    const char *hook = nj_jstr(o, "hook"), *policy = nj_jstr(o, "policy");
    struct xg_table *t;
    struct xg_chain *ch;
    if (!family || !table || !name)
        return nj_fail(c, "chain without family, table or name");
    if (!(t = find_table(c, family, table)))
        return nj_fail(c, "chain of a table not in the dump");
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
                nj_fail(&c, "item is not an object");
                goto out;
            }
            if (pass == 0 && (x = json_object_get(o, "table"))) {
                const char *family = nj_jstr(x, "family"), *name = nj_jstr(x, "name");
                struct xg_table *t;
                if (!family || !name) {
                    nj_fail(&c, "table without family or name");
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
