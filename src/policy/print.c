/*
 * print.c — struct xg_policy -> canonical policy text.
 *
 * pfctl -nv's habit: the user sees what xenguard understood, defaults made
 * explicit, prefixes in canonical form, and print(parse(x)) is a fixed
 * point that tests rely on. Empty lists are left out (parsing an absent
 * key gives the same empty list).
 */
#include "policy/policy.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static void print_prefixes(struct xg_buf *b, const char *key, const struct xg_prefix_list *l)
{
    if (!l->count)
        return;
    xg_buf_printf(b, "%s =", key);
    for (size_t i = 0; i < l->count; i++) {
        char a[XG_PREFIX_STRLEN];
        xg_prefix_format(&l->items[i], true, a);
        xg_buf_printf(b, " %s", a);
    }
    xg_buf_puts(b, "\n");
}

static void print_words(struct xg_buf *b, const char *key, char *const *words, size_t count)
{
    if (!count)
        return;
    xg_buf_printf(b, "%s =", key);
    for (size_t i = 0; i < count; i++)
        xg_buf_printf(b, " %s", words[i]);
    xg_buf_puts(b, "\n");
}

static void print_service(struct xg_buf *b, const struct xg_service *s)
{
    xg_buf_printf(b, "%s = %s/", s->name, s->proto == IPPROTO_TCP ? "tcp" : "udp");
    for (size_t i = 0; i < s->port_count; i++) {
        xg_buf_printf(b, "%s%u", i ? "," : "", s->ports[i].lo);
        if (s->ports[i].hi != s->ports[i].lo)
            xg_buf_printf(b, "-%u", s->ports[i].hi);
    }
    xg_buf_puts(b, " from");
    if (s->from_any)
        xg_buf_puts(b, " any");
    for (size_t i = 0; i < s->from.count; i++) {
        char a[XG_PREFIX_STRLEN];
        xg_prefix_format(&s->from.items[i], true, a);
        xg_buf_printf(b, " %s", a);
    }
    if (s->iface[0])
        xg_buf_printf(b, " on %s", s->iface);
    xg_buf_puts(b, "\n");
}

static bool tunnel_configured(const struct xg_tunnel_conf *t)
{
    return t->ca || t->cert || t->key || t->receive_command || t->peer_name_count ||
           t->peer_fingerprint_count || t->max_sessions != 4 || t->handshake_timeout != 10 ||
           t->idle_timeout != 60;
}

static void print_tunnel(struct xg_buf *b, const struct xg_tunnel_conf *t)
{
    xg_buf_puts(b, "\n[tunnel]\n");
    if (t->ca)
        xg_buf_printf(b, "ca = %s\n", t->ca);
    if (t->cert)
        xg_buf_printf(b, "cert = %s\n", t->cert);
    if (t->key)
        xg_buf_printf(b, "key = %s\n", t->key);
    print_words(b, "peer-names", t->peer_names, t->peer_name_count);
    print_words(b, "peer-fingerprints", t->peer_fingerprints, t->peer_fingerprint_count);
    if (t->receive_command)
        xg_buf_printf(b, "receive-command = %s\n", t->receive_command);
    xg_buf_printf(b, "max-sessions = %u\nhandshake-timeout = %u\nidle-timeout = %u\n",
                  t->max_sessions, t->handshake_timeout, t->idle_timeout);
}

static void print_guests(struct xg_buf *b, const struct xg_guests_conf *g)
{
    xg_buf_puts(b, "\n[guests]\nports =");
    for (size_t i = 0; i < g->port_count; i++)
        xg_buf_printf(b, " %s", g->ports[i]);
    xg_buf_printf(b, "\nprotect = %s\nrequire-addresses = %s\n", g->protect ? "yes" : "no",
                  g->require_addresses ? "yes" : "no");
}

int xg_policy_print(const struct xg_policy *p, char **out_text)
{
    struct xg_buf b = {0};

    xg_buf_printf(&b, "[host]\nscenario = %s\npublic-interface = %s\n",
                  xg_scenario_name(p->scenario), p->public_if);
    if (p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT)
        xg_buf_printf(&b, "management-interface = %s\n", p->management_if);
    if (p->gateway_mac_count) {
        xg_buf_puts(&b, "gateway-mac =");
        for (size_t i = 0; i < p->gateway_mac_count; i++) {
            const uint8_t *m = p->gateway_macs[i];
            xg_buf_printf(&b, " %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        }
        xg_buf_puts(&b, "\n");
    }
    xg_buf_printf(&b, "icmp-echo = %s\nlog-rejects = %s\n", p->icmp_echo ? "yes" : "no",
                  p->log_rejects ? "yes" : "no");
    print_prefixes(&b, "addresses", &p->addresses);

    xg_buf_puts(&b, "\n[cluster]\n");
    print_prefixes(&b, "peers", &p->peers);
    print_prefixes(&b, "networks", &p->networks);

    xg_buf_printf(&b, "\n[migration]\ntransport = %s\nport = %u\n", xg_transport_name(p->transport),
                  p->migration_port);

    xg_buf_puts(&b, "\n[admin]\n");
    print_prefixes(&b, "ssh-from", &p->ssh_from);
    xg_buf_printf(&b, "ssh-port = %u\n", p->ssh_port);
    print_words(&b, "users", p->admin_users, p->admin_user_count);

    if (p->service_count) {
        xg_buf_puts(&b, "\n[allow]\n");
        for (size_t i = 0; i < p->service_count; i++)
            print_service(&b, &p->services[i]);
    }
    print_guests(&b, &p->guests);
    if (tunnel_configured(&p->tunnel))
        print_tunnel(&b, &p->tunnel);

    if (xg_buf_failed(&b)) {
        xg_buf_free(&b);
        return -1;
    }
    *out_text = b.data ? b.data : strdup("");
    return *out_text ? 0 : -1;
}
