/*
 * facts.c — the host's side of `xenguard fleet`: what its audit report says
 * about it for the cluster (see facts.h).
 *
 * The analyzer runs here, on the host, at audit time: the controller gets
 * answers (may / must source lists for the migration port per interface)
 * rather than raw rulesets, so fleet never parses a host's firewall dump and
 * the answers are the same ones the host's own audit judged. The digest
 * names the ruleset they were computed from: a canonical text of the
 * combined IR (what the kernel evaluates: tables, sets, chains, rules,
 * without source lines, handles, counters or comments), hashed with SHA-256,
 * so equal firewalls have equal digests whatever tool listed them.
 */
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/host.h"
#include "fleet/facts.h"
#include "probe/rootfs.h"
#include "tunnel/tunnel.h"
#include "util/buf.h"

static void put_prefixes(struct xg_buf *b, const struct xg_prefix_list *l)
{
    xg_prefix_list_print(b, l, ",", false, "-");
}

static void canon_match(struct xg_buf *b, const struct xg_match *m)
{
    xg_buf_printf(b, " m%d%s:", (int)m->kind, m->negate ? "!" : "");
    switch (m->kind) {
    case XG_MATCH_IIFNAME:
    case XG_MATCH_OIFNAME:
        xg_buf_puts(b, m->u.ifname);
        break;
    case XG_MATCH_NFPROTO:
        xg_buf_printf(b, "%u", m->u.family);
        break;
    case XG_MATCH_SADDR:
    case XG_MATCH_DADDR:
    case XG_MATCH_ARP_SPA:
    case XG_MATCH_ND_TARGET:
        if (m->u.addrs.set_name)
            xg_buf_printf(b, "@%s", m->u.addrs.set_name);
        else
            put_prefixes(b, &m->u.addrs.prefixes);
        break;
    case XG_MATCH_L4PROTO:
        xg_buf_printf(b, "%u", m->u.proto);
        break;
    case XG_MATCH_SPORT:
    case XG_MATCH_DPORT:
        for (size_t i = 0; i < m->u.ports.count; i++)
            xg_buf_printf(b, "%u-%u,", m->u.ports.ranges[i].lo, m->u.ports.ranges[i].hi);
        break;
    case XG_MATCH_CTSTATE:
        xg_buf_printf(b, "%x", m->u.ct_states);
        break;
    case XG_MATCH_RPF_OK:
        break;
    case XG_MATCH_ICMP_TYPE:
        xg_buf_printf(b, "%u/", m->u.icmp.family);
        for (size_t i = 0; i < m->u.icmp.count; i++)
            xg_buf_printf(b, "%u,", m->u.icmp.types[i]);
        break;
    case XG_MATCH_LIMIT:
        xg_buf_printf(b, "%u/%d/%u", m->u.limit.rate, (int)m->u.limit.unit, m->u.limit.burst);
        break;
    case XG_MATCH_ETHER_SADDR:
        for (size_t i = 0; i < m->u.macs.count; i++)
            for (int k = 0; k < 6; k++)
                xg_buf_printf(b, "%02x%s", m->u.macs.addrs[i][k], k == 5 ? "," : ":");
        break;
    case XG_MATCH_ADDRTYPE:
        xg_buf_printf(b, "%d/%x/%d", m->u.addrtype.dst, m->u.addrtype.types,
                      m->u.addrtype.limit_iface);
        break;
    case XG_MATCH_ETHERTYPE:
        xg_buf_printf(b, "%04x", m->u.ethertype);
        break;
    case XG_MATCH_IFSET:
        xg_buf_printf(b, "%d@%s", (int)m->u.ifset.field, m->u.ifset.set_name);
        break;
    case XG_MATCH_UNKNOWN:
        xg_buf_puts(b, m->u.text ? m->u.text : "");
        break;
    }
}

