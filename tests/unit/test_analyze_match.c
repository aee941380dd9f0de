/*
 * test_analyze_match.c — unit tests of what the analyzer models beside
 * addresses and destination ports: source ports (the ordinary client and a
 * chosen port), MAC addresses, address types (iptables -m addrtype, nft fib
 * type), the bridge family's matches and interface-keyed sets, the
 * may-reasons and the guest-port claims.
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

static void assert_list(const struct xg_prefix_list *l, const char *want)
{
    char got[4096] = "", buf[XG_PREFIX_STRLEN];
    for (size_t i = 0; i < l->count; i++) {
        xg_prefix_format(&l->items[i], false, buf);
        if (i)
            strcat(got, " ");
        strcat(got, buf);
    }
    assert_string_equal(got, want);
}

static void ipt(const char *body, struct xg_ruleset *rs)
{
    struct xg_err err = {{0}};
    char text[2048];
    snprintf(text, sizeof(text), "*filter\n:INPUT DROP [0:0]\n%sCOMMIT\n", body);
    memset(rs, 0, sizeof(*rs));
    assert_int_equal(xg_parse_iptables_save(text, strlen(text), "t.rules", 4, rs, &err), 0);
}

static void reach(const struct xg_ruleset *rs, const struct xg_packet_query *q, const char *may,
                  const char *must)
{
    struct xg_reach r;
    struct xg_err err = {{0}};
    assert_int_equal(xg_reach_compute(rs, q, &r, &err), 0);
    assert_list(&r.may, may);
    assert_list(&r.must, must);
    xg_reach_free(&r);
}

#define Q(...)                                                                                     \
    ((struct xg_packet_query){.family = 4,                                                         \
                              .proto = IPPROTO_TCP,                                                \
                              .dport = 22,                                                         \
                              .iifname = "eth0",                                                   \
                              .path = XG_HOOK_INPUT,                                               \
                              __VA_ARGS__})

static void test_source_ports(void **state)
{
    struct xg_ruleset rs;
    (void)state;
    ipt("-A INPUT -p tcp --sport 53 -j ACCEPT\n"
        "-A INPUT -p tcp -s 192.0.2.0/24 -m multiport --sports 1024:65535 -j ACCEPT\n"
        "-A INPUT -p tcp -s 198.51.100.0/24 -m tcp --sport 2000:3000 -j ACCEPT\n",
        &rs);
    /* the ordinary client: source port 53 never, 1024-65535 always, 2000-3000 sometimes */
    reach(&rs, &Q(), "192.0.2.0/24 198.51.100.0/24", "192.0.2.0/24");
    reach(&rs, &Q(.has_sport = true, .sport = 53), "0.0.0.0/0", "0.0.0.0/0");
    reach(&rs, &Q(.has_sport = true, .sport = 2500), "192.0.2.0/24 198.51.100.0/24",
          "192.0.2.0/24 198.51.100.0/24");
    /* UDP is not matched by -p tcp rules */
    struct xg_packet_query udp = Q(.has_sport = true, .sport = 53);
    udp.proto = IPPROTO_UDP;
    reach(&rs, &udp, "", "");
    struct xg_port_range *cls;
    size_t n;
    assert_int_equal(xg_ruleset_sport_classes(&rs, &cls, &n), 0);
    assert_int_equal(n, 3); /* 0-52, 53, 54-1023 */
    assert_int_equal(cls[1].lo, 53);
    assert_int_equal(cls[1].hi, 53);
    free(cls);
    xg_ruleset_free(&rs);
}

