/*
 * render.c — text, JSON and JUnit renderings of an audit.
 *
 * Text is for a person at a terminal: grouped by practice in the chapter's
 * order, evidence under each finding, the fix under each failure, one
 * summary line at the end; colour only when the caller says stdout is a
 * terminal. JSON (jansson) is the stable machine format, documented in
 * xenguard-audit(8); JUnit maps checks to test cases so CI systems show
 * them (n/a and waived as skipped, error as error).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

struct counts {
    size_t n[5];
    size_t fail_sev[5];
};

static struct counts count(const struct xg_audit *a)
{
    struct counts c = {0};
    for (size_t i = 0; i < a->count; i++) {
        c.n[a->results[i].status]++;
        if (a->results[i].status == XG_STATUS_FAIL)
            c.fail_sev[a->results[i].def->severity]++;
    }
    return c;
}

static const char *host_kind(const struct xg_host *h)
{
    if (h->dom0)
        return "Xen Domain-0";
    if (h->xen_present)
        return "Xen guest, not a Dom0";
    return "not a Dom0 (no Xen)";
}

void xg_report_text(const struct xg_audit *a, bool color, struct xg_buf *out)
{
    const struct xg_host *h = a->host;
    static const char *label[] = {"PASS", "FAIL", "N/A", "ERROR", "WAIVED"};
    static const char *col[] = {"\033[32m", "\033[1;31m", "\033[2m", "\033[35m", "\033[36m"};
    const char *reset = color ? "\033[0m" : "";
    const char *bold = color ? "\033[1m" : "";

    xg_buf_printf(out, "%sxenguard %s audit%s of %s (%s)\n", bold, XG_VERSION, reset,
                  h->hostname && h->hostname[0] ? h->hostname : "unknown host",
                  h->live ? "live host" : h->root);
    xg_buf_printf(out, "host: %s; toolstack: %s; Xen: %s\n", host_kind(h),
                  xg_toolstack_name(h->toolstack), h->xen_version ? h->xen_version : "-");
    xg_buf_printf(out, "policy: %s\n",
                  a->policy_path ? a->policy_path
                                 : "none (strictest reading: untrusted subnet, "
                                   "no declared admins or peers)");
    for (size_t i = 0; i < h->note_count; i++)
        xg_buf_printf(out, "note: %s\n", h->notes[i]);

    for (int pr = 0; pr < XG_PRACTICE_COUNT; pr++) {
        bool any = false;
        for (size_t i = 0; i < a->count; i++) {
            const struct xg_result *r = &a->results[i];
            if ((int)r->def->practice != pr)
                continue;
            if (!any)
                xg_buf_printf(out, "\n%s%s%s\n", bold, xg_practice_name((enum xg_practice)pr),
                              reset);
            any = true;
            xg_buf_printf(out, "  %s%-6s%s %-12s %-8s %s\n", color ? col[r->status] : "",
                          label[r->status], reset, r->def->id, xg_severity_name(r->def->severity),
                          r->def->title);
            if (r->reason)
                xg_buf_printf(out, "         %s\n", r->reason);
            bool show = r->status != XG_STATUS_PASS || a->verbose;
            for (size_t e = 0; show && e < r->evidence_count; e++)
                xg_buf_printf(out, "         - %s\n", r->evidence[e]);
            if (r->status == XG_STATUS_FAIL)
                xg_buf_printf(out, "         fix: %s\n", r->def->remediation);
        }
    }
    struct counts c = count(a);
    int rc = xg_audit_exit_code(a);
    xg_buf_printf(out,
                  "\n%ssummary:%s %zu passed, %zu failed (%zu critical, %zu high, %zu medium, "
                  "%zu low, %zu info), %zu n/a, %zu errors, %zu waived; fail-on %s: %s\n",
                  bold, reset, c.n[XG_STATUS_PASS], c.n[XG_STATUS_FAIL],
                  c.fail_sev[XG_SEV_CRITICAL], c.fail_sev[XG_SEV_HIGH], c.fail_sev[XG_SEV_MEDIUM],
                  c.fail_sev[XG_SEV_LOW], c.fail_sev[XG_SEV_INFO], c.n[XG_STATUS_NA],
                  c.n[XG_STATUS_ERROR], c.n[XG_STATUS_WAIVED], xg_severity_name(a->fail_on),
                  rc ? "FAILED" : "ok");
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

char *xg_report_json(const struct xg_audit *a)
{
    const struct xg_host *h = a->host;
    struct counts c = count(a);
    json_t *notes = json_array();
    for (size_t i = 0; i < h->note_count; i++)
        json_array_append_new(notes, json_string(h->notes[i]));
    json_t *host = json_pack("{s:s, s:s, s:b, s:b, s:b, s:s, s:o, s:o}", "hostname",
                             h->hostname ? h->hostname : "", "root", h->root ? h->root : "/",
                             "live", h->live, "xen", h->xen_present, "dom0", h->dom0, "toolstack",
                             xg_toolstack_name(h->toolstack), "xen_version",
                             str_or_null(h->xen_version), "notes", notes);
    json_t *checks = json_array();
    for (size_t i = 0; i < a->count; i++) {
        const struct xg_result *r = &a->results[i];
        json_t *ev = json_array();
        for (size_t e = 0; e < r->evidence_count; e++)
            json_array_append_new(ev, json_string(r->evidence[e]));
        json_array_append_new(
            checks, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "id", r->def->id,
                              "practice", xg_practice_name(r->def->practice), "title",
                              r->def->title, "status", xg_status_name(r->status), "severity",
                              xg_severity_name(r->def->severity), "evidence", ev, "reason",
                              str_or_null(r->reason), "remediation", r->def->remediation));
    }
    json_t *summary = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:s, s:i}", "pass", (json_int_t)c.n[XG_STATUS_PASS], "fail",
        (json_int_t)c.n[XG_STATUS_FAIL], "n/a", (json_int_t)c.n[XG_STATUS_NA], "error",
        (json_int_t)c.n[XG_STATUS_ERROR], "waived", (json_int_t)c.n[XG_STATUS_WAIVED], "fail_on",
        xg_severity_name(a->fail_on), "exit", xg_audit_exit_code(a));
    json_t *doc =
        json_pack("{s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o}", "schema", "xenguard-audit/1", "tool",
                  "name", "xenguard", "version", XG_VERSION, "host", host, "policy",
                  str_or_null(a->policy_path), "summary", summary, "checks", checks);
    if (!doc)
        return NULL;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

static void xml_escape(struct xg_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '<':
            xg_buf_puts(out, "&lt;");
            break;
        case '>':
            xg_buf_puts(out, "&gt;");
            break;
        case '&':
            xg_buf_puts(out, "&amp;");
            break;
        case '"':
            xg_buf_puts(out, "&quot;");
            break;
        default:
            if (ch < 0x20 && ch != '\n' && ch != '\t')
                xg_buf_puts(out, "?"); /* not allowed in XML 1.0 */
            else
                xg_buf_printf(out, "%c", ch);
        }
    }
}

