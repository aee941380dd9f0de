/*
 * status.h — `xenguard status`'s comparison: the running firewall against the
 * policy's, gathered into one struct xg_status that the verb prints as text
 * or JSON (src/cmd/status.c).
 *
 * nft: the running `table inet xenguard` and `table bridge xenguard` against
 * the candidate as the kernel stores it (loaded into a scratch namespace),
 * in normalized `nft -j` form, object by object (the vif_* elements that
 * `xenguard vif` adds at run time left out); with a policy, table inet is
 * judged by the analyzer's reachability instead. iptables: iptables-save
 * and ip6tables-save, judged by the analyzer against the policy.
 */
#ifndef XG_APPLY_STATUS_H
#define XG_APPLY_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "analyze/analyze.h"
#include "apply/apply.h"
#include "apply/source.h"
#include "util/err.h"

/* One of xenguard's nft tables, running against wanted (normalized listings). */
struct xg_status_table {
    const char *name;             /* "table inet xenguard" */
    bool checked;                 /* compared at all */
    bool running, wanted;         /* present on each side */
    json_t *run_only, *want_only; /* objects on one side only */
};

struct xg_status {
    const char *backend;    /* "nft" or "iptables" */
    const char *comparison; /* "reachability" or "listing" */
    const char *source;
    bool pending;
    struct xg_pending p;
    struct xg_status_table inet, bridge;
    bool reach;             /* the analyzer compared table inet (or iptables) with the policy */
    struct xg_reach_diff d; /* its differences */
    struct xg_diff_question qs[256];
    size_t nq;
    bool ipt_hooked[2]; /* iptables: INPUT jumps to XENGUARD-INPUT (IPv4, IPv6) */
};

/* An address set whose elements differ: what each side holds beyond the other. */
struct xg_set_change {
    const char *name;
    struct xg_prefix_list run_extra, want_extra;
};

/* Gather the comparison for `src` (a policy or a ruleset file) into r, which
 * the caller zeroes first and frees with xg_status_free() either way. */
int xg_status_gather(struct xg_source *src, bool iptables, struct xg_status *r, struct xg_err *err);
void xg_status_free(struct xg_status *r);

/* Does the running firewall differ from the policy's (either table, or reachability)? */
bool xg_status_drift(const struct xg_status *r);
bool xg_status_table_differs(const struct xg_status_table *t);

/* The address sets in both run_only and want_only (changed elements), at most
 * `max`, as prefix lists: printed the way the analyzer prints sets. */
size_t xg_status_set_changes(const struct xg_status_table *t, struct xg_set_change *out,
                             size_t max);
void xg_status_set_changes_free(struct xg_set_change *c, size_t n);
/* Is object `o` (an nft -j object) one of those sets? */
bool xg_status_is_changed_set(json_t *o, const struct xg_set_change *c, size_t n);

#endif
