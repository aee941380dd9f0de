/*
 * addr.c — parsing, printing and comparing CIDR prefixes (see addr.h).
 *
 * inet_pton does the address syntax; everything about lengths and host
 * bits is ours, because that is where the specification's own example
 * goes wrong.
 */
#include "net/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

unsigned xg_family_bits(uint8_t family)
{
    return family == XG_FAMILY_IPV4 ? 32 : 128;
}

int xg_addr_parse(const char *text, struct xg_prefix *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = XG_FAMILY_IPV4;
        out->len = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = XG_FAMILY_IPV6;
        out->len = 128;
        return 0;
    }
    return -1;
}

void xg_prefix_mask(struct xg_prefix *p)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned first = i * 8;
        if (first >= p->len)
            p->addr[i] = 0;
        else if (p->len < first + 8)
            p->addr[i] &= (uint8_t)(0xff << (first + 8 - p->len));
    }
}

bool xg_prefix_is_canonical(const struct xg_prefix *p)
{
    struct xg_prefix masked = *p;
    xg_prefix_mask(&masked);
    return memcmp(masked.addr, p->addr, sizeof(p->addr)) == 0;
}

static int parse_len(const char *text, unsigned max, unsigned *len)
{
    char *end;
    unsigned long v;

    if (!*text || *text == '+' || *text == '-' || *text == ' ')
        return -1;
    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *len = (unsigned)v;
    return 0;
}

int xg_prefix_parse(const char *text, enum xg_prefix_mode mode, struct xg_prefix *out, char *why,
                    size_t why_size)
{
    char addr[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(text, '/');
    size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
    unsigned len;

    if (addr_len == 0 || addr_len >= sizeof(addr)) {
        snprintf(why, why_size, "'%s' is not an IPv4 or IPv6 address", text);
        return -1;
    }
    memcpy(addr, text, addr_len);
    addr[addr_len] = '\0';
    if (xg_addr_parse(addr, out) < 0) {
        snprintf(why, why_size, "'%s' is not an IPv4 or IPv6 address", addr);
        return -1;
    }
    if (!slash)
        return 0;
    if (parse_len(slash + 1, xg_family_bits(out->family), &len) < 0) {
        snprintf(why, why_size, "'%s': prefix length must be 0 to %u", text,
                 xg_family_bits(out->family));
        return -1;
    }
    out->len = (uint8_t)len;
    if (!xg_prefix_is_canonical(out)) {
        char real[XG_PREFIX_STRLEN];
        xg_prefix_mask(out);
        if (mode == XG_PREFIX_STRICT) {
            xg_prefix_format(out, false, real);
            snprintf(why, why_size, "'%s' has host bits set: as a prefix it means %s", text, real);
            return -1;
        }
    }
    return 0;
}

void xg_prefix_format(const struct xg_prefix *p, bool bare_host, char out[XG_PREFIX_STRLEN])
{
    char a[INET6_ADDRSTRLEN];
    int af = p->family == XG_FAMILY_IPV4 ? AF_INET : AF_INET6;

    if (!inet_ntop(af, p->addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    if (bare_host && p->len == xg_family_bits(p->family))
        snprintf(out, XG_PREFIX_STRLEN, "%s", a);
    else
        snprintf(out, XG_PREFIX_STRLEN, "%s/%u", a, p->len);
}

static bool same_leading_bits(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

bool xg_prefix_contains(const struct xg_prefix *outer, const struct xg_prefix *inner)
{
    return outer->family == inner->family && outer->len <= inner->len &&
           same_leading_bits(outer->addr, inner->addr, outer->len);
}

bool xg_prefix_overlaps(const struct xg_prefix *a, const struct xg_prefix *b)
{
    return xg_prefix_contains(a, b) || xg_prefix_contains(b, a);
}

bool xg_prefix_equal(const struct xg_prefix *a, const struct xg_prefix *b)
{
    return a->family == b->family && a->len == b->len && memcmp(a->addr, b->addr, 16) == 0;
}

int xg_prefix_cmp(const struct xg_prefix *a, const struct xg_prefix *b)
{
    int c;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    c = memcmp(a->addr, b->addr, 16);
    if (c)
        return c < 0 ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return 0;
}

int xg_prefix_list_add(struct xg_prefix_list *l, const struct xg_prefix *p)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct xg_prefix *grown = realloc(l->items, cap * sizeof(*grown));
        if (!grown)
            return -1;
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = *p;
    return 0;
}

int xg_prefix_list_copy(struct xg_prefix_list *dst, const struct xg_prefix_list *src)
{
    for (size_t i = 0; i < src->count; i++)
        if (xg_prefix_list_add(dst, &src->items[i]) < 0)
            return -1;
    return 0;
}

size_t xg_prefix_list_count_family(const struct xg_prefix_list *l, uint8_t family)
{
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++)
        n += l->items[i].family == family;
    return n;
}

bool xg_prefix_list_covers(const struct xg_prefix_list *l, const struct xg_prefix *p)
{
    for (size_t i = 0; i < l->count; i++)
        if (xg_prefix_contains(&l->items[i], p))
            return true;
    return false;
}

void xg_prefix_list_free(struct xg_prefix_list *l)
{
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

bool xg_prefix_list_equal(const struct xg_prefix_list *a, const struct xg_prefix_list *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (!xg_prefix_equal(&a->items[i], &b->items[i]))
            return false;
    return true;
}

void xg_prefix_list_print(struct xg_buf *out, const struct xg_prefix_list *l, const char *sep,
                          bool bare_host, const char *empty)
{
    if (!l->count)
        xg_buf_puts(out, empty);
    for (size_t i = 0; i < l->count; i++) {
        char text[XG_PREFIX_STRLEN];
        xg_prefix_format(&l->items[i], bare_host, text);
        xg_buf_printf(out, "%s%s", i ? sep : "", text);
    }
}
