/*
 * fuzz_xlcfg.c — the xl configuration language and the k=v spec reader.
 */
#include <stdint.h>
#include <stdlib.h>

#include "probe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_xlcfg c;
    struct xg_err err;
    if (xg_xlcfg_parse((const char *)data, size, "fuzz", &c, &err) == 0) {
        for (size_t i = 0; i < c.count; i++)
            for (size_t k = 0; k < c.values[i].count; k++) {
                char out[32];
                xg_xlcfg_spec_get(c.values[i].items[k], "vnclisten", out, sizeof(out));
                xg_xlcfg_spec_get(c.values[i].items[k], "vnc", out, 1);
            }
        xg_xlcfg_free(&c);
    }
    return 0;
}
