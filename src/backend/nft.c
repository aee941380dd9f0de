/*
 * nft.c — IR -> text for `nft -f`.
 *
 * Each table is replaced as a whole and atomically: `table F N {}` creates
 * it if absent, `delete table F N` removes it, and the full definition
 * follows, all in the one transaction that `nft -f` makes of a file. Other
 * tables (Docker's, libvirt's, Xen's vif scripts') are never named, so they
 * cannot be touched; there is no `flush ruleset`.
 *
 * Rules are printed match by match in IR order. One spelling detail: a
 * protocol match followed by a port match is printed as `tcp dport 22`
 * (nft's own dependency), not `meta l4proto tcp th dport 22`.
 *
 * The bridge table (guests, compile/guests.c) brings sets keyed by
 * interface, spelled as concatenations (`type ifname . ipv4_addr`, matched
 * as `iifname . ip saddr @vif_ip4`), and one workaround: nft 1.0.6 (Debian
 * 12) has no `icmpv6 taddr`, so the target of a neighbour solicitation or
 * advertisement is read as raw payload, `@th,64,128` (RFC 4861: 8 bytes
 * into the ICMPv6 header), and raw payload is an integer to nft, which will
 * not look it up in an ipv6_addr set. So a set that an ND target match
 * names gets a companion set NAME_nd (XG_NFT_ND_SUFFIX) of the same
 * elements as 128-bit integers (`typeof @th,64,128`, or `typeof iifname .
 * @th,64,128`), written from the same IR set; whoever adds elements to
 * vif_ip6 at run time adds them to vif_ip6_nd too (nft_nd_element()).
 */
#include "backend/backend.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ir/names.h"

struct out {
    struct xg_buf *b;
    struct xg_err *err;
    const struct xg_table *t;
};

static void put_quoted(struct xg_buf *b, const char *s)
{
    xg_buf_puts(b, "\"");
    for (; *s; s++)
        if (*s != '"' && *s != '\\' && *s != '\n')
            xg_buf_printf(b, "%c", *s);
    xg_buf_puts(b, "\"");
}

static void put_priority(struct xg_buf *b, enum xg_table_family family, int prio)
{
    /* the standard names are inet's; the bridge family's differ (filter = -200) */
    const char *name = family == XG_TABLE_BRIDGE ? NULL : xg_priority_name(prio);
    if (name)
        xg_buf_puts(b, name);
    else
        xg_buf_printf(b, "%d", prio);
}

static void put_ifname(struct xg_buf *b, const char *ifname)
{
    size_t n = strlen(ifname);
    /* iptables' "eth+" wildcard is nft's "eth*" */
    if (n && ifname[n - 1] == '+')
        xg_buf_printf(b, "\"%.*s*\"", (int)(n - 1), ifname);
    else
        put_quoted(b, ifname);
}

static int put_addrs(struct out *o, const struct xg_match *m)
{
    const struct xg_addr_match *a = &m->u.addrs;
    const char *dir = m->kind == XG_MATCH_SADDR ? "saddr" : "daddr";
    uint8_t family = 0;

    if (a->set_name) {
        const struct xg_set *s = xg_table_find_set(o->t, a->set_name);
        if (!s)
            return xg_fail(o->err, "nft backend: rule refers to unknown set '%s'", a->set_name);
        xg_buf_printf(o->b, " %s %s %s@%s", s->family == 4 ? "ip" : "ip6", dir,
                      m->negate ? "!= " : "", s->name);
        return 0;
    }
    if (!a->prefixes.count)
        return xg_fail(o->err, "nft backend: empty address match");
    for (size_t i = 0; i < a->prefixes.count; i++) {
        if (family && a->prefixes.items[i].family != family)
            return xg_fail(o->err, "nft backend: IPv4 and IPv6 mixed in one address match");
        family = a->prefixes.items[i].family;
    }
    xg_buf_printf(o->b, " %s %s %s", family == 4 ? "ip" : "ip6", dir, m->negate ? "!= " : "");
    if (a->prefixes.count > 1)
        xg_buf_puts(o->b, "{ ");
    for (size_t i = 0; i < a->prefixes.count; i++) {
        char text[XG_PREFIX_STRLEN];
        xg_prefix_format(&a->prefixes.items[i], true, text);
        xg_buf_printf(o->b, "%s%s", i ? ", " : "", text);
    }
    if (a->prefixes.count > 1)
        xg_buf_puts(o->b, " }");
    return 0;
}

