/*
 * rootfs.h — reading files under a root directory, and nothing outside it.
 *
 * `--root DIR` audits a captured or mounted root. Every path is resolved
 * with openat2(RESOLVE_IN_ROOT): an absolute symlink inside the root
 * (/etc/xen/auto/vm.cfg -> /etc/xen/vm.cfg) resolves inside the root, and
 * ".." cannot climb out, so the live host behind a captured root is never
 * read. The live host is simply the root "/". Commands (iptables-save,
 * xl ...) run only for the live host.
 */
#ifndef XG_PROBE_ROOTFS_H
#define XG_PROBE_ROOTFS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "util/err.h"

struct xg_rootfs {
    int fd;
    bool live;
    char path[4096];
};

int xg_rootfs_open(struct xg_rootfs *r, const char *path, struct xg_err *err);
void xg_rootfs_close(struct xg_rootfs *r);

/* Open REL (absolute inside the root) with flags; -1 and errno on failure. */
int xg_rootfs_openat(const struct xg_rootfs *r, const char *rel, int flags);
/* Whole file, NUL-terminated; NULL with errno when it cannot be read
 * (EINVAL: not a regular file; it was never opened for reading). */
char *xg_rootfs_read(const struct xg_rootfs *r, const char *rel, size_t *len);
DIR *xg_rootfs_opendir(const struct xg_rootfs *r, const char *rel);
/* stat, following symlinks inside the root; lstat_ when nofollow. */
int xg_rootfs_stat(const struct xg_rootfs *r, const char *rel, struct stat *st, bool nofollow);
/* Target of the symlink REL; -1 on failure. */
ssize_t xg_rootfs_readlink(const struct xg_rootfs *r, const char *rel, char *buf, size_t size);
bool xg_rootfs_exists(const struct xg_rootfs *r, const char *rel);

/* Sorted names of a directory (no "." / ".."); 0 or -1 when it cannot be opened. */
int xg_rootfs_list(const struct xg_rootfs *r, const char *rel, char ***names, size_t *count);
void xg_strv_free(char **v, size_t n);

/*
 * Run argv through the process runner (util/proc.h: a bare name is looked
 * up in its fixed PATH, never the caller's) with stdin on /dev/null and
 * return its stdout, or NULL when it cannot run, exits non-zero or takes
 * more than five seconds (then it is killed: a hung `xl` must not hang the
 * audit).
 */
char *xg_run_capture(char *const argv[], size_t *len);

#endif
