/*
 * apply_diff.c — `xenguard apply --diff`: what apply would change, loading nothing.
 *
 * The candidate is the one apply would load (the same xg_source: the policy
 * compiled with the live host's addresses and the running guests' elements,
 * a --ruleset file, or the [perimeter]); it goes only into a scratch
 * network namespace. Two views of the change:
 *   rules         the running tables and the candidate's, both as the
 *                 kernel lists them (stateless `nft list table`: no counter
 *                 values, no handles), as a unified diff;
 *   reachability  the analyzer's diff of the two rulesets, the questions
 *                 `xenguard analyze --diff` asks (apply/diff.h).
 * With the iptables backend the host chains are iptables': the running side
 * is iptables-save + ip6tables-save, the candidate that with xenguard's chains
 * replaced as apply's restore does it (xg_ipt_preview: the jumps stay where
 * they are on a host already hooked); their change is judged by the
 * analyzer only (iptables-save's form of a rule is not the compiler's, so a
 * text diff would show formatting), the guests' table (nft) by text too.
 * Exit: 0 nothing would change, 1 something would, 2 error.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "apply/diff.h"
#include "apply/ipt.h"
#include "apply/nft.h"
#include "apply/source.h"
#include "backend/backend.h"
#include "cmd/analyze.h"
#include "cmd/apply_diff.h"
#include "compile/compile.h"

static const struct xg_nft_tref inet_only[] = {{XG_NFT_FAMILY, XG_NFT_TABLE}, {NULL, NULL}};
static const struct xg_nft_tref bridge_only[] = {{XG_NFT_BRIDGE_FAMILY, XG_NFT_TABLE},
                                                 {NULL, NULL}};
static const struct xg_nft_tref perimeter[] = {{XG_NFT_FAMILY, XG_NFT_PERIMETER_TABLE},
                                               {NULL, NULL}};

/* Does the listing hold table `family` xenguard? */
static bool has_table(const char *json, const char *family)
{
    char *norm = NULL;
    struct xg_err e = {{0}};
    bool has = xg_nft_normalize_table(json, family, false, &norm, &e) == 0 && strcmp(norm, "[]");
    free(norm);
    return has;
}

/* The running side and the candidate as stateless text, and which tables they cover. */
struct sides {
    char *have, *want, *want_json;
    const char *tables; /* for the header */
};

static void sides_free(struct sides *s)
{
    free(s->have);
    free(s->want);
    free(s->want_json);
}

/* nft backend: table inet xenguard, and table bridge xenguard when the candidate decides it
 * (a policy always does; a --ruleset file only when it holds that table). */
static int nft_sides(struct xg_source *src, struct sides *s, struct xg_err *err)
{
    const char *json, *text;
    if (xg_source_listing(src, &json, err) < 0 || xg_source_text(src, &text, err) < 0)
        return -1;
    bool bridge = src->have_ir || has_table(json, XG_NFT_BRIDGE_FAMILY);
    s->tables = bridge ? "table inet xenguard, table bridge xenguard" : "table inet xenguard";
    if (xg_nft_list_stateless(bridge ? xg_source_tables : inet_only, &s->have, err) < 0)
        return -1;
    s->want = strdup(text); /* without a bridge table the scratch text has no bridge part */
    s->want_json = strdup(json);
    return s->want && s->want_json ? 0 : xg_fail(err, "out of memory");
}

/* iptables backend: only the guests' table is nft. */
static int bridge_sides(struct xg_source *src, struct sides *s, struct xg_err *err)
{
    char *json = NULL;
    s->tables = "table bridge xenguard";
    if (xg_nft_list_stateless(bridge_only, &s->have, err) < 0)
        return -1;
    const char *cmds = xg_buf_str(&src->bridge);
    int rc = xg_nft_scratch_text(cmds, src->name, bridge_only, &json, &s->want, err);
    free(json);
    return rc;
}

static int perimeter_sides(struct xg_source *src, struct sides *s, struct xg_err *err)
{
    s->tables = "table inet " XG_NFT_PERIMETER_TABLE;
    if (xg_nft_list_stateless(perimeter, &s->have, err) < 0)
        return -1;
    return xg_nft_scratch_text(xg_buf_str(&src->nft), src->name, perimeter, &s->want_json, &s->want,
                               err);
}

