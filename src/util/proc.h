/*
 * proc.h — the one way xenguard runs another program.
 *
 * argv only (never a shell), the program resolved to an absolute path
 * against a fixed PATH (XG_PROC_PATH, never the caller's), a fixed
 * environment (PATH=XG_PROC_PATH, LC_ALL=C), stdin fed from a buffer and
 * stdout/stderr captured through one poll() loop (so a program that writes
 * a lot before it has read all its input cannot deadlock us), a timeout
 * after which the child's whole process group gets SIGKILL.
 *
 * What happened to the child is data in struct xg_proc (exit status,
 * signal, timed out, the two outputs); xg_proc_run() fails (-1 and err)
 * only when the program could not be started at all.
 *
 *     char *argv[] = {"nft", "-j", "list", "ruleset", NULL};
 *     struct xg_proc p;
 *     if (xg_proc_run(argv, &(struct xg_proc_opts){.timeout_ms = 10000}, &p, &err) < 0)
 *         return -1;
 *     if (!xg_proc_ok(&p)) ... xg_proc_describe(&p, ...) ... p.err_out ...
 *     use p.out / p.out_len; xg_proc_free(&p);
 */
#ifndef XG_UTIL_PROC_H
#define XG_UTIL_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Where bare program names are looked up. */
#define XG_PROC_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

/* Each of stdout / stderr keeps at most this much unless opts say otherwise. */
#define XG_PROC_MAX_OUT (64u << 20)

struct xg_proc_opts {
    const char *in;      /* bytes for stdin; NULL: stdin is /dev/null */
    size_t in_len;       /* length of `in` */
    unsigned timeout_ms; /* 0: no limit */
    size_t max_out;      /* per stream; 0: XG_PROC_MAX_OUT. More is read and dropped. */
};

struct xg_proc {
    int status;     /* exit status when it exited, else -1 */
    int signal;     /* the signal that ended it, else 0 */
    bool timed_out; /* the timeout expired and its process group got SIGKILL */
    bool truncated; /* an output was longer than max_out (the rest was dropped) */
    char *out;      /* stdout, NUL-terminated (never NULL after a successful run) */
    size_t out_len;
    char *err_out; /* stderr, NUL-terminated */
    size_t err_len;
};

/* Run argv[0] (absolute, or a bare name looked up in XG_PROC_PATH) with
 * argv. 0: it ran and *p says how it ended (free with xg_proc_free);
 * -1: it could not be started (not found, not executable, out of fds), and
 * err says why, naming the program. No fd is left open either way. */
int xg_proc_run(char *const argv[], const struct xg_proc_opts *opts, struct xg_proc *p,
                struct xg_err *err);

/* Exited with status 0 (not signalled, not timed out). */
bool xg_proc_ok(const struct xg_proc *p);

/* "exit status 3", "killed by signal 9", "timed out after 5s": how it ended. */
void xg_proc_describe(const struct xg_proc *p, const struct xg_proc_opts *opts, char *buf,
                      size_t size);

/* The first line of stderr (or of stdout when stderr is empty), at most
 * size-1 bytes: the usual one-line reason a tool gives. */
void xg_proc_first_line(const struct xg_proc *p, char *buf, size_t size);

void xg_proc_free(struct xg_proc *p);

/* The absolute path argv[0] would run: `name` itself when it contains a
 * '/' (then it must be absolute), else the first executable regular file
 * NAME in XG_PROC_PATH. -1 and err when there is none. */
int xg_proc_resolve(const char *name, char *out, size_t size, struct xg_err *err);

#endif
