/*
 * err.h — how errors travel in xenguard.
 *
 * Nothing below main() prints or exits. A function that can fail takes a
 * struct xg_err *, fills it with one line (already prefixed with
 * FILE:LINE:COL when the error has a place in some input) and returns -1.
 * The verb at the top decides what to print. Warnings are collected the same
 * way in a small list so that callers can print them to stderr, or tests can
 * assert on them.
 */
#ifndef XG_UTIL_ERR_H
#define XG_UTIL_ERR_H

#include <stddef.h>

#define XG_ERR_MAX 512

struct xg_err {
    char msg[XG_ERR_MAX];
};

/* printf into err->msg; returns -1 so callers can `return xg_fail(...)`. */
int xg_fail(struct xg_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Same, prefixed with "file:line:col: " (line/col are 1-based; 0 leaves them out). */
int xg_fail_at(struct xg_err *err, const char *file, unsigned line, unsigned col, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));

/* A growable list of one-line warnings. */
struct xg_warnings {
    char **lines;
    size_t count;
};

void xg_warn_at(struct xg_warnings *w, const char *file, unsigned line, unsigned col,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void xg_warnings_free(struct xg_warnings *w);

#endif
