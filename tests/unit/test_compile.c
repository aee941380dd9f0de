/*
 * test_compile.c — the compiler and its backends.
 *
 * Golden outputs for the shipped example policies (tests/golden/, reviewed
 * by hand; regenerate with tests/golden/regenerate.sh when the ruleset is
 * meant to change), and properties no golden file can show: the nft rule
 * count does not grow with the cluster, the migration port exists exactly
 * when the transport needs it, and what each scenario binds to which
 * interface.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "compile/compile.h"
#include "policy/policy.h"

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

static void compile_text(const char *text, struct xg_policy *p, struct xg_ruleset *rs)
{
    struct xg_err err = {{0}};
    if (xg_policy_parse(text, strlen(text), "t.conf", p, NULL, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    if (xg_compile(p, rs, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

static char *render(const struct xg_ruleset *rs, int format)
{
    struct xg_buf b = {0};
    struct xg_err err = {{0}};
    int rc = format == 0 ? xg_backend_nft(rs, &b, &err) : xg_backend_iptables(rs, format, &b, &err);
    assert_int_equal(rc, 0);
    return b.data;
}

/* The firewall verb prints one header line, then the backend's text. */
static void test_golden(void **state)
{
    static const char *const names[] = {"isolated-management", "firewalled-subnet", "untrusted",
                                        "bridged-dom0"};
    static const char *const exts[] = {"nft", "iptables", "ip6tables"};
    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[256], *policy_text;
        struct xg_policy p;
        struct xg_ruleset rs;
        struct xg_err err = {{0}};
        snprintf(path, sizeof(path), "examples/%s.conf", names[i]);
        policy_text = slurp(path);
        assert_int_equal(xg_policy_parse(policy_text, strlen(policy_text), path, &p, NULL, &err),
                         0);
        assert_int_equal(xg_compile(&p, &rs, &err), 0);
        for (int f = 0; f < 3; f++) {
            char golden_path[256], *golden, *body, *got;
            snprintf(golden_path, sizeof(golden_path), "tests/golden/%s.%s", names[i], exts[f]);
            golden = slurp(golden_path);
            body = strchr(golden, '\n'); /* skip the verb's header line */
            assert_non_null(body);
            got = render(&rs, f == 0 ? 0 : f == 1 ? 4 : 6);
            if (strcmp(body + 1, got)) {
                fprintf(stderr, "%s differs from the compiler's output:\n%s\n", golden_path, got);
                fail();
            }
            free(got);
            free(golden);
        }
        xg_ruleset_free(&rs);
        xg_policy_free(&p);
        free(policy_text);
    }
}

static size_t nft_rule_count(const struct xg_ruleset *rs)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->tables[0]->chain_count; i++)
        n += rs->tables[0]->chains[i]->rule_count;
    return n;
}

static char *policy_with_peers(unsigned count)
{
    size_t cap = 256 + (size_t)count * 20, len;
    char *s = malloc(cap);
    assert_non_null(s);
    len = (size_t)snprintf(s, cap,
                           "[host]\nscenario = firewalled-subnet\npublic-interface = eth0\n"
                           "[migration]\ntransport = xend\n[admin]\nssh-from = 198.51.100.0/24\n"
                           "[cluster]\npeers =");
    for (unsigned i = 0; i < count; i++)
        len += (size_t)snprintf(s + len, cap - len, " 10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
                                i & 255);
    snprintf(s + len, cap - len, "\n");
    return s;
}

static void test_rule_count_independent_of_cluster_size(void **state)
{
    size_t counts[3];
    unsigned sizes[3] = {1, 10, 1000};
    (void)state;
    for (int i = 0; i < 3; i++) {
        char *text = policy_with_peers(sizes[i]);
        struct xg_policy p;
        struct xg_ruleset rs;
        compile_text(text, &p, &rs);
        counts[i] = nft_rule_count(&rs);
        assert_int_equal(xg_table_find_set(rs.tables[0], "peers_v4")->elements.count, sizes[i]);
        xg_ruleset_free(&rs);
        xg_policy_free(&p);
        free(text);
    }
    assert_int_equal(counts[0], counts[1]);
    assert_int_equal(counts[1], counts[2]);
}

static bool text_has(const char *text, const char *needle)
{
    return strstr(text, needle) != NULL;
}

static void test_migration_port_follows_transport(void **state)
{
    static const char *const transports[] = {"off", "xend", "ssh", "tunnel"};
    static const bool port_open[] = {false, true, false, true};
    (void)state;
    for (int i = 0; i < 4; i++) {
        char text[512];
        struct xg_policy p;
        struct xg_ruleset rs;
        char *nft;
        snprintf(text, sizeof(text),
                 "[host]\nscenario = firewalled-subnet\npublic-interface = eth0\n"
                 "[cluster]\npeers = 192.0.2.11\n[migration]\ntransport = %s\n",
                 transports[i]);
        compile_text(text, &p, &rs);
        nft = render(&rs, 0);
        assert_int_equal(text_has(nft, "tcp dport 8002"), port_open[i]);
        /* ssh transport: the peers may reach sshd */
        assert_int_equal(text_has(nft, "tcp dport 22 ip saddr @peers_v4 accept"), i == 2);
        free(nft);
        xg_ruleset_free(&rs);
        xg_policy_free(&p);
    }
}

