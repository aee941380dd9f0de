/*
 * perimeter.c — the cluster router's firewall a policy asks for, as IR
 * (issue 16: the chapter's "subnet behind a firewall" done by the router).
 *
 * The table (inet xenguard-perimeter; iptables: XENGUARD-PERIMETER-*) has
 * one base chain on the forward hook, priority filter, policy accept, and
 * three regular chains it jumps to:
 *
 *   perimeter-forward   iifname OUTSIDE jump perimeter-ingress (each outside interface)
 *                       oifname OUTSIDE jump perimeter-egress
 *                       ct state established,related return
 *                       ip(6) daddr @peers tcp dport MGMT jump perimeter-mgmt
 *   perimeter-ingress   a source in [cluster] networks or in a special-purpose range
 *                       (loopback, this-network, link-local, multicast, reserved; IPv6
 *                       too): logged (rate-limited), counted, dropped
 *   perimeter-egress    a source in [cluster] networks returns; anything else leaving by
 *                       an outside interface is logged, counted, dropped (BCP 38)
 *   perimeter-mgmt      from an inside interface: return; sshd from [admin] ssh-from:
 *                       return; everything else logged, counted, dropped
 *
 * The table only ever drops: it never accepts, so it adds to whatever the
 * router's own firewall does and cannot open what another table closes. In
 * iptables, where ACCEPT in a chain jumped to from FORWARD would skip the
 * router's other FORWARD rules, `return` is exactly right; in nft a base
 * chain's return is its accept policy. The guests (other addresses of the
 * networks) are not restricted: the perimeter protects the management plane.
 * Rules that the iptables backend spells per element use positive set
 * matches only (no auxiliary chains, whose names would not be the
 * perimeter's).
 */
#include "compile/perimeter.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "xenguard perimeter: "

struct ctx {
    const struct xg_policy *p;
    struct xg_table *t;
    struct xg_err *err;
};

static int oom(struct ctx *c)
{
    return xg_fail(c->err, "out of memory while compiling the perimeter");
}

/* RFC 6890 ranges that are not forwardable or never a valid source, and multicast and the
 * reserved block (never a source). Documentation ranges are left out: they are real outside
 * addresses in tests and labs. */
static const char *const special[] = {
    "0.0.0.0/8",      /* "this host on this network" (RFC 1122) */
    "127.0.0.0/8",    /* loopback */
    "169.254.0.0/16", /* link-local */
    "224.0.0.0/4",    /* multicast: never a source */
    "240.0.0.0/4",    /* reserved, and the limited broadcast 255.255.255.255 */
    "::/128",         /* unspecified */
    "::1/128",        /* loopback */
    "::ffff:0:0/96",  /* IPv4-mapped */
    "fe80::/10",      /* link-local */
    "ff00::/8",       /* multicast: never a source */
};

int xg_perimeter_special_sources(struct xg_prefix_list *out)
{
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        struct xg_prefix pf;
        char why[200];
        if (xg_prefix_parse(special[i], XG_PREFIX_STRICT, &pf, why, sizeof(why)) < 0 ||
            xg_prefix_list_add(out, &pf) < 0)
            return -1;
    }
    return 0;
}

static int add_sets(struct ctx *c, const char *base, const struct xg_prefix_list *l,
                    const char *comment)
{
    for (uint8_t family = 4; family <= 6; family += 2) {
        char name[64];
        struct xg_set *s;
        if (!xg_prefix_list_count_family(l, family))
            continue;
        snprintf(name, sizeof(name), "%s_v%u", base, family);
        if (!(s = xg_table_add_set(c->t, name, family)) || !(s->comment = strdup(comment)))
            return oom(c);
        for (size_t i = 0; i < l->count; i++)
            if (l->items[i].family == family && xg_prefix_list_add(&s->elements, &l->items[i]))
                return oom(c);
    }
    return 0;
}

/* The set `base`_v`family`, or NULL when the policy has no such addresses. */
static const char *set_name(struct ctx *c, const char *base, uint8_t family, char *buf, size_t size)
{
    snprintf(buf, size, "%s_v%u", base, family);
    return xg_table_find_set(c->t, buf) ? buf : NULL;
}

