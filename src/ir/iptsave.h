/*
 * iptsave.h — the one tokenizer of iptables-save lines.
 *
 * The analyzer's parser (src/analyze/iptables.c) and apply's merge of
 * iptables-save output (src/apply/ipt.c) both read iptables-save text; they
 * split its lines here, the way iptables-restore does, so that a quoted
 * comment holding " -j XENGUARD-INPUT" is one word and never a jump.
 */
#ifndef XG_IR_IPTSAVE_H
#define XG_IR_IPTSAVE_H

#include <stddef.h>

struct xg_ipt_word {
    char *s;      /* the word, quotes and escapes removed */
    unsigned col; /* 1-based column of its first character */
};

struct xg_ipt_line {
    struct xg_ipt_word *w;
    size_t n;
};

/*
 * Split one line (without its newline): blanks separate words, double
 * quotes group, a backslash takes the next character as it is. 0, or -1
 * with *bad_col = the column of an unterminated quote (0: out of memory).
 */
int xg_ipt_split(const char *s, size_t len, struct xg_ipt_line *out, unsigned *bad_col);
void xg_ipt_line_free(struct xg_ipt_line *l);

/* A rule line's chain ("-A CHAIN ...", "-I CHAIN ..."), or NULL for any other line. */
const char *xg_ipt_rule_chain(const struct xg_ipt_line *l);
/* Its target ("-j T" or "-g T"), or NULL. */
const char *xg_ipt_rule_target(const struct xg_ipt_line *l);

#endif
