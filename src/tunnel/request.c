/*
 * request.c — what the sender asks for, and what the receiver lets through.
 *
 * The sender forwards the words xl put after HOST (`xl -t migrate-receive
 * -e`) so that the receiver can honour the harmless ones. The receiver
 * trusts none of it: the request is a small length-prefixed record that
 * decodes into bounded strings, and the words must match xl's own
 * migrate-receive grammar minus everything that would let a peer choose
 * what runs (Remus -r, --colo, --coloft-script SCRIPT, extra words). The
 * command actually run is the receiver's configured receive command; only
 * the flag set is carried over, rebuilt from booleans, never copied.
 *
 * Request layout: "XGT1" u8 argc u16 domain_len domain {u16 len, bytes}*argc
 */
#include <stdlib.h>
#include <string.h>

#include "tunnel/tunnel.h"

static const uint8_t magic[4] = {'X', 'G', 'T', '1'};

bool xg_domain_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > XG_TUNNEL_DOMAIN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
            !(s[i] >= '0' && s[i] <= '9') && !strchr("_.-", s[i]))
            return false;
    return true;
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int xg_request_encode(const char *domain, size_t argc, char *const *argv, uint8_t *out, size_t cap,
                      struct xg_err *err)
{
    size_t dlen = domain ? strlen(domain) : 0, pos = 0;
    if (argc > XG_TUNNEL_ARGS_MAX)
        return xg_fail(err, "too many remote arguments (%zu, at most %d)", argc,
                       XG_TUNNEL_ARGS_MAX);
    if (dlen > XG_TUNNEL_DOMAIN_MAX)
        dlen = 0; /* the domain is only a label for the log */
    if (cap > XG_TUNNEL_REQ_MAX)
        cap = XG_TUNNEL_REQ_MAX;
    if (cap < 7 + dlen)
        return xg_fail(err, "request too long");
    memcpy(out, magic, 4);
    out[4] = (uint8_t)argc;
    put16(out + 5, dlen);
    memcpy(out + 7, domain, dlen);
    pos = 7 + dlen;
    for (size_t i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (n > XG_TUNNEL_ARG_MAX)
            return xg_fail(err, "remote argument too long (%zu bytes)", n);
        if (pos + 2 + n > cap)
            return xg_fail(err, "remote arguments too long");
        put16(out + pos, n);
        memcpy(out + pos + 2, argv[i], n);
        pos += 2 + n;
    }
    return (int)pos;
}

void xg_request_free(struct xg_request *r)
{
    for (size_t i = 0; i < r->argc; i++)
        free(r->argv[i]);
    memset(r, 0, sizeof(*r));
}

static bool no_nul(const uint8_t *p, size_t n)
{
    return memchr(p, 0, n) == NULL;
}

int xg_request_decode(const uint8_t *in, size_t len, struct xg_request *out, struct xg_err *err)
{
    memset(out, 0, sizeof(*out));
    if (len < 4)
        return memcmp(in, magic, len) ? xg_fail(err, "bad request header") : 0;
    if (memcmp(in, magic, 4))
        return xg_fail(err, "bad request header");
    if (len < 7)
        return 0;
    size_t argc = in[4], dlen = (size_t)in[5] << 8 | in[6], pos = 7;
    if (argc > XG_TUNNEL_ARGS_MAX)
        return xg_fail(err, "request has %zu arguments (at most %d)", argc, XG_TUNNEL_ARGS_MAX);
    if (dlen > XG_TUNNEL_DOMAIN_MAX)
        return xg_fail(err, "request domain name too long");
    if (len < pos + dlen)
        return len >= XG_TUNNEL_REQ_MAX ? xg_fail(err, "request too long") : 0;
    if (!no_nul(in + pos, dlen))
        return xg_fail(err, "request domain name contains NUL");
    memcpy(out->domain, in + pos, dlen);
    out->domain[dlen] = 0;
    pos += dlen;
    for (size_t i = 0; i < argc; i++) {
        if (len < pos + 2)
            goto more;
        size_t n = (size_t)in[pos] << 8 | in[pos + 1];
        if (n > XG_TUNNEL_ARG_MAX)
            return xg_fail(err, "request argument %zu too long", i + 1);
        if (len < pos + 2 + n)
            goto more;
        if (!no_nul(in + pos + 2, n))
            return xg_fail(err, "request argument %zu contains NUL", i + 1);
        out->argv[i] = strndup((const char *)in + pos + 2, n);
        if (!out->argv[i])
            return xg_fail(err, "out of memory");
        out->argc = i + 1;
        pos += 2 + n;
    }
    if (pos > XG_TUNNEL_REQ_MAX)
        return xg_fail(err, "request too long");
    return (int)pos;
more:
    xg_request_free(out);
    return len >= XG_TUNNEL_REQ_MAX ? xg_fail(err, "request too long") : 0;
}

