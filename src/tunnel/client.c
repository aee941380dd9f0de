/*
 * client.c — the sending end: stdin -> TLS -> receiver, replies -> stdout.
 *
 * xl gives us two pipes: the migration stream on stdin (hundreds of MiB to
 * many GiB) and its reply channel on stdout (a few short messages it waits
 * for). One poll() loop moves both at once. The request goes through
 * OpenSSL; once the receiver accepts, the stream direction is ours
 * (record.c): stdin is read straight into up to 32 record slots at a time,
 * sealed in place and sent with one writev(2). Every reply frame (OpenSSL's
 * records, SSL_read) is written to stdout
 * the moment it is decrypted (no stdio buffering, TCP_NODELAY on the
 * socket). End of stdin becomes our close_notify, which closes only our
 * direction: replies keep flowing until the receiver's exit frame and its
 * own close_notify. Only then, and only if the receiver counted exactly the
 * bytes we sent, is the receiver's exit status ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tunnel/io.h"
#include "tunnel/record.h"
#include "tunnel/tunnel.h"

#define SLOTS       32
#define SLOT_LEAD   (64 - XG_REC_HDR)
#define SLOT_STRIDE (64 + XG_REC_PLAIN_MAX + 64)

struct client {
    SSL *ssl;
    struct xg_peer *peer;
    int sock;
    uint8_t *sbuf; /* the request, on its way into TLS (OpenSSL's records) */
    size_t slen, soff;
    uint8_t *ring; /* the stream: record slots (our records, record.c) */
    uint32_t rec_len[SLOTS];
    unsigned head, count; /* oldest sealed slot, number of sealed slots */
    size_t head_off;      /* bytes of the oldest record already sent */
    struct xg_rec_keys tx;
    uint8_t *rbuf; /* frames from the receiver */
    size_t rlen, roff;
    int cur_fd; /* the fd the current O/E frame's payload goes to (-1: none) */
    size_t cur_left;
    bool accepted, switched, in_eof, stop_send, rekey_due, close_sealed, shut_sent, peer_eof;
    bool got_exit, stream_busy;
    bool ssl_read_wants_write, ssl_write_wants_read, out_blocked, corked;
    int status;
    unsigned late_writes; /* OpenSSL tried to write after the hand-over */
    uint64_t remote_bytes, sent, rekey_next;
};

static int connect_host(const char *host, uint16_t port, int64_t deadline, struct xg_err *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res, *ai;
    char portstr[8];
    int fd = -1, rc, saved = 0;

    snprintf(portstr, sizeof(portstr), "%u", port);
    if ((rc = getaddrinfo(host, portstr, &hints, &res)))
        return xg_fail(err, "%s: %s", host, gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int64_t left = deadline - xg_now_ms();
            socklen_t sl = sizeof(saved);
            if (left > 0 && poll(&p, 1, (int)left) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &saved, &sl) == 0 && saved == 0)
                break;
            if (!saved)
                saved = ETIMEDOUT;
        } else {
            saved = errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return xg_fail(err, "cannot connect to %s port %u: %s", host, port, strerror(saved));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/*
 * The stream after ACCEPT: a ring of record slots. stdin is read (readv)
 * straight into the content area of the free slots, each slot is sealed in
 * place (record.c) and the sealed records leave with one writev(2), so the
 * stream is never copied in user space. A slot's content starts on a
 * 64-byte boundary; header before it, inner type and tag after it.
 */

static uint8_t *slot(struct client *c, unsigned i)
{
    return c->ring + (size_t)(i % SLOTS) * SLOT_STRIDE + SLOT_LEAD;
}

/* seal the next free slot, whose content (len bytes) is in place */
static int seal_next(struct client *c, size_t len, enum xg_rec_type type, struct xg_err *err)
{
    unsigned i = (c->head + c->count) % SLOTS;
    ssize_t n = xg_rec_seal(&c->tx, slot(c, i), len, type, err);
    if (n < 0)
        return -1;
    c->rec_len[i] = (uint32_t)n;
    c->count++;
    return 0;
}

/*
 * After OpenSSL hands the stream direction over, nothing may leave under
 * its (now stale) sequence numbers: its write BIO refuses every byte, and a
 * refused write fails the tunnel.
 */
static int sealed_write(BIO *b, const char *data, int len)
{
    struct client *c = BIO_get_data(b);
    (void)data, (void)len;
    c->late_writes++;
    BIO_clear_retry_flags(b);
    return -1;
}

static long sealed_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO *sealed_bio(struct client *c)
{
    static BIO_METHOD *m;
    if (!m) {
        m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "xenguard sealed");
        if (!m || !BIO_meth_set_write(m, sealed_write) || !BIO_meth_set_ctrl(m, sealed_ctrl))
            return NULL;
    }
    BIO *b = BIO_new(m);
    if (b) {
        BIO_set_data(b, c);
        BIO_set_init(b, 1);
    }
    return b;
}

