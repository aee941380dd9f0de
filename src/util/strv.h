/*
 * strv.h — a growing array of strings (char **v, size_t n): evidence and fix
 * lines, warnings, notes, directory names. The one append.
 */
#ifndef XG_UTIL_STRV_H
#define XG_UTIL_STRV_H

#include <stddef.h>

/* Append a copy of s to *v (*n elements): 0, or -1 when memory runs out (the
 * array is left as it was). */
int xg_strv_add(char ***v, size_t *n, const char *s);

#endif
