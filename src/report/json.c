/*
 * json.c — the audit as JSON (jansson): the stable machine format,
 * "xenguard-audit/1", whose shape doc/audit.schema.json fixes and
 * xenguard-audit(8) explains; and the check table for `audit --list
 * --format json` ("xenguard-checks/1", doc/checks.schema.json).
 *
 * Additions keep version 1 (a reader ignores what it does not know);
 * removing or retyping a field would make it version 2. The "fleet" section
 * is what `xenguard fleet` reads of each host (src/fleet/load.c checks the
 * schema value). Host bytes pass through xg_report_clean() (jstr), so any
 * file content becomes valid UTF-8.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/facts.h"
#include "report/report.h"

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

/* One result; fix lines only where the finding stands (failed, or waived). */
static json_t *json_result(const struct xg_result *r)
{
    bool fixable = r->status == XG_STATUS_FAIL || r->status == XG_STATUS_WAIVED;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "id", r->def->id, "practice",
                     xg_practice_name(r->def->practice), "title", r->def->title, "status",
                     xg_status_name(r->status), "severity", xg_severity_name(r->def->severity),
                     "evidence", strv(r->evidence, r->evidence_count), "reason", jstr(r->reason),
                     "fix", strv(r->fix, fixable ? r->fix_count : 0), "remediation",
                     r->def->remediation);
}

static json_t *json_summary(const struct xg_audit *a)
{
    struct xg_audit_counts c = xg_audit_count(a);
    json_t *sev = json_object();
    for (int s = XG_SEV_CRITICAL; sev && s >= XG_SEV_INFO; s--)
        if (json_object_set_new(sev, xg_severity_name((enum xg_severity)s),
                                json_integer((json_int_t)c.fail_by_severity[s])) < 0) {
            json_decref(sev);
            sev = NULL;
        }
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:s, s:i}", "total", (json_int_t)a->count, "pass",
        (json_int_t)c.status[XG_STATUS_PASS], "fail", (json_int_t)c.status[XG_STATUS_FAIL], "n/a",
        (json_int_t)c.status[XG_STATUS_NA], "error", (json_int_t)c.status[XG_STATUS_ERROR],
        "waived", (json_int_t)c.status[XG_STATUS_WAIVED], "fail_by_severity", sev, "fail_on",
        xg_severity_name(a->fail_on), "exit", xg_audit_exit_code(a));
}

/* RFC 3339, UTC, whole seconds: "2026-12-02T01:23:45Z"; null for 0. */
static json_t *json_time(time_t t)
{
    struct tm tm;
    char s[32];
    if (!t || !gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return json_null();
    return json_string(s);
}

static char *dump(json_t *doc)
{
    if (!doc)
        return NULL;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

char *xg_report_json(const struct xg_audit *a)
{
    const struct xg_host *h = a->host;
    json_t *checks = json_array();
    for (size_t i = 0; checks && i < a->count; i++)
        if (json_array_append_new(checks, json_result(&a->results[i])) < 0) {
            json_decref(checks);
            checks = NULL;
        }
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s}, s:o, s:I, s:b, s:o, s:o, s:o, s:o}", "schema", "xenguard-audit/1",
        "tool", "name", "xenguard", "version", XG_VERSION, "timestamp", json_time(a->started),
        "duration_ms", (json_int_t)a->duration_ms, "unprivileged", h->unprivileged, "host",
        json_host(h), "policy", jstr(a->policy_path), "summary", json_summary(a), "checks", checks);
    if (doc && a->fleet && json_object_set_new(doc, "fleet", json_fleet(a->host, a->fleet)) < 0) {
        json_decref(doc);
        doc = NULL;
    }
    return dump(doc);
}

char *xg_report_checks_json(void)
{
    size_t n;
    const struct xg_check_def *t = xg_checks(&n);
    json_t *checks = json_array();
    for (size_t i = 0; checks && i < n; i++) {
        json_t *one = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", t[i].id, "practice",
                                xg_practice_name(t[i].practice), "severity",
                                xg_severity_name(t[i].severity), "title", t[i].title, "description",
                                t[i].description, "remediation", t[i].remediation, "reads",
                                t[i].reads ? json_string(t[i].reads) : json_null());
        if (json_array_append_new(checks, one) < 0) {
            json_decref(checks);
            checks = NULL;
        }
    }
    return dump(json_pack("{s:s, s:{s:s, s:s}, s:o}", "schema", "xenguard-checks/1", "tool", "name",
                          "xenguard", "version", XG_VERSION, "checks", checks));
}
