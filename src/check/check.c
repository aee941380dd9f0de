/*
 * check.c — the check table and the helpers every check uses.
 *
 * The table is the concatenation of the per-practice tables, in the order
 * of the chapter; IDs are unique (a unit test asserts it) and never reused.
 */
#include "check/check.h"
#include "check/perimeter.h"
#include "util/strv.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct xg_check_def *all;
static size_t all_count;

static int by_practice_id(const void *a, const void *b)
{
    const struct xg_check_def *x = a, *y = b;
    if (x->practice != y->practice)
        return (int)x->practice - (int)y->practice;
    return strcmp(x->id, y->id);
}

const struct xg_check_def *xg_checks(size_t *count)
{
    static const struct {
        const struct xg_check_def *t;
        const size_t *n;
    } groups[] = {
        {xg_checks_host, &xg_checks_host_count},
        {xg_checks_services, &xg_checks_services_count},
        {xg_checks_firewall, &xg_checks_firewall_count},
        {xg_checks_users, &xg_checks_users_count},
        {xg_checks_migration, &xg_checks_migration_count},
        {xg_checks_xend, &xg_checks_xend_count},
        {xg_checks_xl, &xg_checks_xl_count},
        {xg_checks_xapi, &xg_checks_xapi_count},
        {xg_checks_perimeter, &xg_checks_perimeter_count}, /* check/perimeter.h */
        {xg_checks_guests, &xg_checks_guests_count},
    };
    /* built once; the table is constant data, so this is not mutable state */
    static struct xg_check_def table[128];
    if (!all) {
        size_t n = 0;
        for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
            for (size_t i = 0; i < *groups[g].n && n < 128; i++)
                table[n++] = groups[g].t[i];
        qsort(table, n, sizeof(table[0]), by_practice_id);
        all = table;
        all_count = n;
    }
    *count = all_count;
    return all;
}

const struct xg_check_def *xg_check_find(const char *id)
{
    size_t n;
    const struct xg_check_def *t = xg_checks(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(t[i].id, id))
            return &t[i];
    return NULL;
}

void xg_check_run(const struct xg_check_def *def, const struct xg_host *h,
                  const struct xg_policy *p, struct xg_result *r)
{
    memset(r, 0, sizeof(*r));
    r->def = def;
    r->status = XG_STATUS_PASS;
    def->run(h, p, r);
    if (r->status == XG_STATUS_PASS && r->missing) {
        r->status = XG_STATUS_NA;
        free(r->reason);
        r->reason = r->missing;
        r->missing = NULL;
    } else if (r->status == XG_STATUS_PASS && !r->evidence_count) {
        xg_na(r, "no evidence read");
    } else if (r->status == XG_STATUS_FAIL && r->missing) {
        xg_evidence(r, "incomplete evidence: %s", r->missing);
    }
}

void xg_result_free(struct xg_result *r)
{
    for (size_t i = 0; i < r->evidence_count; i++)
        free(r->evidence[i]);
    free(r->evidence);
    free(r->reason);
    free(r->missing);
    for (size_t i = 0; i < r->fix_count; i++)
        free(r->fix[i]);
    free(r->fix);
    r->fix = NULL;
    r->fix_count = 0;
    r->evidence = NULL;
    r->evidence_count = 0;
    r->reason = NULL;
    r->missing = NULL;
}

static void vadd(struct xg_result *r, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    xg_strv_add(&r->evidence, &r->evidence_count, buf);
}

void xg_evidence(struct xg_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(r, fmt, ap);
    va_end(ap);
}

void xg_failf(struct xg_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(r, fmt, ap);
    va_end(ap);
    if (r->status == XG_STATUS_PASS)
        r->status = XG_STATUS_FAIL;
}

void xg_fix(struct xg_result *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < r->fix_count; i++)
        if (!strcmp(r->fix[i], buf))
            return;
    xg_strv_add(&r->fix, &r->fix_count, buf);
}

struct xg_sh xg_sh(const char *word)
{
    struct xg_sh q = {{0}};
    size_t n = 0, len = strlen(word);
    bool plain = len > 0 && len < sizeof(q.s);
    for (size_t i = 0; plain && i < len; i++)
        plain = strchr("@%+=:,./_-", word[i]) || (word[i] >= 'a' && word[i] <= 'z') ||
                (word[i] >= 'A' && word[i] <= 'Z') || (word[i] >= '0' && word[i] <= '9');
    if (plain) {
        memcpy(q.s, word, len);
        return q;
    }
    q.s[n++] = '\'';
    for (size_t i = 0; i < len && n + 6 < sizeof(q.s); i++) {
        if (word[i] == '\'') {
            memcpy(q.s + n, "'\\''", 4);
            n += 4;
        } else {
            q.s[n++] = word[i];
        }
    }
    q.s[n++] = '\'';
    return q;
}

const char *xg_fix_policy(const struct xg_policy *p)
{
    return p && p->path ? p->path : XG_DEFAULT_POLICY_PATH;
}

void xg_fix_apply(struct xg_result *r, const struct xg_policy *p)
{
    xg_fix(r, "xenguard apply -c %s", xg_sh(xg_fix_policy(p)).s);
    xg_fix(r, "xenguard confirm");
}

