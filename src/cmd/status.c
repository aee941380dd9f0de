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
 *
 * The guests' `table bridge xenguard` is compared too, as normalized
 * listings (the candidate with the live host's addresses and the running
 * guests, as apply would load it); the vif_* sets' elements, which
 * `xenguard vif` adds at run time, are left out on both sides. Everything is
 * gathered into one struct result first, then printed as text or as JSON
 * ("schema": "xenguard-status/1", doc/status.schema.json). Exit: 0 the
 * running firewall is the policy, 1 it is not, 2 error; a pending apply is
 * reported, not counted (it is what was loaded until the watchdog fires).
 */
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "analyze/space.h"
#include "apply/apply.h"
#include "apply/guard.h"
#include "apply/ipt.h"
#include "apply/nft.h"
#include "apply/source.h"
#include "cmd/analyze.h"
#include "policy/policy.h"
#include "util/buf.h"
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

/* One of xenguard's nft tables, running against wanted (normalized listings). */
struct table_cmp {
    const char *name;             /* "table inet xenguard" */
    bool checked;                 /* compared at all */
    bool running, wanted;         /* present on each side */
    json_t *run_only, *want_only; /* objects on one side only */
};

struct result {
    const char *backend;    /* "nft" or "iptables" */
    const char *comparison; /* "reachability" or "listing" */
    const char *source;
    bool pending;
    struct xg_pending p;
    struct table_cmp inet, bridge;
    bool reach;             /* the analyzer compared table inet (or iptables) with the policy */
    struct xg_reach_diff d; /* its differences */
    struct xg_diff_question qs[256];
    size_t nq;
    bool ipt_hooked[2]; /* iptables: INPUT jumps to XENGUARD-INPUT (IPv4, IPv6) */
};

static void result_free(struct result *r)
{
    json_decref(r->inet.run_only);
    json_decref(r->inet.want_only);
    json_decref(r->bridge.run_only);
    json_decref(r->bridge.want_only);
    xg_reach_diff_free(&r->d);
}

/* The elements of `a` missing from `b`, as a new array. */
static json_t *missing(json_t *a, json_t *b)
{
    json_t *out = json_array(), *x, *y;
    size_t i, j;
    json_array_foreach(a, i, x)
    {
        bool found = false;
        json_array_foreach(b, j, y) if (json_equal(x, y))
        {
            found = true;
            break;
        }
        if (!found)
            json_array_append(out, x);
    }
    return out;
}

/* Compare table `family` xenguard of two listings (NULL: no listing). */
static int compare_table(struct table_cmp *t, const char *family, bool drop_dynamic,
                         const char *have, const char *want, struct xg_err *err)
{
    char *nh = NULL, *nw = NULL;
    int rc = -1;
    if (xg_nft_normalize_table(have, family, drop_dynamic, &nh, err) == 0 &&
        xg_nft_normalize_table(want, family, drop_dynamic, &nw, err) == 0) {
        json_t *h = json_loads(nh, 0, NULL), *w = json_loads(nw, 0, NULL);
        t->checked = true;
        t->running = json_array_size(h) > 0;
        t->wanted = json_array_size(w) > 0;
        t->run_only = missing(h, w);
        t->want_only = missing(w, h);
        json_decref(h);
        json_decref(w);
        rc = 0;
    }
    free(nh);
    free(nw);
    return rc;
}

static bool table_differs(const struct table_cmp *t)
{
    return t->checked && (json_array_size(t->run_only) || json_array_size(t->want_only));
}

