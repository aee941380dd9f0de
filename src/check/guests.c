/*
 * guests.c — the guests on Dom0's bridges (issue 13): can a tenant claim
 * Dom0's or the cluster's addresses, do the guest ports declare theirs, and
 * does the toolstack's vif script declare them at all.
 *
 * A real Dom0 bridges its guests onto the segment that carries its own
 * address (xenbr0 = eth0 + vif5.0 + ...). A guest there that takes Dom0's
 * or a peer's address passes every reverse-path test. The evidence is the
 * bridge membership (probe/bridges.c), the addresses on the bridge (`ip -j
 * addr`) and the loaded `table bridge xenguard` (the nft listing the
 * firewall checks read too). Guest ports are the policy's [guests] ports,
 * or vif* / tap* without a policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "guests/vif.h"

static bool is_guest_port(const struct xg_policy *p, const char *ifname)
{
    struct xg_err e;
    if (p)
        return xg_policy_is_guest_port(p, ifname);
    return xg_vif_check_ifname(ifname, NULL, &e) == 0;
}

static size_t guest_ports(const struct xg_bridge *br, const struct xg_policy *p, char *list,
                          size_t size)
{
    size_t n = 0;
    list[0] = '\0';
    for (size_t i = 0; i < br->port_count; i++) {
        if (!is_guest_port(p, br->ports[i]))
            continue;
        size_t used = strlen(list);
        snprintf(list + used, size - used, "%s%s", n ? " " : "", br->ports[i]);
        n++;
    }
    return n;
}

static bool link_local(const struct xg_prefix *a)
{
    return a->family == XG_FAMILY_IPV6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

static const struct xg_table *guests_table(const struct xg_host *h)
{
    for (size_t i = 0; i < h->firewall.table_count; i++) {
        const struct xg_table *t = h->firewall.tables[i];
        if (t->family == XG_TABLE_BRIDGE && !strcmp(t->name, XG_NFT_TABLE))
            return t;
    }
    return NULL;
}

static bool hooked(const struct xg_table *t)
{
    for (size_t i = 0; i < t->chain_count; i++)
        if (t->chains[i]->hook != XG_HOOK_NONE)
            return true;
    return false;
}

/* Is `a` in the guests' table's protected4/6 set? */
static bool protected_addr(const struct xg_table *t, const struct xg_prefix *a)
{
    const struct xg_set *s =
        xg_table_find_set(t, a->family == XG_FAMILY_IPV4 ? XG_BR_SET_PROTECT4 : XG_BR_SET_PROTECT6);
    return s && s->key == XG_SETKEY_ADDR && xg_prefix_list_covers(&s->elements, a);
}

static bool need_bridges(struct xg_result *r, const struct xg_host *h)
{
    return xg_need_file(r, h, h->bridges_present, XG_SEC_BRIDGES,
                        h->live ? "/sys/class/net" : "/xenguard/bridges.txt");
}

/* One bridge with guest ports and Dom0 addresses: each address (and, with a
 * policy, each peer) must be in protected4/6 of a hooked guests' table. */
static void judge_bridge(const struct xg_bridge *br, const char *ports, const struct xg_iface *ifc,
                         const struct xg_table *t, const struct xg_policy *p, struct xg_result *r)
{
    char text[XG_PREFIX_STRLEN];
    for (size_t i = 0; i < ifc->addrs.count; i++) {
        const struct xg_prefix *a = &ifc->addrs.items[i];
        if (link_local(a))
            continue;
        xg_prefix_format(a, true, text);
        if (!t)
            xg_failf(r,
                     "%s (guest ports %s) carries Dom0's %s and no table bridge " XG_NFT_TABLE
                     " is loaded: a guest can claim it",
                     br->name, ports, text);
        else if (!protected_addr(t, a))
            xg_failf(r,
                     "%s (guest ports %s) carries Dom0's %s, which table bridge " XG_NFT_TABLE
                     " does not protect (not in %s)",
                     br->name, ports, text,
                     a->family == XG_FAMILY_IPV4 ? XG_BR_SET_PROTECT4 : XG_BR_SET_PROTECT6);
        else
            xg_evidence(r, "%s (guest ports %s): Dom0's %s is in table bridge " XG_NFT_TABLE " %s",
                        br->name, ports, text,
                        a->family == XG_FAMILY_IPV4 ? XG_BR_SET_PROTECT4 : XG_BR_SET_PROTECT6);
    }
    for (size_t i = 0; t && p && i < p->peers.count; i++) {
        xg_prefix_format(&p->peers.items[i], false, text);
        if (!protected_addr(t, &p->peers.items[i]))
            xg_failf(r,
                     "%s: cluster peer %s is not in table bridge " XG_NFT_TABLE "'s protected "
                     "sets: a guest on %s can claim it",
                     p->path ? p->path : "policy", text, br->name);
    }
}

