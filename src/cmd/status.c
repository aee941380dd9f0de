/*
 * status.c — `xenguard status`: is the running table the compiled policy?
 *
 * Both sides are kernel listings: the running `table inet xenguard`, and the
 * candidate as the kernel stores it after loading it into a scratch network
 * namespace. They are compared in normalized `nft -j` form (handles,
 * counters and metainfo removed, keys sorted), object by object, and the
 * objects present on one side only are printed. With a policy (-c), the
 * analyzer's reachability is compared instead (xg_reach_diff, for every
 * service the policy declares); the output says which comparison was made.
 *
 * On an iptables host (`--backend iptables`, or auto: iptables-legacy in
 * use, as apply decides) the running side is iptables-save and
 * ip6tables-save: the whole filter and raw tables, XENGUARD-* chains and
 * whatever else INPUT does, judged by the analyzer against the policy.
 */
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "apply/apply.h"
#include "apply/guard.h"
#include "apply/ipt.h"
#include "apply/nft.h"
#include "apply/source.h"
#include "policy/policy.h"
#include "util/buf.h"
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

/* Every service the policy declares (sshd, the migration port, [allow]) on each of its
 * interfaces, both families: the questions put to both sides. */
static size_t policy_questions(const struct xg_policy *p, struct xg_diff_question *qs, size_t max)
{
    struct {
        uint8_t proto;
        uint16_t port;
    } ports[64];
    const char *ifaces[2] = {p->public_if, p->management_if};
    size_t np = 0, n = 0;
    ports[np].proto = IPPROTO_TCP;
    ports[np++].port = p->ssh_port ? p->ssh_port : 22;
    if (xg_policy_has_migration_port(p)) {
        ports[np].proto = IPPROTO_TCP;
        ports[np++].port = p->migration_port;
    }
    for (size_t i = 0; i < p->service_count; i++)
        for (size_t j = 0; j < p->services[i].port_count && np < 64; j++) {
            ports[np].proto = p->services[i].proto;
            ports[np++].port = p->services[i].ports[j].lo;
        }
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < 2; i++) {
            if (!ifaces[i][0] || (i == 1 && !strcmp(ifaces[0], ifaces[1])))
                continue;
            for (size_t k = 0; k < np && n < max; k++, n++) {
                memset(&qs[n], 0, sizeof(qs[n]));
                qs[n].q = (struct xg_packet_query){.family = f ? 6 : 4,
                                                   .proto = ports[k].proto,
                                                   .dport = ports[k].port,
                                                   .iifname = ifaces[i],
                                                   .path = XG_HOOK_INPUT};
                qs[n].label = ifaces[i];
                qs[n].hi = ports[k].port;
            }
        }
    return n;
}

/*
 * The analyzer's verdict on `have` (the running side) against the policy's
 * listing: what was compared (`of` names it for the iptables backend), an
 * optional line about it, then whether the running side (`who`) lets in
 * exactly what the policy asks. 0 when it does, 1 when not, -1 on error.
 */
static int print_reach(const struct xg_source *src, const struct xg_ruleset *have,
                       const char *want_json, const char *of, const char *extra, const char *who,
                       struct xg_err *err)
{
    struct xg_ruleset want = {0};
    struct xg_diff_question qs[256];
    struct xg_reach_diff d = {0};
    size_t nq = policy_questions(&src->policy, qs, 256);
    if (xg_parse_nft_json(want_json, strlen(want_json), "policy", &want, err) < 0 ||
        xg_reach_diff(have, &want, qs, nq, false, &d, err) < 0) {
        xg_ruleset_free(&want);
        return -1;
    }
    printf("compared: analyzer reachability%s (%zu service/interface/family questions)\n", of,
           d.asked);
    if (extra)
        printf("%s\n", extra);
    if (d.count)
        printf("running: %slets in other sources than %s:\n", who, src->name);
    else
        printf("running: %slets in exactly what %s asks\n", who, src->name);
    for (size_t i = 0; i < d.count; i++) {
        const struct xg_reach_change *c = &d.items[i];
        struct xg_buf line = {0};
        xg_buf_printf(&line, "  %s/%u IPv%d on %s: running lets in ",
                      c->proto == IPPROTO_UDP ? "udp" : "tcp", c->lo, c->family, c->label);
        xg_prefix_list_print(&line, &c->old.may, " ", false, "nothing");
        xg_buf_puts(&line, "; the policy ");
        xg_prefix_list_print(&line, &c->new.may, " ", false, "nothing");
        printf("%s\n", xg_buf_str(&line));
        xg_buf_free(&line);
    }
    int differs = d.count ? 1 : 0;
    xg_reach_diff_free(&d);
    xg_ruleset_free(&want);
    return differs;
}

/* The nft backend with a policy: table inet xenguard against it, by the analyzer. */
static int status_nft_reach(const struct xg_source *src, const char *running, const char *want_json)
{
    struct xg_err err = {{0}};
    struct xg_ruleset have;
    struct xg_fw_evidence ev = {.views = {{XG_FW_NFT_JSON, running, "running ruleset"}},
                                .count = 1};
    int rc = xg_ruleset_from_evidence(&ev, &have, &err);
    if (rc == 0) {
        rc = print_reach(src, &have, want_json, "", NULL, "", &err);
        xg_ruleset_free(&have);
    }
    if (rc < 0)
        xg_err_print(stderr, "xenguard status", &err);
    return rc < 0 ? 1 : rc;
}

/* The iptables backend: both families' save output against the policy, by the analyzer. */
static int status_iptables(const struct xg_source *src, const char *want_json)
{
    struct xg_err err = {{0}};
    struct xg_ruleset have = {0};
    char *save4 = NULL, *save6 = NULL;
    int rc = -1;
    if (xg_ipt_save(4, &save4, &err) == 0 && xg_ipt_save(6, &save6, &err) == 0) {
        struct xg_fw_evidence ev = {.views = {{XG_FW_SAVE4, save4, "iptables-save"},
                                              {XG_FW_SAVE6, save6, "ip6tables-save"}},
                                    .count = 2};
        rc = xg_ruleset_from_evidence(&ev, &have, &err);
    }
    if (rc == 0) {
        char hook[128];
        snprintf(hook, sizeof(hook), "hook: INPUT %s to XENGUARD-INPUT (IPv4), %s (IPv6)",
                 xg_ipt_hooked(save4) ? "jumps" : "does NOT jump",
                 xg_ipt_hooked(save6) ? "jumps" : "does NOT jump");
        rc = print_reach(src, &have, want_json, " of iptables-save + ip6tables-save", hook,
                         "iptables ", &err);
        xg_ruleset_free(&have);
    }
    if (rc < 0)
        xg_err_print(stderr, "xenguard status", &err);
    free(save4);
    free(save6);
    return rc < 0 ? 1 : rc;
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
