/*
 * test_audit_checks.c — checks as pure functions: host models and policies
 * built by hand (the scenario checks against struct xg_policy), the check
 * table's invariants, waivers and exit codes, and the JSON report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>

#include "check/check.h"
#include "report/report.h"

/* ---- model builders ---- */

static void add_socket(struct xg_host *h, uint8_t proto, const char *addr, uint16_t port,
                       const char *proc)
{
    h->sockets_present = true;
    h->socket_tables = XG_SOCKTAB_TCP | XG_SOCKTAB_TCP6 | XG_SOCKTAB_UDP | XG_SOCKTAB_UDP6;
    h->procs_present = true;
    h->sockets = realloc(h->sockets, (h->socket_count + 1) * sizeof(*h->sockets));
    struct xg_socket *s = &h->sockets[h->socket_count++];
    memset(s, 0, sizeof(*s));
    assert_int_equal(xg_addr_parse(addr, &s->addr), 0);
    s->family = s->addr.family;
    s->proto = proto;
    s->port = port;
    snprintf(s->process, sizeof(s->process), "%s", proc);
}

static void add_iface(struct xg_host *h, const char *name, const char *addr)
{
    h->ifaces_present = true;
    h->ifaces = realloc(h->ifaces, (h->iface_count + 1) * sizeof(*h->ifaces));
    struct xg_iface *f = &h->ifaces[h->iface_count++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    struct xg_prefix p;
    assert_int_equal(xg_addr_parse(addr, &p), 0);
    assert_int_equal(xg_prefix_list_add(&f->addrs, &p), 0);
}

static void add_sysctl(struct xg_host *h, uint8_t fam, const char *iface, const char *name, int v)
{
    h->sysctl_present = true;
    h->sysctls = realloc(h->sysctls, (h->sysctl_count + 1) * sizeof(*h->sysctls));
    struct xg_sysctl *s = &h->sysctls[h->sysctl_count++];
    memset(s, 0, sizeof(*s));
    s->family = fam;
    snprintf(s->iface, sizeof(s->iface), "%s", iface);
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->value = v;
}

static void add_peer(struct xg_prefix_list *l, const char *text)
{
    struct xg_prefix p;
    char why[200];
    assert_int_equal(xg_prefix_parse(text, XG_PREFIX_STRICT, &p, why, sizeof(why)), 0);
    assert_int_equal(xg_prefix_list_add(l, &p), 0);
}

static char *admins[] = {"alice"};

/* An isolated-management policy: eth0 public, eth1 management, peers .11/.12, admin alice. */
static void iso_policy(struct xg_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->scenario = XG_SCENARIO_ISOLATED_MANAGEMENT;
    strcpy(p->public_if, "eth0");
    strcpy(p->management_if, "eth1");
    p->transport = XG_TRANSPORT_XEND;
    p->migration_port = 8002;
    p->ssh_port = 22;
    add_peer(&p->peers, "192.0.2.11");
    add_peer(&p->peers, "192.0.2.12");
    p->admin_users = admins;
    p->admin_user_count = 1;
}

static void policy_done(struct xg_policy *p)
{
    xg_prefix_list_free(&p->peers);
}

static enum xg_status run(const char *id, const struct xg_host *h, const struct xg_policy *p,
                          char *first_evidence, size_t size)
{
    const struct xg_check_def *d = xg_check_find(id);
    assert_non_null(d);
    struct xg_result r;
    xg_check_run(d, h, p, &r);
    if (first_evidence && size) {
        first_evidence[0] = '\0';
        for (size_t i = 0; i < r.evidence_count; i++) {
            strncat(first_evidence, r.evidence[i], size - strlen(first_evidence) - 2);
            strncat(first_evidence, "\n", size - strlen(first_evidence) - 1);
        }
    }
    enum xg_status st = r.status;
    xg_result_free(&r);
    return st;
}

#define STATUS(id, h, p) run(id, h, p, NULL, 0)

/* ---- table ---- */

static void table_ids_unique_and_documented(void **state)
{
    size_t n;
    const struct xg_check_def *t = xg_checks(&n);
    assert_true(n >= 37);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(t[i].id, "XG-", 3);
        assert_true(strlen(t[i].title) > 10);
        assert_true(strlen(t[i].description) > 20);
        assert_true(strlen(t[i].remediation) > 10);
        assert_non_null(t[i].run);
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(t[i].id, t[k].id);
        if (i)
            assert_true(t[i - 1].practice <= t[i].practice);
    }
    assert_ptr_equal(xg_check_find("xg-ssh-001"), xg_check_find("XG-SSH-001"));
    assert_null(xg_check_find("XG-NOPE-001"));
}

