/*
 * apply.c — `xenguard apply`: load the policy's ruleset without lockout risk.
 *
 * The verb is the orchestration only (and --diff, apply_diff.c): where the ruleset comes from
 * (apply/source.c), whether it would cut off the caller (apply/guard.c),
 * and the save / watchdog / atomic load sequence (apply/apply.c). On a
 * terminal it asks for confirmation itself; otherwise it leaves the
 * watchdog armed and tells the user to run `xenguard confirm`.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze/host.h"
#include "apply/apply.h"
#include "apply/guard.h"
#include "apply/ipt.h"
#include "apply/perimeter.h"
#include "apply/source.h"
#include "backend/backend.h"
#include "cmd/apply_diff.h"
#include "compile/compile.h"
#include "util/journal.h"
#include "verbs.h"

enum { O_RULESET = XG_CLI_LONG, O_FORCE, O_VIA, O_BOOT, O_PERIMETER };

static const struct xg_opt options[] = {
    {'c', "config", "FILE", "policy file (default " XG_DEFAULT_POLICY_PATH "; - reads stdin)"},
    {O_RULESET, "ruleset", "FILE",
     "load this nft ruleset file instead of compiling a policy;\n"
     "every command in it must name table inet (or bridge) xenguard;\n"
     "- reads stdin, /dev/fd/N a pipe"},
    {'d', "diff", NULL,
     "load nothing: show what apply would change, the rules (a\n"
     "unified diff of the running tables and the new ones, as the\n"
     "kernel lists them) and what they let in (the analyzer's\n"
     "reachability diff); exit 0 no change, 1 a change"},
    {'q', "quiet", NULL, "with --diff: only the changes and the summary line"},
    {'t', "timeout", "SECONDS", "roll back unless confirmed within SECONDS (default 30)"},
    {'y', "yes", NULL,
     "keep the new ruleset at once (no rollback timer; on a\n"
     "terminal only when the ssh session was found)"},
    {O_FORCE, "force", NULL,
     "load even if it would cut off this ssh session (found in\n"
     "SSH_CONNECTION, also of a parent process: sudo, su -)"},
    {'s', "state-dir", "DIR",
     "saved rulesets and pending state (default " XG_DEFAULT_STATE_DIR ");\n"
     "it and every directory above it must be root's and writable\n"
     "by root only"},
    {'b', "backend", "B",
     "auto (default: iptables when iptables-legacy is in use),\n"
     "nft, or iptables (XENGUARD-* chains; the guests' table is\n"
     "still nft)"},
    {O_VIA, "rollback-via", "M", "auto (systemd timer if possible), process, systemd"},
    {O_PERIMETER, "perimeter", NULL,
     "on the cluster's router: load the policy's [perimeter]\n"
     "(table inet xenguard-perimeter, or the XENGUARD-PERIMETER-*\n"
     "chains) instead of the host firewall, with the same\n"
     "rollback, confirm and lockout guard (xenguard-perimeter(8))"},
    {O_BOOT, "boot", NULL, "load the last confirmed rulesets (xenguard.service)"},
    {0},
};

const struct xg_cli xg_cli_apply = {
    .verb = "apply",
    .usage = "[-c FILE | --ruleset FILE] [--perimeter] [-t SECONDS] [-y] [--force] [-b B] [-s DIR]"
             " [--rollback-via M]\n"
             "-d [-q] [-c FILE | --ruleset FILE] [--perimeter] [-b auto|nft|iptables]\n"
             "--boot [-s DIR]",
    .about = "Load the policy's firewall into table inet xenguard, and the guests' protection\n"
             "into table bridge xenguard, in one atomic transaction. Nothing else in the\n"
             "kernel's ruleset changes. Unless 'xenguard confirm' runs within the timeout,\n"
             "the previous tables are restored. With --diff, nothing is loaded.\n",
    .opts = options,
    .epilog = "Exit status: 0 loaded (or --diff: nothing would change), 1 refused, failed or\n"
              "rolled back (--diff: something would change), 2 usage error (--diff: any\n"
              "error). See xenguard-apply(8).\n",
};

/* The guard's question on the candidate: compiled IR, or the listing of a --ruleset file. */
static int guard_ask(struct xg_source *src, const struct xg_session *s, struct xg_guard_verdict *v,
                     struct xg_err *err)
{
    struct xg_ifmap map = {0};
    struct xg_err merr = {{0}};
    const struct xg_ifmap *mp = &map;
    const char *json;
    int rc;
    if (xg_ifmap_from_host(&map, &merr) < 0) {
        fprintf(stderr,
                "xenguard apply: warning: no interface map (%s): reverse-path rules "
                "cannot be decided\n",
                merr.msg);
        mp = NULL;
    }
    if (src->have_ir)
        rc = xg_guard_check(&src->ir, s, mp, v, err);
    else if ((rc = xg_source_listing(src, &json, err)) == 0)
        rc = xg_guard_check_json(json, src->name, s, mp, v, err);
    xg_ifmap_free(&map);
    return rc;
}

