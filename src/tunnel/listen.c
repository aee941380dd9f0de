/*
 * listen.c — tunneld's listener: who gets a process, a handshake and a
 * session, and what the journal hears about the rest.
 *
 * Every connection gets its own process (server.c), but a connection that
 * has not authenticated yet must not be able to take a migration's place.
 * So there are two budgets. Handshakes: at most max-handshakes at once, and
 * a quarter of that from one source address; when either is full the
 * OLDEST handshake (of that source, or overall) is dropped to make room,
 * never the newcomer, so idle strangers holding connections open only
 * push each other out while a real sender, being the newest, completes in
 * milliseconds. Sessions: a process asks for one of max-sessions slots
 * only after its peer authenticated and its request passed (server.c), so
 * only allowlisted peers can ever fill them. Refusals are logged through
 * a rate limit (at most RL_LINES a window, then one summary line), since
 * strangers choose how many there are.
 *
 * SIGHUP reloads the configuration (allowlist, certificates, limits)
 * through the caller's reload function, as sshd does: running sessions
 * keep what they started with, new connections get the new settings.
 * SIGTERM/SIGINT stop the listener; sessions then get SIGTERM
 * (PR_SET_PDEATHSIG) and fail cleanly.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tunnel/io.h"
#include "tunnel/log.h"
#include "tunnel/server.h"

#define RL_WINDOW_MS 10000
#define RL_LINES     20
#define HS_GRACE_MS  2000 /* past a session's own handshake deadline, the listener kills it */
#define KIDS_MAX     4096

struct child {
    pid_t pid;
    int ctl; /* our end of its control channel, -1 once it closed */
    struct sockaddr_storage src;
    int64_t started;
    bool session; /* holds a session slot */
    bool dropped; /* killed to make room, not yet reaped */
};

struct listener {
    const struct xg_tunnel_opts *o;
    SSL_CTX *ctx;
    int lfd, sfd, log_fd;
    struct child *kids;
    size_t nkids, kids_alloc;
    int64_t rl_start;
    unsigned rl_used, rl_suppressed;
};

int xg_ctl_send(int fd, char type, const char *text)
{
    char m[XG_CTL_MAX];
    size_t n = strlen(text) < sizeof(m) - 1 ? strlen(text) : sizeof(m) - 1;
    m[0] = type;
    memcpy(m + 1, text, n);
    return send(fd, m, n + 1, MSG_NOSIGNAL) == (ssize_t)(n + 1) ? 0 : -1;
}

int xg_ctl_recv(int fd, char *out, size_t cap, int64_t deadline)
{
    for (;;) {
        ssize_t n = recv(fd, out, cap - 1, MSG_DONTWAIT);
        if (n > 0) {
            out[n] = 0;
            return 0;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - xg_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) < 0)
            return -1;
    }
}

void xg_addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
    getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host, sizeof(host), port, sizeof(port),
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, len, "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port);
}

/* the same source address (the port does not matter) */
static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
    return false;
}

/* ---- the refusal log's rate limit ---- */

static void rl_flush(struct listener *L, int64_t now)
{
    if (now - L->rl_start < RL_WINDOW_MS)
        return;
    if (L->rl_suppressed) {
        struct xg_log l;
        xg_log_begin(&l, "suppressed");
        xg_log_kvf(&l, "refused", "%u", L->rl_suppressed);
        xg_log_kvf(&l, "seconds", "%d", RL_WINDOW_MS / 1000);
        xg_log_kvq(&l, "reason", "more refusals than the log's rate limit (20 lines per 10 s)");
        xg_log_write(L->log_fd, &l);
    }
    L->rl_start = now;
    L->rl_used = L->rl_suppressed = 0;
}

static void rl_log(struct listener *L, const char *line)
{
    rl_flush(L, xg_now_ms());
    if (L->rl_used >= RL_LINES) {
        L->rl_suppressed++;
        return;
    }
    L->rl_used++;
    struct xg_log l;
    l.len = (size_t)snprintf(l.buf, sizeof(l.buf), "%s", line);
    if (l.len >= sizeof(l.buf))
        l.len = sizeof(l.buf) - 1;
    xg_log_write(L->log_fd, &l);
}

/* ---- the two budgets ---- */

static unsigned count(const struct listener *L, bool session, const struct sockaddr_storage *src)
{
    unsigned n = 0;
    for (size_t i = 0; i < L->nkids; i++)
        if (!L->kids[i].dropped && L->kids[i].session == session &&
            (!src || same_source(&L->kids[i].src, src)))
            n++;
    return n;
}

static void drop(struct listener *L, struct child *k, const char *why)
{
    char a[80];
    kill(k->pid, SIGKILL); /* it has not started anything: no slot was granted */
    k->dropped = true;
    xg_addr_text(&k->src, a, sizeof(a));
    struct xg_log l;
    xg_log_begin(&l, "refused");
    xg_log_kv(&l, "addr", a);
    xg_log_kvq(&l, "reason", why);
    rl_log(L, xg_log_text(&l));
}

