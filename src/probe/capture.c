/*
 * capture.c — what `xenguard audit` reads, saved into a directory that
 * `xenguard audit --root DIR` audits offline (`xenguard capture`, whose verb
 * file src/cmd/capture.c parses and prints).
 *
 * The same paths (proc/net/tcp, etc/ssh/sshd_config, etc/xen/...), with
 * /proc/PID/fd socket links recreated as symlinks to "socket:[INODE]",
 * device nodes and runtime directories as empty placeholders carrying the
 * original mode and owner, and the output of the read-only commands in
 * DIR/xenguard/. Read-only on the host; DIR must not exist or be empty.
 *
 * Everything is read through probe/rootfs.h, from the live host ("/") or
 * from a mounted root or an earlier capture (commands then come from its
 * xenguard/). A capture travels (auditors, tickets), so no secret is
 * written: every file passes redact_file(), which applies the transform of
 * probe/redact.h for its kind and records what it did in
 * DIR/xenguard/redacted.txt. The audit of the capture must still give each
 * check the original's verdict (tests/e2e/capture_secrets.sh).
 */
#include "probe/capture.h"

#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probe/bridges.h"
#include "probe/probe.h"
#include "probe/redact.h"
#include "probe/rootfs.h"
#include "util/buf.h"

/* One capture in progress; the manifest is what it left out or rewrote, one
 * line per path (XG_CAPTURE_DIR/redacted.txt). */
struct cap {
    struct xg_rootfs src; /* the live host ("/") or the root being captured */
    const char *dir;
    size_t files;
    size_t failures;
    struct xg_buf manifest;
    size_t redactions;
};

