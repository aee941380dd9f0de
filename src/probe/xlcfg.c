/*
 * xlcfg.c — the xl configuration language (xl.conf, domain .cfg files).
 *
 * libxlu's grammar: `key = value` statements ended by a newline or `;`,
 * where a value is a number, a '...' or "..." string, or a [ list ] of
 * those that may span lines (a trailing comma is allowed); `key += value`
 * appends; `#` comments to the end of the line. Like xl, the first
 * setting of a key is the one the audit reports (xl rejects duplicates in
 * newer versions, so a duplicate is noted by the caller, not guessed at).
 * Items of list options such as vfb = [ 'vnc=1,vnclisten=0.0.0.0' ] are
 * "k=v,k=v" specs, read with xg_xlcfg_spec_get().
 */
#include "probe/parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct lex {
    const char *s;
    size_t len, pos;
    unsigned line, col;
    const char *path;
    struct xg_err *err;
};

static int lpeek(const struct lex *l)
{
    return l->pos < l->len ? (unsigned char)l->s[l->pos] : -1;
}

static void ladv(struct lex *l)
{
    if (l->s[l->pos] == '\n') {
        l->line++;
        l->col = 1;
    } else {
        l->col++;
    }
    l->pos++;
}

/* Skip blanks and comments; newlines too when `nl`. */
static void lskip(struct lex *l, bool nl)
{
    for (int c; (c = lpeek(l)) != -1;) {
        if (c == '#') {
            while (lpeek(l) != -1 && lpeek(l) != '\n')
                ladv(l);
        } else if (c == ' ' || c == '\t' || c == '\r' || (nl && c == '\n')) {
            ladv(l);
        } else {
            return;
        }
    }
}

/* A string, number or bare word value; returns a malloc'd copy or NULL (err set). */
static char *lscalar(struct lex *l)
{
    struct xg_buf b = {0};
    unsigned line = l->line, col = l->col;
    int c = lpeek(l);
    if (c == '"' || c == '\'') {
        int q = c;
        ladv(l);
        for (;;) {
            c = lpeek(l);
            if (c == -1 || c == '\n') {
                xg_buf_free(&b);
                xg_fail_at(l->err, l->path, line, col, "unterminated string");
                return NULL;
            }
            ladv(l);
            if (c == q)
                break;
            if (c == '\\' && lpeek(l) != -1 && lpeek(l) != '\n') {
                int e = lpeek(l);
                ladv(l);
                xg_buf_printf(&b, "%c", e == 'n' ? '\n' : e == 't' ? '\t' : e);
                continue;
            }
            xg_buf_printf(&b, "%c", c);
        }
    } else if (c != -1 && (isalnum(c) || c == '-' || c == '+' || c == '.' || c == '_')) {
        while ((c = lpeek(l)) != -1 && (isalnum(c) || (c && strchr("-+._:/", c)))) {
            xg_buf_printf(&b, "%c", c);
            ladv(l);
        }
    } else {
        xg_fail_at(l->err, l->path, line, col, "expected a value, a string or a [list]");
        return NULL;
    }
    char *r = xg_buf_failed(&b) ? NULL : strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    if (!r)
        xg_fail(l->err, "%s: out of memory", l->path);
    return r;
}

static int vpush(struct xg_xlcfg_value *v, char *item)
{
    char **grown = realloc(v->items, (v->count + 1) * sizeof(*grown));
    if (!grown) {
        free(item);
        return -1;
    }
    v->items = grown;
    v->items[v->count++] = item;
    return 0;
}

static int parse_value(struct lex *l, struct xg_xlcfg_value *v)
{
    lskip(l, false);
    if (lpeek(l) != '[') {
        char *s = lscalar(l);
        if (!s)
            return -1;
        if (vpush(v, s) < 0)
            return xg_fail(l->err, "%s: out of memory", l->path);
        return 0;
    }
    unsigned line = l->line, col = l->col;
    v->is_list = true;
    ladv(l);
    for (;;) {
        lskip(l, true);
        int c = lpeek(l);
        if (c == ']') {
            ladv(l);
            return 0;
        }
        if (c == -1)
            return xg_fail_at(l->err, l->path, line, col, "'[' is never closed");
        char *s = lscalar(l);
        if (!s)
            return -1;
        if (vpush(v, s) < 0)
            return xg_fail(l->err, "%s: out of memory", l->path);
        lskip(l, true);
        c = lpeek(l);
        if (c == ',')
            ladv(l);
        else if (c == -1)
            return xg_fail_at(l->err, l->path, line, col, "'[' is never closed");
        else if (c != ']')
            return xg_fail_at(l->err, l->path, l->line, l->col, "expected ',' or ']' in a list");
    }
}

