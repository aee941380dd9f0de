/*
 * harden.c — `xenguard harden xend|sshd|sysctl`: show, then write, the
 * configuration the "Securing Xen" chapter asks for.
 *
 * The text comes from src/harden/ (pure generators). This verb reads the
 * current file, prints a unified diff (diff(1), from diffutils) and only
 * with --write replaces the file: atomically, keeping the original as
 * FILE.xenguard-bak (written once, so it stays the pre-xenguard file). The
 * sshd drop-in is checked with `sshd -t` on a temporary configuration that
 * includes it before anything is written. --root prefixes every path, for
 * tests and for preparing an image.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harden/harden.h"
#include "util/file.h"
#include "util/proc.h"
#include "verbs.h"

#define XEND_CONFIG   "/etc/xen/xend-config.sxp"
#define SSHD_CONFIG   "/etc/ssh/sshd_config"
#define SSHD_DROPIN   "/etc/ssh/sshd_config.d/50-xenguard.conf"
#define SYSCTL_DROPIN "/etc/sysctl.d/99-xenguard.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard harden xend|sshd|sysctl [-c FILE] [--diff | --write]\n"
            "                       [--address ADDR] [--root DIR] [--sshd PATH]\n\n"
            "Show (default) or write the hardened configuration:\n"
            "  xend    %s: relocation server per the policy, bound to the\n"
            "          management address, hosts-allow = the peers; HTTP/XML-RPC/Xen-API TCP off\n"
            "  sshd    %s (checked with sshd -t first)\n"
            "  sysctl  %s: rp_filter on, source routing and redirects off\n\n"
            "  -c, --config FILE  policy file (default %s)\n"
            "  -d, --diff         print a unified diff, change nothing (default)\n"
            "  -w, --write        write the file atomically, keeping FILE.xenguard-bak\n"
            "  -a, --address ADDR management address (default: the management interface's)\n"
            "  -R, --root DIR     prefix for every path (tests, images)\n"
            "      --sshd PATH    sshd binary for validation (default /usr/sbin/sshd)\n"
            "Exit status: 0 ok (also: no changes), 1 failure, 2 usage.\n",
            XEND_CONFIG, SSHD_DROPIN, SYSCTL_DROPIN, XG_DEFAULT_POLICY_PATH);
}

/* Run argv through the process runner (30 s at most). -1 when it could not
 * start (why in err), else its exit status (-1 when killed); output in *p. */
static int run(char *const argv[], struct xg_proc *p, struct xg_err *err)
{
    struct xg_proc_opts o = {.timeout_ms = 30000};
    if (xg_proc_run(argv, &o, p, err) < 0)
        return -1;
    if (p->timed_out || p->signal) {
        char how[64];
        xg_proc_describe(p, &o, how, sizeof(how));
        xg_proc_free(p);
        return xg_fail(err, "%s: %s", argv[0], how);
    }
    return p->status;
}

static int write_temp(char *tmpl, const char *text)
{
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
    close(fd);
    return rc;
}

static int show_diff(const char *path, const char *old, const char *new)
{
    char a[] = "/tmp/xenguard-old.XXXXXX", b[] = "/tmp/xenguard-new.XXXXXX";
    char la[PATH_MAX + 16], lb[PATH_MAX + 16];
    int rc = -1;
    snprintf(la, sizeof(la), "%s", path);
    snprintf(lb, sizeof(lb), "%s (xenguard)", path);
    if (write_temp(a, old) == 0 && write_temp(b, new) == 0) {
        fflush(stdout);
        char *argv[] = {"diff", "-u", "--label", la, "--label", lb, a, b, NULL};
        struct xg_proc p;
        struct xg_err ignored;
        if (run(argv, &p, &ignored) == 1) { /* diff exits 1 when the files differ */
            fwrite(p.out, 1, p.out_len, stdout);
            rc = 0;
        }
        if (p.out)
            xg_proc_free(&p);
    }
    unlink(a);
    unlink(b);
    return rc;
}

/* sshd -t on "Include DROPIN" + "Include MAIN": the drop-in first, as Debian's main config has it.
 */
static int validate_sshd(const char *sshd, const char *main_cfg, const char *dropin_text,
                         struct xg_err *err)
{
    char dir[] = "/tmp/xenguard-sshd.XXXXXX", dropin[PATH_MAX], cfg[PATH_MAX], out[2048];
    struct xg_proc p = {0};
    if (!mkdtemp(dir))
        return xg_fail(err, "mkdtemp: %s", strerror(errno));
    snprintf(dropin, sizeof(dropin), "%s/50-xenguard.conf", dir);
    snprintf(cfg, sizeof(cfg), "%s/sshd_config", dir);
    int rc = -1;
    FILE *f = fopen(dropin, "we");
    if (f) {
        fputs(dropin_text, f);
        fclose(f);
        f = fopen(cfg, "we");
    }
    if (f) {
        fprintf(f, "Include %s\n", dropin);
        if (access(main_cfg, R_OK) == 0)
            fprintf(f, "Include %s\n", main_cfg);
        fclose(f);
        char *argv[] = {(char *)sshd, "-t", "-f", cfg, NULL};
        struct xg_err why = {{0}};
        int st = run(argv, &p, &why);
        if (st == 0) {
            rc = 0;
        } else {
            if (st > 0)
                xg_proc_first_line(&p, out, sizeof(out));
            if (st < 0)
                xg_fail(err,
                        "cannot check the drop-in with sshd -t, nothing written: %s (is "
                        "openssh-server installed?)",
                        why.msg);
            else
                xg_fail(err, "sshd -t rejects the drop-in, nothing written: %s",
                        *out ? out : "no reason given");
        }
        xg_proc_free(&p);
    } else {
        xg_fail(err, "%s: %s", dir, strerror(errno));
    }
    unlink(dropin);
    unlink(cfg);
    rmdir(dir);
    return rc;
}

