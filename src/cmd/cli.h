/*
 * cli.h — one option table per verb, from which both the parsing and the
 * `--help` text come, so the two cannot drift.
 *
 * A verb declares `const struct xg_cli xg_cli_VERB` (its usage lines, a
 * paragraph, its options, an epilog) and parses with xg_cli_next(). `-h,
 * --help` is added to every table by the parser. One short letter has one
 * meaning across all verbs: the letters are in xg_cli_letters[] (cli.c),
 * written out in xenguard(8), and test_cli fails when a verb's table uses a
 * letter for another long name. Everything else is long-only.
 */
#ifndef XG_CMD_CLI_H
#define XG_CMD_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* An option. id is the short letter ('c') when the option has one, else a
 * verb-chosen value >= XG_CLI_LONG. arg is the value's metavariable ("FILE"),
 * NULL for a flag. help may hold '\n': each line continues in the help
 * column. */
struct xg_opt {
    int id;
    const char *name;
    const char *arg;
    const char *help;
};

#define XG_CLI_LONG 256

/* A verb's command line. usage holds one or more lines without "Usage:" and
 * without "xenguard VERB ", separated by '\n' ("[OPTIONS] [FILE]"). opts ends
 * with an entry whose name is NULL. operands_first: options stop at the first
 * operand (getopt's '+': `tunnel HOST COMMAND...`). */
struct xg_cli {
    const char *verb;
    const char *usage;
    const char *about;
    const struct xg_opt *opts;
    const char *epilog;
    bool operands_first;
};

/* One short letter, one meaning: {letter, long name}. Ends with {0, NULL}. */
struct xg_cli_letter {
    char letter;
    const char *name;
};
extern const struct xg_cli_letter xg_cli_letters[];

/* Every verb: name, entry point, one-line summary, option table. */
struct xg_verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const struct xg_cli *cli;
};
extern const struct xg_verb xg_verbs[];
extern const size_t xg_verb_count;

/* Parser state, on the verb's stack. After xg_cli_next() returns an id,
 * `arg` is that option's value (NULL for a flag). When it returns
 * XG_CLI_STOP the verb returns `rc` at once: 0 after --help (printed to
 * stdout), 2 after a usage error (one line and a hint, on stderr). After -1,
 * argv[optind .. argc-1] are the operands. */
struct xg_cli_parser {
    const struct xg_cli *cli;
    int argc;
    char **argv;
    int optind;
    const char *arg;
    int rc;
};

#define XG_CLI_STOP (-2)

void xg_cli_begin(struct xg_cli_parser *p, const struct xg_cli *cli, int argc, char **argv);
int xg_cli_next(struct xg_cli_parser *p);

/* The operands after the options: fewer than min or more than max (-1: no
 * limit) is a usage error (message, rc 2) and returns -1. */
int xg_cli_operands(struct xg_cli_parser *p, int min, int max);

/* "xenguard VERB: MESSAGE" and "Try 'xenguard VERB --help'." on stderr;
 * returns 2, the usage-error exit status. */
int xg_cli_usage_error(const struct xg_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The help text: usage lines, paragraph, every option aligned, epilog. */
void xg_cli_help(const struct xg_cli *cli, FILE *out);

#endif