/* the oldest handshake (from src, or any when src is NULL) */
static struct child *oldest(struct listener *L, const struct sockaddr_storage *src)
{
    struct child *best = NULL;
    for (size_t i = 0; i < L->nkids; i++) {
        struct child *k = &L->kids[i];
        if (!k->dropped && !k->session && (!src || same_source(&k->src, src)) &&
            (!best || k->started < best->started))
            best = k;
    }
    return best;
}

/* Make room for one more handshake from src: drop the oldest rather than refuse the new. */
static void make_room(struct listener *L, const struct sockaddr_storage *src)
{
    unsigned per_source = L->o->max_handshakes / 4 ? L->o->max_handshakes / 4 : 1;
    struct child *k;
    if (count(L, false, src) >= per_source && (k = oldest(L, src)))
        drop(L, k, "too many handshakes from this address: dropped its oldest");
    else if (count(L, false, NULL) >= L->o->max_handshakes && (k = oldest(L, NULL)))
        drop(L, k, "handshake slots full (max-handshakes): dropped the oldest");
}

/* Handshakes past their deadline (plus a grace) that did not end themselves. */
static void expire(struct listener *L)
{
    int64_t limit = xg_now_ms() - (int64_t)L->o->handshake_timeout * 1000 - HS_GRACE_MS;
    for (size_t i = 0; i < L->nkids; i++)
        if (!L->kids[i].dropped && !L->kids[i].session && L->kids[i].started < limit)
            drop(L, &L->kids[i], "handshake timeout (killed by the listener)");
}

/* A session asks for a slot ('S') or hands us a refusal to log ('L'). */
static void from_child(struct listener *L, struct child *k)
{
    char m[XG_CTL_MAX], why[200];
    ssize_t n = recv(k->ctl, m, sizeof(m) - 1, MSG_DONTWAIT);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            close(k->ctl), k->ctl = -1;
        return;
    }
    m[n] = 0;
    if (m[0] == XG_CTL_LOG) {
        rl_log(L, m + 1);
    } else if (m[0] == XG_CTL_SLOT && !k->dropped) {
        unsigned busy = count(L, true, NULL);
        if (k->session || busy < L->o->max_sessions) {
            k->session = true;
            xg_ctl_send(k->ctl, XG_CTL_YES, "");
        } else {
            snprintf(why, sizeof(why), "receiver busy: %u sessions already (max-sessions)", busy);
            xg_ctl_send(k->ctl, XG_CTL_NO, why);
        }
    }
}

static void reap(struct listener *L)
{
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        for (size_t i = 0; i < L->nkids; i++)
            if (L->kids[i].pid == pid) {
                if (L->kids[i].ctl >= 0)
                    close(L->kids[i].ctl);
                L->kids[i] = L->kids[--L->nkids];
                break;
            }
}

static void start_child(struct listener *L, int cfd, const struct sockaddr_storage *ss)
{
    int sv[2];
    make_room(L, ss);
    if (L->nkids == L->kids_alloc) {
        size_t n = L->kids_alloc ? 2 * L->kids_alloc : 64;
        struct child *k = n <= KIDS_MAX ? realloc(L->kids, n * sizeof(*k)) : NULL;
        if (!k) {
            close(cfd); /* only while thousands of dropped ones wait to be reaped */
            return;
        }
        L->kids = k;
        L->kids_alloc = n;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        close(cfd);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < L->nkids; i++)
            if (L->kids[i].ctl >= 0)
                close(L->kids[i].ctl);
        close(L->lfd);
        close(L->sfd);
        close(sv[0]);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        _exit(xg_session(L->ctx, L->o, cfd, ss, L->log_fd, sv[1]) == 0 ? 0 : 1);
    }
    close(cfd);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        struct xg_log l;
        xg_log_begin(&l, "error");
        xg_log_kvq(&l, "reason", "cannot fork a session");
        xg_log_write(L->log_fd, &l);
        return;
    }
    L->kids[L->nkids++] =
        (struct child){.pid = pid, .ctl = sv[0], .src = *ss, .started = xg_now_ms()};
}

static int listen_on(const struct xg_tunnel_opts *o, struct xg_err *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res, *ai;
    char portstr[8];
    const char *host = o->listen && o->listen[0] ? o->listen : NULL;
    int fd = -1, rc, saved = 0, one = 1, zero = 0;

    snprintf(portstr, sizeof(portstr), "%u", o->port);
    if (!host)
        hints.ai_family = AF_INET6; /* [::] takes IPv4 too (V6ONLY off below) */
    if ((rc = getaddrinfo(host, portstr, &hints, &res)))
        return xg_fail(err, "listen address %s: %s", host ? host : "::", gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (o->interface && o->interface[0] &&
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->interface,
                       (socklen_t)strlen(o->interface)) < 0) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        if (ai->ai_family == AF_INET6 && !host)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return xg_fail(err, "cannot listen on %s port %u: %s", host ? host : "::", o->port,
                       strerror(saved));
    return fd;
}

