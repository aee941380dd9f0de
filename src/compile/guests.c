/*
 * guests.c — the guests' firewall: `table bridge xenguard`, as IR.
 *
 * A Dom0 bridges its guests onto the segment that carries its own address
 * (xenbr0 = the uplink + one port per guest NIC), so a guest can claim
 * Dom0's, a cluster peer's or another guest's address on the link: the
 * inet table's reverse-path check passes (the address is on-link) and no IP
 * rule can tell a guest's frame from the real host's. Only the bridge sees
 * which port a frame came in on. The table:
 *
 *   prerouting (bridge, priority -300: before filter, so every frame from a
 *     port is judged, whether it goes up to Dom0 or out of another port):
 *     one `iifname PATTERN jump guests` per [guests] ports pattern.
 *
 *   guests — what no guest port may send: VLAN-tagged frames (the tag would
 *     carry them past these checks), an IPv4/IPv6 source, ARP sender or
 *     neighbour advertisement / DAD target in protected4/protected6 (Dom0's
 *     [host] addresses, the peers, ssh-from, the management network; apply
 *     adds the live host's addresses), router advertisements and redirects,
 *     DHCPv4/DHCPv6 server messages. Then ports in vif_declared go on to:
 *
 *   declared — a port with declared addresses (`xenguard vif online`) may
 *     send only from its MAC (vif_mac) and its addresses (vif_ip4, vif_ip6,
 *     as IP source, ARP sender and ND target); DHCP discovery from 0.0.0.0,
 *     IPv6 DAD and MLD from ::, and link-local IPv6 (derived from the bound
 *     MAC) still pass.
 *
 *   guest_drop — every drop goes here: a rate-limited log, then drop.
 *
 * The per-guest facts live in sets keyed by interface (`iifname . ip saddr
 * @vif_ip4`), so the rule count is the same for one guest or a thousand;
 * the sets are `dynamic`: `xenguard vif` changes their elements at run
 * time and apply carries them across a reload (apply/guests.c).
 */
#include "compile/compile.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define ETH_P_IP     0x0800
#define ETH_P_ARP    0x0806
#define ETH_P_IPV6   0x86dd
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8

enum {
    ICMP6_MLD_REPORT = 131,
    ICMP6_ND_ROUTER_ADVERT = 134,
    ICMP6_ND_NEIGHBOR_SOLICIT = 135,
    ICMP6_ND_NEIGHBOR_ADVERT = 136,
    ICMP6_ND_REDIRECT = 137,
    ICMP6_MLD2_REPORT = 143,
};

/* Bridge family priorities: dstnat -300, filter -200. Before filter: every frame from a port. */
#define XG_PRIO_BRIDGE_GUESTS (-300)

#define CHAIN_GUESTS   "guests"
#define CHAIN_DECLARED "declared"
#define CHAIN_DROP     "guest_drop"
#define LOG_PREFIX     "xenguard guest drop: "

struct gctx {
    const struct xg_policy *p;
    struct xg_table *t;
    struct xg_err *err;
};

static int oom(struct gctx *c)
{
    return xg_fail(c->err, "out of memory while compiling the guests' table");
}

/* A host prefix ("::", "0.0.0.0") or network ("fe80::/10") as a one-item list. */
static int one_prefix(const char *text, struct xg_prefix_list *out)
{
    struct xg_prefix p;
    char why[192];
    memset(out, 0, sizeof(*out));
    if (xg_prefix_parse(text, XG_PREFIX_STRICT, &p, why, sizeof(why)) < 0)
        return -1;
    return xg_prefix_list_add(out, &p);
}

/* Match `kind` against the one prefix `text`. */
static int match_prefix(struct xg_rule *r, enum xg_match_kind kind, const char *text, bool negate)
{
    struct xg_prefix_list l;
    int rc = one_prefix(text, &l);
    if (rc == 0)
        rc = xg_rule_match_addrs(r, kind, &l, negate);
    xg_prefix_list_free(&l);
    return rc;
}

/* ---------- sets ---------- */

/* Add `l`'s prefixes of `family` to `s`, leaving out what it already covers. */
static int add_prefixes(struct xg_set *s, const struct xg_prefix_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].family == s->family && !xg_prefix_list_covers(&s->elements, &l->items[i]) &&
            xg_prefix_list_add(&s->elements, &l->items[i]) < 0)
            return -1;
    return 0;
}

