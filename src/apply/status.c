/*
 * status.c — the running firewall against the policy's, for `xenguard
 * status` (see status.h). Gathers; prints nothing: the verb renders.
 */
#include "apply/status.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/host.h"
#include "analyze/space.h"
#include "apply/apply.h"
#include "apply/ipt.h"
#include "apply/nft.h"
#include "policy/policy.h"

void xg_status_free(struct xg_status *r)
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
static int compare_table(struct xg_status_table *t, const char *family, bool drop_dynamic,
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

bool xg_status_table_differs(const struct xg_status_table *t)
{
    return t->checked && (json_array_size(t->run_only) || json_array_size(t->want_only));
}

bool xg_status_drift(const struct xg_status *r)
{
    bool nft = !strcmp(r->backend, "nft");
    bool inet =
        r->reach ? r->d.count > 0 : nft && (xg_status_table_differs(&r->inet) || !r->inet.running);
    bool hooks = !nft && !(r->ipt_hooked[0] && r->ipt_hooked[1]);
    return inet || hooks || xg_status_table_differs(&r->bridge);
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
                         const char *want_json, struct xg_status *r, struct xg_err *err)
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
                     struct xg_status *r, struct xg_err *err)
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
static int ipt_reach(const struct xg_source *src, const char *want_json, struct xg_status *r,
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
int xg_status_gather(struct xg_source *src, bool iptables, struct xg_status *r, struct xg_err *err)
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

/* The address sets in both run_only and want_only (changed elements), at most `max`. */
size_t xg_status_set_changes(const struct xg_status_table *t, struct xg_set_change *out, size_t max)
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

void xg_status_set_changes_free(struct xg_set_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xg_prefix_list_free(&c[i].run_extra);
        xg_prefix_list_free(&c[i].want_extra);
    }
}

/* Is object `o` a set among the changes (printed as prefixes, not as JSON)? */
bool xg_status_is_changed_set(json_t *o, const struct xg_set_change *c, size_t n)
{
    const char *name = json_string_value(json_object_get(json_object_get(o, "set"), "name"));
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(c[i].name, name))
            return true;
    return false;
}
