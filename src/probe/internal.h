/*
 * internal.h — the readers the probe files share (probe.c, versions.c,
 * sockopt.c, xapidb.c), so every probe records an unreadable file the same
 * way. Not for code outside src/probe/.
 */
#ifndef XG_PROBE_INTERNAL_H
#define XG_PROBE_INTERNAL_H

#include <stddef.h>

#include "model/host.h"
#include "probe/rootfs.h"

/* xg_rootfs_read; a file that exists and cannot be read is recorded in
 * h->unreadable (errno kept: EINVAL for a non-regular file). */
char *xg_probe_read_ev(const struct xg_rootfs *r, struct xg_host *h, const char *rel, size_t *len);
/* xg_probe_read_ev for a file a whole section rests on: one that is not a
 * regular file (a FIFO, a device node in an untrusted root) is also that
 * section's error. */
char *xg_probe_read_section(const struct xg_rootfs *r, const char *rel, size_t *len,
                            struct xg_host *h, enum xg_section sec);
/* xg_rootfs_list; a directory that exists and cannot be listed is recorded. */
int xg_probe_list_ev(const struct xg_rootfs *r, struct xg_host *h, const char *rel, char ***names,
                     size_t *n);
/* A small file, trimmed; NULL when absent. */
char *xg_probe_read_trim(const struct xg_rootfs *r, const char *rel);
/* The first error of a section (later ones are dropped). */
void xg_probe_set_error(struct xg_host *h, enum xg_section sec, const char *msg);

/* Live: run argv; captured root: read XG_CAPTURE_DIR/captured. */
char *xg_probe_evidence(const struct xg_rootfs *r, const char *captured, char *const argv[]);

/* The probes that live in their own files. */
void xg_probe_versions(const struct xg_rootfs *r, struct xg_host *h);
void xg_probe_v6only(const struct xg_rootfs *r, struct xg_host *h);
void xg_probe_sshd(const struct xg_rootfs *r, struct xg_host *h);
void xg_probe_xapi_db(const struct xg_rootfs *r, struct xg_host *h);

#endif
