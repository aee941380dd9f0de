/*
 * migration.c — practice 4: the network scenario of the host.
 *
 * The relocation (live migration) service is the reason the chapter has
 * scenarios at all. These checks read the policy's scenario, management
 * interface and migration port; without a policy they take the strictest
 * reading (untrusted subnet, port 8002, no management interface known).
 * The kernel half of anti-spoofing (reverse-path filter, source routing,
 * redirects) is judged here; the firewall half is in firewall.c.
 *
 * A sysctl verdict needs conf/all, conf/default and the value of every
 * interface of `ip -j addr` (or, without it, of conf/): the kernel takes the
 * effective value from all and the interface, and new vifs start from
 * default. A missing one is a gap, never an implicit 0. A Dom0 whose only
 * interface is loopback (Qubes-style: the network lives in a guest) has
 * nothing these settings protect: n/a, not a failure.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/check.h"

static bool yes(const char *v)
{
    return v && (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
                 !strcasecmp(v, "on"));
}

static const char *xend_get(const struct xg_host *h, const char *key)
{
    const struct xg_kv *kv = xg_kv_find(&h->xend, key, false);
    return kv ? kv->value : NULL;
}

static bool xend_relocation_on(const struct xg_host *h)
{
    return h->xend_present && (yes(xend_get(h, "xend-relocation-server")) ||
                               yes(xend_get(h, "xend-relocation-ssl-server")));
}

static uint16_t mig_port(const struct xg_policy *p)
{
    return p && p->migration_port ? p->migration_port : 8002;
}

bool xg_migration_port_unused(const struct xg_host *h, const struct xg_policy *p,
                              struct xg_result *r)
{
    if (!p || (p->transport != XG_TRANSPORT_SSH && p->transport != XG_TRANSPORT_OFF) ||
        !(h->socket_tables & XG_SOCKTAB_TCP) || h->errors[XG_SEC_SOCKETS])
        return false;
    uint16_t port = mig_port(p);
    for (size_t i = 0; i < h->socket_count; i++) {
        const struct xg_socket *s = &h->sockets[i];
        if (s->proto == IPPROTO_TCP && s->port == port && !xg_addr_is_loopback(&s->addr))
            return false;
    }
    xg_evidence(r,
                "policy transport %s: no migration listener; /proc/net/tcp%s: nothing listens "
                "on TCP %u beyond loopback",
                xg_transport_name(p->transport),
                h->socket_tables & XG_SOCKTAB_TCP6 ? ", /proc/net/tcp6" : "", port);
    return true;
}

static void check_bound(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!h->sockets_present && !h->xend_present) {
        xg_na(r, "no evidence: neither socket tables nor xend-config.sxp");
        return;
    }
    xg_need_socket_tables(r, h, XG_SOCKTAB_TCP);
    if (h->errors[XG_SEC_SOCKETS] || h->errors[XG_SEC_XEND]) {
        xg_error(r, "%s",
                 h->errors[XG_SEC_SOCKETS] ? h->errors[XG_SEC_SOCKETS] : h->errors[XG_SEC_XEND]);
        return;
    }
    uint16_t port = mig_port(p);
    const struct xg_iface *mgmt =
        p && p->management_if[0] ? xg_host_iface(h, p->management_if) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < h->socket_count; i++) {
        const struct xg_socket *s = &h->sockets[i];
        if (s->proto != IPPROTO_TCP || s->port != port || xg_addr_is_loopback(&s->addr))
            continue;
        char d[160];
        xg_socket_describe(s, d, sizeof(d));
        n++;
        if (xg_addr_is_wildcard(&s->addr)) {
            xg_failf(r, "migration port on every interface: %s", d);
        } else if (p && p->management_if[0]) {
            bool on = false;
            for (size_t k = 0; mgmt && k < mgmt->addrs.count; k++)
                on |= xg_prefix_equal(&mgmt->addrs.items[k], &s->addr);
            if (!on)
                xg_failf(r, "%s is not on the management interface %s%s", d, p->management_if,
                         h->ifaces_present ? "" : " (no interface evidence)");
            else
                xg_evidence(r, "%s on the management interface %s", d, p->management_if);
        } else {
            xg_evidence(r, "%s", d);
        }
    }
    if (xend_relocation_on(h)) {
        const struct xg_kv *a = xg_kv_find(&h->xend, "xend-relocation-address", false);
        if (!a || !a->value[0] || !strcmp(a->value, "0.0.0.0") || !strcmp(a->value, "::")) {
            xg_failf(r,
                     "xend relocation server on with xend-relocation-address '%s'%s: it "
                     "binds every interface",
                     a ? a->value : "", a ? "" : " (default)");
            xg_fix_harden(r, p, "xend"); /* binds it to the management address */
        } else
            xg_evidence(r, "%s:%u: xend-relocation-address %s", a->file, a->line, a->value);
    }
    if (r->status == XG_STATUS_PASS && !n && !xend_relocation_on(h) && h->sockets_present)
        xg_evidence(r, "/proc/net/tcp{,6}: nothing listens on TCP %u beyond loopback", port);
}

