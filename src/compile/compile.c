/*
 * compile.c — the firewall a policy asks for, as IR.
 *
 * The generated table (inet xenguard) has two base chains:
 *
 *   prerouting (priority raw, policy accept) — anti-spoofing, before
 *     conntrack: neighbour discovery passes; a reverse-path check drops
 *     packets whose source would not be routed back out of the interface
 *     they came in on; in isolated-management, the public interface drops
 *     sources that claim to be the cluster, and the management interface
 *     drops anything from outside [cluster] networks.
 *
 *   input (priority filter, policy drop) — default reject for new inbound
 *     traffic on every interface but loopback: loopback, the ICMP that PMTU
 *     discovery and IPv6 neighbour discovery need, established/related,
 *     then each service only from its sources (sshd from ssh-from, the
 *     migration port from the peers, [allow] entries), then a rate-limited
 *     log and a reject (tcp reset for TCP, admin-prohibited otherwise).
 *
 * Rules never rely on insertion order the way the specification's
 * `-A ... REJECT` / `-I ... ACCEPT` pair does: the order is written here,
 * once. Address lists become named sets (one per family), so the rule
 * count does not grow with the cluster. Forward and output are left alone:
 * guests' frames on Dom0's bridges are the bridge table's business
 * (guests.c, appended by xg_compile_guests()).
 */
#include "compile/compile.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* ICMP type numbers (RFC 792, RFC 4443, RFC 4861, RFC 3810). */
enum {
    ICMP_DEST_UNREACH = 3,
    ICMP_ECHO_REQUEST = 8,
    ICMP_TIME_EXCEEDED = 11,
    ICMP_PARAM_PROBLEM = 12,
    ICMP6_DEST_UNREACH = 1,
    ICMP6_PACKET_TOO_BIG = 2,
    ICMP6_TIME_EXCEEDED = 3,
    ICMP6_PARAM_PROBLEM = 4,
    ICMP6_ECHO_REQUEST = 128,
    ICMP6_MLD_QUERY = 130,
    ICMP6_MLD_REPORT = 131,
    ICMP6_MLD_DONE = 132,
    ICMP6_ND_ROUTER_SOLICIT = 133,
    ICMP6_ND_ROUTER_ADVERT = 134,
    ICMP6_ND_NEIGHBOR_SOLICIT = 135,
    ICMP6_ND_NEIGHBOR_ADVERT = 136,
    ICMP6_ND_REDIRECT = 137,
    ICMP6_MLD2_REPORT = 143,
};

#define LOG_PREFIX "xenguard reject: "

/* What the compiler threads through its small functions. */
struct ctx {
    const struct xg_policy *p;
    struct xg_table *t;
    struct xg_err *err;
};

static int oom(struct ctx *c)
{
    return xg_fail(c->err, "out of memory while compiling the policy");
}

/* Declare `<base>_v4` / `<base>_v6` sets for the non-empty families of `l`. */
static int add_family_sets(struct ctx *c, const char *base, const struct xg_prefix_list *l,
                           const char *comment)
{
    for (uint8_t family = 4; family <= 6; family += 2) {
        char name[96];
        struct xg_set *s;
        if (!xg_prefix_list_count_family(l, family))
            continue;
        snprintf(name, sizeof(name), "%s_v%u", base, family);
        if (!(s = xg_table_add_set(c->t, name, family)))
            return oom(c);
        for (size_t i = 0; i < l->count; i++)
            if (l->items[i].family == family && xg_prefix_list_add(&s->elements, &l->items[i]))
                return oom(c);
        if (comment && !(s->comment = strdup(comment)))
            return oom(c);
    }
    return 0;
}

static bool has_set(struct ctx *c, const char *base, uint8_t family)
{
    char name[96];
    snprintf(name, sizeof(name), "%s_v%u", base, family);
    return xg_table_find_set(c->t, name) != NULL;
}

static int match_set(struct xg_rule *r, const char *base, uint8_t family, bool negate)
{
    char name[96];
    snprintf(name, sizeof(name), "%s_v%u", base, family);
    return xg_rule_match_addr_set(r, XG_MATCH_SADDR, name, negate);
}

/* nft set names: letters, digits, underscore. */
static void service_set_base(const struct xg_service *s, char *out, size_t size)
{
    snprintf(out, size, "svc_%s", s->name);
    for (char *ch = out; *ch; ch++)
        if (!isalnum((unsigned char)*ch))
            *ch = '_';
}

/* ---------- prerouting: anti-spoofing ---------- */

