/*
 * versions.c — which distribution, OpenSSH and Xen the host runs.
 *
 * Defaults are the software's, and the software has versions and vendors:
 * an unset PermitRootLogin is "yes" before OpenSSH 7.0 and in Red Hat's
 * builds, xl.cfg's bootloader_restrict exists from Xen 4.18. The checks
 * judge by what this file finds, and every value keeps its source so the
 * report can name it:
 *   distribution  /etc/os-release (ID, ID_LIKE, VERSION_ID), else
 *                 /etc/redhat-release or /etc/debian_version (older hosts)
 *   OpenSSH       live: the banner of `sshd -V` (older sshd print it in their
 *                 usage), else `ssh -V`; captured: xenguard/sshd-version.txt,
 *                 else the openssh-server entry of /var/lib/dpkg/status
 *   Xen           /sys/hypervisor/version or `xl info` (probe.c), else the
 *                 Xen packages of /var/lib/dpkg/status, /usr/lib/xen-X.Y,
 *                 /boot/xen-X.Y.Z.gz
 * RPM's database cannot be read without rpm: a captured Red Hat-family root
 * without sshd-version.txt has no OpenSSH version, and the vendor rule
 * (os-release) decides.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"
#include "probe/parse.h"
#include "probe/probe.h"

int xg_version_parse(const char *s, int *major, int *minor)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    long a = strtol(s, &end, 10);
    if (*end != '.' || !isdigit((unsigned char)end[1]) || a <= 0 || a > 1000)
        return -1;
    long b = strtol(end + 1, &end, 10);
    if (b < 0 || b > 1000)
        return -1;
    *major = (int)a;
    *minor = (int)b;
    return 0;
}

char *xg_openssh_banner(const char *text)
{
    const char *p = text ? strstr(text, "OpenSSH_") : NULL;
    if (!p)
        return NULL;
    p += 8;
    size_t n = strspn(p, "0123456789.p");
    return n ? strndup(p, n) : NULL;
}

char *xg_dpkg_version(const char *text, size_t len, const char *package)
{
    /* stanzas separated by blank lines: "Package: NAME", "Status: ... installed", "Version: V" */
    size_t plen = strlen(package);
    const char *end = text + len;
    for (const char *st = text; st < end;) {
        const char *next = strstr(st, "\n\n");
        const char *stop = next ? next : end;
        bool pkg = false, installed = false;
        const char *ver = NULL;
        for (const char *l = st; l < stop;) {
            const char *nl = memchr(l, '\n', (size_t)(stop - l));
            const char *le = nl ? nl : stop;
            if ((size_t)(le - l) == 9 + plen && !strncmp(l, "Package: ", 9) &&
                !strncmp(l + 9, package, plen))
                pkg = true;
            if (!strncmp(l, "Status: ", 8) && le - l >= 17 && !strncmp(le - 9, "installed", 9) &&
                strncmp(le - 13, "not-installed", 13))
                installed = true;
            if (!strncmp(l, "Version: ", 9) && le > l + 9)
                ver = l + 9;
            l = nl ? nl + 1 : stop;
        }
        if (pkg && installed && ver) {
            size_t n = strcspn(ver, "\n");
            const char *colon = memchr(ver, ':', n); /* the epoch */
            if (colon) {
                n -= (size_t)(colon + 1 - ver);
                ver = colon + 1;
            }
            return strndup(ver, n);
        }
        st = next ? next + 2 : end;
    }
    return NULL;
}

static void set_str(char **dst, const char *v)
{
    if (!*dst && v && *v)
        *dst = strdup(v);
}

static void probe_os(const struct xg_rootfs *r, struct xg_host *h)
{
    struct xg_versions *v = &h->versions;
    size_t len;
    char *t = xg_probe_read_ev(r, h, "/etc/os-release", &len);
    if (!t)
        t = xg_probe_read_ev(r, h, "/usr/lib/os-release", &len);
    if (t) {
        struct xg_kvlist kv = {0};
        struct xg_err e;
        if (xg_keyval_parse(t, len, "/etc/os-release", &kv, &e) < 0)
            xg_host_note(h, "%s", e.msg);
        const struct xg_kv *x;
        if ((x = xg_kv_find(&kv, "ID", false)))
            set_str(&v->os_id, x->value);
        if ((x = xg_kv_find(&kv, "ID_LIKE", false)))
            set_str(&v->os_id_like, x->value);
        if ((x = xg_kv_find(&kv, "VERSION_ID", false)))
            set_str(&v->os_version_id, x->value);
        if ((x = xg_kv_find(&kv, "PRETTY_NAME", false)))
            set_str(&v->os_name, x->value);
        xg_kv_free(&kv);
        free(t);
        return;
    }
    /* hosts older than os-release (CentOS 5/6, Debian before 7) */
    if ((t = xg_probe_read_trim(r, "/etc/redhat-release"))) {
        const char *num = strpbrk(t, "0123456789");
        set_str(&v->os_id, strstr(t, "CentOS") ? "centos" : "rhel");
        set_str(&v->os_id_like, "rhel fedora");
        if (num)
            v->os_version_id = strndup(num, strspn(num, "0123456789."));
        set_str(&v->os_name, t);
    } else if ((t = xg_probe_read_trim(r, "/etc/debian_version"))) {
        set_str(&v->os_id, "debian");
        set_str(&v->os_version_id, t);
        set_str(&v->os_name, "Debian (/etc/debian_version)");
    }
    free(t);
}

