/*
 * analyze_matrix.c — `xenguard analyze --matrix`: who reaches whom, in
 * text and JSON, per service and family: the classes, the ordinary
 * client's edges, and apart the conditional edges only a chosen source port
 * or a particular source MAC opens (each with its rule). The answers come
 * from the analyzer library (xg_service_matrix, xg_matrix_conditional).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/analyze.h"

/* "source port 53", "source ports 0-52", "MAC 02:00:00:00:00:09" */
static void choice_text(const struct xg_matrix_cond *c, char *buf, size_t n)
{
    const uint8_t *m = c->mac;
    if (c->kind == XG_EXTRA_MAC)
        snprintf(buf, n, "MAC %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    else if (c->lo == c->hi)
        snprintf(buf, n, "source port %u", c->lo);
    else
        snprintf(buf, n, "source ports %u-%u", c->lo, c->hi);
}

static bool whole(const struct xg_matrix *m, size_t cls, const struct xg_prefix_list *part)
{
    return xg_prefix_list_equal(&m->classes[cls].addrs, part);
}

/* Which classes appear in an edge (ordinary or conditional): -q lists only those. */
static bool *classes_used(const struct xg_matrix *m, const struct xg_matrix_cond *cv, size_t nc)
{
    bool *used = calloc(m->count + 1, sizeof(*used));
    if (!used)
        return NULL;
    for (size_t e = 0; e < m->nedges; e++)
        used[m->edges[e].src] = used[m->edges[e].dst] = true;
    for (size_t i = 0; i < nc; i++)
        used[cv[i].src] = used[cv[i].dst] = true;
    return used;
}

static void print_cond_text(const struct xg_matrix *m, const struct xg_matrix_cond *cv, size_t nc)
{
    if (!nc)
        return;
    printf("  only with a chosen source port or MAC:\n");
    for (size_t i = 0; i < nc; i++) {
        const struct xg_matrix_cond *c = &cv[i];
        char what[64], ref[300];
        choice_text(c, what, sizeof(what));
        analyze_rule_ref_text(c->rule, ref, sizeof(ref));
        printf("  %s \u2192 %s with %s%s: %s\n", m->classes[c->src].name, m->classes[c->dst].name,
               what, c->exact ? "" : " (may)", ref);
        if (!whole(m, c->src, &c->sources)) {
            printf("       from ");
            analyze_print_prefixes(&c->sources, "            ");
        }
        if (!whole(m, c->dst, &c->dests)) {
            printf("       to   ");
            analyze_print_prefixes(&c->dests, "            ");
        }
    }
}

static void print_matrix_text(const struct opts *o, const struct service *svc,
                              const struct xg_matrix *m, const struct xg_matrix_cond *cv, size_t nc)
{
    bool *used = o->quiet ? classes_used(m, cv, nc) : NULL;
    char cond[32] = "";
    if (nc)
        snprintf(cond, sizeof(cond), ", %zu conditional", nc);
    printf("%s, IPv%u (%s path): %zu class%s, %zu edge%s%s, %s\n", svc->text, m->family,
           analyze_path_name(o->path), m->count, m->count == 1 ? "" : "es", m->nedges,
           m->nedges == 1 ? "" : "s", cond, m->exact ? "exact" : "some only may exist");
    if (o->verbose)
        printf("  work: %zu source and %zu destination candidate classes, %zu evaluations\n",
               m->src_candidates, m->dst_candidates, m->evaluations);
    for (size_t c = 0; c < m->count; c++) {
        if (used && !used[c])
            continue;
        printf("  %-4s ", m->classes[c].name);
        analyze_print_prefixes(&m->classes[c].addrs, "       ");
    }
    for (size_t e = 0; e < m->nedges; e++)
        printf("  %s \u2192 %s%s\n", m->classes[m->edges[e].src].name,
               m->classes[m->edges[e].dst].name, m->edges[e].must ? "" : " (may)");
    if (!m->nedges)
        printf("  (no edges: nobody reaches anybody)\n");
    print_cond_text(m, cv, nc);
    free(used);
}

static json_t *cond_json(const struct xg_matrix *m, const struct xg_matrix_cond *cv, size_t nc)
{
    json_t *a = json_array();
    for (size_t i = 0; i < nc; i++) {
        const struct xg_matrix_cond *c = &cv[i];
        json_t *j = json_object();
        char buf[32];
        json_object_set_new(j, "src", json_string(m->classes[c->src].name));
        json_object_set_new(j, "dst", json_string(m->classes[c->dst].name));
        if (c->kind == XG_EXTRA_MAC) {
            snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1],
                     c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
            json_object_set_new(j, "mac", json_string(buf));
        } else {
            if (c->lo == c->hi)
                snprintf(buf, sizeof(buf), "%u", c->lo);
            else
                snprintf(buf, sizeof(buf), "%u-%u", c->lo, c->hi);
            json_object_set_new(j, "sport", json_string(buf));
        }
        json_object_set_new(j, "sources", analyze_prefixes_json(&c->sources));
        json_object_set_new(j, "destinations", analyze_prefixes_json(&c->dests));
        json_object_set_new(j, "bound", json_string(c->exact ? "exact" : "may"));
        json_object_set_new(j, "rule", c->rule ? analyze_rule_ref_json(c->rule) : json_null());
        json_array_append_new(a, j);
    }
    return a;
}

