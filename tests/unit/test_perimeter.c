/*
 * test_perimeter.c — the cluster router's perimeter: the [perimeter] section,
 * its compile (goldens of examples/perimeter.conf, and what no golden shows:
 * the table never accepts, its names, its ports), and analyze/perimeter.c
 * asked about the compiler's own output and about copies with one hole cut in.
 * The kernel half (real packets through a real router) is tests/e2e/perimeter.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/perimeter.h"
#include "apply/ipt.h"
#include "backend/backend.h"
#include "compile/perimeter.h"
#include "policy/policy.h"

#define BASE                                                                                       \
    "[host]\nscenario = firewalled-subnet\npublic-interface = eth1\n"                              \
    "[cluster]\npeers = 192.0.2.11 192.0.2.12 2001:db8::11\n"                                      \
    "networks = 192.0.2.0/24 2001:db8::/64\n"                                                      \
    "[migration]\ntransport = xend\n"                                                              \
    "[admin]\nssh-from = 198.51.100.0/24\n"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);
    size_t n;
    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void parse_ok(const char *text, struct xg_policy *p)
{
    struct xg_err err = {{0}};
    if (xg_policy_parse(text, strlen(text), "t.conf", p, NULL, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

static void parse_fails(const char *text, const char *want)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    int rc = xg_policy_parse(text, strlen(text), "t.conf", &p, NULL, &err);
    if (rc == 0 || !strstr(err.msg, want)) {
        fprintf(stderr, "wanted an error containing '%s', got rc %d: %s\n", want, rc, err.msg);
        if (rc == 0)
            xg_policy_free(&p);
        fail();
    }
}

static void compile_ok(const char *text, struct xg_policy *p, struct xg_ruleset *rs)
{
    struct xg_err err = {{0}};
    parse_ok(text, p);
    if (xg_compile_perimeter(p, rs, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

static void test_golden(void **state)
{
    static const char *const exts[] = {"nft", "iptables", "ip6tables"};
    struct xg_policy p;
    struct xg_ruleset rs;
    struct xg_err err = {{0}};
    (void)state;
    assert_int_equal(xg_policy_load("examples/perimeter.conf", &p, NULL, &err), 0);
    assert_int_equal(xg_compile_perimeter(&p, &rs, &err), 0);
    for (int f = 0; f < 3; f++) {
        char path[128];
        struct xg_buf b = {0};
        snprintf(path, sizeof(path), "tests/golden/perimeter.%s", exts[f]);
        char *golden = slurp(path), *body = strchr(golden, '\n');
        assert_int_equal(f == 0 ? xg_backend_nft(&rs, &b, &err)
                                : xg_backend_iptables(&rs, f == 1 ? 4 : 6, &b, &err),
                         0);
        assert_non_null(body);
        if (strcmp(body + 1, xg_buf_str(&b))) {
            fprintf(stderr, "%s differs from the compiler's output:\n%s\n", path, xg_buf_str(&b));
            fail();
        }
        xg_buf_free(&b);
        free(golden);
    }
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static void test_section_parses_and_prints(void **state)
{
    struct xg_policy p, q;
    char *once, *twice;
    (void)state;
    parse_ok(BASE "[perimeter]\noutside-interface = eth0, wan2\ninside-interface = eth1\n"
                  "management-ports = 9000-9010 443\nxapi = yes\n",
             &p);
    assert_true(p.perimeter.present);
    assert_int_equal(p.perimeter.outside_count, 2);
    assert_string_equal(p.perimeter.outside[1], "wan2");
    assert_int_equal(p.perimeter.port_count, 2);
    assert_int_equal(p.perimeter.ports[0].hi, 9010);
    assert_true(p.perimeter.xapi);
    assert_int_equal(xg_policy_print(&p, &once), 0);
    assert_non_null(strstr(once, "[perimeter]\noutside-interface = eth0 wan2\n"));
    parse_ok(once, &q);
    assert_int_equal(xg_policy_print(&q, &twice), 0);
    assert_string_equal(once, twice);
    free(once);
    free(twice);
    xg_policy_free(&p);
    xg_policy_free(&q);
    parse_ok(BASE, &p); /* no section: nothing printed, nothing present */
    assert_false(p.perimeter.present);
    assert_int_equal(xg_policy_print(&p, &once), 0);
    assert_null(strstr(once, "perimeter"));
    free(once);
    xg_policy_free(&p);
}

