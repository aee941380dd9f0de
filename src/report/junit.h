/*
 * junit.h — the one JUnit XML writer: the audit's and the fleet's reports
 * both build their <testsuites> with it.
 *
 * A thin layer over libxml2's xmlTextWriter (which escapes markup) that
 * passes every attribute value and text through xg_report_clean(), so bytes
 * from a host's files cannot break the XML, and that collects errors instead
 * of returning them from each call: a renderer writes its elements one after
 * another and asks once, in xg_junit_finish(), whether the document is whole.
 */
#ifndef XG_REPORT_JUNIT_H
#define XG_REPORT_JUNIT_H

#include <stddef.h>

#include "util/buf.h"

struct xg_junit {
    void *mem;    /* xmlBufferPtr */
    void *writer; /* xmlTextWriterPtr */
    int rc;       /* < 0 once anything failed */
};

/* The XML declaration and the opening <testsuites name="NAME">. */
void xg_junit_begin(struct xg_junit *j, const char *name);
void xg_junit_start(struct xg_junit *j, const char *element);
void xg_junit_end(struct xg_junit *j);
/* An attribute of the element just started, its value cleaned for XML. */
void xg_junit_attr(struct xg_junit *j, const char *name, const char *value);
void xg_junit_count(struct xg_junit *j, const char *name, size_t n);
/* Text content, cleaned for XML. */
void xg_junit_text(struct xg_junit *j, const char *s);
/* Closes every open element, appends the document to out (marked failed when
 * anything could not be written) and frees the writer. */
void xg_junit_finish(struct xg_junit *j, struct xg_buf *out);

#endif
