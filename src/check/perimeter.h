/*
 * perimeter.h — XG-PER-001 / XG-PER-002: the cluster router's ruleset against
 * the chapter's two perimeter requirements (analyze/perimeter.h asks them).
 *
 * The router is another machine: its ruleset is not in the host model, so the
 * audit reads it from `--perimeter-ruleset FILE` (cmd/audit.c) and hands it
 * here; without it the two checks are n/a (their table rows say why).
 */
#ifndef XG_CHECK_PERIMETER_H
#define XG_CHECK_PERIMETER_H

#include "check/check.h"
#include "ir/ir.h"

extern const struct xg_check_def xg_checks_perimeter[];
extern const size_t xg_checks_perimeter_count;

/* Is this one of the perimeter checks (answered by xg_check_perimeter)? */
bool xg_check_is_perimeter(const struct xg_check_def *def);

/* Fill r for `def` from the router's ruleset `rs` (NULL: it could not be read; `why` says
 * why), read from `name`. */
void xg_check_perimeter(const struct xg_check_def *def, const struct xg_ruleset *rs,
                        const char *name, const char *why, const struct xg_policy *p,
                        struct xg_result *r);

#endif
