/*
 * fuzz_nft_json.c — libFuzzer target for the `nft -j list ruleset` parser,
 * and for the evaluator on whatever it accepts (with a chosen source port,
 * and a guest port's claims when there is a bridge table).
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_ruleset rs = {0};
    struct xg_err err;
    if (xg_parse_nft_json((const char *)data, size, "fuzz", &rs, &err) == 0) {
        for (uint8_t family = 4; family <= 6; family += 2) {
            struct xg_packet_query q = {.family = family,
                                        .proto = IPPROTO_TCP,
                                        .dport = 8002,
                                        .iifname = "eth0",
                                        .path = XG_HOOK_INPUT};
            struct xg_reach r;
            if (xg_reach_compute(&rs, &q, &r, &err) == 0)
                xg_reach_free(&r);
            q.has_sport = true;
            q.sport = 53;
            if (xg_reach_compute(&rs, &q, &r, &err) == 0)
                xg_reach_free(&r);
        }
        for (size_t t = 0; t < rs.table_count; t++)
            if (rs.tables[t]->family == XG_TABLE_BRIDGE) {
                struct xg_guest_answer a;
                if (xg_guest_spoofing(&rs, NULL, "vif1.0", "xenbr0", &a, &err) == 0)
                    xg_guest_answer_free(&a);
                break;
            }
    }
    xg_ruleset_free(&rs);
    return 0;
}
