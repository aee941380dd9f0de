/*
 * check.h — the audit's checks: pure functions from the host model (and the
 * optional policy) to a verdict with evidence.
 *
 * Every check has a stable ID (XG-<AREA>-NNN) that waivers, --skip and CI
 * refer to, a practice of the "Securing Xen" chapter it belongs to, a
 * severity, and a remediation text. A check never reads the host: it gets
 * the model, so the same check runs on a live host, a captured root and a
 * model built by hand in a unit test. Missing evidence is XG_STATUS_NA with
 * the reason, never a pass; a model section that failed to parse is
 * XG_STATUS_ERROR.
 *
 * That rule is enforced here, not left to each check: xg_check_run()
 * turns a PASS that recorded no evidence line into n/a ("no evidence
 * read"), and a PASS of a check that called xg_partial() (a file it needs
 * could not be read, an interface without its value...) into n/a with that
 * reason. A FAIL stands on what was read; the missing part is added to its
 * evidence.
 */
#ifndef XG_CHECK_CHECK_H
#define XG_CHECK_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "model/host.h"
#include "policy/policy.h"

enum xg_status {
    XG_STATUS_PASS,
    XG_STATUS_FAIL,
    XG_STATUS_NA,
    XG_STATUS_ERROR,
    XG_STATUS_WAIVED,
};

enum xg_severity {
    XG_SEV_INFO,
    XG_SEV_LOW,
    XG_SEV_MEDIUM,
    XG_SEV_HIGH,
    XG_SEV_CRITICAL,
};

enum xg_practice {
    XG_PRACTICE_HOST,      /* what the host is */
    XG_PRACTICE_SERVICES,  /* 1. fewest services */
    XG_PRACTICE_FIREWALL,  /* 2. default-reject firewall */
    XG_PRACTICE_USERS,     /* 3. no ordinary users */
    XG_PRACTICE_MIGRATION, /* 4. network scenario: relocation, spoofing */
    XG_PRACTICE_XEND,      /* legacy xend */
    XG_PRACTICE_XL,        /* xl and guests */
    XG_PRACTICE_XAPI,      /* XAPI / XCP-ng */
    XG_PRACTICE_COUNT
};

struct xg_result;

struct xg_check_def {
    const char *id;
    enum xg_practice practice;
    enum xg_severity severity;
    const char *title;       /* one line: what must hold */
    const char *description; /* what it means, for the man page and --list */
    const char *remediation;
    /* policy may be NULL: the strictest sensible reading applies */
    void (*run)(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r);
    /* The evidence it reads, as paths in a (captured) root, space-separated: for
     * --list -v, the man page and the test that removes them; NULL if undeclared. */
    const char *reads;
};

struct xg_result {
    const struct xg_check_def *def;
    enum xg_status status;
    char **evidence; /* one line each */
    size_t evidence_count;
    char *reason;  /* why n/a, error text, or the waiver's reason */
    char *missing; /* xg_partial(): evidence the verdict lacks; a PASS becomes n/a */
    char **fix;    /* xg_fix(): commands that fix a FAIL, each naming what was found */
    size_t fix_count;
};

/* The whole table, in report order. */
const struct xg_check_def *xg_checks(size_t *count);
const struct xg_check_def *xg_check_find(const char *id);

/* Run one check: fills r. A PASS needs at least one evidence line and nothing
 * missing (xg_partial), otherwise it is n/a with the reason. */
void xg_check_run(const struct xg_check_def *def, const struct xg_host *h,
                  const struct xg_policy *p, struct xg_result *r);
void xg_result_free(struct xg_result *r);

