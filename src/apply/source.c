/*
 * source.c — policy or ruleset file -> the text apply loads (see source.h).
 */
#include "apply/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "apply/guests.h"
#include "apply/nft.h"
#include "apply/nftcmds.h"
#include "backend/backend.h"
#include "compile/compile.h"
#include "util/file.h"

int xg_source_from_policy(struct xg_source *s, const char *policy_path,
                          struct xg_warnings *warnings, struct xg_err *err)
{
    memset(s, 0, sizeof(*s));
    s->ruleset_fd = -1;
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

int xg_source_prepare_guests(struct xg_source *s, struct xg_err *err)
{
    char *live = NULL;
    if (!s->have_ir)
        return 0;
    if (xg_guests_prepare(&s->ir, err) < 0)
        return -1;
    struct xg_table *t = xg_guests_table(&s->ir);
    struct xg_ruleset only = {.tables = &t, .table_count = 1};
    xg_buf_free(&s->nft);
    xg_buf_free(&s->bridge);
    if (xg_backend_nft(&s->ir, &s->nft, err) < 0 ||
        (t && xg_backend_nft(&only, &s->bridge, err) < 0))
        return -1;
    /* protect = no: a guests' table an earlier apply loaded goes, in the same transaction */
    if (!t) {
        if (xg_nft_bridge_json(&live, err) < 0)
            return -1;
        if (live) {
            static const char del[] = "table " XG_NFT_BRIDGE_FAMILY " " XG_NFT_TABLE " {}\n"
                                      "delete table " XG_NFT_BRIDGE_FAMILY " " XG_NFT_TABLE "\n";
            xg_buf_puts(&s->nft, del);
            xg_buf_puts(&s->bridge, del);
        }
        free(live);
    }
    return xg_buf_failed(&s->nft) || xg_buf_failed(&s->bridge) ? xg_fail(err, "out of memory") : 0;
}

/* The checked bytes in a sealed memfd: nobody can change them after the check. */
static int sealed_copy(const char *text, size_t len, const char *path, struct xg_err *err)
{
    int fd = memfd_create("xenguard-ruleset", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return xg_fail(err, "%s: memfd_create: %s", path, strerror(errno));
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return xg_fail(err, "%s: copying it: %s", path, strerror(errno));
        }
        off += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        close(fd);
        return xg_fail(err, "%s: sealing its copy: %s", path, strerror(errno));
    }
    return fd;
}

int xg_source_from_file(struct xg_source *s, const char *path, struct xg_err *err)
{
    char *text = NULL;
    size_t len = 0;
    memset(s, 0, sizeof(*s));
    s->ruleset_fd = -1;
    snprintf(s->name, sizeof(s->name), "%s", strcmp(path, "-") ? path : "<stdin>");
    /* read once: what is checked below is exactly what is loaded; the user names it, so
     * "-" (stdin) and a pipe (/dev/fd/N, <(...)) are fine */
    if (xg_file_read_input(path, XG_RULESET_MAX, &text, &len, err) < 0)
        return -1;
    int rc = xg_nft_check_commands(text, len, s->name, err);
    if (rc == 0 && (s->ruleset_fd = sealed_copy(text, len, s->name, err)) < 0)
        rc = -1;
    if (rc == 0) {
        xg_buf_puts(&s->applied, text);
        xg_buf_printf(&s->nft,
                      "table " XG_NFT_FAMILY " " XG_NFT_TABLE " {}\n"
                      "delete table " XG_NFT_FAMILY " " XG_NFT_TABLE "\n"
                      "include \"/proc/self/fd/%d\"\n",
                      s->ruleset_fd);
        if (xg_buf_failed(&s->nft) || xg_buf_failed(&s->applied))
            rc = xg_fail(err, "out of memory");
    }
    free(text);
    if (rc < 0)
        return -1;
    const char *ignored;
    return xg_source_listing(s, &ignored, err);
}

const struct xg_nft_tref xg_source_tables[] = {
    {XG_NFT_FAMILY, XG_NFT_TABLE}, {XG_NFT_BRIDGE_FAMILY, XG_NFT_TABLE}, {NULL, NULL}};

/* One scratch load gives both the JSON listing and the stateless text. */
static int scratch(struct xg_source *s, struct xg_err *err)
{
    if (s->scratch_json)
        return 0;
    if (xg_nft_scratch_text(xg_buf_str(&s->nft), s->name, xg_source_tables, &s->scratch_json,
                            &s->scratch_text, err) < 0)
        return -1;
    return xg_nft_only_ours(s->scratch_json, s->name, err);
}

int xg_source_listing(struct xg_source *s, const char **json, struct xg_err *err)
{
    if (scratch(s, err) < 0)
        return -1;
    *json = s->scratch_json;
    return 0;
}

int xg_source_text(struct xg_source *s, const char **text, struct xg_err *err)
{
    if (scratch(s, err) < 0)
        return -1;
    *text = s->scratch_text;
    return 0;
}

void xg_source_free(struct xg_source *s)
{
    xg_buf_free(&s->nft);
    xg_buf_free(&s->applied);
    xg_buf_free(&s->bridge);
    if (s->ruleset_fd >= 0)
        close(s->ruleset_fd);
    if (s->have_ir)
        xg_ruleset_free(&s->ir);
    if (s->have_policy)
        xg_policy_free(&s->policy);
    free(s->scratch_json);
    free(s->scratch_text);
    memset(s, 0, sizeof(*s));
}
