/*
 * fuzz_xapidb.c — XAPI's state.db as hostile input: xg_xapi_db_parse (libxml2).
 *
 * Properties, for this host's uuid and for none: a document that does not
 * parse fails with a message naming the file; one that parses either adds
 * this host's row (every key "db:...", one row: a host count of at least 1)
 * or adds nothing and says why; never both, never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/parse.h"

static void one(const uint8_t *data, size_t size, const char *uuid)
{
    struct xg_kvlist kv = {0};
    struct xg_err err;
    size_t hosts = 0;
    char problem[512];
    int rc = xg_xapi_db_parse((const char *)data, size, "state.db", uuid, &kv, &hosts, problem,
                              sizeof(problem), &err);
    if (rc < 0) {
        if (kv.count || !strstr(err.msg, "state.db"))
            abort();
    } else if (kv.count) {
        if (problem[0] || !hosts)
            abort();
        for (size_t i = 0; i < kv.count; i++)
            if (strncmp(kv.items[i].key, "db:", 3))
                abort();
    } else if (!problem[0] && hosts) {
        abort(); /* host rows and no verdict about them */
    }
    xg_kv_free(&kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, "3f2e1d0c-b9a8-4765-8432-10fedcba9876");
    one(data, size, NULL);
    return 0;
}
