/*
 * firewall.c — `xenguard firewall`: policy file in, ruleset text out.
 * (Being written: the compiler lands in the next commit.)
 */
#include <stdio.h>

#include "verbs.h"

int cmd_firewall(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "xenguard firewall: not built yet\n");
    return 1;
}
