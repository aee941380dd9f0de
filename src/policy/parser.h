/*
 * parser.h — what the three parts of the policy parser share (internal).
 *
 * parse.c reads lines and sections and hands each `key = value` to the
 * setter its row in the key table names; values.c holds the small
 * parse_<thing>() functions those setters are made of; validate.c checks what
 * only the whole file can tell. Every error goes through policy_fail(), which
 * keeps the place (line, column, length, the line's text) as data.
 */
#ifndef XG_POLICY_PARSER_H
#define XG_POLICY_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

enum section {
    SEC_NONE,
    SEC_HOST,
    SEC_CLUSTER,
    SEC_MIGRATION,
    SEC_ADMIN,
    SEC_ALLOW,
    SEC_TUNNEL,
    SEC_PERIMETER,
    SEC_GUESTS,
    SEC_COUNT
};

/* A token of a value: its text (NUL-terminated copy, cut at 255 bytes), its
 * column and its full length in the input. */
struct token {
    char text[256];
    unsigned col, len;
};

/* Everything the parser carries from line to line. */
struct parser {
    struct xg_src src; /* the whole text, for errors that quote their line */
    struct xg_policy *p;
    struct xg_warnings *warnings;
    struct xg_err *err;
    enum section section;
    unsigned section_line[SEC_COUNT];
    unsigned line;
    /* keys seen so far: "section.key" -> line, for duplicate detection */
    char (*seen_keys)[80];
    unsigned *seen_lines;
    size_t seen_count;
};

/* An error at `col` of the current line, `len` bytes long. Returns -1. */
int policy_fail(struct parser *ps, unsigned col, unsigned len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error at a place recorded earlier (line 0: the file as a whole). Returns -1. */
int policy_fail_loc(struct parser *ps, struct xg_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int policy_oom(struct parser *ps);

/* --- values.c --- */

/* Split `value` (starting at column `col`) into tokens separated by blanks
 * (and commas, when `commas`). Returns a malloc'd array (free it) and sets
 * *count; NULL only when memory runs out. */
struct token *policy_tokenize(const char *value, unsigned col, bool commas, size_t *count);
/* Exactly one token. */
int policy_single_token(struct parser *ps, const char *key, const char *value, unsigned col,
                        struct token *t);
/* One token that must be name_of(i) for some i < count; *out = i. */
int policy_keyword(struct parser *ps, const char *key, const char *value, unsigned col,
                   const char *(*name_of)(int), int count, int *out);

int policy_u16(struct parser *ps, const char *key, const struct token *t, uint16_t *out);
int policy_uint(struct parser *ps, const char *key, const struct token *t, unsigned max,
                unsigned *out);
int policy_bool(struct parser *ps, const char *key, const struct token *t, bool *out);
int policy_ifname(struct parser *ps, const char *key, const struct token *t, char *out);
int policy_prefix_list(struct parser *ps, const char *key, const char *value, unsigned col,
                       struct xg_prefix_list *out);
/* Append a copy of `word` to the array *words of *count strings (the one way the
 * parser grows a list of names); 0, or -1 after policy_oom(). */
int policy_words_add(struct parser *ps, char ***words, size_t *count, const char *word);
/* Names: letters, digits, '.', '_', '-' (not first) and the characters of `extra`. */
int policy_word_list(struct parser *ps, const char *key, const char *value, unsigned col,
                     const char *extra, char ***out, size_t *count);
int policy_string(struct parser *ps, const char *key, const char *value, unsigned col, char **out);
int policy_macs(struct parser *ps, const char *key, const char *value, unsigned col);
/* [guests] ports: interface names, each with an optional trailing '*' */
int policy_port_patterns(struct parser *ps, const char *key, const char *value, unsigned col);
int policy_fingerprints(struct parser *ps, const char *key, const char *value, unsigned col);
/* [allow] NAME = PROTO/PORTS from ADDR... [on IFACE] */
int policy_service(struct parser *ps, const char *name, unsigned name_col, const char *value,
                   unsigned col);

/* --- perimeter.c: the [perimeter] section --- */

/* Interface names, each once. */
int policy_ifname_list(struct parser *ps, const char *key, const char *value, unsigned col,
                       char ***out, size_t *count);
/* management-ports = PORT|LO-HI ... (tcp) */
int policy_perimeter_ports(struct parser *ps, const char *key, const char *value, unsigned col);
int policy_validate_perimeter(struct parser *ps);
struct xg_buf;
void policy_print_perimeter(struct xg_buf *b, const struct xg_perimeter *pm);
void policy_free_perimeter(struct xg_perimeter *pm);

/* --- validate.c --- */

int policy_validate(struct parser *ps);

#endif
