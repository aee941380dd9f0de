/*
 * compile.h — policy -> IR: the firewall a policy asks for.
 *
 * xg_compile() is a pure function: struct xg_policy in, `table inet
 * xenguard` (Dom0's own firewall, compile.c) and, unless [guests] protect =
 * no, `table bridge xenguard` (the guests' ports, guests.c) in one
 * xg_ruleset out. Everything the firewall does is decided here (which
 * chains, which sets, in which order); the backends only spell it.
 */
#ifndef XG_COMPILE_COMPILE_H
#define XG_COMPILE_COMPILE_H

#include "ir/ir.h"
#include "policy/policy.h"
#include "util/err.h"

int xg_compile(const struct xg_policy *policy, struct xg_ruleset *out, struct xg_err *err);

/* Append `table bridge xenguard` to `out` (nothing when guest protection is off). */
int xg_compile_guests(const struct xg_policy *policy, struct xg_ruleset *out, struct xg_err *err);

/* The guests' table of a ruleset, or NULL. */
struct xg_table *xg_guests_table(const struct xg_ruleset *rs);

/* Add addresses no guest may claim (apply: the live host's own) to protected4/6; -1 on OOM. */
int xg_guests_protect_more(struct xg_ruleset *rs, const struct xg_prefix_list *addrs);

#endif
