/*
 * classes.c — the interface and port classes of a ruleset: every name and
 * port boundary its rules can tell apart, so per-interface and per-port
 * answers need one question per class instead of one per value; and
 * partitions of address atoms refined by sets (for the service matrix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/matrix.h"
#include "analyze/path.h"
#include "analyze/space.h"

/* --- interface and port classes --- */

static bool has_name(char **names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int xg_ruleset_ifnames(const struct xg_ruleset *rs, char ***names, size_t *count)
{
    char **v = NULL;
    size_t n = 0;
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t m = 0; m < ch->rules[r].match_count; m++) {
                    const struct xg_match *mm = &ch->rules[r].matches[m];
                    char name[XG_IFNAMSIZ];
                    size_t len;
                    if (mm->kind != XG_MATCH_IIFNAME || !mm->u.ifname[0])
                        continue;
                    snprintf(name, sizeof(name), "%s", mm->u.ifname);
                    len = strlen(name);
                    if (name[len - 1] == '*')
                        name[len - 1] = '+';
                    if (has_name(v, n, name))
                        continue;
                    char **g = realloc(v, (n + 1) * sizeof(*g));
                    if (!g || !(g[n] = strdup(name))) {
                        if (g)
                            v = g;
                        for (size_t i = 0; i < n; i++)
                            free(v[i]);
                        free(v);
                        return -1;
                    }
                    v = g;
                    n++;
                }
        }
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    *names = v;
    *count = n;
    return 0;
}

static bool any_pattern_matches(const struct xg_ruleset *rs, const char *name)
{
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t m = 0; m < ch->rules[r].match_count; m++) {
                    const struct xg_match *mm = &ch->rules[r].matches[m];
                    if ((mm->kind == XG_MATCH_IIFNAME) && xg_ifname_matches(mm->u.ifname, name))
                        return true;
                }
        }
    return false;
}

void xg_ruleset_other_ifname(const struct xg_ruleset *rs, char out[XG_IFNAMSIZ])
{
    static const char *const tries[] = {"xg-other", "~other", "0other", "Zother"};
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        if (!any_pattern_matches(rs, tries[i])) {
            snprintf(out, XG_IFNAMSIZ, "%s", tries[i]);
            return;
        }
    }
    snprintf(out, XG_IFNAMSIZ, "%s", tries[0]);
}

void xg_ifclass_representative(const struct xg_ruleset *rs, const char *cls, char out[XG_IFNAMSIZ])
{
    size_t len = strlen(cls);
    (void)rs;
    if (!len || cls[len - 1] != '+') {
        snprintf(out, XG_IFNAMSIZ, "%s", cls);
        return;
    }
    /* the stem followed by a character no exact name in practice uses next */
    snprintf(out, XG_IFNAMSIZ, "%.*s~", (int)(len - 1), cls);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int xg_ruleset_port_classes(const struct xg_ruleset *rs, struct xg_port_range **out, size_t *count)
{
    uint32_t *cuts = NULL;
    size_t n = 0, cap = 0;
    struct xg_port_range *v;

#define PUSH(x)                                                                                    \
    do {                                                                                           \
        if (n == cap) {                                                                            \
            cap = cap ? cap * 2 : 64;                                                              \
            uint32_t *g_ = realloc(cuts, cap * sizeof(*g_));                                       \
            if (!g_) {                                                                             \
                free(cuts);                                                                        \
                return -1;                                                                         \
            }                                                                                      \
            cuts = g_;                                                                             \
        }                                                                                          \
        cuts[n++] = (x);                                                                           \
    } while (0)

    PUSH(0);
    for (size_t t = 0; t < rs->table_count; t++)
        for (size_t c = 0; c < rs->tables[t]->chain_count; c++) {
            const struct xg_chain *ch = rs->tables[t]->chains[c];
            for (size_t r = 0; r < ch->rule_count; r++)
                for (size_t m = 0; m < ch->rules[r].match_count; m++) {
                    const struct xg_match *mm = &ch->rules[r].matches[m];
                    if (mm->kind != XG_MATCH_DPORT)
                        continue;
                    for (size_t k = 0; k < mm->u.ports.count; k++) {
                        PUSH(mm->u.ports.ranges[k].lo);
                        PUSH((uint32_t)mm->u.ports.ranges[k].hi + 1);
                    }
                }
        }
#undef PUSH
    qsort(cuts, n, sizeof(*cuts), cmp_u32);
    v = calloc(n, sizeof(*v));
    if (!v) {
        free(cuts);
        return -1;
    }
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (cuts[i] > 65535 || (i && cuts[i] == cuts[i - 1]))
            continue;
        uint32_t next = 65536;
        for (size_t j = i + 1; j < n; j++)
            if (cuts[j] != cuts[i]) {
                next = cuts[j];
                break;
            }
        v[*count].lo = (uint16_t)cuts[i];
        v[*count].hi = (uint16_t)((next > 65536 ? 65536 : next) - 1);
        (*count)++;
    }
    free(cuts);
    *out = v;
    return 0;
}

int xg_ifclasses(const struct xg_ruleset *rs, const char *only, struct xg_ifclass **out,
                 size_t *count)
{
    char **names = NULL;
    size_t n = 0;
    struct xg_ifclass *v;
    if (only) {
        *out = calloc(1, sizeof(**out));
        if (!*out)
            return -1;
        snprintf((*out)[0].label, sizeof((*out)[0].label), "%s", only);
        snprintf((*out)[0].rep, sizeof((*out)[0].rep), "%s", only);
        (*out)[0].kind = "name";
        *count = 1;
        return 0;
    }
    if (xg_ruleset_ifnames(rs, &names, &n) < 0)
        return -1;
    v = calloc(n + 1, sizeof(*v));
    if (!v) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(v[i].label, sizeof(v[i].label), "%s", names[i]);
        xg_ifclass_representative(rs, names[i], v[i].rep);
        v[i].kind = names[i][strlen(names[i]) - 1] == '+' ? "wildcard" : "name";
        free(names[i]);
    }
    free(names);
    snprintf(v[n].label, sizeof(v[n].label), "*");
    xg_ruleset_other_ifname(rs, v[n].rep);
    v[n].kind = "other";
    *out = v;
    *count = n + 1;
    return 0;
}

