/*
 * vif.h — a guest port's declared addresses in the loaded `table bridge
 * xenguard`: what `xenguard vif online/offline`, the vif hotplug script and
 * a reload (`apply`, see carry.h) work with.
 *
 * A declaration is a port name plus its addresses and MAC. Once a port is
 * in set vif_declared, the bridge table drops every frame from it whose
 * source MAC, IPv4/IPv6 source, ARP sender or ND target is not one of its
 * pairs in vif_mac / vif_ip4 / vif_ip6 (names.h: XG_BR_SET_*). So a
 * declaration is complete or useless: online needs a MAC and at least one
 * address, and replaces whatever the port had before, in one transaction.
 *
 * The pure parts (validation, the listing parser, the command builder)
 * are separate from the two calls that touch the kernel, so the unit tests
 * see exactly the nft commands that would run. Every value that reaches an
 * nft command has been validated here first: interface names are
 * [A-Za-z0-9_.-] and match a guest port pattern, addresses are unicast
 * host addresses, MACs unicast and non-zero.
 */
#ifndef XG_GUESTS_VIF_H
#define XG_GUESTS_VIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"
#include "net/values.h"
#include "util/buf.h"
#include "util/err.h"

/* Guest port patterns when the policy names none ([guests] ports). */
#define XG_VIF_DEFAULT_PORTS "vif*", "tap*"
/* At most this many addresses per port from the command line or xenstore. */
#define XG_VIF_MAX_IPS 64

struct xg_vif_decl {
    char ifname[XG_IFNAMSIZ];
    bool declared;             /* in vif_declared (listings; a new declaration always is) */
    struct xg_prefix_list ips; /* host prefixes (/32, /128) */
    uint8_t (*macs)[6];        /* one for a new declaration; a listing may hold more */
    size_t mac_count;
    struct xg_prefix_list nd; /* listings: the elements of vif_ip6_nd (names.h) */
};

struct xg_vif_list {
    struct xg_vif_decl *items;
    size_t count, cap;
    bool has_nd; /* the table has vif_ip6_nd, the ND-target companion of vif_ip6 */
};

/* Guest port name patterns (fnmatch), e.g. {"vif*", "tap*"}. */
struct xg_vif_ports {
    const char *const *patterns;
    size_t count;
};

/* The default patterns (XG_VIF_DEFAULT_PORTS). */
const struct xg_vif_ports *xg_vif_default_ports(void);

/* --- validation: 0, or -1 with a one-line reason naming the value --- */

/* A Linux interface name (1..15 bytes of [A-Za-z0-9_.-], not "." or "..") that
 * matches one of the port patterns. */
int xg_vif_check_ifname(const char *name, const struct xg_vif_ports *ports, struct xg_err *err);
/* A unicast host address a guest may use: not unspecified, loopback, multicast
 * or the IPv4 broadcast address; "/32" and "/128" are accepted, other lengths not. */
int xg_vif_parse_ip(const char *text, struct xg_prefix *out, struct xg_err *err);
/* xx:xx:xx:xx:xx:xx (hex, ':' or '-'), unicast, not all zero. */
int xg_vif_parse_mac(const char *text, uint8_t mac[6], struct xg_err *err);

/* A new declaration: the name checked, each ip parsed (duplicates folded),
 * the MAC parsed. Needs a MAC and at least one address. */
int xg_vif_decl_make(struct xg_vif_decl *d, const char *ifname, const char *const *ips,
                     size_t ip_count, const char *mac, const struct xg_vif_ports *ports,
                     struct xg_err *err);

void xg_vif_decl_free(struct xg_vif_decl *d);
/* The entry for IFNAME, created empty when absent (NULL: out of memory). */
struct xg_vif_decl *xg_vif_list_get(struct xg_vif_list *l, const char *ifname);
const struct xg_vif_decl *xg_vif_list_find(const struct xg_vif_list *l, const char *ifname);
void xg_vif_list_free(struct xg_vif_list *l);

/* --- the loaded table --- */

/* Returned (with err) when there is no `table bridge xenguard` with the vif
 * sets to declare into: guest protection is not loaded. */
#define XG_VIF_NOT_LOADED (-2)

/* The one reader of the guests' vif_* sets from an `nft -j list table bridge
 * xenguard` listing (`vif`, a reload's carry-over in apply/guests.c, the
 * audit's probe): one entry per port found in any of the four sets (and the
 * ND companion). -1 (err) when the listing is not JSON, a set named in
 * names.h is of another type or an element cannot be read back (a value of
 * the wrong family, no interface): refused with its text, never dropped;
 * XG_VIF_NOT_LOADED (err) when one of the four sets is missing. */
int xg_vif_parse_listing(const char *json, struct xg_vif_list *out, struct xg_err *err);

/* The nft commands that take the port from `old` (NULL: nothing) to `new`
 * (NULL: nothing, i.e. offline): delete every old element, add every new
 * one; with `nd` the IPv6 addresses also go into vif_ip6_nd as integers. One
 * batch: nft applies all of it or none. Empty when both are empty. */
void xg_vif_cmds(const struct xg_vif_decl *old, const struct xg_vif_decl *new_decl, bool nd,
                 struct xg_buf *out);

/* Read the loaded table's declarations; XG_VIF_NOT_LOADED (err says "run
 * xenguard apply") when there is no table bridge xenguard or it lacks the sets. */
int xg_vif_loaded(struct xg_vif_list *out, struct xg_err *err);

/* Online: replace the port's elements by `d`. Offline: remove the port
 * `ifname`'s elements; *had (may be NULL) says whether it had any. -1 or
 * XG_VIF_NOT_LOADED on failure, and then nothing changed. */
int xg_vif_online(const struct xg_vif_decl *d, struct xg_err *err);
int xg_vif_offline(const char *ifname, bool *had, struct xg_err *err);

#endif
