/*
 * statedir.c — the checked walk to apply's state directory and the file
 * operations relative to it (see statedir.h).
 *
 * The walk starts at / and opens one component at a time with
 * O_PATH | O_NOFOLLOW, so a symlink planted anywhere on the way is seen as
 * a symlink (and refused) instead of followed, and each component is
 * judged by fstat of the very inode the next step opens from. A relative
 * path is taken relative to the working directory, spelled out first.
 */
#include "apply/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

#define WHY_OWNER                                                                                  \
    "the state directory and every directory above it must be owned by root and writable by "      \
    "root only"

/* Is this directory fit to hold root's state? */
static int judge_dir(const struct stat *st, const char *shown, struct xg_err *err)
{
    if (S_ISLNK(st->st_mode))
        return xg_fail(err, "%s: is a symbolic link (give the real path); " WHY_OWNER, shown);
    if (!S_ISDIR(st->st_mode))
        return xg_fail(err, "%s: not a directory", shown);
    if (st->st_uid != 0)
        return xg_fail(err, "%s: owned by uid %u; " WHY_OWNER, shown, (unsigned)st->st_uid);
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return xg_fail(err, "%s: writable by %s (mode %04o); " WHY_OWNER, shown,
                       st->st_mode & S_IWOTH ? "others" : "its group",
                       (unsigned)(st->st_mode & 07777));
    return 0;
}

/* One step of the walk: open `comp` below `parent` without following a
 * symlink, mkdir it first when asked. -1 with err, 1 when absent and !create. */
static int step(int parent, const char *comp, const char *shown, bool create, int *out,
                struct xg_err *err)
{
    struct stat st;
    int fd = openat(parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(parent, comp, 0700) < 0 && errno != EEXIST)
            return xg_fail(err, "%s: %s", shown, strerror(errno));
        fd = openat(parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0)
        return xg_fail(err, "%s: %s", shown, strerror(errno));
    if (fstat(fd, &st) < 0 || judge_dir(&st, shown, err) < 0) {
        if (!err->msg[0])
            xg_fail(err, "%s: %s", shown, strerror(errno));
        close(fd);
        return -1;
    }
    *out = fd;
    return 0;
}

/* Walk `abs` from /, checking every component. On 0, *dir_fd is the last one
 * (O_PATH) and sd->path the normalised path. */
static int walk(struct xg_statedir *sd, const char *abs, bool create, int *dir_fd,
                struct xg_err *err)
{
    char copy[PATH_MAX], *save = NULL;
    struct stat st;
    size_t used = 0;
    if (snprintf(copy, sizeof(copy), "%s", abs) >= (int)sizeof(copy))
        return xg_fail(err, "%s: path too long", abs);
    int cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0 || fstat(cur, &st) < 0 || judge_dir(&st, "/", err) < 0) {
        if (cur >= 0)
            close(cur);
        return err->msg[0] ? -1 : xg_fail(err, "/: %s", strerror(errno));
    }
    sd->path[0] = '\0';
    for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        if (!strcmp(comp, "."))
            continue;
        if (!strcmp(comp, "..")) {
            close(cur);
            return xg_fail(err, "%s: '..' is not allowed in the state directory's path", abs);
        }
        int n = snprintf(sd->path + used, sizeof(sd->path) - used, "/%s", comp);
        if (n < 0 || (size_t)n >= sizeof(sd->path) - used) {
            close(cur);
            return xg_fail(err, "%s: path too long", abs);
        }
        used += (size_t)n;
        int next = -1, rc = step(cur, comp, sd->path, create, &next, err);
        close(cur);
        if (rc != 0)
            return rc;
        cur = next;
    }
    if (!used)
        snprintf(sd->path, sizeof(sd->path), "/");
    *dir_fd = cur;
    return 0;
}

