/*
 * ipt.c — iptables-save / iptables-restore plumbing and the merge that
 * restores only xenguard's chains (see ipt.h).
 */
#include "apply/ipt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/names.h"
#include "ir/iptsave.h"
#include "util/buf.h"
#include "util/proc.h"

/* How long one iptables tool may run, and how long a restore waits for the
 * xtables lock (held by Docker, kube-proxy, firewalld, the vif scripts) per
 * attempt; a restore that still finds the lock taken is tried again. */
#define IPT_TIMEOUT_MS   60000
#define IPT_LOCK_WAIT    "--wait=10"
#define IPT_LOCK_RETRIES 3

static bool lock_busy(const char *msg)
{
    return strstr(msg, "xtables lock") || strstr(msg, "xtables.lock");
}

/* argv through the process runner; its stdout in *out (may be NULL), else a one-line reason. */
static int run_tool(char *const argv[], const char *in, char **out, char *why, size_t why_size)
{
    struct xg_proc_opts o = {.in = in, .in_len = in ? strlen(in) : 0, .timeout_ms = IPT_TIMEOUT_MS};
    struct xg_proc p;
    struct xg_err err;
    if (out)
        *out = NULL;
    if (xg_proc_run(argv, &o, &p, &err) < 0) {
        snprintf(why, why_size, "%s", err.msg);
        return -1;
    }
    int rc = 0;
    if (!xg_proc_ok(&p)) {
        char how[64], line[400];
        xg_proc_describe(&p, &o, how, sizeof(how));
        xg_proc_first_line(&p, line, sizeof(line));
        snprintf(why, why_size, "%s%s%s", line, *line ? " — " : "", how);
        rc = -1;
    } else if (out) {
        *out = p.out; /* NUL-terminated */
        p.out = NULL;
    }
    xg_proc_free(&p);
    return rc;
}

bool xg_ipt_legacy_in_use(void)
{
    char why[256], *out = NULL;
    char *argv[] = {"iptables", "-V", NULL};
    bool legacy = run_tool(argv, NULL, &out, why, sizeof(why)) == 0 && strstr(out, "(legacy)");
    free(out);
    return legacy;
}

int xg_ipt_save(uint8_t family, char **out, struct xg_err *err)
{
    char why[512];
    char *argv[] = {family == 6 ? "ip6tables-save" : "iptables-save", NULL};
    if (run_tool(argv, NULL, out, why, sizeof(why)) < 0)
        return xg_fail(err, "%s failed: %s", argv[0], why);
    return 0;
}

int xg_ipt_restore(uint8_t family, const char *text, bool noflush, const char *name,
                   struct xg_err *err)
{
    char why[1024];
    char *cmd = family == 6 ? "ip6tables-restore" : "iptables-restore";
    char *argv[] = {cmd, IPT_LOCK_WAIT, noflush ? "--noflush" : NULL, NULL};
    for (int attempt = 1;; attempt++) {
        if (run_tool(argv, text, NULL, why, sizeof(why)) == 0)
            return 0;
        if (!lock_busy(why))
            break;
        if (attempt == IPT_LOCK_RETRIES)
            return xg_fail(err,
                           "%s (%s): the xtables lock stayed taken by another program (%d tries, "
                           "%s each): %s",
                           name, cmd, IPT_LOCK_RETRIES, IPT_LOCK_WAIT, why);
    }
    /* iptables-restore's own words, e.g. "iptables-restore: line 7 failed" */
    return xg_fail(err, "%s (%s): %s", name, cmd, why);
}

/* Which chains are "ours": the host firewall's are XENGUARD-* but not the perimeter's
 * XENGUARD-PERIMETER-*, which belong to the router's ruleset (`apply --perimeter`), so that
 * each is saved, restored and hooked apart. */
static bool is_ours_chain_in(bool perimeter, const char *s)
{
    if (!strncmp(s, XG_IPT_PERIMETER_PREFIX, strlen(XG_IPT_PERIMETER_PREFIX)))
        return perimeter;
    return !perimeter && !strncmp(s, XG_IPT_CHAIN_PREFIX, strlen(XG_IPT_CHAIN_PREFIX));
}

/* A rule line's words by the shared tokenizer (src/ir/iptsave.c): what its chain is and
 * where it jumps, with quoted comments as single words. */
struct rule_words {
    bool ours;    /* its chain is one of ours */
    bool jump_us; /* it jumps or goes to one of ours */
};

static struct rule_words rule_words(const char *line, bool per)
{
    struct xg_ipt_line l;
    struct rule_words r = {false, false};
    unsigned col;
    if (xg_ipt_split(line, strlen(line), &l, &col) < 0)
        return r;
    const char *chain = xg_ipt_rule_chain(&l), *target = xg_ipt_rule_target(&l);
    r.ours = chain && is_ours_chain_in(per, chain);
    r.jump_us = target && is_ours_chain_in(per, target);
    xg_ipt_line_free(&l);
    return r;
}

bool xg_ipt_hooked(const char *save_text)
{
    return xg_ipt_hooked_in(false, save_text);
}

