/*
 * server.c — the receiving end: tunneld's listener and its sessions.
 *
 * The listener forks one process per connection (a session cannot touch
 * another's memory or stall its loop) and refuses connections beyond
 * max-sessions outright. A session then, in this order and under the
 * handshake timeout: completes TLS 1.3 with a client certificate that
 * chains to our CA and is on the allowlist (tls.c; otherwise the handshake
 * itself fails and not one application byte is read), reads the request,
 * re-validates its flags (request.c) and only then starts the configured
 * receive command in its own process group. The stream goes to the
 * command's stdin, its stdout/stderr come back as frames. The session
 * ends well only when the client's close_notify has arrived, the command
 * has exited, and the exit frame and our close_notify are out; any other
 * end (TLS error, truncation, idle timeout) closes the command's stdin,
 * gives it a moment to clean up, then kills its process group, so no
 * receive process outlives a broken session. Each session logs one line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tunnel/io.h"
#include "tunnel/record.h"
#include "tunnel/tunnel.h"

#define KILL_GRACE_MS 5000
#define RX_CAP        (32 * XG_REC_SEALED(XG_REC_PLAIN_MAX) + XG_REC_MAX)
#define RX_SEGS       64

struct session {
    const struct xg_tunnel_opts *o;
    SSL *ssl;
    int sock;
    /*
     * The stream: raw records read from the socket into rx (the request, a
     * few bytes, through OpenSSL first), opened in place (record.c); the
     * plaintext of opened records waits in seg[] until the command takes it.
     */
    uint8_t *rx;
    size_t rx_fill, rx_parsed, ilen;
    struct iovec seg[RX_SEGS];
    unsigned seg_first, seg_count;
    struct xg_rec_keys keys;
    uint8_t *obuf; /* frames on their way into TLS */
    size_t olen, ooff, inflight;
    int cin, cout, cerr, pidfd;
    pid_t pid;
    bool peer_eof, reaped, x_queued, shut_sent, update_reply;
    int status;
    uint64_t bytes_in, bytes_out, discarded;
    char addr[80], result[300];
    struct xg_peer peer;
    struct xg_request req;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void log_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(int fd, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n = snprintf(line, sizeof(line), "xenguard-tunneld: ");
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(fd, line, (size_t)n) < 0) {
        /* nowhere else to say it */
    }
}

/* Append a frame header + payload to obuf (caller checked the room). */
static void frame(struct session *s, uint8_t type, const void *p, size_t len)
{
    s->obuf[s->olen] = type;
    put32(s->obuf + s->olen + 1, (uint32_t)len);
    if (len)
        memcpy(s->obuf + s->olen + 5, p, len);
    s->olen += 5 + len;
}

static size_t oroom(struct session *s)
{
    if (s->ooff == s->olen && !s->inflight)
        s->ooff = s->olen = 0;
    else if (s->ooff > 0 && !s->inflight && s->olen + 5 + 4096 > XG_IO_BUF) {
        memmove(s->obuf, s->obuf + s->ooff, s->olen - s->ooff);
        s->olen -= s->ooff;
        s->ooff = 0;
    }
    return XG_IO_BUF - s->olen;
}

