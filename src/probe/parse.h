/*
 * parse.h — the text parsers behind the probes, pure functions over bytes.
 *
 * Each format a probe reads has one parser here, with no file access of its
 * own (includes are resolved through a callback), so the unit tests and the
 * fuzz targets drive exactly the code the audit runs. Every parser either
 * fills its output completely or fails with "PATH:LINE:COL: message".
 */
#ifndef XG_PROBE_PARSE_H
#define XG_PROBE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/host.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- S-expressions (xend-config.sxp) ---- */

struct xg_sxp {
    bool is_list;
    char *atom; /* for atoms: the text, quotes removed */
    struct xg_sxp *items;
    size_t count;
    unsigned line, col;
};

/* Parse a sequence of expressions into `out` (a list holding them all). */
int xg_sxp_parse(const char *text, size_t len, const char *path, struct xg_sxp *out,
                 struct xg_err *err);
/* Canonical text: atoms quoted when needed, lists as "(a b (c))", one top item per line. */
void xg_sxp_print(const struct xg_sxp *top, struct xg_buf *out);
void xg_sxp_free(struct xg_sxp *s);

/*
 * xend-config.sxp semantics: each top-level (key value) pair, first value
 * wins; (xen-api-server ((PORT AUTH) ...)) becomes "PORT AUTH" strings.
 */
int xg_xend_config_parse(const char *text, size_t len, const char *path, struct xg_kvlist *out,
                         char ***api_servers, size_t *api_server_count, struct xg_err *err);

/* ---- sshd_config ---- */

/* Called for "Include PATTERN" (pattern as written); parses the matches into `out`. */
typedef int (*xg_sshd_include_fn)(void *ctx, const char *pattern, struct xg_kvlist *out,
                                  unsigned depth, struct xg_err *err);

/*
 * Global settings of sshd_config, keys lower-cased, in file order (so the
 * first entry of a key is sshd's effective value). Lines inside Match blocks
 * do not apply globally and are skipped; Include is resolved in place
 * through `inc` (may be NULL: then Include lines are ignored).
 */
int xg_sshd_parse(const char *text, size_t len, const char *path, struct xg_kvlist *out,
                  xg_sshd_include_fn inc, void *ctx, unsigned depth, struct xg_err *err);

/* ---- xl configuration (xl.conf, domain .cfg) ---- */

int xg_xlcfg_parse(const char *text, size_t len, const char *path, struct xg_xlcfg *out,
                   struct xg_err *err);

/*
 * One "k=v,k=v" item of a list option (vfb, spice...): the value of `key`,
 * copied into out (""), or false when absent.
 */
bool xg_xlcfg_spec_get(const char *spec, const char *key, char *out, size_t out_size);

/* ---- accounts ---- */

int xg_passwd_parse(const char *text, size_t len, const char *path, struct xg_account **out,
                    size_t *count, struct xg_err *err);
/* Sets pw of the accounts named in shadow. */
int xg_shadow_apply(const char *text, size_t len, const char *path, struct xg_account *accounts,
                    size_t count, struct xg_err *err);
int xg_group_parse(const char *text, size_t len, const char *path, struct xg_group **out,
                   size_t *count, struct xg_err *err);
/* User specifications of a sudoers file; include directories go to *incdirs. */
int xg_sudoers_parse(const char *text, size_t len, const char *path, struct xg_sudo_rule **rules,
                     size_t *count, char ***incdirs, size_t *incdir_count, struct xg_err *err);

/* ---- simple KEY=VALUE files (shell style /etc/default files, xapi.conf) ---- */

int xg_keyval_parse(const char *text, size_t len, const char *path, struct xg_kvlist *out,
                    struct xg_err *err);

/* ---- /proc/net/{tcp,tcp6,udp,udp6}: listening TCP, bound UDP sockets ---- */

int xg_procnet_parse(const char *text, size_t len, const char *path, uint8_t family, uint8_t proto,
                     struct xg_socket **sockets, size_t *count, struct xg_err *err);

/* ---- `ip -j addr` ---- */

int xg_ipaddr_parse(const char *text, size_t len, const char *path, struct xg_iface **out,
                    size_t *count, struct xg_err *err);

/* ---- `xl list -l` JSON ---- */

int xg_xllist_parse(const char *text, size_t len, const char *path, struct xg_domain **out,
                    size_t *count, struct xg_err *err);

/* ---- systemd socket units ---- */

/*
 * Does this .socket unit listen on proto/port (ListenStream= for TCP,
 * ListenDatagram= for UDP: "111", "0.0.0.0:111", "[::]:111")? Then `service`
 * receives the unit it activates: Service=, else NAME.service, or
 * NAME@.service with Accept=yes.
 */
bool xg_socket_unit_matches(const char *text, const char *name, uint8_t proto, uint16_t port,
                            char *service, size_t service_size);

/* ---- IPV6_V6ONLY from `ss -H -l -n -e` ---- */

/*
 * Sets v6only of each IPv6 socket whose inode an ss line names ("ino:N ...
 * v6only:0|1"); lines without both fields are skipped. *matched counts the
 * sockets set. -1 only when out of memory.
 */
int xg_ss_v6only_apply(const char *text, size_t len, struct xg_socket *sockets, size_t count,
                       size_t *matched);

/* ---- versions ---- */

/* "4.17.3", "7.4p1" -> 4 17, 7 4; -1 when it does not start with N.N */
int xg_version_parse(const char *s, int *major, int *minor);
/* "OpenSSH_9.2p1 Debian-2..." anywhere in text -> "9.2p1" (malloc'd), or NULL. */
char *xg_openssh_banner(const char *text);
/* Version of an installed PACKAGE in a dpkg status file, epoch dropped (malloc'd), or NULL. */
char *xg_dpkg_version(const char *text, size_t len, const char *package);

/* ---- passwd, shadow, group: a password field's state ---- */

/*
 * "" empty; "x" / "*x" unknown in passwd (the hash is in shadow); "!..." or
 * "*..." locked; anything else usable (a hash, or a capture's "<usable>").
 */
enum xg_pw_state xg_pw_classify(const char *field, bool passwd);

/* ---- XAPI's state.db ---- */

/*
 * Parse the database as XML and add the attributes of this host's row of
 * <table name="host"> to out as "db:FIELD" (file `path`, the row's line).
 * This host is the row whose uuid is `uuid`; without a uuid, the only host
 * row of a pool of one. *hosts counts the host rows. When no row is this
 * host's, out is unchanged and `problem` says why. Fails (file:line) only
 * when the text is not a XAPI database.
 */
int xg_xapi_db_parse(const char *text, size_t len, const char *path, const char *uuid,
                     struct xg_kvlist *out, size_t *hosts, char *problem, size_t problem_size,
                     struct xg_err *err);

#endif