static bool drift(const struct result *r)
{
    bool nft = !strcmp(r->backend, "nft");
    bool inet = r->reach ? r->d.count > 0 : nft && (table_differs(&r->inet) || !r->inet.running);
    bool hooks = !nft && !(r->ipt_hooked[0] && r->ipt_hooked[1]);
    return inet || hooks || table_differs(&r->bridge);
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

/* The analyzer's verdict on `have` (the running side) against the policy's listing. */
static int reach_compare(const struct xg_source *src, const struct xg_ruleset *have,
                         const char *want_json, struct result *r, struct xg_err *err)
{
    struct xg_ruleset want = {0};
    r->nq = policy_questions(&src->policy, r->qs, 256);
    r->reach = true;
    r->comparison = "reachability";
    int rc = xg_parse_nft_json(want_json, strlen(want_json), "policy", &want, err) < 0 ||
                     xg_reach_diff(have, &want, r->qs, r->nq, false, &r->d, err) < 0
                 ? -1
                 : 0;
    xg_ruleset_free(&want);
    return rc;
}

/* The nft backend with a policy: table inet xenguard against it, by the analyzer. */
static int nft_reach(const struct xg_source *src, const char *running, const char *want_json,
                     struct result *r, struct xg_err *err)
{
    struct xg_ruleset have;
    struct xg_fw_evidence ev = {.views = {{XG_FW_NFT_JSON, running, "running ruleset"}},
                                .count = 1};
    if (xg_ruleset_from_evidence(&ev, &have, err) < 0)
        return -1;
    int rc = reach_compare(src, &have, want_json, r, err);
    xg_ruleset_free(&have);
    return rc;
}

/* The iptables backend: both families' save output against the policy, by the analyzer. */
static int ipt_reach(const struct xg_source *src, const char *want_json, struct result *r,
                     struct xg_err *err)
{
    struct xg_ruleset have = {0};
    char *save4 = NULL, *save6 = NULL;
    int rc = -1;
    if (xg_ipt_save(4, &save4, err) == 0 && xg_ipt_save(6, &save6, err) == 0) {
        struct xg_fw_evidence ev = {.views = {{XG_FW_SAVE4, save4, "iptables-save"},
                                              {XG_FW_SAVE6, save6, "ip6tables-save"}},
                                    .count = 2};
        rc = xg_ruleset_from_evidence(&ev, &have, err);
    }
    if (rc == 0) {
        r->ipt_hooked[0] = xg_ipt_hooked(save4);
        r->ipt_hooked[1] = xg_ipt_hooked(save6);
        rc = reach_compare(src, &have, want_json, r, err);
        xg_ruleset_free(&have);
    }
    free(save4);
    free(save6);
    return rc;
}

/* Everything status compares, into *r. */
static int gather(struct xg_source *src, bool iptables, struct result *r, struct xg_err *err)
{
    const char *want_json = NULL;
    char *running = NULL, *bridge = NULL;
    int rc = xg_source_listing(src, &want_json, err);
    if (rc == 0)
        rc = xg_nft_bridge_json(&bridge, err);
    /* the guests' table: a policy always decides it, a ruleset file when it holds one */
    if (rc == 0) {
        rc = compare_table(&r->bridge, XG_NFT_BRIDGE_FAMILY, true, bridge, want_json, err);
        if (rc == 0 && !src->have_policy && !r->bridge.wanted)
            r->bridge.checked = false;
    }
    if (rc == 0 && iptables)
        rc = ipt_reach(src, want_json, r, err);
    if (rc == 0 && !iptables)
        rc = xg_nft_table_json(&running, err);
    if (rc == 0 && !iptables)
        rc = compare_table(&r->inet, XG_NFT_FAMILY, false, running, want_json, err);
    if (rc == 0 && !iptables && running && src->have_policy)
        rc = nft_reach(src, running, want_json, r, err);
    free(running);
    free(bridge);
    return rc;
}

/* --- address sets: what one side holds beyond the other, as the analyzer prints it --- */

/* One element of an address set (nft -j: "ADDR", {"prefix": ...}, {"range": [A, B]}). */
static int elem_interval(json_t *e, uint8_t family, struct xg_ivlist *iv)
{
    struct xg_prefix lo, hi;
    char text[XG_PREFIX_STRLEN + 8], why[200];
    json_t *pfx = json_object_get(e, "prefix"), *range = json_object_get(e, "range");
    if (json_is_string(e) && xg_addr_parse(json_string_value(e), &lo) == 0)
        hi = lo;
    else if (pfx) {
        snprintf(text, sizeof(text), "%s/%lld",
                 json_string_value(json_object_get(pfx, "addr")) ?: "?",
                 (long long)json_integer_value(json_object_get(pfx, "len")));
        if (xg_prefix_parse(text, XG_PREFIX_MASK, &lo, why, sizeof(why)) < 0)
            return -1;
        hi = lo;
    } else if (json_array_size(range) == 2 &&
               xg_addr_parse(json_string_value(json_array_get(range, 0)) ?: "", &lo) == 0 &&
               xg_addr_parse(json_string_value(json_array_get(range, 1)) ?: "", &hi) == 0) {
    } else {
        return -1;
    }
    if (lo.family != family || hi.family != family)
        return -1;
    return xg_ivlist_add(iv, xg_prefix_lo(&lo), xg_prefix_hi(&hi));
}

/* An ipv4_addr / ipv6_addr set's elements; -1 for any other set (or element). */
static int set_interval(json_t *set, uint8_t *family, struct xg_ivlist *iv)
{
    const char *type = json_string_value(json_object_get(set, "type"));
    json_t *e;
    size_t i;
    if (!type || (strcmp(type, "ipv4_addr") && strcmp(type, "ipv6_addr")))
        return -1;
    *family = !strcmp(type, "ipv4_addr") ? 4 : 6;
    json_array_foreach(json_object_get(set, "elem"), i,
                       e) if (elem_interval(e, *family, iv) < 0) return -1;
    xg_ivlist_normalize(iv);
    return 0;
}

/* The set named `name` among `objs`, or NULL. */
static json_t *find_set(json_t *objs, const char *name)
{
    json_t *o;
    size_t i;
    json_array_foreach(objs, i, o)
    {
        json_t *set = json_object_get(o, "set");
        if (set && !strcmp(json_string_value(json_object_get(set, "name")) ?: "", name))
            return set;
    }
    return NULL;
}

/* a minus b as a prefix list (into out). */
static int minus(const struct xg_ivlist *a, const struct xg_ivlist *b, uint8_t family,
                 struct xg_prefix_list *out)
{
    struct xg_ivlist d = {0};
    int rc = xg_ivlist_subtract(a, b, family, &d);
    if (rc == 0)
        rc = xg_ivlist_to_prefixes(&d, family, out);
    xg_ivlist_free(&d);
    return rc;
}

/* An address set whose elements differ: what each side holds beyond the other. */
struct set_change {
    const char *name;
    struct xg_prefix_list run_extra, want_extra;
};

/* The address sets in both run_only and want_only (changed elements), at most `max`. */
static size_t set_changes(const struct table_cmp *t, struct set_change *out, size_t max)
{
    json_t *o;
    size_t i, n = 0;
    json_array_foreach(t->run_only, i, o)
    {
        json_t *rs = json_object_get(o, "set");
        const char *name = json_string_value(json_object_get(rs, "name"));
        json_t *ws = name ? find_set(t->want_only, name) : NULL;
        struct xg_ivlist a = {0}, b = {0};
        uint8_t fa = 0, fb = 0;
        if (n < max && ws && set_interval(rs, &fa, &a) == 0 && set_interval(ws, &fb, &b) == 0 &&
            fa == fb) {
            memset(&out[n], 0, sizeof(out[n]));
            out[n].name = name;
            if (minus(&a, &b, fa, &out[n].run_extra) == 0 &&
                minus(&b, &a, fa, &out[n].want_extra) == 0)
                n++;
        }
        xg_ivlist_free(&a);
        xg_ivlist_free(&b);
    }
    return n;
}

static void set_changes_free(struct set_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xg_prefix_list_free(&c[i].run_extra);
        xg_prefix_list_free(&c[i].want_extra);
    }
}