static void check_cleartext(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!h->sockets_present && !h->xend_present && !h->xendomains_present) {
        xg_na(r, "no evidence: no socket tables, xend-config.sxp or xendomains");
        return;
    }
    enum xg_scenario sc = p ? p->scenario : XG_SCENARIO_UNTRUSTED;
    if (sc == XG_SCENARIO_UNTRUSTED)
        xg_need_socket_tables(r, h, XG_SOCKTAB_TCP);
    if (sc != XG_SCENARIO_UNTRUSTED) {
        xg_na(r,
              "the policy's scenario is %s, not untrusted: migration among the peers may be "
              "clear text",
              sc == XG_SCENARIO_ISOLATED_MANAGEMENT ? "isolated-management" : "firewalled-subnet");
        return;
    }
    xg_evidence(r, "scenario %s", p ? "untrusted" : "untrusted (no policy: strictest reading)");
    if (p && p->transport == XG_TRANSPORT_XEND)
        xg_failf(r, "policy transport xend: clear-text relocation on an untrusted subnet");
    if (h->xend_present && yes(xend_get(h, "xend-relocation-server")))
        xg_failf(r, "xend-relocation-server yes: clear-text migration");
    if (h->xend_present && yes(xend_get(h, "xend-relocation-ssl-server")))
        xg_failf(r, "xend-relocation-ssl-server yes: encrypted but the peer is not "
                    "authenticated");
    /* harden xend turns relocation off unless the policy's transport is xend */
    if (r->status == XG_STATUS_FAIL && h->xend_present && !(p && p->transport == XG_TRANSPORT_XEND))
        xg_fix_harden(r, p, "xend");
    uint16_t port = mig_port(p);
    for (size_t i = 0; i < h->socket_count; i++) {
        const struct xg_socket *s = &h->sockets[i];
        if (s->proto != IPPROTO_TCP || s->port != port || xg_addr_is_loopback(&s->addr) ||
            !strncmp(s->process, "xenguard", 8))
            continue;
        char d[160];
        xg_socket_describe(s, d, sizeof(d));
        xg_failf(r, "a listener on the migration port that is not the xenguard tunnel: %s", d);
    }
    const struct xg_kv *m = xg_kv_find(&h->xendomains, "XENDOMAINS_MIGRATE", false);
    if (m && m->value[0] && h->toolstack == XG_TOOLSTACK_XEND) {
        xg_failf(r, "%s:%u: XENDOMAINS_MIGRATE=%s migrates with xm in clear text", m->file, m->line,
                 m->value);
        xg_fix(r, "sed -i 's/^XENDOMAINS_MIGRATE=.*/XENDOMAINS_MIGRATE=\"\"/' %s",
               xg_sh(m->file).s);
    }
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r, "no clear-text migration path (%s%s%s)",
                    h->sockets_present ? "socket tables" : "",
                    h->xend_present ? ", xend-config.sxp" : "",
                    h->xendomains_present ? ", xendomains" : "");
}

/* ---- sysctls ---- */

/* The runtime fix of one value (an interface name's dots become slashes for sysctl(8):
 * eth0.100 -> net.ipv4.conf.eth0/100.rp_filter); xg_fix_harden(.., "sysctl") persists. */
