/*
 * test_tunnel.c — the tunnel's pure parts: the request record, the flag
 * allowlist and the receive command's argv, fingerprints, the allowlist
 * against certificates made by keys.c and by hand (CN vs DNS SANs), domain
 * names, and the log's one escaping rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tunnel/log.h"
#include "tunnel/tunnel.h"

static void request_roundtrip(void **state)
{
    char *argv[] = {"xl", "-t", "migrate-receive", "-e"};
    uint8_t buf[XG_TUNNEL_REQ_MAX];
    struct xg_err err;
    struct xg_request r;
    int n = xg_request_encode("guest1", 4, argv, buf, sizeof(buf), &err);
    assert_true(n > 0);
    for (int cut = 0; cut < n; cut++) { /* every prefix asks for more, never fails */
        assert_int_equal(xg_request_decode(buf, (size_t)cut, &r, &err), 0);
        xg_request_free(&r);
    }
    assert_int_equal(xg_request_decode(buf, (size_t)n, &r, &err), n);
    assert_string_equal(r.domain, "guest1");
    assert_int_equal(r.argc, 4);
    assert_string_equal(r.argv[2], "migrate-receive");
    xg_request_free(&r);
}

static void request_rejects(void **state)
{
    struct xg_err err;
    struct xg_request r;
    uint8_t bad[] = {'X', 'G', 'T', '2', 0, 0, 0};
    assert_int_equal(xg_request_decode(bad, sizeof(bad), &r, &err), -1);
    uint8_t many[] = {'X', 'G', 'T', '1', 200, 0, 0};
    assert_int_equal(xg_request_decode(many, sizeof(many), &r, &err), -1);
    assert_non_null(strstr(err.msg, "arguments"));
    uint8_t nul[] = {'X', 'G', 'T', '1', 1, 0, 0, 0, 3, 'a', 0, 'b'};
    assert_int_equal(xg_request_decode(nul, sizeof(nul), &r, &err), -1);
    xg_request_free(&r);
    uint8_t longarg[] = {'X', 'G', 'T', '1', 1, 0, 0, 0x10, 0x00};
    assert_int_equal(xg_request_decode(longarg, sizeof(longarg), &r, &err), -1);
}

