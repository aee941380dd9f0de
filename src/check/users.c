/*
 * users.c — practice 3: no ordinary users log in to Domain-0.
 *
 * An ordinary user is any account but root, a system account without a
 * login, xen-qemuuser-* and the admins the policy declares ([admin] users).
 * Without a policy nobody is declared, so every account that can log in
 * is reported: the strictest sensible reading. sshd is judged on its
 * effective settings (first value wins, drop-ins first), and the Xen
 * control paths must not be writable by anyone but root.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "check/check.h"

static bool login_shell(const char *shell)
{
    static const char *no[] = {"nologin", "false", "sync", "shutdown", "halt", NULL};
    const char *base = strrchr(shell, '/') ? strrchr(shell, '/') + 1 : shell;
    if (!*shell)
        return true; /* empty means /bin/sh */
    for (const char **n = no; *n; n++)
        if (!strcmp(base, *n))
            return false;
    return true;
}

static const char *pw_name(enum xg_pw_state s)
{
    switch (s) {
    case XG_PW_LOCKED:
        return "locked";
    case XG_PW_EMPTY:
        return "EMPTY";
    case XG_PW_USABLE:
        return "usable";
    case XG_PW_UNKNOWN:
        break;
    }
    return "unknown";
}

/* Without /etc/shadow an account whose passwd field is "x" has an unknown
 * password: it may be usable or empty. Withhold the pass and say why. */
static void shadow_gap(const struct xg_host *h, size_t unknown, struct xg_result *r)
{
    const char *u = xg_host_unreadable(h, "/etc/shadow");
    if (h->shadow_present || !unknown)
        return;
    xg_partial(r, "password state of %zu accounts unknown: %s%s", unknown,
               u ? "cannot read " : "no /etc/shadow", u ? u : "");
}

/* The host's nologin shell, for a fix line: Red Hat's is in /sbin. */
static const char *nologin(const struct xg_host *h)
{
    for (size_t i = 0; i < h->account_count; i++)
        if (!strcmp(h->accounts[i].shell, "/usr/sbin/nologin") ||
            !strcmp(h->accounts[i].shell, "/sbin/nologin"))
            return h->accounts[i].shell;
    return "/usr/sbin/nologin";
}

static bool pw_unknown(const struct xg_host *h, const struct xg_account *a)
{
    return !h->shadow_present && a->pw == XG_PW_UNKNOWN;
}

static void check_ordinary(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!xg_need_file(r, h, h->passwd_present, XG_SEC_ACCOUNTS, "/etc/passwd"))
        return;
    size_t admins = 0, unknown = 0;
    for (size_t i = 0; i < h->account_count; i++) {
        const struct xg_account *a = &h->accounts[i];
        if (!strcmp(a->name, "root") || !strncmp(a->name, "xen-qemuuser-", 13))
            continue;
        bool pw = a->pw == XG_PW_USABLE || a->pw == XG_PW_EMPTY;
        bool human = a->uid >= 1000 && a->uid != 65534 && login_shell(a->shell);
        unknown += !human && pw_unknown(h, a);
        if (!pw && !human)
            continue;
        if (xg_policy_is_admin(p, a->name)) {
            admins++;
            continue;
        }
        xg_failf(r,
                 "/etc/passwd:%u: %s (uid %u, shell %s, password %s) can log in and is not a "
                 "declared admin",
                 a->line, a->name, (unsigned)a->uid, a->shell[0] ? a->shell : "/bin/sh",
                 pw_name(a->pw));
        xg_fix(r, "usermod -L -s %s %s", nologin(h), xg_sh(a->name).s);
    }
    shadow_gap(h, unknown, r);
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r, "/etc/passwd%s: %zu accounts; none can log in but root%s",
                    h->shadow_present ? ", /etc/shadow" : "", h->account_count,
                    admins ? " and the declared admins" : "");
}