static void canon_set(struct xg_buf *b, const struct xg_set *s)
{
    xg_buf_printf(b, " set %s %u %d ", s->name, s->family, (int)s->key);
    put_prefixes(b, &s->elements);
    for (size_t i = 0; i < s->pair_count; i++) {
        char a[XG_PREFIX_STRLEN];
        xg_prefix_format(&s->pairs[i].addr, false, a);
        xg_buf_printf(b, " %s.%s.%02x%02x%02x%02x%02x%02x", s->pairs[i].ifname, a,
                      s->pairs[i].mac[0], s->pairs[i].mac[1], s->pairs[i].mac[2],
                      s->pairs[i].mac[3], s->pairs[i].mac[4], s->pairs[i].mac[5]);
    }
    xg_buf_puts(b, "\n");
}

static void canon_chain(struct xg_buf *b, const struct xg_chain *c)
{
    xg_buf_printf(b, " chain %s %d %d %d\n", c->name, (int)c->hook, c->priority, (int)c->policy);
    for (size_t r = 0; r < c->rule_count; r++) {
        const struct xg_rule *ru = &c->rules[r];
        xg_buf_puts(b, "  rule");
        for (size_t m = 0; m < ru->match_count; m++)
            canon_match(b, &ru->matches[m]);
        xg_buf_printf(b, " -> %d/%d/%s", (int)ru->verdict, (int)ru->reject,
                      ru->target ? ru->target : "");
        if (ru->log)
            xg_buf_printf(b, " log %s %d", ru->log->prefix, ru->log->level);
        xg_buf_puts(b, "\n");
    }
}

