/*
 * test_matrix.c — unit tests of the service matrix (src/analyze/matrix.c):
 * small rulesets whose classes and edges were worked out by hand (the
 * comment above each case says how), the partition refinement it is built
 * on, the interface map's complement lines, and the conditional edges only
 * a chosen source port or MAC opens (matrix_cond.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "analyze/space.h"

static void add_list(char *out, size_t n, size_t *used, const struct xg_prefix_list *l)
{
    char buf[XG_PREFIX_STRLEN];
    for (size_t k = 0; k < l->count; k++) {
        xg_prefix_format(&l->items[k], false, buf);
        *used +=
            (size_t)snprintf(out + *used, *used < n ? n - *used : 0, "%s%s", k ? "," : "", buf);
    }
}

/* "A=p,p B=~p | A>B B>C?" : classes with their prefixes ("~": every address but
 * these, when that is shorter), then the edges ('?' = may only). */
static void render(const struct xg_matrix *m, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
#define ADD(...) used += (size_t)snprintf(out + used, used < n ? n - used : 0, __VA_ARGS__)
    for (size_t c = 0; c < m->count; c++) {
        const struct xg_prefix_list *l = &m->classes[c].addrs;
        struct xg_ivlist iv = {0}, rest = {0};
        struct xg_prefix_list comp = {0};
        assert_int_equal(xg_ivlist_from_prefixes(&iv, l, m->family), 0);
        assert_int_equal(xg_ivlist_complement(&iv, m->family, &rest), 0);
        assert_int_equal(xg_ivlist_to_prefixes(&rest, m->family, &comp), 0);
        bool neg = comp.count && comp.count < l->count;
        ADD("%s%s=%s", c ? " " : "", m->classes[c].name, neg ? "~" : "");
        add_list(out, n, &used, neg ? &comp : l);
        xg_ivlist_free(&iv);
        xg_ivlist_free(&rest);
        xg_prefix_list_free(&comp);
    }
    ADD(" |");
    for (size_t e = 0; e < m->nedges; e++)
        ADD(" %s>%s%s", m->classes[m->edges[e].src].name, m->classes[m->edges[e].dst].name,
            m->edges[e].must ? "" : "?");
#undef ADD
}

struct setup {
    const char *rules, *ifmap, *iface, *dsts;
    uint8_t family;
    enum xg_hook path;
    uint16_t dport;
};

static void check_matrix(const struct setup *s, const char *want)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    struct xg_ifmap map = {0};
    struct xg_prefix_list dsts = {0};
    struct xg_matrix_ctx *cx;
    struct xg_matrix m;
    char got[4096];
    assert_int_equal(xg_parse_iptables_save(s->rules, strlen(s->rules), "t.rules", 4, &rs, &err),
                     0);
    if (s->ifmap) {
        assert_int_equal(xg_ifmap_parse(s->ifmap, strlen(s->ifmap), "t.ifmap", &map, &err), 0);
    }
    if (s->dsts) {
        struct xg_prefix p;
        char why[160];
        assert_int_equal(xg_prefix_parse(s->dsts, XG_PREFIX_STRICT, &p, why, sizeof(why)), 0);
        assert_int_equal(xg_prefix_list_add(&dsts, &p), 0);
    }
    cx = xg_matrix_ctx_new(&rs, s->ifmap ? &map : NULL, &err);
    assert_non_null(cx);
    struct xg_matrix_query mq = {.svc = {.family = s->family ? s->family : 4,
                                         .proto = IPPROTO_TCP,
                                         .dport = s->dport ? s->dport : 22,
                                         .path = s->path,
                                         .iifname = s->iface},
                                 .dsts = s->dsts ? &dsts : NULL};
    assert_int_equal(xg_service_matrix(cx, &mq, &m, &err), 0);
    render(&m, got, sizeof(got));
    assert_string_equal(got, want);
    /* every edge a must edge <=> exact */
    bool all_must = true;
    for (size_t e = 0; e < m.nedges; e++)
        all_must &= m.edges[e].must;
    assert_int_equal(m.exact, all_must);
    xg_matrix_free(&m);
    xg_matrix_ctx_free(cx);
    xg_ifmap_free(&map);
    xg_prefix_list_free(&dsts);
    xg_ruleset_free(&rs);
}