static void check_empty_uid0(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    (void)p;
    if (!xg_need_file(r, h, h->passwd_present, XG_SEC_ACCOUNTS, "/etc/passwd"))
        return;
    size_t unknown = 0;
    for (size_t i = 0; i < h->account_count; i++) {
        const struct xg_account *a = &h->accounts[i];
        unknown += pw_unknown(h, a);
        if (a->pw == XG_PW_EMPTY) {
            xg_failf(r, "%s has an empty password: anyone can log in as it", a->name);
            xg_fix(r, "passwd -l %s", xg_sh(a->name).s);
        }
        if (a->uid == 0 && strcmp(a->name, "root")) {
            xg_failf(r, "/etc/passwd:%u: %s has uid 0 (a second root)", a->line, a->name);
            /* locked first: userdel refuses nothing, but the account may own files */
            xg_fix(r, "usermod -L -s %s %s", nologin(h), xg_sh(a->name).s);
            xg_fix(r, "userdel %s", xg_sh(a->name).s);
        }
    }
    shadow_gap(h, unknown, r);
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r, "/etc/passwd%s: no empty password, root is the only uid 0 (%zu accounts)",
                    h->shadow_present ? ", /etc/shadow" : "", h->account_count);
}

/*
 * sudo and wheel are the administrators' groups (sudoers, and polkit's admin
 * identities on Debian and Red Hat). "admin" was Ubuntu's (%admin in its
 * sudoers, unix-group:admin in its polkit): elsewhere it is the personal
 * group of a user named admin and grants nothing, unless sudoers names it.
 */
static bool is_admin_group_of(const struct xg_host *h, const char *g)
{
    if (!strcmp(g, "sudo") || !strcmp(g, "wheel"))
        return true;
    if (strcmp(g, "admin"))
        return false;
    if (h->versions.os_id && !strcmp(h->versions.os_id, "ubuntu"))
        return true;
    for (size_t i = 0; i < h->sudo_rule_count; i++)
        if (!strcmp(h->sudo_rules[i].who, "%admin"))
            return true;
    return false;
}

static void check_sudo(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!xg_need_file(r, h, h->group_present, XG_SEC_ACCOUNTS, "/etc/group") ||
        !xg_need(r, h, true, XG_SEC_SUDOERS, ""))
        return;
    xg_need_readable(r, h, "/etc/sudoers");
    xg_need_readable(r, h, "/etc/sudoers.d");
    if (!h->passwd_present)
        xg_partial(r, "no /etc/passwd: who has an admin group as primary group is unknown");
    for (size_t i = 0; i < h->group_count; i++) {
        const struct xg_group *g = &h->groups[i];
        if (!is_admin_group_of(h, g->name))
            continue;
        for (size_t m = 0; m < g->member_count; m++)
            if (strcmp(g->members[m], "root") && !xg_policy_is_admin(p, g->members[m])) {
                xg_failf(r, "%s is in group %s and is not a declared admin", g->members[m],
                         g->name);
                xg_fix(r, "gpasswd -d %s %s", xg_sh(g->members[m]).s, xg_sh(g->name).s);
            }
        for (size_t a = 0; a < h->account_count; a++)
            if (h->accounts[a].gid == g->gid && strcmp(h->accounts[a].name, "root") &&
                !xg_policy_is_admin(p, h->accounts[a].name)) {
                xg_failf(r, "%s has %s as primary group and is not a declared admin",
                         h->accounts[a].name, g->name);
                if (xg_host_group(h, "users"))
                    xg_fix(r, "usermod -g users %s", xg_sh(h->accounts[a].name).s);
            }
    }
    for (size_t i = 0; i < h->sudo_rule_count; i++) {
        const struct xg_sudo_rule *s = &h->sudo_rules[i];
        const char *who = s->who;
        if (who[0] == '%') {
            if (is_admin_group_of(h, who + 1))
                continue; /* judged by membership above */
            const struct xg_group *g = xg_host_group(h, who + 1);
            for (size_t m = 0; g && m < g->member_count; m++)
                if (strcmp(g->members[m], "root") && !xg_policy_is_admin(p, g->members[m])) {
                    xg_failf(r, "%s:%u: %s gets sudo through %s and is not a declared admin",
                             s->file, s->line, g->members[m], who);
                    xg_fix(r, "gpasswd -d %s %s", xg_sh(g->members[m]).s, xg_sh(who + 1).s);
                }
            continue;
        }
        if (!strcmp(who, "root") || xg_policy_is_admin(p, who))
            continue;
        xg_failf(r, "%s:%u: sudo rule for %s, not a declared admin", s->file, s->line, who);
        xg_fix(r, "visudo -f %s", xg_sh(s->file).s);
    }
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r,
                    "/etc/group, /etc/passwd%s: sudo/wheel/admin members and sudoers rules: "
                    "root and declared admins only",
                    h->sudoers_present ? ", /etc/sudoers (and its includes)"
                                       : " (no /etc/sudoers: sudo grants nothing)");
}

