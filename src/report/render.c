/*
 * render.c — the text and JUnit renderings of an audit, and the cleaning
 * every rendering (JSON too: json.c) passes host bytes through.
 *
 * Text is for a person at a terminal: grouped by practice in the chapter's
 * order, evidence under each finding, under each failure its fix lines (the
 * commands, naming what was found) and the remediation, one summary line at
 * the end; --quiet keeps the failures, errors and the summary; colour only
 * when the caller says stdout is a terminal. JUnit (junit.c's writer) maps
 * checks to test cases so CI systems show them (n/a and waived as skipped,
 * error as error). Whatever bytes the host's files hold, every rendering
 * stays well-formed and keeps every finding: see xg_report_clean().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/junit.h"
#include "report/report.h"

/* Length of the valid UTF-8 sequence at s and its code point, or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        n = 2, c = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3, c = s[0] & 0x0f, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        n = 4, c = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL */
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

static bool allowed_in(uint32_t c, enum xg_clean_for mode)
{
    switch (mode) {
    case XG_CLEAN_JSON:
        return true;
    case XG_CLEAN_XML:
        return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') && c != 0xfffe && c != 0xffff;
    case XG_CLEAN_TEXT:
        return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0);
    }
    return false;
}

char *xg_report_clean(const char *s, enum xg_clean_for mode)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    char *out = malloc(len * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_seq(u + i, &c);
        if (n && allowed_in(c, mode)) {
            memcpy(o, u + i, n);
            o += n;
            i += n;
            continue;
        }
        for (size_t k = 0; k < (n ? n : 1); k++)
            o += sprintf(o, "\\x%02X", u[i + k]);
        i += n ? n : 1;
    }
    *o = '\0';
    return out;
}

/* Append s to out, cleaned for a terminal. */
static void put_clean(struct xg_buf *out, const char *s)
{
    char *c = xg_report_clean(s, XG_CLEAN_TEXT);
    if (!c) {
        out->failed = true;
        return;
    }
    xg_buf_puts(out, c);
    free(c);
}

static const char *host_kind(const struct xg_host *h)
{
    if (h->dom0)
        return "Xen Domain-0";
    if (h->xen_present)
        return "Xen guest, not a Dom0";
    return "not a Dom0 (no Xen)";
}

/* The versions the checks judged defaults by, and where each came from. */
static void text_versions(struct xg_buf *out, const struct xg_host *h)
{
    const struct xg_versions *v = &h->versions;
    xg_buf_puts(out, "versions: OS ");
    put_clean(out, v->os_name ? v->os_name : v->os_id ? v->os_id : "unknown");
    xg_buf_puts(out, "; OpenSSH ");
    put_clean(out, v->openssh ? v->openssh : "unknown");
    if (v->openssh_source) {
        xg_buf_puts(out, " (");
        put_clean(out, v->openssh_source);
        xg_buf_puts(out, ")");
    }
    xg_buf_puts(out, "; Xen ");
    put_clean(out, h->xen_version ? h->xen_version : "unknown");
    if (v->xen_source) {
        xg_buf_puts(out, " (");
        put_clean(out, v->xen_source);
        xg_buf_puts(out, ")");
    }
    xg_buf_puts(out, "\nsshd settings: ");
    put_clean(out, h->sshd_source ? h->sshd_source : "none read");
    xg_buf_puts(out, "\n");
}

struct style {
    bool color;
    const char *reset, *bold;
};

