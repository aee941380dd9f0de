/*
 * perimeter.h — apply's parts for the router's perimeter (`apply --perimeter`).
 *
 * The perimeter is its own ruleset: `table inet xenguard-perimeter` (nft) or
 * the XENGUARD-PERIMETER-* chains (iptables), saved, loaded, confirmed and
 * rolled back apart from the host firewall's table, through the same
 * sequence (apply.c): the state dir records which one a pending apply
 * touched, and names the perimeter's snapshots perimeter-previous.*,
 * perimeter-confirmed.*. Here: its source (policy -> IR -> nft text) and
 * the save / restore of its nft table.
 */
#ifndef XG_APPLY_PERIMETER_H
#define XG_APPLY_PERIMETER_H

#include "apply/source.h"
#include "util/err.h"

/* Compile the policy's [perimeter] (the IR kept for the lockout guard). */
int xg_source_from_perimeter(struct xg_source *s, const char *policy_path,
                             struct xg_warnings *warnings, struct xg_err *err);

/* `list table inet xenguard-perimeter` as text ("" when absent; malloc'd). */
int xg_per_nft_table_text(char **out, struct xg_err *err);

/* Put back a listing from xg_per_nft_table_text() ("" = no table), one transaction. */
int xg_per_nft_restore_text(const char *saved_text, struct xg_err *err);

#endif
