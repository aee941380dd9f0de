/*
 * test_matrix.c — unit tests of the service matrix (src/analyze/matrix.c):
 * small rulesets whose classes and edges were worked out by hand (the
 * comment above each case says how), the partition refinement it is built
 * on, and the interface map's complement lines.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_split),   cmocka_unit_test(test_router_three_rules),
        cmocka_unit_test(test_router_interfaces), cmocka_unit_test(test_input_user_chain),
        cmocka_unit_test(test_ifmap_complement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
