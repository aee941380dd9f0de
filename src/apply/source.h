/*
 * source.h — where the ruleset to apply comes from.
 *
 * Either the policy (compiled: policy -> IR -> nft text, the IR kept for
 * the lockout guard) or a ruleset file written by hand or by `xenguard
 * firewall`. A file is read once into memory; its commands are checked to
 * name only table inet xenguard / bridge xenguard (nftcmds.h: no `flush
 * ruleset`, no other table, no include), and the checked bytes go into a
 * sealed memfd. What nft loads is `table inet xenguard {}` + `delete table
 * inet xenguard` + `include "/proc/self/fd/N"` (that memfd), so the file
 * replaces our table as a whole, nft's errors name the file and its line,
 * and the text loaded into the scratch namespace (which proves the kernel
 * accepts it and that it creates nothing else) and then into the host is
 * the text that was checked: the file is never read again.
 */
#ifndef XG_APPLY_SOURCE_H
#define XG_APPLY_SOURCE_H

#include <stdbool.h>

#include "apply/nft.h"
#include "ir/ir.h"
#include "policy/policy.h"
#include "util/buf.h"
#include "util/err.h"

struct xg_source {
    char name[512];       /* for messages */
    struct xg_buf nft;    /* commands replacing table inet xenguard */
    bool have_ir;         /* compiled from a policy: `ir` is set */
    struct xg_ruleset ir; /* the compiled ruleset */
    struct xg_policy policy;
    bool have_policy;
    char *scratch_json;    /* kernel listing from the scratch check (file sources) */
    char *scratch_text;    /* the same tables as stateless `nft list` text (apply --diff) */
    int ruleset_fd;        /* file sources: sealed memfd with the checked bytes (else 0 / -1) */
    struct xg_buf applied; /* file sources: those bytes, for applied.nft */
    struct xg_buf bridge;  /* after xg_source_prepare_guests(): table bridge xenguard alone
                              (or its removal), for the iptables backend */
};

/* Compile `policy_path`; warnings are appended to `warnings`. */
int xg_source_from_policy(struct xg_source *s, const char *policy_path,
                          struct xg_warnings *warnings, struct xg_err *err);

/* Before loading a compiled policy: the live host's addresses and the running table's
 * declared guests join the guests' table (apply/guests.h), and `nft` is written again; with
 * [guests] protect = no, a running table bridge xenguard is deleted in the same text. `bridge`
 * gets the guests' part alone. */
int xg_source_prepare_guests(struct xg_source *s, struct xg_err *err);

/* Wrap and scratch-check an nft ruleset file. */
int xg_source_from_file(struct xg_source *s, const char *path, struct xg_err *err);

/* The kernel's listing of the candidate (scratch namespace), computed once. */
int xg_source_listing(struct xg_source *s, const char **json, struct xg_err *err);

/* The same load's tables (xg_source_tables: inet, then bridge xenguard) as stateless
 * `nft list table` text, the form xg_nft_list_stateless() gives of the running ones. */
int xg_source_text(struct xg_source *s, const char **text, struct xg_err *err);
extern const struct xg_nft_tref xg_source_tables[];

/* The most a --ruleset input may hold. */
#define XG_RULESET_MAX (64u << 20)

void xg_source_free(struct xg_source *s);

#endif
