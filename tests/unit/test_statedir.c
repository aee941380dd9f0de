/*
 * test_statedir.c — apply's state directory is trusted only when root alone
 * can change it (src/apply/statedir.c): real directories under /run (a
 * root-owned, not world-writable place), made hostile one way at a time.
 * Runs as root, like the rest of the apply tests.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply/statedir.h"

static char base[64];

static int setup(void **state)
{
    snprintf(base, sizeof(base), "/run/xg-statedir-test.XXXXXX");
    return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t size, const char *rel)
{
    snprintf(out, size, "%s/%s", base, rel);
}

static void good_dir_round_trip(void **state)
{
    char dir[128], *text = NULL;
    struct xg_statedir sd;
    struct xg_err err;
    path_in(dir, sizeof(dir), "good/state");
    assert_int_equal(xg_statedir_open(&sd, dir, false, &err), 1); /* absent, not created */
    xg_statedir_close(&sd);
    assert_int_equal(xg_statedir_open(&sd, dir, true, &err), 0);
    assert_string_equal(sd.path, dir);
    assert_int_equal(xg_statedir_write(&sd, "pending", "t 1 2 process\n", &err), 0);
    assert_int_equal(xg_statedir_read(&sd, "pending", &text, &err), 0);
    assert_string_equal(text, "t 1 2 process\n");
    free(text);
    assert_int_equal(xg_statedir_read(&sd, "absent", &text, &err), 0);
    assert_null(text);
    assert_int_equal(xg_statedir_append(&sd, "rollback.log", "one\n", &err), 0);
    assert_true(xg_statedir_has(&sd, "rollback.log"));
    xg_statedir_close(&sd);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

/* A directory some other user owns: refused, nothing read from it. */
static void foreign_owner_refused(void **state)
{
    char dir[128], file[160];
    struct xg_statedir sd;
    struct xg_err err;
    path_in(dir, sizeof(dir), "nobody");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(file, sizeof(file), "%s/previous.nft", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("flush ruleset\n", f);
    fclose(f);
    assert_int_equal(chown(dir, 65534, 65534), 0);
    assert_int_equal(xg_statedir_open(&sd, dir, true, &err), -1);
    assert_non_null(strstr(err.msg, "owned by uid 65534"));
    xg_statedir_close(&sd);
    /* a root-owned dir below a foreign one is refused as well */
    path_in(dir, sizeof(dir), "nobody/sub");
    assert_int_equal(xg_statedir_open(&sd, dir, true, &err), -1);
    assert_non_null(strstr(err.msg, "/nobody: owned by uid 65534"));
    xg_statedir_close(&sd);
}

static void writable_or_sticky_refused(void **state)
{
    char dir[128];
    struct xg_statedir sd;
    struct xg_err err;
    path_in(dir, sizeof(dir), "groupw");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0770), 0);
    assert_int_equal(xg_statedir_open(&sd, dir, true, &err), -1);
    assert_non_null(strstr(err.msg, "writable by its group"));
    xg_statedir_close(&sd);
    assert_int_equal(xg_statedir_open(&sd, "/tmp/xg-statedir-never-created", true, &err), -1);
    assert_non_null(strstr(err.msg, "/tmp: writable by others"));
    xg_statedir_close(&sd);
    struct stat st;
    assert_int_equal(stat("/tmp/xg-statedir-never-created", &st), -1);
}

/* Symlinks: as a path component, as `lock`, as a file to read or append to. */
static void symlinks_refused(void **state)
{
    char dir[128], link[160], target[160], *text = NULL;
    struct xg_statedir sd;
    struct xg_err err;
    path_in(dir, sizeof(dir), "real");
    assert_int_equal(mkdir(dir, 0700), 0);
    path_in(link, sizeof(link), "alias");
    assert_int_equal(symlink(dir, link), 0);
    assert_int_equal(xg_statedir_open(&sd, link, true, &err), -1);
    assert_non_null(strstr(err.msg, "symbolic link"));
    xg_statedir_close(&sd);

    path_in(target, sizeof(target), "lock-target");
    snprintf(link, sizeof(link), "%s/lock", dir);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(xg_statedir_open(&sd, dir, true, &err), -1);
    assert_non_null(strstr(err.msg, "lock"));
    xg_statedir_close(&sd);
    struct stat st;
    assert_int_equal(lstat(target, &st), -1); /* not created through the link */
    unlink(link);

    assert_int_equal(xg_statedir_open(&sd, dir, true, &err), 0);
    snprintf(link, sizeof(link), "%s/rollback.log", dir);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(xg_statedir_append(&sd, "rollback.log", "x\n", &err), -1);
    assert_int_equal(lstat(target, &st), -1);
    snprintf(link, sizeof(link), "%s/previous.nft", dir);
    assert_int_equal(symlink("/etc/hostname", link), 0);
    assert_int_equal(xg_statedir_read(&sd, "previous.nft", &text, &err), -1);
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_null(text);
    /* a FIFO planted as a file: refused without blocking */
    snprintf(link, sizeof(link), "%s/pending", dir);
    assert_int_equal(mkfifo(link, 0600), 0);
    assert_int_equal(xg_statedir_read(&sd, "pending", &text, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file"));
    xg_statedir_close(&sd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(good_dir_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_owner_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(writable_or_sticky_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(symlinks_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
