/*
 * sshdprobe.c — sshd's configuration, as sshd itself would apply it.
 *
 * Two sources, and the model says which one was used (h->sshd_source):
 *  - `sshd -T -C user=root,host=,addr=` on the live host (and its capture,
 *    xenguard/sshd-T.txt): sshd's own effective values, every keyword, the
 *    compiled-in defaults of this build and vendor included, Match blocks
 *    applied for a root login from an unknown address. It needs root (host
 *    keys) and a configuration sshd accepts.
 *  - otherwise the files, parsed (src/probe/sshd.c) with Include resolved in
 *    place inside the root; an unset keyword then takes the default the
 *    checks know for the detected OpenSSH version and vendor.
 * The files are parsed in both cases: their Match blocks are kept ("match",
 * "match:KEY") so a check sees a block that weakens a setting for some
 * other connection than the one sshd -T evaluated.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"
#include "probe/parse.h"
#include "probe/probe.h"

struct sshd_ctx {
    const struct xg_rootfs *r;
    struct xg_host *h;
};

static int sshd_include(void *vctx, const char *pattern, struct xg_kvlist *out, unsigned depth,
                        struct xg_err *err)
{
    struct sshd_ctx *ctx = vctx;
    char full[1024];
    if (pattern[0] == '/')
        snprintf(full, sizeof(full), "%s", pattern);
    else
        snprintf(full, sizeof(full), "/etc/ssh/%s", pattern);
    char *slash = strrchr(full, '/');
    *slash = '\0';
    const char *dir = *full ? full : "/";
    const char *glob = slash + 1;
    char **names;
    size_t n;
    if (xg_probe_list_ev(ctx->r, ctx->h, dir, &names, &n) < 0)
        return 0; /* sshd ignores an Include that matches nothing */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (fnmatch(glob, names[i], FNM_PERIOD))
            continue;
        char rel[1400];
        snprintf(rel, sizeof(rel), "%s/%s", dir, names[i]);
        size_t len;
        char *t = xg_probe_read_ev(ctx->r, ctx->h, rel, &len);
        if (t)
            rc = xg_sshd_parse(t, len, rel, out, sshd_include, ctx, depth, err);
        free(t);
    }
    xg_strv_free(names, n);
    return rc;
}

/*
 * sshd's own effective configuration (`sshd -T`, with -C for a root login
 * from an unknown address so that Match blocks apply as they would): every
 * keyword with its value, the build's compiled-in defaults included. It needs
 * root (host keys) and a sshd that accepts the files; without it, the
 * parsed files and the version-aware defaults of the checks.
 */
static char *sshd_effective(const struct xg_rootfs *r, const char **src)
{
    char *argv[] = {"sshd", "-T", "-C", "user=root,host=,addr=", NULL};
    if (r->live) {
        *src = "sshd -T -C user=root,host=,addr=";
        return xg_probe_run(argv, false, false);
    }
    *src = XG_CAPTURE_DIR "/sshd-T.txt";
    return xg_rootfs_read(r, XG_CAPTURE_DIR "/sshd-T.txt", NULL);
}

/* Replace the parsed global values by sshd -T's, keeping the files' Match blocks. */
static void sshd_use_effective(struct xg_host *h, const char *text, const char *src)
{
    struct xg_kvlist k = {0};
    struct xg_err e;
    if (xg_sshd_parse(text, strlen(text), src, &k, NULL, NULL, 0, &e) < 0 || !k.count) {
        xg_host_note(h, "%s: unusable (%s): sshd_config parsed instead", src,
                     k.count ? e.msg : "empty");
        xg_kv_free(&k);
        return;
    }
    for (size_t i = 0; i < h->sshd.count; i++) {
        const struct xg_kv *kv = &h->sshd.items[i];
        if (!strncmp(kv->key, "match", 5) &&
            xg_kv_add(&k, kv->key, kv->value, kv->file, kv->line) < 0) {
            xg_kv_free(&k);
            return;
        }
    }
    xg_kv_free(&h->sshd);
    h->sshd = k;
    h->sshd_effective = true;
    free(h->sshd_source);
    h->sshd_source = strdup(src);
}

void xg_probe_sshd(const struct xg_rootfs *r, struct xg_host *h)
{
    size_t len;
    char *t = xg_probe_read_section(r, "/etc/ssh/sshd_config", &len, h, XG_SEC_SSHD);
    if (!t)
        return;
    h->sshd_present = true;
    h->sshd_source = strdup("/etc/ssh/sshd_config and its Includes (parsed)");
    struct sshd_ctx ctx = {r, h};
    struct xg_err e;
    if (xg_sshd_parse(t, len, "/etc/ssh/sshd_config", &h->sshd, sshd_include, &ctx, 0, &e) < 0)
        xg_probe_set_error(h, XG_SEC_SSHD, e.msg);
    free(t);
    const char *src;
    char *eff = h->errors[XG_SEC_SSHD] ? NULL : sshd_effective(r, &src);
    if (eff)
        sshd_use_effective(h, eff, src);
    free(eff);
}
