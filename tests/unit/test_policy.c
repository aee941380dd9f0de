/*
 * test_policy.c — the policy parser: every error names FILE:LINE:COL and says
 * what is wrong; warnings go to the warning list; print(parse(x)) is stable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/host.h"
#include "policy/policy.h"
#include "report/report.h"

static const char *const HEAD = "[host]\nscenario = firewalled-subnet\npublic-interface = eth0\n";

/* Parse `text`; expect failure with an error message that contains `want`. */
static void expect_error(const char *text, const char *want)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    int rc = xg_policy_parse(text, strlen(text), "t.conf", &p, NULL, &err);
    if (rc == 0 || !strstr(err.msg, want)) {
        fprintf(stderr, "input:\n%s\nwanted error containing: %s\ngot (rc=%d): %s\n", text, want,
                rc, err.msg);
        if (rc == 0)
            xg_policy_free(&p);
        fail();
    }
}

static char *with_head(const char *rest)
{
    char *s;
    assert_true(asprintf(&s, "%s%s", HEAD, rest) > 0);
    return s;
}

static void test_unknown_section(void **state)
{
    (void)state;
    expect_error("[hots]\n", "t.conf:1:2: unknown section [hots]");
}

static void test_unknown_key(void **state)
{
    char *t = with_head("scenery = x\n");
    (void)state;
    expect_error(t, "t.conf:4:1: unknown key 'scenery' in [host]");
    free(t);
}

static void test_duplicate_key(void **state)
{
    char *t = with_head("public-interface = eth1\n");
    (void)state;
    expect_error(t, "t.conf:4:1: duplicate key 'public-interface' (first set at line 3)");
    free(t);
}

static void test_duplicate_section(void **state)
{
    char *t = with_head("[host]\n");
    (void)state;
    expect_error(t, "t.conf:4:1: section [host] appears twice (first at line 1)");
    free(t);
}

static void test_bad_address(void **state)
{
    char *t = with_head("[cluster]\npeers = 192.0.2.11 192.0.2.300\n");
    (void)state;
    expect_error(t, "t.conf:5:20: peers: '192.0.2.300' is not an IPv4 or IPv6 address");
    free(t);
}

static void test_host_bits_name_the_real_prefix(void **state)
{
    char *t = with_head("[cluster]\nnetworks = 192.168.1.1/8\n");
    (void)state;
    expect_error(t, "t.conf:5:12: networks: '192.168.1.1/8' has host bits set: as a prefix it "
                    "means 192.0.0.0/8");
    free(t);
    t = with_head("[cluster]\nnetworks = 2001:db8::1/64\n");
    expect_error(t, "means 2001:db8::/64");
    free(t);
}

static void test_prefix_length(void **state)
{
    char *t = with_head("[cluster]\npeers = 192.0.2.0/33\n");
    (void)state;
    expect_error(t, "t.conf:5:9: peers: '192.0.2.0/33': prefix length must be 0 to 32");
    free(t);
}

static void test_port_out_of_range(void **state)
{
    char *t = with_head("[migration]\nport = 65536\n");
    (void)state;
    expect_error(t, "t.conf:5:8: port: port '65536' is out of range (1-65535)");
    free(t);
    t = with_head("[admin]\nssh-port = 0\n");
    expect_error(t, "t.conf:5:12: ssh-port: port '0' is out of range");
    free(t);
    t = with_head("[allow]\nweb = tcp/80,70000 from any\n");
    expect_error(t, "t.conf:5:14: web: port '70000' is out of range");
    free(t);
}

static void test_isolated_needs_distinct_management(void **state)
{
    (void)state;
    expect_error("[host]\nscenario = isolated-management\npublic-interface = eth0\n"
                 "[cluster]\nnetworks = 192.0.2.0/24\n",
                 "t.conf:2:12: scenario isolated-management needs [host] management-interface");
    expect_error("[host]\nscenario = isolated-management\npublic-interface = eth0\n"
                 "management-interface = eth0\n[cluster]\nnetworks = 192.0.2.0/24\n",
                 "t.conf:4:24: management-interface 'eth0' is also the public interface");
    expect_error("[host]\nscenario = isolated-management\npublic-interface = eth0\n"
                 "management-interface = eth1\n",
                 "needs [cluster] networks");
}

