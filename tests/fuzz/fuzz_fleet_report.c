/*
 * fuzz_fleet_report.c — `xenguard fleet`'s report loader over arbitrary bytes.
 *
 * Reports come from the hosts: any bytes must either load or give an error
 * with its place, never crash or leak. A report that loads must survive the
 * cluster checks (as a one-host fleet and twice over, so each check meets
 * another member) and every rendering: the JSON must parse back with jansson.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

static void must(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_fleet_host h[2];
    struct xg_err err = {{0}};
    if (xg_fleet_parse_report((const char *)data, size, "fuzz.json", &h[0], &err) < 0) {
        must(err.msg[0] != '\0');
        return 0;
    }
    must(xg_fleet_parse_report((const char *)data, size, "fuzz2.json", &h[1], &err) == 0);
    struct xg_fleet f = {h, 2};
    struct xg_fleet_report r;
    must(xg_fleet_run(&f, 1767225600, &r) == 0);
    struct xg_buf text = {0}, js = {0}, xml = {0};
    xg_fleet_text(&r, &text);
    xg_fleet_json(&r, &js);
    xg_fleet_junit(&r, &xml);
    must(!xg_buf_failed(&text) && !xg_buf_failed(&js) && !xg_buf_failed(&xml));
    json_t *back = json_loads(xg_buf_str(&js), 0, NULL);
    must(back != NULL);
    json_decref(back);
    xg_buf_free(&text);
    xg_buf_free(&js);
    xg_buf_free(&xml);
    xg_fleet_report_free(&r);
    xg_fleet_host_free(&h[0]);
    xg_fleet_host_free(&h[1]);
    return 0;
}
