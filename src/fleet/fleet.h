/*
 * fleet.h — a cluster of Dom0s as their audit reports describe them, and
 * the checks that only the cluster as a whole can answer.
 *
 * Pipeline of `xenguard fleet REPORT.json...`:
 *   load.c    one report (hostile JSON from a host) -> struct xg_fleet_host,
 *             every field type-checked and bounded, errors with FILE:LINE:COL
 *   checks.c  struct xg_fleet -> one result per cluster check (XG-FLEET-NNN),
 *             each with a verdict per host and its findings
 *   render.c  text (hosts x checks table), JSON, JUnit
 * Checks are pure: the time they judge certificate expiry against is an
 * argument, so unit tests and goldens do not depend on the clock.
 */
#ifndef XG_FLEET_FLEET_H
#define XG_FLEET_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "check/check.h"
#include "net/addr.h"
#include "net/values.h"
#include "util/buf.h"
#include "util/err.h"

/* Bounds on what a report may hold (a report comes from a host: hostile until checked). */
#define XG_FLEET_MAX_REPORT (16u << 20) /* bytes of one report file */
#define XG_FLEET_MAX_HOSTS  4096
#define XG_FLEET_MAX_ITEMS  4096 /* addresses, peers, interfaces, prefixes of one list, checks */
#define XG_FLEET_MAX_STRING 256  /* hostname, versions, names */

struct xg_fleet_addr {
    char iface[XG_IFNAMSIZ];
    struct xg_prefix addr; /* a host prefix */
};

/* The analyzer's answer on one interface: [0] IPv4, [1] IPv6. */
struct xg_fleet_reach {
    char iface[XG_IFNAMSIZ];
    struct xg_prefix_list may[2], must[2];
};

struct xg_fleet_cert {
    bool present;
    char sha256[72];
    time_t not_after;
    char error[XG_FLEET_MAX_STRING];
};

/* One audit check of the host's report: its ID and verdict. */
struct xg_fleet_audit_check {
    char id[32];
    enum xg_status status;
};

struct xg_fleet_host {
    char *report;   /* the report's file name */
    char *hostname; /* "" when the host did not know it */
    char *xen_version;
    struct xg_fleet_addr *addrs;
    size_t addr_count;
    /* the policy summary (has_policy false: the audit ran without -c) */
    bool has_policy;
    char scenario[32], transport[16];
    uint16_t policy_migration_port, ssh_port;
    char public_if[XG_IFNAMSIZ], management_if[XG_IFNAMSIZ];
    struct xg_prefix_list peers;
    /* the firewall */
    bool fw_present;
    char fw_error[XG_FLEET_MAX_STRING]; /* "" when the analyzer answered */
    char fw_digest[72];
    uint16_t migration_port; /* the port the answers are for */
    struct xg_fleet_reach *reach;
    size_t reach_count;
    /* the tunnel (tunnel false: the report has no tunnel section) */
    bool tunnel;
    struct xg_fleet_cert ca, cert;
    /* the host's own audit */
    struct xg_fleet_audit_check *checks;
    size_t check_count;
    int audit_exit;
};

struct xg_fleet {
    struct xg_fleet_host *hosts;
    size_t count;
};

/* One report: `name` is used in messages. -1 with "NAME:LINE:COL: ..." (syntax) or
 * "NAME: PATH: ..." (a field of the wrong type or size). */
int xg_fleet_parse_report(const char *text, size_t len, const char *name, struct xg_fleet_host *out,
                          struct xg_err *err);
/* Read (bounded by XG_FLEET_MAX_REPORT) and parse one report file. */
int xg_fleet_load_report(const char *path, struct xg_fleet_host *out, struct xg_err *err);
void xg_fleet_host_free(struct xg_fleet_host *h);
void xg_fleet_free(struct xg_fleet *f);

/* "hostname" or, without one, the report's name. */
const char *xg_fleet_host_name(const struct xg_fleet_host *h);
/* The host's addresses on its cluster interface (the policy's management interface),
 * link-local left out; all its addresses when that interface has none. */
int xg_fleet_cluster_addrs(const struct xg_fleet_host *h, struct xg_prefix_list *out);

/* --- the cluster checks (checks.c) --- */

struct xg_fleet_result;

struct xg_fleet_check_def {
    const char *id; /* XG-FLEET-NNN, stable */
    const char *title;
    const char *remediation;
    void (*run)(const struct xg_fleet *f, time_t now, struct xg_fleet_result *r);
};

struct xg_fleet_result {
    const struct xg_fleet_check_def *def;
    enum xg_status status;    /* PASS, FAIL or NA */
    enum xg_status *per_host; /* f->count verdicts */
    char **findings;          /* one line each */
    size_t finding_count;
    bool oom;
};

struct xg_fleet_report {
    const struct xg_fleet *fleet;
    struct xg_fleet_result *results;
    size_t count;
};

const struct xg_fleet_check_def *xg_fleet_checks(size_t *count);

/* For the check functions (checks.c, checks_fw.c): add a finding line; false (the host
 * fails, with a finding) when host i was audited without a policy. */
void xg_fleet_finding(struct xg_fleet_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool xg_fleet_need_policy(const struct xg_fleet *f, size_t i, struct xg_fleet_result *r);
/* Every member's cluster addresses in one sorted array (address, then host), so that the
 * addresses inside a prefix are one contiguous run found by binary search: the checks stay
 * near-linear for a thousand members each listing all the others. */
struct xg_fleet_member_addr {
    struct xg_prefix addr;
    size_t host;
};
struct xg_fleet_index {
    struct xg_fleet_member_addr *e;
    size_t n;
};
int xg_fleet_index_build(const struct xg_fleet *f, struct xg_fleet_index *ix);
/* The first entry at or after the start of p (entries inside p follow it). */
size_t xg_fleet_index_first(const struct xg_fleet_index *ix, const struct xg_prefix *p);
void xg_fleet_index_free(struct xg_fleet_index *ix);
/* XG-FLEET-006 (checks_fw.c); -1 when out of memory. */
int xg_fleet_run_firewall(const struct xg_fleet *f, struct xg_fleet_result *r);
/* Run every check; -1 only when out of memory. */
int xg_fleet_run(const struct xg_fleet *f, time_t now, struct xg_fleet_report *out);
void xg_fleet_report_free(struct xg_fleet_report *r);
/* 1 when a cluster check failed, else 0. */
int xg_fleet_exit_code(const struct xg_fleet_report *r);

/* --- renderings (render.c); out is marked failed when out of memory --- */
void xg_fleet_text(const struct xg_fleet_report *r, struct xg_buf *out);
void xg_fleet_json(const struct xg_fleet_report *r, struct xg_buf *out);
void xg_fleet_junit(const struct xg_fleet_report *r, struct xg_buf *out);

#endif