/*
 * A 3-rule router. Sources 192.0.2.128/25 are kept from 198.51.100.10
 * (first rule), the rest of 192.0.2.0/24 reaches all of 198.51.100.0/24;
 * 203.0.113.0/24 is open to everyone behind a rate limit (unmodelled: may).
 * As source: B = .0/25 reaches D and E, C = .128/25 reaches D only, every
 * other address reaches F (may). As destination: D (198.51.100/24 but .10)
 * is reached by B and C, E (.10) by B, F by all (may).
 */
/* 198.51.100.0/24 but .10, as the fewest prefixes */
#define DMZ_BUT_10                                                                                 \
    "198.51.100.0/29,198.51.100.8/31,198.51.100.11/32,198.51.100.12/30,198.51.100.16/"             \
    "28,198.51.100.32/27,198.51.100.64/26,198.51.100.128/25"

static const char router3[] =
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    "-A FORWARD -s 192.0.2.128/25 -d 198.51.100.10/32 -p tcp --dport 22 -j DROP\n"
    "-A FORWARD -s 192.0.2.0/24 -d 198.51.100.0/24 -p tcp --dport 22 -j ACCEPT\n"
    "-A FORWARD -d 203.0.113.0/24 -p tcp -m limit --limit 1/s -j ACCEPT\n"
    "COMMIT\n";

static void test_router_three_rules(void **state)
{
    (void)state;
    check_matrix(&(struct setup){.rules = router3, .path = XG_HOOK_FORWARD},
                 "A=~192.0.2.0/24,198.51.100.0/24,203.0.113.0/24 B=192.0.2.0/25 "
                 "C=192.0.2.128/25 D=" DMZ_BUT_10 " E=198.51.100.10/32 F=203.0.113.0/24 "
                 "| A>F? B>D B>E B>F? C>D C>F? D>F? E>F? F>F?");
    /* another service: only the rate-limited rule can match, for everyone */
    check_matrix(&(struct setup){.rules = router3, .path = XG_HOOK_FORWARD, .dport = 80},
                 "A=~203.0.113.0/24 B=203.0.113.0/24 | A>B? B>B?");
}

/*
 * Interfaces bound by the map: lan 192.0.2.0/24, dmz 198.51.100.0/24 and
 * the uplink wan with every other address (a complement line). lan may go
 * to the dmz; from wan only 198.51.100.10 is open. A: wan's sources, not a
 * destination of anyone; B: lan; C: the dmz but .10, reached from lan; D:
 * .10, reached from lan and wan. Without the map the interfaces are
 * unknown: every source may arrive on lan, every destination may leave by
 * dmz, so one class that may reach itself and nothing is certain.
 */
static const char router_if[] =
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    "-A FORWARD -i lan -o dmz -p tcp --dport 22 -j ACCEPT\n"
    "-A FORWARD -i wan -d 198.51.100.10 -p tcp --dport 22 -j ACCEPT\n"
    "COMMIT\n";
static const char router_if_map[] = "lan 192.0.2.0/24\n"
                                    "dmz 198.51.100.0/24\n"
                                    "wan !192.0.2.0/24 !198.51.100.0/24 # the uplink\n";

static void test_router_interfaces(void **state)
{
    (void)state;
    check_matrix(
        &(struct setup){.rules = router_if, .ifmap = router_if_map, .path = XG_HOOK_FORWARD},
        "A=~192.0.2.0/24,198.51.100.0/24 B=192.0.2.0/24 C=" DMZ_BUT_10 " D=198.51.100.10/32 "
        "| A>D B>C B>D");
    /* no line for the uplink: other sources may arrive on any interface (lan's among them),
     * and a packet to an address outside the map may leave by any (dmz's among them) */
    check_matrix(&(struct setup){.rules = router_if,
                                 .ifmap = "lan 192.0.2.0/24\ndmz 198.51.100.0/24\n",
                                 .path = XG_HOOK_FORWARD},
                 "A=~192.0.2.0/24,198.51.100.0/24 B=192.0.2.0/24 C=198.51.100.0/24 "
                 "| A>A? A>C? B>A? B>C");
    check_matrix(&(struct setup){.rules = router_if, .path = XG_HOOK_FORWARD},
                 "A=0.0.0.0/0 | A>A?");
    /* a fixed input interface and no outgoing one: the -o match stays unknown */
    check_matrix(&(struct setup){.rules = router_if, .path = XG_HOOK_FORWARD, .iface = "wan"},
                 "A=~198.51.100.10/32 B=198.51.100.10/32 | A>B B>B");
}