/* One line of the redaction manifest (and, with -v, of stderr). */
static void redacted(struct cap *c, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void redacted(struct cap *c, const char *rel, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    xg_buf_printf(&c->manifest, "%s: %s\n", rel, what);
    c->redactions++;
}

/* mkdir -p for the parent directories of DIR/rel. */
static int mkparents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static void dst_path(const struct cap *c, const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s", c->dir, rel[0] == '/' ? "" : "/", rel);
}

static int write_data(struct cap *c, const char *rel, const char *data, size_t len, mode_t mode)
{
    char path[4096];
    dst_path(c, rel, path, sizeof(path));
    if (mkparents(path) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    c->files++;
    return close(fd);
}

static void keep_owner(const struct cap *c, const char *rel, const struct stat *st)
{
    char path[4096];
    dst_path(c, rel, path, sizeof(path));
    /* best effort: only root can give files away */
    if (lchown(path, st->st_uid, st->st_gid) == 0 && !S_ISLNK(st->st_mode))
        chmod(path, st->st_mode & 07777);
}

/* An empty file with the original's mode and owner, in place of what it held. */
static void placeholder(struct cap *c, const char *rel, const struct stat *st)
{
    if (write_data(c, rel, "", 0, 0600) == 0)
        keep_owner(c, rel, st);
}

static bool under(const char *rel, const char *dir)
{
    size_t n = strlen(dir);
    return !strncmp(rel, dir, n) && rel[n] == '/';
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * The text a capture holds for file rel: its content with the secrets
 * replaced (redact.h), into out. Returns 0, or -1 when the file is left out
 * entirely (a private key): the caller writes an empty placeholder.
 */
static int redact_file(struct cap *c, const char *rel, const char *data, size_t len,
                       struct xg_buf *out)
{
    size_t n = 0;
    int rc = 0;
    bool colon = false;
    if (xg_redact_is_private_key(rel, data, len)) {
        redacted(c, rel, "private key left out (empty file, mode and owner kept)");
        return -1;
    }
    if (under(rel, "/run/xenstored") || under(rel, "/var/run/xenstored") ||
        under(rel, "/dev/xen")) {
        /* only mode and owner are read here; xenstored's database (tdb) holds the
         * guests' console passwords */
        if (len)
            redacted(c, rel, "contents left out (empty file, mode and owner kept)");
        return -1;
    }
    if (!strcmp(rel, "/etc/shadow") || !strcmp(rel, "/etc/gshadow") ||
        !strcmp(rel, "/etc/passwd") || !strcmp(rel, "/etc/group")) {
        rc = xg_redact_colon(data, len, !has_suffix(rel, "shadow"), out, &n);
        colon = true;
    } else if (under(rel, "/etc/xen") && has_suffix(rel, ".sxp")) {
        rc = xg_redact_sxp(data, len, out, &n);
    } else if (under(rel, "/etc/xen")) {
        rc = xg_redact_xlcfg(data, len, out, &n);
    } else if (!strcmp(rel, "/var/lib/xcp/state.db")) {
        struct xg_err e;
        if (xg_xapi_db_reduce(data, len, rel, out, &n, &e) < 0) {
            xg_buf_printf(out, "left out by xenguard capture: %s\n", e.msg);
            redacted(c, rel, "left out: not a XAPI database (%s)", e.msg);
        } else {
            redacted(c, rel,
                     "reduced to the host rows' uuid and https_only (%zu tables and "
                     "fields dropped: sessions, secrets, passwords, pool tokens)",
                     n);
        }
        return 0;
    } else {
        xg_buf_append(out, data, len);
    }
    if (rc < 0)
        c->failures++;
    else if (n && colon)
        redacted(c, rel, "%zu password field%s reduced to the state (locked, empty or <usable>)", n,
                 n == 1 ? "" : "s");
    else if (n)
        redacted(c, rel,
                 "%zu password value%s replaced by <set> (a comment naming a password: "
                 "dropped)",
                 n, n == 1 ? "" : "s");
    return 0;
}

/* Copy one file (regular: content, redacted; symlink: link; other: placeholder). */
static void copy_path(struct cap *c, const char *rel)
{
    struct stat st;
    if (xg_rootfs_stat(&c->src, rel, &st, true) < 0)
        return;
    char path[4096];
    dst_path(c, rel, path, sizeof(path));
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        if (xg_rootfs_readlink(&c->src, rel, target, sizeof(target)) < 0 || mkparents(path) < 0)
            return;
        if (symlink(target, path) == 0) {
            c->files++;
            keep_owner(c, rel, &st);
        }
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (mkparents(path) == 0 && (mkdir(path, 0755) == 0 || errno == EEXIST))
            keep_owner(c, rel, &st);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        /* device nodes, sockets, fifos: an empty file with the same mode and owner */
        placeholder(c, rel, &st);
        return;
    }
    size_t len;
    char *data = xg_rootfs_read(&c->src, rel, &len);
    if (!data) {
        c->failures++;
        return;
    }
    struct xg_buf out = {0};
    if (redact_file(c, rel, data, len, &out) < 0)
        placeholder(c, rel, &st);
    else if (!xg_buf_failed(&out) &&
             write_data(c, rel, out.data ? out.data : "", out.len, 0600) == 0)
        keep_owner(c, rel, &st);
    else
        c->failures++;
    xg_buf_free(&out);
    free(data);
}

static void copy_tree(struct cap *c, const char *rel, int depth)
{
    struct stat st;
    if (xg_rootfs_stat(&c->src, rel, &st, true) < 0)
        return;
    copy_path(c, rel);
    char **names;
    size_t n;
    if (!S_ISDIR(st.st_mode) || depth <= 0 || xg_rootfs_list(&c->src, rel, &names, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]);
        copy_tree(c, sub, depth - 1);
    }
    xg_strv_free(names, n);
}

/*
 * A directory whose files only matter by being there, and that holds
 * secrets (/etc/xensource: the pool token, xapi's TLS keys): the directory
 * alone, its files named in the manifest.
 */
static void copy_dir_only(struct cap *c, const char *rel)
{
    char **names;
    size_t n;
    copy_path(c, rel);
    if (xg_rootfs_list(&c->src, rel, &names, &n) < 0)
        return;
    if (n) {
        struct xg_buf list = {0};
        for (size_t i = 0; i < n; i++)
            xg_buf_printf(&list, "%s%s", i ? " " : "", names[i]);
        redacted(c, rel, "contents left out (%zu entries: %s): only the directory is read", n,
                 xg_buf_str(&list));
        xg_buf_free(&list);
    }
    xg_strv_free(names, n);
}

/* /proc files report size 0; read whole, whatever they say. */
static void copy_proc(struct cap *c, const char *rel)
{
    size_t len;
    char *data = xg_rootfs_read(&c->src, rel, &len);
    if (data)
        write_data(c, rel, data, len, 0644);
    free(data);
}

static bool all_digits(const char *s)
{
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Every process's socket fds (as links to "socket:[INODE]") and its name. */
static void capture_procs(struct cap *c)
{
    char **pids, **fds;
    size_t npids, nfds;
    if (xg_rootfs_list(&c->src, "/proc", &pids, &npids) < 0)
        return;
    for (size_t i = 0; i < npids; i++) {
        if (!all_digits(pids[i]))
            continue;
        char fdrel[300];
        snprintf(fdrel, sizeof(fdrel), "/proc/%s/fd", pids[i]);
        if (xg_rootfs_list(&c->src, fdrel, &fds, &nfds) == 0) {
            for (size_t k = 0; k < nfds; k++) {
                char link[600], target[128], path[4096];
                snprintf(link, sizeof(link), "%s/%s", fdrel, fds[k]);
                if (xg_rootfs_readlink(&c->src, link, target, sizeof(target)) < 0 ||
                    strncmp(target, "socket:[", 8))
                    continue;
                dst_path(c, link, path, sizeof(path));
                if (mkparents(path) == 0)
                    (void)symlink(target, path);
            }
            xg_strv_free(fds, nfds);
        }
        /* every process's name: the audit names the toolstack's daemons too */
        char comm[300];
        snprintf(comm, sizeof(comm), "/proc/%s/comm", pids[i]);
        copy_proc(c, comm);
    }
    xg_strv_free(pids, npids);
}

static void capture_sysctls(struct cap *c)
{
    static const char *names[] = {"rp_filter", "accept_source_route", "accept_redirects"};
    for (int fam = 4; fam <= 6; fam += 2) {
        char dir[64], **ifs;
        size_t n;
        snprintf(dir, sizeof(dir), "/proc/sys/net/ipv%d/conf", fam);
        if (xg_rootfs_list(&c->src, dir, &ifs, &n) < 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < 3; k++) {
                char rel[600];
                snprintf(rel, sizeof(rel), "%s/%s/%s", dir, ifs[i], names[k]);
                copy_proc(c, rel);
            }
        }
        xg_strv_free(ifs, n);
    }
}

/*
 * A command's output as XG_CAPTURE_DIR/name: run on the live host (stderr
 * too with `banner`: version banners go there), read from the root's own
 * XG_CAPTURE_DIR otherwise. `xl list -l` holds each domain's console
 * passwords: they are redacted like the configuration files.
 */
static void capture_output(struct cap *c, const char *name, char *const argv[], bool banner)
{
    char rel[256];
    size_t len = 0;
    snprintf(rel, sizeof(rel), "%s/%s", XG_CAPTURE_DIR, name);
    char *out = !c->src.live ? xg_rootfs_read(&c->src, rel, &len)
                : banner     ? xg_probe_run(argv, true, true)
                             : xg_run_capture(argv, &len);
    if (!out)
        return;
    if (banner && c->src.live)
        len = strlen(out);
    if (has_suffix(name, ".json") && !strncmp(name, "xl-", 3)) {
        struct xg_buf b = {0};
        size_t n = 0;
        if (xg_redact_json(out, len, &b, &n) == 0) {
            write_data(c, rel, xg_buf_str(&b), b.len, 0600);
            if (n)
                redacted(c, rel, "%zu console password%s replaced by <set>", n, n == 1 ? "" : "s");
        } else {
            c->failures++;
        }
        xg_buf_free(&b);
    } else {
        write_data(c, rel, out, len, 0600);
    }
    free(out);
}

static void capture_command(struct cap *c, const char *name, char *const argv[])
{
    capture_output(c, name, argv, false);
}

/* The capture directory: created, or an existing empty one. */
static int open_empty_dir(const char *dir, struct xg_err *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return xg_fail(err, "%s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d)
        return xg_fail(err, "%s: %s", dir, strerror(errno));
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            closedir(d);
            return xg_fail(err, "%s is not empty (refusing to mix captures)", dir);
        }
    closedir(d);
    return 0;
}

/* /proc and /sys: read as streams (they report size 0). */
static void capture_kernel_files(struct cap *c)
{
    static const char *proc_files[] = {"/proc/net/tcp",
                                       "/proc/net/tcp6",
                                       "/proc/net/udp",
                                       "/proc/net/udp6",
                                       "/proc/xen/capabilities",
                                       "/proc/cmdline",
                                       "/proc/sys/kernel/hostname",
                                       "/sys/hypervisor/type",
                                       "/sys/hypervisor/version/major",
                                       "/sys/hypervisor/version/minor",
                                       "/sys/hypervisor/version/extra",
                                       "/sys/hypervisor/properties/features"};
    for (size_t i = 0; i < sizeof(proc_files) / sizeof(proc_files[0]); i++)
        copy_proc(c, proc_files[i]);
}

/* The configuration files and trees the checks read. */
static void capture_config(struct cap *c)
{
    static const struct {
        const char *path;
        int depth;
    } trees[] = {
        {"/etc/passwd", 0},
        {"/etc/shadow", 0},
        {"/etc/group", 0},
        {"/etc/hostname", 0},
        {"/etc/sudoers", 0},
        {"/etc/sudoers.d", 1},
        {"/etc/ssh/sshd_config", 0},
        {"/etc/ssh/sshd_config.d", 1},
        {"/etc/xen", 3},
        {"/etc/default/xendomains", 0},
        {"/etc/default/xen", 0},
        {"/etc/sysconfig/xendomains", 0},
        {"/etc/xapi.conf", 0},
        {"/etc/xapi.conf.d", 1},
        {"/etc/xensource-inventory", 0},
        {"/etc/xensource", 1},
        {"/var/lib/xcp/state.db", 0},
        {"/usr/sbin/xl", 0},
        {"/var/run/xenstored", 1},
        {"/run/xenstored", 1},
        {"/dev/xen", 1},
    };
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
        struct stat st;
        if (!strcmp(trees[i].path, "/usr/sbin/xl")) {
            if (xg_rootfs_stat(&c->src, "/usr/sbin/xl", &st, false) == 0 && S_ISREG(st.st_mode) &&
                (st.st_mode & 0111))
                write_data(c, "/usr/sbin/xl", "", 0, 0755); /* presence only */
        } else if (!strcmp(trees[i].path, "/etc/xensource")) {
            copy_dir_only(c, trees[i].path);
        } else {
            copy_tree(c, trees[i].path, trees[i].depth);
        }
    }
}