static struct xg_rule *add_rule(struct ctx *c, struct xg_chain *ch, const char *comment)
{
    struct xg_rule *r = xg_chain_add_rule(ch);
    if (!r || (comment && xg_rule_set_comment(r, comment))) {
        oom(c);
        return NULL;
    }
    return r;
}

/* [saddr @set] limit log; [saddr @set] counter drop. */
static int log_and_drop(struct ctx *c, struct xg_chain *ch, const char *set, const char *what)
{
    for (int k = 0; k < 2; k++) {
        struct xg_rule *r = add_rule(c, ch, what);
        if (!r || (set && xg_rule_match_addr_set(r, XG_MATCH_SADDR, set, false)))
            return oom(c);
        if (k == 0) {
            if (xg_rule_match_limit(r, 5, XG_RATE_MINUTE, 10) || xg_rule_set_log(r, LOG_PREFIX, 6))
                return oom(c);
        } else {
            r->counter = true;
            xg_rule_set_verdict(r, XG_VERDICT_DROP);
        }
    }
    return 0;
}

static struct xg_chain *add_chain(struct ctx *c, const char *name, const char *comment)
{
    char full[64];
    snprintf(full, sizeof(full), XG_PERIMETER_CHAIN "%s", name);
    struct xg_chain *ch = xg_table_add_chain(c->t, full, XG_HOOK_NONE, 0, XG_VERDICT_ACCEPT);
    if (!ch || !(ch->comment = strdup(comment))) {
        oom(c);
        return NULL;
    }
    return ch;
}

static int compile_ingress(struct ctx *c)
{
    struct xg_chain *ch = add_chain(c, "ingress", "arriving on an outside interface");
    char buf[64];
    const char *s;
    if (!ch)
        return -1;
    for (uint8_t f = 4; f <= 6; f += 2)
        if ((s = set_name(c, "nets", f, buf, sizeof(buf))) &&
            log_and_drop(c, ch, s, "anti-spoofing: a cluster source from outside"))
            return -1;
    for (uint8_t f = 4; f <= 6; f += 2)
        if ((s = set_name(c, "special", f, buf, sizeof(buf))) &&
            log_and_drop(c, ch, s, "anti-spoofing: a special-purpose source (RFC 6890)"))
            return -1;
    return 0;
}

static int compile_egress(struct ctx *c)
{
    struct xg_chain *ch = add_chain(c, "egress", "leaving by an outside interface (BCP 38)");
    char buf[64];
    const char *s;
    if (!ch)
        return -1;
    for (uint8_t f = 4; f <= 6; f += 2) {
        struct xg_rule *r;
        if (!(s = set_name(c, "nets", f, buf, sizeof(buf))))
            continue;
        if (!(r = add_rule(c, ch, "a source of the cluster's networks")) ||
            xg_rule_match_addr_set(r, XG_MATCH_SADDR, s, false))
            return oom(c);
        xg_rule_set_verdict(r, XG_VERDICT_RETURN);
    }
    return log_and_drop(c, ch, NULL, "egress filtering: a source not of the cluster's networks");
}

static int compile_mgmt(struct ctx *c)
{
    const struct xg_policy *p = c->p;
    struct xg_chain *ch = add_chain(c, "mgmt", "to a management port of a Dom0 (a peer)");
    struct xg_port_range ssh = {p->ssh_port, p->ssh_port};
    char buf[64];
    const char *s;
    struct xg_rule *r;
    if (!ch)
        return -1;
    for (size_t i = 0; i < p->perimeter.inside_count; i++) {
        if (!(r = add_rule(c, ch, "from within the cluster")) ||
            xg_rule_match_iifname(r, p->perimeter.inside[i], false))
            return oom(c);
        xg_rule_set_verdict(r, XG_VERDICT_RETURN);
    }
    for (uint8_t f = 4; f <= 6; f += 2) {
        if (!(s = set_name(c, "admin", f, buf, sizeof(buf))))
            continue;
        if (!(r = add_rule(c, ch, "sshd from [admin] ssh-from")) ||
            xg_rule_match_proto(r, IPPROTO_TCP) || xg_rule_match_dports(r, &ssh, 1) ||
            xg_rule_match_addr_set(r, XG_MATCH_SADDR, s, false))
            return oom(c);
        xg_rule_set_verdict(r, XG_VERDICT_RETURN);
    }
    return log_and_drop(c, ch, NULL, "the management plane is reachable from the cluster only");
}

