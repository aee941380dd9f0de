/*
 * status.c — `xenguard status`: is the running table the compiled policy?
 *
 * The comparison itself lives in src/apply/status.c (struct xg_status:
 * both tables as normalized nft -j listings, or the analyzer's reachability
 * against the policy, or iptables-save judged by the analyzer); this file
 * parses the options and prints the result as text, or as JSON ("schema":
 * "xenguard-status/1", doc/status.schema.json). Address sets that differ are
 * printed the way the analyzer prints sets. Exit: 0 the running firewall is
 * the policy, 1 it is not, 2 error; a pending apply is
 * reported, not counted (it is what was loaded until the watchdog fires).
 */
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/ipt.h"
#include "apply/source.h"
#include "apply/status.h"
#include "cmd/analyze.h"
#include "verbs.h"

enum { O_RULESET = XG_CLI_LONG };

static const struct xg_opt options[] = {
    {'c', "config", "FILE", "policy file (default " XG_DEFAULT_POLICY_PATH "; - reads stdin)"},
    {O_RULESET, "ruleset", "FILE",
     "compare with this nft ruleset file instead (- reads stdin,\n"
     "/dev/fd/N a pipe)"},
    {'b', "backend", "B",
     "auto (default: iptables when iptables-legacy is in use),\n"
     "nft (table inet xenguard) or iptables (iptables-save and\n"
     "ip6tables-save, judged by the analyzer; needs -c)"},
    {'f', "format", "F", "text (default) or json (\"schema\": \"xenguard-status/1\")"},
    {'q', "quiet", NULL, "text: only the differences and the summary line"},
    {'v', "verbose", NULL, "text: also the questions asked and the tables that agree"},
    {'s', "state-dir", "DIR",
     "where a pending apply is recorded (default " XG_DEFAULT_STATE_DIR ")"},
    {0},
};

const struct xg_cli xg_cli_status = {
    .verb = "status",
    .usage = "[-c FILE | --ruleset FILE] [-b auto|nft|iptables] [-f text|json] [-q | -v] [-s DIR]",
    .about = "Say whether the running firewall (table inet xenguard, or the iptables chains,\n"
             "and the guests' table bridge xenguard) is what the policy asks, what differs,\n"
             "and whether an apply is waiting for confirmation.\n",
    .opts = options,
    .epilog = "Exit status: 0 the running firewall is the policy (a pending apply is reported,\n"
              "not counted), 1 it differs, 2 error or usage error. See xenguard-status(8);\n"
              "the JSON's schema is doc/status.schema.json.\n",
};

/* --- text --- */

static void print_objects(json_t *a, const char *mark, const struct xg_set_change *c, size_t n)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (xg_status_is_changed_set(x, c, n))
            continue;
        char *text = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
        printf("  %s %s\n", mark, text ? text : "?");
        free(text);
    }
}

/* One table's comparison; objects listed only with `objects` (the listing comparison, or
 * the bridge table). */
static void text_table(const struct xg_status_table *t, const char *source, bool quiet,
                       bool verbose, bool objects)
{
    bool bridge = !strcmp(t->name, "table bridge xenguard");
    if (!t->checked)
        return;
    if (!t->running && !t->wanted) {
        if (verbose)
            printf("%s: neither loaded nor in %s\n", t->name, source);
        return;
    } else if (!t->running) {
        printf("running: no %s is loaded (%s has one)\n", t->name, source);
        return;
    } else if (!t->wanted) {
        printf("running: %s is loaded; %s has none\n", t->name, source);
        return;
    } else if (!xg_status_table_differs(t)) {
        if (!quiet)
            printf("running: %s equals %s%s\n", t->name, source,
                   bridge ? " (vif_* elements aside)" : "");
        return;
    }
    if (!objects && !verbose)
        return;
    struct xg_set_change c[32];
    size_t n = xg_status_set_changes(t, c, 32);
    printf("running: %s differs from %s%s:\n", t->name, source, objects ? "" : " (as listed)");
    for (size_t i = 0; i < n; i++) {
        printf("  set %s: running also holds: ", c[i].name);
        analyze_print_prefixes(&c[i].run_extra, "      ");
        printf("  set %s: the policy also holds: ", c[i].name);
        analyze_print_prefixes(&c[i].want_extra, "      ");
    }
    print_objects(t->run_only, "- running only:", c, n);
    print_objects(t->want_only, "+ policy only: ", c, n);
    xg_status_set_changes_free(c, n);
}

