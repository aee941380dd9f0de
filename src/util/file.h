/*
 * file.h — whole-file reads and crash-safe writes.
 *
 * xg_file_read() is the one way xenguard reads a file it parses (policy,
 * waivers, interface maps, saved rulesets, config files): the whole file into
 * one NUL-terminated buffer, so the parsers work on plain memory and can
 * quote any input line back in an error (util/err.h).
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

/* Read all of `path` into a NUL-terminated malloc'd buffer (*len without the
 * NUL; `len` may be NULL). A missing file is an error unless `missing_ok`,
 * then *out = NULL and 0 is returned. Errors read "PATH: strerror". */
int xg_file_read(const char *path, bool missing_ok, char **out, size_t *len, struct xg_err *err);

/* The same for an input the user names: "-" reads stdin (called "<stdin>" in
 * messages), and more than `max` bytes (0: no limit) is an error. */
int xg_file_read_input(const char *path, size_t max, char **out, size_t *len, struct xg_err *err);

/* The rest of the open file `fd` into a NUL-terminated malloc'd buffer
 * (`name` for messages); fd stays open. */
int xg_file_read_fd(int fd, const char *name, char **out, size_t *len, struct xg_err *err);

/* `path_fd` is an O_PATH fd (nothing was opened yet): fstat it into *st and,
 * only when it is a regular file, open that same inode for reading through
 * /proc/self/fd. -1 with errno EINVAL when it is not regular (a FIFO would
 * block the open, a device node would run its driver's open). */
struct stat;
int xg_file_reopen_regular(int path_fd, struct stat *st);

/* Replace `path` atomically with `len` bytes of `data`, mode `mode`. */
int xg_file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                         struct xg_err *err);

/* mkdir -p with `mode` for the missing components. */
int xg_file_mkdirs(const char *path, mode_t mode, struct xg_err *err);

#endif
