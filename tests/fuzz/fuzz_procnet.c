/*
 * fuzz_procnet.c — /proc/net/{tcp,tcp6,udp,udp6} (xg_procnet_parse). The
 * first byte picks the table (family and protocol), the rest is its text.
 *
 * Property: the listening sockets found, printed back as the kernel prints
 * them (address words as %08X of their in-memory value, state 0A for TCP,
 * 07 with a zero remote for UDP), parse to the same sockets.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/parse.h"

static void print_socket(struct xg_buf *out, size_t n, const struct xg_socket *s)
{
    size_t words = s->family == 4 ? 1 : 4;
    xg_buf_printf(out, "%4zu: ", n);
    for (size_t w = 0; w < words; w++) {
        const uint8_t *b = &s->addr.addr[w * 4];
        xg_buf_printf(out, "%08X",
                      (unsigned)b[0] | (unsigned)b[1] << 8 | (unsigned)b[2] << 16 |
                          (unsigned)b[3] << 24);
    }
    xg_buf_printf(out, ":%04X %s:0000 %s 00000000:00000000 00:00000000 00000000 0 0 %lu 1\n",
                  s->port, words == 1 ? "00000000" : "00000000000000000000000000000000",
                  s->proto == IPPROTO_TCP ? "0A" : "07", s->inode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t family = data[0] & 1 ? 6 : 4;
    uint8_t proto = data[0] & 2 ? IPPROTO_UDP : IPPROTO_TCP;
    struct xg_socket *s = NULL, *again = NULL;
    size_t n = 0, m = 0;
    struct xg_err err;
    if (xg_procnet_parse((const char *)data + 1, size - 1, "fuzz", family, proto, &s, &n, &err) ==
        0) {
        struct xg_buf out = {0};
        xg_buf_puts(&out, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                          "retrnsmt   uid  timeout inode\n");
        for (size_t i = 0; i < n; i++) {
            if (s[i].family != family || s[i].proto != proto || s[i].addr.family != family)
                abort();
            print_socket(&out, i, &s[i]);
        }
        if (!xg_buf_failed(&out)) {
            const char *text = xg_buf_str(&out);
            if (xg_procnet_parse(text, strlen(text), "print", family, proto, &again, &m, &err) !=
                    0 ||
                m != n)
                abort();
            for (size_t i = 0; i < n; i++)
                if (!xg_prefix_equal(&s[i].addr, &again[i].addr) || s[i].port != again[i].port ||
                    s[i].inode != again[i].inode)
                    abort();
        }
        xg_buf_free(&out);
    }
    free(s);
    free(again);
    return 0;
}
