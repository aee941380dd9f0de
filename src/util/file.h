/*
 * file.h — whole-file reads and crash-safe writes.
 *
 * Everything xenguard writes on a host (saved rulesets, hardened config
 * files) goes through xg_file_write_atomic(): a temp file in the same
 * directory, fsync, rename over the target, fsync of the directory. A
 * reader (or a reboot) sees the old file or the new one, never half of one.
 */
#ifndef XG_UTIL_FILE_H
#define XG_UTIL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* Read all of `path` into a NUL-terminated malloc'd buffer. A missing file is
 * an error unless `missing_ok`, then *out = NULL and 0 is returned. */
int xg_file_read(const char *path, bool missing_ok, char **out, size_t *len, struct xg_err *err);

/* Replace `path` atomically with `len` bytes of `data`, mode `mode`. */
int xg_file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                         struct xg_err *err);

/* mkdir -p with `mode` for the missing components. */
int xg_file_mkdirs(const char *path, mode_t mode, struct xg_err *err);

#endif
