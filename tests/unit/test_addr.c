/*
 * test_addr.c — prefixes: parsing (strict and masking), printing, containment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/addr.h"

static void roundtrip(const char *in, const char *want)
{
    struct xg_prefix p;
    char why[192], out[XG_PREFIX_STRLEN];
    assert_int_equal(xg_prefix_parse(in, XG_PREFIX_STRICT, &p, why, sizeof(why)), 0);
    xg_prefix_format(&p, true, out);
    assert_string_equal(out, want);
}

static void rejected(const char *in, const char *want)
{
    struct xg_prefix p;
    char why[192] = "";
    assert_int_equal(xg_prefix_parse(in, XG_PREFIX_STRICT, &p, why, sizeof(why)), -1);
    assert_non_null(strstr(why, want));
}

static void test_parse_and_format(void **state)
{
    (void)state;
    roundtrip("192.0.2.11", "192.0.2.11");
    roundtrip("192.0.2.11/32", "192.0.2.11");
    roundtrip("192.0.2.0/24", "192.0.2.0/24");
    roundtrip("0.0.0.0/0", "0.0.0.0/0");
    roundtrip("2001:db8::/32", "2001:db8::/32");
    roundtrip("2001:DB8:0:0::11", "2001:db8::11");
    roundtrip("::/0", "::/0");
    roundtrip("192.0.2.128/25", "192.0.2.128/25");
}

static void test_rejects(void **state)
{
    (void)state;
    rejected("192.168.1.1/8", "as a prefix it means 192.0.0.0/8");
    rejected("192.0.2.1/24", "as a prefix it means 192.0.2.0/24");
    rejected("2001:db8::1/32", "as a prefix it means 2001:db8::/32");
    rejected("192.0.2.0/33", "prefix length must be 0 to 32");
    rejected("2001:db8::/129", "prefix length must be 0 to 128");
    rejected("192.0.2.0/", "prefix length");
    rejected("192.0.2.0/-1", "prefix length");
    rejected("192.0.2.0/+8", "prefix length");
    rejected("192.0.2", "not an IPv4 or IPv6 address");
    rejected("", "not an IPv4 or IPv6 address");
    rejected("/24", "not an IPv4 or IPv6 address");
    rejected("host.example", "not an IPv4 or IPv6 address");
}

static void test_mask_mode(void **state)
{
    struct xg_prefix p;
    char why[192], out[XG_PREFIX_STRLEN];
    (void)state;
    assert_int_equal(xg_prefix_parse("192.168.1.1/8", XG_PREFIX_MASK, &p, why, sizeof(why)), 0);
    xg_prefix_format(&p, true, out);
    assert_string_equal(out, "192.0.0.0/8");
    assert_int_equal(xg_prefix_parse("2001:db8:ffff::1/33", XG_PREFIX_MASK, &p, why, sizeof(why)),
                     0);
    xg_prefix_format(&p, true, out);
    assert_string_equal(out, "2001:db8:8000::/33");
}

static struct xg_prefix P(const char *s) {
    struct xg_prefix p;
    char why[192];
    assert_int_equal(xg_prefix_parse(s, XG_PREFIX_STRICT, &p, why, sizeof(why)), 0);
    return p;
}

static void
test_contains(void **state)
{
    struct xg_prefix net = P("192.0.2.0/24"), host = P("192.0.2.11"), other = P("198.51.100.1"),
                     v6 = P("2001:db8::/64"), v6host = P("2001:db8::11"), all = P("0.0.0.0/0");
    struct xg_prefix_list l = {0};
    (void)state;
    assert_true(xg_prefix_contains(&net, &host));
    assert_false(xg_prefix_contains(&host, &net));
    assert_false(xg_prefix_contains(&net, &other));
    assert_true(xg_prefix_contains(&all, &other));
    assert_false(xg_prefix_contains(&all, &v6host)); /* families never mix */
    assert_true(xg_prefix_contains(&v6, &v6host));
    assert_true(xg_prefix_overlaps(&host, &net));
    assert_false(xg_prefix_overlaps(&other, &net));
    assert_int_equal(xg_prefix_list_add(&l, &net), 0);
    assert_int_equal(xg_prefix_list_add(&l, &v6), 0);
    assert_true(xg_prefix_list_covers(&l, &host));
    assert_true(xg_prefix_list_covers(&l, &v6host));
    assert_false(xg_prefix_list_covers(&l, &other));
    assert_int_equal(xg_prefix_list_count_family(&l, 6), 1);
    assert_true(xg_prefix_cmp(&net, &host) < 0);
    xg_prefix_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_mask_mode),
        cmocka_unit_test(test_contains),
    };
    return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
