/*
 * parse.c — the policy file (INI) -> struct xg_policy: lines, sections and
 * the table of keys.
 *
 * Two passes over plain data. The first reads lines; each `key = value`
 * finds its row in `keys` (section, name, setter) and the setter, made of
 * the small value parsers in values.c, fills the struct. The second,
 * policy_validate() (validate.c), checks what only the whole file can tell.
 * Strict by design: an unknown key or section, a duplicate key or a prefix
 * with host bits set is an error, because a firewall that silently ignores
 * half a line is worse than none. Every error carries FILE:LINE:COL, the
 * length of the offending text and the line itself (util/err.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parser.h"
#include "util/file.h"

#define MAX_POLICY_BYTES (1u << 20)

static const char *const section_names[SEC_COUNT] = {
    [SEC_NONE] = "",           [SEC_HOST] = "host",
    [SEC_CLUSTER] = "cluster", [SEC_MIGRATION] = "migration",
    [SEC_ADMIN] = "admin",     [SEC_ALLOW] = "allow",
    [SEC_TUNNEL] = "tunnel",   [SEC_GUESTS] = "guests",
};

/* ---------- errors ---------- */

static int vfail(struct parser *ps, unsigned line, unsigned col, unsigned len, const char *fmt,
                 va_list ap)
{
    char msg[XG_ERR_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    return xg_fail_src(ps->err, &ps->src, line, col, len, "%s", msg);
}

int policy_fail(struct parser *ps, unsigned col, unsigned len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ps, ps->line, col, len, fmt, ap);
    va_end(ap);
    return -1;
}

int policy_fail_loc(struct parser *ps, struct xg_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ps, loc.line, loc.col, loc.len, fmt, ap);
    va_end(ap);
    return -1;
}

int policy_oom(struct parser *ps)
{
    return xg_fail(ps->err, "out of memory");
}

/* ---------- the keys ---------- */

/* One `key = value` as the line reader found it. */
struct value {
    const char *key, *text;
    unsigned key_col, col; /* text starts at col; "" when the value is empty */
};

struct key;
typedef int (*key_setter)(struct parser *ps, const struct key *k, const struct value *v);

/* A row of the key table. The generic setters find their field by offset. */
struct key {
    enum section section;
    const char *name; /* NULL: any name (an [allow] service) */
    key_setter set;
    size_t field;      /* offsetof(struct xg_policy, ...) of the value, for generic setters */
    size_t count;      /* ... and of its count, for word lists */
    unsigned max;      /* the largest number, for set_uint */
    const char *extra; /* characters names may hold beyond letters, digits, . _ - */
    size_t loc;        /* offsetof the struct xg_loc that records where it was written; 0: none */
};

static void *field(struct parser *ps, size_t offset)
{
    return (char *)ps->p + offset;
}

static int set_bool(struct parser *ps, const struct key *k, const struct value *v)
{
    struct token t;
    if (policy_single_token(ps, v->key, v->text, v->col, &t) < 0)
        return -1;
    return policy_bool(ps, v->key, &t, field(ps, k->field));
}

static int set_port(struct parser *ps, const struct key *k, const struct value *v)
{
    struct token t;
    if (policy_single_token(ps, v->key, v->text, v->col, &t) < 0)
        return -1;
    return policy_u16(ps, v->key, &t, field(ps, k->field));
}

static int set_uint(struct parser *ps, const struct key *k, const struct value *v)
{
    struct token t;
    if (policy_single_token(ps, v->key, v->text, v->col, &t) < 0)
        return -1;
    return policy_uint(ps, v->key, &t, k->max, field(ps, k->field));
}

static int set_ifname(struct parser *ps, const struct key *k, const struct value *v)
{
    struct token t;
    if (policy_single_token(ps, v->key, v->text, v->col, &t) < 0)
        return -1;
    return policy_ifname(ps, v->key, &t, field(ps, k->field));
}

static int set_prefixes(struct parser *ps, const struct key *k, const struct value *v)
{
    return policy_prefix_list(ps, v->key, v->text, v->col, field(ps, k->field));
}

