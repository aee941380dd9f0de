/*
 * render.c — text, JSON and JUnit renderings of an audit.
 *
 * Text is for a person at a terminal: grouped by practice in the chapter's
 * order, evidence under each finding, the fix under each failure, one
 * summary line at the end; colour only when the caller says stdout is a
 * terminal. JSON (jansson) is the stable machine format, documented in
 * xenguard-audit(8); JUnit (libxml2's xmlTextWriter, which escapes markup)
 * maps checks to test cases so CI systems show them (n/a and waived as
 * skipped, error as error). Whatever bytes the host's files hold, all three
 * stay well-formed and keep every finding: see xg_report_clean().
 */
#include <jansson.h>
#include <libxml/xmlwriter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet/facts.h"
#include "report/report.h"

/* Length of the valid UTF-8 sequence at s and its code point, or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        n = 2, c = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3, c = s[0] & 0x0f, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        n = 4, c = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL */
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

static bool allowed_in(uint32_t c, enum xg_clean_for mode)
{
    switch (mode) {
    case XG_CLEAN_JSON:
        return true;
    case XG_CLEAN_XML:
        return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') && c != 0xfffe && c != 0xffff;
    case XG_CLEAN_TEXT:
        return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0);
    }
    return false;
}

char *xg_report_clean(const char *s, enum xg_clean_for mode)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    char *out = malloc(len * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_seq(u + i, &c);
        if (n && allowed_in(c, mode)) {
            memcpy(o, u + i, n);
            o += n;
            i += n;
            continue;
        }
        for (size_t k = 0; k < (n ? n : 1); k++)
            o += sprintf(o, "\\x%02X", u[i + k]);
        i += n ? n : 1;
    }
    *o = '\0';
    return out;
}

/* Append s to out, cleaned for a terminal. */
static void put_clean(struct xg_buf *out, const char *s)
{
    char *c = xg_report_clean(s, XG_CLEAN_TEXT);
    if (!c) {
        out->failed = true;
        return;
    }
    xg_buf_puts(out, c);
    free(c);
}

struct counts {
    size_t n[5];
    size_t fail_sev[5];
};

static struct counts count(const struct xg_audit *a)
{
    struct counts c = {0};
    for (size_t i = 0; i < a->count; i++) {
        c.n[a->results[i].status]++;
        if (a->results[i].status == XG_STATUS_FAIL)
            c.fail_sev[a->results[i].def->severity]++;
    }
    return c;
}

static const char *host_kind(const struct xg_host *h)
{
    if (h->dom0)
        return "Xen Domain-0";
    if (h->xen_present)
        return "Xen guest, not a Dom0";
    return "not a Dom0 (no Xen)";
}

/* The versions the checks judged defaults by, and where each came from. */
static void text_versions(struct xg_buf *out, const struct xg_host *h)
{
    const struct xg_versions *v = &h->versions;
    xg_buf_puts(out, "versions: OS ");
    put_clean(out, v->os_name ? v->os_name : v->os_id ? v->os_id : "unknown");
    xg_buf_puts(out, "; OpenSSH ");
    put_clean(out, v->openssh ? v->openssh : "unknown");
    if (v->openssh_source) {
        xg_buf_puts(out, " (");
        put_clean(out, v->openssh_source);
        xg_buf_puts(out, ")");
    }
    xg_buf_puts(out, "; Xen ");
    put_clean(out, h->xen_version ? h->xen_version : "unknown");
    if (v->xen_source) {
        xg_buf_puts(out, " (");
        put_clean(out, v->xen_source);
        xg_buf_puts(out, ")");
    }
    xg_buf_puts(out, "\nsshd settings: ");
    put_clean(out, h->sshd_source ? h->sshd_source : "none read");
    xg_buf_puts(out, "\n");
}

