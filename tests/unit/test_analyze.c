/*
 * test_analyze.c — unit tests of the analyzer: set algebra over the address
 * line, the two parsers (what they model, what they keep as unknown, where
 * they point on error) and the evaluator's may/must bounds.
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
#include "apply/ipt.h"
#include "ir/iptsave.h"
#include "analyze/space.h"

static struct xg_prefix P(const char *s) {
    struct xg_prefix p;
    char why[160];
    assert_int_equal(xg_prefix_parse(s, XG_PREFIX_MASK, &p, why, sizeof(why)), 0);
    return p;
}

static void
assert_list(const struct xg_prefix_list *l, const char *want)
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

static void test_range_to_prefixes_minimal(void **state)
{
    struct xg_prefix_list l = {0};
    struct xg_prefix a = P("192.0.2.1"), b = P("192.0.2.6");
    (void)state;
    assert_int_equal(xg_range_to_prefixes(xg_prefix_lo(&a), xg_prefix_lo(&b), 4, &l), 0);
    assert_list(&l, "192.0.2.1/32 192.0.2.2/31 192.0.2.4/31 192.0.2.6/32");
    xg_prefix_list_free(&l);
    assert_int_equal(xg_range_to_prefixes(0, xg_family_max(4), 4, &l), 0);
    assert_list(&l, "0.0.0.0/0");
    xg_prefix_list_free(&l);
    assert_int_equal(xg_range_to_prefixes(0, xg_family_max(6), 6, &l), 0);
    assert_list(&l, "::/0");
    xg_prefix_list_free(&l);
}

static void test_ivlist_algebra(void **state)
{
    struct xg_prefix_list in = {0}, out = {0};
    struct xg_ivlist a = {0}, b = {0}, r = {0};
    (void)state;
    xg_prefix_list_add(&in, &(struct xg_prefix){0});
    in.count = 0;
    struct xg_prefix p1 = P("192.0.2.0/25"), p2 = P("192.0.2.128/25"), p3 = P("198.51.100.0/24");
    xg_prefix_list_add(&in, &p1);
    xg_prefix_list_add(&in, &p2);
    xg_prefix_list_add(&in, &p3);
    assert_int_equal(xg_ivlist_from_prefixes(&a, &in, 4), 0);
    assert_int_equal(a.count, 2); /* the two /25 merge */
    assert_int_equal(xg_ivlist_to_prefixes(&a, 4, &out), 0);
    assert_list(&out, "192.0.2.0/24 198.51.100.0/24");
    xg_prefix_list_free(&out);

    struct xg_prefix_list host = {0};
    struct xg_prefix h = P("192.0.2.7");
    xg_prefix_list_add(&host, &h);
    assert_int_equal(xg_ivlist_from_prefixes(&b, &host, 4), 0);
    assert_int_equal(xg_ivlist_subtract(&a, &b, 4, &r), 0);
    assert_int_equal(xg_ivlist_to_prefixes(&r, 4, &out), 0);
    assert_list(&out, "192.0.2.0/30 192.0.2.4/31 192.0.2.6/32 192.0.2.8/29 192.0.2.16/28 "
                      "192.0.2.32/27 192.0.2.64/26 192.0.2.128/25 198.51.100.0/24");
    xg_prefix_list_free(&out);
    xg_ivlist_free(&r);
    assert_int_equal(xg_ivlist_complement(&b, 4, &r), 0);
    assert_int_equal(r.count, 2);
    xg_ivlist_free(&r);
    xg_ivlist_free(&a);
    xg_ivlist_free(&b);
    xg_prefix_list_free(&in);
    xg_prefix_list_free(&host);
}

static void test_atoms(void **state)
{
    struct xg_atoms a = {.family = 4};
    struct xg_prefix p = P("192.0.2.0/24"), q = P("192.0.2.128/25");
    size_t f, l;
    (void)state;
    xg_atoms_cut(&a, xg_prefix_lo(&p), xg_prefix_hi(&p));
    xg_atoms_cut(&a, xg_prefix_lo(&q), xg_prefix_hi(&q));
    xg_atoms_cut(&a, 0, xg_family_max(4)); /* /0 adds no cut */
    assert_int_equal(xg_atoms_finish(&a), 0);
    assert_int_equal(a.count, 4); /* [0, .0) [.0, .128) [.128, .255] (.255, max] */
    xg_atoms_span(&a, xg_prefix_lo(&p), xg_prefix_hi(&p), &f, &l);
    assert_int_equal(f, 1);
    assert_int_equal(l, 2);
    assert_true(xg_atoms_hi(&a, 3) == xg_family_max(4));
    xg_atoms_free(&a);
}

