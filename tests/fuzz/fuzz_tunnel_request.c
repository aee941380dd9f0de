/*
 * fuzz_tunnel_request.c — libFuzzer target for what a peer sends tunneld
 * first: the request record, then the flag allowlist and the argv built
 * from it. Beyond "never crash": an accepted request re-encodes to the
 * same bytes, and an accepted flag set never yields a word outside xl's
 * allowed flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_request r;
    struct xg_err err;
    int n = xg_request_decode(data, size, &r, &err);
    if (n <= 0) {
        xg_request_free(&r);
        return 0;
    }
    uint8_t again[XG_TUNNEL_REQ_MAX];
    int m = xg_request_encode(r.domain, r.argc, r.argv, again, sizeof(again), &err);
    if (m != n || memcmp(again, data, (size_t)n))
        abort();
    struct xg_recv_flags f;
    char **argv;
    if (xg_recv_flags_parse(r.argc, r.argv, &f, &err) == 0 &&
        xg_recv_argv("xl migrate-receive", &f, &argv, &err) == 0) {
        if (strcmp(argv[0], "xl"))
            abort();
        for (size_t i = 1; argv[i]; i++)
            if (strcmp(argv[i], "migrate-receive") && strcmp(argv[i], "-t") &&
                strcmp(argv[i], "-T") && strcmp(argv[i], "-e") && strcmp(argv[i], "-d") &&
                strcmp(argv[i], "-p") && strcmp(argv[i], "-F") && strncmp(argv[i], "-v", 2))
                abort();
        xg_argv_free(argv);
    }
    xg_request_free(&r);
    return 0;
}