/*
 * The input path with a user chain: sources in 198.51.100.0/24 jump to
 * `admin`, which returns for .66 and accepts the rest, towards the host's
 * address 192.0.2.1 only (`dsts` = the host's addresses 192.0.2.0/30).
 * A: nobody's source or destination; B: 192.0.2.1, reached by C; C: the
 * admins; D: .66 (returned, then dropped by the policy).
 */
#define ADMINS_BUT_66                                                                              \
    "198.51.100.0/26,198.51.100.64/31,198.51.100.67/32,198.51.100.68/30,198.51.100.72/"            \
    "29,198.51.100.80/28,198.51.100.96/27,198.51.100.128/25"

static const char input_chain[] =
    "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:admin - [0:0]\n"
    "-A INPUT -s 198.51.100.0/24 -j admin\n"
    "-A admin -s 198.51.100.66 -j RETURN\n"
    "-A admin -d 192.0.2.1 -p tcp --dport 22 -j ACCEPT\n"
    "COMMIT\n";

static void test_input_user_chain(void **state)
{
    (void)state;
    check_matrix(&(struct setup){.rules = input_chain, .iface = "eth0", .dsts = "192.0.2.0/30"},
                 "A=~192.0.2.1/32," ADMINS_BUT_66 " B=192.0.2.1/32 C=" ADMINS_BUT_66 " | C>B");
}

static void test_partition_split(void **state)
{
    struct xg_partition p;
    const size_t a[][2] = {{2, 4}}, b[][2] = {{0, 3}, {5, 9}}, all[][2] = {{0, 9}};
    (void)state;
    assert_int_equal(xg_partition_init(&p, 10), 0);
    xg_partition_split(&p, all, 1); /* everything: no cut */
    assert_int_equal(p.count, 1);
    xg_partition_split(&p, a, 1); /* {2,3,4} | rest */
    assert_int_equal(p.count, 2);
    xg_partition_split(&p, b, 2); /* large set: walked as its complement {4} */
    assert_int_equal(p.count, 3);
    /* {0,1,5..9} {2,3} {4} ... : 0 and 9 together, 2 and 3 together, 4 alone */
    assert_int_equal(p.cls[0], p.cls[9]);
    assert_int_equal(p.cls[2], p.cls[3]);
    assert_int_not_equal(p.cls[3], p.cls[4]);
    assert_int_not_equal(p.cls[0], p.cls[2]);
    assert_int_not_equal(p.cls[4], p.cls[0]);
    size_t sum = 0;
    for (size_t c = 0; c < p.count; c++)
        sum += p.size[c];
    assert_int_equal(sum, 10);
    xg_partition_free(&p);
}

static void test_ifmap_complement(void **state)
{
    struct xg_ifmap map = {0};
    struct xg_err err = {{0}};
    char buf[XG_PREFIX_STRLEN], got[512] = "";
    static const char text[] = "eth0 !128.0.0.0/1 !8000::/1 !4000::/2\neth1 192.0.2.0/24\n";
    (void)state;
    assert_int_equal(xg_ifmap_parse(text, strlen(text), "m", &map, &err), 0);
    assert_int_equal(map.count, 2);
    for (size_t i = 0; i < map.entries[0].prefixes.count; i++) {
        xg_prefix_format(&map.entries[0].prefixes.items[i], false, buf);
        strcat(got, buf);
        strcat(got, " ");
    }
    assert_string_equal(got, "0.0.0.0/1 ::/2 ");
    xg_ifmap_free(&map);
    static const char bad[] = "eth0 192.0.2.0/24 !\n";
    assert_int_equal(xg_ifmap_parse(bad, strlen(bad), "m", &map, &err), -1);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 19);
    xg_ifmap_free(&map);
}

/* --- random routers: the matrix against one evaluation per pair of addresses --- */

static unsigned rnd(unsigned *st)
{
    *st = *st * 1103515245u + 12345u;
    return (*st >> 16) & 0x7fff;
}

