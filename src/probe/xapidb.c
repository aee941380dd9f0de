/*
 * xapidb.c — XAPI's configuration and this host's row of its database.
 *
 * /var/lib/xcp/state.db is XML: <database><manifest/>, then one
 * <table name="T"> per class, one <row ref="OpaqueRef:..." uuid="..."
 * FIELD="VALUE".../> per object. A pool's database has a host row per pool
 * member, and every member keeps a copy: the row that describes this host
 * is the one whose uuid is INSTALLATION_UUID of /etc/xensource-inventory.
 * Reading "the first https_only in the file" would judge another member.
 *
 * The file is parsed as the XML it is, with libxml2 (already linked for the
 * JUnit writer): no network, no entity substitution, no DTD loading, no
 * output of its own. xapi never writes a DOCTYPE, so one is refused before
 * libxml2 sees it (no entity can be declared, none expanded). A document
 * that does not parse is reported with its file:line and the XAPI checks
 * that needed the row answer n/a with it.
 *
 * `xenguard capture` writes the database reduced to what the checks read
 * (xg_xapi_db_reduce, declared in redact.h): the host rows' uuid and
 * https_only, through the same reader, so a capture is judged as the
 * original and holds no session, password or pool secret.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"
#include "probe/parse.h"
#include "probe/redact.h"

#define STATE_DB "/var/lib/xcp/state.db"

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The value of attribute NAME of n (a copy to free with xmlFree), or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, BAD_CAST name);
}

/* Every attribute of the row into out as "db:NAME". */
static int row_fields(const xmlNode *row, const char *path, struct xg_kvlist *out)
{
    unsigned line = (unsigned)xmlGetLineNo(row);
    for (const xmlAttr *a = row->properties; a; a = a->next) {
        char key[160];
        snprintf(key, sizeof(key), "db:%s", (const char *)a->name);
        xmlChar *v = xmlNodeListGetString(row->doc, a->children, 1);
        int rc = xg_kv_add(out, key, v ? (const char *)v : "", path, line);
        xmlFree(v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Find this host's row among the host rows of the table; counts them. */
static const xmlNode *host_row(const xmlNode *table, const char *uuid, size_t *hosts,
                               const xmlNode **only)
{
    const xmlNode *found = NULL;
    for (const xmlNode *row = table->children; row; row = row->next) {
        if (!is_elem(row, "row"))
            continue;
        (*hosts)++;
        *only = row;
        char *u = attr(row, "uuid");
        if (u && uuid && !strcmp(u, uuid) && !found)
            found = row;
        xmlFree(u);
    }
    return found;
}

/*
 * The document, once it is known to be a XAPI database: no DOCTYPE, XML
 * that parses, <database> at the root. NULL with err (file:line) otherwise;
 * *ctx is freed by the caller with the document.
 */
static xmlDocPtr read_db(const char *text, size_t len, const char *path, xmlParserCtxtPtr *ctx,
                         struct xg_err *err)
{
    *ctx = NULL;
    if (len > (size_t)INT32_MAX) {
        xg_fail(err, "%s: too large", path);
        return NULL;
    }
    const char *dt = memmem(text, len, "<!DOCTYPE", 9);
    if (dt) {
        unsigned line = 1;
        for (const char *c = text; c < dt; c++)
            line += *c == '\n';
        xg_fail_at(err, path, line, 1,
                   "not a XAPI database: a DOCTYPE (xapi writes none; entities refused)");
        return NULL;
    }
    if (!(*ctx = xmlNewParserCtxt())) {
        xg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    xmlDocPtr doc = xmlCtxtReadMemory(*ctx, text, (int)len, path, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(*ctx);
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "not XML");
        msg[strcspn(msg, "\n")] = '\0';
        xg_fail_at(err, path, e ? (unsigned)e->line : 0, e ? (unsigned)e->int2 : 0,
                   "not a XAPI database: %s", msg);
        return NULL;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is_elem(root, "database")) {
        xg_fail_at(err, path, root ? (unsigned)xmlGetLineNo(root) : 1, 1,
                   "not a XAPI database: the root element is not <database>");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* Is t a <table name="host">? */
static bool host_table(const xmlNode *t)
{
    char *name = is_elem(t, "table") ? attr(t, "name") : NULL;
    bool yes = name && !strcmp(name, "host");
    xmlFree(name);
    return yes;
}

int xg_xapi_db_parse(const char *text, size_t len, const char *path, const char *uuid,
                     struct xg_kvlist *out, size_t *hosts, char *problem, size_t problem_size,
                     struct xg_err *err)
{
    *hosts = 0;
    problem[0] = '\0';
    xmlParserCtxtPtr ctx;
    xmlDocPtr doc = read_db(text, len, path, &ctx, err);
    if (!doc) {
        xmlFreeParserCtxt(ctx);
        return -1;
    }
    int rc = 0;
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *row = NULL, *only = NULL;
    for (const xmlNode *t = root->children; t && !row; t = t->next)
        if (host_table(t))
            row = host_row(t, uuid, hosts, &only);
    if (!row && !uuid && *hosts == 1)
        row = only; /* a pool of one: its only host row is this host */
    size_t before = out->count;
    if (row) {
        if (row_fields(row, path, out) < 0)
            rc = xg_fail(err, "%s: out of memory", path);
        else if (out->count == before) /* <row/>: nothing to judge, which is not "all unset" */
            snprintf(problem, problem_size, "%s: this host's row (line %ld) has no fields", path,
                     xmlGetLineNo(row));
    } else if (!*hosts) {
        snprintf(problem, problem_size, "%s has no host row", path);
    } else if (!uuid) {
        snprintf(problem, problem_size,
                 "%s has %zu host rows (a pool) and this host's UUID is unknown "
                 "(no INSTALLATION_UUID in /etc/xensource-inventory)",
                 path, *hosts);
    } else {
        snprintf(problem, problem_size, "%s: no host row has this host's uuid %s (%zu host rows)",
                 path, uuid, *hosts);
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctx);
    return rc;
}

/* The fields of a host row the checks read (check/xapi.c). */
static const char *const kept_fields[] = {"uuid", "https_only"};

/* A host row with only the kept fields, under table; counts what it drops. */
static int reduce_row(const xmlNode *row, xmlNodePtr table, size_t *dropped)
{
    xmlNodePtr r = xmlNewChild(table, NULL, BAD_CAST "row", NULL);
    if (!r)
        return -1;
    size_t kept = 0, all = 0;
    for (const xmlAttr *a = row->properties; a; a = a->next) {
        all++;
        for (size_t k = 0; k < sizeof(kept_fields) / sizeof(kept_fields[0]); k++) {
            if (strcmp((const char *)a->name, kept_fields[k]) || xmlHasProp(r, a->name))
                continue; /* the reader takes the first of two: so does the copy */
            xmlChar *v = xmlNodeListGetString(row->doc, a->children, 1);
            xmlAttrPtr set = xmlSetProp(r, a->name, v ? v : BAD_CAST "");
            xmlFree(v);
            if (!set)
                return -1;
            kept++;
        }
    }
    *dropped += all - kept;
    if (all && !kept && !xmlSetProp(r, BAD_CAST "redacted", BAD_CAST "fields left out by capture"))
        return -1;
    return 0;
}

static int reduce_tables(const xmlNode *root, xmlNodePtr db, size_t *dropped)
{
    for (const xmlNode *t = root->children; t; t = t->next) {
        if (t->type != XML_ELEMENT_NODE)
            continue;
        if (!host_table(t)) {
            (*dropped)++;
            continue;
        }
        xmlNodePtr table = xmlNewChild(db, NULL, BAD_CAST "table", NULL);
        if (!table || !xmlSetProp(table, BAD_CAST "name", BAD_CAST "host"))
            return -1;
        for (const xmlNode *row = t->children; row; row = row->next)
            if (is_elem(row, "row") && reduce_row(row, table, dropped) < 0)
                return -1;
    }
    return 0;
}

int xg_xapi_db_reduce(const char *text, size_t len, const char *path, struct xg_buf *out,
                      size_t *dropped, struct xg_err *err)
{
    *dropped = 0;
    xmlParserCtxtPtr ctx;
    xmlDocPtr doc = read_db(text, len, path, &ctx, err);
    if (!doc) {
        xmlFreeParserCtxt(ctx);
        return -1;
    }
    xmlDocPtr small = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr db = small ? xmlNewNode(NULL, BAD_CAST "database") : NULL;
    int rc = -1;
    if (db) {
        xmlDocSetRootElement(small, db);
        rc = reduce_tables(xmlDocGetRootElement(doc), db, dropped);
    }
    xmlChar *mem = NULL;
    int size = 0;
    if (rc == 0)
        xmlDocDumpFormatMemoryEnc(small, &mem, &size, "UTF-8", 1);
    if (mem)
        xg_buf_append(out, mem, (size_t)size);
    else
        rc = -1;
    xmlFree(mem);
    xmlFreeDoc(small);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctx);
    if (rc < 0 || xg_buf_failed(out))
        return xg_fail(err, "%s: out of memory", path);
    return 0;
}

/* INSTALLATION_UUID of the inventory, or NULL. */
static char *inventory_uuid(const struct xg_rootfs *r, struct xg_host *h)
{
    size_t len;
    char *t = xg_probe_read_ev(r, h, "/etc/xensource-inventory", &len);
    if (!t)
        return NULL;
    struct xg_kvlist kv = {0};
    struct xg_err e;
    char *uuid = NULL;
    if (xg_keyval_parse(t, len, "/etc/xensource-inventory", &kv, &e) < 0) {
        xg_host_note(h, "%s", e.msg);
    } else {
        const struct xg_kv *u = xg_kv_find(&kv, "INSTALLATION_UUID", false);
        if (u && u->value[0])
            uuid = strdup(u->value);
    }
    xg_kv_free(&kv);
    free(t);
    return uuid;
}

static void read_xapi_conf(const struct xg_rootfs *r, struct xg_host *h)
{
    struct xg_err e;
    size_t len, n;
    char *t, **names;
    if ((t = xg_probe_read_ev(r, h, "/etc/xapi.conf", &len))) {
        h->xapi_present = true;
        if (xg_keyval_parse(t, len, "/etc/xapi.conf", &h->xapi, &e) < 0)
            xg_probe_set_error(h, XG_SEC_XAPI, e.msg);
        free(t);
    }
    if (xg_probe_list_ev(r, h, "/etc/xapi.conf.d", &names, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            char rel[600];
            snprintf(rel, sizeof(rel), "/etc/xapi.conf.d/%s", names[i]);
            if ((t = xg_probe_read_ev(r, h, rel, &len))) {
                if (xg_keyval_parse(t, len, rel, &h->xapi, &e) < 0)
                    xg_probe_set_error(h, XG_SEC_XAPI, e.msg);
                free(t);
            }
        }
        xg_strv_free(names, n);
    }
}

void xg_probe_xapi_db(const struct xg_rootfs *r, struct xg_host *h)
{
    read_xapi_conf(r, h);
    if (xg_rootfs_exists(r, "/etc/xensource-inventory") || xg_rootfs_exists(r, "/etc/xensource"))
        h->xapi_present = true;
    h->xapi_uuid = inventory_uuid(r, h);
    size_t len;
    char *t = xg_probe_read_ev(r, h, STATE_DB, &len);
    if (!t)
        return;
    h->xapi_present = h->xapi_db_present = true;
    struct xg_err e;
    char problem[512];
    if (xg_xapi_db_parse(t, len, STATE_DB, h->xapi_uuid, &h->xapi, &h->xapi_db_hosts, problem,
                         sizeof(problem), &e) < 0) {
        h->xapi_db_problem = strdup(e.msg);
        xg_host_note(h, "%s", e.msg);
    } else if (problem[0]) {
        h->xapi_db_problem = strdup(problem);
    }
    free(t);
}
