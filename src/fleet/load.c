/*
 * load.c — one audit report (xenguard-audit/1 JSON with its "fleet"
 * section) into struct xg_fleet_host.
 *
 * The reports are fetched from the hosts, so each is hostile until checked:
 * the file is read up to XG_FLEET_MAX_REPORT bytes, jansson parses it with
 * duplicate keys refused (a syntax error says FILE:LINE:COL, as jansson
 * reports it), and every field fleet uses is looked up by one helper that
 * checks its type and size and names the field's JSON path in the error
 * ("r.json: fleet.policy.peers[2]: expected an address prefix"). Lists are
 * bounded by XG_FLEET_MAX_ITEMS, strings by their destination. Fields fleet
 * does not use are ignored, so newer reports still load.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"
#include "util/file.h"

struct ld {
    const char *name;
    struct xg_err *err;
};

static int bad(const struct ld *l, const char *path, const char *what)
{
    return xg_fail(l->err, "%s: %s: %s", l->name, path, what);
}

/* Member `key` of object `o` with JSON type `type`; `optional`: absent or null gives NULL. */
static int member(const struct ld *l, json_t *o, const char *path, const char *key, json_type type,
                  bool optional, json_t **out)
{
    char p[160];
    snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (optional)
            return 0;
        return bad(l, p, "missing");
    }
    if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
        static const char *names[] = {"an object", "an array", "a string", "an integer",
                                      "a number",  "true",     "false",    "null"};
        char w[64];
        snprintf(w, sizeof(w), "expected %s", type == JSON_TRUE ? "a boolean" : names[type]);
        return bad(l, p, w);
    }
    if (type == JSON_ARRAY && json_array_size(v) > XG_FLEET_MAX_ITEMS)
        return bad(l, p, "too many items");
    *out = v;
    return 0;
}

/* A string member copied into out[size] (too long is an error); absent optional: "". */
static int str_into(const struct ld *l, json_t *o, const char *path, const char *key, bool optional,
                    char *out, size_t size)
{
    json_t *v;
    out[0] = '\0';
    if (member(l, o, path, key, JSON_STRING, optional, &v) < 0)
        return -1;
    if (!v)
        return 0;
    if (json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v)) {
        char p[160];
        snprintf(p, sizeof(p), "%s.%s", path, key);
        return bad(l, p, "string too long or holds a NUL");
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int str_dup(const struct ld *l, json_t *o, const char *path, const char *key, bool optional,
                   char **out)
{
    char tmp[XG_FLEET_MAX_STRING];
    json_t *v;
    *out = NULL;
    if (member(l, o, path, key, JSON_STRING, optional, &v) < 0)
        return -1;
    if (!v)
        return 0;
    if (str_into(l, o, path, key, optional, tmp, sizeof(tmp)) < 0)
        return -1;
    if (!(*out = strdup(tmp)))
        return xg_fail(l->err, "out of memory");
    return 0;
}

static int port_of(const struct ld *l, json_t *o, const char *path, const char *key, uint16_t *out)
{
    json_t *v;
    if (member(l, o, path, key, JSON_INTEGER, false, &v) < 0)
        return -1;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > 65535) {
        char p[160];
        snprintf(p, sizeof(p), "%s.%s", path, key);
        return bad(l, p, "not a port (0..65535)");
    }
    *out = (uint16_t)n;
    return 0;
}

/* An array of prefix strings; `family` 4 or 6 restricts them, 0 takes both. */
static int prefixes(const struct ld *l, json_t *o, const char *path, const char *key,
                    uint8_t family, struct xg_prefix_list *out)
{
    json_t *a, *v;
    size_t i;
    if (member(l, o, path, key, JSON_ARRAY, false, &a) < 0)
        return -1;
    json_array_foreach(a, i, v)
    {
        char p[180], why[200];
        struct xg_prefix pre;
        const char *wrong = NULL;
        if (!json_is_string(v) || json_string_length(v) >= XG_PREFIX_STRLEN ||
            xg_prefix_parse(json_string_value(v), XG_PREFIX_STRICT, &pre, why, sizeof(why)) < 0)
            wrong = "expected an address prefix";
        else if (family && pre.family != family)
            wrong = family == 4 ? "not an IPv4 prefix" : "not an IPv6 prefix";
        if (wrong) {
            snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
            return bad(l, p, wrong);
        }
        if (xg_prefix_list_add(out, &pre) < 0)
            return xg_fail(l->err, "out of memory");
    }
    return 0;
}