/* ACCEPT came: the stream direction becomes ours, at OpenSSL's next sequence number */
static int take_over(struct client *c, struct xg_err *err)
{
    if (c->soff != c->slen)
        return xg_fail(err, "receiver accepted before the whole request was sent");
    int rc = xg_rec_keys_init(&c->tx, c->ssl, c->peer->stream_secret, c->peer->stream_secret_len,
                              c->peer->stream_records, true, err);
    OPENSSL_cleanse(c->peer->stream_secret, sizeof(c->peer->stream_secret));
    if (rc < 0)
        return -1;
    BIO *wb = sealed_bio(c);
    if (!wb)
        return xg_fail(err, "TLS setup failed");
    SSL_set0_wbio(c->ssl, wb);
    c->switched = true;
    return 0;
}

/* More of stdin fits: open, no control record due, and a slot beyond the one kept for it. */
static bool stdin_wanted(const struct client *c)
{
    return c->switched && !c->in_eof && !c->stop_send && !c->rekey_due && c->count + 1 < SLOTS;
}

/*
 * How many more data records the current key may seal: rekey-records in
 * all (RFC 8446 5.5's AES-GCM limit, whatever their size: a trickling
 * stdin makes many small records), one of them kept for the KeyUpdate.
 */
static uint64_t records_left(const struct client *c, const struct xg_tunnel_opts *o)
{
    return c->tx.seq + 1 < o->rekey_records ? o->rekey_records - 1 - c->tx.seq : 0;
}