static void empty_model_is_never_pass(void **state)
{
    struct xg_host h = {0};
    size_t n;
    const struct xg_check_def *t = xg_checks(&n);
    for (size_t i = 0; i < n; i++) {
        struct xg_result r;
        xg_check_run(&t[i], &h, NULL, &r);
        assert_int_equal(r.status, XG_STATUS_NA);
        assert_non_null(r.reason);
        xg_result_free(&r);
    }
}

static void parse_error_is_error(void **state)
{
    struct xg_host h = {0};
    h.sshd_present = true;
    h.errors[XG_SEC_SSHD] = strdup("/etc/ssh/sshd_config:3:1: 'port' has no value");
    assert_int_equal(STATUS("XG-SSH-001", &h, NULL), XG_STATUS_ERROR);
    assert_int_equal(STATUS("XG-SSH-004", &h, NULL), XG_STATUS_ERROR);
    xg_host_free(&h);
}

/* ---- scenario checks against the policy struct ---- */

static void relocation_bound_to_management(void **state)
{
    struct xg_policy p;
    iso_policy(&p);
    struct xg_host h = {0};
    add_iface(&h, "eth0", "198.51.100.10");
    add_iface(&h, "eth1", "192.0.2.10");
    add_socket(&h, IPPROTO_TCP, "192.0.2.10", 8002, "xend");
    assert_int_equal(STATUS("XG-MIG-001", &h, &p), XG_STATUS_PASS);
    h.sockets[0].addr.addr[0] = 198; /* 198.0.2.10: not on eth1 */
    assert_int_equal(STATUS("XG-MIG-001", &h, &p), XG_STATUS_FAIL);
    xg_addr_parse("198.51.100.10", &h.sockets[0].addr); /* the public address */
    assert_int_equal(STATUS("XG-MIG-001", &h, &p), XG_STATUS_FAIL);
    assert_int_equal(STATUS("XG-SVC-002", &h, &p), XG_STATUS_FAIL);   /* bound to public eth0 */
    assert_int_equal(STATUS("XG-MIG-001", &h, NULL), XG_STATUS_PASS); /* no policy: specific */
    xg_addr_parse("0.0.0.0", &h.sockets[0].addr);
    assert_int_equal(STATUS("XG-MIG-001", &h, NULL), XG_STATUS_FAIL);
    /* the policy's migration port is the one judged */
    p.migration_port = 9002;
    assert_int_equal(STATUS("XG-MIG-001", &h, &p), XG_STATUS_PASS);
    /* xend relocation with an empty address binds everything */
    h.xend_present = true;
    xg_kv_add(&h.xend, "xend-relocation-server", "yes", "x.sxp", 1);
    assert_int_equal(STATUS("XG-MIG-001", &h, &p), XG_STATUS_FAIL);
    xg_kv_add(&h.xend, "xend-relocation-address", "192.0.2.10", "x.sxp", 2);
    assert_int_equal(STATUS("XG-MIG-001", &h, &p), XG_STATUS_PASS);
    xg_host_free(&h);
    policy_done(&p);
}

