/*
 * tls.c — the one TLS configuration both ends share.
 *
 * TLS 1.3 only, AES-128-GCM first (AES-NI makes it the cheapest AEAD; the
 * server's preference decides), X25519 then P-256, no session tickets (each
 * session is a full mutual handshake: nothing to steal and replay), no
 * system trust store: only the cluster CA given in the configuration.
 *
 * Trust model, the same strength both ways. The receiver (server) accepts a
 * sender whose certificate chains to the CA and is on the allowlist; the
 * allowlist is checked right after the handshake (server.c), so that a
 * refused sender can be told why, before any application byte is read.
 * The sender (client) accepts a receiver whose certificate chains to the
 * CA, names HOST (DNS subjectAltName, or the CN only without DNS names, as
 * RFC 6125 says; or an IP subjectAltName for an address) AND, when an
 * allowlist or pins are configured, is on it: removing a host from
 * peer-names stops both ends trusting it, and a pin pins.
 *
 * Two callbacks prepare the hand-over of the stream direction to record.c:
 * the key log callback keeps CLIENT_TRAFFIC_SECRET_0 in the connection's
 * xg_peer (in memory only, wiped once used) and the message callback counts
 * the records OpenSSL protected with it, which is the sequence number
 * record.c continues from.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tunnel/tunnel.h"

static int peer_index = -1;

const char *xg_tls_error(char *buf, size_t len)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()))
        last = e;
    if (!last)
        snprintf(buf, len, "TLS error");
    else
        ERR_error_string_n(last, buf, len);
    return buf;
}

static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct xg_peer *peer = ssl ? SSL_get_ex_data(ssl, peer_index) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(sctx);
    char name[256] = "?";

    if (!peer)
        return 0;
    if (cert)
        X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
    if (!ok) {
        if (!peer->refused[0])
            snprintf(peer->refused, sizeof(peer->refused), "certificate %.200s: %s", name,
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
        return 0;
    }
    if (X509_STORE_CTX_get_error_depth(sctx) != 0)
        return 1;
    if (!peer->host) { /* the server: it refuses after the handshake, saying why (server.c) */
        if (!xg_allow_match(peer->opts, cert, peer->who, sizeof(peer->who)))
            peer->who[0] = 0;
        return 1;
    }
    char fp[72] = "?";
    xg_cert_fingerprint(cert, fp);
    if (X509_check_host(cert, peer->host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1 &&
        X509_check_ip_asc(cert, peer->host, 0) != 1) {
        snprintf(peer->refused, sizeof(peer->refused),
                 "certificate %.200s (%s) does not name %.100s: dial a name the certificate "
                 "has, or reissue it with `xenguard tunnel-keys --san HOST=%.100s`",
                 name, fp, peer->host, peer->host);
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_HOSTNAME_MISMATCH);
        return 0;
    }
    const struct xg_tunnel_opts *o = peer->opts;
    if (o->name_count + o->fingerprint_count == 0) {
        snprintf(peer->who, sizeof(peer->who), "%s", peer->host);
        return 1;
    }
    if (xg_allow_match(o, cert, peer->who, sizeof(peer->who)))
        return 1;
    snprintf(peer->refused, sizeof(peer->refused),
             "certificate %.200s (%s) names %.100s but is not on the allowlist (peer-names / "
             "peer-fingerprints / --allow)",
             name, fp, peer->host);
    X509_STORE_CTX_set_error(sctx, X509_V_ERR_CERT_REJECTED);
    return 0;
}

/* OpenSSL's key log line for the client's first application traffic secret */
static void keylog_cb(const SSL *ssl, const char *line)
{
    static const char label[] = "CLIENT_TRAFFIC_SECRET_0 ";
    struct xg_peer *peer = SSL_get_ex_data(ssl, peer_index);
    const char *hex;
    size_t len = 0;
    if (!peer || strncmp(line, label, sizeof(label) - 1) != 0 ||
        !(hex = strchr(line + sizeof(label) - 1, ' ')))
        return;
    if (OPENSSL_hexstr2buf_ex(peer->stream_secret, sizeof(peer->stream_secret), &len, hex + 1,
                              '\0') != 1)
        len = 0;
    peer->stream_secret_len = len;
}

/*
 * Count the records of the stream direction (written by the client, read
 * by the server) and the KeyUpdate messages OpenSSL received.
 */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    (void)version, (void)arg;
    struct xg_peer *peer = SSL_get_ex_data(ssl, peer_index);
    if (!peer)
        return;
    if (content_type == SSL3_RT_HEADER && write_p == !SSL_is_server(ssl))
        peer->stream_records++;
    if (content_type == SSL3_RT_HANDSHAKE && !write_p && len > 0 &&
        ((const unsigned char *)buf)[0] == SSL3_MT_KEY_UPDATE)
        peer->key_updates_in++;
}

int xg_tls_attach(SSL *ssl, struct xg_peer *peer)
{
    return SSL_set_ex_data(ssl, peer_index, peer) ? 0 : -1;
}

SSL_CTX *xg_tls_ctx_new(const struct xg_tunnel_opts *o, bool server, struct xg_err *err)
{
    char e[256];
    SSL_CTX *ctx;

    if (peer_index < 0)
        peer_index = SSL_get_ex_new_index(0, "xg_peer", NULL, NULL, NULL);
    if (!o->ca || !o->cert || !o->key) {
        xg_fail(err, "the tunnel needs a CA, a certificate and a key (ca, cert, key)");
        return NULL;
    }
    ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        xg_fail(err, "TLS: %s", xg_tls_error(e, sizeof(e)));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    /* no SSL_OP_ENABLE_KTLS: the stream direction's records are record.c's */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /*
     * The client reads the replies in bursts. The server's OpenSSL must not
     * read ahead: it reads the request record by record and then hands the
     * socket to record.c, so nothing of the stream may sit in its buffer.
     */
    SSL_CTX_set_read_ahead(ctx, !server);
    SSL_CTX_set_keylog_callback(ctx, keylog_cb);
    SSL_CTX_set_msg_callback(ctx, msg_cb);
    if (!SSL_CTX_set_ciphersuites(
            ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") ||
        !SSL_CTX_set1_groups_list(ctx, "X25519:P-256")) {
        xg_fail(err, "TLS: %s", xg_tls_error(e, sizeof(e)));
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
        xg_fail(err, "%s: cannot load CA certificate: %s", o->ca, xg_tls_error(e, sizeof(e)));
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
        xg_fail(err, "%s: cannot load certificate: %s", o->cert, xg_tls_error(e, sizeof(e)));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        xg_fail(err, "%s: cannot load private key (or it does not match %s): %s", o->key, o->cert,
                xg_tls_error(e, sizeof(e)));
        goto fail;
    }
    if (server) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_verify_depth(ctx, 4);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}
