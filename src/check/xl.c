/*
 * xl.c — the xl toolstack: xl.conf, domain configurations, xendomains.
 *
 * Guest consoles (VNC, SPICE) are served by qemu in Domain-0: a console on
 * a wildcard address or without a password is a keyboard and screen for
 * anyone on the network. pygrub parses guest-controlled disk images in
 * Domain-0 (XSA-443), so it must run restricted (bootloader_restrict).
 * Domain configurations come from /etc/xen/NAME.cfg and /etc/xen/auto/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check.h"
#include "probe/parse.h"

static bool need_cfgs(const struct xg_host *h, struct xg_result *r)
{
    if (!xg_need_file(r, h, h->domcfgs_present, XG_SEC_XL, "/etc/xen"))
        return false;
    xg_need_readable(r, h, "/etc/xen"); /* a .cfg it could not read may be the bad one */
    if (!h->domcfg_count) {
        xg_na(r, "no domain configuration in /etc/xen or /etc/xen/auto");
        return false;
    }
    return true;
}

static const char *scalar(const struct xg_xlcfg *c, const char *key)
{
    const struct xg_xlcfg_value *v = xg_xlcfg_get(c, key);
    return v && v->count ? v->items[0] : NULL;
}

static bool truthy(const char *v)
{
    return v && (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true"));
}

/* "0.0.0.0", "0.0.0.0:1", "::", "" -> every address */
static bool wildcard_listen(const char *v)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", v);
    if (!strchr(buf, '[') && strchr(buf, ':') == strrchr(buf, ':')) {
        char *c = strchr(buf, ':');
        if (c)
            *c = '\0';
    }
    return !buf[0] || !strcmp(buf, "0.0.0.0") || !strcmp(buf, "::") || !strcmp(buf, "[::]") ||
           !strcmp(buf, "*");
}

/* Call fn for each console of a domain configuration. */
struct console {
    const char *kind;   /* "vnc" / "spice" */
    const char *listen; /* NULL = default (127.0.0.1) */
    bool has_passwd;
    unsigned line;
};

static size_t consoles(const struct xg_xlcfg *c, struct console *out, size_t max, char bufs[][128])
{
    size_t n = 0;
    /* HVM top-level vnc / spice */
    const struct xg_xlcfg_value *vnc = xg_xlcfg_get(c, "vnc");
    const char *vl = scalar(c, "vnclisten");
    const char *vp = scalar(c, "vncpasswd");
    if ((vnc && truthy(vnc->items[0])) || (!vnc && vl)) {
        out[n++] = (struct console){"vnc", vl, vp && vp[0], vnc ? vnc->line : 0};
    }
    if (truthy(scalar(c, "spice")) && n < max) {
        const char *sp = scalar(c, "spicepasswd");
        bool noticket = truthy(scalar(c, "spicedisable_ticketing"));
        out[n++] = (struct console){"spice", scalar(c, "spicehost") ? scalar(c, "spicehost") : "",
                                    sp && sp[0] && !noticket, xg_xlcfg_get(c, "spice")->line};
    }
    /* PV vfb = [ 'vnc=1,vnclisten=...,vncpasswd=...' ] */
    const struct xg_xlcfg_value *vfb = xg_xlcfg_get(c, "vfb");
    for (size_t i = 0; vfb && i < vfb->count && n < max; i++) {
        char v[16] = "";
        if (!xg_xlcfg_spec_get(vfb->items[i], "vnc", v, sizeof(v)) || !truthy(v))
            continue;
        bool has_listen = xg_xlcfg_spec_get(vfb->items[i], "vnclisten", bufs[n], 128);
        char pw[128] = "";
        bool has_pw = xg_xlcfg_spec_get(vfb->items[i], "vncpasswd", pw, sizeof(pw)) && pw[0];
        out[n] = (struct console){"vnc (vfb)", has_listen ? bufs[n] : NULL, has_pw, vfb->line};
        n++;
    }
    return n;
}

/* The fix of a console on every address: its listen value becomes loopback (reach it
 * through ssh). By content, not line: the console's line is its vnc=/vfb= key. */
static void fix_console_listen(const char *path, const struct console *c, struct xg_result *r)
{
    struct xg_sh q = xg_sh(path);
    const char *f = q.s;
    if (!strcmp(c->kind, "vnc"))
        xg_fix(r, "sed -i 's/^vnclisten *=.*/vnclisten = \"127.0.0.1\"/' %s", f);
    else if (!strcmp(c->kind, "spice") && c->listen[0])
        xg_fix(r, "sed -i 's/^spicehost *=.*/spicehost = \"127.0.0.1\"/' %s", f);
    else if (!strcmp(c->kind, "spice"))
        xg_fix(r, "echo 'spicehost = \"127.0.0.1\"' >> %s", f);
    else if (!strcmp(c->listen, "0.0.0.0"))
        xg_fix(r, "sed -i 's/vnclisten=0\\.0\\.0\\.0/vnclisten=127.0.0.1/' %s", f);
}