static void test_mac(void **state)
{
    struct xg_ruleset rs;
    uint8_t gw[6], other[6];
    (void)state;
    assert_int_equal(xg_mac_parse("02:00:5E:00:01:01", gw), 0);
    assert_int_equal(xg_mac_parse("02:00:00:00:00:09", other), 0);
    assert_int_equal(xg_mac_parse("02:00:5e:00:01", gw + 0) < 0, 1);
    assert_int_equal(xg_mac_parse("02:00:5e:00:01:0g", other) < 0, 1);
    assert_int_equal(xg_mac_parse("02:00:5e:00:01:01", gw), 0);
    assert_int_equal(xg_mac_parse("02:00:00:00:00:09", other), 0);
    ipt("-A INPUT -i eth0 -m mac --mac-source 02:00:5e:00:01:01 -s 192.0.2.0/24 -j DROP\n"
        "-A INPUT -s 192.0.2.0/24 -j ACCEPT\n"
        "-A INPUT -m mac ! --mac-source 02:00:00:00:00:09 -j DROP\n"
        "-A INPUT -j ACCEPT\n",
        &rs);
    /* a MAC no rule names: the gateway rule does not match, the negated one does */
    reach(&rs, &Q(), "192.0.2.0/24", "192.0.2.0/24");
    reach(&rs, &Q(.mac = gw), "", "");
    reach(&rs, &Q(.mac = other), "0.0.0.0/0", "0.0.0.0/0");
    uint8_t(*macs)[6];
    size_t n;
    assert_int_equal(xg_ruleset_macs(&rs, &macs, &n), 0);
    assert_int_equal(n, 2);
    free(macs);
    xg_ruleset_free(&rs);
}

static void test_addrtype(void **state)
{
    struct xg_ruleset rs;
    struct xg_prefix_list local = {0}, bcast = {0};
    struct xg_prefix a, to;
    (void)state;
    ipt("-A INPUT -m addrtype ! --dst-type LOCAL -j DROP\n"
        "-A INPUT -m addrtype --src-type LOCAL -j ACCEPT\n"
        "-A INPUT -m addrtype --src-type MULTICAST,BROADCAST -j DROP\n"
        "-A INPUT -s 198.51.100.0/24 -j ACCEPT\n",
        &rs);
    assert_int_equal(xg_addr_parse("192.0.2.1", &a), 0);
    assert_int_equal(xg_prefix_list_add(&local, &a), 0);
    /* without the host's addresses LOCAL is unknown for unicast sources (every address but
     * 0.0.0.0/8, multicast and 255.255.255.255, which the third rule drops for sure) */
    reach(&rs, &Q(),
          "1.0.0.0/8 2.0.0.0/7 4.0.0.0/6 8.0.0.0/5 16.0.0.0/4 32.0.0.0/3 64.0.0.0/2 128.0.0.0/2 "
          "192.0.0.0/3 240.0.0.0/5 248.0.0.0/6 252.0.0.0/7 254.0.0.0/8 255.0.0.0/9 255.128.0.0/10 "
          "255.192.0.0/11 255.224.0.0/12 255.240.0.0/13 255.248.0.0/14 255.252.0.0/15 "
          "255.254.0.0/16 255.255.0.0/17 255.255.128.0/18 255.255.192.0/19 255.255.224.0/20 "
          "255.255.240.0/21 255.255.248.0/22 255.255.252.0/23 255.255.254.0/24 255.255.255.0/25 "
          "255.255.255.128/26 255.255.255.192/27 255.255.255.224/28 255.255.255.240/29 "
          "255.255.255.248/30 255.255.255.252/31 255.255.255.254/32",
          "198.51.100.0/24");
    reach(&rs, &Q(.local = &local, .bcast = &bcast), "192.0.2.1/32 198.51.100.0/24",
          "192.0.2.1/32 198.51.100.0/24");
    /* a multicast destination is not LOCAL */
    assert_int_equal(xg_addr_parse("224.0.0.251", &to), 0);
    reach(&rs, &Q(.local = &local, .daddr = &to), "", "");
    xg_prefix_list_free(&local);
    xg_ruleset_free(&rs);
}

static void test_may_reason(void **state)
{
    struct xg_ruleset rs;
    struct xg_may_reason why;
    struct xg_err err = {{0}};
    struct xg_prefix s;
    (void)state;
    ipt("-A INPUT -p tcp -d 192.0.2.1 -j ACCEPT\n"
        "-A INPUT -m recent --rcheck -j ACCEPT\n",
        &rs);
    assert_int_equal(xg_addr_parse("203.0.113.9", &s), 0);
    assert_int_equal(xg_explain_may(&rs, &Q(), &s, &why, &err), 0);
    assert_non_null(why.rule);
    assert_int_equal(why.rule->src_line, 3);
    assert_true(why.open_field);
    assert_non_null(strstr(why.what, "--to"));
    struct xg_prefix to;
    assert_int_equal(xg_addr_parse("192.0.2.2", &to), 0);
    assert_int_equal(xg_explain_may(&rs, &Q(.daddr = &to), &s, &why, &err), 0);
    assert_int_equal(why.rule->src_line, 4);
    assert_false(why.open_field);
    assert_non_null(strstr(why.what, "recent"));
    xg_ruleset_free(&rs);
}