void xg_report_text(const struct xg_audit *a, bool color, struct xg_buf *out)
{
    const struct xg_host *h = a->host;
    static const char *label[] = {"PASS", "FAIL", "N/A", "ERROR", "WAIVED"};
    static const char *col[] = {"\033[32m", "\033[1;31m", "\033[2m", "\033[35m", "\033[36m"};
    const char *reset = color ? "\033[0m" : "";
    const char *bold = color ? "\033[1m" : "";

    xg_buf_printf(out, "%sxenguard %s audit%s of ", bold, XG_VERSION, reset);
    put_clean(out, h->hostname && h->hostname[0] ? h->hostname : "unknown host");
    xg_buf_puts(out, " (");
    put_clean(out, h->live ? "live host" : h->root);
    xg_buf_puts(out, ")\n");
    if (h->unprivileged)
        xg_buf_printf(out,
                      "%sUNPRIVILEGED RUN%s (uid %u): files only root may read are unknown; the "
                      "checks that need them are n/a\n",
                      bold, reset, (unsigned)geteuid());
    xg_buf_printf(out, "host: %s; toolstack: %s; Xen: ", host_kind(h),
                  xg_toolstack_name(h->toolstack));
    put_clean(out, h->xen_version ? h->xen_version : "-");
    xg_buf_puts(out, "\n");
    text_versions(out, h);
    xg_buf_puts(out, "policy: ");
    put_clean(out, a->policy_path ? a->policy_path
                                  : "none (strictest reading: untrusted subnet, "
                                    "no declared admins or peers)");
    xg_buf_puts(out, "\n");
    for (size_t i = 0; i < h->note_count; i++) {
        xg_buf_puts(out, "note: ");
        put_clean(out, h->notes[i]);
        xg_buf_puts(out, "\n");
    }
    for (size_t i = 0; i < h->unreadable_count; i++) {
        xg_buf_puts(out, "cannot read: ");
        put_clean(out, h->unreadable[i]);
        xg_buf_puts(out, "\n");
    }

    for (int pr = 0; pr < XG_PRACTICE_COUNT; pr++) {
        bool any = false;
        for (size_t i = 0; i < a->count; i++) {
            const struct xg_result *r = &a->results[i];
            if ((int)r->def->practice != pr)
                continue;
            if (!any)
                xg_buf_printf(out, "\n%s%s%s\n", bold, xg_practice_name((enum xg_practice)pr),
                              reset);
            any = true;
            xg_buf_printf(out, "  %s%-6s%s %-12s %-8s %s\n", color ? col[r->status] : "",
                          label[r->status], reset, r->def->id, xg_severity_name(r->def->severity),
                          r->def->title);
            if (r->reason) {
                xg_buf_puts(out, "         ");
                put_clean(out, r->reason);
                xg_buf_puts(out, "\n");
            }
            bool show = r->status != XG_STATUS_PASS || a->verbose;
            for (size_t e = 0; show && e < r->evidence_count; e++) {
                xg_buf_puts(out, "         - ");
                put_clean(out, r->evidence[e]);
                xg_buf_puts(out, "\n");
            }
            if (r->status == XG_STATUS_FAIL)
                xg_buf_printf(out, "         fix: %s\n", r->def->remediation);
        }
    }
    struct counts c = count(a);
    int rc = xg_audit_exit_code(a);
    xg_buf_printf(out,
                  "\n%ssummary:%s %zu passed, %zu failed (%zu critical, %zu high, %zu medium, "
                  "%zu low, %zu info), %zu n/a, %zu errors, %zu waived; fail-on %s: %s\n",
                  bold, reset, c.n[XG_STATUS_PASS], c.n[XG_STATUS_FAIL],
                  c.fail_sev[XG_SEV_CRITICAL], c.fail_sev[XG_SEV_HIGH], c.fail_sev[XG_SEV_MEDIUM],
                  c.fail_sev[XG_SEV_LOW], c.fail_sev[XG_SEV_INFO], c.n[XG_STATUS_NA],
                  c.n[XG_STATUS_ERROR], c.n[XG_STATUS_WAIVED], xg_severity_name(a->fail_on),
                  rc ? "FAILED" : "ok");
}