/* stdin -> slots -> sealed records; then a KeyUpdate or close_notify when due */
static int fill_ring(struct client *c, const struct xg_tunnel_opts *o, bool *progress,
                     struct xg_err *err)
{
    if (c->switched && !c->rekey_due && records_left(c, o) == 0) {
        c->rekey_due = true;
        c->rekey_next = c->sent + o->rekey_bytes; /* a new key: its bytes count from here */
    }
    if (stdin_wanted(c)) {
        struct iovec iov[SLOTS];
        unsigned k = 0;
        uint64_t most = records_left(c, o);
        for (unsigned j = c->count; j + 1 < SLOTS && k < most; j++)
            iov[k++] = (struct iovec){slot(c, c->head + j) + XG_REC_HDR, XG_REC_PLAIN_MAX};
        ssize_t n = readv(0, iov, (int)k);
        if (n > 0) {
            c->stream_busy = (size_t)n == (size_t)k * XG_REC_PLAIN_MAX;
            for (size_t left = (size_t)n; left;) {
                size_t len = left < XG_REC_PLAIN_MAX ? left : XG_REC_PLAIN_MAX;
                if (seal_next(c, len, XG_REC_DATA, err) < 0)
                    return -1;
                left -= len;
            }
            c->sent += (uint64_t)n;
            if (c->sent >= c->rekey_next) {
                c->rekey_due = true;
                c->rekey_next += o->rekey_bytes;
            }
            *progress = true;
        } else if (n == 0) {
            c->in_eof = true;
            c->stream_busy = false;
            *progress = true;
        } else if (errno == EAGAIN) {
            c->stream_busy = false;
        } else if (errno != EINTR) {
            return xg_fail(err, "reading the migration stream: %s", strerror(errno));
        }
    }
    if (c->rekey_due && c->count < SLOTS) {
        uint8_t *rec = slot(c, c->head + c->count);
        size_t len = xg_rec_key_update_msg(rec + XG_REC_HDR, true); /* both directions */
        if (seal_next(c, len, XG_REC_HANDSHAKE, err) < 0 || xg_rec_keys_update(&c->tx, err) < 0)
            return -1;
        c->rekey_due = false;
        *progress = true;
    }
    if ((c->in_eof || c->stop_send) && !c->rekey_due && !c->close_sealed && c->count < SLOTS) {
        uint8_t *rec = slot(c, c->head + c->count);
        rec[XG_REC_HDR] = 1;     /* warning */
        rec[XG_REC_HDR + 1] = 0; /* close_notify */
        if (seal_next(c, 2, XG_REC_ALERT, err) < 0)
            return -1;
        c->close_sealed = true;
        *progress = true;
    }
    return 0;
}

/* sealed records -> socket, as many as it takes in one writev */
static int send_ring(struct client *c, bool *progress, struct xg_err *err)
{
    while (c->count) {
        struct iovec iov[SLOTS];
        for (unsigned j = 0; j < c->count; j++) {
            size_t off = j == 0 ? c->head_off : 0;
            unsigned i = (c->head + j) % SLOTS;
            iov[j] = (struct iovec){slot(c, i) + off, c->rec_len[i] - off};
        }
        ssize_t n = writev(c->sock, iov, (int)c->count);
        if (n < 0) {
            if (errno == EAGAIN)
                return 0;
            if (errno == EINTR)
                continue;
            return xg_fail(err, "sending: %s", strerror(errno));
        }
        *progress = true;
        for (size_t left = (size_t)n; left;) {
            size_t rest = c->rec_len[c->head] - c->head_off;
            if (left < rest) {
                c->head_off += left;
                break;
            }
            left -= rest;
            c->head = (c->head + 1) % SLOTS;
            c->head_off = 0;
            c->count--;
        }
    }
    if (c->close_sealed && !c->shut_sent) {
        c->shut_sent = true;
        *progress = true;
    }
    return 0;
}

static void set_cork(struct client *c, bool on)
{
    int v = on;
    if (c->corked != on && setsockopt(c->sock, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)) == 0)
        c->corked = on;
}

