/*
 * test_vif.c — the pure parts of `xenguard vif` and of a reload's carry-over:
 * argument validation (hostile interface names, addresses, MACs), the exact
 * nft batch built for online / replace / offline, the loaded table's
 * listing parser, xenstore's vif backend tree, and the compiled table's
 * dynamic sets filled by xg_vif_carry. The kernel side is tests/e2e/vif.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guests/carry.h"
#include "guests/vif.h"
#include "ir/ir.h"
#include "probe/bridges.h"

static void ifnames(void **state)
{
    struct xg_err err;
    const struct xg_vif_ports *d = xg_vif_default_ports();
    assert_int_equal(xg_vif_check_ifname("vif1.0", d, &err), 0);
    assert_int_equal(xg_vif_check_ifname("vif5.0-emu", d, &err), 0);
    assert_int_equal(xg_vif_check_ifname("tap12.1", d, &err), 0);
    assert_int_equal(xg_vif_check_ifname("vif123456789012", d, &err), 0); /* 15 bytes */
    assert_int_equal(xg_vif_check_ifname("vif1234567890123", d, &err), -1);
    assert_non_null(strstr(err.msg, "1 to 15 characters"));
    assert_int_equal(xg_vif_check_ifname("", d, &err), -1);
    assert_int_equal(xg_vif_check_ifname("vif1.0;reboot", d, &err), -1);
    assert_string_equal(
        err.msg, "'vif1.0;reboot' is not an interface name (letters, digits, '_', '.', '-')");
    assert_int_equal(xg_vif_check_ifname("vif1\".0", d, &err), -1);
    assert_int_equal(xg_vif_check_ifname("vif 1", d, &err), -1);
    assert_int_equal(xg_vif_check_ifname("vif/1", d, &err), -1);
    assert_int_equal(xg_vif_check_ifname("..", d, &err), -1);
    assert_int_equal(xg_vif_check_ifname("eth0", d, &err), -1);
    assert_string_equal(err.msg, "'eth0' is not a guest port (guest ports are named vif*, tap*)");
    assert_int_equal(xg_vif_check_ifname("xenbr0", NULL, &err), -1);
    const char *const mine[] = {"guest*"};
    struct xg_vif_ports custom = {mine, 1};
    assert_int_equal(xg_vif_check_ifname("guest7", &custom, &err), 0);
    assert_int_equal(xg_vif_check_ifname("vif1.0", &custom, &err), -1);
}