static int parse4(const char *text, struct xg_ruleset *rs, struct xg_err *err)
{
    return xg_parse_iptables_save(text, strlen(text), "t.rules", 4, rs, err);
}

static void test_iptables_dirty(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    const char *text = "# no chain declarations, old negation, dotted and sloppy masks\n"
                       "*filter\n"
                       "[12:720] -A INPUT -d ! 192.0.2.1 -j DROP\n"
                       "-A INPUT -s 192.168.1.1/8 -i eth+ -p tcp --dport 22 -j ACCEPT\n"
                       "-A INPUT -s 10.0.0.0/255.255.0.0 -j MYCHAIN\n"
                       "-A INPUT -s x.x.x.x -j ACCEPT\n"
                       "-A INPUT -m recent --name ssh --rcheck --seconds 60 -j DROP\n"
                       "-A INPUT -m comment --comment \"say \\\"hi\\\"\" -j NFLOG\n"
                       "-A MYCHAIN -p udp -m multiport --dports 53,5000:5010 -j RETURN\n"
                       "COMMIT\n";
    (void)state;
    assert_int_equal(parse4(text, &rs, &err), 0);
    assert_int_equal(rs.table_count, 1);
    struct xg_chain *in = xg_table_find_chain(rs.tables[0], "INPUT");
    assert_non_null(in);
    assert_int_equal(in->hook, XG_HOOK_INPUT);
    assert_int_equal(in->rule_count, 6);
    assert_int_equal(in->rules[0].matches[0].kind, XG_MATCH_DADDR);
    assert_true(in->rules[0].matches[0].negate);
    assert_int_equal(in->rules[0].src_line, 3);
    assert_list(&in->rules[1].matches[0].u.addrs.prefixes, "192.0.0.0/8");
    assert_string_equal(in->rules[1].matches[1].u.ifname, "eth+");
    assert_list(&in->rules[2].matches[0].u.addrs.prefixes, "10.0.0.0/16");
    assert_int_equal(in->rules[2].verdict, XG_VERDICT_JUMP);          /* chain declared later */
    assert_int_equal(in->rules[3].matches[0].kind, XG_MATCH_UNKNOWN); /* censored */
    assert_int_equal(in->rules[4].matches[0].kind, XG_MATCH_UNKNOWN); /* recent */
    assert_int_equal(in->rules[4].verdict, XG_VERDICT_DROP);
    assert_string_equal(in->rules[5].comment, "say \"hi\"");
    assert_int_equal(in->rules[5].verdict, XG_VERDICT_CONTINUE);
    struct xg_chain *my = xg_table_find_chain(rs.tables[0], "MYCHAIN");
    assert_int_equal(my->rules[0].matches[1].u.ports.count, 2);
    xg_ruleset_free(&rs);
}

static void test_iptables_errors(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    (void)state;
    assert_int_equal(parse4("-A INPUT -j ACCEPT\n", &rs, &err), -1);
    assert_string_equal(err.msg, "t.rules:1:1: '-A' before any table (a line like '*filter')");
    xg_ruleset_free(&rs);
    assert_int_equal(parse4("*filter\n-A INPUT -s\n", &rs, &err), -1);
    assert_string_equal(err.msg, "t.rules:2:10: option -s needs a value");
    xg_ruleset_free(&rs);
    assert_int_equal(parse4("*filter\n-A INPUT -m comment --comment \"open\n", &rs, &err), -1);
    assert_string_equal(err.msg, "t.rules:2:31: unterminated quote");
    xg_ruleset_free(&rs);
    assert_int_equal(parse4("*filter\n-A INPUT --bogus 1\n", &rs, &err), -1);
    assert_string_equal(err.msg, "t.rules:2:10: unknown option '--bogus'");
    xg_ruleset_free(&rs);
}

