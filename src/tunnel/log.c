/*
 * log.c — tunneld's log lines, with one escaping rule for every value.
 *
 * A log line is machine-read (journal filters, tests, SIEMs) as
 * space-separated key=value fields, and several values are chosen by
 * whoever connects: a certificate subject of `x" result=ok peer=a.test
 * reason="` must stay one value. So nothing is formatted into a line
 * directly: each value passes xg_log_escape, which quotes and escapes
 * whatever is not plainly safe. Lines are built in a fixed buffer and
 * written with one write(2), so concurrent sessions never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/log.h"
#include "util/journal.h"

static bool safe_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_.:/@+,=[]-", c) != NULL;
}

size_t xg_log_escape(const char *in, bool always_quote, char *out, size_t cap)
{
    bool quote = always_quote || !in[0];
    for (const char *p = in; *p && !quote; p++)
        quote = !safe_char((unsigned char)*p);
    size_t n = 0;
    if (cap < (quote ? 3u : 1u)) { /* no room for "" and the NUL: nothing */
        if (cap)
            out[0] = 0;
        return 0;
    }
    size_t room = cap - 1 - (quote ? 1 : 0); /* the NUL and the closing quote come after */
    if (quote)
        out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char e[5];
        size_t el = 1;
        if (!quote || (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\'))
            e[0] = (char)*p;
        else if (*p == '"' || *p == '\\')
            e[0] = '\\', e[1] = (char)*p, el = 2;
        else
            el = (size_t)snprintf(e, sizeof(e), "\\x%02x", *p);
        if (n + el > room)
            break; /* cut at a whole escape, never inside one */
        memcpy(out + n, e, el);
        n += el;
    }
    if (quote)
        out[n++] = '"';
    out[n] = 0;
    return n;
}

void xg_log_begin(struct xg_log *l, const char *event)
{
    l->len = (size_t)snprintf(l->buf, sizeof(l->buf), "xenguard-tunneld: %s", event);
}

static void kv(struct xg_log *l, const char *key, const char *value, bool quote)
{
    size_t room = sizeof(l->buf) - 1 - l->len; /* keep one byte for the newline */
    int k = snprintf(l->buf + l->len, room, " %s=", key);
    if (k < 0 || (size_t)k >= room)
        return;
    l->len += (size_t)k;
    l->len += xg_log_escape(value, quote, l->buf + l->len, room - (size_t)k);
}

void xg_log_kv(struct xg_log *l, const char *key, const char *value)
{
    kv(l, key, value, false);
}

void xg_log_kvq(struct xg_log *l, const char *key, const char *value)
{
    kv(l, key, value, true);
}

void xg_log_kvf(struct xg_log *l, const char *key, const char *fmt, ...)
{
    char v[XG_LOG_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    kv(l, key, v, false);
}

const char *xg_log_text(struct xg_log *l)
{
    l->buf[l->len] = 0;
    return l->buf;
}

void xg_log_write(int fd, struct xg_log *l)
{
    if (xg_journal_line("tunneld", fd, xg_log_text(l))) /* with fields; fd is journald's too */
        return;
    l->buf[l->len] = '\n';
    if (write(fd, l->buf, l->len + 1) < 0) {
        /* nowhere else to say it */
    }
    l->buf[l->len] = 0;
}
