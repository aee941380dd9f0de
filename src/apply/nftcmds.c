/*
 * nftcmds.c — the statement-level check of a ruleset file (see nftcmds.h).
 *
 * Not an nft parser: a scanner that knows comments, quoted strings, line
 * continuations, braces and statement separators (newline, ';'), and keeps
 * the first few words of each top-level statement. That is enough to see
 * which table a command names; whether the rest is valid is nft's job (the
 * scratch load after this check). Anything the scanner cannot place is
 * refused rather than guessed.
 */
#include "apply/nftcmds.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_WORDS 6
#define WORD_MAX  64

#define ONLY_OURS "xenguard only loads table inet xenguard (and bridge xenguard)"

struct stmt {
    char w[MAX_WORDS][WORD_MAX];
    int n;
    unsigned line, col;
};

static bool in(const char *word, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(word, *set))
            return true;
    return false;
}

static const char *const verbs[] = {"add",     "create", "insert", "replace", "delete",
                                    "destroy", "flush",  "reset",  NULL};
static const char *const objects[] = {"table",   "chain",     "rule",    "set",   "map",
                                      "element", "flowtable", "counter", "quota", "limit",
                                      "secmark", "synproxy",  "ct",      NULL};
static const char *const ours_families[] = {"inet", "bridge", NULL};

/* What the statement does, for the message: "creates table ip filter". */
static void describe(const struct stmt *s, int verb, int obj, char *out, size_t size)
{
    const char *v = verb < 0 ? "add" : s->w[verb];
    const char *did = !strcmp(v, "add") || !strcmp(v, "create")       ? "creates"
                      : !strcmp(v, "delete") || !strcmp(v, "destroy") ? "deletes"
                      : !strcmp(v, "flush")                           ? "flushes"
                                                                      : NULL;
    if (obj < 0)
        did = NULL;
    if (did && obj < s->n - 2)
        snprintf(out, size, "%s %s %s %s", did, s->w[obj], s->w[obj + 1], s->w[obj + 2]);
    else if (did && obj < s->n - 1)
        snprintf(out, size, "%s %s %s", did, s->w[obj], s->w[obj + 1]);
    else
        snprintf(out, size, "`%s%s%s%s%s%s%s`", s->w[0], s->n > 1 ? " " : "",
                 s->n > 1 ? s->w[1] : "", s->n > 2 ? " " : "", s->n > 2 ? s->w[2] : "",
                 s->n > 3 ? " " : "", s->n > 3 ? s->w[3] : "");
}

static int judge(const struct stmt *s, const char *name, struct xg_err *err)
{
    char what[4 * WORD_MAX + 32];
    if (s->n == 0)
        return 0;
    if (in(s->w[0], (const char *const[]){"define", "redefine", "undefine", NULL}))
        return 0;
    int verb = in(s->w[0], verbs) ? 0 : -1, obj = verb + 1, fam = obj + 1;
    if (obj < s->n && !strcmp(s->w[obj], "ct"))
        fam++; /* ct helper|timeout|expectation FAMILY TABLE NAME */
    bool known = obj < s->n && in(s->w[obj], objects);
    if (known && fam + 1 < s->n && in(s->w[fam], ours_families) &&
        !strcmp(s->w[fam + 1], "xenguard"))
        return 0;
    describe(s, verb, known ? obj : -1, what, sizeof(what));
    return xg_fail_at(err, name, s->line, s->col, "%s; %s", what, ONLY_OURS);
}

struct scan {
    const char *t;
    size_t len, i;
    unsigned line, col;
};

static void advance(struct scan *sc)
{
    if (sc->t[sc->i] == '\n') {
        sc->line++;
        sc->col = 1;
    } else {
        sc->col++;
    }
    sc->i++;
}

/* A word: up to whitespace or one of the structural characters. */
static void read_word(struct scan *sc, char out[WORD_MAX])
{
    size_t n = 0;
    while (sc->i < sc->len && !strchr(" \t\r\n{};#\"", sc->t[sc->i]) &&
           !(sc->t[sc->i] == '\\' && sc->i + 1 < sc->len && sc->t[sc->i + 1] == '\n')) {
        if (n < WORD_MAX - 1)
            out[n++] = sc->t[sc->i];
        advance(sc);
    }
    out[n] = '\0';
}

/* A quoted string, kept with its quotes (so it never equals a bare name). */
static void read_quoted(struct scan *sc, char out[WORD_MAX])
{
    size_t n = 0;
    do {
        if (n < WORD_MAX - 1)
            out[n++] = sc->t[sc->i];
        advance(sc);
    } while (sc->i < sc->len && sc->t[sc->i] != '"');
    if (sc->i < sc->len)
        advance(sc); /* closing quote */
    out[n] = '\0';
}

int xg_nft_check_commands(const char *text, size_t len, const char *name, struct xg_err *err)
{
    struct scan sc = {.t = text, .len = len, .line = 1, .col = 1};
    struct stmt s = {.n = 0};
    int depth = 0;
    bool start = true, closed = false; /* at a statement's start; top-level block closed */
    while (sc.i < sc.len) {
        char c = text[sc.i], word[WORD_MAX];
        unsigned line = sc.line, col = sc.col;
        if (c == '\0')
            return xg_fail_at(err, name, line, col, "a NUL byte: not an nft ruleset");
        if (c == '#') {
            while (sc.i < sc.len && text[sc.i] != '\n')
                advance(&sc);
        } else if (c == '\\' && sc.i + 1 < sc.len && text[sc.i + 1] == '\n') {
            advance(&sc);
            advance(&sc);
        } else if (c == '\n' || c == ';') {
            if (depth == 0 && judge(&s, name, err) < 0)
                return -1;
            if (depth == 0)
                s.n = 0, closed = false;
            start = true;
            advance(&sc);
        } else if (c == '{' || c == '}') {
            if (c == '{' && depth == 0 && s.n == 0) /* a bare block, or JSON: judged by nothing */
                return xg_fail_at(err, name, line, col, "'{' without a command; %s", ONLY_OURS);
            depth += c == '{' ? 1 : -1;
            if (depth < 0)
                return xg_fail_at(err, name, line, col, "'}' without a matching '{'");
            closed = depth == 0;
            start = true;
            advance(&sc);
        } else if (c == ' ' || c == '\t' || c == '\r') {
            advance(&sc);
        } else {
            if (c == '"')
                read_quoted(&sc, word);
            else
                read_word(&sc, word);
            if (!word[0]) { /* a lone backslash or the like: nothing the scanner knows */
                return xg_fail_at(err, name, line, col, "unexpected '%c'; %s", c, ONLY_OURS);
            }
            if (start && !strcmp(word, "include"))
                return xg_fail_at(err, name, line, col,
                                  "`include` is not allowed: the whole ruleset must be in the "
                                  "file given, to be checked");
            if (depth == 0 && closed)
                return xg_fail_at(err, name, line, col,
                                  "`%s` after a closing brace: end the command with a newline",
                                  word);
            if (depth == 0 && s.n < MAX_WORDS) {
                if (s.n == 0)
                    s.line = line, s.col = col;
                snprintf(s.w[s.n++], WORD_MAX, "%s", word);
            }
            start = false;
        }
    }
    return judge(&s, name, err);
}
