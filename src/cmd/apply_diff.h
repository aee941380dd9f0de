/*
 * apply_diff.h — `xenguard apply --diff` (apply_diff.c), called by apply.c.
 */
#ifndef XG_CMD_APPLY_DIFF_H
#define XG_CMD_APPLY_DIFF_H

#include <stdbool.h>

#include "apply/apply.h"
#include "apply/source.h"

/* Show what loading `src` would change; load nothing, write no state. 0 nothing would
 * change, 1 something would, 2 error (message printed). quiet: the changes and the
 * summary line only. */
int apply_preview(struct xg_source *src, enum xg_backend_kind backend, bool perimeter_only,
                  bool quiet);

#endif
