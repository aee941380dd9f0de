/*
 * perimeter.c — practice 4, scenario "subnet behind a firewall": does the
 * cluster's router do what the chapter asks of "the main firewall"? The
 * per-node checks (migration.c, firewall.c) are the fallback "assuming the
 * main firewall does not do this for you"; these two ask the main firewall
 * itself, given its captured ruleset (iptables-save, ip6tables-save or
 * nft -j list ruleset of the router) and the policy's [perimeter].
 */
#include "check/perimeter.h"

#include <stdlib.h>
#include <string.h>

#include "analyze/perimeter.h"

static void not_given(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    (void)h;
    (void)p;
    xg_na(r, "no router ruleset (xenguard audit --perimeter-ruleset FILE)");
}

const struct xg_check_def xg_checks_perimeter[] = {
    {"XG-PER-001", XG_PRACTICE_MIGRATION, XG_SEV_HIGH,
     "The perimeter router drops spoofed sources from outside",
     "On the router in front of the cluster (its ruleset given with --perimeter-ruleset, its "
     "interfaces in the policy's [perimeter]), no packet arriving on an outside interface with a "
     "source in [cluster] networks or a special-purpose range (loopback, this-network, "
     "link-local, multicast, reserved; IPv6 too) opens a new connection to the inside, on any "
     "port, TCP or UDP. The forward path is evaluated exactly; the rule that lets one through "
     "is named.",
     "Drop those sources on the outside interfaces before anything accepts them: xenguard "
     "perimeter -c POLICY writes the rules (xenguard apply --perimeter loads them).",
     not_given, NULL},
    {"XG-PER-002", XG_PRACTICE_MIGRATION, XG_SEV_CRITICAL,
     "The peers' management ports are reachable only from inside the cluster",
     "On the router, nothing arriving on an interface other than an inside one opens a new TCP "
     "connection to a peer's relocation port, the xend ports 8000, 8002, 8005 and 8006, sshd "
     "(except from [admin] ssh-from), 80/443 with xapi = yes, or [perimeter] "
     "management-ports.",
     "Drop new connections to those ports from outside on the router (xenguard perimeter "
     "writes the rules), and keep the per-node firewall (xenguard firewall) as the fallback.",
     not_given, NULL},
};
const size_t xg_checks_perimeter_count =
    sizeof(xg_checks_perimeter) / sizeof(xg_checks_perimeter[0]);

bool xg_check_is_perimeter(const struct xg_check_def *def)
{
    return !strncmp(def->id, "XG-PER-", 7);
}

void xg_check_perimeter(const struct xg_check_def *def, const struct xg_ruleset *rs,
                        const char *name, const char *why, const struct xg_policy *p,
                        struct xg_result *r)
{
    int req = strcmp(def->id, "XG-PER-001") ? 1 : 0;
    struct xg_per_result *pr;
    struct xg_err err = {{0}};
    memset(r, 0, sizeof(*r));
    r->def = def;
    r->status = XG_STATUS_PASS;
    if (!p || !p->perimeter.present) {
        xg_na(r, "needs a policy (-c) with a [perimeter] section naming the router's interfaces");
        return;
    }
    if (!rs) {
        xg_error(r, "%s: %s", name, why);
        return;
    }
    if (!(pr = calloc(1, sizeof(*pr)))) {
        xg_error(r, "out of memory");
        return;
    }
    if (xg_perimeter_check(rs, p, pr, &err) < 0) {
        xg_error(r, "%s: %s", name, err.msg);
    } else if (pr->status[req] == XG_PER_HOLDS) {
        xg_evidence(r, "%s: %zu questions on the forward path: %s", name, pr->asked,
                    xg_per_title(req));
    } else {
        for (size_t i = 0; i < pr->count; i++) {
            char line[1024];
            if (pr->holes[i].req != req)
                continue;
            xg_per_hole_describe(&pr->holes[i], line, sizeof(line));
            xg_failf(r, "%s: %s", name, line);
        }
        xg_fix_apply_perimeter(r, p); /* on the router: its [perimeter] table */
    }
    free(pr);
}
