/*
 * statedir.h — apply's state directory, trusted only after it is checked.
 *
 * Root loads previous.nft from here and signals the pid in `pending`, so
 * whoever can write the directory (or any directory above it) could have
 * root load their ruleset or redirect root's writes through a symlink. The
 * rule, checked on every open: every component of the path, from / down to
 * the state directory itself, is a real directory (no symlink), owned by
 * root and not writable by group or others (so a sticky, world-writable
 * /tmp is refused too). The walk holds an fd per component (openat with
 * O_NOFOLLOW), so what was checked is what is used: every file in it is
 * then opened relative to the directory's fd with O_NOFOLLOW, and must be a
 * regular file owned by root before it is read.
 */
#ifndef XG_APPLY_STATEDIR_H
#define XG_APPLY_STATEDIR_H

#include <limits.h>
#include <stdbool.h>

#include "util/err.h"

struct xg_statedir {
    char path[PATH_MAX - 128]; /* normalised absolute path, for messages and the watchdog */
    int fd;                    /* the directory (O_RDONLY | O_DIRECTORY) */
    int lock_fd;               /* `lock`, flock(LOCK_EX) held while open */
};

/* Check `path` (creating missing components 0700 when `create`), then take
 * the lock. Returns 0, 1 when !create and the directory does not exist
 * (nothing was ever applied), -1 with err. Close with xg_statedir_close()
 * in every case. */
int xg_statedir_open(struct xg_statedir *sd, const char *path, bool create, struct xg_err *err);
void xg_statedir_close(struct xg_statedir *sd);

/* The file NAME: *out NULL (and 0) when it does not exist; -1 when it is a
 * symlink, not regular, or not owned by root. */
int xg_statedir_read(const struct xg_statedir *sd, const char *name, char **out,
                     struct xg_err *err);

/* Replace NAME atomically (temp file, fsync, renameat, fsync of the dir), mode 0600. */
int xg_statedir_write(const struct xg_statedir *sd, const char *name, const char *text,
                      struct xg_err *err);

/* Append a line to NAME (created 0600; a symlink or foreign file is refused). */
int xg_statedir_append(const struct xg_statedir *sd, const char *name, const char *line,
                       struct xg_err *err);

void xg_statedir_remove(const struct xg_statedir *sd, const char *name);
bool xg_statedir_has(const struct xg_statedir *sd, const char *name);

#endif
