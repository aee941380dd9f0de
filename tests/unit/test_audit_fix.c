/*
 * test_audit_fix.c — the audit's fix lines (xg_fix, issue 18 item 2): built
 * from the evidence, they name the account, unit, group, interface and file
 * a real root holds (tests/roots/, built by tests/roots/build.py), point at
 * xenguard apply / harden where those do the job, quote what the shell must
 * not read as syntax, and show in the text, JSON and JUnit reports; and
 * audit --quiet keeps only the failures, errors and the summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/check.h"
#include "probe/probe.h"
#include "report/report.h"

/* A root of tests/roots/ built into a temporary directory and probed. */
struct built {
    char dir[64];
    struct xg_host host;
};

static void build_root(const char *name, struct built *b)
{
    char cmd[512];
    const char *top = getenv("XG_ROOT") ? getenv("XG_ROOT") : ".";
    snprintf(b->dir, sizeof(b->dir), "/tmp/xg-fix.XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/roots/build.py %s %s/root >/dev/null",
             top, name, b->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/root", b->dir);
    struct xg_err err = {{0}};
    assert_int_equal(xg_probe_host(cmd, &b->host, &err), 0);
}

static void drop_root(struct built *b)
{
    char cmd[128];
    xg_host_free(&b->host);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
    assert_int_equal(system(cmd), 0);
}

static void run(const struct built *b, const char *id, struct xg_result *r)
{
    const struct xg_check_def *def = xg_check_find(id);
    assert_non_null(def);
    xg_check_run(def, &b->host, NULL, r);
}

static bool has_fix(const struct xg_result *r, const char *line)
{
    for (size_t i = 0; i < r->fix_count; i++)
        if (!strcmp(r->fix[i], line))
            return true;
    return false;
}

static void print_fixes(const struct xg_result *r)
{
    for (size_t i = 0; i < r->fix_count; i++)
        fprintf(stderr, "  %s fix: %s\n", r->def->id, r->fix[i]);
}

/* expect ID to fail on the root with this fix line among its fixes */
static void expect_fix(const struct built *b, const char *id, const char *line)
{
    struct xg_result r;
    run(b, id, &r);
    assert_int_equal(r.status, XG_STATUS_FAIL);
    if (!has_fix(&r, line)) {
        print_fixes(&r);
        fail_msg("%s: no fix line '%s'", id, line);
    }
    for (size_t i = 0; i < r.fix_count; i++)
        assert_null(strstr(r.fix[i], "nft -f")); /* never the unguarded load */
    xg_result_free(&r);
}

static void debian_names_its_account_and_interfaces(void **state)
{
    struct built b;
    build_root("debian12-xl", &b);
    /* the installer's user "admin" (tests/roots/debian12-xl.expected) */
    expect_fix(&b, "XG-USR-001", "usermod -L -s /usr/sbin/nologin admin");
    /* eth0 is the root's interface; all/default are the kernel's */
    expect_fix(&b, "XG-NET-001", "sysctl -w net.ipv4.conf.eth0.rp_filter=1");
    expect_fix(&b, "XG-NET-001", "sysctl -w net.ipv4.conf.default.rp_filter=1");
    expect_fix(&b, "XG-NET-001", "xenguard harden sysctl -c /etc/xenguard/xenguard.conf --write");
    expect_fix(&b, "XG-NET-003", "sysctl -w net.ipv6.conf.eth0.accept_redirects=0");
    /* the firewall: xenguard apply, guarded and rolled back unless confirmed */
    expect_fix(&b, "XG-FW-001", "xenguard apply -c /etc/xenguard/xenguard.conf");
    expect_fix(&b, "XG-FW-001", "xenguard confirm");
    expect_fix(&b, "XG-MIG-002", "xenguard apply -c /etc/xenguard/xenguard.conf");
    /* sshd: the drop-in xenguard writes, then Debian's unit name */
    expect_fix(&b, "XG-SSH-002", "xenguard harden sshd -c /etc/xenguard/xenguard.conf --diff");
    expect_fix(&b, "XG-SSH-002", "systemctl reload ssh");
    /* Xen 4.17: bootloader_restrict is ignored, xl's environment is the fix */
    expect_fix(&b, "XG-XL-003",
               "echo 'export LIBXL_BOOTLOADER_RESTRICT=1' >> /etc/default/xendomains");
    /* a pass has no fix lines */
    struct xg_result r;
    run(&b, "XG-USR-002", &r);
    assert_int_equal(r.status, XG_STATUS_PASS);
    assert_int_equal(r.fix_count, 0);
    xg_result_free(&r);
    drop_root(&b);
}

static void xcpng_names_its_unit_and_host(void **state)
{
    struct built b;
    build_root("xcpng82", &b);
    expect_fix(&b, "XG-SVC-003", "systemctl disable --now rpcbind.service");
    expect_fix(&b, "XG-SVC-001", "systemctl disable --now rpcbind.service");
    /* this host's row of XAPI's database (INSTALLATION_UUID) */
    expect_fix(&b, "XG-XAPI-001",
               "xe host-param-set uuid=3f2e1d0c-b9a8-4765-8432-10fedcba9876 https-only=true");
    expect_fix(&b, "XG-SSH-001", "systemctl reload sshd"); /* CentOS-based: sshd.service */
    drop_root(&b);
}

/* CentOS 6 has no systemd (no units were read): sshd is reloaded the SysV way */
static void sysv_host_reloads_with_service(void **state)
{
    struct built b;
    build_root("centos6-xend", &b);
    expect_fix(&b, "XG-SSH-002", "service sshd reload");
    expect_fix(&b, "XG-SSH-002", "xenguard harden sshd -c /etc/xenguard/xenguard.conf --write");
    drop_root(&b);
}

static void qubes_names_its_user_and_group(void **state)
{
    struct built b;
    build_root("qubes-dom0", &b);
    expect_fix(&b, "XG-USR-003", "gpasswd -d user wheel");
    expect_fix(&b, "XG-USR-001", "usermod -L -s /sbin/nologin user"); /* Fedora's nologin */
    drop_root(&b);
}

static void words_are_quoted_for_the_shell(void **state)
{
    assert_string_equal(xg_sh("rpcbind.service").s, "rpcbind.service");
    assert_string_equal(xg_sh("getty@tty1.service").s, "getty@tty1.service");
    assert_string_equal(xg_sh("a b").s, "'a b'");
    assert_string_equal(xg_sh("$(reboot)").s, "'$(reboot)'");
    assert_string_equal(xg_sh("x';reboot;'").s, "'x'\\'';reboot;'\\'''");
    assert_string_equal(xg_sh("").s, "''");
    /* a line given twice is kept once; a hostile account name stays one word */
    struct xg_result r = {0};
    r.def = xg_check_find("XG-USR-001");
    xg_fix(&r, "usermod -L %s", xg_sh("ev il;reboot").s);
    xg_fix(&r, "usermod -L %s", xg_sh("ev il;reboot").s);
    assert_int_equal(r.fix_count, 1);
    assert_string_equal(r.fix[0], "usermod -L 'ev il;reboot'");
    xg_result_free(&r);
    assert_null(r.fix);
    assert_int_equal(r.fix_count, 0);
}

/* Three results: a failure with fix lines, a pass, an error. */
static void three(struct xg_result r[3])
{
    memset(r, 0, 3 * sizeof(*r));
    r[0].def = xg_check_find("XG-SVC-003");
    r[0].status = XG_STATUS_PASS;
    xg_failf(&r[0], "enabled: cups.service");
    xg_fix(&r[0], "systemctl disable --now cups.service");
    r[1].def = xg_check_find("XG-USR-002");
    r[1].status = XG_STATUS_PASS;
    xg_evidence(&r[1], "no empty password");
    r[2].def = xg_check_find("XG-SSH-002");
    xg_error(&r[2], "/etc/ssh/sshd_config:3: bad line");
}

static void reports_carry_the_fix_lines(void **state)
{
    struct xg_result r[3];
    char root[] = "/srv/captured";
    struct xg_host h = {.root = root};
    three(r);
    struct xg_audit a = {&h, NULL, XG_SEV_HIGH, false, r, 3};
    a.started = 1764547200; /* 2025-12-01T00:00:00Z */
    a.duration_ms = 42;
    struct xg_buf t = {0};
    xg_report_text(&a, false, &t);
    assert_non_null(strstr(xg_buf_str(&t), "         - enabled: cups.service\n"
                                           "         fix: systemctl disable --now cups.service\n"
                                           "         remediation: "));
    assert_non_null(strstr(xg_buf_str(&t), "PASS   XG-USR-002"));
    xg_buf_free(&t);

    char *j = xg_report_json(&a);
    assert_non_null(j);
    assert_non_null(
        strstr(j, "\"fix\": [\n        \"systemctl disable --now cups.service\"\n      ]"));
    assert_non_null(strstr(j, "\"timestamp\": \"2025-12-01T00:00:00Z\""));
    assert_non_null(strstr(j, "\"duration_ms\": 42"));
    assert_non_null(strstr(j,
                           "\"fail_by_severity\": {\n      \"critical\": 0,\n      \"high\": 0,\n"
                           "      \"medium\": 1,"));
    free(j);

    struct xg_buf x = {0};
    xg_report_junit(&a, &x);
    assert_false(xg_buf_failed(&x));
    assert_non_null(strstr(xg_buf_str(&x), "enabled: cups.service\n"
                                           "fix: systemctl disable --now cups.service\n"
                                           "remediation: "));
    xg_buf_free(&x);

    /* --quiet: the failure and the error, no pass, no header, the summary */
    a.quiet = true;
    struct xg_buf q = {0};
    xg_report_text(&a, false, &q);
    const char *s = xg_buf_str(&q);
    assert_true(!strncmp(s, "  FAIL   XG-SVC-003", 19));
    assert_non_null(strstr(s, "fix: systemctl disable --now cups.service"));
    assert_non_null(strstr(s, "ERROR  XG-SSH-002"));
    assert_null(strstr(s, "XG-USR-002"));
    assert_null(strstr(s, "xenguard " XG_VERSION " audit of"));
    assert_non_null(strstr(s, "\nsummary: 1 passed, 1 failed"));
    xg_buf_free(&q);
    for (size_t i = 0; i < 3; i++)
        xg_result_free(&r[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debian_names_its_account_and_interfaces),
        cmocka_unit_test(xcpng_names_its_unit_and_host),
        cmocka_unit_test(sysv_host_reloads_with_service),
        cmocka_unit_test(qubes_names_its_user_and_group),
        cmocka_unit_test(words_are_quoted_for_the_shell),
        cmocka_unit_test(reports_carry_the_fix_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