/* ---- sshd ---- */

/* sshd's unit: Debian's ssh.service, elsewhere sshd.service. */
static const char *sshd_unit(const struct xg_host *h)
{
    for (size_t i = 0; i < h->unit_count; i++)
        if (!strcmp(h->units[i], "ssh.service") || !strcmp(h->units[i], "sshd.service"))
            return !strcmp(h->units[i], "ssh.service") ? "ssh" : "sshd";
    const char *id = h->versions.os_id ? h->versions.os_id : "";
    return !strcmp(id, "debian") || !strcmp(id, "ubuntu") ? "ssh" : "sshd";
}

/* The fix for an sshd setting: xenguard's drop-in (read before any other), then a
 * reload by the host's init: systemctl where systemd's units were read, else the
 * SysV service command (CentOS 6, older Debian), which systemd hosts also accept. */
static void fix_harden_sshd(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    xg_fix_harden(r, p, "sshd");
    if (h->units_present)
        xg_fix(r, "systemctl reload %s", sshd_unit(h));
    else
        xg_fix(r, "service %s reload", sshd_unit(h));
}

/* A line the drop-in cannot override (a Match block, a ListenAddress, which adds
 * up): comment it out where it was read. */
static void fix_comment_out(const struct xg_kv *kv, struct xg_result *r)
{
    if (kv->line && kv->file[0] == '/')
        xg_fix(r, "sed -i '%us/^/# /' %s", kv->line, xg_sh(kv->file).s);
}

static const char *sshd_value(const struct xg_host *h, const char *key, const char *def,
                              char *where, size_t where_size)
{
    const struct xg_kv *kv = xg_kv_find(&h->sshd, key, true);
    if (kv && h->sshd_effective && strncmp(kv->file, "/etc/", 5)) {
        snprintf(where, where_size, "%s", kv->file); /* sshd -T: no line worth naming */
        return kv->value;
    }
    if (kv) {
        snprintf(where, where_size, "%s:%u", kv->file, kv->line);
        return kv->value;
    }
    snprintf(where, where_size, "default: not set in /etc/ssh/sshd_config or its includes");
    return def;
}

static bool word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == '"') &&
            (p[n] == '\0' || p[n] == ' ' || p[n] == '"'))
            return true;
    return false;
}

/*
 * The default of an unset PermitRootLogin for this host's sshd, or NULL when
 * the version and vendor are unknown. Upstream OpenSSH defaulted to "yes"
 * before 7.0 and to "prohibit-password" since; Red Hat's builds (RHEL and
 * CentOS up to 8, and so XenServer's and XCP-ng's CentOS-based Dom0) kept
 * "yes". Debian 9 and later, Ubuntu 16.04 and later ship OpenSSH 7.x or newer.
 */
