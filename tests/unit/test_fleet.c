/*
 * test_fleet.c — `xenguard fleet` on small hand-written reports: the loader
 * (types, bounds, FILE:LINE:COL), each cluster check's verdicts and
 * findings, and the text rendering against tests/golden/fleet.txt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fleet/fleet.h"
#include "util/file.h"

#define A "192.0.2.11"
#define B "192.0.2.12"
#define C "192.0.2.13"

/* Options of one hand-written report. */
struct rep {
    const char *name, *addr;
    const char *peers[4];
    const char *may[4], *must[4]; /* NULL[0]: the peers */
    const char *scenario, *transport, *xen;
    bool no_policy;
    const char *ca, *ca_until, *cert_until; /* tunnel: CA fingerprint, notAfter of both */
};

static json_t *list(const char *const *v)
{
    json_t *a = json_array();
    for (int i = 0; i < 4 && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static char *report_text(const struct rep *r)
{
    const char *const *may = r->may[0] ? r->may : r->peers;
    const char *const *must = r->must[0] ? r->must : r->peers;
    json_t *policy = r->no_policy
                         ? json_null()
                         : json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:o}", "scenario",
                                     r->scenario ? r->scenario : "firewalled-subnet", "transport",
                                     r->transport ? r->transport : "xend", "migration_port", 8002,
                                     "ssh_port", 22, "public_interface", "eth0",
                                     "management_interface", "eth0", "peers", list(r->peers));
    json_t *tunnel =
        r->ca ? json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "ca", "sha256", r->ca, "not_after",
                          r->ca_until, "cert", "sha256", "sha256:00", "not_after", r->cert_until)
              : json_null();
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:i}, s:[{s:s, s:s}], s:{s:[{s:s, s:s}], s:o, "
        "s:{s:b, s:n, s:s, s:{s:s, s:i, s:[{s:s, s:{s:o, s:o}, s:{s:[], s:[]}}]}}, s:o}}",
        "schema", "xenguard-audit/1", "host", "hostname", r->name, "xen_version",
        r->xen ? r->xen : "4.17.3", "summary", "exit", 0, "checks", "id", "XG-FW-001", "status",
        "pass", "fleet", "addresses", "interface", "eth0", "address", r->addr, "policy", policy,
        "firewall", "present", 1, "error", "digest", "sha256:ab", "migration", "proto", "tcp",
        "port", 8002, "interfaces", "interface", "eth0", "ipv4", "may", list(may), "must",
        list(must), "ipv6", "may", "must", "tunnel", tunnel);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    return text;
}

/* The fleet of n reports, run at `now`. */
static void run(const struct rep *reps, size_t n, time_t now, struct xg_fleet *f,
                struct xg_fleet_report *out)
{
    f->hosts = calloc(n, sizeof(*f->hosts));
    f->count = 0;
    for (size_t i = 0; i < n; i++) {
        char *t = report_text(&reps[i]);
        struct xg_err err = {{0}};
        int rc = xg_fleet_parse_report(t, strlen(t), reps[i].name, &f->hosts[i], &err);
        free(t);
        if (rc < 0)
            fail_msg("%s", err.msg);
        f->count++;
    }
    assert_int_equal(xg_fleet_run(f, now, out), 0);
}

static const struct xg_fleet_result *result(const struct xg_fleet_report *r, const char *id)
{
    for (size_t i = 0; i < r->count; i++)
        if (!strcmp(r->results[i].def->id, id))
            return &r->results[i];
    fail_msg("no check %s", id);
    return NULL;
}

static bool has_finding(const struct xg_fleet_result *r, const char *text)
{
    for (size_t i = 0; i < r->finding_count; i++)
        if (strstr(r->findings[i], text))
            return true;
    return false;
}

static void done(struct xg_fleet *f, struct xg_fleet_report *r)
{
    xg_fleet_report_free(r);
    xg_fleet_free(f);
}

static const struct rep good[3] = {
    {.name = "a", .addr = A, .peers = {B "/32", C "/32"}},
    {.name = "b", .addr = B, .peers = {A "/32", C "/32"}},
    {.name = "c", .addr = C, .peers = {A "/32", B "/32"}},
};

