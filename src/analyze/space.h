/*
 * space.h — address space algebra for the analyzer.
 *
 * Reachability is computed over sets of source addresses without ever
 * enumerating addresses: every prefix and range that appears in a ruleset
 * cuts the address line of its family at its two ends, and the pieces in
 * between ("atoms") are classes of addresses no rule can tell apart. A set
 * of sources is then a bitset over atoms, and a rule's address match is a
 * short list of atom ranges. Turning a bitset back into text merges adjacent
 * atoms into intervals and splits each interval greedily into the fewest
 * CIDR blocks, which is the minimal prefix list (non-adjacent intervals can
 * never share a prefix).
 *
 * Addresses are 128-bit integers; IPv4 lives in the low 32 bits.
 */
#ifndef XG_ANALYZE_SPACE_H
#define XG_ANALYZE_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

typedef unsigned __int128 xg_u128;

struct xg_interval {
    xg_u128 lo, hi; /* inclusive */
};

/* A sorted, merged list of disjoint intervals of one family. */
struct xg_ivlist {
    struct xg_interval *items;
    size_t count, cap;
};

xg_u128 xg_family_max(uint8_t family);
xg_u128 xg_prefix_lo(const struct xg_prefix *p);
xg_u128 xg_prefix_hi(const struct xg_prefix *p);
void xg_u128_to_addr(xg_u128 v, uint8_t family, struct xg_prefix *out);

int xg_ivlist_add(struct xg_ivlist *l, xg_u128 lo, xg_u128 hi);
/* Sort and merge overlapping or adjacent intervals. */
void xg_ivlist_normalize(struct xg_ivlist *l);
int xg_ivlist_from_prefixes(struct xg_ivlist *l, const struct xg_prefix_list *p, uint8_t family);
/* Minimal CIDR cover of a normalized list; appends to `out`. */
int xg_ivlist_to_prefixes(const struct xg_ivlist *l, uint8_t family, struct xg_prefix_list *out);
/* lo..hi as the fewest prefixes, appended to `out`. */
int xg_range_to_prefixes(xg_u128 lo, xg_u128 hi, uint8_t family, struct xg_prefix_list *out);
/* Set operations on normalized lists; results appended to `out` (normalized). */
int xg_ivlist_intersect(const struct xg_ivlist *a, const struct xg_ivlist *b,
                        struct xg_ivlist *out);
int xg_ivlist_complement(const struct xg_ivlist *a, uint8_t family, struct xg_ivlist *out);
int xg_ivlist_subtract(const struct xg_ivlist *a, const struct xg_ivlist *b, uint8_t family,
                       struct xg_ivlist *out);
void xg_ivlist_free(struct xg_ivlist *l);

/* Atoms of one family: starts[i] .. starts[i+1]-1 (the last ends at the family's max). */
struct xg_atoms {
    uint8_t family;
    xg_u128 *starts;
    size_t count, cap;
};

/* Collect cut points; call xg_atoms_finish() once all are in. */
int xg_atoms_cut(struct xg_atoms *a, xg_u128 lo, xg_u128 hi);
int xg_atoms_finish(struct xg_atoms *a);
/* Index of the atom holding address v. */
size_t xg_atoms_find(const struct xg_atoms *a, xg_u128 v);
/* First and last atom of [lo, hi] (which must be a union of atoms). */
void xg_atoms_span(const struct xg_atoms *a, xg_u128 lo, xg_u128 hi, size_t *first, size_t *last);
xg_u128 xg_atoms_hi(const struct xg_atoms *a, size_t i);
void xg_atoms_free(struct xg_atoms *a);

/* Bitsets over atoms. */
struct xg_bits {
    uint64_t *w;
    size_t nwords;
};

int xg_bits_init(struct xg_bits *b, size_t nbits);
void xg_bits_free(struct xg_bits *b);
static inline void xg_bits_set(struct xg_bits *b, size_t i)
{
    b->w[i / 64] |= (uint64_t)1 << (i % 64);
}
static inline bool xg_bits_get(const struct xg_bits *b, size_t i)
{
    return (b->w[i / 64] >> (i % 64)) & 1;
}
void xg_bits_set_range(struct xg_bits *b, size_t first, size_t last);
bool xg_bits_empty(const struct xg_bits *b);
/* Atoms set in `b` as a minimal CIDR list, appended to `out`. */
int xg_bits_to_prefixes(const struct xg_bits *b, const struct xg_atoms *a,
                        struct xg_prefix_list *out);

/*
 * A partition of atoms 0..n-1 into classes (classes.c), refined one set at
 * a time: after xg_partition_split(p, S), S is a union of classes. Each
 * split costs the size of S or of its complement, whichever is smaller (both
 * cut the same classes), so a ruleset's address matches refine the atoms in
 * time proportional to what they cover, never atoms x rules.
 */
struct xg_partition {
    size_t n, count;            /* atoms, classes */
    size_t *cls;                /* the class of each atom */
    size_t *size;               /* atoms per class */
    size_t *hit, *mark, *fresh; /* scratch per class */
    size_t round;
};

int xg_partition_init(struct xg_partition *p, size_t n);
/* Refine by the union of the atom ranges [first, last] (sorted, disjoint). */
void xg_partition_split(struct xg_partition *p, const size_t (*ranges)[2], size_t nranges);
void xg_partition_free(struct xg_partition *p);
/* The first atom of each class, indexed by class (NULL: out of memory). */
size_t *xg_partition_reps(const struct xg_partition *p);
/* Group n bit vectors of w words: equal vectors get one id (id[i]); *rep[id] is one of them. */
int xg_group_equal(const uint64_t *v, size_t n, size_t w, size_t *id, size_t **rep, size_t *count);

/* Sort a prefix list (xg_prefix_cmp order). */
void xg_prefix_list_sort(struct xg_prefix_list *l);

#endif