static void fix_sysctl(struct xg_result *r, uint8_t fam, const char *iface, const char *name,
                       int value)
{
    char key[200];
    int n = snprintf(key, sizeof(key), "net.ipv%u.conf.", fam);
    for (const char *c = iface; *c && n < (int)sizeof(key) - 1; c++)
        key[n++] = *c == '.' ? '/' : *c;
    snprintf(key + n, sizeof(key) - (size_t)n, ".%s=%d", name, value);
    xg_fix(r, "sysctl -w %s", xg_sh(key).s);
}

/* After the runtime fixes: the file that keeps them across reboots. */
static void fix_sysctl_persist(const struct xg_policy *p, struct xg_result *r)
{
    if (r->status == XG_STATUS_FAIL)
        xg_fix_harden(r, p, "sysctl");
}

/* Interfaces of a family's conf/ (excluding all, default, lo). */
static bool skip_iface(const char *n)
{
    return !strcmp(n, "all") || !strcmp(n, "default") || !strcmp(n, "lo");
}

static bool family_seen(const struct xg_host *h, uint8_t fam)
{
    for (size_t i = 0; i < h->sysctl_count; i++)
        if (h->sysctls[i].family == fam)
            return true;
    return false;
}

static bool has_ipv6_address(const struct xg_host *h)
{
    for (size_t i = 0; i < h->iface_count; i++)
        for (size_t k = 0; strcmp(h->ifaces[i].name, "lo") && k < h->ifaces[i].addrs.count; k++)
            if (h->ifaces[i].addrs.items[k].family == 6)
                return true;
    return false;
}

/* Non-loopback interfaces: from ip -j addr when present, else conf/ of IPv4. */
static size_t real_ifaces(const struct xg_host *h, bool *lo)
{
    size_t n = 0;
    *lo = false;
    if (h->ifaces_present) {
        for (size_t i = 0; i < h->iface_count; i++)
            if (strcmp(h->ifaces[i].name, "lo"))
                n++;
            else
                *lo = true;
        return n;
    }
    for (size_t i = 0; i < h->sysctl_count; i++) {
        const struct xg_sysctl *s = &h->sysctls[i];
        *lo |= s->family == 4 && !strcmp(s->iface, "lo");
        n += s->family == 4 && !skip_iface(s->iface);
    }
    return n;
}

/* The values one family's verdict needs: all, default, and every interface. */
static void sysctl_family_gaps(const struct xg_host *h, struct xg_result *r, uint8_t fam,
                               const char *name, size_t real)
{
    static const char *const both[] = {"all", "default"};
    for (size_t i = 0; i < 2; i++)
        if (xg_host_sysctl(h, fam, both[i], name) < 0)
            xg_partial(r, "no /proc/sys/net/ipv%u/conf/%s/%s", fam, both[i], name);
    for (size_t i = 0; h->ifaces_present && i < h->iface_count; i++)
        if (strcmp(h->ifaces[i].name, "lo") && xg_host_sysctl(h, fam, h->ifaces[i].name, name) < 0)
            xg_partial(r, "%s (ip -j addr) has no /proc/sys/net/ipv%u/conf/%s/%s",
                       h->ifaces[i].name, fam, h->ifaces[i].name, name);
    if (!h->ifaces_present && !real)
        xg_partial(r, "no per-interface /proc/sys/net/ipv%u/conf/IFACE/%s", fam, name);
}

/*
 * Whether the sysctl NAME can be judged: n/a without /proc/sys/net or on a
 * loopback-only Dom0 (false); otherwise true, with xg_partial() for every
 * value the verdict needs and lacks. IPv6 counts when `v6` and the host has
 * IPv6 (a conf/ directory or an IPv6 address).
 */