void xg_report_junit(const struct xg_audit *a, struct xg_buf *out)
{
    struct counts c = count(a);
    xg_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xg_buf_printf(out,
                  "<testsuites name=\"xenguard audit\" tests=\"%zu\" failures=\"%zu\" "
                  "errors=\"%zu\" skipped=\"%zu\">\n",
                  a->count, c.n[XG_STATUS_FAIL], c.n[XG_STATUS_ERROR],
                  c.n[XG_STATUS_NA] + c.n[XG_STATUS_WAIVED]);
    for (int pr = 0; pr < XG_PRACTICE_COUNT; pr++) {
        size_t n = 0, f = 0, e = 0, s = 0;
        for (size_t i = 0; i < a->count; i++)
            if ((int)a->results[i].def->practice == pr) {
                n++;
                f += a->results[i].status == XG_STATUS_FAIL;
                e += a->results[i].status == XG_STATUS_ERROR;
                s += a->results[i].status == XG_STATUS_NA ||
                     a->results[i].status == XG_STATUS_WAIVED;
            }
        if (!n)
            continue;
        xg_buf_puts(out, "  <testsuite name=\"");
        xml_escape(out, xg_practice_name((enum xg_practice)pr));
        xg_buf_printf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n", n,
                      f, e, s);
        for (size_t i = 0; i < a->count; i++) {
            const struct xg_result *r = &a->results[i];
            if ((int)r->def->practice != pr)
                continue;
            xg_buf_printf(out, "    <testcase classname=\"xenguard.audit\" name=\"%s ", r->def->id);
            xml_escape(out, r->def->title);
            xg_buf_puts(out, "\">\n");
            struct xg_buf body = {0};
            for (size_t k = 0; k < r->evidence_count; k++)
                xg_buf_printf(&body, "%s\n", r->evidence[k]);
            switch (r->status) {
            case XG_STATUS_FAIL:
                xg_buf_printf(out, "      <failure type=\"%s\" message=\"",
                              xg_severity_name(r->def->severity));
                xml_escape(out, r->evidence_count ? r->evidence[0] : r->def->title);
                xg_buf_puts(out, "\">");
                xml_escape(out, xg_buf_str(&body));
                xg_buf_puts(out, "fix: ");
                xml_escape(out, r->def->remediation);
                xg_buf_puts(out, "</failure>\n");
                break;
            case XG_STATUS_ERROR:
                xg_buf_puts(out, "      <error message=\"");
                xml_escape(out, r->reason ? r->reason : "");
                xg_buf_puts(out, "\"/>\n");
                break;
            case XG_STATUS_NA:
            case XG_STATUS_WAIVED:
                xg_buf_puts(out, "      <skipped message=\"");
                xml_escape(out, r->reason ? r->reason : xg_status_name(r->status));
                xg_buf_puts(out, "\"/>\n");
                break;
            case XG_STATUS_PASS:
                if (body.len) {
                    xg_buf_puts(out, "      <system-out>");
                    xml_escape(out, xg_buf_str(&body));
                    xg_buf_puts(out, "</system-out>\n");
                }
                break;
            }
            xg_buf_free(&body);
            xg_buf_puts(out, "    </testcase>\n");
        }
        xg_buf_puts(out, "  </testsuite>\n");
    }
    xg_buf_puts(out, "</testsuites>\n");
}