static void test_one_nic_scenario_with_second_nic(void **state)
{
    char *t = with_head("management-interface = eth1\n");
    (void)state;
    expect_error(t, "t.conf:4:24: management-interface 'eth1' differs from public-interface, but "
                    "scenario firewalled-subnet has one network card");
    free(t);
}

static void test_loopback_in_a_role(void **state)
{
    (void)state;
    expect_error("[host]\nscenario = untrusted\npublic-interface = lo\n",
                 "t.conf:3:20: public-interface: 'lo' is loopback");
}

static void test_untrusted_forbids_xend(void **state)
{
    (void)state;
    expect_error("[host]\nscenario = untrusted\npublic-interface = eth0\n[migration]\n"
                 "transport = xend\n",
                 "t.conf:5:13: transport xend on an untrusted subnet");
}

static void test_required_keys(void **state)
{
    (void)state;
    expect_error("[host]\npublic-interface = eth0\n", "t.conf: [host] scenario is required");
    expect_error("[host]\nscenario = untrusted\n", "t.conf: [host] public-interface is required");
    expect_error("peers = 192.0.2.1\n", "t.conf:1:1: key 'peers' is outside any section");
}

static void test_bad_values(void **state)
{
    char *t;
    (void)state;
    expect_error("[host]\nscenario = cloud\n", "t.conf:2:12: scenario: 'cloud' is not one of");
    t = with_head("[migration]\ntransport = scp\n");
    expect_error(t, "t.conf:5:13: transport: 'scp' is not one of off, xend, ssh, tunnel");
    free(t);
    t = with_head("icmp-echo = maybe\n");
    expect_error(t, "t.conf:4:13: icmp-echo: 'maybe' is not yes or no");
    free(t);
    t = with_head("gateway-mac = 02:00:00:00:00\n");
    expect_error(t, "t.conf:4:15: gateway-mac: '02:00:00:00:00' is not a MAC address");
    free(t);
    t = with_head("[cluster]\npeers = 192.0.2.1 192.0.2.1\n");
    expect_error(t, "t.conf:5:19: peers: '192.0.2.1' is listed twice");
    free(t);
    expect_error("[host]\nscenario = untrusted untrusted\n", "t.conf:2:22: scenario: takes one "
                                                             "value, found extra 'untrusted'");
    expect_error("[host]\nscenario\n", "t.conf:2:1: expected 'key = value' or '[section]'");
    expect_error("[host]\nscenario = untrusted\npublic-interface = eth0\n[admin]\nusers = root "
                 "6,#x\n",
                 "t.conf:5:16: users: '#x' is not a valid name");
    expect_error("[host]\nscenario = untrusted\npublic-interface = eth0\n[tunnel]\nca =#x\n",
                 "t.conf:5:5: ca: needs a value");
    expect_error("[host]\nscenario = untrusted\npublic-interface = eth0\x01\n",
                 "t.conf:3:20: public-interface: 'eth0\x01' is not a valid interface name");
}

static void test_services(void **state)
{
    char *t;
    (void)state;
    t = with_head("[allow]\nntp = icmp/123 from any\n");
    expect_error(t, "t.conf:5:7: ntp: protocol 'icmp' is not tcp or udp");
    free(t);
    t = with_head("[allow]\nntp = udp/123 to any\n");
    expect_error(t, "t.conf:5:15: ntp: expected 'from' after the ports, found 'to'");
    free(t);
    t = with_head("[allow]\nweb = tcp/90-80 from any\n");
    expect_error(t, "ends before it starts");
    free(t);
    t = with_head("[allow]\nweb = tcp/443 from any 192.0.2.1\n");
    expect_error(t, "'any' already covers every address");
    free(t);
    t = with_head("[allow]\nweb = tcp/443 from 192.0.2.1 on\n");
    expect_error(t, "'on' takes exactly one interface");
    free(t);
    t = with_head("[admin]\nssh-from = 198.51.100.0/24\n[allow]\nsecond-ssh = tcp/22 from any\n");
    expect_error(t, "t.conf:7:1: second-ssh: opens the ssh port, which [admin] already governs");
    free(t);
}

