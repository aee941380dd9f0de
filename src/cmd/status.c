/*
 * status.c — `xenguard status`: is the running table the compiled policy?
 *
 * Both sides are kernel listings: the running `table inet xenguard`, and the
 * candidate as the kernel stores it after loading it into a scratch network
 * namespace. They are compared in normalized `nft -j` form (handles,
 * counters and metainfo removed, keys sorted), object by object, and the
 * objects present on one side only are printed. A comparison of the
 * analyzer's reachability is the better test once the analyzer is linked;
 * the output says which comparison was made.
 *
 * On an iptables host (`--backend iptables`, or auto: iptables-legacy in
 * use, as apply decides) the running side is iptables-save and
 * ip6tables-save: the whole filter and raw tables, XENGUARD-* chains and
 * whatever else INPUT does, judged by the analyzer against the policy.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply/apply.h"
#include "apply/guard.h"
#include "apply/ipt.h"
#include "apply/nft.h"
#include "apply/source.h"
#include "verbs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard status [-c FILE | --ruleset FILE] [--backend B] [--state-dir DIR]\n\n"
            "Say whether the running firewall lets in what the compiled policy asks, what\n"
            "differs, and whether an apply is waiting for confirmation.\n"
            "Exit status: 0 equal, 1 different (or error), 2 usage.\n\n"
            "  -c, --config FILE     policy file (default %s)\n"
            "  -r, --ruleset FILE    compare with this nft ruleset file instead\n"
            "  -b, --backend B       auto (default: iptables when iptables-legacy is in use),\n"
            "                        nft (table inet xenguard) or iptables (iptables-save and\n"
            "                        ip6tables-save, judged by the analyzer; needs -c)\n"
            "  -s, --state-dir DIR   (default %s)\n",
            XG_DEFAULT_POLICY_PATH, XG_DEFAULT_STATE_DIR);
}

/* Print the elements of `a` missing from `b`, with `mark`; returns how many. */
static size_t print_missing(json_t *a, json_t *b, const char *mark)
{
    size_t i, j, n = 0;
    json_t *x, *y;
    json_array_foreach(a, i, x)
    {
        bool found = false;
        json_array_foreach(b, j, y) if (json_equal(x, y))
        {
            found = true;
            break;
        }
        if (found)
            continue;
        char *text = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
        printf("  %s %s\n", mark, text ? text : "?");
        free(text);
        n++;
    }
    return n;
}

/*
 * The analyzer's verdict: what was compared (`of` names it for the iptables
 * backend), an optional line about it, then whether the running side (`who`)
 * lets in exactly what the policy asks. 0 when it does.
 */
static int print_reach(const char *of, const char *extra, const char *who, const char *name,
                       const struct xg_buf *report, size_t differences, size_t queries)
{
    printf("compared: analyzer reachability%s (%zu service/interface/family questions)\n", of,
           queries);
    if (extra)
        printf("%s\n", extra);
    if (differences) {
        printf("running: %slets in other sources than %s:\n%s", who, name, xg_buf_str(report));
        return 1;
    }
    printf("running: %slets in exactly what %s asks\n", who, name);
    return 0;
}

/* The nft backend with a policy: table inet xenguard against it, by the analyzer. */
static int status_nft_reach(const struct xg_source *src, const char *running, const char *want_json)
{
    struct xg_err err = {{0}};
    struct xg_buf report = {0};
    size_t differences = 0, queries = 0;
    int rc = 1;
    if (xg_reach_diff(running, want_json, &src->policy, &report, &differences, &queries, &err) < 0)
        xg_err_print(stderr, "xenguard status", &err);
    else
        rc = print_reach("", NULL, "", src->name, &report, differences, queries);
    xg_buf_free(&report);
    return rc;
}

