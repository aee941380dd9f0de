/*
 * accounts.c — passwd, shadow, group and sudoers, as the checks need them.
 *
 * The colon files are strict: a line with the wrong number of fields is an
 * error naming the line, because an account the audit cannot read is an
 * account it cannot judge. NIS "+"/"-" lines and comments are skipped.
 * A password field is judged by its state alone (xg_pw_classify), which is
 * why a capture can replace every hash with the state's marker (probe/redact.c:
 * "!<locked>", "<usable>") and be judged the same.
 * sudoers is read for its user specifications only (who gets rights);
 * Defaults and aliases do not grant anything by themselves, and
 * `#includedir`/`@includedir` directories are handed back to the probe.
 */
#include "probe/parse.h"

#include <stdlib.h>
#include <string.h>

#include "util/lines.h"
#include "util/strv.h"

/* Split a line into at most `max` colon fields in place; returns the count. */
static size_t split_colon(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max + 1; p++)
        if (*p == ':') {
            *p = '\0';
            if (n == max)
                return max + 1; /* too many */
            f[n++] = p + 1;
        }
    return n;
}

static bool parse_id(const char *s, unsigned *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > 0xFFFFFFFFul)
        return false;
    *out = (unsigned)v;
    return true;
}

/* The next line without a trailing CR, or NULL at the end (xg_line_next). */
static char *next_line(const char *text, size_t len, size_t *pos)
{
    char *line = xg_line_next(text, len, pos);
    if (line) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
    }
    return line;
}

static bool skip_line(const char *line)
{
    return !*line || *line == '#' || *line == '+' || *line == '-';
}

enum xg_pw_state xg_pw_classify(const char *field, bool passwd)
{
    if (!*field)
        return XG_PW_EMPTY;
    if (passwd && (!strcmp(field, "x") || !strcmp(field, "*x")))
        return XG_PW_UNKNOWN;
    if (field[0] == '!' || field[0] == '*')
        return XG_PW_LOCKED;
    return XG_PW_USABLE;
}

int xg_passwd_parse(const char *text, size_t len, const char *path, struct xg_account **out,
                    size_t *count, struct xg_err *err)
{
    size_t pos = 0;
    unsigned lineno = 0;
    char *line;
    while (pos < len) {
        line = next_line(text, len, &pos);
        lineno++;
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        if (skip_line(line)) {
            free(line);
            continue;
        }
        char *f[8];
        unsigned uid, gid;
        if (split_colon(line, f, 7) != 7) {
            free(line);
            return xg_fail_at(err, path, lineno, 1, "expected 7 ':'-separated fields");
        }
        if (!*f[0] || !parse_id(f[2], &uid) || !parse_id(f[3], &gid)) {
            free(line);
            return xg_fail_at(err, path, lineno, 1, "bad account name, uid or gid");
        }
        struct xg_account *grown = realloc(*out, (*count + 1) * sizeof(*grown));
        if (!grown) {
            free(line);
            return xg_fail(err, "%s: out of memory", path);
        }
        *out = grown;
        struct xg_account *a = &grown[*count];
        memset(a, 0, sizeof(*a));
        a->name = strdup(f[0]);
        a->home = strdup(f[5]);
        a->shell = strdup(f[6]);
        a->uid = uid;
        a->gid = gid;
        a->line = lineno;
        a->pw = xg_pw_classify(f[1], true);
        free(line);
        (*count)++;
        if (!a->name || !a->home || !a->shell)
            return xg_fail(err, "%s: out of memory", path);
    }
    return 0;
}

int xg_shadow_apply(const char *text, size_t len, const char *path, struct xg_account *accounts,
                    size_t count, struct xg_err *err)
{
    size_t pos = 0;
    unsigned lineno = 0;
    char *line;
    while (pos < len) {
        line = next_line(text, len, &pos);
        lineno++;
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        if (skip_line(line)) {
            free(line);
            continue;
        }
        char *f[10];
        size_t n = split_colon(line, f, 9);
        if (n < 2 || n > 9) {
            free(line);
            return xg_fail_at(err, path, lineno, 1, "expected 9 ':'-separated fields");
        }
        for (size_t i = 0; i < count; i++) {
            if (strcmp(accounts[i].name, f[0]))
                continue;
            accounts[i].pw = xg_pw_classify(f[1], false);
        }
        free(line);
    }
    return 0;
}