static void test_nul_byte(void **state)
{
    static const char text[] = "[host]\nscen\0ario = untrusted\n";
    struct xg_policy p;
    struct xg_err err = {{0}};
    (void)state;
    assert_int_equal(xg_policy_parse(text, sizeof(text) - 1, "t.conf", &p, NULL, &err), -1);
    assert_string_equal(err.msg, "t.conf:2:5: NUL byte in policy file");
}

static void test_valid_policy_and_warnings(void **state)
{
    static const char text[] =
        "# comment\n[host]\nscenario = firewalled-subnet   # trailing comment\n"
        "public-interface = eth0\n[cluster]\npeers = 192.0.2.11, 198.51.100.9 2001:db8::11\n"
        "networks = 192.0.2.0/24 2001:db8::/64\n[migration]\ntransport = xend\n[admin]\n"
        "ssh-from = 198.51.100.0/24\nusers = root alice\n[allow]\nntp = udp/123,4000-4010 "
        "from 192.0.2.1 2001:db8::1 on eth0\n";
    struct xg_policy p;
    struct xg_warnings w = {0};
    struct xg_err err = {{0}};
    bool outside = false, no_gw = false;
    (void)state;
    assert_int_equal(xg_policy_parse(text, strlen(text), "t.conf", &p, &w, &err), 0);
    assert_int_equal(p.scenario, XG_SCENARIO_FIREWALLED_SUBNET);
    assert_string_equal(p.management_if, "eth0"); /* defaults to public */
    assert_int_equal(p.peers.count, 3);
    assert_int_equal(p.networks.count, 2);
    assert_int_equal(p.transport, XG_TRANSPORT_XEND);
    assert_int_equal(p.migration_port, 8002);
    assert_int_equal(p.ssh_port, 22);
    assert_int_equal(p.admin_user_count, 2);
    assert_string_equal(p.admin_users[1], "alice");
    assert_int_equal(p.service_count, 1);
    assert_int_equal(p.services[0].port_count, 2);
    assert_int_equal(p.services[0].ports[1].lo, 4000);
    assert_int_equal(p.services[0].ports[1].hi, 4010);
    assert_string_equal(p.services[0].iface, "eth0");
    for (size_t i = 0; i < w.count; i++) {
        outside |=
            strstr(w.lines[i], "warning: peer 198.51.100.9 is outside [cluster] networks") != NULL;
        no_gw |= strstr(w.lines[i], "t.conf:3:12: warning: no [host] gateway-mac") != NULL;
    }
    assert_true(outside);
    assert_true(no_gw);
    xg_warnings_free(&w);
    xg_policy_free(&p);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);
    assert_non_null(f);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* print(parse(x)) is a fixed point, and parsing it gives the same policy. */
static void test_round_trip(void **state)
{
    static const char *const files[] = {"examples/isolated-management.conf",
                                        "examples/firewalled-subnet.conf",
                                        "examples/untrusted.conf",
                                        "examples/bridged-dom0.conf"};
    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t len;
        char *text = read_file(files[i], &len), *once, *twice;
        struct xg_policy a, b;
        struct xg_err err = {{0}};
        assert_int_equal(xg_policy_parse(text, len, files[i], &a, NULL, &err), 0);
        assert_int_equal(xg_policy_print(&a, &once), 0);
        assert_int_equal(xg_policy_parse(once, strlen(once), "printed", &b, NULL, &err), 0);
        assert_int_equal(xg_policy_print(&b, &twice), 0);
        assert_string_equal(once, twice);
        assert_int_equal(a.peers.count, b.peers.count);
        assert_int_equal(a.scenario, b.scenario);
        assert_int_equal(a.transport, b.transport);
        free(once);
        free(twice);
        free(text);
        xg_policy_free(&a);
        xg_policy_free(&b);
    }
}

/* xg_policy_load() reads through the one file reader: files, "-" for stdin,
 * a size limit, the OS's reason when it cannot. */
