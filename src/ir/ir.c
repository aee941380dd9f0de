/*
 * ir.c — building, querying and freeing the ruleset IR (see ir.h).
 *
 * Plain allocation helpers; nothing here knows about nft or iptables
 * syntax. Every builder returns NULL/-1 only when memory runs out.
 */
#include "ir/ir.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int grow(void **items, size_t *cap, size_t count, size_t size)
{
    void *grown;
    size_t newcap;
    if (count < *cap)
        return 0;
    newcap = *cap ? *cap * 2 : 8;
    grown = realloc(*items, newcap * size);
    if (!grown)
        return -1;
    *items = grown;
    *cap = newcap;
    return 0;
}

struct xg_table *xg_ruleset_add_table(struct xg_ruleset *rs, const char *name,
                                      enum xg_table_family family)
{
    struct xg_table **grown = realloc(rs->tables, (rs->table_count + 1) * sizeof(*grown));
    struct xg_table *t;
    if (!grown)
        return NULL;
    rs->tables = grown;
    t = calloc(1, sizeof(*t));
    if (!t || !(t->name = strdup(name))) {
        free(t);
        return NULL;
    }
    t->family = family;
    rs->tables[rs->table_count++] = t;
    return t;
}

struct xg_set *xg_table_add_set(struct xg_table *t, const char *name, uint8_t family)
{
    struct xg_set **grown = realloc(t->sets, (t->set_count + 1) * sizeof(*grown));
    struct xg_set *s;
    if (!grown)
        return NULL;
    t->sets = grown;
    s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(name))) {
        free(s);
        return NULL;
    }
    s->family = family;
    t->sets[t->set_count++] = s;
    return s;
}

int xg_set_add_pair(struct xg_set *s, const struct xg_set_pair *p)
{
    if (s->pair_count == s->pair_cap) {
        size_t cap = s->pair_cap ? 2 * s->pair_cap : 8;
        struct xg_set_pair *grown = realloc(s->pairs, cap * sizeof(*grown));
        if (!grown)
            return -1;
        s->pairs = grown;
        s->pair_cap = cap;
    }
    s->pairs[s->pair_count++] = *p;
    return 0;
}

struct xg_chain *xg_table_add_chain(struct xg_table *t, const char *name, enum xg_hook hook,
                                    int priority, enum xg_verdict_kind policy)
{
    struct xg_chain **grown = realloc(t->chains, (t->chain_count + 1) * sizeof(*grown));
    struct xg_chain *c;
    if (!grown)
        return NULL;
    t->chains = grown;
    c = calloc(1, sizeof(*c));
    if (!c || !(c->name = strdup(name))) {
        free(c);
        return NULL;
    }
    c->hook = hook;
    c->priority = priority;
    c->policy = policy;
    t->chains[t->chain_count++] = c;
    return c;
}

struct xg_rule *xg_chain_add_rule(struct xg_chain *c)
{
    struct xg_rule *r;
    if (grow((void **)&c->rules, &c->rule_cap, c->rule_count, sizeof(*c->rules)) < 0)
        return NULL;
    r = &c->rules[c->rule_count++];
    memset(r, 0, sizeof(*r));
    r->verdict = XG_VERDICT_CONTINUE;
    return r;
}

struct xg_match *xg_rule_add_match(struct xg_rule *r, enum xg_match_kind kind, bool negate)
{
    struct xg_match *grown = realloc(r->matches, (r->match_count + 1) * sizeof(*grown));
    struct xg_match *m;
    if (!grown)
        return NULL;
    r->matches = grown;
    m = &r->matches[r->match_count++];
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->negate = negate;
    return m;
}

int xg_rule_match_iifname(struct xg_rule *r, const char *ifname, bool negate)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_IIFNAME, negate);
    if (!m)
        return -1;
    strncpy(m->u.ifname, ifname, XG_IFNAMSIZ - 1);
    return 0;
}

int xg_rule_match_family(struct xg_rule *r, uint8_t family)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_NFPROTO, false);
    if (!m)
        return -1;
    m->u.family = family;
    return 0;
}

