/*
 * redact.c — the secrets a capture leaves out, and the markers it writes
 * in their place (see redact.h).
 *
 * The config transforms are scanners, not parsers: they copy the text
 * through byte for byte and replace only the spans that hold a secret, so
 * a file that does not parse still fails at the same line and column in the
 * capture, and one that parses gives the same model with "<set>" where the
 * secret was. What counts as a secret is a name holding "passw" (vncpasswd,
 * spicepasswd, password): the checks only ask whether such a value is set.
 */
#include "probe/redact.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/parse.h"

#define NO_FIELDS       "<line left out by xenguard capture (no fields)>"
#define COMMENT_DROPPED "# (comment left out by xenguard capture: it mentions a password)"

/* Does s[0..n) hold "passw", in any case? */
static bool names_password(const char *s, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++)
        if (!strncasecmp(s + i, "passw", 5))
            return true;
    return false;
}

bool xg_redact_pw_field(const char *field, bool passwd, char *buf, size_t size)
{
    const char *to = field;
    switch (xg_pw_classify(field, passwd)) {
    case XG_PW_EMPTY:
    case XG_PW_UNKNOWN:
        break;
    case XG_PW_LOCKED:
        if (field[strspn(field, "!*")]) {
            snprintf(buf, size, "%c" XG_REDACT_LOCKED, field[0]);
            to = buf;
        }
        break;
    case XG_PW_USABLE:
        to = XG_REDACT_USABLE;
        break;
    }
    if (to != buf)
        snprintf(buf, size, "%s", to);
    return strcmp(buf, field) != 0;
}

/* One line of a colon file (without its '\n'), redacted into out. */
static void colon_line(const char *line, size_t n, bool passwd, struct xg_buf *out, size_t *count)
{
    size_t cr = n && line[n - 1] == '\r';
    n -= cr;
    const char *colon = memchr(line, ':', n);
    if (!n || (!colon && (line[0] == '+' || line[0] == '-'))) {
        xg_buf_append(out, line, n); /* empty, or a NIS "+" / "-NAME" line */
    } else if (line[0] == '#') {
        xg_buf_puts(out, "#");
        *count += n > 1;
    } else if (!colon) {
        xg_buf_puts(out, NO_FIELDS);
        *count += n != strlen(NO_FIELDS) || memcmp(line, NO_FIELDS, n);
    } else {
        const char *f = colon + 1, *end = memchr(f, ':', (size_t)(line + n - f));
        size_t flen = end ? (size_t)(end - f) : (size_t)(line + n - f);
        /* the state rests on the first characters: a longer field is cut, never copied */
        char field[4096], buf[32];
        snprintf(field, sizeof(field), "%.*s", (int)(flen < sizeof(field) ? flen : 4095), f);
        *count += xg_redact_pw_field(field, passwd, buf, sizeof(buf));
        xg_buf_append(out, line, (size_t)(f - line));
        xg_buf_puts(out, buf);
        if (end)
            xg_buf_append(out, end, (size_t)(line + n - end));
    }
    if (cr)
        xg_buf_puts(out, "\r");
}

int xg_redact_colon(const char *text, size_t len, bool passwd, struct xg_buf *out, size_t *count)
{
    *count = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        colon_line(text + pos, n, passwd, out, count);
        if (nl)
            xg_buf_puts(out, "\n");
        pos += n + (nl != NULL);
    }
    return xg_buf_failed(out) ? -1 : 0;
}

/* "<set>" in place of secret[0..n), with its line breaks (an sxp string
 * spans lines): every later line keeps its number. */
static void put_set(const char *secret, size_t n, struct xg_buf *out)
{
    xg_buf_puts(out, XG_REDACT_SET);
    for (size_t k = 0; k < n; k++)
        if (secret[k] == '\n')
            xg_buf_puts(out, "\n");
}

