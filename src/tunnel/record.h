/*
 * record.h — TLS 1.3 record protection for the stream direction (record.c).
 *
 * Once OpenSSL has finished the mutual handshake, the client -> server
 * direction (the migration stream) is sealed and opened here, in place, in
 * the caller's own buffers: the same records OpenSSL would write (RFC 8446
 * section 5.2), from the same traffic secret, the way kernel TLS takes over
 * a connection that OpenSSL set up. The reply direction stays with OpenSSL.
 */
#ifndef XG_TUNNEL_RECORD_H
#define XG_TUNNEL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "util/err.h"

#define XG_REC_HDR       5                                     /* type, version, length */
#define XG_REC_TAG       16                                    /* AEAD tag */
#define XG_REC_PLAIN_MAX 16384                                 /* content of one record */
#define XG_REC_MAX       (XG_REC_HDR + XG_REC_PLAIN_MAX + 256) /* largest record a peer may send */
#define XG_REC_SEALED(n) (XG_REC_HDR + (n) + 1 + XG_REC_TAG)   /* record carrying n bytes */

enum xg_rec_type {
    XG_REC_ALERT = 21,
    XG_REC_HANDSHAKE = 22,
    XG_REC_DATA = 23,
};

/* One direction's keys: the traffic secret, the AEAD key and IV, the sequence number. */
struct xg_rec_keys {
    EVP_CIPHER_CTX *aead;
    const EVP_MD *md;
    uint8_t secret[EVP_MAX_MD_SIZE];
    size_t secret_len;
    uint8_t iv[12];
    uint64_t seq;
    bool seal;
    unsigned updates;
};

/*
 * Take over one direction of ssl (whose handshake is done) from traffic
 * secret `secret` at sequence number `seq`, to seal (our sending side) or
 * to open (our receiving side).
 */
int xg_rec_keys_init(struct xg_rec_keys *k, const SSL *ssl, const uint8_t *secret,
                     size_t secret_len, uint64_t seq, bool seal, struct xg_err *err);
/* The same from the suite's TLS code (0x1301 AES-128-GCM, 0x1302 AES-256-GCM, 0x1303 ChaCha20). */
int xg_rec_keys_init_suite(struct xg_rec_keys *k, unsigned suite, const uint8_t *secret,
                           size_t secret_len, uint64_t seq, bool seal, struct xg_err *err);
void xg_rec_keys_free(struct xg_rec_keys *k);

/* The next generation of keys (after a KeyUpdate message, RFC 8446 7.2). */
int xg_rec_keys_update(struct xg_rec_keys *k, struct xg_err *err);

/*
 * Seal in place: the content is at rec + XG_REC_HDR, len <= XG_REC_PLAIN_MAX
 * bytes, with room for XG_REC_SEALED(len) bytes from rec. Writes the header,
 * the inner content type and the tag. Returns the record's length, or -1.
 */
ssize_t xg_rec_seal(struct xg_rec_keys *k, uint8_t *rec, size_t len, enum xg_rec_type type,
                    struct xg_err *err);

/*
 * The length of the record that starts at p, from its header: 0 while fewer
 * than XG_REC_HDR bytes are there, -1 (err) when the header is not that of a
 * protected TLS 1.3 record.
 */
ssize_t xg_rec_length(const uint8_t *p, size_t avail, struct xg_err *err);

/*
 * Open in place the whole record rec[0..rec_len): on success its content is
 * at rec + XG_REC_HDR, *len bytes, of inner type *type. -1 (err) when it
 * does not authenticate or is malformed.
 */
int xg_rec_open(struct xg_rec_keys *k, uint8_t *rec, size_t rec_len, uint8_t *type, size_t *len,
                struct xg_err *err);

/* The KeyUpdate handshake message (5 bytes) into out. */
size_t xg_rec_key_update_msg(uint8_t out[5], bool request_peer);

/*
 * Is content[0..len) a single well-formed KeyUpdate? *request_peer says
 * whether the peer asked us to update our own keys too.
 */
bool xg_rec_is_key_update(const uint8_t *content, size_t len, bool *request_peer);

#endif
