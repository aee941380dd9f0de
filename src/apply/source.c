/*
 * source.c — policy or ruleset file -> the text apply loads (see source.h).
 */
#include "apply/source.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/nft.h"
#include "backend/backend.h"
#include "compile/compile.h"

int xg_source_from_policy(struct xg_source *s, const char *policy_path,
                          struct xg_warnings *warnings, struct xg_err *err)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", policy_path);
    if (xg_policy_load(policy_path, &s->policy, warnings, err) < 0)
        return -1;
    s->have_policy = true;
    s->have_ir = true; /* freed even when compile stops half-way */
    if (xg_compile(&s->policy, &s->ir, err) < 0)
        return -1;
    if (xg_backend_nft(&s->ir, &s->nft, err) < 0)
        return -1;
    if (xg_buf_failed(&s->nft))
        return xg_fail(err, "out of memory");
    return 0;
}

int xg_source_from_file(struct xg_source *s, const char *path, struct xg_err *err)
{
    char real[PATH_MAX];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", path);
    if (!realpath(path, real))
        return xg_fail(err, "%s: %s", path, strerror(errno));
    if (access(real, R_OK) < 0)
        return xg_fail(err, "%s: %s", path, strerror(errno));
    if (strpbrk(real, "\"*?[\n"))
        return xg_fail(err, "%s: the path may not contain quotes or glob characters", path);
    xg_buf_printf(&s->nft,
                  "table " XG_NFT_FAMILY " " XG_NFT_TABLE " {}\n"
                  "delete table " XG_NFT_FAMILY " " XG_NFT_TABLE "\n"
                  "include \"%s\"\n",
                  real);
    if (xg_buf_failed(&s->nft))
        return xg_fail(err, "out of memory");
    const char *ignored;
    return xg_source_listing(s, &ignored, err);
}

int xg_source_listing(struct xg_source *s, const char **json, struct xg_err *err)
{
    if (!s->scratch_json && xg_nft_scratch(xg_buf_str(&s->nft), s->name, &s->scratch_json, err) < 0)
        return -1;
    *json = s->scratch_json;
    return 0;
}

void xg_source_free(struct xg_source *s)
{
    xg_buf_free(&s->nft);
    if (s->have_ir)
        xg_ruleset_free(&s->ir);
    if (s->have_policy)
        xg_policy_free(&s->policy);
    free(s->scratch_json);
    memset(s, 0, sizeof(*s));
}
