/*
 * fuzz_tunnel_record.c — libFuzzer target for record.c, what tunneld opens
 * from the network once a sender is admitted.
 *
 * The input is a script: a suite byte, then items {op, u16 n, n bytes}.
 * Ops seal a data record, a KeyUpdate (both ends move to the next keys), a
 * record with one bit flipped at position n, or hand n raw bytes to the
 * opener. The opener must return exactly what was sealed, follow every key
 * update, and refuse every flipped or raw record; it must never read out
 * of bounds whatever the bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/record.h"

static uint8_t rec[XG_REC_MAX + 64], copy[XG_REC_MAX + 64];

/* open one record as tunneld does: its length from the header, then the AEAD */
static int open_one(struct xg_rec_keys *rx, uint8_t *r, size_t avail, uint8_t *type, size_t *len)
{
    struct xg_err err;
    ssize_t need = xg_rec_length(r, avail, &err);
    if (need <= 0 || (size_t)need > avail)
        return -1;
    return xg_rec_open(rx, r, (size_t)need, type, len, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned suites[] = {0x1301, 0x1302, 0x1303};
    uint8_t secret[48];
    struct xg_rec_keys tx, rx;
    struct xg_err err;
    if (size < 1)
        return 0;
    unsigned suite = suites[data[0] % 3];
    size_t slen = suite == 0x1302 ? 48 : 32;
    memset(secret, 0x5a, sizeof(secret));
    if (xg_rec_keys_init_suite(&tx, suite, secret, slen, 7, true, &err) < 0)
        abort();
    if (xg_rec_keys_init_suite(&rx, suite, secret, slen, 7, false, &err) < 0)
        abort();
    size_t off = 1;
    while (off + 3 <= size) {
        uint8_t op = data[off] % 4, type;
        size_t n = (size_t)data[off + 1] << 8 | data[off + 2], len;
        off += 3;
        if (n > size - off)
            n = size - off;
        const uint8_t *content = data + off;
        off += n;
        if (op == 0 || op == 2) { /* a data record; op 2 flips one bit of it */
            if (n > XG_REC_PLAIN_MAX)
                n = XG_REC_PLAIN_MAX;
            memcpy(rec + XG_REC_HDR, content, n);
            ssize_t total = xg_rec_seal(&tx, rec, n, XG_REC_DATA, &err);
            if (total != (ssize_t)XG_REC_SEALED(n))
                abort();
            if (op == 2) {
                rec[(n * 7 + 3) % (size_t)total] ^= (uint8_t)(1u << (n % 8));
                if (open_one(&rx, rec, (size_t)total, &type, &len) == 0)
                    abort(); /* a forged record opened */
                break;
            }
            if (open_one(&rx, rec, (size_t)total, &type, &len) < 0 || type != XG_REC_DATA ||
                len != n || memcmp(rec + XG_REC_HDR, content, n))
                abort();
        } else if (op == 1) { /* key update */
            ssize_t total = xg_rec_seal(&tx, rec, xg_rec_key_update_msg(rec + XG_REC_HDR, n & 1),
                                        XG_REC_HANDSHAKE, &err);
            bool ask;
            if (total < 0 || xg_rec_keys_update(&tx, &err) < 0 ||
                open_one(&rx, rec, (size_t)total, &type, &len) < 0 || type != XG_REC_HANDSHAKE ||
                !xg_rec_is_key_update(rec + XG_REC_HDR, len, &ask) || ask != (n & 1) ||
                xg_rec_keys_update(&rx, &err) < 0)
                abort();
        } else { /* raw bytes from the network */
            if (n > sizeof(copy))
                n = sizeof(copy);
            memcpy(copy, content, n);
            if (open_one(&rx, copy, n, &type, &len) == 0)
                abort(); /* nobody without the key makes a record that opens */
            break;
        }
    }
    xg_rec_keys_free(&tx);
    xg_rec_keys_free(&rx);
    return 0;
}