/* "-v", "-vv", ...: how many v, or 0 when it is something else. */
static unsigned verbose_count(const char *a)
{
    size_t n = strlen(a);
    if (n < 2 || a[0] != '-')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (a[i] != 'v')
            return 0;
    return (unsigned)(n - 1);
}

int xg_recv_flags_parse(size_t argc, char *const *argv, struct xg_recv_flags *out,
                        struct xg_err *err)
{
    size_t i = 0;
    memset(out, 0, sizeof(*out));
    if (argc == 0)
        return 0;
    if (strcmp(argv[0], "xl"))
        return xg_fail(err, "remote command '%.64s' is not allowed (only xl migrate-receive)",
                       argv[0]);
    for (i = 1; i < argc && strcmp(argv[i], "migrate-receive"); i++) {
        unsigned v = verbose_count(argv[i]);
        if (!strcmp(argv[i], "-t"))
            out->tty = true;
        else if (!strcmp(argv[i], "-T"))
            out->timestamps = true;
        else if (v && out->verbose + v <= 8)
            out->verbose += v;
        else
            return xg_fail(err, "xl option '%.64s' is not allowed (allowed: -t -T -v)", argv[i]);
    }
    if (i == argc)
        return xg_fail(err, "remote command is not 'xl migrate-receive'");
    for (i++; i < argc; i++) {
        if (!strcmp(argv[i], "-e"))
            out->no_daemon = true;
        else if (!strcmp(argv[i], "-d"))
            out->debug = true;
        else if (!strcmp(argv[i], "-p"))
            out->pause = true;
        else if (!strcmp(argv[i], "-F"))
            out->foreground = true;
        else
            return xg_fail(err,
                           "migrate-receive argument '%.64s' is not allowed (allowed: -e -d -p -F)",
                           argv[i]);
    }
    return 0;
}

void xg_argv_free(char **argv)
{
    if (!argv)
        return;
    for (size_t i = 0; argv[i]; i++)
        free(argv[i]);
    free(argv);
}

int xg_recv_argv(const char *receive_command, const struct xg_recv_flags *f, char ***out,
                 struct xg_err *err)
{
    char *words[64], *dup = strdup(receive_command ? receive_command : ""), *save = NULL;
    size_t n = 0, at;
    const char *globals[12], *subs[4];
    size_t ng = 0, ns = 0;
    char vbuf[12] = "-";

    if (!dup)
        return xg_fail(err, "out of memory");
    for (char *w = strtok_r(dup, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n == 63) {
            free(dup);
            return xg_fail(err, "receive command has too many words");
        }
        words[n++] = w;
    }
    if (n == 0) {
        free(dup);
        return xg_fail(err, "receive command is empty");
    }
    if (f->tty)
        globals[ng++] = "-t";
    if (f->timestamps)
        globals[ng++] = "-T";
    if (f->verbose) {
        memset(vbuf + 1, 'v', f->verbose > 8 ? 8 : f->verbose);
        globals[ng++] = vbuf;
    }
    if (f->no_daemon)
        subs[ns++] = "-e";
    if (f->debug)
        subs[ns++] = "-d";
    if (f->pause)
        subs[ns++] = "-p";
    if (f->foreground)
        subs[ns++] = "-F";
    for (at = 0; at < n && strcmp(words[at], "migrate-receive"); at++)
        ;
    char **argv = calloc(n + ng + ns + 1, sizeof(*argv));
    size_t k = 0;
    bool oom = !argv;
    for (size_t i = 0; !oom && i < n + ng + ns; i++) {
        const char *s;
        if (i < at)
            s = words[i];
        else if (i < at + ng)
            s = globals[i - at];
        else if (i < n + ng)
            s = words[i - ng];
        else
            s = subs[i - n - ng];
        if (!(argv[k++] = strdup(s)))
            oom = true;
    }
    free(dup);
    if (oom) {
        xg_argv_free(argv);
        return xg_fail(err, "out of memory");
    }
    *out = argv;
    return 0;
}