static void cleartext_migration_per_scenario(void **state)
{
    struct xg_policy p;
    iso_policy(&p);
    struct xg_host h = {0};
    h.xend_present = true;
    xg_kv_add(&h.xend, "xend-relocation-server", "yes", "x.sxp", 1);
    assert_int_equal(STATUS("XG-MIG-003", &h, &p), XG_STATUS_NA);     /* isolated: not judged */
    assert_int_equal(STATUS("XG-MIG-003", &h, NULL), XG_STATUS_FAIL); /* no policy: untrusted */
    p.scenario = XG_SCENARIO_UNTRUSTED;
    p.transport = XG_TRANSPORT_TUNNEL;
    assert_int_equal(STATUS("XG-MIG-003", &h, &p), XG_STATUS_FAIL);
    xg_kv_free(&h.xend);
    xg_kv_add(&h.xend, "xend-relocation-server", "no", "x.sxp", 1);
    add_socket(&h, IPPROTO_TCP, "203.0.113.10", 8002, "xenguard");
    assert_int_equal(STATUS("XG-MIG-003", &h, &p), XG_STATUS_PASS); /* the tunnel */
    add_socket(&h, IPPROTO_TCP, "203.0.113.10", 8002, "socat");
    assert_int_equal(STATUS("XG-MIG-003", &h, &p), XG_STATUS_FAIL);
    p.transport = XG_TRANSPORT_XEND;
    h.socket_count = 1;
    assert_int_equal(STATUS("XG-MIG-003", &h, &p), XG_STATUS_FAIL);
    xg_host_free(&h);
    policy_done(&p);
}

