/*
 * iptsave.c — splitting iptables-save lines into words (see iptsave.h).
 *
 * One pass per word: blanks end a word unless inside double quotes; a
 * backslash copies the next character whatever it is (iptables-save escapes
 * quotes and backslashes inside comments that way).
 */
#include "ir/iptsave.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One word starting at s[*i] (not blank) into a new string; *i moves past it. */
static char *one_word(const char *s, size_t len, size_t *i, bool *unterminated)
{
    char *buf = malloc(len - *i + 1);
    size_t bl = 0;
    bool quoted = false;
    if (!buf)
        return NULL;
    while (*i < len && (quoted || !blank(s[*i]))) {
        if (s[*i] == '"') {
            quoted = !quoted;
            (*i)++;
        } else if (s[*i] == '\\' && *i + 1 < len) {
            buf[bl++] = s[*i + 1];
            *i += 2;
        } else {
            buf[bl++] = s[(*i)++];
        }
    }
    buf[bl] = '\0';
    *unterminated = quoted;
    return buf;
}

int xg_ipt_split(const char *s, size_t len, struct xg_ipt_line *out, unsigned *bad_col)
{
    size_t i = 0;
    memset(out, 0, sizeof(*out));
    *bad_col = 0;
    while (i < len) {
        while (i < len && blank(s[i]))
            i++;
        if (i >= len)
            break;
        unsigned col = (unsigned)i + 1;
        bool unterminated;
        char *word = one_word(s, len, &i, &unterminated);
        struct xg_ipt_word *g = word ? realloc(out->w, (out->n + 1) * sizeof(*g)) : NULL;
        if (g)
            out->w = g;
        if (!g || unterminated) {
            free(word);
            xg_ipt_line_free(out);
            *bad_col = g ? col : 0;
            return -1;
        }
        out->w[out->n++] = (struct xg_ipt_word){word, col};
    }
    return 0;
}

void xg_ipt_line_free(struct xg_ipt_line *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->w[i].s);
    free(l->w);
    memset(l, 0, sizeof(*l));
}

const char *xg_ipt_rule_chain(const struct xg_ipt_line *l)
{
    if (l->n >= 2 && (!strcmp(l->w[0].s, "-A") || !strcmp(l->w[0].s, "-I")))
        return l->w[1].s;
    return NULL;
}

const char *xg_ipt_rule_target(const struct xg_ipt_line *l)
{
    if (!xg_ipt_rule_chain(l))
        return NULL;
    for (size_t i = 2; i + 1 < l->n; i++)
        if (!strcmp(l->w[i].s, "-j") || !strcmp(l->w[i].s, "-g") || !strcmp(l->w[i].s, "--jump") ||
            !strcmp(l->w[i].s, "--goto"))
            return l->w[i + 1].s;
    return NULL;
}