/* An IPv6 address as nft's 128-bit integer: 0x20010db8... */
static void put_hex128(struct xg_buf *b, const uint8_t a[16])
{
    xg_buf_puts(b, "0x");
    for (int i = 0; i < 16; i++)
        xg_buf_printf(b, "%02x", a[i]);
}

/* An IPv6 prefix as an integer (host) or integer range (network). */
static void put_hex_prefix(struct xg_buf *b, const struct xg_prefix *p)
{
    uint8_t hi[16];
    put_hex128(b, p->addr);
    if (p->len >= 128)
        return;
    memcpy(hi, p->addr, 16);
    for (unsigned bit = p->len; bit < 128; bit++)
        hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
    xg_buf_puts(b, "-");
    put_hex128(b, hi);
}

static const struct {
    uint16_t type;
    const char *name;
} ethertypes[] = {{0x0800, "ip"},    {0x86dd, "ip6"},    {0x0806, "arp"},
                  {0x8100, "8021q"}, {0x88a8, "8021ad"}, {0x8035, "rarp"}};

static void put_ethertype(struct out *o, const struct xg_match *m)
{
    xg_buf_printf(o->b, " ether type %s", m->negate ? "!= " : "");
    for (size_t i = 0; i < sizeof(ethertypes) / sizeof(ethertypes[0]); i++) {
        if (ethertypes[i].type == m->u.ethertype) {
            xg_buf_puts(o->b, ethertypes[i].name);
            return;
        }
    }
    xg_buf_printf(o->b, "0x%04x", m->u.ethertype);
}

/* The field an interface-keyed set pairs with iifname. */
static int put_ifset(struct out *o, const struct xg_match *m)
{
    const struct xg_ifset_match *is = &m->u.ifset;
    const struct xg_set *s = xg_table_find_set(o->t, is->set_name);
    const char *neg = m->negate ? "!= " : "";
    if (!s)
        return xg_fail(o->err, "nft backend: rule refers to unknown set '%s'", is->set_name);
    switch (is->field) {
    case XG_IFSET_IFNAME:
        xg_buf_printf(o->b, " iifname %s@%s", neg, s->name);
        return 0;
    case XG_IFSET_SADDR:
        xg_buf_printf(o->b, " iifname . %s saddr %s@%s", s->family == 6 ? "ip6" : "ip", neg,
                      s->name);
        return 0;
    case XG_IFSET_ETHER_SADDR:
        xg_buf_printf(o->b, " iifname . ether saddr %s@%s", neg, s->name);
        return 0;
    case XG_IFSET_ARP_SPA:
        xg_buf_printf(o->b, " iifname . arp saddr ip %s@%s", neg, s->name);
        return 0;
    case XG_IFSET_ND_TARGET:
        xg_buf_printf(o->b, " iifname . @th,64,128 %s@%s" XG_NFT_ND_SUFFIX, neg, s->name);
        return 0;
    }
    return xg_fail(o->err, "nft backend: unknown interface set field %d", (int)is->field);
}

/* `arp saddr ip` or the ND target (raw payload, see the top of the file). */
static int put_link_addrs(struct out *o, const struct xg_match *m)
{
    const struct xg_addr_match *a = &m->u.addrs;
    bool nd = m->kind == XG_MATCH_ND_TARGET;
    xg_buf_printf(o->b, " %s %s", nd ? "@th,64,128" : "arp saddr ip", m->negate ? "!= " : "");
    if (a->set_name) {
        if (!xg_table_find_set(o->t, a->set_name))
            return xg_fail(o->err, "nft backend: rule refers to unknown set '%s'", a->set_name);
        xg_buf_printf(o->b, "@%s%s", a->set_name, nd ? XG_NFT_ND_SUFFIX : "");
        return 0;
    }
    if (!a->prefixes.count)
        return xg_fail(o->err, "nft backend: empty address match");
    if (a->prefixes.count > 1)
        xg_buf_puts(o->b, "{ ");
    for (size_t i = 0; i < a->prefixes.count; i++) {
        const struct xg_prefix *p = &a->prefixes.items[i];
        char text[XG_PREFIX_STRLEN];
        if (p->family != (nd ? 6 : 4))
            return xg_fail(o->err, "nft backend: %s match with an address of the other family",
                           nd ? "ND target" : "ARP sender");
        xg_buf_puts(o->b, i ? ", " : "");
        if (nd) {
            put_hex_prefix(o->b, p);
        } else {
            xg_prefix_format(p, true, text);
            xg_buf_puts(o->b, text);
        }
    }
    if (a->prefixes.count > 1)
        xg_buf_puts(o->b, " }");
    return 0;
}