static void test_isolated_binds_to_management(void **state)
{
    static const char text[] = "[host]\nscenario = isolated-management\npublic-interface = eth0\n"
                               "management-interface = eth1\n[cluster]\npeers = 192.0.2.11\n"
                               "networks = 192.0.2.0/24\n[migration]\ntransport = xend\n"
                               "[admin]\nssh-from = 192.0.2.20\n";
    struct xg_policy p;
    struct xg_ruleset rs;
    char *nft, *ipt;
    (void)state;
    compile_text(text, &p, &rs);
    nft = render(&rs, 0);
    assert_true(text_has(nft, "iifname \"eth1\" tcp dport 8002 ip saddr @peers_v4 accept"));
    assert_true(text_has(nft, "iifname \"eth1\" tcp dport 22 ip saddr @admin_v4 accept"));
    assert_true(text_has(nft, "iifname \"eth0\" ip saddr @nets_v4 drop"));
    assert_true(text_has(nft, "iifname \"eth1\" meta nfproto ipv4 ip saddr != @nets_v4 drop"));
    /* no IPv6 networks: everything but link-local IPv6 is dropped on eth1 */
    assert_true(text_has(nft, "iifname \"eth1\" meta nfproto ipv6 ip6 saddr != fe80::/10 drop"));
    assert_true(text_has(nft, "fib saddr . iif oif missing drop"));
    assert_true(text_has(nft, "policy drop;"));
    ipt = render(&rs, 4);
    assert_true(text_has(ipt, "-A XENGUARD-INPUT -i eth1 -p tcp --dport 8002 -s 192.0.2.11/32"));
    assert_true(text_has(ipt, "-m rpfilter --invert"));
    assert_true(text_has(ipt, "-I INPUT 1 -j XENGUARD-INPUT"));
    assert_true(text_has(ipt, "-I PREROUTING 1 -j XENGUARD-PREROUTING"));
    free(ipt);
    free(nft);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static void test_iptables_negated_sets_use_aux_chain(void **state)
{
    static const char text[] = "[host]\nscenario = isolated-management\npublic-interface = eth0\n"
                               "management-interface = eth1\n[cluster]\n"
                               "networks = 192.0.2.0/24 198.51.100.0/24 2001:db8::/64\n";
    struct xg_policy p;
    struct xg_ruleset rs;
    struct xg_buf b = {0};
    struct xg_err err = {{0}};
    (void)state;
    compile_text(text, &p, &rs);
    assert_int_equal(xg_backend_iptables_ex(&rs, 4, false, &b, &err), 0);
    assert_true(text_has(b.data, "-A XENGUARD-PREROUTING -i eth1 -m comment"));
    assert_true(text_has(b.data, "-j XENGUARD-AUX1"));
    assert_true(text_has(b.data, "-A XENGUARD-AUX1 -s 192.0.2.0/24 -j RETURN"));
    assert_true(text_has(b.data, "-A XENGUARD-AUX1 -s 198.51.100.0/24 -j RETURN"));
    assert_false(text_has(b.data, "-I INPUT")); /* --no-hook */
    xg_buf_free(&b);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

/* The one table of netfilter names reads back what it writes. */
static void test_names_round_trip(void **state)
{
    size_t n;
    const struct xg_priority_name *prios = xg_priority_names(&n);
    enum xg_hook hook = XG_HOOK_NONE;
    int prio = 1;
    (void)state;
    for (int h = XG_HOOK_PREROUTING; h <= XG_HOOK_INGRESS; h++) {
        assert_int_equal(xg_hook_parse(xg_hook_name((enum xg_hook)h)), h);
        if (xg_builtin_chain_name((enum xg_hook)h))
            assert_int_equal(xg_builtin_chain_parse(xg_builtin_chain_name((enum xg_hook)h)), h);
    }
    assert_null(xg_builtin_chain_name(XG_HOOK_INGRESS));
    assert_int_equal(xg_hook_parse("INPUT"), XG_HOOK_NONE);
    for (int f = XG_TABLE_INET; f < XG_TABLE_OTHER; f++)
        assert_int_equal(xg_table_family_parse(xg_table_family_name((enum xg_table_family)f)), f);
    assert_string_equal(xg_table_family_name(XG_TABLE_INET), XG_NFT_FAMILY);
    assert_int_equal(xg_table_family_parse(XG_NFT_BRIDGE_FAMILY), XG_TABLE_BRIDGE);
    assert_int_equal(xg_table_family_parse("netdev"), XG_TABLE_OTHER);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(xg_priority_name(prios[i].value), prios[i].name);
    assert_null(xg_priority_name(7));
    /* iptables' built-in chains: which table has which, at which priority */
    assert_true(xg_ipt_builtin("nat", "POSTROUTING", &hook, &prio));
    assert_int_equal(hook, XG_HOOK_POSTROUTING);
    assert_int_equal(prio, XG_PRIO_SRCNAT);
    assert_true(xg_ipt_builtin("nat", "OUTPUT", &hook, &prio));
    assert_int_equal(prio, XG_PRIO_DSTNAT);
    assert_true(xg_ipt_builtin("raw", "PREROUTING", &hook, &prio));
    assert_int_equal(prio, XG_PRIO_RAW);
    assert_false(xg_ipt_builtin("filter", "PREROUTING", &hook, &prio));
    assert_false(xg_ipt_builtin("raw", "INPUT", &hook, &prio));
    assert_false(xg_ipt_builtin("nat", "FORWARD", &hook, &prio));
    assert_false(xg_ipt_builtin("filter", "XENGUARD-INPUT", &hook, &prio));
    assert_null(xg_ipt_table_find("broute"));
}

/* Every kind of match, a log, a jump, a copied rule: xg_table_free() and
 * xg_ruleset_free() release all of it (LeakSanitizer fails this binary
 * otherwise). */
static void test_ir_frees_what_it_builds(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_prefix_list l = {0};
    struct xg_prefix pfx;
    struct xg_port_range ports[] = {{22, 22}, {6000, 6010}};
    static const uint8_t macs[1][6] = {{2, 0, 0, 0, 0, 1}};
    static const uint8_t types[] = {8};
    char why[64];
    (void)state;
    assert_int_equal(xg_prefix_parse("192.0.2.0/24", XG_PREFIX_STRICT, &pfx, why, sizeof(why)), 0);
    assert_int_equal(xg_prefix_list_add(&l, &pfx), 0);
    for (int k = 0; k < 2; k++) {
        struct xg_table *t = xg_ruleset_add_table(&rs, k ? "other" : XG_NFT_TABLE, XG_TABLE_INET);
        struct xg_set *set = t ? xg_table_add_set(t, "peers_v4", 4) : NULL;
        struct xg_chain *c =
            t ? xg_table_add_chain(t, "input", XG_HOOK_INPUT, XG_PRIO_FILTER, XG_VERDICT_DROP)
              : NULL;
        struct xg_rule *r = c ? xg_chain_add_rule(c) : NULL;
        struct xg_match *unknown;
        assert_non_null(r);
        assert_non_null(t->comment = strdup("table comment"));
        assert_non_null(set->comment = strdup("set comment"));
        assert_non_null(c->comment = strdup("chain comment"));
        assert_int_equal(xg_prefix_list_add(&set->elements, &pfx), 0);
        assert_int_equal(xg_rule_match_iifname(r, "eth0", false), 0);
        assert_int_equal(xg_rule_match_family(r, 4), 0);
        assert_int_equal(xg_rule_match_saddr_set(r, "peers_v4", false), 0);
        assert_int_equal(xg_rule_match_addrs(r, XG_MATCH_DADDR, &l, true), 0);
        assert_int_equal(xg_rule_match_proto(r, 6), 0);
        assert_int_equal(xg_rule_match_ports(r, XG_MATCH_SPORT, ports, 2), 0);
        assert_int_equal(xg_rule_match_dports(r, ports, 1), 0);
        assert_int_equal(xg_rule_match_ct(r, XG_CT_NEW), 0);
        assert_int_equal(xg_rule_match_rpf(r, true), 0);
        assert_int_equal(xg_rule_match_icmp(r, 4, types, 1), 0);
        assert_int_equal(xg_rule_match_limit(r, 5, XG_RATE_MINUTE, 10), 0);
        assert_int_equal(xg_rule_match_macs(r, macs, 1), 0);
        assert_non_null(unknown = xg_rule_add_match(r, XG_MATCH_UNKNOWN, false));
        assert_non_null(unknown->u.text = strdup("meta mark 0x1"));
        assert_int_equal(xg_rule_set_comment(r, "every match"), 0);
        assert_int_equal(xg_rule_set_log(r, "xg: ", 6), 0);
        assert_int_equal(xg_rule_set_target(r, XG_VERDICT_JUMP, "aux"), 0);
        struct xg_rule *copy = xg_chain_add_rule(c);
        assert_non_null(copy);
        assert_int_equal(xg_rule_copy(copy, &c->rules[0]), 0);
    }
    /* take the second table out and free it on its own, as the analyzer does */
    xg_table_free(rs.tables[1]);
    rs.table_count = 1;
    xg_table_free(NULL);
    xg_ruleset_free(&rs);
    assert_int_equal(rs.table_count, 0);
    assert_null(rs.tables);
    xg_prefix_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_rule_count_independent_of_cluster_size),
        cmocka_unit_test(test_migration_port_follows_transport),
        cmocka_unit_test(test_isolated_binds_to_management),
        cmocka_unit_test(test_iptables_negated_sets_use_aux_chain),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_ir_frees_what_it_builds),
    };
    return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
