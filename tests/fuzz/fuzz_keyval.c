/*
 * fuzz_keyval.c — KEY=VALUE files (files in /etc/default, xapi.conf): xg_keyval_parse.
 *
 * Property: what parses, printed back as `export KEY="VALUE"` lines, parses
 * to the same keys and values in the same order (the quotes keep a value's
 * spaces and " #", the export prefix keeps a key that itself starts with
 * "export "), with the line numbers of the printed file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_kvlist kv = {0}, again = {0};
    struct xg_err err;
    if (xg_keyval_parse((const char *)data, size, "fuzz", &kv, &err) == 0) {
        struct xg_buf out = {0};
        for (size_t i = 0; i < kv.count; i++)
            xg_buf_printf(&out, "export %s=\"%s\"\n", kv.items[i].key, kv.items[i].value);
        if (!xg_buf_failed(&out)) {
            const char *text = xg_buf_str(&out);
            if (xg_keyval_parse(text, strlen(text), "print", &again, &err) != 0 ||
                again.count != kv.count)
                abort();
            for (size_t i = 0; i < kv.count; i++)
                if (strcmp(kv.items[i].key, again.items[i].key) ||
                    strcmp(kv.items[i].value, again.items[i].value) || again.items[i].line != i + 1)
                    abort();
        }
        xg_buf_free(&out);
    }
    xg_kv_free(&kv);
    xg_kv_free(&again);
    return 0;
}
