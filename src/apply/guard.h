/*
 * guard.h — the lockout guard: would this ruleset cut off the caller?
 *
 * Before apply loads anything, the candidate ruleset (as IR) is asked the
 * analyzer's question: which sources may / must open a NEW tcp connection
 * to the caller's sshd port, arriving on the interface that holds the
 * server address of the caller's session (SSH_CONNECTION = "client_ip
 * client_port server_ip server_port")? New, not established: a ruleset that
 * keeps the current session but refuses the next login is a lockout too.
 *
 *   KEEPS     the client is in `must`: every reading of the rules lets it in;
 *   MAY_DROP  only in `may`: it depends on matches the analyzer does not model;
 *   DROPS     not even in `may`.
 * apply refuses anything but KEEPS unless --force.
 *
 * The evaluation is the analyzer's xg_reach_compute() (src/analyze/); this
 * file does not evaluate rules itself.
 */
#ifndef XG_APPLY_GUARD_H
#define XG_APPLY_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/ir.h"
#include "net/addr.h"
#include "util/err.h"

struct xg_session {
    struct xg_prefix client; /* host prefix */
    uint16_t client_port;
    struct xg_prefix server;
    uint16_t server_port;
    char iifname[XG_IFNAMSIZ]; /* interface holding `server`; "" when unknown */
};

enum xg_guard_result {
    XG_GUARD_KEEPS,
    XG_GUARD_MAY_DROP,
    XG_GUARD_DROPS,
};

/* Parse SSH_CONNECTION ("::ffff:a.b.c.d" is taken as IPv4). */
int xg_session_parse(const char *ssh_connection, struct xg_session *s, struct xg_err *err);

/* Set s->iifname to the local interface that has s->server (getifaddrs, read-only). */
void xg_session_find_iif(struct xg_session *s);

/* Is the analyzer linked into this binary? Without it the guard cannot decide. */
bool xg_guard_available(void);

/* Ask the analyzer about `rs` (the candidate ruleset alone). */
int xg_guard_check(const struct xg_ruleset *rs, const struct xg_session *s,
                   enum xg_guard_result *out, struct xg_err *err);

/* Same for a ruleset given as `nft -j list ruleset` JSON (analyzer's parser). */
int xg_guard_check_json(const char *json, const char *name, const struct xg_session *s,
                        enum xg_guard_result *out, struct xg_err *err);

/*
 * status: compare what two rulesets (`nft -j` listings) let in, by the
 * analyzer's reachability, for every service the policy declares (sshd, the
 * migration port, [allow]) on each of its interfaces and both IP families.
 * Appends one line per difference to `report`; *differences counts them and
 * *queries the questions asked.
 */
struct xg_policy;
struct xg_buf;
int xg_reach_diff(const char *running_json, const char *wanted_json, const struct xg_policy *p,
                  struct xg_buf *report, size_t *differences, size_t *queries, struct xg_err *err);

/* The same with the running side given as iptables-save and ip6tables-save output. */
int xg_reach_diff_iptables(const char *save4, const char *save6, const char *wanted_json,
                           const struct xg_policy *p, struct xg_buf *report, size_t *differences,
                           size_t *queries, struct xg_err *err);

/* One line for the user: "new ssh connections from 192.0.2.10 to port 22 on eth0". */
void xg_session_describe(const struct xg_session *s, char *out, size_t size);

#endif