static int rule_nd_passes(struct ctx *c, struct xg_chain *pre)
{
    static const uint8_t nd[] = {
        ICMP6_ND_ROUTER_SOLICIT,  ICMP6_ND_ROUTER_ADVERT, ICMP6_ND_NEIGHBOR_SOLICIT,
        ICMP6_ND_NEIGHBOR_ADVERT, ICMP6_MLD_QUERY,        ICMP6_MLD_REPORT,
        ICMP6_MLD_DONE,           ICMP6_MLD2_REPORT};
    struct xg_rule *r = xg_chain_add_rule(pre);
    if (!r || xg_rule_match_icmp(r, 6, nd, sizeof(nd)) ||
        xg_rule_set_comment(r, "neighbour discovery and MLD (link-local, sources may be ::)"))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);
    return 0;
}

static int rule_rpf(struct ctx *c, struct xg_chain *pre)
{
    struct xg_rule *r = xg_chain_add_rule(pre);
    if (!r || xg_rule_match_iifname(r, "lo", true) || xg_rule_match_rpf(r, true) ||
        xg_rule_set_comment(r, "anti-spoofing: no route back to the source via this interface"))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_DROP);
    return 0;
}

/* Does the peers set of this family say more than the networks set does? */
static bool peers_beyond_networks(struct ctx *c, uint8_t family)
{
    const struct xg_policy *p = c->p;
    for (size_t i = 0; i < p->peers.count; i++)
        if (p->peers.items[i].family == family &&
            !xg_prefix_list_covers(&p->networks, &p->peers.items[i]))
            return true;
    return false;
}

/* Public interface: drop sources that claim the cluster (networks and peers). */
static int rules_public_claims(struct ctx *c, struct xg_chain *pre)
{
    static const char *const bases[] = {"nets", "peers"};
    for (size_t b = 0; b < 2; b++) {
        for (uint8_t family = 4; family <= 6; family += 2) {
            struct xg_rule *r;
            char comment[128];
            if (!has_set(c, bases[b], family) || (b && !peers_beyond_networks(c, family)))
                continue;
            snprintf(comment, sizeof(comment),
                     "anti-spoofing: %s claims a cluster %s source on the public side",
                     c->p->public_if, b ? "peer" : "network");
            r = xg_chain_add_rule(pre);
            if (!r || xg_rule_match_iifname(r, c->p->public_if, false) ||
                match_set(r, bases[b], family, false) || xg_rule_set_comment(r, comment))
                return oom(c);
            xg_rule_set_verdict(r, XG_VERDICT_DROP);
        }
    }
    return 0;
}

/* Management interface: drop anything from outside [cluster] networks (IPv6
 * link-local sources stay: neighbour discovery and the like). */
static int rules_management_sources(struct ctx *c, struct xg_chain *pre)
{
    for (uint8_t family = 4; family <= 6; family += 2) {
        struct xg_rule *r = xg_chain_add_rule(pre);
        char comment[128];
        if (!r || xg_rule_match_iifname(r, c->p->management_if, false) ||
            xg_rule_match_family(r, family))
            return oom(c);
        if (has_set(c, "nets", family) && match_set(r, "nets", family, true))
            return oom(c);
        if (family == 6) {
            struct xg_prefix_list ll = {0};
            struct xg_prefix fe80;
            xg_prefix_parse("fe80::/10", XG_PREFIX_STRICT, &fe80, comment, sizeof(comment));
            if (xg_prefix_list_add(&ll, &fe80) || xg_rule_match_saddr(r, &ll, true)) {
                xg_prefix_list_free(&ll);
                return oom(c);
            }
            xg_prefix_list_free(&ll);
        }
        snprintf(comment, sizeof(comment),
                 "anti-spoofing: only the management network may speak on %s", c->p->management_if);
        if (xg_rule_set_comment(r, comment))
            return oom(c);
        xg_rule_set_verdict(r, XG_VERDICT_DROP);
    }
    return 0;
}

/* One card: a cluster source whose frame comes from a gateway was routed in
 * from outside, so it is forged (the peers are on the link). */
static int rules_gateway_claims(struct ctx *c, struct xg_chain *pre)
{
    static const char *const bases[] = {"nets", "peers"};
    for (size_t b = 0; b < 2; b++) {
        for (uint8_t family = 4; family <= 6; family += 2) {
            struct xg_rule *r;
            if (!has_set(c, bases[b], family) || (b && !peers_beyond_networks(c, family)))
                continue;
            r = xg_chain_add_rule(pre);
            if (!r || xg_rule_match_iifname(r, c->p->public_if, false) ||
                xg_rule_match_macs(r, (const uint8_t(*)[6])c->p->gateway_macs,
                                   c->p->gateway_mac_count) ||
                match_set(r, bases[b], family, false) ||
                xg_rule_set_comment(r, b ? "anti-spoofing: a cluster peer source routed in by "
                                           "the gateway is forged"
                                         : "anti-spoofing: a cluster network source routed in "
                                           "by the gateway is forged"))
                return oom(c);
            xg_rule_set_verdict(r, XG_VERDICT_DROP);
        }
    }
    return 0;
}

