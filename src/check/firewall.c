/*
 * firewall.c — practice 2 and the firewall half of practice 4: what the
 * host's real ruleset lets through, computed by the analyzer.
 *
 * The ruleset is the probe's h->firewall: iptables-save, ip6tables-save and
 * `nft -j list ruleset` combined once by the analyzer's one rule (the
 * tables the kernel evaluates; src/analyze/evidence.c says how). The checks
 * only ask it questions: reachability per interface of `ip -j addr`
 * (loopback aside), for a new connection on the INPUT path.
 *
 * A socket is reached by the families it answers: an IPv6 wildcard socket
 * without IPV6_V6ONLY (Linux's default) answers IPv4 as well, so it is judged
 * against the IPv4 rules too (xg_socket_dual_stack() says when, and why).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "check/check.h"
#include "ir/ir.h"
#include "net/addr.h"
#include "util/buf.h"

/* Port that no sane policy opens: probes what happens to "anything else". */
#define CANARY_PORT 65533

struct fw {
    const struct xg_ruleset *rs;
};

static bool fw_need(const struct xg_host *h, struct xg_result *r, struct fw *fw)
{
    if (!h->firewall_present) {
        xg_na(r, "no firewall evidence (iptables-save, ip6tables-save, nft -j list ruleset)");
        return false;
    }
    if (!xg_need(r, h, h->ifaces_present, XG_SEC_IFACES, "no interface list (ip -j addr)"))
        return false;
    if (h->errors[XG_SEC_FIREWALL]) {
        xg_error(r, "%s", h->errors[XG_SEC_FIREWALL]);
        return false;
    }
    size_t real = 0;
    for (size_t i = 0; i < h->iface_count; i++)
        real += strcmp(h->ifaces[i].name, "lo") != 0;
    if (!real) {
        /* a Qubes-style Dom0: the network lives in a guest, nothing arrives here */
        xg_na(r, "only loopback (ip -j addr): no network interface for the firewall to guard");
        return false;
    }
    fw->rs = &h->firewall;
    return true;
}

static void fw_done(struct fw *fw)
{
    fw->rs = NULL;
}

/* A source list for a finding, by the one prefix-list printer (cut to `size`). */
static void fmt_list(const struct xg_prefix_list *l, char *out, size_t size)
{
    struct xg_buf b = {0};
    xg_prefix_list_print(&b, l, ", ", true, "nobody");
    snprintf(out, size, "%s", xg_buf_str(&b));
    xg_buf_free(&b);
}

static int reach(const struct fw *fw, uint8_t family, uint8_t proto, uint16_t port,
                 const char *iface, struct xg_reach *out, struct xg_result *r)
{
    struct xg_packet_query q = {
        .family = family, .proto = proto, .dport = port, .iifname = iface, .path = XG_HOOK_INPUT};
    struct xg_err e;
    memset(out, 0, sizeof(*out));
    if (xg_reach_compute(fw->rs, &q, out, &e) < 0) {
        xg_error(r, "%s", e.msg);
        return -1;
    }
    return 0;
}

static void default_reject(const struct xg_host *h, struct xg_result *r, uint8_t family)
{
    struct fw fw;
    if (!fw_need(h, r, &fw))
        return;
    size_t n = 0;
    for (size_t i = 0; i < h->iface_count && r->status != XG_STATUS_ERROR; i++) {
        if (!strcmp(h->ifaces[i].name, "lo"))
            continue;
        n++;
        for (int t = 0; t < 2; t++) {
            uint8_t proto = t ? IPPROTO_UDP : IPPROTO_TCP;
            struct xg_reach rc;
            if (reach(&fw, family, proto, CANARY_PORT, h->ifaces[i].name, &rc, r) < 0)
                break;
            if (rc.may.count) {
                char l[512];
                fmt_list(&rc.may, l, sizeof(l));
                xg_failf(r,
                         "%s: a new IPv%u %s connection to an unused port (%u) is accepted "
                         "from %s",
                         h->ifaces[i].name, family, t ? "UDP" : "TCP", CANARY_PORT, l);
            }
            xg_reach_free(&rc);
        }
    }
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r, "new IPv%u traffic to unopened ports is rejected on all %zu interfaces",
                    family, n);
    fw_done(&fw);
}

/* Every firewall finding has one fix: the policy's ruleset, loaded by xenguard apply
 * (lockout guard, rollback unless confirmed), never `xenguard firewall | nft -f -`. */
static void fix_by_apply(const struct xg_policy *p, struct xg_result *r)
{
    if (r->status == XG_STATUS_FAIL)
        xg_fix_apply(r, p);
}