static const char *root_login_default(const struct xg_host *h, char *why, size_t size)
{
    const struct xg_versions *v = &h->versions;
    int osmaj = v->os_version_id ? atoi(v->os_version_id) : 0;
    if (v->openssh && v->openssh_major && v->openssh_major < 7) {
        snprintf(why, size, "OpenSSH %s (%s) is older than 7.0: the default is yes", v->openssh,
                 v->openssh_source);
        return "yes";
    }
    const char *id = v->os_id ? v->os_id : "";
    bool xs = !strcmp(id, "xenenterprise") || !strcmp(id, "xcp-ng") || !strcmp(id, "xenserver");
    bool rh = !strcmp(id, "rhel") || !strcmp(id, "centos") || !strcmp(id, "rocky") ||
              !strcmp(id, "almalinux") || !strcmp(id, "ol");
    bool rh_like = word_in(v->os_id_like, "rhel") || word_in(v->os_id_like, "centos") ||
                   word_in(v->os_id_like, "fedora") || !strcmp(id, "fedora");
    if (xs || ((rh || rh_like) && (!osmaj || osmaj < 9 || !rh))) {
        snprintf(why, size,
                 "%s build (/etc/os-release ID=%s%s%s%s): Red Hat's OpenSSH defaults to yes",
                 xs ? "XenServer/XCP-ng (CentOS-based)" : "Red Hat-family", id,
                 v->os_version_id ? " VERSION_ID=" : "", v->os_version_id ? v->os_version_id : "",
                 v->openssh ? "" : ", OpenSSH version unknown");
        return "yes";
    }
    if (v->openssh && v->openssh_major) {
        snprintf(why, size, "OpenSSH %s (%s): the default is prohibit-password", v->openssh,
                 v->openssh_source);
        return "prohibit-password";
    }
    if ((!strcmp(id, "debian") && osmaj >= 9) || (!strcmp(id, "ubuntu") && osmaj >= 16)) {
        snprintf(why, size, "%s %s ships OpenSSH 7.x or later: the default is prohibit-password",
                 id, v->os_version_id);
        return "prohibit-password";
    }
    return NULL;
}

/*
 * Fail for every Match block that sets `key` to a value `weak` calls weak:
 * those connections get it whatever the global value says.
 */
static void sshd_match_overrides(const struct xg_host *h, const char *name,
                                 bool (*weak)(const char *value), const char *why,
                                 struct xg_result *r)
{
    char mkey[96];
    const char *criteria = "?";
    snprintf(mkey, sizeof(mkey), "match:%s", name);
    for (char *c = mkey; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (size_t i = 0; i < h->sshd.count; i++) {
        const struct xg_kv *kv = &h->sshd.items[i];
        if (!strcmp(kv->key, "match"))
            criteria = kv->value;
        else if (!strcmp(kv->key, mkey) && weak(kv->value)) {
            xg_failf(r, "%s:%u: %s %s inside 'Match %s'%s", kv->file, kv->line, name, kv->value,
                     criteria, why);
            fix_comment_out(kv, r);
        }
    }
}

static bool is_yes(const char *v)
{
    return !strcasecmp(v, "yes");
}

static bool not_no(const char *v)
{
    return strcasecmp(v, "no") != 0;
}

/* The main file must be read; an Include'd file that could not be read may
 * hold the first (winning) value of any keyword: no pass then. */
static bool sshd_need(const struct xg_host *h, struct xg_result *r)
{
    if (!xg_need_file(r, h, h->sshd_present, XG_SEC_SSHD, "/etc/ssh/sshd_config"))
        return false;
    if (!h->sshd_effective)
        xg_need_readable(r, h, "/etc/ssh");
    xg_evidence(r, "sshd configuration from %s", h->sshd_source ? h->sshd_source : "?");
    return true;
}

static void check_root_login(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    if (!sshd_need(h, r))
        return;
    char where[400], why[300];
    const char *v;
    if (xg_kv_find(&h->sshd, "permitrootlogin", true)) {
        v = sshd_value(h, "permitrootlogin", NULL, where, sizeof(where));
    } else if ((v = root_login_default(h, why, sizeof(why)))) {
        snprintf(where, sizeof(where), "not set; %s", why);
    } else {
        xg_partial(r, "PermitRootLogin is not set and its default depends on the OpenSSH version "
                      "and vendor, both unknown (no sshd -T, sshd -V, dpkg status or os-release)");
        v = "prohibit-password";
        snprintf(where, sizeof(where), "not set; default unknown");
    }
    if (!strcasecmp(v, "yes")) {
        xg_failf(r, "PermitRootLogin %s (%s): root logs in with a password", v, where);
        fix_harden_sshd(h, p, r);
    } else
        xg_evidence(r, "PermitRootLogin %s (%s)", v, where);
    sshd_match_overrides(h, "PermitRootLogin", is_yes, ": root logs in with a password from there",
                         r);
}

static void check_passwords(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!sshd_need(h, r))
        return;
    char where[300];
    const char *v = sshd_value(h, "passwordauthentication", "yes", where, sizeof(where));
    if (strcasecmp(v, "no"))
        xg_failf(r, "PasswordAuthentication %s (%s)", v, where);
    else
        xg_evidence(r, "PasswordAuthentication no (%s)", where);
    const char *kb =
        h->sshd.count && xg_kv_find(&h->sshd, "kbdinteractiveauthentication", true)
            ? sshd_value(h, "kbdinteractiveauthentication", "yes", where, sizeof(where))
            : sshd_value(h, "challengeresponseauthentication", "yes", where, sizeof(where));
    if (strcasecmp(kb, "no"))
        xg_failf(r, "KbdInteractiveAuthentication %s (%s): passwords through PAM", kb, where);
    else
        xg_evidence(r, "KbdInteractiveAuthentication no (%s)", where);
    v = sshd_value(h, "permitemptypasswords", "no", where, sizeof(where));
    if (!strcasecmp(v, "yes"))
        xg_failf(r, "PermitEmptyPasswords yes (%s)", where);
    sshd_match_overrides(h, "PasswordAuthentication", not_no, ": passwords from there", r);
    sshd_match_overrides(h, "KbdInteractiveAuthentication", not_no,
                         ": passwords through PAM from there", r);
    sshd_match_overrides(h, "ChallengeResponseAuthentication", not_no,
                         ": passwords through PAM from there", r);
    sshd_match_overrides(h, "PermitEmptyPasswords", is_yes, "", r);
    if (r->status == XG_STATUS_FAIL)
        fix_harden_sshd(h, p, r);
}