static void text_reach(const struct xg_status *r, bool quiet, bool verbose)
{
    const char *who = strcmp(r->backend, "iptables") ? "" : "iptables ";
    if (!quiet)
        printf("compared: analyzer reachability%s (%zu service/interface/family questions)\n",
               *who ? " of iptables-save + ip6tables-save" : "", r->d.asked);
    if (verbose)
        for (size_t i = 0; i < r->nq; i++)
            printf("  asked: %s/%u IPv%u on %s\n", r->qs[i].q.proto == IPPROTO_UDP ? "udp" : "tcp",
                   r->qs[i].q.dport, r->qs[i].q.family, r->qs[i].label);
    if (*who && (!quiet || !(r->ipt_hooked[0] && r->ipt_hooked[1])))
        printf("hook: INPUT %s to XENGUARD-INPUT (IPv4), %s (IPv6)\n",
               r->ipt_hooked[0] ? "jumps" : "does NOT jump",
               r->ipt_hooked[1] ? "jumps" : "does NOT jump");
    if (r->d.count)
        printf("running: %slets in other sources than %s:\n", who, r->source);
    else if (!quiet)
        printf("running: %slets in exactly what %s asks\n", who, r->source);
    for (size_t i = 0; i < r->d.count; i++) {
        const struct xg_reach_change *c = &r->d.items[i];
        printf("  %s/%u IPv%d on %s:\n", c->proto == IPPROTO_UDP ? "udp" : "tcp", c->lo, c->family,
               c->label);
        printf("    running lets in:    ");
        analyze_print_prefixes(&c->old.may, "                        ");
        printf("    the policy lets in: ");
        analyze_print_prefixes(&c->new.may, "                        ");
    }
}

static void print_text(const struct xg_status *r, bool quiet, bool verbose)
{
    if (r->pending)
        printf("pending: an apply is unconfirmed; rolled back in %lds unless 'xenguard confirm' "
               "(%s watchdog)\n",
               (long)(r->p.deadline - time(NULL)), r->p.via);
    if (r->reach) {
        text_table(&r->inet, r->source, true, verbose, false);
        text_reach(r, quiet, verbose);
    } else if (!strcmp(r->backend, "nft")) {
        if (!quiet)
            printf("compared: normalized nft -j listing of table inet xenguard (analyzer used "
                   "only with -c POLICY)\n");
        text_table(&r->inet, r->source, quiet, verbose, true);
    }
    text_table(&r->bridge, r->source, quiet, verbose, true);
    printf("status: %s%s%s\n",
           xg_status_drift(r) ? "drift: the running firewall differs from " : "as ", r->source,
           r->pending ? " (an apply is pending)" : "");
}

/* --- JSON --- */

static json_t *json_table(const struct xg_status_table *t)
{
    struct xg_set_change c[32];
    if (!t->checked)
        return json_null();
    size_t n = xg_status_set_changes(t, c, 32);
    json_t *sets = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sets, json_pack("{s:s,s:o,s:o}", "name", c[i].name, "running_only",
                                              analyze_prefixes_json(&c[i].run_extra), "policy_only",
                                              analyze_prefixes_json(&c[i].want_extra)));
    xg_status_set_changes_free(c, n);
    return json_pack("{s:s,s:b,s:b,s:b,s:O,s:O,s:o}", "table", t->name, "running", t->running,
                     "policy", t->wanted, "equal",
                     !xg_status_table_differs(t) && t->running == t->wanted, "running_only",
                     t->run_only, "policy_only", t->want_only, "sets", sets);
}

static json_t *json_reach(const struct xg_status *r)
{
    json_t *diffs = json_array();
    for (size_t i = 0; i < r->d.count; i++) {
        const struct xg_reach_change *c = &r->d.items[i];
        char svc[32];
        snprintf(svc, sizeof(svc), "%s/%u", c->proto == IPPROTO_UDP ? "udp" : "tcp", c->lo);
        json_array_append_new(diffs, json_pack("{s:s,s:i,s:s,s:o,s:o}", "iface", c->label, "family",
                                               c->family, "service", svc, "running",
                                               analyze_prefixes_json(&c->old.may), "policy",
                                               analyze_prefixes_json(&c->new.may)));
    }
    return json_pack("{s:I,s:o}", "questions", (json_int_t)r->d.asked, "differences", diffs);
}

