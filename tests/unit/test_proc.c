/*
 * test_proc.c — the process runner (src/util/proc.c) against real programs:
 * more than a pipe buffer both ways at once (the deadlock a write-all-then-
 * read runner has), the timeout killing the whole process group, a program
 * that does not exist, exit codes and signals as data, stderr apart from
 * stdout, a child that quits without reading its input (SIGPIPE), and no fd
 * left behind on any of these paths.
 */
#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/proc.h"

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the DIR's own fd */
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 3 MiB in, 3 MiB out and 3 MiB on stderr, concurrently: `tee /dev/stderr` writes
 * before it has read everything, so a runner that writes all input first blocks. */
static void big_both_ways(void **state)
{
    size_t len = 3u << 20;
    char *in = malloc(len);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (char)('a' + i % 26);
    in[len - 1] = '\n';
    int before = count_fds();
    char *argv[] = {"tee", "/dev/stderr", NULL};
    struct xg_proc_opts o = {.in = in, .in_len = len, .timeout_ms = 30000};
    struct xg_proc p;
    struct xg_err err;
    assert_int_equal(xg_proc_run(argv, &o, &p, &err), 0);
    assert_true(xg_proc_ok(&p));
    assert_false(p.timed_out);
    assert_int_equal(p.out_len, len);
    assert_int_equal(p.err_len, len);
    assert_memory_equal(p.out, in, len);
    assert_memory_equal(p.err_out, in, len);
    assert_int_equal(p.out[len], '\0');
    xg_proc_free(&p);
    assert_int_equal(count_fds(), before);
    free(in);
}

/* Dead (absent, or a zombie waiting for init) within a second. */
static bool gone(long pid)
{
    for (int i = 0; i < 100; i++) {
        char path[64], stat[256] = "";
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        size_t n = fread(stat, 1, sizeof(stat) - 1, f);
        fclose(f);
        stat[n] = '\0';
        const char *paren = strrchr(stat, ')');
        if (paren && paren[1] == ' ' && paren[2] == 'Z')
            return true;
        usleep(10000);
    }
    return false;
}

/* A shell only as the program under test: it leaves a grandchild (sleep) in
 * its process group; the timeout must kill both and come back promptly. */
static void timeout_kills_the_group(void **state)
{
    int before = count_fds();
    char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; sleep 30", NULL};
    struct xg_proc_opts o = {.timeout_ms = 500};
    struct xg_proc p;
    struct xg_err err;
    double t0 = now_s();
    assert_int_equal(xg_proc_run(argv, &o, &p, &err), 0);
    double took = now_s() - t0;
    assert_true(p.timed_out);
    assert_false(xg_proc_ok(&p));
    assert_int_equal(p.signal, SIGKILL);
    assert_true(took >= 0.45 && took < 5);
    long grandchild = strtol(p.out, NULL, 10);
    assert_true(grandchild > 1);
    assert_true(gone(grandchild));
    char how[64];
    xg_proc_describe(&p, &o, how, sizeof(how));
    assert_non_null(strstr(how, "timed out"));
    xg_proc_free(&p);
    assert_int_equal(count_fds(), before);
}

/* Output closed early, process still running: the timeout still applies. */
static void timeout_after_outputs_closed(void **state)
{
    char *argv[] = {"/bin/sh", "-c", "exec >&- 2>&-; sleep 30", NULL};
    struct xg_proc_opts o = {.timeout_ms = 300};
    struct xg_proc p;
    struct xg_err err;
    double t0 = now_s();
    assert_int_equal(xg_proc_run(argv, &o, &p, &err), 0);
    assert_true(now_s() - t0 < 5);
    assert_true(p.timed_out);
    xg_proc_free(&p);
}

