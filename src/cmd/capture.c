/*
 * capture.c — `xenguard capture DIR`: what `xenguard audit` reads, saved.
 *
 * What is saved, and what is redacted, is src/probe/capture.c's business
 * (xg_capture); this file parses the options and says what was written.
 * With -v each redaction is named on stderr (the lines of
 * CAPTURE/xenguard/redacted.txt).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/capture.h"
#include "verbs.h"

static const struct xg_opt options[] = {
    {'r', "root", "DIR",
     "capture the root DIR (a mounted disk, or an earlier capture,\n"
     "which comes out redacted) instead of the live host: files\n"
     "are read inside DIR, command output from DIR/xenguard/"},
    {'v', "verbose", NULL,
     "name each file whose secrets were replaced or left out,\n"
     "on stderr (the lines of redacted.txt)"},
    {'q', "quiet", NULL, "print nothing on success"},
    {0},
};

const struct xg_cli xg_cli_capture = {
    .verb = "capture",
    .usage = "[-r DIR] [-v|-q] CAPTURE",
    .about = "Save what `xenguard audit` reads from this host into CAPTURE (which must not\n"
             "exist or be empty), so that `xenguard audit --root CAPTURE` audits it offline\n"
             "with the same verdicts. The capture holds no secret: password hashes become\n"
             "their state (locked, empty, usable), console passwords <set>, XAPI's database\n"
             "only the host rows' uuid and https_only; private keys are left out. What was\n"
             "redacted is listed in CAPTURE/xenguard/redacted.txt. Reads only; run as root\n"
             "for shadow, sudoers and every process's sockets.\n",
    .opts = options,
    .epilog = "Exit status: 0 success, 1 the capture could not be written, 2 usage error.\n"
              "See xenguard-capture(8), xenguard-audit(8).\n",
};

int cmd_capture(int argc, char **argv)
{
    const char *from = NULL;
    bool quiet = false, verbose = false;
    int opt;
    struct xg_cli_parser p;
    xg_cli_begin(&p, &xg_cli_capture, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        switch (opt) {
        case 'r':
            from = p.arg;
            break;
        case 'v':
            verbose = true;
            break;
        case 'q':
            quiet = true;
            break;
        default:
            return p.rc;
        }
    }
    if (xg_cli_operands(&p, 1, 1) < 0)
        return p.rc;
    if (quiet && verbose)
        return xg_cli_usage_error(&xg_cli_capture, "-q and -v exclude each other");
    const char *dir = argv[p.optind];
    struct xg_capture_stats st;
    struct xg_err err;
    if (xg_capture(from, dir, &st, &err) < 0) {
        xg_err_print(stderr, "xenguard capture", &err);
        return 1;
    }
    if (verbose) /* one line per redaction, as in redacted.txt */
        for (const char *l = st.manifest; *l;) {
            size_t len = strcspn(l, "\n");
            fprintf(stderr, "xenguard capture: %.*s\n", (int)len, l);
            l += len + (l[len] == '\n');
        }
    if (!quiet)
        printf("xenguard capture: %zu files in %s, %zu redacted (see %s/xenguard/%s)%s\n", st.files,
               dir, st.redactions, dir, XG_CAPTURE_REDACTED,
               st.failures ? " (some files could not be read: run as root)" : "");
    free(st.manifest);
    return 0;
}
