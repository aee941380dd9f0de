/*
 * facts.h — what one host's audit report tells `xenguard fleet`.
 *
 * Cluster properties cannot be seen from one host, but each host can say,
 * at audit time and with its own analyzer, what the cluster needs to know:
 * its policy summary (scenario, transport, peers, migration port), a digest
 * of the firewall the kernel evaluates, the analyzer's may / must sources
 * for the migration port on each interface, and its tunnel certificates.
 * The audit computes these facts (xg_fleet_facts_from_host: pure, from the
 * host model and the policy; xg_fleet_facts_read_certs: the one piece of
 * I/O, the certificate files under the audited root) and render.c writes
 * them as the report's "fleet" section (schema in xenguard-audit(8)), which
 * src/fleet/load.c reads back on the controller.
 */
#ifndef XG_FLEET_FACTS_H
#define XG_FLEET_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "model/host.h"
#include "policy/policy.h"

/* The analyzer's answer for the migration port on one interface, both families. */
struct xg_fleet_iface_reach {
    char iface[XG_IFNAMSIZ];
    struct xg_reach r[2]; /* [0] IPv4, [1] IPv6 */
};

/* A certificate of the tunnel: its fingerprint and end of validity. */
struct xg_fleet_cert {
    bool present;
    char sha256[72];        /* "sha256:HEX" */
    char not_after[24];     /* "YYYY-MM-DDTHH:MM:SSZ" */
    char error[XG_ERR_MAX]; /* why it could not be read ("" when present) */
};

struct xg_fleet_facts {
    const struct xg_policy *policy; /* NULL: audited without a policy */
    /* the port migration arrives on: migration_port (xend, tunnel), ssh_port (ssh),
     * migration_port (off: nothing may reach it) */
    uint16_t migration_port;
    bool firewall_present;
    char firewall_error[XG_ERR_MAX]; /* the analyzer could not answer ("" when it could) */
    char firewall_digest[72];        /* "sha256:HEX" of the canonical ruleset, "" when absent */
    struct xg_fleet_iface_reach *reach;
    size_t reach_count;
    bool tunnel; /* the policy's transport is the tunnel: ca and cert below */
    struct xg_fleet_cert ca, cert;
};

struct xg_ifmap;
/* The facts of one audited host (no I/O); `map` (or NULL: unknown) decides reverse-path
 * matches. -1 only when out of memory. */
int xg_fleet_facts_from_host(const struct xg_host *h, const struct xg_policy *p,
                             const struct xg_ifmap *map, struct xg_fleet_facts *out,
                             struct xg_err *err);
/* The audit's entry: the live host's interface map (ip -j addr / route, read-only), the
 * facts, and the tunnel's CA and host certificate read under `root` ("/": the live host). */
int xg_fleet_facts_collect(const struct xg_host *h, const struct xg_policy *p, const char *root,
                           struct xg_fleet_facts *out, struct xg_err *err);
void xg_fleet_facts_free(struct xg_fleet_facts *f);

/* sha256 of a canonical text of the ruleset (source lines and handles left out). */
int xg_ruleset_digest(const struct xg_ruleset *rs, char out[72]);

#endif
