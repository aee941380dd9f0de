/*
 * guests.c — the host's facts that join the guests' table at apply time (see
 * guests.h): Dom0's live addresses into protected4/6, and the running table's
 * declared guests (the dynamic vif_* sets) carried into the new one.
 *
 * The listing is the kernel's own JSON (`nft -j list table bridge xenguard`),
 * read by the one reader of the vif sets, xg_vif_parse_listing (guests/vif.c),
 * and carried as it is (guests/carry.c). What cannot be read back into a pair
 * is refused with its text rather than dropped: losing a declared guest
 * silently would unblock nothing, but would cut that guest off after a reload.
 */
#include "apply/guests.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
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

int xg_guests_carry_json(struct xg_ruleset *rs, const char *listing, struct xg_err *err)
{
    struct xg_vif_list running;
    struct xg_err why = {{0}};
    if (!xg_guests_table(rs) || !listing)
        return 0;
    int rc = xg_vif_parse_listing(listing, &running, &why);
    if (rc == XG_VIF_NOT_LOADED)
        return 0; /* the running table has no vif sets: nothing declared to keep */
    if (rc < 0)
        return xg_fail(err, "table bridge " XG_NFT_TABLE ": cannot carry the declared guests: %s",
                       why.msg);
    rc = xg_vif_carry_listed(rs, &running, err);
    xg_vif_list_free(&running);
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
