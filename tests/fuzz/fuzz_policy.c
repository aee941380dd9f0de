/*
 * fuzz_policy.c — libFuzzer target for the policy parser and everything
 * downstream of it.
 *
 * Beyond "never crash": a policy the parser accepts must compile and render
 * in every backend (a valid policy with no firewall is a bug; with a [perimeter]
 * section, the router's firewall too, which never accepts), and its
 * canonical print must parse back to the same canonical print. A refused
 * one must quote its line with a caret line that points into it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "compile/compile.h"
#include "compile/perimeter.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_policy p, again;
    struct xg_warnings w = {0};
    struct xg_err err;
    struct xg_ruleset rs;
    char *printed, *reprinted;

    if (xg_policy_parse((const char *)data, size, "fuzz.conf", &p, &w, &err) < 0) {
        /* the quoted line is the stored one, and the caret line points into it */
        static char shown[2 * XG_ERR_LINE_MAX + 8];
        size_t n = xg_err_format_source(&err, shown, sizeof(shown));
        size_t line_len = strlen(err.source);
        if (n && (strncmp(shown, err.source, line_len) || shown[line_len] != '\n' ||
                  !strchr(shown + line_len, '^') || shown[n - 1] != '\n'))
            abort();
        xg_warnings_free(&w);
        return 0;
    }
    if (xg_policy_print(&p, &printed) < 0)
        abort();
    if (xg_policy_parse(printed, strlen(printed), "printed.conf", &again, NULL, &err) < 0)
        abort(); /* the canonical form of a valid policy must be valid */
    if (xg_policy_print(&again, &reprinted) < 0 || strcmp(printed, reprinted))
        abort(); /* print(parse(print(p))) == print(p) */
    if (xg_compile(&p, &rs, &err) < 0)
        abort();
    for (int f = 0; f < 3; f++) {
        struct xg_buf b = {0};
        int rc = f == 0 ? xg_backend_nft(&rs, &b, &err)
                        : xg_backend_iptables(&rs, f == 1 ? 4 : 6, &b, &err);
        if (rc < 0)
            abort();
        xg_buf_free(&b);
    }
    xg_ruleset_free(&rs);
    /* a valid [perimeter] compiles too, in every backend, and never accepts */
    if (p.perimeter.present) {
        if (xg_compile_perimeter(&p, &rs, &err) < 0)
            abort();
        for (int f = 0; f < 3; f++) {
            struct xg_buf b = {0};
            int rc = f == 0 ? xg_backend_nft(&rs, &b, &err)
                            : xg_backend_iptables(&rs, f == 1 ? 4 : 6, &b, &err);
            if (rc < 0 || (f && strstr(xg_buf_str(&b), "-j ACCEPT")))
                abort();
            xg_buf_free(&b);
        }
        xg_ruleset_free(&rs);
    }
    free(printed);
    free(reprinted);
    xg_policy_free(&again);
    xg_policy_free(&p);
    xg_warnings_free(&w);
    return 0;
}