static bool sysctl_scope(const struct xg_host *h, struct xg_result *r, const char *name, bool v6)
{
    if (!h->sysctl_present) {
        xg_na(r, "no evidence: no /proc/sys/net/ipv{4,6}/conf");
        return false;
    }
    bool lo;
    size_t real = real_ifaces(h, &lo);
    if (!real && lo) {
        xg_na(r, "only loopback (%s): no network interface for %s to protect",
              h->ifaces_present ? "ip -j addr" : "/proc/sys/net/ipv4/conf", name);
        return false;
    }
    xg_need_readable(r, h, "/proc/sys/net");
    sysctl_family_gaps(h, r, 4, name, real);
    if (v6 && (family_seen(h, 6) || has_ipv6_address(h)))
        sysctl_family_gaps(h, r, 6, name, real);
    else if (v6)
        xg_evidence(r, "no /proc/sys/net/ipv6/conf and no IPv6 address: IPv6 is off");
    return true;
}

static void check_rp_filter(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!sysctl_scope(h, r, "rp_filter", false))
        return;
    int all = xg_host_sysctl(h, 4, "all", "rp_filter");
    int def = xg_host_sysctl(h, 4, "default", "rp_filter");
    size_t n = 0;
    if (all > 1)
        fix_sysctl(r, 4, "all", "rp_filter", 1); /* loose everywhere: max(all, iface) */
    if (def >= 0 && def != 1) {
        xg_failf(r,
                 "net.ipv4.conf.default.rp_filter = %d: new interfaces (vifs) start without "
                 "strict reverse-path filtering",
                 def);
        fix_sysctl(r, 4, "default", "rp_filter", 1);
    }
    for (size_t i = 0; i < h->sysctl_count; i++) {
        const struct xg_sysctl *s = &h->sysctls[i];
        if (s->family != 4 || strcmp(s->name, "rp_filter") || skip_iface(s->iface))
            continue;
        n++;
        int eff = s->value > all ? s->value : all; /* the kernel uses max(all, iface) */
        if (eff != 1) {
            xg_failf(r, "%s: effective rp_filter %d (all=%d, %s=%d)%s", s->iface, eff, all,
                     s->iface, s->value, eff == 2 ? ": loose mode" : ": off");
            if (s->value != 1)
                fix_sysctl(r, 4, s->iface, "rp_filter", 1);
        }
    }
    fix_sysctl_persist(p, r);
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r,
                    "/proc/sys/net/ipv4/conf: strict reverse-path filtering (1) on %zu "
                    "interfaces (all=%d, default=%d)",
                    n, all, def);
}

static void check_sysctl_zero(const struct xg_host *h, const struct xg_policy *p,
                              struct xg_result *r, const char *name)
{
    if (!sysctl_scope(h, r, name, true))
        return;
    size_t n = 0, bad = 0;
    for (size_t i = 0; i < h->sysctl_count; i++) {
        const struct xg_sysctl *s = &h->sysctls[i];
        if (strcmp(s->name, name) || !strcmp(s->iface, "lo"))
            continue;
        n++;
        if (s->value > 0 && ++bad <= 12) {
            xg_failf(r, "net.ipv%u.conf.%s.%s = %d", s->family, s->iface, name, s->value);
            fix_sysctl(r, s->family, s->iface, name, 0);
        }
    }
    if (bad > 12)
        xg_evidence(r, "... and %zu more", bad - 12);
    fix_sysctl_persist(p, r);
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r,
                    "/proc/sys/net/ipv{4,6}/conf: %s = 0 on all %zu entries (all, default, "
                    "interfaces)",
                    name, n);
}

static void check_source_route(const struct xg_host *h, const struct xg_policy *p,
                               struct xg_result *r)
{
    if (!sysctl_scope(h, r, "accept_source_route", true))
        return;
    /* IPv4 and IPv6 both accept a source route only when conf/all AND conf/IFACE allow it */
    size_t n = 0;
    for (uint8_t fam = 4; fam <= 6; fam += 2) {
        int all = xg_host_sysctl(h, fam, "all", "accept_source_route");
        int def = xg_host_sysctl(h, fam, "default", "accept_source_route");
        if (all > 0 && def > 0) {
            xg_failf(r,
                     "net.ipv%u.conf.all and .default.accept_source_route = %d/%d: new "
                     "interfaces accept source routes",
                     fam, all, def);
            fix_sysctl(r, fam, "all", "accept_source_route", 0);
        }
        for (size_t i = 0; i < h->sysctl_count; i++) {
            const struct xg_sysctl *s = &h->sysctls[i];
            if (s->family != fam || strcmp(s->name, "accept_source_route") || skip_iface(s->iface))
                continue;
            n++;
            int eff = all < s->value ? all : s->value;
            if (eff > 0) {
                xg_failf(r, "%s: IPv%u source routes accepted (all=%d, %s=%d)", s->iface, fam, all,
                         s->iface, s->value);
                fix_sysctl(r, fam, "all", "accept_source_route", 0); /* all AND iface */
            }
        }
    }
    fix_sysctl_persist(p, r);
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r,
                    "/proc/sys/net/ipv{4,6}/conf: source routing refused on %zu interface "
                    "entries (conf/all off or each interface off)",
                    n);
}