/* Enabled systemd units: the .wants directories and their links. */
static void capture_units(struct cap *c)
{
    char **names;
    size_t n;
    if (xg_rootfs_list(&c->src, "/etc/systemd/system", &names, &n) < 0)
        return;
    char root_sd[4096];
    dst_path(c, "/etc/systemd/system/", root_sd, sizeof(root_sd));
    mkparents(root_sd);
    for (size_t i = 0; i < n; i++) {
        if (has_suffix(names[i], ".wants") && strlen(names[i]) > 6) {
            char rel[600];
            snprintf(rel, sizeof(rel), "/etc/systemd/system/%s", names[i]);
            copy_tree(c, rel, 1);
        }
    }
    xg_strv_free(names, n);
}

/* Bridge membership (/sys/class/net/BR/brif), as the text the probe reads back. */
static void capture_bridges(struct cap *c)
{
    char *text = c->src.live ? xg_bridges_text(&c->src)
                             : xg_rootfs_read(&c->src, XG_CAPTURE_DIR "/" XG_CAPTURE_BRIDGES, NULL);
    if (!text)
        return;
    write_data(c, XG_CAPTURE_DIR "/" XG_CAPTURE_BRIDGES, text, strlen(text), 0600);
    free(text);
}

/* What the read-only tools print: the firewall views, addresses, the toolstack. */
static void capture_commands(struct cap *c)
{
    char *ipt[] = {"iptables-save", NULL};
    char *ip6t[] = {"ip6tables-save", NULL};
    char *nft[] = {"nft", "-j", "list", "ruleset", NULL};
    char *ipaddr[] = {"ip", "-j", "addr", NULL};
    char *xlinfo[] = {"xl", "info", NULL};
    char *xllist[] = {"xl", "list", "-l", NULL};
    capture_command(c, "iptables-save.txt", ipt);
    capture_command(c, "ip6tables-save.txt", ip6t);
    capture_command(c, "nft-ruleset.json", nft);
    capture_command(c, "ip-addr.json", ipaddr);
    if (xg_rootfs_exists(&c->src, "/proc/xen/capabilities")) {
        capture_command(c, "xl-info.txt", xlinfo);
        capture_command(c, "xl-list.json", xllist);
    }
    capture_bridges(c);
}

