/*
 * audit.c — `xenguard audit`: probe the host, run every check, report.
 *
 * Read-only: the probes read files (and, for the live host, run
 * iptables-save, ip6tables-save, nft -j list ruleset, ip -j addr and
 * xl info / xl list -l; for JSON also ip -j route, for the fleet section's
 * reverse-path answers); nothing on the host changes. Exit 0 when nothing
 * at or above --fail-on failed, 1 when something did, 2 when the audit
 * itself could not run (bad option, unreadable root, bad policy or waiver
 * file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "analyze/host.h"
#include "check/check.h"
#include "check/perimeter.h"
#include "fleet/facts.h"
#include "policy/policy.h"
#include "probe/probe.h"
#include "probe/rootfs.h"
#include "report/report.h"
#include "util/file.h"
#include "verbs.h"

enum { O_FAIL_ON = XG_CLI_LONG, O_SKIP, O_COLOR, O_PROMETHEUS, O_PERIMETER };

static const struct xg_opt options[] = {
    {'c', "config", "FILE",
     "policy file: scenario, interfaces, peers, admins\n"
     "(without it: the strictest reading)"},
    {'r', "root", "DIR", "audit a captured or mounted root instead of this host"},
    {'f', "format", "FMT", "text (default), json or junit"},
    {O_FAIL_ON, "fail-on", "SEV",
     "exit 1 when a check of this severity or above fails\n"
     "(info, low, medium, high [default], critical)"},
    {O_SKIP, "skip", "ID[,ID]", "do not run these checks (reported as n/a)"},
    {'W', "waivers", "FILE", "accepted findings: \"ID YYYY-MM-DD reason\" per line"},
    {O_COLOR, "color", "WHEN", "auto (default), always, never"},
    {O_PROMETHEUS, "prometheus", "FILE",
     "also write the results as Prometheus gauges (node_exporter\n"
     "textfile collector), atomically"},
    {'v', "verbose", NULL, "text: show the evidence of passing checks too"},
    {'q', "quiet", NULL,
     "text: only the failures and errors (with their evidence and\n"
     "fix lines) and the summary line"},
    {'l', "list", NULL,
     "list the checks and exit (with -v: what each means;\n"
     "with -f json: the table as JSON, xenguard-checks/1)"},
    {O_PERIMETER, "perimeter-ruleset", "FILE",
     "the cluster router's captured ruleset (iptables-save,\n"
     "ip6tables-save or nft -j list ruleset; repeat for both\n"
     "families) for XG-PER-001/002, with -c's [perimeter]"},
    {0},
};

const struct xg_cli xg_cli_audit = {
    .verb = "audit",
    .usage = "[-c FILE] [-r DIR] [-f text|json|junit] [--fail-on SEV] [--skip ID[,ID]]\n"
             "[-W FILE] [-v|-q] [--prometheus FILE] [--perimeter-ruleset FILE]\n"
             "--list [-v] [-f text|json]",
    .about = "Audit this Xen host (or a captured root) against the \"Securing Xen\" practices.\n"
             "Each failure names the fix: one command per line, for what the evidence found.\n",
    .opts = options,
    .epilog = "Exit status: 0 nothing at or above --fail-on failed, 1 something did, 2 error.\n"
              "JSON reports follow doc/audit.schema.json (xenguard-audit/1). See\n"
              "xenguard-audit(8).\n",
};

static bool skipped(char **skips, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(skips[i], id))
            return true;
    return false;
}

/* --list: the check table, as text (with -v: what each means) or JSON. */
static int list_checks(bool verbose, bool json)
{
    size_t n;
    const struct xg_check_def *t = xg_checks(&n);
    if (json) {
        char *text = xg_report_checks_json();
        if (!text) {
            fprintf(stderr, "xenguard audit: out of memory\n");
            return 2;
        }
        printf("%s\n", text);
        free(text);
        return fflush(stdout) == 0 ? 0 : 2;
    }
    for (size_t i = 0; i < n; i++) {
        printf("%-12s %-8s %s\n", t[i].id, xg_severity_name(t[i].severity), t[i].title);
        if (verbose)
            printf("    practice: %s\n    %s\n    remediation: %s\n    reads: %s\n",
                   xg_practice_name(t[i].practice), t[i].description, t[i].remediation,
                   t[i].reads ? t[i].reads : "(not declared)");
    }
    return 0;
}

struct audit_opts {
    const char *config, *root, *format, *waivers_path, *color_when, *prometheus;
    enum xg_severity fail_on;
    bool verbose, quiet, list;
    char *skips[128];
    size_t skip_count;
    const char *perimeter[4]; /* --perimeter-ruleset FILE (the router's, up to 4 views) */
    size_t perimeter_count;
};