static int compile_prerouting(struct ctx *c)
{
    struct xg_chain *pre = xg_table_add_chain(c->t, xg_hook_name(XG_HOOK_PREROUTING),
                                              XG_HOOK_PREROUTING, XG_PRIO_RAW, XG_VERDICT_ACCEPT);
    if (!pre)
        return oom(c);
    if (rule_nd_passes(c, pre) || rule_rpf(c, pre))
        return -1;
    if (c->p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT &&
        (rules_public_claims(c, pre) || rules_management_sources(c, pre)))
        return -1;
    if (c->p->gateway_mac_count && rules_gateway_claims(c, pre))
        return -1;
    return 0;
}

/* ---------- input: default reject ---------- */

static struct xg_rule *add_rule(struct ctx *c, struct xg_chain *in, const char *comment)
{
    struct xg_rule *r = xg_chain_add_rule(in);
    if (!r || xg_rule_set_comment(r, comment)) {
        oom(c);
        return NULL;
    }
    return r;
}

static int rules_basics(struct ctx *c, struct xg_chain *in)
{
    static const uint8_t icmp_errors[] = {ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED,
                                          ICMP_PARAM_PROBLEM};
    static const uint8_t icmp6_needed[] = {
        ICMP6_DEST_UNREACH,        ICMP6_PACKET_TOO_BIG,     ICMP6_TIME_EXCEEDED,
        ICMP6_PARAM_PROBLEM,       ICMP6_ND_ROUTER_SOLICIT,  ICMP6_ND_ROUTER_ADVERT,
        ICMP6_ND_NEIGHBOR_SOLICIT, ICMP6_ND_NEIGHBOR_ADVERT, ICMP6_MLD_QUERY,
        ICMP6_MLD_REPORT,          ICMP6_MLD_DONE,           ICMP6_MLD2_REPORT};
    static const uint8_t echo4[] = {ICMP_ECHO_REQUEST}, echo6[] = {ICMP6_ECHO_REQUEST};
    struct xg_rule *r;

    if (!(r = add_rule(c, in, "loopback")) || xg_rule_match_iifname(r, "lo", false))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);

    /* before the conntrack rules: ND and MLD are untracked, errors may be too */
    if (!(r = add_rule(c, in, "ICMPv6 for PMTU discovery, neighbour discovery and MLD")) ||
        xg_rule_match_icmp(r, 6, icmp6_needed, sizeof(icmp6_needed)))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);

    if (!(r = add_rule(c, in, "conntrack: invalid packets")) || xg_rule_match_ct(r, XG_CT_INVALID))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_DROP);

    if (!(r = add_rule(c, in, "conntrack: replies and related traffic")) ||
        xg_rule_match_ct(r, XG_CT_ESTABLISHED | XG_CT_RELATED))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);

    if (!(r = add_rule(c, in, "ICMP errors (PMTU discovery: fragmentation needed)")) ||
        xg_rule_match_icmp(r, 4, icmp_errors, sizeof(icmp_errors)))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);

    if (c->p->icmp_echo) {
        if (!(r = add_rule(c, in, "ping, rate-limited")) || xg_rule_match_icmp(r, 4, echo4, 1) ||
            xg_rule_match_limit(r, 10, XG_RATE_SECOND, 20))
            return oom(c);
        xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);
        if (!(r = add_rule(c, in, "ping6, rate-limited")) || xg_rule_match_icmp(r, 6, echo6, 1) ||
            xg_rule_match_limit(r, 10, XG_RATE_SECOND, 20))
            return oom(c);
        xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);
    }
    return 0;
}

/* [iifname IF] PROTO dport PORTS [saddr @SET] accept: one rule per family
 * that has sources, or a single family-less rule for "from any". */
static int rules_service(struct ctx *c, struct xg_chain *in, const char *iface, uint8_t proto,
                         const struct xg_port_range *ports, size_t port_count, const char *set_base,
                         const char *comment)
{
    for (uint8_t family = 4; family <= 6; family += 2) {
        struct xg_rule *r;
        if (set_base && !has_set(c, set_base, family))
            continue;
        if (!(r = add_rule(c, in, comment)))
            return -1;
        if ((iface && xg_rule_match_iifname(r, iface, false)) || xg_rule_match_proto(r, proto) ||
            xg_rule_match_dports(r, ports, port_count) ||
            (set_base && match_set(r, set_base, family, false)))
            return oom(c);
        xg_rule_set_verdict(r, XG_VERDICT_ACCEPT);
        if (!set_base)
            break;
    }
    return 0;
}