static void check_claims(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!need_bridges(r, h) ||
        !xg_need_file(r, h, h->ifaces_present, XG_SEC_IFACES, "/xenguard/ip-addr.json"))
        return;
    if (p && !p->guests.protect) {
        xg_na(r, "the policy turns guest protection off ([guests] protect = no)");
        return;
    }
    const struct xg_table *t = NULL;
    if (h->errors[XG_SEC_FIREWALL]) {
        xg_error(r, "%s", h->errors[XG_SEC_FIREWALL]);
        return;
    }
    if (h->firewall_present && (t = guests_table(h)) && !hooked(t)) {
        xg_evidence(r, "table bridge " XG_NFT_TABLE " has no base chain: it filters nothing");
        t = NULL;
    }
    size_t judged = 0;
    for (size_t i = 0; i < h->bridge_count; i++) {
        const struct xg_bridge *br = &h->bridges[i];
        char ports[512];
        const struct xg_iface *ifc = xg_host_iface(h, br->name);
        if (!guest_ports(br, p, ports, sizeof(ports)) || !ifc || !ifc->addrs.count)
            continue;
        if (!h->firewall_present) {
            xg_partial(r, "no firewall listing (nft -j list ruleset) to look for table bridge "
                          "xenguard in");
            continue;
        }
        judge_bridge(br, ports, ifc, t, p, r);
        judged++;
    }
    if (r->status == XG_STATUS_FAIL)
        xg_fix_apply(r, p); /* its table bridge xenguard protects Dom0's addresses and the peers */
    if (!judged && r->status == XG_STATUS_PASS && !r->missing)
        xg_na(r, "no bridge with guest ports carries a Dom0 address (%zu bridge%s)",
              h->bridge_count, h->bridge_count == 1 ? "" : "s");
}

static bool declared(const struct xg_host *h, const char *port)
{
    for (size_t i = 0; i < h->vif_declared_count; i++)
        if (!strcmp(h->vif_declared[i], port))
            return true;
    return false;
}

static void check_declared(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!p || !p->guests.require_addresses) {
        xg_na(r, "the policy does not ask guests to declare their addresses ([guests] "
                 "require-addresses = yes)");
        return;
    }
    if (!need_bridges(r, h))
        return;
    size_t ports = 0;
    for (size_t i = 0; i < h->bridge_count; i++) {
        for (size_t k = 0; k < h->bridges[i].port_count; k++) {
            const char *port = h->bridges[i].ports[k];
            if (!is_guest_port(p, port))
                continue;
            ports++;
            if (!h->guests_table_present) {
                xg_failf(r,
                         "%s on %s: no table bridge " XG_NFT_TABLE
                         " with vif sets is loaded to declare it in",
                         port, h->bridges[i].name);
                xg_fix_apply(r, p);
            } else if (!declared(h, port))
                xg_failf(r, "%s on %s: not in " XG_BR_SET_DECLARED " (no xenguard vif online)",
                         port, h->bridges[i].name);
            else
                xg_evidence(r, "%s on %s: declared (" XG_BR_SET_DECLARED ")", port,
                            h->bridges[i].name);
        }
    }
    if (!ports)
        xg_na(r, "no guest port on any bridge");
}

/* "vif-xenguard" or "/etc/xen/scripts/vif-xenguard" */
static bool is_ours(const char *script)
{
    const char *base = strrchr(script, '/');
    return !strcmp(base ? base + 1 : script, "vif-xenguard");
}

/* The value of KEY= in one vif spec "mac=..,bridge=..,ip=A B,script=X" (into out), or NULL. */
static const char *vif_key(const char *spec, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    for (const char *s = spec; s && *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, ",");
        if (n > klen && !strncmp(s, key, klen) && s[klen] == '=') {
            snprintf(out, size, "%.*s", (int)(n - klen - 1), s + klen + 1);
            return out;
        }
        s += n;
    }
    return NULL;
}

/* Each vif spec with ip= must run vif-xenguard (its own script=, else the default). */
static void judge_domcfgs(const struct xg_host *h, const char *def, bool *default_bad,
                          struct xg_result *r)
{
    for (size_t i = 0; h->domcfgs_present && i < h->domcfg_count; i++) {
        const struct xg_xlcfg *c = &h->domcfgs[i];
        const struct xg_xlcfg_value *vif = xg_xlcfg_get(c, "vif");
        for (size_t k = 0; vif && k < vif->count; k++) {
            char script[256], ip[256];
            const char *use = vif_key(vif->items[k], "script", script, sizeof(script));
            if (!use)
                use = def ? def : "vif-bridge";
            if (!vif_key(vif->items[k], "ip", ip, sizeof(ip)))
                continue;
            if (is_ours(use))
                xg_evidence(r, "%s:%u: vif %zu (ip=%s) runs %s", c->path, vif->line, k, ip, use);
            else {
                xg_failf(r, "%s:%u: vif %zu has ip=%s but runs %s: the address is never declared",
                         c->path, vif->line, k, ip, use);
                if (vif_key(vif->items[k], "script", script, sizeof(script)))
                    xg_fix(r, "sed -i \"s|script=[^,'\\\"]*|script=vif-xenguard|g\" %s",
                           xg_sh(c->path).s);
                else
                    *default_bad = true;
            }
        }
    }
}