static void xend_hosts_allow_regexes(void **state)
{
    struct xg_policy p;
    iso_policy(&p);
    struct xg_host h = {0};
    h.xend_present = true;
    xg_kv_add(&h.xend, "xend-relocation-server", "yes", "x.sxp", 1);
    static const struct {
        const char *re;
        enum xg_status st;
        const char *why;
    } cases[] = {
        {"^192\\.0\\.2\\.11$ ^192\\.0\\.2\\.12$", XG_STATUS_PASS, "admits exactly 192.0.2.11"},
        {"^192\\.0\\.2\\.99$", XG_STATUS_FAIL, "not a peer"},
        {"^192.0.2.11$", XG_STATUS_FAIL, "unescaped '.'"},
        {"^192\\.0\\.2\\.11", XG_STATUS_FAIL, "not anchored"},
        {".*", XG_STATUS_FAIL, "not anchored"},
        {"^dom0-b\\.example$", XG_STATUS_FAIL, "host name"},
        {"^192\\.0\\.2\\.1[12]$", XG_STATUS_FAIL, "regex operator"},
        /* xend matches the reverse-DNS name too: a name admits whoever sets that PTR */
        {"^localhost$", XG_STATUS_FAIL, "host name"},
        {"^192\\.0\\.2\\.11$ ^localhost$", XG_STATUS_FAIL, "reverse-DNS name"},
        /* split(" "): a doubled space is an empty pattern, which matches everyone */
        {"^192\\.0\\.2\\.11$  ^192\\.0\\.2\\.12$", XG_STATUS_FAIL, "empty pattern"},
        {" ", XG_STATUS_FAIL, "empty pattern"},
        {"^192\\.0\\.2\\.11$\t^192\\.0\\.2\\.12$", XG_STATUS_FAIL, "one pattern"},
        /* a list that admits no peer of the policy */
        {"^127\\.0\\.0\\.1$", XG_STATUS_FAIL, "none of the policy's peers"},
        {"", XG_STATUS_FAIL, "every host"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        xg_kv_free(&h.xend);
        xg_kv_add(&h.xend, "xend-relocation-server", "yes", "x.sxp", 1);
        xg_kv_add(&h.xend, "xend-relocation-hosts-allow", cases[i].re, "x.sxp", 2);
        char ev[2048];
        enum xg_status st = run("XG-XEND-003", &h, &p, ev, sizeof(ev));
        if (st != cases[i].st || !strstr(ev, cases[i].why))
            fail_msg("hosts-allow '%s': status %d, evidence: %s", cases[i].re, st, ev);
    }
    /* relocation off: nothing to judge */
    xg_kv_free(&h.xend);
    xg_kv_add(&h.xend, "xend-relocation-server", "no", "x.sxp", 1);
    assert_int_equal(STATUS("XG-XEND-003", &h, &p), XG_STATUS_PASS);
    /* XEND-001 follows the policy's transport */
    xg_kv_free(&h.xend);
    xg_kv_add(&h.xend, "xend-relocation-server", "yes", "x.sxp", 1);
    assert_int_equal(STATUS("XG-XEND-001", &h, &p), XG_STATUS_PASS);
    p.transport = XG_TRANSPORT_SSH;
    assert_int_equal(STATUS("XG-XEND-001", &h, &p), XG_STATUS_FAIL);
    assert_int_equal(STATUS("XG-XEND-001", &h, NULL), XG_STATUS_FAIL);
    xg_host_free(&h);
    policy_done(&p);
}

static void sshd_against_policy(void **state)
{
    struct xg_policy p;
    iso_policy(&p);
    struct xg_host h = {0};
    h.sshd_present = true;
    add_iface(&h, "eth0", "198.51.100.10");
    add_iface(&h, "eth1", "192.0.2.10");
    xg_kv_add(&h.sshd, "listenaddress", "192.0.2.10:22", "s", 1);
    xg_kv_add(&h.sshd, "allowusers", "alice@192.0.2.0/24", "s", 2);
    assert_int_equal(STATUS("XG-SSH-003", &h, &p), XG_STATUS_PASS);
    assert_int_equal(STATUS("XG-SSH-004", &h, &p), XG_STATUS_PASS);
    xg_kv_add(&h.sshd, "listenaddress", "198.51.100.10", "s", 3);
    xg_kv_add(&h.sshd, "allowusers", "bob", "s", 4);
    assert_int_equal(STATUS("XG-SSH-003", &h, &p), XG_STATUS_FAIL);
    assert_int_equal(STATUS("XG-SSH-003", &h, NULL), XG_STATUS_PASS); /* no mgmt known */
    assert_int_equal(STATUS("XG-SSH-004", &h, &p), XG_STATUS_FAIL);
    assert_int_equal(STATUS("XG-SSH-004", &h, NULL), XG_STATUS_PASS); /* nobody declared */
    xg_kv_free(&h.sshd);
    xg_kv_add(&h.sshd, "listenaddress", "[::]:22", "s", 1);
    xg_kv_add(&h.sshd, "allowusers", "a*", "s", 2);
    assert_int_equal(STATUS("XG-SSH-003", &h, NULL), XG_STATUS_FAIL);
    assert_int_equal(STATUS("XG-SSH-004", &h, NULL), XG_STATUS_FAIL);
    xg_kv_free(&h.sshd);
    xg_kv_add(&h.sshd, "permitrootlogin", "prohibit-password", "s", 1);
    xg_kv_add(&h.sshd, "passwordauthentication", "no", "s", 2);
    assert_int_equal(STATUS("XG-SSH-001", &h, NULL), XG_STATUS_PASS);
    assert_int_equal(STATUS("XG-SSH-002", &h, NULL), XG_STATUS_FAIL); /* kbd-interactive yes */
    xg_kv_add(&h.sshd, "challengeresponseauthentication", "no", "s", 3);
    assert_int_equal(STATUS("XG-SSH-002", &h, NULL), XG_STATUS_PASS);
    xg_host_free(&h);
    policy_done(&p);
}

static void users_against_admins(void **state)
{
    struct xg_policy p;
    iso_policy(&p);
    struct xg_host h = {0};
    h.passwd_present = h.shadow_present = h.group_present = true;
    h.accounts = calloc(2, sizeof(*h.accounts));
    h.account_count = 2;
    h.accounts[0] = (struct xg_account){strdup("root"), 0, 0, strdup("/root"), strdup("/bin/bash"),
                                        XG_PW_USABLE,   1};
    h.accounts[1] = (struct xg_account){
        strdup("alice"), 1000, 1000, strdup("/home/alice"), strdup("/bin/bash"), XG_PW_LOCKED, 2};
    h.groups = calloc(1, sizeof(*h.groups));
    h.group_count = 1;
    h.groups[0].name = strdup("sudo");
    h.groups[0].gid = 27;
    h.groups[0].members = calloc(1, sizeof(char *));
    h.groups[0].members[0] = strdup("alice");
    h.groups[0].member_count = 1;
    assert_int_equal(STATUS("XG-USR-001", &h, &p), XG_STATUS_PASS);
    assert_int_equal(STATUS("XG-USR-003", &h, &p), XG_STATUS_PASS);
    assert_int_equal(STATUS("XG-USR-001", &h, NULL), XG_STATUS_FAIL);
    assert_int_equal(STATUS("XG-USR-003", &h, NULL), XG_STATUS_FAIL);
    assert_int_equal(STATUS("XG-USR-002", &h, NULL), XG_STATUS_PASS);
    h.accounts[1].uid = 0;
    assert_int_equal(STATUS("XG-USR-002", &h, &p), XG_STATUS_FAIL);
    xg_host_free(&h);
    policy_done(&p);
}

static void xendomains_against_transport(void **state)
{
    struct xg_policy p;
    iso_policy(&p);
    struct xg_host h = {0};
    h.xendomains_present = true;
    h.toolstack = XG_TOOLSTACK_XL;
    xg_kv_add(&h.xendomains, "XENDOMAINS_MIGRATE", "dom0-b", "x", 1);
    p.transport = XG_TRANSPORT_SSH;
    assert_int_equal(STATUS("XG-XL-004", &h, &p), XG_STATUS_PASS);
    p.transport = XG_TRANSPORT_OFF;
    assert_int_equal(STATUS("XG-XL-004", &h, &p), XG_STATUS_FAIL);
    h.toolstack = XG_TOOLSTACK_XEND;
    p.transport = XG_TRANSPORT_SSH;
    assert_int_equal(STATUS("XG-XL-004", &h, &p), XG_STATUS_FAIL);
    xg_host_free(&h);
    policy_done(&p);
}

static void sysctl_semantics(void **state)
{
    struct xg_host h = {0};
    add_sysctl(&h, 4, "all", "rp_filter", 1);
    add_sysctl(&h, 4, "default", "rp_filter", 1);
    add_sysctl(&h, 4, "eth0", "rp_filter", 0); /* max(all, eth0) = 1 */
    add_sysctl(&h, 4, "all", "accept_source_route", 0);
    add_sysctl(&h, 4, "eth0", "accept_source_route", 1); /* all AND eth0 = 0 */
    add_sysctl(&h, 4, "eth0", "accept_redirects", 0);
    /* conf/default of source routes and all/default of redirects are missing: no pass */
    assert_int_equal(STATUS("XG-NET-001", &h, NULL), XG_STATUS_PASS);
    assert_int_equal(STATUS("XG-NET-002", &h, NULL), XG_STATUS_NA);
    assert_int_equal(STATUS("XG-NET-003", &h, NULL), XG_STATUS_NA);
    add_sysctl(&h, 4, "default", "accept_source_route", 0);
    add_sysctl(&h, 4, "all", "accept_redirects", 0);
    add_sysctl(&h, 4, "default", "accept_redirects", 0);
    assert_int_equal(STATUS("XG-NET-002", &h, NULL), XG_STATUS_PASS);
    assert_int_equal(STATUS("XG-NET-003", &h, NULL), XG_STATUS_PASS);
    h.sysctls[0].value = 0;
    assert_int_equal(STATUS("XG-NET-001", &h, NULL), XG_STATUS_FAIL);
    h.sysctls[0].value = 2; /* loose */
    assert_int_equal(STATUS("XG-NET-001", &h, NULL), XG_STATUS_FAIL);
    h.sysctls[3].value = 1;
    assert_int_equal(STATUS("XG-NET-002", &h, NULL), XG_STATUS_FAIL);
    h.sysctls[5].value = 1;
    assert_int_equal(STATUS("XG-NET-003", &h, NULL), XG_STATUS_FAIL);
    xg_host_free(&h);
}

/* ---- waivers, exit codes, JSON ---- */

static void waivers_and_exit(void **state)
{
    struct xg_waivers w;
    struct xg_err err;
    const char *t = "# accepted\nXG-SSH-003 2026-06-30 jump host on the public side\n"
                    "xg-ssh-004 2026-06-29 old\n";
    assert_int_equal(xg_waivers_parse(t, strlen(t), "w", &w, &err), 0);
    assert_int_equal(w.count, 2);
    assert_string_equal(w.items[1].id, "XG-SSH-004");
    struct xg_result r[3] = {{0}};
    r[0].def = xg_check_find("XG-SSH-003");
    r[0].status = XG_STATUS_FAIL;
    r[1].def = xg_check_find("XG-SSH-004");
    r[1].status = XG_STATUS_FAIL;
    r[2].def = xg_check_find("XG-USR-002");
    r[2].status = XG_STATUS_PASS;
    struct xg_host h = {0};
    struct xg_audit a = {&h, NULL, XG_SEV_MEDIUM, false, r, 3};
    assert_int_equal(xg_audit_exit_code(&a), 1);
    xg_audit_apply_waivers(&a, &w, "2026-06-30"); /* the expiry day itself still counts */
    assert_int_equal(r[0].status, XG_STATUS_WAIVED);
    assert_non_null(strstr(r[0].reason, "jump host"));
    assert_int_equal(r[1].status, XG_STATUS_FAIL);
    assert_non_null(strstr(r[1].evidence[0], "waiver expired on 2026-06-29"));
    assert_int_equal(xg_audit_exit_code(&a), 1);
    a.fail_on = XG_SEV_HIGH; /* SSH-004 is medium */
    assert_int_equal(xg_audit_exit_code(&a), 0);

    char *json = xg_report_json(&a);
    json_error_t je;
    json_t *doc = json_loads(json, 0, &je);
    assert_non_null(doc);
    json_t *c0 = json_array_get(json_object_get(doc, "checks"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "status")), "waived");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "summary"), "waived")),
                     1);
    json_decref(doc);
    free(json);
    for (size_t i = 0; i < 3; i++)
        xg_result_free(&r[i]);
    xg_waivers_free(&w);

    static const char *bad[] = {"XG-NOPE-1 2026-01-01 x\n", "XG-SSH-003 2026-13-01 x\n",
                                "XG-SSH-003 tomorrow x\n", "XG-SSH-003 2026-01-01\n"};
    static const char *msg[] = {"w:1:1: unknown check ID", "w:1:12: expiry must be a date",
                                "w:1:12: expiry must be a date", "w:1:22: a waiver needs a reason"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(xg_waivers_parse(bad[i], strlen(bad[i]), "w", &w, &err), -1);
        if (strncmp(err.msg, msg[i], strlen(msg[i])))
            fail_msg("'%s' -> '%s'", bad[i], err.msg);
    }
}