/* Lockout guard: 0 = go ahead, -1 = refused (message printed). *found: a session was found. */
static int guard(struct xg_source *src, bool force, bool *found)
{
    struct xg_session s;
    struct xg_err err = {{0}};
    struct xg_guard_verdict v;
    char what[200];
    int has = xg_session_find(&s, &err);
    *found = has != 0;
    if (has < 0) {
        xg_err_print(stderr, "xenguard apply", &err);
        return force ? 0 : -1;
    }
    if (!has)
        return 0;
    xg_session_find_iif(&s);
    xg_session_describe(&s, what, sizeof(what));
    if (guard_ask(src, &s, &v, &err) < 0) {
        if (force) {
            fprintf(stderr, "xenguard apply: warning: lockout guard skipped (--force): %s\n",
                    err.msg);
            return 0;
        }
        fprintf(stderr,
                "xenguard apply: refusing: cannot check that %s stay open: %s "
                "(use --force to load anyway)\n",
                what, err.msg);
        return -1;
    }
    if (v.result == XG_GUARD_KEEPS)
        return 0;
    const char *how = v.result == XG_GUARD_DROPS ? "would drop" : "might drop (unmodelled matches)";
    const char *by = v.result == XG_GUARD_DROPS ? "dropped by" : "undecided at";
    if (force) {
        fprintf(stderr, "xenguard apply: warning: %s %s %s%s%s; loading anyway (--force)\n",
                src->name, how, what, v.rule[0] ? ": " : "", v.rule);
        return 0;
    }
    fprintf(stderr,
            "xenguard apply: refusing: %s %s %s (this session, %s)%s%s%s%s; nothing was "
            "changed. Fix the policy, or use --force\n",
            src->name, how, what, s.whence, v.rule[0] ? ": " : "", v.rule[0] ? by : "",
            v.rule[0] ? " " : "", v.rule);
    return -1;
}

/* On a terminal: wait for "yes" until the deadline. */
static bool ask_keep(time_t deadline)
{
    char line[32];
    fprintf(stderr,
            "Keep this ruleset? Type 'yes' within %lds (anything else restores the old one): ",
            (long)(deadline - time(NULL)));
    fflush(stderr);
    long left = (long)(deadline - time(NULL));
    struct pollfd p = {.fd = 0, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, (int)left * 1000) <= 0 || !fgets(line, sizeof(line), stdin))
        return false;
    line[strcspn(line, "\r\n")] = '\0';
    return !strcmp(line, "yes") || !strcmp(line, "y");
}

/* The iptables backend's texts per family, with and without the hook (o points into ipt). */
static int ipt_texts(const struct xg_source *src, struct xg_buf ipt[2][2], struct xg_apply_opts *o,
                     struct xg_err *err)
{
    for (int f = 0; f < 2; f++)
        for (int h = 0; h < 2; h++)
            if (xg_backend_iptables_ex(&src->ir, f ? 6 : 4, h, &ipt[f][h], err) < 0)
                return -1;
    for (int f = 0; f < 2; f++) {
        o->ipt_text[f] = xg_buf_str(&ipt[f][1]);
        o->ipt_text_nohook[f] = xg_buf_str(&ipt[f][0]);
    }
    return 0;
}

