/*
 * validate.c — what only the whole policy file can tell: required keys,
 * scenarios that contradict themselves (isolated-management without a
 * distinct management NIC; relocation on an untrusted subnet), interfaces
 * in conflicting roles, services that would reopen a port another section
 * governs. Errors point at the key that was written (struct xg_loc), so
 * they quote its line like any parse error.
 */
#include <netinet/in.h>
#include <string.h>

#include "policy/parser.h"

static void warn_outside_networks(struct parser *ps, const struct xg_prefix_list *list,
                                  const char *what)
{
    const struct xg_policy *p = ps->p;
    if (!p->networks.count)
        return;
    for (size_t i = 0; i < list->count; i++) {
        if (!xg_prefix_list_covers(&p->networks, &list->items[i])) {
            char a[XG_PREFIX_STRLEN];
            xg_prefix_format(&list->items[i], true, a);
            xg_warn_at(ps->warnings, ps->src.file, 0, 0, "%s %s is outside [cluster] networks%s",
                       what, a,
                       p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT
                           ? ": the management interface drops it as spoofed"
                           : "");
        }
    }
}

/* The interfaces: one card or two, as the scenario says. */
static int validate_interfaces(struct parser *ps)
{
    struct xg_policy *p = ps->p;
    const char *scen = xg_scenario_name(p->scenario);
    bool management_set = p->management_if_loc.line != 0;

    if (p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT) {
        if (!management_set)
            return policy_fail_loc(ps, p->scenario_loc,
                                   "scenario %s needs [host] management-interface: the second "
                                   "network card on the physically separate management network",
                                   scen);
        if (!strcmp(p->management_if, p->public_if))
            return policy_fail_loc(ps, p->management_if_loc,
                                   "management-interface '%s' is also the public interface: "
                                   "scenario %s needs a distinct, physically separate card",
                                   p->management_if, scen);
        if (!p->networks.count)
            return policy_fail_loc(ps, p->scenario_loc,
                                   "scenario %s needs [cluster] networks: the prefixes of the "
                                   "management network (anything else arriving on it is dropped)",
                                   scen);
    } else if (management_set && strcmp(p->management_if, p->public_if)) {
        return policy_fail_loc(ps, p->management_if_loc,
                               "management-interface '%s' differs from public-interface, but "
                               "scenario %s has one network card: use isolated-management for a "
                               "second card",
                               p->management_if, scen);
    } else {
        memcpy(p->management_if, p->public_if, sizeof(p->management_if));
    }

    if (p->gateway_mac_count && p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT)
        return policy_fail_loc(ps, p->gateway_mac_loc,
                               "gateway-mac is for the one-card scenarios: in %s the public "
                               "interface already drops every cluster source",
                               scen);
    if (!p->gateway_mac_count && p->scenario == XG_SCENARIO_FIREWALLED_SUBNET &&
        (p->networks.count || p->peers.count))
        xg_warn_at(ps->warnings, ps->src.file, p->scenario_loc.line, p->scenario_loc.col,
                   "no [host] gateway-mac: with one card, a forged cluster source routed in from "
                   "outside looks like a peer on the link; the perimeter firewall must drop it");
    return 0;
}

/* [allow] entries must not reopen what [admin] and [migration] govern. */
static int validate_services(struct parser *ps)
{
    struct xg_policy *p = ps->p;
    for (size_t i = 0; i < p->service_count; i++) {
        const struct xg_service *s = &p->services[i];
        if (s->iface[0] && p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT &&
            strcmp(s->iface, p->public_if) && strcmp(s->iface, p->management_if))
            xg_warn_at(ps->warnings, ps->src.file, s->loc.line, s->loc.col,
                       "%s: interface '%s' is neither the public nor the management interface",
                       s->name, s->iface);
        for (size_t j = 0; j < s->port_count; j++) {
            bool ssh = s->proto == IPPROTO_TCP && s->ports[j].lo <= p->ssh_port &&
                       p->ssh_port <= s->ports[j].hi;
            bool mig = s->proto == IPPROTO_TCP && xg_policy_has_migration_port(p) &&
                       s->ports[j].lo <= p->migration_port && p->migration_port <= s->ports[j].hi;
            if (ssh || mig)
                return policy_fail_loc(ps, s->loc,
                                       "%s: opens the %s port, which [%s] already governs; "
                                       "change it there",
                                       s->name, ssh ? "ssh" : "migration",
                                       ssh ? "admin" : "migration");
        }
    }
    return 0;
}

