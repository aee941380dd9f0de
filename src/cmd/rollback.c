/*
 * rollback.c — `xenguard rollback`: put the table from before the last apply back.
 *
 * Also the watchdog's body: apply starts `xenguard rollback --if-pending
 * TOKEN --delay N` detached (or as a systemd timer), which waits, then rolls
 * back only if that very apply is still unconfirmed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "apply/apply.h"
#include "util/journal.h"
#include "verbs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard rollback [--state-dir DIR]\n\n"
            "Restore table inet xenguard as it was before the last 'xenguard apply'.\n\n"
            "  -s, --state-dir DIR   (default %s)\n"
            "      --if-pending TOKEN --delay SECONDS\n"
            "                        (the watchdog's call: after SECONDS, only if that\n"
            "                        apply is still unconfirmed)\n",
            XG_DEFAULT_STATE_DIR);
}

int cmd_rollback(int argc, char **argv)
{
    static const struct option opts[] = {{"state-dir", required_argument, NULL, 's'},
                                         {"if-pending", required_argument, NULL, 'P'},
                                         {"delay", required_argument, NULL, 'D'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *state_dir = XG_DEFAULT_STATE_DIR, *token = NULL;
    unsigned long delay = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            state_dir = optarg;
            break;
        case 'P':
            token = optarg;
            break;
        case 'D': {
            char *end;
            delay = strtoul(optarg, &end, 10);
            if (!*optarg || *end || delay > 3600) {
                usage(stderr);
                return 2;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (delay && !token)) {
        usage(stderr);
        return 2;
    }
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