static const char *const pool[] = {
    "192.0.2.0/24",     "192.0.2.0/25",     "192.0.2.128/26", "192.0.2.7/32",   "198.51.100.0/24",
    "198.51.100.10/32", "198.51.100.16/28", "203.0.113.0/24", "203.0.113.5/32", "0.0.0.0/1"};
static const char *const ifaces[] = {"lan", "dmz", "wan", "lan+", "xgq9"};

/* One random match list: interfaces, addresses, port, as iptables-save text. */
static void random_matches(unsigned *st, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
#define ADD(...) used += (size_t)snprintf(out + used, used < n ? n - used : 0, __VA_ARGS__)
    if (rnd(st) % 3 == 0)
        ADD(" %s-i %s", rnd(st) % 4 ? "" : "! ", ifaces[rnd(st) % 5]);
    if (rnd(st) % 4 == 0)
        ADD(" -o %s", ifaces[rnd(st) % 3]);
    if (rnd(st) % 2)
        ADD(" %s-s %s", rnd(st) % 5 ? "" : "! ", pool[rnd(st) % 10]);
    if (rnd(st) % 2)
        ADD(" %s-d %s", rnd(st) % 5 ? "" : "! ", pool[rnd(st) % 10]);
    if (rnd(st) % 3)
        ADD(" -p tcp -m tcp --dport %s%s", rnd(st) % 2 ? "22" : "80",
            rnd(st) % 6 ? "" : " --sport 53");
    if (rnd(st) % 12 == 0)
        ADD(" -m limit --limit 1/s");
#undef ADD
}

static void random_router(unsigned seed, char *out, size_t n)
{
    unsigned st = seed;
    size_t used = 0;
    char m[256];
#define ADD(...) used += (size_t)snprintf(out + used, used < n ? n - used : 0, __VA_ARGS__)
    ADD("*raw\n:PREROUTING ACCEPT [0:0]\n");
    if (rnd(&st) % 2)
        ADD("-A PREROUTING -i wan -s 192.0.2.0/24 -j DROP\n");
    ADD("COMMIT\n*filter\n:FORWARD %s [0:0]\n:c1 - [0:0]\n:c2 - [0:0]\n",
        rnd(&st) % 3 ? "DROP" : "ACCEPT");
    static const char *const targets[] = {"ACCEPT", "DROP", "RETURN", "c2"};
    for (int chain = 0; chain < 3; chain++)
        for (unsigned r = 0, nr = 2 + rnd(&st) % 5; r < nr; r++) {
            const char *t = targets[rnd(&st) % (chain == 1 ? 4 : chain == 2 ? 3 : 2)];
            random_matches(&st, m, sizeof(m));
            if (chain == 0 && rnd(&st) % 3 == 0)
                t = "c1";
            ADD("-A %s%s -j %s\n", chain == 0 ? "FORWARD" : chain == 1 ? "c1" : "c2", m, t);
        }
    ADD("COMMIT\n");
#undef ADD
}

/* The interface the map binds an address to, or NULL. */
static const char *bound(const struct xg_ifmap *map, const struct xg_prefix *a)
{
    int best = -1;
    const char *via = NULL;
    for (size_t e = 0; e < map->count; e++)
        for (size_t i = 0; i < map->entries[e].prefixes.count; i++)
            if (xg_prefix_contains(&map->entries[e].prefixes.items[i], a) &&
                map->entries[e].prefixes.items[i].len > best) {
                best = map->entries[e].prefixes.items[i].len;
                via = map->entries[e].ifname;
            }
    return via;
}

static size_t class_of(const struct xg_matrix *m, const struct xg_prefix *a)
{
    for (size_t c = 0; c < m->count; c++)
        if (xg_prefix_list_covers(&m->classes[c].addrs, a))
            return c;
    fail_msg("no class holds an address");
    return 0;
}

/* may (bit 0) and must (bit 1) of the edge between the classes of s and d */
static unsigned edge_of(const struct xg_matrix *m, const struct xg_prefix *s,
                        const struct xg_prefix *d)
{
    size_t x = class_of(m, s), y = class_of(m, d);
    for (size_t e = 0; e < m->nedges; e++)
        if (m->edges[e].src == x && m->edges[e].dst == y)
            return 1u | (m->edges[e].must ? 2u : 0u);
    return 0;
}

