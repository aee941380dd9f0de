/*
 * sxp.c — the S-expression reader for xend-config.sxp, and its meaning.
 *
 * xend reads its configuration with its own sxp parser: `#` comments to the
 * end of the line, lists in parentheses, bare atoms, and '...' / "..."
 * strings with backslash escapes (`\\.` in the file is `\.` in the regex).
 * xend looks a key up with the first matching (key value) pair, so the
 * first value wins; a later duplicate is dead text, and the audit must
 * judge the value xend really uses. Nesting is bounded so hostile input
 * cannot exhaust the stack.
 */
#include "probe/parse.h"

#include <stdlib.h>
#include <string.h>

#define SXP_MAX_DEPTH 64

struct reader {
    const char *s;
    size_t len, pos;
    unsigned line, col;
    const char *path;
    struct xg_err *err;
};

static int peek(const struct reader *r)
{
    return r->pos < r->len ? (unsigned char)r->s[r->pos] : -1;
}

static void advance(struct reader *r)
{
    if (r->s[r->pos] == '\n') {
        r->line++;
        r->col = 1;
    } else {
        r->col++;
    }
    r->pos++;
}

static void skip_space(struct reader *r)
{
    for (int c; (c = peek(r)) != -1;) {
        if (c == '#') {
            while (peek(r) != -1 && peek(r) != '\n')
                advance(r);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(r);
        } else {
            return;
        }
    }
}

static int push(struct xg_sxp *list, struct xg_sxp *item)
{
    struct xg_sxp *grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    list->items = grown;
    list->items[list->count++] = *item;
    return 0;
}

static int read_atom(struct reader *r, struct xg_sxp *out)
{
    struct xg_buf b = {0};
    int c = peek(r);
    out->line = r->line;
    out->col = r->col;
    if (c == '\'' || c == '"') {
        int q = c;
        advance(r);
        for (;;) {
            c = peek(r);
            if (c == -1) {
                xg_buf_free(&b);
                return xg_fail_at(r->err, r->path, out->line, out->col,
                                  "unterminated string (opened here)");
            }
            advance(r);
            if (c == q)
                break;
            if (c == '\\' && peek(r) != -1) {
                int e = peek(r);
                advance(r);
                switch (e) {
                case 'n':
                    xg_buf_puts(&b, "\n");
                    break;
                case 't':
                    xg_buf_puts(&b, "\t");
                    break;
                case '\\':
                case '\'':
                case '"':
                    xg_buf_printf(&b, "%c", e);
                    break;
                default:
                    xg_buf_printf(&b, "\\%c", e);
                }
                continue;
            }
            xg_buf_printf(&b, "%c", c);
        }
    } else {
        while ((c = peek(r)) != -1 && !strchr(" \t\n\r\f\v()'\"#", c)) {
            xg_buf_printf(&b, "%c", c);
            advance(r);
        }
        if (b.len == 0) {
            xg_buf_free(&b);
            return xg_fail_at(r->err, r->path, r->line, r->col, "unexpected character 0x%02x",
                              (unsigned)c);
        }
    }
    if (xg_buf_failed(&b)) {
        xg_buf_free(&b);
        return xg_fail(r->err, "%s: out of memory", r->path);
    }
    out->atom = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return out->atom ? 0 : xg_fail(r->err, "%s: out of memory", r->path);
}

static int read_expr(struct reader *r, struct xg_sxp *out, unsigned depth);

static int read_list_items(struct reader *r, struct xg_sxp *list, unsigned depth, bool top)
{
    for (;;) {
        skip_space(r);
        int c = peek(r);
        if (c == -1) {
            if (top)
                return 0;
            return xg_fail_at(r->err, r->path, list->line, list->col,
                              "unbalanced '(': list opened here is never closed");
        }
        if (c == ')') {
            if (top)
                return xg_fail_at(r->err, r->path, r->line, r->col, "unbalanced ')'");
            advance(r);
            return 0;
        }
        struct xg_sxp item = {0};
        if (read_expr(r, &item, depth) < 0 || push(list, &item) < 0) {
            xg_sxp_free(&item);
            return -1;
        }
    }
}

static int read_expr(struct reader *r, struct xg_sxp *out, unsigned depth)
{
    if (peek(r) != '(')
        return read_atom(r, out);
    if (depth >= SXP_MAX_DEPTH)
        return xg_fail_at(r->err, r->path, r->line, r->col, "nesting deeper than %d",
                          SXP_MAX_DEPTH);
    out->is_list = true;
    out->line = r->line;
    out->col = r->col;
    advance(r);
    return read_list_items(r, out, depth + 1, false);
}

