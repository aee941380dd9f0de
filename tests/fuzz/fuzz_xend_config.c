/*
 * fuzz_xend_config.c — the xend-config.sxp editor on arbitrary text.
 *
 * Properties: never crashes; the edit is idempotent (editing its own output
 * changes nothing); every input line that is not one of our keys survives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harden/harden.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct xg_policy p = {0};
    struct xg_prefix peer, addr;
    struct xg_err err;
    xg_addr_parse("192.0.2.11", &peer);
    xg_prefix_list_add(&p.peers, &peer);
    xg_addr_parse("192.0.2.1", &addr);
    p.transport = size % 2 ? XG_TRANSPORT_XEND : XG_TRANSPORT_SSH;
    p.migration_port = 8002;
    char *once = NULL, *twice = NULL;
    if (xg_harden_xend(text, &p, &addr, &once, &err) == 0) {
        if (xg_harden_xend(once, &p, &addr, &twice, &err) != 0 || strcmp(once, twice))
            abort();
        /* comment lines survive, in order */
        const char *have = once;
        for (const char *l = text; *l;) {
            size_t len = strcspn(l, "\n");
            if (l[0] == '#') {
                const char *found = have;
                while ((found = strstr(found, "#")) &&
                       !((found == once || found[-1] == '\n') && !strncmp(found, l, len) &&
                         (found[len] == '\n' || !found[len])))
                    found++;
                if (!found)
                    abort();
                have = found + len;
            }
            l += len + (l[len] == '\n');
        }
    }
    free(once);
    free(twice);
    xg_prefix_list_free(&p.peers);
    free(text);
    return 0;
}
