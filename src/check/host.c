/*
 * host.c (checks) — what the host is: Domain-0 or not, toolstack, Xen
 * version, and the XSM/FLASK mode of the hypervisor. Informational: they
 * never decide the exit status at the default --fail-on, but every other
 * verdict reads better knowing them.
 */
#include <string.h>

#include "check/check.h"

static void check_dom0(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    (void)p;
    if (!h->caps_present && !h->xen_present) {
        xg_na(r, "not a Dom0: no /proc/xen/capabilities and no /sys/hypervisor (not a Xen host)");
        return;
    }
    xg_evidence(r, "hypervisor: %s, Xen version %s",
                h->hypervisor_type ? h->hypervisor_type : "unknown",
                h->xen_version ? h->xen_version : "unknown");
    xg_evidence(r, "toolstack: %s (%s)", xg_toolstack_name(h->toolstack),
                h->toolstack_why ? h->toolstack_why : "");
    if (h->domains_present)
        xg_evidence(r, "%zu running domains (xl list -l)", h->domain_count);
    if (h->dom0)
        xg_evidence(r, "control_d in /proc/xen/capabilities: this is Domain-0");
    else
        xg_failf(r, "not a Dom0: Xen guest without control_d in /proc/xen/capabilities");
}

static void check_xsm(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    (void)p;
    if (!h->xen_cmdline) {
        xg_na(r, "no evidence: the Xen command line is unknown (xl info xen_commandline)");
        return;
    }
    xg_evidence(r, "xen_commandline: %s", h->xen_cmdline);
    const char *f = strstr(h->xen_cmdline, "flask=");
    if (f && !strncmp(f + 6, "enforcing", 9))
        xg_evidence(r, "XSM/FLASK is enforcing");
    else
        xg_failf(r, "XSM/FLASK is %s", f ? "not enforcing" : "not enabled (no flask=enforcing)");
}

const struct xg_check_def xg_checks_host[] = {
    {"XG-HOST-001", XG_PRACTICE_HOST, XG_SEV_INFO, "The host is a Xen Domain-0",
     "Detects Domain-0 from control_d in /proc/xen/capabilities (or the XENFEAT dom0 bit), the "
     "toolstack (xend, xl, XAPI) and the Xen version. Xen-specific checks are n/a elsewhere.",
     "Run xenguard audit in Domain-0, or audit a root captured there with xenguard capture.",
     check_dom0, "/proc/xen/capabilities /sys/hypervisor /xenguard/xl-list.json"},
    {"XG-HOST-002", XG_PRACTICE_HOST, XG_SEV_INFO, "XSM/FLASK is enforcing",
     "Reads flask= from the Xen command line. FLASK confines what each domain, Domain-0 "
     "included, may ask of the hypervisor.",
     "Build Xen with XSM/FLASK, load a policy and boot with flask=enforcing.", check_xsm,
     "/xenguard/xl-info.txt"},
};
const size_t xg_checks_host_count = sizeof(xg_checks_host) / sizeof(xg_checks_host[0]);