static int protected_sets(struct gctx *c)
{
    const struct xg_policy *p = c->p;
    bool mgmt = p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT;
    const char *comment = mgmt ? "no guest may claim: Dom0, the cluster peers, ssh-from, the "
                                 "management network"
                               : "no guest may claim: Dom0, the cluster peers, ssh-from";
    for (uint8_t family = 4; family <= 6; family += 2) {
        struct xg_set *s =
            xg_table_add_set(c->t, family == 4 ? XG_BR_SET_PROTECT4 : XG_BR_SET_PROTECT6, family);
        if (!s || !(s->comment = strdup(comment)) || add_prefixes(s, &p->addresses) ||
            add_prefixes(s, &p->peers) || add_prefixes(s, &p->ssh_from) ||
            (mgmt && add_prefixes(s, &p->networks)))
            return oom(c);
    }
    return 0;
}

static int dynamic_set(struct gctx *c, const char *name, enum xg_set_key key, uint8_t family,
                       const char *comment)
{
    struct xg_set *s = xg_table_add_set(c->t, name, family);
    if (!s || !(s->comment = strdup(comment)))
        return oom(c);
    s->key = key;
    s->dynamic = true;
    return 0;
}

static int guest_sets(struct gctx *c)
{
    if (protected_sets(c) ||
        dynamic_set(c, XG_BR_SET_DECLARED, XG_SETKEY_IFNAME, 0,
                    "guest ports with declared addresses (xenguard vif online)") ||
        dynamic_set(c, XG_BR_SET_IP4, XG_SETKEY_IF_ADDR, 4, "declared guest IPv4 addresses") ||
        dynamic_set(c, XG_BR_SET_IP6, XG_SETKEY_IF_ADDR, 6, "declared guest IPv6 addresses") ||
        dynamic_set(c, XG_BR_SET_MAC, XG_SETKEY_IF_MAC, 0, "declared guest MAC addresses"))
        return -1;
    return 0;
}

/* ---------- rules ---------- */

/* A rule that sends what it matches to guest_drop (counted there and here). */
static struct xg_rule *drop_rule(struct gctx *c, struct xg_chain *ch, const char *comment)
{
    struct xg_rule *r = xg_chain_add_rule(ch);
    if (!r || xg_rule_set_comment(r, comment) ||
        xg_rule_set_target(r, XG_VERDICT_GOTO, CHAIN_DROP)) {
        oom(c);
        return NULL;
    }
    r->counter = true;
    return r;
}

static int icmp6(struct xg_rule *r, uint8_t type)
{
    return xg_rule_match_icmp(r, 6, &type, 1);
}

/* What no guest port may send. */
static int rules_guests(struct gctx *c, struct xg_chain *ch)
{
    static const uint8_t ra[] = {ICMP6_ND_ROUTER_ADVERT, ICMP6_ND_REDIRECT};
    static const uint16_t tags[] = {ETH_P_8021Q, ETH_P_8021AD};
    struct xg_port_range dhcp4 = {67, 67}, dhcp6 = {547, 547};
    struct xg_rule *r;

    for (size_t i = 0; i < 2; i++)
        if (!(r = drop_rule(c, ch, "a VLAN tag would carry the frame past these checks")) ||
            xg_rule_match_ethertype(r, tags[i], false))
            return oom(c);
    if (!(r = drop_rule(c, ch, "a guest claims the IPv4 address of Dom0 or the cluster")) ||
        xg_rule_match_addr_set(r, XG_MATCH_SADDR, XG_BR_SET_PROTECT4, false))
        return oom(c);
    if (!(r = drop_rule(c, ch, "a guest claims the IPv6 address of Dom0 or the cluster")) ||
        xg_rule_match_addr_set(r, XG_MATCH_SADDR, XG_BR_SET_PROTECT6, false))
        return oom(c);
    if (!(r = drop_rule(c, ch, "ARP (reply, request, gratuitous) claiming Dom0 or the cluster")) ||
        xg_rule_match_addr_set(r, XG_MATCH_ARP_SPA, XG_BR_SET_PROTECT4, false))
        return oom(c);
    if (!(r = drop_rule(c, ch, "neighbour advertisement claiming Dom0 or the cluster")) ||
        icmp6(r, ICMP6_ND_NEIGHBOR_ADVERT) ||
        xg_rule_match_addr_set(r, XG_MATCH_ND_TARGET, XG_BR_SET_PROTECT6, false))
        return oom(c);
    if (!(r = drop_rule(c, ch,
                        "duplicate address detection for Dom0's or the cluster's address")) ||
        match_prefix(r, XG_MATCH_SADDR, "::", false) || icmp6(r, ICMP6_ND_NEIGHBOR_SOLICIT) ||
        xg_rule_match_addr_set(r, XG_MATCH_ND_TARGET, XG_BR_SET_PROTECT6, false))
        return oom(c);
    if (!(r = drop_rule(c, ch, "guests are not routers: router advertisement, redirect")) ||
        xg_rule_match_icmp(r, 6, ra, sizeof(ra)))
        return oom(c);
    if (!(r = drop_rule(c, ch, "guests are not DHCP servers")) ||
        xg_rule_match_ethertype(r, ETH_P_IP, false) || xg_rule_match_proto(r, IPPROTO_UDP) ||
        xg_rule_match_ports(r, XG_MATCH_SPORT, &dhcp4, 1))
        return oom(c);
    if (!(r = drop_rule(c, ch, "guests are not DHCPv6 servers")) ||
        xg_rule_match_ethertype(r, ETH_P_IPV6, false) || xg_rule_match_proto(r, IPPROTO_UDP) ||
        xg_rule_match_ports(r, XG_MATCH_SPORT, &dhcp6, 1))
        return oom(c);
    if (!(r = xg_chain_add_rule(ch)) ||
        xg_rule_match_ifset(r, XG_IFSET_IFNAME, XG_BR_SET_DECLARED, false) ||
        xg_rule_set_comment(r, "ports with declared addresses: only those") ||
        xg_rule_set_target(r, XG_VERDICT_JUMP, CHAIN_DECLARED))
        return oom(c);
    return 0;
}