void xg_fix_harden(struct xg_result *r, const struct xg_policy *p, const char *what)
{
    xg_fix(r, "xenguard harden %s -c %s --diff", what, xg_sh(xg_fix_policy(p)).s);
    xg_fix(r, "xenguard harden %s -c %s --write", what, xg_sh(xg_fix_policy(p)).s);
    if (!strcmp(what, "xend"))
        xg_fix(r, "service xend restart"); /* xend reads its file at start only */
}

void xg_fix_apply_perimeter(struct xg_result *r, const struct xg_policy *p)
{
    xg_fix(r, "xenguard apply --perimeter -c %s", xg_sh(xg_fix_policy(p)).s);
    xg_fix(r, "xenguard confirm");
}

static void set_reason(struct xg_result *r, enum xg_status st, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    free(r->reason);
    r->reason = strdup(buf);
    r->status = st;
}

void xg_na(struct xg_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_reason(r, XG_STATUS_NA, fmt, ap);
    va_end(ap);
}

void xg_error(struct xg_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_reason(r, XG_STATUS_ERROR, fmt, ap);
    va_end(ap);
}

void xg_partial(struct xg_result *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (r->missing)
        return; /* the first gap is the reason; one is enough to withhold a pass */
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    r->missing = strdup(buf);
}

bool xg_need_readable(struct xg_result *r, const struct xg_host *h, const char *path)
{
    const char *u = xg_host_unreadable(h, path);
    if (u)
        xg_partial(r, "cannot read %s%s", u, h->unprivileged ? " (unprivileged run)" : "");
    return u != NULL;
}

void xg_need_socket_tables(struct xg_result *r, const struct xg_host *h, unsigned want)
{
    static const char *const names[] = {"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp",
                                        "/proc/net/udp6"};
    for (unsigned i = 0; i < 4; i++)
        if ((want & (1u << i)) && !(h->socket_tables & (1u << i)))
            xg_partial(r, "no %s: its sockets are unknown", names[i]);
}

bool xg_need_file(struct xg_result *r, const struct xg_host *h, bool present, enum xg_section sec,
                  const char *path)
{
    const char *u = xg_host_unreadable(h, path);
    char what[1200];
    if (u)
        snprintf(what, sizeof(what), "cannot read %s%s", u,
                 h->unprivileged ? " (unprivileged run)" : "");
    else
        snprintf(what, sizeof(what), "no %s", path);
    return xg_need(r, h, present && !u, sec, what);
}

bool xg_need(struct xg_result *r, const struct xg_host *h, bool present, enum xg_section sec,
             const char *what)
{
    if (sec < XG_SEC_COUNT && h->errors[sec]) {
        xg_error(r, "%s", h->errors[sec]);
        return false;
    }
    if (!present) {
        xg_na(r, "no evidence: %s", what);
        return false;
    }
    return true;
}

const char *xg_status_name(enum xg_status s)
{
    static const char *n[] = {"pass", "fail", "n/a", "error", "waived"};
    return n[s];
}

static const char *sev_names[] = {"info", "low", "medium", "high", "critical"};

const char *xg_severity_name(enum xg_severity s)
{
    return sev_names[s];
}

int xg_severity_parse(const char *s, enum xg_severity *out)
{
    for (size_t i = 0; i < 5; i++)
        if (!strcasecmp(s, sev_names[i])) {
            *out = (enum xg_severity)i;
            return 0;
        }
    return -1;
}

const char *xg_practice_name(enum xg_practice p)
{
    static const char *n[] = {
        "Host",
        "1. Fewest services in Domain-0",
        "2. Default-reject firewall",
        "3. No ordinary users",
        "4. Migration and network scenario",
        "Legacy xend",
        "xl and guests",
        "XAPI (XenServer, XCP-ng)",
    };
    return n[p];
}

bool xg_addr_is_wildcard(const struct xg_prefix *a)
{
    size_t n = a->family == 4 ? 4 : 16;
    for (size_t i = 0; i < n; i++)
        if (a->addr[i])
            return false;
    return true;
}

bool xg_addr_is_loopback(const struct xg_prefix *a)
{
    if (a->family == 4)
        return a->addr[0] == 127;
    static const uint8_t lo6[16] = {[15] = 1};
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    if (!memcmp(a->addr, mapped, 12))
        return a->addr[12] == 127;
    return !memcmp(a->addr, lo6, 16);
}

bool xg_policy_is_admin(const struct xg_policy *p, const char *name)
{
    if (!p)
        return false;
    for (size_t i = 0; i < p->admin_user_count; i++)
        if (!strcmp(p->admin_users[i], name))
            return true;
    return false;
}

void xg_socket_describe(const struct xg_socket *s, char *out, size_t size)
{
    char a[XG_PREFIX_STRLEN];
    xg_prefix_format(&s->addr, true, a);
    char who[200];
    if (s->unit[0])
        snprintf(who, sizeof(who), "%s for %s, opened by systemd", s->unit, s->service);
    else
        snprintf(who, sizeof(who), "%s", s->process[0] ? s->process : "process unknown");
    snprintf(out, size, "%s %s%s%s:%u (%s)", s->proto == IPPROTO_TCP ? "tcp" : "udp",
             s->family == 6 ? "[" : "", a, s->family == 6 ? "]" : "", s->port, who);
}
