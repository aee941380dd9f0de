/*
 * journal.c — records for journald (native protocol) or syslog (RFC 5424);
 * see journal.h for the fields and the choice of socket.
 *
 * Why no libsystemd: the native protocol is a documented, stable datagram
 * format (systemd.io/JOURNAL_NATIVE_PROTOCOL) that takes thirty lines to
 * write, and the hosts without journald need the syslog path anyway. The
 * formatting is two pure functions over a buffer (unit-tested); only
 * xg_journal_send() touches a socket.
 */
#include "util/journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define SYSLOG_SOCKET  "/dev/log"
#define VALUE_MAX      4096             /* a longer value is cut: one record stays one datagram */
#define SD_ID          "xenguard@32473" /* 32473: the PEN RFC 5612 sets aside for examples */
#define FACILITY       3                /* daemon */

static bool given(const char *v)
{
    return v && *v;
}

static void native_field(struct xg_buf *b, const char *key, const char *value)
{
    if (!given(value))
        return;
    size_t n = strnlen(value, VALUE_MAX);
    if (!memchr(value, '\n', n)) {
        xg_buf_printf(b, "%s=%.*s\n", key, (int)n, value);
        return;
    }
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)n >> (8 * i));
    xg_buf_printf(b, "%s\n", key);
    xg_buf_append(b, (const char *)len, sizeof(len));
    xg_buf_append(b, value, n);
    xg_buf_puts(b, "\n");
}

void xg_journal_native(const struct xg_journal_rec *r, struct xg_buf *out)
{
    char prio[4];
    snprintf(prio, sizeof(prio), "%d", (int)r->priority);
    native_field(out, "MESSAGE", r->message);
    native_field(out, "PRIORITY", prio);
    native_field(out, "SYSLOG_IDENTIFIER", "xenguard");
    native_field(out, "SYSLOG_FACILITY", "3");
    native_field(out, "VERB", r->verb);
    native_field(out, "PEER", r->peer);
    native_field(out, "RESULT", r->result);
    native_field(out, "RULESET", r->ruleset);
}

/* Printable ASCII and UTF-8 pass; control bytes become '?'; `esc` gets a backslash. */
static void clean(struct xg_buf *b, const char *s, const char *esc, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (esc && strchr(esc, c))
            xg_buf_printf(b, "\\%c", c);
        else
            xg_buf_printf(b, "%c", c < 0x20 || c == 0x7f ? '?' : c);
    }
}

/* A header field: printable ASCII without spaces (RFC 5424 PRINTUSASCII), at most max. */
static void header_word(struct xg_buf *b, const char *s, size_t max)
{
    size_t n = 0;
    for (; s && s[n] && n < max; n++)
        xg_buf_printf(b, "%c", s[n] > 0x20 && s[n] < 0x7f ? s[n] : '_');
    if (!n)
        xg_buf_puts(b, "-");
}

