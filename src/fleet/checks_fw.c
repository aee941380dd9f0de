/*
 * checks_fw.c — XG-FLEET-006: does each member's real firewall admit every
 * other member on the migration port, and nobody else?
 *
 * The answers are the analyzer's, computed on each host at audit time from
 * the firewall the kernel evaluates (the report's fleet.firewall.migration:
 * may / must sources per interface and family). "Admits" is the strong
 * bound: every other member's cluster address must be in `must` on the
 * host's cluster interface, so an unmodelled match cannot hide a drop.
 * "Nobody else" is the weak bound: every source in `may`, on every
 * interface, must be a member (its own addresses aside). With ssh as the
 * transport the port is sshd's, which admins reach too, so only the first
 * half is judged; with migration off nobody may reach the migration port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

/* Is every address of `p` one of the host prefixes in `set`? (A wide prefix never is.) */
static bool all_members(const struct xg_prefix *p, const struct xg_prefix_list *set)
{
    unsigned host_bits = xg_family_bits(p->family) - p->len;
    if (host_bits == 0)
        return xg_prefix_list_covers(set, p);
    if (host_bits > 16)
        return false;
    size_t distinct = 0;
    for (size_t i = 0; i < set->count; i++) {
        const struct xg_prefix *a = &set->items[i];
        if (a->family != p->family || a->len != xg_family_bits(a->family) ||
            !xg_prefix_contains(p, a))
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = xg_prefix_equal(&set->items[k], a);
        distinct += !seen;
    }
    return distinct == (size_t)1 << host_bits;
}

static const struct xg_fleet_reach *reach_on(const struct xg_fleet_host *h, const char *iface)
{
    for (size_t i = 0; i < h->reach_count; i++)
        if (!strcmp(h->reach[i].iface, iface))
            return &h->reach[i];
    return NULL;
}

/* False (with a finding) when the host's report cannot answer. */
static bool answerable(const struct xg_fleet *f, size_t i, struct xg_fleet_result *r)
{
    const struct xg_fleet_host *h = &f->hosts[i];
    const char *name = xg_fleet_host_name(h);
    if (!xg_fleet_need_policy(f, i, r))
        return false;
    if (!h->fw_present)
        xg_fleet_finding(r, "%s: no firewall evidence in its report", name);
    else if (h->fw_error[0])
        xg_fleet_finding(r, "%s: the analyzer could not answer: %s", name, h->fw_error);
    else if (!reach_on(h, h->management_if))
        xg_fleet_finding(r, "%s: no answer for its cluster interface %s", name, h->management_if);
    else
        return true;
    r->per_host[i] = XG_STATUS_FAIL;
    return false;
}

/* Every other member's cluster address is in `must` on the cluster interface. */
static void admits_members(const struct xg_fleet *f, size_t i, const struct xg_prefix_list *ca,
                           struct xg_fleet_result *r)
{
    const struct xg_fleet_host *h = &f->hosts[i];
    const struct xg_fleet_reach *cr = reach_on(h, h->management_if);
    for (size_t m = 0; m < f->count; m++)
        for (size_t k = 0; m != i && k < ca[m].count; k++) {
            const struct xg_prefix *a = &ca[m].items[k];
            if (xg_prefix_list_covers(&cr->must[a->family == 6], a))
                continue;
            char t[XG_PREFIX_STRLEN];
            xg_prefix_format(a, true, t);
            r->per_host[i] = XG_STATUS_FAIL;
            xg_fleet_finding(r, "%s does not admit %s (%s) on TCP %u (%s)", xg_fleet_host_name(h),
                             xg_fleet_host_name(&f->hosts[m]), t, h->migration_port,
                             h->management_if);
        }
}

/* Nobody outside `allowed` is in `may`, on any interface. */
static void nobody_else(const struct xg_fleet *f, size_t i, const struct xg_prefix_list *allowed,
                        struct xg_fleet_result *r)
{
    const struct xg_fleet_host *h = &f->hosts[i];
    for (size_t e = 0; e < h->reach_count; e++)
        for (int fam = 0; fam < 2; fam++)
            for (size_t k = 0; k < h->reach[e].may[fam].count; k++) {
                const struct xg_prefix *p = &h->reach[e].may[fam].items[k];
                if (all_members(p, allowed))
                    continue;
                char t[XG_PREFIX_STRLEN];
                xg_prefix_format(p, true, t);
                r->per_host[i] = XG_STATUS_FAIL;
                xg_fleet_finding(r, "%s admits %s on TCP %u (%s), which is not %s",
                                 xg_fleet_host_name(h), t, h->migration_port, h->reach[e].iface,
                                 allowed->count ? "a member" : "allowed: migration is off");
            }
}

int xg_fleet_run_firewall(const struct xg_fleet *f, struct xg_fleet_result *r)
{
    struct xg_prefix_list *ca = xg_fleet_all_cluster_addrs(f);
    if (!ca)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < f->count && rc == 0; i++) {
        const struct xg_fleet_host *h = &f->hosts[i];
        if (!answerable(f, i, r))
            continue;
        bool off = !strcmp(h->transport, "off"), ssh = !strcmp(h->transport, "ssh");
        if (!off)
            admits_members(f, i, ca, r);
        if (ssh)
            continue;
        struct xg_prefix_list allowed = {0};
        for (size_t m = 0; m < f->count && rc == 0 && !off; m++)
            for (size_t k = 0; k < ca[m].count && rc == 0; k++)
                rc = xg_prefix_list_add(&allowed, &ca[m].items[k]);
        for (size_t k = 0; k < h->addr_count && rc == 0 && !off; k++)
            rc = xg_prefix_list_add(&allowed, &h->addrs[k].addr);
        if (rc == 0)
            nobody_else(f, i, &allowed, r);
        xg_prefix_list_free(&allowed);
    }
    xg_fleet_free_addrs(ca, f->count);
    return rc;
}
