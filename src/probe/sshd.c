/*
 * sshd.c — sshd_config as sshd reads it, for the global settings.
 *
 * sshd takes the first value it meets for most keywords, reading Include'd
 * files in place where the Include line stands (Debian 12's sshd_config
 * starts with `Include /etc/ssh/sshd_config.d/NAME.conf`, so a drop-in beats
 * the main file). Keywords are case-insensitive; a line is `Keyword value`
 * or `Keyword=value`; `#` starts a comment. Lines after a `Match` belong to
 * that block and do not set global values (until `Match all`): they are kept
 * apart, as key "match" (the criteria, at the Match line) followed by keys
 * "match:KEYWORD", so a check can see a block that re-enables what the
 * global settings turn off for some connections. Multi-valued keywords
 * (ListenAddress, AllowUsers) keep every line: the checks decide.
 */
#include "probe/parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/lines.h"

#define SSHD_MAX_DEPTH 16

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Split off the next word of `p` (quotes group words); returns NULL at the end. */
static char *next_word(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return NULL;
    char *start = s;
    if (*s == '"') {
        start = ++s;
        while (*s && *s != '"')
            s++;
    } else {
        while (*s && *s != ' ' && *s != '\t')
            s++;
    }
    if (*s)
        *s++ = '\0';
    *p = s;
    return start;
}

int xg_sshd_parse(const char *text, size_t len, const char *path, struct xg_kvlist *out,
                  xg_sshd_include_fn inc, void *ctx, unsigned depth, struct xg_err *err)
{
    if (depth > SSHD_MAX_DEPTH)
        return xg_fail(err, "%s: Include nested deeper than %d", path, SSHD_MAX_DEPTH);
    bool in_match = false;
    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        lineno++;
        char *line = xg_line_next(text, len, &pos);
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
            p[--n] = '\0';
        if (!*p) {
            free(line);
            continue;
        }
        /* keyword, then '=' or whitespace */
        char *kend = p;
        while (*kend && *kend != ' ' && *kend != '\t' && *kend != '=')
            kend++;
        char *val = kend;
        if (*val) {
            *val++ = '\0';
            while (*val == ' ' || *val == '\t' || *val == '=')
                val++;
        }
        lower(p);
        for (const char *c = p; *c; c++)
            if (!isalnum((unsigned char)*c)) { /* sshd refuses to start on such a line */
                int rc = xg_fail_at(err, path, lineno, (unsigned)(c - line) + 1,
                                    "'%s' is not an sshd keyword", p);
                free(line);
                return rc;
            }
        if (!*val) {
            int rc = xg_fail_at(err, path, lineno, 1, "'%s' has no value", p);
            free(line);
            return rc;
        }
        if (!strcmp(p, "match")) {
            char criteria[256];
            snprintf(criteria, sizeof(criteria), "%s", val);
            char *v = val;
            char *w = next_word(&v);
            in_match = !(w && !strcasecmp(w, "all") && !next_word(&v));
            if (in_match && xg_kv_add(out, "match", criteria, path, lineno) < 0) {
                free(line);
                return xg_fail(err, "%s: out of memory", path);
            }
        } else if (in_match && strcmp(p, "include")) {
            char key[96];
            snprintf(key, sizeof(key), "match:%s", p);
            if (xg_kv_add(out, key, val, path, lineno) < 0) {
                free(line);
                return xg_fail(err, "%s: out of memory", path);
            }
        } else if (!in_match && !strcmp(p, "include")) {
            char *v = val;
            for (char *w; (w = next_word(&v));)
                if (inc && inc(ctx, w, out, depth + 1, err) < 0) {
                    free(line);
                    return -1;
                }
        } else if (!in_match) {
            char *v = val;
            if (*v == '"') {
                char *w = next_word(&v);
                v = w ? w : val;
            }
            if (xg_kv_add(out, p, v, path, lineno) < 0) {
                free(line);
                return xg_fail(err, "%s: out of memory", path);
            }
        }
        free(line);
    }
    return 0;
}
