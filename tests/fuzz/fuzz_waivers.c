/*
 * fuzz_waivers.c — the waiver file (src/report/waivers.c).
 *
 * Properties: a file that parses, printed back one "ID DATE reason" line per
 * waiver, parses to the same waivers; applied to an audit in which every
 * check failed, a check is WAIVED exactly when its first waiver has not
 * expired (expiry inclusive), and otherwise still fails, with the expired
 * waiver named in its evidence.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define TODAY "2030-06-15"

static void same_waivers(const struct xg_waivers *a, const struct xg_waivers *b)
{
    if (a->count != b->count)
        abort();
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->items[i].id, b->items[i].id) ||
            strcmp(a->items[i].expires, b->items[i].expires) ||
            strcmp(a->items[i].reason, b->items[i].reason))
            abort();
}

static const struct xg_waiver *first_waiver(const struct xg_waivers *w, const char *id)
{
    for (size_t k = 0; k < w->count; k++)
        if (!strcmp(w->items[k].id, id))
            return &w->items[k];
    return NULL;
}

static void check_applied(const struct xg_waivers *w)
{
    size_t n;
    const struct xg_check_def *defs = xg_checks(&n);
    struct xg_result *r = calloc(n, sizeof(*r));
    if (!r)
        return;
    for (size_t i = 0; i < n; i++) {
        r[i].def = &defs[i];
        r[i].status = XG_STATUS_FAIL;
    }
    struct xg_audit a = {.results = r, .count = n};
    xg_audit_apply_waivers(&a, w, TODAY);
    for (size_t i = 0; i < n; i++) {
        const struct xg_waiver *wv = first_waiver(w, defs[i].id);
        if (!wv) {
            if (r[i].status != XG_STATUS_FAIL || r[i].evidence_count)
                abort();
        } else if (strcmp(wv->expires, TODAY) >= 0) {
            if (r[i].status != XG_STATUS_WAIVED || !r[i].reason ||
                !strstr(r[i].reason, wv->expires))
                abort();
        } else if (r[i].status != XG_STATUS_FAIL || r[i].evidence_count != 1 ||
                   !strstr(r[i].evidence[0], "waiver expired on")) {
            abort();
        }
        xg_result_free(&r[i]);
    }
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_waivers w;
    struct xg_err err;
    if (xg_waivers_parse((const char *)data, size, "fuzz", &w, &err) != 0)
        return 0;
    struct xg_buf out = {0};
    for (size_t i = 0; i < w.count; i++)
        xg_buf_printf(&out, "%s %s %s\n", w.items[i].id, w.items[i].expires, w.items[i].reason);
    if (!xg_buf_failed(&out)) {
        struct xg_waivers again;
        const char *text = xg_buf_str(&out);
        if (xg_waivers_parse(text, strlen(text), "print", &again, &err) != 0)
            abort();
        same_waivers(&w, &again);
        xg_waivers_free(&again);
    }
    xg_buf_free(&out);
    check_applied(&w);
    xg_waivers_free(&w);
    return 0;
}