/* The same pair asked directly: the source's interface from the map, or every class. */
static unsigned direct(struct xg_analysis *an, const struct xg_ruleset *rs,
                       const struct xg_ifmap *map, uint16_t port, int sport,
                       const struct xg_prefix *s, const struct xg_prefix *d)
{
    struct xg_ifclass *ifs = NULL;
    size_t nifs = 0;
    const char *iif = bound(map, s);
    unsigned may = 0, must = 1;
    struct xg_ifclass one = {.kind = "name"};
    if (iif) {
        snprintf(one.rep, sizeof(one.rep), "%s", iif);
        ifs = &one;
        nifs = 1;
    } else {
        assert_int_equal(xg_ifclasses(rs, NULL, &ifs, &nifs), 0);
    }
    for (size_t i = 0; i < nifs; i++) {
        struct xg_prefix_list rpf = {0};
        struct xg_reach r;
        struct xg_err err = {{0}};
        assert_int_equal(xg_ifmap_rpf(map, ifs[i].rep, 4, &rpf), 0);
        struct xg_packet_query q = {.family = 4,
                                    .proto = IPPROTO_TCP,
                                    .dport = port,
                                    .path = XG_HOOK_FORWARD,
                                    .iifname = ifs[i].rep,
                                    .oifname = bound(map, d),
                                    .daddr = d,
                                    .rpf_ok = &rpf,
                                    .has_sport = sport >= 0,
                                    .sport = (uint16_t)(sport >= 0 ? sport : 0)};
        assert_int_equal(xg_analysis_reach(an, &q, &r, &err), 0);
        may |= xg_prefix_list_covers(&r.may, s);
        must &= xg_prefix_list_covers(&r.must, s);
        xg_reach_free(&r);
        xg_prefix_list_free(&rpf);
    }
    if (ifs != &one)
        free(ifs);
    return may ? 1u | (must ? 2u : 0u) : 0;
}

/* Is (s, d) opened by a conditional edge for source port 53? */
static bool cond_covers(const struct xg_matrix *m, const struct xg_matrix_cond *c, size_t n,
                        const struct xg_prefix *s, const struct xg_prefix *d)
{
    size_t x = class_of(m, s), y = class_of(m, d);
    for (size_t i = 0; i < n; i++)
        if (c[i].kind == XG_EXTRA_SPORT && c[i].lo <= 53 && 53 <= c[i].hi && c[i].src == x &&
            c[i].dst == y && xg_prefix_list_covers(&c[i].sources, s) &&
            xg_prefix_list_covers(&c[i].dests, d))
            return true;
    return false;
}

/* Every pair that is no edge for the ordinary client: source port 53 gets it through (asked
 * directly) exactly when a conditional edge for port 53 covers it. */
static size_t check_conditional(struct xg_matrix_ctx *cx, const struct xg_matrix_query *mq,
                                const struct xg_matrix *m, struct xg_analysis *an,
                                const struct xg_ruleset *rs, const struct xg_ifmap *map,
                                const struct xg_prefix *addrs, size_t na, unsigned seed,
                                const char *text)
{
    struct xg_matrix_cond *c = NULL;
    size_t n = 0, opened = 0;
    struct xg_err err = {{0}};
    assert_int_equal(xg_matrix_conditional(cx, mq, m, &c, &n, &err), 0);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < na; j++) {
            if (edge_of(m, &addrs[i], &addrs[j]))
                continue;
            bool want = direct(an, rs, map, mq->svc.dport, 53, &addrs[i], &addrs[j]) & 1;
            bool got = cond_covers(m, c, n, &addrs[i], &addrs[j]);
            if (want != got)
                print_error("seed %u tcp/%u sport 53: direct %d, conditional %d\n%s", seed,
                            mq->svc.dport, want, got, text);
            assert_int_equal(got, want);
            opened += want;
        }
    xg_matrix_cond_free(c, n);
    return opened;
}