static int rules_services(struct ctx *c, struct xg_chain *in)
{
    const struct xg_policy *p = c->p;
    const char *mgmt = p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT ? p->management_if : NULL;
    struct xg_port_range ssh = {p->ssh_port, p->ssh_port};
    struct xg_port_range mig = {p->migration_port, p->migration_port};
    char comment[160];

    if (rules_service(c, in, mgmt, IPPROTO_TCP, &ssh, 1, "admin", "sshd from [admin] ssh-from"))
        return -1;
    if (p->transport == XG_TRANSPORT_SSH &&
        rules_service(c, in, mgmt, IPPROTO_TCP, &ssh, 1, "peers",
                      "sshd from the cluster peers (xl migrate over ssh)"))
        return -1;
    if (xg_policy_has_migration_port(p)) {
        snprintf(comment, sizeof(comment), "%s from the cluster peers only",
                 p->transport == XG_TRANSPORT_XEND ? "xend relocation" : "migration tunnel");
        if (rules_service(c, in, mgmt, IPPROTO_TCP, &mig, 1, "peers", comment))
            return -1;
    }
    for (size_t i = 0; i < p->service_count; i++) {
        const struct xg_service *s = &p->services[i];
        char base[96];
        service_set_base(s, base, sizeof(base));
        snprintf(comment, sizeof(comment), "[allow] %s", s->name);
        if (rules_service(c, in, s->iface[0] ? s->iface : NULL, s->proto, s->ports, s->port_count,
                          s->from_any ? NULL : base, comment))
            return -1;
    }
    return 0;
}

static int rules_reject(struct ctx *c, struct xg_chain *in)
{
    struct xg_rule *r;
    if (c->p->log_rejects) {
        if (!(r = add_rule(c, in, "log what is rejected, rate-limited")) ||
            xg_rule_match_limit(r, 5, XG_RATE_MINUTE, 10) || xg_rule_set_log(r, LOG_PREFIX, 6))
            return oom(c);
    }
    if (!(r = add_rule(c, in, "default reject: TCP")) || xg_rule_match_proto(r, IPPROTO_TCP))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_REJECT);
    r->reject = XG_REJECT_TCP_RESET;
    if (!(r = add_rule(c, in, "default reject")))
        return -1;
    xg_rule_set_verdict(r, XG_VERDICT_REJECT);
    r->reject = XG_REJECT_ADMIN_PROHIBITED;
    return 0;
}

static int compile_input(struct ctx *c)
{
    struct xg_chain *in = xg_table_add_chain(c->t, xg_hook_name(XG_HOOK_INPUT), XG_HOOK_INPUT,
                                             XG_PRIO_FILTER, XG_VERDICT_DROP);
    if (!in)
        return oom(c);
    if (rules_basics(c, in) || rules_services(c, in) || rules_reject(c, in))
        return -1;
    return 0;
}

static int compile_sets(struct ctx *c)
{
    const struct xg_policy *p = c->p;
    if (add_family_sets(c, "peers", &p->peers, "[cluster] peers") ||
        add_family_sets(c, "nets", &p->networks, "[cluster] networks") ||
        add_family_sets(c, "admin", &p->ssh_from, "[admin] ssh-from"))
        return -1;
    for (size_t i = 0; i < p->service_count; i++) {
        const struct xg_service *s = &p->services[i];
        char base[96];
        if (s->from_any)
            continue;
        char comment[80];
        service_set_base(s, base, sizeof(base));
        snprintf(comment, sizeof(comment), "[allow] %s", s->name);
        if (add_family_sets(c, base, &s->from, comment))
            return -1;
    }
    return 0;
}

int xg_compile(const struct xg_policy *policy, struct xg_ruleset *out, struct xg_err *err)
{
    struct ctx c = {.p = policy, .err = err};
    char comment[256];

    memset(out, 0, sizeof(*out));
    if (!(c.t = xg_ruleset_add_table(out, XG_NFT_TABLE, XG_TABLE_INET)))
        return oom(&c);
    snprintf(comment, sizeof(comment), "xenguard: scenario %s, policy %s",
             xg_scenario_name(policy->scenario), policy->path ? policy->path : "-");
    if (!(c.t->comment = strdup(comment)) || compile_sets(&c) || compile_prerouting(&c) ||
        compile_input(&c)) {
        if (!c.t->comment)
            oom(&c);
        xg_ruleset_free(out);
        return -1;
    }
    if (xg_compile_guests(policy, out, err) < 0) {
        xg_ruleset_free(out);
        return -1;
    }
    return 0;
}