static void value_free(struct xg_xlcfg_value *v)
{
    free(v->key);
    for (size_t i = 0; i < v->count; i++)
        free(v->items[i]);
    free(v->items);
}

int xg_xlcfg_parse(const char *text, size_t len, const char *path, struct xg_xlcfg *out,
                   struct xg_err *err)
{
    struct lex l = {text, len, 0, 1, 1, path, err};
    memset(out, 0, sizeof(*out));
    if (!(out->path = strdup(path)))
        return xg_fail(err, "%s: out of memory", path);
    for (;;) {
        lskip(&l, true);
        int c = lpeek(&l);
        if (c == -1)
            return 0;
        if (c == ';') {
            ladv(&l);
            continue;
        }
        unsigned line = l.line, col = l.col;
        if (!isalpha(c) && c != '_') {
            xg_fail_at(err, path, line, col, "expected a setting name");
            goto fail;
        }
        struct xg_buf key = {0};
        while ((c = lpeek(&l)) != -1 && (isalnum(c) || c == '_' || c == '.')) {
            xg_buf_printf(&key, "%c", c);
            ladv(&l);
        }
        lskip(&l, false);
        bool append = false;
        if (lpeek(&l) == '+') {
            append = true;
            ladv(&l);
        }
        if (lpeek(&l) != '=') {
            xg_fail_at(err, path, l.line, l.col, "expected '=' after '%s'", xg_buf_str(&key));
            xg_buf_free(&key);
            goto fail;
        }
        ladv(&l);
        struct xg_xlcfg_value v = {0};
        v.key = strdup(xg_buf_str(&key));
        v.line = line;
        xg_buf_free(&key);
        if (!v.key) {
            xg_fail(err, "%s: out of memory", path);
            goto fail;
        }
        if (parse_value(&l, &v) < 0) {
            value_free(&v);
            goto fail;
        }
        lskip(&l, false);
        c = lpeek(&l);
        if (c != -1 && c != '\n' && c != ';') {
            xg_fail_at(err, path, l.line, l.col, "unexpected text after the value of '%s'", v.key);
            value_free(&v);
            goto fail;
        }
        struct xg_xlcfg_value *prev = NULL;
        for (size_t i = 0; append && i < out->count; i++)
            if (!strcmp(out->values[i].key, v.key))
                prev = &out->values[i];
        if (prev) {
            for (size_t i = 0; i < v.count; i++) {
                if (vpush(prev, v.items[i]) < 0) {
                    v.items[i] = NULL;
                    for (size_t j = i + 1; j < v.count; j++)
                        free(v.items[j]);
                    v.count = 0;
                    value_free(&v);
                    xg_fail(err, "%s: out of memory", path);
                    goto fail;
                }
            }
            prev->is_list = true;
            v.count = 0;
            value_free(&v);
            continue;
        }
        struct xg_xlcfg_value *grown = realloc(out->values, (out->count + 1) * sizeof(*grown));
        if (!grown) {
            value_free(&v);
            xg_fail(err, "%s: out of memory", path);
            goto fail;
        }
        out->values = grown;
        out->values[out->count++] = v;
    }
fail:
    xg_xlcfg_free(out);
    return -1;
}

bool xg_xlcfg_spec_get(const char *spec, const char *key, char *out, size_t out_size)
{
    size_t klen = strlen(key);
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) >= klen && !strncmp(p, key, klen) &&
            (p[klen] == '=' || p + klen == end)) {
            const char *v = p[klen] == '=' ? p + klen + 1 : end;
            size_t n = (size_t)(end - v);
            if (out_size) {
                if (n >= out_size)
                    n = out_size - 1;
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return true;
        }
        p = end;
    }
    return false;
}
