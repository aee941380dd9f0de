/*
 * apply.c — save, arm the watchdog, load; confirm; roll back (see apply.h).
 *
 * The watchdog is armed before the kernel is touched and disarmed only by
 * confirm, so every path out of apply that is not an explicit "keep it"
 * ends with the previous table back. All state changes happen under one
 * flock so a confirm racing the watchdog either wins completely (the
 * watchdog then finds no pending apply and does nothing) or loses
 * completely (confirm reports there is nothing left to confirm).
 */
#include "apply/apply.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply/ipt.h"
#include "apply/nft.h"
#include "apply/statedir.h"
#include "util/file.h"
#include "util/proc.h"

#define EMPTY_LISTING "{\"nftables\": []}\n"

/* The state directory, checked and locked (statedir.h). */
struct state {
    struct xg_statedir sd;
    const char *dir; /* sd.path */
};

static int state_open(struct state *st, const char *dir, struct xg_err *err)
{
    int rc = xg_statedir_open(&st->sd, dir, true, err);
    st->dir = st->sd.path;
    return rc;
}

static void state_close(struct state *st)
{
    xg_statedir_close(&st->sd);
}

static int state_write(const struct state *st, const char *name, const char *text,
                       struct xg_err *err)
{
    return xg_statedir_write(&st->sd, name, text, err);
}

static int state_read(const struct state *st, const char *name, char **out, struct xg_err *err)
{
    return xg_statedir_read(&st->sd, name, out, err);
}

static void state_remove(const struct state *st, const char *name)
{
    xg_statedir_remove(&st->sd, name);
}

static int pending_load(const struct state *st, struct xg_pending *p, struct xg_err *err)
{
    char *text = NULL;
    long deadline = 0;
    memset(p, 0, sizeof(*p));
    if (state_read(st, "pending", &text, err) < 0)
        return -1;
    if (!text)
        return 0;
    int n = sscanf(text, "%32s %ld %ld %15s", p->token, &p->pid, &deadline, p->via);
    free(text);
    if (n != 4)
        return xg_fail(err, "%s/pending: unreadable (remove it after checking the ruleset)",
                       st->dir);
    p->deadline = (time_t)deadline;
    return 1;
}

static int pending_store(const struct state *st, const struct xg_pending *p, struct xg_err *err)
{
    char text[128];
    snprintf(text, sizeof(text), "%s %ld %ld %s\n", p->token, p->pid, (long)p->deadline, p->via);
    return state_write(st, "pending", text, err);
}

int xg_pending_read(const char *state_dir, struct xg_pending *p, struct xg_err *err)
{
    struct state st;
    memset(p, 0, sizeof(*p));
    /* a reader does not create the dir: absent means nothing was ever applied */
    int rc = xg_statedir_open(&st.sd, state_dir, false, err);
    st.dir = st.sd.path;
    if (rc == 0)
        rc = pending_load(&st, p, err);
    else if (rc == 1)
        rc = 0;
    state_close(&st);
    return rc;
}

const char *xg_rollback_via_name(enum xg_rollback_via via)
{
    switch (via) {
    case XG_VIA_SYSTEMD:
        return "systemd";
    case XG_VIA_PROCESS:
        return "process";
    case XG_VIA_AUTO:
        break;
    }
    return "auto";
}

enum xg_rollback_via xg_rollback_via_auto(void)
{
    char comm[32] = "";
    struct stat self_ns, init_ns;
    FILE *f = fopen("/proc/1/comm", "re");
    if (f) {
        if (!fgets(comm, sizeof(comm), f))
            comm[0] = '\0';
        fclose(f);
    }
    /* A systemd timer runs in PID 1's network namespace: only usable when that is ours. */
    if (strcmp(comm, "systemd\n") || stat("/proc/self/ns/net", &self_ns) < 0 ||
        stat("/proc/1/ns/net", &init_ns) < 0 || self_ns.st_ino != init_ns.st_ino ||
        self_ns.st_dev != init_ns.st_dev)
        return XG_VIA_PROCESS;
    return XG_VIA_SYSTEMD;
}

