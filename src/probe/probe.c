/*
 * probe.c — reads one host into the model, from "/" or a captured root.
 *
 * The same code reads a live host and a capture: a capture is laid out
 * like a root (proc/net/tcp, proc/PID/fd/N symlinks to "socket:[INODE]",
 * etc/..., sys/hypervisor/...), and what only a command can tell
 * (iptables-save, nft -j, ip -j addr, xl info, xl list -l) sits in
 * /xenguard/ inside it. For the live host the commands run, read-only.
 * Nothing here judges: detection of Dom0 and toolstack records its evidence
 * and the checks decide.
 */
#include "probe/probe.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/host.h"
#include "probe/bridges.h"
#include "probe/internal.h"
#include "probe/parse.h"
#include "probe/rootfs.h"
#include "util/proc.h"
#include "util/strv.h"

void xg_probe_set_error(struct xg_host *h, enum xg_section sec, const char *msg)
{
    if (!h->errors[sec])
        h->errors[sec] = strdup(msg);
}

char *xg_probe_read_section(const struct xg_rootfs *r, const char *rel, size_t *len,
                            struct xg_host *h, enum xg_section sec)
{
    char *t = xg_probe_read_ev(r, h, rel, len);
    if (!t && errno == EINVAL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s: not a regular file (not read)", rel);
        xg_probe_set_error(h, sec, msg);
    }
    return t;
}