/* A JSON string of any bytes (invalid UTF-8 escaped), or null for NULL. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    char *c = xg_report_clean(s, XG_CLEAN_JSON);
    json_t *j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

static json_t *strv(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, jstr(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *json_versions(const struct xg_host *h)
{
    const struct xg_versions *v = &h->versions;
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "os_id", jstr(v->os_id),
                     "os_id_like", jstr(v->os_id_like), "os_version_id", jstr(v->os_version_id),
                     "openssh", jstr(v->openssh), "openssh_source", jstr(v->openssh_source), "xen",
                     jstr(h->xen_version), "xen_source", jstr(v->xen_source), "sshd_source",
                     jstr(h->sshd_source), "v6only_source", jstr(h->v6only_source));
}

static json_t *json_host(const struct xg_host *h)
{
    return json_pack("{s:o, s:o, s:b, s:b, s:b, s:b, s:s, s:o, s:o, s:o, s:o}", "hostname",
                     jstr(h->hostname ? h->hostname : ""), "root", jstr(h->root ? h->root : "/"),
                     "live", h->live, "unprivileged", h->unprivileged, "xen", h->xen_present,
                     "dom0", h->dom0, "toolstack", xg_toolstack_name(h->toolstack), "xen_version",
                     jstr(h->xen_version), "notes", strv(h->notes, h->note_count), "unreadable",
                     strv(h->unreadable, h->unreadable_count), "versions", json_versions(h));
}

/* ---- the "fleet" section: what `xenguard fleet` needs of this host (src/fleet/facts.h) ---- */

static json_t *prefixes_json(const struct xg_prefix_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->count; i++) {
        char t[XG_PREFIX_STRLEN];
        xg_prefix_format(&l->items[i], false, t);
        if (json_array_append_new(a, json_string(t)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *fleet_addresses(const struct xg_host *h)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < h->iface_count; i++) {
        if (!strcmp(h->ifaces[i].name, "lo"))
            continue;
        for (size_t k = 0; k < h->ifaces[i].addrs.count; k++) {
            char t[XG_PREFIX_STRLEN];
            xg_prefix_format(&h->ifaces[i].addrs.items[k], true, t);
            if (json_array_append_new(a, json_pack("{s:o, s:s}", "interface",
                                                   jstr(h->ifaces[i].name), "address", t)) < 0) {
                json_decref(a);
                return NULL;
            }
        }
    }
    return a;
}

static json_t *fleet_policy(const struct xg_policy *p)
{
    if (!p)
        return json_null();
    return json_pack(
        "{s:s, s:s, s:i, s:i, s:o, s:o, s:o}", "scenario", xg_scenario_name(p->scenario),
        "transport", xg_transport_name(p->transport), "migration_port", (int)p->migration_port,
        "ssh_port", (int)(p->ssh_port ? p->ssh_port : 22), "public_interface", jstr(p->public_if),
        "management_interface", jstr(p->management_if), "peers", prefixes_json(&p->peers));
}

static json_t *fleet_firewall(const struct xg_fleet_facts *f)
{
    json_t *ifs = json_array();
    for (size_t i = 0; ifs && i < f->reach_count; i++) {
        const struct xg_fleet_iface_reach *ir = &f->reach[i];
        if (json_array_append_new(ifs, json_pack("{s:o, s:{s:o, s:o}, s:{s:o, s:o}}", "interface",
                                                 jstr(ir->iface), "ipv4", "may",
                                                 prefixes_json(&ir->r[0].may), "must",
                                                 prefixes_json(&ir->r[0].must), "ipv6", "may",
                                                 prefixes_json(&ir->r[1].may), "must",
                                                 prefixes_json(&ir->r[1].must))) < 0) {
            json_decref(ifs);
            return NULL;
        }
    }
    return json_pack("{s:b, s:o, s:o, s:{s:s, s:i, s:o}}", "present", f->firewall_present, "error",
                     jstr(f->firewall_error[0] ? f->firewall_error : NULL), "digest",
                     jstr(f->firewall_digest[0] ? f->firewall_digest : NULL), "migration", "proto",
                     "tcp", "port", (int)f->migration_port, "interfaces", ifs);
}

static json_t *fleet_cert(const struct xg_fleet_cert *c)
{
    if (!c->present)
        return json_pack("{s:o}", "error", jstr(c->error));
    return json_pack("{s:s, s:s}", "sha256", c->sha256, "not_after", c->not_after);
}

static json_t *json_fleet(const struct xg_host *h, const struct xg_fleet_facts *f)
{
    json_t *tunnel =
        f->tunnel ? json_pack("{s:o, s:o}", "ca", fleet_cert(&f->ca), "cert", fleet_cert(&f->cert))
                  : json_null();
    return json_pack("{s:o, s:o, s:o, s:o}", "addresses", fleet_addresses(h), "policy",
                     fleet_policy(f->policy), "firewall", fleet_firewall(f), "tunnel", tunnel);
}

char *xg_report_json(const struct xg_audit *a)
{
    const struct xg_host *h = a->host;
    struct counts c = count(a);
    json_t *checks = json_array();
    for (size_t i = 0; checks && i < a->count; i++) {
        const struct xg_result *r = &a->results[i];
        json_t *one =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "id", r->def->id, "practice",
                      xg_practice_name(r->def->practice), "title", r->def->title, "status",
                      xg_status_name(r->status), "severity", xg_severity_name(r->def->severity),
                      "evidence", strv(r->evidence, r->evidence_count), "reason", jstr(r->reason),
                      "remediation", r->def->remediation);
        if (json_array_append_new(checks, one) < 0) {
            json_decref(checks);
            checks = NULL;
        }
    }
    json_t *summary = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:s, s:i}", "pass", (json_int_t)c.n[XG_STATUS_PASS], "fail",
        (json_int_t)c.n[XG_STATUS_FAIL], "n/a", (json_int_t)c.n[XG_STATUS_NA], "error",
        (json_int_t)c.n[XG_STATUS_ERROR], "waived", (json_int_t)c.n[XG_STATUS_WAIVED], "fail_on",
        xg_severity_name(a->fail_on), "exit", xg_audit_exit_code(a));
    json_t *doc = json_pack("{s:s, s:{s:s, s:s}, s:b, s:o, s:o, s:o, s:o}", "schema",
                            "xenguard-audit/1", "tool", "name", "xenguard", "version", XG_VERSION,
                            "unprivileged", h->unprivileged, "host", json_host(h), "policy",
                            jstr(a->policy_path), "summary", summary, "checks", checks);
    if (doc && a->fleet && json_object_set_new(doc, "fleet", json_fleet(a->host, a->fleet)) < 0) {
        json_decref(doc);
        doc = NULL;
    }
    if (!doc)
        return NULL;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

