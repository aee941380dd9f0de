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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fleet/fleet.h"
#include "verbs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard fleet [OPTIONS] REPORT.json|DIR...\n\n"
            "Check a cluster of Xen hosts from their reports of 'xenguard audit --format json'\n"
            "(a DIR stands for every *.json file in it): peer lists symmetric, one scenario,\n"
            "one transport, one tunnel CA, certificates valid for 30 days more, each firewall\n"
            "admitting every other member on the migration port and nobody else, Xen\n"
            "versions that can migrate to each other.\n\n"
            "Options:\n"
            "  -f, --format FMT   text (default), json or junit\n"
            "      --at DATE      judge certificate expiry as of DATE (YYYY-MM-DD, UTC)\n"
            "                     instead of now\n"
            "  -l, --list         list the cluster checks and exit\n"
            "  -h, --help         this help\n\n"
            "Exit status: 0 every cluster check passed, 1 one failed, 2 error.\n"
            "See xenguard-fleet(8).\n");
}

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
    if (!end || *end) {
        fprintf(stderr, "xenguard fleet: --at: expected YYYY-MM-DD, not '%s'\n", s);
        return -1;
    }
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
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"at", required_argument, NULL, 'A'},
                                         {"list", no_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *format = "text";
    time_t now = time(NULL);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:lh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "junit")) {
                fprintf(stderr, "xenguard fleet: --format: expected text, json or junit\n");
                return 2;
            }
            break;
        case 'A':
            if (parse_at(optarg, &now) < 0)
                return 2;
            break;
        case 'l':
            return list_checks();
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "xenguard fleet: no report given (try 'xenguard fleet --help')\n");
        return 2;
    }
    struct xg_fleet f = {calloc(XG_FLEET_MAX_HOSTS, sizeof(struct xg_fleet_host)), 0};
    struct xg_fleet_report r = {0};
    int rc = 2;
    if (!f.hosts) {
        fprintf(stderr, "xenguard fleet: out of memory\n");
        return 2;
    }
    for (int i = optind; i < argc; i++)
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
