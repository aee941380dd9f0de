/*
 * diff.h — what `xenguard apply --diff` shows: the rules, as a unified-style
 * diff of two stateless `nft list table` texts, and the reachability, as the
 * analyzer's diff of the two rulesets (the questions `xenguard analyze
 * --diff` asks).
 */
#ifndef XG_APPLY_DIFF_H
#define XG_APPLY_DIFF_H

#include "analyze/analyze.h"
#include "util/buf.h"

/* `a` to `b`, line by line, appended to `out` as a unified diff ("--- name_a", "+++ name_b",
 * "@@ -l,n +l,n @@" hunks with 3 lines of context). Returns the number of lines removed plus
 * added (0: equal texts, nothing appended), or -1 when out of memory. */
long xg_text_diff(const char *a, const char *b, const char *name_a, const char *name_b,
                  struct xg_buf *out);

/* The reachability diff, with the interface classes its labels point into. */
struct xg_preview_reach {
    struct xg_reach_diff d;
    struct xg_ifclass *ifs;
    size_t nifs;
};

/* Every interface class of either ruleset (and "any other") x IPv4/IPv6 x tcp/udp x every
 * destination port class of either, on the input path, adjacent port classes that changed
 * alike merged: what `xenguard analyze --diff OLD NEW` asks. */
int xg_preview_reach(const struct xg_ruleset *old, const struct xg_ruleset *new,
                     struct xg_preview_reach *out, struct xg_err *err);
void xg_preview_reach_free(struct xg_preview_reach *p);

#endif
