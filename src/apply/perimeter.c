/*
 * perimeter.c — the perimeter's source and its nft table's save / restore
 * (see perimeter.h). The host firewall's equivalents are in source.c and
 * nft.c; these differ only in the table they name.
 */
#include "apply/perimeter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/nft.h"
#include "backend/backend.h"
#include "compile/perimeter.h"

#define PER_TABLE XG_NFT_FAMILY " " XG_NFT_PERIMETER_TABLE

int xg_source_from_perimeter(struct xg_source *s, const char *policy_path,
                             struct xg_warnings *warnings, struct xg_err *err)
{
    memset(s, 0, sizeof(*s));
    s->ruleset_fd = -1;
    snprintf(s->name, sizeof(s->name), "%s (perimeter)", policy_path);
    if (xg_policy_load(policy_path, &s->policy, warnings, err) < 0)
        return -1;
    s->have_policy = true;
    s->have_ir = true; /* freed even when compile stops half-way */
    if (xg_compile_perimeter(&s->policy, &s->ir, err) < 0 ||
        xg_backend_nft(&s->ir, &s->nft, err) < 0)
        return -1;
    if (xg_buf_failed(&s->nft))
        return xg_fail(err, "out of memory");
    return 0;
}

int xg_per_nft_table_text(char **out, struct xg_err *err)
{
    struct xg_err e = {{0}};
    *out = NULL;
    if (xg_nft_run("list table " PER_TABLE, false, "nft", out, &e) < 0) {
        if (!strstr(e.msg, "No such file or directory"))
            return xg_fail(err, "%s", e.msg);
        *out = strdup("");
    }
    return *out ? 0 : xg_fail(err, "out of memory");
}

int xg_per_nft_restore_text(const char *saved_text, struct xg_err *err)
{
    size_t len = strlen(saved_text) + 128;
    char *cmds = malloc(len);
    if (!cmds)
        return xg_fail(err, "out of memory");
    snprintf(cmds, len, "table " PER_TABLE " {}\ndelete table " PER_TABLE "\n%s", saved_text);
    int rc = xg_nft_run(cmds, false, "saved perimeter ruleset", NULL, err);
    free(cmds);
    return rc;
}