static int parse_timeout(const char *arg, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (!*arg || *end || v == 0 || v > 3600)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_via(const char *arg, enum xg_rollback_via *out)
{
    if (!strcmp(arg, "auto"))
        *out = XG_VIA_AUTO;
    else if (!strcmp(arg, "process"))
        *out = XG_VIA_PROCESS;
    else if (!strcmp(arg, "systemd"))
        *out = XG_VIA_SYSTEMD;
    else
        return -1;
    return 0;
}

/* --boot: load the last confirmed ruleset (xenguard.service). */
static int boot_load(const char *state_dir)
{
    struct xg_err err = {{0}};
    int rc = xg_apply_boot(state_dir, &err);
    xg_journal_outcome("apply", rc, rc ? "nothing" : "boot-loaded", state_dir, &err, "--boot");
    if (rc < 0)
        xg_err_print(stderr, "xenguard apply", &err);
    else if (rc == 1)
        printf("xenguard: no confirmed ruleset in %s; nothing loaded\n", state_dir);
    else
        printf("xenguard: loaded the confirmed ruleset from %s\n", state_dir);
    return rc < 0 ? 1 : 0;
}

/* After a successful load: say so, and on a terminal ask whether to keep it. */
static int report_pending(const struct xg_apply_opts *o, const struct xg_pending *p, bool guests)
{
    struct xg_err err = {{0}};
    const char *what =
        o->perimeter
            ? (o->backend == XG_BACKEND_NFT ? "table inet " XG_NFT_PERIMETER_TABLE
                                            : "the " XG_IPT_PERIMETER_PREFIX "* chains (iptables)")
        : o->backend == XG_BACKEND_NFT
            ? (guests ? "table inet xenguard and table bridge xenguard" : "table inet xenguard")
            : (guests ? "the XENGUARD-* chains (iptables) and table bridge xenguard"
                      : "the XENGUARD-* chains (iptables)");
    if (!o->timeout) {
        printf("xenguard: loaded %s and kept it (--yes)\n", what);
        return 0;
    }
    printf("xenguard: loaded %s; the previous state is restored in %us unless "
           "confirmed (%s watchdog%s)\n",
           what, o->timeout, p->via, p->pid ? "" : " timer");
    fflush(stdout);
    if (isatty(0) && isatty(2)) {
        bool keep = ask_keep(p->deadline);
        int rc = keep ? xg_confirm(o->state_dir, &err) : xg_rollback(o->state_dir, p->token, &err);
        xg_journal_outcome("apply", rc, keep ? "confirmed" : "rolled-back", o->state_dir, &err, "");
        if (rc < 0) {
            xg_err_print(stderr, "xenguard apply", &err);
            return 1;
        }
        if (keep && rc == 0) {
            printf("xenguard: confirmed\n");
            return 0;
        }
        printf("xenguard: the previous ruleset is back\n");
        return 1;
    }
    printf("xenguard: run 'xenguard confirm' within %us to keep it\n", o->timeout);
    return 0;
}

/* The ruleset to load: a --ruleset file; the policy compiled, with the live host's
 * addresses and the declared guests in the guests' table; or, with --perimeter, the
 * policy's [perimeter] (apply/perimeter.h). 0, or the exit status (message printed,
 * src freed). */
static int load_source(struct xg_source *src, const char *config, const char *ruleset,
                       bool perimeter)
{
    struct xg_err err = {{0}};
    struct xg_warnings warnings = {0};
    int rc;
    if (perimeter)
        rc = xg_source_from_perimeter(src, config, &warnings, &err);
    else if (ruleset)
        rc = xg_source_from_file(src, ruleset, &err);
    else if ((rc = xg_source_from_policy(src, config, &warnings, &err)) == 0)
        rc = xg_source_prepare_guests(src, &err);
    for (size_t i = 0; i < warnings.count; i++)
        fprintf(stderr, "xenguard apply: %s\n", warnings.lines[i]);
    xg_warnings_free(&warnings);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard apply", &err);
        xg_source_free(src);
        return 1;
    }
    return 0;
}

struct args {
    const char *config, *ruleset, *backend;
    bool force, boot, yes, diff, quiet;
};