int xg_ruleset_digest(const struct xg_ruleset *rs, char out[72])
{
    struct xg_buf b = {0};
    for (size_t t = 0; t < rs->table_count; t++) {
        const struct xg_table *tb = rs->tables[t];
        xg_buf_printf(&b, "table %d %s\n", (int)tb->family, tb->name);
        for (size_t s = 0; s < tb->set_count; s++)
            canon_set(&b, tb->sets[s]);
        for (size_t c = 0; c < tb->chain_count; c++)
            canon_chain(&b, tb->chains[c]);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int rc = xg_buf_failed(&b) ? -1 : 0;
    if (rc == 0 && !EVP_Digest(xg_buf_str(&b), b.len, md, &len, EVP_sha256(), NULL))
        rc = -1;
    xg_buf_free(&b);
    if (rc < 0 || len != 32)
        return -1;
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* The port a migration into this host arrives on (see facts.h). */
static uint16_t migration_port(const struct xg_policy *p)
{
    if (!p)
        return 8002;
    if (p->transport == XG_TRANSPORT_SSH)
        return p->ssh_port ? p->ssh_port : 22;
    return p->migration_port ? p->migration_port : 8002;
}

static int reach_ifaces(const struct xg_host *h, const struct xg_ifmap *map,
                        struct xg_fleet_facts *f, struct xg_err *err)
{
    f->reach = calloc(h->iface_count ? h->iface_count : 1, sizeof(*f->reach));
    if (!f->reach)
        return xg_fail(err, "out of memory");
    for (size_t i = 0; i < h->iface_count; i++) {
        if (!strcmp(h->ifaces[i].name, "lo"))
            continue;
        struct xg_fleet_iface_reach *ir = &f->reach[f->reach_count++];
        snprintf(ir->iface, sizeof(ir->iface), "%s", h->ifaces[i].name);
        for (int fam = 0; fam < 2; fam++) {
            struct xg_packet_query q = {.family = fam ? 6 : 4,
                                        .proto = IPPROTO_TCP,
                                        .dport = f->migration_port,
                                        .iifname = h->ifaces[i].name,
                                        .path = XG_HOOK_INPUT};
            struct xg_err e = {{0}};
            struct xg_prefix_list rpf = {0};
            if (map && xg_ifmap_rpf(map, h->ifaces[i].name, q.family, &rpf) < 0) {
                xg_prefix_list_free(&rpf);
                return xg_fail(err, "out of memory");
            }
            q.rpf_ok = map ? &rpf : NULL;
            int rc = xg_reach_compute(&h->firewall, &q, &ir->r[fam], &e);
            xg_prefix_list_free(&rpf);
            if (rc < 0) {
                snprintf(f->firewall_error, sizeof(f->firewall_error), "%s", e.msg);
                return 0;
            }
        }
    }
    return 0;
}

int xg_fleet_facts_from_host(const struct xg_host *h, const struct xg_policy *p,
                             const struct xg_ifmap *map, struct xg_fleet_facts *out,
                             struct xg_err *err)
{
    memset(out, 0, sizeof(*out));
    out->policy = p;
    out->migration_port = migration_port(p);
    out->tunnel = p && p->transport == XG_TRANSPORT_TUNNEL;
    out->firewall_present = h->firewall_present;
    if (!h->firewall_present)
        return 0;
    if (h->errors[XG_SEC_FIREWALL]) {
        snprintf(out->firewall_error, sizeof(out->firewall_error), "%s",
                 h->errors[XG_SEC_FIREWALL]);
        return 0;
    }
    if (!h->ifaces_present) {
        snprintf(out->firewall_error, sizeof(out->firewall_error),
                 "no interface list (ip -j addr): the migration port was not analyzed");
        return 0;
    }
    if (xg_ruleset_digest(&h->firewall, out->firewall_digest) < 0)
        return xg_fail(err, "out of memory");
    return reach_ifaces(h, map, out, err);
}

/* One PEM certificate under the root: fingerprint and notAfter, or the reason it is not there. */
static void read_cert(const struct xg_rootfs *root, const char *path, struct xg_fleet_cert *c)
{
    size_t len = 0;
    char *pem = path && path[0] == '/' ? xg_rootfs_read(root, path, &len) : NULL;
    if (!pem) {
        snprintf(c->error, sizeof(c->error), "%s: %s", path ? path : "(not set)",
                 path && path[0] == '/' ? "cannot be read" : "not an absolute path");
        return;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    struct tm tm;
    if (x && xg_cert_fingerprint(x, c->sha256) == 0 &&
        ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 &&
        strftime(c->not_after, sizeof(c->not_after), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
        c->present = true;
    else
        snprintf(c->error, sizeof(c->error), "%s: not a PEM certificate", path);
    X509_free(x);
    BIO_free(bio);
    free(pem);
}

static void read_certs(struct xg_fleet_facts *f, const char *root)
{
    struct xg_rootfs r;
    struct xg_err err = {{0}};
    if (!f->tunnel)
        return;
    if (xg_rootfs_open(&r, root, &err) < 0) {
        snprintf(f->ca.error, sizeof(f->ca.error), "%s", err.msg);
        snprintf(f->cert.error, sizeof(f->cert.error), "%s", err.msg);
        return;
    }
    read_cert(&r, f->policy->tunnel.ca, &f->ca);
    read_cert(&r, f->policy->tunnel.cert, &f->cert);
    xg_rootfs_close(&r);
}

int xg_fleet_facts_collect(const struct xg_host *h, const struct xg_policy *p, const char *root,
                           struct xg_fleet_facts *out, struct xg_err *err)
{
    struct xg_ifmap map = {0};
    struct xg_err ignore = {{0}};
    /* the live host's routes decide reverse-path matches; a captured root has none */
    bool have_map = h->live && xg_ifmap_from_host(&map, &ignore) == 0;
    int rc = xg_fleet_facts_from_host(h, p, have_map ? &map : NULL, out, err);
    xg_ifmap_free(&map);
    if (rc == 0)
        read_certs(out, root);
    return rc;
}

void xg_fleet_facts_free(struct xg_fleet_facts *f)
{
    for (size_t i = 0; i < f->reach_count; i++)
        for (int k = 0; k < 2; k++)
            xg_reach_free(&f->reach[i].r[k]);
    free(f->reach);
    memset(f, 0, sizeof(*f));
}
