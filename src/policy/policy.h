/*
 * policy.h — the declarative policy file, as a plain struct.
 *
 * /etc/xenguard/xenguard.conf describes one Xen host: its scenario (the
 * three of the "Securing Xen" chapter), its interfaces, its cluster, how it
 * migrates, who administers it and which extra services it offers. The
 * parser (parse.c: lines and the key table; values.c: value parsers;
 * validate.c: whole-file checks) turns the INI text into struct xg_policy
 * and refuses anything inconsistent with FILE:LINE:COL, the error keeping
 * the line so the verb can underline the fault; the printer (print.c) writes it
 * back in canonical form, so that print(parse(x)) is stable and the user
 * can see what xenguard understood (`xenguard firewall --check -v`).
 * Everything downstream (compiler, audit, apply, tunnel) reads only this
 * struct, never the text.
 */
#ifndef XG_POLICY_POLICY_H
#define XG_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"
#include "net/values.h"
#include "util/err.h"

#define XG_DEFAULT_POLICY_PATH "/etc/xenguard/xenguard.conf"

enum xg_scenario {
    XG_SCENARIO_ISOLATED_MANAGEMENT, /* second NIC on a physically separate network */
    XG_SCENARIO_FIREWALLED_SUBNET,   /* one NIC, the cluster behind a perimeter firewall */
    XG_SCENARIO_UNTRUSTED,           /* untrusted subnet: tunnel or no migration */
};

enum xg_transport {
    XG_TRANSPORT_OFF,    /* no migration into this host */
    XG_TRANSPORT_XEND,   /* legacy xend relocation server, clear text on `port` */
    XG_TRANSPORT_SSH,    /* xl migrate over ssh */
    XG_TRANSPORT_TUNNEL, /* xenguard's TLS tunnel on `port` */
};

/* Where a key's value was written (line 0: not written), for errors found
 * after parsing: they quote the line and underline `len` bytes from col. */
struct xg_loc {
    unsigned line, col, len;
};

/* [allow] NAME = PROTO/PORTS from ADDR... [on IFACE] */
struct xg_service {
    char name[48];
    uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
    struct xg_port_range ports[16];
    size_t port_count;
    bool from_any;              /* "from any": every source, IPv4 and IPv6 */
    struct xg_prefix_list from; /* otherwise these sources */
    char iface[XG_IFNAMSIZ];    /* "" = any interface but loopback */
    struct xg_loc loc;
};

/* [guests]: the guests' ports on Dom0's bridges (table bridge xenguard). */
#define XG_MAX_GUEST_PORTS 16
struct xg_guests_conf {
    /* interface name patterns of guest ports: exact, or a trailing '*' (default vif*, tap*) */
    char ports[XG_MAX_GUEST_PORTS][XG_IFNAMSIZ];
    size_t port_count;
    bool protect;           /* anti-spoofing on guest ports; default yes */
    bool require_addresses; /* every guest port must declare its addresses (audit); default no */
    struct xg_loc ports_loc, protect_loc;
};

/* [tunnel]: settings of the migration tunnel (xenguard tunnel / tunneld). */
struct xg_tunnel_conf {
    char *ca;          /* CA certificate (PEM) that peers' certificates chain to */
    char *cert;        /* this host's certificate (PEM) */
    char *key;         /* this host's private key (PEM) */
    char **peer_names; /* allowed peer certificate names (CN / DNS SAN) */
    size_t peer_name_count;
    char **peer_fingerprints; /* or pinned "sha256:HEX" certificate fingerprints */
    size_t peer_fingerprint_count;
    char *receive_command;      /* default "xl migrate-receive" */
    unsigned max_sessions;      /* default 4 */
    unsigned handshake_timeout; /* seconds, default 10 */
    unsigned idle_timeout;      /* seconds, default 60 */
};

struct xg_policy {
    char *path; /* the file it came from (for messages) */

    /* [host] */
    enum xg_scenario scenario;
    char public_if[XG_IFNAMSIZ];
    char management_if[XG_IFNAMSIZ];      /* == public_if unless isolated-management */
    uint8_t gateway_macs[XG_MAX_MACS][6]; /* routers of a one-NIC host: a cluster source */
    size_t gateway_mac_count;             /* arriving from one of them is forged */
    bool icmp_echo;                       /* answer ping (rate-limited); default yes */
    bool log_rejects;                     /* log rejected packets (rate-limited); default yes */
    struct xg_prefix_list addresses;      /* Dom0's own addresses (no guest may claim them) */

    /* [cluster] */
    struct xg_prefix_list peers;    /* relocation / tunnel / ssh-migration sources */
    struct xg_prefix_list networks; /* legitimately behind the cluster side */

    /* [migration] */
    enum xg_transport transport;
    uint16_t migration_port; /* default 8002 */

    /* [admin] */
    struct xg_prefix_list ssh_from;
    uint16_t ssh_port;  /* default 22 */
    char **admin_users; /* accounts allowed to log in to Dom0 (audit, sshd AllowUsers) */
    size_t admin_user_count;

    /* [allow] */
    struct xg_service *services;
    size_t service_count;

    struct xg_guests_conf guests;

    struct xg_tunnel_conf tunnel;

    /* where keys were written (0 when defaulted) */
    struct xg_loc scenario_loc, gateway_mac_loc, public_if_loc, management_if_loc, transport_loc,
        peers_loc, addresses_loc;
};

/*
 * Parse policy text. `path` is used in messages. On error returns -1 with
 * err->msg = "PATH:LINE:COL: message" and *out left empty. Warnings (e.g. a
 * peer outside `networks`) are appended to `warnings` (may be NULL).
 */
int xg_policy_parse(const char *text, size_t len, const char *path, struct xg_policy *out,
                    struct xg_warnings *warnings, struct xg_err *err);

/* Read and parse a file ("-" reads stdin). */
int xg_policy_load(const char *path, struct xg_policy *out, struct xg_warnings *warnings,
                   struct xg_err *err);

/* Canonical text of the policy: parse(print(p)) == p, print(parse(print(p))) == print(p). */
int xg_policy_print(const struct xg_policy *p, char **out_text);

const char *xg_scenario_name(enum xg_scenario s);
const char *xg_transport_name(enum xg_transport t);

/* Does this policy open a migration port (xend or tunnel) to the peers? */
bool xg_policy_has_migration_port(const struct xg_policy *p);

/* Does interface `ifname` match one of the [guests] ports patterns? */
bool xg_policy_is_guest_port(const struct xg_policy *p, const char *ifname);
/* The pattern `ifname` matches ("vif*"), or NULL. */
const char *xg_policy_guest_pattern(const struct xg_policy *p, const char *ifname);

void xg_policy_free(struct xg_policy *p);

#endif