/* ---- the evidence rule (issue 15) ---- */

static void run_nothing(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
}

static void run_partial_pass(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    xg_evidence(r, "something read");
    xg_partial(r, "cannot read /x: Permission denied");
    xg_partial(r, "a second gap");
}

static void run_partial_fail(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    xg_failf(r, "found it");
    xg_partial(r, "cannot read /x: Permission denied");
}

static void pass_needs_evidence(void **state)
{
    struct xg_host h = {0};
    struct xg_check_def d = {"XG-TEST-001", XG_PRACTICE_HOST, XG_SEV_LOW, "t", "d",
                             "f",           run_nothing};
    struct xg_result r;
    xg_check_run(&d, &h, NULL, &r);
    assert_int_equal(r.status, XG_STATUS_NA);
    assert_string_equal(r.reason, "no evidence read");
    xg_result_free(&r);
    d.run = run_partial_pass;
    xg_check_run(&d, &h, NULL, &r);
    assert_int_equal(r.status, XG_STATUS_NA);
    assert_string_equal(r.reason, "cannot read /x: Permission denied"); /* the first gap */
    xg_result_free(&r);
    d.run = run_partial_fail;
    xg_check_run(&d, &h, NULL, &r);
    assert_int_equal(r.status, XG_STATUS_FAIL);
    assert_int_equal(r.evidence_count, 2);
    assert_string_equal(r.evidence[1], "incomplete evidence: cannot read /x: Permission denied");
    xg_result_free(&r);
}