static void test_random_routers(void **state)
{
    static const char *const maps[] = {
        "lan 192.0.2.0/24\ndmz 198.51.100.0/24\nwan !192.0.2.0/24 !198.51.100.0/24\n",
        "lan 192.0.2.0/24\ndmz 198.51.100.0/24 198.51.100.10/32\n"};
    size_t opened53 = 0; /* pairs only source port 53 opens: the check above is not empty */
    (void)state;
    for (unsigned seed = 1; seed <= 16; seed++) {
        char text[8192];
        struct xg_ruleset rs = {0};
        struct xg_ifmap map = {0};
        struct xg_prefix_list extra = {0};
        struct xg_err err = {{0}};
        const char *mt = maps[seed % 2];
        random_router(seed, text, sizeof(text));
        assert_int_equal(xg_parse_iptables_save(text, strlen(text), "r", 4, &rs, &err), 0);
        assert_int_equal(xg_ifmap_parse(mt, strlen(mt), "m", &map, &err), 0);
        assert_int_equal(xg_ifmap_all_prefixes(&map, &extra), 0);
        struct xg_analysis *an = xg_analysis_new(&rs, &extra, &err);
        struct xg_matrix_ctx *cx = xg_matrix_ctx_new(&rs, &map, &err);
        assert_non_null(an);
        assert_non_null(cx);
        /* every edge of every pool prefix, and one step outside it */
        struct xg_prefix addrs[64];
        size_t na = 0;
        for (size_t i = 0; i < 10; i++) {
            struct xg_prefix p;
            char why[160];
            assert_int_equal(xg_prefix_parse(pool[i], XG_PREFIX_STRICT, &p, why, sizeof(why)), 0);
            xg_u128 lo = xg_prefix_lo(&p), hi = xg_prefix_hi(&p);
            xg_u128 v[] = {lo, hi, lo ? lo - 1 : hi + 1, hi < 0xffffffffu ? hi + 1 : lo - 1};
            for (size_t k = 0; k < 4; k++)
                xg_u128_to_addr(v[k], 4, &addrs[na++]);
        }
        for (uint16_t port = 22; port <= 80; port += 58) {
            struct xg_matrix m;
            struct xg_matrix_query mq = {
                .svc = {.family = 4, .proto = IPPROTO_TCP, .dport = port, .path = XG_HOOK_FORWARD}};
            assert_int_equal(xg_service_matrix(cx, &mq, &m, &err), 0);
            for (size_t i = 0; i < na; i++)
                for (size_t j = 0; j < na; j++) {
                    unsigned want = direct(an, &rs, &map, port, -1, &addrs[i], &addrs[j]);
                    unsigned got = edge_of(&m, &addrs[i], &addrs[j]);
                    if (want != got) {
                        char a[XG_PREFIX_STRLEN], b[XG_PREFIX_STRLEN];
                        xg_prefix_format(&addrs[i], true, a);
                        xg_prefix_format(&addrs[j], true, b);
                        print_error("seed %u tcp/%u %s -> %s: direct %u, matrix %u\n%s", seed, port,
                                    a, b, want, got, text);
                    }
                    assert_int_equal(got, want);
                }
            opened53 += check_conditional(cx, &mq, &m, an, &rs, &map, addrs, na, seed, text);
            xg_matrix_free(&m);
        }
        xg_matrix_ctx_free(cx);
        xg_analysis_free(an);
        xg_prefix_list_free(&extra);
        xg_ifmap_free(&map);
        xg_ruleset_free(&rs);
    }
    assert_true(opened53 > 0);
}

/*
 * Conditional edges. The ordinary client (source port 1024-65535, a MAC no
 * rule names) gets only the first rule: A = everyone else, B = 192.0.2.0/24,
 * C = 198.51.100.0/24, edge B>C. Source port 53 opens 198.51.100.53 to
 * everyone: A>C and C>C, to part of C (B>C is an edge already). The MAC
 * opens everything to 203.0.113.0/24 (part of A): A>A, A>B, A>C. Each names
 * its rule (lines 6 and 7) and is exact; the other source-port classes
 * (0-52, 54-1023) open nothing.
 */
static const char cond_rules[] =
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    "-A FORWARD -s 192.0.2.0/24 -d 198.51.100.0/24 -p tcp --dport 22 -j ACCEPT\n"
    "-A FORWARD -p tcp --sport 53 -d 198.51.100.53 -j ACCEPT\n"
    "-A FORWARD -p tcp -m mac --mac-source 02:00:00:00:00:09 -s 203.0.113.0/24 -j ACCEPT\n"
    "COMMIT\n";

