/*
 * main.c — xenguard's entry: find the verb in the verb table
 * (src/cmd/verbs.c) and run it; `xenguard --help` is printed from the same
 * rows.
 */
#include <stdio.h>
#include <string.h>

#include "verbs.h"

#ifndef XG_VERSION
#define XG_VERSION "unknown"
#endif

static void usage(FILE *out)
{
    fprintf(out, "Usage: xenguard VERB [OPTIONS]\n"
                 "       xenguard VERB --help\n"
                 "       xenguard --version\n\n"
                 "Secure a Xen host as the \"Securing Xen\" chapter of the Xen manual asks.\n\n"
                 "Verbs:\n");
    for (size_t i = 0; i < xg_verb_count; i++)
        fprintf(out, "  %-12s %s\n", xg_verbs[i].name, xg_verbs[i].summary);
    fprintf(out, "\nSee xenguard(8) and xenguard.conf(5).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (!strcmp(argv[1], "help") && argc > 2) {
            char *help_argv[] = {argv[2], "--help", NULL};
            for (size_t i = 0; i < xg_verb_count; i++)
                if (!strcmp(xg_verbs[i].name, argv[2]))
                    return xg_verbs[i].run(2, help_argv);
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("xenguard %s\n", XG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < xg_verb_count; i++)
        if (!strcmp(xg_verbs[i].name, argv[1]))
            return xg_verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "xenguard: unknown verb '%s' (try 'xenguard --help')\n", argv[1]);
    return 2;
}