static int set_string(struct parser *ps, const struct key *k, const struct value *v)
{
    return policy_string(ps, v->key, v->text, v->col, field(ps, k->field));
}

static int set_words(struct parser *ps, const struct key *k, const struct value *v)
{
    return policy_word_list(ps, v->key, v->text, v->col, k->extra, field(ps, k->field),
                            field(ps, k->count));
}

static const char *scenario_name(int i)
{
    return xg_scenario_name((enum xg_scenario)i);
}

static const char *transport_name(int i)
{
    return xg_transport_name((enum xg_transport)i);
}

static int set_scenario(struct parser *ps, const struct key *k, const struct value *v)
{
    int i;
    (void)k;
    if (policy_keyword(ps, v->key, v->text, v->col, scenario_name, 3, &i) < 0)
        return -1;
    ps->p->scenario = (enum xg_scenario)i;
    return 0;
}

static int set_transport(struct parser *ps, const struct key *k, const struct value *v)
{
    int i;
    (void)k;
    if (policy_keyword(ps, v->key, v->text, v->col, transport_name, 4, &i) < 0)
        return -1;
    ps->p->transport = (enum xg_transport)i;
    return 0;
}

static int set_macs(struct parser *ps, const struct key *k, const struct value *v)
{
    (void)k;
    return policy_macs(ps, v->key, v->text, v->col);
}

static int set_ports(struct parser *ps, const struct key *k, const struct value *v)
{
    (void)k;
    return policy_port_patterns(ps, v->key, v->text, v->col);
}

static int set_fingerprints(struct parser *ps, const struct key *k, const struct value *v)
{
    (void)k;
    return policy_fingerprints(ps, v->key, v->text, v->col);
}

static int set_service(struct parser *ps, const struct key *k, const struct value *v)
{
    (void)k;
    return policy_service(ps, v->key, v->key_col, v->text, v->col);
}

#define F(member) offsetof(struct xg_policy, member)

/* Every key of the file, in the order `unknown key` messages list them. */
static const struct key keys[] = {
    {SEC_HOST, "scenario", set_scenario, .loc = F(scenario_loc)},
    {SEC_HOST, "public-interface", set_ifname, F(public_if), .loc = F(public_if_loc)},
    {SEC_HOST, "management-interface", set_ifname, F(management_if), .loc = F(management_if_loc)},
    {SEC_HOST, "gateway-mac", set_macs, .loc = F(gateway_mac_loc)},
    {SEC_HOST, "icmp-echo", set_bool, F(icmp_echo)},
    {SEC_HOST, "log-rejects", set_bool, F(log_rejects)},
    {SEC_HOST, "addresses", set_prefixes, F(addresses), .loc = F(addresses_loc)},
    {SEC_CLUSTER, "peers", set_prefixes, F(peers), .loc = F(peers_loc)},
    {SEC_CLUSTER, "networks", set_prefixes, F(networks)},
    {SEC_MIGRATION, "transport", set_transport, .loc = F(transport_loc)},
    {SEC_MIGRATION, "port", set_port, F(migration_port)},
    {SEC_ADMIN, "ssh-from", set_prefixes, F(ssh_from)},
    {SEC_ADMIN, "ssh-port", set_port, F(ssh_port)},
    {SEC_ADMIN, "users", set_words, F(admin_users), F(admin_user_count), .extra = ""},
    {SEC_ALLOW, NULL, set_service},
    {SEC_GUESTS, "ports", set_ports, .loc = F(guests.ports_loc)},
    {SEC_GUESTS, "protect", set_bool, F(guests.protect), .loc = F(guests.protect_loc)},
    {SEC_GUESTS, "require-addresses", set_bool, F(guests.require_addresses)},
    {SEC_TUNNEL, "ca", set_string, F(tunnel.ca)},
    {SEC_TUNNEL, "cert", set_string, F(tunnel.cert)},
    {SEC_TUNNEL, "key", set_string, F(tunnel.key)},
    {SEC_TUNNEL, "peer-names", set_words, F(tunnel.peer_names), F(tunnel.peer_name_count),
     .extra = "*"},
    {SEC_TUNNEL, "peer-fingerprints", set_fingerprints},
    {SEC_TUNNEL, "receive-command", set_string, F(tunnel.receive_command)},
    {SEC_TUNNEL, "max-sessions", set_uint, F(tunnel.max_sessions), .max = 1024},
    {SEC_TUNNEL, "handshake-timeout", set_uint, F(tunnel.handshake_timeout), .max = 3600},
    {SEC_TUNNEL, "idle-timeout", set_uint, F(tunnel.idle_timeout), .max = 86400},
};

