/*
 * test_policy_guests.c — the policy's [host] addresses and [guests]: defaults,
 * values, errors with their place, the protect = no warning, and the printer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

static const char *const HEAD = "[host]\nscenario = firewalled-subnet\npublic-interface = xenbr0\n";

static int parse(const char *rest, struct xg_policy *p, struct xg_warnings *w, struct xg_err *err)
{
    char text[2048];
    snprintf(text, sizeof(text), "%s%s", HEAD, rest);
    return xg_policy_parse(text, strlen(text), "t.conf", p, w, err);
}

static void expect_error(const char *rest, const char *want)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    int rc = parse(rest, &p, NULL, &err);
    if (rc == 0 || !strstr(err.msg, want)) {
        fprintf(stderr, "input:\n%s\nwanted error containing: %s\ngot (rc=%d): %s\n", rest, want,
                rc, err.msg);
        if (rc == 0)
            xg_policy_free(&p);
        fail();
    }
}

static void test_defaults(void **state)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    (void)state;
    assert_int_equal(parse("", &p, NULL, &err), 0);
    assert_true(p.guests.protect);
    assert_false(p.guests.require_addresses);
    assert_int_equal(p.guests.port_count, 2);
    assert_string_equal(p.guests.ports[0], "vif*");
    assert_string_equal(p.guests.ports[1], "tap*");
    assert_int_equal(p.addresses.count, 0);
    assert_true(xg_policy_is_guest_port(&p, "vif5.0"));
    assert_true(xg_policy_is_guest_port(&p, "vif5.0-emu"));
    assert_true(xg_policy_is_guest_port(&p, "tap5.0"));
    assert_false(xg_policy_is_guest_port(&p, "xenbr0"));
    assert_false(xg_policy_is_guest_port(&p, "eth0"));
    xg_policy_free(&p);
}

static void test_values(void **state)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    struct xg_warnings w = {0};
    (void)state;
    assert_int_equal(parse("addresses = 192.0.2.10, 2001:db8::10\n"
                           "[guests]\nports = vif* guest3\nprotect = no\nrequire-addresses = yes\n",
                           &p, &w, &err),
                     0);
    assert_int_equal(p.addresses.count, 2);
    assert_int_equal(p.guests.port_count, 2);
    assert_true(xg_policy_is_guest_port(&p, "guest3"));
    assert_false(xg_policy_is_guest_port(&p, "guest30"));
    assert_false(xg_policy_is_guest_port(&p, "tap1.0"));
    assert_false(p.guests.protect);
    assert_true(p.guests.require_addresses);
    /* protect = no is allowed, with a warning at its line */
    bool warned = false;
    for (size_t i = 0; i < w.count; i++)
        warned |= strstr(w.lines[i], "t.conf:7:") && strstr(w.lines[i], "protect = no");
    assert_true(warned);
    xg_warnings_free(&w);
    xg_policy_free(&p);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("addresses = 192.0.2.0/24\n", "t.conf:4:13: addresses: 192.0.2.0/24 is a network");
    expect_error("addresses = 192.0.2.1/24\n",
                 "t.conf:4:13: addresses: '192.0.2.1/24' has host bits");
    expect_error("addresses = 192.0.2.10 192.0.2.10\n", "'192.0.2.10' is listed twice");
    expect_error("[guests]\nports = vif*x\n", "t.conf:5:9: ports: 'vif*x' is not an interface");
    expect_error("[guests]\nports = *\n", "ports: '*' is not an interface");
    expect_error("[guests]\nports =\n", "ports: needs at least one");
    expect_error("[guests]\nports = vif* vif*\n", "t.conf:5:14: ports: 'vif*' is listed twice");
    expect_error("[guests]\nports = lo*\n", "would make loopback a guest port");
    expect_error("[guests]\nports = averyveryverylongname*\n", "is not an interface");
    expect_error("[guests]\nprotect = maybe\n", "t.conf:5:11: protect: 'maybe' is not yes or no");
    expect_error("[guests]\nrequire-addresses = 2\n", "require-addresses: '2' is not yes or no");
    expect_error("[guests]\nbridge = xenbr0\n", "unknown key 'bridge' in [guests] (known: ports, "
                                                "protect, require-addresses)");
    expect_error("[guests]\n[guests]\n", "section [guests] appears twice");
    /* Dom0's own interface is not a guest port */
    expect_error("[guests]\nports = xenbr*\n",
                 "t.conf:3:20: public-interface 'xenbr0' matches the guest port pattern 'xenbr*'");
}

static void test_printer_round_trip(void **state)
{
    struct xg_policy a, b;
    struct xg_err err = {{0}};
    char *once, *twice;
    (void)state;
    assert_int_equal(parse("addresses = 2001:db8::10 192.0.2.10\n[guests]\nports = vif* tap7.0\n"
                           "require-addresses = yes\n",
                           &a, NULL, &err),
                     0);
    assert_int_equal(xg_policy_print(&a, &once), 0);
    assert_non_null(strstr(once, "addresses = 2001:db8::10 192.0.2.10\n"));
    assert_non_null(strstr(once, "\n[guests]\nports = vif* tap7.0\nprotect = yes\n"
                                 "require-addresses = yes\n"));
    assert_int_equal(xg_policy_parse(once, strlen(once), "printed", &b, NULL, &err), 0);
    assert_int_equal(xg_policy_print(&b, &twice), 0);
    assert_string_equal(once, twice);
    assert_int_equal(b.addresses.count, 2);
    free(once);
    free(twice);
    xg_policy_free(&a);
    xg_policy_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_printer_round_trip),
    };
    return cmocka_run_group_tests_name("policy_guests", tests, NULL, NULL);
}
