/*
 * test_harden.c — the pure generators of src/harden/: xend hosts-allow
 * regexes, the xend-config.sxp editor, the sshd drop-in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harden/harden.h"

static void add_peer(struct xg_prefix_list *l, const char *text)
{
    struct xg_prefix p;
    char why[200];
    assert_int_equal(xg_prefix_parse(text, XG_PREFIX_STRICT, &p, why, sizeof(why)), 0);
    assert_int_equal(xg_prefix_list_add(l, &p), 0);
}

static void hosts_allow_hosts_and_networks(void **state)
{
    struct xg_prefix_list l = {0};
    struct xg_err err;
    char *out = NULL;
    add_peer(&l, "192.0.2.11");
    add_peer(&l, "198.51.100.0/24");
    add_peer(&l, "203.0.113.0/30");
    add_peer(&l, "2001:db8::11");
    assert_int_equal(xg_xend_hosts_allow(&l, &out, &err), 0);
    assert_string_equal(out, "^192\\\\.0\\\\.2\\\\.11$ ^198\\\\.51\\\\.100\\\\.[0-9]+$ "
                             "^203\\\\.0\\\\.113\\\\.0$ ^203\\\\.0\\\\.113\\\\.1$ "
                             "^203\\\\.0\\\\.113\\\\.2$ ^203\\\\.0\\\\.113\\\\.3$ ^2001:db8::11$");
    free(out);
    xg_prefix_list_free(&l);
}

static void hosts_allow_refuses_what_it_cannot_say(void **state)
{
    struct xg_prefix_list l = {0};
    struct xg_err err;
    char *out = NULL;
    add_peer(&l, "198.51.100.0/23");
    assert_int_equal(xg_xend_hosts_allow(&l, &out, &err), -1);
    assert_non_null(strstr(err.msg, "198.51.100.0/23"));
    xg_prefix_list_free(&l);
    add_peer(&l, "2001:db8::/64");
    assert_int_equal(xg_xend_hosts_allow(&l, &out, &err), -1);
    assert_non_null(strstr(err.msg, "IPv6"));
    xg_prefix_list_free(&l);
}

static struct xg_policy xend_policy(enum xg_transport t)
{
    struct xg_policy p = {0};
    add_peer(&p.peers, "192.0.2.11");
    p.transport = t;
    p.migration_port = 8002;
    return p;
}

static void xend_edit_in_place_and_idempotent(void **state)
{
    const char *old = "# header comment\n"
                      "(xend-http-server yes)\n"
                      "  (xend-relocation-server no)\n"
                      "#(xend-relocation-address '')\n"
                      "(xend-relocation-serverx keep-me)\n"
                      "(dom0-min-mem 196)\n";
    struct xg_policy p = xend_policy(XG_TRANSPORT_XEND);
    struct xg_prefix addr;
    struct xg_err err;
    char *once = NULL, *twice = NULL;
    assert_int_equal(xg_addr_parse("192.0.2.1", &addr), 0);
    assert_int_equal(xg_harden_xend(old, &p, &addr, &once, &err), 0);
    assert_string_equal(once, "# header comment\n"
                              "(xend-http-server no)\n"
                              "(xend-relocation-server yes)\n"
                              "#(xend-relocation-address '')\n"
                              "(xend-relocation-address '192.0.2.1')\n"
                              "(xend-relocation-serverx keep-me)\n"
                              "(dom0-min-mem 196)\n"
                              "\n"
                              "# Added by xenguard harden xend (see xenguard-harden(8)).\n"
                              "(xend-relocation-port 8002)\n"
                              "(xend-relocation-hosts-allow '^192\\\\.0\\\\.2\\\\.11$')\n"
                              "(xend-tcp-xmlrpc-server no)\n"
                              "(xend-xen-api-server ((unix)))\n"
                              "(xend-relocation-ssl-server no)\n");
    assert_int_equal(xg_harden_xend(once, &p, &addr, &twice, &err), 0);
    assert_string_equal(once, twice);
    free(once);
    free(twice);
    xg_prefix_list_free(&p.peers);
}

static void xend_off_unless_transport_xend(void **state)
{
    struct xg_policy p = xend_policy(XG_TRANSPORT_TUNNEL);
    struct xg_prefix addr;
    struct xg_err err;
    char *out = NULL;
    assert_int_equal(xg_addr_parse("192.0.2.1", &addr), 0);
    assert_int_equal(xg_harden_xend("(xend-relocation-server yes)\n", &p, &addr, &out, &err), 0);
    assert_non_null(strstr(out, "(xend-relocation-server no)\n"));
    assert_null(strstr(out, "(xend-relocation-server yes)"));
    free(out);
    xg_prefix_list_free(&p.peers);
}

static void sshd_dropin(void **state)
{
    char *users[] = {"alice", "bob"};
    struct xg_policy p = {.admin_users = users, .admin_user_count = 2, .ssh_port = 2222};
    struct xg_prefix addr;
    struct xg_err err;
    char *out = NULL;
    assert_int_equal(xg_addr_parse("2001:db8::1", &addr), 0);
    assert_int_equal(xg_harden_sshd(&p, &addr, &out, &err), 0);
    assert_non_null(strstr(out, "\nListenAddress [2001:db8::1]:2222\n"));
    assert_non_null(strstr(out, "\nPasswordAuthentication no\n"));
    assert_non_null(strstr(out, "\nKbdInteractiveAuthentication no\n"));
    assert_non_null(strstr(out, "\nPermitRootLogin prohibit-password\n"));
    assert_non_null(strstr(out, "\nAllowUsers alice bob\n"));
    free(out);
    char *bad[] = {"alice bob"};
    p.admin_users = bad;
    p.admin_user_count = 1;
    assert_int_equal(xg_harden_sshd(&p, &addr, &out, &err), -1);
    assert_non_null(strstr(err.msg, "alice bob"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hosts_allow_hosts_and_networks),
        cmocka_unit_test(hosts_allow_refuses_what_it_cannot_say),
        cmocka_unit_test(xend_edit_in_place_and_idempotent),
        cmocka_unit_test(xend_off_unless_transport_xend),
        cmocka_unit_test(sshd_dropin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