static void add_account(struct xg_host *h, const char *name, uid_t uid, enum xg_pw_state pw)
{
    h->passwd_present = true;
    h->accounts = realloc(h->accounts, (h->account_count + 1) * sizeof(*h->accounts));
    h->accounts[h->account_count++] = (struct xg_account){
        strdup(name), uid, uid, strdup("/"), strdup("/usr/sbin/nologin"), pw, 1};
}

static void unreadable_shadow_is_not_a_pass(void **state)
{
    struct xg_host h = {0};
    add_account(&h, "root", 0, XG_PW_UNKNOWN);
    add_account(&h, "daemon", 1, XG_PW_UNKNOWN);
    xg_host_unreadable_add(&h, "/etc/shadow", EACCES);
    char ev[512];
    const struct xg_check_def *d = xg_check_find("XG-USR-002");
    struct xg_result r;
    xg_check_run(d, &h, NULL, &r);
    assert_int_equal(r.status, XG_STATUS_NA);
    assert_non_null(strstr(r.reason, "cannot read /etc/shadow: Permission denied"));
    xg_result_free(&r);
    assert_int_equal(STATUS("XG-USR-001", &h, NULL), XG_STATUS_NA);
    /* what passwd alone shows still fails */
    add_account(&h, "toor", 0, XG_PW_UNKNOWN);
    assert_int_equal(run("XG-USR-002", &h, NULL, ev, sizeof(ev)), XG_STATUS_FAIL);
    assert_non_null(strstr(ev, "toor has uid 0"));
    assert_non_null(strstr(ev, "incomplete evidence"));
    /* with shadow read, the same accounts are judged */
    h.accounts[2].uid = 1003; /* no second root any more */
    h.shadow_present = true;
    assert_int_equal(STATUS("XG-USR-002", &h, NULL), XG_STATUS_PASS);
    xg_host_free(&h);
}

