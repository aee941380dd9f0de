/*
 * fuzz_ssh_connection.c — the SSH_CONNECTION parser of the lockout guard.
 * Properties: never crashes; what it accepts has valid ports and addresses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct xg_session s;
    struct xg_err err;
    if (xg_session_parse(text, &s, &err) == 0) {
        if (!s.client_port || !s.server_port)
            abort();
        if (s.client.family != XG_FAMILY_IPV4 && s.client.family != XG_FAMILY_IPV6)
            abort();
        char what[200];
        xg_session_describe(&s, what, sizeof(what));
    }
    free(text);
    return 0;
}
