/*
 * perimeter.h — policy -> IR: the cluster router's forward-path firewall.
 *
 * xg_compile_perimeter() is pure like xg_compile(): a policy with a
 * [perimeter] section in, one `table inet xenguard-perimeter` out (its
 * iptables form: chains XENGUARD-PERIMETER-*). See perimeter.c for its shape.
 */
#ifndef XG_COMPILE_PERIMETER_H
#define XG_COMPILE_PERIMETER_H

#include "ir/ir.h"
#include "policy/policy.h"
#include "util/err.h"

int xg_compile_perimeter(const struct xg_policy *policy, struct xg_ruleset *out,
                         struct xg_err *err);

/* The special-purpose source ranges that never come from outside (RFC 6890 entries that are
 * not forwardable or not valid sources, plus multicast), both families, as a prefix list. */
int xg_perimeter_special_sources(struct xg_prefix_list *out);

#endif
