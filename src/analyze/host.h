/*
 * host.h — the analyzer's inputs from files and from the live host.
 *
 * Reading is all this does: the live ruleset comes from libnftables
 * ("list ruleset" with JSON output into a buffer) and from the legacy
 * iptables-save tools when present; interface prefixes from `ip -j addr`
 * and `ip -j route`. Nothing is ever written to the host.
 */
#ifndef XG_ANALYZE_HOST_H
#define XG_ANALYZE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"
#include "net/addr.h"
#include "util/err.h"

/*
 * Load a ruleset file into `rs`. kind: "iptables", "ip6tables", "nft-json",
 * or NULL to guess from the content (JSON -> nft; ip6tables-save header or
 * IPv6 addresses -> ip6tables; else iptables).
 */
int xg_load_ruleset_file(const char *kind, const char *path, struct xg_ruleset *rs,
                         struct xg_err *err);

/* The live host's ruleset (read-only). */
int xg_load_live_ruleset(struct xg_ruleset *rs, struct xg_err *err);

/* Interface map: which prefixes live behind each interface. */
struct xg_ifmap_entry {
    char ifname[XG_IFNAMSIZ];
    struct xg_prefix_list prefixes;
};
struct xg_ifmap {
    struct xg_ifmap_entry *entries;
    size_t count;
};

/* Lines "IFACE PREFIX...", '#' comments. */
int xg_ifmap_parse(const char *text, size_t len, const char *path, struct xg_ifmap *out,
                   struct xg_err *err);
/* From `ip -j addr` and `ip -j route` (live host, read-only). */
int xg_ifmap_from_host(struct xg_ifmap *out, struct xg_err *err);
void xg_ifmap_free(struct xg_ifmap *m);

/* Sources whose route back (longest prefix match over the map) leaves via
 * `ifname`: what a strict reverse-path check accepts on it. */
int xg_ifmap_rpf(const struct xg_ifmap *m, const char *ifname, uint8_t family,
                 struct xg_prefix_list *out);

#endif
