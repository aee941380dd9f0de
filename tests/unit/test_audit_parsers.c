/*
 * test_audit_parsers.c — the audit's text parsers: xend S-expressions,
 * sshd_config (first value wins, Include, Match), xl cfg, passwd/shadow/
 * group/sudoers, /proc/net socket tables, KEY=VALUE, ip/xl JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "probe/parse.h"

#define S(x) x, strlen(x)

/* ---- sxp ---- */

static void sxp_parses_and_prints(void **state)
{
    struct xg_sxp top;
    struct xg_err err;
    const char *t = "# comment\n(a b)\n(c 'd e' (f \"g\\\\h\"))  ; \n";
    /* ';' is an atom in sxp: only '#' starts a comment */
    assert_int_equal(xg_sxp_parse(S(t), "t.sxp", &top, &err), 0);
    assert_int_equal(top.count, 3);
    assert_true(top.items[0].is_list);
    assert_string_equal(top.items[1].items[1].atom, "d e");
    assert_string_equal(top.items[1].items[2].items[1].atom, "g\\h");
    struct xg_buf b = {0};
    xg_sxp_print(&top, &b);
    assert_string_equal(xg_buf_str(&b), "(a b)\n(c 'd e' (f 'g\\\\h'))\n;\n");
    /* print(parse(print(x))) == print(x) */
    struct xg_sxp again;
    assert_int_equal(xg_sxp_parse(b.data, b.len, "p", &again, &err), 0);
    struct xg_buf b2 = {0};
    xg_sxp_print(&again, &b2);
    assert_string_equal(xg_buf_str(&b), xg_buf_str(&b2));
    xg_buf_free(&b);
    xg_buf_free(&b2);
    xg_sxp_free(&again);
    xg_sxp_free(&top);
}

static void sxp_errors_have_locations(void **state)
{
    struct xg_sxp top;
    struct xg_err err;
    assert_int_equal(xg_sxp_parse(S("(a\n (b c)\n"), "x.sxp", &top, &err), -1);
    assert_string_equal(err.msg, "x.sxp:1:1: unbalanced '(': list opened here is never closed");
    assert_int_equal(xg_sxp_parse(S("(a)\n  )"), "x.sxp", &top, &err), -1);
    assert_string_equal(err.msg, "x.sxp:2:3: unbalanced ')'");
    assert_int_equal(xg_sxp_parse(S("(a 'open)"), "x.sxp", &top, &err), -1);
    assert_non_null(strstr(err.msg, "x.sxp:1:4: unterminated string"));
    char deep[200];
    memset(deep, '(', sizeof(deep));
    assert_int_equal(xg_sxp_parse(deep, sizeof(deep), "d", &top, &err), -1);
    assert_non_null(strstr(err.msg, "nesting deeper"));
    assert_int_equal(xg_sxp_parse("(a \0)", 5, "nul", &top, &err), -1);
    assert_non_null(strstr(err.msg, "unexpected character 0x00"));
}

static void xend_first_value_wins(void **state)
{
    struct xg_kvlist kv = {0};
    char **api = NULL;
    size_t napi = 0;
    struct xg_err err;
    const char *t = "(xend-relocation-hosts-allow '^a$ ^b\\\\.c$')\n"
                    "(xend-relocation-hosts-allow '')\n"
                    "(xen-api-server ((9363 none) (unix none) ('localhost:9367' pam '^x$')))\n"
                    "(xend-relocation-server yes)\n";
    assert_int_equal(xg_xend_config_parse(S(t), "c.sxp", &kv, &api, &napi, &err), 0);
    const struct xg_kv *h = xg_kv_find(&kv, "xend-relocation-hosts-allow", false);
    assert_string_equal(h->value, "^a$ ^b\\.c$");
    assert_int_equal(h->line, 1);
    assert_int_equal(napi, 3);
    assert_string_equal(api[0], "9363 none");
    assert_string_equal(api[2], "localhost:9367 pam");
    assert_string_equal(xg_kv_find(&kv, "xend-relocation-server", false)->value, "yes");
    for (size_t i = 0; i < napi; i++)
        free(api[i]);
    free(api);
    xg_kv_free(&kv);
    api = NULL;
    napi = 0;
    assert_int_equal(xg_xend_config_parse(S("just-an-atom\n"), "c.sxp", &kv, &api, &napi, &err),
                     -1);
    assert_string_equal(err.msg, "c.sxp:1:1: expected a (key value) pair at the top level");
    xg_kv_free(&kv);
}