/* "192.0.2.1", "192.0.2.1:22", "[2001:db8::1]:22", "2001:db8::1" -> address */
static bool listen_addr(const char *v, struct xg_prefix *out)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", v);
    char *sp = strpbrk(buf, " \t");
    if (sp)
        *sp = '\0'; /* "ADDR rdomain X" */
    if (buf[0] == '[') {
        char *e = strchr(buf, ']');
        if (!e)
            return false;
        *e = '\0';
        return xg_addr_parse(buf + 1, out) == 0;
    }
    if (xg_addr_parse(buf, out) == 0)
        return true;
    char *c = strrchr(buf, ':');
    if (c && strchr(buf, ':') == c) {
        *c = '\0';
        return xg_addr_parse(buf, out) == 0;
    }
    return false;
}

static void check_listen(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!sshd_need(h, r))
        return;
    const struct xg_iface *mgmt =
        p && p->management_if[0] ? xg_host_iface(h, p->management_if) : NULL;
    if (p && p->management_if[0] && !mgmt && h->ifaces_present)
        xg_evidence(r, "management interface %s not found in ip -j addr", p->management_if);
    size_t n = 0;
    for (size_t i = 0; i < h->sshd.count; i++) {
        const struct xg_kv *kv = &h->sshd.items[i];
        if (strcmp(kv->key, "listenaddress"))
            continue;
        n++;
        struct xg_prefix a;
        if (!listen_addr(kv->value, &a)) {
            xg_failf(r, "%s:%u: ListenAddress %s is a name, not an address", kv->file, kv->line,
                     kv->value);
            fix_comment_out(kv, r);
            continue;
        }
        if (xg_addr_is_wildcard(&a)) {
            xg_failf(r, "%s:%u: ListenAddress %s listens on every interface", kv->file, kv->line,
                     kv->value);
            fix_comment_out(kv, r);
            continue;
        }
        if (p && p->management_if[0]) {
            bool on = false;
            for (size_t k = 0; mgmt && k < mgmt->addrs.count; k++)
                on |= xg_prefix_equal(&mgmt->addrs.items[k], &a) || xg_addr_is_loopback(&a);
            if (!on && !xg_addr_is_loopback(&a)) {
                xg_failf(r,
                         "%s:%u: ListenAddress %s is not an address of the management interface %s",
                         kv->file, kv->line, kv->value, p->management_if);
                fix_comment_out(kv, r);
            } else
                xg_evidence(r, "%s:%u: ListenAddress %s (on %s)", kv->file, kv->line, kv->value,
                            p->management_if);
        } else {
            xg_evidence(r, "%s:%u: ListenAddress %s", kv->file, kv->line, kv->value);
        }
    }
    if (!n)
        xg_failf(r, "no ListenAddress: sshd listens on every address of every interface");
    if (r->status == XG_STATUS_FAIL)
        fix_harden_sshd(h, p, r); /* its ListenAddress: the management interface's address */
}

