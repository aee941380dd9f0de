/*
 * confirm.c — `xenguard confirm`: keep the ruleset of a pending apply.
 */
#include <getopt.h>
#include <stdio.h>

#include "apply/apply.h"
#include "util/journal.h"
#include "verbs.h"

int cmd_confirm(int argc, char **argv)
{
    static const struct option opts[] = {{"state-dir", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *state_dir = XG_DEFAULT_STATE_DIR;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
        if (c == 's') {
            state_dir = optarg;
        } else if (c == 'h') {
            printf("Usage: xenguard confirm [--state-dir DIR]\n\n"
                   "Keep the ruleset loaded by the last 'xenguard apply': stop its rollback\n"
                   "watchdog and make it the ruleset xenguard.service loads at boot.\n\n"
                   "  -s, --state-dir DIR  (default %s)\n",
                   XG_DEFAULT_STATE_DIR);
            return 0;
        } else {
            fprintf(stderr, "Usage: xenguard confirm [--state-dir DIR]\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "Usage: xenguard confirm [--state-dir DIR]\n");
        return 2;
    }
    struct xg_err err = {{0}};
    int rc = xg_confirm(state_dir, &err);
    if (rc != 1)
        xg_journal_outcome("confirm", rc, "confirmed", state_dir, &err, "loaded at boot");
    if (rc < 0) {
        xg_err_print(stderr, "xenguard confirm", &err);
        return 1;
    }
    if (rc == 1) {
        fprintf(stderr,
                "xenguard confirm: no apply is waiting for confirmation (if its timeout "
                "passed, it was rolled back: see %s/rollback.log)\n",
                state_dir);
        return 1;
    }
    printf("xenguard: confirmed; this ruleset is loaded at boot\n");
    return 0;
}