/* The iptables backend: both families' save output against the policy, by the analyzer. */
static int status_iptables(const struct xg_source *src, const char *want_json)
{
    struct xg_err err = {{0}};
    struct xg_buf report = {0};
    char *save4 = NULL, *save6 = NULL;
    size_t differences = 0, queries = 0;
    int rc = 1;
    if (xg_ipt_save(4, &save4, &err) < 0 || xg_ipt_save(6, &save6, &err) < 0 ||
        xg_reach_diff_iptables(save4, save6, want_json, &src->policy, &report, &differences,
                               &queries, &err) < 0)
        xg_err_print(stderr, "xenguard status", &err);
    else {
        char hook[128];
        snprintf(hook, sizeof(hook), "hook: INPUT %s to XENGUARD-INPUT (IPv4), %s (IPv6)",
                 xg_ipt_hooked(save4) ? "jumps" : "does NOT jump",
                 xg_ipt_hooked(save6) ? "jumps" : "does NOT jump");
        rc = print_reach(" of iptables-save + ip6tables-save", hook, "iptables ", src->name,
                         &report, differences, queries);
    }
    xg_buf_free(&report);
    free(save4);
    free(save6);
    return rc;
}

/* Without a policy (--ruleset): the normalized nft listings, object by object. */
static int status_nft_listing(const struct xg_source *src, const char *running,
                              const char *norm_want, const char *norm_have)
{
    printf("compared: normalized nft -j listing of table inet xenguard (analyzer used only with "
           "-c POLICY)\n");
    if (!running) {
        printf("running: no table inet xenguard is loaded\n");
        return 1;
    }
    if (!strcmp(norm_want, norm_have)) {
        printf("running: table inet xenguard equals %s\n", src->name);
        return 0;
    }
    json_t *w = json_loads(norm_want, 0, NULL), *h = json_loads(norm_have, 0, NULL);
    printf("running: table inet xenguard differs from %s:\n", src->name);
    print_missing(h, w, "- running only:");
    print_missing(w, h, "+ policy only: ");
    json_decref(w);
    json_decref(h);
    return 1;
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"ruleset", required_argument, NULL, 'r'},
                                         {"state-dir", required_argument, NULL, 's'},
                                         {"backend", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = XG_DEFAULT_POLICY_PATH, *ruleset = NULL, *state_dir = XG_DEFAULT_STATE_DIR;
    const char *backend = "auto";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:r:s:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (strcmp(optarg, "auto") && strcmp(optarg, "nft") && strcmp(optarg, "iptables")) {
                fprintf(stderr, "xenguard status: --backend: auto, nft or iptables\n");
                return 2;
            }
            backend = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'r':
            ruleset = optarg;
            break;
        case 's':
            state_dir = optarg;
            break;
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
    bool iptables = !strcmp(backend, "iptables") ||
                    (!strcmp(backend, "auto") && !ruleset && xg_ipt_legacy_in_use());
    if (iptables && ruleset) {
        fprintf(stderr, "xenguard status: --ruleset is nft text; the iptables backend is "
                        "compared with a policy (-c)\n");
        return 2;
    }
    struct xg_err err = {{0}};
    struct xg_pending p;
    int has = xg_pending_read(state_dir, &p, &err);
    if (has < 0) {
        xg_err_print(stderr, "xenguard status", &err);
        return 1;
    }
    if (has)
        printf("pending: an apply is unconfirmed; rolled back in %lds unless 'xenguard confirm' "
               "(%s watchdog)\n",
               (long)(p.deadline - time(NULL)), p.via);

    struct xg_source src;
    struct xg_warnings warnings = {0};
    const char *want_json = NULL;
    char *running = NULL, *norm_want = NULL, *norm_have = NULL;
    int rc = ruleset ? xg_source_from_file(&src, ruleset, &err)
                     : xg_source_from_policy(&src, config, &warnings, &err);
    xg_warnings_free(&warnings);
    if (rc == 0)
        rc = xg_source_listing(&src, &want_json, &err);
    if (rc == 0 && !iptables)
        rc = xg_nft_table_json(&running, &err);
    if (rc == 0 && !iptables)
        rc = xg_nft_normalize(want_json, &norm_want, &err);
    if (rc == 0 && !iptables)
        rc = xg_nft_normalize(running, &norm_have, &err);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard status", &err);
        xg_source_free(&src);
        free(norm_want);
        free(running);
        return 1;
    }
    int exit_code;
    if (iptables)
        exit_code = status_iptables(&src, want_json);
    else if (running && src.have_policy)
        exit_code = status_nft_reach(&src, running, want_json);
    else
        exit_code = status_nft_listing(&src, running, norm_want, norm_have);
    free(norm_want);
    free(norm_have);
    free(running);
    xg_source_free(&src);
    return exit_code;
}
