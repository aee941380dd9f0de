/*
 * record.c — TLS 1.3 record protection, in place, for the stream direction.
 *
 * OpenSSL's own record layer costs the receiver two extra copies of the
 * whole stream (its read-ahead buffer re-aligns every pending byte for each
 * record, then SSL_read copies the plaintext out) and the sender one (each
 * record is copied into a batch before write(2)). Kernel TLS would remove
 * them, but not every Dom0 kernel has the tls module. So, as kernel TLS
 * does, we take the traffic secret OpenSSL derived and protect records
 * ourselves where the bytes already lie: the sender reads stdin straight
 * into record slots and seals them, the receiver opens them in its socket
 * buffer and writes the plaintext from there.
 *
 * Everything cryptographic is OpenSSL's: HKDF-Expand-Label is the EVP HKDF
 * in expand-only mode, the AEAD is EVP's AES-GCM or ChaCha20-Poly1305 as
 * negotiated. What lives here is RFC 8446 section 5.2's framing (header as
 * AAD, inner content type, per-record nonce = IV xor sequence number) and
 * section 7.2's key update. The unit tests check both ways against OpenSSL's
 * own SSL_read/SSL_write on the same connection.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "tunnel/record.h"

/* HKDF-Expand-Label(secret, label, "", out_len) (RFC 8446 7.1) */
static int expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
                        const char *label, uint8_t *out, size_t out_len)
{
    uint8_t info[2 + 1 + 6 + 32 + 1];
    size_t label_len = strlen(label), n = 0;
    if (label_len > 32)
        return -1;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + label_len);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = 0; /* empty context */

    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
        OSSL_PARAM_construct_end(),
    };
    int rc = kctx && EVP_KDF_derive(kctx, out, out_len, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return rc;
}

/* key and IV of the current secret into the AEAD context */
static int install(struct xg_rec_keys *k, struct xg_err *err)
{
    uint8_t key[32];
    int key_len = EVP_CIPHER_CTX_get_key_length(k->aead);
    int rc = 0;
    if (key_len <= 0 || key_len > (int)sizeof(key) ||
        expand_label(k->md, k->secret, k->secret_len, "key", key, (size_t)key_len) < 0 ||
        expand_label(k->md, k->secret, k->secret_len, "iv", k->iv, sizeof(k->iv)) < 0 ||
        EVP_CipherInit_ex(k->aead, NULL, NULL, key, NULL, k->seal ? 1 : 0) != 1)
        rc = xg_fail(err, "TLS record keys: key derivation failed");
    OPENSSL_cleanse(key, sizeof(key));
    k->seq = 0;
    return rc;
}

int xg_rec_keys_init_suite(struct xg_rec_keys *k, unsigned suite, const uint8_t *secret,
                           size_t secret_len, uint64_t seq, bool seal, struct xg_err *err)
{
    const EVP_CIPHER *cipher;

    memset(k, 0, sizeof(*k));
    k->seal = seal;
    switch (suite) {
    case 0x1301: /* TLS_AES_128_GCM_SHA256 */
        cipher = EVP_aes_128_gcm();
        k->md = EVP_sha256();
        break;
    case 0x1302: /* TLS_AES_256_GCM_SHA384 */
        cipher = EVP_aes_256_gcm();
        k->md = EVP_sha384();
        break;
    case 0x1303: /* TLS_CHACHA20_POLY1305_SHA256 */
        cipher = EVP_chacha20_poly1305();
        k->md = EVP_sha256();
        break;
    default:
        return xg_fail(err, "TLS record keys: unsupported cipher suite 0x%04x", suite);
    }
    if (secret_len == 0 || secret_len != (size_t)EVP_MD_get_size(k->md))
        return xg_fail(err, "TLS record keys: no traffic secret");
    k->aead = EVP_CIPHER_CTX_new();
    if (!k->aead || EVP_CipherInit_ex(k->aead, cipher, NULL, NULL, NULL, seal ? 1 : 0) != 1) {
        xg_rec_keys_free(k);
        return xg_fail(err, "TLS record keys: cannot set up the AEAD");
    }
    memcpy(k->secret, secret, secret_len);
    k->secret_len = secret_len;
    if (install(k, err) < 0) {
        xg_rec_keys_free(k);
        return -1;
    }
    k->seq = seq;
    return 0;
}

int xg_rec_keys_init(struct xg_rec_keys *k, const SSL *ssl, const uint8_t *secret,
                     size_t secret_len, uint64_t seq, bool seal, struct xg_err *err)
{
    const SSL_CIPHER *suite = SSL_get_current_cipher(ssl);
    memset(k, 0, sizeof(*k));
    if (SSL_version(ssl) != TLS1_3_VERSION || !suite)
        return xg_fail(err, "TLS record keys: not a TLS 1.3 connection");
    return xg_rec_keys_init_suite(k, SSL_CIPHER_get_protocol_id(suite) & 0xffff, secret, secret_len,
                                  seq, seal, err);
}

void xg_rec_keys_free(struct xg_rec_keys *k)
{
    EVP_CIPHER_CTX_free(k->aead);
    OPENSSL_cleanse(k, sizeof(*k));
}

