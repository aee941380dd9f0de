/*
 * cli.c — the option-table parser and help printer behind every verb.
 *
 * getopt_long does the parsing; its short-option string and long-option
 * array are built from the verb's table on each call, so the table is the
 * only place an option is declared. Errors are ours, not getopt's (opterr =
 * 0): one line naming the option and a hint, exit status 2.
 */
#include "cmd/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

/* One letter, one meaning (xenguard(8), "OPTIONS COMMON TO ALL VERBS").
 * A letter not here is not used; an option not here is long-only. */
const struct xg_cli_letter xg_cli_letters[] = {
    {'a', "address"}, {'b', "backend"},   {'c', "config"}, {'d', "diff"},    {'D', "dir"},
    {'f', "format"},  {'h', "help"},      {'l', "list"},   {'p', "port"},    {'q', "quiet"},
    {'r', "root"},    {'s', "state-dir"}, {'S', "sshd"},   {'t', "timeout"}, {'v', "verbose"},
    {'w', "write"},   {'W', "waivers"},   {'y', "yes"},    {0, NULL},
};

#define MAX_OPTS       48
#define XG_CLI_HELP_ID 'h'

static const struct xg_opt help_opt = {XG_CLI_HELP_ID, "help", NULL, "this text"};

static bool has_letter(const struct xg_opt *o)
{
    return o->id > 0 && o->id < 128;
}

/* The table plus --help (unless the verb lists it itself). */
static size_t collect(const struct xg_cli *cli, const struct xg_opt **out)
{
    size_t n = 0;
    bool help = false;
    for (const struct xg_opt *o = cli->opts; o && o->name && n < MAX_OPTS - 1; o++) {
        help |= o->id == XG_CLI_HELP_ID;
        out[n++] = o;
    }
    if (!help)
        out[n++] = &help_opt;
    return n;
}

void xg_cli_begin(struct xg_cli_parser *p, const struct xg_cli *cli, int argc, char **argv)
{
    *p = (struct xg_cli_parser){.cli = cli, .argc = argc, .argv = argv, .optind = argc};
    optind = 1;
    opterr = 0;
}

static const char *option_text(const struct xg_cli_parser *p, int id)
{
    static char buf[8];
    if (id > 0 && id < 128 && id != '?' && id != ':') {
        snprintf(buf, sizeof(buf), "-%c", id);
        return buf;
    }
    return p->argv[optind - 1];
}

int xg_cli_next(struct xg_cli_parser *p)
{
    const struct xg_opt *opts[MAX_OPTS];
    struct option longs[MAX_OPTS + 1];
    char shorts[3 * MAX_OPTS + 3];
    size_t n = collect(p->cli, opts), s = 0;

    if (p->cli->operands_first)
        shorts[s++] = '+';
    shorts[s++] = ':';
    for (size_t i = 0; i < n; i++) {
        longs[i] = (struct option){opts[i]->name, opts[i]->arg ? required_argument : no_argument,
                                   NULL, opts[i]->id};
        if (has_letter(opts[i])) {
            shorts[s++] = (char)opts[i]->id;
            if (opts[i]->arg)
                shorts[s++] = ':';
        }
    }
    longs[n] = (struct option){0};
    shorts[s] = '\0';

    int id = getopt_long(p->argc, p->argv, shorts, longs, NULL);
    p->arg = optarg;
    p->optind = optind;
    if (id == -1)
        return -1;
    if (id == XG_CLI_HELP_ID) {
        xg_cli_help(p->cli, stdout);
        p->rc = 0;
        return XG_CLI_STOP;
    }
    if (id == '?' || id == ':') {
        const char *what = optopt && optopt < 128 ? option_text(p, optopt) : p->argv[optind - 1];
        p->rc = xg_cli_usage_error(
            p->cli, id == ':' ? "option '%s' needs a value" : "unknown option '%s'", what);
        return XG_CLI_STOP;
    }
    return id;
}

int xg_cli_operands(struct xg_cli_parser *p, int min, int max)
{
    int n = p->argc - p->optind;
    if (n < min) {
        p->rc = xg_cli_usage_error(p->cli, "missing operand");
        return -1;
    }
    if (max >= 0 && n > max) {
        p->rc = xg_cli_usage_error(p->cli, "unexpected argument '%s'", p->argv[p->optind + max]);
        return -1;
    }
    return 0;
}

int xg_cli_usage_error(const struct xg_cli *cli, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "xenguard %s: ", cli->verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'xenguard %s --help'.\n", cli->verb);
    return 2;
}

/* "  -c, --config FILE" or "      --no-hook" */
static int option_head(const struct xg_opt *o, char *buf, size_t size)
{
    char letter[8] = "    ";
    if (has_letter(o))
        snprintf(letter, sizeof(letter), "-%c, ", o->id);
    return snprintf(buf, size, "  %s--%s%s%s", letter, o->name, o->arg ? " " : "",
                    o->arg ? o->arg : "");
}

static void print_lines(FILE *out, const char *text, const char *first_prefix, const char *prefix)
{
    const char *line = text;
    bool first = true;
    while (*line) {
        size_t len = strcspn(line, "\n");
        fprintf(out, "%s%.*s\n", first ? first_prefix : prefix, (int)len, line);
        first = false;
        line += len;
        if (*line == '\n')
            line++;
    }
}

void xg_cli_help(const struct xg_cli *cli, FILE *out)
{
    const struct xg_opt *opts[MAX_OPTS];
    size_t n = collect(cli, opts);
    char head[128], first[64], indent[64];
    int width = 0;

    snprintf(first, sizeof(first), "Usage: xenguard %s ", cli->verb);
    snprintf(indent, sizeof(indent), "       xenguard %s ", cli->verb);
    print_lines(out, cli->usage && *cli->usage ? cli->usage : "[OPTIONS]", first, indent);
    if (cli->about && *cli->about)
        fprintf(out, "\n%s%s", cli->about, cli->about[strlen(cli->about) - 1] == '\n' ? "" : "\n");
    for (size_t i = 0; i < n; i++) {
        int w = option_head(opts[i], head, sizeof(head));
        if (w <= 26 && w > width)
            width = w;
    }
    fprintf(out, "\nOptions:\n");
    for (size_t i = 0; i < n; i++) {
        int w = option_head(opts[i], head, sizeof(head));
        char pad[64];
        snprintf(pad, sizeof(pad), "%*s", width + 2, "");
        if (w > width) {
            fprintf(out, "%s\n", head);
            print_lines(out, opts[i]->help, pad, pad);
        } else {
            char lead[192];
            snprintf(lead, sizeof(lead), "%-*s  ", width, head);
            print_lines(out, opts[i]->help, lead, pad);
        }
    }
    if (cli->epilog && *cli->epilog)
        fprintf(out, "\n%s%s", cli->epilog,
                cli->epilog[strlen(cli->epilog) - 1] == '\n' ? "" : "\n");
}
