/*
 * journal.h — one record per event, where administrators look for it.
 *
 * apply, confirm, rollback (above all the watchdog's automatic one) and
 * tunneld say what they did in the system log with structured fields:
 *
 *   MESSAGE=  one line for people
 *   VERB=     apply, confirm, rollback, tunneld
 *   RESULT=   what came of it (applied, kept, confirmed, rolled-back,
 *             auto-rollback, failed; tunneld: ok, fail, refused, ...)
 *   PEER=     who: the ssh client of the session that ran the verb, or the
 *             tunnel's peer; left out when unknown
 *   RULESET=  which ruleset (a path, or "compiled from FILE")
 *
 * Where it goes: journald's native socket (/run/systemd/journal/socket;
 * no libsystemd needed, the protocol is a datagram of KEY=VALUE lines),
 * else syslog's /dev/log as RFC 5424 with the fields as structured data
 * [xenguard@32473 PEER="..." RESULT="..." RULESET="..."]. XG_SYSLOG_SOCKET
 * names another syslog socket and XG_JOURNAL_SOCKET another journal socket
 * (tests, containers); secure_getenv, so never for a setuid caller.
 * Datagrams are sent without blocking: a log that is down never holds up
 * a rollback.
 */
#ifndef XG_UTIL_JOURNAL_H
#define XG_UTIL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"

/* syslog severities (RFC 5424), the journal's PRIORITY= */
enum xg_journal_priority {
    XG_JOURNAL_ERR = 3,
    XG_JOURNAL_WARNING = 4,
    XG_JOURNAL_NOTICE = 5,
    XG_JOURNAL_INFO = 6,
};

struct xg_journal_rec {
    enum xg_journal_priority priority;
    const char *verb, *message;
    const char *peer, *result, *ruleset; /* NULL or "": left out */
};

/* The native-protocol datagram: KEY=VALUE lines, a value holding a newline in
 * the protocol's binary form (KEY, newline, 64-bit little-endian length, bytes). */
void xg_journal_native(const struct xg_journal_rec *r, struct xg_buf *out);

/* The RFC 5424 line for facility daemon: PARAM-VALUEs escape `"`, `\` and `]`,
 * control bytes become '?' everywhere (one record, one line). */
void xg_journal_rfc5424(const struct xg_journal_rec *r, time_t when, const char *host, long pid,
                        struct xg_buf *out);

/* Send one record (see the top). 0, or -1 with why (no log socket, ...). */
int xg_journal_send(const struct xg_journal_rec *r, struct xg_err *err);

/* For the verbs: PEER is the ssh client of this session (SSH_CONNECTION),
 * the priority follows from RESULT ("failed": error, *rollback*: warning),
 * and a log that cannot be written is ignored, never the operation's failure. */
void xg_journal_op(const char *verb, const char *result, const char *ruleset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The verbs' one-line call: rc < 0 is RESULT=failed, MESSAGE="VERB failed: ERR";
 * else RESULT=result, MESSAGE="VERB RESULT: message" (no ": " for ""). */
void xg_journal_outcome(const char *verb, int rc, const char *result, const char *ruleset,
                        const struct xg_err *err, const char *message);

/* A logfmt line ("PROG: EVENT key=value ...", values bare or quoted with \" \\ \xHH, as
 * tunneld writes them) as a record: MESSAGE the line, PEER its peer= (else addr=),
 * RESULT its result= (else the event). True when journald took it and `fd` is the
 * stream systemd connected to the journal ($JOURNAL_STREAM): writing the line
 * there too would log it twice. */
bool xg_journal_line(const char *verb, int fd, const char *line);

#endif