static void check_console_listen(const struct xg_host *h, const struct xg_policy *p,
                                 struct xg_result *r)
{
    (void)p;
    if (!need_cfgs(h, r))
        return;
    size_t total = 0;
    for (size_t d = 0; d < h->domcfg_count; d++) {
        struct console cs[16];
        char bufs[16][128];
        size_t n = consoles(&h->domcfgs[d], cs, 16, bufs);
        total += n;
        for (size_t i = 0; i < n; i++) {
            if (cs[i].listen && wildcard_listen(cs[i].listen)) {
                xg_failf(r, "%s:%u: %s console listens on '%s' (every interface)",
                         h->domcfgs[d].path, cs[i].line, cs[i].kind, cs[i].listen);
                fix_console_listen(h->domcfgs[d].path, &cs[i], r);
            } else
                xg_evidence(r, "%s: %s console on %s", h->domcfgs[d].path, cs[i].kind,
                            cs[i].listen ? cs[i].listen : "127.0.0.1 (default)");
        }
    }
    if (!total)
        xg_evidence(r, "%zu domain configurations, no VNC or SPICE console", h->domcfg_count);
}

static void check_console_passwd(const struct xg_host *h, const struct xg_policy *p,
                                 struct xg_result *r)
{
    (void)p;
    if (!need_cfgs(h, r))
        return;
    size_t total = 0;
    for (size_t d = 0; d < h->domcfg_count; d++) {
        struct console cs[16];
        char bufs[16][128];
        size_t n = consoles(&h->domcfgs[d], cs, 16, bufs);
        total += n;
        for (size_t i = 0; i < n; i++) {
            if (!cs[i].has_passwd)
                xg_failf(r, "%s:%u: %s console without a password", h->domcfgs[d].path, cs[i].line,
                         cs[i].kind);
            else
                xg_evidence(r, "%s: %s console has a password", h->domcfgs[d].path, cs[i].kind);
        }
    }
    if (!total)
        xg_evidence(r, "%zu domain configurations, no VNC or SPICE console", h->domcfg_count);
}

/* LIBXL_BOOTLOADER_RESTRICT in the environment xendomains gives xl, or NULL. */
static const struct xg_kv *env_restrict(const struct xg_host *h)
{
    const struct xg_kv *kv = xg_kv_find(&h->xendomains, "LIBXL_BOOTLOADER_RESTRICT", false);
    return kv && truthy(kv->value) ? kv : NULL;
}

/*
 * Whether pygrub runs restricted for domain configuration c. xl.cfg's
 * bootloader_restrict exists from Xen 4.18; an older xl ignores the key and
 * only LIBXL_BOOTLOADER_RESTRICT=1 in its environment (the XSA-443 fix of
 * the older branches) restricts it: set in /etc/default/xendomains it covers
 * the domains xendomains starts. Returns 1 restricted, 0 not, -1 unknown
 * (the Xen version decides and is unknown); `how` says which.
 */
static int pygrub_restricted(const struct xg_host *h, const struct xg_xlcfg *c, char *how,
                             size_t size)
{
    const struct xg_kv *env = env_restrict(h);
    bool key = truthy(scalar(c, "bootloader_restrict"));
    int new_xl = xg_host_xen_at_least(h, 4, 18);
    if (env) {
        snprintf(how, size, "%s:%u: LIBXL_BOOTLOADER_RESTRICT=%s (the domains xendomains starts)",
                 env->file, env->line, env->value);
        return 1;
    }
    if (key && new_xl == 1) {
        snprintf(how, size, "bootloader_restrict=1 (Xen %s >= 4.18)", h->xen_version);
        return 1;
    }
    if (key && new_xl == 0) {
        snprintf(how, size,
                 "bootloader_restrict=1 is ignored by Xen %s (from 4.18 only), and "
                 "LIBXL_BOOTLOADER_RESTRICT is not set",
                 h->xen_version);
        return 0;
    }
    if (key) {
        snprintf(how, size,
                 "bootloader_restrict=1, but the Xen version is unknown (the key "
                 "exists from 4.18; before, only LIBXL_BOOTLOADER_RESTRICT)");
        return -1;
    }
    snprintf(how, size, "neither bootloader_restrict=1 nor LIBXL_BOOTLOADER_RESTRICT=1%s",
             new_xl == 0 ? " (Xen before 4.18: only the variable works)" : "");
    return 0;
}

/* Xen >= 4.18: the domain's bootloader_restrict; older (or unknown): xl's environment,
 * which xendomains gives the domains it starts. */
static void fix_pygrub(const struct xg_host *h, const struct xg_xlcfg *c, struct xg_result *r)
{
    if (xg_host_xen_at_least(h, 4, 18) == 1) {
        xg_fix(r, "echo 'bootloader_restrict = 1' >> %s", xg_sh(c->path).s);
        return;
    }
    const char *env = h->xendomains.count ? h->xendomains.items[0].file : NULL;
    if (!env)
        env = h->versions.os_id &&
                      (!strcmp(h->versions.os_id, "debian") || !strcmp(h->versions.os_id, "ubuntu"))
                  ? "/etc/default/xendomains"
                  : "/etc/sysconfig/xendomains";
    xg_fix(r, "echo 'export LIBXL_BOOTLOADER_RESTRICT=1' >> %s", xg_sh(env).s);
}

