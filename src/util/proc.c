/*
 * proc.c — the one process runner (see proc.h).
 *
 * fork + execve of an absolute path: no shell, no PATH from the caller, a
 * fixed environment. The child gets its own process group (so a timeout
 * can SIGKILL everything it started), default signal dispositions and an
 * empty signal mask (an ignored SIGPIPE would otherwise survive the exec),
 * and no fd but 0, 1, 2 (close_range marks the rest close-on-exec). A
 * close-on-exec pipe carries errno back when execve fails, so "cannot run"
 * is told apart from "ran and failed".
 *
 * The parent's ends are non-blocking and served by one poll() loop: stdin
 * is written as the child takes it while stdout and stderr are drained, so
 * neither side can fill a pipe and wait for the other. SIGPIPE is ignored
 * for the duration (a child that exits without reading its input gives
 * EPIPE, not a dead xenguard) and put back afterwards. The group is killed
 * before the child is reaped, so its pid cannot have been reused yet.
 *
 * Every program xenguard runs to completion goes through here. Two forks
 * do not, on purpose: tunneld's receive command (src/tunnel/server.c) is a
 * streaming child that the session's own poll loop feeds for the life of
 * a migration, and apply's scratch check (src/apply/nft.c) forks without
 * exec to try a ruleset in a new network namespace through libnftables.
 */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int xg_proc_resolve(const char *name, char *out, size_t size, struct xg_err *err)
{
    struct stat st;
    if (!name || !*name)
        return xg_fail(err, "cannot run an empty program name");
    if (strchr(name, '/')) {
        if (name[0] != '/')
            return xg_fail(err, "cannot run %s: not an absolute path", name);
        if (snprintf(out, size, "%s", name) >= (int)size)
            return xg_fail(err, "cannot run %s: path too long", name);
        return 0;
    }
    const char *dir = XG_PROC_PATH;
    while (*dir) {
        size_t n = strcspn(dir, ":");
        if (snprintf(out, size, "%.*s/%s", (int)n, dir, name) < (int)size && stat(out, &st) == 0 &&
            S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 0;
        dir += n + (dir[n] == ':');
    }
    return xg_fail(err, "cannot run %s: not found in %s", name, XG_PROC_PATH);
}

/* One captured stream. */
struct sink {
    char *data;
    size_t len, cap, max;
    bool dropped;
};

static int sink_add(struct sink *s, const char *chunk, size_t n)
{
    if (s->len + n > s->max) {
        s->dropped = true;
        n = s->max - s->len;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *grown = realloc(s->data, cap);
        if (!grown)
            return -1;
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, chunk, n);
    s->len += n;
    s->data[s->len] = '\0';
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* In the child: stdio onto the pipes, a clean slate, exec; errno to `report` on failure. */
static _Noreturn void child(const char *path, char *const argv[], int in_fd, int out_fd, int err_fd,
                            int report)
{
    static char *const env[] = {"PATH=" XG_PROC_PATH, "LC_ALL=C", NULL};
    sigset_t none;
    setpgid(0, 0);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL); /* EINVAL for SIGKILL/SIGSTOP and RT signals glibc owns: fine */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (in_fd < 0)
        in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* dup2 onto 0..2 clears close-on-exec; the sources are all >= 3 (see xg_proc_run) */
    if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        goto fail;
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) /* before Linux 5.11 */
        for (int fd = 3; fd < 1024; fd++)
            fcntl(fd, F_SETFD, FD_CLOEXEC);
    execve(path, argv, env);
fail:;
    int e = errno;
    ssize_t w = write(report, &e, sizeof(e));
    (void)w;
    _exit(127);
}

static struct timespec deadline_in(unsigned ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

static long ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

/* Read what is there from *fd into s; EOF or an error closes *fd. -1: out of memory. */
static int drain(int *fd, struct sink *s)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(*fd, chunk, sizeof(chunk));
        if (n > 0) {
            if (sink_add(s, chunk, (size_t)n) < 0)
                return -1;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        close_fd(fd);
        return 0;
    }
}

/* Feed stdin and drain stdout/stderr until both are closed or the deadline.
 * fds[0] is our write end of stdin (-1 when none), fds[1..2] our read ends.
 * Returns 1 when the deadline passed, 0 otherwise, -1 when out of memory. */
static int pump(int fds[3], const struct xg_proc_opts *o, const struct timespec *deadline,
                struct sink *out, struct sink *errs)
{
    size_t off = 0;
    if (fds[0] >= 0 && o->in_len == 0)
        close_fd(&fds[0]);
    while (fds[1] >= 0 || fds[2] >= 0) {
        struct pollfd pfd[3];
        for (int i = 0; i < 3; i++)
            pfd[i] = (struct pollfd){.fd = fds[i], .events = i ? POLLIN : POLLOUT};
        long wait = o->timeout_ms ? ms_left(deadline) : -1;
        if (wait == 0)
            return 1;
        int n = poll(pfd, 3, wait > INT_MAX ? INT_MAX : (int)wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (fds[0] >= 0 && pfd[0].revents) {
            ssize_t w = write(fds[0], o->in + off, o->in_len - off);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                off = o->in_len; /* EPIPE: the child stopped reading */
            if (off == o->in_len)
                close_fd(&fds[0]);
        }
        if (fds[1] >= 0 && pfd[1].revents && drain(&fds[1], out) < 0)
            return -1;
        if (fds[2] >= 0 && pfd[2].revents && drain(&fds[2], errs) < 0)
            return -1;
    }
    return 0;
}

/* Outputs closed, child maybe still running: wait for it until the deadline.
 * 0 when reaped (*status set), 1 when the deadline passed first. */
static int reap_by(pid_t pid, const struct timespec *deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        if (ms_left(deadline) == 0)
            return 1;
        nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    }
}