static int make_token(char out[33], struct xg_err *err)
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return xg_fail(err, "getrandom: %s", strerror(errno));
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

static int self_exe(char out[PATH_MAX], struct xg_err *err)
{
    ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
    if (n < 0)
        return xg_fail(err, "/proc/self/exe: %s", strerror(errno));
    out[n] = '\0';
    return 0;
}

/* systemd-run / systemctl through the process runner; 0 when it exited 0. */
static int run_quiet(char *const argv[], struct xg_err *err)
{
    struct xg_proc_opts o = {.timeout_ms = 30000};
    struct xg_proc p;
    if (xg_proc_run(argv, &o, &p, err) < 0)
        return -1;
    int rc = 0;
    if (!xg_proc_ok(&p)) {
        char how[64], line[200];
        xg_proc_describe(&p, &o, how, sizeof(how));
        xg_proc_first_line(&p, line, sizeof(line));
        rc = xg_fail(err, "%s: %s%s%s", argv[0], line, *line ? " — " : "", how);
    }
    xg_proc_free(&p);
    return rc;
}

/*
 * The detached watchdog: fork, setsid (new session and process group, no
 * controlling terminal), ignore SIGHUP, fork again so it is not a session
 * leader and its parent exits at once (it is reparented to init), then
 * exec `xenguard rollback --if-pending TOKEN --delay N`. The exec goes
 * through an fd of /proc/self/exe (fexecve), so it works even when the
 * binary was replaced on disk meanwhile. A close-on-exec pipe tells apply
 * whether the exec happened: the first child sends the watchdog's pid (a
 * positive long), the watchdog itself sends -errno only if exec fails, and
 * EOF from both means it runs.
 */
