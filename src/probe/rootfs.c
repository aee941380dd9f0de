/*
 * rootfs.c — openat2(RESOLVE_IN_ROOT) file access and command capture
 * (see rootfs.h). Commands go through the process runner (util/proc.h).
 */
#include "probe/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/file.h"
#include "util/proc.h"
#include "util/strv.h"

/* How long one read-only command may take before the probe gives up on it. */
#define XG_RUN_TIMEOUT_MS 5000

int xg_rootfs_open(struct xg_rootfs *r, const char *path, struct xg_err *err)
{
    memset(r, 0, sizeof(*r));
    r->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r->fd < 0)
        return xg_fail(err, "%s: %s", path, strerror(errno));
    char real[4096];
    if (!realpath(path, real))
        snprintf(real, sizeof(real), "%s", path);
    r->live = !strcmp(real, "/");
    snprintf(r->path, sizeof(r->path), "%s", path);
    return 0;
}

void xg_rootfs_close(struct xg_rootfs *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

int xg_rootfs_openat(const struct xg_rootfs *r, const char *rel, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*rel == '/')
        rel++;
    if (!*rel)
        rel = ".";
    return (int)syscall(SYS_openat2, r->fd, rel, &how, sizeof(how));
}

char *xg_rootfs_read(const struct xg_rootfs *r, const char *rel, size_t *len)
{
    /* Nothing is opened for reading before it is known to be a regular file:
     * a FIFO would block the open, a device node would run its driver. */
    int pfd = xg_rootfs_openat(r, rel, O_PATH);
    if (pfd < 0)
        return NULL;
    struct stat st;
    int fd = xg_file_reopen_regular(pfd, &st);
    int e = errno;
    close(pfd);
    if (fd < 0) {
        errno = e;
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (ssize_t got; buf;) {
        if (n == cap) {
            char *grown = cap > (64u << 20) ? NULL : realloc(buf, cap * 2 + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

DIR *xg_rootfs_opendir(const struct xg_rootfs *r, const char *rel)
{
    int fd = xg_rootfs_openat(r, rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

int xg_rootfs_stat(const struct xg_rootfs *r, const char *rel, struct stat *st, bool nofollow)
{
    int fd = xg_rootfs_openat(r, rel, O_PATH | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0)
        return -1;
    int rc = fstat(fd, st);
    close(fd);
    return rc;
}

bool xg_rootfs_exists(const struct xg_rootfs *r, const char *rel)
{
    struct stat st;
    return xg_rootfs_stat(r, rel, &st, true) == 0;
}

ssize_t xg_rootfs_readlink(const struct xg_rootfs *r, const char *rel, char *buf, size_t size)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", rel);
    char *slash = strrchr(dir, '/');
    const char *base = rel;
    int dfd;
    if (slash) {
        *slash = '\0';
        base = rel + (slash - dir) + 1;
        dfd = xg_rootfs_openat(r, *dir ? dir : "/", O_PATH | O_DIRECTORY);
    } else {
        dfd = xg_rootfs_openat(r, "/", O_PATH | O_DIRECTORY);
    }
    if (dfd < 0 || size == 0)
        return -1;
    ssize_t n = readlinkat(dfd, base, buf, size - 1);
    close(dfd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int xg_rootfs_list(const struct xg_rootfs *r, const char *rel, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = xg_rootfs_opendir(r, rel);
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (xg_strv_add(names, count, e->d_name) < 0)
            break;
    }
    closedir(d);
    if (*count)
        qsort(*names, *count, sizeof(**names), cmp_str);
    return 0;
}

void xg_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

char *xg_run_capture(char *const argv[], size_t *len)
{
    struct xg_proc_opts o = {.timeout_ms = XG_RUN_TIMEOUT_MS};
    struct xg_proc p;
    struct xg_err ignored;
    if (xg_proc_run(argv, &o, &p, &ignored) < 0)
        return NULL;
    /* a hung command (xl with a dead xenstored) was killed at the timeout: no evidence */
    if (!xg_proc_ok(&p)) {
        xg_proc_free(&p);
        return NULL;
    }
    char *out = p.out;
    if (len)
        *len = p.out_len;
    p.out = NULL;
    xg_proc_free(&p);
    return out;
}
