/*
 * compile.h — policy -> IR: the firewall a policy asks for.
 *
 * xg_compile() is a pure function: struct xg_policy in, one `table inet
 * xenguard` in an xg_ruleset out. Everything the firewall does is decided
 * here (which chains, which sets, in which order); the backends only spell
 * it. See compile.c for the shape of the generated ruleset.
 */
#ifndef XG_COMPILE_COMPILE_H
#define XG_COMPILE_COMPILE_H

#include "ir/ir.h"
#include "policy/policy.h"
#include "util/err.h"

int xg_compile(const struct xg_policy *policy, struct xg_ruleset *out, struct xg_err *err);

#endif