/* --- partitions of atoms (space.h) --- */

int xg_partition_init(struct xg_partition *p, size_t n)
{
    size_t m = n ? n : 1;
    memset(p, 0, sizeof(*p));
    p->n = n;
    p->count = n ? 1 : 0;
    p->cls = calloc(m, sizeof(*p->cls));
    p->size = calloc(m, sizeof(*p->size));
    p->hit = calloc(m, sizeof(*p->hit));
    p->mark = calloc(m, sizeof(*p->mark));
    p->fresh = calloc(m, sizeof(*p->fresh));
    if (!p->cls || !p->size || !p->hit || !p->mark || !p->fresh) {
        xg_partition_free(p);
        return -1;
    }
    p->size[0] = n;
    return 0;
}

void xg_partition_free(struct xg_partition *p)
{
    free(p->cls);
    free(p->size);
    free(p->hit);
    free(p->mark);
    free(p->fresh);
    memset(p, 0, sizeof(*p));
}

/* Pass 1 counts the atoms of each class inside the set (mark = 2*round);
 * pass 2 moves them to a new class unless the whole class is inside
 * (mark = 2*round+1 once decided; fresh = SIZE_MAX: no split). */
static void split_pass(struct xg_partition *p, size_t first, size_t last, bool move)
{
    for (size_t a = first; a <= last; a++) {
        size_t c = p->cls[a];
        if (!move) {
            if (p->mark[c] != 2 * p->round) {
                p->mark[c] = 2 * p->round;
                p->hit[c] = 0;
            }
            p->hit[c]++;
            continue;
        }
        if (p->mark[c] != 2 * p->round + 1) {
            p->mark[c] = 2 * p->round + 1;
            if (p->hit[c] == p->size[c]) {
                p->fresh[c] = SIZE_MAX;
            } else {
                p->fresh[c] = p->count;
                p->size[p->count++] = 0;
            }
        }
        if (p->fresh[c] == SIZE_MAX)
            continue;
        p->cls[a] = p->fresh[c];
        p->size[c]--;
        p->size[p->fresh[c]]++;
    }
}

void xg_partition_split(struct xg_partition *p, const size_t (*ranges)[2], size_t nranges)
{
    size_t covered = 0;
    bool comp;
    if (!p->n || !nranges)
        return;
    for (size_t i = 0; i < nranges; i++)
        covered += ranges[i][1] - ranges[i][0] + 1;
    if (covered == p->n)
        return;
    comp = covered * 2 > p->n; /* walk the complement: the same cut, less work */
    for (int move = 0; move < 2; move++) {
        if (!move)
            p->round++;
        size_t next = 0;
        for (size_t i = 0; i < nranges; i++) {
            if (!comp)
                split_pass(p, ranges[i][0], ranges[i][1], move);
            else if (ranges[i][0] > next)
                split_pass(p, next, ranges[i][0] - 1, move);
            next = ranges[i][1] + 1;
        }
        if (comp && next < p->n)
            split_pass(p, next, p->n - 1, move);
    }
}

/* The first atom of each class, in class order. */
size_t *xg_partition_reps(const struct xg_partition *p)
{
    size_t *rep = malloc((p->count ? p->count : 1) * sizeof(*rep));
    bool *have = calloc(p->count ? p->count : 1, sizeof(*have));
    if (!rep || !have) {
        free(rep);
        free(have);
        return NULL;
    }
    for (size_t a = 0; a < p->n; a++)
        if (!have[p->cls[a]]) {
            have[p->cls[a]] = true;
            rep[p->cls[a]] = a;
        }
    free(have);
    return rep;
}

struct vecs {
    const uint64_t *v;
    size_t w;
};

static int cmp_vec(const void *a, const void *b, void *ctx)
{
    const struct vecs *vs = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = memcmp(vs->v + x * vs->w, vs->v + y * vs->w, vs->w * sizeof(uint64_t));
    return c ? c : (x > y) - (x < y);
}

/* id[i] for n vectors of w words: equal vectors share an id; *rep[id] = a member. */
int xg_group_equal(const uint64_t *v, size_t n, size_t w, size_t *id, size_t **rep, size_t *count)
{
    struct vecs vs = {v, w};
    size_t *ord = malloc((n ? n : 1) * sizeof(*ord));
    size_t *r = malloc((n ? n : 1) * sizeof(*r));
    if (!ord || !r) {
        free(ord);
        free(r);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    qsort_r(ord, n, sizeof(*ord), cmp_vec, &vs);
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!i || memcmp(v + ord[i] * w, v + ord[i - 1] * w, w * sizeof(uint64_t)))
            r[(*count)++] = ord[i];
        id[ord[i]] = *count - 1;
    }
    free(ord);
    *rep = r;
    return 0;
}

/* --- the service matrix's class names (matrix.h) --- */

void xg_class_name(size_t i, char out[8])
{
    char tmp[8];
    size_t n = 0;
    i++;
    while (i && n < 7) {
        tmp[n++] = (char)('A' + (i - 1) % 26);
        i = (i - 1) / 26;
    }
    for (size_t k = 0; k < n; k++)
        out[k] = tmp[n - 1 - k];
    out[n] = '\0';
}
