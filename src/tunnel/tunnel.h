/*
 * tunnel.h — xenguard's migration tunnel: TLS 1.3 between two Dom0s.
 *
 * `xl migrate -s "xenguard tunnel" DOMAIN HOST` makes xl run
 *   sh -c "exec xenguard tunnel HOST xl [-t] [-T] [-v..] migrate-receive [-e] [-d] [-p]"
 * with the migration stream on our stdin and xl's reply channel on our stdout.
 * The sender (client.c) carries both over one mutually authenticated TLS 1.3
 * connection to `xenguard tunneld` (server.c) on the receiving Dom0, which
 * re-validates the remote arguments (request.c), starts its own configured
 * receive command and pumps the stream into it.
 *
 * Wire protocol inside TLS (everything here is big-endian):
 *   client -> server: one request (request.c), then the raw migration stream,
 *                     then TLS close_notify (end of stream).
 *   server -> client: frames {u8 type, u32 len, payload}: 'A' accepted,
 *                     'R' refused (reason), 'O' receiver stdout, 'E' receiver
 *                     stderr, 'X' exit {i32 status, u64 bytes delivered},
 *                     'F' the stream failed (reason: forged, truncated...);
 *                     then close_notify once the client's close_notify came.
 * The client -> server direction is TLS 1.3 records that OpenSSL protects up
 * to the request and record.c from ACCEPT on (same secret, next sequence
 * number): OpenSSL's record layer copies every byte twice more.
 * The raw client->server direction keeps the bulk path free of framing; the
 * reverse direction is framed because it must carry the exit status after
 * the last reply byte. Success on either side needs both close_notify
 * alerts, the X frame, and an equal byte count, so a truncated stream can
 * never pass as a complete migration.
 */
#ifndef XG_TUNNEL_TUNNEL_H
#define XG_TUNNEL_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "util/err.h"

#define XG_TUNNEL_DEFAULT_PORT    8002
#define XG_TUNNEL_DEFAULT_RECEIVE "xl migrate-receive"
#define XG_TUNNEL_REQ_MAX         4096 /* bytes of one request */
#define XG_TUNNEL_ARGS_MAX        32
#define XG_TUNNEL_ARG_MAX         256
#define XG_TUNNEL_DOMAIN_MAX      64
#define XG_TUNNEL_FRAME_MAX       65536        /* payload of one server frame */
#define XG_TUNNEL_REKEY_BYTES     (1ULL << 30) /* TLS KeyUpdate after this many bytes */
/*
 * The most --rekey-bytes / --rekey-records may say. RFC 8446 5.5: AES-GCM
 * may protect about 2^24.5 full-size records under one key; we stop at
 * 2^24 records, and 2^24 full records are 2^38 bytes.
 */
#define XG_TUNNEL_REKEY_BYTES_MAX   (1ULL << 38)
#define XG_TUNNEL_REKEY_RECORDS_MAX (1ULL << 24)
#define XG_TUNNEL_MAX_HANDSHAKES    32 /* default handshake budget of tunneld */

enum xg_frame_type {
    XG_FRAME_ACCEPT = 'A',
    XG_FRAME_REFUSE = 'R',
    XG_FRAME_STDOUT = 'O',
    XG_FRAME_STDERR = 'E',
    XG_FRAME_EXIT = 'X',
    XG_FRAME_FAIL = 'F',
};

/* Everything a tunnel end needs, resolved from the policy file and options. */
struct xg_tunnel_opts {
    const char *ca, *cert, *key;
    const char **names; /* allowlist: certificate CN / DNS SAN */
    size_t name_count;
    const char **fingerprints; /* allowlist: "sha256:HEX" */
    size_t fingerprint_count;
    const char *receive_command;
    const char *listen;    /* server: address to bind (NULL = any) */
    const char *interface; /* server: bind to this interface only (SO_BINDTODEVICE) */
    uint16_t port;
    unsigned max_sessions;
    unsigned max_handshakes;    /* connections not yet authenticated (a quarter per source) */
    unsigned handshake_timeout; /* seconds */
    unsigned idle_timeout;      /* seconds */
    uint64_t rekey_bytes;       /* KeyUpdate after this many bytes under one key... */
    uint64_t rekey_records;     /* ...or this many records, whichever comes first */
};

/* ---- request.c: the client's request and its re-validation ---- */

/* What the receiver will pass to its receive command: xl's allowed flags. */
struct xg_recv_flags {
    bool tty;         /* xl -t */
    bool timestamps;  /* xl -T */
    unsigned verbose; /* xl -v, repeated */
    bool no_daemon;   /* migrate-receive -e */
    bool debug;       /* migrate-receive -d */
    bool pause;       /* migrate-receive -p */
    bool foreground;  /* migrate-receive -F */
};

struct xg_request {
    char domain[XG_TUNNEL_DOMAIN_MAX + 1];
    char *argv[XG_TUNNEL_ARGS_MAX + 1];
    size_t argc;
};

/* Encode a request; returns the length written into out (<= XG_TUNNEL_REQ_MAX) or -1. */
int xg_request_encode(const char *domain, size_t argc, char *const *argv, uint8_t *out, size_t cap,
                      struct xg_err *err);

