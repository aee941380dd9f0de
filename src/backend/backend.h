/*
 * backend.h — IR -> ruleset text for the tools that load it.
 *
 * nft: `table inet xenguard` (and `table bridge xenguard`, the guests') for
 * `nft -f`, each replaced as a whole (the text adds the table, deletes it
 * and declares it again, all in one transaction); other tables are never
 * touched.
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

/* Element i of a set as nft writes it inside `elements = { }` / `add element ... { }`:
 * `"vif1.0" . 192.0.2.5`. nd: as the set's ND-target companion NAME_nd spells it (an IPv6
 * address as a 128-bit integer; see nft.c). -1 when i is out of range or memory ran out. */
int xg_backend_nft_element(const struct xg_set *s, size_t i, bool nd, struct xg_buf *out);

#endif