static const char *nft_json =
    "{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"f\"}},"
    "{\"set\": {\"family\": \"inet\", \"table\": \"f\", \"name\": \"ok\", \"type\": \"ipv4_addr\","
    " \"flags\": [\"interval\"], \"elem\": [{\"range\": [\"192.0.2.1\", \"192.0.2.6\"]},"
    " {\"prefix\": {\"addr\": \"198.51.100.0\", \"len\": 24}}]}},"
    "{\"chain\": {\"family\": \"inet\", \"table\": \"f\", \"name\": \"c\"}},"
    "{\"chain\": {\"family\": \"inet\", \"table\": \"f\", \"name\": \"in\", \"type\": \"filter\","
    " \"hook\": \"input\", \"prio\": 0, \"policy\": \"drop\"}},"
    "{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"in\", \"handle\": 7, "
    "\"expr\":"
    " [{\"match\": {\"op\": \"==\", \"left\": {\"fib\": {\"result\": \"oif\", \"flags\": "
    "[\"saddr\","
    " \"iif\"]}}, \"right\": false}}, {\"drop\": null}]}},"
    "{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"in\", \"handle\": 8, "
    "\"expr\":"
    " [{\"vmap\": {\"key\": {\"meta\": {\"key\": \"iifname\"}}, \"data\": {\"set\": [[\"eth0\","
    " {\"jump\": {\"target\": \"c\"}}], [\"eth1\", {\"accept\": null}]]}}}]}},"
    "{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"c\", \"handle\": 9, \"expr\":"
    " [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\":"
    " \"saddr\"}}, \"right\": \"@ok\"}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\":"
    " {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 8002}}, {\"accept\": null}]}},"
    "{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"c\", \"handle\": 10, "
    "\"expr\":"
    " [{\"xt\": {\"type\": \"match\", \"name\": \"recent\"}}, {\"accept\": null}]}}]}";

static void test_nft_json(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    (void)state;
    assert_int_equal(xg_parse_nft_json(nft_json, strlen(nft_json), "t.json", &rs, &err), 0);
    struct xg_chain *in = xg_table_find_chain(rs.tables[0], "in");
    assert_int_equal(in->policy, XG_VERDICT_DROP);
    assert_int_equal(in->rule_count, 3); /* fib rule + vmap expanded into two */
    assert_int_equal(in->rules[0].matches[0].kind, XG_MATCH_RPF_OK);
    assert_true(in->rules[0].matches[0].negate);
    assert_int_equal(in->rules[1].verdict, XG_VERDICT_JUMP);
    assert_string_equal(in->rules[1].matches[0].u.ifname, "eth0");
    assert_int_equal(in->rules[2].verdict, XG_VERDICT_ACCEPT);
    assert_int_equal(in->rules[2].src_handle, 8);
    struct xg_set *s = xg_table_find_set(rs.tables[0], "ok");
    assert_list(&s->elements,
                "192.0.2.1/32 192.0.2.2/31 192.0.2.4/31 192.0.2.6/32 198.51.100.0/24");
    struct xg_chain *c = xg_table_find_chain(rs.tables[0], "c");
    assert_int_equal(c->rules[1].matches[0].kind, XG_MATCH_UNKNOWN);

    /* reach: eth0 jumps to c, which accepts the set on 8002; fib is unknown */
    struct xg_packet_query q = {
        .family = 4, .proto = IPPROTO_TCP, .dport = 8002, .iifname = "eth0", .path = XG_HOOK_INPUT};
    struct xg_reach r;
    assert_int_equal(xg_reach_compute(&rs, &q, &r, &err), 0);
    assert_list(&r.must, "");
    assert_list(&r.may, "0.0.0.0/0"); /* the xt match may accept anyone */
    xg_reach_free(&r);

    /* with the reverse path known: the set passes rpf, the rest does not */
    struct xg_prefix_list rpf = {0};
    struct xg_prefix any = P("0.0.0.0/0");
    xg_prefix_list_add(&rpf, &any);
    q.rpf_ok = &rpf;
    assert_int_equal(xg_reach_compute(&rs, &q, &r, &err), 0);
    assert_list(&r.must, "192.0.2.1/32 192.0.2.2/31 192.0.2.4/31 192.0.2.6/32 198.51.100.0/24");
    xg_reach_free(&r);
    xg_prefix_list_free(&rpf);
    xg_ruleset_free(&rs);
}

/* --- combining the views of one host (evidence.c) --- */

#define NFT_TABLE(chain, policy, rules)                                                            \
    "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"filter\"}},"                     \
    "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"" chain "\", \"type\":"   \
    " \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"" policy "\"}}" rules "]}"
/* iptables-nft's table as nft shows it: its match only as `xt` */
static const char *nft_made_by_iptables = NFT_TABLE(
    "INPUT", "accept",
    ",{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"INPUT\", \"handle\": 2,"
    " \"expr\": [{\"xt\": {\"type\": \"match\", \"name\": \"recent\"}}, {\"drop\": null}]}}");