/* Write what we can of the current reply frame; false when the fd is full. */
static int drain_payload(struct client *c, struct xg_err *err)
{
    while (c->cur_left && c->roff < c->rlen) {
        size_t n = c->rlen - c->roff < c->cur_left ? c->rlen - c->roff : c->cur_left;
        ssize_t w = c->cur_fd >= 0 ? write(c->cur_fd, c->rbuf + c->roff, n) : (ssize_t)n;
        if (w < 0) {
            if (errno == EAGAIN) {
                c->out_blocked = true;
                return 0;
            }
            if (errno == EINTR)
                continue;
            if (c->cur_fd == 2) { /* our stderr is gone: drop diagnostics, keep going */
                w = (ssize_t)n;
            } else {
                return xg_fail(err, "writing the receiver's replies: %s", strerror(errno));
            }
        }
        c->roff += (size_t)w;
        c->cur_left -= (size_t)w;
    }
    return 0;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* the receiver's reason, safe for a terminal: control and non-ASCII bytes become '?' */
static const char *printable(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (; n < len && n + 1 < cap; n++)
        out[n] = p[n] >= 0x20 && p[n] < 0x7f ? (char)p[n] : '?';
    out[n] = 0;
    return out;
}

static int parse_frames(struct client *c, struct xg_err *err)
{
    char why[301];
    for (;;) {
        if (drain_payload(c, err) < 0)
            return -1;
        if (c->cur_left)
            return 0;
        if (c->rlen - c->roff < 5)
            break;
        uint8_t type = c->rbuf[c->roff];
        uint32_t len = get32(c->rbuf + c->roff + 1);
        if (len > XG_TUNNEL_FRAME_MAX)
            return xg_fail(err, "receiver sent an oversized frame");
        if (c->got_exit)
            return xg_fail(err, "receiver sent data after its exit status");
        if (type == XG_FRAME_STDOUT || type == XG_FRAME_STDERR) {
            if (!c->accepted)
                return xg_fail(err, "receiver sent data before accepting");
            c->cur_fd = type == XG_FRAME_STDOUT ? 1 : 2;
            c->cur_left = len;
            c->roff += 5;
            continue;
        }
        if (c->rlen - c->roff < 5 + (size_t)len)
            break;
        const uint8_t *p = c->rbuf + c->roff + 5;
        if (type == XG_FRAME_ACCEPT && !c->accepted && len == 0) {
            c->accepted = true;
        } else if (type == XG_FRAME_REFUSE && !c->accepted) {
            return xg_fail(err, "receiver refused: %s", printable(p, len, why, sizeof(why)));
        } else if (type == XG_FRAME_FAIL && c->accepted) {
            return xg_fail(err, "receiver failed: %s", printable(p, len, why, sizeof(why)));
        } else if (type == XG_FRAME_EXIT && c->accepted && len == 12) {
            c->status = (int)get32(p);
            c->remote_bytes = (uint64_t)get32(p + 4) << 32 | get32(p + 8);
            c->got_exit = true;
            c->stop_send = true; /* the receiver is done: nothing more can be delivered */
        } else {
            return xg_fail(err, "receiver sent an unexpected frame (type %u)", type);
        }
        c->roff += 5 + len;
    }
    if (c->roff == c->rlen) {
        c->roff = c->rlen = 0;
    } else if (c->roff > XG_IO_BUF / 2) {
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
        c->rlen -= c->roff;
        c->roff = 0;
    }
    return 0;
}

static int ssl_fail(struct client *c, int ret, const char *what, struct xg_err *err)
{
    char e[256];
    int code = SSL_get_error(c->ssl, ret);
    if (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        return xg_fail(err, "%s: connection lost (%s)", what,
                       errno ? strerror(errno) : "unexpected end of stream");
    return xg_fail(err, "%s: %s", what, xg_tls_error(e, sizeof(e)));
}

/* One pass over every direction; *progress says whether anything moved. */
static int step(struct client *c, const struct xg_tunnel_opts *o, bool *progress,
                struct xg_err *err)
{
    /* the request, through OpenSSL */
    c->ssl_write_wants_read = false;
    while (!c->switched && c->soff < c->slen) {
        int n = SSL_write(c->ssl, c->sbuf + c->soff, (int)(c->slen - c->soff));
        if (n <= 0) {
            int code = SSL_get_error(c->ssl, n);
            if (code == SSL_ERROR_WANT_READ)
                c->ssl_write_wants_read = true;
            else if (code != SSL_ERROR_WANT_WRITE)
                return ssl_fail(c, n, "sending", err);
            break;
        }
        *progress = true;
        c->soff += (size_t)n;
    }
    if (c->accepted && !c->switched && take_over(c, err) < 0)
        return -1;
    /* the stream, through our records */
    if (c->switched) {
        if (fill_ring(c, o, progress, err) < 0)
            return -1;
        /*
         * Cork the socket while full rings stream in, so the kernel sends
         * full-size segments; uncork (which flushes) as soon as stdin runs
         * dry, so a short tail is never held back.
         */
        set_cork(c, c->stream_busy && !c->in_eof);
        if (send_ring(c, progress, err) < 0)
            return -1;
    }
    /* TLS -> frames -> stdout/stderr */
    c->ssl_read_wants_write = false;
    c->out_blocked = false;
    if (parse_frames(c, err) < 0)
        return -1;
    while (!c->peer_eof && !c->out_blocked && c->rlen < XG_IO_BUF) {
        int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(XG_IO_BUF - c->rlen));
        if (n <= 0) {
            int code = SSL_get_error(c->ssl, n);
            if (code == SSL_ERROR_ZERO_RETURN) {
                c->peer_eof = true;
                *progress = true;
            } else if (code == SSL_ERROR_WANT_WRITE) {
                c->ssl_read_wants_write = true;
            } else if (c->late_writes && ERR_peek_error() == 0) {
                return xg_fail(err, "receiving: the receiver's records asked for a reply on "
                                    "the stream direction (refused)");
            } else if (code != SSL_ERROR_WANT_READ) {
                return ssl_fail(c, n, "receiving", err);
            }
            break;
        }
        *progress = true;
        c->rlen += (size_t)n;
        if (parse_frames(c, err) < 0)
            return -1;
    }
    return 0;
}

static int pump(struct client *c, const struct xg_tunnel_opts *o, struct xg_err *err)
{
    int64_t last = xg_now_ms();
    for (;;) {
        bool progress = false;
        if (step(c, o, &progress, err) < 0)
            return -1;
        if (c->peer_eof) {
            if (!c->accepted)
                return xg_fail(err, "receiver closed the connection before accepting");
            if (!c->got_exit)
                return xg_fail(err, "receiver closed without an exit status");
            if (c->cur_left)
                return xg_fail(err, "receiver closed in the middle of a reply");
            if (c->shut_sent)
                return 0;
        }
        if (progress) {
            last = xg_now_ms();
            continue;
        }
        struct pollfd p[3];
        int np = 0;
        short sev = 0;
        if (!c->peer_eof && !c->out_blocked)
            sev |= POLLIN;
        if (c->count || c->ssl_read_wants_write)
            sev |= POLLOUT;
        if (c->ssl_write_wants_read)
            sev |= POLLIN;
        p[np++] = (struct pollfd){.fd = c->sock, .events = sev};
        if (stdin_wanted(c))
            p[np++] = (struct pollfd){.fd = 0, .events = POLLIN};
        if (c->out_blocked)
            p[np++] = (struct pollfd){.fd = c->cur_fd, .events = POLLOUT};
        int64_t left = last + (int64_t)o->idle_timeout * 1000 - xg_now_ms();
        if (left <= 0)
            return xg_fail(err, "no progress for %u s (idle timeout)", o->idle_timeout);
        int n = poll(p, (nfds_t)np, (int)left);
        if (n < 0 && errno != EINTR)
            return xg_fail(err, "poll: %s", strerror(errno));
    }
}

int xg_tunnel_client(const struct xg_tunnel_opts *o, const char *host, const char *domain,
                     size_t argc, char *const *argv, bool verbose, struct xg_err *err)
{
    struct xg_peer peer = {.opts = o, .host = host};
    struct client c = {.sock = -1, .cur_fd = -1, .rekey_next = o->rekey_bytes, .peer = &peer};
    SSL_CTX *ctx = NULL;
    int rc = -1, fl0 = fcntl(0, F_GETFL), fl1 = fcntl(1, F_GETFL), fl2 = fcntl(2, F_GETFL);
    int64_t start = xg_now_ms(), deadline = start + (int64_t)o->handshake_timeout * 1000;
    double start_s = 0;

    signal(SIGPIPE, SIG_IGN);
    c.sbuf = malloc(XG_IO_BUF);
    c.rbuf = malloc(XG_IO_BUF);
    c.ring = malloc((size_t)SLOTS * SLOT_STRIDE);
    if (!c.sbuf || !c.rbuf || !c.ring) {
        xg_fail(err, "out of memory");
        goto out;
    }
    int req = xg_request_encode(domain, argc, argv, c.sbuf, XG_IO_BUF, err);
    if (req < 0)
        goto out;
    c.slen = (size_t)req;
    if (!(ctx = xg_tls_ctx_new(o, false, err)))
        goto out;
    start_s = xg_now_s(); /* the handshake time is TCP connect + TLS, files already loaded */
    if ((c.sock = connect_host(host, o->port, deadline, err)) < 0)
        goto out;
    c.ssl = SSL_new(ctx);
    if (!c.ssl || xg_tls_attach(c.ssl, &peer) < 0 || !SSL_set_fd(c.ssl, c.sock) ||
        !SSL_set_tlsext_host_name(c.ssl, host)) {
        xg_fail(err, "TLS setup failed");
        goto out;
    }
    for (;;) {
        int n = SSL_connect(c.ssl);
        if (n == 1)
            break;
        int w = xg_wait_ssl(c.ssl, c.sock, n, deadline);
        if (w == 0)
            continue;
        char e[256];
        if (peer.refused[0])
            xg_fail(err, "%s: refusing the receiver: %s", host, peer.refused);
        else if (w == -2)
            xg_fail(err, "%s: TLS handshake timed out", host);
        else if (SSL_get_error(c.ssl, n) == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            xg_fail(err, "%s: connection closed during the TLS handshake (refused?)", host);
        else
            xg_fail(err, "%s: TLS handshake failed: %s", host, xg_tls_error(e, sizeof(e)));
        goto out;
    }
    if (verbose)
        fprintf(stderr, "xenguard tunnel: connected to %s as %s, %s %s, handshake %.2f ms\n", host,
                peer.who, SSL_get_version(c.ssl), SSL_get_cipher_name(c.ssl),
                (xg_now_s() - start_s) * 1000);
    peer.stream_records = 0; /* records under the application traffic secret from here */
    /* fds 0/1/2 become non-blocking for the pump, and are restored below */
    fcntl(0, F_SETPIPE_SZ, 1 << 20); /* a pipe from xl: fewer, larger reads (no-op otherwise) */
    fcntl(1, F_SETPIPE_SZ, 1 << 20);
    xg_set_nonblock(0, true);
    xg_set_nonblock(1, true);
    xg_set_nonblock(2, true);
    double t0 = xg_now_s();
    if (pump(&c, o, err) < 0)
        goto out;
    if (c.remote_bytes != c.sent && c.status == 0) {
        xg_fail(err, "receiver got %llu bytes of the %llu sent", (unsigned long long)c.remote_bytes,
                (unsigned long long)c.sent);
        goto out;
    }
    if (verbose) {
        double dt = xg_now_s() - t0;
        fprintf(stderr,
                "xenguard tunnel: %llu bytes in %.2f s (%.1f MiB/s), %u key updates (receiver "
                "%u), receiver exit %d\n",
                (unsigned long long)c.sent, dt, dt > 0 ? (double)c.sent / dt / 1048576 : 0.0,
                c.tx.updates, peer.key_updates_in, c.status);
    }
    rc = c.status;
out:
    if (fl0 >= 0)
        fcntl(0, F_SETFL, fl0);
    if (fl1 >= 0)
        fcntl(1, F_SETFL, fl1);
    if (fl2 >= 0)
        fcntl(2, F_SETFL, fl2);
    SSL_free(c.ssl);
    SSL_CTX_free(ctx);
    if (c.sock >= 0)
        close(c.sock);
    free(c.sbuf);
    free(c.rbuf);
    free(c.ring);
    xg_rec_keys_free(&c.tx);
    OPENSSL_cleanse(&peer, sizeof(peer));
    return rc;
}