static int spawn_process(const struct state *st, const char *token, unsigned delay, long *pid,
                         struct xg_err *err)
{
    char delay_s[16];
    int p[2];
    snprintf(delay_s, sizeof(delay_s), "%u", delay);
    int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0)
        return xg_fail(err, "/proc/self/exe: %s", strerror(errno));
    if (pipe2(p, O_CLOEXEC) < 0) {
        close(exe);
        return xg_fail(err, "pipe: %s", strerror(errno));
    }
    pid_t first = fork();
    if (first < 0) {
        close(exe);
        close(p[0]);
        close(p[1]);
        return xg_fail(err, "fork: %s", strerror(errno));
    }
    if (first == 0) {
        sigset_t all;
        close(p[0]);
        setsid();
        signal(SIGHUP, SIG_IGN);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        pid_t second = fork();
        if (second != 0) {
            long v = second;
            ssize_t w = write(p[1], &v, sizeof(v));
            _exit(second < 0 || w != (ssize_t)sizeof(v));
        }
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
        }
        /* nothing of the caller's reaches the watchdog but the env: exe and p[1] are
         * close-on-exec already, every other fd >= 3 becomes so */
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        char *argv[] = {"xenguard",      "rollback",     "--state-dir",
                        (char *)st->dir, "--if-pending", (char *)token,
                        "--delay",       delay_s,        NULL};
        extern char **environ;
        if (chdir("/") == 0)
            fexecve(exe, argv, environ);
        long e = -(long)errno;
        ssize_t w = write(p[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    close(exe);
    close(p[1]);
    long v, child = 0, exec_errno = 0;
    ssize_t r;
    while ((r = read(p[0], &v, sizeof(v))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r != (ssize_t)sizeof(v))
            break;
        if (v > 0)
            child = v;
        else
            exec_errno = -v;
    }
    close(p[0]);
    int status;
    while (waitpid(first, &status, 0) < 0 && errno == EINTR)
        ;
    if (exec_errno)
        return xg_fail(err, "cannot start the rollback watchdog: exec: %s",
                       strerror((int)exec_errno));
    if (child <= 0)
        return xg_fail(err, "cannot start the rollback watchdog");
    v = child;
    *pid = v;
    return 0;
}

static int spawn_systemd(const struct state *st, const char *token, unsigned delay,
                         struct xg_err *err)
{
    char exe[PATH_MAX], unit[64], active[32];
    if (self_exe(exe, err) < 0)
        return -1;
    snprintf(unit, sizeof(unit), "--unit=xenguard-rollback-%.16s", token);
    snprintf(active, sizeof(active), "--on-active=%u", delay);
    char *argv[] = {"systemd-run",
                    "--quiet",
                    "--collect",
                    unit,
                    active,
                    "--timer-property=AccuracySec=100ms",
                    exe,
                    "rollback",
                    "--state-dir",
                    (char *)st->dir,
                    "--if-pending",
                    (char *)token,
                    NULL};
    if (run_quiet(argv, err) < 0)
        return xg_fail(err, "systemd-run could not schedule the rollback timer: %.400s", err->msg);
    return 0;
}

/* Is process `pid` our watchdog for `token`: run by our user, its command line
 * exactly "... rollback ... --if-pending TOKEN ..."? */
static bool is_watchdog(long pid, const char *token)
{
    char path[64], *cmdline = NULL;
    size_t len = 0;
    struct stat st;
    struct xg_err ignored;
    snprintf(path, sizeof(path), "/proc/%ld", pid);
    if (stat(path, &st) < 0 || st.st_uid != geteuid())
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    if (xg_file_read(path, true, &cmdline, &len, &ignored) < 0 || !cmdline)
        return false;
    bool rollback = false, ours = false;
    const char *prev = "";
    for (const char *a = cmdline; a < cmdline + len; a += strlen(a) + 1) {
        rollback |= !strcmp(a, "rollback");
        ours |= rollback && !strcmp(prev, "--if-pending") && !strcmp(a, token);
        prev = a;
    }
    free(cmdline);
    return ours;
}

/*
 * Stop a watchdog that is ours. The pid comes from `pending` and may have
 * been reused since (the watchdog exited, another process got its number):
 * a pidfd is taken first and the process behind the pid checked after, so
 * the signal goes to the process that was checked or, if that one is gone,
 * nowhere (pidfd_send_signal fails with ESRCH instead of hitting a new
 * process). Only the pid itself is signalled, never a process group.
 */
static void disarm(const struct xg_pending *p)
{
    if (!strcmp(p->via, "systemd")) {
        char unit[64];
        struct xg_err ignored;
        snprintf(unit, sizeof(unit), "xenguard-rollback-%.16s.timer", p->token);
        char *argv[] = {"systemctl", "stop", unit, NULL};
        run_quiet(argv, &ignored);
        return;
    }
    if (p->pid <= 1 || p->pid > INT_MAX)
        return;
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)p->pid, 0);
    if (pfd < 0)
        return;
    if (is_watchdog(p->pid, p->token))
        syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0);
    close(pfd);
}

/*
 * Snapshots: the running xenguard state saved under a name ("previous",
 * "confirmed"), as NAME.json + NAME.nft (nftables) or NAME.ipt4 + NAME.ipt6 +
 * NAME.bridge (iptables). The files present say which backend a snapshot
 * belongs to. NAME.nft holds `table inet xenguard` and the guests' `table
 * bridge xenguard` (its first line says which tables it covers; a snapshot
 * written before the guests' table existed covers inet only); NAME.bridge,
 * with iptables, the bridge table alone: the guests' table is nft under
 * either backend.
 */
static const char *const ipt_ext[2] = {"ipt4", "ipt6"};

#define SNAP_BOTH   "# xenguard snapshot: inet bridge\n"
#define SNAP_BRIDGE "# xenguard snapshot: bridge\n"

static int snapshot_save_text(const struct state *st, const char *file, unsigned tables,
                              const char *header, struct xg_err *err)
{
    char *text = NULL, *full = NULL;
    if (xg_nft_tables_text(tables, &text, err) < 0)
        return -1;
    int rc = asprintf(&full, "%s%s", header, text) < 0 ? xg_fail(err, "out of memory")
                                                       : state_write(st, file, full, err);
    free(text);
    free(full);
    return rc;
}