int xg_rec_keys_update(struct xg_rec_keys *k, struct xg_err *err)
{
    uint8_t next[EVP_MAX_MD_SIZE];
    if (expand_label(k->md, k->secret, k->secret_len, "traffic upd", next, k->secret_len) < 0)
        return xg_fail(err, "TLS key update: derivation failed");
    memcpy(k->secret, next, k->secret_len);
    OPENSSL_cleanse(next, sizeof(next));
    k->updates++;
    return install(k, err);
}

/* the per-record nonce (RFC 8446 5.3), into the AEAD context */
static int set_nonce(struct xg_rec_keys *k)
{
    uint8_t nonce[12];
    memcpy(nonce, k->iv, sizeof(nonce));
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(k->seq >> (8 * i));
    return EVP_CipherInit_ex(k->aead, NULL, NULL, NULL, nonce, -1) == 1 ? 0 : -1;
}

ssize_t xg_rec_seal(struct xg_rec_keys *k, uint8_t *rec, size_t len, enum xg_rec_type type,
                    struct xg_err *err)
{
    size_t inner = len + 1, total = XG_REC_SEALED(len);
    int outl;
    if (len > XG_REC_PLAIN_MAX)
        return xg_fail(err, "TLS record: %zu bytes do not fit one record", len);
    if (k->seq == UINT64_MAX)
        return xg_fail(err, "TLS record: sequence number exhausted (no key update)");
    rec[0] = XG_REC_DATA; /* every protected record says application_data outside */
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (uint8_t)((inner + XG_REC_TAG) >> 8);
    rec[4] = (uint8_t)(inner + XG_REC_TAG);
    rec[XG_REC_HDR + len] = (uint8_t)type;
    if (set_nonce(k) < 0 || EVP_EncryptUpdate(k->aead, NULL, &outl, rec, XG_REC_HDR) != 1 ||
        EVP_EncryptUpdate(k->aead, rec + XG_REC_HDR, &outl, rec + XG_REC_HDR, (int)inner) != 1 ||
        EVP_EncryptFinal_ex(k->aead, rec + XG_REC_HDR + inner, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(k->aead, EVP_CTRL_AEAD_GET_TAG, XG_REC_TAG, rec + XG_REC_HDR + inner) !=
            1)
        return xg_fail(err, "TLS record: sealing failed");
    k->seq++;
    return (ssize_t)total;
}

ssize_t xg_rec_length(const uint8_t *p, size_t avail, struct xg_err *err)
{
    if (avail < XG_REC_HDR)
        return 0;
    size_t len = (size_t)p[3] << 8 | p[4];
    if (p[0] != XG_REC_DATA)
        return xg_fail(err, "TLS record: unexpected outer type %u after the handshake", p[0]);
    if (len < 1 + XG_REC_TAG || len > XG_REC_MAX - XG_REC_HDR)
        return xg_fail(err, "TLS record: bad length %zu", len);
    return (ssize_t)(XG_REC_HDR + len);
}

int xg_rec_open(struct xg_rec_keys *k, uint8_t *rec, size_t rec_len, uint8_t *type, size_t *len,
                struct xg_err *err)
{
    struct xg_err e;
    if (xg_rec_length(rec, rec_len, &e) != (ssize_t)rec_len)
        return xg_fail(err, "TLS record: malformed record");
    if (k->seq == UINT64_MAX)
        return xg_fail(err, "TLS record: sequence number exhausted (no key update)");
    size_t clen = rec_len - XG_REC_HDR - XG_REC_TAG;
    uint8_t *body = rec + XG_REC_HDR;
    int outl;
    if (set_nonce(k) < 0 || EVP_DecryptUpdate(k->aead, NULL, &outl, rec, XG_REC_HDR) != 1 ||
        EVP_DecryptUpdate(k->aead, body, &outl, body, (int)clen) != 1 ||
        EVP_CIPHER_CTX_ctrl(k->aead, EVP_CTRL_AEAD_SET_TAG, XG_REC_TAG, body + clen) != 1 ||
        EVP_DecryptFinal_ex(k->aead, body + clen, &outl) != 1)
        return xg_fail(err, "TLS record: authentication failed (bad_record_mac)");
    k->seq++;
    while (clen > 0 && body[clen - 1] == 0) /* padding */
        clen--;
    if (clen == 0)
        return xg_fail(err, "TLS record: no content type");
    *type = body[clen - 1];
    *len = clen - 1;
    if (*len > XG_REC_PLAIN_MAX)
        return xg_fail(err, "TLS record: content over 16384 bytes (record_overflow)");
    if (*type != XG_REC_DATA && *len == 0)
        return xg_fail(err, "TLS record: empty %s record",
                       *type == XG_REC_ALERT ? "alert" : "non-data");
    return 0;
}

size_t xg_rec_key_update_msg(uint8_t out[5], bool request_peer)
{
    out[0] = 24; /* key_update */
    out[1] = 0;
    out[2] = 0;
    out[3] = 1;
    out[4] = request_peer ? 1 : 0;
    return 5;
}

bool xg_rec_is_key_update(const uint8_t *content, size_t len, bool *request_peer)
{
    if (len != 5 || content[0] != 24 || content[1] || content[2] || content[3] != 1 ||
        content[4] > 1)
        return false;
    *request_peer = content[4] == 1;
    return true;
}