static int load_addrs(const struct ld *l, json_t *fleet, struct xg_fleet_host *h)
{
    json_t *a, *v;
    size_t i;
    if (member(l, fleet, "fleet", "addresses", JSON_ARRAY, false, &a) < 0)
        return -1;
    if (!(h->addrs = calloc(json_array_size(a) + 1, sizeof(*h->addrs))))
        return xg_fail(l->err, "out of memory");
    json_array_foreach(a, i, v)
    {
        char p[64], addr[XG_PREFIX_STRLEN];
        struct xg_fleet_addr *fa = &h->addrs[i];
        snprintf(p, sizeof(p), "fleet.addresses[%zu]", i);
        if (!json_is_object(v))
            return bad(l, p, "expected an object");
        if (str_into(l, v, p, "interface", false, fa->iface, sizeof(fa->iface)) < 0 ||
            str_into(l, v, p, "address", false, addr, sizeof(addr)) < 0)
            return -1;
        if (xg_addr_parse(addr, &fa->addr) < 0)
            return bad(l, p, "address: expected an IP address");
        h->addr_count++;
    }
    return 0;
}

static int load_policy(const struct ld *l, json_t *fleet, struct xg_fleet_host *h)
{
    json_t *p;
    const char *P = "fleet.policy";
    if (member(l, fleet, "fleet", "policy", JSON_OBJECT, true, &p) < 0)
        return -1;
    if (!p)
        return 0; /* audited without a policy */
    h->has_policy = true;
    if (str_into(l, p, P, "scenario", false, h->scenario, sizeof(h->scenario)) < 0 ||
        str_into(l, p, P, "transport", false, h->transport, sizeof(h->transport)) < 0 ||
        port_of(l, p, P, "migration_port", &h->policy_migration_port) < 0 ||
        port_of(l, p, P, "ssh_port", &h->ssh_port) < 0 ||
        str_into(l, p, P, "public_interface", false, h->public_if, sizeof(h->public_if)) < 0 ||
        str_into(l, p, P, "management_interface", false, h->management_if,
                 sizeof(h->management_if)) < 0 ||
        prefixes(l, p, P, "peers", 0, &h->peers) < 0)
        return -1;
    return 0;
}

static int load_reach(const struct ld *l, json_t *ifs, struct xg_fleet_host *h)
{
    json_t *v;
    size_t i;
    if (!(h->reach = calloc(json_array_size(ifs) + 1, sizeof(*h->reach))))
        return xg_fail(l->err, "out of memory");
    json_array_foreach(ifs, i, v)
    {
        char p[80];
        struct xg_fleet_reach *r = &h->reach[i];
        snprintf(p, sizeof(p), "fleet.firewall.migration.interfaces[%zu]", i);
        if (!json_is_object(v))
            return bad(l, p, "expected an object");
        h->reach_count++;
        if (str_into(l, v, p, "interface", false, r->iface, sizeof(r->iface)) < 0)
            return -1;
        for (int f = 0; f < 2; f++) {
            char pf[96];
            json_t *fam;
            snprintf(pf, sizeof(pf), "%s.%s", p, f ? "ipv6" : "ipv4");
            if (member(l, v, p, f ? "ipv6" : "ipv4", JSON_OBJECT, false, &fam) < 0 ||
                prefixes(l, fam, pf, "may", f ? 6 : 4, &r->may[f]) < 0 ||
                prefixes(l, fam, pf, "must", f ? 6 : 4, &r->must[f]) < 0)
                return -1;
        }
    }
    return 0;
}

