/*
 * guard.c — the lockout guard (see guard.h): session parsing, interface
 * lookup, and the question put to the analyzer.
 *
 * Linking: the analyzer (src/analyze/, issue 3) is developed in parallel.
 * Until its sources are in the tree, its three entry points are referenced
 * weakly so this links; then xg_guard_available() is false and apply
 * refuses to load over an ssh session unless --force (fail closed, never
 * open). The Makefile defines XG_HAVE_ANALYZER=1 as soon as src/analyze/ has C
 * sources, and the references become ordinary ones, which pull the analyzer
 * out of libxenguard.a.
 */
#include "apply/guard.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "policy/policy.h"
#include "util/buf.h"

#ifndef XG_HAVE_ANALYZER
#define XG_HAVE_ANALYZER 0
#endif
#if !XG_HAVE_ANALYZER
#pragma weak xg_reach_compute
#pragma weak xg_reach_free
#pragma weak xg_parse_nft_json
#pragma weak xg_parse_iptables_save
#endif

static int parse_port(const char *text, uint16_t *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static int parse_host(const char *text, struct xg_prefix *out)
{
    if (!strncasecmp(text, "::ffff:", 7) && strchr(text + 7, '.'))
        text += 7;
    return xg_addr_parse(text, out);
}

int xg_session_parse(const char *ssh_connection, struct xg_session *s, struct xg_err *err)
{
    char f[4][64];
    char extra;
    memset(s, 0, sizeof(*s));
    if (sscanf(ssh_connection, "%63s %63s %63s %63s %c", f[0], f[1], f[2], f[3], &extra) != 4)
        return xg_fail(err,
                       "SSH_CONNECTION='%s': expected 'client_ip client_port server_ip "
                       "server_port'",
                       ssh_connection);
    if (parse_host(f[0], &s->client) < 0 || parse_port(f[1], &s->client_port) < 0 ||
        parse_host(f[2], &s->server) < 0 || parse_port(f[3], &s->server_port) < 0)
        return xg_fail(err, "SSH_CONNECTION='%s': not an address/port quadruple", ssh_connection);
    return 0;
}

void xg_session_find_iif(struct xg_session *s)
{
    struct ifaddrs *list, *ifa;
    if (getifaddrs(&list) < 0)
        return;
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        struct xg_prefix a = {0};
        if (!ifa->ifa_addr)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET) {
            a.family = XG_FAMILY_IPV4;
            a.len = 32;
            memcpy(a.addr, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr, 4);
        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            a.family = XG_FAMILY_IPV6;
            a.len = 128;
            memcpy(a.addr, &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        if (xg_prefix_equal(&a, &s->server)) {
            snprintf(s->iifname, sizeof(s->iifname), "%s", ifa->ifa_name);
            break;
        }
    }
    freeifaddrs(list);
}

bool xg_guard_available(void)
{
#if XG_HAVE_ANALYZER
    return true;
#else
    return xg_reach_compute && xg_reach_free && xg_parse_nft_json && xg_parse_iptables_save;
#endif
}

void xg_session_describe(const struct xg_session *s, char *out, size_t size)
{
    char client[XG_PREFIX_STRLEN];
    xg_prefix_format(&s->client, true, client);
    snprintf(out, size, "new ssh connections from %s to port %u%s%s", client, s->server_port,
             s->iifname[0] ? " on " : "", s->iifname);
}

int xg_guard_check(const struct xg_ruleset *rs, const struct xg_session *s,
                   enum xg_guard_result *out, struct xg_err *err)
{
    if (!xg_guard_available())
        return xg_fail(err, "the lockout guard needs the analyzer, which is not built into "
                            "this xenguard");
    struct xg_packet_query q = {
        .family = s->client.family,
        .proto = IPPROTO_TCP,
        .dport = s->server_port,
        .iifname = s->iifname[0] ? s->iifname : NULL,
        .path = XG_HOOK_INPUT,
    };
    struct xg_reach r = {0};
    if (xg_reach_compute(rs, &q, &r, err) < 0)
        return -1;
    if (xg_prefix_list_covers(&r.must, &s->client))
        *out = XG_GUARD_KEEPS;
    else if (xg_prefix_list_covers(&r.may, &s->client))
        *out = XG_GUARD_MAY_DROP;
    else
        *out = XG_GUARD_DROPS;
    xg_reach_free(&r);
    return 0;
}

int xg_guard_check_json(const char *json, const char *name, const struct xg_session *s,
                        enum xg_guard_result *out, struct xg_err *err)
{
    if (!xg_guard_available())
        return xg_fail(err, "the lockout guard needs the analyzer, which is not built into "
                            "this xenguard");
    struct xg_ruleset rs = {0};
    int rc = xg_parse_nft_json(json, strlen(json), name, &rs, err);
    if (rc == 0)
        rc = xg_guard_check(&rs, s, out, err);
    xg_ruleset_free(&rs);
    return rc;
}

static bool lists_equal(const struct xg_prefix_list *a, const struct xg_prefix_list *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (!xg_prefix_equal(&a->items[i], &b->items[i]))
            return false;
    return true;
}

static void print_list(struct xg_buf *out, const struct xg_prefix_list *l)
{
    if (!l->count)
        xg_buf_puts(out, "nothing");
    for (size_t i = 0; i < l->count; i++) {
        char text[XG_PREFIX_STRLEN];
        xg_prefix_format(&l->items[i], false, text);
        xg_buf_printf(out, "%s%s", i ? " " : "", text);
    }
}

struct service_port {
    uint8_t proto;
    uint16_t port;
};

static size_t policy_ports(const struct xg_policy *p, struct service_port *out, size_t max)
{
    size_t n = 0;
    out[n++] = (struct service_port){IPPROTO_TCP, p->ssh_port ? p->ssh_port : 22};
    if (xg_policy_has_migration_port(p) && n < max)
        out[n++] = (struct service_port){IPPROTO_TCP, p->migration_port};
    for (size_t i = 0; i < p->service_count; i++)
        for (size_t j = 0; j < p->services[i].port_count && n < max; j++)
            out[n++] = (struct service_port){p->services[i].proto, p->services[i].ports[j].lo};
    return n;
}

/* The comparison itself, on the running ruleset as parsed (nft or iptables). */
static int reach_diff(const struct xg_ruleset *have, const char *wanted_json,
                      const struct xg_policy *p, struct xg_buf *report, size_t *differences,
                      size_t *queries, struct xg_err *err)
{
    struct xg_ruleset want = {0};
    struct service_port ports[64];
    const char *ifaces[2] = {p->public_if, p->management_if};
    size_t nports = policy_ports(p, ports, 64);
    int rc = -1;
    *differences = *queries = 0;
    if (xg_parse_nft_json(wanted_json, strlen(wanted_json), "policy", &want, err) < 0)
        goto out;
    for (int f = 0; f < 2; f++) {
        for (size_t i = 0; i < 2; i++) {
            if (!ifaces[i][0] || (i == 1 && !strcmp(ifaces[0], ifaces[1])))
                continue;
            for (size_t k = 0; k < nports; k++) {
                struct xg_packet_query q = {.family = f ? 6 : 4,
                                            .proto = ports[k].proto,
                                            .dport = ports[k].port,
                                            .iifname = ifaces[i],
                                            .path = XG_HOOK_INPUT};
                struct xg_reach a = {0}, b = {0};
                if (xg_reach_compute(have, &q, &a, err) < 0 ||
                    xg_reach_compute(&want, &q, &b, err) < 0) {
                    xg_reach_free(&a);
                    xg_reach_free(&b);
                    goto out;
                }
                (*queries)++;
                if (!lists_equal(&a.may, &b.may) || !lists_equal(&a.must, &b.must)) {
                    (*differences)++;
                    xg_buf_printf(report, "  %s/%u IPv%d on %s: running lets in ",
                                  q.proto == IPPROTO_UDP ? "udp" : "tcp", q.dport, q.family,
                                  q.iifname);
                    print_list(report, &a.may);
                    xg_buf_puts(report, "; the policy ");
                    print_list(report, &b.may);
                    xg_buf_puts(report, "\n");
                }
                xg_reach_free(&a);
                xg_reach_free(&b);
            }
        }
    }
    rc = 0;
out:
    xg_ruleset_free(&want);
    return rc;
}

int xg_reach_diff(const char *running_json, const char *wanted_json, const struct xg_policy *p,
                  struct xg_buf *report, size_t *differences, size_t *queries, struct xg_err *err)
{
    struct xg_ruleset have = {0};
    int rc = -1;
    if (!xg_guard_available())
        xg_fail(err, "the analyzer is not built into this xenguard");
    else if (xg_parse_nft_json(running_json, strlen(running_json), "running ruleset", &have, err) ==
             0)
        rc = reach_diff(&have, wanted_json, p, report, differences, queries, err);
    xg_ruleset_free(&have);
    return rc;
}

int xg_reach_diff_iptables(const char *save4, const char *save6, const char *wanted_json,
                           const struct xg_policy *p, struct xg_buf *report, size_t *differences,
                           size_t *queries, struct xg_err *err)
{
    struct xg_ruleset have = {0};
    int rc = -1;
    if (!xg_guard_available())
        xg_fail(err, "the analyzer is not built into this xenguard");
    else if (xg_parse_iptables_save(save4, strlen(save4), "iptables-save", 4, &have, err) == 0 &&
             xg_parse_iptables_save(save6, strlen(save6), "ip6tables-save", 6, &have, err) == 0)
        rc = reach_diff(&have, wanted_json, p, report, differences, queries, err);
    xg_ruleset_free(&have);
    return rc;
}