/* Who was audited, with what: the lines above the findings. */
static void text_header(const struct xg_audit *a, const struct style *st, struct xg_buf *out)
{
    const struct xg_host *h = a->host;
    xg_buf_printf(out, "%sxenguard %s audit%s of ", st->bold, XG_VERSION, st->reset);
    put_clean(out, h->hostname && h->hostname[0] ? h->hostname : "unknown host");
    xg_buf_puts(out, " (");
    put_clean(out, h->live ? "live host" : h->root);
    xg_buf_puts(out, ")\n");
    if (h->unprivileged)
        xg_buf_printf(out,
                      "%sUNPRIVILEGED RUN%s (uid %u): files only root may read are unknown; the "
                      "checks that need them are n/a\n",
                      st->bold, st->reset, (unsigned)geteuid());
    xg_buf_printf(out, "host: %s; toolstack: %s; Xen: ", host_kind(h),
                  xg_toolstack_name(h->toolstack));
    put_clean(out, h->xen_version ? h->xen_version : "-");
    xg_buf_puts(out, "\n");
    text_versions(out, h);
    xg_buf_puts(out, "policy: ");
    put_clean(out, a->policy_path ? a->policy_path
                                  : "none (strictest reading: untrusted subnet, "
                                    "no declared admins or peers)");
    xg_buf_puts(out, "\n");
    for (size_t i = 0; i < h->note_count; i++) {
        xg_buf_puts(out, "note: ");
        put_clean(out, h->notes[i]);
        xg_buf_puts(out, "\n");
    }
    for (size_t i = 0; i < h->unreadable_count; i++) {
        xg_buf_puts(out, "cannot read: ");
        put_clean(out, h->unreadable[i]);
        xg_buf_puts(out, "\n");
    }
}

/* One finding: its line, the reason, the evidence, and for a failure the fix
 * lines (commands) and the remediation (the explanation). */
static void text_result(const struct xg_audit *a, const struct xg_result *r, const struct style *st,
                        struct xg_buf *out)
{
    static const char *label[] = {"PASS", "FAIL", "N/A", "ERROR", "WAIVED"};
    static const char *col[] = {"\033[32m", "\033[1;31m", "\033[2m", "\033[35m", "\033[36m"};
    xg_buf_printf(out, "  %s%-6s%s %-12s %-8s %s\n", st->color ? col[r->status] : "",
                  label[r->status], st->reset, r->def->id, xg_severity_name(r->def->severity),
                  r->def->title);
    if (r->reason) {
        xg_buf_puts(out, "         ");
        put_clean(out, r->reason);
        xg_buf_puts(out, "\n");
    }
    bool show = r->status != XG_STATUS_PASS || a->verbose;
    for (size_t e = 0; show && e < r->evidence_count; e++) {
        xg_buf_puts(out, "         - ");
        put_clean(out, r->evidence[e]);
        xg_buf_puts(out, "\n");
    }
    if (r->status != XG_STATUS_FAIL)
        return;
    for (size_t f = 0; f < r->fix_count; f++) {
        xg_buf_puts(out, "         fix: ");
        put_clean(out, r->fix[f]);
        xg_buf_puts(out, "\n");
    }
    xg_buf_printf(out, "         remediation: %s\n", r->def->remediation);
}

void xg_report_text(const struct xg_audit *a, bool color, struct xg_buf *out)
{
    const struct style st = {color, color ? "\033[0m" : "", color ? "\033[1m" : ""};
    bool shown = false;
    if (!a->quiet)
        text_header(a, &st, out);
    for (int pr = 0; pr < XG_PRACTICE_COUNT; pr++) {
        bool any = false;
        for (size_t i = 0; i < a->count; i++) {
            const struct xg_result *r = &a->results[i];
            if ((int)r->def->practice != pr)
                continue;
            /* --quiet: the failures and errors only, without the practices' headings */
            if (a->quiet && r->status != XG_STATUS_FAIL && r->status != XG_STATUS_ERROR)
                continue;
            if (!any && !a->quiet)
                xg_buf_printf(out, "\n%s%s%s\n", st.bold, xg_practice_name((enum xg_practice)pr),
                              st.reset);
            any = shown = true;
            text_result(a, r, &st, out);
        }
    }
    struct xg_audit_counts c = xg_audit_count(a);
    int rc = xg_audit_exit_code(a);
    xg_buf_printf(out,
                  "%s%ssummary:%s %zu passed, %zu failed (%zu critical, %zu high, %zu medium, "
                  "%zu low, %zu info), %zu n/a, %zu errors, %zu waived; fail-on %s: %s\n",
                  !a->quiet || shown ? "\n" : "", st.bold, st.reset, c.status[XG_STATUS_PASS],
                  c.status[XG_STATUS_FAIL], c.fail_by_severity[XG_SEV_CRITICAL],
                  c.fail_by_severity[XG_SEV_HIGH], c.fail_by_severity[XG_SEV_MEDIUM],
                  c.fail_by_severity[XG_SEV_LOW], c.fail_by_severity[XG_SEV_INFO],
                  c.status[XG_STATUS_NA], c.status[XG_STATUS_ERROR], c.status[XG_STATUS_WAIVED],
                  xg_severity_name(a->fail_on), rc ? "FAILED" : "ok");
}

