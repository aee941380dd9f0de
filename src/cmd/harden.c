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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harden/harden.h"
#include "model/host.h"
#include "probe/probe.h"
#include "util/file.h"
#include "util/proc.h"
#include "verbs.h"

#define XEND_CONFIG "/etc/xen/xend-config.sxp"
#define SSHD_CONFIG "/etc/ssh/sshd_config"
#define SSHD_DROPIN "/etc/ssh/sshd_config.d/00-xenguard.conf"
/* where earlier versions wrote it: too late, 50-cloud-init.conf is read first */
#define SSHD_OLD_DROPIN "/etc/ssh/sshd_config.d/50-xenguard.conf"
#define SYSCTL_DROPIN   "/etc/sysctl.d/99-xenguard.conf"

static const struct xg_opt options[] = {
    {'c', "config", "FILE", "policy file (default " XG_DEFAULT_POLICY_PATH ")"},
    {'d', "diff", NULL, "print a unified diff, change nothing (default)"},
    {'w', "write", NULL, "write the file atomically, keeping FILE.xenguard-bak"},
    {'a', "address", "ADDR", "management address (default: the management interface's)"},
    {'r', "root", "DIR", "prefix for every path (tests, images)"},
    {'S', "sshd", "PATH", "sshd for -t and -T (default /usr/sbin/sshd)"},
    {0},
};

const struct xg_cli xg_cli_harden = {
    .verb = "harden",
    .usage = "xend|sshd|sysctl [-c FILE] [-d | -w] [-a ADDR] [-r DIR] [-S PATH]",
    .about = "Show (default) or write the hardened configuration:\n"
             "  xend    " XEND_CONFIG ": relocation server per the policy, bound to the\n"
             "          management address, hosts-allow = the peers; HTTP/XML-RPC/Xen-API TCP off\n"
             "  sshd    " SSHD_DROPIN ", read before any\n"
             "          other drop-in (sshd keeps the first value); an Include of it at the\n"
             "          top of sshd_config when there is none. Checked with sshd -t first;\n"
             "          after --write, what sshd uses is read back (sshd -T; the audit's\n"
             "          reading under --root)\n"
             "  sysctl  " SYSCTL_DROPIN ": rp_filter on, source routing and redirects off\n",
    .opts = options,
    .epilog = "Exit status: 0 ok (also: no changes), 1 failure (also: written, but another\n"
              "file still wins over it), 2 usage. See xenguard-harden(8).\n",
};

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

/* sshd -t on "Include DROPIN" + "Include MAIN" (the main file as it will be), the drop-in
 * first as the main file's Include puts it. */
static int validate_sshd(const char *sshd, const char *main_text, const char *dropin_text,
                         struct xg_err *err)
{
    char dir[] = "/tmp/xenguard-sshd.XXXXXX", dropin[PATH_MAX], cfg[PATH_MAX], main[PATH_MAX];
    char out[2048];
    struct xg_proc p = {0};
    if (!mkdtemp(dir))
        return xg_fail(err, "mkdtemp: %s", strerror(errno));
    snprintf(dropin, sizeof(dropin), "%s/00-xenguard.conf", dir);
    snprintf(main, sizeof(main), "%s/main.conf", dir);
    snprintf(cfg, sizeof(cfg), "%s/sshd_config", dir);
    int rc = -1;
    char text[2 * PATH_MAX + 32];
    snprintf(text, sizeof(text), "Include %s\n%s%s%s", dropin, main_text ? "Include " : "",
             main_text ? main : "", main_text ? "\n" : "");
    struct xg_err io = {{0}};
    if (xg_file_write_atomic(dropin, dropin_text, strlen(dropin_text), 0600, &io) < 0 ||
        (main_text && xg_file_write_atomic(main, main_text, strlen(main_text), 0600, &io) < 0) ||
        xg_file_write_atomic(cfg, text, strlen(text), 0600, &io) < 0) {
        xg_fail(err, "%s", io.msg);
    } else {
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
    }
    unlink(dropin);
    unlink(main);
    unlink(cfg);
    rmdir(dir);
    return rc;
}

/* What sshd will use: `sshd -T` on the live host (file "sshd -T", line 0), the
 * audit's own reading (probe, xg_sshd_parse) under a root. */
