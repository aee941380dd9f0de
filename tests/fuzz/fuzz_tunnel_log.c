/*
 * fuzz_tunnel_log.c — libFuzzer target for log.c's one escaping rule, fed
 * what a peer may choose (a certificate subject, a domain name, TLS error
 * text). The input is a value; the first byte also picks the buffer size.
 * Whatever the bytes, the escaped value must be one field: bare only if
 * every byte is in the safe set, otherwise a quoted string that starts and
 * ends with `"`, holds no bare `"`, no control or non-ASCII byte, and no
 * cut escape; when it was not cut short, unescaping it gives the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/log.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[512], out[2048], back[512];
    if (size == 0 || size > sizeof(in))
        return 0;
    size_t cap = data[0] % 64 ? 1 + (size_t)(data[0] % 64) : sizeof(out);
    memcpy(in, data + 1, size - 1);
    in[size - 1] = 0; /* a C string: up to the first NUL */
    size_t n = xg_log_escape(in, data[0] & 0x80, out, cap);
    if (n >= cap || strlen(out) != n)
        abort();
    if (n == 0 || out[0] != '"') { /* bare: a prefix of the input, safe bytes only */
        if (strncmp(out, in, n) || (data[0] & 0x80 && n))
            abort();
        for (size_t i = 0; i < n; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/@+,=[]-",
                        out[i]))
                abort();
        return 0;
    }
    if (n < 2 || out[n - 1] != '"')
        abort();
    size_t b = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c >= 0x7f || c == '"')
            abort();
        if (c != '\\') {
            back[b++] = (char)c;
            continue;
        }
        if (i + 2 >= n)
            abort(); /* a cut escape */
        if (out[i + 1] == '"' || out[i + 1] == '\\') {
            back[b++] = out[++i];
        } else if (out[i + 1] == 'x' && i + 4 < n && hexval(out[i + 2]) >= 0 &&
                   hexval(out[i + 3]) >= 0) {
            back[b++] = (char)(hexval(out[i + 2]) * 16 + hexval(out[i + 3]));
            i += 3;
        } else {
            abort();
        }
    }
    if (strncmp(back, in, b) || (cap == sizeof(out) && b != strlen(in)))
        abort();
    return 0;
}