/*
 * Decode a request from the first `len` bytes. Returns the number of bytes
 * used, 0 when more bytes are needed, -1 on malformed input. `out` is freed
 * by xg_request_free (also after a failure).
 */
int xg_request_decode(const uint8_t *in, size_t len, struct xg_request *out, struct xg_err *err);
void xg_request_free(struct xg_request *r);

/*
 * Check the remote arguments against the allowlist: `xl` + global -t/-T/-v..
 * + `migrate-receive` + -e/-d/-p/-F, nothing else (no -r, --colo,
 * --coloft-script, positional words). An empty list means plain
 * `xl migrate-receive`.
 */
int xg_recv_flags_parse(size_t argc, char *const *argv, struct xg_recv_flags *out,
                        struct xg_err *err);

/*
 * Build the argv of the receive command: its words (split on blanks), the
 * xl global flags before the word `migrate-receive` (or at the end) and the
 * migrate-receive flags at the end. *out is a NULL-terminated array owned by
 * the caller (xg_argv_free).
 */
int xg_recv_argv(const char *receive_command, const struct xg_recv_flags *f, char ***out,
                 struct xg_err *err);
void xg_argv_free(char **argv);

/* A domain name as we pass it on: [A-Za-z0-9_.-], 1..64 chars (it reaches the receive
 * command's environment, and maybe a shell). */
bool xg_domain_name_ok(const char *s);

/* ---- allow.c: peer identity ---- */

/* Normalise "sha256:AB:CD..." / "sha256:abcd..." into "sha256:" + 64 lowercase hex. */
int xg_fingerprint_normalize(const char *in, char out[72], struct xg_err *err);

/* "sha256:" + hex of the DER certificate. */
int xg_cert_fingerprint(X509 *cert, char out[72]);

/*
 * Is this (already chain-verified) certificate on the allowlist? On success
 * copies the matching identity (name or fingerprint) into who. Names are
 * the DNS subjectAltNames, or the CN only when there is none (RFC 6125).
 */
bool xg_allow_match(const struct xg_tunnel_opts *o, X509 *cert, char *who, size_t who_len);

/* ---- tls.c: contexts ---- */

/* A TLS 1.3-only context with our certificate, key and CA (no system CAs). */
SSL_CTX *xg_tls_ctx_new(const struct xg_tunnel_opts *o, bool server, struct xg_err *err);

/* Per-connection identity check state (attached to an SSL with xg_tls_attach). */
struct xg_peer {
    const struct xg_tunnel_opts *opts;
    const char *host;  /* client: the name/address we dialled; NULL on the server */
    char who[256];     /* the identity that matched */
    char refused[768]; /* why the peer was refused ("" if not) */
    /*
     * The stream direction (client -> server), for record.c to take over:
     * OpenSSL's CLIENT_TRAFFIC_SECRET_0 (from the key log callback, never
     * written anywhere) and the count of records OpenSSL protected with it
     * so far (the next sequence number), counted from when the caller
     * zeroes it at the end of the handshake.
     */
    uint8_t stream_secret[EVP_MAX_MD_SIZE];
    size_t stream_secret_len;
    uint64_t stream_records;
    unsigned key_updates_in; /* KeyUpdate messages OpenSSL received (the client: the replies') */
};

int xg_tls_attach(SSL *ssl, struct xg_peer *peer);

/* The last OpenSSL error as one line (drains the queue). */
const char *xg_tls_error(char *buf, size_t len);

/* ---- client.c / server.c ---- */

/*
 * Sender: connect to host, authenticate, send the request, then pump stdin
 * to the receiver and its replies to stdout/stderr. Returns the receiver's
 * exit status (0..255) or -1 with err filled (the tunnel itself failed).
 */
int xg_tunnel_client(const struct xg_tunnel_opts *o, const char *host, const char *domain,
                     size_t argc, char *const *argv, bool verbose, struct xg_err *err);

/*
 * tunneld's SIGHUP: load the configuration again and, only if all of it
 * (policy, certificates, key) is good, replace *o and *ctx (freeing the old
 * context). Returns 0, or -1 with err and nothing changed.
 */
struct xg_tunnel_reload {
    int (*fn)(void *arg, const struct xg_tunnel_opts **o, SSL_CTX **ctx, struct xg_err *err);
    void *arg;
};

/*
 * Receiver: listen and serve sessions until SIGTERM/SIGINT (once: serve one
 * session and return its result); SIGHUP calls reload (may be NULL). Log
 * lines go to log_fd.
 */
int xg_tunnel_server(const struct xg_tunnel_opts *o, bool once, int log_fd,
                     const struct xg_tunnel_reload *reload, struct xg_err *err);

/* ---- keys.c: a cluster CA and host certificates ---- */

/* Create ca.pem/ca.key in dir unless they exist (reuse them then). */
int xg_keys_ca(const char *dir, const char *ca_name, unsigned days, bool *created,
               struct xg_err *err);

/*
 * Issue dir/HOST.pem + dir/HOST.key signed by dir/ca.*: CN=host, SAN = host
 * (DNS or IP) + extra SANs; EKU serverAuth+clientAuth. fp receives the
 * certificate's fingerprint.
 */
int xg_keys_host(const char *dir, const char *host, const char **sans, size_t san_count,
                 unsigned days, bool force, char fp[72], struct xg_err *err);

#endif
