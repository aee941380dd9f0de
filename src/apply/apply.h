/*
 * apply.h — load a ruleset so that a mistake cannot lock anyone out.
 *
 * The sequence (xg_apply):
 *   1. lock the state dir; refuse if an earlier apply is still unconfirmed;
 *   2. save the running `table inet xenguard` and `table bridge xenguard`
 *      (previous.json, previous.nft; empty when there is none);
 *   3. record the pending apply (pending: token, deadline) and start the
 *      rollback watchdog BEFORE touching the kernel, so there is no moment
 *      where the new ruleset runs without a way back;
 *   4. load the new ruleset in one transaction (replacing only our table);
 *   5. return; `xenguard confirm` within the timeout keeps it, anything else
 *      (timeout, session gone, terminal closed) restores previous.json.
 * The watchdog is `xenguard rollback --if-pending TOKEN` run after the
 * timeout, either as a systemd timer (systemd-run --on-active, when systemd
 * is PID 1 and we are in its network namespace) or as a detached process:
 * double fork, setsid (own session and process group), SIGHUP ignored,
 * stdio on /dev/null, re-exec of our own binary. Never a child of the
 * caller's session, so killing the session's process group or hanging up
 * its terminal does not stop it.
 *
 * Files in the state dir (default /var/lib/xenguard, 0700):
 *   lock           flock(2) serialising apply / confirm / rollback
 *   previous.json  the table before the last apply (nft -j listing)
 *   applied.nft    the text of the last apply
 *   pending        "token pid deadline via" while unconfirmed
 *   confirmed.json the table as last confirmed: what the boot unit loads
 *   rollback.log   one line per automatic rollback
 * With the iptables backend, previous / confirmed are .ipt4 + .ipt6
 * (iptables-save / ip6tables-save output) + .bridge (the guests' table,
 * nft under either backend) instead of .json + .nft. The .nft snapshot of
 * the nft backend holds table inet xenguard and table bridge xenguard.
 */
#ifndef XG_APPLY_APPLY_H
#define XG_APPLY_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/err.h"

#define XG_DEFAULT_STATE_DIR "/var/lib/xenguard"
#define XG_DEFAULT_TIMEOUT   30

enum xg_rollback_via {
    XG_VIA_AUTO,    /* systemd timer when possible, else a detached process */
    XG_VIA_PROCESS, /* detached process (double fork + setsid) */
    XG_VIA_SYSTEMD, /* systemd-run --on-active= timer */
};

enum xg_backend_kind {
    XG_BACKEND_NFT,      /* table inet xenguard through libnftables */
    XG_BACKEND_IPTABLES, /* XENGUARD-* chains through iptables-restore (see ipt.h) */
};

struct xg_apply_opts {
    const char *state_dir;
    const char *name; /* the ruleset's name in messages ("compiled policy", a path) */
    enum xg_backend_kind backend;
    const char *nft_text;     /* nft: commands replacing table inet xenguard */
    const char *applied_text; /* what applied.nft records; NULL: nft_text */
    /* iptables: --noflush input per family ([0] IPv4, [1] IPv6), with and
     * without the jumps from the built-in chains (used when already hooked) */
    const char *ipt_text[2], *ipt_text_nohook[2];
    /* iptables: nft commands replacing (or removing) table bridge xenguard, loaded first;
     * NULL or "": none */
    const char *bridge_text;
    unsigned timeout; /* seconds until rollback; 0: keep at once (no watchdog) */
    enum xg_rollback_via via;
};

struct xg_pending {
    char token[33];
    long pid;        /* watchdog process (0 for a systemd timer) */
    time_t deadline; /* when the watchdog rolls back */
    char via[16];    /* "process" or "systemd" */
};

/* Steps 1-5 above. On success *pending describes the watchdog (token empty
 * when timeout is 0). On failure nothing in the kernel changed. */
int xg_apply(const struct xg_apply_opts *o, struct xg_pending *pending, struct xg_err *err);

/* Keep the pending apply: stop the watchdog, save confirmed.json.
 * Returns 1 (not an error) when there is nothing to confirm. */
int xg_confirm(const char *state_dir, struct xg_err *err);

/* Restore previous.json now. With `token`, only if that apply is still
 * pending (the watchdog's call): returns 1 when there was nothing to do. */
int xg_rollback(const char *state_dir, const char *token, struct xg_err *err);

/* The pending apply, if any: returns 1 and fills *p, or 0 when none. */
int xg_pending_read(const char *state_dir, struct xg_pending *p, struct xg_err *err);

/* Load confirmed.json (the boot unit's job); 1 when there is none. */
int xg_apply_boot(const char *state_dir, struct xg_err *err);

/* Which mechanism auto picks on this host. */
enum xg_rollback_via xg_rollback_via_auto(void);
const char *xg_rollback_via_name(enum xg_rollback_via via);

#endif