/* A comment from text[i] to the end of its line; returns its end. */
static size_t comment(const char *text, size_t len, size_t i, struct xg_buf *out, size_t *count)
{
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - text) : len;
    if (names_password(text + i, end - i)) {
        xg_buf_puts(out, COMMENT_DROPPED);
        *count += end - i != strlen(COMMENT_DROPPED) || memcmp(text + i, COMMENT_DROPPED, end - i);
    } else {
        xg_buf_append(out, text + i, end - i);
    }
    return end;
}

/* The end of a quoted string starting at text[i] (the closing quote's
 * index, or where it stops unterminated); `nl_ends`: a newline ends it. */
static size_t string_end(const char *text, size_t len, size_t i, bool nl_ends)
{
    char q = text[i];
    size_t j = i + 1;
    while (j < len && text[j] != q && !(nl_ends && text[j] == '\n'))
        j += text[j] == '\\' && j + 1 < len && !(nl_ends && text[j + 1] == '\n') ? 2 : 1;
    return j;
}

/* Between the k=v items of a string: a line break ends a value too (sxp strings span lines). */
#define SEPARATORS ", \t\r\n"

/* The content of a string with every `k=v` (separated by ',' or blanks)
 * whose k names a password set to "<set>". */
static void spec_items(const char *s, size_t n, struct xg_buf *out, size_t *count)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && !strchr(SEPARATORS, s[i]))
            i++;
        const char *eq = memchr(s + start, '=', i - start);
        if (eq && eq + 1 < s + i && names_password(s + start, (size_t)(eq - (s + start)))) {
            xg_buf_append(out, s + start, (size_t)(eq + 1 - (s + start)));
            xg_buf_puts(out, XG_REDACT_SET);
            (*count)++;
        } else {
            xg_buf_append(out, s + start, i - start);
        }
        for (start = i; i < n && strchr(SEPARATORS, s[i]); i++)
            ;
        xg_buf_append(out, s + start, i - start);
    }
}

/* A quoted string at text[i]: the whole value when `secret`, else its
 * password items. Returns the index after it. */
static size_t string_token(const char *text, size_t len, size_t i, bool nl_ends, bool secret,
                           struct xg_buf *out, size_t *count)
{
    size_t j = string_end(text, len, i, nl_ends);
    bool closed = j < len && text[j] == text[i];
    xg_buf_append(out, text + i, 1);
    if (secret && j > i + 1) {
        put_set(text + i + 1, j - i - 1, out);
        (*count)++;
    } else {
        spec_items(text + i + 1, j - i - 1, out, count);
    }
    if (closed)
        xg_buf_append(out, text + j, 1);
    return closed ? j + 1 : j;
}

/* xl's bare words (xlcfg.c lscalar): they start with one of these, then may hold ':' '/'. */
static bool xl_word_start(int c)
{
    return isalnum(c) || (c && strchr("-+._", c));
}

static bool xl_word(int c)
{
    return xl_word_start(c) || c == ':' || c == '/';
}

int xg_redact_xlcfg(const char *text, size_t len, struct xg_buf *out, size_t *count)
{
    bool stmt = true, value = false, secret = false;
    int depth = 0;
    *count = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (c == '#') {
            i = comment(text, len, i, out, count);
        } else if (c == '"' || c == '\'') {
            i = string_token(text, len, i, true, secret, out, count);
            stmt = false;
        } else if (stmt && (isalpha(c) || c == '_')) {
            size_t j = i;
            while (j < len && (isalnum((unsigned char)text[j]) || text[j] == '_' || text[j] == '.'))
                j++;
            secret = names_password(text + i, j - i);
            xg_buf_append(out, text + i, j - i);
            stmt = value = false;
            i = j;
        } else if ((value || secret) && xl_word_start(c) &&
                   !(c == '+' && i + 1 < len && text[i + 1] == '=')) {
            size_t j = i;
            while (j < len && xl_word((unsigned char)text[j]))
                j++;
            if (secret) {
                xg_buf_puts(out, "\"" XG_REDACT_SET "\"");
                (*count)++;
            } else {
                xg_buf_append(out, text + i, j - i);
            }
            i = j;
        } else {
            if ((c == '\n' || c == ';') && depth <= 0) {
                stmt = true;
                value = secret = false;
                depth = 0;
            } else if (c == '=' && depth <= 0) {
                value = true;
            } else if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            }
            xg_buf_append(out, text + i, 1);
            i++;
        }
    }
    return xg_buf_failed(out) ? -1 : 0;
}

