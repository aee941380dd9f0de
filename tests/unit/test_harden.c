/*
 * test_harden.c — the pure generators of src/harden/: xend hosts-allow
 * regexes, the xend-config.sxp editor, the sshd drop-in, the main
 * sshd_config's Include, and the check of what sshd ends up using.
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
                              "(xen-api-server ((unix)))\n"
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

#define DROPIN "/etc/ssh/sshd_config.d/00-xenguard.conf"

static void sshd_main_include(void **state)
{
    struct xg_err err;
    char *out = NULL;
    /* Debian's: the Include is the first directive; relative patterns are under /etc/ssh */
    const char *debian = "# comment\n\nInclude /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n";
    const char *relative = "Include  sshd_config.d/*.conf other.conf\n";
    const char *below_match = "Match User x\nInclude /etc/ssh/sshd_config.d/*.conf\n";
    const char *elsewhere = "Include /etc/ssh/local.d/*.conf\nUsePAM yes\n";
    const char *unchanged[] = {debian, relative};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(xg_harden_sshd_main(unchanged[i], DROPIN, &out, &err), 0);
        assert_string_equal(out, unchanged[i]);
        free(out);
    }
    const char *added[] = {below_match, elsewhere, ""};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(xg_harden_sshd_main(added[i], DROPIN, &out, &err), 0);
        const char *inc = strstr(out, "\nInclude /etc/ssh/sshd_config.d/*.conf\n");
        assert_non_null(inc);
        /* the Include is the first line that is not a comment, the old text follows whole */
        for (const char *l = out; l < inc + 1; l = strchr(l, '\n') + 1)
            assert_true(*l == '#');
        assert_string_equal(out + strlen(out) - strlen(added[i]), added[i]);
        char *again = NULL; /* and a second run leaves it */
        assert_int_equal(xg_harden_sshd_main(out, DROPIN, &again, &err), 0);
        assert_string_equal(again, out);
        free(again);
        free(out);
    }
}

static void add_kv(struct xg_kvlist *l, const char *k, const char *v, const char *file,
                   unsigned line)
{
    assert_int_equal(xg_kv_add(l, k, v, file, line), 0);
}

static void sshd_verify(void **state)
{
    char *users[] = {"alice", "bob"};
    struct xg_policy p = {.admin_users = users, .admin_user_count = 2, .ssh_port = 22};
    struct xg_prefix addr;
    assert_int_equal(xg_addr_parse("192.0.2.1", &addr), 0);
    struct xg_kvlist ok = {0}; /* what sshd -T prints for the drop-in in effect */
    add_kv(&ok, "listenaddress", "192.0.2.1:22", "sshd -T", 0);
    add_kv(&ok, "passwordauthentication", "no", "sshd -T", 0);
    add_kv(&ok, "kbdinteractiveauthentication", "no", "sshd -T", 0);
    add_kv(&ok, "permitrootlogin", "without-password", "sshd -T", 0);
    add_kv(&ok, "allowusers", "alice", "sshd -T", 0);
    add_kv(&ok, "allowusers", "bob", "sshd -T", 0);
    struct xg_buf why = {0};
    assert_int_equal(xg_harden_sshd_verify(&ok, &p, &addr, DROPIN, &why), 0);
    assert_int_equal(why.len, 0);
    xg_kv_free(&ok);

    /* cloud-init's drop-in read first; an extra ListenAddress and user; no kbd setting */
    struct xg_kvlist bad = {0};
    const char *ci = "/etc/ssh/sshd_config.d/00-cloud.conf";
    add_kv(&bad, "passwordauthentication", "yes", ci, 1);
    add_kv(&bad, "permitrootlogin", "yes", ci, 2);
    add_kv(&bad, "listenaddress", "0.0.0.0", ci, 3);
    add_kv(&bad, "allowusers", "carol@192.0.2.9 alice", ci, 4);
    add_kv(&bad, "listenaddress", "192.0.2.1:22", DROPIN, 3);
    add_kv(&bad, "passwordauthentication", "no", DROPIN, 4);
    add_kv(&bad, "permitrootlogin", "prohibit-password", DROPIN, 6);
    assert_int_equal(xg_harden_sshd_verify(&bad, &p, &addr, DROPIN, &why), -1);
    const char *w = xg_buf_str(&why);
    assert_non_null(strstr(w, "PasswordAuthentication yes ("
                              "/etc/ssh/sshd_config.d/00-cloud.conf:1) "));
    assert_non_null(strstr(w, "PermitRootLogin yes (/etc/ssh/sshd_config.d/00-cloud.conf:2)"));
    assert_non_null(
        strstr(w, "ListenAddress 0.0.0.0 (/etc/ssh/sshd_config.d/00-cloud.conf:3) adds"));
    assert_non_null(
        strstr(w, "AllowUsers carol@192.0.2.9 (/etc/ssh/sshd_config.d/00-cloud.conf:4)"));
    assert_non_null(strstr(w, "KbdInteractiveAuthentication is not set at all"));
    assert_null(strstr(w, "alice"));
    xg_buf_free(&why);
    xg_kv_free(&bad);

    /* nothing read at all (no Include): every missing keyword is named */
    struct xg_kvlist none = {0};
    add_kv(&none, "usepam", "yes", "/etc/ssh/sshd_config", 1);
    assert_int_equal(xg_harden_sshd_verify(&none, &p, &addr, DROPIN, &why), -1);
    assert_non_null(strstr(xg_buf_str(&why), "no ListenAddress at all"));
    assert_non_null(strstr(xg_buf_str(&why), "no AllowUsers at all"));
    xg_buf_free(&why);
    xg_kv_free(&none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hosts_allow_hosts_and_networks),
        cmocka_unit_test(hosts_allow_refuses_what_it_cannot_say),
        cmocka_unit_test(xend_edit_in_place_and_idempotent),
        cmocka_unit_test(xend_off_unless_transport_xend),
        cmocka_unit_test(sshd_dropin),
        cmocka_unit_test(sshd_main_include),
        cmocka_unit_test(sshd_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
