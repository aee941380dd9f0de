/*
 * services.c — practice 1: Domain-0 runs the fewest services possible.
 *
 * A socket is judged by the process that owns it (from /proc/PID/fd), not
 * by its port, against an allowlist per toolstack: what the toolstack
 * itself needs, sshd for administration, time sync and DHCP clients.
 * Loopback-only sockets are listed but not held against the host; the
 * firewall checks say who can reach the others.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "check/check.h"

static const char *common_ok[] = {
    "sshd",     "chronyd", "ntpd", "systemd-timesyn", "dhclient", "dhcpcd", "systemd-network",
    "xenguard", NULL};
static const char *xl_ok[] = {"xenstored",       "oxenstored", "xenconsoled",
                              "qemu-system-i38", "qemu-dm",    NULL};
static const char *xend_ok[] = {"xend", "xenstored", "xenconsoled", "qemu-dm", NULL};
static const char *xapi_ok[] = {
    "xapi",       "stunnel",   "xcp-rrdd",   "xcp-networkd", "squeezed",
    "xenopsd-xc", "v6d",       "forkexecd",  "message-swit", "xapi-nbd",
    "vncterm",    "xenstored", "oxenstored", "xenconsoled",  "qemu-system-i38",
    NULL};

static bool in_list(const char **l, const char *name)
{
    for (; *l; l++)
        if (!strcmp(*l, name))
            return true;
    return false;
}

/* The daemon a socket belongs to: its process, or for a socket systemd opened
 * (socket activation) the service it activates ("rpcbind.service" -> rpcbind;
 * Debian's ssh.service and sshd@.service -> sshd). */
static void daemon_name(const struct xg_socket *s, char *out, size_t size)
{
    if (!s->unit[0]) {
        snprintf(out, size, "%s", s->process);
        return;
    }
    snprintf(out, size, "%.*s", (int)strcspn(s->service, ".@"), s->service);
    if (!strcmp(out, "ssh"))
        snprintf(out, size, "sshd");
}

/* The base of a unit name: "rpcbind.service" -> "rpcbind", "getty@tty1.service" -> "getty". */
static void unit_base(const char *unit, char *out, size_t size)
{
    snprintf(out, size, "%s", unit);
    char *dot = strrchr(out, '.');
    if (dot && (!strcmp(dot, ".service") || !strcmp(dot, ".socket")))
        *dot = '\0';
    char *at = strchr(out, '@');
    if (at)
        *at = '\0';
}

/* An enabled unit of daemon NAME, or NULL: a fix line can name it. */
static const char *enabled_unit(const struct xg_host *h, const char *name)
{
    for (size_t i = 0; name[0] && i < h->unit_count; i++) {
        char base[256];
        unit_base(h->units[i], base, sizeof(base));
        if (!strcmp(base, name))
            return h->units[i];
    }
    return NULL;
}

static bool allowed(const struct xg_host *h, const struct xg_socket *s)
{
    char name[64];
    daemon_name(s, name, sizeof(name));
    if (!name[0]) /* no process evidence: only the well-known ports of the allowlist */
        return (s->proto == IPPROTO_TCP && s->port == 22) ||
               (s->proto == IPPROTO_UDP && (s->port == 123 || s->port == 68 || s->port == 546));
    if (in_list(common_ok, name))
        return true;
    switch (h->toolstack) {
    case XG_TOOLSTACK_XL:
        return in_list(xl_ok, name);
    case XG_TOOLSTACK_XEND:
        return in_list(xend_ok, name);
    case XG_TOOLSTACK_XAPI:
        return in_list(xapi_ok, name);
    case XG_TOOLSTACK_NONE:
        break;
    }
    return false;
}

/* The daemons the toolstack needs, listening or not (xenconsoled never listens,
 * xenstored only on a Unix socket): evidence that the audit saw them. */