static char *trim_dup(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

/*
 * The readers every probe of a configuration file uses: absent is absent,
 * but a file or directory that exists and cannot be read (permission,
 * not a regular file) is recorded in h->unreadable, so the checks that
 * needed it answer n/a instead of judging what was left.
 */
char *xg_probe_read_ev(const struct xg_rootfs *r, struct xg_host *h, const char *rel, size_t *len)
{
    char *t = xg_rootfs_read(r, rel, len);
    int e = errno;
    if (!t && e != ENOENT && e != ENOTDIR)
        xg_host_unreadable_add(h, rel, e);
    errno = e; /* read_section tells a non-regular file by it */
    return t;
}

int xg_probe_list_ev(const struct xg_rootfs *r, struct xg_host *h, const char *rel, char ***names,
                     size_t *n)
{
    int rc = xg_rootfs_list(r, rel, names, n);
    if (rc < 0 && errno != ENOENT && errno != ENOTDIR)
        xg_host_unreadable_add(h, rel, errno);
    return rc;
}

char *xg_probe_read_trim(const struct xg_rootfs *r, const char *rel)
{
    char *t = xg_rootfs_read(r, rel, NULL);
    if (!t)
        return NULL;
    char *out = trim_dup(t);
    free(t);
    return out;
}

char *xg_probe_run(char *const argv[], bool want_stderr, bool any_status)
{
    struct xg_proc_opts o = {.timeout_ms = 5000};
    struct xg_proc p;
    struct xg_err ignored;
    if (xg_proc_run(argv, &o, &p, &ignored) < 0)
        return NULL;
    char *out = NULL;
    if ((any_status && !p.timed_out && !p.signal) || xg_proc_ok(&p)) {
        size_t n = p.out_len + (want_stderr ? p.err_len : 0);
        if ((out = malloc(n + 1))) {
            memcpy(out, p.out, p.out_len);
            if (want_stderr)
                memcpy(out + p.out_len, p.err_out, p.err_len);
            out[n] = '\0';
        }
    }
    xg_proc_free(&p);
    return out;
}

char *xg_probe_evidence(const struct xg_rootfs *r, const char *captured, char *const argv[])
{
    if (r->live)
        return xg_run_capture(argv, NULL);
    char rel[256];
    snprintf(rel, sizeof(rel), "%s/%s", XG_CAPTURE_DIR, captured);
    return xg_rootfs_read(r, rel, NULL);
}

/* ---- Xen ---- */

static void probe_xen(const struct xg_rootfs *r, struct xg_host *h)
{
    char *caps = xg_rootfs_read(r, "/proc/xen/capabilities", NULL);
    if (caps) {
        h->caps_present = true;
        h->xen_present = true;
        h->dom0 = strstr(caps, "control_d") != NULL;
        free(caps);
    }
    h->hypervisor_type = xg_probe_read_trim(r, "/sys/hypervisor/type");
    if (h->hypervisor_type && !strcmp(h->hypervisor_type, "xen"))
        h->xen_present = true;
    char *major = xg_probe_read_trim(r, "/sys/hypervisor/version/major");
    char *minor = xg_probe_read_trim(r, "/sys/hypervisor/version/minor");
    char *extra = xg_probe_read_trim(r, "/sys/hypervisor/version/extra");
    if (major && minor) {
        size_t n = strlen(major) + strlen(minor) + (extra ? strlen(extra) : 0) + 2;
        if ((h->xen_version = malloc(n))) {
            snprintf(h->xen_version, n, "%s.%s%s", major, minor, extra ? extra : "");
            h->versions.xen_source = strdup("/sys/hypervisor/version");
        }
    }
    free(major);
    free(minor);
    free(extra);
    if (!h->caps_present) {
        /* XENFEAT_dom0 (bit 11) of /sys/hypervisor/properties/features */
        char *feat = xg_probe_read_trim(r, "/sys/hypervisor/properties/features");
        if (feat) {
            unsigned long bits = strtoul(feat, NULL, 16);
            h->dom0 = (bits >> 11) & 1;
            h->caps_present = true;
            free(feat);
        }
    }
    h->kernel_cmdline = xg_probe_read_trim(r, "/proc/cmdline");

    char *xl_info[] = {"xl", "info", NULL};
    char *info = h->dom0 || !r->live ? xg_probe_evidence(r, "xl-info.txt", xl_info) : NULL;
    if (info) {
        for (char *save = NULL, *l = strtok_r(info, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
            char *colon = strchr(l, ':');
            if (!colon)
                continue;
            *colon = '\0';
            char *key = trim_dup(l);
            if (key && !strcmp(key, "xen_commandline") && !h->xen_cmdline)
                h->xen_cmdline = trim_dup(colon + 1);
            if (key && !strcmp(key, "xen_version") && !h->xen_version) {
                h->xen_version = trim_dup(colon + 1);
                h->versions.xen_source =
                    strdup(r->live ? "xl info" : XG_CAPTURE_DIR "/xl-info.txt");
            }
            free(key);
        }
        free(info);
    }
    char *xl_list[] = {"xl", "list", "-l", NULL};
    char *list = h->dom0 || !r->live ? xg_probe_evidence(r, "xl-list.json", xl_list) : NULL;
    if (list) {
        struct xg_err e;
        h->domains_present = true;
        if (xg_xllist_parse(list, strlen(list), "xl list -l", &h->domains, &h->domain_count, &e) <
            0)
            xg_probe_set_error(h, XG_SEC_DOMAINS, e.msg);
        free(list);
    }
}

/* ---- every process's name ---- */

static void probe_processes(const struct xg_rootfs *r, struct xg_host *h)
{
    char **pids;
    size_t npids;
    if (xg_rootfs_list(r, "/proc", &pids, &npids) < 0)
        return;
    for (size_t i = 0; i < npids; i++) {
        char rel[300], *name;
        struct xg_process *grown;
        if (!isdigit((unsigned char)pids[i][0]))
            continue;
        snprintf(rel, sizeof(rel), "/proc/%s/comm", pids[i]);
        if (!(name = xg_probe_read_trim(r, rel)))
            continue;
        grown = realloc(h->processes, (h->process_count + 1) * sizeof(*grown));
        if (grown) {
            h->processes = grown;
            grown[h->process_count].pid = (pid_t)atoi(pids[i]);
            snprintf(grown[h->process_count].name, sizeof(grown->name), "%s", name);
            h->process_count++;
        }
        free(name);
    }
    xg_strv_free(pids, npids);
}

/* ---- sockets and the processes that own them ---- */

static void probe_sockets(const struct xg_rootfs *r, struct xg_host *h)
{
    static const struct {
        const char *file;
        uint8_t family, proto;
    } tables[] = {
        {"/proc/net/tcp", 4, IPPROTO_TCP},
        {"/proc/net/tcp6", 6, IPPROTO_TCP},
        {"/proc/net/udp", 4, IPPROTO_UDP},
        {"/proc/net/udp6", 6, IPPROTO_UDP},
    };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        size_t len;
        char *t = xg_probe_read_ev(r, h, tables[i].file, &len);
        if (!t)
            continue;
        h->sockets_present = true;
        h->socket_tables |= 1u << i; /* the order of tables[] is XG_SOCKTAB_*'s */
        struct xg_err e;
        if (xg_procnet_parse(t, len, tables[i].file, tables[i].family, tables[i].proto, &h->sockets,
                             &h->socket_count, &e) < 0)
            xg_probe_set_error(h, XG_SEC_SOCKETS, e.msg);
        free(t);
    }
    if (!h->socket_count)
        return;
    char **pids;
    size_t npids;
    if (xg_rootfs_list(r, "/proc", &pids, &npids) < 0)
        return;
    size_t unresolved = h->socket_count, denied = 0;
    for (size_t i = 0; i < npids && unresolved; i++) {
        if (!isdigit((unsigned char)pids[i][0]))
            continue;
        char rel[300];
        snprintf(rel, sizeof(rel), "/proc/%s/fd", pids[i]);
        char **fds;
        size_t nfds;
        if (xg_rootfs_list(r, rel, &fds, &nfds) < 0) {
            denied += errno == EACCES || errno == EPERM;
            continue;
        }
        h->procs_present = true;
        char comm[64] = "";
        for (size_t j = 0; j < nfds; j++) {
            char link[600], target[128];
            snprintf(link, sizeof(link), "%s/%s", rel, fds[j]);
            unsigned long ino;
            if (xg_rootfs_readlink(r, link, target, sizeof(target)) < 0 ||
                sscanf(target, "socket:[%lu]", &ino) != 1)
                continue;
            for (size_t k = 0; k < h->socket_count; k++) {
                struct xg_socket *s = &h->sockets[k];
                /* systemd (pid 1) holds activated sockets; the service that inherited
                 * one holds it too and is the better name */
                bool open = !s->process[0] || s->pid == 1;
                if (s->inode != ino || !open)
                    continue;
                if (!comm[0]) {
                    char crel[300];
                    snprintf(crel, sizeof(crel), "/proc/%s/comm", pids[i]);
                    char *c = xg_probe_read_trim(r, crel);
                    snprintf(comm, sizeof(comm), "%s", c ? c : "?");
                    free(c);
                }
                snprintf(s->process, sizeof(s->process), "%s", comm);
                s->pid = (pid_t)atoi(pids[i]);
                unresolved -= s->pid != 1;
            }
        }
        xg_strv_free(fds, nfds);
    }
    xg_strv_free(pids, npids);
    if (denied && unresolved) {
        char what[64];
        snprintf(what, sizeof(what), "/proc/PID/fd of %zu processes", denied);
        xg_host_unreadable_add(h, what, EACCES);
    }
}

/* ---- accounts ---- */

static void probe_accounts(const struct xg_rootfs *r, struct xg_host *h)
{
    struct xg_err e;
    size_t len;
    char *t = xg_probe_read_section(r, "/etc/passwd", &len, h, XG_SEC_ACCOUNTS);
    if (t) {
        h->passwd_present = true;
        if (xg_passwd_parse(t, len, "/etc/passwd", &h->accounts, &h->account_count, &e) < 0)
            xg_probe_set_error(h, XG_SEC_ACCOUNTS, e.msg);
        free(t);
    }
    if ((t = xg_probe_read_section(r, "/etc/shadow", &len, h, XG_SEC_ACCOUNTS))) {
        h->shadow_present = true;
        if (xg_shadow_apply(t, len, "/etc/shadow", h->accounts, h->account_count, &e) < 0)
            xg_probe_set_error(h, XG_SEC_ACCOUNTS, e.msg);
        free(t);
    }
    if ((t = xg_probe_read_section(r, "/etc/group", &len, h, XG_SEC_ACCOUNTS))) {
        h->group_present = true;
        if (xg_group_parse(t, len, "/etc/group", &h->groups, &h->group_count, &e) < 0)
            xg_probe_set_error(h, XG_SEC_ACCOUNTS, e.msg);
        free(t);
    }
    if ((t = xg_probe_read_ev(r, h, "/etc/sudoers", &len))) {
        h->sudoers_present = true;
        char **dirs = NULL;
        size_t ndirs = 0;
        if (xg_sudoers_parse(t, len, "/etc/sudoers", &h->sudo_rules, &h->sudo_rule_count, &dirs,
                             &ndirs, &e) < 0)
            xg_probe_set_error(h, XG_SEC_SUDOERS, e.msg);
        free(t);
        for (size_t d = 0; d < ndirs; d++) {
            char **names;
            size_t n;
            if (xg_probe_list_ev(r, h, dirs[d], &names, &n) < 0)
                continue;
            for (size_t i = 0; i < n; i++) {
                /* sudo skips names with a '.' or ending in '~' */
                if (strchr(names[i], '.') || names[i][strlen(names[i]) - 1] == '~')
                    continue;
                char rel[600];
                snprintf(rel, sizeof(rel), "%s/%s", dirs[d], names[i]);
                char *dt = xg_probe_read_ev(r, h, rel, &len);
                char **sub = NULL;
                size_t nsub = 0;
                if (dt && xg_sudoers_parse(dt, len, rel, &h->sudo_rules, &h->sudo_rule_count, &sub,
                                           &nsub, &e) < 0)
                    xg_probe_set_error(h, XG_SEC_SUDOERS, e.msg);
                xg_strv_free(sub, nsub);
                free(dt);
            }
            xg_strv_free(names, n);
        }
        xg_strv_free(dirs, ndirs);
    }
}

/* ---- Xen toolstacks ---- */

static void add_domcfg(struct xg_host *h, const struct xg_rootfs *r, const char *rel,
                       bool autostart)
{
    size_t len;
    char *t = xg_probe_read_ev(r, h, rel, &len);
    if (!t)
        return;
    struct xg_xlcfg c;
    struct xg_err e;
    if (xg_xlcfg_parse(t, len, rel, &c, &e) < 0) {
        xg_probe_set_error(h, XG_SEC_XL, e.msg);
        free(t);
        return;
    }
    free(t);
    c.autostart = autostart;
    struct xg_xlcfg *grown = realloc(h->domcfgs, (h->domcfg_count + 1) * sizeof(*grown));
    if (!grown) {
        xg_xlcfg_free(&c);
        return;
    }
    h->domcfgs = grown;
    grown[h->domcfg_count++] = c;
}

static void probe_xen_config(const struct xg_rootfs *r, struct xg_host *h)
{
    struct xg_err e;
    size_t len;
    char *t = xg_probe_read_ev(r, h, "/etc/xen/xend-config.sxp", &len);
    if (t) {
        h->xend_present = true;
        if (xg_xend_config_parse(t, len, "/etc/xen/xend-config.sxp", &h->xend, &h->xend_api_servers,
                                 &h->xend_api_server_count, &e) < 0)
            xg_probe_set_error(h, XG_SEC_XEND, e.msg);
        free(t);
    }
    if ((t = xg_probe_read_ev(r, h, "/etc/xen/xl.conf", &len))) {
        h->xlconf_present = true;
        if (xg_xlcfg_parse(t, len, "/etc/xen/xl.conf", &h->xlconf, &e) < 0)
            xg_probe_set_error(h, XG_SEC_XL, e.msg);
        free(t);
    }
    char **names;
    size_t n;
    if (xg_probe_list_ev(r, h, "/etc/xen", &names, &n) == 0) {
        h->domcfgs_present = true;
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(names[i]);
            if (l > 4 && !strcmp(names[i] + l - 4, ".cfg")) {
                char rel[600];
                snprintf(rel, sizeof(rel), "/etc/xen/%s", names[i]);
                add_domcfg(h, r, rel, false);
            }
        }
        xg_strv_free(names, n);
    }
    if (xg_probe_list_ev(r, h, "/etc/xen/auto", &names, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            char rel[600], target[600];
            snprintf(rel, sizeof(rel), "/etc/xen/auto/%s", names[i]);
            /* a link to a .cfg already read marks it autostarted, not a second copy */
            bool linked = false;
            if (xg_rootfs_readlink(r, rel, target, sizeof(target)) >= 0) {
                const char *base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
                for (size_t k = 0; k < h->domcfg_count; k++) {
                    const char *cb = strrchr(h->domcfgs[k].path, '/') + 1;
                    if (!strcmp(cb, base)) {
                        h->domcfgs[k].autostart = linked = true;
                    }
                }
            }
            if (!linked)
                add_domcfg(h, r, rel, true);
        }
        xg_strv_free(names, n);
    }
    const char *xd = "/etc/default/xendomains";
    if ((t = xg_probe_read_ev(r, h, xd, &len)) ||
        (t = xg_probe_read_ev(r, h, xd = "/etc/sysconfig/xendomains", &len))) {
        h->xendomains_present = true;
        if (xg_keyval_parse(t, len, xd, &h->xendomains, &e) < 0)
            xg_probe_set_error(h, XG_SEC_XENDOMAINS, e.msg);
        free(t);
    }
    xg_probe_xapi_db(r, h);
    bool xapi = h->xapi_present;

    /* which toolstack runs */
    char why[256] = "";
    if (xapi) {
        h->toolstack = XG_TOOLSTACK_XAPI;
        snprintf(why, sizeof(why), "XAPI configuration (/etc/xapi.conf or /etc/xensource*)");
    } else if (h->xend_present && !h->xlconf_present) {
        h->toolstack = XG_TOOLSTACK_XEND;
        snprintf(why, sizeof(why), "/etc/xen/xend-config.sxp and no xl.conf");
    } else if (h->xend_present && h->xlconf_present) {
        char *def = xg_rootfs_read(r, "/etc/default/xen", NULL);
        bool xm = def && strstr(def, "TOOLSTACK=xm");
        bool xend_running = false;
        for (size_t i = 0; i < h->socket_count; i++)
            if (!strncmp(h->sockets[i].process, "xend", 4))
                xend_running = true;
        free(def);
        h->toolstack = xm || xend_running ? XG_TOOLSTACK_XEND : XG_TOOLSTACK_XL;
        snprintf(why, sizeof(why), "%s",
                 xm             ? "TOOLSTACK=xm in /etc/default/xen"
                 : xend_running ? "a xend process owns a socket"
                                : "/etc/xen/xl.conf (xend-config.sxp left over)");
    } else if (h->xlconf_present || xg_rootfs_exists(r, "/usr/sbin/xl")) {
        h->toolstack = XG_TOOLSTACK_XL;
        snprintf(why, sizeof(why), "%s",
                 h->xlconf_present ? "/etc/xen/xl.conf" : "/usr/sbin/xl installed");
    } else {
        snprintf(why, sizeof(why), "no xend-config.sxp, xl.conf or XAPI configuration");
    }
    h->toolstack_why = strdup(why);
}

