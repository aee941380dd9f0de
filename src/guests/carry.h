/*
 * carry.h — a reload keeps the running guests' declarations.
 *
 * `xenguard apply` replaces `table bridge xenguard` as a whole, and with it
 * the dynamic sets that `xenguard vif online` filled. Before the new table
 * is rendered, apply carries the running table's elements (apply/guests.c)
 * and then, for guests the running table does not hold (the table was not
 * loaded when they started, or it was loaded with protect = no), the `ip`
 * and `mac` that the toolstack wrote to xenstore for each vif backend
 * (/local/domain/0/backend/vif/DOMID/DEVID, port vifDOMID.DEVID): the new
 * table starts with every running guest declared.
 *
 * Every value is validated as `xenguard vif online` validates it (vif.h);
 * what fails is left out with a warning, never loaded.
 */
#ifndef XG_GUESTS_CARRY_H
#define XG_GUESTS_CARRY_H

#include "guests/vif.h"
#include "ir/ir.h"
#include "util/err.h"

/* xenstore's view: one declaration per vif backend that has both `ip` and `mac`
 * (ports vifDOMID.DEVID). Returns 0 with an empty list when there is no
 * xenstore (no xenstore-list program, or it fails: not a running Dom0). */
int xg_vif_from_xenstore(struct xg_vif_list *out, struct xg_warnings *warnings, struct xg_err *err);

/* Parse xenstore's answers (pure, for tests): `domids` is `xenstore-list
 * .../backend/vif` output; read(dir, key) returns the value (malloc'd) or NULL. */
struct xg_xs_reader {
    /* `xenstore-list PATH` output (malloc'd), NULL when absent */
    char *(*list)(void *ctx, const char *path);
    /* `xenstore-read PATH` value (malloc'd, without the newline), NULL when absent */
    char *(*read)(void *ctx, const char *path);
    void *ctx;
};
int xg_vif_from_xs(const struct xg_xs_reader *xs, const struct xg_vif_ports *ports,
                   struct xg_vif_list *out, struct xg_warnings *warnings, struct xg_err *err);

/* Fill the dynamic vif_* sets of the compiled `table bridge xenguard` in `rs`
 * with `running`: ports the IR's vif_declared already holds (carried from the
 * running table) are left as they are; entries that fail validation are
 * skipped with a warning. 0 when rs has no bridge table or it has no such sets. */
int xg_vif_carry(struct xg_ruleset *rs, const struct xg_vif_list *running,
                 const struct xg_vif_ports *ports, struct xg_warnings *warnings,
                 struct xg_err *err);

/* The running table's elements as they are (xg_vif_parse_listing's list): each
 * port's pairs into the same dynamic sets of `rs`, vif_declared only for the
 * ports it held; no validation and nothing skipped (the kernel held them, and
 * losing one would cut that guest off after a reload). 0 when rs has no such
 * sets. */
int xg_vif_carry_listed(struct xg_ruleset *rs, const struct xg_vif_list *listed,
                        struct xg_err *err);

/* xg_vif_from_xenstore() then xg_vif_carry(): the hook in apply/guests.c,
 * after the running table's elements are carried. */
int xg_vif_carry_xenstore(struct xg_ruleset *rs, struct xg_warnings *warnings, struct xg_err *err);

#endif
