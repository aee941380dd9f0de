/*
 * iptables.h — the iptables-save parser's shared parts, internal to
 * src/analyze/: iptables.c reads lines, tables, chains and rules;
 * iptables_match.c the values, match modules and targets of one rule.
 */
#ifndef XG_ANALYZE_IPTABLES_H
#define XG_ANALYZE_IPTABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "ir/iptsave.h"

struct ctx {
    const char *path;
    unsigned lineno;
    uint8_t family;
    struct xg_ruleset *rs;
    struct xg_table *table;
    struct xg_err *err;
};

struct rule_state {
    struct ctx *c;
    struct xg_ipt_line *l;
    size_t i;          /* next word */
    struct xg_rule *r; /* being filled */
    bool neg;          /* a pending "!" */
    int proto;         /* -p value, -1 none */
};

int ipt_parse_proto(const char *text, int *out);
const char *ipt_arg(struct rule_state *st, const char *opt, unsigned col);
const char *ipt_arg_neg(struct rule_state *st, const char *opt, unsigned col);
int ipt_add_unknown(struct rule_state *st, const char *text);
int ipt_add_addr(struct rule_state *st, enum xg_match_kind kind, const char *val, const char *opt);
int ipt_add_ifname(struct rule_state *st, enum xg_match_kind kind, const char *val);
int ipt_parse_module(struct rule_state *st, const char *mod, unsigned col);
int ipt_parse_target(struct rule_state *st, const char *target, bool is_goto);

#endif