#undef F

static int unknown_key(struct parser *ps, const struct value *v)
{
    char known[256] = "";
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].section == ps->section && keys[i].name)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     known[0] ? ", " : "", keys[i].name);
    return policy_fail(ps, v->key_col, (unsigned)strlen(v->key),
                       "unknown key '%s' in [%s] (known: %s)", v->key, section_names[ps->section],
                       known);
}

static int set_key(struct parser *ps, const struct value *v)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        if (k->section != ps->section || (k->name && strcmp(k->name, v->key)))
            continue;
        if (k->set(ps, k, v) < 0)
            return -1;
        if (k->loc)
            *(struct xg_loc *)field(ps, k->loc) =
                (struct xg_loc){ps->line, v->col, (unsigned)strlen(v->text)};
        return 0;
    }
    return unknown_key(ps, v);
}

/* ---------- lines ---------- */

static int remember_key(struct parser *ps, const char *key, unsigned col)
{
    char full[80];
    snprintf(full, sizeof(full), "%s.%s", section_names[ps->section], key);
    for (size_t i = 0; i < ps->seen_count; i++)
        if (!strcmp(ps->seen_keys[i], full))
            return policy_fail(ps, col, (unsigned)strlen(key),
                               "duplicate key '%s' (first set at line %u)", key, ps->seen_lines[i]);
    void *k = realloc(ps->seen_keys, (ps->seen_count + 1) * sizeof(*ps->seen_keys));
    if (!k)
        return policy_oom(ps);
    ps->seen_keys = k;
    void *l = realloc(ps->seen_lines, (ps->seen_count + 1) * sizeof(*ps->seen_lines));
    if (!l)
        return policy_oom(ps);
    ps->seen_lines = l;
    snprintf(ps->seen_keys[ps->seen_count], sizeof(ps->seen_keys[0]), "%s", full);
    ps->seen_lines[ps->seen_count++] = ps->line;
    return 0;
}

static int parse_section_header(struct parser *ps, char *s, unsigned col)
{
    char *end = strchr(s, ']');
    char *rest;
    if (!end)
        return policy_fail(ps, col, (unsigned)strlen(s), "section header '%s' has no closing ']'",
                           s);
    for (rest = end + 1; *rest; rest++)
        if (!isspace((unsigned char)*rest))
            return policy_fail(ps, col + (unsigned)(rest - s), (unsigned)strlen(rest),
                               "unexpected '%s' after section header", rest);
    *end = '\0';
    for (int i = SEC_HOST; i < SEC_COUNT; i++) {
        if (!strcmp(s + 1, section_names[i])) {
            if (ps->section_line[i])
                return policy_fail(ps, col, (unsigned)(end - s) + 1,
                                   "section [%s] appears twice (first at line %u)",
                                   section_names[i], ps->section_line[i]);
            ps->section = (enum section)i;
            ps->section_line[i] = ps->line;
            return 0;
        }
    }
    return policy_fail(
        ps, col + 1, (unsigned)(end - s) - 1,
        "unknown section [%s] (known: host, cluster, migration, admin, allow, tunnel, "
        "guests)",
        s + 1);
}

/* Cut a comment: '#' at the line start, after a blank or right after the '='
 * (so no value can begin with '#': the printer could not write it). */
static void cut_comment(char *line)
{
    for (char *hash = line; (hash = strchr(hash, '#')); hash++) {
        if (hash == line || isspace((unsigned char)hash[-1]) || hash[-1] == '=') {
            *hash = '\0';
            return;
        }
    }
}