/* ---- JUnit ---- */

static int xw_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
    char *c = xg_report_clean(value, XG_CLEAN_XML);
    int rc = c ? xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST c) : -1;
    free(c);
    return rc;
}

static int xw_attrf(xmlTextWriterPtr w, const char *name, size_t n)
{
    char v[32];
    snprintf(v, sizeof(v), "%zu", n);
    return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v);
}

static int xw_text(xmlTextWriterPtr w, const char *s)
{
    char *c = xg_report_clean(s, XG_CLEAN_XML);
    int rc = c ? xmlTextWriterWriteString(w, BAD_CAST c) : -1;
    free(c);
    return rc;
}

/* <failure>, <error>, <skipped> or <system-out> of one result; < 0 on failure. */
static int junit_outcome(xmlTextWriterPtr w, const struct xg_result *r)
{
    struct xg_buf body = {0};
    int rc = 0;
    for (size_t k = 0; k < r->evidence_count; k++)
        xg_buf_printf(&body, "%s\n", r->evidence[k]);
    switch (r->status) {
    case XG_STATUS_FAIL:
        rc |= xmlTextWriterStartElement(w, BAD_CAST "failure");
        rc |= xw_attr(w, "type", xg_severity_name(r->def->severity));
        rc |= xw_attr(w, "message", r->evidence_count ? r->evidence[0] : r->def->title);
        rc |= xw_text(w, xg_buf_str(&body));
        rc |= xw_text(w, "fix: ");
        rc |= xw_text(w, r->def->remediation);
        rc |= xmlTextWriterEndElement(w);
        break;
    case XG_STATUS_ERROR:
        rc |= xmlTextWriterStartElement(w, BAD_CAST "error");
        rc |= xw_attr(w, "message", r->reason ? r->reason : "");
        rc |= xmlTextWriterEndElement(w);
        break;
    case XG_STATUS_NA:
    case XG_STATUS_WAIVED:
        rc |= xmlTextWriterStartElement(w, BAD_CAST "skipped");
        rc |= xw_attr(w, "message", r->reason ? r->reason : xg_status_name(r->status));
        rc |= xmlTextWriterEndElement(w);
        break;
    case XG_STATUS_PASS:
        if (body.len) {
            rc |= xmlTextWriterStartElement(w, BAD_CAST "system-out");
            rc |= xw_text(w, xg_buf_str(&body));
            rc |= xmlTextWriterEndElement(w);
        }
        break;
    }
    rc |= xg_buf_failed(&body) ? -1 : 0;
    xg_buf_free(&body);
    return rc < 0 ? -1 : 0;
}

