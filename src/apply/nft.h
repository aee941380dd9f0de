/*
 * nft.h — talking to the kernel's nftables through libnftables.
 *
 * Every change apply makes is one nft_run_cmd_from_buffer() call, i.e. one
 * netlink batch: the kernel takes all of it or none of it, so a rejected
 * ruleset leaves the running one untouched. Errors are captured from
 * libnftables' error buffer and reduced to one line that names the input
 * and its line ("FILE:LINE:COL: Error: ...: `offending text`").
 *
 * Only `table inet xenguard` and the guests' `table bridge xenguard` are
 * ever read or written here; other tables (Docker, libvirt, Xen's vif
 * rules) are not looked at.
 */
#ifndef XG_APPLY_NFT_H
#define XG_APPLY_NFT_H

#include <stdbool.h>

#include "ir/names.h" /* XG_NFT_FAMILY, XG_NFT_TABLE */
#include "util/err.h"

/* Run `cmds` (nft syntax, or nft JSON when `json`) in one transaction. `name`
 * replaces libnftables' "<cmdline>" and an included "/proc/self/fd/N" (a
 * ruleset file's checked copy, see source.h) in error messages. If `out` is non-NULL
 * it receives what nft printed (malloc'd). */
int xg_nft_run(const char *cmds, bool json, const char *name, char **out, struct xg_err *err);

/* The running `table inet xenguard` as `nft -j list table` JSON (malloc'd),
 * or *out = NULL when there is no such table. */
int xg_nft_table_json(char **out, struct xg_err *err);

/* Put back a table saved by xg_nft_table_json() (NULL: no table) in one
 * transaction: add, delete, recreate; nothing else changes. */
int xg_nft_restore(const char *saved_json, struct xg_err *err);

/* The same table as `nft list table` text ("" when absent). nft 1.0.6's JSON
 * input drops set comments, so restores prefer this form. */
int xg_nft_table_text(char **out, struct xg_err *err);

/* Put back a table saved by xg_nft_table_text() ("" = no table), one transaction. */
int xg_nft_restore_text(const char *saved_text, struct xg_err *err);

/* Which of xenguard's tables a text snapshot covers. */
enum { XG_NFT_INET_TABLE = 1u << 0, XG_NFT_BRIDGE_TABLE = 1u << 1 };

/* The `nft list table` text of the chosen tables, concatenated ("" when none exists). A kernel
 * without the bridge family counts as having no bridge table. */
int xg_nft_tables_text(unsigned tables, char **out, struct xg_err *err);

/* Replace the chosen tables with what a xg_nft_tables_text() snapshot holds (a table missing
 * from it ends up absent), in one transaction. */
int xg_nft_restore_tables_text(const char *saved_text, unsigned tables, struct xg_err *err);

/* The running `table bridge xenguard` as `nft -j list table` JSON, or NULL when absent. */
int xg_nft_bridge_json(char **out, struct xg_err *err);

/* A table by family and name ({"inet", "xenguard"}); lists of them end with {NULL}. */
struct xg_nft_tref {
    const char *family;
    const char *name;
};

/* `list table` of each of `tables`, in their order, as stateless text (no counter values or
 * handles: the form apply --diff compares), concatenated; an absent table adds nothing. */
int xg_nft_list_stateless(const struct xg_nft_tref *tables, char **out, struct xg_err *err);

/* The same as xg_nft_normalize for table `family` xenguard; drop_dynamic leaves out the
 * elements of the vif_* sets (`xenguard vif` fills them at run time). */
int xg_nft_normalize_table(const char *json, const char *family, bool drop_dynamic, char **out,
                           struct xg_err *err);

/* Canonical text of a ruleset listing restricted to table inet xenguard:
 * no metainfo, handles or counter values, keys sorted. Two listings of the
 * same rules give the same text. */
int xg_nft_normalize(const char *json, char **out, struct xg_err *err);

/*
 * Load `cmds` into a new, empty network namespace (a forked child that
 * unshares its netns; the host's ruleset is not touched) and return the
 * kernel's `list ruleset` JSON of it. This is how a ruleset file is checked
 * before it goes near the real kernel: syntax, kernel acceptance, and that
 * it creates nothing but table inet xenguard (or bridge xenguard). What it
 * would delete or flush elsewhere an empty namespace cannot show: the
 * text is checked first for that (nftcmds.h). Needs CAP_SYS_ADMIN.
 */
int xg_nft_scratch(const char *cmds, const char *name, char **json_out, struct xg_err *err);

/* Does the listing hold anything but table inet / bridge xenguard? -1 naming the first
 * intruder. */
int xg_nft_only_ours(const char *json, const char *name, struct xg_err *err);

/* The scratch load without the only-xenguard's-tables check (the caller's text is its own,
 * e.g. the perimeter's table), also returning xg_nft_list_stateless(tables) of the scratch
 * namespace in *text_out (tables NULL: none; text_out may be NULL). */
int xg_nft_scratch_text(const char *cmds, const char *name, const struct xg_nft_tref *tables,
                        char **json_out, char **text_out, struct xg_err *err);

#endif
