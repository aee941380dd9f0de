/*
 * rootfs.c — openat2(RESOLVE_IN_ROOT) file access and command capture
 * (see rootfs.h).
 */
#include "probe/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"

extern char **environ;

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
    int fd = xg_rootfs_openat(r, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
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
        char **grown = realloc(*names, (*count + 1) * sizeof(*grown));
        if (!grown)
            break;
        *names = grown;
        if ((grown[*count] = strdup(e->d_name)))
            (*count)++;
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
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return NULL;
    }
    struct xg_buf b = {0};
    char chunk[8192];
    bool timed_out = false;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = XG_RUN_TIMEOUT_MS -
                    ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        int pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            /* a hung command (xl with a dead xenstored) must not hang the audit */
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        ssize_t n = read(pipefd[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        xg_buf_printf(&b, "%.*s", (int)n, chunk);
    }
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || xg_buf_failed(&b)) {
        xg_buf_free(&b);
        return NULL;
    }
    char *out = b.data ? b.data : strdup("");
    if (len)
        *len = b.len;
    return out;
}