/* ND target checks of a declared port: NA, and NS from :: (DAD). */
static int rules_declared_nd(struct gctx *c, struct xg_chain *ch)
{
    for (int dad = 0; dad < 2; dad++) {
        struct xg_rule *r = drop_rule(c, ch,
                                      dad ? "declared port: DAD for an address not its own"
                                          : "declared port: neighbour advertisement for an "
                                            "address not its own");
        if (!r || (dad && match_prefix(r, XG_MATCH_SADDR, "::", false)) ||
            icmp6(r, dad ? ICMP6_ND_NEIGHBOR_SOLICIT : ICMP6_ND_NEIGHBOR_ADVERT) ||
            match_prefix(r, XG_MATCH_ND_TARGET, "fe80::/10", true) ||
            xg_rule_match_ifset(r, XG_IFSET_ND_TARGET, XG_BR_SET_IP6, true))
            return oom(c);
    }
    return 0;
}

/* A declared port: its MAC, its addresses. */
static int rules_declared(struct gctx *c, struct xg_chain *ch)
{
    static const uint8_t from_unspec[] = {ICMP6_ND_NEIGHBOR_SOLICIT, ICMP6_MLD_REPORT,
                                          ICMP6_MLD2_REPORT};
    struct xg_port_range bootpc = {68, 68}, bootps = {67, 67};
    struct xg_rule *r;

    if (!(r = drop_rule(c, ch, "declared port: source MAC not its own")) ||
        xg_rule_match_ifset(r, XG_IFSET_ETHER_SADDR, XG_BR_SET_MAC, true))
        return oom(c);
    if (!(r = drop_rule(c, ch, "declared port: ARP sender not its own")) ||
        match_prefix(r, XG_MATCH_ARP_SPA, "0.0.0.0", true) ||
        xg_rule_match_ifset(r, XG_IFSET_ARP_SPA, XG_BR_SET_IP4, true))
        return oom(c);
    if (rules_declared_nd(c, ch))
        return -1;
    if (!(r = xg_chain_add_rule(ch)) || match_prefix(r, XG_MATCH_SADDR, "0.0.0.0", false) ||
        xg_rule_match_proto(r, IPPROTO_UDP) || xg_rule_match_ports(r, XG_MATCH_SPORT, &bootpc, 1) ||
        xg_rule_match_ports(r, XG_MATCH_DPORT, &bootps, 1) ||
        xg_rule_set_comment(r, "DHCP discovery from 0.0.0.0"))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_RETURN);
    if (!(r = drop_rule(c, ch, "declared port: IPv4 source not its own")) ||
        xg_rule_match_ethertype(r, ETH_P_IP, false) ||
        xg_rule_match_ifset(r, XG_IFSET_SADDR, XG_BR_SET_IP4, true))
        return oom(c);
    if (!(r = xg_chain_add_rule(ch)) || match_prefix(r, XG_MATCH_SADDR, "::", false) ||
        xg_rule_match_icmp(r, 6, from_unspec, sizeof(from_unspec)) ||
        xg_rule_set_comment(r, "DAD and MLD reports from ::"))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_RETURN);
    if (!(r = drop_rule(c, ch, "declared port: IPv6 source not its own")) ||
        match_prefix(r, XG_MATCH_SADDR, "fe80::/10", true) ||
        xg_rule_match_ifset(r, XG_IFSET_SADDR, XG_BR_SET_IP6, true))
        return oom(c);
    return 0;
}