static void check_allow_users(const struct xg_host *h, const struct xg_policy *p,
                              struct xg_result *r)
{
    if (!sshd_need(h, r))
        return;
    size_t users = 0, groups = 0;
    for (size_t i = 0; i < h->sshd.count; i++) {
        const struct xg_kv *kv = &h->sshd.items[i];
        if (!strcmp(kv->key, "allowgroups")) {
            groups++;
            xg_evidence(r, "%s:%u: AllowGroups %s", kv->file, kv->line, kv->value);
        }
        if (strcmp(kv->key, "allowusers"))
            continue;
        users++;
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", kv->value);
        for (char *save = NULL, *u = strtok_r(buf, " \t", &save); u;
             u = strtok_r(NULL, " \t", &save)) {
            char *at = strchr(u, '@');
            if (at)
                *at = '\0';
            if (strpbrk(u, "*?")) {
                xg_failf(r, "%s:%u: AllowUsers pattern %s admits any matching account", kv->file,
                         kv->line, u);
                fix_comment_out(kv, r);
            } else if (p && p->admin_user_count && !xg_policy_is_admin(p, u)) {
                xg_failf(r, "%s:%u: AllowUsers %s is not a declared admin", kv->file, kv->line, u);
                fix_comment_out(kv, r);
            } else
                xg_evidence(r, "%s:%u: AllowUsers %s", kv->file, kv->line, u);
        }
    }
    if (!users && !groups)
        xg_failf(r, "no AllowUsers or AllowGroups: every account with a login may try ssh");
    /* the drop-in's AllowUsers is the policy's admins: without them it writes none */
    if (r->status == XG_STATUS_FAIL && p && p->admin_user_count)
        fix_harden_sshd(h, p, r);
}

/* ---- writable Xen paths ---- */

