/*
 * test_tunnel_record.c — record.c against OpenSSL itself.
 *
 * A real mutual TLS 1.3 handshake between the tunnel's own client and
 * server contexts (tls.c, certificates from keys.c) over an in-memory BIO
 * pair, for each of the three cipher suites. Then, both ways:
 *   - records we seal (data of every size, a KeyUpdate, more data after it,
 *     close_notify) are read by OpenSSL's SSL_read, byte for byte, ending
 *     in a clean SSL_ERROR_ZERO_RETURN;
 *   - records OpenSSL writes (SSL_write, SSL_key_update, SSL_shutdown) are
 *     opened by us, in order, with the same content.
 * And what must fail: a flipped bit anywhere, a replayed or dropped record,
 * a bad header, a malformed KeyUpdate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "tunnel/record.h"
#include "tunnel/tunnel.h"

static char dir[64];

static int make_keys(void **state)
{
    struct xg_err err;
    bool created;
    char fp[72];
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/xg_test_record.XXXXXX");
    if (!mkdtemp(dir) || xg_keys_ca(dir, "record test CA", 1, &created, &err) < 0 ||
        xg_keys_host(dir, "srv.test", NULL, 0, 1, false, fp, &err) < 0 ||
        xg_keys_host(dir, "cli.test", NULL, 0, 1, false, fp, &err) < 0)
        return -1;
    return 0;
}

static int remove_keys(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

struct conn {
    char paths[6][128];
    const char *names[1];
    struct xg_tunnel_opts copts, sopts;
    struct xg_peer cpeer, speer;
    SSL_CTX *cctx, *sctx;
    SSL *c, *s;
    BIO *cbio, *sbio; /* the client's and the server's end of the pair */
};

/* a connected pair, handshake done, with suite forced; record counts zeroed */
static void connect_pair(struct conn *k, const char *suite)
{
    struct xg_err err;
    memset(k, 0, sizeof(*k));
    snprintf(k->paths[0], 128, "%s/ca.pem", dir);
    snprintf(k->paths[1], 128, "%s/cli.test.pem", dir);
    snprintf(k->paths[2], 128, "%s/cli.test.key", dir);
    snprintf(k->paths[3], 128, "%s/srv.test.pem", dir);
    snprintf(k->paths[4], 128, "%s/srv.test.key", dir);
    k->names[0] = "cli.test";
    k->copts = (struct xg_tunnel_opts){.ca = k->paths[0], .cert = k->paths[1], .key = k->paths[2]};
    k->sopts = (struct xg_tunnel_opts){.ca = k->paths[0],
                                       .cert = k->paths[3],
                                       .key = k->paths[4],
                                       .names = k->names,
                                       .name_count = 1};
    k->cpeer = (struct xg_peer){.opts = &k->copts, .host = "srv.test"};
    k->speer = (struct xg_peer){.opts = &k->sopts};
    k->cctx = xg_tls_ctx_new(&k->copts, false, &err);
    k->sctx = xg_tls_ctx_new(&k->sopts, true, &err);
    assert_non_null(k->cctx);
    assert_non_null(k->sctx);
    k->c = SSL_new(k->cctx);
    k->s = SSL_new(k->sctx);
    assert_int_equal(SSL_set_ciphersuites(k->c, suite), 1);
    assert_int_equal(SSL_set_ciphersuites(k->s, suite), 1);
    assert_int_equal(xg_tls_attach(k->c, &k->cpeer), 0);
    assert_int_equal(xg_tls_attach(k->s, &k->speer), 0);
    assert_int_equal(BIO_new_bio_pair(&k->cbio, 1 << 20, &k->sbio, 1 << 20), 1);
    SSL_set_bio(k->c, k->cbio, k->cbio);
    SSL_set_bio(k->s, k->sbio, k->sbio);
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 50 && !(cdone && sdone); i++) {
        if (!cdone)
            cdone = SSL_connect(k->c) == 1;
        if (!sdone)
            sdone = SSL_accept(k->s) == 1;
    }
    assert_true(cdone && sdone);
    assert_string_equal(SSL_get_cipher_name(k->c), suite);
    assert_string_equal(k->speer.who, "cli.test");
    /* both ends saw the same secret for the stream direction */
    assert_true(k->cpeer.stream_secret_len > 0);
    assert_int_equal(k->cpeer.stream_secret_len, k->speer.stream_secret_len);
    assert_memory_equal(k->cpeer.stream_secret, k->speer.stream_secret, k->cpeer.stream_secret_len);
    k->cpeer.stream_records = k->speer.stream_records = 0;
}

static void close_pair(struct conn *k)
{
    SSL_free(k->c);
    SSL_free(k->s);
    SSL_CTX_free(k->cctx);
    SSL_CTX_free(k->sctx);
}