static int rules_drop(struct gctx *c, struct xg_chain *ch)
{
    struct xg_rule *r;
    if (c->p->log_rejects) {
        if (!(r = xg_chain_add_rule(ch)) || xg_rule_match_limit(r, 5, XG_RATE_MINUTE, 10) ||
            xg_rule_set_log(r, LOG_PREFIX, 6) ||
            xg_rule_set_comment(r, "log what guests may not send, rate-limited"))
            return oom(c);
    }
    if (!(r = xg_chain_add_rule(ch)) || xg_rule_set_comment(r, "frames a guest may not send"))
        return oom(c);
    r->counter = true;
    xg_rule_set_verdict(r, XG_VERDICT_DROP);
    return 0;
}

static int guest_chains(struct gctx *c)
{
    struct xg_chain *pre =
        xg_table_add_chain(c->t, xg_hook_name(XG_HOOK_PREROUTING), XG_HOOK_PREROUTING,
                           XG_PRIO_BRIDGE_GUESTS, XG_VERDICT_ACCEPT);
    struct xg_chain *guests = xg_table_add_chain(c->t, CHAIN_GUESTS, XG_HOOK_NONE, 0, 0);
    struct xg_chain *declared = xg_table_add_chain(c->t, CHAIN_DECLARED, XG_HOOK_NONE, 0, 0);
    struct xg_chain *drop = xg_table_add_chain(c->t, CHAIN_DROP, XG_HOOK_NONE, 0, 0);
    if (!pre || !guests || !declared || !drop)
        return oom(c);
    for (size_t i = 0; i < c->p->guests.port_count; i++) {
        struct xg_rule *r = xg_chain_add_rule(pre);
        if (!r || xg_rule_match_iifname(r, c->p->guests.ports[i], false) ||
            xg_rule_set_comment(r, "a guest port ([guests] ports)") ||
            xg_rule_set_target(r, XG_VERDICT_JUMP, CHAIN_GUESTS))
            return oom(c);
    }
    return rules_guests(c, guests) || rules_declared(c, declared) || rules_drop(c, drop) ? -1 : 0;
}

int xg_compile_guests(const struct xg_policy *policy, struct xg_ruleset *out, struct xg_err *err)
{
    struct gctx c = {.p = policy, .err = err};
    char comment[256];
    if (!policy->guests.protect)
        return 0;
    if (!(c.t = xg_ruleset_add_table(out, XG_NFT_TABLE, XG_TABLE_BRIDGE)))
        return oom(&c);
    snprintf(comment, sizeof(comment), "xenguard: guests on Dom0's bridges, policy %s",
             policy->path ? policy->path : "-");
    if (!(c.t->comment = strdup(comment)))
        return oom(&c);
    return guest_sets(&c) || guest_chains(&c) ? -1 : 0;
}

struct xg_table *xg_guests_table(const struct xg_ruleset *rs)
{
    for (size_t i = 0; i < rs->table_count; i++)
        if (rs->tables[i]->family == XG_TABLE_BRIDGE && !strcmp(rs->tables[i]->name, XG_NFT_TABLE))
            return rs->tables[i];
    return NULL;
}

int xg_guests_protect_more(struct xg_ruleset *rs, const struct xg_prefix_list *addrs)
{
    struct xg_table *t = xg_guests_table(rs);
    if (!t)
        return 0;
    for (uint8_t family = 4; family <= 6; family += 2) {
        struct xg_set *s =
            xg_table_find_set(t, family == 4 ? XG_BR_SET_PROTECT4 : XG_BR_SET_PROTECT6);
        if (s && add_prefixes(s, addrs) < 0)
            return -1;
    }
    return 0;
}
