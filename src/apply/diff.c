/*
 * diff.c — apply --diff's two views of a change (see diff.h).
 *
 * The text diff is a longest-common-subsequence over lines, after the common
 * head and tail are cut off (a policy change touches a few lines of a table,
 * so the part left is small); a middle too large for the table (over 16M
 * cells) is shown as all removed and all added, still a correct diff. The
 * reachability diff is the analyzer's (xg_reach_diff): this file only builds
 * the questions, the same ones `xenguard analyze --diff` asks.
 */
#include "apply/diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT   3
#define MAX_CELLS (16u << 20)

struct lines {
    const char **at;
    size_t *len;
    size_t n;
};

static int split(const char *t, struct lines *l)
{
    size_t cap = 1;
    for (const char *p = t; *p; p++)
        cap += *p == '\n';
    l->at = malloc(cap * sizeof(*l->at));
    l->len = malloc(cap * sizeof(*l->len));
    l->n = 0;
    if (!l->at || !l->len)
        return -1;
    while (*t) {
        size_t n = strcspn(t, "\n");
        l->at[l->n] = t;
        l->len[l->n++] = n;
        t += n + (t[n] == '\n');
    }
    return 0;
}

static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
    return a->len[i] == b->len[j] && !memcmp(a->at[i], b->at[j], a->len[i]);
}

/* The edit script: ' ' (both), '-' (a only), '+' (b only), with each op's line. */
struct op {
    char kind;
    size_t ia, ib;
};

/* LCS of a[lo_a..hi_a) and b[lo_b..hi_b) into ops (appended). */
static int middle(const struct lines *a, size_t lo_a, size_t hi_a, const struct lines *b,
                  size_t lo_b, size_t hi_b, struct op *ops, size_t *nops)
{
    size_t n = hi_a - lo_a, m = hi_b - lo_b;
    uint32_t *t = NULL;
    if (n && m && (n + 1) * (m + 1) <= MAX_CELLS)
        t = calloc((n + 1) * (m + 1), sizeof(*t));
    if (t) {
        for (size_t i = n; i-- > 0;)
            for (size_t j = m; j-- > 0;)
                t[i * (m + 1) + j] = same(a, lo_a + i, b, lo_b + j)
                                         ? t[(i + 1) * (m + 1) + j + 1] + 1
                                         : (t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1]
                                                ? t[(i + 1) * (m + 1) + j]
                                                : t[i * (m + 1) + j + 1]);
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (t && i < n && j < m && same(a, lo_a + i, b, lo_b + j)) {
            ops[(*nops)++] = (struct op){' ', lo_a + i++, lo_b + j++};
        } else if (i < n && (j == m || !t || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
            ops[(*nops)++] = (struct op){'-', lo_a + i++, lo_b + j};
        } else {
            ops[(*nops)++] = (struct op){'+', lo_a + i, lo_b + j++};
        }
    }
    free(t);
    return 0;
}

static void print_hunk(const struct op *ops, size_t from, size_t to, const struct lines *a,
                       const struct lines *b, struct xg_buf *out)
{
    size_t na = 0, nb = 0;
    for (size_t k = from; k < to; k++) {
        na += ops[k].kind != '+';
        nb += ops[k].kind != '-';
    }
    xg_buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ops[from].ia + (na ? 1 : 0), na,
                  ops[from].ib + (nb ? 1 : 0), nb);
    for (size_t k = from; k < to; k++) {
        const struct lines *l = ops[k].kind == '+' ? b : a;
        size_t i = ops[k].kind == '+' ? ops[k].ib : ops[k].ia;
        xg_buf_printf(out, "%c%.*s\n", ops[k].kind, (int)l->len[i], l->at[i]);
    }
}

/* Hunks: runs of changes closer than 2*CONTEXT lines, each with CONTEXT lines around. */
static void print_hunks(const struct op *ops, size_t nops, const struct lines *a,
                        const struct lines *b, struct xg_buf *out)
{
    size_t k = 0;
    while (k < nops) {
        while (k < nops && ops[k].kind == ' ')
            k++;
        if (k == nops)
            break;
        size_t from = k > CONTEXT ? k - CONTEXT : 0, last = k;
        for (size_t q = k; q < nops && q <= last + 2 * CONTEXT; q++)
            if (ops[q].kind != ' ')
                last = q;
        size_t to = last + 1 + CONTEXT < nops ? last + 1 + CONTEXT : nops;
        print_hunk(ops, from, to, a, b, out);
        k = last + 1;
    }
}

long xg_text_diff(const char *a, const char *b, const char *name_a, const char *name_b,
                  struct xg_buf *out)
{
    struct lines la = {0}, lb = {0};
    struct op *ops = NULL;
    long changed = -1;
    if (split(a, &la) < 0 || split(b, &lb) < 0)
        goto out;
    size_t head = 0, tail = 0, nops = 0;
    while (head < la.n && head < lb.n && same(&la, head, &lb, head))
        head++;
    while (tail < la.n - head && tail < lb.n - head &&
           same(&la, la.n - 1 - tail, &lb, lb.n - 1 - tail))
        tail++;
    ops = malloc((la.n + lb.n + 1) * sizeof(*ops));
    if (!ops)
        goto out;
    for (size_t i = 0; i < head; i++)
        ops[nops++] = (struct op){' ', i, i};
    middle(&la, head, la.n - tail, &lb, head, lb.n - tail, ops, &nops);
    for (size_t i = 0; i < tail; i++)
        ops[nops++] = (struct op){' ', la.n - tail + i, lb.n - tail + i};
    changed = 0;
    for (size_t k = 0; k < nops; k++)
        changed += ops[k].kind != ' ';
    if (changed) {
        xg_buf_printf(out, "--- %s\n+++ %s\n", name_a, name_b);
        print_hunks(ops, nops, &la, &lb, out);
    }
out:
    free(ops);
    free(la.at);
    free(la.len);
    free(lb.at);
    free(lb.len);
    return changed;
}

int xg_preview_reach(const struct xg_ruleset *old, const struct xg_ruleset *new,
                     struct xg_preview_reach *out, struct xg_err *err)
{
    struct xg_ruleset both = {0};
    struct xg_port_range *ports = NULL;
    struct xg_diff_question *qs = NULL;
    size_t nports = 0, k = 0;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    /* a shallow union, for the interface and port classes of either side */
    both.table_count = old->table_count + new->table_count;
    both.tables = calloc(both.table_count + 1, sizeof(*both.tables));
    if (!both.tables)
        return xg_fail(err, "out of memory");
    if (old->table_count)
        memcpy(both.tables, old->tables, old->table_count * sizeof(*both.tables));
    if (new->table_count)
        memcpy(both.tables + old->table_count, new->tables,
               new->table_count * sizeof(*both.tables));
    if (xg_ifclasses(&both, NULL, &out->ifs, &out->nifs) < 0 ||
        xg_ruleset_port_classes(&both, &ports, &nports) < 0 ||
        xg_diff_questions(out->ifs, out->nifs, ports, nports, XG_HOOK_INPUT, NULL, &qs, &k) < 0) {
        xg_fail(err, "out of memory");
        goto done;
    }
    rc = xg_reach_diff(old, new, qs, k, true, &out->d, err);
done:
    free(qs);
    free(ports);
    free(both.tables);
    return rc;
}

void xg_preview_reach_free(struct xg_preview_reach *p)
{
    xg_reach_diff_free(&p->d);
    free(p->ifs);
    memset(p, 0, sizeof(*p));
}