/* ---- systemd, sysctl, permissions ---- */

static int add_unique(char ***v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i], s))
            return 0;
    return xg_strv_add(v, n, s);
}

static void probe_units(const struct xg_rootfs *r, struct xg_host *h)
{
    char **wants;
    size_t n;
    if (xg_probe_list_ev(r, h, "/etc/systemd/system", &wants, &n) < 0)
        return;
    h->units_present = true;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(wants[i]);
        if (l < 6 || strcmp(wants[i] + l - 6, ".wants"))
            continue;
        char rel[600];
        snprintf(rel, sizeof(rel), "/etc/systemd/system/%s", wants[i]);
        char **units;
        size_t nu;
        if (xg_probe_list_ev(r, h, rel, &units, &nu) < 0)
            continue;
        for (size_t j = 0; j < nu; j++)
            add_unique(&h->units, &h->unit_count, units[j]);
        xg_strv_free(units, nu);
    }
    xg_strv_free(wants, n);
}

/* Sockets only systemd holds: the enabled .socket unit listening there. */
static void probe_socket_units(const struct xg_rootfs *r, struct xg_host *h)
{
    static const char *const dirs[] = {"/etc/systemd/system", "/lib/systemd/system",
                                       "/usr/lib/systemd/system"};
    for (size_t k = 0; k < h->socket_count; k++) {
        struct xg_socket *s = &h->sockets[k];
        for (size_t u = 0; s->pid == 1 && !s->unit[0] && u < h->unit_count; u++) {
            size_t l = strlen(h->units[u]);
            if (l < 8 || strcmp(h->units[u] + l - 7, ".socket"))
                continue;
            for (size_t d = 0; d < 3 && !s->unit[0]; d++) {
                char rel[600];
                snprintf(rel, sizeof(rel), "%s/%s", dirs[d], h->units[u]);
                char *t = xg_rootfs_read(r, rel, NULL);
                if (t && xg_socket_unit_matches(t, h->units[u], s->proto, s->port, s->service,
                                                sizeof(s->service)))
                    snprintf(s->unit, sizeof(s->unit), "%s", h->units[u]);
                free(t);
            }
        }
    }
}