static void sysctls_need_every_value(void **state)
{
    struct xg_host h = {0};
    add_sysctl(&h, 4, "all", "rp_filter", 1); /* and nothing else */
    assert_int_equal(STATUS("XG-NET-001", &h, NULL), XG_STATUS_NA);
    assert_int_equal(STATUS("XG-NET-002", &h, NULL), XG_STATUS_NA);
    assert_int_equal(STATUS("XG-NET-003", &h, NULL), XG_STATUS_NA);
    add_sysctl(&h, 4, "default", "rp_filter", 1);
    add_sysctl(&h, 4, "eth0", "rp_filter", 1);
    assert_int_equal(STATUS("XG-NET-001", &h, NULL), XG_STATUS_PASS);
    /* ip -j addr names an interface conf/ has no value for */
    add_iface(&h, "eth0", "192.0.2.10");
    add_iface(&h, "eth1", "198.51.100.10");
    assert_int_equal(STATUS("XG-NET-001", &h, NULL), XG_STATUS_NA);
    xg_host_free(&h);
}

static void loopback_only_dom0_is_na(void **state)
{
    struct xg_host h = {0};
    static const char *const names[] = {"rp_filter", "accept_source_route", "accept_redirects"};
    for (size_t i = 0; i < 3; i++) {
        add_sysctl(&h, 4, "all", names[i], i ? 1 : 0); /* every value wrong */
        add_sysctl(&h, 4, "default", names[i], i ? 1 : 0);
        add_sysctl(&h, 4, "lo", names[i], i ? 1 : 0);
    }
    assert_int_equal(STATUS("XG-NET-001", &h, NULL), XG_STATUS_NA);
    add_iface(&h, "lo", "127.0.0.1");
    char ev[256];
    for (size_t i = 0; i < 3; i++) {
        const char *id = i == 0 ? "XG-NET-001" : i == 1 ? "XG-NET-002" : "XG-NET-003";
        struct xg_result r;
        xg_check_run(xg_check_find(id), &h, NULL, &r);
        assert_int_equal(r.status, XG_STATUS_NA);
        assert_non_null(strstr(r.reason, "only loopback"));
        xg_result_free(&r);
    }
    add_iface(&h, "eth0", "192.0.2.10"); /* a network after all: judged, and wrong */
    add_sysctl(&h, 4, "eth0", "rp_filter", 0);
    assert_int_equal(run("XG-NET-001", &h, NULL, ev, sizeof(ev)), XG_STATUS_FAIL);
    xg_host_free(&h);
}