static void put_ports(struct out *o, const struct xg_match *m, const char *proto_word)
{
    const struct xg_port_match *p = &m->u.ports;
    xg_buf_printf(o->b, " %s %s %s", proto_word, m->kind == XG_MATCH_SPORT ? "sport" : "dport",
                  m->negate ? "!= " : "");
    if (p->count > 1)
        xg_buf_puts(o->b, "{ ");
    for (size_t i = 0; i < p->count; i++) {
        xg_buf_printf(o->b, "%s%u", i ? ", " : "", p->ranges[i].lo);
        if (p->ranges[i].hi != p->ranges[i].lo)
            xg_buf_printf(o->b, "-%u", p->ranges[i].hi);
    }
    if (p->count > 1)
        xg_buf_puts(o->b, " }");
}

static void put_ct(struct out *o, const struct xg_match *m)
{
    char list[96];
    xg_ct_states_format(m->u.ct_states, XG_SYNTAX_NFT, list, sizeof(list));
    xg_buf_printf(o->b, " ct state %s%s", m->negate ? "!= " : "", list);
}

static int put_icmp(struct out *o, const struct xg_match *m)
{
    const struct xg_icmp_match *ic = &m->u.icmp;
    xg_buf_printf(o->b, " %s type %s", ic->family == 4 ? "icmp" : "icmpv6", m->negate ? "!= " : "");
    if (ic->count > 1)
        xg_buf_puts(o->b, "{ ");
    for (size_t i = 0; i < ic->count; i++) {
        const char *name = xg_icmp_type_name(ic->family, ic->types[i], XG_SYNTAX_NFT);
        if (name)
            xg_buf_printf(o->b, "%s%s", i ? ", " : "", name);
        else
            xg_buf_printf(o->b, "%s%u", i ? ", " : "", ic->types[i]);
    }
    if (ic->count > 1)
        xg_buf_puts(o->b, " }");
    return 0;
}

static void put_limit(struct out *o, const struct xg_match *m)
{
    static const char *const units[] = {"second", "minute", "hour", "day"};
    xg_buf_printf(o->b, " limit rate %s%u/%s", m->negate ? "over " : "", m->u.limit.rate,
                  units[m->u.limit.unit]);
    if (m->u.limit.burst)
        xg_buf_printf(o->b, " burst %u packets", m->u.limit.burst);
}

/* Is match i a tcp/udp protocol match that the next port match spells for us? */
static bool proto_folds_into_ports(const struct xg_rule *r, size_t i)
{
    const struct xg_match *m = &r->matches[i];
    if (m->kind != XG_MATCH_L4PROTO || m->negate ||
        (m->u.proto != IPPROTO_TCP && m->u.proto != IPPROTO_UDP))
        return false;
    for (size_t j = i + 1; j < r->match_count; j++)
        if (r->matches[j].kind == XG_MATCH_DPORT || r->matches[j].kind == XG_MATCH_SPORT)
            return true;
    return false;
}

