/*
 * test_probe_versions.c — the probe's small readers behind the version-aware
 * and dual-stack verdicts: ss's v6only per inode, OpenSSH banners, dpkg
 * status, version numbers, and XAPI's state.db (this host's row of a pool,
 * hostile XML with its line). Host-model helpers that decide by them too.
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

static void ss_v6only_by_inode(void **state)
{
    struct xg_socket s[3] = {
        {.family = 6, .inode = 11}, {.family = 6, .inode = 12}, {.family = 4, .inode = 13}};
    const char *t = "tcp LISTEN 0 5 *:4002 *:* users:((\"socat\",pid=1,fd=5)) ino:11 sk:2 "
                    "v6only:0 <->\n"
                    "tcp LISTEN 0 5 [::]:4001 [::]:* ino:12 sk:3 cgroup:/ v6only:1 <->\n"
                    "tcp LISTEN 0 5 0.0.0.0:22 0.0.0.0:* ino:13 sk:4 <->\n"
                    "garbage ino:x v6only:7\n";
    size_t n;
    assert_int_equal(xg_ss_v6only_apply(S(t), s, 3, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].v6only, XG_V6ONLY_NO);
    assert_int_equal(s[1].v6only, XG_V6ONLY_YES);
    assert_int_equal(s[2].v6only, XG_V6ONLY_UNKNOWN);
}

static void dual_stack_rule(void **state)
{
    struct xg_host h = {.bindv6only = -1};
    struct xg_socket any6 = {.family = 6, .addr = {.family = 6, .len = 128}};
    struct xg_socket one6 = any6;
    one6.addr.addr[15] = 1;
    char why[160];
    assert_true(xg_socket_dual_stack(&h, &any6, why, sizeof(why))); /* Linux's default */
    assert_non_null(strstr(why, "bindv6only = 0"));
    assert_false(xg_socket_dual_stack(&h, &one6, NULL, 0)); /* ::1 is not a wildcard */
    h.bindv6only = 1;
    assert_false(xg_socket_dual_stack(&h, &any6, why, sizeof(why)));
    any6.v6only = XG_V6ONLY_NO; /* ss wins over the sysctl */
    assert_true(xg_socket_dual_stack(&h, &any6, why, sizeof(why)));
    assert_non_null(strstr(why, "v6only:0"));
}

static void versions_and_banners(void **state)
{
    int a, b;
    assert_int_equal(xg_version_parse("4.17.3-pre", &a, &b), 0);
    assert_int_equal(a * 100 + b, 417);
    assert_int_equal(xg_version_parse("6.6p1", &a, &b), 0);
    assert_int_equal(a * 100 + b, 606);
    assert_int_equal(xg_version_parse("12", &a, &b), -1);
    assert_int_equal(xg_version_parse("x4.1", &a, &b), -1);
    char *v = xg_openssh_banner("unknown option -- V\nOpenSSH_7.4p1, OpenSSL 1.0.2k-fips\n");
    assert_string_equal(v, "7.4p1");
    free(v);
    v = xg_openssh_banner("OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19");
    assert_string_equal(v, "9.2p1");
    free(v);
    assert_null(xg_openssh_banner("Dropbear v2022.83"));
    assert_null(xg_openssh_banner(NULL));
}

static void dpkg_status(void **state)
{
    const char *t =
        "Package: openssh-server\nStatus: deinstall ok config-files\nVersion: 1:8.4p1-5\n\n"
        "Package: openssh-server-extra\nStatus: install ok installed\nVersion: 9.9\n\n"
        "Package: xen-utils-common\nStatus: install ok installed\n"
        "Version: 4.17.7+13-g2445b30a44-0+deb12u1\n\n"
        "Package: openssh-client\nStatus: install ok installed\nVersion: 1:9.2p1-2\n";
    assert_null(xg_dpkg_version(S(t), "openssh-server")); /* removed, configs left */
    char *v = xg_dpkg_version(S(t), "xen-utils-common");
    assert_string_equal(v, "4.17.7+13-g2445b30a44-0+deb12u1");
    free(v);
    v = xg_dpkg_version(S(t), "openssh-client");
    assert_string_equal(v, "9.2p1-2"); /* the epoch dropped */
    free(v);
}

static const char *POOL =
    "<?xml version=\"1.0\"?>\n<database><manifest/>\n<table name=\"host\">\n"
    "<row ref=\"OpaqueRef:2\" uuid=\"other\" https_only=\"true\"/>\n"
    "<row ref=\"OpaqueRef:1\" uuid=\"this\" https_only=\"false\" hostname=\"a\"/>\n"
    "</table></database>\n";

static void xapi_db_this_hosts_row(void **state)
{
    struct xg_kvlist kv = {0};
    struct xg_err e;
    size_t hosts;
    char problem[256];
    assert_int_equal(
        xg_xapi_db_parse(S(POOL), "state.db", "this", &kv, &hosts, problem, sizeof(problem), &e),
        0);
    assert_int_equal(hosts, 2);
    assert_string_equal(problem, "");
    const struct xg_kv *h = xg_kv_find(&kv, "db:https_only", false);
    assert_non_null(h);
    assert_string_equal(h->value, "false"); /* not the other member's "true", first in the file */
    assert_int_equal(h->line, 5);
    xg_kv_free(&kv);
    /* a pool and no inventory: no row is this host's */
    assert_int_equal(
        xg_xapi_db_parse(S(POOL), "state.db", NULL, &kv, &hosts, problem, sizeof(problem), &e), 0);
    assert_int_equal(kv.count, 0);
    assert_non_null(strstr(problem, "2 host rows"));
    /* a uuid no row has */
    assert_int_equal(
        xg_xapi_db_parse(S(POOL), "state.db", "gone", &kv, &hosts, problem, sizeof(problem), &e),
        0);
    assert_int_equal(kv.count, 0);
    assert_non_null(strstr(problem, "gone"));
}

static void xapi_db_hostile(void **state)
{
    struct xg_kvlist kv = {0};
    struct xg_err e;
    size_t hosts;
    char problem[256];
    const char *bad = "<database>\n<table name=\"host\">\n<row uuid=\"a\" https_only=\"tr\n";
    assert_int_equal(xg_xapi_db_parse(S(bad), "/var/lib/xcp/state.db", "a", &kv, &hosts, problem,
                                      sizeof(problem), &e),
                     -1);
    assert_non_null(strstr(e.msg, "/var/lib/xcp/state.db:"));
    assert_non_null(strstr(e.msg, "not a XAPI database"));
    assert_int_equal(kv.count, 0);
    const char *bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY a \"aaaa\">]>\n"
                       "<database><table name=\"host\"><row uuid=\"&a;\"/></table></database>";
    assert_int_equal(
        xg_xapi_db_parse(S(bomb), "s.db", "aaaa", &kv, &hosts, problem, sizeof(problem), &e), -1);
    assert_non_null(strstr(e.msg, "s.db:2:"));
    assert_non_null(strstr(e.msg, "DOCTYPE"));
    const char *other = "<notes><table name=\"host\"/></notes>";
    assert_int_equal(
        xg_xapi_db_parse(S(other), "s.db", NULL, &kv, &hosts, problem, sizeof(problem), &e), -1);
    assert_non_null(strstr(e.msg, "<database>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ss_v6only_by_inode),     cmocka_unit_test(dual_stack_rule),
        cmocka_unit_test(versions_and_banners),   cmocka_unit_test(dpkg_status),
        cmocka_unit_test(xapi_db_this_hosts_row), cmocka_unit_test(xapi_db_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
