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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"
#include "net/addr.h"
#include "util/err.h"

/* One view of a host's firewall: a tool's output and where it came from. */
enum xg_fw_kind {
    XG_FW_NFT_JSON, /* `nft -j list ruleset` */
    XG_FW_SAVE4,    /* iptables-save (either variant: the header tells) */
    XG_FW_SAVE6,    /* ip6tables-save */
};
struct xg_fw_view {
    enum xg_fw_kind kind;
    const char *text; /* NULL: not available (skipped) */
    const char *name; /* for messages and rule locations: "iptables-save", a file name */
};

#define XG_FW_MAX_VIEWS 32

/* A host's firewall as its tools show it, live or captured. */
struct xg_fw_evidence {
    struct xg_fw_view views[XG_FW_MAX_VIEWS];
    size_t count;
};

/*
 * The ruleset the kernel evaluates, from the views of it (evidence.c holds
 * the one rule for combining them: an iptables-nft view replaces the nft
 * listing of the same table; legacy tables are added to every nft table).
 */
int xg_ruleset_from_evidence(const struct xg_fw_evidence *ev, struct xg_ruleset *rs,
                             struct xg_err *err);

/* Guess a view's kind from its text: JSON -> nft; ip6tables-save header or IPv6 addresses ->
 * ip6tables; else iptables. */
enum xg_fw_kind xg_fw_kind_guess(const char *text);
/* "iptables", "ip6tables", "nft-json"; -1 for anything else. */
int xg_fw_kind_parse(const char *kind, enum xg_fw_kind *out);

/* One ruleset file (`kind` as above, NULL = guess) into an empty `rs`. */
int xg_load_ruleset_file(const char *kind, const char *path, struct xg_ruleset *rs,
                         struct xg_err *err);

/* Does this iptables-save text come from iptables-nft (its header says "(nf_tables)")? */
bool xg_save_is_nf_tables(const char *text);

/* The live host's ruleset (read-only): nft, iptables-nft-save and iptables-legacy-save, both
 * families, through xg_ruleset_from_evidence(). */
int xg_load_live_ruleset(struct xg_ruleset *rs, struct xg_err *err);

/* Interface map: which prefixes live behind each interface. */
struct xg_ifmap_entry {
    char ifname[XG_IFNAMSIZ];
    struct xg_prefix_list prefixes;
};
struct xg_ifmap {
    struct xg_ifmap_entry *entries;
    size_t count;
    /* The host's own addresses (an "ADDR/LEN" with host bits, as `ip addr`
     * shows it, or the live host's) and its IPv4 subnets' broadcast
     * addresses: they decide address-type matches on the source. */
    struct xg_prefix_list local, bcast;
};

/* Lines "IFACE PREFIX...", '#' comments; "!PREFIX" adds every address of its family
 * but the line's "!" prefixes (e.g. "eth0 !10.0.0.0/8": the uplink has the rest);
 * "192.0.2.5/24" (host bits set) is the host's own address 192.0.2.5 on the subnet
 * 192.0.2.0/24. */
int xg_ifmap_parse(const char *text, size_t len, const char *path, struct xg_ifmap *out,
                   struct xg_err *err);
/* From `ip -j addr` and `ip -j route` (live host, read-only). */
int xg_ifmap_from_host(struct xg_ifmap *out, struct xg_err *err);
void xg_ifmap_free(struct xg_ifmap *m);
/* A map file (NULL: the live host's addresses and routes). */
int xg_ifmap_load(const char *path, struct xg_ifmap *out, struct xg_err *err);
/* Every prefix of the map, appended to `out` (cut points for an analysis). */
int xg_ifmap_all_prefixes(const struct xg_ifmap *m, struct xg_prefix_list *out);

/* Point `q`'s address-type lists at the map's (when it names the host's addresses). */
struct xg_packet_query;
void xg_ifmap_addrtypes(const struct xg_ifmap *m, struct xg_packet_query *q);

/* Sources whose route back (longest prefix match over the map) leaves via
 * `ifname`: what a strict reverse-path check accepts on it. */
int xg_ifmap_rpf(const struct xg_ifmap *m, const char *ifname, uint8_t family,
                 struct xg_prefix_list *out);

#endif
