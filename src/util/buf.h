/*
 * buf.h — a growable, always NUL-terminated string buffer.
 *
 * Backends render whole rulesets into one of these so that a ruleset is
 * either produced completely or not at all (no half-written stdout).
 * Allocation failure is sticky: after it, appends are ignored and
 * xg_buf_failed() reports it once at the end.
 */
#ifndef XG_UTIL_BUF_H
#define XG_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct xg_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

void xg_buf_printf(struct xg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xg_buf_puts(struct xg_buf *b, const char *s);
/* n bytes, NULs included (len counts them; the text view stops at the first). */
void xg_buf_append(struct xg_buf *b, const void *data, size_t n);
bool xg_buf_failed(const struct xg_buf *b);
/* The text so far ("" for an empty buffer, never NULL). */
const char *xg_buf_str(const struct xg_buf *b);
void xg_buf_free(struct xg_buf *b);

#endif
