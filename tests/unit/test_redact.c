/*
 * test_redact.c — what `xenguard capture` writes instead of a secret
 * (probe/redact.h): each transform leaves no secret behind and the reader
 * the audit uses sees the same thing (password state, "console password
 * set", this host's https_only) in the redacted text as in the original.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/parse.h"
#include "probe/redact.h"

#define S(x) x, strlen(x)

static void free_accounts(struct xg_account *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].home);
        free(a[i].shell);
    }
    free(a);
}

/* ---- password fields ---- */

static void pw_field_becomes_its_state(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool passwd;
        const char *out;
    } cases[] = {
        {"$6$Qm5yTFxS$0vA7xkWq0o2Fz1LHl4sY3B9PnDgqzL3.wYbU7eQh8W1", false, "<usable>"},
        {"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", false,
         "<usable>"},
        {"!$6$Qm5yTFxS$0vA7xkWq0o2Fz1LHl4sY3B9PnDgqzL3", false, "!<locked>"},
        {"*LK*$1$abc$def", false, "*<locked>"},
        {"!", false, "!"},
        {"!!", false, "!!"},
        {"*", false, "*"},
        {"", false, ""},
        {"x", true, "x"},
        {"*x", true, "*x"},
        {"x", false, "<usable>"}, /* in shadow, "x" is a (useless) hash: usable */
        {"$1$salt$hash", true, "<usable>"},
        {"<usable>", false, "<usable>"}, /* a capture of a capture: unchanged */
        {"!<locked>", false, "!<locked>"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        bool changed = xg_redact_pw_field(cases[i].in, cases[i].passwd, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].out);
        assert_int_equal(changed, strcmp(cases[i].in, cases[i].out) != 0);
        /* the reader gives the redacted field the state it gave the original */
        assert_int_equal(xg_pw_classify(buf, cases[i].passwd),
                         xg_pw_classify(cases[i].in, cases[i].passwd));
        assert_null(strchr(buf, '$'));
    }
}

static const char PASSWD[] = "root:x:0:0:root:/root:/bin/bash\n"
                             "old:$1$oldsalt$oldhash:1001:1001::/home/old:/bin/sh\n"
                             "admin:x:1000:1000::/home/admin:/bin/bash\n"
                             "svc:x:998:998::/:/usr/sbin/nologin\n"
                             "nopw:x:1002:1002::/:/bin/sh\n";
static const char SHADOW[] =
    "root:$6$Qm5yTFxS$0vA7xkWq0o2Fz1LHl4sY3B9PnDgqzL3.wYbU7eQh8W1:19700:0:99999:7:::\n"
    "# root:$6$oldsalt$oldhash (before the reset)\n"
    "admin:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZ:19700:0:99999:7:::\r\n"
    "svc:!$6$lockedsalt$lockedhash:19700:0:99999:7:::\n"
    "nopw::19700:0:99999:7:::\n"
    "+nis:$6$nissalt$nishash::::::\n"
    "\n"
    "old:*:19700::::::";