static void probe_openssh(const struct xg_rootfs *r, struct xg_host *h)
{
    struct xg_versions *v = &h->versions;
    char *sshd_v[] = {"sshd", "-V", NULL}, *ssh_v[] = {"ssh", "-V", NULL};
    char *banner = NULL;
    const char *src = NULL;
    if (r->live) {
        char *out = xg_probe_run(sshd_v, true, true);
        if ((banner = xg_openssh_banner(out)))
            src = "sshd -V";
        free(out);
        if (!banner) {
            out = xg_probe_run(ssh_v, true, true);
            if ((banner = xg_openssh_banner(out)))
                src = "ssh -V (the client's version: sshd did not say)";
            free(out);
        }
    } else {
        char *out = xg_rootfs_read(r, XG_CAPTURE_DIR "/sshd-version.txt", NULL);
        if ((banner = xg_openssh_banner(out)))
            src = XG_CAPTURE_DIR "/sshd-version.txt";
        free(out);
    }
    if (!banner) {
        size_t len;
        char *st = xg_probe_read_ev(r, h, "/var/lib/dpkg/status", &len);
        if (st && (banner = xg_dpkg_version(st, len, "openssh-server")))
            src = "/var/lib/dpkg/status (openssh-server)";
        free(st);
    }
    if (!banner)
        return;
    v->openssh = banner;
    v->openssh_source = strdup(src);
    if (xg_version_parse(banner, &v->openssh_major, &v->openssh_minor) < 0)
        v->openssh_major = v->openssh_minor = 0;
}

/* "xen-utils-4.17" -> 4.17 from the dpkg status, a /usr/lib/xen-X.Y directory or /boot/xen-*.gz. */
static char *xen_from_files(const struct xg_rootfs *r, struct xg_host *h, const char **src)
{
    size_t len;
    char *st = xg_probe_read_ev(r, h, "/var/lib/dpkg/status", &len);
    static const char *const pkgs[] = {"xen-hypervisor-common", "xen-utils-common"};
    for (size_t i = 0; st && i < 2; i++) {
        char *ver = xg_dpkg_version(st, len, pkgs[i]);
        if (ver) {
            *src = i ? "/var/lib/dpkg/status (xen-utils-common)"
                     : "/var/lib/dpkg/status (xen-hypervisor-common)";
            free(st);
            return ver;
        }
    }
    free(st);
    static const struct {
        const char *dir, *prefix, *srcname;
    } dirs[] = {{"/usr/lib", "xen-", "/usr/lib/xen-X.Y"}, {"/boot", "xen-", "/boot/xen-X.Y.Z.gz"}};
    for (size_t d = 0; d < 2; d++) {
        char **names;
        size_t n;
        if (xg_rootfs_list(r, dirs[d].dir, &names, &n) < 0)
            continue;
        char *best = NULL;
        int bmaj = 0, bmin = -1;
        for (size_t i = 0; i < n; i++) {
            int maj, min;
            if (strncmp(names[i], dirs[d].prefix, 4) ||
                xg_version_parse(names[i] + 4, &maj, &min) < 0)
                continue;
            if (maj > bmaj || (maj == bmaj && min > bmin)) {
                free(best);
                best = strndup(names[i] + 4, strspn(names[i] + 4, "0123456789."));
                bmaj = maj;
                bmin = min;
            }
        }
        xg_strv_free(names, n);
        if (best) {
            size_t bl = strlen(best);
            if (bl && best[bl - 1] == '.')
                best[bl - 1] = '\0';
            *src = dirs[d].srcname;
            return best;
        }
    }
    return NULL;
}

void xg_probe_versions(const struct xg_rootfs *r, struct xg_host *h)
{
    struct xg_versions *v = &h->versions;
    probe_os(r, h);
    probe_openssh(r, h);
    if (!h->xen_version) {
        const char *src = NULL;
        if ((h->xen_version = xen_from_files(r, h, &src)))
            v->xen_source = strdup(src);
    }
    if (h->xen_version && xg_version_parse(h->xen_version, &v->xen_major, &v->xen_minor) < 0)
        v->xen_major = v->xen_minor = 0;
}