/* ---- sshd_config ---- */

static int fake_include(void *ctx, const char *pattern, struct xg_kvlist *out, unsigned depth,
                        struct xg_err *err)
{
    (void)ctx;
    if (!strcmp(pattern, "/etc/ssh/sshd_config.d/*.conf"))
        return xg_sshd_parse(S("PasswordAuthentication no\n"), "d.conf", out, fake_include, NULL,
                             depth, err);
    if (!strcmp(pattern, "loop.conf")) /* includes itself forever */
        return xg_sshd_parse(S("Include loop.conf\n"), "loop.conf", out, fake_include, NULL, depth,
                             err);
    return 0;
}

static void sshd_first_value_include_match(void **state)
{
    struct xg_kvlist kv = {0};
    struct xg_err err;
    const char *t = "# main\nPermitRootLogin=no\nListenAddress 192.0.2.1\n"
                    "listenaddress \"[2001:db8::1]:22\"\n"
                    "PasswordAuthentication yes\n"
                    "Match User bob\n  PasswordAuthentication yes\n  PermitRootLogin yes\n"
                    "Match all\nAllowUsers alice\n";
    assert_int_equal(xg_sshd_parse(S(t), "s", &kv, NULL, NULL, 0, &err), 0);
    assert_string_equal(xg_kv_find(&kv, "permitrootlogin", true)->value, "no");
    assert_string_equal(xg_kv_find(&kv, "PasswordAuthentication", true)->value, "yes");
    assert_string_equal(xg_kv_find(&kv, "allowusers", true)->value, "alice");
    size_t listens = 0;
    for (size_t i = 0; i < kv.count; i++)
        listens += !strcmp(kv.items[i].key, "listenaddress");
    assert_int_equal(listens, 2);
    assert_string_equal(kv.items[2].value, "[2001:db8::1]:22");
    /* the Match block is kept apart: its criteria, then its settings */
    const struct xg_kv *m = xg_kv_find(&kv, "match", true);
    assert_non_null(m);
    assert_string_equal(m->value, "User bob");
    assert_int_equal(m->line, 6);
    assert_string_equal(xg_kv_find(&kv, "match:permitrootlogin", true)->value, "yes");
    assert_int_equal(xg_kv_find(&kv, "match:permitrootlogin", true)->line, 8);
    assert_null(xg_kv_find(&kv, "match:allowusers", true)); /* after Match all: global */
    xg_kv_free(&kv);

    /* the drop-in included before the main file's value wins */
    const char *t2 = "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n";
    assert_int_equal(xg_sshd_parse(S(t2), "s", &kv, fake_include, NULL, 0, &err), 0);
    const struct xg_kv *pa = xg_kv_find(&kv, "passwordauthentication", true);
    assert_string_equal(pa->value, "no");
    assert_string_equal(pa->file, "d.conf");
    xg_kv_free(&kv);
    /* runaway includes stop with an error */
    assert_int_equal(xg_sshd_parse(S("Include loop.conf\n"), "s", &kv, fake_include, NULL, 0, &err),
                     -1);
    assert_non_null(strstr(err.msg, "Include nested deeper"));
    xg_kv_free(&kv);
    assert_int_equal(xg_sshd_parse(S("PermitRootLogin\n"), "s", &kv, NULL, NULL, 0, &err), -1);
    assert_string_equal(err.msg, "s:1:1: 'permitrootlogin' has no value");
    /* not a keyword sshd knows the shape of (and no way to fake a "match:" entry) */
    assert_int_equal(xg_sshd_parse(S("  Match: all\n"), "s", &kv, NULL, NULL, 0, &err), -1);
    assert_string_equal(err.msg, "s:1:8: 'match:' is not an sshd keyword");
    xg_kv_free(&kv);
}

/* ---- xl cfg ---- */

