/*
 * rollback.c — `xenguard rollback`: put the table from before the last apply back.
 *
 * Also the watchdog's body: apply starts `xenguard rollback --if-pending
 * TOKEN --delay N` detached (or as a systemd timer), which waits, then rolls
 * back only if that very apply is still unconfirmed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "apply/apply.h"
#include "util/journal.h"
#include "verbs.h"

enum { O_IF_PENDING = XG_CLI_LONG, O_DELAY };

static const struct xg_opt options[] = {
    {'s', "state-dir", "DIR", "where the saved rulesets are (default " XG_DEFAULT_STATE_DIR ")"},
    {O_IF_PENDING, "if-pending", "TOKEN",
     "the watchdog's call: only if the apply with this token is\n"
     "still unconfirmed"},
    {O_DELAY, "delay", "SECONDS",
     "the watchdog's call: wait SECONDS (0..3600) first;\n"
     "needs --if-pending"},
    {0},
};

const struct xg_cli xg_cli_rollback = {
    .verb = "rollback",
    .usage = "[-s DIR]\n"
             "--if-pending TOKEN --delay SECONDS [-s DIR]",
    .about = "Restore xenguard's tables (or, after apply --perimeter, the perimeter's) as they\n"
             "were before the last 'xenguard apply'.\n",
    .opts = options,
    .epilog = "Exit status: 0 restored (or, with --if-pending, nothing to do), 1 error,\n"
              "2 usage error. See xenguard-rollback(8).\n",
};

int cmd_rollback(int argc, char **argv)
{
    const char *state_dir = XG_DEFAULT_STATE_DIR, *token = NULL;
    unsigned long delay = 0;
    struct xg_cli_parser p;
    int opt;
    xg_cli_begin(&p, &xg_cli_rollback, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        switch (opt) {
        case 's':
            state_dir = p.arg;
            break;
        case O_IF_PENDING:
            token = p.arg;
            break;
        case O_DELAY: {
            char *end;
            delay = strtoul(p.arg, &end, 10);
            if (!*p.arg || *end || delay > 3600)
                return xg_cli_usage_error(&xg_cli_rollback, "--delay: 0..3600 seconds, not '%s'",
                                          p.arg);
            break;
        }
        default:
            return p.rc;
        }
    }
    if (xg_cli_operands(&p, 0, 0) < 0)
        return p.rc;
    if (delay && !token)
        return xg_cli_usage_error(&xg_cli_rollback, "--delay goes with --if-pending");
    struct timespec left = {.tv_sec = (time_t)delay};
    while (nanosleep(&left, &left) < 0 && errno == EINTR)
        ;
    struct xg_err err = {{0}};
    struct xg_pending pending;
    bool perimeter = xg_pending_read(state_dir, &pending, &err) == 1 && pending.perimeter;
    int rc = xg_rollback(state_dir, token, &err);
    if (rc != 1) /* the system log; RESULT=auto-rollback: the watchdog's, the apply was not kept */
        xg_journal_outcome("rollback", rc, token ? "auto-rollback" : "rolled-back", state_dir, &err,
                           token ? "the apply was not confirmed in time: restored the firewall "
                                   "from before it"
                                 : "restored the firewall from before the last apply");
    if (rc < 0) {
        xg_err_print(stderr, "xenguard rollback", &err);
        return 1;
    }
    if (rc == 1)
        return 0; /* the watchdog's apply was confirmed meanwhile */
    printf("xenguard: restored %s from before the last apply\n",
           perimeter ? "the perimeter (table inet xenguard-perimeter)" : "table inet xenguard");
    return 0;
}