static const char *nft_doc =
    "{\"nftables\": ["
    "{\"table\": {\"family\": \"inet\", \"name\": \"t\", \"handle\": 1}},"
    "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"input\", \"handle\": 1,"
    " \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"drop\"}},"
    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"input\", \"handle\": 2,"
    " \"expr\": [{\"match\": {\"op\": \"!=\", \"left\": {\"fib\": {\"result\": \"type\","
    " \"flags\": [\"daddr\"]}}, \"right\": \"local\"}}, {\"drop\": null}]}},"
    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"input\", \"handle\": 3,"
    " \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"th\","
    " \"field\": \"sport\"}}, \"right\": {\"set\": [67, {\"range\": [100, 200]}]}}},"
    " {\"accept\": null}]}},"
    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"input\", \"handle\": 4,"
    " \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ether\","
    " \"field\": \"saddr\"}}, \"right\": {\"set\": [\"02:00:00:00:00:01\","
    " \"02:00:00:00:00:02\"]}}}, {\"accept\": null}]}}"
    "]}";

static void test_nft_link(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    uint8_t m2[6];
    (void)state;
    assert_int_equal(xg_parse_nft_json(nft_doc, strlen(nft_doc), "t.json", &rs, &err), 0);
    const struct xg_chain *c = rs.tables[0]->chains[0];
    assert_int_equal(c->rule_count, 3);
    assert_int_equal(c->rules[0].matches[0].kind, XG_MATCH_ADDRTYPE);
    assert_true(c->rules[0].matches[0].negate);
    assert_true(c->rules[0].matches[0].u.addrtype.dst);
    assert_int_equal(c->rules[0].matches[0].u.addrtype.types, XG_ADDRTYPE_LOCAL);
    assert_int_equal(c->rules[1].matches[0].kind, XG_MATCH_SPORT);
    assert_int_equal(c->rules[1].matches[0].u.ports.count, 2);
    assert_int_equal(c->rules[2].matches[0].kind, XG_MATCH_ETHER_SADDR);
    assert_int_equal(c->rules[2].matches[0].u.macs.count, 2);
    reach(&rs, &Q(), "", "");
    reach(&rs, &Q(.has_sport = true, .sport = 150), "0.0.0.0/0", "0.0.0.0/0");
    assert_int_equal(xg_mac_parse("02:00:00:00:00:02", m2), 0);
    reach(&rs, &Q(.mac = m2), "0.0.0.0/0", "0.0.0.0/0");
    xg_ruleset_free(&rs);
}

static const char *bridge_doc =
    "{\"nftables\": ["
    "{\"table\": {\"family\": \"bridge\", \"name\": \"xenguard\", \"handle\": 1}},"
    "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_ip4\", \"table\": \"xenguard\","
    " \"type\": [\"ifname\", \"ipv4_addr\"], \"handle\": 2,"
    " \"elem\": [{\"concat\": [\"vif1.0\", \"192.0.2.21\"]}]}},"
    "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_declared\", \"table\": \"xenguard\","
    " \"type\": \"ifname\", \"handle\": 3, \"elem\": [\"vif1.0\"]}},"
    "{\"set\": {\"family\": \"bridge\", \"name\": \"protected4\", \"table\": \"xenguard\","
    " \"type\": \"ipv4_addr\", \"handle\": 4, \"elem\": [\"192.0.2.1\"]}},"
    "{\"chain\": {\"family\": \"bridge\", \"table\": \"xenguard\", \"name\": \"pre\","
    " \"handle\": 5, \"type\": \"filter\", \"hook\": \"prerouting\", \"prio\": -200,"
    " \"policy\": \"accept\"}},"
    "{\"rule\": {\"family\": \"bridge\", \"table\": \"xenguard\", \"chain\": \"pre\","
    " \"handle\": 6, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\":"
    " {\"protocol\": \"arp\", \"field\": \"saddr ip\"}}, \"right\": \"@protected4\"}},"
    " {\"drop\": null}]}},"
    "{\"rule\": {\"family\": \"bridge\", \"table\": \"xenguard\", \"chain\": \"pre\","
    " \"handle\": 7, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\":"
    " \"iifname\"}}, \"right\": \"@vif_declared\"}}, {\"match\": {\"op\": \"!=\", \"left\":"
    " {\"concat\": [{\"meta\": {\"key\": \"iifname\"}}, {\"payload\": {\"protocol\": \"arp\","
    " \"field\": \"saddr ip\"}}]}, \"right\": \"@vif_ip4\"}}, {\"drop\": null}]}}"
    "]}";

