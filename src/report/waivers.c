/*
 * waivers.c — the waiver file and its effect on results.
 *
 * A waiver is an accepted risk with a date on it: "XG-SSH-003 2026-12-31
 * sshd must answer the jump host on the public side". Past its date the
 * finding fails again, loudly: waivers that never end are how audits rot.
 * A bad line is an error that quotes the line and underlines the fault.
 * A waiver that waives nothing (its check passes, is n/a, or an earlier
 * line already waives it) is a warning: it would hide the day the check
 * fails again, unreviewed. The outcome of the whole run (exit code,
 * counts by status and severity) is computed here too, after the waivers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/report.h"
#include "util/lines.h"

static bool valid_date(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    return y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int xg_waivers_parse(const char *text, size_t len, const char *path, struct xg_waivers *out,
                     struct xg_err *err)
{
    const struct xg_src src = {path, text, len}; /* errors quote their line */
    memset(out, 0, sizeof(*out));
    out->path = strdup(path);
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        char *line = xg_line_next(text, len, &pos);
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#') {
            free(line);
            continue;
        }
        char id[64] = "", date[64] = "";
        int used = 0;
        if (sscanf(p, "%63s %63s %n", id, date, &used) < 2 || !used) {
            xg_fail_src(err, &src, lineno, 1, (unsigned)strlen(line),
                        "expected: CHECK-ID YYYY-MM-DD reason");
            free(line);
            xg_waivers_free(out);
            return -1;
        }
        char *reason = p + used;
        size_t rn = strlen(reason);
        while (rn && isspace((unsigned char)reason[rn - 1]))
            reason[--rn] = '\0';
        const char *why = !xg_check_find(id)  ? "unknown check ID"
                          : !valid_date(date) ? "expiry must be a date YYYY-MM-DD"
                          : !*reason          ? "a waiver needs a reason"
                                              : NULL;
        if (why) {
            /* the ID is pointed at from column 1 (indentation included) */
            int col = !xg_check_find(id)  ? 1
                      : !valid_date(date) ? (int)(strstr(p, date) - line) + 1
                                          : (int)(reason - line) + 1;
            size_t n = !xg_check_find(id)  ? (size_t)(p - line) + strlen(id)
                       : !valid_date(date) ? strlen(date)
                                           : 0;
            xg_fail_src(err, &src, lineno, (unsigned)col, (unsigned)n, "%s", why);
            free(line);
            xg_waivers_free(out);
            return -1;
        }
        struct xg_waiver *grown = realloc(out->items, (out->count + 1) * sizeof(*grown));
        if (!grown) {
            free(line);
            xg_waivers_free(out);
            return xg_fail(err, "%s: out of memory", path);
        }
        out->items = grown;
        struct xg_waiver *w = &grown[out->count++];
        snprintf(w->id, sizeof(w->id), "%s", xg_check_find(id)->id);
        memcpy(w->expires, date, 10); /* valid_date(): exactly 10 characters */
        w->expires[10] = '\0';
        w->reason = strdup(reason);
        w->line = lineno;
        free(line);
    }
    return 0;
}

void xg_waivers_free(struct xg_waivers *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->items[i].reason);
    free(w->items);
    free(w->path);
    memset(w, 0, sizeof(*w));
}

void xg_audit_apply_waivers(struct xg_audit *a, const struct xg_waivers *w, const char *today)
{
    for (size_t i = 0; i < a->count; i++) {
        struct xg_result *r = &a->results[i];
        for (size_t k = 0; k < w->count; k++) {
            const struct xg_waiver *wv = &w->items[k];
            if (strcmp(wv->id, r->def->id) || r->status != XG_STATUS_FAIL)
                continue;
            if (strcmp(wv->expires, today) >= 0) {
                r->status = XG_STATUS_WAIVED;
                free(r->reason);
                char buf[1024];
                snprintf(buf, sizeof(buf), "waived until %s (%s:%u): %s", wv->expires, w->path,
                         wv->line, wv->reason ? wv->reason : "");
                r->reason = strdup(buf);
            } else {
                xg_evidence(r, "waiver expired on %s (%s:%u): %s", wv->expires, w->path, wv->line,
                            wv->reason ? wv->reason : "");
            }
            break;
        }
    }
}

void xg_waivers_unused(const struct xg_audit *a, const struct xg_waivers *w,
                       struct xg_warnings *out)
{
    for (size_t k = 0; k < w->count; k++) {
        const struct xg_waiver *wv = &w->items[k];
        const struct xg_waiver *first = wv;
        for (size_t j = 0; j < k && first == wv; j++)
            if (!strcmp(w->items[j].id, wv->id))
                first = &w->items[j];
        const struct xg_result *r = NULL;
        for (size_t i = 0; i < a->count && !r; i++)
            if (!strcmp(a->results[i].def->id, wv->id))
                r = &a->results[i];
        if (first != wv)
            xg_warn_at(out, w->path, wv->line, 1,
                       "%s is waived already at line %u: this line is unused", wv->id, first->line);
        else if (r && r->status == XG_STATUS_PASS)
            xg_warn_at(out, w->path, wv->line, 1, "%s passes: remove its waiver", wv->id);
        else if (r && (r->status == XG_STATUS_NA || r->status == XG_STATUS_ERROR))
            xg_warn_at(out, w->path, wv->line, 1, "%s is %s (%s): the waiver waives nothing",
                       wv->id, xg_status_name(r->status), r->reason ? r->reason : "no reason");
    }
}

int xg_audit_exit_code(const struct xg_audit *a)
{
    for (size_t i = 0; i < a->count; i++) {
        const struct xg_result *r = &a->results[i];
        if ((r->status == XG_STATUS_FAIL || r->status == XG_STATUS_ERROR) &&
            r->def->severity >= a->fail_on)
            return 1;
    }
    return 0;
}

struct xg_audit_counts xg_audit_count(const struct xg_audit *a)
{
    struct xg_audit_counts c = {{0}};
    for (size_t i = 0; i < a->count; i++) {
        c.status[a->results[i].status]++;
        if (a->results[i].status == XG_STATUS_FAIL)
            c.fail_by_severity[a->results[i].def->severity]++;
    }
    return c;
}
