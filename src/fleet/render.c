/*
 * render.c — text, JSON and JUnit renderings of a fleet report.
 *
 * Text: a hosts x checks table (one row per host: its report, its own
 * audit's outcome, its verdict on each cluster check), then each cluster
 * check with its findings and, when it failed, the fix; one summary line.
 * JSON (jansson, "xenguard-fleet/1": doc/fleet.schema.json, xenguard-fleet(8))
 * and JUnit (report/junit.h's writer, one test case per cluster check) carry the same
 * results. Host names, file names and findings come from the hosts'
 * reports: every string goes through xg_report_clean() for its format, so a
 * report cannot break the output or send escape sequences to a terminal.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"
#include "report/junit.h"
#include "report/report.h"

static const char *label(enum xg_status s)
{
    static const char *l[] = {"PASS", "FAIL", "N/A", "ERROR", "WAIVED"};
    return l[s];
}

static void put_clean(struct xg_buf *out, const char *s, int width)
{
    char *c = xg_report_clean(s, XG_CLEAN_TEXT);
    if (!c) {
        out->failed = true;
        return;
    }
    xg_buf_printf(out, "%-*s", width, c);
    free(c);
}

static size_t audit_failures(const struct xg_fleet_host *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->check_count; i++)
        n += h->checks[i].status == XG_STATUS_FAIL || h->checks[i].status == XG_STATUS_ERROR;
    return n;
}

static void text_table(const struct xg_fleet_report *r, struct xg_buf *out)
{
    const struct xg_fleet *f = r->fleet;
    int w = 4;
    for (size_t i = 0; i < f->count; i++) {
        int l = (int)strlen(xg_fleet_host_name(&f->hosts[i]));
        w = l > w ? (l > 40 ? 40 : l) : w;
    }
    xg_buf_printf(out, "%-*s  %-14s", w, "host", "audit");
    for (size_t c = 0; c < r->count; c++)
        xg_buf_printf(out, " %-*s", c + 1 < r->count ? 5 : 0,
                      r->results[c].def->id + strlen("XG-FLEET-"));
    xg_buf_puts(out, "\n");
    for (size_t i = 0; i < f->count; i++) {
        const struct xg_fleet_host *h = &f->hosts[i];
        char audit[32];
        size_t nf = audit_failures(h);
        if (nf)
            snprintf(audit, sizeof(audit), "%zu failed", nf);
        else
            snprintf(audit, sizeof(audit), "%zu checks ok", h->check_count);
        put_clean(out, xg_fleet_host_name(h), w);
        xg_buf_printf(out, "  %-14s", audit);
        for (size_t c = 0; c < r->count; c++)
            xg_buf_printf(out, " %-*s", c + 1 < r->count ? 5 : 0, label(r->results[c].per_host[i]));
        xg_buf_puts(out, "\n");
    }
}

void xg_fleet_text(const struct xg_fleet_report *r, struct xg_buf *out)
{
    const struct xg_fleet *f = r->fleet;
    size_t n[3] = {0};
    xg_buf_printf(out, "xenguard %s fleet of %zu host%s\n\n", XG_VERSION, f->count,
                  f->count == 1 ? "" : "s");
    text_table(r, out);
    xg_buf_puts(out, "\n");
    for (size_t c = 0; c < r->count; c++) {
        const struct xg_fleet_result *res = &r->results[c];
        n[res->status == XG_STATUS_PASS ? 0 : res->status == XG_STATUS_FAIL ? 1 : 2]++;
        xg_buf_printf(out, "%-6s %s %s\n", label(res->status), res->def->id, res->def->title);
        for (size_t k = 0; k < res->finding_count; k++) {
            xg_buf_puts(out, "       - ");
            put_clean(out, res->findings[k], 0);
            xg_buf_puts(out, "\n");
        }
        if (res->status == XG_STATUS_FAIL)
            xg_buf_printf(out, "       fix: %s\n", res->def->remediation);
    }
    xg_buf_printf(out, "\nsummary: %zu passed, %zu failed, %zu n/a: %s\n", n[0], n[1], n[2],
                  xg_fleet_exit_code(r) ? "FAILED" : "ok");
}

static json_t *jclean(const char *s)
{
    char *c = xg_report_clean(s ? s : "", XG_CLEAN_JSON);
    json_t *j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

static json_t *json_hosts(const struct xg_fleet_report *r)
{
    const struct xg_fleet *f = r->fleet;
    json_t *a = json_array();
    for (size_t i = 0; a && i < f->count; i++) {
        const struct xg_fleet_host *h = &f->hosts[i];
        json_t *checks = json_object();
        for (size_t c = 0; checks && c < r->count; c++)
            if (json_object_set_new(checks, r->results[c].def->id,
                                    json_string(xg_status_name(r->results[c].per_host[i]))) < 0) {
                json_decref(checks);
                checks = NULL;
            }
        json_t *one = json_pack(
            "{s:o, s:o, s:o, s:o, s:{s:I, s:i}, s:o}", "hostname", jclean(h->hostname), "report",
            jclean(h->report), "xen_version", h->xen_version ? jclean(h->xen_version) : json_null(),
            "firewall_digest", h->fw_digest[0] ? jclean(h->fw_digest) : json_null(), "audit",
            "failed", (json_int_t)audit_failures(h), "exit", h->audit_exit, "checks", checks);
        if (json_array_append_new(a, one) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *json_checks(const struct xg_fleet_report *r)
{
    json_t *a = json_array();
    for (size_t c = 0; a && c < r->count; c++) {
        const struct xg_fleet_result *res = &r->results[c];
        json_t *fs = json_array();
        for (size_t k = 0; fs && k < res->finding_count; k++)
            if (json_array_append_new(fs, jclean(res->findings[k])) < 0) {
                json_decref(fs);
                fs = NULL;
            }
        if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:s}", "id", res->def->id,
                                               "title", res->def->title, "status",
                                               xg_status_name(res->status), "findings", fs,
                                               "remediation", res->def->remediation)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

void xg_fleet_json(const struct xg_fleet_report *r, struct xg_buf *out)
{
    size_t n[3] = {0};
    for (size_t c = 0; c < r->count; c++)
        n[r->results[c].status == XG_STATUS_PASS   ? 0
          : r->results[c].status == XG_STATUS_FAIL ? 1
                                                   : 2]++;
    json_t *doc =
        json_pack("{s:s, s:{s:s, s:s}, s:o, s:o, s:{s:I, s:I, s:I, s:i}}", "schema",
                  "xenguard-fleet/1", "tool", "name", "xenguard", "version", XG_VERSION, "hosts",
                  json_hosts(r), "checks", json_checks(r), "summary", "pass", (json_int_t)n[0],
                  "fail", (json_int_t)n[1], "n/a", (json_int_t)n[2], "exit", xg_fleet_exit_code(r));
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        xg_buf_printf(out, "%s\n", text);
    else
        out->failed = true;
    free(text);
    json_decref(doc);
}

static void junit_case(struct xg_junit *j, const struct xg_fleet_result *res)
{
    char name[300];
    snprintf(name, sizeof(name), "%s %s", res->def->id, res->def->title);
    xg_junit_start(j, "testcase");
    xg_junit_attr(j, "classname", "xenguard.fleet");
    xg_junit_attr(j, "name", name);
    if (res->status == XG_STATUS_FAIL) {
        struct xg_buf body = {0};
        for (size_t k = 0; k < res->finding_count; k++)
            xg_buf_printf(&body, "%s\n", res->findings[k]);
        xg_buf_printf(&body, "fix: %s\n", res->def->remediation);
        xg_junit_start(j, "failure");
        xg_junit_attr(j, "message", res->finding_count ? res->findings[0] : res->def->title);
        xg_junit_text(j, xg_buf_str(&body));
        xg_junit_end(j);
        if (xg_buf_failed(&body))
            j->rc = -1;
        xg_buf_free(&body);
    } else if (res->status == XG_STATUS_NA) {
        xg_junit_start(j, "skipped");
        xg_junit_attr(j, "message", "applies to no member");
        xg_junit_end(j);
    }
    xg_junit_end(j);
}

void xg_fleet_junit(const struct xg_fleet_report *r, struct xg_buf *out)
{
    size_t fail = 0, na = 0;
    for (size_t c = 0; c < r->count; c++) {
        fail += r->results[c].status == XG_STATUS_FAIL;
        na += r->results[c].status == XG_STATUS_NA;
    }
    struct xg_junit j;
    xg_junit_begin(&j, "xenguard fleet");
    xg_junit_start(&j, "testsuite");
    xg_junit_attr(&j, "name", "cluster");
    xg_junit_count(&j, "tests", r->count);
    xg_junit_count(&j, "failures", fail);
    xg_junit_count(&j, "errors", 0);
    xg_junit_count(&j, "skipped", na);
    for (size_t c = 0; c < r->count; c++)
        junit_case(&j, &r->results[c]);
    xg_junit_finish(&j, out);
}