/* Empty placeholders for the names of a directory that start with `prefix`. */
static void capture_names(struct cap *c, const char *dir, const char *prefix)
{
    char **names;
    size_t n;
    if (xg_rootfs_list(&c->src, dir, &names, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (!strncmp(names[i], prefix, strlen(prefix))) {
            char rel[600];
            snprintf(rel, sizeof(rel), "%s/%s", dir, names[i]);
            write_data(c, rel, "", 0, 0644);
        }
    xg_strv_free(names, n);
}

/*
 * What the version-aware and dual-stack judgements read: which sockets are
 * IPV6_V6ONLY (ss, net.ipv6.bindv6only), sshd's effective configuration and
 * version, the distribution, the installed packages and Xen's version files.
 */
static void capture_versions(struct cap *c)
{
    char *ss[] = {"ss", "-H", "-l", "-n", "-e", "-t", "-u", NULL};
    char *sshd_t[] = {"sshd", "-T", "-C", "user=root,host=,addr=", NULL};
    char *sshd_v[] = {"sshd", "-V", NULL};
    static const char *files[] = {"/etc/os-release", "/usr/lib/os-release", "/etc/redhat-release",
                                  "/etc/debian_version", "/var/lib/dpkg/status"};
    copy_proc(c, "/proc/sys/net/ipv6/bindv6only");
    capture_command(c, "ss-listen.txt", ss);
    capture_command(c, "sshd-T.txt", sshd_t);
    capture_output(c, "sshd-version.txt", sshd_v, true);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        copy_path(c, files[i]);
    capture_names(c, "/usr/lib", "xen-");
    capture_names(c, "/boot", "xen-");
}

/* XG_CAPTURE_DIR/CAPTURE (what made it, when) and the redaction manifest. */
static void write_stamps(struct cap *c, const char *from)
{
    char stamp[4400];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int n =
        snprintf(stamp, sizeof(stamp), "xenguard %s capture, %04d-%02d-%02dT%02d:%02d:%02dZ%s%s\n",
                 XG_VERSION, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, from ? ", of the root " : "", from ? from : "");
    write_data(c, XG_CAPTURE_DIR "/CAPTURE", stamp, (size_t)n < sizeof(stamp) ? (size_t)n : 0,
               0644);
    struct xg_buf m = {0};
    xg_buf_puts(&m, "# What this capture left out or replaced, one line per file (see "
                    "xenguard-capture(8)).\n"
                    "# Never captured: private keys, /etc/xenguard, ssh host keys, "
                    "/etc/xensource's files.\n");
    xg_buf_puts(&m, xg_buf_str(&c->manifest));
    write_data(c, XG_CAPTURE_DIR "/" XG_CAPTURE_REDACTED, xg_buf_str(&m), m.len, 0644);
    xg_buf_free(&m);
}

int xg_capture(const char *from, const char *dir, struct xg_capture_stats *st, struct xg_err *err)
{
    struct cap c = {.dir = dir};
    memset(st, 0, sizeof(*st));
    if (xg_rootfs_open(&c.src, from ? from : "/", err) < 0)
        return -1;
    if (open_empty_dir(c.dir, err) < 0) {
        xg_rootfs_close(&c.src);
        return -1;
    }
    capture_kernel_files(&c);
    capture_procs(&c);
    capture_sysctls(&c);
    capture_config(&c);
    capture_units(&c);
    capture_commands(&c);
    capture_versions(&c);
    write_stamps(&c, c.src.live ? NULL : from);
    xg_rootfs_close(&c.src);
    st->files = c.files;
    st->failures = c.failures;
    st->redactions = c.redactions;
    if (xg_buf_failed(&c.manifest) || !(st->manifest = strdup(xg_buf_str(&c.manifest)))) {
        xg_buf_free(&c.manifest);
        return xg_fail(err, "out of memory");
    }
    xg_buf_free(&c.manifest);
    return 0;
}
