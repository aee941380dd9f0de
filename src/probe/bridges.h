/*
 * bridges.h — bridge membership and the declared guest ports, for the model
 * (see bridges.c for the one text form both a live host and a capture use).
 */
#ifndef XG_PROBE_BRIDGES_H
#define XG_PROBE_BRIDGES_H

#include "model/host.h"
#include "probe/rootfs.h"
#include "util/err.h"

/* Where a capture keeps the bridges (inside XG_CAPTURE_DIR). */
#define XG_CAPTURE_BRIDGES "bridges.txt"

/* "BRIDGE PORT...\n" per bridge under REL/sys/class/net of the root (the live
 * host's /sys); NULL when /sys/class/net cannot be listed. */
char *xg_bridges_text(const struct xg_rootfs *r);

/* Parse that text (`name` for messages). -1 and err (NAME:LINE) on a bad name. */
int xg_bridges_parse(const char *text, const char *name, struct xg_bridge **out, size_t *count,
                     struct xg_err *err);

/* Fill h->bridges (live: /sys; a capture: `captured`, a path in the root) and
 * h->guests_table_present / h->vif_declared from the nft listing (may be NULL). */
void xg_probe_bridges(const struct xg_rootfs *r, struct xg_host *h, const char *captured,
                      const char *nft_json);

#endif
