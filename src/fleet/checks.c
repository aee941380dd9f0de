/*
 * checks.c — the cluster checks of `xenguard fleet`: properties no single
 * host can see, judged from every member's report.
 *
 * Each check is a pure function of the loaded reports (and of `now`, for
 * certificate expiry) that gives every host a verdict (PASS, FAIL, or N/A
 * where the check does not apply to it) and writes one finding per fault,
 * naming the hosts, the addresses and the values involved. The cluster
 * check fails when any host fails it. Members' addresses come from their
 * own reports (xg_fleet_cluster_addrs): the addresses on their cluster
 * interface, which is what the other members must list and admit.
 * A host audited without a policy fails the checks that need one: an
 * unknown peer list is not a symmetric one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

#define DAY           86400
#define CERT_MIN_DAYS 30

void xg_fleet_finding(struct xg_fleet_result *r, const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    char **grown = n >= 0 ? realloc(r->findings, (r->finding_count + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        free(n >= 0 ? line : NULL);
        r->oom = true;
        return;
    }
    r->findings = grown;
    r->findings[r->finding_count++] = line;
}

static void host_fail(struct xg_fleet_result *r, size_t i)
{
    r->per_host[i] = XG_STATUS_FAIL;
}

static const char *N(const struct xg_fleet *f, size_t i)
{
    return xg_fleet_host_name(&f->hosts[i]);
}

bool xg_fleet_need_policy(const struct xg_fleet *f, size_t i, struct xg_fleet_result *r)
{
    if (f->hosts[i].has_policy)
        return true;
    host_fail(r, i);
    xg_fleet_finding(r, "%s: audited without a policy (xenguard audit -c): not known", N(f, i));
    return false;
}

static void fmt_prefix(const struct xg_prefix *p, char out[XG_PREFIX_STRLEN])
{
    xg_prefix_format(p, true, out);
}

static int addr_cmp(const void *a, const void *b)
{
    const struct xg_fleet_member_addr *x = a, *y = b;
    int c = xg_prefix_cmp(&x->addr, &y->addr);
    return c ? c : (x->host > y->host) - (x->host < y->host);
}

int xg_fleet_index_build(const struct xg_fleet *f, struct xg_fleet_index *ix)
{
    size_t cap = 0;
    memset(ix, 0, sizeof(*ix));
    for (size_t i = 0; i < f->count; i++)
        cap += f->hosts[i].addr_count;
    if (!(ix->e = calloc(cap + 1, sizeof(*ix->e))))
        return -1;
    for (size_t i = 0; i < f->count; i++) {
        struct xg_prefix_list ca = {0};
        if (xg_fleet_cluster_addrs(&f->hosts[i], &ca) < 0) {
            xg_prefix_list_free(&ca);
            xg_fleet_index_free(ix);
            return -1;
        }
        for (size_t k = 0; k < ca.count && ix->n < cap; k++)
            ix->e[ix->n++] = (struct xg_fleet_member_addr){ca.items[k], i};
        xg_prefix_list_free(&ca);
    }
    qsort(ix->e, ix->n, sizeof(*ix->e), addr_cmp);
    return 0;
}

size_t xg_fleet_index_first(const struct xg_fleet_index *ix, const struct xg_prefix *p)
{
    struct xg_prefix start = *p;
    start.len = (uint8_t)xg_family_bits(p->family); /* the network's first address */
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (xg_prefix_cmp(&ix->e[mid].addr, &start) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void xg_fleet_index_free(struct xg_fleet_index *ix)
{
    free(ix->e);
    memset(ix, 0, sizeof(*ix));
}

/* Host i's peers: mark the member addresses they cover; an entry covering no other member's
 * address is a finding. */
static void peers_cover(const struct xg_fleet *f, size_t i, const struct xg_fleet_index *ix,
                        bool *covered, struct xg_fleet_result *r)
{
    const struct xg_prefix_list *peers = &f->hosts[i].peers;
    for (size_t p = 0; p < peers->count; p++) {
        bool names_member = false;
        for (size_t k = xg_fleet_index_first(ix, &peers->items[p]);
             k < ix->n && xg_prefix_contains(&peers->items[p], &ix->e[k].addr); k++) {
            covered[k] = true;
            names_member |= ix->e[k].host != i;
        }
        if (!names_member) {
            char a[XG_PREFIX_STRLEN];
            xg_prefix_format(&peers->items[p], true, a);
            host_fail(r, i);
            xg_fleet_finding(r, "%s lists peer %s, which is no other member's cluster address",
                             N(f, i), a);
        }
    }
}

/* XG-FLEET-001: each member lists every other member, and no peer entry names nobody. */
static void check_peers(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r)
{
    (void)now;
    struct xg_fleet_index ix;
    if (xg_fleet_index_build(f, &ix) < 0) {
        r->oom = true;
        return;
    }
    bool *covered = calloc(ix.n + 1, sizeof(*covered));
    for (size_t i = 0; covered && i < f->count; i++) {
        if (!xg_fleet_need_policy(f, i, r))
            continue;
        memset(covered, 0, (ix.n + 1) * sizeof(*covered));
        peers_cover(f, i, &ix, covered, r);
        for (size_t k = 0; k < ix.n; k++)
            if (ix.e[k].host != i && !covered[k]) {
                char a[XG_PREFIX_STRLEN];
                fmt_prefix(&ix.e[k].addr, a);
                host_fail(r, i);
                xg_fleet_finding(r, "%s does not list %s (%s) as a peer", N(f, i),
                                 N(f, ix.e[k].host), a);
            }
    }
    r->oom |= !covered;
    free(covered);
    xg_fleet_index_free(&ix);
}

/* Hosts whose value (from `get`) differs from the most common one fail. */
static void same_value(const struct xg_fleet *f, struct xg_fleet_result *r, const char *what,
                       const char *(*get)(const struct xg_fleet_host *, char *, size_t))
{
    typedef char value[96];
    value *v = calloc(f->count + 1, sizeof(*v));
    bool *has = calloc(f->count + 1, sizeof(*has));
    size_t best = SIZE_MAX, best_n = 0;
    for (size_t i = 0; v && has && i < f->count; i++)
        has[i] = get(&f->hosts[i], v[i], sizeof(v[i])) != NULL;
    for (size_t i = 0; v && has && i < f->count; i++) {
        size_t n = 0;
        if (!has[i] || (best != SIZE_MAX && !strcmp(v[i], v[best])))
            continue;
        for (size_t k = 0; k < f->count; k++)
            n += has[k] && !strcmp(v[i], v[k]);
        if (n > best_n)
            best = i, best_n = n;
    }
    for (size_t i = 0; best != SIZE_MAX && i < f->count; i++)
        if (has[i] && strcmp(v[i], v[best])) {
            host_fail(r, i);
            xg_fleet_finding(r, "%s: %s %s, but %s (and %zu more) %s", N(f, i), what, v[i],
                             N(f, best), best_n - 1, v[best]);
        }
    r->oom |= !v || !has;
    free(v);
    free(has);
}

static const char *get_scenario(const struct xg_fleet_host *h, char *out, size_t size)
{
    if (!h->has_policy)
        return NULL;
    snprintf(out, size, "%s", h->scenario);
    return out;
}

static const char *get_transport(const struct xg_fleet_host *h, char *out, size_t size)
{
    if (!h->has_policy)
        return NULL;
    snprintf(out, size, "%s (port %u)", h->transport, h->migration_port);
    return out;
}

static const char *get_ca(const struct xg_fleet_host *h, char *out, size_t size)
{
    if (!h->tunnel || !h->ca.present)
        return NULL;
    snprintf(out, size, "%s", h->ca.sha256);
    return out;
}

/* XG-FLEET-002: one scenario. */
static void check_scenario(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r)
{
    (void)now;
    for (size_t i = 0; i < f->count; i++)
        xg_fleet_need_policy(f, i, r);
    same_value(f, r, "scenario", get_scenario);
}

/* XG-FLEET-003: one transport, on one port. */
static void check_transport(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r)
{
    (void)now;
    for (size_t i = 0; i < f->count; i++)
        xg_fleet_need_policy(f, i, r);
    same_value(f, r, "migrates by", get_transport);
}

/* XG-FLEET-004: tunnel members trust one CA. */
static void check_ca(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r)
{
    (void)now;
    for (size_t i = 0; i < f->count; i++) {
        const struct xg_fleet_host *h = &f->hosts[i];
        if (!h->tunnel) {
            r->per_host[i] = XG_STATUS_NA;
            continue;
        }
        if (!h->ca.present) {
            host_fail(r, i);
            xg_fleet_finding(r, "%s: tunnel CA: %s", N(f, i), h->ca.error);
        }
    }
    same_value(f, r, "trusts tunnel CA", get_ca);
}

/* XG-FLEET-005: no tunnel certificate ends within CERT_MIN_DAYS. */
static void check_expiry(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r)
{
    for (size_t i = 0; i < f->count; i++) {
        const struct xg_fleet_host *h = &f->hosts[i];
        if (!h->tunnel) {
            r->per_host[i] = XG_STATUS_NA;
            continue;
        }
        const struct xg_fleet_cert *c[2] = {&h->ca, &h->cert};
        for (int k = 0; k < 2; k++) {
            const char *what = k ? "host certificate" : "CA certificate";
            if (!c[k]->present) {
                host_fail(r, i);
                xg_fleet_finding(r, "%s: %s: %s", N(f, i), what, c[k]->error);
                continue;
            }
            if (c[k]->not_after - now < (time_t)CERT_MIN_DAYS * DAY) {
                char when[32];
                struct tm tm;
                gmtime_r(&c[k]->not_after, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d", &tm);
                host_fail(r, i);
                xg_fleet_finding(r, "%s: %s %s on %s (%s)", N(f, i), what,
                                 c[k]->not_after <= now ? "expired" : "expires", when,
                                 c[k]->not_after <= now ? "renew it now" : "within 30 days");
            }
        }
    }
}

/* XG-FLEET-006: each captured firewall admits the other members on the migration port,
 * and nobody else (checks_fw.c). */
static void check_firewall(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r)
{
    (void)now;
    if (xg_fleet_run_firewall(f, r) < 0)
        r->oom = true;
}

/* "4.17.3" -> 4, 17; false when it does not start with MAJOR.MINOR. */
static bool xen_mm(const char *v, unsigned *maj, unsigned *min)
{
    char *end;
    if (!v)
        return false;
    unsigned long a = strtoul(v, &end, 10);
    if (end == v || *end != '.')
        return false;
    const char *m = end + 1;
    unsigned long b = strtoul(m, &end, 10);
    if (end == m || a > 1000 || b > 1000)
        return false;
    *maj = (unsigned)a;
    *min = (unsigned)b;
    return true;
}

/* XG-FLEET-007: every member can migrate to every other (same major.minor, or a newer
 * target): with two-way migration that is one major.minor for all. */
static void check_xen(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r)
{
    (void)now;
    unsigned hi_maj = 0, hi_min = 0;
    size_t hi = SIZE_MAX;
    for (size_t i = 0; i < f->count; i++) {
        unsigned a, b;
        if (!xen_mm(f->hosts[i].xen_version, &a, &b)) {
            r->per_host[i] = XG_STATUS_NA;
            continue;
        }
        if (hi == SIZE_MAX || a > hi_maj || (a == hi_maj && b > hi_min))
            hi = i, hi_maj = a, hi_min = b;
    }
    for (size_t i = 0; hi != SIZE_MAX && i < f->count; i++) {
        unsigned a, b;
        if (!xen_mm(f->hosts[i].xen_version, &a, &b) || (a == hi_maj && b == hi_min))
            continue;
        host_fail(r, i);
        xg_fleet_finding(r, "%s runs Xen %s: %s (Xen %s) cannot migrate to it (an older target)",
                         N(f, i), f->hosts[i].xen_version, N(f, hi), f->hosts[hi].xen_version);
    }
}

static const struct xg_fleet_check_def defs[] = {
    {"XG-FLEET-001", "peer lists are symmetric: each member lists every other member",
     "list every other member's cluster address in [cluster] peers on each host, and remove "
     "entries that name no member",
     check_peers},
    {"XG-FLEET-002", "all members declare the same scenario",
     "use one [host] scenario on every member (the cluster is only as strong as its weakest "
     "host)",
     check_scenario},
    {"XG-FLEET-003", "all members migrate by the same transport on the same port",
     "set the same [migration] transport and port on every member", check_transport},
    {"XG-FLEET-004", "tunnel members trust the same CA",
     "issue every member's tunnel certificate from one CA (xenguard tunnel-keys) and set the "
     "same [tunnel] ca",
     check_ca},
    {"XG-FLEET-005", "no tunnel certificate expires within 30 days",
     "renew the certificate (xenguard tunnel-keys) and restart xenguard tunneld", check_expiry},
    {"XG-FLEET-006",
     "each member's firewall admits every other member on the migration port, and nobody else",
     "make [cluster] peers name exactly the other members and load the policy (xenguard apply), "
     "or remove the rules outside table inet xenguard that open the port",
     check_firewall},
    {"XG-FLEET-007", "all members run Xen versions that can migrate to each other",
     "upgrade the older members to the newest major.minor (migration to an older Xen fails)",
     check_xen},
};

const struct xg_fleet_check_def *xg_fleet_checks(size_t *count)
{
    *count = sizeof(defs) / sizeof(defs[0]);
    return defs;
}

int xg_fleet_run(const struct xg_fleet *f, time_t now, struct xg_fleet_report *out)
{
    size_t n;
    const struct xg_fleet_check_def *d = xg_fleet_checks(&n);
    memset(out, 0, sizeof(*out));
    out->fleet = f;
    if (!(out->results = calloc(n, sizeof(*out->results))))
        return -1;
    out->count = n;
    for (size_t c = 0; c < n; c++) {
        struct xg_fleet_result *r = &out->results[c];
        r->def = &d[c];
        if (!(r->per_host = calloc(f->count + 1, sizeof(*r->per_host))))
            return -1; /* PASS is 0: every host passes until a check says otherwise */
        d[c].run(f, now, r);
        if (r->oom)
            return -1;
        size_t pass = 0, fail = 0;
        for (size_t i = 0; i < f->count; i++) {
            pass += r->per_host[i] == XG_STATUS_PASS;
            fail += r->per_host[i] == XG_STATUS_FAIL;
        }
        r->status = fail ? XG_STATUS_FAIL : pass ? XG_STATUS_PASS : XG_STATUS_NA;
    }
    return 0;
}

void xg_fleet_report_free(struct xg_fleet_report *r)
{
    for (size_t c = 0; r->results && c < r->count; c++) {
        for (size_t k = 0; k < r->results[c].finding_count; k++)
            free(r->results[c].findings[k]);
        free(r->results[c].findings);
        free(r->results[c].per_host);
    }
    free(r->results);
    memset(r, 0, sizeof(*r));
}

int xg_fleet_exit_code(const struct xg_fleet_report *r)
{
    for (size_t c = 0; c < r->count; c++)
        if (r->results[c].status == XG_STATUS_FAIL)
            return 1;
    return 0;
}