int xg_rule_match_addr_set(struct xg_rule *r, enum xg_match_kind kind, const char *set_name,
                           bool negate)
{
    struct xg_match *m = xg_rule_add_match(r, kind, negate);
    if (!m || !(m->u.addrs.set_name = strdup(set_name)))
        return -1;
    return 0;
}

int xg_rule_match_addrs(struct xg_rule *r, enum xg_match_kind kind,
                        const struct xg_prefix_list *prefixes, bool negate)
{
    struct xg_match *m = xg_rule_add_match(r, kind, negate);
    if (!m)
        return -1;
    return xg_prefix_list_copy(&m->u.addrs.prefixes, prefixes);
}

int xg_rule_match_saddr_set(struct xg_rule *r, const char *set_name, bool negate)
{
    return xg_rule_match_addr_set(r, XG_MATCH_SADDR, set_name, negate);
}

int xg_rule_match_saddr(struct xg_rule *r, const struct xg_prefix_list *prefixes, bool negate)
{
    return xg_rule_match_addrs(r, XG_MATCH_SADDR, prefixes, negate);
}

int xg_rule_match_proto(struct xg_rule *r, uint8_t proto)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_L4PROTO, false);
    if (!m)
        return -1;
    m->u.proto = proto;
    return 0;
}

int xg_rule_match_ports(struct xg_rule *r, enum xg_match_kind kind,
                        const struct xg_port_range *ranges, size_t count)
{
    struct xg_match *m = xg_rule_add_match(r, kind, false);
    if (!m || !(m->u.ports.ranges = calloc(count ? count : 1, sizeof(*ranges))))
        return -1;
    memcpy(m->u.ports.ranges, ranges, count * sizeof(*ranges));
    m->u.ports.count = count;
    return 0;
}

int xg_rule_match_dports(struct xg_rule *r, const struct xg_port_range *ranges, size_t count)
{
    return xg_rule_match_ports(r, XG_MATCH_DPORT, ranges, count);
}

int xg_rule_match_rpf(struct xg_rule *r, bool negate)
{
    return xg_rule_add_match(r, XG_MATCH_RPF_OK, negate) ? 0 : -1;
}

int xg_rule_match_macs(struct xg_rule *r, const uint8_t (*macs)[6], size_t count)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_ETHER_SADDR, false);
    if (!m || count > XG_MAX_MACS)
        return -1;
    memcpy(m->u.macs.addrs, macs, count * 6);
    m->u.macs.count = count;
    return 0;
}

int xg_rule_match_ethertype(struct xg_rule *r, uint16_t ethertype, bool negate)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_ETHERTYPE, negate);
    if (!m)
        return -1;
    m->u.ethertype = ethertype;
    return 0;
}

int xg_rule_match_addrtype(struct xg_rule *r, bool dst, uint32_t types, bool negate)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_ADDRTYPE, negate);
    if (!m)
        return -1;
    m->u.addrtype.dst = dst;
    m->u.addrtype.types = types;
    return 0;
}

int xg_rule_match_ifset(struct xg_rule *r, enum xg_ifset_field field, const char *set_name,
                        bool negate)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_IFSET, negate);
    if (!m)
        return -1;
    m->u.ifset.field = field;
    return (m->u.ifset.set_name = strdup(set_name)) ? 0 : -1;
}

int xg_rule_match_limit(struct xg_rule *r, unsigned rate, enum xg_rate_unit unit, unsigned burst)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_LIMIT, false);
    if (!m)
        return -1;
    m->u.limit.rate = rate;
    m->u.limit.unit = unit;
    m->u.limit.burst = burst;
    return 0;
}

int xg_rule_match_ct(struct xg_rule *r, uint32_t states)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_CTSTATE, false);
    if (!m)
        return -1;
    m->u.ct_states = states;
    return 0;
}

int xg_rule_match_icmp(struct xg_rule *r, uint8_t family, const uint8_t *types, size_t count)
{
    struct xg_match *m = xg_rule_add_match(r, XG_MATCH_ICMP_TYPE, false);
    if (!m || count > sizeof(m->u.icmp.types))
        return -1;
    m->u.icmp.family = family;
    memcpy(m->u.icmp.types, types, count);
    m->u.icmp.count = count;
    return 0;
}

