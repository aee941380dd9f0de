/*
 * guests.c — the host's facts that join the guests' table at apply time (see
 * guests.h): Dom0's live addresses into protected4/6, and the running table's
 * declared guests (the dynamic vif_* sets) carried into the new one.
 *
 * The listing is the kernel's own JSON (`nft -j list table bridge xenguard`);
 * an element is a string (ifname sets) or {"concat": [IFNAME, VALUE]}, maybe
 * wrapped in {"elem": {"val": ...}} when it has a comment or timeout. What
 * cannot be read back into a pair is refused with its text rather than
 * dropped: losing a declared guest silently would unblock nothing, but would
 * cut that guest off after a reload.
 */
#include "apply/guests.h"

#include <ifaddrs.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/nft.h"
#include "compile/compile.h"
#include "guests/carry.h"

int xg_host_own_addresses(struct xg_prefix_list *out, struct xg_err *err)
{
    struct ifaddrs *all, *i;
    if (getifaddrs(&all) < 0)
        return xg_fail(err, "getifaddrs: cannot list this host's addresses");
    for (i = all; i; i = i->ifa_next) {
        struct xg_prefix p = {0};
        if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            p.family = 4;
            p.len = 32;
            memcpy(p.addr, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            p.family = 6;
            p.len = 128;
            memcpy(p.addr, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        if (!xg_prefix_list_covers(out, &p) && xg_prefix_list_add(out, &p) < 0) {
            freeifaddrs(all);
            return xg_fail(err, "out of memory");
        }
    }
    freeifaddrs(all);
    return 0;
}

/* "02:00:00:00:00:01" -> 6 bytes */
static int parse_mac(const char *text, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (strlen(text) != 17 || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
                                     &b[4], &b[5], &tail) != 6)
        return -1;
    for (int k = 0; k < 6; k++)
        mac[k] = (uint8_t)b[k];
    return 0;
}

/* One listed element into a pair of the set's key. */
static int element_pair(const struct xg_set *s, json_t *e, struct xg_set_pair *pair)
{
    json_t *val = json_object_get(json_object_get(e, "elem"), "val");
    const char *ifname, *value = NULL;
    if (val)
        e = val;
    if (s->key == XG_SETKEY_IFNAME) {
        ifname = json_string_value(e);
    } else {
        json_t *cat = json_object_get(e, "concat");
        if (json_array_size(cat) != 2)
            return -1;
        ifname = json_string_value(json_array_get(cat, 0));
        value = json_string_value(json_array_get(cat, 1));
        if (!value)
            return -1;
    }
    memset(pair, 0, sizeof(*pair));
    if (!ifname || !*ifname || strlen(ifname) >= sizeof(pair->ifname))
        return -1;
    memcpy(pair->ifname, ifname, strlen(ifname) + 1);
    if (s->key == XG_SETKEY_IF_ADDR)
        return xg_addr_parse(value, &pair->addr) < 0 || pair->addr.family != s->family ? -1 : 0;
    if (s->key == XG_SETKEY_IF_MAC)
        return parse_mac(value, pair->mac);
    return 0;
}

/* The elements of one listed set into the IR set of the same name (a dynamic one). */
static int carry_set(struct xg_table *t, json_t *body, struct xg_err *err)
{
    const char *name = json_string_value(json_object_get(body, "name"));
    struct xg_set *s = name ? xg_table_find_set(t, name) : NULL;
    json_t *e;
    size_t i;
    if (!s || !s->dynamic || s->key == XG_SETKEY_ADDR)
        return 0;
    json_array_foreach(json_object_get(body, "elem"), i, e)
    {
        struct xg_set_pair pair;
        if (element_pair(s, e, &pair) < 0) {
            char *text = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
            xg_fail(err, "table bridge " XG_NFT_TABLE ": set %s: cannot carry element %.200s", name,
                    text ? text : "?");
            free(text);
            return -1;
        }
        if (xg_set_add_pair(s, &pair) < 0)
            return xg_fail(err, "out of memory");
    }
    return 0;
}

int xg_guests_carry_json(struct xg_ruleset *rs, const char *listing, struct xg_err *err)
{
    struct xg_table *t = xg_guests_table(rs);
    json_error_t jerr;
    json_t *root, *item;
    size_t i;
    int rc = 0;
    if (!t || !listing)
        return 0;
    if (!(root = json_loads(listing, 0, &jerr)))
        return xg_fail(err, "table bridge " XG_NFT_TABLE " listing:%d:%d: %s", jerr.line,
                       jerr.column, jerr.text);
    json_array_foreach(json_object_get(root, "nftables"), i, item)
    {
        json_t *body = json_object_get(item, "set");
        const char *fam = json_string_value(json_object_get(body, "family"));
        const char *tbl = json_string_value(json_object_get(body, "table"));
        if (!body || !fam || !tbl || strcmp(fam, XG_NFT_BRIDGE_FAMILY) || strcmp(tbl, XG_NFT_TABLE))
            continue;
        if ((rc = carry_set(t, body, err)) < 0)
            break;
    }
    json_decref(root);
    return rc;
}

int xg_guests_carry(struct xg_ruleset *rs, struct xg_err *err)
{
    char *listing = NULL;
    if (!xg_guests_table(rs))
        return 0;
    if (xg_nft_bridge_json(&listing, err) < 0)
        return -1;
    int rc = xg_guests_carry_json(rs, listing, err);
    free(listing);
    /* guests the running table does not hold: their ip/mac from xenstore (guests/carry.h) */
    return rc < 0 ? rc : xg_vif_carry_xenstore(rs, NULL, err);
}

int xg_guests_prepare(struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_prefix_list own = {0};
    if (!xg_guests_table(rs))
        return 0;
    int rc = xg_host_own_addresses(&own, err);
    if (rc == 0 && xg_guests_protect_more(rs, &own) < 0)
        rc = xg_fail(err, "out of memory");
    xg_prefix_list_free(&own);
    return rc < 0 ? -1 : xg_guests_carry(rs, err);
}