static void check_vif_script(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    bool on = p ? p->guests.protect : h->guests_table_present;
    if (!on) {
        xg_na(r, p ? "the policy turns guest protection off ([guests] protect = no)"
                   : "no policy and no table bridge xenguard loaded: guest protection is off");
        return;
    }
    if (h->toolstack != XG_TOOLSTACK_XL) {
        xg_na(r, "the toolstack is not xl (%s): only xl's vif scripts are read",
              xg_toolstack_name(h->toolstack));
        return;
    }
    if (!xg_need_file(r, h, h->xlconf_present, XG_SEC_XL, "/etc/xen/xl.conf"))
        return;
    xg_need_readable(r, h, "/etc/xen");
    const struct xg_xlcfg_value *v = xg_xlcfg_get(&h->xlconf, "vif.default.script");
    const char *def = v && v->count ? v->items[0] : NULL;
    if (def)
        xg_evidence(r, "%s:%u: vif.default.script=\"%s\"", h->xlconf.path, v->line, def);
    else
        xg_evidence(r, "%s: no vif.default.script: xl runs vif-bridge", h->xlconf.path);
    bool default_bad = false;
    if (p && p->guests.require_addresses && !(def && is_ours(def))) {
        xg_failf(r,
                 "[guests] require-addresses = yes, but the default vif script is %s: guests' "
                 "addresses are never declared",
                 def ? def : "vif-bridge");
        default_bad = true;
    }
    judge_domcfgs(h, def, &default_bad, r);
    if (default_bad && def)
        xg_fix(r, "sed -i '%us/.*/vif.default.script=\"vif-xenguard\"/' %s", v->line,
               xg_sh(h->xlconf.path).s);
    else if (default_bad)
        xg_fix(r, "echo 'vif.default.script=\"vif-xenguard\"' >> %s", xg_sh(h->xlconf.path).s);
}

const struct xg_check_def xg_checks_guests[] = {
    {"XG-GUEST-001", XG_PRACTICE_MIGRATION, XG_SEV_HIGH,
     "Guests on Dom0's bridges cannot claim Dom0's or the cluster's addresses",
     "A bridge with guest ports (vif*, tap*, or [guests] ports) that carries one of Dom0's "
     "addresses lets a guest take that address (or a cluster peer's) and pass every "
     "reverse-path test, e.g. to reach the relocation port. The loaded table bridge xenguard "
     "must hold each such address, and with a policy each peer, in protected4/protected6.",
     "xenguard apply with guest protection on ([guests] protect = yes, the default), and Dom0's "
     "addresses in [host] addresses.",
     check_claims, "/xenguard/bridges.txt /xenguard/ip-addr.json /xenguard/nft-ruleset.json"},
    {"XG-GUEST-002", XG_PRACTICE_XL, XG_SEV_MEDIUM, "Every guest port declares its addresses",
     "With [guests] require-addresses = yes, each guest port on a bridge must be in the loaded "
     "table's vif_declared set (xenguard vif online, run by the vif-xenguard hotplug script), "
     "so that it can send only from its own MAC and addresses.",
     "vif.default.script=\"vif-xenguard\" in /etc/xen/xl.conf and ip= in each vif spec; or "
     "xenguard vif online IFACE --mac MAC --ip ADDR.",
     check_declared, "/xenguard/bridges.txt /xenguard/nft-ruleset.json"},
    {"XG-GUEST-003", XG_PRACTICE_XL, XG_SEV_MEDIUM, "The toolstack's vif script declares guests",
     "While guest protection is on, every vif spec with ip= must run vif-xenguard (its "
     "script=, else vif.default.script in xl.conf, else vif-bridge): with vif-bridge the ip= "
     "is never declared and the guest may use any address that is not protected. With "
     "[guests] require-addresses = yes the default script itself must be vif-xenguard.",
     "vif.default.script=\"vif-xenguard\" in /etc/xen/xl.conf (installed in /etc/xen/scripts by "
     "make install); no script= other than vif-xenguard in the domain configurations.",
     check_vif_script, "/etc/xen"},
};
const size_t xg_checks_guests_count = sizeof(xg_checks_guests) / sizeof(xg_checks_guests[0]);
