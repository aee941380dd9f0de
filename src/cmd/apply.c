/*
 * apply.c — `xenguard apply`: load the policy's ruleset without lockout risk.
 *
 * The verb is the orchestration only: where the ruleset comes from
 * (apply/source.c), whether it would cut off the caller (apply/guard.c),
 * and the save / watchdog / atomic load sequence (apply/apply.c). On a
 * terminal it asks for confirmation itself; otherwise it leaves the
 * watchdog armed and tells the user to run `xenguard confirm`.
 */
#include <errno.h>
#include <getopt.h>
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
#include "compile/compile.h"
#include "util/journal.h"
#include "verbs.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: xenguard apply [-c FILE | --ruleset FILE] [--perimeter] [--timeout SECONDS] "
        "[--yes]\n"
        "                      [--force] [--state-dir DIR] [--rollback-via auto|process|systemd]\n"
        "       xenguard apply --boot [--state-dir DIR]\n\n"
        "Load the policy's firewall into table inet xenguard, and the guests' protection\n"
        "into table bridge xenguard, in one atomic transaction. Nothing else in the\n"
        "kernel's ruleset changes. Unless 'xenguard confirm' runs within the timeout,\n"
        "the previous tables are restored.\n\n"
        "  -c, --config FILE      policy file (default %s)\n"
        "  -r, --ruleset FILE     load this nft ruleset file instead of compiling a policy;\n"
        "                         every command in it must name table inet (or bridge) xenguard\n"
        "  -t, --timeout SECONDS  roll back unless confirmed within SECONDS (default %d)\n"
        "  -y, --yes              keep the new ruleset at once (no rollback timer; on a\n"
        "                         terminal only when the ssh session was found)\n"
        "  -f, --force            load even if it would cut off this ssh session (found in\n"
        "                         SSH_CONNECTION, also of a parent process: sudo, su -)\n"
        "  -s, --state-dir DIR    saved rulesets and pending state (default %s); it and every\n"
        "                         directory above it must be root's and writable by root only\n"
        "      --rollback-via M   auto (systemd timer if possible), process, systemd\n"
        "      --perimeter        on the cluster's router: load the policy's [perimeter]\n"
        "                         (table inet xenguard-perimeter, or the XENGUARD-PERIMETER-*\n"
        "                         chains) instead of the host firewall, with the same\n"
        "                         rollback, confirm and lockout guard (xenguard-perimeter(8))\n"
        "      --boot             load the last confirmed rulesets (xenguard.service)\n"
        "  -h, --help             this text\n",
        XG_DEFAULT_POLICY_PATH, XG_DEFAULT_TIMEOUT, XG_DEFAULT_STATE_DIR);
}

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
    if (!*arg || *end || v == 0 || v > 3600) {
        fprintf(stderr, "xenguard apply: --timeout: 1..3600 seconds, not '%s'\n", arg);
        return -1;
    }
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
    else {
        fprintf(stderr, "xenguard apply: --rollback-via: auto, process or systemd\n");
        return -1;
    }
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
    if (perimeter && ruleset) {
        fprintf(stderr, "xenguard apply: --perimeter compiles the policy's [perimeter] (-c); "
                        "--ruleset is for the host firewall\n");
        return 2;
    }
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

int cmd_apply(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"ruleset", required_argument, NULL, 'r'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"yes", no_argument, NULL, 'y'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"state-dir", required_argument, NULL, 's'},
                                         {"rollback-via", required_argument, NULL, 'V'},
                                         {"boot", no_argument, NULL, 'B'},
                                         {"backend", required_argument, NULL, 'K'},
                                         {"perimeter", no_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = XG_DEFAULT_POLICY_PATH, *ruleset = NULL;
    struct xg_apply_opts o = {.state_dir = XG_DEFAULT_STATE_DIR, .timeout = XG_DEFAULT_TIMEOUT};
    bool force = false, boot = false, yes = false;
    const char *backend = "auto";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:r:t:yfs:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'r':
            ruleset = optarg;
            break;
        case 't':
            if (parse_timeout(optarg, &o.timeout) < 0)
                return 2;
            break;
        case 'y':
            yes = true;
            break;
        case 'f':
            force = true;
            break;
        case 's':
            o.state_dir = optarg;
            break;
        case 'V':
            if (parse_via(optarg, &o.via) < 0)
                return 2;
            break;
        case 'B':
            boot = true;
            break;
        case 'P':
            o.perimeter = true;
            break;
        case 'K':
            if (!strcmp(optarg, "auto") || !strcmp(optarg, "nft") || !strcmp(optarg, "iptables")) {
                backend = optarg;
                break;
            }
            fprintf(stderr, "xenguard apply: --backend: auto, nft or iptables\n");
            return 2;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    struct xg_err err = {{0}};
    if (boot)
        return boot_load(o.state_dir);
    o.backend = !strcmp(backend, "iptables") || (!strcmp(backend, "auto") && xg_ipt_legacy_in_use())
                    ? XG_BACKEND_IPTABLES
                    : XG_BACKEND_NFT;
    if (o.backend == XG_BACKEND_IPTABLES && ruleset) {
        fprintf(stderr, "xenguard apply: --ruleset is nft text; the iptables backend compiles the "
                        "policy (-c)\n");
        return 2;
    }

    struct xg_source src;
    int rc = load_source(&src, config, ruleset, o.perimeter);
    if (rc)
        return rc;
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
