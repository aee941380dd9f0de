/*
 * fuzz_redact.c — what `xenguard capture` writes instead of a secret
 * (probe/redact.h), on hostile input.
 *
 * Property: the audit's reader sees the redacted text as it sees the
 * original. passwd/shadow: the same accounts, lines and password states
 * (or the same error); xl cfg and xend-config.sxp: parses iff the original
 * does, with the same keys on the same lines and the same empty / non-empty
 * values; xl list -l: the same domains; state.db: reduces iff it parses,
 * and this host's https_only, the host count and "a problem or not" are the
 * same. Redacting twice changes nothing more. Never a crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/parse.h"
#include "probe/redact.h"

static void free_accounts(struct xg_account *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].home);
        free(a[i].shell);
    }
    free(a);
}

static const char PASSWD[] = "root:x:0:0::/root:/bin/sh\na:x:1:1::/:/bin/sh\nb:x:2:2::/:/bin/sh\n";

/* Parse passwd (`t` as passwd, or the fixed one and `t` as shadow). */
static int accounts(const char *t, size_t n, bool as_shadow, struct xg_account **a, size_t *na,
                    struct xg_err *err)
{
    *a = NULL;
    *na = 0;
    if (!as_shadow)
        return xg_passwd_parse(t, n, "p", a, na, err);
    if (xg_passwd_parse(PASSWD, strlen(PASSWD), "p", a, na, err) < 0)
        abort();
    return xg_shadow_apply(t, n, "s", *a, *na, err);
}

static void colon(const char *t, size_t n, bool as_shadow)
{
    struct xg_buf r = {0}, r2 = {0};
    size_t count, count2;
    if (xg_redact_colon(t, n, !as_shadow, &r, &count) < 0)
        abort();
    struct xg_account *a, *b;
    size_t na, nb;
    struct xg_err ea, eb;
    int ra = accounts(t, n, as_shadow, &a, &na, &ea);
    int rb = accounts(r.data ? r.data : "", r.len, as_shadow, &b, &nb, &eb);
    if (ra != rb || na != nb || (ra < 0 && strcmp(ea.msg, eb.msg)))
        abort();
    for (size_t i = 0; ra == 0 && i < na; i++)
        if (strcmp(a[i].name, b[i].name) || a[i].pw != b[i].pw || a[i].line != b[i].line)
            abort();
    free_accounts(a, na);
    free_accounts(b, nb);
    if (xg_redact_colon(r.data ? r.data : "", r.len, !as_shadow, &r2, &count2) < 0 || count2 ||
        r.len != r2.len || (r.len && memcmp(r.data, r2.data, r.len)))
        abort();
    xg_buf_free(&r);
    xg_buf_free(&r2);
}

static void xlcfg(const char *t, size_t n)
{
    struct xg_buf r = {0};
    size_t count;
    if (xg_redact_xlcfg(t, n, &r, &count) < 0)
        abort();
    struct xg_xlcfg a, b;
    struct xg_err ea, eb;
    int ra = xg_xlcfg_parse(t, n, "c", &a, &ea);
    int rb = xg_xlcfg_parse(r.data ? r.data : "", r.len, "c", &b, &eb);
    if (ra != rb)
        abort();
    if (ra == 0) {
        if (a.count != b.count)
            abort();
        for (size_t i = 0; i < a.count; i++) {
            const struct xg_xlcfg_value *va = &a.values[i], *vb = &b.values[i];
            if (strcmp(va->key, vb->key) || va->line != vb->line || va->count != vb->count)
                abort();
            for (size_t k = 0; k < va->count; k++)
                if (!va->items[k][0] != !vb->items[k][0])
                    abort();
        }
        xg_xlcfg_free(&a);
        xg_xlcfg_free(&b);
    }
    xg_buf_free(&r);
}