static void colon_files_keep_every_state(void **state)
{
    (void)state;
    struct xg_buf pw = {0}, sh = {0};
    size_t npw, nsh;
    assert_int_equal(xg_redact_colon(S(PASSWD), true, &pw, &npw), 0);
    assert_int_equal(xg_redact_colon(S(SHADOW), false, &sh, &nsh), 0);
    assert_int_equal(npw, 1);
    assert_int_equal(nsh, 5);
    assert_string_equal(xg_buf_str(&sh), "root:<usable>:19700:0:99999:7:::\n"
                                         "#\n"
                                         "admin:<usable>:19700:0:99999:7:::\r\n"
                                         "svc:!<locked>:19700:0:99999:7:::\n"
                                         "nopw::19700:0:99999:7:::\n"
                                         "+nis:<usable>::::::\n"
                                         "\n"
                                         "old:*:19700::::::");
    assert_null(strchr(xg_buf_str(&pw), '$'));
    assert_null(strstr(xg_buf_str(&sh), "salt"));
    /* the accounts the audit reads: same state, same line, from both */
    struct xg_account *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    struct xg_err err;
    assert_int_equal(xg_passwd_parse(S(PASSWD), "/etc/passwd", &a, &na, &err), 0);
    assert_int_equal(xg_shadow_apply(S(SHADOW), "/etc/shadow", a, na, &err), 0);
    assert_int_equal(xg_passwd_parse(pw.data, pw.len, "/etc/passwd", &b, &nb, &err), 0);
    assert_int_equal(xg_shadow_apply(sh.data, sh.len, "/etc/shadow", b, nb, &err), 0);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].name, b[i].name);
        assert_int_equal(a[i].pw, b[i].pw);
        assert_int_equal(a[i].line, b[i].line);
    }
    assert_int_equal(a[0].pw, XG_PW_USABLE);
    assert_int_equal(a[3].pw, XG_PW_LOCKED);
    assert_int_equal(a[4].pw, XG_PW_EMPTY);
    free_accounts(a, na);
    free_accounts(b, nb);
    /* a capture of the capture is the capture */
    struct xg_buf again = {0};
    size_t n2;
    assert_int_equal(xg_redact_colon(sh.data, sh.len, false, &again, &n2), 0);
    assert_string_equal(xg_buf_str(&again), xg_buf_str(&sh));
    assert_int_equal(n2, 0);
    xg_buf_free(&again);
    xg_buf_free(&pw);
    xg_buf_free(&sh);
}

/* A field longer than the buffer is judged by its start: a locked one stays locked. */
static void colon_long_field(void **state)
{
    (void)state;
    char line[6000];
    memset(line, 'h', sizeof(line));
    memcpy(line, "root:!", 6);
    memcpy(line + sizeof(line) - 9, ":1::::::", 9);
    struct xg_buf out = {0};
    size_t n;
    assert_int_equal(xg_redact_colon(line, strlen(line), false, &out, &n), 0);
    assert_string_equal(xg_buf_str(&out), "root:!<locked>:1::::::");
    xg_buf_free(&out);
}

static void colon_bad_line_fails_the_same(void **state)
{
    (void)state;
    const char *bad = "root:$6$s$h:1::::::\n$6$s$orphanhash\n";
    struct xg_buf out = {0};
    size_t n;
    assert_int_equal(xg_redact_colon(S(bad), false, &out, &n), 0);
    assert_null(strstr(xg_buf_str(&out), "orphanhash"));
    struct xg_account acc = {.name = "root"};
    struct xg_err e1, e2;
    assert_int_equal(xg_shadow_apply(S(bad), "/etc/shadow", &acc, 1, &e1), -1);
    assert_int_equal(xg_shadow_apply(out.data, out.len, "/etc/shadow", &acc, 1, &e2), -1);
    assert_string_equal(e1.msg, e2.msg);
    xg_buf_free(&out);
}

/* ---- xl configurations ---- */

static const char XLCFG[] = "name = \"guest1\"\n"
                            "# vncpasswd = \"oldsecret\" until the reset\n"
                            "vnc = 1; vnclisten = \"0.0.0.0\"\n"
                            "vncpasswd = \"s3cr3t-vnc\"\n"
                            "spicepasswd='sp1ce-pw'\n"
                            "vfb = [ 'vnc=1,vncpasswd=vfb-secret,vnclisten=127.0.0.1',\n"
                            "        'vnc=1,vncpasswd=' ]\n"
                            "extra = \"root=/dev/xvda1 password=kernel-secret\"\n"
                            "vncpassword = bareword99\n";

static const char *scalar(const struct xg_xlcfg *c, const char *key)
{
    const struct xg_xlcfg_value *v = xg_xlcfg_get(c, key);
    return v && v->count ? v->items[0] : NULL;
}