static void report_keeps_any_bytes(void **state)
{
    static const struct {
        const char *in;
        enum xg_clean_for mode;
        const char *out;
    } cases[] = {
        {"plain \xc3\xa9t\xc3\xa9", XG_CLEAN_JSON, "plain \xc3\xa9t\xc3\xa9"},
        {"a\xff"
         "b",
         XG_CLEAN_JSON, "a\\xFFb"},
        {"\xc3\x28", XG_CLEAN_JSON, "\\xC3("},
        {"\xed\xa0\x80", XG_CLEAN_JSON, "\\xED\\xA0\\x80"},          /* a surrogate */
        {"\xc0\xaf", XG_CLEAN_JSON, "\\xC0\\xAF"},                   /* overlong '/' */
        {"\xf4\x90\x80\x80", XG_CLEAN_JSON, "\\xF4\\x90\\x80\\x80"}, /* > U+10FFFF */
        {"\x01"
         "x",
         XG_CLEAN_JSON,
         "\x01"
         "x"}, /* JSON escapes it itself */
        {"\x01\tx\xef\xbf\xbf", XG_CLEAN_XML, "\\x01\tx\\xEF\\xBF\\xBF"},
        {"\x1b[2J\x07\xc2\x9b", XG_CLEAN_TEXT, "\\x1B[2J\\x07\\xC2\\x9B"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *c = xg_report_clean(cases[i].in, cases[i].mode);
        assert_non_null(c);
        if (strcmp(c, cases[i].out))
            fail_msg("case %zu: got '%s', want '%s'", i, c, cases[i].out);
        free(c);
    }
    /* a finding with invalid UTF-8 stays in the JSON */
    struct xg_host h = {0};
    h.hostname = "host\xff";
    struct xg_result r = {0};
    r.def = xg_check_find("XG-USR-001");
    r.status = XG_STATUS_FAIL;
    xg_evidence(&r, "/etc/passwd:9: ev\xffil can log in");
    struct xg_audit a = {&h, NULL, XG_SEV_HIGH, false, &r, 1};
    char *json = xg_report_json(&a);
    assert_non_null(json);
    json_error_t je;
    json_t *doc = json_loads(json, 0, &je);
    assert_non_null(doc);
    json_t *ev = json_object_get(json_array_get(json_object_get(doc, "checks"), 0), "evidence");
    assert_string_equal(json_string_value(json_array_get(ev, 0)),
                        "/etc/passwd:9: ev\\xFFil can log in");
    json_decref(doc);
    free(json);
    xg_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_ids_unique_and_documented),
        cmocka_unit_test(empty_model_is_never_pass),
        cmocka_unit_test(parse_error_is_error),
        cmocka_unit_test(relocation_bound_to_management),
        cmocka_unit_test(cleartext_migration_per_scenario),
        cmocka_unit_test(xend_hosts_allow_regexes),
        cmocka_unit_test(sshd_against_policy),
        cmocka_unit_test(users_against_admins),
        cmocka_unit_test(xendomains_against_transport),
        cmocka_unit_test(sysctl_semantics),
        cmocka_unit_test(waivers_and_exit),
        cmocka_unit_test(pass_needs_evidence),
        cmocka_unit_test(unreadable_shadow_is_not_a_pass),
        cmocka_unit_test(sysctls_need_every_value),
        cmocka_unit_test(loopback_only_dom0_is_na),
        cmocka_unit_test(report_keeps_any_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