/* The file as it is now (NULL when absent; xend's must exist). Prints why not. */
static int read_current(const char *what, const char *path, char **old)
{
    struct xg_err err = {{0}};
    if (xg_file_read(path, strcmp(what, "xend") != 0, old, NULL, &err) == 0)
        return 0;
    if (!strcmp(what, "xend"))
        fprintf(stderr,
                "xenguard harden: %s (is xend installed? the xl toolstack has no "
                "relocation server: use transport = ssh or tunnel)\n",
                err.msg);
    else
        xg_err_print(stderr, "xenguard harden", &err);
    return -1;
}

/* The file a harden target writes; NULL for an unknown target. */
static const char *target_of(const char *what)
{
    return !strcmp(what, "xend")     ? XEND_CONFIG
           : !strcmp(what, "sshd")   ? SSHD_DROPIN
           : !strcmp(what, "sysctl") ? SYSCTL_DROPIN
                                     : NULL;
}

/* Write `new` to path atomically, keeping `old` (if any) once as `backup`. */
static int write_file(const char *path, const char *backup, const char *old, const char *new,
                      struct xg_err *err)
{
    struct stat st;
    mode_t mode = old && stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
    if (old && access(backup, F_OK) != 0 &&
        xg_file_write_atomic(backup, old, strlen(old), mode, err) < 0)
        return -1;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    if (xg_file_mkdirs(dir, 0755, err) < 0 ||
        xg_file_write_atomic(path, new, strlen(new), mode, err) < 0)
        return -1;
    return 0;
}

int cmd_harden(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"diff", no_argument, NULL, 'd'},
        {"write", no_argument, NULL, 'w'},        {"address", required_argument, NULL, 'a'},
        {"root", required_argument, NULL, 'R'},   {"sshd", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *config = XG_DEFAULT_POLICY_PATH, *address = NULL, *root = "",
               *sshd = "/usr/sbin/sshd";
    bool write_it = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:dwa:R:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'd':
            write_it = false;
            break;
        case 'w':
            write_it = true;
            break;
        case 'a':
            address = optarg;
            break;
        case 'R':
            root = optarg;
            break;
        case 'S':
            sshd = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    const char *what = argv[optind], *rel = target_of(what);
    if (!rel) {
        fprintf(stderr, "xenguard harden: '%s': expected xend, sshd or sysctl\n", what);
        return 2;
    }
    char path[PATH_MAX], main_cfg[PATH_MAX], backup[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    snprintf(main_cfg, sizeof(main_cfg), "%s%s", root, SSHD_CONFIG);
    snprintf(backup, sizeof(backup), "%s.xenguard-bak", path);

    struct xg_err err = {{0}};
    struct xg_policy pol;
    struct xg_prefix addr;
    bool have_policy = false;
    char *old = NULL, *new = NULL;
    int rc = 1;
    if (read_current(what, path, &old) < 0)
        return 1;
    if (strcmp(what, "sysctl")) {
        struct xg_warnings warnings = {0};
        int lrc = xg_policy_load(config, &pol, &warnings, &err);
        xg_warnings_free(&warnings);
        if (lrc < 0)
            goto fail;
        have_policy = true;
        if (address ? xg_addr_parse(address, &addr) < 0 &&
                          xg_fail(&err, "--address '%s': not an IP address", address)
                    : xg_iface_address(pol.management_if, &addr, &err) < 0)
            goto fail;
    }
    if (!strcmp(what, "xend")) {
        if (xg_harden_xend(old, &pol, &addr, &new, &err) < 0)
            goto fail;
    } else if (!strcmp(what, "sshd")) {
        if (xg_harden_sshd(&pol, &addr, &new, &err) < 0)
            goto fail;
    } else {
        new = strdup(xg_harden_sysctl());
    }
    if (!new) {
        xg_fail(&err, "out of memory");
        goto fail;
    }
    if (old && !strcmp(old, new)) {
        printf("xenguard harden %s: %s: no changes\n", what, path);
        rc = 0;
        goto out;
    }
    if (!write_it) {
        if (show_diff(path, old ? old : "", new) < 0) {
            xg_fail(&err, "cannot run diff(1)");
            goto fail;
        }
        rc = 0;
        goto out;
    }
    if (!strcmp(what, "sshd") && validate_sshd(sshd, main_cfg, new, &err) < 0)
        goto fail;
    if (write_file(path, backup, old, new, &err) < 0)
        goto fail;
    if (old)
        printf("xenguard harden %s: wrote %s (original kept as %s)\n", what, path, backup);
    else
        printf("xenguard harden %s: wrote %s\n", what, path);
    rc = 0;
    goto out;
fail : {
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "xenguard harden %s", what);
    xg_err_print(stderr, prefix, &err);
}
out:
    free(old);
    free(new);
    if (have_policy)
        xg_policy_free(&pol);
    return rc;
}