static void nonexistent_program(void **state)
{
    int before = count_fds();
    struct xg_proc p;
    struct xg_err err;
    char *bare[] = {"xenguard-no-such-program", NULL};
    assert_int_equal(xg_proc_run(bare, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "xenguard-no-such-program"));
    assert_non_null(strstr(err.msg, "not found in " XG_PROC_PATH));
    char *abs[] = {"/nonexistent/xenguard-test", NULL};
    assert_int_equal(xg_proc_run(abs, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/xenguard-test"));
    assert_non_null(strstr(err.msg, "No such file"));
    char *rel[] = {"./tee", NULL};
    assert_int_equal(xg_proc_run(rel, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "not an absolute path"));
    char *dir[] = {"/tmp", NULL}; /* exists, cannot be executed: exec's errno comes back */
    assert_int_equal(xg_proc_run(dir, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "Permission denied"));
    assert_int_equal(count_fds(), before);
}

/* The caller's PATH is not used: a directory on it with a fake `true` changes nothing. */
static void callers_path_ignored(void **state)
{
    char dir[] = "/tmp/xg-proc-path.XXXXXX", fake[64];
    assert_non_null(mkdtemp(dir));
    snprintf(fake, sizeof(fake), "%s/true", dir);
    FILE *f = fopen(fake, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexit 42\n", f);
    fclose(f);
    chmod(fake, 0755);
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", dir, 1);
    char *argv[] = {"true", NULL}, resolved[4096];
    struct xg_proc p;
    struct xg_err err;
    assert_int_equal(xg_proc_run(argv, NULL, &p, &err), 0);
    assert_int_equal(p.status, 0);
    xg_proc_free(&p);
    assert_int_equal(xg_proc_resolve("true", resolved, sizeof(resolved), &err), 0);
    assert_true(resolved[0] == '/' && strstr(resolved, dir) == NULL);
    /* and the child sees the fixed PATH, not ours */
    char *envp[] = {"/bin/sh", "-c", "printf %s \"$PATH\"", NULL};
    assert_int_equal(xg_proc_run(envp, NULL, &p, &err), 0);
    assert_string_equal(p.out, XG_PROC_PATH);
    xg_proc_free(&p);
    if (old)
        setenv("PATH", old, 1);
    free(old);
    unlink(fake);
    rmdir(dir);
}

static void exit_codes_and_signals(void **state)
{
    struct xg_proc p;
    struct xg_err err;
    char *three[] = {"/bin/sh", "-c", "exit 3", NULL};
    assert_int_equal(xg_proc_run(three, NULL, &p, &err), 0);
    assert_int_equal(p.status, 3);
    assert_int_equal(p.signal, 0);
    assert_false(xg_proc_ok(&p));
    xg_proc_free(&p);
    char *t[] = {"true", NULL};
    assert_int_equal(xg_proc_run(t, NULL, &p, &err), 0);
    assert_true(xg_proc_ok(&p));
    assert_string_equal(p.out, "");
    xg_proc_free(&p);
    char *killed[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
    assert_int_equal(xg_proc_run(killed, NULL, &p, &err), 0);
    assert_int_equal(p.signal, SIGTERM);
    assert_int_equal(p.status, -1);
    char how[64];
    xg_proc_describe(&p, NULL, how, sizeof(how));
    assert_string_equal(how, "killed by signal 15");
    xg_proc_free(&p);
}

static void stderr_apart(void **state)
{
    struct xg_proc p;
    struct xg_err err;
    char *argv[] = {"/bin/sh", "-c", "echo out; echo 'first problem' >&2; echo more >&2; exit 1",
                    NULL};
    assert_int_equal(xg_proc_run(argv, NULL, &p, &err), 0);
    assert_string_equal(p.out, "out\n");
    assert_string_equal(p.err_out, "first problem\nmore\n");
    char line[64];
    xg_proc_first_line(&p, line, sizeof(line));
    assert_string_equal(line, "first problem");
    xg_proc_free(&p);
}

/* The child exits without reading 2 MiB of input: we get EPIPE, not SIGPIPE,
 * and the child itself runs with SIGPIPE at its default (not our ignore). */
static void child_that_does_not_read(void **state)
{
    size_t len = 2u << 20;
    char *in = calloc(1, len);
    assert_non_null(in);
    int before = count_fds();
    signal(SIGPIPE, SIG_DFL);
    char *argv[] = {"/bin/sh", "-c", "grep SigIgn /proc/self/status", NULL};
    struct xg_proc_opts o = {.in = in, .in_len = len, .timeout_ms = 10000};
    struct xg_proc p;
    struct xg_err err;
    assert_int_equal(xg_proc_run(argv, &o, &p, &err), 0);
    assert_int_equal(p.status, 0);
    /* SIGPIPE is signal 13: bit 12 of the ignored mask must be clear */
    unsigned long long ign = strtoull(p.out + strlen("SigIgn:"), NULL, 16);
    assert_int_equal(ign & (1ull << 12), 0);
    xg_proc_free(&p);
    struct sigaction now;
    sigaction(SIGPIPE, NULL, &now);
    assert_true(now.sa_handler == SIG_DFL); /* put back */
    assert_int_equal(count_fds(), before);
    free(in);
}

/* Only 0, 1, 2 reach the child: an fd we hold without O_CLOEXEC does not leak in. */
static void child_gets_only_stdio(void **state)
{
    int fd = dup(0); /* no close-on-exec */
    assert_true(fd >= 3);
    char *argv[] = {"/bin/ls", "/proc/self/fd", NULL};
    struct xg_proc p;
    struct xg_err err;
    assert_int_equal(xg_proc_run(argv, NULL, &p, &err), 0);
    /* ls itself opens one fd for the directory (3) */
    assert_string_equal(p.out, "0\n1\n2\n3\n");
    xg_proc_free(&p);
    close(fd);
}

static void output_cap(void **state)
{
    char *argv[] = {"/bin/sh", "-c", "head -c 100000 /dev/zero", NULL};
    struct xg_proc_opts o = {.max_out = 1000, .timeout_ms = 10000};
    struct xg_proc p;
    struct xg_err err;
    assert_int_equal(xg_proc_run(argv, &o, &p, &err), 0);
    assert_true(xg_proc_ok(&p));
    assert_true(p.truncated);
    assert_int_equal(p.out_len, 1000);
    xg_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(big_both_ways),
        cmocka_unit_test(timeout_kills_the_group),
        cmocka_unit_test(timeout_after_outputs_closed),
        cmocka_unit_test(nonexistent_program),
        cmocka_unit_test(callers_path_ignored),
        cmocka_unit_test(exit_codes_and_signals),
        cmocka_unit_test(stderr_apart),
        cmocka_unit_test(child_that_does_not_read),
        cmocka_unit_test(child_gets_only_stdio),
        cmocka_unit_test(output_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