static void print_json(const struct xg_status *r)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "schema", "xenguard-status/1", "version",
                          XG_VERSION, "source", r->source, "backend", r->backend, "comparison",
                          r->comparison, "as_policy", !xg_status_drift(r));
    json_object_set_new(j, "pending",
                        r->pending ? json_pack("{s:I,s:s,s:b}", "seconds_left",
                                               (json_int_t)(r->p.deadline - time(NULL)), "via",
                                               r->p.via, "perimeter", r->p.perimeter)
                                   : json_null());
    json_object_set_new(j, "inet", json_table(&r->inet));
    json_object_set_new(j, "bridge", json_table(&r->bridge));
    json_object_set_new(j, "reachability", r->reach ? json_reach(r) : json_null());
    json_object_set_new(
        j, "hooked",
        strcmp(r->backend, "iptables")
            ? json_null()
            : json_pack("{s:b,s:b}", "ipv4", r->ipt_hooked[0], "ipv6", r->ipt_hooked[1]));
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

struct args {
    const char *config, *ruleset, *state_dir, *backend;
    bool json, quiet, verbose;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    struct xg_cli_parser p;
    int opt;
    xg_cli_begin(&p, &xg_cli_status, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        switch (opt) {
        case 'b':
            if (strcmp(p.arg, "auto") && strcmp(p.arg, "nft") && strcmp(p.arg, "iptables"))
                return xg_cli_usage_error(&xg_cli_status, "--backend: auto, nft or iptables");
            a->backend = p.arg;
            break;
        case 'c':
            a->config = p.arg;
            break;
        case O_RULESET:
            a->ruleset = p.arg;
            break;
        case 's':
            a->state_dir = p.arg;
            break;
        case 'f':
            if (strcmp(p.arg, "text") && strcmp(p.arg, "json"))
                return xg_cli_usage_error(&xg_cli_status, "--format: text or json, not '%s'",
                                          p.arg);
            a->json = !strcmp(p.arg, "json");
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'v':
            a->verbose = true;
            break;
        default:
            return p.rc ? p.rc : -1; /* -1: --help printed, exit 0 */
        }
    }
    if (xg_cli_operands(&p, 0, 0) < 0)
        return p.rc;
    if (a->quiet && a->verbose)
        return xg_cli_usage_error(&xg_cli_status, "--quiet or --verbose, not both");
    return 0;
}

int cmd_status(int argc, char **argv)
{
    struct args a = {
        .config = XG_DEFAULT_POLICY_PATH, .state_dir = XG_DEFAULT_STATE_DIR, .backend = "auto"};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    bool iptables = !strcmp(a.backend, "iptables") ||
                    (!strcmp(a.backend, "auto") && !a.ruleset && xg_ipt_legacy_in_use());
    if (iptables && a.ruleset)
        return xg_cli_usage_error(&xg_cli_status, "--ruleset is nft text; the iptables backend "
                                                  "is compared with a policy (-c)");
    struct xg_err err = {{0}};
    struct xg_warnings warnings = {0};
    struct xg_source src = {.ruleset_fd = -1};
    struct xg_status r = {.backend = iptables ? "iptables" : "nft",
                          .comparison = "listing",
                          .inet = {.name = "table inet xenguard"},
                          .bridge = {.name = "table bridge xenguard"}};
    int has = xg_pending_read(a.state_dir, &r.p, &err);
    r.pending = has == 1;
    rc = has < 0     ? -1
         : a.ruleset ? xg_source_from_file(&src, a.ruleset, &err)
                     : xg_source_from_policy(&src, a.config, &warnings, &err);
    xg_warnings_free(&warnings);
    /* the guests' table as apply would load it: the host's addresses, the running guests */
    if (rc == 0 && !a.ruleset)
        rc = xg_source_prepare_guests(&src, &err);
    if (rc == 0) {
        r.source = src.name;
        rc = xg_status_gather(&src, iptables, &r, &err);
    }
    if (rc < 0) {
        xg_err_print(stderr, "xenguard status", &err);
    } else {
        if (a.json)
            print_json(&r);
        else
            print_text(&r, a.quiet, a.verbose);
        rc = xg_status_drift(&r) ? 1 : 0;
    }
    xg_status_free(&r);
    if (has >= 0)
        xg_source_free(&src);
    return rc < 0 ? 2 : rc;
}
