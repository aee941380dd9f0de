/*
 * space.c — intervals, atoms and bitsets over the address line (see space.h).
 *
 * Everything here is integer arithmetic on 128-bit values; the only
 * subtle part is the top of the IPv6 space, where "hi + 1" overflows, so
 * intervals are inclusive and the code checks for the family's maximum
 * before stepping past it.
 */
#include "analyze/space.h"

#include <stdlib.h>
#include <string.h>

xg_u128 xg_family_max(uint8_t family)
{
    return family == XG_FAMILY_IPV4 ? (xg_u128)0xffffffffu : ~(xg_u128)0;
}

static xg_u128 addr_value(const struct xg_prefix *p)
{
    xg_u128 v = 0;
    unsigned n = p->family == XG_FAMILY_IPV4 ? 4 : 16;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p->addr[i];
    return v;
}

static xg_u128 host_mask(const struct xg_prefix *p)
{
    unsigned bits = xg_family_bits(p->family);
    unsigned host = bits - p->len;
    if (host == 0)
        return 0;
    if (host >= 128)
        return ~(xg_u128)0;
    return ((xg_u128)1 << host) - 1;
}

xg_u128 xg_prefix_lo(const struct xg_prefix *p)
{
    return addr_value(p) & ~host_mask(p);
}

xg_u128 xg_prefix_hi(const struct xg_prefix *p)
{
    return (addr_value(p) | host_mask(p)) & xg_family_max(p->family);
}

void xg_u128_to_addr(xg_u128 v, uint8_t family, struct xg_prefix *out)
{
    unsigned n = family == XG_FAMILY_IPV4 ? 4 : 16;
    memset(out, 0, sizeof(*out));
    out->family = family;
    out->len = (uint8_t)xg_family_bits(family);
    for (unsigned i = n; i-- > 0;) {
        out->addr[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

int xg_ivlist_add(struct xg_ivlist *l, xg_u128 lo, xg_u128 hi)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct xg_interval *g = realloc(l->items, cap * sizeof(*g));
        if (!g)
            return -1;
        l->items = g;
        l->cap = cap;
    }
    l->items[l->count].lo = lo;
    l->items[l->count].hi = hi;
    l->count++;
    return 0;
}

static int cmp_interval(const void *a, const void *b)
{
    const struct xg_interval *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return 0;
}

void xg_ivlist_normalize(struct xg_ivlist *l)
{
    size_t out = 0;
    if (!l->count)
        return;
    qsort(l->items, l->count, sizeof(*l->items), cmp_interval);
    for (size_t i = 1; i < l->count; i++) {
        struct xg_interval *cur = &l->items[out];
        /* adjacent (cur->hi + 1 == lo) also merges; beware of overflow */
        if (l->items[i].lo <= cur->hi || l->items[i].lo - 1 == cur->hi) {
            if (l->items[i].hi > cur->hi)
                cur->hi = l->items[i].hi;
        } else {
            l->items[++out] = l->items[i];
        }
    }
    l->count = out + 1;
}

int xg_ivlist_from_prefixes(struct xg_ivlist *l, const struct xg_prefix_list *p, uint8_t family)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->items[i].family == family &&
            xg_ivlist_add(l, xg_prefix_lo(&p->items[i]), xg_prefix_hi(&p->items[i])) < 0)
            return -1;
    xg_ivlist_normalize(l);
    return 0;
}

int xg_range_to_prefixes(xg_u128 lo, xg_u128 hi, uint8_t family, struct xg_prefix_list *out)
{
    unsigned bits = xg_family_bits(family);
    for (;;) {
        /* largest block aligned at lo that stays within hi */
        unsigned host = 0;
        while (host < bits) {
            xg_u128 size_m1 = host + 1 >= 128 ? ~(xg_u128)0 : (((xg_u128)1 << (host + 1)) - 1);
            if (lo & size_m1)
                break;
            if (lo + size_m1 > hi || lo + size_m1 < lo)
                break;
            host++;
        }
        struct xg_prefix p;
        xg_u128 size_m1 = host >= 128 ? ~(xg_u128)0 : (((xg_u128)1 << host) - 1);
        xg_u128_to_addr(lo, family, &p);
        p.len = (uint8_t)(bits - host);
        if (xg_prefix_list_add(out, &p) < 0)
            return -1;
        if (lo + size_m1 >= hi)
            return 0;
        lo = lo + size_m1 + 1;
    }
}

int xg_ivlist_to_prefixes(const struct xg_ivlist *l, uint8_t family, struct xg_prefix_list *out)
{
    for (size_t i = 0; i < l->count; i++)
        if (xg_range_to_prefixes(l->items[i].lo, l->items[i].hi, family, out) < 0)
            return -1;
    return 0;
}

/* Intersect two normalized interval lists into `out`. */
int xg_ivlist_intersect(const struct xg_ivlist *a, const struct xg_ivlist *b, struct xg_ivlist *out)
{
    size_t i = 0, j = 0;
    while (i < a->count && j < b->count) {
        xg_u128 lo = a->items[i].lo > b->items[j].lo ? a->items[i].lo : b->items[j].lo;
        xg_u128 hi = a->items[i].hi < b->items[j].hi ? a->items[i].hi : b->items[j].hi;
        if (lo <= hi && xg_ivlist_add(out, lo, hi) < 0)
            return -1;
        if (a->items[i].hi < b->items[j].hi)
            i++;
        else
            j++;
    }
    return 0;
}

