/*
 * junit.c — the JUnit XML writer shared by the audit and fleet reports
 * (see junit.h). Errors are sticky in j->rc, so callers write straight
 * through and the document is judged once at the end.
 */
#include "report/junit.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/report.h"

static void add(struct xg_junit *j, int rc)
{
    if (rc < 0)
        j->rc = -1;
}

void xg_junit_begin(struct xg_junit *j, const char *name)
{
    xmlBufferPtr mem = xmlBufferCreate();
    xmlTextWriterPtr w = mem ? xmlNewTextWriterMemory(mem, 0) : NULL;
    *j = (struct xg_junit){mem, w, w ? 0 : -1};
    if (!w)
        return;
    add(j, xmlTextWriterSetIndent(w, 1));
    add(j, xmlTextWriterSetIndentString(w, BAD_CAST "  "));
    add(j, xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL));
    xg_junit_start(j, "testsuites");
    xg_junit_attr(j, "name", name);
}

void xg_junit_start(struct xg_junit *j, const char *element)
{
    if (j->writer)
        add(j, xmlTextWriterStartElement(j->writer, BAD_CAST element));
}

void xg_junit_end(struct xg_junit *j)
{
    if (j->writer)
        add(j, xmlTextWriterEndElement(j->writer));
}

void xg_junit_attr(struct xg_junit *j, const char *name, const char *value)
{
    if (!j->writer)
        return;
    char *c = xg_report_clean(value, XG_CLEAN_XML);
    add(j, c ? xmlTextWriterWriteAttribute(j->writer, BAD_CAST name, BAD_CAST c) : -1);
    free(c);
}

void xg_junit_count(struct xg_junit *j, const char *name, size_t n)
{
    char v[32];
    snprintf(v, sizeof(v), "%zu", n);
    xg_junit_attr(j, name, v);
}

void xg_junit_text(struct xg_junit *j, const char *s)
{
    if (!j->writer)
        return;
    char *c = xg_report_clean(s, XG_CLEAN_XML);
    add(j, c ? xmlTextWriterWriteString(j->writer, BAD_CAST c) : -1);
    free(c);
}

void xg_junit_finish(struct xg_junit *j, struct xg_buf *out)
{
    if (j->writer) {
        add(j, xmlTextWriterEndDocument(j->writer));
        xmlFreeTextWriter(j->writer); /* flushes into mem */
    }
    if (j->rc < 0 || !j->mem)
        out->failed = true;
    else
        xg_buf_puts(out, (const char *)xmlBufferContent(j->mem));
    if (j->mem)
        xmlBufferFree(j->mem);
    *j = (struct xg_junit){0};
}