static void add_sysctl(struct xg_host *h, uint8_t family, const char *iface, const char *name,
                       int value)
{
    struct xg_sysctl *grown = realloc(h->sysctls, (h->sysctl_count + 1) * sizeof(*grown));
    if (!grown)
        return;
    h->sysctls = grown;
    struct xg_sysctl *s = &grown[h->sysctl_count++];
    memset(s, 0, sizeof(*s));
    s->family = family;
    snprintf(s->iface, sizeof(s->iface), "%s", iface);
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->value = value;
}

static void probe_sysctls(const struct xg_rootfs *r, struct xg_host *h)
{
    static const char *v4[] = {"rp_filter", "accept_source_route", "accept_redirects"};
    static const char *v6[] = {"accept_source_route", "accept_redirects"};
    for (uint8_t fam = 4; fam <= 6; fam += 2) {
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/sys/net/ipv%u/conf", fam);
        char **ifs;
        size_t n;
        if (xg_probe_list_ev(r, h, dir, &ifs, &n) < 0)
            continue;
        const char **names = fam == 4 ? v4 : v6;
        size_t nn = fam == 4 ? 3 : 2;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < nn; k++) {
                char rel[600];
                snprintf(rel, sizeof(rel), "%s/%s/%s", dir, ifs[i], names[k]);
                char *v = xg_probe_read_trim(r, rel);
                if (!v)
                    continue;
                h->sysctl_present = true;
                add_sysctl(h, fam, ifs[i], names[k], atoi(v));
                free(v);
            }
        xg_strv_free(ifs, n);
    }
}

