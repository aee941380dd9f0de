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

/* Is every address of `p` a member's cluster address or one of host i's own? (A wide prefix
 * never is.) */
static bool all_members(const struct xg_fleet *f, size_t i, const struct xg_fleet_index *ix,
                        const struct xg_prefix *p)
{
    unsigned host_bits = xg_family_bits(p->family) - p->len;
    if (host_bits > 16)
        return false;
    size_t distinct = 0;
    const struct xg_prefix *prev = NULL;
    for (size_t k = xg_fleet_index_first(ix, p); k < ix->n && xg_prefix_contains(p, &ix->e[k].addr);
         k++) {
        distinct += !prev || !xg_prefix_equal(prev, &ix->e[k].addr);
        prev = &ix->e[k].addr;
    }
    const struct xg_fleet_host *h = &f->hosts[i];
    for (size_t a = 0; a < h->addr_count; a++) {
        const struct xg_prefix *own = &h->addrs[a].addr;
        size_t k = xg_fleet_index_first(ix, own);
        bool dup = false;
        for (size_t b = 0; b < a && !dup; b++)
            dup = xg_prefix_equal(&h->addrs[b].addr, own);
        if (!dup && own->family == p->family && xg_prefix_contains(p, own) &&
            !(k < ix->n && xg_prefix_equal(&ix->e[k].addr, own)))
            distinct++;
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
static void admits_members(const struct xg_fleet *f, size_t i, const struct xg_fleet_index *ix,
                           bool *covered, struct xg_fleet_result *r)
{
    const struct xg_fleet_host *h = &f->hosts[i];
    const struct xg_fleet_reach *cr = reach_on(h, h->management_if);
    memset(covered, 0, (ix->n + 1) * sizeof(*covered));
    for (int fam = 0; fam < 2; fam++)
        for (size_t m = 0; m < cr->must[fam].count; m++) {
            const struct xg_prefix *p = &cr->must[fam].items[m];
            for (size_t k = xg_fleet_index_first(ix, p);
                 k < ix->n && xg_prefix_contains(p, &ix->e[k].addr); k++)
                covered[k] = true;
        }
    for (size_t k = 0; k < ix->n; k++) {
        if (ix->e[k].host == i || covered[k])
            continue;
        char t[XG_PREFIX_STRLEN];
        xg_prefix_format(&ix->e[k].addr, true, t);
        r->per_host[i] = XG_STATUS_FAIL;
        xg_fleet_finding(r, "%s does not admit %s (%s) on TCP %u (%s)", xg_fleet_host_name(h),
                         xg_fleet_host_name(&f->hosts[ix->e[k].host]), t, h->migration_port,
                         h->management_if);
    }
}

/* Nobody but members (and the host itself) is in `may`, on any interface; with migration
 * off, nobody at all. */
static void nobody_else(const struct xg_fleet *f, size_t i, const struct xg_fleet_index *ix,
                        bool off, struct xg_fleet_result *r)
{
    const struct xg_fleet_host *h = &f->hosts[i];
    for (size_t e = 0; e < h->reach_count; e++)
        for (int fam = 0; fam < 2; fam++)
            for (size_t k = 0; k < h->reach[e].may[fam].count; k++) {
                const struct xg_prefix *p = &h->reach[e].may[fam].items[k];
                if (!off && all_members(f, i, ix, p))
                    continue;
                char t[XG_PREFIX_STRLEN];
                xg_prefix_format(p, true, t);
                r->per_host[i] = XG_STATUS_FAIL;
                xg_fleet_finding(r, "%s admits %s on TCP %u (%s), which is not %s",
                                 xg_fleet_host_name(h), t, h->migration_port, h->reach[e].iface,
                                 off ? "allowed: migration is off" : "a member");
            }
}

int xg_fleet_run_firewall(const struct xg_fleet *f, struct xg_fleet_result *r)
{
    struct xg_fleet_index ix;
    if (xg_fleet_index_build(f, &ix) < 0)
        return -1;
    bool *covered = calloc(ix.n + 1, sizeof(*covered));
    for (size_t i = 0; covered && i < f->count; i++) {
        const struct xg_fleet_host *h = &f->hosts[i];
        if (!answerable(f, i, r))
            continue;
        bool off = !strcmp(h->transport, "off"), ssh = !strcmp(h->transport, "ssh");
        if (!off)
            admits_members(f, i, &ix, covered, r);
        if (!ssh)
            nobody_else(f, i, &ix, off, r);
    }
    int rc = covered ? 0 : -1;
    free(covered);
    xg_fleet_index_free(&ix);
    return rc;
}
