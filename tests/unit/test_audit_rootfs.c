/*
 * test_audit_rootfs.c — reading under a root and nothing outside it
 * (openat2 RESOLVE_IN_ROOT), and the command runner the live probes use.
 */
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

#include "probe/rootfs.h"

static char root[] = "/tmp/xg-rootfs.XXXXXX";

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(root))
        return -1;
    char p[512];
    snprintf(p, sizeof(p), "%s/etc", root);
    mkdir(p, 0755);
    put("/etc/hostname", "inside\n");
    snprintf(p, sizeof(p), "%s/etc/abs", root);
    symlink("/etc/hostname", p); /* absolute: must resolve inside the root */
    snprintf(p, sizeof(p), "%s/etc/up", root);
    symlink("../../../../../../../../etc/hostname", p); /* climbing: stays inside */
    snprintf(p, sizeof(p), "%s/etc/passwd-host", root);
    symlink("/etc/passwd", p); /* exists on the host, not in the root */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

static void reads_stay_inside(void **state)
{
    struct xg_rootfs r;
    struct xg_err err;
    assert_int_equal(xg_rootfs_open(&r, root, &err), 0);
    assert_false(r.live);
    size_t len;
    char *t = xg_rootfs_read(&r, "/etc/abs", &len);
    assert_non_null(t);
    assert_string_equal(t, "inside\n");
    free(t);
    t = xg_rootfs_read(&r, "/etc/up", &len);
    assert_non_null(t);
    assert_string_equal(t, "inside\n");
    free(t);
    assert_null(xg_rootfs_read(&r, "/etc/passwd-host", &len));
    assert_null(xg_rootfs_read(&r, "/../../etc/passwd", &len));
    char target[64];
    assert_true(xg_rootfs_readlink(&r, "/etc/abs", target, sizeof(target)) > 0);
    assert_string_equal(target, "/etc/hostname");
    char **names;
    size_t n;
    assert_int_equal(xg_rootfs_list(&r, "/etc", &names, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "abs"); /* sorted */
    xg_strv_free(names, n);
    xg_rootfs_close(&r);
    assert_int_equal(xg_rootfs_open(&r, "/nonexistent-xg", &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-xg"));
}

static void runs_commands(void **state)
{
    char *ok[] = {"sh", "-c", "echo one; echo two", NULL};
    size_t len;
    char *out = xg_run_capture(ok, &len);
    assert_non_null(out);
    assert_string_equal(out, "one\ntwo\n");
    assert_int_equal(len, 8);
    free(out);
    char *fails[] = {"sh", "-c", "echo partial; exit 3", NULL};
    assert_null(xg_run_capture(fails, &len));
    char *missing[] = {"xg-no-such-command", NULL};
    assert_null(xg_run_capture(missing, &len));
    char *hangs[] = {"sleep", "30", NULL}; /* killed after the timeout */
    assert_null(xg_run_capture(hangs, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_stay_inside),
        cmocka_unit_test(runs_commands),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