static void test_consistent_cluster_passes(void **state)
{
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(good, 3, 0, &f, &r);
    assert_int_equal(result(&r, "XG-FLEET-001")->status, XG_STATUS_PASS);
    assert_int_equal(result(&r, "XG-FLEET-002")->status, XG_STATUS_PASS);
    assert_int_equal(result(&r, "XG-FLEET-003")->status, XG_STATUS_PASS);
    assert_int_equal(result(&r, "XG-FLEET-004")->status, XG_STATUS_NA);
    assert_int_equal(result(&r, "XG-FLEET-005")->status, XG_STATUS_NA);
    assert_int_equal(result(&r, "XG-FLEET-006")->status, XG_STATUS_PASS);
    assert_int_equal(result(&r, "XG-FLEET-007")->status, XG_STATUS_PASS);
    assert_int_equal(xg_fleet_exit_code(&r), 0);
    done(&f, &r);
}

static void test_asymmetric_peers_fail_001(void **state)
{
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    reps[0].peers[1] = NULL; /* a omits c */
    reps[0].may[0] = reps[0].must[0] = B "/32";
    reps[0].may[1] = reps[0].must[1] = C "/32"; /* its firewall still admits c */
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 0, &f, &r);
    const struct xg_fleet_result *p = result(&r, "XG-FLEET-001");
    assert_int_equal(p->status, XG_STATUS_FAIL);
    assert_int_equal(p->per_host[0], XG_STATUS_FAIL);
    assert_int_equal(p->per_host[1], XG_STATUS_PASS);
    assert_int_equal(p->per_host[2], XG_STATUS_PASS);
    assert_true(has_finding(p, "a does not list c (192.0.2.13) as a peer"));
    assert_int_equal(result(&r, "XG-FLEET-006")->status, XG_STATUS_PASS);
    assert_int_equal(xg_fleet_exit_code(&r), 1);
    done(&f, &r);
}

static void test_peer_naming_no_member_fails_001(void **state)
{
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    reps[1].peers[2] = "203.0.113.7/32";
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 0, &f, &r);
    const struct xg_fleet_result *p = result(&r, "XG-FLEET-001");
    assert_int_equal(p->per_host[1], XG_STATUS_FAIL);
    assert_true(has_finding(p, "b lists peer 203.0.113.7, which is no other member"));
    done(&f, &r);
}

static void test_no_policy_fails(void **state)
{
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    reps[2].no_policy = true;
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 0, &f, &r);
    assert_int_equal(result(&r, "XG-FLEET-001")->per_host[2], XG_STATUS_FAIL);
    assert_int_equal(result(&r, "XG-FLEET-002")->per_host[2], XG_STATUS_FAIL);
    assert_int_equal(result(&r, "XG-FLEET-006")->per_host[2], XG_STATUS_FAIL);
    assert_true(has_finding(result(&r, "XG-FLEET-001"), "c: audited without a policy"));
    done(&f, &r);
}

static void test_scenario_and_transport_must_agree(void **state)
{
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    reps[1].scenario = "untrusted";
    reps[2].transport = "tunnel";
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 0, &f, &r);
    const struct xg_fleet_result *s = result(&r, "XG-FLEET-002"), *t = result(&r, "XG-FLEET-003");
    assert_int_equal(s->status, XG_STATUS_FAIL);
    assert_int_equal(s->per_host[0], XG_STATUS_PASS);
    assert_int_equal(s->per_host[1], XG_STATUS_FAIL);
    assert_true(has_finding(s, "b: scenario untrusted, but a (and 1 more) firewalled-subnet"));
    assert_int_equal(t->per_host[2], XG_STATUS_FAIL);
    assert_true(has_finding(t, "c: migrates by tunnel (port 8002)"));
    done(&f, &r);
}

static void test_tunnel_ca_and_expiry(void **state)
{
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    for (int i = 0; i < 3; i++) {
        reps[i].transport = "tunnel";
        reps[i].ca = "sha256:aa";
        reps[i].ca_until = "2030-01-01T00:00:00Z";
        reps[i].cert_until = "2030-01-01T00:00:00Z";
    }
    reps[1].ca = "sha256:bb";
    reps[2].cert_until = "2026-01-20T00:00:00Z"; /* 19 days after `now` */
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 1767225600 /* 2026-01-01 */, &f, &r);
    const struct xg_fleet_result *ca = result(&r, "XG-FLEET-004"), *ex = result(&r, "XG-FLEET-005");
    assert_int_equal(ca->status, XG_STATUS_FAIL);
    assert_int_equal(ca->per_host[1], XG_STATUS_FAIL);
    assert_int_equal(ca->per_host[0], XG_STATUS_PASS);
    assert_int_equal(ex->per_host[2], XG_STATUS_FAIL);
    assert_int_equal(ex->per_host[0], XG_STATUS_PASS);
    assert_true(has_finding(ex, "c: host certificate expires on 2026-01-20 (within 30 days)"));
    done(&f, &r);
}