static int ssl_err(struct session *s, int ret, const char *what)
{
    char e[256];
    int code = SSL_get_error(s->ssl, ret);
    if (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        snprintf(s->result, sizeof(s->result), "fail: %s: connection lost (%s)", what,
                 errno ? strerror(errno) : "no close_notify");
    else
        snprintf(s->result, sizeof(s->result), "fail: %s: %s", what, xg_tls_error(e, sizeof(e)));
    return -1;
}

static void child_exec(char **argv, int in, int out, int errfd, const struct session *s)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    setpgid(0, 0);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        _exit(127);
    setenv("XENGUARD_TUNNEL_PEER", s->peer.who, 1);
    setenv("XENGUARD_TUNNEL_DOMAIN", s->req.domain, 1);
    execvp(argv[0], argv);
    dprintf(2, "xenguard-tunneld: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int spawn(struct session *s, char **argv)
{
    int pin[2], pout[2], perr[2];
    if (pipe2(pin, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
        close(pin[0]), close(pin[1]);
        return -1;
    }
    fcntl(pin[1], F_SETPIPE_SZ, 1 << 20);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        child_exec(argv, pin[0], pout[1], perr[1], s);
    setpgid(pid, pid);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    s->pid = pid;
    s->cin = pin[1];
    s->cout = pout[0];
    s->cerr = perr[0];
    xg_set_nonblock(s->cin, true);
    xg_set_nonblock(s->cout, true);
    xg_set_nonblock(s->cerr, true);
    s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}

static void try_reap(struct session *s)
{
    int st;
    if (s->pid > 0 && !s->reaped && waitpid(s->pid, &st, WNOHANG) == s->pid) {
        s->reaped = true;
        s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
}

/* A broken session: EOF to the command, a grace period, then SIGKILL its group. */
static void stop_child(struct session *s)
{
    if (s->cin >= 0)
        close(s->cin), s->cin = -1;
    if (s->pid <= 0)
        return;
    int64_t until = xg_now_ms() + KILL_GRACE_MS;
    while (!s->reaped && xg_now_ms() < until) {
        try_reap(s);
        if (s->reaped)
            break;
        if (s->pidfd >= 0) {
            struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
            poll(&p, 1, (int)(until - xg_now_ms()));
        } else {
            usleep(10000);
        }
    }
    kill(-s->pid, SIGKILL); /* anything it left behind in its group */
    if (!s->reaped) {
        int st;
        waitpid(s->pid, &st, 0);
        s->reaped = true;
        s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    /* we are their subreaper: collect the killed group's orphans too */
    while (waitpid(-s->pid, NULL, 0) > 0)
        ;
}

static void read_child(struct session *s, int *fd, uint8_t type, bool *progress)
{
    while (*fd >= 0) {
        size_t room = oroom(s);
        if (room < 5 + 1)
            return;
        size_t want = room - 5 < XG_TUNNEL_FRAME_MAX ? room - 5 : XG_TUNNEL_FRAME_MAX;
        ssize_t n = read(*fd, s->obuf + s->olen + 5, want);
        if (n > 0) {
            s->obuf[s->olen] = type;
            put32(s->obuf + s->olen + 1, (uint32_t)n);
            s->olen += 5 + (size_t)n;
            s->bytes_out += (uint64_t)n;
            *progress = true;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close(*fd);
            *fd = -1;
            *progress = true;
        } else {
            return;
        }
    }
}

static void last_frame(struct session *s, uint8_t type, const char *why, int64_t deadline);

/* The stream broke (truncated, forged, malformed): say so to the sender, then fail. */
static int recv_fail(struct session *s, const char *why)
{
    snprintf(s->result, sizeof(s->result), "fail: receiving: %.200s", why);
    last_frame(s, XG_FRAME_FAIL, s->result + 6, xg_now_ms() + 2000);
    return -1;
}

/* socket -> rx: raw records, as much as there is room for */
static int read_records(struct session *s, bool *progress)
{
    while (!s->peer_eof && s->rx_fill < RX_CAP) {
        ssize_t n = read(s->sock, s->rx + s->rx_fill, RX_CAP - s->rx_fill);
        if (n > 0) {
            s->rx_fill += (size_t)n;
            *progress = true;
        } else if (n == 0) {
            return recv_fail(s, "connection closed before close_notify (truncated stream)");
        } else if (errno == EAGAIN) {
            return 0;
        } else if (errno != EINTR) {
            return recv_fail(s, strerror(errno));
        }
    }
    return 0;
}

/* open every whole record in rx; data becomes a segment for the command */
static int open_records(struct session *s, bool *progress)
{
    struct xg_err err;
    while (!s->peer_eof && s->seg_first + s->seg_count < RX_SEGS) {
        uint8_t *rec = s->rx + s->rx_parsed, type;
        ssize_t len = xg_rec_length(rec, s->rx_fill - s->rx_parsed, &err);
        size_t clen;
        bool ask;
        if (len < 0)
            return recv_fail(s, err.msg);
        if (len == 0 || (size_t)len > s->rx_fill - s->rx_parsed)
            return 0;
        if (xg_rec_open(&s->keys, rec, (size_t)len, &type, &clen, &err) < 0)
            return recv_fail(s, err.msg);
        s->rx_parsed += (size_t)len;
        *progress = true;
        if (type == XG_REC_DATA) {
            if (s->cin < 0)
                s->discarded += clen; /* the command is gone: count and drop */
            else if (clen)
                s->seg[s->seg_first + s->seg_count++] = (struct iovec){rec + XG_REC_HDR, clen};
        } else if (type == XG_REC_HANDSHAKE && xg_rec_is_key_update(rec + XG_REC_HDR, clen, &ask)) {
            if (xg_rec_keys_update(&s->keys, &err) < 0)
                return recv_fail(s, err.msg);
            s->update_reply |= ask; /* our direction is OpenSSL's: see step() */
        } else if (type == XG_REC_ALERT && clen == 2 && rec[XG_REC_HDR + 1] == 0) {
            s->peer_eof = true; /* close_notify: the end of the stream */
            SSL_set_shutdown(s->ssl, SSL_get_shutdown(s->ssl) | SSL_RECEIVED_SHUTDOWN);
        } else if (type == XG_REC_ALERT && clen == 2) {
            char why[64];
            snprintf(why, sizeof(why), "sender sent alert %u", rec[XG_REC_HDR + 1]);
            return recv_fail(s, why);
        } else {
            return recv_fail(s, "unexpected record after the request");
        }
    }
    return 0;
}

/* segments -> the command's stdin; then make room in rx */
static void feed_command(struct session *s, bool *progress)
{
    while (s->cin >= 0 && s->seg_count) {
        struct iovec *v = s->seg + s->seg_first;
        ssize_t n = writev(s->cin, v, (int)s->seg_count);
        if (n < 0) {
            if (errno == EAGAIN)
                break;
            if (errno == EINTR)
                continue;
            close(s->cin); /* EPIPE: it stopped reading */
            s->cin = -1;
            *progress = true;
            break;
        }
        *progress = true;
        s->bytes_in += (uint64_t)n;
        for (size_t left = (size_t)n; left;) {
            if (left < v->iov_len) {
                v->iov_base = (uint8_t *)v->iov_base + left;
                v->iov_len -= left;
                break;
            }
            left -= v->iov_len;
            v++;
            s->seg_first++;
            s->seg_count--;
        }
    }
    if (s->cin < 0)
        for (; s->seg_count; s->seg_count--)
            s->discarded += s->seg[s->seg_first++].iov_len;
    if (s->seg_count)
        return;
    s->seg_first = 0;
    if (s->rx_parsed == s->rx_fill) {
        s->rx_fill = s->rx_parsed = 0;
    } else if (RX_CAP - s->rx_fill < XG_REC_MAX) { /* a partial record: to the front */
        memmove(s->rx, s->rx + s->rx_parsed, s->rx_fill - s->rx_parsed);
        s->rx_fill -= s->rx_parsed;
        s->rx_parsed = 0;
    }
}

static int step(struct session *s, bool *progress)
{
    if (read_records(s, progress) < 0 || open_records(s, progress) < 0)
        return -1;
    feed_command(s, progress);
    if (s->peer_eof && s->seg_count == 0 && s->cin >= 0) {
        close(s->cin);
        s->cin = -1;
        *progress = true;
    }
    /* command -> frames */
    read_child(s, &s->cout, XG_FRAME_STDOUT, progress);
    read_child(s, &s->cerr, XG_FRAME_STDERR, progress);
    if (s->cout < 0 && s->cerr < 0 && !s->reaped)
        try_reap(s);
    if (s->cout < 0 && s->cerr < 0 && s->reaped && !s->x_queued && oroom(s) >= 17) {
        uint8_t x[12];
        put32(x, (uint32_t)s->status);
        put32(x + 4, (uint32_t)(s->bytes_in >> 32));
        put32(x + 8, (uint32_t)s->bytes_in);
        frame(s, XG_FRAME_EXIT, x, sizeof(x));
        s->x_queued = true;
        *progress = true;
    }
    /*
     * The sender asked us to change keys too: OpenSSL sends our KeyUpdate
     * with the next frame (it refuses while a frame is half written).
     */
    if (s->update_reply && !s->inflight && SSL_key_update(s->ssl, SSL_KEY_UPDATE_NOT_REQUESTED))
        s->update_reply = false;
    /* frames -> TLS (OpenSSL's direction; it never needs to read now) */
    while (s->ooff < s->olen) {
        size_t len = s->inflight ? s->inflight : s->olen - s->ooff;
        int n = SSL_write(s->ssl, s->obuf + s->ooff, (int)len);
        if (n <= 0) {
            if (SSL_get_error(s->ssl, n) != SSL_ERROR_WANT_WRITE)
                return ssl_err(s, n, "sending");
            s->inflight = len;
            break;
        }
        s->inflight = 0;
        s->ooff += (size_t)n;
        *progress = true;
    }
    return 0;
}

static bool finished(const struct session *s)
{
    return s->x_queued && s->ooff == s->olen && s->peer_eof;
}

static int pump(struct session *s)
{
    int64_t last = xg_now_ms();
    for (;;) {
        bool progress = false;
        if (step(s, &progress) < 0)
            return -1;
        if (finished(s)) {
            int64_t deadline = xg_now_ms() + (int64_t)s->o->handshake_timeout * 1000;
            for (;;) {
                int n = SSL_shutdown(s->ssl);
                if (n >= 0)
                    return 0;
                int w = xg_wait_ssl(s->ssl, s->sock, n, deadline);
                if (w < 0)
                    return ssl_err(s, n, "closing");
            }
        }
        if (progress) {
            last = xg_now_ms();
            continue;
        }
        struct pollfd p[5];
        int np = 0;
        short sev = 0;
        if (!s->peer_eof && s->rx_fill < RX_CAP)
            sev |= POLLIN;
        if (s->ooff < s->olen)
            sev |= POLLOUT;
        p[np++] = (struct pollfd){.fd = s->sock, .events = sev};
        if (s->cin >= 0 && s->seg_count)
            p[np++] = (struct pollfd){.fd = s->cin, .events = POLLOUT};
        if (s->cout >= 0)
            p[np++] = (struct pollfd){.fd = s->cout, .events = POLLIN};
        if (s->cerr >= 0)
            p[np++] = (struct pollfd){.fd = s->cerr, .events = POLLIN};
        if (!s->reaped && s->pidfd >= 0 && s->cout < 0 && s->cerr < 0)
            p[np++] = (struct pollfd){.fd = s->pidfd, .events = POLLIN};
        int64_t left = last + (int64_t)s->o->idle_timeout * 1000 - xg_now_ms();
        if (left <= 0) {
            snprintf(s->result, sizeof(s->result), "fail: idle for %u s", s->o->idle_timeout);
            return -1;
        }
        if (!s->reaped && s->pidfd < 0 && s->cout < 0 && s->cerr < 0 && left > 100)
            left = 100;
        if (poll(p, (nfds_t)np, (int)left) < 0 && errno != EINTR) {
            snprintf(s->result, sizeof(s->result), "fail: poll: %s", strerror(errno));
            return -1;
        }
    }
}

/*
 * A last frame and close_notify, best effort, within the deadline: 'R'
 * (refused, before ACCEPT) or 'F' (the stream failed, after it), whose
 * reason the sender prints. Nothing is pending in OpenSSL's direction
 * before ACCEPT; after it, a frame half-written by SSL_write must be
 * finished first, so then nothing more is sent.
 */
static void last_frame(struct session *s, uint8_t type, const char *why, int64_t deadline)
{
    uint8_t f[5 + 300];
    size_t len = strlen(why) > 300 ? 300 : strlen(why);
    if (s->inflight)
        return;
    f[0] = type;
    put32(f + 1, (uint32_t)len);
    memcpy(f + 5, why, len);
    for (;;) {
        int n = SSL_write(s->ssl, f, (int)(5 + len));
        if (n > 0 || xg_wait_ssl(s->ssl, s->sock, n, deadline) < 0)
            break;
    }
    for (;;) {
        int n = SSL_shutdown(s->ssl);
        if (n >= 0 || xg_wait_ssl(s->ssl, s->sock, n, deadline) < 0)
            break;
    }
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
    getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host, sizeof(host), port, sizeof(port),
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, len, "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port);
}

/* Handshake, request, checks; 0 when the command runs, -1 refused (logged). */
static int admit(struct session *s, int log_fd)
{
    char e[256];
    int64_t deadline = xg_now_ms() + (int64_t)s->o->handshake_timeout * 1000;
    for (;;) {
        int n = SSL_accept(s->ssl);
        if (n == 1)
            break;
        int w = xg_wait_ssl(s->ssl, s->sock, n, deadline);
        if (w == 0)
            continue;
        if (s->peer.refused[0])
            log_line(log_fd, "refused addr=%s reason=\"%s\"", s->addr, s->peer.refused);
        else if (w == -2)
            log_line(log_fd, "refused addr=%s reason=\"handshake timeout\"", s->addr);
        else if (SSL_get_error(s->ssl, n) == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            log_line(log_fd, "refused addr=%s reason=\"connection closed during handshake\"",
                     s->addr);
        else
            log_line(log_fd, "refused addr=%s reason=\"TLS handshake: %s\"", s->addr,
                     xg_tls_error(e, sizeof(e)));
        return -1;
    }
    s->peer.stream_records = 0; /* records under the application traffic secret from here */
    /* the verify callback already checked the allowlist; check again, plainly */
    X509 *cert = SSL_get1_peer_certificate(s->ssl);
    bool ok = cert && SSL_get_verify_result(s->ssl) == X509_V_OK &&
              xg_allow_match(s->o, cert, s->peer.who, sizeof(s->peer.who));
    X509_free(cert);
    if (!ok) {
        log_line(log_fd, "refused addr=%s reason=\"peer not verified\"", s->addr);
        return -1;
    }
    struct xg_err err = {{0}};
    int used = 0;
    while (used == 0) {
        int n = SSL_read(s->ssl, s->rx + s->ilen, (int)(XG_TUNNEL_REQ_MAX - s->ilen));
        if (n > 0) {
            s->ilen += (size_t)n;
            used = xg_request_decode(s->rx, s->ilen, &s->req, &err);
            if (used == 0 && s->ilen >= XG_TUNNEL_REQ_MAX)
                used = xg_fail(&err, "request too long");
            continue;
        }
        int w = xg_wait_ssl(s->ssl, s->sock, n, deadline);
        if (w < 0) {
            log_line(log_fd, "refused peer=%s addr=%s reason=\"%s\"", s->peer.who, s->addr,
                     w == -2 ? "no request before the handshake timeout" : "no request");
            return -1;
        }
    }
    struct xg_recv_flags flags;
    char **argv = NULL;
    if (used > 0 && ((size_t)used != s->ilen || SSL_has_pending(s->ssl)))
        used = xg_fail(&err, "data after the request, before it was accepted");
    /*
     * The stream direction becomes ours (record.c) at OpenSSL's next
     * sequence number: it reads without read-ahead, so no byte of the
     * stream is in its buffer.
     */
    if (used > 0 &&
        xg_rec_keys_init(&s->keys, s->ssl, s->peer.stream_secret, s->peer.stream_secret_len,
                         s->peer.stream_records, false, &err) < 0)
        used = -1;
    OPENSSL_cleanse(s->peer.stream_secret, sizeof(s->peer.stream_secret));
    if (used < 0 || xg_recv_flags_parse(s->req.argc, s->req.argv, &flags, &err) < 0 ||
        xg_recv_argv(s->o->receive_command, &flags, &argv, &err) < 0) {
        log_line(log_fd, "refused peer=%s addr=%s reason=\"%s\"", s->peer.who, s->addr, err.msg);
        last_frame(s, XG_FRAME_REFUSE, err.msg, deadline);
        return -1;
    }
    if (!xg_domain_name_ok(s->req.domain))
        snprintf(s->req.domain, sizeof(s->req.domain), "-");
    int rc = spawn(s, argv);
    xg_argv_free(argv);
    if (rc < 0) {
        log_line(log_fd, "refused peer=%s addr=%s reason=\"cannot start the receive command: %s\"",
                 s->peer.who, s->addr, strerror(errno));
        last_frame(s, XG_FRAME_REFUSE, "receiver cannot start its receive command", deadline);
        return -1;
    }
    frame(s, XG_FRAME_ACCEPT, NULL, 0);
    return 0;
}

/* One connection, start to end. Returns 0 when it ended well. */
static int session(SSL_CTX *ctx, const struct xg_tunnel_opts *o, int fd,
                   const struct sockaddr_storage *ss, int log_fd)
{
    struct session s = {.o = o, .sock = fd, .cin = -1, .cout = -1, .cerr = -1, .pidfd = -1};
    int rc = -1;
    double t0 = xg_now_s();

    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    addr_text(ss, s.addr, sizeof(s.addr));
    s.peer.opts = o;
    s.rx = malloc(RX_CAP);
    s.obuf = malloc(XG_IO_BUF);
    s.ssl = SSL_new(ctx);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    xg_set_nonblock(fd, true);
    if (!s.rx || !s.obuf || !s.ssl || xg_tls_attach(s.ssl, &s.peer) < 0 || !SSL_set_fd(s.ssl, fd)) {
        log_line(log_fd, "refused addr=%s reason=\"out of memory\"", s.addr);
        goto out;
    }
    if (admit(&s, log_fd) < 0)
        goto out;
    if (pump(&s) == 0) {
        if (s.status == 0 && !s.discarded)
            snprintf(s.result, sizeof(s.result), "ok");
        else
            snprintf(s.result, sizeof(s.result), "exit %d%s", s.status,
                     s.discarded ? " (stream not fully read)" : "");
        rc = s.status == 0 && !s.discarded ? 0 : -1;
    }
    stop_child(&s);
    log_line(log_fd,
             "session peer=%s addr=%s domain=%s bytes_in=%llu bytes_out=%llu seconds=%.2f "
             "result=%s",
             s.peer.who, s.addr, s.req.domain, (unsigned long long)s.bytes_in,
             (unsigned long long)s.bytes_out, xg_now_s() - t0, s.result);
out:
    if (s.cout >= 0)
        close(s.cout);
    if (s.cerr >= 0)
        close(s.cerr);
    if (s.pidfd >= 0)
        close(s.pidfd);
    SSL_free(s.ssl);
    close(fd);
    free(s.rx);
    xg_rec_keys_free(&s.keys);
    OPENSSL_cleanse(&s.peer, sizeof(s.peer));
    free(s.obuf);
    xg_request_free(&s.req);
    return rc;
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
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
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

int xg_tunnel_server(const struct xg_tunnel_opts *o, bool once, int log_fd, struct xg_err *err)
{
    SSL_CTX *ctx = xg_tls_ctx_new(o, true, err);
    if (!ctx)
        return -1;
    int lfd = listen_on(o, err), sfd = -1, rc = -1;
    unsigned active = 0;
    if (lfd < 0)
        goto out;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char where[80];
    getsockname(lfd, (struct sockaddr *)&ss, &sl);
    addr_text(&ss, where, sizeof(where));
    log_line(log_fd, "listening on %s", where);

    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &old);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        xg_fail(err, "signalfd: %s", strerror(errno));
        goto restore;
    }
    for (;;) {
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            xg_fail(err, "poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents) {
            struct signalfd_siginfo si;
            bool stop = false;
            while (read(sfd, &si, sizeof(si)) == sizeof(si))
                if (si.ssi_signo != SIGCHLD)
                    stop = true;
            while (active && waitpid(-1, NULL, WNOHANG) > 0)
                active--;
            if (stop) {
                log_line(log_fd, "stopping");
                rc = 0;
                break;
            }
        }
        if (!p[0].revents)
            continue;
        sl = sizeof(ss);
        int cfd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        if (once) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            rc = session(ctx, o, cfd, &ss, log_fd);
            break;
        }
        if (active >= o->max_sessions) {
            char a[80];
            addr_text(&ss, a, sizeof(a));
            log_line(log_fd, "refused addr=%s reason=\"%u sessions already (max-sessions)\"", a,
                     active);
            close(cfd);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(lfd);
            close(sfd);
            sigprocmask(SIG_SETMASK, &old, NULL);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            _exit(session(ctx, o, cfd, &ss, log_fd) == 0 ? 0 : 1);
        }
        close(cfd);
        if (pid > 0)
            active++;
        else
            log_line(log_fd, "cannot fork a session: %s", strerror(errno));
    }
restore:
    sigprocmask(SIG_SETMASK, &old, NULL);
out:
    if (sfd >= 0)
        close(sfd);
    if (lfd >= 0)
        close(lfd);
    SSL_CTX_free(ctx);
    return rc;
}