/* For checks: add an evidence line; fail() also sets the status to FAIL. */
void xg_evidence(struct xg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xg_failf(struct xg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xg_na(struct xg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xg_error(struct xg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The verdict rests on incomplete evidence: a PASS becomes n/a with this reason
 * (the first call's), a FAIL keeps it as an evidence line. */
void xg_partial(struct xg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A fix line: one command an administrator can run as it stands, built from
 * the evidence (the unit, account, file, interface or value found), e.g.
 * xg_fix(r, "systemctl disable --now %s", unit). Where xenguard does the job
 * it is the command (`xenguard apply -c FILE`, `xenguard harden sshd --diff`).
 * A line already given is not repeated; the static remediation stays the
 * explanation. Only a FAIL shows its fix lines.
 */
void xg_fix(struct xg_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A word for a fix line, quoted for the shell when it holds anything but
 * [A-Za-z0-9@%+=:,./_-] (names come from the host's files: any bytes):
 * xg_fix(r, "usermod -L %s", xg_sh(name).s). */
struct xg_sh {
    char s[600];
};
struct xg_sh xg_sh(const char *word);
/* The fix for a firewall finding: `xenguard apply -c POLICY` (lockout guard,
 * rollback) and `xenguard confirm`; with perimeter, the router's `apply --perimeter`. */
void xg_fix_apply(struct xg_result *r, const struct xg_policy *p);
void xg_fix_apply_perimeter(struct xg_result *r, const struct xg_policy *p);
/* The fix for a configuration file xenguard writes: `xenguard harden WHAT -c POLICY
 * --diff` (see what changes), then `... --write`. WHAT: xend, sshd or sysctl. */
void xg_fix_harden(struct xg_result *r, const struct xg_policy *p, const char *what);
/* The policy file a fix line names: the one given with -c, else the default path. */
const char *xg_fix_policy(const struct xg_policy *p);
/* xg_partial() when something at or under PATH could not be read; true then. */
bool xg_need_readable(struct xg_result *r, const struct xg_host *h, const char *path);
/* NA when a needed section is missing, ERROR when it failed to parse (sec XG_SEC_COUNT:
 * a section no parser fills); returns false then.
 * The reason says "permission denied" when the file exists but could not be read. */
bool xg_need(struct xg_result *r, const struct xg_host *h, bool present, enum xg_section sec,
             const char *what);
/* xg_partial() for each IPv4 socket table of `want` (XG_SOCKTAB_*) that was not read
 * (the IPv6 ones are absent when IPv6 is off, and then hold nothing). */
void xg_need_socket_tables(struct xg_result *r, const struct xg_host *h, unsigned want);
/* xg_need() for a file: "no evidence: no PATH", or "no evidence: PATH: Permission denied". */
bool xg_need_file(struct xg_result *r, const struct xg_host *h, bool present, enum xg_section sec,
                  const char *path);

const char *xg_status_name(enum xg_status s);
const char *xg_severity_name(enum xg_severity s);
int xg_severity_parse(const char *s, enum xg_severity *out);
const char *xg_practice_name(enum xg_practice p);

/* Group tables (each file under src/check/ contributes one). */
extern const struct xg_check_def xg_checks_host[], xg_checks_services[], xg_checks_firewall[],
    xg_checks_users[], xg_checks_migration[], xg_checks_xend[], xg_checks_xl[], xg_checks_xapi[],
    xg_checks_guests[];
extern const size_t xg_checks_host_count, xg_checks_services_count, xg_checks_firewall_count,
    xg_checks_users_count, xg_checks_migration_count, xg_checks_xend_count, xg_checks_xl_count,
    xg_checks_xapi_count, xg_checks_guests_count;

/* Shared helpers for checks. */
bool xg_addr_is_wildcard(const struct xg_prefix *a);
bool xg_addr_is_loopback(const struct xg_prefix *a);
/* Is NAME one of the policy's admin users (false without a policy)? */
bool xg_policy_is_admin(const struct xg_policy *p, const char *name);
/*
 * True, with the evidence, when the policy migrates over ssh or not at all and
 * the socket tables show nothing listening on its migration port beyond
 * loopback: the port serves nothing, so whether the firewall opens it is
 * XG-FW-001's question, not a migration finding (XG-MIG-002 calls it first).
 */
bool xg_migration_port_unused(const struct xg_host *h, const struct xg_policy *p,
                              struct xg_result *r);
/* "tcp 0.0.0.0:22 (sshd)" */
void xg_socket_describe(const struct xg_socket *s, char *out, size_t size);

#endif
