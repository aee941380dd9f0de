/*
 * lines.h — splitting a text buffer into lines, for the line-oriented parsers.
 *
 * Parsers read files whole and walk them line by line; this is the one walk.
 * What a line means (comments, CR, continuation) stays each parser's business.
 */
#ifndef XG_UTIL_LINES_H
#define XG_UTIL_LINES_H

#include <stddef.h>

/* A malloc'd copy of the line at text[*pos] (without its '\n'), *pos moved past it.
 * NULL at the end (*pos >= len) or when memory runs out (*pos < len). */
char *xg_line_next(const char *text, size_t len, size_t *pos);

#endif
