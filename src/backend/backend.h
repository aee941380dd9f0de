/*
 * backend.h — IR -> ruleset text for the tools that load it.
 *
 * nft: one `table inet xenguard` for `nft -f`, replaced as a whole (the
 * text adds the table, deletes it and declares it again, in one
 * transaction); other tables are never touched.
 * iptables: `iptables-restore --noflush` / `ip6tables-restore --noflush`
 * input: xenguard's own chains (XENGUARD-*), hooked from the built-in
 * chains; one family per call (4 or 6).
 * Both append to `out` and fail only on IR they cannot express.
 */
#ifndef XG_BACKEND_BACKEND_H
#define XG_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/ir.h"
#include "util/buf.h"
#include "util/err.h"

int xg_backend_nft(const struct xg_ruleset *rs, struct xg_buf *out, struct xg_err *err);
int xg_backend_iptables(const struct xg_ruleset *rs, uint8_t family, struct xg_buf *out,
                        struct xg_err *err);
/* hook = false leaves out the jumps from the built-in chains (for reloads). */
int xg_backend_iptables_ex(const struct xg_ruleset *rs, uint8_t family, bool hook,
                           struct xg_buf *out, struct xg_err *err);

/* One rule as it reads inside its chain in `nft -f` text (no indentation, no newline): the
 * guard and the analyzer name a rule by its text when it has no file:line. */
int xg_backend_nft_rule(const struct xg_table *t, const struct xg_rule *r, struct xg_buf *out,
                        struct xg_err *err);

#endif