/* pipe2 with both ends >= 3, close-on-exec, so the child's dup2 onto 0..2 never
 * meets a source that is already 0..2 (a caller that closed its stdio). */
static int pipe_hi(int p[2])
{
    int raw[2];
    if (pipe2(raw, O_CLOEXEC) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        p[i] = raw[i] >= 3 ? raw[i] : fcntl(raw[i], F_DUPFD_CLOEXEC, 3);
        if (p[i] != raw[i])
            close(raw[i]);
    }
    if (p[0] >= 0 && p[1] >= 0)
        return 0;
    close_fd(&p[0]);
    close_fd(&p[1]);
    return -1;
}

static int start(const char *path, char *const argv[], bool with_in, int mine[3], pid_t *pid_out,
                 struct xg_err *err)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
    int rc = -1, e = 0;
    if ((with_in && pipe_hi(in) < 0) || pipe_hi(out) < 0 || pipe_hi(errp) < 0 || pipe_hi(rep) < 0) {
        xg_fail(err, "cannot run %s: pipe: %s", path, strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        xg_fail(err, "cannot run %s: fork: %s", path, strerror(errno));
        goto out;
    }
    if (pid == 0)
        child(path, argv, in[0], out[1], errp[1], rep[1]);
    setpgid(pid, pid); /* also in the child: whichever runs first */
    close_fd(&rep[1]);
    ssize_t n;
    while ((n = read(rep[0], &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof(e)) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        xg_fail(err, "cannot run %s: %s", path, strerror(e));
        goto out;
    }
    mine[0] = in[1];
    mine[1] = out[0];
    mine[2] = errp[0];
    in[1] = out[0] = errp[0] = -1;
    for (int i = 0; i < 3; i++)
        if (mine[i] >= 0)
            fcntl(mine[i], F_SETFL, fcntl(mine[i], F_GETFL) | O_NONBLOCK);
    *pid_out = pid;
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&errp[i]);
        close_fd(&rep[i]);
    }
    return rc;
}

int xg_proc_run(char *const argv[], const struct xg_proc_opts *opts, struct xg_proc *p,
                struct xg_err *err)
{
    static const struct xg_proc_opts none = {0};
    const struct xg_proc_opts *o = opts ? opts : &none;
    char path[PATH_MAX];
    int fds[3] = {-1, -1, -1};
    pid_t pid;
    memset(p, 0, sizeof(*p));
    p->status = -1;
    if (xg_proc_resolve(argv ? argv[0] : NULL, path, sizeof(path), err) < 0)
        return -1;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    if (start(path, argv, o->in != NULL, fds, &pid, err) < 0) {
        sigaction(SIGPIPE, &old_pipe, NULL);
        return -1;
    }
    size_t max = o->max_out ? o->max_out : XG_PROC_MAX_OUT;
    struct sink out = {.max = max}, errs = {.max = max};
    struct timespec deadline = deadline_in(o->timeout_ms);
    int pumped = pump(fds, o, &deadline, &out, &errs), status = 0;
    for (int i = 0; i < 3; i++)
        close_fd(&fds[i]);
    sigaction(SIGPIPE, &old_pipe, NULL);
    if (pumped == 0 && o->timeout_ms)
        pumped = reap_by(pid, &deadline, &status);
    if (pumped != 0) {
        kill(-pid, SIGKILL); /* timeout, or out of memory: nothing more will be read */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    } else if (!o->timeout_ms) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (pumped < 0 || sink_add(&out, "", 0) < 0 || sink_add(&errs, "", 0) < 0) {
        free(out.data);
        free(errs.data);
        return xg_fail(err, "%s: out of memory capturing its output", path);
    }
    p->timed_out = pumped == 1;
    p->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    p->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    p->truncated = out.dropped || errs.dropped;
    p->out = out.data;
    p->out_len = out.len;
    p->err_out = errs.data;
    p->err_len = errs.len;
    return 0;
}

bool xg_proc_ok(const struct xg_proc *p)
{
    return !p->timed_out && p->signal == 0 && p->status == 0;
}

void xg_proc_describe(const struct xg_proc *p, const struct xg_proc_opts *opts, char *buf,
                      size_t size)
{
    if (p->timed_out)
        snprintf(buf, size, "timed out after %us (killed)", opts ? opts->timeout_ms / 1000 : 0);
    else if (p->signal)
        snprintf(buf, size, "killed by signal %d", p->signal);
    else
        snprintf(buf, size, "exit status %d", p->status);
}

void xg_proc_first_line(const struct xg_proc *p, char *buf, size_t size)
{
    const char *s = p->err_out && p->err_len ? p->err_out : p->out ? p->out : "";
    while (*s == '\n')
        s++;
    size_t n = strcspn(s, "\n");
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), s);
}

void xg_proc_free(struct xg_proc *p)
{
    free(p->out);
    free(p->err_out);
    p->out = p->err_out = NULL;
    p->out_len = p->err_len = 0;
}