static void test_section_rejects(void **state)
{
    (void)state;
    parse_fails(BASE "[perimeter]\ninside-interface = eth1\n", "needs outside-interface");
    parse_fails(BASE "[perimeter]\noutside-interface = eth0\n", "needs inside-interface");
    parse_fails(BASE "[perimeter]\noutside-interface = eth0\ninside-interface = eth0\n",
                "t.conf:13:20: inside-interface 'eth0' is also an outside-interface");
    parse_fails(BASE "[perimeter]\noutside-interface = eth0 eth0\n", "'eth0' is listed twice");
    parse_fails(BASE "[perimeter]\noutside-interface = this-name-is-too-long\n",
                "1 to 15 characters");
    parse_fails(BASE "[perimeter]\noutside-interface = eth0\ninside-interface = eth1\n"
                     "management-ports = 9010-9000\n",
                "t.conf:14:20: management-ports: port range '9010-9000' ends before it starts");
    parse_fails(BASE "[perimeter]\nforward = yes\n", "unknown key 'forward' in [perimeter]");
    parse_fails("[host]\nscenario = firewalled-subnet\npublic-interface = eth1\n"
                "[perimeter]\noutside-interface = eth0\ninside-interface = eth1\n",
                "[perimeter] needs [cluster] networks");
}

static void test_ports(void **state)
{
    struct xg_policy p;
    struct xg_port_range r[32];
    (void)state;
    parse_ok(BASE "[perimeter]\noutside-interface = eth0\ninside-interface = eth1\n"
                  "management-ports = 8001 8003-8004 9443\nxapi = yes\n",
             &p);
    size_t n = xg_perimeter_ports(&p, r, 32);
    /* 22, 80, 443, 8000-8006 (8000, 8001, 8002, 8003-8004, 8005, 8006 merged), 9443 */
    assert_int_equal(n, 5);
    assert_int_equal(r[0].lo, 22);
    assert_int_equal(r[1].lo, 80);
    assert_int_equal(r[2].lo, 443);
    assert_int_equal(r[3].lo, 8000);
    assert_int_equal(r[3].hi, 8006);
    assert_int_equal(r[4].lo, 9443);
    xg_policy_free(&p);
}

