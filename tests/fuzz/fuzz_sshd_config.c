/*
 * fuzz_sshd_config.c — sshd_config, with Include resolved to the input
 * itself (so recursion and its depth limit are exercised too). Property: a
 * Match block's settings ("match:KEY") always follow its criteria ("match").
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/parse.h"

struct ctx {
    const char *data;
    size_t size;
};

static int include(void *vctx, const char *pattern, struct xg_kvlist *out, unsigned depth,
                   struct xg_err *err)
{
    struct ctx *c = vctx;
    (void)pattern;
    return xg_sshd_parse(c->data, c->size, "include", out, include, c, depth, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctx c = {(const char *)data, size};
    struct xg_kvlist kv = {0};
    struct xg_err err;
    xg_sshd_parse((const char *)data, size, "fuzz", &kv, include, &c, 0, &err);
    xg_kv_find(&kv, "permitrootlogin", true);
    /* a Match block's settings always follow the criteria they belong to */
    bool criteria = false;
    for (size_t i = 0; i < kv.count; i++) {
        if (!strcmp(kv.items[i].key, "match"))
            criteria = true;
        else if (!strncmp(kv.items[i].key, "match:", 6) && !criteria)
            abort();
    }
    xg_kv_free(&kv);
    return 0;
}