/* a table an nft user made, with the same name */
static const char *nft_native = NFT_TABLE("input", "drop", "");
static const char *save_body = "*filter\n:INPUT DROP [0:0]\n"
                               "-A INPUT -s 192.0.2.0/24 -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";

static void reach_of(const char *nft, const char *header, const char *may, const char *must,
                     size_t tables)
{
    char save[512];
    struct xg_ruleset rs;
    struct xg_err err = {{0}};
    struct xg_reach r;
    struct xg_packet_query q = {
        .family = 4, .proto = IPPROTO_TCP, .dport = 22, .iifname = "eth0", .path = XG_HOOK_INPUT};
    snprintf(save, sizeof(save), "%s%s", header, save_body);
    struct xg_fw_evidence ev = {
        .views = {{XG_FW_NFT_JSON, nft, "t.json"}, {XG_FW_SAVE4, save, "iptables-save"}},
        .count = 2};
    assert_int_equal(xg_ruleset_from_evidence(&ev, &rs, &err), 0);
    assert_int_equal(rs.table_count, tables);
    assert_int_equal(xg_reach_compute(&rs, &q, &r, &err), 0);
    assert_list(&r.may, may);
    assert_list(&r.must, must);
    xg_reach_free(&r);
    xg_ruleset_free(&rs);
}

static void test_evidence_combined(void **state)
{
    static const char *nf = "# Generated by iptables-nft-save v1.8.9 (nf_tables) on Tue\n";
    static const char *legacy = "# Generated by iptables-save v1.8.9 on Tue\n";
    (void)state;
    assert_true(xg_save_is_nf_tables(nf));
    assert_false(xg_save_is_nf_tables(legacy));
    assert_false(xg_save_is_nf_tables("*filter\nCOMMIT\n"));
    /* iptables-nft: the two views are one table; the iptables view is the understood one */
    reach_of(nft_made_by_iptables, nf, "192.0.2.0/24", "192.0.2.0/24", 1);
    /* legacy: the x_tables table is in force beside the nft one (its xt match undecided) */
    reach_of(nft_made_by_iptables, legacy, "192.0.2.0/24", "", 2);
    /* an nft user's table named "filter" and a legacy filter table: both in force, so the
     * nft table's drop policy holds (the audit once dropped the nft table by its name) */
    reach_of(nft_native, legacy, "", "", 2);
    /* the same names from iptables-nft: nft's own table is the right view of it */
    reach_of(nft_native, nf, "", "", 1);
    /* no nft listing: the iptables view alone */
    reach_of(NULL, nf, "192.0.2.0/24", "192.0.2.0/24", 1);
}

static void test_evidence_errors(void **state)
{
    struct xg_ruleset rs;
    struct xg_err err = {{0}};
    (void)state;
    struct xg_fw_evidence ev = {.views = {{XG_FW_NFT_JSON, nft_native, "t.json"},
                                          {XG_FW_SAVE4, "*filter\n-A INPUT --bogus\n", "ipt.txt"}},
                                .count = 2};
    assert_int_equal(xg_ruleset_from_evidence(&ev, &rs, &err), -1);
    assert_string_equal(err.msg, "ipt.txt:2:10: unknown option '--bogus'");
    assert_int_equal(rs.table_count, 0);
}

/* --- the one iptables-save tokenizer, shared with apply's merge --- */

static void test_ipt_tokenizer_shared(void **state)
{
    static const char *line = "-A INPUT -m comment --comment \"a \\\"b\\\" -j XENGUARD-X\" -j DROP";
    struct xg_ipt_line l;
    unsigned col;
    (void)state;
    assert_int_equal(xg_ipt_split(line, strlen(line), &l, &col), 0);
    assert_int_equal(l.n, 8);
    assert_string_equal(l.w[5].s, "a \"b\" -j XENGUARD-X");
    assert_int_equal(l.w[5].col, 31);
    assert_string_equal(xg_ipt_rule_chain(&l), "INPUT");
    assert_string_equal(xg_ipt_rule_target(&l), "DROP");
    xg_ipt_line_free(&l);
    assert_int_equal(xg_ipt_split("-A X \"open", 10, &l, &col), -1);
    assert_int_equal(col, 6);

    /* apply's merge reads words too: a foreign rule whose comment reads like a jump to
     * xenguard's chains is neither a hook nor dropped when xenguard's chains are restored */
    static const char *save = "*filter\n"
                              ":INPUT ACCEPT [0:0]\n"
                              ":XENGUARD-INPUT - [0:0]\n"
                              "-A INPUT -s 192.0.2.9/32 -m comment --comment \"was -j "
                              "XENGUARD-INPUT\" -j DROP\n"
                              "-A XENGUARD-INPUT -j ACCEPT\n"
                              "COMMIT\n";
    struct xg_err err;
    char *out = NULL;
    assert_false(xg_ipt_hooked(save));
    assert_int_equal(xg_ipt_merge(save, "", &out, &err), 0);
    assert_non_null(strstr(out, "-A INPUT -s 192.0.2.9/32"));
    assert_null(strstr(out, "-A XENGUARD-INPUT"));
    free(out);
}