int xg_statedir_open(struct xg_statedir *sd, const char *path, bool create, struct xg_err *err)
{
    char abs[PATH_MAX], cwd[PATH_MAX];
    struct stat st;
    sd->fd = sd->lock_fd = -1;
    sd->path[0] = '\0';
    err->msg[0] = '\0';
    if (path[0] == '/')
        snprintf(abs, sizeof(abs), "%s", path);
    else if (!getcwd(cwd, sizeof(cwd)) ||
             snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= (int)sizeof(abs))
        return xg_fail(err, "%s: cannot make the path absolute", path);
    int pfd = -1, rc = walk(sd, abs, create, &pfd, err);
    if (rc != 0)
        return rc;
    sd->fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(pfd);
    if (sd->fd < 0)
        return xg_fail(err, "%s: %s", sd->path, strerror(errno));
    sd->lock_fd =
        openat(sd->fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (sd->lock_fd < 0)
        return xg_fail(err, "%s/lock: %s%s", sd->path, strerror(errno),
                       errno == ELOOP ? " (a symbolic link: refused)" : "");
    if (fstat(sd->lock_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
        return xg_fail(err, "%s/lock: not a regular file owned by root", sd->path);
    while (flock(sd->lock_fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return xg_fail(err, "%s/lock: flock: %s", sd->path, strerror(errno));
    return 0;
}

void xg_statedir_close(struct xg_statedir *sd)
{
    if (sd->lock_fd >= 0)
        close(sd->lock_fd);
    if (sd->fd >= 0)
        close(sd->fd);
    sd->fd = sd->lock_fd = -1;
}

/* Open NAME for reading: absent -> 1; symlink, not regular, not root's -> -1. */
static int open_trusted(const struct xg_statedir *sd, const char *name, int *out,
                        struct xg_err *err)
{
    struct stat st;
    int pfd = openat(sd->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0 && errno == ENOENT)
        return 1;
    if (pfd < 0)
        return xg_fail(err, "%s/%s: %s", sd->path, name, strerror(errno));
    int fd = xg_file_reopen_regular(pfd, &st);
    int e = errno;
    close(pfd);
    if (fd < 0 && e == EINVAL)
        return xg_fail(err, "%s/%s: %s: refused", sd->path, name,
                       S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
    if (fd < 0)
        return xg_fail(err, "%s/%s: %s", sd->path, name, strerror(e));
    if (st.st_uid != 0) {
        close(fd);
        return xg_fail(err, "%s/%s: owned by uid %u, not root: refused", sd->path, name,
                       (unsigned)st.st_uid);
    }
    *out = fd;
    return 0;
}

int xg_statedir_read(const struct xg_statedir *sd, const char *name, char **out, struct xg_err *err)
{
    char shown[PATH_MAX + 64];
    int fd = -1, rc = open_trusted(sd, name, &fd, err);
    *out = NULL;
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    snprintf(shown, sizeof(shown), "%s/%s", sd->path, name);
    rc = xg_file_read_fd(fd, shown, out, NULL, err);
    close(fd);
    return rc;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int xg_statedir_write(const struct xg_statedir *sd, const char *name, const char *text,
                      struct xg_err *err)
{
    char tmp[128];
    unsigned char rnd[6];
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        if (getentropy(rnd, sizeof(rnd)) < 0)
            return xg_fail(err, "getentropy: %s", strerror(errno));
        snprintf(tmp, sizeof(tmp), ".%.64s.tmp.%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5]);
        fd = openat(sd->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return xg_fail(err, "%s/%s: cannot create a temporary file: %s", sd->path, name,
                       strerror(errno));
    if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlinkat(sd->fd, tmp, 0);
        return xg_fail(err, "%s/%s: %s", sd->path, name, strerror(e));
    }
    close(fd);
    if (renameat(sd->fd, tmp, sd->fd, name) < 0) {
        int e = errno;
        unlinkat(sd->fd, tmp, 0);
        return xg_fail(err, "%s/%s: rename: %s", sd->path, name, strerror(e));
    }
    fsync(sd->fd);
    return 0;
}

int xg_statedir_append(const struct xg_statedir *sd, const char *name, const char *line,
                       struct xg_err *err)
{
    struct stat st;
    int fd = openat(sd->fd, name,
                    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return xg_fail(err, "%s/%s: %s%s", sd->path, name, strerror(errno),
                       errno == ELOOP ? " (a symbolic link: refused)" : "");
    int rc = 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || st.st_nlink != 1)
        rc = xg_fail(err, "%s/%s: not a regular file owned by root with one link: refused",
                     sd->path, name);
    else if (write_all(fd, line, strlen(line)) < 0)
        rc = xg_fail(err, "%s/%s: %s", sd->path, name, strerror(errno));
    close(fd);
    return rc;
}

void xg_statedir_remove(const struct xg_statedir *sd, const char *name)
{
    unlinkat(sd->fd, name, 0);
}

bool xg_statedir_has(const struct xg_statedir *sd, const char *name)
{
    struct stat st;
    return fstatat(sd->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}
