/*
 * err.c — filling struct xg_err, printing it, and the warning list (see err.h).
 *
 * The caret line is built from the stored input line itself: a tab in the
 * input stays a tab under it, so the carets line up whatever the terminal's
 * tab width, and a multi-byte UTF-8 character takes one column. Control
 * characters of the input are shown as '?' (a hostile file must not drive
 * the terminal).
 */
#include "util/err.h"
#include "util/strv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void put_location(char *out, size_t size, const char *file, unsigned line, unsigned col)
{
    if (!file)
        out[0] = '\0';
    else if (line && col)
        snprintf(out, size, "%s:%u:%u: ", file, line, col);
    else if (line)
        snprintf(out, size, "%s:%u: ", file, line);
    else
        snprintf(out, size, "%s: ", file);
}

static void set_place(struct xg_err *err, const char *file, unsigned line, unsigned col,
                      unsigned len)
{
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    err->col = col;
    err->len = len;
    err->source[0] = '\0';
}

static void vfail_at(struct xg_err *err, const char *file, unsigned line, unsigned col,
                     const char *fmt, va_list ap)
{
    size_t used;
    put_location(err->msg, sizeof(err->msg), file, line, col);
    used = strlen(err->msg);
    vsnprintf(err->msg + used, sizeof(err->msg) - used, fmt, ap);
}

int xg_fail(struct xg_err *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return -1;
    set_place(err, NULL, 0, 0, 0);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int xg_fail_at(struct xg_err *err, const char *file, unsigned line, unsigned col, const char *fmt,
               ...)
{
    va_list ap;
    if (!err)
        return -1;
    set_place(err, file, line, col, 0);
    va_start(ap, fmt);
    vfail_at(err, file, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

/* Copy line `line` (1-based) of `src` into out, control characters but tab as '?'. */
static void copy_line(const struct xg_src *src, unsigned line, char *out, size_t size)
{
    const char *s = src->text, *end = src->text + src->len, *eol;
    size_t n = 0;
    out[0] = '\0';
    for (unsigned l = 1; l < line && s < end; l++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            return;
        s = nl + 1;
    }
    if (s > end || (s == end && line > 1 && s[-1] == '\n'))
        return; /* no such line */
    eol = memchr(s, '\n', (size_t)(end - s));
    if (!eol)
        eol = end;
    if (eol > s && eol[-1] == '\r')
        eol--;
    for (; s < eol && n + 1 < size; s++) {
        unsigned char c = (unsigned char)*s;
        out[n++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}

int xg_fail_src(struct xg_err *err, const struct xg_src *src, unsigned line, unsigned col,
                unsigned len, const char *fmt, ...)
{
    va_list ap;
    const char *file = src ? src->file : NULL;
    if (!err)
        return -1;
    set_place(err, file, line, col, len);
    va_start(ap, fmt);
    vfail_at(err, file, line, col, fmt, ap);
    va_end(ap);
    if (src && src->text && line)
        copy_line(src, line, err->source, sizeof(err->source));
    return -1;
}

struct out {
    char *s;
    size_t size, used;
};

static void put(struct out *o, char c)
{
    if (o->used + 1 < o->size)
        o->s[o->used++] = c;
    o->s[o->used] = '\0';
}

static bool continuation(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80; /* a UTF-8 byte that is not a character's first */
}

size_t xg_err_format_source(const struct xg_err *err, char *out, size_t size)
{
    struct out o = {out, size, 0};
    const char *text = err->source;
    size_t n = strlen(text), col, end, carets = 0;
    if (!size)
        return 0;
    out[0] = '\0';
    if (!err->line || !n)
        return 0;
    /* col 0: the whole line; a column past the end points just after it */
    col = err->col ? err->col - 1 : 0;
    if (col > n && n + 1 >= sizeof(err->source))
        return 0; /* the fault is beyond the part of a very long line that was kept */
    if (col > n)
        col = n;
    end = err->col ? col + err->len : n;
    if (end > n)
        end = n;
    for (size_t i = 0; i < n; i++)
        put(&o, text[i]);
    put(&o, '\n');
    for (size_t i = 0; i < col; i++)
        if (!continuation(text[i]))
            put(&o, text[i] == '\t' ? '\t' : ' ');
    for (size_t i = col; i < end; i++)
        carets += !continuation(text[i]);
    for (size_t i = 0; i < (carets ? carets : 1); i++)
        put(&o, '^');
    put(&o, '\n');
    return o.used;
}

void xg_err_print(FILE *f, const char *prefix, const struct xg_err *err)
{
    char source[2 * XG_ERR_LINE_MAX + 8];
    if (prefix)
        fprintf(f, "%s: %s\n", prefix, err->msg);
    else
        fprintf(f, "%s\n", err->msg);
    if (xg_err_format_source(err, source, sizeof(source)))
        fputs(source, f);
}

void xg_warn_at(struct xg_warnings *w, const char *file, unsigned line, unsigned col,
                const char *fmt, ...)
{
    char buf[XG_ERR_MAX];
    size_t used;
    va_list ap;

    if (!w)
        return;
    put_location(buf, sizeof(buf), file, line, col);
    strncat(buf, "warning: ", sizeof(buf) - strlen(buf) - 1);
    used = strlen(buf);
    va_start(ap, fmt);
    vsnprintf(buf + used, sizeof(buf) - used, fmt, ap);
    va_end(ap);
    xg_strv_add(&w->lines, &w->count, buf);
}

void xg_warnings_free(struct xg_warnings *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->lines[i]);
    free(w->lines);
    w->lines = NULL;
    w->count = 0;
}
