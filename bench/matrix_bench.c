/*
 * matrix_bench.c — time the service matrix (src/analyze/matrix.c) on one
 * ruleset, side by side with its naive peer, and check they agree.
 *
 *   matrix_bench RULES IFMAP input|forward PEER_SECONDS SERVICE...
 *
 * For each service (tcp/22 ...) and family: the matrix's wall time, its
 * classes, edges and evaluations. Then the peer, the same answer computed
 * the naive way: one symbolic evaluation (sources as a bitset, eval.c) per
 * destination atom and arrival interface, with no candidate classes; it
 * runs for at most PEER_SECONDS per service and family, and if it had to
 * stop, its full time is extrapolated from the destination atoms it did
 * (said so in the output). The peer evaluates the ruleset as it is, one
 * arrival interface at a time, so it also checks the matrix's rewrite of
 * interface matches into source matches (matrix_bind.c). Every source atom x destination atom the
 * peer evaluated must agree with the matrix's edge between their classes (may and must) — a
 * disagreement is printed and the exit status is 1. Peak memory is getrusage's ru_maxrss for the
 * whole process.
 *
 * Built by bench/matrix.sh against build/libxenguard.a (internal headers:
 * it needs the evaluator's bitset entry point from analyze/path.h).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "analyze/path.h"
#include "analyze/space.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The class of an address: classes' intervals, sorted. */
struct cls_iv {
    xg_u128 lo, hi;
    size_t cls;
};

static int cmp_iv(const void *a, const void *b)
{
    const struct cls_iv *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static size_t class_of(const struct cls_iv *v, size_t n, xg_u128 a)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].lo <= a)
            lo = mid;
        else
            hi = mid;
    }
    return v[lo].cls;
}

/* edge[x*n+y]: 0 none, 1 may, 3 must */
static unsigned char *edge_table(const struct xg_matrix *m)
{
    unsigned char *e = calloc(m->count * m->count + 1, 1);
    for (size_t i = 0; e && i < m->nedges; i++)
        e[m->edges[i].src * m->count + m->edges[i].dst] = m->edges[i].must ? 3 : 1;
    return e;
}

static struct cls_iv *class_intervals(const struct xg_matrix *m, size_t *n)
{
    size_t cap = 0, k = 0;
    for (size_t c = 0; c < m->count; c++)
        cap += m->classes[c].addrs.count;
    struct cls_iv *v = malloc((cap + 1) * sizeof(*v));
    for (size_t c = 0; v && c < m->count; c++)
        for (size_t i = 0; i < m->classes[c].addrs.count; i++)
            v[k++] = (struct cls_iv){xg_prefix_lo(&m->classes[c].addrs.items[i]),
                                     xg_prefix_hi(&m->classes[c].addrs.items[i]), c};
    if (v)
        qsort(v, k, sizeof(*v), cmp_iv);
    *n = k;
    return v;
}

/* Destination atoms the peer walks: every destination match and map prefix. */
static int peer_dst_atoms(const struct xg_ruleset *rs, const struct xg_ifmap *map, uint8_t family,
                          struct xg_atoms *a)
{
    a->family = family;
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++)
            for (size_t r = 0; r < rs->tables[t]->chains[c]->rule_count; r++) {
                const struct xg_rule *ru = &rs->tables[t]->chains[c]->rules[r];
                for (size_t k = 0; k < ru->match_count; k++) {
                    const struct xg_prefix_list *pl;
                    if (ru->matches[k].kind != XG_MATCH_DADDR ||
                        !(pl = xg_addr_prefixes(rs->tables[t], &ru->matches[k])))
                        continue;
                    for (size_t i = 0; i < pl->count; i++)
                        if (pl->items[i].family == family &&
                            xg_atoms_cut(a, xg_prefix_lo(&pl->items[i]),
                                         xg_prefix_hi(&pl->items[i])) < 0)
                            return -1;
                }
            }
    for (size_t e = 0; e < map->count; e++)
        for (size_t i = 0; i < map->entries[e].prefixes.count; i++) {
            const struct xg_prefix *p = &map->entries[e].prefixes.items[i];
            if (p->family == family && xg_atoms_cut(a, xg_prefix_lo(p), xg_prefix_hi(p)) < 0)
                return -1;
        }
    return xg_atoms_finish(a);
}

