/*
 * fuzz_ipt_merge.c — iptables-save text through the XENGUARD-* merge.
 *
 * The input is split at the first NUL byte into "current" and "saved".
 * Properties: never crashes; merging a merge's output with the same saved
 * state gives the same xenguard lines; the merge holds no xenguard line
 * that the saved state does not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply/ipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    buf[size + 1] = '\0';
    const char *current = buf, *saved = buf + strlen(buf) + (strlen(buf) < size ? 1 : 0);
    struct xg_err err;
    char *merged = NULL, *again = NULL, *ours_a = NULL, *ours_b = NULL, *ours_saved = NULL;
    if (xg_ipt_merge(current, saved, &merged, &err) == 0 &&
        xg_ipt_merge(merged, saved, &again, &err) == 0 && xg_ipt_ours(merged, &ours_a, &err) == 0 &&
        xg_ipt_ours(again, &ours_b, &err) == 0 && xg_ipt_ours(saved, &ours_saved, &err) == 0) {
        if (strcmp(ours_a, ours_b))
            abort();
        for (const char *l = ours_a; *l;) {
            size_t len = strcspn(l, "\n");
            char *line = strndup(l, len);
            if (line && !strstr(ours_saved, line))
                abort();
            free(line);
            l += len + (l[len] == '\n');
        }
    }
    free(merged);
    free(again);
    free(ours_a);
    free(ours_b);
    free(ours_saved);
    free(buf);
    return 0;
}