static void check_default_reject4(const struct xg_host *h, const struct xg_policy *p,
                                  struct xg_result *r)
{
    default_reject(h, r, 4);
    fix_by_apply(p, r);
}

/* IPv6 is off, and the evidence says so: the socket tables and interfaces were read and none
 * of them shows IPv6 (then there is nothing an IPv6 rule could guard). */
static bool ipv6_off(const struct xg_host *h)
{
    return !xg_host_has_ipv6(h) && (h->socket_tables & XG_SOCKTAB_TCP) && h->ifaces_present;
}

static void check_default_reject6(const struct xg_host *h, const struct xg_policy *p,
                                  struct xg_result *r)
{
    if (ipv6_off(h)) {
        xg_na(r, "IPv6 is off: no /proc/net/tcp6 or udp6, no /proc/sys/net/ipv6/conf, no IPv6 "
                 "address (ip -j addr)");
        return;
    }
    default_reject(h, r, 6);
    fix_by_apply(p, r);
}

/* Sources the policy allows for proto/port (from_any -> everything). */
static void allowed_sources(const struct xg_policy *p, uint8_t proto, uint16_t port,
                            struct xg_prefix_list *out, bool *any)
{
    *any = false;
    if (proto == IPPROTO_TCP && port == (p->ssh_port ? p->ssh_port : 22))
        xg_prefix_list_copy(out, &p->ssh_from);
    if (proto == IPPROTO_TCP && port == p->migration_port && xg_policy_has_migration_port(p))
        for (size_t i = 0; i < p->peers.count; i++)
            xg_prefix_list_add(out, &p->peers.items[i]);
    for (size_t s = 0; s < p->service_count; s++) {
        const struct xg_service *sv = &p->services[s];
        bool hit = false;
        for (size_t k = 0; k < sv->port_count; k++)
            hit |= sv->proto == proto && port >= sv->ports[k].lo && port <= sv->ports[k].hi;
        if (!hit)
            continue;
        if (sv->from_any)
            *any = true;
        for (size_t i = 0; i < sv->from.count; i++)
            xg_prefix_list_add(out, &sv->from.items[i]);
    }
}

static bool whole_space(const struct xg_prefix_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].len == 0)
            return true;
    return false;
}

/* The families a socket answers: its own, and IPv4 too when it is dual-stack. */
static size_t socket_families(const struct xg_host *h, const struct xg_socket *so, uint8_t fams[2],
                              char *why, size_t why_size)
{
    fams[0] = so->family;
    if (xg_socket_dual_stack(h, so, why, why_size)) {
        fams[1] = 4;
        return 2;
    }
    return 1;
}

/* Is anything in `may` beyond what the policy declares (no policy: the whole space, not ssh)? */
static bool beyond_policy(const struct xg_policy *p, const struct xg_socket *so,
                          const struct xg_prefix_list *may)
{
    bool bad = false;
    if (!p)
        return !(so->proto == IPPROTO_TCP && so->port == 22) && whole_space(may);
    struct xg_prefix_list ok = {0};
    bool any = false;
    allowed_sources(p, so->proto, so->port, &ok, &any);
    for (size_t k = 0; !any && k < may->count; k++)
        bad |= !xg_prefix_list_covers(&ok, &may->items[k]);
    xg_prefix_list_free(&ok);
    return bad;
}

static void open_port(const struct fw *fw, const struct xg_host *h, const struct xg_policy *p,
                      const struct xg_socket *so, struct xg_result *r)
{
    uint8_t fams[2];
    char why[160], d[160];
    size_t nf = socket_families(h, so, fams, why, sizeof(why));
    xg_socket_describe(so, d, sizeof(d));
    for (size_t i = 0; i < h->iface_count && r->status != XG_STATUS_ERROR; i++) {
        if (!strcmp(h->ifaces[i].name, "lo"))
            continue;
        for (size_t f = 0; f < nf; f++) {
            struct xg_reach rc;
            if (reach(fw, fams[f], so->proto, so->port, h->ifaces[i].name, &rc, r) < 0)
                return;
            char l[512], fam[200] = "";
            fmt_list(&rc.may, l, sizeof(l));
            if (nf == 2)
                snprintf(fam, sizeof(fam), " (IPv%u%s%s)", fams[f], f ? ", dual-stack: " : "",
                         f ? why : "");
            if (beyond_policy(p, so, &rc.may))
                xg_failf(r, "%s on %s%s: open to %s%s", d, h->ifaces[i].name, fam, l,
                         p ? ", beyond what the policy declares" : "");
            else
                xg_evidence(r, "%s on %s%s: open to %s", d, h->ifaces[i].name, fam, l);
            xg_reach_free(&rc);
        }
    }
}