static int load_firewall(const struct ld *l, json_t *fleet, struct xg_fleet_host *h)
{
    json_t *fw, *present, *mig, *ifs;
    const char *P = "fleet.firewall";
    if (member(l, fleet, "fleet", "firewall", JSON_OBJECT, false, &fw) < 0 ||
        member(l, fw, P, "present", JSON_TRUE, false, &present) < 0 ||
        str_into(l, fw, P, "error", true, h->fw_error, sizeof(h->fw_error)) < 0 ||
        str_into(l, fw, P, "digest", true, h->fw_digest, sizeof(h->fw_digest)) < 0 ||
        member(l, fw, P, "migration", JSON_OBJECT, false, &mig) < 0 ||
        port_of(l, mig, "fleet.firewall.migration", "port", &h->migration_port) < 0 ||
        member(l, mig, "fleet.firewall.migration", "interfaces", JSON_ARRAY, false, &ifs) < 0)
        return -1;
    h->fw_present = json_is_true(present);
    return load_reach(l, ifs, h);
}

static int load_cert(const struct ld *l, json_t *t, const char *key, struct xg_fleet_cert *c)
{
    json_t *o;
    char p[64], when[32];
    snprintf(p, sizeof(p), "fleet.tunnel.%s", key);
    if (member(l, t, "fleet.tunnel", key, JSON_OBJECT, false, &o) < 0 ||
        str_into(l, o, p, "error", true, c->error, sizeof(c->error)) < 0)
        return -1;
    if (c->error[0])
        return 0;
    if (str_into(l, o, p, "sha256", false, c->sha256, sizeof(c->sha256)) < 0 ||
        str_into(l, o, p, "not_after", false, when, sizeof(when)) < 0)
        return -1;
    struct tm tm = {0};
    const char *end = strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end)
        return bad(l, p, "not_after: expected YYYY-MM-DDTHH:MM:SSZ");
    c->not_after = timegm(&tm);
    c->present = true;
    return 0;
}

static int load_checks(const struct ld *l, json_t *doc, struct xg_fleet_host *h)
{
    json_t *a, *v, *summary, *ex;
    size_t i;
    if (member(l, doc, "", "checks", JSON_ARRAY, false, &a) < 0 ||
        member(l, doc, "", "summary", JSON_OBJECT, false, &summary) < 0 ||
        member(l, summary, "summary", "exit", JSON_INTEGER, false, &ex) < 0)
        return -1;
    h->audit_exit = json_integer_value(ex) == 0 ? 0 : json_integer_value(ex) == 1 ? 1 : 2;
    if (!(h->checks = calloc(json_array_size(a) + 1, sizeof(*h->checks))))
        return xg_fail(l->err, "out of memory");
    json_array_foreach(a, i, v)
    {
        char p[48], st[16];
        struct xg_fleet_audit_check *c = &h->checks[i];
        snprintf(p, sizeof(p), "checks[%zu]", i);
        if (!json_is_object(v))
            return bad(l, p, "expected an object");
        if (str_into(l, v, p, "id", false, c->id, sizeof(c->id)) < 0 ||
            str_into(l, v, p, "status", false, st, sizeof(st)) < 0)
            return -1;
        int s = 0;
        while (s <= XG_STATUS_WAIVED && strcmp(st, xg_status_name((enum xg_status)s)))
            s++;
        if (s > XG_STATUS_WAIVED)
            return bad(l, p, "status: not pass, fail, n/a, error or waived");
        c->status = (enum xg_status)s;
        h->check_count++;
    }
    return 0;
}