static int snapshot_save(const struct state *st, enum xg_backend_kind be, const char *name,
                         struct xg_err *err)
{
    char file[64];
    if (be == XG_BACKEND_NFT) {
        char *listing = NULL;
        if (xg_nft_table_json(&listing, err) < 0)
            return -1;
        snprintf(file, sizeof(file), "%s.json", name);
        int rc = state_write(st, file, listing ? listing : EMPTY_LISTING, err);
        free(listing);
        snprintf(file, sizeof(file), "%s.nft", name);
        if (rc == 0)
            rc = snapshot_save_text(st, file, XG_NFT_INET_TABLE | XG_NFT_BRIDGE_TABLE, SNAP_BOTH,
                                    err);
        for (int f = 0; f < 3 && rc == 0; f++) {
            snprintf(file, sizeof(file), "%s.%s", name, f < 2 ? ipt_ext[f] : "bridge");
            state_remove(st, file);
        }
        return rc;
    }
    for (int f = 0; f < 2; f++) {
        char *save = NULL;
        if (xg_ipt_save(f ? 6 : 4, &save, err) < 0)
            return -1;
        snprintf(file, sizeof(file), "%s.%s", name, ipt_ext[f]);
        int rc = state_write(st, file, save, err);
        free(save);
        if (rc < 0)
            return -1;
    }
    snprintf(file, sizeof(file), "%s.bridge", name);
    if (snapshot_save_text(st, file, XG_NFT_BRIDGE_TABLE, SNAP_BRIDGE, err) < 0)
        return -1;
    snprintf(file, sizeof(file), "%s.json", name);
    state_remove(st, file);
    snprintf(file, sizeof(file), "%s.nft", name);
    state_remove(st, file);
    return 0;
}

/* Put a text snapshot back. The bridge table is replaced only when the snapshot covers it
 * and there is one on either side (a kernel without the bridge family never has one). */
static int snapshot_restore_text(const char *text, struct xg_err *err)
{
    unsigned tables = XG_NFT_INET_TABLE;
    if (!strncmp(text, SNAP_BRIDGE, strlen(SNAP_BRIDGE)))
        tables = XG_NFT_BRIDGE_TABLE;
    else if (strncmp(text, SNAP_BOTH, strlen(SNAP_BOTH)))
        return xg_nft_restore_tables_text(text, tables, err); /* an inet-only snapshot */
    if (!strstr(text, "table " XG_NFT_BRIDGE_FAMILY " " XG_NFT_TABLE " {")) {
        char *live = NULL;
        if (xg_nft_bridge_json(&live, err) < 0)
            return -1;
        if (!live)
            tables &= ~(unsigned)XG_NFT_BRIDGE_TABLE;
        free(live);
    }
    return tables ? xg_nft_restore_tables_text(text, tables, err) : 0;
}

/* The iptables snapshot: both families merged back into the live tables. */
static int snapshot_restore_ipt(char *saved[2], struct xg_err *err)
{
    for (int f = 0; f < 2; f++) {
        char *current = NULL, *merged = NULL;
        if (xg_ipt_save(f ? 6 : 4, &current, err) < 0)
            return -1;
        int mrc = xg_ipt_merge(current, saved[f], &merged, err);
        free(current);
        if (mrc < 0)
            return -1;
        mrc = *merged ? xg_ipt_restore(f ? 6 : 4, merged, false, "saved chains", err) : 0;
        free(merged);
        if (mrc < 0)
            return -1;
    }
    return 0;
}