/* The command line into *a and *o; 0, or the exit status (usage error, --help). */
static int parse_args(int argc, char **argv, struct args *a, struct xg_apply_opts *o)
{
    struct xg_cli_parser p;
    int opt;
    xg_cli_begin(&p, &xg_cli_apply, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        switch (opt) {
        case 'c':
            a->config = p.arg;
            break;
        case O_RULESET:
            a->ruleset = p.arg;
            break;
        case 'd':
            a->diff = true;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 't':
            if (parse_timeout(p.arg, &o->timeout) < 0)
                return xg_cli_usage_error(&xg_cli_apply, "--timeout: 1..3600 seconds, not '%s'",
                                          p.arg);
            break;
        case 'y':
            a->yes = true;
            break;
        case O_FORCE:
            a->force = true;
            break;
        case 's':
            o->state_dir = p.arg;
            break;
        case O_VIA:
            if (parse_via(p.arg, &o->via) < 0)
                return xg_cli_usage_error(&xg_cli_apply,
                                          "--rollback-via: auto, process or systemd");
            break;
        case O_BOOT:
            a->boot = true;
            break;
        case O_PERIMETER:
            o->perimeter = true;
            break;
        case 'b':
            if (strcmp(p.arg, "auto") && strcmp(p.arg, "nft") && strcmp(p.arg, "iptables"))
                return xg_cli_usage_error(&xg_cli_apply, "--backend: auto, nft or iptables");
            a->backend = p.arg;
            break;
        default:
            return p.rc ? p.rc : -1; /* -1: --help printed, exit 0 */
        }
    }
    if (xg_cli_operands(&p, 0, 0) < 0)
        return p.rc;
    if (a->diff && a->boot)
        return xg_cli_usage_error(&xg_cli_apply, "--diff shows what apply -c/--ruleset would "
                                                 "load; --boot loads the confirmed ruleset");
    if (a->quiet && !a->diff)
        return xg_cli_usage_error(&xg_cli_apply, "--quiet goes with --diff");
    return 0;
}

int cmd_apply(int argc, char **argv)
{
    struct args a = {.config = XG_DEFAULT_POLICY_PATH, .backend = "auto"};
    struct xg_apply_opts o = {.state_dir = XG_DEFAULT_STATE_DIR, .timeout = XG_DEFAULT_TIMEOUT};
    int prc = parse_args(argc, argv, &a, &o);
    if (prc)
        return prc < 0 ? 0 : prc;
    const char *config = a.config, *ruleset = a.ruleset, *backend = a.backend;
    bool force = a.force, boot = a.boot, yes = a.yes;
    struct xg_err err = {{0}};
    if (boot)
        return boot_load(o.state_dir);
    o.backend = !strcmp(backend, "iptables") || (!strcmp(backend, "auto") && xg_ipt_legacy_in_use())
                    ? XG_BACKEND_IPTABLES
                    : XG_BACKEND_NFT;
    if (o.backend == XG_BACKEND_IPTABLES && ruleset)
        return xg_cli_usage_error(&xg_cli_apply, "--ruleset is nft text; the iptables backend "
                                                 "compiles the policy (-c)");
    if (o.perimeter && ruleset)
        return xg_cli_usage_error(&xg_cli_apply, "--perimeter compiles the policy's [perimeter] "
                                                 "(-c); --ruleset is for the host firewall");

    struct xg_source src;
    int rc = load_source(&src, config, ruleset, o.perimeter);
    if (rc)
        return a.diff ? 2 : rc;
    if (a.diff) {
        rc = apply_preview(&src, o.backend, o.perimeter, a.quiet);
        xg_source_free(&src);
        return rc;
    }
    bool session = false;
    if (guard(&src, force, &session) < 0) {
        xg_journal_op("apply", "refused", src.name, "apply refused: nothing was changed");
        xg_source_free(&src);
        return 1;
    }
    /* sudo and su - hide the session: on a terminal, --yes without a session found may be an
     * admin over ssh whom nothing checked, so the rollback timer stays. */
    if (yes && !session && isatty(0)) {
        fprintf(stderr, "xenguard apply: --yes ignored: on a terminal and no ssh session was "
                        "found; the rollback timer stays\n");
        yes = false;
    }
    if (yes)
        o.timeout = 0;
    o.name = src.name;
    o.nft_text = xg_buf_str(&src.nft);
    o.applied_text = src.applied.len ? xg_buf_str(&src.applied) : NULL;
    o.bridge_text = xg_buf_str(&src.bridge); /* iptables backend: the guests' table is nft */
    struct xg_buf ipt[2][2] = {{{0}}};       /* [family][hook] */
    struct xg_pending p;
    bool compiled = o.backend != XG_BACKEND_IPTABLES || ipt_texts(&src, ipt, &o, &err) == 0;
    rc = compiled ? xg_apply(&o, &p, &err) : -1;
    bool guests = src.have_ir && xg_guests_table(&src.ir);
    xg_journal_outcome("apply", rc, o.timeout ? "loaded" : "kept", o.name, &err, "");
    xg_source_free(&src);
    o.bridge_text = NULL; /* freed with src */
    for (int f = 0; f < 2; f++)
        for (int h = 0; h < 2; h++)
            xg_buf_free(&ipt[f][h]);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard apply", &err);
        fprintf(stderr, "xenguard apply: nothing was changed\n");
        return 1;
    }
    return report_pending(&o, &p, guests);
}