static int flags(const char *line, struct xg_recv_flags *f, char *why)
{
    char *dup = strdup(line), *argv[40], *save = NULL;
    size_t n = 0;
    for (char *w = strtok_r(dup, " ", &save); w; w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    struct xg_err err = {{0}};
    int rc = xg_recv_flags_parse(n, argv, f, &err);
    strcpy(why, err.msg);
    free(dup);
    return rc;
}

static void flags_allowed(void **state)
{
    struct xg_recv_flags f;
    char why[XG_ERR_MAX];
    assert_int_equal(flags("xl -t -T -vvv migrate-receive -e -d -p", &f, why), 0);
    assert_true(f.tty && f.timestamps && f.no_daemon && f.debug && f.pause);
    assert_int_equal(f.verbose, 3);
    assert_int_equal(flags("xl migrate-receive", &f, why), 0);
    assert_false(f.tty || f.no_daemon);
    assert_int_equal(xg_recv_flags_parse(0, NULL, &f, NULL), 0);
}

static void flags_refused(void **state)
{
    static const char *const bad[][2] = {
        {"xl migrate-receive -r", "'-r' is not allowed"},
        {"xl migrate-receive --colo", "'--colo'"},
        {"xl migrate-receive --coloft-script /x", "'--coloft-script'"},
        {"xl migrate-receive --userspace-colo-proxy", "not allowed"},
        {"xl migrate-receive -e /x", "'/x'"},
        {"xl -x migrate-receive", "xl option '-x'"},
        {"xl create /x.cfg", "xl option 'create'"},
        {"xl -t", "not 'xl migrate-receive'"},
        {"sh -c id", "'sh' is not allowed"},
        {"xl -vvvvvvvvv migrate-receive", "'-vvvvvvvvv'"},
        {"xl migrate-receive -ed", "'-ed'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct xg_recv_flags f;
        char why[XG_ERR_MAX];
        assert_int_equal(flags(bad[i][0], &f, why), -1);
        if (!strstr(why, bad[i][1]))
            fail_msg("%s: %s", bad[i][0], why);
    }
}

static char *joined(char **argv)
{
    static char out[512];
    out[0] = 0;
    for (size_t i = 0; argv[i]; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", argv[i]);
    return out;
}

static void recv_argv(void **state)
{
    struct xg_recv_flags f = {.tty = true, .verbose = 2, .no_daemon = true, .pause = true};
    struct xg_err err;
    char **argv;
    assert_int_equal(xg_recv_argv("xl migrate-receive", &f, &argv, &err), 0);
    assert_string_equal(joined(argv), "xl -t -vv migrate-receive -e -p");
    xg_argv_free(argv);
    assert_int_equal(xg_recv_argv("/usr/bin/recv  --x", &f, &argv, &err), 0);
    assert_string_equal(joined(argv), "/usr/bin/recv --x -t -vv -e -p");
    xg_argv_free(argv);
    struct xg_recv_flags none = {0};
    assert_int_equal(xg_recv_argv("xl migrate-receive", &none, &argv, &err), 0);
    assert_string_equal(joined(argv), "xl migrate-receive");
    xg_argv_free(argv);
    assert_int_equal(xg_recv_argv("   ", &none, &argv, &err), -1);
}

static void fingerprints(void **state)
{
    char out[72];
    struct xg_err err;
    const char *hex = "AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
                      "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89";
    char in[200];
    snprintf(in, sizeof(in), "SHA256:%s", hex);
    assert_int_equal(xg_fingerprint_normalize(in, out, &err), 0);
    assert_string_equal(out,
                        "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_int_equal(xg_fingerprint_normalize("sha256:abcd", out, &err), -1);
    assert_int_equal(xg_fingerprint_normalize("md5:abcd", out, &err), -1);
    assert_int_equal(
        xg_fingerprint_normalize(
            "sha256:zzcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", out, &err),
        -1);
    assert_true(xg_domain_name_ok("guest-1.example"));
    assert_false(xg_domain_name_ok("two words"));
    assert_false(xg_domain_name_ok(""));
    assert_false(xg_domain_name_ok("a\"b"));
}

/* issue 12, finding 11: a domain name reaches the receive command's environment */
static void domain_names(void **state)
{
    static const char *const good[] = {
        "guest-1.example_2", "G", "a.b-c_d",
        "0123456789012345678901234567890123456789012345678901234567890123"};
    static const char *const bad[] = {
        "a;b",   "x$(id)",   "`id`",
        "a|b",   "a&b",      "a>b",
        "a/b",   "a'b",      "a\\b",
        "a\nb",  "\xc3\xbc", "a*",
        "~root", "-",        "01234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!xg_domain_name_ok(good[i]))
            fail_msg("refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (xg_domain_name_ok(bad[i]) && strcmp(bad[i], "-"))
            fail_msg("accepted %s", bad[i]);
}

/* issue 12, finding 8: no value can end its field or start another */
static void log_escaping(void **state)
{
    char out[256];
    xg_log_escape("a.test", false, out, sizeof(out));
    assert_string_equal(out, "a.test");
    xg_log_escape("x\" result=ok peer=a.test reason=\"", false, out, sizeof(out));
    assert_string_equal(out, "\"x\\\" result=ok peer=a.test reason=\\\"\"");
    xg_log_escape("back\\slash\nnew\x1b[0m\xff", false, out, sizeof(out));
    assert_string_equal(out, "\"back\\\\slash\\x0anew\\x1b[0m\\xff\"");
    xg_log_escape("", false, out, sizeof(out));
    assert_string_equal(out, "\"\"");
    xg_log_escape("ok", true, out, sizeof(out));
    assert_string_equal(out, "\"ok\"");
    /* cut short: never inside an escape, always closed */
    for (size_t cap = 3; cap < 12; cap++) {
        size_t n = xg_log_escape("\"\"\"\"\"\"", false, out, cap);
        assert_int_equal(n, strlen(out));
        assert_true(n < cap);
        assert_true(out[0] == '"' && out[n - 1] == '"');
        size_t bs = 0;
        for (size_t i = 1; i + 1 < n; i++)
            bs += out[i] == '\\';
        assert_int_equal(bs * 2, n - 2); /* whole \" pairs only */
    }
    assert_int_equal(xg_log_escape("\"", false, out, 2), 0); /* no room for the quotes */
    assert_string_equal(out, "");
    struct xg_log l;
    xg_log_begin(&l, "refused");
    xg_log_kv(&l, "addr", "192.0.2.1:5");
    xg_log_kvq(&l, "reason", "certificate /CN=x\" result=ok");
    assert_string_equal(xg_log_text(&l), "xenguard-tunneld: refused addr=192.0.2.1:5 "
                                         "reason=\"certificate /CN=x\\\" result=ok\"");
}

/* a self-signed certificate with this CN and subjectAltName (NULL: none) */
static X509 *cert_with(const char *cn, const char *san)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(key);
    assert_non_null(x);
    X509_set_version(x, 2);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    if (san) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
        assert_non_null(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    return x;
}

/* issue 12, finding 11: with DNS SANs, the CN is not one of the certificate's names */
static void cn_only_without_dns_sans(void **state)
{
    const char *names[] = {"a.test"};
    struct xg_tunnel_opts o = {.names = names, .name_count = 1};
    char who[256];
    X509 *both = cert_with("a.test", "DNS:evil.test"), *cn = cert_with("a.test", NULL),
         *ip = cert_with("a.test", "IP:192.0.2.7"), *san = cert_with("x", "DNS:A.test");
    assert_false(xg_allow_match(&o, both, who, sizeof(who)));
    assert_true(xg_allow_match(&o, cn, who, sizeof(who)));
    assert_true(xg_allow_match(&o, ip, who, sizeof(who))); /* no DNS names: the CN counts */
    assert_true(xg_allow_match(&o, san, who, sizeof(who)));
    assert_string_equal(who, "A.test");
    X509_free(both);
    X509_free(cn);
    X509_free(ip);
    X509_free(san);
}

static X509 *load(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s.pem", dir, name);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

static void keys_and_allowlist(void **state)
{
    char dir[] = "/tmp/xg_test_tunnel.XXXXXX", fp[72], fp2[72], who[256];
    struct xg_err err;
    bool created;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(xg_keys_ca(dir, "test CA", 30, &created, &err), 0);
    assert_true(created);
    assert_int_equal(xg_keys_ca(dir, "test CA", 30, &created, &err), 0);
    assert_false(created); /* reused, never replaced */
    const char *sans[] = {"alias.test", "192.0.2.9"};
    assert_int_equal(xg_keys_host(dir, "h1.test", sans, 2, 30, false, fp, &err), 0);
    assert_int_equal(xg_keys_host(dir, "h1.test", NULL, 0, 30, false, fp2, &err), -1);
    assert_non_null(strstr(err.msg, "--force"));
    assert_int_equal(xg_keys_host(dir, "../evil", NULL, 0, 30, false, fp2, &err), -1);

    X509 *x = load(dir, "h1.test"), *ca = load(dir, "ca");
    char got[72];
    assert_int_equal(xg_cert_fingerprint(x, got), 0);
    assert_string_equal(got, fp);
    assert_int_equal(X509_check_ip_asc(x, "192.0.2.9", 0), 1);

    const char *names[] = {"other.test", "ALIAS.test"};
    struct xg_tunnel_opts o = {.names = names, .name_count = 2};
    assert_true(xg_allow_match(&o, x, who, sizeof(who)));
    assert_string_equal(who, "alias.test");
    o.name_count = 1;
    assert_false(xg_allow_match(&o, x, who, sizeof(who)));
    const char *fps[] = {fp};
    o.fingerprints = fps;
    o.fingerprint_count = 1;
    assert_true(xg_allow_match(&o, x, who, sizeof(who)));
    assert_string_equal(who, fp);
    assert_false(xg_allow_match(&o, ca, who, sizeof(who)));

    /* rotation: a reissued certificate gets a new fingerprint */
    assert_int_equal(xg_keys_host(dir, "h1.test", NULL, 0, 30, true, fp2, &err), 0);
    assert_string_not_equal(fp, fp2);
    X509_free(x);
    X509_free(ca);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_roundtrip),  cmocka_unit_test(request_rejects),
        cmocka_unit_test(flags_allowed),      cmocka_unit_test(flags_refused),
        cmocka_unit_test(recv_argv),          cmocka_unit_test(fingerprints),
        cmocka_unit_test(keys_and_allowlist), cmocka_unit_test(domain_names),
        cmocka_unit_test(log_escaping),       cmocka_unit_test(cn_only_without_dns_sans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