static void note_toolstack_daemons(const struct xg_host *h, struct xg_result *r)
{
    static const char *const xl_daemons[] = {"xenstored|oxenstored", "xenconsoled", NULL};
    static const char *const xapi_daemons[] = {"xapi", "xenstored|oxenstored", "xenconsoled", NULL};
    const char *const *want = h->toolstack == XG_TOOLSTACK_XAPI ? xapi_daemons : xl_daemons;
    char seen[512] = "", missing[256] = "";

    if (h->toolstack == XG_TOOLSTACK_NONE || !h->process_count)
        return;
    for (; *want; want++) {
        bool found = false;
        for (size_t i = 0; i < h->process_count && !found; i++) {
            char alts[64], *save = NULL;
            snprintf(alts, sizeof(alts), "%s", *want);
            for (char *a = strtok_r(alts, "|", &save); a && !found; a = strtok_r(NULL, "|", &save))
                if (!strcmp(h->processes[i].name, a)) {
                    found = true;
                    snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s (pid %d)",
                             seen[0] ? ", " : "", a, (int)h->processes[i].pid);
                }
        }
        if (!found)
            snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                     missing[0] ? ", " : "", *want);
    }
    if (seen[0])
        xg_evidence(r, "expected for %s and running: %s", xg_toolstack_name(h->toolstack), seen);
    if (missing[0])
        xg_evidence(r, "expected for %s but not running: %s", xg_toolstack_name(h->toolstack),
                    missing);
}

static void check_allowlist(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    (void)p;
    if (!xg_need(r, h, h->sockets_present, XG_SEC_SOCKETS, "no /proc/net/{tcp,tcp6,udp,udp6}"))
        return;
    xg_need_readable(r, h, "/proc/net");
    xg_need_socket_tables(r, h, XG_SOCKTAB_TCP | XG_SOCKTAB_UDP);
    size_t ok = 0, unknown = 0;
    for (size_t i = 0; i < h->socket_count; i++) {
        const struct xg_socket *s = &h->sockets[i];
        char d[160];
        xg_socket_describe(s, d, sizeof(d));
        if (xg_addr_is_loopback(&s->addr))
            continue;
        if (allowed(h, s) && !s->process[0])
            unknown++; /* allowed by its port alone: a guess, not evidence */
        else if (allowed(h, s))
            ok++;
        else if (s->unit[0]) {
            xg_failf(r, "not in the %s allowlist: %s", xg_toolstack_name(h->toolstack), d);
            xg_fix(r, "systemctl disable --now %s %s", xg_sh(s->unit).s, xg_sh(s->service).s);
        } else {
            char name[64];
            xg_failf(r, "not in the %s allowlist: %s", xg_toolstack_name(h->toolstack), d);
            daemon_name(s, name, sizeof(name));
            const char *unit = enabled_unit(h, name);
            if (unit)
                xg_fix(r, "systemctl disable --now %s", xg_sh(unit).s);
        }
    }
    if (unknown) {
        const char *u = xg_host_unreadable(h, "/proc/PID/fd");
        xg_partial(r, "the process of %zu sockets beyond loopback is unknown (%s)", unknown,
                   u ? u : "no /proc/PID/fd link names them");
    }
    xg_evidence(r,
                "/proc/net/{tcp,tcp6,udp,udp6}: %zu listening sockets, %zu reachable beyond "
                "loopback and allowed",
                h->socket_count, ok);
    note_toolstack_daemons(h, r);
}

static bool addr_on_iface(const struct xg_host *h, const char *ifname, const struct xg_prefix *a)
{
    const struct xg_iface *f = ifname[0] ? xg_host_iface(h, ifname) : NULL;
    if (!f)
        return false;
    for (size_t i = 0; i < f->addrs.count; i++)
        if (xg_prefix_equal(&f->addrs.items[i], a))
            return true;
    return false;
}

static void check_wildcard(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!xg_need(r, h, h->sockets_present, XG_SEC_SOCKETS, "no /proc/net/{tcp,tcp6,udp,udp6}"))
        return;
    xg_need_readable(r, h, "/proc/net");
    xg_need_socket_tables(r, h, XG_SOCKTAB_TCP | XG_SOCKTAB_UDP);
    size_t n = 0;
    for (size_t i = 0; i < h->socket_count; i++) {
        const struct xg_socket *s = &h->sockets[i];
        char d[160];
        xg_socket_describe(s, d, sizeof(d));
        bool dhcp = s->proto == IPPROTO_UDP && (s->port == 68 || s->port == 546);
        char name[64];
        daemon_name(s, name, sizeof(name));
        bool ssh = !strcmp(name, "sshd") || (!name[0] && s->port == 22);
        if (xg_addr_is_loopback(&s->addr) || dhcp || ssh)
            continue;
        n++;
        if (h->toolstack == XG_TOOLSTACK_XAPI &&
            (!strcmp(s->process, "xapi") || !strcmp(s->process, "stunnel"))) {
            xg_evidence(r, "%s: XAPI binds every address by design, see XG-XAPI-003", d);
            continue;
        }
        if (xg_addr_is_wildcard(&s->addr))
            xg_failf(r, "bound to every address: %s", d);
        else if (p && p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT &&
                 strcmp(p->public_if, p->management_if) && addr_on_iface(h, p->public_if, &s->addr))
            xg_failf(r, "bound to the public interface %s: %s", p->public_if, d);
    }
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r,
                    "/proc/net/{tcp,tcp6,udp,udp6}: %zu non-loopback sockets (sshd, DHCP "
                    "aside), none on a wildcard address",
                    n);
}

