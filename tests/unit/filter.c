/*
 * filter.c — linked into every cmocka binary: CMOCKA_TEST_FILTER=PATTERN runs
 * only the cases whose names match ('*' and '?' wildcards).
 *
 * cmocka has the filter (cmocka_set_test_filter) but reads no environment
 * variable for it; a constructor sets it before main, so the test files'
 * mains stay as they are and `tests/run BUILD SUITE:PATTERN` can pick cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

__attribute__((constructor)) static void xg_unit_filter(void)
{
    const char *pattern = getenv("CMOCKA_TEST_FILTER");
    if (pattern && *pattern)
        cmocka_set_test_filter(pattern);
}