static void test_load_reads_files_and_stdin(void **state)
{
    char path[] = "/tmp/xg-test-policy-XXXXXX";
    int fd = mkstemp(path), saved_stdin;
    const char *text = HEAD;
    struct xg_policy p;
    struct xg_err err = {{0}};
    FILE *big;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(xg_policy_load(path, &p, NULL, &err), 0);
    assert_string_equal(p.public_if, "eth0");
    assert_string_equal(p.path, path);
    xg_policy_free(&p);

    /* stdin: the same text, named <stdin> in messages */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    saved_stdin = dup(STDIN_FILENO);
    assert_true(saved_stdin >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    assert_int_equal(xg_policy_load("-", &p, NULL, &err), 0);
    assert_string_equal(p.path, "<stdin>");
    xg_policy_free(&p);
    assert_int_equal(dup2(saved_stdin, STDIN_FILENO), STDIN_FILENO);
    close(saved_stdin);
    close(fd);

    /* more than 1 MiB is not a policy file */
    assert_non_null(big = fopen(path, "w"));
    for (int i = 0; i < (1 << 20) / 16 + 1; i++)
        fputs("# padding line.\n", big);
    fclose(big);
    assert_int_equal(xg_policy_load(path, &p, NULL, &err), -1);
    assert_non_null(strstr(err.msg, ": larger than 1 MiB"));
    unlink(path);
    assert_int_equal(xg_policy_load(path, &p, NULL, &err), -1);
    assert_non_null(strstr(err.msg, ": No such file or directory"));
}

/* ---------- errors quote their line with carets under the fault ---------- */

/* Parse `text`, expect an error whose first line is `first` and whose extra
 * lines (input line + carets) are `source`. */
static void expect_carets(const char *text, const char *first, const char *source)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    char got[4096];
    if (xg_policy_parse(text, strlen(text), "t.conf", &p, NULL, &err) == 0) {
        xg_policy_free(&p);
        fail_msg("parsed, but expected: %s", first);
    }
    assert_string_equal(err.msg, first);
    xg_err_format_source(&err, got, sizeof(got));
    assert_string_equal(got, source);
}

static void test_carets_under_the_token(void **state)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    char *t = with_head("[cluster]\npeers = 192.168.1.1/8\n");
    (void)state;
    expect_carets(t,
                  "t.conf:5:9: peers: '192.168.1.1/8' has host bits set: as a prefix it means "
                  "192.0.0.0/8",
                  "peers = 192.168.1.1/8\n"
                  "        ^^^^^^^^^^^^^\n");
    /* the place is data, not only text */
    assert_int_equal(xg_policy_parse(t, strlen(t), "t.conf", &p, NULL, &err), -1);
    assert_string_equal(err.file, "t.conf");
    assert_int_equal(err.line, 5);
    assert_int_equal(err.col, 9);
    assert_int_equal(err.len, 13);
    assert_string_equal(err.source, "peers = 192.168.1.1/8");
    free(t);
}

/* A tab before the fault stays a tab in the caret line, so the carets line
 * up whatever the terminal's tab width; CR is not part of the line. */
static void test_carets_keep_tabs(void **state)
{
    char *t = with_head("[cluster]\npeers =\t192.0.2.1,\t192.168.1.1/8\r\n");
    (void)state;
    expect_carets(t,
                  "t.conf:5:20: peers: '192.168.1.1/8' has host bits set: as a prefix it means "
                  "192.0.0.0/8",
                  "peers =\t192.0.2.1,\t192.168.1.1/8\n"
                  "       \t          \t^^^^^^^^^^^^^\n");
    free(t);
}

/* A value that is missing points just past the end of its line. */
static void test_caret_at_end_of_line(void **state)
{
    char *t = with_head("[migration]\nport =   \n");
    (void)state;
    expect_carets("[host]\nscenario =\n", "t.conf:2:11: scenario: needs a value",
                  "scenario =\n"
                  "          ^\n");
    expect_carets(t, "t.conf:5:7: port: needs a value", /* trailing blanks are no value */
                  "port =   \n"
                  "      ^\n");
    free(t);
}

