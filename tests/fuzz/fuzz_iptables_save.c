/*
 * fuzz_iptables_save.c — libFuzzer target for the iptables-save parser, and
 * for the evaluator on whatever it accepts: dumps are untrusted input and
 * must never crash the analyzer.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_ruleset rs = {0};
    struct xg_err err;
    uint8_t family = size && (data[0] & 1) ? 6 : 4;
    if (xg_parse_iptables_save((const char *)data, size, "fuzz", family, &rs, &err) == 0) {
        struct xg_packet_query q = {.family = family,
                                    .proto = IPPROTO_TCP,
                                    .dport = 22,
                                    .iifname = "eth0",
                                    .path = XG_HOOK_INPUT};
        struct xg_reach r;
        if (xg_reach_compute(&rs, &q, &r, &err) == 0)
            xg_reach_free(&r);
    }
    xg_ruleset_free(&rs);
    return 0;
}
