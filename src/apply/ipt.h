/*
 * ipt.h — apply on hosts whose netfilter is driven by legacy iptables.
 *
 * Kept simple: the compiled text goes to `iptables-restore --noflush` /
 * `ip6tables-restore --noflush` (xenguard's XENGUARD-* chains are flushed
 * and refilled, the jump from the built-in chain is added only if it is not
 * there yet). Saving is `iptables-save`. Restoring a saved state merges: the
 * CURRENT save with every XENGUARD-* chain and every jump to one removed,
 * plus the SAVED state's XENGUARD-* chains and jumps (first in their built-in
 * chain, where xenguard inserts them), restored per table. Other software's
 * rules are taken from the current save, so what Docker or the vif scripts
 * added in the meantime stays.
 *
 * Atomicity is iptables': per table and per family (raw, then filter; IPv4,
 * then IPv6), not one transaction like nftables. The commands run through
 * the process runner (util/proc.h): `iptables-restore` etc. as found in
 * /usr/sbin:/usr/bin:/sbin:/bin (the alternatives system's choice: the
 * legacy ones on a legacy host), never the caller's PATH, each with a
 * timeout. A restore waits for the xtables lock (`--wait=10`, as Docker or
 * kube-proxy hold it for moments) and is tried up to three times.
 */
#ifndef XG_APPLY_IPT_H
#define XG_APPLY_IPT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* Does `iptables -V` report the legacy (x_tables) variant? */
bool xg_ipt_legacy_in_use(void);

/* iptables-save / ip6tables-save output (malloc'd). */
int xg_ipt_save(uint8_t family, char **out, struct xg_err *err);

/* Feed `text` to (ip6)iptables-restore, with --noflush or not. `name` is for messages. */
int xg_ipt_restore(uint8_t family, const char *text, bool noflush, const char *name,
                   struct xg_err *err);

/* Is some built-in chain already jumping to a XENGUARD-* chain? */
bool xg_ipt_hooked(const char *save_text);

/* The host firewall's chains are XENGUARD-* but not XENGUARD-PERIMETER-*, the router's
 * (`apply --perimeter`); the _in variants take which: per = true for the perimeter's. */
bool xg_ipt_hooked_in(bool per, const char *save_text);
int xg_ipt_merge_in(bool per, const char *current, const char *saved, char **out,
                    struct xg_err *err);

/* Restore input: `current` without xenguard's chains and jumps, plus those of
 * `saved` (NULL or "" for none). Tables with nothing of xenguard in either
 * are left out (not touched). */
int xg_ipt_merge(const char *current, const char *saved, char **out, struct xg_err *err);

/* What the save would be after apply loads the compiled text (apply --diff): not hooked yet,
 * xg_ipt_merge(current, hooked) (the jumps first, as apply inserts them); hooked already,
 * `current` with our chains' declarations and rules replaced by `nohook`'s, the jumps where
 * they are (--noflush keeps them), and tables the host lacks from `hooked`. */
int xg_ipt_preview(const char *current, const char *hooked, const char *nohook, char **out,
                   struct xg_err *err);

/* Only xenguard's lines of a save (declarations, rules, jumps), for comparing. */
int xg_ipt_ours(const char *save_text, char **out, struct xg_err *err);

#endif