static void test_firewall_admits_outsider_or_misses_member(void **state)
{
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    reps[0].may[0] = "0.0.0.0/0"; /* a: everybody may */
    reps[1].must[0] = A "/32";    /* b: c only may (an unmodelled match), not must */
    reps[1].may[0] = A "/32";
    reps[1].may[1] = C "/32";
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 0, &f, &r);
    const struct xg_fleet_result *fw = result(&r, "XG-FLEET-006");
    assert_int_equal(fw->per_host[0], XG_STATUS_FAIL);
    assert_int_equal(fw->per_host[1], XG_STATUS_FAIL);
    assert_int_equal(fw->per_host[2], XG_STATUS_PASS);
    assert_true(has_finding(fw, "a admits 0.0.0.0/0 on TCP 8002 (eth0), which is not a member"));
    assert_true(has_finding(fw, "b does not admit c (192.0.2.13) on TCP 8002"));
    done(&f, &r);
}

static void test_firewall_prefix_of_members_only_passes(void **state)
{
    /* 192.0.2.12/31 holds exactly .12 and .13: b and c, both members */
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    reps[0].may[0] = "192.0.2.12/31";
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 0, &f, &r);
    assert_int_equal(result(&r, "XG-FLEET-006")->per_host[0], XG_STATUS_PASS);
    done(&f, &r);
}

static void test_xen_versions(void **state)
{
    struct rep reps[3];
    memcpy(reps, good, sizeof(reps));
    reps[0].xen = "4.17.1";
    reps[1].xen = "4.18.0";
    reps[2].xen = "4.17.3";
    struct xg_fleet f;
    struct xg_fleet_report r;
    run(reps, 3, 0, &f, &r);
    const struct xg_fleet_result *x = result(&r, "XG-FLEET-007");
    assert_int_equal(x->per_host[1], XG_STATUS_PASS);
    assert_int_equal(x->per_host[0], XG_STATUS_FAIL);
    assert_int_equal(x->per_host[2], XG_STATUS_FAIL);
    assert_true(has_finding(x, "a runs Xen 4.17.1: b (Xen 4.18.0) cannot migrate to it"));
    done(&f, &r);
}

/* ---- the loader: hostile reports ---- */

