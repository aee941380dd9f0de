/*
 * err.c — filling struct xg_err and the warning list (see err.h).
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
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

int xg_fail(struct xg_err *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int xg_fail_at(struct xg_err *err, const char *file, unsigned line, unsigned col, const char *fmt,
               ...)
{
    va_list ap;
    size_t used;
    if (!err)
        return -1;
    put_location(err->msg, sizeof(err->msg), file, line, col);
    used = strlen(err->msg);
    va_start(ap, fmt);
    vsnprintf(err->msg + used, sizeof(err->msg) - used, fmt, ap);
    va_end(ap);
    return -1;
}

void xg_warn_at(struct xg_warnings *w, const char *file, unsigned line, unsigned col,
                const char *fmt, ...)
{
    char buf[XG_ERR_MAX];
    size_t used;
    va_list ap;
    char **grown;

    if (!w)
        return;
    put_location(buf, sizeof(buf), file, line, col);
    strncat(buf, "warning: ", sizeof(buf) - strlen(buf) - 1);
    used = strlen(buf);
    va_start(ap, fmt);
    vsnprintf(buf + used, sizeof(buf) - used, fmt, ap);
    va_end(ap);
    grown = realloc(w->lines, (w->count + 1) * sizeof(*grown));
    if (!grown)
        return;
    w->lines = grown;
    w->lines[w->count] = strdup(buf);
    if (w->lines[w->count])
        w->count++;
}

void xg_warnings_free(struct xg_warnings *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->lines[i]);
    free(w->lines);
    w->lines = NULL;
    w->count = 0;
}
