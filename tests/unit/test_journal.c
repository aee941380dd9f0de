/*
 * test_journal.c — src/util/journal.c: the journal's native datagram, the
 * RFC 5424 line, and what arrives on a real datagram socket (one this test
 * binds, named by XG_JOURNAL_SOCKET / XG_SYSLOG_SOCKET) for the verbs'
 * records and for tunneld's logfmt lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/journal.h"

static void native_fields(void **state)
{
    struct xg_buf b = {0};
    struct xg_journal_rec r = {.priority = XG_JOURNAL_WARNING,
                               .verb = "rollback",
                               .message = "two\nlines",
                               .peer = "192.0.2.10",
                               .result = "auto-rollback",
                               .ruleset = ""};
    xg_journal_native(&r, &b);
    const char *want_binary = "MESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\n";
    assert_memory_equal(b.data, want_binary, 8 + 8 + 10);
    const char *text = b.data + 8 + 8 + 10;
    assert_string_equal(text, "PRIORITY=4\nSYSLOG_IDENTIFIER=xenguard\nSYSLOG_FACILITY=3\n"
                              "VERB=rollback\nPEER=192.0.2.10\nRESULT=auto-rollback\n");
    assert_int_equal(b.len, 26 + strlen(text)); /* RULESET "" is left out */
    xg_buf_free(&b);
}

static void rfc5424_line(void **state)
{
    struct xg_buf b = {0};
    struct xg_journal_rec r = {.priority = XG_JOURNAL_NOTICE,
                               .verb = "apply",
                               .message = "loaded\nfake line",
                               .result = "loaded",
                               .ruleset = "/etc/x\"y]\\z.nft"};
    xg_journal_rfc5424(&r, 1764547200, "dom0 a", 42, &b); /* 2025-12-01T00:00:00Z */
    assert_string_equal(xg_buf_str(&b),
                        "<29>1 2025-12-01T00:00:00Z dom0_a xenguard 42 apply [xenguard@32473 "
                        "RESULT=\"loaded\" RULESET=\"/etc/x\\\"y\\]\\\\z.nft\"] loaded?fake line");
    xg_buf_free(&b);
    struct xg_journal_rec bare = {.priority = XG_JOURNAL_ERR, .verb = "confirm"};
    xg_journal_rfc5424(&bare, 0, "", 1, &b);
    assert_string_equal(xg_buf_str(&b), "<27>1 1970-01-01T00:00:00Z - xenguard 1 confirm -");
    xg_buf_free(&b);
}

/* A datagram socket at a fresh path; the path goes into `env`. */
static int listen_at(const char *env, char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/xg-journal-test.%ld.%s", (long)getpid(), env);
    unlink(path);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setenv(env, path, 1);
    return fd;
}

static size_t receive(int fd, char *buf, size_t cap)
{
    ssize_t n = recv(fd, buf, cap - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    return (size_t)n;
}

static void verbs_to_syslog_socket(void **state)
{
    char path[108], buf[4096];
    int fd = listen_at("XG_SYSLOG_SOCKET", path, sizeof(path));
    setenv("SSH_CONNECTION", "192.0.2.10 50000 192.0.2.1 22", 1);
    struct xg_err err = {{0}};
    xg_journal_outcome("rollback", 0, "auto-rollback", "/run/st", &err, "not confirmed in time");
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "<28>1 "));
    assert_non_null(strstr(buf, " xenguard "));
    assert_non_null(strstr(buf, " rollback [xenguard@32473 PEER=\"192.0.2.10\" "
                                "RESULT=\"auto-rollback\" RULESET=\"/run/st\"] rollback "
                                "auto-rollback: not confirmed in time"));
    snprintf(err.msg, sizeof(err.msg), "no saved ruleset");
    xg_journal_outcome("rollback", -1, "rolled-back", "/run/st", &err, "");
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "<27>1 "));
    assert_non_null(strstr(buf, "RESULT=\"failed\""));
    assert_non_null(strstr(buf, "] rollback failed: no saved ruleset"));
    unsetenv("SSH_CONNECTION");
    xg_journal_outcome("confirm", 0, "confirmed", "/run/st", &err, "");
    receive(fd, buf, sizeof(buf));
    assert_null(strstr(buf, "PEER="));
    close(fd);
    unlink(path);
    unsetenv("XG_SYSLOG_SOCKET");
}

static void tunnel_line_to_journal_socket(void **state)
{
    char path[108], buf[4096];
    int fd = listen_at("XG_JOURNAL_SOCKET", path, sizeof(path));
    /* a peer-chosen subject with quotes and spaces stays one value */
    const char *line = "xenguard-tunneld: session peer=\"x\\\" result=ok peer=evil\" "
                       "addr=192.0.2.11:40000 domain=vm1 result=fail reason=\"exit 3\"";
    assert_false(xg_journal_line("tunneld", 2, line)); /* stderr is no journal stream here */
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "MESSAGE=xenguard-tunneld: session peer="));
    assert_non_null(strstr(buf, "\nPEER=x\" result=ok peer=evil\n"));
    assert_non_null(strstr(buf, "\nRESULT=fail\n"));
    assert_non_null(strstr(buf, "\nVERB=tunneld\n"));
    assert_non_null(strstr(buf, "\nPRIORITY=4\n"));
    xg_journal_line("tunneld", 2, "xenguard-tunneld: refused addr=203.0.113.9 reason=\"bad cert\"");
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\nPEER=203.0.113.9\n"));
    assert_non_null(strstr(buf, "\nRESULT=refused\n"));
    xg_journal_line("tunneld", 2, "xenguard-tunneld: listening on addr=[2001:db8::1]:8002");
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\nRESULT=listening on\n"));
    assert_non_null(strstr(buf, "\nPRIORITY=6\n"));
    /* a control byte the peer chose stays escaped in PEER */
    xg_journal_line("tunneld", 2, "xenguard-tunneld: refused addr=192.0.2.9:1 peer=\"a\\x1b[2Jb\"");
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\nPEER=a\\x1b[2Jb\n"));
    xg_journal_line("tunneld", 2, "xenguard-tunneld: stopping");
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\nRESULT=stopping\n"));
    assert_null(strstr(buf, "PEER="));
    close(fd);
    unlink(path);
    unsetenv("XG_JOURNAL_SOCKET");
}

static void nobody_listening_is_an_error_not_a_crash(void **state)
{
    setenv("XG_SYSLOG_SOCKET", "/nonexistent/xg-log", 1);
    struct xg_journal_rec r = {.priority = XG_JOURNAL_INFO, .verb = "apply", .message = "m"};
    struct xg_err err = {{0}};
    assert_int_equal(xg_journal_send(&r, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/xg-log"));
    unsetenv("XG_SYSLOG_SOCKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(native_fields),
        cmocka_unit_test(rfc5424_line),
        cmocka_unit_test(verbs_to_syslog_socket),
        cmocka_unit_test(tunnel_line_to_journal_socket),
        cmocka_unit_test(nobody_listening_is_an_error_not_a_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