/* The interface a map binds an address to (longest prefix), or NULL. */
static const char *bound_to(const struct xg_ifmap *map, const struct xg_prefix *addr)
{
    int best = -1;
    const char *via = NULL;
    for (size_t e = 0; e < map->count; e++)
        for (size_t i = 0; i < map->entries[e].prefixes.count; i++) {
            const struct xg_prefix *p = &map->entries[e].prefixes.items[i];
            if (xg_prefix_contains(p, addr) && p->len > best) {
                best = p->len;
                via = map->entries[e].ifname;
            }
        }
    return via;
}

struct peer_result {
    size_t done, total, evals, disagreements;
    double seconds;
};

/* The naive way, checked against the matrix, for at most `budget` seconds. It needs a map
 * that binds every source (the bench's maps do: the uplink is a complement line). */
static int peer(struct xg_analysis *an, const struct xg_ruleset *rs, const struct xg_ifmap *map,
                const struct xg_packet_query *svc, const struct xg_matrix *m, double budget,
                struct peer_result *pr)
{
    const struct xg_atoms *sa = xg_analysis_atoms(an, svc->family);
    struct xg_atoms da = {0};
    struct xg_err err = {{0}};
    size_t niv;
    struct cls_iv *iv = class_intervals(m, &niv);
    unsigned char *edges = edge_table(m);
    const char **sif = calloc(sa->count + 1, sizeof(*sif));
    struct xg_prefix_list *rpf = calloc(map->count + 1, sizeof(*rpf));
    double t0 = now();
    memset(pr, 0, sizeof(*pr));
    if (!iv || !edges || !sif || !rpf || peer_dst_atoms(rs, map, svc->family, &da) < 0)
        return -1;
    for (size_t s = 0; s < sa->count; s++) {
        struct xg_prefix a;
        xg_u128_to_addr(sa->starts[s], svc->family, &a);
        sif[s] = bound_to(map, &a);
    }
    for (size_t e = 0; e < map->count; e++)
        xg_ifmap_rpf(map, map->entries[e].ifname, svc->family, &rpf[e]);
    pr->total = da.count;
    for (size_t d = 0; d < da.count && now() - t0 < budget; d++, pr->done++) {
        struct xg_prefix addr;
        size_t dc = class_of(iv, niv, da.starts[d]);
        xg_u128_to_addr(da.starts[d], svc->family, &addr);
        for (size_t e = 0; e < map->count; e++) {
            struct xg_packet_query q = *svc;
            struct xg_bits may = {0}, must = {0};
            q.daddr = &addr;
            q.iifname = map->entries[e].ifname;
            q.rpf_ok = &rpf[e];
            if (svc->path == XG_HOOK_FORWARD)
                q.oifname = bound_to(map, &addr);
            if (xg_analysis_reach_bits(an, &q, &may, &must, &err) < 0)
                return -1;
            pr->evals++;
            for (size_t s = 0; s < sa->count; s++) {
                if (!sif[s] || strcmp(sif[s], q.iifname))
                    continue;
                unsigned char want = xg_bits_get(&may, s) | xg_bits_get(&must, s) << 1;
                unsigned char got = edges[class_of(iv, niv, sa->starts[s]) * m->count + dc];
                if (want != got && pr->disagreements++ < 5) {
                    char sb[XG_PREFIX_STRLEN], db[XG_PREFIX_STRLEN];
                    struct xg_prefix sp;
                    xg_u128_to_addr(sa->starts[s], svc->family, &sp);
                    xg_prefix_format(&sp, true, sb);
                    xg_prefix_format(&addr, true, db);
                    printf("  DISAGREE %s -> %s: peer %u, matrix %u\n", sb, db, want, got);
                }
            }
            xg_bits_free(&may);
            xg_bits_free(&must);
        }
    }
    pr->seconds = now() - t0;
    for (size_t e = 0; e < map->count; e++)
        xg_prefix_list_free(&rpf[e]);
    free(rpf);
    free(sif);
    free(iv);
    free(edges);
    xg_atoms_free(&da);
    return 0;
}

