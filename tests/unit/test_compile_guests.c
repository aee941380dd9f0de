/*
 * test_compile_guests.c — the guests' bridge table (compile/guests.c) and how
 * the nft backend spells it: the set names and keys the vif verb relies on,
 * what protected4/6 hold per scenario, that the rule count does not grow with
 * the guests, and the concatenations, ND-target companions and elements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply/guests.h"
#include "backend/backend.h"
#include "compile/compile.h"
#include "policy/policy.h"

static const char BRIDGED[] = "[host]\nscenario = firewalled-subnet\npublic-interface = xenbr0\n"
                              "addresses = 192.0.2.10 2001:db8::10\n"
                              "[cluster]\npeers = 192.0.2.11 2001:db8::11\n"
                              "networks = 192.0.2.0/24\n[migration]\ntransport = xend\n"
                              "[admin]\nssh-from = 198.51.100.0/24\n";

static void compile_text(const char *text, struct xg_policy *p, struct xg_ruleset *rs)
{
    struct xg_err err = {{0}};
    if (xg_policy_parse(text, strlen(text), "t.conf", p, NULL, &err) < 0 ||
        xg_compile(p, rs, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

static char *render(const struct xg_ruleset *rs)
{
    struct xg_buf b = {0};
    struct xg_err err = {{0}};
    assert_int_equal(xg_backend_nft(rs, &b, &err), 0);
    return b.data;
}

static bool has(const char *text, const char *needle)
{
    if (strstr(text, needle))
        return true;
    fprintf(stderr, "missing: %s\n", needle);
    return false;
}

static bool covers(const struct xg_set *s, const char *addr)
{
    struct xg_prefix p;
    char why[160];
    assert_int_equal(xg_prefix_parse(addr, XG_PREFIX_STRICT, &p, why, sizeof(why)), 0);
    return xg_prefix_list_covers(&s->elements, &p);
}

static void test_sets_of_the_contract(void **state)
{
    static const struct {
        const char *name;
        enum xg_set_key key;
        uint8_t family;
        bool dynamic;
    } want[] = {{XG_BR_SET_PROTECT4, XG_SETKEY_ADDR, 4, false},
                {XG_BR_SET_PROTECT6, XG_SETKEY_ADDR, 6, false},
                {XG_BR_SET_DECLARED, XG_SETKEY_IFNAME, 0, true},
                {XG_BR_SET_IP4, XG_SETKEY_IF_ADDR, 4, true},
                {XG_BR_SET_IP6, XG_SETKEY_IF_ADDR, 6, true},
                {XG_BR_SET_MAC, XG_SETKEY_IF_MAC, 0, true}};
    struct xg_policy p;
    struct xg_ruleset rs;
    (void)state;
    compile_text(BRIDGED, &p, &rs);
    assert_int_equal(rs.table_count, 2);
    struct xg_table *t = xg_guests_table(&rs);
    assert_non_null(t);
    assert_int_equal(t->family, XG_TABLE_BRIDGE);
    assert_string_equal(t->name, XG_NFT_TABLE);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct xg_set *s = xg_table_find_set(t, want[i].name);
        assert_non_null(s);
        assert_int_equal(s->key, want[i].key);
        assert_int_equal(s->family, want[i].family);
        assert_int_equal(s->dynamic, want[i].dynamic);
    }
    /* Dom0, peers and ssh-from; not the cluster network guests may live on */
    struct xg_set *p4 = xg_table_find_set(t, XG_BR_SET_PROTECT4);
    struct xg_set *p6 = xg_table_find_set(t, XG_BR_SET_PROTECT6);
    assert_true(covers(p4, "192.0.2.10") && covers(p4, "192.0.2.11") && covers(p4, "198.51.100.7"));
    assert_false(covers(p4, "192.0.2.50"));
    assert_true(covers(p6, "2001:db8::10") && covers(p6, "2001:db8::11"));
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static void test_isolated_protects_the_management_network(void **state)
{
    /* the peer and ssh-from inside the network: nft refuses overlapping intervals */
    static const char text[] = "[host]\nscenario = isolated-management\npublic-interface = xenbr0\n"
                               "management-interface = eth1\n[cluster]\npeers = 10.0.0.5\n"
                               "networks = 10.0.0.0/8\n[admin]\nssh-from = 10.1.0.0/16\n";
    struct xg_policy p;
    struct xg_ruleset rs;
    (void)state;
    compile_text(text, &p, &rs);
    struct xg_set *p4 = xg_table_find_set(xg_guests_table(&rs), XG_BR_SET_PROTECT4);
    assert_true(covers(p4, "10.1.2.3"));
    assert_int_equal(p4->elements.count, 1); /* disjoint: 10.0.0.0/8 alone */
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static void test_protect_no_leaves_out_the_table(void **state)
{
    char text[1024];
    struct xg_policy p;
    struct xg_ruleset rs;
    (void)state;
    snprintf(text, sizeof(text), "%s[guests]\nprotect = no\n", BRIDGED);
    compile_text(text, &p, &rs);
    assert_int_equal(rs.table_count, 1);
    assert_null(xg_guests_table(&rs));
    char *nft = render(&rs);
    assert_null(strstr(nft, "bridge"));
    free(nft);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static size_t rule_count(const struct xg_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->chain_count; i++)
        n += t->chains[i]->rule_count;
    return n;
}

/* A thousand declared guests are set elements, not rules. */
static void test_rule_count_independent_of_guests(void **state)
{
    struct xg_policy p;
    struct xg_ruleset rs;
    (void)state;
    compile_text(BRIDGED, &p, &rs);
    struct xg_table *t = xg_guests_table(&rs);
    size_t before = rule_count(t);
    for (unsigned i = 0; i < 1000; i++) {
        struct xg_set_pair pair = {0};
        snprintf(pair.ifname, sizeof(pair.ifname), "vif%u.0", i + 1);
        assert_int_equal(xg_set_add_pair(xg_table_find_set(t, XG_BR_SET_DECLARED), &pair), 0);
        pair.addr = (struct xg_prefix){.family = 4, .len = 32, .addr = {192, 0, 2, 0}};
        pair.addr.addr[3] = (uint8_t)(i % 200 + 20);
        assert_int_equal(xg_set_add_pair(xg_table_find_set(t, XG_BR_SET_IP4), &pair), 0);
    }
    char *nft = render(&rs);
    assert_int_equal(rule_count(t), before);
    assert_true(has(nft, "\"vif1000.0\" . 192.0.2.219"));
    free(nft);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static void test_nft_spelling(void **state)
{
    struct xg_policy p;
    struct xg_ruleset rs;
    (void)state;
    compile_text(BRIDGED, &p, &rs);
    struct xg_table *t = xg_guests_table(&rs);
    struct xg_set_pair six = {.ifname = "vif3.0"},
                       mac = {.ifname = "vif3.0", .mac = {2, 0, 0, 0, 0, 0x33}};
    char why[160];
    assert_int_equal(xg_prefix_parse("2001:db8::33", XG_PREFIX_STRICT, &six.addr, why, 160), 0);
    assert_int_equal(xg_set_add_pair(xg_table_find_set(t, XG_BR_SET_IP6), &six), 0);
    assert_int_equal(xg_set_add_pair(xg_table_find_set(t, XG_BR_SET_MAC), &mac), 0);
    char *nft = render(&rs);
    assert_true(has(nft, "table inet xenguard {}\ndelete table inet xenguard\n"));
    assert_true(has(nft, "table bridge xenguard {}\ndelete table bridge xenguard\n"));
    assert_true(has(nft, "type filter hook prerouting priority -300; policy accept;"));
    assert_true(has(nft, "iifname \"vif*\" jump guests"));
    assert_true(has(nft, "iifname \"tap*\" jump guests"));
    assert_true(has(nft, "set vif_ip4 {\n\t\ttype ifname . ipv4_addr\n"));
    assert_true(has(nft, "set vif_mac {\n\t\ttype ifname . ether_addr\n"));
    assert_true(has(nft, "set vif_declared {\n\t\ttype ifname\n"));
    assert_true(has(nft, "set vif_ip6_nd {\n\t\ttypeof iifname . @th,64,128\n"));
    assert_true(has(nft, "elements = { \"vif3.0\" . 2001:db8::33 }"));
    assert_true(has(nft, "elements = { \"vif3.0\" . 0x20010db8000000000000000000000033 }"));
    assert_true(has(nft, "elements = { \"vif3.0\" . 02:00:00:00:00:33 }"));
    assert_true(has(nft, "ip saddr @protected4 counter goto guest_drop"));
    assert_true(has(nft, "arp saddr ip @protected4 counter goto guest_drop"));
    assert_true(has(nft, "icmpv6 type nd-neighbor-advert @th,64,128 @protected6_nd counter"));
    assert_true(has(nft, "icmpv6 type { nd-router-advert, nd-redirect } counter goto guest_drop"));
    assert_true(has(nft, "ether type ip udp sport 67 counter goto guest_drop"));
    assert_true(has(nft, "ether type ip6 udp sport 547 counter goto guest_drop"));
    assert_true(has(nft, "iifname @vif_declared jump declared"));
    assert_true(has(nft, "iifname . ether saddr != @vif_mac counter goto guest_drop"));
    assert_true(has(nft, "arp saddr ip != 0.0.0.0 iifname . arp saddr ip != @vif_ip4"));
    assert_true(has(nft, "ether type ip iifname . ip saddr != @vif_ip4 counter goto guest_drop"));
    assert_true(has(nft, "ip6 saddr != fe80::/10 iifname . ip6 saddr != @vif_ip6 counter"));
    assert_true(has(nft, "iifname . @th,64,128 != @vif_ip6_nd"));
    assert_true(has(nft, "log prefix \"xenguard guest drop: \" level info"));
    /* one element at a time, for `add element` (the vif verb) */
    struct xg_buf b = {0};
    assert_int_equal(xg_backend_nft_element(xg_table_find_set(t, XG_BR_SET_IP6), 0, true, &b), 0);
    assert_string_equal(b.data, "\"vif3.0\" . 0x20010db8000000000000000000000033");
    assert_int_equal(xg_backend_nft_element(xg_table_find_set(t, XG_BR_SET_IP6), 1, false, &b), -1);
    xg_buf_free(&b);
    free(nft);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

static void test_live_addresses_join_protected(void **state)
{
    struct xg_policy p;
    struct xg_ruleset rs;
    struct xg_prefix_list live = {0};
    struct xg_prefix a;
    char why[160];
    (void)state;
    compile_text(BRIDGED, &p, &rs);
    struct xg_set *p4 = xg_table_find_set(xg_guests_table(&rs), XG_BR_SET_PROTECT4);
    size_t before = p4->elements.count;
    assert_int_equal(xg_prefix_parse("203.0.113.5", XG_PREFIX_STRICT, &a, why, 160), 0);
    assert_int_equal(xg_prefix_list_add(&live, &a), 0);
    assert_int_equal(xg_prefix_parse("192.0.2.10", XG_PREFIX_STRICT, &a, why, 160), 0);
    assert_int_equal(xg_prefix_list_add(&live, &a), 0); /* already there: not twice */
    assert_int_equal(xg_guests_protect_more(&rs, &live), 0);
    assert_int_equal(p4->elements.count, before + 1);
    assert_true(covers(p4, "203.0.113.5"));
    xg_prefix_list_free(&live);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

/* apply/guests.c: the running table's declared guests carried into the new IR (the listing is
 * `nft -j list table bridge xenguard` as nft 1.0.6 writes it). */
static void test_carry_declared_guests(void **state)
{
    static const char listing[] =
        "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
        "{\"table\": {\"family\": \"bridge\", \"name\": \"xenguard\"}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_declared\", \"table\": "
        "\"xenguard\", \"type\": \"ifname\", \"elem\": [\"vif5.0\", \"vif6.0\"]}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_ip4\", \"table\": \"xenguard\", "
        "\"type\": [\"ifname\", \"ipv4_addr\"], "
        "\"elem\": [{\"concat\": [\"vif5.0\", \"192.0.2.50\"]}, {\"elem\": {\"val\": "
        "{\"concat\": [\"vif6.0\", \"192.0.2.60\"]}, \"comment\": \"x\"}}]}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_ip6\", \"table\": \"xenguard\", "
        "\"type\": [\"ifname\", \"ipv6_addr\"], "
        "\"elem\": [{\"concat\": [\"vif5.0\", \"2001:db8::50\"]}]}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_mac\", \"table\": \"xenguard\", "
        "\"type\": [\"ifname\", \"ether_addr\"], "
        "\"elem\": [{\"concat\": [\"vif5.0\", \"02:00:00:00:00:50\"]}]}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"protected4\", \"table\": "
        "\"xenguard\", \"elem\": [\"203.0.113.99\"]}},"
        "{\"set\": {\"family\": \"inet\", \"name\": \"vif_ip4\", \"table\": \"xenguard\", "
        "\"elem\": [{\"concat\": [\"vif9.0\", \"192.0.2.90\"]}]}}]}";
    struct xg_policy p;
    struct xg_ruleset rs;
    struct xg_err err = {{0}};
    (void)state;
    compile_text(BRIDGED, &p, &rs);
    assert_int_equal(xg_guests_carry_json(&rs, listing, &err), 0);
    struct xg_table *t = xg_guests_table(&rs);
    assert_int_equal(xg_table_find_set(t, XG_BR_SET_DECLARED)->pair_count, 2);
    struct xg_set *ip4 = xg_table_find_set(t, XG_BR_SET_IP4);
    assert_int_equal(ip4->pair_count, 2); /* not the inet table's set of the same name */
    assert_string_equal(ip4->pairs[1].ifname, "vif6.0");
    assert_int_equal(ip4->pairs[1].addr.addr[3], 60);
    assert_int_equal(xg_table_find_set(t, XG_BR_SET_IP6)->pair_count, 1);
    assert_int_equal(xg_table_find_set(t, XG_BR_SET_MAC)->pairs[0].mac[5], 0x50);
    /* protected4 comes from the policy and the live host, never from the old table */
    assert_false(covers(xg_table_find_set(t, XG_BR_SET_PROTECT4), "203.0.113.99"));
    char *nft = render(&rs);
    assert_true(has(nft, "\"vif5.0\" . 0x20010db8000000000000000000000050"));
    free(nft);
    /* an element that cannot be carried is an error naming it, not a silent loss */
    static const char bad[] = "{\"nftables\": [{\"set\": {\"family\": \"bridge\", \"name\": "
                              "\"vif_ip4\", \"table\": \"xenguard\", \"type\": [\"ifname\", "
                              "\"ipv4_addr\"], \"elem\": [{\"concat\": "
                              "[\"vif5.0\", \"2001:db8::1\"]}]}}]}";
    assert_int_equal(xg_guests_carry_json(&rs, bad, &err), -1);
    assert_non_null(strstr(err.msg, "cannot carry the declared guests: set vif_ip4:"));
    assert_non_null(strstr(err.msg, "'2001:db8::1' is not an IPv4 address"));
    /* a port only in vif_ip4 (not in vif_declared) is carried as it is: not declared */
    static const char partial[] =
        "{\"nftables\": [{\"set\": {\"family\": \"bridge\", \"name\": \"vif_declared\", "
        "\"table\": \"xenguard\", \"type\": \"ifname\"}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_ip4\", \"table\": \"xenguard\", "
        "\"type\": [\"ifname\", \"ipv4_addr\"], \"elem\": [{\"concat\": [\"vif7.0\", "
        "\"192.0.2.70\"]}]}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_ip6\", \"table\": \"xenguard\", "
        "\"type\": [\"ifname\", \"ipv6_addr\"]}},"
        "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_mac\", \"table\": \"xenguard\", "
        "\"type\": [\"ifname\", \"ether_addr\"]}}]}";
    struct xg_policy p2;
    struct xg_ruleset rs2;
    compile_text(BRIDGED, &p2, &rs2);
    assert_int_equal(xg_guests_carry_json(&rs2, partial, &err), 0);
    struct xg_table *t2 = xg_guests_table(&rs2);
    assert_int_equal(xg_table_find_set(t2, XG_BR_SET_DECLARED)->pair_count, 0);
    assert_int_equal(xg_table_find_set(t2, XG_BR_SET_IP4)->pair_count, 1);
    /* a running table without the vif sets (older, or guest protection off): nothing to carry */
    static const char no_sets[] = "{\"nftables\": [{\"table\": {\"family\": \"bridge\", "
                                  "\"name\": \"xenguard\"}}]}";
    assert_int_equal(xg_guests_carry_json(&rs2, no_sets, &err), 0);
    assert_int_equal(xg_table_find_set(t2, XG_BR_SET_IP4)->pair_count, 1);
    xg_ruleset_free(&rs2);
    xg_policy_free(&p2);
    assert_int_equal(xg_guests_carry_json(&rs, "not json", &err), -1);
    assert_int_equal(xg_guests_carry_json(&rs, NULL, &err), 0);
    xg_ruleset_free(&rs);
    xg_policy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sets_of_the_contract),
        cmocka_unit_test(test_isolated_protects_the_management_network),
        cmocka_unit_test(test_protect_no_leaves_out_the_table),
        cmocka_unit_test(test_rule_count_independent_of_guests),
        cmocka_unit_test(test_nft_spelling),
        cmocka_unit_test(test_live_addresses_join_protected),
        cmocka_unit_test(test_carry_declared_guests),
    };
    return cmocka_run_group_tests_name("compile_guests", tests, NULL, NULL);
}