static void check_pygrub(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    (void)p;
    if (!need_cfgs(h, r))
        return;
    size_t n = 0;
    for (size_t d = 0; d < h->domcfg_count; d++) {
        const struct xg_xlcfg *c = &h->domcfgs[d];
        const char *bl = scalar(c, "bootloader");
        if (!bl || !strstr(bl, "pygrub"))
            continue;
        n++;
        char how[400];
        int rc = pygrub_restricted(h, c, how, sizeof(how));
        if (rc == 1)
            xg_evidence(r, "%s: pygrub restricted: %s", c->path, how);
        else if (rc < 0)
            xg_partial(r, "%s: %s", c->path, how);
        else {
            xg_failf(r,
                     "%s:%u: bootloader '%s' unrestricted (%s): pygrub parses the guest's "
                     "disk as root in Domain-0",
                     c->path, xg_xlcfg_get(c, "bootloader")->line, bl, how);
            fix_pygrub(h, c, r);
        }
    }
    if (!n)
        xg_evidence(r, "no domain boots with pygrub");
}

static void check_xendomains(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    if (!xg_need(r, h, h->xendomains_present, XG_SEC_XENDOMAINS,
                 "no /etc/default/xendomains or /etc/sysconfig/xendomains"))
        return;
    xg_need_readable(r, h, "/etc/default/xendomains");
    const struct xg_kv *m = xg_kv_find(&h->xendomains, "XENDOMAINS_MIGRATE", false);
    if (!m || !m->value[0]) {
        xg_evidence(r, "%s: XENDOMAINS_MIGRATE not set: domains are not migrated at shutdown",
                    m ? m->file : "xendomains");
        return;
    }
    if (h->toolstack == XG_TOOLSTACK_XEND)
        xg_failf(r, "%s:%u: XENDOMAINS_MIGRATE=\"%s\" with xend: xm migrate in clear text", m->file,
                 m->line, m->value);
    else if (p && p->transport == XG_TRANSPORT_OFF)
        xg_failf(r, "%s:%u: XENDOMAINS_MIGRATE=\"%s\" but the policy turns migration off", m->file,
                 m->line, m->value);
    if (r->status == XG_STATUS_FAIL)
        xg_fix(r, "sed -i 's/^XENDOMAINS_MIGRATE=.*/XENDOMAINS_MIGRATE=\"\"/' %s",
               xg_sh(m->file).s);
    else
        xg_evidence(r, "%s:%u: XENDOMAINS_MIGRATE=\"%s\" (xl migrate over ssh)", m->file, m->line,
                    m->value);
}

const struct xg_check_def xg_checks_xl[] = {
    {"XG-XL-001", XG_PRACTICE_XL, XG_SEV_HIGH, "Guest consoles do not listen on every address",
     "vnclisten, vfb vnclisten= and spicehost of each domain configuration in /etc/xen and "
     "/etc/xen/auto must not be 0.0.0.0, :: or empty.",
     "vnclisten = \"127.0.0.1\" (or the management address), reach it through ssh.",
     check_console_listen, "/etc/xen"},
    {"XG-XL-002", XG_PRACTICE_XL, XG_SEV_HIGH, "Guest consoles have a password",
     "Each enabled VNC console needs vncpasswd, each SPICE console spicepasswd without "
     "spicedisable_ticketing.",
     "vncpasswd = \"SECRET\" / spicepasswd = \"SECRET\" in the domain configuration.",
     check_console_passwd, "/etc/xen"},
    {"XG-XL-003", XG_PRACTICE_XL, XG_SEV_MEDIUM, "pygrub runs restricted",
     "A domain with bootloader = \"pygrub\" must run it restricted (XSA-443): pygrub otherwise "
     "parses guest-controlled data as root in Domain-0. From Xen 4.18 bootloader_restrict = 1 "
     "in the domain's configuration does it; before 4.18 xl ignores that key and only "
     "LIBXL_BOOTLOADER_RESTRICT=1 in xl's environment (/etc/default/xendomains) does. The Xen "
     "version comes from /sys/hypervisor, xl info or the installed packages; unknown, a "
     "bootloader_restrict alone is n/a.",
     "Xen >= 4.18: bootloader_restrict = 1 (and bootloader_user); older: export "
     "LIBXL_BOOTLOADER_RESTRICT=1 in /etc/default/xendomains; or boot the guest with PVH/pvgrub.",
     check_pygrub, "/etc/xen /etc/default/xendomains"},
    {"XG-XL-004", XG_PRACTICE_XL, XG_SEV_MEDIUM, "XENDOMAINS_MIGRATE fits the toolstack and policy",
     "XENDOMAINS_MIGRATE in /etc/default/xendomains migrates every domain at shutdown: in clear "
     "text with xend, and against a policy that turns migration off.",
     "Empty XENDOMAINS_MIGRATE, or migrate with xl over ssh per the policy.", check_xendomains,
     "/etc/default/xendomains /etc/sysconfig/xendomains"},
};
const size_t xg_checks_xl_count = sizeof(xg_checks_xl) / sizeof(xg_checks_xl[0]);
