/*
 * test_tunnel.c — the tunnel's pure parts: the request record, the flag
 * allowlist and the receive command's argv, fingerprints, and the allowlist
 * against certificates made by keys.c.
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
        cmocka_unit_test(keys_and_allowlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