static void log_event(int fd, const char *event, const char *key, const char *value)
{
    struct xg_log l;
    xg_log_begin(&l, event);
    if (key)
        xg_log_kvq(&l, key, value);
    xg_log_write(fd, &l);
}

/* SIGHUP: new settings and certificates for new connections; sessions keep theirs. */
static void reload(struct listener *L, const struct xg_tunnel_reload *r)
{
    struct xg_err err = {{0}};
    if (!r || !r->fn) {
        log_event(L->log_fd, "reload-failed", "reason", "no configuration to reload from");
        return;
    }
    if (r->fn(r->arg, &L->o, &L->ctx, &err) < 0) {
        log_event(L->log_fd, "reload-failed", "reason", err.msg);
        return;
    }
    struct xg_log l;
    xg_log_begin(&l, "reloaded");
    xg_log_kvf(&l, "peers", "%zu", L->o->name_count + L->o->fingerprint_count);
    xg_log_kvf(&l, "max_sessions", "%u", L->o->max_sessions);
    xg_log_kvf(&l, "max_handshakes", "%u", L->o->max_handshakes);
    xg_log_write(L->log_fd, &l);
}

/* the signals since the last poll; true when we should stop */
static bool signals(struct listener *L, const struct xg_tunnel_reload *r)
{
    struct signalfd_siginfo si;
    bool stop = false, hup = false;
    while (read(L->sfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            hup = true;
        else if (si.ssi_signo != SIGCHLD)
            stop = true;
    }
    reap(L);
    if (hup && !stop)
        reload(L, r);
    return stop;
}

static int serve(struct listener *L, bool once, const struct xg_tunnel_reload *r,
                 struct xg_err *err)
{
    for (;;) {
        struct pollfd *p = calloc(L->nkids + 2, sizeof(*p));
        if (!p)
            return xg_fail(err, "out of memory");
        p[0] = (struct pollfd){.fd = L->lfd, .events = POLLIN};
        p[1] = (struct pollfd){.fd = L->sfd, .events = POLLIN};
        for (size_t i = 0; i < L->nkids; i++)
            p[2 + i] = (struct pollfd){.fd = L->kids[i].ctl, .events = POLLIN};
        int timeout = L->nkids ? 500 : (L->rl_suppressed ? RL_WINDOW_MS : -1);
        size_t polled = L->nkids;
        if (poll(p, (nfds_t)(polled + 2), timeout) < 0 && errno != EINTR) {
            free(p);
            return xg_fail(err, "poll: %s", strerror(errno));
        }
        bool accept_ready = p[0].revents, sig_ready = p[1].revents;
        for (size_t i = 0; i < polled && i < L->nkids; i++)
            if (p[2 + i].revents && L->kids[i].ctl == p[2 + i].fd && p[2 + i].fd >= 0)
                from_child(L, &L->kids[i]);
        free(p);
        rl_flush(L, xg_now_ms());
        expire(L);
        if (sig_ready && signals(L, r)) {
            log_event(L->log_fd, "stopping", NULL, NULL);
            return 0;
        }
        /* take the whole backlog: a real sender must not wait behind a flood in the queue */
        for (int i = 0; accept_ready && i < 64; i++) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            int cfd = accept4(L->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
            if (cfd < 0)
                break;
            if (once)
                return xg_session(L->ctx, L->o, cfd, &ss, L->log_fd, -1) == 0 ? 0 : -1;
            start_child(L, cfd, &ss);
        }
    }
}

int xg_tunnel_server(const struct xg_tunnel_opts *o, bool once, int log_fd,
                     const struct xg_tunnel_reload *r, struct xg_err *err)
{
    struct listener L = {.o = o, .lfd = -1, .sfd = -1, .log_fd = log_fd, .rl_start = xg_now_ms()};
    int rc = -1;
    L.ctx = xg_tls_ctx_new(o, true, err);
    if (!L.ctx || (L.lfd = listen_on(o, err)) < 0)
        goto out;
    xg_set_nonblock(L.lfd, true);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char where[80];
    getsockname(L.lfd, (struct sockaddr *)&ss, &sl);
    xg_addr_text(&ss, where, sizeof(where));
    struct xg_log l;
    xg_log_begin(&l, "listening on");
    l.len += (size_t)snprintf(l.buf + l.len, sizeof(l.buf) - l.len, " %s", where);
    xg_log_write(log_fd, &l);

    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &old);
    L.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (L.sfd < 0)
        xg_fail(err, "signalfd: %s", strerror(errno));
    else
        rc = serve(&L, once, r, err);
    sigprocmask(SIG_SETMASK, &old, NULL);
out:
    for (size_t i = 0; i < L.nkids; i++)
        if (L.kids[i].ctl >= 0)
            close(L.kids[i].ctl);
    free(L.kids);
    if (L.sfd >= 0)
        close(L.sfd);
    if (L.lfd >= 0)
        close(L.lfd);
    SSL_CTX_free(L.ctx);
    return rc;
}