static int load_doc(const struct ld *l, json_t *doc, struct xg_fleet_host *h)
{
    json_t *schema, *host, *fleet, *tunnel;
    if (!json_is_object(doc))
        return bad(l, "(top)", "expected an object (a report of xenguard audit --format json)");
    if (member(l, doc, "", "schema", JSON_STRING, false, &schema) < 0)
        return -1;
    if (strcmp(json_string_value(schema), "xenguard-audit/1"))
        return bad(l, "schema", "not xenguard-audit/1");
    if (member(l, doc, "", "host", JSON_OBJECT, false, &host) < 0 ||
        str_dup(l, host, "host", "hostname", false, &h->hostname) < 0 ||
        str_dup(l, host, "host", "xen_version", true, &h->xen_version) < 0 ||
        load_checks(l, doc, h) < 0)
        return -1;
    if (!json_object_get(doc, "fleet"))
        return bad(l, "fleet", "missing: the report comes from an older xenguard audit");
    if (member(l, doc, "", "fleet", JSON_OBJECT, false, &fleet) < 0 ||
        load_addrs(l, fleet, h) < 0 || load_policy(l, fleet, h) < 0 ||
        load_firewall(l, fleet, h) < 0 ||
        member(l, fleet, "fleet", "tunnel", JSON_OBJECT, true, &tunnel) < 0)
        return -1;
    if (tunnel) {
        h->tunnel = true;
        if (load_cert(l, tunnel, "ca", &h->ca) < 0 || load_cert(l, tunnel, "cert", &h->cert) < 0)
            return -1;
    }
    return 0;
}

int xg_fleet_parse_report(const char *text, size_t len, const char *name, struct xg_fleet_host *out,
                          struct xg_err *err)
{
    struct ld l = {name, err};
    json_error_t je;
    memset(out, 0, sizeof(*out));
    if (!(out->report = strdup(name)))
        return xg_fail(err, "out of memory");
    if (len > XG_FLEET_MAX_REPORT) {
        xg_fleet_host_free(out);
        return xg_fail(err, "%s: larger than %u bytes", name, XG_FLEET_MAX_REPORT);
    }
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        xg_fleet_host_free(out);
        return xg_fail_at(err, name, (unsigned)(je.line > 0 ? je.line : 1),
                          (unsigned)(je.column > 0 ? je.column : 1), "%s", je.text);
    }
    int rc = load_doc(&l, doc, out);
    json_decref(doc);
    if (rc < 0)
        xg_fleet_host_free(out);
    return rc;
}

int xg_fleet_load_report(const char *path, struct xg_fleet_host *out, struct xg_err *err)
{
    char *text;
    size_t len;
    memset(out, 0, sizeof(*out));
    if (xg_file_read_input(path, XG_FLEET_MAX_REPORT, &text, &len, err) < 0)
        return -1;
    int rc = xg_fleet_parse_report(text, len, path, out, err);
    free(text);
    return rc;
}

void xg_fleet_host_free(struct xg_fleet_host *h)
{
    free(h->report);
    free(h->hostname);
    free(h->xen_version);
    free(h->addrs);
    xg_prefix_list_free(&h->peers);
    for (size_t i = 0; h->reach && i < h->reach_count; i++)
        for (int f = 0; f < 2; f++) {
            xg_prefix_list_free(&h->reach[i].may[f]);
            xg_prefix_list_free(&h->reach[i].must[f]);
        }
    free(h->reach);
    free(h->checks);
    memset(h, 0, sizeof(*h));
}

void xg_fleet_free(struct xg_fleet *f)
{
    for (size_t i = 0; i < f->count; i++)
        xg_fleet_host_free(&f->hosts[i]);
    free(f->hosts);
    memset(f, 0, sizeof(*f));
}

const char *xg_fleet_host_name(const struct xg_fleet_host *h)
{
    return h->hostname && h->hostname[0] ? h->hostname : h->report;
}

static bool link_local(const struct xg_prefix *p)
{
    return (p->family == 6 && p->addr[0] == 0xfe && (p->addr[1] & 0xc0) == 0x80) ||
           (p->family == 4 && p->addr[0] == 169 && p->addr[1] == 254);
}

int xg_fleet_cluster_addrs(const struct xg_fleet_host *h, struct xg_prefix_list *out)
{
    for (int pass = 0; pass < 2 && !out->count; pass++)
        for (size_t i = 0; i < h->addr_count; i++) {
            if (link_local(&h->addrs[i].addr))
                continue;
            if (pass == 0 && (!h->has_policy || strcmp(h->addrs[i].iface, h->management_if)))
                continue;
            if (xg_prefix_list_add(out, &h->addrs[i].addr) < 0)
                return -1;
        }
    return 0;
}