static int put_match(struct out *o, const struct xg_rule *r, size_t i, const char **proto_word)
{
    const struct xg_match *m = &r->matches[i];
    switch (m->kind) {
    case XG_MATCH_IIFNAME:
    case XG_MATCH_OIFNAME:
        xg_buf_printf(o->b, " %s %s", m->kind == XG_MATCH_IIFNAME ? "iifname" : "oifname",
                      m->negate ? "!= " : "");
        put_ifname(o->b, m->u.ifname);
        return 0;
    case XG_MATCH_NFPROTO:
        xg_buf_printf(o->b, " meta nfproto %s%s", m->negate ? "!= " : "",
                      m->u.family == 4 ? "ipv4" : "ipv6");
        return 0;
    case XG_MATCH_SADDR:
    case XG_MATCH_DADDR:
        return put_addrs(o, m);
    case XG_MATCH_L4PROTO: {
        const char *name = xg_l4proto_name(m->u.proto);
        if (proto_folds_into_ports(r, i)) {
            *proto_word = name;
            return 0;
        }
        if (name)
            xg_buf_printf(o->b, " meta l4proto %s%s", m->negate ? "!= " : "", name);
        else
            xg_buf_printf(o->b, " meta l4proto %s%u", m->negate ? "!= " : "", m->u.proto);
        return 0;
    }
    case XG_MATCH_SPORT:
    case XG_MATCH_DPORT:
        put_ports(o, m, *proto_word ? *proto_word : "th");
        return 0;
    case XG_MATCH_CTSTATE:
        put_ct(o, m);
        return 0;
    case XG_MATCH_RPF_OK:
        xg_buf_printf(o->b, " fib saddr . iif oif %s", m->negate ? "missing" : "exists");
        return 0;
    case XG_MATCH_ICMP_TYPE:
        return put_icmp(o, m);
    case XG_MATCH_LIMIT:
        put_limit(o, m);
        return 0;
    case XG_MATCH_ETHER_SADDR:
        xg_buf_printf(o->b, " ether saddr %s", m->negate ? "!= " : "");
        if (m->u.macs.count > 1)
            xg_buf_puts(o->b, "{ ");
        for (size_t k = 0; k < m->u.macs.count; k++) {
            const uint8_t *a = m->u.macs.addrs[k];
            xg_buf_printf(o->b, "%s%02x:%02x:%02x:%02x:%02x:%02x", k ? ", " : "", a[0], a[1], a[2],
                          a[3], a[4], a[5]);
        }
        if (m->u.macs.count > 1)
            xg_buf_puts(o->b, " }");
        return 0;
    case XG_MATCH_ETHERTYPE:
        put_ethertype(o, m);
        return 0;
    case XG_MATCH_ARP_SPA:
    case XG_MATCH_ND_TARGET:
        return put_link_addrs(o, m);
    case XG_MATCH_IFSET:
        return put_ifset(o, m);
    case XG_MATCH_ADDRTYPE:
    case XG_MATCH_UNKNOWN:
        break;
    }
    return xg_fail(o->err, "nft backend: cannot express a match of kind %d", (int)m->kind);
}

static void put_reject(struct out *o, const struct xg_rule *r)
{
    xg_buf_puts(o->b, " reject");
    if (r->reject == XG_REJECT_TCP_RESET) {
        xg_buf_puts(o->b, " with tcp reset");
    } else if (r->reject == XG_REJECT_ADMIN_PROHIBITED) {
        if (o->t->family == XG_TABLE_INET)
            xg_buf_puts(o->b, " with icmpx admin-prohibited");
        else if (o->t->family == XG_TABLE_IP)
            xg_buf_puts(o->b, " with icmp admin-prohibited");
        else
            xg_buf_puts(o->b, " with icmpv6 admin-prohibited");
    }
}

/* Each piece of a rule is written with a leading blank; the caller drops the first. */
static int put_rule_body(struct out *o, const struct xg_rule *r)
{
    static const char *const levels[] = {"emerg", "alert",  "crit", "err",
                                         "warn",  "notice", "info", "debug"};
    const char *proto_word = NULL;

    for (size_t i = 0; i < r->match_count; i++)
        if (put_match(o, r, i, &proto_word) < 0)
            return -1;
    if (r->counter)
        xg_buf_puts(o->b, " counter");
    if (r->log) {
        xg_buf_puts(o->b, " log prefix ");
        put_quoted(o->b, r->log->prefix);
        if (r->log->level >= 0 && r->log->level < 8)
            xg_buf_printf(o->b, " level %s", levels[r->log->level]);
    }
    switch (r->verdict) {
    case XG_VERDICT_CONTINUE:
        break;
    case XG_VERDICT_ACCEPT:
    case XG_VERDICT_DROP:
    case XG_VERDICT_RETURN:
        xg_buf_printf(o->b, " %s", xg_verdict_name(r->verdict));
        break;
    case XG_VERDICT_REJECT:
        put_reject(o, r);
        break;
    case XG_VERDICT_JUMP:
    case XG_VERDICT_GOTO:
        if (!r->target)
            return xg_fail(o->err, "nft backend: %s without a target chain",
                           xg_verdict_name(r->verdict));
        xg_buf_printf(o->b, " %s %s", xg_verdict_name(r->verdict), r->target);
        break;
    case XG_VERDICT_UNKNOWN:
        return xg_fail(o->err, "nft backend: cannot express an unknown verdict");
    }
    if (r->comment) {
        xg_buf_puts(o->b, " comment ");
        put_quoted(o->b, r->comment);
    }
    /* a rule that is only a comment would not parse: make it a no-op counter */
    if (!r->match_count && r->verdict == XG_VERDICT_CONTINUE && !r->log && !r->counter) {
        xg_buf_puts(o->b, " counter");
    }
    return 0;
}