int xg_rule_set_comment(struct xg_rule *r, const char *comment)
{
    free(r->comment);
    r->comment = strdup(comment);
    return r->comment ? 0 : -1;
}

int xg_rule_set_log(struct xg_rule *r, const char *prefix, int level)
{
    if (!r->log && !(r->log = calloc(1, sizeof(*r->log))))
        return -1;
    strncpy(r->log->prefix, prefix, sizeof(r->log->prefix) - 1);
    r->log->level = level;
    return 0;
}

void xg_rule_set_verdict(struct xg_rule *r, enum xg_verdict_kind verdict)
{
    r->verdict = verdict;
}

int xg_rule_set_target(struct xg_rule *r, enum xg_verdict_kind verdict, const char *chain)
{
    free(r->target);
    r->verdict = verdict;
    r->target = dup_or_null(chain);
    return chain && !r->target ? -1 : 0;
}

struct xg_chain *xg_table_find_chain(const struct xg_table *t, const char *name)
{
    for (size_t i = 0; i < t->chain_count; i++)
        if (strcmp(t->chains[i]->name, name) == 0)
            return t->chains[i];
    return NULL;
}

struct xg_set *xg_table_find_set(const struct xg_table *t, const char *name)
{
    for (size_t i = 0; i < t->set_count; i++)
        if (strcmp(t->sets[i]->name, name) == 0)
            return t->sets[i];
    return NULL;
}

static uint8_t match_family(const struct xg_table *t, const struct xg_match *m)
{
    switch (m->kind) {
    case XG_MATCH_NFPROTO:
        return m->u.family;
    case XG_MATCH_ICMP_TYPE:
        return m->u.icmp.family;
    case XG_MATCH_SADDR:
    case XG_MATCH_DADDR:
        if (m->u.addrs.set_name) {
            const struct xg_set *s = t ? xg_table_find_set(t, m->u.addrs.set_name) : NULL;
            return s ? s->family : 0;
        }
        if (m->u.addrs.prefixes.count)
            return m->u.addrs.prefixes.items[0].family;
        return 0;
    case XG_MATCH_L4PROTO:
        if (m->u.proto == IPPROTO_ICMP)
            return 4;
        if (m->u.proto == IPPROTO_ICMPV6)
            return 6;
        return 0;
    default:
        return 0;
    }
}

uint8_t xg_rule_family(const struct xg_table *t, const struct xg_rule *r)
{
    if (t && t->family == XG_TABLE_IP)
        return 4;
    if (t && t->family == XG_TABLE_IP6)
        return 6;
    for (size_t i = 0; i < r->match_count; i++) {
        uint8_t f = match_family(t, &r->matches[i]);
        if (f)
            return f;
    }
    return 0;
}