static void xlcfg_values_lists_append(void **state)
{
    struct xg_xlcfg c;
    struct xg_err err;
    const char *t = "name = \"vm1\" # c\nmemory = 1024; vcpus=2\n"
                    "vfb = [ 'vnc=1,vnclisten=0.0.0.0',\n   \"vncpasswd=x\", ]\n"
                    "vif.default.bridge = 'xenbr0'\ndisk = [ 'a' ]\ndisk += [ 'b' ]\n";
    assert_int_equal(xg_xlcfg_parse(S(t), "vm1.cfg", &c, &err), 0);
    assert_string_equal(xg_xlcfg_get(&c, "name")->items[0], "vm1");
    assert_string_equal(xg_xlcfg_get(&c, "vcpus")->items[0], "2");
    assert_string_equal(xg_xlcfg_get(&c, "vif.default.bridge")->items[0], "xenbr0");
    const struct xg_xlcfg_value *v = xg_xlcfg_get(&c, "vfb");
    assert_true(v->is_list);
    assert_int_equal(v->count, 2);
    assert_int_equal(v->line, 3);
    assert_int_equal(xg_xlcfg_get(&c, "disk")->count, 2);
    char out[64];
    assert_true(xg_xlcfg_spec_get(v->items[0], "vnclisten", out, sizeof(out)));
    assert_string_equal(out, "0.0.0.0");
    assert_false(xg_xlcfg_spec_get(v->items[0], "vncpasswd", out, sizeof(out)));
    assert_true(xg_xlcfg_spec_get(v->items[0], "vnc", out, sizeof(out)));
    assert_string_equal(out, "1");
    xg_xlcfg_free(&c);

    assert_int_equal(xg_xlcfg_parse(S("a = [ 'x' 'y' ]\n"), "b.cfg", &c, &err), -1);
    assert_string_equal(err.msg, "b.cfg:1:11: expected ',' or ']' in a list");
    assert_int_equal(xg_xlcfg_parse(S("a = 'x\n"), "b.cfg", &c, &err), -1);
    assert_string_equal(err.msg, "b.cfg:1:5: unterminated string");
    assert_int_equal(xg_xlcfg_parse(S("a 1\n"), "b.cfg", &c, &err), -1);
    assert_string_equal(err.msg, "b.cfg:1:3: expected '=' after 'a'");
    assert_int_equal(xg_xlcfg_parse(S("a = 1 2\n"), "b.cfg", &c, &err), -1);
    assert_int_equal(xg_xlcfg_parse(S("a = [ 'x'\n"), "b.cfg", &c, &err), -1);
    assert_string_equal(err.msg, "b.cfg:1:5: '[' is never closed");
}

/* ---- accounts ---- */

static void free_accounts(struct xg_account *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].home);
        free(a[i].shell);
    }
    free(a);
}