static int sshd_effective(const char *root, const char *sshd, struct xg_kvlist *eff,
                          struct xg_err *err)
{
    if (!*root) {
        char *argv[] = {(char *)sshd, "-T", "-f", SSHD_CONFIG, NULL}, line[2048];
        struct xg_proc p = {0};
        int st = run(argv, &p, err);
        if (st != 0) {
            if (st > 0) {
                xg_proc_first_line(&p, line, sizeof(line));
                xg_fail(err, "sshd -T: %s", line);
            }
            xg_proc_free(&p);
            return -1;
        }
        int rc = 0;
        for (char *s = NULL, *l = strtok_r(p.out, "\n", &s); l && !rc;
             l = strtok_r(NULL, "\n", &s)) {
            char *sp = strchr(l, ' ');
            if (sp) {
                *sp = '\0';
                rc = xg_kv_add(eff, l, sp + 1, "sshd -T", 0);
            }
        }
        xg_proc_free(&p);
        return rc < 0 ? xg_fail(err, "out of memory") : 0;
    }
    struct xg_host h;
    if (xg_probe_host(root, &h, err) < 0)
        return -1;
    int rc = 0;
    if (!h.sshd_present)
        rc = xg_fail(err, "%s%s: cannot be read", root, SSHD_CONFIG);
    else if (h.errors[XG_SEC_SSHD])
        rc = xg_fail(err, "%s", h.errors[XG_SEC_SSHD]);
    for (size_t i = 0; rc == 0 && i < h.sshd.count; i++) {
        const struct xg_kv *kv = &h.sshd.items[i];
        if (xg_kv_add(eff, kv->key, kv->value, kv->file, kv->line) < 0)
            rc = xg_fail(err, "out of memory");
    }
    xg_host_free(&h);
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

/* One file a target changes: its path, what it holds now (NULL: absent), what it should. */
struct change {
    char path[PATH_MAX];
    char *old, *new;
};

/* The whole job of one target: up to two files, and an older drop-in of ours to remove. */
struct job {
    const char *what;
    struct change files[2];
    size_t count;
    char stale[PATH_MAX]; /* sshd: 50-xenguard.conf as an earlier xenguard wrote it; "" none */
};

static bool changed(const struct change *c)
{
    return !c->old || strcmp(c->old, c->new);
}

/* sshd: the drop-in, the main file when it lacks the Include, the stale drop-in. */
static int plan_sshd(struct job *j, const char *root, const struct xg_policy *pol,
                     const struct xg_prefix *addr, struct xg_err *err)
{
    if (xg_harden_sshd(pol, addr, &j->files[0].new, err) < 0)
        return -1;
    struct change *m = &j->files[1];
    snprintf(m->path, sizeof(m->path), "%s%s", root, SSHD_CONFIG);
    struct xg_err absent = {{0}};
    if (xg_file_read(m->path, true, &m->old, NULL, &absent) == 0 && m->old) {
        if (xg_harden_sshd_main(m->old, SSHD_DROPIN, &m->new, err) < 0)
            return -1;
        j->count = 2;
    }
    char stale[PATH_MAX], *text = NULL;
    snprintf(stale, sizeof(stale), "%s%s", root, SSHD_OLD_DROPIN);
    if (xg_file_read(stale, true, &text, NULL, &absent) == 0 && text &&
        !strncmp(text, XG_HARDEN_SSHD_HEADER, strlen(XG_HARDEN_SSHD_HEADER)))
        snprintf(j->stale, sizeof(j->stale), "%s", stale);
    free(text);
    return 0;
}

/* The default: a diff per changed file. */
static int show(const struct job *j)
{
    bool any = false;
    for (size_t i = 0; i < j->count; i++) {
        const struct change *c = &j->files[i];
        if (!changed(c))
            continue;
        any = true;
        if (show_diff(c->path, c->old ? c->old : "", c->new) < 0)
            return -1;
    }
    if (*j->stale)
        printf("xenguard harden %s: would remove %s (an earlier xenguard drop-in)\n", j->what,
               j->stale);
    if (!any && !*j->stale)
        printf("xenguard harden %s: %s: no changes\n", j->what, j->files[0].path);
    return 0;
}

/* --write: every changed file, each kept once as FILE.xenguard-bak; the stale drop-in goes. */
static int write_all(const struct job *j, struct xg_err *err)
{
    bool any = false;
    for (size_t i = 0; i < j->count; i++) {
        const struct change *c = &j->files[i];
        char backup[PATH_MAX + 16];
        snprintf(backup, sizeof(backup), "%s.xenguard-bak", c->path);
        if (!changed(c))
            continue;
        any = true;
        if (write_file(c->path, backup, c->old, c->new, err) < 0)
            return -1;
        if (c->old)
            printf("xenguard harden %s: wrote %s (original kept as %s)\n", j->what, c->path,
                   backup);
        else
            printf("xenguard harden %s: wrote %s\n", j->what, c->path);
    }
    if (*j->stale) {
        if (unlink(j->stale) < 0)
            return xg_fail(err, "%s: %s", j->stale, strerror(errno));
        printf("xenguard harden %s: removed %s (an earlier xenguard drop-in)\n", j->what, j->stale);
    }
    if (!any && !*j->stale)
        printf("xenguard harden %s: %s: no changes\n", j->what, j->files[0].path);
    return 0;
}

/* After --write: does sshd use what the drop-in says? Prints the verdict. */
static int verify_sshd(const char *root, const char *sshd, const struct xg_policy *pol,
                       const struct xg_prefix *addr, struct xg_err *err)
{
    struct xg_kvlist eff = {0};
    struct xg_buf why = {0};
    int rc = sshd_effective(root, sshd, &eff, err);
    if (rc == 0 && xg_harden_sshd_verify(&eff, pol, addr, SSHD_DROPIN, &why) < 0) {
        fprintf(stderr, "xenguard harden sshd: sshd does not use the hardened settings:\n");
        for (const char *l = xg_buf_str(&why); *l;) {
            size_t n = strcspn(l, "\n");
            fprintf(stderr, "  %.*s\n", (int)n, l);
            l += n + (l[n] == '\n');
        }
        rc = xg_fail(err, "fix the lines above, then run it again");
    } else if (rc == 0) {
        printf("xenguard harden sshd: in effect (%s): keys only, root only with a key, the "
               "management address, the admins\n",
               *root ? "the audit's reading of sshd_config" : "sshd -T");
    }
    xg_buf_free(&why);
    xg_kv_free(&eff);
    return rc;
}

/* Load the policy and find the management address (not for sysctl). */
static int load_policy(const char *config, const char *address, struct xg_policy *pol,
                       struct xg_prefix *addr, struct xg_err *err)
{
    struct xg_warnings warnings = {0};
    int lrc = xg_policy_load(config, pol, &warnings, err);
    xg_warnings_free(&warnings);
    if (lrc < 0)
        return -1;
    if (address ? xg_addr_parse(address, addr) < 0 &&
                      xg_fail(err, "--address '%s': not an IP address", address)
                : xg_iface_address(pol->management_if, addr, err) < 0) {
        xg_policy_free(pol);
        return -1;
    }
    return 0;
}

struct harden_opts {
    const char *config, *address, *root, *sshd, *what;
    bool write_it;
};

/* 0 go on, else the exit status: 0 after --help, 2 after a usage error (printed). */
static int parse_opts(int argc, char **argv, struct harden_opts *o, int *rc)
{
    *o = (struct harden_opts){
        .config = XG_DEFAULT_POLICY_PATH, .root = "", .sshd = "/usr/sbin/sshd"};
    struct xg_cli_parser p;
    int c;
    xg_cli_begin(&p, &xg_cli_harden, argc, argv);
    while ((c = xg_cli_next(&p)) != -1) {
        switch (c) {
        case 'c':
            o->config = p.arg;
            break;
        case 'd':
        case 'w':
            o->write_it = c == 'w';
            break;
        case 'a':
            o->address = p.arg;
            break;
        case 'r':
            o->root = p.arg;
            break;
        case 'S':
            o->sshd = p.arg;
            break;
        default:
            *rc = p.rc;
            return -1;
        }
    }
    if (xg_cli_operands(&p, 1, 1) < 0) {
        *rc = p.rc;
        return -1;
    }
    o->what = argv[p.optind];
    if (!target_of(o->what)) {
        *rc = xg_cli_usage_error(&xg_cli_harden, "'%s': expected xend, sshd or sysctl", o->what);
        return -1;
    }
    return 0;
}

int cmd_harden(int argc, char **argv)
{
    struct harden_opts o;
    int rc;
    if (parse_opts(argc, argv, &o, &rc) < 0)
        return rc;
    struct job j = {.what = o.what, .count = 1};
    struct change *f = &j.files[0];
    snprintf(f->path, sizeof(f->path), "%s%s", o.root, target_of(o.what));

    struct xg_err err = {{0}};
    struct xg_policy pol;
    struct xg_prefix addr;
    bool have_policy = false, sshd = !strcmp(o.what, "sshd");
    rc = 1;
    if (read_current(o.what, f->path, &f->old) < 0)
        return 1;
    if (strcmp(o.what, "sysctl")) {
        if (load_policy(o.config, o.address, &pol, &addr, &err) < 0)
            goto fail;
        have_policy = true;
    }
    if (!strcmp(o.what, "xend")) {
        if (xg_harden_xend(f->old, &pol, &addr, &f->new, &err) < 0)
            goto fail;
    } else if (sshd) {
        if (plan_sshd(&j, o.root, &pol, &addr, &err) < 0)
            goto fail;
    } else if (!(f->new = strdup(xg_harden_sysctl()))) {
        xg_fail(&err, "out of memory");
        goto fail;
    }
    if (!o.write_it) {
        if (show(&j) < 0) {
            xg_fail(&err, "cannot run diff(1)");
            goto fail;
        }
        rc = 0;
        goto out;
    }
    if (sshd && (changed(&j.files[0]) || (j.count > 1 && changed(&j.files[1]))) &&
        validate_sshd(o.sshd, j.count > 1 ? j.files[1].new : NULL, f->new, &err) < 0)
        goto fail;
    if (write_all(&j, &err) < 0 || (sshd && verify_sshd(o.root, o.sshd, &pol, &addr, &err) < 0))
        goto fail;
    rc = 0;
    goto out;
fail : {
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "xenguard harden %s", o.what);
    xg_err_print(stderr, prefix, &err);
}
out:
    for (size_t i = 0; i < 2; i++) {
        free(j.files[i].old);
        free(j.files[i].new);
    }
    if (have_policy)
        xg_policy_free(&pol);
    return rc;
}