static void test_nft_json_errors(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    const char *bad = "{\"nftables\": [\n{\"table\": {\"family\": \"ip\" \"name\": \"x\"}}]}";
    (void)state;
    assert_int_equal(xg_parse_nft_json(bad, strlen(bad), "t.json", &rs, &err), -1);
    assert_non_null(strstr(err.msg, "t.json:2:"));
    xg_ruleset_free(&rs);
    assert_int_equal(xg_parse_nft_json("[]", 2, "t.json", &rs, &err), -1);
    xg_ruleset_free(&rs);
}

static void test_reach_jump_return_goto(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    struct xg_reach r;
    const char *text = "*filter\n"
                       ":INPUT DROP [0:0]\n"
                       ":A - [0:0]\n"
                       ":B - [0:0]\n"
                       "-A INPUT -s 192.0.2.0/24 -j A\n"
                       "-A INPUT -s 192.0.2.0/25 -j ACCEPT\n"
                       "-A A -s 192.0.2.128/26 -g B\n"
                       "-A A -j RETURN\n"
                       "-A B -s 192.0.2.160/27 -j RETURN\n"
                       "-A B -j ACCEPT\n"
                       "COMMIT\n";
    struct xg_packet_query q = {
        .family = 4, .proto = IPPROTO_TCP, .dport = 22, .iifname = "eth0", .path = XG_HOOK_INPUT};
    (void)state;
    assert_int_equal(parse4(text, &rs, &err), 0);
    assert_int_equal(xg_reach_compute(&rs, &q, &r, &err), 0);
    /* .0/25 via RETURN then ACCEPT; .128/27 via goto B accept; .160/27 returns to INPUT: policy */
    assert_list(&r.must, "192.0.2.0/25 192.0.2.128/27");
    assert_list(&r.may, "192.0.2.0/25 192.0.2.128/27");
    xg_reach_free(&r);
    xg_ruleset_free(&rs);
}

static void test_reach_tables_combine(void **state)
{
    /* an accept in filter does not override a drop in raw */
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    struct xg_reach r;
    const char *text = "*raw\n:PREROUTING ACCEPT\n-A PREROUTING -s 203.0.113.7 -j DROP\nCOMMIT\n"
                       "*filter\n:INPUT ACCEPT\n-A INPUT -s 203.0.113.0/24 -j ACCEPT\n"
                       "-A INPUT -j DROP\nCOMMIT\n";
    struct xg_packet_query q = {
        .family = 4, .proto = IPPROTO_TCP, .dport = 22, .iifname = "eth0", .path = XG_HOOK_INPUT};
    (void)state;
    assert_int_equal(parse4(text, &rs, &err), 0);
    assert_int_equal(xg_reach_compute(&rs, &q, &r, &err), 0);
    assert_list(&r.must, "203.0.113.0/30 203.0.113.4/31 203.0.113.6/32 203.0.113.8/29 "
                         "203.0.113.16/28 203.0.113.32/27 203.0.113.64/26 203.0.113.128/25");
    xg_reach_free(&r);
    q.family = 6;
    assert_int_equal(xg_reach_compute(&rs, &q, &r, &err), 0);
    assert_list(&r.must, "::/0"); /* no IPv6 rules at all */
    xg_reach_free(&r);
    xg_ruleset_free(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_to_prefixes_minimal),
        cmocka_unit_test(test_ivlist_algebra),
        cmocka_unit_test(test_atoms),
        cmocka_unit_test(test_iptables_dirty),
        cmocka_unit_test(test_iptables_errors),
        cmocka_unit_test(test_nft_json),
        cmocka_unit_test(test_nft_json_errors),
        cmocka_unit_test(test_evidence_combined),
        cmocka_unit_test(test_evidence_errors),
        cmocka_unit_test(test_ipt_tokenizer_shared),
        cmocka_unit_test(test_reach_jump_return_goto),
        cmocka_unit_test(test_reach_tables_combine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