static int put_rule(struct out *o, const struct xg_rule *r)
{
    struct xg_buf line = {0};
    struct xg_buf *dest = o->b;
    int rc;

    o->b = &line;
    rc = put_rule_body(o, r);
    o->b = dest;
    if (rc == 0)
        xg_buf_printf(dest, "\t\t%s\n", xg_buf_str(&line) + (line.len ? 1 : 0));
    xg_buf_free(&line);
    return rc;
}

/* One element of a set (no separator). `nd`: as the companion ND set spells it. */
static void put_element(struct xg_buf *b, const struct xg_set *s, size_t i, bool nd)
{
    char text[XG_PREFIX_STRLEN];
    if (s->key == XG_SETKEY_ADDR) {
        if (nd) {
            put_hex_prefix(b, &s->elements.items[i]);
        } else {
            xg_prefix_format(&s->elements.items[i], true, text);
            xg_buf_puts(b, text);
        }
        return;
    }
    const struct xg_set_pair *p = &s->pairs[i];
    put_quoted(b, p->ifname);
    if (s->key == XG_SETKEY_IF_ADDR && nd) {
        xg_buf_puts(b, " . ");
        put_hex128(b, p->addr.addr);
    } else if (s->key == XG_SETKEY_IF_ADDR) {
        xg_prefix_format(&p->addr, true, text);
        xg_buf_printf(b, " . %s", text);
    } else if (s->key == XG_SETKEY_IF_MAC) {
        xg_buf_printf(b, " . %02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1], p->mac[2],
                      p->mac[3], p->mac[4], p->mac[5]);
    }
}

int xg_backend_nft_element(const struct xg_set *s, size_t i, bool nd, struct xg_buf *out)
{
    size_t n = s->key == XG_SETKEY_ADDR ? s->elements.count : s->pair_count;
    if (i >= n)
        return -1;
    put_element(out, s, i, nd);
    return xg_buf_failed(out) ? -1 : 0;
}

/* The declaration lines of a set's key. */
static void put_set_type(struct out *o, const struct xg_set *s, bool nd)
{
    const char *addr = s->family == 6 ? "ipv6_addr" : "ipv4_addr";
    switch (s->key) {
    case XG_SETKEY_ADDR:
        if (nd)
            xg_buf_puts(o->b, "\t\ttypeof @th,64,128\n\t\tflags interval\n");
        else
            xg_buf_printf(o->b, "\t\ttype %s\n\t\tflags interval\n\t\tauto-merge\n", addr);
        return;
    case XG_SETKEY_IFNAME:
        xg_buf_puts(o->b, "\t\ttype ifname\n");
        return;
    case XG_SETKEY_IF_ADDR:
        if (nd)
            xg_buf_puts(o->b, "\t\ttypeof iifname . @th,64,128\n");
        else
            xg_buf_printf(o->b, "\t\ttype ifname . %s\n", addr);
        return;
    case XG_SETKEY_IF_MAC:
        xg_buf_puts(o->b, "\t\ttype ifname . ether_addr\n");
        return;
    }
}

static void put_set(struct out *o, const struct xg_set *s, bool nd)
{
    size_t n = s->key == XG_SETKEY_ADDR ? s->elements.count : s->pair_count;
    xg_buf_printf(o->b, "\tset %s%s {\n", s->name, nd ? XG_NFT_ND_SUFFIX : "");
    put_set_type(o, s, nd);
    if (s->comment || nd) {
        xg_buf_puts(o->b, "\t\tcomment ");
        if (nd) {
            char c[160];
            snprintf(c, sizeof(c), "%s as ND targets (@th,64,128)", s->name);
            put_quoted(o->b, c);
        } else {
            put_quoted(o->b, s->comment);
        }
        xg_buf_puts(o->b, "\n");
    }
    if (n) {
        xg_buf_puts(o->b, "\t\telements = { ");
        for (size_t i = 0; i < n; i++) {
            xg_buf_puts(o->b, i ? ", " : "");
            put_element(o->b, s, i, nd);
        }
        xg_buf_puts(o->b, " }\n");
    }
    xg_buf_puts(o->b, "\t}\n\n");
}