static int parse_line(struct parser *ps, char *line)
{
    char *s = line, *eq, *key_end, *value;
    unsigned col;

    cut_comment(line);
    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    col = (unsigned)(s - line) + 1;
    for (char *e = s + strlen(s); e > s && isspace((unsigned char)e[-1]);)
        *--e = '\0';
    if (*s == '[')
        return parse_section_header(ps, s, col);

    eq = strchr(s, '=');
    if (!eq)
        return policy_fail(ps, col, (unsigned)strlen(s),
                           "expected 'key = value' or '[section]', found '%s'", s);
    key_end = eq;
    while (key_end > s && isspace((unsigned char)key_end[-1]))
        key_end--;
    if (key_end == s)
        return policy_fail(ps, col, 1, "missing key before '='");
    *key_end = '\0';
    for (char *c = s; *c; c++)
        if (isspace((unsigned char)*c))
            return policy_fail(ps, col, (unsigned)strlen(s), "key '%s' contains a blank", s);
    value = eq + 1;
    while (*value && isspace((unsigned char)*value))
        value++;

    if (ps->section == SEC_NONE)
        return policy_fail(ps, col, (unsigned)strlen(s),
                           "key '%s' is outside any section (start with [host])", s);
    if (remember_key(ps, s, col) < 0)
        return -1;
    return set_key(ps, &(struct value){s, value, col, (unsigned)(value - line) + 1});
}

/* ---------- the file ---------- */

static void set_defaults(struct xg_policy *p)
{
    p->scenario = XG_SCENARIO_FIREWALLED_SUBNET;
    p->transport = XG_TRANSPORT_OFF;
    p->migration_port = 8002;
    p->ssh_port = 22;
    p->icmp_echo = true;
    p->log_rejects = true;
    p->tunnel.max_sessions = 4;
    p->tunnel.handshake_timeout = 10;
    p->tunnel.idle_timeout = 60;
    p->guests.protect = true;
}

/* A NUL byte is refused where it is: the line reader works on C strings. */
static int check_nul(struct parser *ps, const char *text, size_t len)
{
    const char *nul = memchr(text, '\0', len);
    unsigned line_no = 1, col = 1;
    if (!nul)
        return 0;
    for (const char *c = text; c < nul; c++, col++)
        if (*c == '\n')
            line_no++, col = 0;
    return xg_fail_src(ps->err, &ps->src, line_no, col, 1, "NUL byte in policy file");
}

int xg_policy_parse(const char *text, size_t len, const char *path, struct xg_policy *out,
                    struct xg_warnings *warnings, struct xg_err *err)
{
    struct parser ps = {.src = {path, text, len}, .p = out, .warnings = warnings, .err = err};
    const char *s = text, *end = text + len;
    char *line = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    set_defaults(out);
    if (!(out->path = strdup(path)))
        return xg_fail(err, "out of memory");
    if ((rc = check_nul(&ps, text, len)) < 0)
        goto done;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        char *grown = realloc(line, n + 1);
        if (!grown) {
            rc = xg_fail(err, "out of memory");
            goto done;
        }
        line = grown;
        memcpy(line, s, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        ps.line++;
        if ((rc = parse_line(&ps, line)) < 0)
            goto done;
        s = nl ? nl + 1 : end;
    }
    ps.line = 0;
    rc = policy_validate(&ps);
done:
    free(line);
    free(ps.seen_keys);
    free(ps.seen_lines);
    if (rc < 0)
        xg_policy_free(out);
    return rc;
}

int xg_policy_load(const char *path, struct xg_policy *out, struct xg_warnings *warnings,
                   struct xg_err *err)
{
    char *text;
    size_t len;
    int rc;

    memset(out, 0, sizeof(*out));
    if (xg_file_read_input(path, MAX_POLICY_BYTES, &text, &len, err) < 0)
        return -1;
    rc = xg_policy_parse(text, len, strcmp(path, "-") ? path : "<stdin>", out, warnings, err);
    free(text);
    return rc;
}