static void passwd_shadow(void **state)
{
    struct xg_account *a = NULL;
    size_t n = 0;
    struct xg_err err;
    const char *pw = "root:x:0:0:root:/root:/bin/bash\n# c\n+nis\n"
                     "bob:$6$h:1000:1000::/home/bob:/bin/sh\nsvc:!:998:998::/:/usr/sbin/nologin\n"
                     "nopw::1001:1001::/:\n";
    assert_int_equal(xg_passwd_parse(S(pw), "/etc/passwd", &a, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(a[0].pw, XG_PW_UNKNOWN);
    assert_int_equal(a[1].pw, XG_PW_USABLE);
    assert_int_equal(a[1].line, 4);
    assert_int_equal(a[2].pw, XG_PW_LOCKED);
    assert_int_equal(a[3].pw, XG_PW_EMPTY);
    assert_int_equal(xg_shadow_apply(S("root:$y$x:1::::::\nsvc:*:1::::::\nbob::1::::::\n"),
                                     "/etc/shadow", a, n, &err),
                     0);
    assert_int_equal(a[0].pw, XG_PW_USABLE);
    assert_int_equal(a[1].pw, XG_PW_EMPTY);
    assert_int_equal(a[2].pw, XG_PW_LOCKED);
    assert_int_equal(xg_shadow_apply(S("root\n"), "/etc/shadow", a, n, &err), -1);
    assert_string_equal(err.msg, "/etc/shadow:1:1: expected 9 ':'-separated fields");
    free_accounts(a, n);
    a = NULL;
    n = 0;
    assert_int_equal(xg_passwd_parse(S("root:x:0:0:root:/root\n"), "/etc/passwd", &a, &n, &err),
                     -1);
    assert_string_equal(err.msg, "/etc/passwd:1:1: expected 7 ':'-separated fields");
    assert_int_equal(xg_passwd_parse(S("x:x:-1:0:::\n"), "/etc/passwd", &a, &n, &err), -1);
    assert_string_equal(err.msg, "/etc/passwd:1:1: bad account name, uid or gid");
    assert_int_equal(xg_passwd_parse(S("x:x:0:0::::\n"), "/etc/passwd", &a, &n, &err), -1);
    free_accounts(a, n);
}

static void group_sudoers(void **state)
{
    struct xg_err err;
    struct xg_group *g = NULL;
    size_t ng = 0;
    assert_int_equal(
        xg_group_parse(S("sudo:x:27:alice,bob\nusers:x:100:\n"), "/etc/group", &g, &ng, &err), 0);
    assert_int_equal(ng, 2);
    assert_int_equal(g[0].member_count, 2);
    assert_string_equal(g[0].members[1], "bob");
    assert_int_equal(g[1].member_count, 0);
    for (size_t i = 0; i < ng; i++) {
        free(g[i].name);
        for (size_t m = 0; m < g[i].member_count; m++)
            free(g[i].members[m]);
        free(g[i].members);
    }
    free(g);

    struct xg_sudo_rule *r = NULL;
    size_t nr = 0;
    char **dirs = NULL;
    size_t nd = 0;
    const char *su = "Defaults env_reset\nUser_Alias ADM = alice\nroot ALL=(ALL:ALL) ALL\n"
                     "%sudo ALL=(ALL) ALL\nbob,carol ALL = \\\n  NOPASSWD: ALL\n"
                     "#includedir /etc/sudoers.d\n@includedir /etc/more\n";
    assert_int_equal(xg_sudoers_parse(S(su), "/etc/sudoers", &r, &nr, &dirs, &nd, &err), 0);
    assert_int_equal(nr, 4);
    assert_string_equal(r[1].who, "%sudo");
    assert_string_equal(r[2].who, "bob");
    assert_string_equal(r[3].who, "carol");
    assert_int_equal(r[3].line, 5);
    assert_int_equal(nd, 2);
    assert_string_equal(dirs[1], "/etc/more");
    for (size_t i = 0; i < nr; i++) {
        free(r[i].who);
        free(r[i].file);
    }
    free(r);
    for (size_t i = 0; i < nd; i++)
        free(dirs[i]);
    free(dirs);
    r = NULL;
    nr = 0;
    dirs = NULL;
    nd = 0;
    assert_int_equal(xg_sudoers_parse(S("garbage\n"), "/etc/sudoers", &r, &nr, &dirs, &nd, &err),
                     -1);
    assert_string_equal(err.msg, "/etc/sudoers:1:1: not a sudoers user specification");
}

/* ---- /proc/net ---- */

static void procnet_listeners(void **state)
{
    struct xg_socket *s = NULL;
    size_t n = 0;
    struct xg_err err;
    const char *tcp =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0A0200C0:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
        "       0 1234 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:1F42 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0 "
        "       0 999 1 0000000000000000 100 0 0 10 0\n";
    assert_int_equal(xg_procnet_parse(S(tcp), "tcp", 4, IPPROTO_TCP, &s, &n, &err), 0);
    assert_int_equal(n, 1); /* the established connection is not a listener */
    char a[XG_PREFIX_STRLEN];
    xg_prefix_format(&s[0].addr, true, a);
    assert_string_equal(a, "192.0.2.10");
    assert_int_equal(s[0].port, 22);
    assert_int_equal(s[0].inode, 1234);
    const char *tcp6 =
        "header\n"
        "   0: B80D0120000000000000000010000000:1F42 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 77 1 0 100 0 0 10 0\n";
    assert_int_equal(xg_procnet_parse(S(tcp6), "tcp6", 6, IPPROTO_TCP, &s, &n, &err), 0);
    assert_int_equal(n, 2);
    xg_prefix_format(&s[1].addr, true, a);
    assert_string_equal(a, "2001:db8::10");
    assert_int_equal(s[1].port, 8002);
    free(s);
    s = NULL;
    n = 0;
    assert_int_equal(xg_procnet_parse(S("h\nnot a socket\n"), "tcp", 4, IPPROTO_TCP, &s, &n, &err),
                     -1);
    assert_string_equal(err.msg, "tcp:2:1: not a socket table line");
    free(s);
}

/* ---- small formats ---- */

static void keyval_ipaddr_xllist(void **state)
{
    struct xg_kvlist kv = {0};
    struct xg_err err;
    assert_int_equal(xg_keyval_parse(S("# c\nXENDOMAINS_MIGRATE=\"--live host\"\nexport A='b'\n"
                                       "https-only = true # note\n[section]\n"),
                                     "f", &kv, &err),
                     0);
    assert_string_equal(xg_kv_find(&kv, "XENDOMAINS_MIGRATE", false)->value, "--live host");
    assert_string_equal(xg_kv_find(&kv, "A", false)->value, "b");
    assert_string_equal(xg_kv_find(&kv, "https-only", false)->value, "true");
    xg_kv_free(&kv);
    assert_int_equal(xg_keyval_parse(S("no equals sign\n"), "f", &kv, &err), -1);
    assert_string_equal(err.msg, "f:1:1: expected KEY=VALUE");
    xg_kv_free(&kv);

    struct xg_iface *ifs = NULL;
    size_t n = 0;
    const char *j = "[{\"ifname\":\"eth1\",\"addr_info\":[{\"family\":\"inet\",\"local\":"
                    "\"192.0.2.10\"},{\"family\":\"inet6\",\"local\":\"2001:db8::10\"}]}]";
    assert_int_equal(xg_ipaddr_parse(S(j), "ip", &ifs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ifs[0].name, "eth1");
    assert_int_equal(ifs[0].addrs.count, 2);
    xg_prefix_list_free(&ifs[0].addrs);
    free(ifs);
    ifs = NULL;
    n = 0;
    assert_int_equal(xg_ipaddr_parse(S("{"), "ip", &ifs, &n, &err), -1);

    struct xg_domain *d = NULL;
    size_t nd = 0;
    assert_int_equal(xg_xllist_parse(S("[{\"domid\":0,\"config\":{\"c_info\":{\"name\":"
                                       "\"Domain-0\"}}},{\"domid\":5}]"),
                                     "xl", &d, &nd, &err),
                     0);
    assert_int_equal(nd, 2);
    assert_string_equal(d[0].name, "Domain-0");
    assert_int_equal(d[1].domid, 5);
    free(d[0].name);
    free(d[1].name);
    free(d);
}

static void socket_units(void **state)
{
    char svc[64];
    const char *rpc = "[Socket]\nListenStream=0.0.0.0:111\n  ListenDatagram=[::]:111\n";
    assert_true(xg_socket_unit_matches(rpc, "rpcbind.socket", IPPROTO_TCP, 111, svc, sizeof(svc)));
    assert_string_equal(svc, "rpcbind.service");
    assert_true(xg_socket_unit_matches(rpc, "rpcbind.socket", IPPROTO_UDP, 111, svc, sizeof(svc)));
    assert_false(xg_socket_unit_matches(rpc, "rpcbind.socket", IPPROTO_TCP, 1111, svc, 64));
    assert_false(xg_socket_unit_matches(rpc, "rpcbind.socket", IPPROTO_TCP, 11, svc, 64));
    const char *ssh = "[Socket]\nListenStream=22\nAccept=yes\n";
    assert_true(xg_socket_unit_matches(ssh, "ssh.socket", IPPROTO_TCP, 22, svc, sizeof(svc)));
    assert_string_equal(svc, "ssh@.service");
    assert_false(xg_socket_unit_matches(ssh, "ssh.socket", IPPROTO_UDP, 22, svc, sizeof(svc)));
    const char *named = "ListenStream=/run/x.sock\nListenStream=8080\nService=web.service\n";
    assert_true(xg_socket_unit_matches(named, "x.socket", IPPROTO_TCP, 8080, svc, sizeof(svc)));
    assert_string_equal(svc, "web.service");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(socket_units),
        cmocka_unit_test(sxp_parses_and_prints),
        cmocka_unit_test(sxp_errors_have_locations),
        cmocka_unit_test(xend_first_value_wins),
        cmocka_unit_test(sshd_first_value_include_match),
        cmocka_unit_test(xlcfg_values_lists_append),
        cmocka_unit_test(passwd_shadow),
        cmocka_unit_test(group_sudoers),
        cmocka_unit_test(procnet_listeners),
        cmocka_unit_test(keyval_ipaddr_xllist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