static void check_open_ports(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    struct fw fw;
    if (!xg_need(r, h, h->sockets_present, XG_SEC_SOCKETS, "no socket tables") ||
        !fw_need(h, r, &fw))
        return;
    for (size_t s = 0; s < h->socket_count && r->status != XG_STATUS_ERROR; s++)
        if (!xg_addr_is_loopback(&h->sockets[s].addr))
            open_port(&fw, h, p, &h->sockets[s], r);
    fix_by_apply(p, r);
    fw_done(&fw);
}

static void check_migration_peers(const struct xg_host *h, const struct xg_policy *p,
                                  struct xg_result *r)
{
    struct fw fw;
    if (!fw_need(h, r, &fw))
        return;
    if (xg_migration_port_unused(h, p, r)) {
        fw_done(&fw);
        return;
    }
    uint16_t port = p && p->migration_port ? p->migration_port : 8002;
    for (size_t i = 0; i < h->iface_count && r->status != XG_STATUS_ERROR; i++) {
        if (!strcmp(h->ifaces[i].name, "lo"))
            continue;
        for (uint8_t fam = 4; fam <= (ipv6_off(h) ? 4 : 6); fam += 2) {
            struct xg_reach rc;
            if (reach(&fw, fam, IPPROTO_TCP, port, h->ifaces[i].name, &rc, r) < 0)
                break;
            char l[512];
            fmt_list(&rc.may, l, sizeof(l));
            bool bad = false;
            for (size_t k = 0; k < rc.may.count; k++)
                bad |= !p || !xg_prefix_list_covers(&p->peers, &rc.may.items[k]);
            if (bad)
                xg_failf(r, "TCP %u on %s (IPv%u): reachable from %s, %s", port, h->ifaces[i].name,
                         fam, l, p ? "not only the peers" : "and no policy declares peers");
            else if (rc.may.count)
                xg_evidence(r, "TCP %u on %s (IPv%u): peers only (%s)", port, h->ifaces[i].name,
                            fam, l);
            xg_reach_free(&rc);
        }
    }
    if (r->status == XG_STATUS_PASS && !r->evidence_count)
        xg_evidence(r, "TCP %u is closed on every interface", port);
    fix_by_apply(p, r);
    fw_done(&fw);
}

/* The first prefix of `l` that overlaps `p`, or NULL. */
static const struct xg_prefix *overlap_any(const struct xg_prefix *p,
                                           const struct xg_prefix_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].family == p->family && xg_prefix_overlaps(&l->items[i], p))
            return &l->items[i];
    return NULL;
}

static void check_spoofing(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!p) {
        xg_na(r, "needs a policy: which interface is public and which sources are the peers");
        return;
    }
    if (p->scenario != XG_SCENARIO_ISOLATED_MANAGEMENT || !strcmp(p->public_if, p->management_if)) {
        xg_na(r, "one-NIC scenario: spoofed cluster sources are judged by rp_filter "
                 "(XG-NET-001) and the perimeter firewall");
        return;
    }
    struct fw fw;
    if (!fw_need(h, r, &fw))
        return;
    /* A packet on the public NIC claiming a peer's (management) address must not get in. */
    uint16_t ports[2] = {p->ssh_port ? p->ssh_port : 22, p->migration_port};
    for (size_t k = 0; k < 2 && r->status != XG_STATUS_ERROR; k++) {
        for (uint8_t fam = 4; fam <= 6; fam += 2) {
            struct xg_reach rc;
            if (reach(&fw, fam, IPPROTO_TCP, ports[k], p->public_if, &rc, r) < 0)
                break;
            for (size_t i = 0; i < rc.may.count; i++) {
                const struct xg_prefix *m = overlap_any(&rc.may.items[i], &p->peers);
                if (!m)
                    m = overlap_any(&rc.may.items[i], &p->ssh_from);
                if (!m)
                    continue;
                char a[XG_PREFIX_STRLEN];
                xg_prefix_format(m, true, a);
                xg_failf(r, "TCP %u: a packet on public %s claiming management source %s gets in",
                         ports[k], p->public_if, a);
            }
            xg_reach_free(&rc);
        }
    }
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r, "management sources are refused on the public interface %s", p->public_if);
    fix_by_apply(p, r);
    fw_done(&fw);
}

