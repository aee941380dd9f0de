/*
 * capture.c — `xenguard capture DIR`: what `xenguard audit` reads, saved.
 *
 * DIR becomes a root that `xenguard audit --root DIR` audits offline: the
 * same paths (proc/net/tcp, etc/ssh/sshd_config, etc/xen/...), with
 * /proc/PID/fd socket links recreated as symlinks to "socket:[INODE]",
 * device nodes and runtime directories as empty placeholders carrying the
 * original mode and owner, and the output of the read-only commands in
 * DIR/xenguard/. Read-only on the host; DIR must not exist or be empty.
 * Run as root to include shadow, sudoers and other processes' fds.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probe/bridges.h"
#include "probe/probe.h"
#include "probe/rootfs.h"
#include "util/buf.h"
#include "verbs.h"

struct cap {
    const char *dir;
    size_t files;
    size_t failures;
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: xenguard capture DIR\n\n"
                 "Save what `xenguard audit` reads from this host into DIR (which must not\n"
                 "exist or be empty), so that `xenguard audit --root DIR` audits it offline.\n"
                 "Reads only; run as root for shadow, sudoers and every process's sockets.\n"
                 "See xenguard-audit(8).\n");
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

/* Copy one file (regular: content; symlink: link; other: placeholder). */
static void copy_path(struct cap *c, const char *rel)
{
    struct stat st;
    if (lstat(rel, &st) < 0)
        return;
    char path[4096];
    dst_path(c, rel, path, sizeof(path));
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(rel, target, sizeof(target) - 1);
        if (n < 0 || mkparents(path) < 0)
            return;
        target[n] = '\0';
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
    if (S_ISREG(st.st_mode)) {
        size_t len;
        char *data = NULL;
        FILE *f = fopen(rel, "re");
        if (f) {
            size_t cap = 0;
            len = 0;
            for (;;) {
                if (len + 4096 > cap) {
                    char *g = realloc(data, cap ? cap * 2 : 8192);
                    if (!g)
                        break;
                    data = g;
                    cap = cap ? cap * 2 : 8192;
                }
                size_t got = fread(data + len, 1, cap - len, f);
                len += got;
                if (got == 0)
                    break;
            }
            fclose(f);
            if (write_data(c, rel, data ? data : "", len, 0600) == 0)
                keep_owner(c, rel, &st);
            else
                c->failures++;
        } else {
            c->failures++;
        }
        free(data);
        return;
    }
    /* device nodes, sockets, fifos: an empty file with the same mode and owner */
    if (write_data(c, rel, "", 0, 0600) == 0)
        keep_owner(c, rel, &st);
}

static void copy_tree(struct cap *c, const char *rel, int depth)
{
    struct stat st;
    if (lstat(rel, &st) < 0)
        return;
    copy_path(c, rel);
    if (!S_ISDIR(st.st_mode) || depth <= 0)
        return;
    DIR *d = opendir(rel);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
        copy_tree(c, sub, depth - 1);
    }
    closedir(d);
}

/* /proc files report size 0: read them as streams. */
static void copy_proc(struct cap *c, const char *rel)
{
    FILE *f = fopen(rel, "re");
    if (!f)
        return;
    struct xg_buf b = {0};
    char chunk[8192];
    for (size_t got; (got = fread(chunk, 1, sizeof(chunk), f));)
        xg_buf_printf(&b, "%.*s", (int)got, chunk);
    fclose(f);
    if (!xg_buf_failed(&b))
        write_data(c, rel, xg_buf_str(&b), b.len, 0644);
    xg_buf_free(&b);
}

static void capture_procs(struct cap *c)
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char fdrel[300];
        snprintf(fdrel, sizeof(fdrel), "/proc/%s/fd", e->d_name);
        DIR *fd = opendir(fdrel);
        if (!fd)
            continue;
        bool any = false;
        for (struct dirent *f; (f = readdir(fd));) {
            if (f->d_name[0] == '.')
                continue;
            char link[600], target[128], path[4096];
            snprintf(link, sizeof(link), "%s/%s", fdrel, f->d_name);
            ssize_t n = readlink(link, target, sizeof(target) - 1);
            if (n < 0)
                continue;
            target[n] = '\0';
            if (strncmp(target, "socket:[", 8))
                continue;
            dst_path(c, link, path, sizeof(path));
            if (mkparents(path) == 0 && symlink(target, path) == 0)
                any = true;
        }
        closedir(fd);
        (void)any;
        /* every process's name: the audit names the toolstack's daemons too */
        char comm[300];
        snprintf(comm, sizeof(comm), "/proc/%s/comm", e->d_name);
        copy_proc(c, comm);
    }
    closedir(d);
}