static const char *unneeded[] = {"apache2",
                                 "httpd",
                                 "nginx",
                                 "lighttpd",
                                 "cups",
                                 "cups-browsed",
                                 "avahi-daemon",
                                 "bluetooth",
                                 "postfix",
                                 "exim4",
                                 "sendmail",
                                 "smbd",
                                 "nmbd",
                                 "samba",
                                 "rpcbind",
                                 "nfs-server",
                                 "nfs-kernel-server",
                                 "vsftpd",
                                 "proftpd",
                                 "telnet",
                                 "inetd",
                                 "openbsd-inetd",
                                 "xinetd",
                                 "snmpd",
                                 "mysql",
                                 "mariadb",
                                 "postgresql",
                                 "docker",
                                 "containerd",
                                 "ModemManager",
                                 "rsync",
                                 "saned",
                                 "minidlna",
                                 "dnsmasq",
                                 "bind9",
                                 "named",
                                 "squid",
                                 "isc-dhcp-server",
                                 "slapd",
                                 "cockpit",
                                 "webmin",
                                 NULL};

static void check_units(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    (void)p;
    if (!xg_need_file(r, h, h->units_present, XG_SEC_COUNT, "/etc/systemd/system"))
        return;
    xg_need_readable(r, h, "/etc/systemd/system");
    for (size_t i = 0; i < h->unit_count; i++) {
        char base[256];
        unit_base(h->units[i], base, sizeof(base));
        if (in_list(unneeded, base)) {
            xg_failf(r, "enabled: %s", h->units[i]);
            xg_fix(r, "systemctl disable --now %s", xg_sh(h->units[i]).s);
        }
    }
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r,
                    "/etc/systemd/system/*.wants: %zu enabled units, none on the list of "
                    "services a Dom0 does not need",
                    h->unit_count);
}

const struct xg_check_def xg_checks_services[] = {
    {"XG-SVC-001", XG_PRACTICE_SERVICES, XG_SEV_HIGH,
     "Only allowlisted services listen beyond loopback",
     "Every listening TCP socket and bound UDP socket (IPv4 and IPv6) is matched to its process "
     "through /proc/PID/fd and compared with the allowlist of the detected toolstack "
     "(xenstored, xenconsoled, qemu for xl; xapi, stunnel, xcp-rrdd... for XAPI; sshd, time "
     "sync and DHCP clients everywhere). A socket only systemd holds (socket activation) is "
     "judged by the service its enabled .socket unit activates, and the finding names both.",
     "Stop and disable the service (systemctl disable --now UNIT), or move it to a guest.",
     check_allowlist,
     "/proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 /proc/PID/fd /proc/PID/comm"},
    {"XG-SVC-002", XG_PRACTICE_SERVICES, XG_SEV_MEDIUM,
     "No service is bound to a wildcard or public address",
     "A socket bound to 0.0.0.0 or :: answers on every interface, the public one included. "
     "sshd (see XG-SSH-003) and DHCP clients are judged elsewhere. With an isolated-management "
     "policy, an address of the public interface fails too.",
     "Bind the service to the management address (or loopback) in its configuration.",
     check_wildcard,
     "/proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 /xenguard/ip-addr.json"},
    {"XG-SVC-003", XG_PRACTICE_SERVICES, XG_SEV_MEDIUM, "No enabled unit that a Dom0 does not need",
     "Units enabled in /etc/systemd/system/*.wants are compared with a list of services that "
     "have no place in Domain-0 (web, mail, print, file sharing, databases, containers...).",
     "systemctl disable --now UNIT (and remove the package), or run it in a guest.", check_units,
     "/etc/systemd/system"},
};
const size_t xg_checks_services_count = sizeof(xg_checks_services) / sizeof(xg_checks_services[0]);
