/*
 * fuzz_sxp.c — xend-config.sxp: the S-expression reader, its printer
 * (print(parse(print(x))) must equal print(x)) and the xend semantics.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_sxp top;
    struct xg_err err;
    if (xg_sxp_parse((const char *)data, size, "fuzz", &top, &err) == 0) {
        struct xg_buf a = {0}, b = {0};
        xg_sxp_print(&top, &a);
        struct xg_sxp again;
        if (xg_sxp_parse(a.data ? a.data : "", a.len, "print", &again, &err) != 0)
            abort();
        xg_sxp_print(&again, &b);
        if (strcmp(xg_buf_str(&a), xg_buf_str(&b)))
            abort();
        xg_sxp_free(&again);
        xg_buf_free(&a);
        xg_buf_free(&b);
        xg_sxp_free(&top);
    }
    struct xg_kvlist kv = {0};
    char **api = NULL;
    size_t napi = 0;
    xg_xend_config_parse((const char *)data, size, "fuzz", &kv, &api, &napi, &err);
    for (size_t i = 0; i < napi; i++)
        free(api[i]);
    free(api);
    xg_kv_free(&kv);
    return 0;
}