/* ---- JUnit ---- */

/* <failure>, <error>, <skipped> or <system-out> of one result. */
static void junit_outcome(struct xg_junit *j, const struct xg_result *r)
{
    struct xg_buf body = {0};
    for (size_t k = 0; k < r->evidence_count; k++)
        xg_buf_printf(&body, "%s\n", r->evidence[k]);
    switch (r->status) {
    case XG_STATUS_FAIL:
        for (size_t k = 0; k < r->fix_count; k++)
            xg_buf_printf(&body, "fix: %s\n", r->fix[k]);
        xg_buf_printf(&body, "remediation: %s", r->def->remediation);
        xg_junit_start(j, "failure");
        xg_junit_attr(j, "type", xg_severity_name(r->def->severity));
        xg_junit_attr(j, "message", r->evidence_count ? r->evidence[0] : r->def->title);
        xg_junit_text(j, xg_buf_str(&body));
        xg_junit_end(j);
        break;
    case XG_STATUS_ERROR:
        xg_junit_start(j, "error");
        xg_junit_attr(j, "message", r->reason ? r->reason : "");
        xg_junit_end(j);
        break;
    case XG_STATUS_NA:
    case XG_STATUS_WAIVED:
        xg_junit_start(j, "skipped");
        xg_junit_attr(j, "message", r->reason ? r->reason : xg_status_name(r->status));
        xg_junit_end(j);
        break;
    case XG_STATUS_PASS:
        if (body.len) {
            xg_junit_start(j, "system-out");
            xg_junit_text(j, xg_buf_str(&body));
            xg_junit_end(j);
        }
        break;
    }
    if (xg_buf_failed(&body))
        j->rc = -1;
    xg_buf_free(&body);
}

static void junit_suite(struct xg_junit *j, const struct xg_audit *a, int pr)
{
    size_t n = 0, f = 0, e = 0, s = 0;
    for (size_t i = 0; i < a->count; i++)
        if ((int)a->results[i].def->practice == pr) {
            enum xg_status st = a->results[i].status;
            n++;
            f += st == XG_STATUS_FAIL;
            e += st == XG_STATUS_ERROR;
            s += st == XG_STATUS_NA || st == XG_STATUS_WAIVED;
        }
    if (!n)
        return;
    xg_junit_start(j, "testsuite");
    xg_junit_attr(j, "name", xg_practice_name((enum xg_practice)pr));
    xg_junit_count(j, "tests", n);
    xg_junit_count(j, "failures", f);
    xg_junit_count(j, "errors", e);
    xg_junit_count(j, "skipped", s);
    for (size_t i = 0; i < a->count; i++) {
        const struct xg_result *r = &a->results[i];
        if ((int)r->def->practice != pr)
            continue;
        char name[300];
        snprintf(name, sizeof(name), "%s %s", r->def->id, r->def->title);
        xg_junit_start(j, "testcase");
        xg_junit_attr(j, "classname", "xenguard.audit");
        xg_junit_attr(j, "name", name);
        junit_outcome(j, r);
        xg_junit_end(j);
    }
    xg_junit_end(j);
}

void xg_report_junit(const struct xg_audit *a, struct xg_buf *out)
{
    struct xg_audit_counts c = xg_audit_count(a);
    struct xg_junit j;
    xg_junit_begin(&j, "xenguard audit");
    xg_junit_count(&j, "tests", a->count);
    xg_junit_count(&j, "failures", c.status[XG_STATUS_FAIL]);
    xg_junit_count(&j, "errors", c.status[XG_STATUS_ERROR]);
    xg_junit_count(&j, "skipped", c.status[XG_STATUS_NA] + c.status[XG_STATUS_WAIVED]);
    for (int pr = 0; pr < XG_PRACTICE_COUNT; pr++)
        junit_suite(&j, a, pr);
    xg_junit_finish(&j, out);
}
