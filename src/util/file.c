/*
 * file.c — whole-file reads and atomic writes (see file.h).
 *
 * One reading loop (read_fd) serves files and stdin alike.
 */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int xg_file_reopen_regular(int path_fd, struct stat *st)
{
    struct stat got;
    if (fstat(path_fd, st) < 0)
        return -1;
    if (!S_ISREG(st->st_mode)) {
        errno = EINVAL;
        return -1;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
    int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    if (fstat(fd, &got) < 0 || got.st_dev != st->st_dev || got.st_ino != st->st_ino) {
        close(fd);
        errno = ESTALE;
        return -1;
    }
    return fd;
}

/* Everything `fd` holds, up to `max` bytes (0: no limit). `name` is for messages. */
static int read_fd(int fd, const char *name, size_t max, char **out, size_t *len,
                   struct xg_err *err)
{
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    *out = NULL;
    for (;;) {
        if (!buf)
            return xg_fail(err, "%s: out of memory", name);
        if (cap - used < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
            continue;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return xg_fail(err, "%s: %s", name, strerror(e));
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (max && used > max) {
            free(buf);
            if (max % (1u << 20) == 0)
                return xg_fail(err, "%s: larger than %zu MiB; is this the right file?", name,
                               max >> 20);
            return xg_fail(err, "%s: larger than %zu bytes; is this the right file?", name, max);
        }
    }
    buf[used] = '\0';
    *out = buf;
    if (len)
        *len = used;
    return 0;
}

static int read_path(const char *path, bool missing_ok, bool dash_is_stdin, size_t max, char **out,
                     size_t *len, struct xg_err *err)
{
    struct stat st;
    *out = NULL;
    if (len)
        *len = 0;
    if (dash_is_stdin && !strcmp(path, "-"))
        return read_fd(STDIN_FILENO, "<stdin>", max, out, len, err);
    if (dash_is_stdin) {
        /* A path the user names on the command line may be a pipe (<(...),
         * /dev/fd/N): they chose it. Files found on a host are opened only
         * when regular (below). */
        int ufd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (ufd < 0)
            return xg_fail(err, "%s: %s", path, strerror(errno));
        int urc = read_fd(ufd, path, max, out, len, err);
        close(ufd);
        return urc;
    }
    int pfd = open(path, O_PATH | O_CLOEXEC);
    if (pfd < 0) {
        if (errno == ENOENT && missing_ok)
            return 0;
        return xg_fail(err, "%s: %s", path, strerror(errno));
    }
    int fd = xg_file_reopen_regular(pfd, &st);
    int e = errno;
    close(pfd);
    if (fd < 0)
        return xg_fail(err, "%s: %s", path, e == EINVAL ? "not a regular file" : strerror(e));
    int rc = read_fd(fd, path, max, out, len, err);
    close(fd);
    return rc;
}

int xg_file_read(const char *path, bool missing_ok, char **out, size_t *len, struct xg_err *err)
{
    return read_path(path, missing_ok, false, 0, out, len, err);
}

int xg_file_read_input(const char *path, size_t max, char **out, size_t *len, struct xg_err *err)
{
    return read_path(path, false, true, max, out, len, err);
}

int xg_file_read_fd(int fd, const char *name, char **out, size_t *len, struct xg_err *err)
{
    return read_fd(fd, name, 0, out, len, err);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int xg_file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                         struct xg_err *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.xenguard-tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return xg_fail(err, "%s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return xg_fail(err, "%s: cannot create a temporary file: %s", path, strerror(errno));
    if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return xg_fail(err, "%s: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return xg_fail(err, "%s: rename: %s", path, strerror(e));
    }
    snprintf(dir, sizeof(dir), "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int xg_file_mkdirs(const char *path, mode_t mode, struct xg_err *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return xg_fail(err, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return xg_fail(err, "%s: %s", buf, strerror(errno));
            *p = saved;
            if (!saved)
                break;
        }
    }
    return 0;
}