static void add_perm(struct xg_host *h, const char *path, const struct stat *st)
{
    struct xg_path_perm *grown = realloc(h->perms, (h->perm_count + 1) * sizeof(*grown));
    if (!grown)
        return;
    h->perms = grown;
    struct xg_path_perm *p = &grown[h->perm_count];
    if (!(p->path = strdup(path)))
        return;
    p->mode = st->st_mode;
    p->uid = st->st_uid;
    p->gid = st->st_gid;
    h->perm_count++;
}

static void perm_tree(const struct xg_rootfs *r, struct xg_host *h, const char *rel, int depth)
{
    struct stat st;
    if (xg_rootfs_stat(r, rel, &st, true) < 0 || S_ISLNK(st.st_mode))
        return;
    add_perm(h, rel, &st);
    if (!S_ISDIR(st.st_mode) || depth <= 0)
        return;
    char **names;
    size_t n;
    if (xg_probe_list_ev(r, h, rel, &names, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char sub[1200];
        snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]);
        perm_tree(r, h, sub, depth - 1);
    }
    xg_strv_free(names, n);
}

static void probe_perms(const struct xg_rootfs *r, struct xg_host *h)
{
    struct stat st;
    if (xg_rootfs_stat(r, "/etc/xen", &st, true) == 0)
        h->perms_present = true;
    perm_tree(r, h, "/etc/xen", 2);
    if (xg_rootfs_exists(r, "/var/run/xenstored"))
        perm_tree(r, h, "/var/run/xenstored", 1);
    else
        perm_tree(r, h, "/run/xenstored", 1);
    perm_tree(r, h, "/dev/xen", 1);
}

