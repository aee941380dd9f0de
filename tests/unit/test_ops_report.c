/*
 * test_ops_report.c — what the scheduled audit leaves behind: the Prometheus
 * textfile (src/report/prometheus.c: one gauge per check, counts per
 * severity and status, the timestamp; written atomically) and the warnings
 * for waivers that waive nothing (src/report/waivers.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report.h"

static void prometheus_text(void **state)
{
    struct xg_result r[3] = {{0}};
    r[0].def = xg_check_find("XG-SSH-002");
    r[0].status = XG_STATUS_FAIL;
    r[1].def = xg_check_find("XG-USR-002");
    r[1].status = XG_STATUS_PASS;
    r[2].def = xg_check_find("XG-SSH-003");
    r[2].status = XG_STATUS_WAIVED;
    struct xg_host h = {0};
    struct xg_audit a = {&h, NULL, XG_SEV_HIGH, false, r, 3};
    struct xg_buf b = {0};
    xg_report_prometheus(&a, 1764547200, &b);
    const char *t = xg_buf_str(&b);
    assert_non_null(strstr(t, "# TYPE xenguard_check_status gauge\n"
                              "xenguard_check_status{id=\"XG-SSH-002\",severity=\"high\"} 1\n"
                              "xenguard_check_status{id=\"XG-USR-002\",severity=\"critical\"} 0\n"
                              "xenguard_check_status{id=\"XG-SSH-003\",severity=\"medium\"} 4\n"));
    assert_non_null(strstr(t, "\nxenguard_checks{severity=\"high\",status=\"fail\"} 1\n"));
    assert_non_null(strstr(t, "\nxenguard_checks{severity=\"critical\",status=\"pass\"} 1\n"));
    assert_non_null(strstr(t, "\nxenguard_checks{severity=\"low\",status=\"n/a\"} 0\n"));
    assert_non_null(strstr(t, "\n# TYPE xenguard_audit_timestamp_seconds gauge\n"
                              "xenguard_audit_timestamp_seconds 1764547200\n"));
    /* 5 severities x 5 statuses, each once */
    size_t n = 0;
    for (const char *p = t; (p = strstr(p, "\nxenguard_checks{")); p++)
        n++;
    assert_int_equal(n, 25);
    assert_int_equal(t[strlen(t) - 1], '\n');

    char dir[] = "/tmp/xg-prom.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/xenguard.prom", dir);
    struct xg_err err = {{0}};
    assert_int_equal(xg_report_prometheus_write(&a, path, 1764547200, &err), 0);
    FILE *f = fopen(path, "r");
    char back[8192];
    size_t got = fread(back, 1, sizeof(back) - 1, f);
    fclose(f);
    back[got] = '\0';
    assert_string_equal(back, t);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* node_exporter reads it as another user */
    unlink(path);
    snprintf(path, sizeof(path), "%s/no/such/dir.prom", dir);
    assert_int_equal(xg_report_prometheus_write(&a, path, 0, &err), -1);
    assert_non_null(strstr(err.msg, "no/such/dir.prom"));
    rmdir(dir);
    xg_buf_free(&b);
}

static void waivers_that_waive_nothing(void **state)
{
    struct xg_waivers w;
    struct xg_err err;
    const char *t = "XG-SSH-002 2099-01-01 cloud image, being rebuilt\n"
                    "XG-USR-002 2099-01-01 forgotten\n"
                    "XG-FW-001 2099-01-01 no firewall yet\n"
                    "XG-SSH-002 2099-01-01 twice\n";
    assert_int_equal(xg_waivers_parse(t, strlen(t), "waivers.txt", &w, &err), 0);
    struct xg_result r[3] = {{0}};
    r[0].def = xg_check_find("XG-SSH-002");
    r[0].status = XG_STATUS_FAIL;
    r[1].def = xg_check_find("XG-USR-002");
    r[1].status = XG_STATUS_PASS;
    r[2].def = xg_check_find("XG-FW-001");
    xg_na(&r[2], "skipped (--skip XG-FW-001)");
    struct xg_host h = {0};
    struct xg_audit a = {&h, NULL, XG_SEV_HIGH, false, r, 3};
    xg_audit_apply_waivers(&a, &w, "2026-12-01");
    assert_int_equal(r[0].status, XG_STATUS_WAIVED);
    struct xg_warnings warn = {0};
    xg_waivers_unused(&a, &w, &warn);
    assert_int_equal(warn.count, 3);
    assert_string_equal(warn.lines[0], "waivers.txt:2:1: warning: XG-USR-002 passes: remove its "
                                       "waiver");
    assert_non_null(strstr(warn.lines[1], "waivers.txt:3:1: warning: XG-FW-001 is n/a (skipped"));
    assert_string_equal(warn.lines[2], "waivers.txt:4:1: warning: XG-SSH-002 is waived already at "
                                       "line 1: this line is unused");
    xg_warnings_free(&warn);
    for (size_t i = 0; i < 3; i++)
        xg_result_free(&r[i]);
    xg_waivers_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prometheus_text),
        cmocka_unit_test(waivers_that_waive_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