/* --skip ID[,ID]: 0, or 2 (usage error printed) for an unknown check. */
static int add_skips(struct audit_opts *o, char *list)
{
    for (char *save = NULL, *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        if (!xg_check_find(id))
            return xg_cli_usage_error(&xg_cli_audit, "--skip: unknown check '%s' (see --list)", id);
        if (o->skip_count < sizeof(o->skips) / sizeof(o->skips[0]))
            o->skips[o->skip_count++] = id;
    }
    return 0;
}

/* One option into o: 0, or the exit status (2: usage error, printed). */
static int take_opt(struct audit_opts *o, int opt, char *arg)
{
    switch (opt) {
    case 'c':
        o->config = arg;
        break;
    case 'r':
        o->root = arg;
        break;
    case 'f':
        o->format = arg;
        break;
    case 'W':
        o->waivers_path = arg;
        break;
    case O_COLOR:
        o->color_when = arg;
        break;
    case O_PROMETHEUS:
        o->prometheus = arg;
        break;
    case 'v':
        o->verbose = true;
        break;
    case 'q':
        o->quiet = true;
        break;
    case 'l':
        o->list = true;
        break;
    case O_FAIL_ON:
        if (xg_severity_parse(arg, &o->fail_on) < 0)
            return xg_cli_usage_error(&xg_cli_audit, "--fail-on: unknown severity '%s'", arg);
        break;
    case O_SKIP:
        return add_skips(o, arg);
    case O_PERIMETER:
        if (o->perimeter_count == 4)
            return xg_cli_usage_error(&xg_cli_audit, "--perimeter-ruleset: at most 4 files");
        o->perimeter[o->perimeter_count++] = arg;
        break;
    }
    return 0;
}

/* 0: go on; 1: done, exit 0 (--help); 2: usage error (message printed). */
static int parse_opts(int argc, char **argv, struct audit_opts *o)
{
    struct xg_cli_parser p;
    int opt, rc;
    *o = (struct audit_opts){
        .root = "/", .format = "text", .color_when = "auto", .fail_on = XG_SEV_HIGH};
    xg_cli_begin(&p, &xg_cli_audit, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        if (opt == XG_CLI_STOP)
            return p.rc == 0 ? 1 : p.rc;
        /* p.arg points into argv, which is ours: --skip splits it in place */
        if ((rc = take_opt(o, opt, (char *)p.arg)))
            return rc;
    }
    if (xg_cli_operands(&p, 0, 0) < 0)
        return p.rc;
    if (strcmp(o->format, "text") && strcmp(o->format, "json") && strcmp(o->format, "junit"))
        return xg_cli_usage_error(&xg_cli_audit, "--format: expected text, json or junit");
    if (o->list && !strcmp(o->format, "junit"))
        return xg_cli_usage_error(&xg_cli_audit, "--list: --format text or json");
    if (o->quiet && o->verbose)
        return xg_cli_usage_error(&xg_cli_audit, "--quiet and --verbose contradict each other");
    if (strcmp(o->color_when, "auto") && strcmp(o->color_when, "always") &&
        strcmp(o->color_when, "never"))
        return xg_cli_usage_error(&xg_cli_audit, "--color: expected auto, always or never");
    return 0;
}

/* The policy (-c) and the waivers (-W), when given. */
static int load_inputs(const struct audit_opts *o, struct xg_policy *policy, bool *have_policy,
                       struct xg_waivers *waivers, struct xg_err *err)
{
    if (o->config) {
        struct xg_warnings warn = {0};
        int lrc = xg_policy_load(o->config, policy, &warn, err);
        for (size_t i = 0; lrc == 0 && i < warn.count; i++)
            fprintf(stderr, "xenguard audit: warning: %s\n", warn.lines[i]);
        xg_warnings_free(&warn);
        if (lrc < 0)
            return -1;
        *have_policy = true;
    }
    if (o->waivers_path) {
        size_t len;
        char *text;
        if (xg_file_read(o->waivers_path, false, &text, &len, err) < 0)
            return -1;
        int w = xg_waivers_parse(text, len, o->waivers_path, waivers, err);
        free(text);
        if (w < 0)
            return -1;
    }
    return 0;
}

/* Every check, or n/a for those --skip names. */
static struct xg_result *run_checks(const struct audit_opts *o, const struct xg_host *host,
                                    const struct xg_policy *policy, size_t *n)
{
    const struct xg_check_def *defs = xg_checks(n);
    struct xg_result *results = calloc(*n, sizeof(*results));
    if (!results)
        return NULL;
    for (size_t i = 0; i < *n; i++) {
        if (skipped((char **)o->skips, o->skip_count, defs[i].id)) {
            results[i].def = &defs[i];
            xg_na(&results[i], "skipped (--skip %s)", defs[i].id);
            continue;
        }
        xg_check_run(&defs[i], host, policy, &results[i]);
    }
    return results;
}