/* Put the snapshot back; 1 when there is none. */
static int snapshot_restore(const struct state *st, const char *name, struct xg_err *err)
{
    char file[64], *saved[2] = {NULL, NULL}, *json = NULL, *bridge = NULL;
    int rc = -1;
    snprintf(file, sizeof(file), "%s.nft", name);
    if (state_read(st, file, &json, err) < 0)
        return -1;
    if (json) { /* the text listing: restores everything, set comments included */
        rc = snapshot_restore_text(json, err);
        free(json);
        return rc;
    }
    snprintf(file, sizeof(file), "%s.json", name);
    if (state_read(st, file, &json, err) < 0)
        return -1;
    if (json) {
        rc = xg_nft_restore(json, err);
        free(json);
        return rc;
    }
    for (int f = 0; f < 2; f++) {
        snprintf(file, sizeof(file), "%s.%s", name, ipt_ext[f]);
        if (state_read(st, file, &saved[f], err) < 0)
            goto out;
    }
    snprintf(file, sizeof(file), "%s.bridge", name);
    if (state_read(st, file, &bridge, err) < 0)
        goto out;
    if (!saved[0] && !saved[1]) {
        rc = 1;
        goto out;
    }
    if (snapshot_restore_ipt(saved, err) < 0 || (bridge && snapshot_restore_text(bridge, err) < 0))
        goto out;
    rc = 0;
out:
    free(saved[0]);
    free(saved[1]);
    free(bridge);
    return rc;
}