static void capture_sysctls(struct cap *c)
{
    static const char *names[] = {"rp_filter", "accept_source_route", "accept_redirects"};
    for (int fam = 4; fam <= 6; fam += 2) {
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/sys/net/ipv%d/conf", fam);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.')
                continue;
            for (size_t k = 0; k < 3; k++) {
                char rel[600];
                snprintf(rel, sizeof(rel), "%s/%s/%s", dir, e->d_name, names[k]);
                copy_proc(c, rel);
            }
        }
        closedir(d);
    }
}

static void capture_command(struct cap *c, const char *name, char *const argv[])
{
    size_t len;
    char *out = xg_run_capture(argv, &len);
    if (!out)
        return;
    char rel[256];
    snprintf(rel, sizeof(rel), "%s/%s", XG_CAPTURE_DIR, name);
    write_data(c, rel, out, len, 0600);
    free(out);
}

/* The capture directory: created, or an existing empty one. 0, or -1 (message printed). */
static int open_empty_dir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "xenguard capture: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "xenguard capture: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            closedir(d);
            fprintf(stderr, "xenguard capture: %s is not empty (refusing to mix captures)\n", dir);
            return -1;
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
        if (!strcmp(trees[i].path, "/usr/sbin/xl")) {
            if (access("/usr/sbin/xl", X_OK) == 0)
                write_data(c, "/usr/sbin/xl", "", 0, 0755); /* presence only */
            continue;
        }
        copy_tree(c, trees[i].path, trees[i].depth);
    }
}

/* Enabled systemd units: the .wants directories and their links. */
static void capture_units(struct cap *c)
{
    DIR *sd = opendir("/etc/systemd/system");
    if (!sd)
        return;
    char root_sd[4096];
    dst_path(c, "/etc/systemd/system/", root_sd, sizeof(root_sd));
    mkparents(root_sd);
    for (struct dirent *e; (e = readdir(sd));) {
        size_t l = strlen(e->d_name);
        if (l > 6 && !strcmp(e->d_name + l - 6, ".wants")) {
            char rel[600];
            snprintf(rel, sizeof(rel), "/etc/systemd/system/%s", e->d_name);
            copy_tree(c, rel, 1);
        }
    }
    closedir(sd);
}

/* Bridge membership (/sys/class/net/BR/brif), as the text the probe reads back. */
static void capture_bridges(struct cap *c)
{
    struct xg_rootfs live;
    struct xg_err err;
    if (xg_rootfs_open(&live, "/", &err) < 0)
        return;
    char *text = xg_bridges_text(&live);
    xg_rootfs_close(&live);
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
    if (access("/proc/xen/capabilities", R_OK) == 0) {
        capture_command(c, "xl-info.txt", xlinfo);
        capture_command(c, "xl-list.json", xllist);
    }
    capture_bridges(c);
}

/* Write a program's stdout and stderr together (version banners go to stderr). */
static void capture_banner(struct cap *c, const char *name, char *const argv[])
{
    char *out = xg_probe_run(argv, true, true);
    if (!out)
        return;
    char rel[256];
    snprintf(rel, sizeof(rel), "%s/%s", XG_CAPTURE_DIR, name);
    write_data(c, rel, out, strlen(out), 0600);
    free(out);
}

/* Empty placeholders for the names of a directory that start with `prefix`. */
static void capture_names(struct cap *c, const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            char rel[600];
            snprintf(rel, sizeof(rel), "%s/%s", dir, e->d_name);
            write_data(c, rel, "", 0, 0644);
        }
    closedir(d);
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
    capture_banner(c, "sshd-version.txt", sshd_v);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        copy_path(c, files[i]);
    capture_names(c, "/usr/lib", "xen-");
    capture_names(c, "/boot", "xen-");
}

int cmd_capture(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    struct cap c = {argv[optind], 0, 0};
    if (open_empty_dir(c.dir) < 0)
        return 1;
    capture_kernel_files(&c);
    capture_procs(&c);
    capture_sysctls(&c);
    capture_config(&c);
    capture_units(&c);
    capture_commands(&c);
    capture_versions(&c);
    char stamp[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int n = snprintf(stamp, sizeof(stamp), "xenguard %s capture, %04d-%02d-%02dT%02d:%02d:%02dZ\n",
                     XG_VERSION, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
    write_data(&c, XG_CAPTURE_DIR "/CAPTURE", stamp, (size_t)n, 0644);
    printf("xenguard capture: %zu files in %s%s\n", c.files, c.dir,
           c.failures ? " (some files could not be read: run as root)" : "");
    return 0;
}
