/*
 * capture.h — save what the audit reads into a directory, with no secret in
 * it (src/probe/capture.c; the verb is src/cmd/capture.c).
 */
#ifndef XG_PROBE_CAPTURE_H
#define XG_PROBE_CAPTURE_H

#include <stddef.h>

#include "util/err.h"

/* The redaction manifest's file name, in DIR/xenguard/. */
#define XG_CAPTURE_REDACTED "redacted.txt"

struct xg_capture_stats {
    size_t files;      /* files written */
    size_t failures;   /* files that could not be read (not root?) */
    size_t redactions; /* lines of the manifest */
    char *manifest;    /* "PATH: what was done\n" per redaction (free it) */
};

/* Capture the live host (from NULL) or the root `from` into `dir`, which must
 * not exist or be empty. -1 with err when nothing could be captured. */
int xg_capture(const char *from, const char *dir, struct xg_capture_stats *st, struct xg_err *err);

#endif
