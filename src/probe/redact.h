/*
 * redact.h — what `xenguard capture` writes instead of a secret.
 *
 * A capture is shipped to auditors and attached to tickets, so it holds no
 * secret; yet `xenguard audit --root CAPTURE` must give the verdicts the
 * original gives. Each transform here keeps exactly what a check reads
 * (a password's state, whether a console password is set, the host rows'
 * uuid and https_only) and replaces the rest with a marker the readers in
 * parse.h judge the same way. Pure functions over bytes: text in, text out
 * (always NUL-terminated), with the number of values replaced.
 */
#ifndef XG_PROBE_REDACT_H
#define XG_PROBE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/* A usable password (a hash) in a capture; a locked one is "!<locked>" / "*<locked>". */
#define XG_REDACT_USABLE "<usable>"
#define XG_REDACT_LOCKED "<locked>"
/* A secret that is set (a console password): the value the checks see as non-empty. */
#define XG_REDACT_SET "<set>"

/*
 * A password field as its state: "" stays "", "x" / "*x" stay (passwd,
 * group), a lock made only of '!' and '*' stays, a lock in front of a hash
 * becomes its first character and "<locked>", anything else "<usable>".
 * xg_pw_classify() gives the result the state it gave the field. Writes into
 * buf (at least 16 bytes); returns true when the field changed.
 */
bool xg_redact_pw_field(const char *field, bool passwd, char *buf, size_t size);

/*
 * passwd / shadow / group / gshadow: the second field of every line as its
 * state (xg_redact_pw_field; passwd: "x" means "see shadow"). Lines keep
 * their number and every other field; a comment becomes a bare "#", a line
 * without ':' (which the reader refuses) a line without ':' that holds
 * nothing of it. *count: the values replaced. -1 when out of memory.
 */
int xg_redact_colon(const char *text, size_t len, bool passwd, struct xg_buf *out, size_t *count);

/*
 * xl domain configurations and xl.conf (the xl/xm `key = value` language):
 * the value of every key whose name holds "passw" (vncpasswd, spicepasswd)
 * becomes "<set>" (or stays empty), as does every `k=v` / `k=v,...` item
 * of a string whose k holds "passw" (vfb = [ 'vncpasswd=...' ], extra =
 * "... password=..."); a comment that mentions a password is dropped.
 * Everything else is copied byte for byte, also where it does not parse.
 */
int xg_redact_xlcfg(const char *text, size_t len, struct xg_buf *out, size_t *count);

/*
 * xend-config.sxp: every atom and string of a (KEY ...) list whose KEY
 * holds "passw" ((vncpasswd 'x') -> (vncpasswd '<set>'), '' stays ''), and
 * comments that mention a password. Everything else byte for byte.
 */
int xg_redact_sxp(const char *text, size_t len, struct xg_buf *out, size_t *count);

/*
 * JSON (`xl list -l`): every string member whose name holds "passw" (the
 * vnc and spice "passwd" of each domain). Text that is not JSON becomes a
 * line saying so (the reader refuses both). -1 when out of memory.
 */
int xg_redact_json(const char *text, size_t len, struct xg_buf *out, size_t *count);

/*
 * A private key, by content (a PEM "PRIVATE KEY-----" block, an OpenSSH or
 * PuTTY key) or by name (*.key, *_key, *.p12, *.pfx): never copied.
 */
bool xg_redact_is_private_key(const char *name, const char *text, size_t len);

/*
 * XAPI's state.db reduced to what the checks read: each <table name="host">
 * with one <row> per host holding only uuid and https_only (a row left
 * with no field keeps a `redacted` attribute, so an empty row stays the
 * only empty one); every other table, the manifest and every other field
 * (session ids, passwords, pool secrets) are dropped. *dropped counts the
 * tables and fields left out. Fails (err: file:line, like the reader) when
 * the text is not a XAPI database.
 */
int xg_xapi_db_reduce(const char *text, size_t len, const char *path, struct xg_buf *out,
                      size_t *dropped, struct xg_err *err);

#endif
