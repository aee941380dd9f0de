/*
 * fuzz_ifmap.c — the analyzer's interface map (--ifmap FILE, "IFACE PREFIX...").
 *
 * Properties: a map that parses, printed back one line per interface, parses
 * to the same map; and the reverse-path sets xg_ifmap_rpf() derives from it
 * partition the mapped space: per family, the sets of two interfaces never
 * overlap and together they are exactly the union of the map's prefixes
 * (every mapped address routes back through exactly one interface).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/host.h"
#include "analyze/space.h"
#include "util/buf.h"

/* the partition check is quadratic in prefixes: keep each input fast */
#define MAX_PREFIXES 64

static void same_map(const struct xg_ifmap *a, const struct xg_ifmap *b)
{
    if (a->count != b->count)
        abort();
    for (size_t i = 0; i < a->count; i++) {
        const struct xg_prefix_list *p = &a->entries[i].prefixes, *q = &b->entries[i].prefixes;
        if (strcmp(a->entries[i].ifname, b->entries[i].ifname) || p->count != q->count)
            abort();
        for (size_t k = 0; k < p->count; k++)
            if (!xg_prefix_equal(&p->items[k], &q->items[k]))
                abort();
    }
}

static bool same_ivlist(const struct xg_ivlist *a, const struct xg_ivlist *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->items[i].lo != b->items[i].lo || a->items[i].hi != b->items[i].hi)
            return false;
    return true;
}

static void check_partition(const struct xg_ifmap *m, uint8_t family)
{
    struct xg_ivlist mapped = {0}, covered = {0};
    for (size_t i = 0; i < m->count; i++)
        if (xg_ivlist_from_prefixes(&mapped, &m->entries[i].prefixes, family) < 0)
            abort();
    for (size_t i = 0; i < m->count; i++) {
        struct xg_prefix_list rpf = {0};
        struct xg_ivlist mine = {0}, overlap = {0};
        if (xg_ifmap_rpf(m, m->entries[i].ifname, family, &rpf) < 0 ||
            xg_ivlist_from_prefixes(&mine, &rpf, family) < 0 ||
            xg_ivlist_intersect(&mine, &covered, &overlap) < 0)
            abort();
        if (overlap.count) /* two interfaces claim the same source */
            abort();
        for (size_t k = 0; k < mine.count; k++)
            if (xg_ivlist_add(&covered, mine.items[k].lo, mine.items[k].hi) < 0)
                abort();
        xg_ivlist_normalize(&covered);
        xg_prefix_list_free(&rpf);
        xg_ivlist_free(&mine);
        xg_ivlist_free(&overlap);
    }
    if (!same_ivlist(&mapped, &covered))
        abort();
    xg_ivlist_free(&mapped);
    xg_ivlist_free(&covered);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_ifmap m = {0}, again = {0};
    struct xg_err err;
    if (xg_ifmap_parse((const char *)data, size, "fuzz", &m, &err) != 0) {
        xg_ifmap_free(&m);
        return 0;
    }
    struct xg_buf out = {0};
    size_t prefixes = 0;
    for (size_t i = 0; i < m.count; i++) {
        xg_buf_puts(&out, m.entries[i].ifname);
        for (size_t k = 0; k < m.entries[i].prefixes.count; k++) {
            char text[XG_PREFIX_STRLEN];
            xg_prefix_format(&m.entries[i].prefixes.items[k], false, text);
            xg_buf_printf(&out, " %s", text);
        }
        xg_buf_puts(&out, "\n");
        prefixes += m.entries[i].prefixes.count;
    }
    if (!xg_buf_failed(&out)) {
        const char *text = xg_buf_str(&out);
        if (xg_ifmap_parse(text, strlen(text), "print", &again, &err) != 0)
            abort();
        same_map(&m, &again);
    }
    xg_buf_free(&out);
    xg_ifmap_free(&again);
    if (prefixes <= MAX_PREFIXES) {
        check_partition(&m, 4);
        check_partition(&m, 6);
    }
    xg_ifmap_free(&m);
    return 0;
}
