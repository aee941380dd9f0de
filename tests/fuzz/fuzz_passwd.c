/*
 * fuzz_passwd.c — the account files: passwd, then the same bytes as
 * shadow over the accounts found, as group, and as sudoers.
 */
#include <stdint.h>
#include <stdlib.h>

#include "probe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    struct xg_err err;
    struct xg_account *a = NULL;
    size_t n = 0;
    xg_passwd_parse(t, size, "passwd", &a, &n, &err);
    xg_shadow_apply(t, size, "shadow", a, n, &err);
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].home);
        free(a[i].shell);
    }
    free(a);
    struct xg_group *g = NULL;
    size_t ng = 0;
    xg_group_parse(t, size, "group", &g, &ng, &err);
    for (size_t i = 0; i < ng; i++) {
        free(g[i].name);
        for (size_t m = 0; m < g[i].member_count; m++)
            free(g[i].members[m]);
        free(g[i].members);
    }
    free(g);
    struct xg_sudo_rule *r = NULL;
    size_t nr = 0;
    char **dirs = NULL;
    size_t nd = 0;
    xg_sudoers_parse(t, size, "sudoers", &r, &nr, &dirs, &nd, &err);
    for (size_t i = 0; i < nr; i++) {
        free(r[i].who);
        free(r[i].file);
    }
    free(r);
    for (size_t i = 0; i < nd; i++)
        free(dirs[i]);
    free(dirs);
    return 0;
}