/* The running tables of `tables` as one ruleset (JSON listings, appended). */
static int running_ruleset(const struct xg_nft_tref *tables, struct xg_ruleset *rs,
                           struct xg_err *err)
{
    for (size_t i = 0; tables[i].family; i++) {
        char cmd[128], *json = NULL;
        struct xg_err e = {{0}};
        snprintf(cmd, sizeof(cmd), "list table %s %s", tables[i].family, tables[i].name);
        if (xg_nft_run(cmd, true, "nft", &json, &e) < 0)
            continue; /* absent: nothing to add (a real failure shows in the text side) */
        int rc = xg_parse_nft_json(json, strlen(json), "running ruleset", rs, err);
        free(json);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* iptables backend: both families' save, and the same with xenguard's chains replaced. */
static int ipt_rulesets(const struct xg_source *src, struct xg_ruleset *old, struct xg_ruleset *new,
                        struct xg_err *err)
{
    int rc = 0;
    for (int f = 0; f < 2 && rc == 0; f++) {
        struct xg_buf text = {0}, nohook = {0};
        char *save = NULL, *merged = NULL;
        uint8_t family = f ? 6 : 4;
        rc = xg_ipt_save(family, &save, err);
        if (rc == 0)
            rc = xg_backend_iptables_ex(&src->ir, family, true, &text, err);
        if (rc == 0)
            rc = xg_backend_iptables_ex(&src->ir, family, false, &nohook, err);
        if (rc == 0)
            rc = xg_ipt_preview(save, xg_buf_str(&text), xg_buf_str(&nohook), &merged, err);
        if (rc == 0)
            rc = xg_parse_iptables_save(save, strlen(save), f ? "ip6tables-save" : "iptables-save",
                                        family, old, err);
        if (rc == 0)
            rc = xg_parse_iptables_save(merged, strlen(merged), src->name, family, new, err);
        free(save);
        free(merged);
        xg_buf_free(&text);
        xg_buf_free(&nohook);
    }
    return rc;
}

static void print_change(const struct xg_reach_change *c)
{
    char svc[32];
    if (c->lo == c->hi)
        snprintf(svc, sizeof(svc), "%s/%u", c->proto == IPPROTO_UDP ? "udp" : "tcp", c->lo);
    else
        snprintf(svc, sizeof(svc), "%s/%u-%u", c->proto == IPPROTO_UDP ? "udp" : "tcp", c->lo,
                 c->hi);
    printf("%s on %s, IPv%u:\n", svc, !strcmp(c->label, "*") ? "any other interface" : c->label,
           c->family);
    if (c->gained.count) {
        printf("  now reachable from:   ");
        analyze_print_prefixes(&c->gained, "                        ");
    }
    if (c->lost.count) {
        printf("  no longer reachable from: ");
        analyze_print_prefixes(&c->lost, "                            ");
    }
    if (!c->gained.count && !c->lost.count)
        printf("  only the lower (must) bound changed\n");
}

/* The analyzer's view: 0 no change, 1 change, -1 error. */
static int reach_view(const struct xg_ruleset *old, const struct xg_ruleset *new, bool quiet,
                      struct xg_err *err)
{
    struct xg_preview_reach p;
    if (xg_preview_reach(old, new, &p, err) < 0) {
        xg_preview_reach_free(&p);
        return -1;
    }
    if (!quiet)
        printf("reachability (the analyzer, input path, %zu questions)%s\n", p.d.asked,
               p.d.count ? ":" : ": no change");
    for (size_t i = 0; i < p.d.count; i++)
        print_change(&p.d.items[i]);
    int changed = p.d.count ? 1 : 0;
    xg_preview_reach_free(&p);
    return changed;
}

/* The rules' view: 0 equal, 1 different, -1 error. */
static int rules_view(const struct sides *s, const char *name, bool quiet)
{
    struct xg_buf out = {0};
    char have[160], want[600];
    snprintf(have, sizeof(have), "running (%s)", s->tables);
    snprintf(want, sizeof(want), "%s", name);
    long n = xg_text_diff(s->have, s->want, have, want, &out);
    if (n < 0 || xg_buf_failed(&out)) {
        xg_buf_free(&out);
        return -1;
    }
    if (!quiet)
        printf("rules (%s)%s\n", s->tables, n ? ":" : ": no change");
    fputs(xg_buf_str(&out), stdout);
    xg_buf_free(&out);
    return n ? 1 : 0;
}

int apply_preview(struct xg_source *src, enum xg_backend_kind backend, bool perimeter_only,
                  bool quiet)
{
    struct xg_err err = {{0}};
    struct sides s = {0};
    struct xg_ruleset old = {0}, new = {0};
    int rules = -1, reach = 0;
    const char *how = perimeter_only              ? "the perimeter"
                      : backend == XG_BACKEND_NFT ? "nft backend"
                                                  : "iptables backend";
    if (perimeter_only && backend != XG_BACKEND_NFT) {
        fprintf(stderr, "xenguard apply --diff: --perimeter with the iptables backend: not "
                        "supported (compare with `xenguard analyze --perimeter`)\n");
        return 2;
    }
    if (!quiet)
        printf("xenguard apply --diff: %s against the running firewall (%s); nothing is loaded\n",
               src->name, how);
    int rc = perimeter_only              ? perimeter_sides(src, &s, &err)
             : backend == XG_BACKEND_NFT ? nft_sides(src, &s, &err)
                                         : bridge_sides(src, &s, &err);
    if (rc == 0 && (rules = rules_view(&s, src->name, quiet)) < 0)
        rc = xg_fail(&err, "out of memory");
    if (rc == 0 && !perimeter_only) {
        if (backend == XG_BACKEND_NFT)
            rc = running_ruleset(xg_source_tables, &old, &err) < 0 ||
                         xg_parse_nft_json(s.want_json, strlen(s.want_json), src->name, &new,
                                           &err) < 0
                     ? -1
                     : 0;
        else
            rc = ipt_rulesets(src, &old, &new, &err);
        if (rc == 0 && (reach = reach_view(&old, &new, quiet, &err)) < 0)
            rc = -1;
    } else if (rc == 0 && !quiet) {
        printf("reachability: not compared for the perimeter (a router's forward path: see "
               "`xenguard analyze --perimeter`)\n");
    }
    xg_ruleset_free(&old);
    xg_ruleset_free(&new);
    sides_free(&s);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard apply --diff", &err);
        return 2;
    }
    bool changed = rules > 0 || reach > 0;
    printf("%s: %s\n", changed ? "would change" : "no change",
           changed ? (rules > 0 && reach > 0 ? "the rules and what they let in"
                      : rules > 0            ? "the rules (what they let in stays the same)"
                                             : "what the firewall lets in")
                   : "the running firewall is what apply would load");
    return changed ? 1 : 0;
}