bool xg_ipt_hooked_in(bool per, const char *save_text)
{
    for (const char *l = save_text; *l;) {
        size_t len = strcspn(l, "\n");
        char line[4096];
        snprintf(line, sizeof(line), "%.*s", (int)len, l);
        struct rule_words w = rule_words(line, per);
        if (!strncmp(line, "-A ", 3) && !w.ours && w.jump_us)
            return true;
        l += len + (l[len] == '\n');
    }
    return false;
}

enum { MAX_TABLES = 8 };

struct table_parts {
    char name[32];
    struct xg_buf decls_other, rules_other;           /* from current */
    struct xg_buf decls_ours, hooks_ours, rules_ours; /* from saved */
    bool any_ours_now, any_ours_saved;
    bool in_current; /* the current save has this table */
};

static bool known_table(const char *name)
{
    return xg_ipt_table_find(name) != NULL;
}

static struct table_parts *table_get(struct table_parts *t, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(t[i].name, name))
            return &t[i];
    if (*n == MAX_TABLES)
        return NULL;
    memset(&t[*n], 0, sizeof(t[*n]));
    snprintf(t[*n].name, sizeof(t[*n].name), "%.31s", name);
    return &t[(*n)++];
}

/* "-I INPUT 1 -j X" -> "-A INPUT -j X" (the backend's hook lines, in a save's form). */
static void as_append(const char *line, struct xg_buf *out)
{
    char chain[64];
    int used = 0;
    if (sscanf(line, "-I %63s %n", chain, &used) == 1) {
        const char *rest = line + used;
        if (*rest >= '0' && *rest <= '9')
            rest += strspn(rest, "0123456789 ");
        xg_buf_printf(out, "-A %s %s\n", chain, rest);
    } else {
        xg_buf_printf(out, "%s\n", line);
    }
}

static int split(const char *text, bool from_saved, bool per, struct table_parts *t, size_t *n,
                 struct xg_err *err)
{
    struct table_parts *cur = NULL;
    for (const char *l = text ? text : ""; *l;) {
        size_t len = strcspn(l, "\n");
        char line[8192];
        if (len >= sizeof(line))
            return xg_fail(err, "iptables-save: line longer than %zu bytes", sizeof(line));
        memcpy(line, l, len);
        line[len] = '\0';
        l += len + (l[len] == '\n');
        if (line[0] == '*') {
            if (!known_table(line + 1))
                return xg_fail(err, "iptables-save: unknown table '%.40s'", line + 1);
            if (!(cur = table_get(t, n, line + 1)))
                return xg_fail(err, "iptables-save: too many tables");
            if (!from_saved)
                cur->in_current = true;
        } else if (!cur || line[0] == '#' || !line[0] || !strcmp(line, "COMMIT")) {
            continue;
        } else if (line[0] == ':') {
            bool ours = is_ours_chain_in(per, line + 1);
            if (ours && from_saved) {
                xg_buf_printf(&cur->decls_ours, "%s\n", line);
                cur->any_ours_saved = true;
            } else if (ours) {
                cur->any_ours_now = true;
            } else if (!from_saved) {
                xg_buf_printf(&cur->decls_other, "%s\n", line);
            } else if (!cur->in_current) {
                /* built-in chain of a table only the saved state has */
                xg_buf_printf(&cur->decls_other, "%s\n", line);
            }
        } else if (line[0] == '-' && (line[1] == 'A' || line[1] == 'I')) {
            struct rule_words w = rule_words(line, per);
            bool ours = w.ours, jump = w.jump_us;
            if (from_saved && ours) {
                xg_buf_printf(&cur->rules_ours, "%s\n", line);
            } else if (from_saved && jump) {
                as_append(line, &cur->hooks_ours);
                cur->any_ours_saved = true;
            } else if (ours || jump) {
                cur->any_ours_now = true;
            } else if (!from_saved) {
                xg_buf_printf(&cur->rules_other, "%s\n", line);
            }
        }
    }
    return 0;
}

int xg_ipt_merge(const char *current, const char *saved, char **out, struct xg_err *err)
{
    return xg_ipt_merge_in(false, current, saved, out, err);
}

int xg_ipt_merge_in(bool per, const char *current, const char *saved, char **out,
                    struct xg_err *err)
{
    struct table_parts t[MAX_TABLES];
    size_t n = 0;
    int rc = 0;
    if (split(current, false, per, t, &n, err) < 0 || split(saved, true, per, t, &n, err) < 0)
        rc = -1;
    struct xg_buf b = {0};
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!t[i].any_ours_now && !t[i].any_ours_saved)
            continue;
        /* hooks first in their built-in chain: split the other rules per chain */
        xg_buf_printf(&b, "*%s\n%s%s", t[i].name, xg_buf_str(&t[i].decls_other),
                      xg_buf_str(&t[i].decls_ours));
        xg_buf_puts(&b, xg_buf_str(&t[i].hooks_ours));
        xg_buf_puts(&b, xg_buf_str(&t[i].rules_other));
        xg_buf_puts(&b, xg_buf_str(&t[i].rules_ours));
        xg_buf_puts(&b, "COMMIT\n");
    }
    for (size_t i = 0; i < n; i++) {
        xg_buf_free(&t[i].decls_other);
        xg_buf_free(&t[i].rules_other);
        xg_buf_free(&t[i].decls_ours);
        xg_buf_free(&t[i].hooks_ours);
        xg_buf_free(&t[i].rules_ours);
    }
    if (rc == 0 && xg_buf_failed(&b))
        rc = xg_fail(err, "out of memory");
    *out = rc == 0 ? strdup(xg_buf_str(&b)) : NULL;
    xg_buf_free(&b);
    return rc == 0 && !*out ? xg_fail(err, "out of memory") : rc;
}

