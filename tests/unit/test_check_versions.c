/*
 * test_check_versions.c — verdicts that rest on a default of the installed
 * software: PermitRootLogin by OpenSSH version and vendor (and n/a when both
 * are unknown, the value sshd -T gave when it ran), pygrub's restriction by
 * Xen version, XAPI-001 without this host's row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/check.h"

static enum xg_status run(const char *id, const struct xg_host *h, char *ev, size_t size)
{
    struct xg_result r;
    xg_check_run(xg_check_find(id), h, NULL, &r);
    ev[0] = '\0';
    for (size_t i = 0; i < r.evidence_count; i++)
        snprintf(ev + strlen(ev), size - strlen(ev), "%s\n", r.evidence[i]);
    if (r.reason)
        snprintf(ev + strlen(ev), size - strlen(ev), "reason: %s\n", r.reason);
    enum xg_status st = r.status;
    xg_result_free(&r);
    return st;
}

static void sshd_host(struct xg_host *h)
{
    memset(h, 0, sizeof(*h));
    h->sshd_present = true;
    h->sshd_source = strdup("parsed");
    xg_kv_add(&h->sshd, "passwordauthentication", "no", "/etc/ssh/sshd_config", 3);
}

static void root_login_default_by_version_and_vendor(void **state)
{
    struct xg_host h;
    char ev[2048];
    sshd_host(&h);
    /* nothing known: the default is unknown, no pass */
    assert_int_equal(run("XG-SSH-001", &h, ev, sizeof(ev)), XG_STATUS_NA);
    assert_non_null(strstr(ev, "version and vendor"));
    /* upstream OpenSSH 6.6: yes */
    h.versions.openssh = strdup("6.6p1");
    h.versions.openssh_source = strdup("sshd -V");
    h.versions.openssh_major = 6;
    h.versions.openssh_minor = 6;
    assert_int_equal(run("XG-SSH-001", &h, ev, sizeof(ev)), XG_STATUS_FAIL);
    assert_non_null(strstr(ev, "older than 7.0"));
    /* 9.2 on Debian: prohibit-password */
    free(h.versions.openssh);
    h.versions.openssh = strdup("9.2p1");
    h.versions.openssh_major = 9;
    h.versions.os_id = strdup("debian");
    assert_int_equal(run("XG-SSH-001", &h, ev, sizeof(ev)), XG_STATUS_PASS);
    assert_non_null(strstr(ev, "PermitRootLogin prohibit-password (not set; OpenSSH 9.2p1"));
    /* the same OpenSSH built by Red Hat for CentOS 7 / XCP-ng: yes */
    free(h.versions.os_id);
    h.versions.os_id = strdup("xenenterprise");
    h.versions.os_id_like = strdup("centos rhel fedora");
    assert_int_equal(run("XG-SSH-001", &h, ev, sizeof(ev)), XG_STATUS_FAIL);
    assert_non_null(strstr(ev, "XCP-ng"));
    /* RHEL 9 switched to prohibit-password */
    free(h.versions.os_id);
    h.versions.os_id = strdup("rhel");
    h.versions.os_version_id = strdup("9.4");
    assert_int_equal(run("XG-SSH-001", &h, ev, sizeof(ev)), XG_STATUS_PASS);
    h.versions.os_version_id[0] = '7';
    assert_int_equal(run("XG-SSH-001", &h, ev, sizeof(ev)), XG_STATUS_FAIL);
    /* sshd -T says what this build does: no guessing */
    h.sshd_effective = true;
    xg_kv_add(&h.sshd, "permitrootlogin", "without-password", "sshd -T", 0);
    assert_int_equal(run("XG-SSH-001", &h, ev, sizeof(ev)), XG_STATUS_PASS);
    assert_non_null(strstr(ev, "PermitRootLogin without-password (sshd -T)"));
    xg_host_free(&h);
}

static void pygrub_by_xen_version(void **state)
{
    struct xg_host h = {0};
    char ev[2048];
    h.domcfgs_present = true;
    h.domcfgs = calloc(1, sizeof(*h.domcfgs));
    h.domcfg_count = 1;
    struct xg_xlcfg *c = &h.domcfgs[0];
    c->path = strdup("/etc/xen/vm.cfg");
    c->values = calloc(2, sizeof(*c->values));
    c->count = 2;
    const char *kv[2][2] = {{"bootloader", "pygrub"}, {"bootloader_restrict", "1"}};
    for (int i = 0; i < 2; i++) {
        c->values[i].key = strdup(kv[i][0]);
        c->values[i].items = malloc(sizeof(char *));
        c->values[i].items[0] = strdup(kv[i][1]);
        c->values[i].count = 1;
        c->values[i].line = (unsigned)i + 1;
    }
    /* unknown Xen: the key may or may not be honoured */
    assert_int_equal(run("XG-XL-003", &h, ev, sizeof(ev)), XG_STATUS_NA);
    h.xen_version = strdup("4.17.3");
    h.versions.xen_major = 4;
    h.versions.xen_minor = 17;
    assert_int_equal(run("XG-XL-003", &h, ev, sizeof(ev)), XG_STATUS_FAIL);
    assert_non_null(strstr(ev, "ignored by Xen 4.17.3"));
    /* before 4.18 the environment variable restricts it */
    h.xendomains_present = true;
    xg_kv_add(&h.xendomains, "LIBXL_BOOTLOADER_RESTRICT", "1", "/etc/default/xendomains", 4);
    assert_int_equal(run("XG-XL-003", &h, ev, sizeof(ev)), XG_STATUS_PASS);
    xg_kv_free(&h.xendomains);
    h.versions.xen_minor = 18;
    assert_int_equal(run("XG-XL-003", &h, ev, sizeof(ev)), XG_STATUS_PASS);
    assert_non_null(strstr(ev, ">= 4.18"));
    xg_host_free(&h);
}

static void xapi_without_this_hosts_row(void **state)
{
    struct xg_host h = {0};
    char ev[2048];
    h.xapi_present = h.xapi_db_present = true;
    h.xapi_db_problem = strdup("/var/lib/xcp/state.db:3:12: not a XAPI database: bad");
    assert_int_equal(run("XG-XAPI-001", &h, ev, sizeof(ev)), XG_STATUS_NA);
    assert_non_null(strstr(ev, "state.db:3:12"));
    xg_host_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_login_default_by_version_and_vendor),
        cmocka_unit_test(pygrub_by_xen_version),
        cmocka_unit_test(xapi_without_this_hosts_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
