/*
 * analyze_guests.c — the guest ports' part of `analyze --spoofing`: per
 * port, what it can claim as an IPv4 or IPv6 source, an ARP sender or a
 * neighbour-advertisement target, and whether that hits Dom0, another guest
 * or an address the bridge table protects (the analysis is bridge.c's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/analyze.h"

static const char *const claim_names[XG_CLAIM_KINDS] = {"ipv4", "ipv6", "arp", "nd"};
static const char *const claim_text[XG_CLAIM_KINDS] = {"IPv4 source", "IPv6 source", "ARP sender",
                                                       "ND target"};
static const char *const whom_names[] = {"dom0", "guest", "protected", "any"};
static const char *const whom_text[] = {"Dom0", "another guest", "a protected address",
                                        "an address (no targets known)"};

static json_t *claim_out(bool print, const struct xg_guest_claim *c, int k)
{
    static const char *const names[] = {"unchecked", "no", "maybe", "yes"};
    json_t *j = json_object();
    char ex[XG_PREFIX_STRLEN];
    xg_prefix_format(&c->example, true, ex);
    json_object_set_new(j, "spoofable", json_string(names[c->verdict]));
    json_object_set_new(
        j, "bound",
        json_string(xg_prefix_list_equal(&c->can.may, &c->can.must) ? "exact" : "may/must"));
    json_object_set_new(j, "may", analyze_prefixes_json(&c->can.may));
    json_object_set_new(j, "must", analyze_prefixes_json(&c->can.must));
    if (c->verdict >= XG_SPOOF_MAYBE) {
        json_object_set_new(j, "example", json_string(ex));
        json_object_set_new(j, "whom", json_string(whom_names[c->whom]));
    }
    if (print) {
        printf("  %-12s ", claim_text[k]);
        if (c->verdict == XG_SPOOF_NO)
            printf("protected: claims only ");
        else
            printf("%s: can claim %s (%s); can claim ",
                   c->verdict == XG_SPOOF_YES ? "SPOOFABLE" : "MAYBE SPOOFABLE", ex,
                   whom_text[c->whom]);
        analyze_print_prefixes(&c->can.may, "               ");
    }
    return j;
}

int analyze_guests(const struct opts *o, const struct xg_ruleset *rs, const struct xg_ifmap *map,
                   json_t *jports, size_t *bad, struct xg_err *err)
{
    char(*ports)[XG_IFNAMSIZ] = NULL;
    size_t n = 0;
    const char *pats[8];
    size_t npat = 0;
    char buf[128], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", o->guest_ports ? o->guest_ports : "vif*,tap*");
    for (char *t = strtok_r(buf, ",", &save); t && npat < 8; t = strtok_r(NULL, ",", &save))
        pats[npat++] = t;
    bool bridged = false;
    for (size_t t = 0; t < rs->table_count; t++)
        bridged |= rs->tables[t]->family == XG_TABLE_BRIDGE;
    if (!bridged)
        return 0; /* no bridge table: nothing to say about guest ports */
    if (xg_guest_ports(rs, map, pats, npat, &ports, &n) < 0)
        return xg_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct xg_guest_answer a;
        json_t *jp = json_object(), *jc = json_object();
        if (xg_guest_spoofing(rs, map, ports[i], o->iface, &a, err) < 0) {
            json_decref(jp);
            json_decref(jc);
            free(ports);
            return -1;
        }
        /* -q: only the ports, and their claims, that hit someone */
        bool any = false;
        for (int k = 0; k < XG_CLAIM_KINDS; k++)
            any |= a.claim[k].verdict >= XG_SPOOF_MAYBE;
        if (!o->json && (!o->quiet || any))
            printf("guest port %s (bridge; to Dom0 via %s):\n", a.port,
                   o->iface ? o->iface : "any interface");
        for (int k = 0; k < XG_CLAIM_KINDS; k++) {
            bool hit = a.claim[k].verdict >= XG_SPOOF_MAYBE;
            *bad += hit;
            json_object_set_new(jc, claim_names[k],
                                claim_out(!o->json && (!o->quiet || hit), &a.claim[k], k));
        }
        json_object_set_new(jp, "port", json_string(a.port));
        json_object_set_new(jp, "claims", jc);
        json_array_append_new(jports, jp);
        xg_guest_answer_free(&a);
    }
    free(ports);
    return 0;
}