static void check_redirects(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    check_sysctl_zero(h, p, r, "accept_redirects");
}

const struct xg_check_def xg_checks_migration[] = {
    {"XG-MIG-001", XG_PRACTICE_MIGRATION, XG_SEV_HIGH,
     "Relocation is bound to the management interface",
     "No listener on the migration port (default TCP 8002) on a wildcard address; with a policy, "
     "every listener is on an address of the management interface. For xend, "
     "xend-relocation-address must be set (empty binds every interface).",
     "Set (xend-relocation-address 'MANAGEMENT-ADDRESS') in xend-config.sxp, or use xl (no "
     "relocation daemon) and migrate over ssh or the xenguard tunnel.",
     check_bound, "/proc/net/tcp /proc/net/tcp6 /etc/xen/xend-config.sxp /xenguard/ip-addr.json"},
    {"XG-MIG-003", XG_PRACTICE_MIGRATION, XG_SEV_CRITICAL,
     "No clear-text migration on an untrusted subnet",
     "In the untrusted scenario (or without a policy; n/a in the other scenarios, where the "
     "peers may migrate in clear text) migration must go through an "
     "authenticated, encrypted tunnel or be off: no xend relocation server (plain or SSL, "
     "which authenticates nobody), no other listener on the migration port, no xm-based "
     "XENDOMAINS_MIGRATE.",
     "Turn the relocation server off ((xend-relocation-server no)), migrate with "
     "xl migrate over ssh or xenguard tunnel, or disable migration.",
     check_cleartext,
     "/proc/net/tcp /proc/net/tcp6 /etc/xen/xend-config.sxp /etc/default/xendomains "
     "/etc/sysconfig/xendomains"},
    {"XG-NET-001", XG_PRACTICE_MIGRATION, XG_SEV_HIGH, "Strict reverse-path filtering",
     "Spoofed sources are dropped by the kernel when the effective rp_filter (the maximum of "
     "conf/all and conf/IFACE) is 1 on every interface, and conf/default is 1 so that new vifs "
     "inherit it.",
     "rp_filter=1 for all, default and each interface (sysctl -w), persisted in "
     "/etc/sysctl.d/99-xenguard.conf (xenguard harden sysctl --write).",
     check_rp_filter, "/proc/sys/net/ipv4/conf /xenguard/ip-addr.json"},
    {"XG-NET-002", XG_PRACTICE_MIGRATION, XG_SEV_HIGH, "Source-routed packets are refused",
     "accept_source_route is 0 for IPv4 and IPv6, for all, default and every interface.",
     "accept_source_route=0 for IPv4 and IPv6, all and default (sysctl -w), persisted in "
     "/etc/sysctl.d/99-xenguard.conf (xenguard harden sysctl --write).",
     check_source_route, "/proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf /xenguard/ip-addr.json"},
    {"XG-NET-003", XG_PRACTICE_MIGRATION, XG_SEV_MEDIUM, "ICMP redirects are ignored",
     "accept_redirects is 0 for IPv4 and IPv6, for all, default and every interface: a "
     "redirect lets anyone on the link reroute Domain-0's traffic.",
     "accept_redirects=0 for IPv4 and IPv6, all, default and each interface (sysctl -w), "
     "persisted in /etc/sysctl.d/99-xenguard.conf (xenguard harden sysctl --write).",
     check_redirects, "/proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf /xenguard/ip-addr.json"},
};
const size_t xg_checks_migration_count =
    sizeof(xg_checks_migration) / sizeof(xg_checks_migration[0]);