static void check_perms(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    (void)p;
    if (!h->perms_present) {
        xg_na(r, "no evidence: no /etc/xen");
        return;
    }
    static const char *const dirs[] = {"/etc/xen", "/var/run/xenstored", "/run/xenstored",
                                       "/dev/xen"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        xg_need_readable(r, h, dirs[i]);
    for (size_t i = 0; i < h->perm_count; i++) {
        const struct xg_path_perm *pp = &h->perms[i];
        bool sticky_dir = S_ISDIR(pp->mode) && (pp->mode & S_ISVTX);
        if ((pp->mode & S_IWOTH) && !sticky_dir) {
            xg_failf(r, "%s is writable by everyone (mode %04o)", pp->path,
                     (unsigned)(pp->mode & 07777));
            xg_fix(r, "chmod o-w %s", xg_sh(pp->path).s);
        } else if (pp->mode & S_IWGRP && pp->gid != 0) {
            xg_failf(r, "%s is writable by group %u (mode %04o)", pp->path, (unsigned)pp->gid,
                     (unsigned)(pp->mode & 07777));
            xg_fix(r, "chmod g-w %s", xg_sh(pp->path).s);
        } else if (pp->uid != 0) {
            xg_failf(r, "%s is owned by uid %u, not root", pp->path, (unsigned)pp->uid);
            xg_fix(r, "chown root %s", xg_sh(pp->path).s);
        }
    }
    if (r->status == XG_STATUS_PASS)
        xg_evidence(r,
                    "%zu paths under /etc/xen, /var/run/xenstored, /dev/xen: root-owned, "
                    "not writable by others",
                    h->perm_count);
}

const struct xg_check_def xg_checks_users[] = {
    {"XG-USR-001", XG_PRACTICE_USERS, XG_SEV_HIGH, "No ordinary account can log in",
     "Accounts with a usable password, or with uid >= 1000 and a login shell, other than root, "
     "xen-qemuuser-* and the admins declared in the policy ([admin] users).",
     "Lock or remove the account (usermod -L -s /usr/sbin/nologin NAME, or userdel), or declare "
     "it as an admin in the policy.",
     check_ordinary, "/etc/passwd /etc/shadow"},
    {"XG-USR-002", XG_PRACTICE_USERS, XG_SEV_CRITICAL, "No empty password and no second uid 0",
     "An empty password field lets anyone log in; an account other than root with uid 0 is a "
     "hidden root.",
     "passwd -l NAME for empty passwords; remove or renumber extra uid 0 accounts.",
     check_empty_uid0, "/etc/passwd /etc/shadow"},
    {"XG-USR-003", XG_PRACTICE_USERS, XG_SEV_HIGH, "Only declared admins hold sudo rights",
     "Members of the sudo and wheel groups (and admin on Ubuntu or where sudoers names "
     "%admin) and users named in sudoers (and sudoers.d) must be root or declared admins.",
     "gpasswd -d NAME sudo; remove the rule from sudoers with visudo; or declare the admin.",
     check_sudo, "/etc/group /etc/passwd /etc/sudoers /etc/sudoers.d"},
    {"XG-SSH-001", XG_PRACTICE_USERS, XG_SEV_HIGH, "sshd refuses password logins as root",
     "Effective PermitRootLogin (sshd -T when it can run; else first value wins, Include'd "
     "drop-ins in place), and in every Match block. 'yes' lets root log in with a password. "
     "Unset, it is the default of this sshd: yes before OpenSSH 7.0 and in Red Hat's builds "
     "(RHEL/CentOS up to 8, XenServer, XCP-ng), prohibit-password otherwise; unknown version "
     "and vendor: n/a.",
     "PermitRootLogin no (or prohibit-password) in /etc/ssh/sshd_config.d/00-xenguard.conf, and "
     "no 'PermitRootLogin yes' inside a Match block.",
     check_root_login, "/etc/ssh/sshd_config /etc/ssh/sshd_config.d"},
    {"XG-SSH-002", XG_PRACTICE_USERS, XG_SEV_HIGH, "sshd accepts keys only",
     "Effective PasswordAuthentication and KbdInteractiveAuthentication must be 'no' (both "
     "default to yes), and PermitEmptyPasswords must not be 'yes'; no Match block may turn "
     "them back on.",
     "PasswordAuthentication no and KbdInteractiveAuthentication no in "
     "/etc/ssh/sshd_config.d/00-xenguard.conf (xenguard harden sshd --write), none of them "
     "turned back on inside a Match block, then systemctl reload ssh.",
     check_passwords, "/etc/ssh/sshd_config /etc/ssh/sshd_config.d"},
    {"XG-SSH-003", XG_PRACTICE_USERS, XG_SEV_MEDIUM, "sshd listens on the management address only",
     "ListenAddress must be set, not a wildcard; with a policy, each address must belong to the "
     "management interface.",
     "ListenAddress MANAGEMENT-ADDRESS in /etc/ssh/sshd_config.d/00-xenguard.conf.", check_listen,
     "/etc/ssh/sshd_config /etc/ssh/sshd_config.d /xenguard/ip-addr.json"},
    {"XG-SSH-004", XG_PRACTICE_USERS, XG_SEV_MEDIUM, "sshd admits only the admins",
     "AllowUsers or AllowGroups must restrict who may log in; with a policy, every AllowUsers "
     "entry must be a declared admin, and no wildcard pattern.",
     "AllowUsers ADMIN... in /etc/ssh/sshd_config.d/00-xenguard.conf.", check_allow_users,
     "/etc/ssh/sshd_config /etc/ssh/sshd_config.d"},
    {"XG-USR-004", XG_PRACTICE_USERS, XG_SEV_HIGH, "Xen control paths are writable by root only",
     "/etc/xen (two levels), /var/run/xenstored and /dev/xen/* must be owned by root and not "
     "writable by other users (or a non-root group).",
     "chown -R root:root /etc/xen && chmod -R go-w /etc/xen; fix the device node modes "
     "(udev rule) for /dev/xen.",
     check_perms, "/etc/xen /var/run/xenstored /run/xenstored /dev/xen"},
};
const size_t xg_checks_users_count = sizeof(xg_checks_users) / sizeof(xg_checks_users[0]);