int xg_ivlist_complement(const struct xg_ivlist *a, uint8_t family, struct xg_ivlist *out)
{
    xg_u128 next = 0, max = xg_family_max(family);
    bool done = false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->items[i].lo > next && xg_ivlist_add(out, next, a->items[i].lo - 1) < 0)
            return -1;
        if (a->items[i].hi == max) {
            done = true;
            break;
        }
        next = a->items[i].hi + 1;
    }
    if (!done && xg_ivlist_add(out, next, max) < 0)
        return -1;
    return 0;
}

int xg_ivlist_subtract(const struct xg_ivlist *a, const struct xg_ivlist *b, uint8_t family,
                       struct xg_ivlist *out)
{
    struct xg_ivlist nb = {0};
    int rc;
    if (xg_ivlist_complement(b, family, &nb) < 0)
        return -1;
    rc = xg_ivlist_intersect(a, &nb, out);
    xg_ivlist_free(&nb);
    return rc;
}

void xg_ivlist_free(struct xg_ivlist *l)
{
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int push_start(struct xg_atoms *a, xg_u128 v)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        xg_u128 *g = realloc(a->starts, cap * sizeof(*g));
        if (!g)
            return -1;
        a->starts = g;
        a->cap = cap;
    }
    a->starts[a->count++] = v;
    return 0;
}

int xg_atoms_cut(struct xg_atoms *a, xg_u128 lo, xg_u128 hi)
{
    if (push_start(a, lo) < 0)
        return -1;
    if (hi < xg_family_max(a->family) && push_start(a, hi + 1) < 0)
        return -1;
    return 0;
}

static int cmp_u128(const void *a, const void *b)
{
    xg_u128 x = *(const xg_u128 *)a, y = *(const xg_u128 *)b;
    return x < y ? -1 : x > y;
}

int xg_atoms_finish(struct xg_atoms *a)
{
    size_t out = 0;
    if (push_start(a, 0) < 0)
        return -1;
    qsort(a->starts, a->count, sizeof(*a->starts), cmp_u128);
    for (size_t i = 1; i < a->count; i++)
        if (a->starts[i] != a->starts[out])
            a->starts[++out] = a->starts[i];
    a->count = out + 1;
    return 0;
}

size_t xg_atoms_find(const struct xg_atoms *a, xg_u128 v)
{
    size_t lo = 0, hi = a->count; /* answer in [lo, hi) : last start <= v */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->starts[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void xg_atoms_span(const struct xg_atoms *a, xg_u128 lo, xg_u128 hi, size_t *first, size_t *last)
{
    *first = xg_atoms_find(a, lo);
    *last = xg_atoms_find(a, hi);
}

xg_u128 xg_atoms_hi(const struct xg_atoms *a, size_t i)
{
    return i + 1 < a->count ? a->starts[i + 1] - 1 : xg_family_max(a->family);
}

void xg_atoms_free(struct xg_atoms *a)
{
    free(a->starts);
    a->starts = NULL;
    a->count = a->cap = 0;
}

int xg_bits_init(struct xg_bits *b, size_t nbits)
{
    b->nwords = (nbits + 63) / 64;
    b->w = calloc(b->nwords ? b->nwords : 1, sizeof(*b->w));
    return b->w ? 0 : -1;
}

void xg_bits_free(struct xg_bits *b)
{
    free(b->w);
    b->w = NULL;
    b->nwords = 0;
}

void xg_bits_set_range(struct xg_bits *b, size_t first, size_t last)
{
    size_t fw = first / 64, lw = last / 64;
    uint64_t fm = ~(uint64_t)0 << (first % 64);
    uint64_t lm = ~(uint64_t)0 >> (63 - last % 64);
    if (fw == lw) {
        b->w[fw] |= fm & lm;
        return;
    }
    b->w[fw] |= fm;
    for (size_t i = fw + 1; i < lw; i++)
        b->w[i] = ~(uint64_t)0;
    b->w[lw] |= lm;
}

bool xg_bits_empty(const struct xg_bits *b)
{
    for (size_t i = 0; i < b->nwords; i++)
        if (b->w[i])
            return false;
    return true;
}

int xg_bits_to_prefixes(const struct xg_bits *b, const struct xg_atoms *a,
                        struct xg_prefix_list *out)
{
    size_t i = 0;
    while (i < a->count) {
        if (!xg_bits_get(b, i)) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < a->count && xg_bits_get(b, j + 1))
            j++;
        if (xg_range_to_prefixes(a->starts[i], xg_atoms_hi(a, j), a->family, out) < 0)
            return -1;
        i = j + 1;
    }
    return 0;
}

static int cmp_prefix(const void *a, const void *b)
{
    return xg_prefix_cmp(a, b);
}

void xg_prefix_list_sort(struct xg_prefix_list *l)
{
    if (l->count)
        qsort(l->items, l->count, sizeof(*l->items), cmp_prefix);
}