const char *xg_verdict_name(enum xg_verdict_kind v)
{
    static const char *const names[] = {
        [XG_VERDICT_CONTINUE] = "continue", [XG_VERDICT_ACCEPT] = "accept",
        [XG_VERDICT_DROP] = "drop",         [XG_VERDICT_REJECT] = "reject",
        [XG_VERDICT_JUMP] = "jump",         [XG_VERDICT_GOTO] = "goto",
        [XG_VERDICT_RETURN] = "return",     [XG_VERDICT_UNKNOWN] = "unknown",
    };
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static int match_copy(struct xg_match *dst, const struct xg_match *src)
{
    *dst = *src;
    switch (src->kind) {
    case XG_MATCH_SADDR:
    case XG_MATCH_DADDR:
    case XG_MATCH_ARP_SPA:
    case XG_MATCH_ND_TARGET:
        memset(&dst->u.addrs, 0, sizeof(dst->u.addrs));
        if (src->u.addrs.set_name && !(dst->u.addrs.set_name = strdup(src->u.addrs.set_name)))
            return -1;
        return xg_prefix_list_copy(&dst->u.addrs.prefixes, &src->u.addrs.prefixes);
    case XG_MATCH_SPORT:
    case XG_MATCH_DPORT:
        dst->u.ports.ranges =
            calloc(src->u.ports.count ? src->u.ports.count : 1, sizeof(*src->u.ports.ranges));
        if (!dst->u.ports.ranges)
            return -1;
        memcpy(dst->u.ports.ranges, src->u.ports.ranges,
               src->u.ports.count * sizeof(*src->u.ports.ranges));
        return 0;
    case XG_MATCH_IFSET:
        dst->u.ifset.set_name = dup_or_null(src->u.ifset.set_name);
        return src->u.ifset.set_name && !dst->u.ifset.set_name ? -1 : 0;
    case XG_MATCH_UNKNOWN:
        dst->u.text = dup_or_null(src->u.text);
        return src->u.text && !dst->u.text ? -1 : 0;
    default:
        return 0;
    }
}

int xg_rule_copy(struct xg_rule *dst, const struct xg_rule *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->verdict = src->verdict;
    dst->reject = src->reject;
    dst->counter = src->counter;
    dst->src_file = src->src_file;
    dst->src_line = src->src_line;
    dst->src_handle = src->src_handle;
    if ((src->target && !(dst->target = strdup(src->target))) ||
        (src->comment && !(dst->comment = strdup(src->comment))))
        goto fail;
    if (src->log) {
        if (!(dst->log = malloc(sizeof(*dst->log))))
            goto fail;
        *dst->log = *src->log;
    }
    if (src->match_count) {
        dst->matches = calloc(src->match_count, sizeof(*dst->matches));
        if (!dst->matches)
            goto fail;
        for (size_t i = 0; i < src->match_count; i++) {
            dst->match_count = i + 1;
            if (match_copy(&dst->matches[i], &src->matches[i]) < 0) {
                /* leave the failed match clearable */
                memset(&dst->matches[i], 0, sizeof(dst->matches[i]));
                dst->matches[i].kind = XG_MATCH_NFPROTO;
                goto fail;
            }
        }
    }
    return 0;
fail:
    xg_rule_clear(dst);
    return -1;
}

void xg_match_clear(struct xg_match *m)
{
    switch (m->kind) {
    case XG_MATCH_SADDR:
    case XG_MATCH_DADDR:
    case XG_MATCH_ARP_SPA:
    case XG_MATCH_ND_TARGET:
        xg_prefix_list_free(&m->u.addrs.prefixes);
        free(m->u.addrs.set_name);
        break;
    case XG_MATCH_IFSET:
        free(m->u.ifset.set_name);
        break;
    case XG_MATCH_SPORT:
    case XG_MATCH_DPORT:
        free(m->u.ports.ranges);
        break;
    case XG_MATCH_UNKNOWN:
        free(m->u.text);
        break;
    default:
        break;
    }
    memset(m, 0, sizeof(*m));
}

void xg_rule_clear(struct xg_rule *r)
{
    for (size_t i = 0; i < r->match_count; i++)
        xg_match_clear(&r->matches[i]);
    free(r->matches);
    free(r->target);
    free(r->log);
    free(r->comment);
    memset(r, 0, sizeof(*r));
}

static void chain_free(struct xg_chain *c)
{
    for (size_t i = 0; i < c->rule_count; i++)
        xg_rule_clear(&c->rules[i]);
    free(c->rules);
    free(c->name);
    free(c->comment);
    free(c);
}

static void set_free(struct xg_set *s)
{
    xg_prefix_list_free(&s->elements);
    free(s->pairs);
    free(s->name);
    free(s->comment);
    free(s);
}

void xg_table_free(struct xg_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; j < t->set_count; j++)
        set_free(t->sets[j]);
    for (size_t j = 0; j < t->chain_count; j++)
        chain_free(t->chains[j]);
    free(t->sets);
    free(t->chains);
    free(t->name);
    free(t->comment);
    free(t);
}

void xg_ruleset_free(struct xg_ruleset *rs)
{
    for (size_t i = 0; i < rs->table_count; i++)
        xg_table_free(rs->tables[i]);
    free(rs->tables);
    rs->tables = NULL;
    rs->table_count = 0;
}