/* [host] addresses are Dom0's own: single addresses, not networks. */
static int validate_addresses(struct parser *ps)
{
    const struct xg_policy *p = ps->p;
    for (size_t i = 0; i < p->addresses.count; i++) {
        const struct xg_prefix *a = &p->addresses.items[i];
        if (a->len != xg_family_bits(a->family)) {
            char text[XG_PREFIX_STRLEN];
            xg_prefix_format(a, true, text);
            return policy_fail_loc(ps, p->addresses_loc,
                                   "addresses: %s is a network; list Dom0's own addresses "
                                   "(without /LEN)",
                                   text);
        }
    }
    return 0;
}

/* [guests]: default ports; Dom0's own interfaces must not look like guest ports. */
static int validate_guests(struct parser *ps)
{
    struct xg_policy *p = ps->p;
    struct xg_guests_conf *g = &p->guests;
    if (!g->port_count) {
        snprintf(g->ports[g->port_count++], XG_IFNAMSIZ, "vif*");
        snprintf(g->ports[g->port_count++], XG_IFNAMSIZ, "tap*");
    }
    const struct {
        const char *name, *key;
        struct xg_loc loc;
    } ifs[] = {{p->public_if, "public-interface", p->public_if_loc},
               {p->management_if, "management-interface", p->management_if_loc}};
    for (size_t i = 0; i < 2; i++) {
        const char *pat = xg_policy_guest_pattern(p, ifs[i].name);
        if (ifs[i].loc.line && pat)
            return policy_fail_loc(ps, ifs[i].loc,
                                   "%s '%s' matches the guest port pattern '%s' ([guests] ports): "
                                   "name Dom0's own interface (the bridge, e.g. xenbr0)",
                                   ifs[i].key, ifs[i].name, pat);
    }
    if (!g->protect)
        xg_warn_at(ps->warnings, ps->src.file, g->protect_loc.line, g->protect_loc.col,
                   "[guests] protect = no: a guest on Dom0's bridges can claim Dom0's, the "
                   "cluster's and other guests' addresses (IP, ARP, neighbour discovery)");
    return 0;
}

int policy_validate(struct parser *ps)
{
    struct xg_policy *p = ps->p;
    struct xg_loc file = {0};

    if (!p->scenario_loc.line)
        return policy_fail_loc(ps, file,
                               "[host] scenario is required (isolated-management, "
                               "firewalled-subnet or untrusted)");
    if (!p->public_if_loc.line)
        return policy_fail_loc(ps, file, "[host] public-interface is required");
    if (validate_interfaces(ps) < 0)
        return -1;
    if (p->scenario == XG_SCENARIO_UNTRUSTED && p->transport == XG_TRANSPORT_XEND)
        return policy_fail_loc(ps, p->transport_loc,
                               "transport xend on an untrusted subnet: relocation there is "
                               "exactly what the specification forbids; use tunnel, ssh or off");
    if (validate_services(ps) < 0 || validate_addresses(ps) < 0 || validate_guests(ps) < 0)
        return -1;

    if (xg_policy_has_migration_port(p) && !p->peers.count)
        xg_warn_at(ps->warnings, ps->src.file, p->transport_loc.line, p->transport_loc.col,
                   "transport %s with no [cluster] peers: the migration port is open to nobody",
                   xg_transport_name(p->transport));
    if (!p->ssh_from.count && !(p->transport == XG_TRANSPORT_SSH && p->peers.count))
        xg_warn_at(ps->warnings, ps->src.file, 0, 0,
                   "no [admin] ssh-from: sshd will not be reachable for administration");
    warn_outside_networks(ps, &p->peers, "peer");
    if (p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT)
        warn_outside_networks(ps, &p->ssh_from, "ssh-from");
    return 0;
}
