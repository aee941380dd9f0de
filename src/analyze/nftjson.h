/*
 * nftjson.h — the `nft -j list ruleset` parser's shared parts, internal to
 * src/analyze/: nftjson.c reads the document (tables, sets, chains, rules),
 * nftjson_expr.c turns match expressions into IR matches, nftjson_stmt.c
 * verdicts, verdict maps and the other statements, nftjson_link.c the
 * link-layer, ARP, ND, address-type and interface-keyed matches.
 */
#ifndef XG_ANALYZE_NFTJSON_H
#define XG_ANALYZE_NFTJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/analyze.h"

struct nmap {
    const char *family, *table, *name;
    json_t *elem; /* borrowed from the document */
    bool is_addr; /* ipv4_addr / ipv6_addr set, mirrored into the IR */
};

struct ntable {
    const char *family; /* borrowed from the document */
    struct xg_table *t;
};

struct nctx {
    const char *path;
    struct ntable *tables;
    size_t ntables;
    struct xg_ruleset *rs;
    struct nmap *maps; /* sets and maps */
    size_t nmaps;
    struct xg_err *err;
    size_t item; /* index in the nftables array, for errors */
};

/* A rule being built: alternatives (see above). */
struct alts {
    struct xg_rule *r;
    size_t n;
};

/* Replace each alternative by n copies, the j-th getting `fill(j)`. */
typedef int (*fill_fn)(struct xg_rule *r, size_t j, void *arg);

void nj_alts_free(struct alts *a);
int nj_fail(struct nctx *c, const char *what);
const char *nj_jstr(json_t *o, const char *key);
int nj_addr_value(json_t *v, uint8_t family, struct xg_prefix_list *out);
int nj_port_value(json_t *v, struct xg_port_range *r);
int nj_proto_value(json_t *v, uint8_t *out);
json_t *nj_values_of(struct nctx *c, const char *family, const char *table, json_t *right,
                     const char **set_name);
int nj_add_unknown(struct nctx *c, struct alts *a, const char *text);
int nj_expand(struct nctx *c, struct alts *a, size_t n, fill_fn fill, void *arg);
uint8_t nj_payload_family(const char *proto);
int nj_parse_match(struct nctx *c, const char *family, const char *table, json_t *m,
                   struct alts *a);
/* nftjson_link.c: link-layer, ARP, ND, address-type and interface-keyed matches;
 * *handled false leaves the match to nj_parse_match. */
int nj_parse_link_match(struct nctx *c, const char *family, const char *table, json_t *m,
                        struct alts *a, bool *handled);
int nj_parse_if_set(struct nctx *c, struct xg_table *t, const char *name, json_t *type,
                    json_t *elem, bool *handled);
int nj_parse_stmt(struct nctx *c, const char *family, const char *table, json_t *s, struct alts *a);

#endif