static int junit_suite(xmlTextWriterPtr w, const struct xg_audit *a, int pr)
{
    size_t n = 0, f = 0, e = 0, s = 0;
    int rc = 0;
    for (size_t i = 0; i < a->count; i++)
        if ((int)a->results[i].def->practice == pr) {
            enum xg_status st = a->results[i].status;
            n++;
            f += st == XG_STATUS_FAIL;
            e += st == XG_STATUS_ERROR;
            s += st == XG_STATUS_NA || st == XG_STATUS_WAIVED;
        }
    if (!n)
        return 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "testsuite");
    rc |= xw_attr(w, "name", xg_practice_name((enum xg_practice)pr));
    rc |= xw_attrf(w, "tests", n) | xw_attrf(w, "failures", f) | xw_attrf(w, "errors", e) |
          xw_attrf(w, "skipped", s);
    for (size_t i = 0; i < a->count; i++) {
        const struct xg_result *r = &a->results[i];
        if ((int)r->def->practice != pr)
            continue;
        char name[300];
        snprintf(name, sizeof(name), "%s %s", r->def->id, r->def->title);
        rc |= xmlTextWriterStartElement(w, BAD_CAST "testcase");
        rc |= xw_attr(w, "classname", "xenguard.audit") | xw_attr(w, "name", name);
        rc |= junit_outcome(w, r);
        rc |= xmlTextWriterEndElement(w);
    }
    rc |= xmlTextWriterEndElement(w);
    return rc < 0 ? -1 : 0;
}

void xg_report_junit(const struct xg_audit *a, struct xg_buf *out)
{
    struct counts c = count(a);
    xmlBufferPtr mem = xmlBufferCreate();
    xmlTextWriterPtr w = mem ? xmlNewTextWriterMemory(mem, 0) : NULL;
    int rc = w ? 0 : -1;
    if (w) {
        rc |= xmlTextWriterSetIndent(w, 1) | xmlTextWriterSetIndentString(w, BAD_CAST "  ");
        rc |= xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
        rc |= xmlTextWriterStartElement(w, BAD_CAST "testsuites");
        rc |= xw_attr(w, "name", "xenguard audit") | xw_attrf(w, "tests", a->count) |
              xw_attrf(w, "failures", c.n[XG_STATUS_FAIL]) |
              xw_attrf(w, "errors", c.n[XG_STATUS_ERROR]) |
              xw_attrf(w, "skipped", c.n[XG_STATUS_NA] + c.n[XG_STATUS_WAIVED]);
        for (int pr = 0; pr < XG_PRACTICE_COUNT; pr++)
            rc |= junit_suite(w, a, pr);
        rc |= xmlTextWriterEndDocument(w);
        xmlFreeTextWriter(w); /* flushes into mem */
    }
    if (rc < 0 || !mem)
        out->failed = true;
    else
        xg_buf_puts(out, (const char *)xmlBufferContent(mem));
    if (mem)
        xmlBufferFree(mem);
}
