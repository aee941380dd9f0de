/*
 * confirm.c — `xenguard confirm`: keep the ruleset of a pending apply.
 */
#include <stdio.h>

#include "apply/apply.h"
#include "util/journal.h"
#include "verbs.h"

static const struct xg_opt options[] = {
    {'s', "state-dir", "DIR",
     "where the pending apply is recorded (default " XG_DEFAULT_STATE_DIR ")"},
    {0},
};

const struct xg_cli xg_cli_confirm = {
    .verb = "confirm",
    .usage = "[-s DIR]",
    .about = "Keep the ruleset loaded by the last 'xenguard apply': stop its rollback\n"
             "watchdog and make it the ruleset xenguard.service loads at boot.\n",
    .opts = options,
    .epilog = "Exit status: 0 confirmed, 1 nothing to confirm or an error, 2 usage error.\n"
              "See xenguard-confirm(8).\n",
};

int cmd_confirm(int argc, char **argv)
{
    const char *state_dir = XG_DEFAULT_STATE_DIR;
    struct xg_cli_parser p;
    int opt;
    xg_cli_begin(&p, &xg_cli_confirm, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        if (opt != 's')
            return p.rc;
        state_dir = p.arg;
    }
    if (xg_cli_operands(&p, 0, 0) < 0)
        return p.rc;
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
