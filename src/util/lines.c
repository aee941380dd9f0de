/*
 * lines.c — the line walk of the line-oriented parsers (see lines.h).
 */
#include "util/lines.h"

#include <string.h>

char *xg_line_next(const char *text, size_t len, size_t *pos)
{
    size_t end = *pos;
    char *line;
    if (*pos >= len)
        return NULL;
    while (end < len && text[end] != '\n')
        end++;
    line = strndup(text + *pos, end - *pos);
    if (line)
        *pos = end + 1;
    return line;
}