/* --perimeter-ruleset: the router's ruleset answers XG-PER-001/002 (n/a without it). */
static void run_perimeter(const struct audit_opts *o, const struct xg_policy *policy,
                          struct xg_result *results, size_t n)
{
    struct xg_fw_evidence ev = {0};
    char *texts[4] = {NULL};
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    int rc = 0;
    if (!o->perimeter_count)
        return;
    for (size_t i = 0; i < o->perimeter_count && rc == 0; i++, ev.count++) {
        size_t len;
        rc = xg_file_read(o->perimeter[i], false, &texts[i], &len, &err);
        ev.views[i] = (struct xg_fw_view){rc == 0 ? xg_fw_kind_guess(texts[i]) : XG_FW_SAVE4,
                                          texts[i], o->perimeter[i]};
    }
    if (rc == 0)
        rc = xg_ruleset_from_evidence(&ev, &rs, &err);
    for (size_t i = 0; i < n; i++) {
        if (!xg_check_is_perimeter(results[i].def) ||
            skipped((char **)o->skips, o->skip_count, results[i].def->id))
            continue;
        const struct xg_check_def *def = results[i].def;
        xg_result_free(&results[i]);
        xg_check_perimeter(def, rc == 0 ? &rs : NULL, o->perimeter[0], err.msg, policy,
                           &results[i]);
    }
    xg_ruleset_free(&rs);
    for (size_t i = 0; i < 4; i++)
        free(texts[i]);
}

/* The report in the chosen format on stdout: 0, or -1 when out of memory. */
static int render(const struct audit_opts *o, const struct xg_audit *audit)
{
    if (!strcmp(o->format, "json")) {
        char *text = xg_report_json(audit);
        if (!text)
            return -1;
        printf("%s\n", text);
        free(text);
        return 0;
    }
    struct xg_buf b = {0};
    if (!strcmp(o->format, "junit"))
        xg_report_junit(audit, &b);
    else
        xg_report_text(audit,
                       !strcmp(o->color_when, "always") ||
                           (!strcmp(o->color_when, "auto") && isatty(1) && !getenv("NO_COLOR")),
                       &b);
    int rc = xg_buf_failed(&b) ? -1 : 0;
    if (!rc)
        fputs(xg_buf_str(&b), stdout);
    xg_buf_free(&b);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    struct audit_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (o.list)
        return list_checks(o.verbose, !strcmp(o.format, "json"));

    struct xg_err err = {{0}};
    struct xg_policy policy;
    bool have_policy = false, have_host = false;
    struct xg_waivers waivers = {0};
    struct xg_host host;
    struct xg_result *results = NULL;
    struct xg_fleet_facts facts = {0};
    size_t n = 0;
    struct timespec t0, t1;
    time_t started = time(NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = 2;
    if (load_inputs(&o, &policy, &have_policy, &waivers, &err) < 0 ||
        xg_probe_host(o.root, &host, &err) < 0) {
        xg_err_print(stderr, "xenguard audit", &err);
        goto out;
    }
    have_host = true;
    if (!(results = run_checks(&o, &host, have_policy ? &policy : NULL, &n))) {
        fprintf(stderr, "xenguard audit: out of memory\n");
        goto out;
    }
    run_perimeter(&o, have_policy ? &policy : NULL, results, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct xg_audit audit = {
        .host = &host,
        .policy_path = have_policy ? o.config : NULL,
        .fail_on = o.fail_on,
        .verbose = o.verbose,
        .quiet = o.quiet,
        .results = results,
        .count = n,
        .started = started,
        .duration_ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L,
    };
    if (o.waivers_path) {
        char today[16];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        xg_audit_apply_waivers(&audit, &waivers, today);
        struct xg_warnings unused = {0};
        xg_waivers_unused(&audit, &waivers, &unused);
        for (size_t i = 0; i < unused.count; i++)
            fprintf(stderr, "xenguard audit: %s\n", unused.lines[i]);
        xg_warnings_free(&unused);
    }
    /* JSON carries the facts `xenguard fleet` needs (src/fleet/facts.h) */
    if (!strcmp(o.format, "json")) {
        if (xg_fleet_facts_collect(&host, have_policy ? &policy : NULL, o.root, &facts, &err) < 0) {
            xg_err_print(stderr, "xenguard audit", &err);
            goto out;
        }
        audit.fleet = &facts;
    }
    if (render(&o, &audit) < 0) {
        fprintf(stderr, "xenguard audit: out of memory\n");
        goto out;
    }
    rc = xg_audit_exit_code(&audit);
    if (o.prometheus && xg_report_prometheus_write(&audit, o.prometheus, started, &err) < 0) {
        xg_err_print(stderr, "xenguard audit: --prometheus", &err);
        rc = 2;
    }
    if (fflush(stdout) != 0)
        rc = 2;
out:
    xg_fleet_facts_free(&facts);
    for (size_t i = 0; results && i < n; i++)
        xg_result_free(&results[i]);
    free(results);
    if (have_host)
        xg_host_free(&host);
    if (have_policy)
        xg_policy_free(&policy);
    xg_waivers_free(&waivers);
    return rc;
}
