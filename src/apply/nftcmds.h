/*
 * nftcmds.h — which nft commands a ruleset file given to `apply --ruleset`
 * may contain.
 *
 * The file is loaded by root into the host's kernel, replacing our table.
 * Loading it into an empty scratch namespace first (nft.h) shows what it
 * creates, but not what it destroys: `flush ruleset` or `delete table ip
 * nat` do nothing to an empty namespace and everything to the host. So the
 * text itself is checked, statement by statement, before anything runs:
 *
 *   - every top-level command names table inet xenguard or bridge xenguard:
 *     `[add|create|insert|replace|delete|destroy|flush|reset] OBJECT FAMILY
 *     xenguard ...`, OBJECT one of table chain rule set map element
 *     flowtable counter quota limit secmark synproxy (or `ct helper|timeout|
 *     expectation`), FAMILY literally inet or bridge; the verb may be left
 *     out (`table inet xenguard { ... }`);
 *   - `define`, `redefine`, `undefine` are allowed (they touch no table);
 *   - `include` is refused anywhere (it would load unchecked text);
 *   - anything else (`flush ruleset`, `list`, `monitor`, a table given by a
 *     variable or in quotes) is refused.
 * What is inside a table's braces belongs to that table and is left to nft.
 */
#ifndef XG_APPLY_NFTCMDS_H
#define XG_APPLY_NFTCMDS_H

#include <stddef.h>

#include "util/err.h"

/* 0 when every command in text[0..len) is allowed; else -1 and err
 * "NAME:LINE:COL: ..." naming the first refused command. */
int xg_nft_check_commands(const char *text, size_t len, const char *name, struct xg_err *err);

#endif
