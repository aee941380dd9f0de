/*
 * server.c — one tunneld session, from the TCP connection to its log line.
 *
 * The listener (listen.c) forks one process per connection and runs
 * xg_session in it. A session then, in this order and under the handshake
 * deadline: completes TLS 1.3 with a client certificate that chains to our
 * CA (tls.c; otherwise the handshake fails with an alert), checks that the
 * certificate is on the allowlist (otherwise it tells the sender why, in a
 * refusal frame, without reading one application byte), reads the request,
 * re-validates its flags and domain name (request.c), asks the listener for
 * one of the max-sessions slots, and only then starts the configured
 * receive command in its own process group. The stream goes to the
 * command's stdin, its stdout/stderr come back as frames. The session
 * ends well only when the client's close_notify has arrived, the command
 * has exited, and the exit frame and our close_notify are out. Any other
 * end (TLS error, forged record, truncation, idle timeout, tunneld
 * stopping) first kills the command's process group (SIGTERM, a grace
 * period, SIGKILL) and only then closes its stdin: a broken stream must
 * never look like a clean end of input to `cat >file`. The group leader is
 * reaped only after the group was killed, so the group id cannot have been
 * reused. Each session logs one line (log.c escapes every value).
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
#include "tunnel/log.h"
#include "tunnel/record.h"
#include "tunnel/server.h"
#include "tunnel/tunnel.h"

#define KILL_GRACE_MS 3000
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
    int log_fd, ctl_fd, sig_fd; /* the log; the listener (-1 with --once); SIGTERM/SIGINT */
    pid_t pid;
    bool peer_eof, exited, x_queued, shut_sent, update_reply;
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

/*
 * A refused connection's log line. It goes through the listener, which
 * rate-limits refusals (strangers choose how many there are); with --once
 * there is no listener and it is written here.
 */
