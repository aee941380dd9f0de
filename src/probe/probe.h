/*
 * probe.h — fill a struct xg_host from a root directory.
 *
 * One entry point reads everything the checks need. A probe that finds no
 * evidence leaves its section's `present` flag false; a file that exists
 * but does not parse sets host->errors[section]. Only a root that cannot
 * be opened at all is a failure of the probe itself.
 */
#ifndef XG_PROBE_PROBE_H
#define XG_PROBE_PROBE_H

#include <stdbool.h>

#include "model/host.h"
#include "util/err.h"

/* Where `xenguard capture` puts command output inside a captured root. */
#define XG_CAPTURE_DIR "/xenguard"

int xg_probe_host(const char *root, struct xg_host *h, struct xg_err *err);

/*
 * A program's output: stdout, or with `want_stderr` stdout and stderr
 * together (version banners go to stderr). NULL when it cannot run, times
 * out, or (unless `any_status`) exits non-zero.
 */
char *xg_probe_run(char *const argv[], bool want_stderr, bool any_status);

#endif
