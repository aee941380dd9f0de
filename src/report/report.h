/*
 * report.h — what an audit run produced, and its three renderings.
 *
 * The run is a plain list of results plus the host summary; waivers and
 * --skip are applied to the list before rendering, so text, JSON and JUnit
 * always agree. Renderers produce text into a buffer and never print:
 * render.c (text, JUnit), json.c (JSON), prometheus.c.
 */
#ifndef XG_REPORT_REPORT_H
#define XG_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "check/check.h"
#include "util/buf.h"
#include "util/err.h"

/* One line of a waiver file: "ID YYYY-MM-DD reason...". */
struct xg_waiver {
    char id[32];
    char expires[11]; /* YYYY-MM-DD */
    char *reason;
    unsigned line;
};

struct xg_waivers {
    char *path;
    struct xg_waiver *items;
    size_t count;
};

int xg_waivers_parse(const char *text, size_t len, const char *path, struct xg_waivers *out,
                     struct xg_err *err);
void xg_waivers_free(struct xg_waivers *w);

struct xg_fleet_facts;

struct xg_audit {
    const struct xg_host *host;
    const char *policy_path; /* NULL: no policy */
    enum xg_severity fail_on;
    bool verbose; /* text: evidence of passing checks too */
    struct xg_result *results;
    size_t count;
    /* JSON: the "fleet" section for `xenguard fleet` (src/fleet/facts.h); NULL: none */
    const struct xg_fleet_facts *fleet;
    bool quiet;       /* text: failures, errors and the summary only */
    time_t started;   /* JSON "timestamp" (0: left out) */
    long duration_ms; /* JSON "duration_ms": probing and checking */
};

/* How many results have each status (enum xg_status), and the failures by severity. */
struct xg_audit_counts {
    size_t status[5];
    size_t fail_by_severity[5];
};
struct xg_audit_counts xg_audit_count(const struct xg_audit *a);

/*
 * A failing check with a waiver whose expiry (inclusive) is on or after
 * `today` (YYYY-MM-DD) becomes WAIVED with the waiver's reason; an expired
 * waiver leaves it failing and says so in the evidence.
 */
void xg_audit_apply_waivers(struct xg_audit *a, const struct xg_waivers *w, const char *today);

/* After xg_audit_apply_waivers: a warning (FILE:LINE) for each waiver that
 * waived nothing — its check passes, is n/a or errored, or an earlier line
 * names the same check. */
void xg_waivers_unused(const struct xg_audit *a, const struct xg_waivers *w,
                       struct xg_warnings *out);

/* 1 when some check at or above fail_on failed (or errored), else 0. */
int xg_audit_exit_code(const struct xg_audit *a);

/*
 * Evidence is text from the host's files: any bytes. Every renderer passes
 * it through xg_report_clean() first, so a finding is never dropped nor
 * able to break the format: a byte that is not part of valid UTF-8 becomes
 * the four characters \xNN, and so do the characters the format cannot
 * hold (XML 1.0: C0 controls but tab/LF/CR, U+FFFE/U+FFFF; text for a
 * terminal: every C0/C1 control and DEL, so a file cannot send escape
 * sequences to the reader's terminal).
 */
enum xg_clean_for { XG_CLEAN_JSON, XG_CLEAN_XML, XG_CLEAN_TEXT };
/* A cleaned, NUL-terminated copy of s (malloc'd), or NULL when out of memory. */
char *xg_report_clean(const char *s, enum xg_clean_for mode);

void xg_report_text(const struct xg_audit *a, bool color, struct xg_buf *out);
/* JSON document, "xenguard-audit/1" (doc/audit.schema.json, xenguard-audit(8));
 * NULL on allocation failure. */
char *xg_report_json(const struct xg_audit *a);
/* The check table as JSON, "xenguard-checks/1" (doc/checks.schema.json): for
 * `audit --list --format json`. NULL on allocation failure. */
char *xg_report_checks_json(void);
/* JUnit XML (report/junit.h); out is marked failed when it cannot be written. */
void xg_report_junit(const struct xg_audit *a, struct xg_buf *out);

/* Prometheus text exposition (see prometheus.c): a gauge per check and per
 * severity and status, and the audit's time. */
void xg_report_prometheus(const struct xg_audit *a, time_t when, struct xg_buf *out);
/* The same, written atomically to `path` (mode 0644) for node_exporter's textfile collector. */
int xg_report_prometheus_write(const struct xg_audit *a, const char *path, time_t when,
                               struct xg_err *err);

#endif