static void check_xapi_firewalled(const struct xg_host *h, const struct xg_policy *p,
                                  struct xg_result *r)
{
    if (!xg_need(r, h, h->xapi_present, XG_SEC_XAPI, "not an XAPI host"))
        return;
    struct fw fw;
    if (!fw_need(h, r, &fw))
        return;
    size_t n = 0;
    for (size_t s = 0; s < h->socket_count && r->status != XG_STATUS_ERROR; s++) {
        const struct xg_socket *so = &h->sockets[s];
        if (so->proto != IPPROTO_TCP || !xg_addr_is_wildcard(&so->addr) ||
            (strcmp(so->process, "xapi") && strcmp(so->process, "stunnel")))
            continue;
        uint8_t fams[2];
        char why[160], d[160];
        size_t nf = socket_families(h, so, fams, why, sizeof(why));
        xg_socket_describe(so, d, sizeof(d));
        n++;
        for (size_t i = 0; i < h->iface_count; i++) {
            if (!strcmp(h->ifaces[i].name, "lo"))
                continue;
            for (size_t f = 0; f < nf; f++) {
                struct xg_reach rc;
                if (reach(&fw, fams[f], IPPROTO_TCP, so->port, h->ifaces[i].name, &rc, r) < 0)
                    break;
                if (whole_space(&rc.may))
                    xg_failf(r, "%s on every address and open to everyone on %s (IPv%u%s%s)", d,
                             h->ifaces[i].name, fams[f], f ? ", dual-stack: " : "", f ? why : "");
                xg_reach_free(&rc);
            }
        }
        if (r->status == XG_STATUS_PASS)
            xg_evidence(r, "%s: not open to everyone (IPv%u%s%s)", d, so->family,
                        nf == 2 ? " and IPv4, dual-stack: " : "", nf == 2 ? why : "");
    }
    if (r->status == XG_STATUS_PASS && !n)
        xg_evidence(r, "no xapi or stunnel listener on a wildcard address");
    fix_by_apply(p, r);
    fw_done(&fw);
}

const struct xg_check_def xg_checks_firewall[] = {
    {"XG-FW-001", XG_PRACTICE_FIREWALL, XG_SEV_CRITICAL, "IPv4 default-reject on every interface",
     "From the real ruleset (iptables-save, nft -j list ruleset), not from chain names: a new "
     "IPv4 TCP or UDP connection to a port nobody opened is rejected on every interface.",
     "Load the policy's default-reject ruleset with xenguard apply (it guards the ssh session "
     "and rolls back unless confirmed), then xenguard confirm.",
     check_default_reject4},
    {"XG-FW-002", XG_PRACTICE_FIREWALL, XG_SEV_CRITICAL, "IPv6 default-reject on every interface",
     "The same for IPv6: a host with a strict IPv4 ruleset and an empty ip6 one is open.",
     "Load the policy's ruleset with xenguard apply: its table inet xenguard rejects IPv6 as it "
     "does IPv4; then xenguard confirm.",
     check_default_reject6},
    {"XG-FW-003", XG_PRACTICE_FIREWALL, XG_SEV_MEDIUM,
     "Open ports are open only to whom they should be",
     "For every listening socket and interface, the sources that may open a connection, in "
     "each family the socket answers (an IPv6 wildcard socket without IPV6_V6ONLY answers IPv4 "
     "too). Without a policy, anything but ssh open to the whole address space fails; with one, "
     "any source beyond the declared ones ([admin] ssh_from, peers for migration, [allow]) "
     "fails.",
     "Declare who may reach the port in the policy ([allow], [admin] ssh_from, peers) and load "
     "it with xenguard apply, or close the port.",
     check_open_ports},
    {"XG-MIG-002", XG_PRACTICE_MIGRATION, XG_SEV_HIGH,
     "The migration port is reachable only from peers",
     "TCP 8002 (or the policy's migration port) must be reachable from the policy's peers and "
     "nobody else, on every interface and both families.",
     "Declare the peers in the policy and load it with xenguard apply: its ruleset accepts the "
     "migration port only from them.",
     check_migration_peers},
    {"XG-MIG-004", XG_PRACTICE_MIGRATION, XG_SEV_HIGH, "Spoofed management sources are dropped",
     "Isolated management: a packet arriving on the public interface with a peer's or admin's "
     "source address must not reach ssh or the migration port.",
     "Accept management traffic only on the management interface (iifname), and keep "
     "rp_filter=1.",
     check_spoofing},
    {"XG-XAPI-003", XG_PRACTICE_XAPI, XG_SEV_HIGH, "xapi on all addresses is firewalled",
     "xapi and stunnel listen on every address (on [::] without IPV6_V6ONLY: IPv4 too); the "
     "firewall must not open them to everyone in any family they answer.",
     "Restrict ports 80/443 to the management network in the firewall.", check_xapi_firewalled},
};
const size_t xg_checks_firewall_count = sizeof(xg_checks_firewall) / sizeof(xg_checks_firewall[0]);