/* The table only ever drops: no rule accepts, the base chain's policy is accept. */
static void test_never_accepts(void **state)
{
    struct xg_policy p;
    struct xg_ruleset rs;
    (void)state;
    compile_ok(BASE "[perimeter]\noutside-interface = eth0 eth2\ninside-interface = eth1\n", &p,
               &rs);
    assert_int_equal(rs.table_count, 1);
    assert_string_equal(rs.tables[0]->name, XG_NFT_PERIMETER_TABLE);
    size_t base = 0;
    for (size_t c = 0; c < rs.tables[0]->chain_count; c++) {
        const struct xg_chain *ch = rs.tables[0]->chains[c];
        assert_memory_equal(ch->name, XG_PERIMETER_CHAIN, strlen(XG_PERIMETER_CHAIN));
        if (ch->hook != XG_HOOK_NONE) {
            base++;
            assert_int_equal(ch->hook, XG_HOOK_FORWARD);
            assert_int_equal(ch->policy, XG_VERDICT_ACCEPT);
        }
        for (size_t r = 0; r < ch->rule_count; r++)
            assert_int_not_equal(ch->rules[r].verdict, XG_VERDICT_ACCEPT);
    }
    assert_int_equal(base, 1);
    struct xg_buf b = {0};
    struct xg_err err = {{0}};
    assert_int_equal(xg_backend_iptables(&rs, 4, &b, &err), 0);
    assert_null(strstr(xg_buf_str(&b), "-j ACCEPT"));
    assert_null(strstr(xg_buf_str(&b), "XENGUARD-AUX")); /* only the perimeter's own chains */
    assert_non_null(strstr(xg_buf_str(&b), "-I FORWARD 1 -j XENGUARD-PERIMETER-FORWARD\n"));
    assert_non_null(strstr(xg_buf_str(&b), "-A XENGUARD-PERIMETER-FORWARD -i eth2 -j "
                                           "XENGUARD-PERIMETER-INGRESS\n"));
    xg_buf_free(&b);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static void test_needs_section(void **state)
{
    struct xg_policy p;
    struct xg_ruleset rs;
    struct xg_err err = {{0}};
    (void)state;
    parse_ok(BASE, &p);
    assert_int_equal(xg_compile_perimeter(&p, &rs, &err), -1);
    assert_non_null(strstr(err.msg, "no [perimeter] section"));
    struct xg_per_result *r = calloc(1, sizeof(*r));
    assert_int_equal(xg_perimeter_check(&rs, &p, r, &err), -1);
    free(r);
    xg_policy_free(&p);
}

/* Remove the rules of chain CHAIN whose comment starts with PREFIX (cut a hole). */
static void cut(struct xg_ruleset *rs, const char *chain, const char *prefix)
{
    struct xg_chain *c = xg_table_find_chain(rs->tables[0], chain);
    size_t k = 0;
    assert_non_null(c);
    for (size_t i = 0; i < c->rule_count; i++) {
        if (c->rules[i].comment && !strncmp(c->rules[i].comment, prefix, strlen(prefix)))
            xg_rule_clear(&c->rules[i]);
        else
            c->rules[k++] = c->rules[i];
    }
    assert_true(k < c->rule_count);
    c->rule_count = k;
}

static void check(const struct xg_ruleset *rs, const struct xg_policy *p, struct xg_per_result *r)
{
    struct xg_err err = {{0}};
    if (xg_perimeter_check(rs, p, r, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

static void test_analyzer_on_compiled(void **state)
{
    struct xg_policy p;
    struct xg_ruleset rs;
    struct xg_per_result *r = calloc(1, sizeof(*r));
    (void)state;
    compile_ok(BASE "[perimeter]\noutside-interface = eth0\ninside-interface = eth1\n", &p, &rs);
    check(&rs, &p, r);
    assert_int_equal(r->status[0], XG_PER_HOLDS);
    assert_int_equal(r->status[1], XG_PER_HOLDS);
    assert_int_equal(r->count, 0);
    assert_true(r->asked > 0);

    /* hole 1: the ingress drop of cluster sources is gone */
    cut(&rs, XG_PERIMETER_CHAIN "ingress", "anti-spoofing: a cluster source");
    check(&rs, &p, r);
    assert_int_equal(r->status[0], XG_PER_FAILS);
    assert_int_equal(r->holes[0].req, 0);
    assert_true(r->holes[0].certain);
    char line[1024];
    xg_per_hole_describe(&r->holes[0], line, sizeof(line));
    assert_non_null(strstr(line, "eth0 -> eth1: a new connection from 192.0.2.0"));
    assert_non_null(strstr(line, "gets through"));
    xg_ruleset_free(&rs);
    xg_policy_free(&p);

    /* hole 2: sshd from the admins is fine; the management drop gone is not */
    compile_ok(BASE "[perimeter]\noutside-interface = eth0\ninside-interface = eth1\n", &p, &rs);
    cut(&rs, XG_PERIMETER_CHAIN "mgmt", "the management plane");
    check(&rs, &p, r);
    assert_int_equal(r->status[0], XG_PER_HOLDS);
    assert_int_equal(r->status[1], XG_PER_FAILS);
    assert_int_equal(r->holes[0].req, 1);
    assert_int_equal(r->holes[0].proto, 6);
    assert_non_null(strstr(r->holes[0].rule, "the policy (accept) of chain perimeter-forward"));
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
    free(r);
}

/* apply --perimeter and the host's apply restore only their own iptables chains: a host
 * rollback keeps the perimeter's chains as they run now, and the other way round. */
static void test_ipt_scopes(void **state)
{
    static const char current[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                                  ":XENGUARD-INPUT - [0:0]\n:XENGUARD-PERIMETER-FORWARD - [0:0]\n"
                                  "-A INPUT -j XENGUARD-INPUT\n"
                                  "-A FORWARD -j XENGUARD-PERIMETER-FORWARD\n"
                                  "-A XENGUARD-INPUT -p tcp --dport 22 -j ACCEPT\n"
                                  "-A XENGUARD-PERIMETER-FORWARD -s 192.0.2.0/24 -j DROP\n"
                                  "COMMIT\n";
    static const char saved[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                                ":XENGUARD-INPUT - [0:0]\n:XENGUARD-PERIMETER-FORWARD - [0:0]\n"
                                "-A INPUT -j XENGUARD-INPUT\n"
                                "-A FORWARD -j XENGUARD-PERIMETER-FORWARD\n"
                                "-A XENGUARD-INPUT -p tcp --dport 2222 -j ACCEPT\n"
                                "-A XENGUARD-PERIMETER-FORWARD -s 198.51.100.0/24 -j DROP\n"
                                "COMMIT\n";
    struct xg_err err = {{0}};
    char *host = NULL, *per = NULL;
    (void)state;
    assert_int_equal(xg_ipt_merge_in(false, current, saved, &host, &err), 0);
    assert_int_equal(xg_ipt_merge_in(true, current, saved, &per, &err), 0);
    /* host: its chain from the saved state, the perimeter's as it runs */
    assert_non_null(strstr(host, "--dport 2222"));
    assert_null(strstr(host, "--dport 22 "));
    assert_non_null(strstr(host, "-s 192.0.2.0/24 -j DROP"));
    assert_null(strstr(host, "198.51.100.0/24"));
    /* perimeter: the other way round */
    assert_non_null(strstr(per, "-s 198.51.100.0/24 -j DROP"));
    assert_null(strstr(per, "192.0.2.0/24"));
    assert_non_null(strstr(per, "--dport 22 "));
    assert_null(strstr(per, "--dport 2222"));
    assert_true(xg_ipt_hooked_in(true, current));
    assert_false(xg_ipt_hooked_in(true, "*filter\n-A INPUT -j XENGUARD-INPUT\nCOMMIT\n"));
    assert_false(xg_ipt_hooked("*filter\n-A FORWARD -j XENGUARD-PERIMETER-FORWARD\nCOMMIT\n"));
    free(host);
    free(per);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_section_parses_and_prints),
        cmocka_unit_test(test_section_rejects),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_never_accepts),
        cmocka_unit_test(test_needs_section),
        cmocka_unit_test(test_analyzer_on_compiled),
        cmocka_unit_test(test_ipt_scopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
