/*
 * xapi.c — XAPI hosts (XenServer, XCP-ng): clear-text HTTP management and
 * migration. https-only lives in the host record of the XAPI database
 * (xe host-param-set https-only=true) or xapi.conf; migration-https-only
 * in xapi.conf (xapi's default is true). The database holds a host row per
 * pool member: only this host's (INSTALLATION_UUID of the inventory) counts,
 * and when it cannot be told, or the database does not parse, the verdict
 * is n/a with the reason, never another member's value.
 */
#include <string.h>
#include <strings.h>

#include "check/check.h"

static bool need(const struct xg_host *h, struct xg_result *r)
{
    if (!xg_need(r, h, h->xapi_present, XG_SEC_XAPI,
                 "no XAPI configuration (/etc/xapi.conf, /etc/xensource)"))
        return false;
    xg_need_readable(r, h, "/etc/xapi.conf");
    xg_need_readable(r, h, "/etc/xapi.conf.d");
    return true;
}

static bool truthy(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"));
}

static void check_https_only(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    (void)p;
    if (!need(h, r))
        return;
    const struct xg_kv *kv = xg_kv_find(&h->xapi, "https-only", false);
    const char *db = xg_host_unreadable(h, "/var/lib/xcp/state.db");
    if (!kv && db) {
        xg_na(r, "no evidence: https-only is not in xapi.conf and cannot read %s", db);
        return;
    }
    if (!kv && h->xapi_db_problem) {
        xg_na(r, "no evidence: https-only is not in xapi.conf and %s", h->xapi_db_problem);
        return;
    }
    const struct xg_kv *uuid = kv ? NULL : xg_kv_find(&h->xapi, "db:uuid", false);
    if (!kv)
        kv = xg_kv_find(&h->xapi, "db:https_only", false);
    if (uuid)
        xg_evidence(r, "%s:%u: this host's row, uuid %s (%s; %zu host rows)", uuid->file,
                    uuid->line, uuid->value,
                    h->xapi_uuid ? "INSTALLATION_UUID of /etc/xensource-inventory"
                                 : "the only host of the database",
                    h->xapi_db_hosts);
    if (kv && truthy(kv->value))
        xg_evidence(r, "%s%s%.0u: https-only %s", kv->file, kv->line ? ":" : "", kv->line,
                    kv->value);
    else if (uuid || !h->xapi_db_present || kv) {
        xg_failf(r, "https-only %s: xapi also answers clear-text HTTP on port 80",
                 kv ? kv->value : "not set (default false)");
        const char *host = uuid ? uuid->value : h->xapi_uuid;
        if (host)
            xg_fix(r, "xe host-param-set uuid=%s https-only=true", xg_sh(host).s);
    }
}

static void check_migration_https(const struct xg_host *h, const struct xg_policy *p,
                                  struct xg_result *r)
{
    (void)p;
    if (!need(h, r))
        return;
    const struct xg_kv *kv = xg_kv_find(&h->xapi, "migration-https-only", false);
    if (!kv)
        xg_evidence(r, "/etc/xapi.conf (and .d): migration-https-only not set: xapi's default "
                       "(true)");
    else if (truthy(kv->value))
        xg_evidence(r, "%s:%u: migration-https-only %s", kv->file, kv->line, kv->value);
    else {
        xg_failf(r, "%s:%u: migration-https-only %s: memory of migrating guests in clear text",
                 kv->file, kv->line, kv->value);
        xg_fix(r, "sed -i '%us/.*/migration-https-only = true/' %s", kv->line, xg_sh(kv->file).s);
        xg_fix(r, "xe-toolstack-restart");
    }
}

const struct xg_check_def xg_checks_xapi[] = {
    {"XG-XAPI-001", XG_PRACTICE_XAPI, XG_SEV_HIGH, "XAPI answers HTTPS only",
     "host https-only must be true, otherwise xapi serves its management API in clear text on "
     "port 80.",
     "Set the host's https-only to true (xe host-param-set uuid=HOST https-only=true).",
     check_https_only,
     "/etc/xapi.conf /etc/xapi.conf.d /var/lib/xcp/state.db /etc/xensource-inventory "
     "/etc/xensource"},
    {"XG-XAPI-002", XG_PRACTICE_XAPI, XG_SEV_HIGH, "XAPI migrates over HTTPS only",
     "migration-https-only in /etc/xapi.conf must not be false.",
     "migration-https-only = true in /etc/xapi.conf, restart xapi.", check_migration_https,
     "/etc/xapi.conf /etc/xapi.conf.d /var/lib/xcp/state.db /etc/xensource-inventory "
     "/etc/xensource"},
};
const size_t xg_checks_xapi_count = sizeof(xg_checks_xapi) / sizeof(xg_checks_xapi[0]);
