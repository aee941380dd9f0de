/*
 * prometheus.c — the audit as a Prometheus textfile-collector file.
 *
 * node_exporter's textfile collector reads every *.prom file in its
 * directory on each scrape, so the file is written whole or not at all
 * (xg_file_write_atomic: a temporary name that does not end in .prom, then
 * rename). The text exposition format, version 0.0.4:
 *
 *   xenguard_check_status{id,severity}    0 pass, 1 fail, 2 n/a, 3 error, 4 waived
 *   xenguard_checks{severity,status}      how many checks, every pair (zeros too,
 *                                         so a series never disappears)
 *   xenguard_audit_timestamp_seconds      when the audit ran (Unix time)
 *
 * A check's status value is its enum xg_status, fixed by this file's table
 * below; the gauges are labelled with the IDs and names the JSON report uses.
 */
#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "util/file.h"

#define SEVERITIES 5 /* info .. critical */
#define STATUSES   5 /* pass .. waived */

/* A label value: backslash, double quote and newline escaped. */
static void label(struct xg_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            xg_buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            xg_buf_puts(b, "\\n");
        else
            xg_buf_printf(b, "%c", *v);
    }
}

void xg_report_prometheus(const struct xg_audit *a, time_t when, struct xg_buf *out)
{
    static const char *status_help = "0 pass, 1 fail, 2 n/a, 3 error, 4 waived";
    size_t counts[SEVERITIES][STATUSES] = {{0}};
    xg_buf_printf(out,
                  "# HELP xenguard_check_status Result of each xenguard audit check: %s.\n"
                  "# TYPE xenguard_check_status gauge\n",
                  status_help);
    for (size_t i = 0; i < a->count; i++) {
        const struct xg_result *r = &a->results[i];
        xg_buf_puts(out, "xenguard_check_status{id=\"");
        label(out, r->def->id);
        xg_buf_printf(out, "\",severity=\"%s\"} %d\n", xg_severity_name(r->def->severity),
                      (int)r->status);
        counts[r->def->severity][r->status]++;
    }
    xg_buf_puts(out, "# HELP xenguard_checks Number of xenguard audit checks by severity and "
                     "status.\n"
                     "# TYPE xenguard_checks gauge\n");
    for (int s = 0; s < SEVERITIES; s++)
        for (int t = 0; t < STATUSES; t++)
            xg_buf_printf(out, "xenguard_checks{severity=\"%s\",status=\"%s\"} %zu\n",
                          xg_severity_name((enum xg_severity)s), xg_status_name((enum xg_status)t),
                          counts[s][t]);
    xg_buf_printf(out,
                  "# HELP xenguard_audit_timestamp_seconds When the xenguard audit ran (Unix "
                  "time).\n"
                  "# TYPE xenguard_audit_timestamp_seconds gauge\n"
                  "xenguard_audit_timestamp_seconds %lld\n",
                  (long long)when);
}

int xg_report_prometheus_write(const struct xg_audit *a, const char *path, time_t when,
                               struct xg_err *err)
{
    struct xg_buf b = {0};
    xg_report_prometheus(a, when, &b);
    int rc = xg_buf_failed(&b) ? xg_fail(err, "out of memory")
                               : xg_file_write_atomic(path, b.data, b.len, 0644, err);
    xg_buf_free(&b);
    return rc;
}
