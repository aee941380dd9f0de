/*
 * log.h — tunneld's log lines (log.c): `xenguard-tunneld: EVENT key=value ...`.
 *
 * Every value goes through one escaping function, because many of them come
 * from the peer (certificate subjects, TLS error text, domain names): a value
 * made only of [A-Za-z0-9_.:/@+,=[]-] is written bare, anything else inside
 * double quotes with `"` and `\` backslash-escaped and control or non-ASCII
 * bytes as \xHH. A value can therefore never end its field or start another.
 */
#ifndef XG_TUNNEL_LOG_H
#define XG_TUNNEL_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define XG_LOG_LINE 1024

struct xg_log {
    char buf[XG_LOG_LINE];
    size_t len;
};

/* Escape `in` for a log value: out gets at most cap-1 bytes, NUL-terminated; always_quote
 * forces the quotes (reason="..."). Returns the length written. */
size_t xg_log_escape(const char *in, bool always_quote, char *out, size_t cap);

void xg_log_begin(struct xg_log *l, const char *event);
/* key=value, escaped (bare when safe) */
void xg_log_kv(struct xg_log *l, const char *key, const char *value);
/* key="value", always quoted */
void xg_log_kvq(struct xg_log *l, const char *key, const char *value);
/* key=printf(...), escaped like xg_log_kv (bare when safe) */
void xg_log_kvf(struct xg_log *l, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The finished line, with its newline, in one write(2). */
void xg_log_write(int fd, struct xg_log *l);
/* The finished line (no newline), for passing it on. */
const char *xg_log_text(struct xg_log *l);

#endif