/* OpenSSL reads everything we seal, across a key update, up to our close_notify */
static void sealed_read_by_openssl(const char *suite)
{
    struct conn k;
    struct xg_rec_keys tx;
    struct xg_err err;
    static uint8_t rec[XG_REC_MAX], sent[200000], got[200000];
    size_t nsent = 0, ngot = 0;
    connect_pair(&k, suite);

    /* the request goes through OpenSSL first, as in the tunnel */
    assert_int_equal(SSL_write(k.c, "request", 7), 7);
    char req[16];
    assert_int_equal(SSL_read(k.s, req, sizeof(req)), 7);
    assert_int_equal(k.cpeer.stream_records, 1);
    assert_int_equal(k.speer.stream_records, 1);
    assert_int_equal(xg_rec_keys_init(&tx, k.c, k.cpeer.stream_secret, k.cpeer.stream_secret_len,
                                      k.cpeer.stream_records, true, &err),
                     0);

    static const size_t sizes[] = {1, 0, 1000, XG_REC_PLAIN_MAX, 5, XG_REC_PLAIN_MAX, 77};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (i == 4) { /* a key update in the middle */
            xg_rec_key_update_msg(rec + XG_REC_HDR, false);
            ssize_t n = xg_rec_seal(&tx, rec, 5, XG_REC_HANDSHAKE, &err);
            assert_int_equal(n, XG_REC_SEALED(5));
            assert_int_equal(BIO_write(k.cbio, rec, (int)n), n);
            assert_int_equal(xg_rec_keys_update(&tx, &err), 0);
        }
        assert_int_equal(RAND_bytes(rec + XG_REC_HDR, (int)sizes[i] + 1), 1);
        memcpy(sent + nsent, rec + XG_REC_HDR, sizes[i]);
        nsent += sizes[i];
        ssize_t n = xg_rec_seal(&tx, rec, sizes[i], XG_REC_DATA, &err);
        assert_int_equal(n, XG_REC_SEALED(sizes[i]));
        assert_int_equal(BIO_write(k.cbio, rec, (int)n), n);
        for (;;) { /* drain as we go: the pair holds 1 MiB */
            int r = SSL_read(k.s, got + ngot, (int)(sizeof(got) - ngot));
            if (r <= 0) {
                assert_int_equal(SSL_get_error(k.s, r), SSL_ERROR_WANT_READ);
                break;
            }
            ngot += (size_t)r;
        }
    }
    uint8_t *alert = rec + XG_REC_HDR;
    alert[0] = 1; /* warning */
    alert[1] = 0; /* close_notify */
    ssize_t n = xg_rec_seal(&tx, rec, 2, XG_REC_ALERT, &err);
    assert_int_equal(BIO_write(k.cbio, rec, (int)n), n);
    int r = SSL_read(k.s, got + ngot, (int)(sizeof(got) - ngot));
    assert_int_equal(r, 0);
    assert_int_equal(SSL_get_error(k.s, r), SSL_ERROR_ZERO_RETURN);
    assert_int_equal(ngot, nsent);
    assert_memory_equal(got, sent, nsent);
    assert_int_equal(tx.updates, 1);
    xg_rec_keys_free(&tx);
    close_pair(&k);
}

