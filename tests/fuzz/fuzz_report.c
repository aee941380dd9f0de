/*
 * fuzz_report.c — the audit's machine output over arbitrary bytes.
 *
 * Host files may hold any bytes, and they reach the report as evidence,
 * reasons, notes, fix lines and the host name. The input is split at NUL bytes into
 * those strings; the JSON rendering must parse back with jansson and hold
 * every evidence line, and the JUnit rendering must parse back with
 * libxml2's parser. Either failing aborts (a crash the fuzzer reports).
 */
#include <jansson.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "report/report.h"

#define PIECES 8

static void must(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NUL-separated pieces: hostname, root, note, reason, evidence... */
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *piece[PIECES] = {0};
    size_t n = 0;
    for (char *p = copy; n < PIECES && p <= copy + size; p += strlen(p) + 1)
        piece[n++] = p;
    for (size_t i = n; i < PIECES; i++)
        piece[i] = "";

    struct xg_host h = {0};
    h.hostname = piece[0];
    h.root = piece[1];
    char *notes[1] = {piece[2]};
    h.notes = notes;
    h.note_count = 1;
    h.xen_version = piece[2];
    h.unreadable = &piece[3];
    h.unreadable_count = 1;

    size_t ndefs;
    const struct xg_check_def *defs = xg_checks(&ndefs);
    struct xg_result r[4] = {{0}};
    static const enum xg_status st[4] = {XG_STATUS_FAIL, XG_STATUS_PASS, XG_STATUS_NA,
                                         XG_STATUS_ERROR};
    for (size_t i = 0; i < 4; i++) {
        r[i].def = &defs[i % ndefs];
        r[i].status = st[i];
        r[i].reason = piece[3];
        r[i].evidence = &piece[4];
        r[i].evidence_count = PIECES - 4;
        r[i].fix = &piece[4]; /* fix lines carry host bytes too (names, paths) */
        r[i].fix_count = PIECES - 4;
    }
    struct xg_audit a = {&h, piece[1], XG_SEV_HIGH, true, r, 4};

    char *json = xg_report_json(&a);
    must(json != NULL);
    json_error_t je;
    json_t *doc = json_loads(json, 0, &je);
    must(doc != NULL);
    json_t *ev = json_object_get(json_array_get(json_object_get(doc, "checks"), 0), "evidence");
    must(json_array_size(ev) == PIECES - 4); /* no finding dropped */
    json_t *fix = json_object_get(json_array_get(json_object_get(doc, "checks"), 0), "fix");
    must(json_array_size(fix) == PIECES - 4); /* the failure's fix lines, every one */
    json_decref(doc);
    free(json);

    struct xg_buf b = {0};
    xg_report_junit(&a, &b);
    must(!xg_buf_failed(&b));
    xmlDocPtr x = xmlReadMemory(xg_buf_str(&b), (int)b.len, "junit.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    must(x != NULL);
    xmlFreeDoc(x);
    xg_buf_free(&b);

    struct xg_buf t = {0};
    xg_report_text(&a, false, &t);
    must(!xg_buf_failed(&t) && !strchr(xg_buf_str(&t), '\033'));
    xg_buf_free(&t);
    free(copy);
    return 0;
}