static int snapshot_copy(const struct state *st, const char *from, const char *to,
                         struct xg_err *err)
{
    static const char *const exts[] = {"json", "nft", "ipt4", "ipt6", "bridge"};
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        char a[64], b[64], *text = NULL;
        snprintf(a, sizeof(a), "%s.%s", from, exts[i]);
        snprintf(b, sizeof(b), "%s.%s", to, exts[i]);
        if (state_read(st, a, &text, err) < 0)
            return -1;
        int rc = text ? state_write(st, b, text, err) : 0;
        if (!text)
            state_remove(st, b);
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int backend_of_snapshot(const struct state *st, const char *name)
{
    char file[64];
    snprintf(file, sizeof(file), "%s.ipt4", name);
    return xg_statedir_has(&st->sd, file) ? XG_BACKEND_IPTABLES : XG_BACKEND_NFT;
}

/* Load the new ruleset. iptables: per family, undoing IPv4 if IPv6 fails. */
static int load(const struct state *st, const struct xg_apply_opts *o, struct xg_err *err)
{
    if (o->backend == XG_BACKEND_NFT)
        return xg_nft_run(o->nft_text, false, o->name, NULL, err);
    /* the guests' table is nft under either backend; first, so a kernel without it changes
     * nothing */
    if (o->bridge_text && *o->bridge_text &&
        xg_nft_run(o->bridge_text, false, o->name, NULL, err) < 0) {
        char why[XG_ERR_MAX];
        snprintf(why, sizeof(why), "%s", err->msg);
        return xg_fail(err,
                       "%.300s (guest protection, [guests], is nftables' bridge family even with "
                       "the iptables backend: this kernel or host refused it; set [guests] "
                       "protect = no to go without)",
                       why);
    }
    for (int f = 0; f < 2; f++) {
        char *current = NULL;
        if (!o->ipt_text[f] || !*o->ipt_text[f])
            continue;
        if (xg_ipt_save(f ? 6 : 4, &current, err) < 0)
            return -1;
        bool hooked = xg_ipt_hooked(current);
        free(current);
        if (xg_ipt_restore(f ? 6 : 4, hooked ? o->ipt_text_nohook[f] : o->ipt_text[f], true,
                           o->name, err) < 0) {
            if (f == 1 || (o->bridge_text && *o->bridge_text)) {
                struct xg_err ignored;
                snapshot_restore(st, "previous", &ignored);
            }
            return -1;
        }
    }
    return 0;
}

int xg_apply(const struct xg_apply_opts *o, struct xg_pending *pending, struct xg_err *err)
{
    struct state st;
    struct xg_pending old;
    int rc = -1;
    memset(pending, 0, sizeof(*pending));
    if (state_open(&st, o->state_dir, err) < 0)
        goto out;
    int has = pending_load(&st, &old, err);
    if (has < 0)
        goto out;
    if (has) {
        xg_fail(err,
                "an earlier apply is waiting for confirmation (rollback in %lds): run "
                "'xenguard confirm' or 'xenguard rollback' first",
                (long)(old.deadline - time(NULL)));
        goto out;
    }
    if (snapshot_save(&st, o->backend, "previous", err) < 0)
        goto out;
    if (o->timeout) {
        enum xg_rollback_via via = o->via == XG_VIA_AUTO ? xg_rollback_via_auto() : o->via;
        if (make_token(pending->token, err) < 0)
            goto out;
        pending->deadline = time(NULL) + (time_t)o->timeout;
        snprintf(pending->via, sizeof(pending->via), "%s", xg_rollback_via_name(via));
        if (pending_store(&st, pending, err) < 0)
            goto out;
        int armed = via == XG_VIA_SYSTEMD
                        ? spawn_systemd(&st, pending->token, o->timeout, err)
                        : spawn_process(&st, pending->token, o->timeout, &pending->pid, err);
        if (armed < 0 || pending_store(&st, pending, err) < 0) {
            disarm(pending);
            state_remove(&st, "pending");
            goto out;
        }
    }
    if (load(&st, o, err) < 0) {
        if (o->timeout) {
            disarm(pending);
            state_remove(&st, "pending");
        }
        goto out;
    }
    struct xg_err ignored;
    if (o->backend == XG_BACKEND_NFT)
        state_write(&st, "applied.nft", o->applied_text ? o->applied_text : o->nft_text, &ignored);
    if (!o->timeout && snapshot_save(&st, o->backend, "confirmed", err) < 0)
        goto out;
    rc = 0;
out:
    state_close(&st);
    return rc;
}

int xg_confirm(const char *state_dir, struct xg_err *err)
{
    struct state st;
    struct xg_pending p;
    int rc = -1;
    if (state_open(&st, state_dir, err) < 0)
        goto out;
    int has = pending_load(&st, &p, err);
    if (has <= 0) {
        rc = has < 0 ? -1 : 1;
        goto out;
    }
    if (snapshot_save(&st, backend_of_snapshot(&st, "previous"), "confirmed", err) < 0)
        goto out;
    state_remove(&st, "pending");
    disarm(&p);
    rc = 0;
out:
    state_close(&st);
    return rc;
}

static void log_rollback(const struct state *st, const char *token)
{
    char line[160];
    struct xg_err ignored;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(line + strlen(line), sizeof(line) - strlen(line),
             " rolled back unconfirmed apply %s\n", token);
    xg_statedir_append(&st->sd, "rollback.log", line, &ignored);
}

int xg_rollback(const char *state_dir, const char *token, struct xg_err *err)
{
    struct state st;
    struct xg_pending p;
    int rc = -1;
    if (state_open(&st, state_dir, err) < 0)
        goto out;
    int has = pending_load(&st, &p, err);
    if (has < 0)
        goto out;
    if (token && (!has || strcmp(p.token, token))) {
        rc = 1;
        goto out;
    }
    int restored = snapshot_restore(&st, "previous", err);
    if (restored < 0)
        goto out;
    if (restored == 1) {
        xg_fail(err, "%s: no saved ruleset to roll back to (nothing was applied yet)", st.dir);
        goto out;
    }
    state_remove(&st, "pending");
    if (token) {
        log_rollback(&st, token);
    } else {
        if (has)
            disarm(&p);
        if (snapshot_copy(&st, "previous", "confirmed", err) < 0)
            goto out;
    }
    rc = 0;
out:
    state_close(&st);
    return rc;
}

int xg_apply_boot(const char *state_dir, struct xg_err *err)
{
    struct state st;
    int rc = -1;
    if (state_open(&st, state_dir, err) == 0)
        rc = snapshot_restore(&st, "confirmed", err);
    state_close(&st);
    return rc;
}