int xg_ipt_ours(const char *save_text, char **out, struct xg_err *err)
{
    struct xg_buf b = {0};
    const char *table = "";
    char tname[32] = "";
    for (const char *l = save_text ? save_text : ""; *l;) {
        size_t len = strcspn(l, "\n");
        char line[8192];
        snprintf(line, sizeof(line), "%.*s", (int)len, l);
        l += len + (l[len] == '\n');
        if (line[0] == '*') {
            snprintf(tname, sizeof(tname), "%.31s", line + 1);
            table = tname;
        } else if (line[0] == ':' && is_ours_chain_in(false, line + 1)) {
            xg_buf_printf(&b, "%s :%.*s\n", table, (int)strcspn(line + 1, " "), line + 1);
        } else if (line[0] == '-' &&
                   (rule_words(line, false).ours || rule_words(line, false).jump_us)) {
            xg_buf_printf(&b, "%s ", table);
            as_append(line, &b);
        }
    }
    if (xg_buf_failed(&b))
        return xg_fail(err, "out of memory");
    *out = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return *out ? 0 : xg_fail(err, "out of memory");
}

/* The lines of `table` in `text`: kind ':' our chains' declarations, '-' our chains' rules,
 * '*' everything (rules as "-A"), appended to `out`. */
static void table_part(const char *text, const char *table, char kind, struct xg_buf *out)
{
    char cur[32] = "";
    for (const char *l = text ? text : ""; *l;) {
        size_t len = strcspn(l, "\n");
        char line[8192];
        snprintf(line, sizeof(line), "%.*s", (int)len, l);
        l += len + (l[len] == '\n');
        if (line[0] == '*') {
            snprintf(cur, sizeof(cur), "%.31s", line + 1);
        } else if (strcmp(cur, table) || !strcmp(line, "COMMIT") || line[0] == '#') {
            continue;
        } else if (kind == '*' && line[0] == '-') {
            as_append(line, out);
        } else if (kind == '*' ||
                   (kind == ':' && line[0] == ':' && is_ours_chain_in(false, line + 1)) ||
                   (kind == '-' && line[0] == '-' && rule_words(line, false).ours)) {
            xg_buf_printf(out, "%s\n", line);
        }
    }
}

static bool has_table(const char *save, const char *table)
{
    size_t n = strlen(table);
    for (const char *l = save; *l;) {
        size_t len = strcspn(l, "\n");
        if (l[0] == '*' && len == n + 1 && !strncmp(l + 1, table, n))
            return true;
        l += len + (l[len] == '\n');
    }
    return false;
}

int xg_ipt_preview(const char *current, const char *hooked, const char *nohook, char **out,
                   struct xg_err *err)
{
    if (!xg_ipt_hooked(current))
        return xg_ipt_merge(current, hooked, out, err);
    struct xg_buf b = {0};
    char table[32] = "";
    for (const char *l = current; *l;) {
        size_t len = strcspn(l, "\n");
        char line[8192];
        snprintf(line, sizeof(line), "%.*s", (int)len, l);
        l += len + (l[len] == '\n');
        if (line[0] == '*') {
            snprintf(table, sizeof(table), "%.31s", line + 1);
            xg_buf_printf(&b, "%s\n", line);
            table_part(nohook, table, ':', &b);
            continue;
        }
        if (!strcmp(line, "COMMIT"))
            table_part(nohook, table, '-', &b);
        else if ((line[0] == ':' && is_ours_chain_in(false, line + 1)) ||
                 (line[0] == '-' && rule_words(line, false).ours))
            continue; /* ours: the candidate's instead; the jumps stay where they are */
        xg_buf_printf(&b, "%s\n", line);
    }
    /* a table the host does not have yet: the candidate's, hooked */
    for (const char *l = hooked; *l;) {
        size_t len = strcspn(l, "\n");
        if (l[0] == '*') {
            snprintf(table, sizeof(table), "%.*s", (int)(len - 1 < 31 ? len - 1 : 31), l + 1);
            if (!has_table(current, table)) {
                xg_buf_printf(&b, "*%s\n", table);
                table_part(hooked, table, '*', &b);
                xg_buf_puts(&b, "COMMIT\n");
            }
        }
        l += len + (l[len] == '\n');
    }
    if (xg_buf_failed(&b)) {
        xg_buf_free(&b);
        return xg_fail(err, "out of memory");
    }
    *out = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return *out ? 0 : xg_fail(err, "out of memory");
}