static void log_refused(const struct session *s, const char *reason)
{
    struct xg_log l;
    xg_log_begin(&l, "refused");
    xg_log_kv(&l, "addr", s->addr);
    if (s->peer.who[0])
        xg_log_kv(&l, "peer", s->peer.who);
    xg_log_kvq(&l, "reason", reason);
    if (s->ctl_fd < 0 || xg_ctl_send(s->ctl_fd, XG_CTL_LOG, xg_log_text(&l)) < 0)
        xg_log_write(s->log_fd, &l);
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
    signal(SIGHUP, SIG_DFL);
    setpgid(0, 0);
    /* if the session process dies without stopping us (SIGKILL), do not outlive it */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
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

/*
 * Has the command exited? Its status is read without reaping it (WNOWAIT):
 * an unreaped leader keeps its pid, which is its process group's id, ours,
 * so kill(-pid) in stop_child can never reach a group that reused the id.
 */
static void check_exit(struct session *s)
{
    siginfo_t si = {0};
    if (s->pid <= 0 || s->exited ||
        waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != s->pid)
        return;
    s->exited = true;
    s->status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

static void wait_exit(struct session *s, int64_t until)
{
    for (check_exit(s); !s->exited && xg_now_ms() < until; check_exit(s)) {
        struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
        if (s->pidfd < 0 || poll(&p, 1, (int)(until - xg_now_ms())) < 0)
            usleep(10000);
    }
}

/*
 * The end of a session. A broken one (failed) first stops the command:
 * SIGTERM to its group, a grace period, then SIGKILL, all while its stdin
 * is still open, so it can never take the cut for the end of the stream.
 * Either way, anything left in its group is killed, then the leader and
 * the group's orphans (we are their subreaper) are reaped.
 */
static void stop_child(struct session *s, bool failed)
{
    if (s->pid > 0) {
        check_exit(s);
        if (failed && !s->exited) {
            kill(-s->pid, SIGTERM);
            wait_exit(s, xg_now_ms() + KILL_GRACE_MS);
        }
        kill(-s->pid, SIGKILL); /* the leader is unreaped: the group id is still ours */
    }
    if (s->cin >= 0)
        close(s->cin), s->cin = -1;
    if (s->pid <= 0)
        return;
    int st;
    if (waitpid(s->pid, &st, 0) == s->pid && !s->exited) {
        s->exited = true;
        s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
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
    if (s->cout < 0 && s->cerr < 0 && !s->exited)
        check_exit(s);
    if (s->cout < 0 && s->cerr < 0 && s->exited && !s->x_queued && oroom(s) >= 17) {
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
        struct pollfd p[6];
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
        if (!s->exited && s->pidfd >= 0 && s->cout < 0 && s->cerr < 0)
            p[np++] = (struct pollfd){.fd = s->pidfd, .events = POLLIN};
        if (s->sig_fd >= 0)
            p[np++] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
        int64_t left = last + (int64_t)s->o->idle_timeout * 1000 - xg_now_ms();
        if (left <= 0) {
            snprintf(s->result, sizeof(s->result), "fail: idle for %u s", s->o->idle_timeout);
            return -1;
        }
        if (!s->exited && s->pidfd < 0 && s->cout < 0 && s->cerr < 0 && left > 100)
            left = 100;
        if (poll(p, (nfds_t)np, (int)left) < 0 && errno != EINTR) {
            snprintf(s->result, sizeof(s->result), "fail: poll: %s", strerror(errno));
            return -1;
        }
        if (s->sig_fd >= 0 && p[np - 1].revents)
            return recv_fail(s, "tunneld is stopping");
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

/*
 * Refuse an authenticated (or at least chained) peer: log the reason and
 * send it in an 'R' frame for the sender to print. Then read and discard
 * what the sender already sent (its request) until it closes, for at most
 * a second, so that our close does not turn into a reset that destroys the
 * frame before the sender has read it.
 */
static void refuse(struct session *s, const char *log_reason, const char *sender_reason,
                   int64_t deadline)
{
    log_refused(s, log_reason);
    last_frame(s, XG_FRAME_REFUSE, sender_reason, deadline);
    int64_t until = xg_now_ms() + 1000;
    uint8_t junk[4096];
    while (xg_now_ms() < until) { /* however fast the peer sends, a second at most */
        ssize_t n = read(s->sock, junk, sizeof(junk));
        struct pollfd p = {.fd = s->sock, .events = POLLIN};
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
        if (n < 0 && errno == EAGAIN)
            poll(&p, 1, (int)(until - xg_now_ms() > 0 ? until - xg_now_ms() : 0));
    }
}

/* TLS 1.3 with a certificate that chains to our CA (tls.c); -1 logged */
static int handshake(struct session *s, int64_t deadline)
{
    char e[256];
    for (;;) {
        int n = SSL_accept(s->ssl);
        if (n == 1)
            return 0;
        int w = xg_wait_ssl(s->ssl, s->sock, n, deadline);
        if (w == 0)
            continue;
        if (s->peer.refused[0])
            log_refused(s, s->peer.refused);
        else if (w == -2)
            log_refused(s, "handshake timeout");
        else if (SSL_get_error(s->ssl, n) == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            log_refused(s, "connection closed during handshake");
        else {
            char why[300];
            snprintf(why, sizeof(why), "TLS handshake: %s", xg_tls_error(e, sizeof(e)));
            log_refused(s, why);
        }
        return -1;
    }
}

/* The verified certificate must be on the allowlist; if not, the sender learns why. */
static int check_peer(struct session *s, int64_t deadline)
{
    X509 *cert = SSL_get1_peer_certificate(s->ssl);
    char subject[256] = "?", fp[72] = "?", why[XG_ERR_MAX];
    bool ok = cert && SSL_get_verify_result(s->ssl) == X509_V_OK &&
              xg_allow_match(s->o, cert, s->peer.who, sizeof(s->peer.who));
    if (cert && !ok) {
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        xg_cert_fingerprint(cert, fp);
    }
    X509_free(cert);
    if (ok)
        return 0;
    s->peer.who[0] = 0;
    if (!cert) {
        log_refused(s, "peer not verified");
        return -1;
    }
    snprintf(why, sizeof(why), "certificate %.200s (%s) is not on the allowlist", subject, fp);
    refuse(s, why,
           "this sender's certificate is not on the receiver's allowlist: add its name or "
           "sha256 fingerprint to the receiver's [tunnel] peer-names / peer-fingerprints",
           deadline);
    return -1;
}

/* The request, through OpenSSL; >0 bytes used, -1 (err) refused, -2 nothing came (logged) */
static int read_request(struct session *s, int64_t deadline, struct xg_err *err)
{
    int used = 0;
    while (used == 0) {
        int n = SSL_read(s->ssl, s->rx + s->ilen, (int)(XG_TUNNEL_REQ_MAX - s->ilen));
        if (n > 0) {
            s->ilen += (size_t)n;
            used = xg_request_decode(s->rx, s->ilen, &s->req, err);
            if (used == 0 && s->ilen >= XG_TUNNEL_REQ_MAX)
                used = xg_fail(err, "request too long");
            continue;
        }
        int w = xg_wait_ssl(s->ssl, s->sock, n, deadline);
        if (w < 0) {
            log_refused(s, w == -2 ? "no request before the handshake timeout" : "no request");
            return -2;
        }
    }
    if (used > 0 && ((size_t)used != s->ilen || SSL_has_pending(s->ssl)))
        used = xg_fail(err, "data after the request, before it was accepted");
    return used;
}

/* One of the max-sessions slots, from the listener; false (why) when all are taken or
 * tunneld is stopping. */
static bool session_slot(struct session *s, int64_t deadline, char *why, size_t len)
{
    char reply[XG_CTL_MAX];
    struct pollfd sig = {.fd = s->sig_fd, .events = POLLIN};
    if (s->sig_fd >= 0 && poll(&sig, 1, 0) == 1) { /* SIGTERM came during the handshake */
        snprintf(why, len, "receiver is stopping");
        return false;
    }
    if (s->ctl_fd < 0)
        return true; /* --once: the only session */
    if (xg_ctl_send(s->ctl_fd, XG_CTL_SLOT, "") < 0 ||
        xg_ctl_recv(s->ctl_fd, reply, sizeof(reply), deadline) < 0) {
        snprintf(why, len, "receiver is stopping");
        return false;
    }
    if (reply[0] == XG_CTL_YES)
        return true;
    snprintf(why, len, "%.400s", reply + 1);
    return false;
}

/* Handshake, request, checks; 0 when the command runs, -1 refused (logged). */
static int admit(struct session *s)
{
    int64_t deadline = xg_now_ms() + (int64_t)s->o->handshake_timeout * 1000;
    if (handshake(s, deadline) < 0)
        return -1;
    s->peer.stream_records = 0; /* records under the application traffic secret from here */
    if (check_peer(s, deadline) < 0)
        return -1;
    struct xg_err err = {{0}};
    int used = read_request(s, deadline, &err);
    if (used == -2)
        return -1;
    struct xg_recv_flags flags;
    char **argv = NULL, why[XG_ERR_MAX];
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
    if (used > 0 && s->req.domain[0] && !xg_domain_name_ok(s->req.domain))
        used = xg_fail(&err,
                       "domain name '%.64s' is not allowed (letters, digits, '_', '.', '-'; at "
                       "most %d)",
                       s->req.domain, XG_TUNNEL_DOMAIN_MAX);
    if (used < 0 || xg_recv_flags_parse(s->req.argc, s->req.argv, &flags, &err) < 0 ||
        xg_recv_argv(s->o->receive_command, &flags, &argv, &err) < 0) {
        s->req.domain[0] = 0;
        refuse(s, err.msg, err.msg, deadline);
        return -1;
    }
    if (!s->req.domain[0])
        snprintf(s->req.domain, sizeof(s->req.domain), "-");
    if (!session_slot(s, deadline, why, sizeof(why))) {
        xg_argv_free(argv);
        refuse(s, why, why, deadline);
        return -1;
    }
    int rc = spawn(s, argv);
    xg_argv_free(argv);
    if (rc < 0) {
        snprintf(why, sizeof(why), "cannot start the receive command: %s", strerror(errno));
        refuse(s, why, "receiver cannot start its receive command", deadline);
        return -1;
    }
    frame(s, XG_FRAME_ACCEPT, NULL, 0);
    return 0;
}

/* The session's own signals: SIGTERM/SIGINT (tunneld stopping) end it cleanly, SIGHUP is
 * the listener's. */
static int session_signals(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGTERM);
    sigaddset(&m, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigprocmask(SIG_SETMASK, &m, NULL);
    return signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void log_session(struct session *s, double t0)
{
    struct xg_log l;
    xg_log_begin(&l, "session");
    xg_log_kv(&l, "peer", s->peer.who);
    xg_log_kv(&l, "addr", s->addr);
    xg_log_kv(&l, "domain", s->req.domain);
    xg_log_kvf(&l, "bytes_in", "%llu", (unsigned long long)s->bytes_in);
    xg_log_kvf(&l, "bytes_out", "%llu", (unsigned long long)s->bytes_out);
    xg_log_kvf(&l, "seconds", "%.2f", xg_now_s() - t0);
    /* result=ok, result="exit N"; a failure's free text goes into reason="..." */
    if (!strncmp(s->result, "fail: ", 6)) {
        xg_log_kv(&l, "result", "fail");
        xg_log_kvq(&l, "reason", s->result + 6);
    } else {
        xg_log_kv(&l, "result", s->result);
    }
    xg_log_write(s->log_fd, &l);
}

int xg_session(SSL_CTX *ctx, const struct xg_tunnel_opts *o, int fd,
               const struct sockaddr_storage *ss, int log_fd, int ctl_fd)
{
    struct session s = {.o = o,
                        .sock = fd,
                        .cin = -1,
                        .cout = -1,
                        .cerr = -1,
                        .pidfd = -1,
                        .log_fd = log_fd,
                        .ctl_fd = ctl_fd};
    int rc = -1;
    double t0 = xg_now_s();

    s.sig_fd = session_signals();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    xg_addr_text(ss, s.addr, sizeof(s.addr));
    s.peer.opts = o;
    s.rx = malloc(RX_CAP);
    s.obuf = malloc(XG_IO_BUF);
    s.ssl = SSL_new(ctx);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    xg_set_nonblock(fd, true);
    if (!s.rx || !s.obuf || !s.ssl || xg_tls_attach(s.ssl, &s.peer) < 0 || !SSL_set_fd(s.ssl, fd)) {
        log_refused(&s, "out of memory");
        goto out;
    }
    if (admit(&s) < 0)
        goto out;
    bool ended = pump(&s) == 0;
    if (ended) {
        if (s.status == 0 && !s.discarded)
            snprintf(s.result, sizeof(s.result), "ok");
        else
            snprintf(s.result, sizeof(s.result), "exit %d%s", s.status,
                     s.discarded ? " (stream not fully read)" : "");
        rc = s.status == 0 && !s.discarded ? 0 : -1;
    }
    stop_child(&s, !ended);
    log_session(&s, t0);
out:
    if (s.cout >= 0)
        close(s.cout);
    if (s.cerr >= 0)
        close(s.cerr);
    if (s.pidfd >= 0)
        close(s.pidfd);
    if (s.sig_fd >= 0)
        close(s.sig_fd);
    SSL_free(s.ssl);
    close(fd);
    free(s.rx);
    xg_rec_keys_free(&s.keys);
    OPENSSL_cleanse(&s.peer, sizeof(s.peer));
    free(s.obuf);
    xg_request_free(&s.req);
    return rc;
}
