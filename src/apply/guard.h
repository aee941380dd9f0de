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
    char whence[96];           /* where SSH_CONNECTION was read, for messages */
};

enum xg_guard_result {
    XG_GUARD_KEEPS,
    XG_GUARD_MAY_DROP,
    XG_GUARD_DROPS,
};

/* The answer, with the rule behind it when it is not KEEPS. */
struct xg_guard_verdict {
    enum xg_guard_result result;
    /* DROPS: the rule (or chain policy) that drops the session's next SYN;
     * MAY_DROP: the first rule on its way the analyzer cannot decide; "" if none. */
    char rule[640];
};

/* Parse SSH_CONNECTION ("::ffff:a.b.c.d" is taken as IPv4). */
int xg_session_parse(const char *ssh_connection, struct xg_session *s, struct xg_err *err);

/*
 * The caller's ssh session: SSH_CONNECTION of this process, else of the
 * nearest ancestor in the same network namespace up to the process sshd
 * spawned (sudo and `su -` drop the variable; the login shell above them
 * still has it in /proc/PID/environ). 1 = found (s filled, s->whence says
 * where), 0 = no session, -1 = a malformed SSH_CONNECTION (err).
 */
int xg_session_find(struct xg_session *s, struct xg_err *err);

/* Set s->iifname to the local interface that has s->server (getifaddrs, read-only). */
void xg_session_find_iif(struct xg_session *s);

/*
 * Ask the analyzer about `rs` (the candidate ruleset alone). `map` (the
 * host's interfaces and routes, as `analyze --spoofing` reads them; NULL if
 * unknown) decides reverse-path matches: every compiled ruleset has `fib
 * saddr . iif oif missing drop`, which without routes is "might drop" for
 * everyone.
 */
struct xg_ifmap;
int xg_guard_check(const struct xg_ruleset *rs, const struct xg_session *s,
                   const struct xg_ifmap *map, struct xg_guard_verdict *out, struct xg_err *err);

/* Same for a ruleset given as `nft -j list ruleset` JSON (analyzer's parser). */
int xg_guard_check_json(const char *json, const char *name, const struct xg_session *s,
                        const struct xg_ifmap *map, struct xg_guard_verdict *out,
                        struct xg_err *err);

/* One line for the user: "new ssh connections from 192.0.2.10 to port 22 on eth0". */
void xg_session_describe(const struct xg_session *s, char *out, size_t size);

#endif