/* ---- interfaces and firewall evidence ---- */

static void probe_firewall(const struct xg_rootfs *r, struct xg_host *h)
{
    char *ipt[] = {"iptables-save", NULL};
    char *ip6t[] = {"ip6tables-save", NULL};
    char *nft[] = {"nft", "-j", "list", "ruleset", NULL};
    char *ipaddr[] = {"ip", "-j", "addr", NULL};
    char *save4 = xg_probe_evidence(r, "iptables-save.txt", ipt);
    char *save6 = xg_probe_evidence(r, "ip6tables-save.txt", ip6t);
    char *nft_json = xg_probe_evidence(r, "nft-ruleset.json", nft);
    struct xg_fw_evidence ev = {.views = {{XG_FW_NFT_JSON, nft_json, "nft -j list ruleset"},
                                          {XG_FW_SAVE4, save4, "iptables-save"},
                                          {XG_FW_SAVE6, save6, "ip6tables-save"}},
                                .count = 3};
    struct xg_err fe;
    h->firewall_present = save4 || save6 || nft_json;
    if (h->firewall_present && xg_ruleset_from_evidence(&ev, &h->firewall, &fe) < 0)
        xg_probe_set_error(h, XG_SEC_FIREWALL, fe.msg);
    /* bridges and the guests' table, which the same listing holds (probe/bridges.c) */
    xg_probe_bridges(r, h, XG_CAPTURE_DIR "/" XG_CAPTURE_BRIDGES, nft_json);
    free(save4);
    free(save6);
    free(nft_json);
    h->ip_addr_json = xg_probe_evidence(r, "ip-addr.json", ipaddr);
    if (h->ip_addr_json) {
        struct xg_err e;
        h->ifaces_present = true;
        if (xg_ipaddr_parse(h->ip_addr_json, strlen(h->ip_addr_json), "ip -j addr", &h->ifaces,
                            &h->iface_count, &e) < 0)
            xg_probe_set_error(h, XG_SEC_IFACES, e.msg);
    }
}

int xg_probe_host(const char *root, struct xg_host *h, struct xg_err *err)
{
    struct xg_rootfs r;
    memset(h, 0, sizeof(*h));
    h->bindv6only = -1;
    if (xg_rootfs_open(&r, root, err) < 0)
        return -1;
    h->root = strdup(root);
    h->live = r.live;
    h->unprivileged = r.live && geteuid() != 0;
    h->hostname = xg_probe_read_trim(&r, "/proc/sys/kernel/hostname");
    if (!h->hostname)
        h->hostname = xg_probe_read_trim(&r, "/etc/hostname");
    if (!h->hostname)
        h->hostname = strdup("");
    probe_sockets(&r, h);
    xg_probe_v6only(&r, h);
    probe_processes(&r, h);
    probe_xen(&r, h);
    probe_accounts(&r, h);
    xg_probe_sshd(&r, h);
    probe_xen_config(&r, h);
    xg_probe_versions(&r, h);
    probe_units(&r, h);
    probe_socket_units(&r, h);
    probe_sysctls(&r, h);
    probe_perms(&r, h);
    probe_firewall(&r, h);
    xg_rootfs_close(&r);
    return 0;
}
