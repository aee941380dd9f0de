/*
 * strv.c — the one append to a growing array of strings (see strv.h).
 */
#include "util/strv.h"

#include <stdlib.h>
#include <string.h>

int xg_strv_add(char ***v, size_t *n, const char *s)
{
    char *copy = strdup(s);
    char **grown = copy ? realloc(*v, (*n + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        free(copy);
        return -1;
    }
    grown[(*n)++] = copy;
    *v = grown;
    return 0;
}
