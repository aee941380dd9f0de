/*
 * guests.h — what apply adds to the guests' table (table bridge xenguard)
 * from the running host before it is loaded.
 *
 * The compiler knows only the policy. At apply time two facts of the host
 * join the compiled IR: the live host's own addresses go into protected4/6
 * (a guest may not claim an address Dom0 has but the policy forgot), and
 * the elements of the dynamic sets (vif_declared, vif_ip4, vif_ip6,
 * vif_mac, filled at run time by `xenguard vif online`) are carried over
 * from the running table, so replacing the table as a whole does not
 * forget the declared guests. Both only add to the IR's sets.
 */
#ifndef XG_APPLY_GUESTS_H
#define XG_APPLY_GUESTS_H

#include "ir/ir.h"
#include "net/addr.h"
#include "util/err.h"

/* The live host's own addresses (getifaddrs), loopback interfaces left out. */
int xg_host_own_addresses(struct xg_prefix_list *out, struct xg_err *err);

/* Copy the dynamic sets' elements of a `nft -j list table bridge xenguard` listing
 * (NULL: none) into the same sets of `rs`'s guests' table. Elements the listing holds
 * that the IR cannot hold (a malformed one) are an error naming them. */
int xg_guests_carry_json(struct xg_ruleset *rs, const char *listing, struct xg_err *err);

/* The running table's dynamic elements (xg_guests_carry_json on the live listing). The
 * hook for keeping declared guests across a reload: `xenguard vif` may also re-read
 * them from xenstore here. */
int xg_guests_carry(struct xg_ruleset *rs, struct xg_err *err);

/* Both of the above, when `rs` has a guests' table. */
int xg_guests_prepare(struct xg_ruleset *rs, struct xg_err *err);

#endif
