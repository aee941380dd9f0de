/*
 * buf.c — growable string buffer (see buf.h).
 */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct xg_buf *b, size_t extra)
{
    size_t need, cap;
    char *grown;

    if (b->failed)
        return false;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void xg_buf_printf(struct xg_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void xg_buf_puts(struct xg_buf *b, const char *s)
{
    xg_buf_append(b, s, strlen(s));
}

void xg_buf_append(struct xg_buf *b, const void *data, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

bool xg_buf_failed(const struct xg_buf *b)
{
    return b->failed;
}

const char *xg_buf_str(const struct xg_buf *b)
{
    return b->data ? b->data : "";
}

void xg_buf_free(struct xg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
