/*
 * analyze.h — the analyze verb's own parts (src/cmd/ only): its options,
 * read by analyze.c (usage, parsing, inputs, dispatch), and the renderers of
 * each query's answer in analyze_show.c (explanations: analyze_why.c). The answers themselves come
 * from the analyzer library (src/analyze/).
 */
#ifndef XG_CMD_ANALYZE_H
#define XG_CMD_ANALYZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "analyze/host.h"

#define MAX_SERVICES 32

struct service {
    uint8_t proto;
    uint16_t port;
    char text[24];
};

struct opts {
    struct {
        enum xg_fw_kind kind;
        const char *path;
    } files[24]; /* --iptables, --ip6tables, --nft-json in the order given */
    size_t nfiles;
    enum xg_hook path;
    const char *from, *to, *iface, *oface, *ifmap;
    struct service to_port;
    bool have_to_port;
    struct service reach;
    bool have_reach;
    struct service matrix[MAX_SERVICES];
    size_t nmatrix;
    bool spoofing;
    const char *diff_old, *diff_new;
    bool json;
    bool quiet;         /* -q: only the lines that answer, and the summary */
    bool verbose;       /* -v: also the work done */
    bool perimeter;     /* --perimeter: the router's ruleset against [perimeter] of -c */
    const char *config; /* -c POLICY (with --perimeter) */
    bool has_sport;     /* --sport */
    uint16_t sport;
    bool has_mac; /* --mac */
    uint8_t mac[6];
    const char *guest_ports; /* --guest-ports PATTERN,... (default vif*,tap*) */
};

const char *analyze_proto_name(uint8_t p);
int analyze_load_spec(const char *spec, struct xg_ruleset *rs, struct xg_err *err);
int analyze_reach(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err);
int analyze_packet(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err);
int analyze_matrix(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err);
int analyze_spoofing(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err);
int analyze_diff(const struct opts *o, struct xg_err *err);
/* --perimeter (in cmd/perimeter.c): 0 both requirements hold, 1 one does not, -1 error. */
int analyze_perimeter(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err);

/* Shared printing (analyze_show.c). Every JSON answer is an object that
 * starts with "schema" (ANALYZE_SCHEMA, doc/analyze.schema.json) and
 * "query" (which answer it is); analyze_print_json() prints and frees it. */
#define ANALYZE_SCHEMA "xenguard-analyze/1"
json_t *analyze_json_new(const char *query);
void analyze_print_json(json_t *j);
const char *analyze_path_name(enum xg_hook p);
void analyze_base_query(const struct opts *o, struct xg_packet_query *q, uint8_t family,
                        const struct service *s, const char *iface);
json_t *analyze_prefixes_json(const struct xg_prefix_list *l);
void analyze_print_prefixes(const struct xg_prefix_list *l, const char *indent);

/* Explanations (analyze_why.c): rule locations, may-reasons, what a chosen
 * source port or MAC adds. */
json_t *analyze_rule_ref_json(const struct xg_rule *r);
void analyze_rule_ref_text(const struct xg_rule *r, char *buf, size_t n);
void analyze_extras_text(const struct xg_reach_extra *x, size_t n, const char *indent);
json_t *analyze_extras_json(const struct xg_reach_extra *x, size_t n);
void analyze_why_text(const struct xg_may_reason *w, const char *indent);
json_t *analyze_why_json(const struct xg_may_reason *w);

/* --spoofing's guest ports (analyze_guests.c): appends to `jports`, counts spoofable claims. */
int analyze_guests(const struct opts *o, const struct xg_ruleset *rs, const struct xg_ifmap *map,
                   json_t *jports, size_t *bad, struct xg_err *err);

#endif