static void test_bridge(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    struct xg_guest_answer a;
    (void)state;
    assert_int_equal(xg_parse_nft_json(bridge_doc, strlen(bridge_doc), "b.json", &rs, &err), 0);
    assert_int_equal(rs.tables[0]->family, XG_TABLE_BRIDGE);
    const struct xg_set *s = xg_table_find_set(rs.tables[0], "vif_ip4");
    assert_non_null(s);
    assert_int_equal(s->key, XG_SETKEY_IF_ADDR);
    assert_int_equal(s->pair_count, 1);
    assert_string_equal(s->pairs[0].ifname, "vif1.0");
    const struct xg_chain *c = rs.tables[0]->chains[0];
    assert_int_equal(c->rules[0].matches[0].kind, XG_MATCH_ARP_SPA);
    assert_int_equal(c->rules[1].matches[1].kind, XG_MATCH_IFSET);
    assert_int_equal(c->rules[1].matches[1].u.ifset.field, XG_IFSET_ARP_SPA);
    /* the declared guest claims only its address as ARP sender */
    assert_int_equal(xg_guest_spoofing(&rs, NULL, "vif1.0", NULL, &a, &err), 0);
    assert_list(&a.claim[2].can.must, "192.0.2.21/32");
    assert_int_equal(a.claim[2].verdict, XG_SPOOF_NO);
    xg_guest_answer_free(&a);
    /* an undeclared one claims all but Dom0's protected address, another guest's too */
    assert_int_equal(xg_guest_spoofing(&rs, NULL, "vif2.0", NULL, &a, &err), 0);
    assert_list(&a.claim[2].can.must, "0.0.0.0/1 128.0.0.0/2 192.0.0.0/23 192.0.2.0/32 "
                                      "192.0.2.2/31 192.0.2.4/30 192.0.2.8/29 192.0.2.16/28 "
                                      "192.0.2.32/27 192.0.2.64/26 192.0.2.128/25 192.0.3.0/24 "
                                      "192.0.4.0/22 192.0.8.0/21 192.0.16.0/20 192.0.32.0/19 "
                                      "192.0.64.0/18 192.0.128.0/17 192.1.0.0/16 192.2.0.0/15 "
                                      "192.4.0.0/14 192.8.0.0/13 192.16.0.0/12 192.32.0.0/11 "
                                      "192.64.0.0/10 192.128.0.0/9 193.0.0.0/8 194.0.0.0/7 "
                                      "196.0.0.0/6 200.0.0.0/5 208.0.0.0/4 224.0.0.0/3");
    assert_int_equal(a.claim[2].verdict, XG_SPOOF_YES);
    assert_int_equal(a.claim[2].whom, 1);
    xg_guest_answer_free(&a);
    xg_ruleset_free(&rs);
}

static void test_ifmap_host_addresses(void **state)
{
    struct xg_ifmap m = {0};
    struct xg_err err = {{0}};
    const char *text = "eth0 192.0.2.1/24 0.0.0.0/0\n";
    (void)state;
    assert_int_equal(xg_ifmap_parse(text, strlen(text), "m", &m, &err), 0);
    assert_list(&m.entries[0].prefixes, "192.0.2.0/24 0.0.0.0/0");
    assert_list(&m.local, "192.0.2.1/32");
    assert_list(&m.bcast, "192.0.2.255/32");
    xg_ifmap_free(&m);
    assert_true(xg_ifmap_parse("eth0 192.0.2.1/33\n", 18, "m", &m, &err) < 0);
    xg_ifmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_ports),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_addrtype),
        cmocka_unit_test(test_may_reason),
        cmocka_unit_test(test_nft_link),
        cmocka_unit_test(test_bridge),
        cmocka_unit_test(test_ifmap_host_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