/* A long token gets as many carets as it has characters, though its copy
 * in the message is cut. */
static void test_carets_under_a_long_token(void **state)
{
    char name[301], want_first[512], want_source[1024];
    char *text, *t;
    (void)state;
    memset(name, 'x', 300);
    name[300] = '\0';
    assert_true(asprintf(&text, "public-interface = %s\n", name) > 0);
    t = with_head(text);
    t[strlen(HEAD) - strlen("public-interface = eth0\n")] = '#'; /* comment out the first one */
    snprintf(want_first, sizeof(want_first),
             "t.conf:4:20: public-interface: interface name '%.255s' must be 1 to 15 characters",
             name);
    snprintf(want_source, sizeof(want_source), "public-interface = %s\n%19s", name, "");
    size_t at = strlen(want_source);
    memset(want_source + at, '^', 300);
    strcpy(want_source + at + 300, "\n");
    expect_carets(t, want_first, want_source);
    free(text);
    free(t);

    /* a fault beyond the part of a very long line that is kept: the message alone */
    {
        static char huge[3000];
        struct xg_err err;
        char got[4096];
        memset(huge, 'a', sizeof(huge) - 1);
        const struct xg_src src = {"h", huge, sizeof(huge) - 1};
        xg_fail_src(&err, &src, 1, 2500, 4, "far away");
        assert_string_equal(err.msg, "h:1:2500: far away");
        assert_int_equal(xg_err_format_source(&err, got, sizeof(got)), 0);
        xg_fail_src(&err, &src, 1, 3, 2, "near");
        assert_true(xg_err_format_source(&err, got, sizeof(got)) > 0);
        assert_non_null(strstr(got, "\n  ^^\n"));
    }
}

/* An error found after parsing (validate) quotes the line of the key it is about. */
static void test_carets_for_whole_file_checks(void **state)
{
    char *t = with_head("management-interface = eth1\n");
    (void)state;
    expect_carets(t,
                  "t.conf:4:24: management-interface 'eth1' differs from public-interface, but "
                  "scenario firewalled-subnet has one network card: use isolated-management for "
                  "a second card",
                  "management-interface = eth1\n"
                  "                       ^^^^\n");
    free(t);
    t = strdup("[host]\nscenario = isolated-management\npublic-interface = eth0\n"
               "management-interface  =  eth0  # same card\n");
    expect_carets(t,
                  "t.conf:4:26: management-interface 'eth0' is also the public interface: "
                  "scenario isolated-management needs a distinct, physically separate card",
                  "management-interface  =  eth0  # same card\n"
                  "                         ^^^^\n");
    free(t);
    /* required keys have no line: the message alone */
    expect_carets("[host]\npublic-interface = eth0\n",
                  "t.conf: [host] scenario is required (isolated-management, firewalled-subnet "
                  "or untrusted)",
                  "");
}

/* UTF-8 takes one column per character; control characters show as '?'. */
static void test_carets_utf8_and_control_characters(void **state)
{
    static const char text[] = "caf\xc3\xa9 \x1b[31m bad\n";
    const struct xg_src src = {"x", text, sizeof(text) - 1};
    struct xg_err err;
    char got[256];
    (void)state;
    xg_fail_src(&err, &src, 1, 13, 3, "bad");
    assert_string_equal(err.msg, "x:1:13: bad");
    xg_err_format_source(&err, got, sizeof(got));
    assert_string_equal(got, "caf\xc3\xa9 ?[31m bad\n"
                             "           ^^^\n");
    /* a length past the end of the line stops at its end */
    xg_fail_src(&err, &src, 1, 15, 40, "bad");
    xg_err_format_source(&err, got, sizeof(got));
    assert_string_equal(got, "caf\xc3\xa9 ?[31m bad\n"
                             "             ^\n");
    /* no line kept: nothing more than the message */
    xg_fail_at(&err, "x", 1, 2, "no text");
    assert_int_equal(xg_err_format_source(&err, got, sizeof(got)), 0);
    xg_fail_src(&err, &src, 7, 1, 1, "past the last line");
    assert_int_equal(xg_err_format_source(&err, got, sizeof(got)), 0);
    xg_fail(&err, "nowhere");
    assert_int_equal(err.line, 0);
    assert_int_equal(xg_err_format_source(&err, got, sizeof(got)), 0);
}

