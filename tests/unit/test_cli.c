/*
 * test_cli.c — src/cmd/cli.c and every verb's option table: one short letter
 * has one meaning across all verbs (xg_cli_letters, written out in
 * xenguard(8)), no table names an option twice, every option is in its
 * verb's --help, and the parser returns what the table says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/cli.h"

static const char *letter_name(int letter)
{
    for (const struct xg_cli_letter *l = xg_cli_letters; l->letter; l++)
        if (l->letter == letter)
            return l->name;
    return NULL;
}

static void every_verb_has_a_table(void **state)
{
    for (size_t v = 0; v < xg_verb_count; v++) {
        if (!xg_verbs[v].cli)
            fail_msg("verb %s has no option table", xg_verbs[v].name);
        assert_string_equal(xg_verbs[v].cli->verb, xg_verbs[v].name);
    }
}

static void one_letter_one_meaning(void **state)
{
    for (size_t v = 0; v < xg_verb_count; v++) {
        const struct xg_cli *cli = xg_verbs[v].cli;
        if (!cli)
            continue;
        for (const struct xg_opt *o = cli->opts; o->name; o++) {
            if (o->id >= XG_CLI_LONG)
                continue;
            const char *want = letter_name(o->id);
            if (!want || strcmp(want, o->name))
                fail_msg("%s: -%c is --%s, but -%c means --%s everywhere", cli->verb, o->id,
                         o->name, o->id, want ? want : "(no letter)");
        }
    }
}

static void no_option_twice(void **state)
{
    for (size_t v = 0; v < xg_verb_count; v++) {
        const struct xg_cli *cli = xg_verbs[v].cli;
        if (!cli)
            continue;
        for (const struct xg_opt *a = cli->opts; a->name; a++)
            for (const struct xg_opt *b = a + 1; b->name; b++)
                if (!strcmp(a->name, b->name) || a->id == b->id)
                    fail_msg("%s: --%s and --%s collide", cli->verb, a->name, b->name);
    }
}

static void help_lists_every_option(void **state)
{
    for (size_t v = 0; v < xg_verb_count; v++) {
        const struct xg_cli *cli = xg_verbs[v].cli;
        char *text = NULL;
        size_t len = 0;
        if (!cli)
            continue;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        xg_cli_help(cli, f);
        fclose(f);
        for (const struct xg_opt *o = cli->opts; o->name; o++) {
            char want[96];
            snprintf(want, sizeof(want), "--%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
            if (!strstr(text, want))
                fail_msg("%s --help lacks '%s'", cli->verb, want);
        }
        assert_non_null(strstr(text, "  -h, --help"));
        free(text);
    }
}

enum { O_LONG = XG_CLI_LONG };
static const struct xg_opt sample_opts[] = {
    {'c', "config", "FILE", "policy"},
    {'v', "verbose", NULL, "more"},
    {O_LONG, "check", NULL, "only check"},
    {0},
};
static const struct xg_cli sample = {.verb = "sample", .opts = sample_opts};

static void parses_as_the_table_says(void **state)
{
    char *argv[] = {"sample", "-v", "--config", "x.conf", "op1", "--check", "op2", NULL};
    struct xg_cli_parser p;
    int got[4], n = 0, id;
    const char *config = NULL;
    xg_cli_begin(&p, &sample, 7, argv);
    while ((id = xg_cli_next(&p)) != -1) {
        assert_true(n < 4);
        got[n++] = id;
        if (id == 'c')
            config = p.arg;
    }
    assert_int_equal(n, 3);
    assert_int_equal(got[0], 'v');
    assert_int_equal(got[1], 'c');
    assert_int_equal(got[2], O_LONG);
    assert_string_equal(config, "x.conf");
    assert_int_equal(xg_cli_operands(&p, 2, 2), 0); /* GNU permutation: operands last */
    assert_string_equal(argv[p.optind], "op1");
    assert_int_equal(xg_cli_operands(&p, 0, 1), -1);
    assert_int_equal(p.rc, 2);
}

static void usage_errors_stop_with_2(void **state)
{
    char *unknown[] = {"sample", "--nope", NULL};
    char *missing[] = {"sample", "-c", NULL};
    struct xg_cli_parser p;
    xg_cli_begin(&p, &sample, 2, unknown);
    assert_int_equal(xg_cli_next(&p), XG_CLI_STOP);
    assert_int_equal(p.rc, 2);
    xg_cli_begin(&p, &sample, 2, missing);
    assert_int_equal(xg_cli_next(&p), XG_CLI_STOP);
    assert_int_equal(p.rc, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_verb_has_a_table),   cmocka_unit_test(one_letter_one_meaning),
        cmocka_unit_test(no_option_twice),          cmocka_unit_test(help_lists_every_option),
        cmocka_unit_test(parses_as_the_table_says), cmocka_unit_test(usage_errors_stop_with_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