static json_t *matrix_json(const struct service *svc, const struct xg_matrix *m,
                           const struct xg_matrix_cond *cv, size_t nc)
{
    json_t *j = json_object(), *cls = json_object(), *edges = json_array();
    json_object_set_new(j, "service", json_string(svc->text));
    json_object_set_new(j, "family", json_integer(m->family));
    json_object_set_new(j, "exact", json_boolean(m->exact));
    for (size_t c = 0; c < m->count; c++)
        json_object_set_new(cls, m->classes[c].name, analyze_prefixes_json(&m->classes[c].addrs));
    for (size_t e = 0; e < m->nedges; e++) {
        json_t *pair = json_array();
        json_array_append_new(pair, json_string(m->classes[m->edges[e].src].name));
        json_array_append_new(pair, json_string(m->classes[m->edges[e].dst].name));
        if (!m->edges[e].must)
            json_array_append_new(pair, json_string("may"));
        json_array_append_new(edges, pair);
    }
    json_object_set_new(j, "classes", cls);
    json_object_set_new(j, "edges", edges);
    json_object_set_new(j, "conditional_edges", cond_json(m, cv, nc));
    return j;
}

/* --to for the matrix: the destinations, a comma-separated list of prefixes. */
static int matrix_dsts(const char *text, struct xg_prefix_list *out, struct xg_err *err)
{
    char *dup = strdup(text), *save = NULL;
    if (!dup)
        return xg_fail(err, "out of memory");
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        struct xg_prefix p;
        char why[160];
        if (xg_prefix_parse(t, XG_PREFIX_STRICT, &p, why, sizeof(why)) < 0 ||
            xg_prefix_list_add(out, &p) < 0) {
            xg_fail(err, "--to: '%s': %s", t, why);
            free(dup);
            return -1;
        }
    }
    free(dup);
    return 0;
}

/* One service, one family: the matrix, its conditional edges, printed or appended to jm. */
static int one_matrix(const struct opts *o, struct xg_matrix_ctx *cx, const struct xg_ifmap *map,
                      const struct xg_prefix_list *to, const struct service *svc, uint8_t family,
                      json_t *jm, struct xg_err *err)
{
    struct xg_matrix_query mq = {.dsts = to};
    struct xg_matrix m;
    struct xg_matrix_cond *cv = NULL;
    size_t nc = 0;
    analyze_base_query(o, &mq.svc, family, svc, o->iface);
    xg_ifmap_addrtypes(map, &mq.svc);
    if (xg_service_matrix(cx, &mq, &m, err) < 0)
        return -1;
    if (xg_matrix_conditional(cx, &mq, &m, &cv, &nc, err) < 0) {
        xg_matrix_free(&m);
        return -1;
    }
    if (o->json)
        json_array_append_new(jm, matrix_json(svc, &m, cv, nc));
    else
        print_matrix_text(o, svc, &m, cv, nc);
    xg_matrix_cond_free(cv, nc);
    xg_matrix_free(&m);
    return 0;
}

int analyze_matrix(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_matrix_ctx *cx = NULL;
    json_t *jm = json_array();
    int rc = -1;
    struct xg_ifmap map = {0};
    struct xg_prefix_list dsts = {0};
    if (o->ifmap && xg_ifmap_load(o->ifmap, &map, err) < 0)
        goto out;
    if (o->to && matrix_dsts(o->to, &dsts, err) < 0)
        goto out;
    if (!(cx = xg_matrix_ctx_new(rs, o->ifmap ? &map : NULL, err)))
        goto out;
    /* The input path's destinations are the host's own addresses: --to, or the map's. */
    bool own = !o->to && o->path == XG_HOOK_INPUT && map.local.count;
    const struct xg_prefix_list *to = o->to ? &dsts : own ? &map.local : NULL;
    for (size_t k = 0; k < o->nmatrix; k++)
        for (int f = 0; f < 2; f++) {
            uint8_t family = f ? 6 : 4;
            if (to && !xg_prefix_list_count_family(to, family))
                continue;
            if (one_matrix(o, cx, &map, to, &o->matrix[k], family, jm, err) < 0)
                goto out;
        }
    if (o->json) {
        json_t *j = analyze_json_new("matrix"), *svc = json_array();
        for (size_t k = 0; k < o->nmatrix; k++)
            json_array_append_new(svc, json_string(o->matrix[k].text));
        json_object_set_new(j, "services", svc);
        json_object_set_new(j, "path", json_string(analyze_path_name(o->path)));
        json_object_set_new(j, "matrices", jm);
        jm = NULL;
        analyze_print_json(j);
    }
    rc = 0;
out:
    json_decref(jm);
    xg_matrix_ctx_free(cx);
    xg_ifmap_free(&map);
    xg_prefix_list_free(&dsts);
    return rc;
}