/* The one printer: the first line exactly as before, then line and carets. */
static void test_printer(void **state)
{
    static const char text[] = "a = b\n";
    const struct xg_src src = {"f.conf", text, sizeof(text) - 1};
    struct xg_err err;
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    (void)state;
    assert_non_null(f);
    xg_fail_src(&err, &src, 1, 5, 1, "'b' is wrong");
    xg_err_print(f, "xenguard verb", &err);
    xg_err_print(f, NULL, &err);
    xg_fail(&err, "plain");
    xg_err_print(f, "xenguard verb", &err);
    fclose(f);
    assert_string_equal(out, "xenguard verb: f.conf:1:5: 'b' is wrong\n"
                             "a = b\n"
                             "    ^\n"
                             "f.conf:1:5: 'b' is wrong\n"
                             "a = b\n"
                             "    ^\n"
                             "xenguard verb: plain\n");
    free(out);
}

/* The waiver and interface-map parsers fill the place too. */
static void test_carets_in_waivers_and_ifmap(void **state)
{
    static const char waivers[] = "XG-SSH-003 2026-12-31 jump host\n  XG-NOPE-1 2026-12-31 x\n";
    static const char baddate[] = "XG-SSH-003 2026-13-01 jump host\n";
    static const char ifmap[] = "eth0 192.0.2.0/24\neth1\t198.51.100.1/24 # gw\n";
    struct xg_waivers w;
    struct xg_ifmap m = {0};
    struct xg_err err = {{0}};
    char got[256];
    (void)state;
    assert_int_equal(xg_waivers_parse(waivers, strlen(waivers), "w", &w, &err), -1);
    assert_string_equal(err.msg, "w:2:1: unknown check ID");
    xg_err_format_source(&err, got, sizeof(got));
    assert_string_equal(got, "  XG-NOPE-1 2026-12-31 x\n^^^^^^^^^^^\n");
    assert_int_equal(xg_waivers_parse(baddate, strlen(baddate), "w", &w, &err), -1);
    assert_string_equal(err.msg, "w:1:12: expiry must be a date YYYY-MM-DD");
    xg_err_format_source(&err, got, sizeof(got));
    assert_string_equal(got, "XG-SSH-003 2026-13-01 jump host\n           ^^^^^^^^^^\n");
    assert_int_equal(xg_ifmap_parse(ifmap, strlen(ifmap), "m", &m, &err), -1);
    assert_string_equal(err.msg, "m:2:6: '198.51.100.1/24' has host bits set: as a prefix it "
                                 "means 198.51.100.0/24");
    xg_err_format_source(&err, got, sizeof(got));
    assert_string_equal(got, "eth1\t198.51.100.1/24 # gw\n    \t^^^^^^^^^^^^^^^\n");
    xg_ifmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_section),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_duplicate_section),
        cmocka_unit_test(test_bad_address),
        cmocka_unit_test(test_host_bits_name_the_real_prefix),
        cmocka_unit_test(test_prefix_length),
        cmocka_unit_test(test_port_out_of_range),
        cmocka_unit_test(test_isolated_needs_distinct_management),
        cmocka_unit_test(test_one_nic_scenario_with_second_nic),
        cmocka_unit_test(test_loopback_in_a_role),
        cmocka_unit_test(test_untrusted_forbids_xend),
        cmocka_unit_test(test_required_keys),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_valid_policy_and_warnings),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_load_reads_files_and_stdin),
        cmocka_unit_test(test_carets_under_the_token),
        cmocka_unit_test(test_carets_keep_tabs),
        cmocka_unit_test(test_caret_at_end_of_line),
        cmocka_unit_test(test_carets_under_a_long_token),
        cmocka_unit_test(test_carets_for_whole_file_checks),
        cmocka_unit_test(test_carets_utf8_and_control_characters),
        cmocka_unit_test(test_printer),
        cmocka_unit_test(test_carets_in_waivers_and_ifmap),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