static int parse_svc(const char *s, struct xg_packet_query *q)
{
    unsigned port;
    char proto[8];
    if (sscanf(s, "%7[a-z]/%u", proto, &port) != 2 || port > 65535)
        return -1;
    q->proto = !strcmp(proto, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
    q->dport = (uint16_t)port;
    return 0;
}

int main(int argc, char **argv)
{
    struct xg_ruleset rs = {0};
    struct xg_ifmap map = {0};
    struct xg_prefix_list extra = {0};
    struct xg_err err = {{0}};
    struct rusage ru;
    int bad = 0;
    if (argc < 6) {
        fprintf(stderr, "usage: matrix_bench RULES IFMAP input|forward PEER_SECONDS SERVICE...\n");
        return 2;
    }
    double t0 = now();
    if (xg_load_ruleset_file(NULL, argv[1], &rs, &err) < 0 ||
        xg_ifmap_load(argv[2], &map, &err) < 0 || xg_ifmap_all_prefixes(&map, &extra) < 0) {
        xg_err_print(stderr, "matrix_bench", &err);
        return 1;
    }
    struct xg_analysis *an = xg_analysis_new(&rs, &extra, &err);
    if (!an) {
        xg_err_print(stderr, "matrix_bench", &err);
        return 1;
    }
    struct xg_matrix_ctx *cx = xg_matrix_ctx_new(&rs, &map, &err);
    if (!cx) {
        xg_err_print(stderr, "matrix_bench", &err);
        return 1;
    }
    double t_load = now() - t0, t_matrix = 0, t_peer = 0, t_cond = 0;
    printf("%-9s %-4s %8s %8s %8s %8s %9s %9s %s\n", "service", "fam", "classes", "edges", "evals",
           "seconds", "peer_s", "ratio", "peer");
    for (int i = 5; i < argc; i++)
        for (uint8_t family = 4; family <= 6; family += 2) {
            struct xg_matrix_query mq = {
                .svc = {.family = family,
                        .path = !strcmp(argv[3], "forward") ? XG_HOOK_FORWARD : XG_HOOK_INPUT},
            };
            struct xg_matrix m;
            struct peer_result pr;
            if (parse_svc(argv[i], &mq.svc) < 0) {
                fprintf(stderr, "matrix_bench: '%s' is not PROTO/PORT\n", argv[i]);
                return 2;
            }
            double t1 = now();
            if (xg_service_matrix(cx, &mq, &m, &err) < 0) {
                xg_err_print(stderr, "matrix_bench", &err);
                return 1;
            }
            double dt = now() - t1;
            t_matrix += dt;
            /* what `analyze --matrix` adds: the edges only a chosen sport or MAC opens */
            struct xg_matrix_cond *cv = NULL;
            size_t nc = 0;
            double t2 = now();
            if (xg_matrix_conditional(cx, &mq, &m, &cv, &nc, &err) < 0) {
                xg_err_print(stderr, "matrix_bench", &err);
                return 1;
            }
            double dc = now() - t2;
            t_cond += dc;
            xg_matrix_cond_free(cv, nc);
            if (peer(an, &rs, &map, &mq.svc, &m, atof(argv[4]), &pr) < 0) {
                fprintf(stderr, "matrix_bench: peer failed\n");
                return 1;
            }
            double full = pr.done ? pr.seconds * (double)pr.total / (double)pr.done : 0;
            t_peer += full;
            printf("%-9s IPv%u %8zu %8zu %8zu %8.3f %9.2f %8.0fx %zu/%zu dst atoms%s, %zu "
                   "disagreements; %zu conditional edges in %.3f s\n",
                   argv[i], family, m.count, m.nedges, m.evaluations, dt, full,
                   dt > 0 ? full / dt : 0, pr.done, pr.total,
                   pr.done < pr.total ? " (time extrapolated)" : "", pr.disagreements, nc, dc);
            bad |= pr.disagreements > 0;
            xg_matrix_free(&m);
        }
    getrusage(RUSAGE_SELF, &ru);
    printf("total: load %.2f s, matrix %.2f s (+ %.2f s conditional edges), peer %.1f s (ratio "
           "%.0fx), peak %ld MB\n",
           t_load, t_matrix, t_cond, t_peer, t_matrix > 0 ? t_peer / t_matrix : 0,
           ru.ru_maxrss / 1024);
    xg_matrix_ctx_free(cx);
    xg_analysis_free(an);
    xg_ifmap_free(&map);
    xg_prefix_list_free(&extra);
    xg_ruleset_free(&rs);
    return bad;
}
