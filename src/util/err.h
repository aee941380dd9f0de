/*
 * err.h — how errors travel in xenguard, and the one place they are printed.
 *
 * Nothing below main() prints or exits. A function that can fail takes a
 * struct xg_err *, fills it and returns -1; the verb at the top decides what
 * to print. An error has one line of text (msg, already prefixed with
 * FILE:LINE:COL when it has a place in some input: scripts grep that line)
 * and, as data, its place: file, line, column, the length of the offending
 * text and a copy of the input line. xg_err_print() writes the message and,
 * when the input line is known, the line again with carets under the fault,
 * as nft does:
 *
 *   xenguard.conf:2:9: peers: '192.168.1.1/8' has host bits set: ...
 *   peers = 192.168.1.1/8
 *           ^^^^^^^^^^^^^
 *
 * Warnings are collected the same way in a small list so that callers can
 * print them to stderr, or tests can assert on them.
 */
#ifndef XG_UTIL_ERR_H
#define XG_UTIL_ERR_H

#include <stddef.h>
#include <stdio.h>

#define XG_ERR_MAX      512
#define XG_ERR_LINE_MAX 1024

struct xg_err {
    char msg[XG_ERR_MAX]; /* the first line, location prefix included */
    /* where: line 0 = no place in an input */
    char file[256];
    unsigned line, col;           /* 1-based; col 0 = the whole line */
    unsigned len;                 /* bytes of the offending text from col (0: a point) */
    char source[XG_ERR_LINE_MAX]; /* the input line without its newline; "" = not known */
};

/* A whole input text, so that an error can quote its line. */
struct xg_src {
    const char *file; /* for messages */
    const char *text; /* NULL: the text is not kept */
    size_t len;
};

/* printf into err->msg (no place); returns -1 so callers can `return xg_fail(...)`. */
int xg_fail(struct xg_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Same, prefixed with "file:line:col: " (line/col are 1-based; 0 leaves them out).
 * The place is kept as data, without the input line. */
int xg_fail_at(struct xg_err *err, const char *file, unsigned line, unsigned col, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));

/* Same as xg_fail_at() at line/col of `src`, `len` bytes long, keeping a copy
 * of that input line for xg_err_print(). */
int xg_fail_src(struct xg_err *err, const struct xg_src *src, unsigned line, unsigned col,
                unsigned len, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The one error printer of every verb: "PREFIX: MSG\n" ("MSG\n" when prefix is
 * NULL), then the input line and a caret line when the line is known. */
void xg_err_print(FILE *f, const char *prefix, const struct xg_err *err);

/* Just the two extra lines ("LINE\nCARETS\n") into `out`; "" when the input
 * line is not known. Returns the length written (truncated to size - 1). */
size_t xg_err_format_source(const struct xg_err *err, char *out, size_t size);

/* A growable list of one-line warnings. */
struct xg_warnings {
    char **lines;
    size_t count;
};

void xg_warn_at(struct xg_warnings *w, const char *file, unsigned line, unsigned col,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void xg_warnings_free(struct xg_warnings *w);

#endif