void xg_journal_rfc5424(const struct xg_journal_rec *r, time_t when, const char *host, long pid,
                        struct xg_buf *out)
{
    struct tm tm;
    char ts[32];
    gmtime_r(&when, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    xg_buf_printf(out, "<%d>1 %s ", FACILITY * 8 + (int)r->priority, ts);
    header_word(out, host, 255);
    xg_buf_printf(out, " xenguard %ld ", pid);
    header_word(out, r->verb, 32);
    const char *keys[] = {"PEER", "RESULT", "RULESET"};
    const char *vals[] = {r->peer, r->result, r->ruleset};
    bool sd = false;
    for (size_t i = 0; i < 3; i++) {
        if (!given(vals[i]))
            continue;
        xg_buf_printf(out, "%s%s=\"", sd ? " " : " [" SD_ID " ", keys[i]);
        clean(out, vals[i], "\"\\]", VALUE_MAX);
        xg_buf_puts(out, "\"");
        sd = true;
    }
    xg_buf_puts(out, sd ? "]" : " -");
    if (given(r->message)) {
        xg_buf_puts(out, " ");
        clean(out, r->message, NULL, VALUE_MAX);
    }
}

static int send_to(const char *path, const struct xg_buf *b, struct xg_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return xg_fail(err, "%s: socket path too long", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return xg_fail(err, "socket: %s", strerror(errno));
    ssize_t n = sendto(fd, b->data, b->len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
                       sizeof(sa));
    int saved = errno;
    close(fd);
    if (n != (ssize_t)b->len)
        return xg_fail(err, "%s: %s", path, n < 0 ? strerror(saved) : "short send");
    return 0;
}

/* 0 journald took it, 1 syslog did, -1 neither. */
static int journal_send(const struct xg_journal_rec *r, struct xg_err *err)
{
    const char *syslog_path = secure_getenv("XG_SYSLOG_SOCKET");
    const char *journal_path = secure_getenv("XG_JOURNAL_SOCKET");
    struct xg_buf b = {0};
    int rc = -1;
    if (!given(syslog_path)) {
        xg_journal_native(r, &b);
        if (xg_buf_failed(&b))
            rc = xg_fail(err, "out of memory");
        else
            rc = send_to(given(journal_path) ? journal_path : JOURNAL_SOCKET, &b, err);
        xg_buf_free(&b);
        if (rc == 0)
            return 0;
        syslog_path = SYSLOG_SOCKET; /* no journald: syslog */
    }
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    xg_journal_rfc5424(r, time(NULL), host, (long)getpid(), &b);
    rc = xg_buf_failed(&b) ? xg_fail(err, "out of memory") : send_to(syslog_path, &b, err);
    xg_buf_free(&b);
    return rc < 0 ? -1 : 1;
}

int xg_journal_send(const struct xg_journal_rec *r, struct xg_err *err)
{
    return journal_send(r, err) < 0 ? -1 : 0;
}

void xg_journal_outcome(const char *verb, int rc, const char *result, const char *ruleset,
                        const struct xg_err *err, const char *message)
{
    if (rc < 0)
        xg_journal_op(verb, "failed", ruleset, "%s failed: %s", verb, err->msg);
    else
        xg_journal_op(verb, result, ruleset, "%s %s%s%s", verb, result, *message ? ": " : "",
                      message);
}

void xg_journal_op(const char *verb, const char *result, const char *ruleset, const char *fmt, ...)
{
    char msg[1024], peer[64] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *ssh = getenv("SSH_CONNECTION"); /* "CLIENT PORT SERVER PORT" */
    if (ssh)
        snprintf(peer, sizeof(peer), "%.*s", (int)strcspn(ssh, " "), ssh);
    struct xg_journal_rec r = {
        .priority = !strcmp(result, "failed") ? XG_JOURNAL_ERR
                    : strstr(result, "rollback") || strstr(result, "rolled-back") ||
                            !strcmp(result, "refused")
                        ? XG_JOURNAL_WARNING
                        : XG_JOURNAL_NOTICE,
        .verb = verb,
        .message = msg,
        .peer = peer,
        .result = result,
        .ruleset = ruleset,
    };
    struct xg_err ignored;
    xg_journal_send(&r, &ignored);
}

/* The value of ` key=` in a logfmt line (bare, or quoted with \" \\ \xHH): quotes and
 * backslashes unescaped, \xHH kept (what a peer chose never becomes a control byte here). */
static bool logfmt_value(const char *line, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    bool quoted = false;
    for (const char *p = line; *p; p++) {
        if (quoted) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                quoted = false;
            continue;
        }
        if (*p == '"') {
            quoted = true;
            continue;
        }
        if (*p != ' ' || strncmp(p + 1, key, klen) || p[1 + klen] != '=')
            continue;
        const char *v = p + 2 + klen;
        size_t n = 0;
        if (*v != '"') {
            n = strcspn(v, " ");
            snprintf(out, cap, "%.*s", (int)n, v);
            return true;
        }
        for (v++; *v && *v != '"' && n + 1 < cap; v++) {
            if (*v == '\\' && (v[1] == '"' || v[1] == '\\'))
                v++; /* \xHH stays as it is: the field stays printable ASCII */
            out[n++] = *v;
        }
        out[n] = '\0';
        return true;
    }
    return false;
}

/* Is fd the stream systemd connected to the journal ($JOURNAL_STREAM = "DEV:INODE")? */
static bool is_journal_stream(int fd)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(fd, &st) == 0 &&
           (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool xg_journal_line(const char *verb, int fd, const char *line)
{
    const char *body = strstr(line, ": ");
    body = body ? body + 2 : line;
    char event[64], peer[256] = "", result[64] = "";
    size_t n = strcspn(body, "=");
    while (n && body[n] != ' ' && body[n]) /* back to the start of the first key */
        n--;
    snprintf(event, sizeof(event), "%.*s", (int)(body[n] ? n : strlen(body)), body);
    if (!logfmt_value(line, "peer", peer, sizeof(peer)))
        logfmt_value(line, "addr", peer, sizeof(peer));
    if (!logfmt_value(line, "result", result, sizeof(result)))
        snprintf(result, sizeof(result), "%s", event);
    bool bad = strstr(result, "fail") || strstr(result, "refused") || strstr(result, "error") ||
               strstr(result, "exit");
    struct xg_journal_rec r = {.priority = bad ? XG_JOURNAL_WARNING : XG_JOURNAL_INFO,
                               .verb = verb,
                               .message = line,
                               .peer = peer,
                               .result = result};
    struct xg_err ignored;
    return journal_send(&r, &ignored) == 0 && is_journal_stream(fd);
}