static void ips(void **state)
{
    struct xg_err err;
    struct xg_prefix p;
    assert_int_equal(xg_vif_parse_ip("192.0.2.10", &p, &err), 0);
    assert_int_equal(p.family, XG_FAMILY_IPV4);
    assert_int_equal(p.len, 32);
    assert_int_equal(xg_vif_parse_ip("192.0.2.10/32", &p, &err), 0);
    assert_int_equal(xg_vif_parse_ip("2001:db8::10", &p, &err), 0);
    assert_int_equal(p.len, 128);
    assert_int_equal(xg_vif_parse_ip("fe80::1", &p, &err), 0); /* link-local: ND needs it */
    assert_int_equal(xg_vif_parse_ip("192.0.2.0/24", &p, &err), -1);
    assert_string_equal(err.msg,
                        "'192.0.2.0/24' is a network; give the guest's addresses one by one");
    assert_int_equal(xg_vif_parse_ip("192.0.2.1/24", &p, &err), -1);
    static const char *bad[] = {"0.0.0.0", "127.0.0.1", "224.0.0.1",         "255.255.255.255",
                                "::",      "::1",       "ff02::1",           "192.0.2.300",
                                "",        "vif1.0",    "192.0.2.1 ; reboot"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(xg_vif_parse_ip(bad[i], &p, &err), -1);
}

static void macs(void **state)
{
    struct xg_err err;
    uint8_t m[6];
    assert_int_equal(xg_vif_parse_mac("00:16:3e:12:34:56", m, &err), 0);
    assert_memory_equal(m, ((uint8_t[]){0x00, 0x16, 0x3e, 0x12, 0x34, 0x56}), 6);
    assert_int_equal(xg_vif_parse_mac("00-16-3E-12-34-5F", m, &err), 0);
    assert_int_equal(m[5], 0x5f);
    static const char *bad[] = {
        "00:16:3e:12:34",    "00:16:3e:12:34:56:78", "00:16-3e:12:34:56", "00:16:3e:12:34:5g",
        "0:16:3e:12:34:56:", "00163e123456",         "+0:16:3e:12:34:56", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(xg_vif_parse_mac(bad[i], m, &err), -1);
    assert_int_equal(xg_vif_parse_mac("01:00:5e:00:00:01", m, &err), -1);
    assert_non_null(strstr(err.msg, "multicast"));
    assert_int_equal(xg_vif_parse_mac("00:00:00:00:00:00", m, &err), -1);
    assert_non_null(strstr(err.msg, "zero"));
}

static void decl_make(void **state)
{
    struct xg_err err;
    struct xg_vif_decl d;
    const char *two[] = {"192.0.2.10", "2001:db8::10", "192.0.2.10"};
    assert_int_equal(xg_vif_decl_make(&d, "vif1.0", two, 3, "00:16:3e:00:00:01", NULL, &err), 0);
    assert_int_equal(d.ips.count, 2); /* the duplicate folded */
    assert_int_equal(d.mac_count, 1);
    assert_true(d.declared);
    xg_vif_decl_free(&d);
    assert_int_equal(xg_vif_decl_make(&d, "vif1.0", two, 1, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "--mac is needed"));
    xg_vif_decl_free(&d);
    assert_int_equal(xg_vif_decl_make(&d, "vif1.0", NULL, 0, "00:16:3e:00:00:01", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "at least one --ip"));
    xg_vif_decl_free(&d);
    const char *bad[] = {"192.0.2.10", "224.0.0.5"};
    assert_int_equal(xg_vif_decl_make(&d, "vif1.0", bad, 2, "00:16:3e:00:00:01", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "224.0.0.5"));
    xg_vif_decl_free(&d);
    assert_int_equal(xg_vif_decl_make(&d, "eth0", two, 1, "00:16:3e:00:00:01", NULL, &err), -1);
    xg_vif_decl_free(&d);
}

static void cmds(void **state)
{
    struct xg_err err;
    struct xg_vif_decl old, d;
    const char *o[] = {"192.0.2.10", "2001:db8::10"}, *n[] = {"192.0.2.11", "192.0.2.12"};
    assert_int_equal(xg_vif_decl_make(&old, "vif1.0", o, 2, "00:16:3e:00:00:01", NULL, &err), 0);
    assert_int_equal(xg_vif_decl_make(&d, "vif1.0", n, 2, "00:16:3e:00:00:02", NULL, &err), 0);
    struct xg_buf b = {0};
    xg_vif_cmds(NULL, &old, false, &b);
    assert_string_equal(xg_buf_str(&b),
                        "add element bridge xenguard vif_declared { \"vif1.0\" }\n"
                        "add element bridge xenguard vif_ip4 { \"vif1.0\" . 192.0.2.10 }\n"
                        "add element bridge xenguard vif_ip6 { \"vif1.0\" . 2001:db8::10 }\n"
                        "add element bridge xenguard vif_mac { \"vif1.0\" . 00:16:3e:00:00:01 }\n");
    xg_buf_free(&b);
    xg_vif_cmds(&old, &d, false, &b); /* online again: the old elements go in the same batch */
    assert_string_equal(
        xg_buf_str(&b),
        "delete element bridge xenguard vif_declared { \"vif1.0\" }\n"
        "delete element bridge xenguard vif_ip4 { \"vif1.0\" . 192.0.2.10 }\n"
        "delete element bridge xenguard vif_ip6 { \"vif1.0\" . 2001:db8::10 }\n"
        "delete element bridge xenguard vif_mac { \"vif1.0\" . 00:16:3e:00:00:01 }\n"
        "add element bridge xenguard vif_declared { \"vif1.0\" }\n"
        "add element bridge xenguard vif_ip4 { \"vif1.0\" . 192.0.2.11, \"vif1.0\" . 192.0.2.12 }\n"
        "add element bridge xenguard vif_mac { \"vif1.0\" . 00:16:3e:00:00:02 }\n");
    xg_buf_free(&b);
    xg_vif_cmds(&d, NULL, false, &b); /* offline */
    assert_string_equal(
        xg_buf_str(&b),
        "delete element bridge xenguard vif_declared { \"vif1.0\" }\n"
        "delete element bridge xenguard vif_ip4 { \"vif1.0\" . 192.0.2.11, \"vif1.0\" . 192.0.2.12 "
        "}\n"
        "delete element bridge xenguard vif_mac { \"vif1.0\" . 00:16:3e:00:00:02 }\n");
    xg_buf_free(&b);
    xg_vif_cmds(NULL, NULL, true, &b); /* offline of a port with nothing: no command at all */
    assert_string_equal(xg_buf_str(&b), "");
    xg_buf_free(&b);
    xg_vif_decl_free(&old);
    xg_vif_decl_free(&d);
}

/* vif_ip6_nd, the ND-target companion of vif_ip6 (integers): filled and emptied with it. */
static void nd_companion(void **state)
{
    struct xg_err err;
    struct xg_vif_decl d;
    const char *ips[] = {"192.0.2.10", "2001:db8::10"};
    assert_int_equal(xg_vif_decl_make(&d, "vif1.0", ips, 2, "00:16:3e:00:00:01", NULL, &err), 0);
    struct xg_buf b = {0};
    xg_vif_cmds(NULL, &d, true, &b);
    assert_non_null(strstr(xg_buf_str(&b), "add element bridge xenguard vif_ip6_nd { \"vif1.0\" . "
                                           "0x20010db8000000000000000000000010 }\n"));
    xg_buf_free(&b);
    xg_vif_decl_free(&d);
    const char *json =
        "{\"nftables\": [{\"set\": {\"family\": \"bridge\", \"table\": \"xenguard\", \"name\": "
        "\"vif_declared\", \"type\": \"ifname\", \"elem\": [\"vif1.0\"]}}, {\"set\": {\"family\": "
        "\"bridge\", \"table\": \"xenguard\", \"name\": \"vif_ip4\", \"type\": [\"ifname\", "
        "\"ipv4_addr\"]}}, {\"set\": {\"family\": \"bridge\", \"table\": \"xenguard\", \"name\": "
        "\"vif_ip6\", \"type\": [\"ifname\", \"ipv6_addr\"]}}, {\"set\": {\"family\": \"bridge\", "
        "\"table\": \"xenguard\", \"name\": \"vif_mac\", \"type\": [\"ifname\", \"ether_addr\"]}}, "
        "{\"set\": {\"family\": \"bridge\", \"table\": \"xenguard\", \"name\": \"vif_ip6_nd\", "
        "\"type\": [\"ifname\", \"integer\"], \"elem\": [{\"concat\": [\"vif1.0\", "
        "\"0x20010db8000000000000000000000099\"]}]}}]}";
    struct xg_vif_list l;
    assert_int_equal(xg_vif_parse_listing(json, &l, &err), 0);
    assert_true(l.has_nd);
    xg_vif_cmds(xg_vif_list_find(&l, "vif1.0"), NULL, l.has_nd, &b);
    /* the companion's element goes even when vif_ip6 does not mirror it */
    assert_string_equal(xg_buf_str(&b),
                        "delete element bridge xenguard vif_declared { \"vif1.0\" }\n"
                        "delete element bridge xenguard vif_ip6_nd { \"vif1.0\" . "
                        "0x20010db8000000000000000000000099 }\n");
    xg_buf_free(&b);
    xg_vif_list_free(&l);
}

/* What nft 1.0.6 prints for `nft -j list table bridge xenguard` (abridged). */
static const char *listing =
    "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
    "{\"table\": {\"family\": \"bridge\", \"name\": \"xenguard\", \"handle\": 1}},"
    "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_declared\", \"table\": \"xenguard\", "
    "\"type\": \"ifname\", \"handle\": 1, \"elem\": [\"vif1.0\", \"vif2.0\"]}},"
    "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_ip4\", \"table\": \"xenguard\", "
    "\"type\": [\"ifname\", \"ipv4_addr\"], \"handle\": 2, \"elem\": [{\"concat\": [\"vif1.0\", "
    "\"192.0.2.10\"]}, {\"concat\": [\"vif1.0\", \"192.0.2.11\"]}, {\"concat\": [\"vif2.0\", "
    "\"192.0.2.20\"]}]}},"
    "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_ip6\", \"table\": \"xenguard\", "
    "\"type\": [\"ifname\", \"ipv6_addr\"], \"handle\": 3, \"elem\": [{\"elem\": {\"val\": "
    "{\"concat\": [\"vif1.0\", \"2001:db8::10\"]}, \"comment\": \"x\"}}]}},"
    "{\"set\": {\"family\": \"bridge\", \"name\": \"vif_mac\", \"table\": \"xenguard\", "
    "\"type\": [\"ifname\", \"ether_addr\"], \"handle\": 4, \"elem\": [{\"concat\": [\"vif1.0\", "
    "\"00:16:3e:00:00:01\"]}, {\"concat\": [\"tap3.0\", \"00:16:3e:00:00:03\"]}]}}]}";

static void listing_parse(void **state)
{
    struct xg_err err;
    struct xg_vif_list l;
    assert_int_equal(xg_vif_parse_listing(listing, &l, &err), 0);
    assert_int_equal(l.count, 3);
    const struct xg_vif_decl *v1 = xg_vif_list_find(&l, "vif1.0"),
                             *v2 = xg_vif_list_find(&l, "vif2.0"),
                             *t3 = xg_vif_list_find(&l, "tap3.0");
    assert_non_null(v1);
    assert_non_null(v2);
    assert_non_null(t3);
    assert_true(v1->declared);
    assert_int_equal(v1->ips.count, 3);
    assert_int_equal(v1->mac_count, 1);
    assert_int_equal(v2->ips.count, 1);
    assert_int_equal(v2->mac_count, 0);
    assert_false(t3->declared);
    /* offline of vif1.0 deletes exactly what the listing holds */
    struct xg_buf b = {0};
    xg_vif_cmds(v1, NULL, l.has_nd, &b);
    assert_non_null(strstr(xg_buf_str(&b), "delete element bridge xenguard vif_ip6 { \"vif1.0\" . "
                                           "2001:db8::10 }\n"));
    xg_buf_free(&b);
    xg_vif_list_free(&l);

    char *no_mac = strdup(listing);
    memcpy(strstr(no_mac, "\"vif_mac\""), "\"vif_xxx\"", 9);
    assert_int_equal(xg_vif_parse_listing(no_mac, &l, &err), XG_VIF_NOT_LOADED);
    assert_non_null(strstr(err.msg, "has no set vif_mac"));
    free(no_mac);
    char *wrong = strdup(listing);
    memcpy(strstr(wrong, "\"ether_addr\""), "\"ipv4_addr\" ", 12);
    assert_int_equal(xg_vif_parse_listing(wrong, &l, &err), -1);
    assert_non_null(strstr(err.msg, "set vif_mac is not of the type"));
    free(wrong);
    assert_int_equal(xg_vif_parse_listing("{\"nftables\": [", &l, &err), -1);
    /* an element of the wrong family is refused with its value, not dropped */
    char *v6in4 = strdup(listing);
    memcpy(strstr(v6in4, "\"192.0.2.20\""), "\"2001:db8::\"", 12);
    assert_int_equal(xg_vif_parse_listing(v6in4, &l, &err), -1);
    assert_non_null(strstr(err.msg, "set vif_ip4: '2001:db8::' is not an IPv4 address"));
    free(v6in4);
}

/* An in-memory xenstore tree: "path=value" for reads, "path:child child" for lists. */
struct tree {
    const char *const *lines;
};

static char *tree_get(void *ctx, const char *path, char sep)
{
    const struct tree *t = ctx;
    size_t n = strlen(path);
    for (const char *const *l = t->lines; *l; l++) {
        if (strncmp(*l, path, n) || (*l)[n] != sep)
            continue;
        char *v = strdup(*l + n + 1);
        if (sep == ':')
            for (char *c = v; *c; c++)
                if (*c == ' ')
                    *c = '\n';
        return v;
    }
    return NULL;
}

static char *tree_list(void *ctx, const char *path)
{
    return tree_get(ctx, path, ':');
}

static char *tree_read(void *ctx, const char *path)
{
    return tree_get(ctx, path, '=');
}

static void xenstore_tree(void **state)
{
    static const char *const lines[] = {
        "/local/domain/0/backend/vif:1 2 7 ../x",
        "/local/domain/0/backend/vif/1:0 1",
        "/local/domain/0/backend/vif/1/0:frontend mac ip script state",
        "/local/domain/0/backend/vif/1/0/ip=192.0.2.10 2001:db8::10",
        "/local/domain/0/backend/vif/1/0/mac=00:16:3e:00:00:01",
        "/local/domain/0/backend/vif/1/1:mac state", /* no ip: not declared */
        "/local/domain/0/backend/vif/1/1/mac=00:16:3e:00:00:02",
        "/local/domain/0/backend/vif/2:0",
        "/local/domain/0/backend/vif/2/0:mac ip",
        "/local/domain/0/backend/vif/2/0/ip=192.0.2.20; reboot", /* hostile: skipped */
        "/local/domain/0/backend/vif/2/0/mac=00:16:3e:00:00:03",
        "/local/domain/0/backend/vif/7:0",
        "/local/domain/0/backend/vif/7/0:mac ip",
        "/local/domain/0/backend/vif/7/0/ip=192.0.2.70",
        "/local/domain/0/backend/vif/7/0/mac=01:00:5e:00:00:01", /* multicast MAC: skipped */
        NULL};
    struct tree t = {lines};
    struct xg_xs_reader xs = {tree_list, tree_read, &t};
    struct xg_vif_list l;
    struct xg_warnings w = {0};
    struct xg_err err;
    assert_int_equal(xg_vif_from_xs(&xs, NULL, &l, &w, &err), 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].ifname, "vif1.0");
    assert_int_equal(l.items[0].ips.count, 2);
    assert_int_equal(w.count, 2);
    assert_non_null(strstr(w.lines[0], "vif2.0: not carried over"));
    assert_non_null(strstr(w.lines[1], "vif7.0: not carried over"));
    xg_warnings_free(&w);
    xg_vif_list_free(&l);
}

static struct xg_set *dyn(struct xg_table *t, const char *name, uint8_t family, enum xg_set_key k)
{
    struct xg_set *s = xg_table_add_set(t, name, family);
    s->key = k;
    s->dynamic = true;
    return s;
}

static void carry(void **state)
{
    struct xg_ruleset rs = {0};
    struct xg_table *t = xg_ruleset_add_table(&rs, XG_NFT_TABLE, XG_TABLE_BRIDGE);
    struct xg_set *decl = dyn(t, XG_BR_SET_DECLARED, 0, XG_SETKEY_IFNAME),
                  *ip4 = dyn(t, XG_BR_SET_IP4, 4, XG_SETKEY_IF_ADDR),
                  *ip6 = dyn(t, XG_BR_SET_IP6, 6, XG_SETKEY_IF_ADDR),
                  *mac = dyn(t, XG_BR_SET_MAC, 0, XG_SETKEY_IF_MAC);
    struct xg_vif_list running;
    struct xg_err err;
    struct xg_warnings w = {0};
    assert_int_equal(xg_vif_parse_listing(listing, &running, &err), 0);
    /* vif1.0 is whole; vif2.0 has no MAC and tap3.0 is not declared: both skipped */
    assert_int_equal(xg_vif_carry(&rs, &running, NULL, &w, &err), 0);
    assert_int_equal(decl->pair_count, 1);
    assert_string_equal(decl->pairs[0].ifname, "vif1.0");
    assert_int_equal(ip4->pair_count, 2);
    assert_int_equal(ip6->pair_count, 1);
    assert_int_equal(mac->pair_count, 1);
    assert_int_equal(mac->pairs[0].mac[5], 1);
    assert_int_equal(w.count, 2);
    xg_warnings_free(&w);
    xg_vif_list_free(&running);
    xg_ruleset_free(&rs);

    /* a port the IR already declares (carried from the running table) stands as it is */
    struct xg_ruleset rs2 = {0};
    t = xg_ruleset_add_table(&rs2, XG_NFT_TABLE, XG_TABLE_BRIDGE);
    decl = dyn(t, XG_BR_SET_DECLARED, 0, XG_SETKEY_IFNAME);
    ip4 = dyn(t, XG_BR_SET_IP4, 4, XG_SETKEY_IF_ADDR);
    dyn(t, XG_BR_SET_IP6, 6, XG_SETKEY_IF_ADDR);
    dyn(t, XG_BR_SET_MAC, 0, XG_SETKEY_IF_MAC);
    struct xg_set_pair p = {.ifname = "vif1.0"};
    assert_int_equal(xg_set_add_pair(decl, &p), 0);
    assert_int_equal(xg_vif_parse_listing(listing, &running, &err), 0);
    assert_int_equal(xg_vif_carry(&rs2, &running, NULL, NULL, &err), 0);
    assert_int_equal(decl->pair_count, 1);
    assert_int_equal(ip4->pair_count, 0);
    xg_vif_list_free(&running);
    xg_ruleset_free(&rs2);

    struct xg_ruleset none = {0};
    xg_ruleset_add_table(&none, XG_NFT_TABLE, XG_TABLE_INET);
    assert_int_equal(xg_vif_carry(&none, &running, NULL, NULL, &err), 0);
    xg_ruleset_free(&none);
}

/* The bridge membership text the probe reads (live /sys or a capture's bridges.txt). */
static void bridges_text(void **state)
{
    struct xg_bridge *b;
    size_t n;
    struct xg_err err;
    assert_int_equal(
        xg_bridges_parse("xenbr0 eth0 vif1.0 vif1.0-emu\nxenbr1\n\n", "b", &b, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(b[0].name, "xenbr0");
    assert_int_equal(b[0].port_count, 3);
    assert_string_equal(b[0].ports[2], "vif1.0-emu");
    assert_int_equal(b[1].port_count, 0);
    for (size_t i = 0; i < n; i++)
        free(b[i].ports);
    free(b);
    assert_int_equal(
        xg_bridges_parse("xenbr0 eth0\nxenbr1 vif/../x\n", "bridges.txt", &b, &n, &err), -1);
    assert_string_equal(err.msg, "bridges.txt:2: 'vif/../x' is not an interface name");
    for (size_t i = 0; i < n; i++)
        free(b[i].ports);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ifnames),       cmocka_unit_test(ips),   cmocka_unit_test(macs),
        cmocka_unit_test(decl_make),     cmocka_unit_test(cmds),  cmocka_unit_test(listing_parse),
        cmocka_unit_test(xenstore_tree), cmocka_unit_test(carry), cmocka_unit_test(nd_companion),
        cmocka_unit_test(bridges_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