static void expect_error(const char *text, const char *want)
{
    struct xg_fleet_host h;
    struct xg_err err = {{0}};
    assert_int_equal(xg_fleet_parse_report(text, strlen(text), "r.json", &h, &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("error '%s' lacks '%s'", err.msg, want);
}

static void test_loader_rejects(void **state)
{
    expect_error("{\n  \"schema\": \"xenguard-audit/1\",\n  oops\n}", "r.json:3:");
    expect_error("[]", "r.json: (top): expected an object");
    expect_error("{\"schema\": \"other/1\"}", "r.json: schema: not xenguard-audit/1");
    expect_error("{\"schema\": \"xenguard-audit/1\", \"schema\": \"xenguard-audit/1\"}",
                 "duplicate");
    char *t = report_text(&good[0]);
    /* a peer that is not a prefix, a port out of range, a wrong type */
    static const struct {
        const char *from, *to, *want;
    } bad[] = {
        {"\"192.0.2.12/32\"", "\"192.0.2.1/8\"", "fleet.policy.peers[0]: expected an address"},
        {"\"migration_port\": 8002", "\"migration_port\": 70000", "not a port"},
        {"\"present\": true", "\"present\": \"yes\"", "fleet.firewall.present: expected a boolean"},
        {"\"interface\": \"eth0\"", "\"interface\": \"an-interface-name-far-too-long\"",
         "too long"},
        {"\"fleet\"", "\"fleet0\"", "fleet: missing"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *at = strstr(t, bad[i].from);
        assert_non_null(at);
        char *mod = malloc(strlen(t) + strlen(bad[i].to) + 1);
        sprintf(mod, "%.*s%s%s", (int)(at - t), t, bad[i].to, at + strlen(bad[i].from));
        expect_error(mod, bad[i].want);
        free(mod);
    }
    free(t);
}

static void test_loader_bounds_lists(void **state)
{
    struct xg_buf b = {0};
    xg_buf_puts(&b, "{\"schema\": \"xenguard-audit/1\", \"host\": {\"hostname\": \"x\"}, "
                    "\"summary\": {\"exit\": 0}, \"checks\": [");
    for (int i = 0; i <= XG_FLEET_MAX_ITEMS; i++)
        xg_buf_printf(&b, "%s{}", i ? "," : "");
    xg_buf_puts(&b, "]}");
    expect_error(xg_buf_str(&b), "checks: too many items");
    xg_buf_free(&b);
}

/* ---- the text rendering: tests/golden/fleet.txt from tests/golden/fleet/{a,b,c}.json ---- */

static void test_text_golden(void **state)
{
    static const char *files[] = {"tests/golden/fleet/a.json", "tests/golden/fleet/b.json",
                                  "tests/golden/fleet/c.json"};
    struct xg_fleet f = {calloc(3, sizeof(struct xg_fleet_host)), 0};
    struct xg_fleet_report r;
    struct xg_err err = {{0}};
    for (size_t i = 0; i < 3; i++, f.count++)
        if (xg_fleet_load_report(files[i], &f.hosts[i], &err) < 0)
            fail_msg("%s", err.msg);
    assert_int_equal(xg_fleet_run(&f, 0, &r), 0);
    struct xg_buf out = {0};
    xg_fleet_text(&r, &out);
    char *golden;
    size_t len;
    assert_int_equal(xg_file_read("tests/golden/fleet.txt", false, &golden, &len, &err), 0);
    assert_string_equal(xg_buf_str(&out), golden);
    assert_int_equal(xg_fleet_exit_code(&r), 1);

    /* the same results as JSON and JUnit, both parsed back */
    struct xg_buf js = {0}, xml = {0};
    xg_fleet_json(&r, &js);
    json_t *doc = json_loads(xg_buf_str(&js), 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "xenguard-fleet/1");
    json_t *h0 = json_array_get(json_object_get(doc, "hosts"), 0);
    assert_string_equal(json_string_value(json_object_get(h0, "hostname")), "dom0-a");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(h0, "checks"), "XG-FLEET-001")), "fail");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "summary"), "fail")),
                     3);
    json_decref(doc);
    xg_fleet_junit(&r, &xml);
    xmlDocPtr x = xmlReadMemory(xg_buf_str(&xml), (int)xml.len, "fleet.xml", NULL, XML_PARSE_NONET);
    assert_non_null(x);
    xmlNodePtr suite = xmlDocGetRootElement(x)->children;
    while (suite && suite->type != XML_ELEMENT_NODE)
        suite = suite->next;
    assert_non_null(suite);
    xmlChar *tests = xmlGetProp(suite, BAD_CAST "tests"),
            *fails = xmlGetProp(suite, BAD_CAST "failures");
    assert_string_equal((char *)tests, "7");
    assert_string_equal((char *)fails, "3");
    xmlFree(tests);
    xmlFree(fails);
    xmlFreeDoc(x);
    xg_buf_free(&js);
    xg_buf_free(&xml);
    free(golden);
    xg_buf_free(&out);
    done(&f, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consistent_cluster_passes),
        cmocka_unit_test(test_asymmetric_peers_fail_001),
        cmocka_unit_test(test_peer_naming_no_member_fails_001),
        cmocka_unit_test(test_no_policy_fails),
        cmocka_unit_test(test_scenario_and_transport_must_agree),
        cmocka_unit_test(test_tunnel_ca_and_expiry),
        cmocka_unit_test(test_firewall_admits_outsider_or_misses_member),
        cmocka_unit_test(test_firewall_prefix_of_members_only_passes),
        cmocka_unit_test(test_xen_versions),
        cmocka_unit_test(test_loader_rejects),
        cmocka_unit_test(test_loader_bounds_lists),
        cmocka_unit_test(test_text_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