/* Is object `o` a set among the changes (printed as prefixes, not as JSON)? */
static bool is_changed_set(json_t *o, const struct set_change *c, size_t n)
{
    const char *name = json_string_value(json_object_get(json_object_get(o, "set"), "name"));
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(c[i].name, name))
            return true;
    return false;
}

/* --- text --- */

static void print_objects(json_t *a, const char *mark, const struct set_change *c, size_t n)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (is_changed_set(x, c, n))
            continue;
        char *text = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
        printf("  %s %s\n", mark, text ? text : "?");
        free(text);
    }
}

/* One table's comparison; objects listed only with `objects` (the listing comparison, or
 * the bridge table). */
static void text_table(const struct table_cmp *t, const char *source, bool quiet, bool verbose,
                       bool objects)
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
    } else if (!table_differs(t)) {
        if (!quiet)
            printf("running: %s equals %s%s\n", t->name, source,
                   bridge ? " (vif_* elements aside)" : "");
        return;
    }
    if (!objects && !verbose)
        return;
    struct set_change c[32];
    size_t n = set_changes(t, c, 32);
    printf("running: %s differs from %s%s:\n", t->name, source, objects ? "" : " (as listed)");
    for (size_t i = 0; i < n; i++) {
        printf("  set %s: running also holds: ", c[i].name);
        analyze_print_prefixes(&c[i].run_extra, "      ");
        printf("  set %s: the policy also holds: ", c[i].name);
        analyze_print_prefixes(&c[i].want_extra, "      ");
    }
    print_objects(t->run_only, "- running only:", c, n);
    print_objects(t->want_only, "+ policy only: ", c, n);
    set_changes_free(c, n);
}

static void text_reach(const struct result *r, bool quiet, bool verbose)
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

static void print_text(const struct result *r, bool quiet, bool verbose)
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
    printf("status: %s%s%s\n", drift(r) ? "drift: the running firewall differs from " : "as ",
           r->source, r->pending ? " (an apply is pending)" : "");
}

/* --- JSON --- */

static json_t *json_table(const struct table_cmp *t)
{
    struct set_change c[32];
    if (!t->checked)
        return json_null();
    size_t n = set_changes(t, c, 32);
    json_t *sets = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sets, json_pack("{s:s,s:o,s:o}", "name", c[i].name, "running_only",
                                              analyze_prefixes_json(&c[i].run_extra), "policy_only",
                                              analyze_prefixes_json(&c[i].want_extra)));
    set_changes_free(c, n);
    return json_pack("{s:s,s:b,s:b,s:b,s:O,s:O,s:o}", "table", t->name, "running", t->running,
                     "policy", t->wanted, "equal", !table_differs(t) && t->running == t->wanted,
                     "running_only", t->run_only, "policy_only", t->want_only, "sets", sets);
}

static json_t *json_reach(const struct result *r)
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

static void print_json(const struct result *r)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "schema", "xenguard-status/1", "version",
                          XG_VERSION, "source", r->source, "backend", r->backend, "comparison",
                          r->comparison, "as_policy", !drift(r));
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
    struct result r = {.backend = iptables ? "iptables" : "nft",
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
        rc = gather(&src, iptables, &r, &err);
    }
    if (rc < 0) {
        xg_err_print(stderr, "xenguard status", &err);
    } else {
        if (a.json)
            print_json(&r);
        else
            print_text(&r, a.quiet, a.verbose);
        rc = drift(&r) ? 1 : 0;
    }
    result_free(&r);
    if (has >= 0)
        xg_source_free(&src);
    return rc < 0 ? 2 : rc;
}