/* we open everything OpenSSL writes, across its key update, up to its close_notify */
static void openssl_opened_by_us(const char *suite)
{
    struct conn k;
    struct xg_rec_keys rx;
    struct xg_err err;
    static uint8_t wire[1 << 20], sent[100000], got[100000];
    size_t nwire = 0, nsent = 0, ngot = 0;
    connect_pair(&k, suite);

    assert_int_equal(SSL_write(k.c, "request", 7), 7);
    char req[16];
    assert_int_equal(SSL_read(k.s, req, sizeof(req)), 7);
    assert_int_equal(SSL_has_pending(k.s), 0);
    assert_int_equal(xg_rec_keys_init(&rx, k.s, k.speer.stream_secret, k.speer.stream_secret_len,
                                      k.speer.stream_records, false, &err),
                     0);
    assert_int_equal(RAND_bytes(sent, sizeof(sent)), 1);
    for (nsent = 0; nsent < 100000;) { /* partial writes: a record at a time */
        if (nsent == 40000)
            assert_int_equal(SSL_key_update(k.c, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
        size_t end = nsent < 40000 ? 40000 : 100000;
        int w = SSL_write(k.c, sent + nsent, (int)(end - nsent));
        assert_true(w > 0);
        nsent += (size_t)w;
    }
    SSL_shutdown(k.c);
    int r;
    while ((r = BIO_read(k.sbio, wire + nwire, (int)(sizeof(wire) - nwire))) > 0)
        nwire += (size_t)r;

    bool closed = false, ask;
    unsigned updates = 0;
    for (size_t off = 0; off < nwire && !closed;) {
        ssize_t len = xg_rec_length(wire + off, nwire - off, &err);
        assert_true(len > 0 && off + (size_t)len <= nwire);
        uint8_t type;
        size_t clen;
        assert_int_equal(xg_rec_open(&rx, wire + off, (size_t)len, &type, &clen, &err), 0);
        const uint8_t *content = wire + off + XG_REC_HDR;
        if (type == XG_REC_DATA) {
            memcpy(got + ngot, content, clen);
            ngot += clen;
        } else if (type == XG_REC_HANDSHAKE) {
            assert_true(xg_rec_is_key_update(content, clen, &ask));
            assert_false(ask);
            assert_int_equal(xg_rec_keys_update(&rx, &err), 0);
            updates++;
        } else {
            assert_int_equal(type, XG_REC_ALERT);
            assert_int_equal(clen, 2);
            assert_int_equal(content[1], 0); /* close_notify */
            closed = true;
        }
        off += (size_t)len;
    }
    assert_true(closed);
    assert_int_equal(updates, 1);
    assert_int_equal(ngot, nsent);
    assert_memory_equal(got, sent, nsent);
    xg_rec_keys_free(&rx);
    close_pair(&k);
}

static void suites_both_ways(void **state)
{
    static const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256"};
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        sealed_read_by_openssl(suites[i]);
        openssl_opened_by_us(suites[i]);
    }
}

/* tampering, replay, loss and bad headers are refused */
static void refusals(void **state)
{
    struct conn k;
    struct xg_rec_keys tx, rx;
    struct xg_err err;
    static uint8_t a[XG_REC_MAX], b[XG_REC_MAX], copy[XG_REC_MAX];
    uint8_t type;
    size_t clen;
    (void)state;
    connect_pair(&k, "TLS_AES_128_GCM_SHA256");
    assert_int_equal(
        xg_rec_keys_init(&tx, k.c, k.cpeer.stream_secret, k.cpeer.stream_secret_len, 0, true, &err),
        0);
    assert_int_equal(xg_rec_keys_init(&rx, k.s, k.speer.stream_secret, k.speer.stream_secret_len, 0,
                                      false, &err),
                     0);
    memset(a + XG_REC_HDR, 'a', 100);
    memset(b + XG_REC_HDR, 'b', 100);
    ssize_t na = xg_rec_seal(&tx, a, 100, XG_REC_DATA, &err);
    ssize_t nb = xg_rec_seal(&tx, b, 100, XG_REC_DATA, &err);
    assert_true(na > 0 && nb > 0);

    /* every single flipped bit of the record fails (header, body, type, tag) */
    for (ssize_t i = 0; i < na; i++) {
        struct xg_rec_keys probe;
        assert_int_equal(xg_rec_keys_init(&probe, k.s, k.speer.stream_secret,
                                          k.speer.stream_secret_len, 0, false, &err),
                         0);
        memcpy(copy, a, (size_t)na);
        copy[i] ^= 0x01;
        assert_int_equal(xg_rec_open(&probe, copy, (size_t)na, &type, &clen, &err), -1);
        xg_rec_keys_free(&probe);
    }
    /* out of order (a record dropped) fails */
    memcpy(copy, b, (size_t)nb);
    struct xg_rec_keys probe;
    assert_int_equal(xg_rec_keys_init(&probe, k.s, k.speer.stream_secret, k.speer.stream_secret_len,
                                      0, false, &err),
                     0);
    assert_int_equal(xg_rec_open(&probe, copy, (size_t)nb, &type, &clen, &err), -1);
    assert_non_null(strstr(err.msg, "bad_record_mac"));
    xg_rec_keys_free(&probe);
    /* in order it opens; the same record again (replay) fails */
    memcpy(copy, a, (size_t)na);
    assert_int_equal(xg_rec_open(&rx, a, (size_t)na, &type, &clen, &err), 0);
    assert_int_equal(type, XG_REC_DATA);
    assert_int_equal(clen, 100);
    assert_int_equal(a[XG_REC_HDR + 99], 'a');
    assert_int_equal(xg_rec_open(&rx, copy, (size_t)na, &type, &clen, &err), -1);

    /* headers */
    uint8_t h[5] = {XG_REC_HANDSHAKE, 3, 3, 0, 40};
    assert_int_equal(xg_rec_length(h, 4, &err), 0);
    assert_int_equal(xg_rec_length(h, 5, &err), -1);
    h[0] = XG_REC_DATA;
    assert_int_equal(xg_rec_length(h, 5, &err), 45);
    h[3] = 0x41, h[4] = 0x01; /* 16641 > 16384 + 256 */
    assert_int_equal(xg_rec_length(h, 5, &err), -1);
    h[3] = 0, h[4] = 16; /* shorter than a tag and a type */
    assert_int_equal(xg_rec_length(h, 5, &err), -1);

    /* key update messages */
    uint8_t ku[5];
    bool ask;
    xg_rec_key_update_msg(ku, true);
    assert_true(xg_rec_is_key_update(ku, 5, &ask));
    assert_true(ask);
    ku[4] = 2;
    assert_false(xg_rec_is_key_update(ku, 5, &ask));
    ku[4] = 0;
    assert_false(xg_rec_is_key_update(ku, 4, &ask));
    ku[0] = 4; /* new_session_ticket */
    assert_false(xg_rec_is_key_update(ku, 5, &ask));
    /* too much content for one record */
    assert_int_equal(xg_rec_seal(&tx, a, XG_REC_PLAIN_MAX + 1, XG_REC_DATA, &err), -1);

    xg_rec_keys_free(&tx);
    xg_rec_keys_free(&rx);
    close_pair(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suites_both_ways),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, make_keys, remove_keys);
}