static int compile_forward(struct ctx *c)
{
    const struct xg_perimeter *pm = &c->p->perimeter;
    struct xg_port_range ports[XG_PERIMETER_MAX_PORTS + 8];
    size_t nports = xg_perimeter_ports(c->p, ports, sizeof(ports) / sizeof(ports[0]));
    struct xg_chain *fw = xg_table_add_chain(c->t, XG_PERIMETER_CHAIN "forward", XG_HOOK_FORWARD,
                                             XG_PRIO_FILTER, XG_VERDICT_ACCEPT);
    struct xg_rule *r;
    char buf[64];
    const char *s;
    if (!fw || !(fw->comment = strdup("the router's forward path: drops only, never accepts")))
        return oom(c);
    for (size_t i = 0; i < pm->outside_count; i++) {
        if (!(r = add_rule(c, fw, NULL)) || xg_rule_match_iifname(r, pm->outside[i], false) ||
            xg_rule_set_target(r, XG_VERDICT_JUMP, XG_PERIMETER_CHAIN "ingress"))
            return oom(c);
    }
    for (size_t i = 0; i < pm->outside_count; i++) {
        struct xg_match *m;
        if (!(r = add_rule(c, fw, NULL)) || !(m = xg_rule_add_match(r, XG_MATCH_OIFNAME, false)) ||
            xg_rule_set_target(r, XG_VERDICT_JUMP, XG_PERIMETER_CHAIN "egress"))
            return oom(c);
        snprintf(m->u.ifname, sizeof(m->u.ifname), "%s", pm->outside[i]);
    }
    if (!(r = add_rule(c, fw, "replies and related traffic")) ||
        xg_rule_match_ct(r, XG_CT_ESTABLISHED | XG_CT_RELATED))
        return oom(c);
    xg_rule_set_verdict(r, XG_VERDICT_RETURN);
    for (uint8_t f = 4; f <= 6; f += 2) {
        if (!(s = set_name(c, "peers", f, buf, sizeof(buf))))
            continue;
        if (!(r = add_rule(c, fw, "the Dom0s' relocation, xend, XAPI and ssh ports")) ||
            xg_rule_match_addr_set(r, XG_MATCH_DADDR, s, false) ||
            xg_rule_match_proto(r, IPPROTO_TCP) || xg_rule_match_dports(r, ports, nports) ||
            xg_rule_set_target(r, XG_VERDICT_JUMP, XG_PERIMETER_CHAIN "mgmt"))
            return oom(c);
    }
    return 0;
}

static int compile_sets(struct ctx *c)
{
    struct xg_prefix_list sp = {0};
    int rc = xg_perimeter_special_sources(&sp) < 0 ? oom(c) : 0;
    if (rc == 0)
        rc = add_sets(c, "nets", &c->p->networks, "[cluster] networks");
    if (rc == 0)
        rc = add_sets(c, "peers", &c->p->peers, "[cluster] peers: the Dom0s");
    if (rc == 0)
        rc = add_sets(c, "admin", &c->p->ssh_from, "[admin] ssh-from");
    if (rc == 0)
        rc = add_sets(c, "special", &sp, "special-purpose sources (RFC 6890), never from outside");
    xg_prefix_list_free(&sp);
    return rc;
}

int xg_compile_perimeter(const struct xg_policy *policy, struct xg_ruleset *out, struct xg_err *err)
{
    struct ctx c = {.p = policy, .err = err};
    char comment[256];

    memset(out, 0, sizeof(*out));
    if (!policy->perimeter.present)
        return xg_fail(err,
                       "%s: no [perimeter] section: name the router's outside-interface "
                       "and inside-interface there",
                       policy->path ? policy->path : "policy");
    if (!(c.t = xg_ruleset_add_table(out, XG_NFT_PERIMETER_TABLE, XG_TABLE_INET)))
        return oom(&c);
    snprintf(comment, sizeof(comment), "xenguard perimeter: the cluster's router, policy %s",
             policy->path ? policy->path : "-");
    if (!(c.t->comment = strdup(comment)) || compile_sets(&c) || compile_forward(&c) ||
        compile_ingress(&c) || compile_egress(&c) || compile_mgmt(&c)) {
        if (!c.t->comment)
            oom(&c);
        xg_ruleset_free(out);
        return -1;
    }
    return 0;
}
