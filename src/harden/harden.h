/*
 * harden.h — the configuration the "Securing Xen" chapter asks for, as text.
 *
 * Each generator is a pure function: the current file's text (if any) and
 * the policy in, the wanted text out. The verb (src/cmd/harden.c) shows the
 * difference and, with --write, replaces the file atomically with a backup.
 * Running a generator on its own output gives the same text again, which is
 * what makes `harden --write` idempotent.
 *
 *   xend    xend-config.sxp edited in place: comments and unrelated lines
 *           kept, our keys replaced where they are (or added after their
 *           commented-out default): relocation server on only for transport
 *           xend, bound to the management address, hosts-allow as anchored
 *           regexes with doubled backslashes, the HTTP / TCP XML-RPC / Xen-API
 *           TCP listeners and the SSL relocation server off (the unix sockets
 *           that `xm` uses stay).
 *   sshd    a drop-in for sshd_config.d/ named to sort first (00-xenguard.conf),
 *           because sshd keeps the first value it reads and cloud images ship
 *           their own (50-cloud-init.conf): ListenAddress on the management
 *           address, keys only, root only with a key, AllowUsers = admins.
 *           The main sshd_config gets an Include of the drop-ins at its top
 *           when it has none, and xg_harden_sshd_verify() reads what sshd
 *           ends up with (the audit's parser on a root, `sshd -T` live).
 *   sysctl  reverse-path filtering on; source routing and redirects off.
 */
#ifndef XG_HARDEN_HARDEN_H
#define XG_HARDEN_HARDEN_H

#include "model/host.h"
#include "net/addr.h"
#include "policy/policy.h"
#include "util/buf.h"
#include "util/err.h"

/* The local address to bind management services to: `ifname`'s first IPv4
 * address, else its first global IPv6 address (getifaddrs, read-only). */
int xg_iface_address(const char *ifname, struct xg_prefix *out, struct xg_err *err);

/* hosts-allow value for the peers: "^192\\.0\\.2\\.11$ ^192\\.0\\.2\\.12$" as it
 * is written in the file (backslashes doubled). Prefixes are written as octet
 * wildcards when byte-aligned, expanded when up to 256 addresses, refused
 * otherwise. */
int xg_xend_hosts_allow(const struct xg_prefix_list *peers, char **out, struct xg_err *err);

int xg_harden_xend(const char *old, const struct xg_policy *p, const struct xg_prefix *address,
                   char **out, struct xg_err *err);
/* The drop-in's first line starts so: how a drop-in of ours is told from an admin's. */
#define XG_HARDEN_SSHD_HEADER "# Written by 'xenguard harden sshd'"

int xg_harden_sshd(const struct xg_policy *p, const struct xg_prefix *address, char **out,
                   struct xg_err *err);
/* The main sshd_config as it must be for the drop-in `dropin` (an absolute path,
 * /etc/ssh/sshd_config.d/00-xenguard.conf) to be read: unchanged when a global
 * Include covers it, else with an Include of every sshd_config.d *.conf file put
 * first. Settings above an existing Include are the verification's business. */
int xg_harden_sshd_main(const char *old, const char *dropin, char **out, struct xg_err *err);

/* Does sshd's effective configuration `eff` (keys lower-case in the order sshd
 * reads them: xg_sshd_parse() over a root, or `sshd -T` lines) carry what the
 * drop-in sets? 0 yes; -1 with one line per difference appended to `why`,
 * naming the file and line that wins (or adds a value) and what to do. */
int xg_harden_sshd_verify(const struct xg_kvlist *eff, const struct xg_policy *p,
                          const struct xg_prefix *address, const char *dropin, struct xg_buf *why);

/* Policy-independent; the same text as systemd/99-xenguard.conf. */
const char *xg_harden_sysctl(void);

#endif