int xg_redact_sxp(const char *text, size_t len, struct xg_buf *out, size_t *count)
{
    size_t depth = 0, secret_depth = 0; /* 0: not inside a password's list */
    bool head = false;
    *count = 0;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (c == '#') {
            i = comment(text, len, i, out, count);
            continue;
        }
        if (c == '(' || c == ')' || isspace((unsigned char)c)) {
            if (c == '(') {
                depth++;
                head = true;
            } else if (c == ')') {
                if (depth && depth == secret_depth)
                    secret_depth = 0;
                depth -= depth > 0;
                head = false;
            }
            xg_buf_append(out, text + i, 1);
            i++;
            continue;
        }
        bool quoted = c == '\'' || c == '"';
        size_t j = i;
        if (quoted)
            j = string_end(text, len, i, false);
        else
            while (j < len && !strchr(" \t\n\r\f\v()'\"#", text[j]))
                j++;
        if (j == i) /* a NUL, which ends no atom the reader accepts: copied */
            j = i + 1;
        const char *tok = text + i + quoted;
        size_t tlen = j - i - quoted;
        bool in_secret = secret_depth && (!head || depth > secret_depth);
        if (head && !secret_depth && names_password(tok, tlen)) {
            secret_depth = depth;
            xg_buf_append(out, text + i, j - i);
            i = j;
        } else if (in_secret && tlen) {
            if (quoted)
                xg_buf_append(out, text + i, 1);
            put_set(tok, tlen, out);
            (*count)++;
            i = j;
        } else if (quoted) {
            i = string_token(text, len, i, false, false, out, count);
            head = false;
            continue;
        } else {
            xg_buf_append(out, text + i, j - i);
            i = j;
        }
        if (quoted && j < len) { /* the closing quote */
            xg_buf_append(out, text + j, 1);
            i = j + 1;
        }
        head = false;
    }
    return xg_buf_failed(out) ? -1 : 0;
}

/* Every string member of v, at any depth, whose name holds "passw". */
static int json_walk(json_t *v, size_t *count, unsigned depth)
{
    if (depth > 64)
        return 0;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (json_walk(json_array_get(v, i), count, depth + 1) < 0)
                return -1;
        return 0;
    }
    const char *key;
    json_t *item;
    json_object_foreach(v, key, item)
    {
        if (json_is_string(item) && names_password(key, strlen(key))) {
            if (json_string_length(item)) {
                if (json_string_set(item, XG_REDACT_SET) < 0)
                    return -1;
                (*count)++;
            }
        } else if (json_walk(item, count, depth + 1) < 0) {
            return -1;
        }
    }
    return 0;
}

int xg_redact_json(const char *text, size_t len, struct xg_buf *out, size_t *count)
{
    json_error_t e;
    *count = 0;
    json_t *doc = json_loadb(text, len, JSON_DECODE_ANY, &e);
    if (!doc) {
        xg_buf_printf(out, "left out by xenguard capture: not JSON (line %d: %s)\n", e.line,
                      e.text);
        (*count)++;
        return xg_buf_failed(out) ? -1 : 0;
    }
    int rc = json_walk(doc, count, 0);
    char *dump =
        rc == 0 ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    json_decref(doc);
    if (!dump)
        return -1;
    xg_buf_puts(out, dump);
    xg_buf_puts(out, "\n");
    free(dump);
    return xg_buf_failed(out) ? -1 : 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

bool xg_redact_is_private_key(const char *name, const char *text, size_t len)
{
    static const char *const marks[] = {"PRIVATE KEY-----", "PuTTY-User-Key-File-",
                                        "PRIVATE KEY BLOCK-----"};
    static const char *const names[] = {".key", "_key", ".p12", ".pfx", ".jks"};
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (memmem(text, len, marks[i], strlen(marks[i])))
            return true;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (ends_with(base, names[i]))
            return true;
    return false;
}