int xg_sxp_parse(const char *text, size_t len, const char *path, struct xg_sxp *out,
                 struct xg_err *err)
{
    struct reader r = {text, len, 0, 1, 1, path, err};
    memset(out, 0, sizeof(*out));
    out->is_list = true;
    out->line = out->col = 1;
    if (read_list_items(&r, out, 0, true) < 0) {
        xg_sxp_free(out);
        return -1;
    }
    return 0;
}

static bool needs_quote(const char *a)
{
    if (!*a)
        return true;
    for (; *a; a++)
        if (strchr(" \t\n\r\f\v()'\"#\\", *a))
            return true;
    return false;
}

static void print_expr(const struct xg_sxp *s, struct xg_buf *out)
{
    if (!s->is_list) {
        if (!needs_quote(s->atom)) {
            xg_buf_puts(out, s->atom);
            return;
        }
        xg_buf_puts(out, "'");
        for (const char *p = s->atom; *p; p++) {
            if (*p == '\'' || *p == '\\')
                xg_buf_puts(out, "\\");
            if (*p == '\n')
                xg_buf_puts(out, "\\n");
            else if (*p == '\t')
                xg_buf_puts(out, "\\t");
            else
                xg_buf_printf(out, "%c", *p);
        }
        xg_buf_puts(out, "'");
        return;
    }
    xg_buf_puts(out, "(");
    for (size_t i = 0; i < s->count; i++) {
        if (i)
            xg_buf_puts(out, " ");
        print_expr(&s->items[i], out);
    }
    xg_buf_puts(out, ")");
}

void xg_sxp_print(const struct xg_sxp *top, struct xg_buf *out)
{
    for (size_t i = 0; i < top->count; i++) {
        print_expr(&top->items[i], out);
        xg_buf_puts(out, "\n");
    }
}

void xg_sxp_free(struct xg_sxp *s)
{
    for (size_t i = 0; i < s->count; i++)
        xg_sxp_free(&s->items[i]);
    free(s->items);
    free(s->atom);
    memset(s, 0, sizeof(*s));
}

/* The value of a (key value...) pair as one string: atoms joined by spaces. */
static void value_text(const struct xg_sxp *pair, struct xg_buf *b)
{
    for (size_t i = 1; i < pair->count; i++) {
        if (i > 1)
            xg_buf_puts(b, " ");
        if (pair->items[i].is_list)
            print_expr(&pair->items[i], b);
        else
            xg_buf_puts(b, pair->items[i].atom);
    }
}

static int add_api_server(const struct xg_sxp *v, char ***out, size_t *count)
{
    /* (xen-api-server ((9363 pam '^localhost$') (unix none))) */
    for (size_t i = 0; i < v->count; i++) {
        const struct xg_sxp *srv = &v->items[i];
        if (!srv->is_list || srv->count < 1 || srv->items[0].is_list)
            continue;
        const char *auth = srv->count > 1 && !srv->items[1].is_list ? srv->items[1].atom : "";
        struct xg_buf b = {0};
        xg_buf_printf(&b, "%s %s", srv->items[0].atom, auth);
        char **grown = xg_buf_failed(&b) ? NULL : realloc(*out, (*count + 1) * sizeof(*grown));
        if (!grown) {
            xg_buf_free(&b);
            return -1;
        }
        *out = grown;
        (*out)[(*count)++] = strdup(xg_buf_str(&b));
        xg_buf_free(&b);
        if (!(*out)[*count - 1]) {
            (*count)--;
            return -1;
        }
    }
    return 0;
}

int xg_xend_config_parse(const char *text, size_t len, const char *path, struct xg_kvlist *out,
                         char ***api_servers, size_t *api_server_count, struct xg_err *err)
{
    struct xg_sxp top;
    if (xg_sxp_parse(text, len, path, &top, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < top.count && rc == 0; i++) {
        const struct xg_sxp *pair = &top.items[i];
        if (!pair->is_list || pair->count == 0 || pair->items[0].is_list) {
            rc = xg_fail_at(err, path, pair->line, pair->col,
                            "expected a (key value) pair at the top level");
            break;
        }
        const char *key = pair->items[0].atom;
        bool seen = xg_kv_find(out, key, false) != NULL;
        struct xg_buf b = {0};
        value_text(pair, &b);
        if (xg_buf_failed(&b) || xg_kv_add(out, key, xg_buf_str(&b), path, pair->line) < 0)
            rc = xg_fail(err, "%s: out of memory", path);
        xg_buf_free(&b);
        if (rc == 0 && !seen && !strcmp(key, "xen-api-server") && pair->count > 1 &&
            pair->items[1].is_list &&
            add_api_server(&pair->items[1], api_servers, api_server_count) < 0)
            rc = xg_fail(err, "%s: out of memory", path);
    }
    xg_sxp_free(&top);
    return rc;
}