static void xlcfg_passwords_become_set(void **state)
{
    (void)state;
    struct xg_buf out = {0};
    size_t n;
    assert_int_equal(xg_redact_xlcfg(S(XLCFG), &out, &n), 0);
    const char *t = xg_buf_str(&out);
    static const char *const secrets[] = {"oldsecret",  "s3cr3t-vnc",    "sp1ce-pw",
                                          "vfb-secret", "kernel-secret", "bareword99"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        assert_null(strstr(t, secrets[i]));
    assert_int_equal(n, 6);
    struct xg_xlcfg a, b;
    struct xg_err err;
    assert_int_equal(xg_xlcfg_parse(S(XLCFG), "g.cfg", &a, &err), 0);
    assert_int_equal(xg_xlcfg_parse(out.data, out.len, "g.cfg", &b, &err), 0);
    assert_int_equal(a.count, b.count);
    for (size_t i = 0; i < a.count; i++) {
        assert_string_equal(a.values[i].key, b.values[i].key);
        assert_int_equal(a.values[i].line, b.values[i].line);
        assert_int_equal(a.values[i].count, b.values[i].count);
    }
    assert_string_equal(scalar(&b, "vncpasswd"), "<set>");
    assert_string_equal(scalar(&b, "spicepasswd"), "<set>");
    assert_string_equal(scalar(&b, "vnclisten"), "0.0.0.0");
    assert_string_equal(scalar(&b, "vncpassword"), "<set>");
    const struct xg_xlcfg_value *vfb = xg_xlcfg_get(&b, "vfb");
    char pw[64];
    assert_true(xg_xlcfg_spec_get(vfb->items[0], "vncpasswd", pw, sizeof(pw)));
    assert_string_equal(pw, "<set>");
    assert_true(xg_xlcfg_spec_get(vfb->items[0], "vnclisten", pw, sizeof(pw)));
    assert_string_equal(pw, "127.0.0.1");
    assert_true(xg_xlcfg_spec_get(vfb->items[1], "vncpasswd", pw, sizeof(pw)));
    assert_string_equal(pw, ""); /* unset stays unset */
    assert_string_equal(scalar(&b, "extra"), "root=/dev/xvda1 password=<set>");
    xg_xlcfg_free(&a);
    xg_xlcfg_free(&b);
    xg_buf_free(&out);
}

static void xlcfg_broken_fails_at_the_same_place(void **state)
{
    (void)state;
    const char *bad = "name = \"g\"\nvncpasswd = \"unterminated-secret\nmemory = 1\n";
    struct xg_buf out = {0};
    size_t n;
    assert_int_equal(xg_redact_xlcfg(S(bad), &out, &n), 0);
    assert_null(strstr(xg_buf_str(&out), "unterminated-secret"));
    struct xg_xlcfg c;
    struct xg_err e1, e2;
    assert_int_equal(xg_xlcfg_parse(S(bad), "g.cfg", &c, &e1), -1);
    assert_int_equal(xg_xlcfg_parse(out.data, out.len, "g.cfg", &c, &e2), -1);
    assert_string_equal(e1.msg, e2.msg);
    xg_buf_free(&out);
}

/* ---- xend-config.sxp ---- */

static void sxp_vncpasswd_becomes_set(void **state)
{
    (void)state;
    const char *t = "# (vncpasswd 'older-secret')\n(xend-relocation-server no)\n"
                    "(vncpasswd 'xend-secret')\n(vnc-listen '127.0.0.1')\n";
    struct xg_buf out = {0};
    size_t n;
    assert_int_equal(xg_redact_sxp(S(t), &out, &n), 0);
    assert_int_equal(n, 2);
    assert_null(strstr(xg_buf_str(&out), "secret"));
    struct xg_kvlist kv = {0};
    char **api = NULL;
    size_t napi = 0;
    struct xg_err err;
    assert_int_equal(xg_xend_config_parse(out.data, out.len, "x.sxp", &kv, &api, &napi, &err), 0);
    assert_string_equal(xg_kv_find(&kv, "vncpasswd", false)->value, "<set>");
    assert_int_equal(xg_kv_find(&kv, "vncpasswd", false)->line, 3);
    assert_string_equal(xg_kv_find(&kv, "vnc-listen", false)->value, "127.0.0.1");
    xg_kv_free(&kv);
    xg_buf_free(&out);
    /* empty stays empty (the check fails on it), a bare atom is replaced too */
    const char *u = "(vncpasswd '')\n(vncpasswd bare-secret (nested x))\n";
    assert_int_equal(xg_redact_sxp(S(u), &out, &n), 0);
    assert_string_equal(xg_buf_str(&out), "(vncpasswd '')\n(vncpasswd <set> (<set> <set>))\n");
    xg_buf_free(&out);
    /* a secret string over three lines keeps them: the next key stays on line 4 (fuzz_redact) */
    const char *m = "(vncpasswd 'one\ntwo\nthree')\n(vnc-listen '0.0.0.0')\n";
    assert_int_equal(xg_redact_sxp(S(m), &out, &n), 0);
    assert_string_equal(xg_buf_str(&out), "(vncpasswd '<set>\n\n')\n(vnc-listen '0.0.0.0')\n");
    assert_int_equal(xg_xend_config_parse(out.data, out.len, "x.sxp", &kv, &api, &napi, &err), 0);
    assert_int_equal(xg_kv_find(&kv, "vnc-listen", false)->line, 4);
    xg_kv_free(&kv);
    xg_buf_free(&out);
}

/* ---- xl list -l ---- */

static void json_console_passwords(void **state)
{
    (void)state;
    const char *t = "[{\"domid\": 3, \"config\": {\"c_info\": {\"name\": \"g\"}, \"b_info\": "
                    "{\"type.hvm\": {\"vnc\": {\"enable\": \"True\", \"passwd\": \"hvm-secret\"},"
                    " \"spice\": {\"passwd\": \"\"}}}, \"vfbs\": [{\"vnc\": {\"passwd\": "
                    "\"vfb-secret\"}}]}}]";
    struct xg_buf out = {0};
    size_t n;
    assert_int_equal(xg_redact_json(S(t), &out, &n), 0);
    assert_int_equal(n, 2);
    assert_null(strstr(xg_buf_str(&out), "secret"));
    assert_non_null(strstr(xg_buf_str(&out), "\"passwd\": \"<set>\""));
    assert_non_null(strstr(xg_buf_str(&out), "\"passwd\": \"\""));
    struct xg_domain *d = NULL;
    size_t nd = 0;
    struct xg_err err;
    assert_int_equal(xg_xllist_parse(out.data, out.len, "xl list -l", &d, &nd, &err), 0);
    assert_int_equal(nd, 1);
    assert_int_equal(d[0].domid, 3);
    free(d[0].name);
    free(d);
    xg_buf_free(&out);
    assert_int_equal(xg_redact_json(S("not json passwd=x"), &out, &n), 0);
    assert_null(strstr(xg_buf_str(&out), "passwd=x"));
    xg_buf_free(&out);
}

static void private_keys_are_recognised(void **state)
{
    (void)state;
    assert_true(xg_redact_is_private_key("/etc/xen/a.pem", S("-----BEGIN PRIVATE KEY-----\n")));
    assert_true(xg_redact_is_private_key("/etc/xen/x", S("-----BEGIN OPENSSH PRIVATE KEY-----")));
    assert_true(xg_redact_is_private_key("/etc/xen/x", S("-----BEGIN EC PRIVATE KEY-----")));
    assert_true(xg_redact_is_private_key("/etc/xen/tls.key", S("\x30\x82 binary")));
    assert_true(xg_redact_is_private_key("/etc/ssh/ssh_host_ed25519_key", S("")));
    assert_false(xg_redact_is_private_key("/etc/xen/ca.pem", S("-----BEGIN CERTIFICATE-----")));
    assert_false(xg_redact_is_private_key("/etc/ssh/ssh_host_ed25519_key.pub", S("ssh-ed25519")));
}

/* ---- XAPI's state.db ---- */

static const char DB[] =
    "<?xml version=\"1.0\"?>\n<database><manifest><pair key=\"generation_count\" "
    "value=\"7\"/></manifest>\n"
    "<table name=\"session\"><row ref=\"OpaqueRef:s1\" uuid=\"s-uuid\" "
    "this_user=\"OpaqueRef:u\" auth_user_sid=\"root\" session-secret=\"SESSION-SECRET\"/></table>\n"
    "<table name=\"pool\"><row ref=\"OpaqueRef:p\" uuid=\"p\" "
    "other_config=\"('pool-secret' . 'POOL-TOKEN')\"/></table>\n"
    "<table name=\"host\">\n"
    "<row ref=\"OpaqueRef:h2\" uuid=\"other\" https_only=\"true\" hostname=\"b\"/>\n"
    "<row ref=\"OpaqueRef:h1\" uuid=\"this\" https_only=\"false\" "
    "other_config=\"('iscsi_iqn' . 'x')\"/>\n"
    "<row name__label=\"no-uuid\"/>\n"
    "</table>\n<table name=\"secret\"><row uuid=\"q\" "
    "value=\"VALUE-SECRET\"/></table></database>\n";

static void xapi_db_reduced_to_host_rows(void **state)
{
    (void)state;
    struct xg_buf out = {0};
    size_t dropped;
    struct xg_err err;
    assert_int_equal(xg_xapi_db_reduce(S(DB), "state.db", &out, &dropped, &err), 0);
    const char *t = xg_buf_str(&out);
    assert_null(strstr(t, "SECRET"));
    assert_null(strstr(t, "POOL-TOKEN"));
    assert_null(strstr(t, "OpaqueRef"));
    assert_null(strstr(t, "manifest"));
    assert_int_equal(dropped, 4 + 2 + 2 + 1); /* 4 tables or manifest, 5 host fields */
    for (int pass = 0; pass < 3; pass++) {
        const char *uuid = pass == 0 ? "this" : pass == 1 ? "other" : "none";
        struct xg_kvlist a = {0}, b = {0};
        size_t ha, hb;
        char pa[512], pb[512];
        assert_int_equal(xg_xapi_db_parse(S(DB), "state.db", uuid, &a, &ha, pa, sizeof(pa), &err),
                         0);
        assert_int_equal(
            xg_xapi_db_parse(out.data, out.len, "state.db", uuid, &b, &hb, pb, sizeof(pb), &err),
            0);
        assert_int_equal(ha, hb);
        assert_string_equal(pa, pb);
        const struct xg_kv *ka = xg_kv_find(&a, "db:https_only", false);
        const struct xg_kv *kb = xg_kv_find(&b, "db:https_only", false);
        assert_true((ka == NULL) == (kb == NULL));
        if (ka)
            assert_string_equal(ka->value, kb->value);
        xg_kv_free(&a);
        xg_kv_free(&b);
    }
    xg_buf_free(&out);
    /* the row without a kept field is not made empty (that is another verdict) */
    assert_int_equal(xg_xapi_db_reduce(S("<database><table name=\"host\"><row a=\"1\"/></table>"
                                         "</database>"),
                                       "s", &out, &dropped, &err),
                     0);
    struct xg_kvlist kv = {0};
    size_t h;
    char problem[256];
    assert_int_equal(
        xg_xapi_db_parse(out.data, out.len, "s", NULL, &kv, &h, problem, sizeof(problem), &err), 0);
    assert_string_equal(problem, "");
    xg_kv_free(&kv);
    xg_buf_free(&out);
    assert_int_equal(xg_xapi_db_reduce(S("<!DOCTYPE x [<!ENTITY e \"secret\">]><database/>"), "s",
                                       &out, &dropped, &err),
                     -1);
    assert_string_equal(err.msg, "s:1:1: not a XAPI database: a DOCTYPE (xapi writes none; "
                                 "entities refused)");
    xg_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pw_field_becomes_its_state),
        cmocka_unit_test(colon_files_keep_every_state),
        cmocka_unit_test(colon_bad_line_fails_the_same),
        cmocka_unit_test(colon_long_field),
        cmocka_unit_test(xlcfg_passwords_become_set),
        cmocka_unit_test(xlcfg_broken_fails_at_the_same_place),
        cmocka_unit_test(sxp_vncpasswd_becomes_set),
        cmocka_unit_test(json_console_passwords),
        cmocka_unit_test(private_keys_are_recognised),
        cmocka_unit_test(xapi_db_reduced_to_host_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