/* "A>C sport 53 *->198.51.100.53/32 :6" ('*': the whole class; '?': may) */
static void render_cond(const struct xg_matrix *m, const struct xg_matrix_cond *c, size_t n,
                        char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, size - used, "%s%s>%s ", i ? "; " : "",
                                 m->classes[c[i].src].name, m->classes[c[i].dst].name);
        if (c[i].kind == XG_EXTRA_MAC)
            used += (size_t)snprintf(out + used, size - used, "mac %02x:%02x:%02x:%02x:%02x:%02x ",
                                     c[i].mac[0], c[i].mac[1], c[i].mac[2], c[i].mac[3],
                                     c[i].mac[4], c[i].mac[5]);
        else
            used += (size_t)snprintf(out + used, size - used, "sport %u-%u ", c[i].lo, c[i].hi);
        if (xg_prefix_list_equal(&c[i].sources, &m->classes[c[i].src].addrs))
            used += (size_t)snprintf(out + used, size - used, "*");
        else
            add_list(out, size, &used, &c[i].sources);
        used += (size_t)snprintf(out + used, size - used, "->");
        if (xg_prefix_list_equal(&c[i].dests, &m->classes[c[i].dst].addrs))
            used += (size_t)snprintf(out + used, size - used, "*");
        else
            add_list(out, size, &used, &c[i].dests);
        used += (size_t)snprintf(out + used, size - used, " :%u%s",
                                 c[i].rule ? c[i].rule->src_line : 0, c[i].exact ? "" : "?");
    }
}

static void test_conditional_edges(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    struct xg_matrix m;
    struct xg_matrix_cond *c = NULL;
    size_t n = 0;
    char got[2048];
    (void)state;
    assert_int_equal(
        xg_parse_iptables_save(cond_rules, strlen(cond_rules), "t.rules", 4, &rs, &err), 0);
    struct xg_matrix_ctx *cx = xg_matrix_ctx_new(&rs, NULL, &err);
    assert_non_null(cx);
    struct xg_matrix_query mq = {
        .svc = {.family = 4, .proto = IPPROTO_TCP, .dport = 22, .path = XG_HOOK_FORWARD}};
    assert_int_equal(xg_service_matrix(cx, &mq, &m, &err), 0);
    render(&m, got, sizeof(got));
    assert_string_equal(got, "A=~192.0.2.0/24,198.51.100.0/24 B=192.0.2.0/24 C=198.51.100.0/24 "
                             "| B>C");
    assert_int_equal(xg_matrix_conditional(cx, &mq, &m, &c, &n, &err), 0);
    render_cond(&m, c, n, got, sizeof(got));
    assert_string_equal(got, "A>A mac 02:00:00:00:00:09 203.0.113.0/24->* :7; "
                             "A>B mac 02:00:00:00:00:09 203.0.113.0/24->* :7; "
                             "A>C sport 53-53 *->198.51.100.53/32 :6; "
                             "A>C mac 02:00:00:00:00:09 203.0.113.0/24->* :7; "
                             "C>C sport 53-53 *->198.51.100.53/32 :6");
    xg_matrix_cond_free(c, n);
    /* a query that chooses the port itself has nothing apart for ports: the MAC's only */
    mq.svc.has_sport = true;
    mq.svc.sport = 53;
    xg_matrix_free(&m);
    assert_int_equal(xg_service_matrix(cx, &mq, &m, &err), 0);
    assert_int_equal(xg_matrix_conditional(cx, &mq, &m, &c, &n, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(c[i].kind, XG_EXTRA_MAC);
    assert_true(n > 0);
    xg_matrix_cond_free(c, n);
    xg_matrix_free(&m);
    xg_matrix_ctx_free(cx);
    xg_ruleset_free(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_split),   cmocka_unit_test(test_router_three_rules),
        cmocka_unit_test(test_router_interfaces), cmocka_unit_test(test_input_user_chain),
        cmocka_unit_test(test_ifmap_complement),  cmocka_unit_test(test_random_routers),
        cmocka_unit_test(test_conditional_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
