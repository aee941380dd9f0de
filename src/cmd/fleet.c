/*
 * fleet.c — `xenguard fleet REPORT.json...`: one verdict for a cluster from
 * its members' audit reports.
 *
 * The verb reads the reports (files, or directories of *.json), refuses two
 * reports of one host, runs the cluster checks (src/fleet/) and prints text,
 * JSON or JUnit. Exit 0 when every cluster check passed (or does not
 * apply), 1 when one failed, 2 when a report could not be used.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fleet/fleet.h"
#include "verbs.h"

enum { O_AT = XG_CLI_LONG };

static const struct xg_opt options[] = {
    {'f', "format", "FMT", "text (default), json or junit"},
    {O_AT, "at", "DATE",
     "judge certificate expiry as of DATE (YYYY-MM-DD, UTC)\n"
     "instead of now"},
    {'l', "list", NULL, "list the cluster checks and exit"},
    {0},
};

const struct xg_cli xg_cli_fleet = {
    .verb = "fleet",
    .usage = "[-f text|json|junit] [--at DATE] REPORT.json|DIR...\n--list",
    .about = "Check a cluster of Xen hosts from their reports of 'xenguard audit --format json'\n"
             "(a DIR stands for every *.json file in it): peer lists symmetric, one scenario,\n"
             "one transport, one tunnel CA, certificates valid for 30 days more, each firewall\n"
             "admitting every other member on the migration port and nobody else, Xen\n"
             "versions that can migrate to each other.\n",
    .opts = options,
    .epilog = "Exit status: 0 every cluster check passed, 1 one failed, 2 error.\n"
              "JSON reports follow doc/fleet.schema.json (xenguard-fleet/1). See\n"
              "xenguard-fleet(8).\n",
};

static int add_report(struct xg_fleet *f, const char *path)
{
    struct xg_err err = {{0}};
    if (f->count >= XG_FLEET_MAX_HOSTS) {
        fprintf(stderr, "xenguard fleet: more than %d reports\n", XG_FLEET_MAX_HOSTS);
        return -1;
    }
    struct xg_fleet_host *h = &f->hosts[f->count];
    if (xg_fleet_load_report(path, h, &err) < 0) {
        xg_err_print(stderr, "xenguard fleet", &err);
        return -1;
    }
    f->count++;
    for (size_t i = 0; i + 1 < f->count; i++)
        if (h->hostname[0] && !strcmp(h->hostname, f->hosts[i].hostname)) {
            fprintf(stderr,
                    "xenguard fleet: %s: host '%.100s' is also in %s: one report per host\n", path,
                    h->hostname, f->hosts[i].report);
            return -1;
        }
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_json(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

/* A file, or every *.json in a directory (sorted). */
static int add_arg(struct xg_fleet *f, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode))
        return add_report(f, arg);
    struct dirent **names;
    int n = scandir(arg, &names, is_json, by_name), rc = 0;
    if (n < 0) {
        fprintf(stderr, "xenguard fleet: %s: cannot list the directory\n", arg);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", arg, names[i]->d_name);
        if (rc == 0)
            rc = add_report(f, path);
        free(names[i]);
    }
    free(names);
    if (n == 0) {
        fprintf(stderr, "xenguard fleet: %s: no *.json report in it\n", arg);
        return -1;
    }
    return rc;
}

static int parse_at(const char *s, time_t *out)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end)
        return xg_cli_usage_error(&xg_cli_fleet, "--at: expected YYYY-MM-DD, not '%s'", s);
    *out = timegm(&tm);
    return 0;
}

static int list_checks(void)
{
    size_t n;
    const struct xg_fleet_check_def *d = xg_fleet_checks(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-13s %s\n", d[i].id, d[i].title);
    return 0;
}

static int render(const struct xg_fleet_report *r, const char *format)
{
    struct xg_buf b = {0};
    if (!strcmp(format, "json"))
        xg_fleet_json(r, &b);
    else if (!strcmp(format, "junit"))
        xg_fleet_junit(r, &b);
    else
        xg_fleet_text(r, &b);
    int rc = xg_buf_failed(&b) ? -1 : 0;
    if (!rc)
        fputs(xg_buf_str(&b), stdout);
    xg_buf_free(&b);
    return rc;
}

int cmd_fleet(int argc, char **argv)
{
    const char *format = "text";
    time_t now = time(NULL);
    bool list = false;
    int opt;
    struct xg_cli_parser p;
    xg_cli_begin(&p, &xg_cli_fleet, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        switch (opt) {
        case 'f':
            format = p.arg;
            if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "junit"))
                return xg_cli_usage_error(&xg_cli_fleet, "--format: expected text, json or junit");
            break;
        case O_AT:
            if (parse_at(p.arg, &now) < 0)
                return 2;
            break;
        case 'l':
            list = true;
            break;
        default:
            return p.rc;
        }
    }
    if (list)
        return xg_cli_operands(&p, 0, 0) < 0 ? p.rc : list_checks();
    if (p.optind >= argc)
        return xg_cli_usage_error(&xg_cli_fleet, "no report given");
    struct xg_fleet f = {calloc(XG_FLEET_MAX_HOSTS, sizeof(struct xg_fleet_host)), 0};
    struct xg_fleet_report r = {0};
    int rc = 2;
    if (!f.hosts) {
        fprintf(stderr, "xenguard fleet: out of memory\n");
        return 2;
    }
    for (int i = p.optind; i < argc; i++)
        if (add_arg(&f, argv[i]) < 0)
            goto out;
    if (xg_fleet_run(&f, now, &r) < 0 || render(&r, format) < 0) {
        fprintf(stderr, "xenguard fleet: out of memory\n");
        goto out;
    }
    rc = fflush(stdout) == 0 ? xg_fleet_exit_code(&r) : 2;
out:
    xg_fleet_report_free(&r);
    xg_fleet_free(&f);
    return rc;
}