static void sxp(const char *t, size_t n)
{
    struct xg_buf r = {0};
    size_t count;
    if (xg_redact_sxp(t, n, &r, &count) < 0)
        abort();
    struct xg_kvlist a = {0}, b = {0};
    char **sa = NULL, **sb = NULL;
    size_t na = 0, nb = 0;
    struct xg_err ea, eb;
    int ra = xg_xend_config_parse(t, n, "x", &a, &sa, &na, &ea);
    int rb = xg_xend_config_parse(r.data ? r.data : "", r.len, "x", &b, &sb, &nb, &eb);
    if (ra != rb || (ra == 0 && (a.count != b.count || na != nb)))
        abort();
    for (size_t i = 0; ra == 0 && i < a.count; i++)
        if (strcmp(a.items[i].key, b.items[i].key) || a.items[i].line != b.items[i].line ||
            !a.items[i].value[0] != !b.items[i].value[0])
            abort();
    xg_kv_free(&a);
    xg_kv_free(&b);
    for (size_t i = 0; i < na; i++)
        free(sa[i]);
    for (size_t i = 0; i < nb; i++)
        free(sb[i]);
    free(sa);
    free(sb);
    xg_buf_free(&r);
}

static void json(const char *t, size_t n)
{
    struct xg_buf r = {0};
    size_t count;
    if (xg_redact_json(t, n, &r, &count) < 0)
        abort();
    struct xg_domain *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    struct xg_err ea, eb;
    int ra = xg_xllist_parse(t, n, "l", &a, &na, &ea);
    int rb = xg_xllist_parse(r.data ? r.data : "", r.len, "l", &b, &nb, &eb);
    if (ra != rb || na != nb)
        abort();
    for (size_t i = 0; i < na; i++)
        if (a[i].domid != b[i].domid || strcmp(a[i].name, b[i].name))
            abort();
    for (size_t i = 0; i < na; i++)
        free(a[i].name);
    for (size_t i = 0; i < nb; i++)
        free(b[i].name);
    free(a);
    free(b);
    xg_buf_free(&r);
}

static void xapi(const char *t, size_t n)
{
    struct xg_buf r = {0};
    size_t dropped;
    struct xg_err e;
    int rr = xg_xapi_db_reduce(t, n, "s", &r, &dropped, &e);
    static const char *const uuids[] = {"3f2e1d0c-b9a8-4765-8432-10fedcba9876", "a", NULL};
    for (size_t u = 0; u < 3; u++) {
        struct xg_kvlist a = {0}, b = {0};
        size_t ha = 0, hb = 0;
        char pa[512], pb[512];
        int ra = xg_xapi_db_parse(t, n, "s", uuids[u], &a, &ha, pa, sizeof(pa), &e);
        if ((ra < 0) != (rr < 0))
            abort();
        if (rr == 0) {
            if (xg_xapi_db_parse(r.data, r.len, "s", uuids[u], &b, &hb, pb, sizeof(pb), &e) < 0)
                abort();
            const struct xg_kv *ka = xg_kv_find(&a, "db:https_only", false);
            const struct xg_kv *kb = xg_kv_find(&b, "db:https_only", false);
            const struct xg_kv *ua = xg_kv_find(&a, "db:uuid", false);
            const struct xg_kv *ub = xg_kv_find(&b, "db:uuid", false);
            if (ha != hb || !pa[0] != !pb[0] || !ka != !kb ||
                (ka && strcmp(ka->value, kb->value)) || !ua != !ub ||
                (ua && strcmp(ua->value, ub->value)))
                abort();
        }
        xg_kv_free(&a);
        xg_kv_free(&b);
    }
    xg_buf_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    /* the text readers stop at a NUL the way C strings do: compare on text only */
    if (memchr(data, '\0', size))
        return 0;
    colon(t, size, false);
    colon(t, size, true);
    xlcfg(t, size);
    sxp(t, size);
    json(t, size);
    xapi(t, size);
    return 0;
}
