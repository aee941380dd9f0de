/*
 * policy.c — the small things every user of struct xg_policy needs: the
 * names of its enums and freeing it (see policy.h).
 */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

const char *xg_scenario_name(enum xg_scenario s)
{
    switch (s) {
    case XG_SCENARIO_ISOLATED_MANAGEMENT:
        return "isolated-management";
    case XG_SCENARIO_FIREWALLED_SUBNET:
        return "firewalled-subnet";
    case XG_SCENARIO_UNTRUSTED:
        return "untrusted";
    }
    return "?";
}

const char *xg_transport_name(enum xg_transport t)
{
    switch (t) {
    case XG_TRANSPORT_OFF:
        return "off";
    case XG_TRANSPORT_XEND:
        return "xend";
    case XG_TRANSPORT_SSH:
        return "ssh";
    case XG_TRANSPORT_TUNNEL:
        return "tunnel";
    }
    return "?";
}

bool xg_policy_has_migration_port(const struct xg_policy *p)
{
    return p->transport == XG_TRANSPORT_XEND || p->transport == XG_TRANSPORT_TUNNEL;
}

const char *xg_policy_guest_pattern(const struct xg_policy *p, const char *ifname)
{
    for (size_t i = 0; i < p->guests.port_count; i++) {
        const char *pat = p->guests.ports[i];
        size_t n = strlen(pat);
        if (n && pat[n - 1] == '*' ? !strncmp(pat, ifname, n - 1) : !strcmp(pat, ifname))
            return pat;
    }
    return NULL;
}

bool xg_policy_is_guest_port(const struct xg_policy *p, const char *ifname)
{
    return xg_policy_guest_pattern(p, ifname) != NULL;
}

static void free_words(char **words, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(words[i]);
    free(words);
}

void xg_policy_free(struct xg_policy *p)
{
    free(p->path);
    xg_prefix_list_free(&p->peers);
    xg_prefix_list_free(&p->networks);
    xg_prefix_list_free(&p->ssh_from);
    xg_prefix_list_free(&p->addresses);
    free_words(p->admin_users, p->admin_user_count);
    for (size_t i = 0; i < p->service_count; i++)
        xg_prefix_list_free(&p->services[i].from);
    free(p->services);
    free(p->tunnel.ca);
    free(p->tunnel.cert);
    free(p->tunnel.key);
    free(p->tunnel.receive_command);
    free_words(p->tunnel.peer_names, p->tunnel.peer_name_count);
    free_words(p->tunnel.peer_fingerprints, p->tunnel.peer_fingerprint_count);
    memset(p, 0, sizeof(*p));
}