/* Does a rule of the table match ND targets against set `name` (it needs a companion)? */
static bool set_has_nd_use(const struct xg_table *t, const char *name)
{
    for (size_t c = 0; c < t->chain_count; c++)
        for (size_t r = 0; r < t->chains[c]->rule_count; r++) {
            const struct xg_rule *rule = &t->chains[c]->rules[r];
            for (size_t m = 0; m < rule->match_count; m++) {
                const struct xg_match *x = &rule->matches[m];
                const char *set =
                    x->kind == XG_MATCH_ND_TARGET ? x->u.addrs.set_name
                    : x->kind == XG_MATCH_IFSET && x->u.ifset.field == XG_IFSET_ND_TARGET
                        ? x->u.ifset.set_name
                        : NULL;
                if (set && !strcmp(set, name))
                    return true;
            }
        }
    return false;
}

static int put_chain(struct out *o, const struct xg_chain *c)
{
    xg_buf_printf(o->b, "\tchain %s {\n", c->name);
    if (c->comment) {
        xg_buf_puts(o->b, "\t\tcomment ");
        put_quoted(o->b, c->comment);
        xg_buf_puts(o->b, "\n");
    }
    if (c->hook != XG_HOOK_NONE) {
        xg_buf_printf(o->b, "\t\ttype filter hook %s priority ", xg_hook_name(c->hook));
        put_priority(o->b, o->t->family, c->priority);
        xg_buf_printf(
            o->b, "; policy %s;\n",
            xg_verdict_name(c->policy == XG_VERDICT_DROP ? XG_VERDICT_DROP : XG_VERDICT_ACCEPT));
    }
    for (size_t i = 0; i < c->rule_count; i++)
        if (put_rule(o, &c->rules[i]) < 0)
            return -1;
    xg_buf_puts(o->b, "\t}\n");
    return 0;
}

int xg_backend_nft(const struct xg_ruleset *rs, struct xg_buf *out, struct xg_err *err)
{
    struct out o = {.b = out, .err = err};
    for (size_t i = 0; i < rs->table_count; i++) {
        const struct xg_table *t = rs->tables[i];
        const char *fam = xg_table_family_name(t->family);
        if (!fam)
            return xg_fail(err, "nft backend: table %s has a family it cannot write", t->name);
        o.t = t;
        if (i)
            xg_buf_puts(out, "\n");
        xg_buf_printf(out, "# Replace table %s %s as a whole, in one transaction.\n", fam, t->name);
        xg_buf_printf(out, "table %s %s {}\ndelete table %s %s\n\n", fam, t->name, fam, t->name);
        xg_buf_printf(out, "table %s %s {\n", fam, t->name);
        if (t->comment) {
            xg_buf_puts(out, "\tcomment ");
            put_quoted(out, t->comment);
            xg_buf_puts(out, "\n\n");
        }
        for (size_t j = 0; j < t->set_count; j++) {
            put_set(&o, t->sets[j], false);
            if (set_has_nd_use(t, t->sets[j]->name))
                put_set(&o, t->sets[j], true);
        }
        for (size_t j = 0; j < t->chain_count; j++) {
            if (j)
                xg_buf_puts(out, "\n");
            if (put_chain(&o, t->chains[j]) < 0)
                return -1;
        }
        xg_buf_puts(out, "}\n");
    }
    if (xg_buf_failed(out))
        return xg_fail(err, "out of memory while writing the nft ruleset");
    return 0;
}

int xg_backend_nft_rule(const struct xg_table *t, const struct xg_rule *r, struct xg_buf *out,
                        struct xg_err *err)
{
    struct xg_buf line = {0};
    struct out o = {.b = &line, .err = err, .t = t};
    int rc = put_rule_body(&o, r);
    if (rc == 0)
        xg_buf_puts(out, xg_buf_str(&line) + (line.len ? 1 : 0));
    xg_buf_free(&line);
    if (rc == 0 && xg_buf_failed(out))
        return xg_fail(err, "out of memory");
    return rc;
}