int xg_group_parse(const char *text, size_t len, const char *path, struct xg_group **out,
                   size_t *count, struct xg_err *err)
{
    size_t pos = 0;
    unsigned lineno = 0;
    char *line;
    while (pos < len) {
        line = next_line(text, len, &pos);
        lineno++;
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        if (skip_line(line)) {
            free(line);
            continue;
        }
        char *f[5];
        unsigned gid;
        if (split_colon(line, f, 4) != 4 || !*f[0] || !parse_id(f[2], &gid)) {
            free(line);
            return xg_fail_at(err, path, lineno, 1, "expected NAME:PASSWORD:GID:MEMBERS");
        }
        struct xg_group *grown = realloc(*out, (*count + 1) * sizeof(*grown));
        if (!grown) {
            free(line);
            return xg_fail(err, "%s: out of memory", path);
        }
        *out = grown;
        struct xg_group *g = &grown[(*count)++];
        memset(g, 0, sizeof(*g));
        g->gid = gid;
        g->name = strdup(f[0]);
        int rc = g->name ? 0 : -1;
        for (char *save = NULL, *m = strtok_r(f[3], ",", &save); m && rc == 0;
             m = strtok_r(NULL, ",", &save)) {
            char **mg = realloc(g->members, (g->member_count + 1) * sizeof(*mg));
            if (!mg) {
                rc = -1;
                break;
            }
            g->members = mg;
            if (!(mg[g->member_count] = strdup(m)))
                rc = -1;
            else
                g->member_count++;
        }
        free(line);
        if (rc < 0)
            return xg_fail(err, "%s: out of memory", path);
    }
    return 0;
}

static int add_rule(struct xg_sudo_rule **rules, size_t *count, const char *who, const char *path,
                    unsigned line)
{
    struct xg_sudo_rule *grown = realloc(*rules, (*count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    *rules = grown;
    grown[*count].who = strdup(who);
    grown[*count].file = strdup(path);
    grown[*count].line = line;
    if (!grown[*count].who || !grown[*count].file) {
        free(grown[*count].who);
        free(grown[*count].file);
        return -1;
    }
    (*count)++;
    return 0;
}

int xg_sudoers_parse(const char *text, size_t len, const char *path, struct xg_sudo_rule **rules,
                     size_t *count, char ***incdirs, size_t *incdir_count, struct xg_err *err)
{
    struct xg_buf logical = {0};
    size_t pos = 0;
    unsigned lineno = 0, start = 0;
    char *line;
    int rc = 0;
    while (rc == 0 && pos < len) {
        line = next_line(text, len, &pos);
        lineno++;
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        if (!logical.len)
            start = lineno;
        size_t n = strlen(line);
        bool cont = n && line[n - 1] == '\\';
        if (cont)
            line[n - 1] = ' ';
        xg_buf_puts(&logical, line);
        free(line);
        if (cont)
            continue;
        char *l = strdup(xg_buf_str(&logical));
        xg_buf_free(&logical);
        logical = (struct xg_buf){0};
        if (!l)
            return xg_fail(err, "%s: out of memory", path);
        char *p = l;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!strncmp(p, "#includedir", 11) || !strncmp(p, "@includedir", 11)) {
            char *d = p + 11;
            while (*d == ' ' || *d == '\t')
                d++;
            d[strcspn(d, " \t")] = '\0';
            if (*d && xg_strv_add(incdirs, incdir_count, d) < 0)
                rc = xg_fail(err, "%s: out of memory", path);
            free(l);
            continue;
        }
        char *hash = strchr(p, '#');
        if (hash && !(hash > p && hash[-1] == '\\'))
            *hash = '\0';
        if (!*p || *p == '@' || !strncmp(p, "Defaults", 8) || !strncmp(p, "User_Alias", 10) ||
            !strncmp(p, "Runas_Alias", 11) || !strncmp(p, "Host_Alias", 10) ||
            !strncmp(p, "Cmnd_Alias", 10) || !strncmp(p, "Cmd_Alias", 9)) {
            free(l);
            continue;
        }
        /* user specification: WHO[,WHO...] HOSTS = ... */
        size_t wlen = strcspn(p, " \t");
        if (!p[wlen] || !strchr(p + wlen, '=')) {
            free(l);
            rc = xg_fail_at(err, path, start, 1, "not a sudoers user specification");
            break;
        }
        p[wlen] = '\0';
        for (char *save = NULL, *w = strtok_r(p, ",", &save); w && rc == 0;
             w = strtok_r(NULL, ",", &save))
            if (add_rule(rules, count, w, path, start) < 0)
                rc = xg_fail(err, "%s: out of memory", path);
        free(l);
    }
    xg_buf_free(&logical);
    return rc;
}
