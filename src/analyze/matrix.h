/*
 * matrix.h — between the service matrix (matrix.c) and its interface
 * assumptions (matrix_bind.c). Internal to src/analyze/.
 */
#ifndef XG_ANALYZE_MATRIX_H
#define XG_ANALYZE_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/analyze.h"

/* The analysis to evaluate `family` on: the ruleset as it is, or (bound, with a map) rewritten
 * so that interface matches are source matches over the map's regions. Owned by `cx`. */
struct xg_analysis *xg_matrix_analysis(struct xg_matrix_ctx *cx, uint8_t family, bool bound,
                                       struct xg_err *err);
const struct xg_ifmap *xg_matrix_map(const struct xg_matrix_ctx *cx);
const struct xg_ruleset *xg_matrix_ruleset(const struct xg_matrix_ctx *cx);
/* Every prefix of the map (xg_ifmap_all_prefixes()): cut points of the analyses. */
const struct xg_prefix_list *xg_matrix_extra(const struct xg_matrix_ctx *cx);

/* The name of class i: "A".."Z", "AA", ... (classes.c). */
void xg_class_name(size_t i, char out[8]);

#endif
