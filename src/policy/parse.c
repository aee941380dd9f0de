/*
 * parse.c — the policy file (INI) -> struct xg_policy.
 *
 * Two passes over plain data. The first reads lines into the struct, one
 * small parse_<thing>() per value type, each naming the offending token
 * with FILE:LINE:COL (wireguard-tools' config.c habit). The second,
 * validate(), checks what only the whole file can tell: required keys,
 * scenarios that contradict themselves (isolated-management without a
 * distinct management NIC; relocation on an untrusted subnet), interfaces
 * in conflicting roles. Strict by design: an unknown key or section, a
 * duplicate key or a prefix with host bits set is an error, because a
 * firewall that silently ignores half a line is worse than none.
 */
#include "policy/policy.h"

#include "util/file.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POLICY_BYTES (1u << 20)

enum section {
    SEC_NONE,
    SEC_HOST,
    SEC_CLUSTER,
    SEC_MIGRATION,
    SEC_ADMIN,
    SEC_ALLOW,
    SEC_TUNNEL,
    SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
    [SEC_NONE] = "",           [SEC_HOST] = "host",
    [SEC_CLUSTER] = "cluster", [SEC_MIGRATION] = "migration",
    [SEC_ADMIN] = "admin",     [SEC_ALLOW] = "allow",
    [SEC_TUNNEL] = "tunnel",
};

/* A token of a value: its text (NUL-terminated copy) and its column. */
struct token {
    char text[256];
    unsigned col;
};

/* Everything the parser carries from line to line. */
struct parser {
    const char *path;
    struct xg_policy *p;
    struct xg_warnings *warnings;
    struct xg_err *err;
    enum section section;
    unsigned section_line[SEC_COUNT];
    unsigned line;
    /* keys seen so far: "section.key" -> line, for duplicate detection */
    char (*seen_keys)[80];
    unsigned *seen_lines;
    size_t seen_count;
    bool scenario_set, public_set, management_set;
};

/* ---------- small value parsers ---------- */

static int fail(struct parser *ps, unsigned col, const char *fmt, const char *a, const char *b)
{
    return xg_fail_at(ps->err, ps->path, ps->line, col, fmt, a, b);
}

/* Split `value` (starting at column `col`) into tokens separated by blanks
 * (and commas, when `commas`). Returns a malloc'd array (free it) and sets
 * *count; NULL only when memory runs out. */
static struct token *tokenize(const char *value, unsigned col, bool commas, size_t *count)
{
    size_t n = 0, cap = 0;
    struct token *toks = NULL;
    const char *s = value;
#define XG_IS_SEP(c) (isspace((unsigned char)(c)) || (commas && (c) == ','))
    for (;;) {
        while (*s && XG_IS_SEP(*s))
            s++;
        if (!*s)
            break;
        if (n == cap) {
            struct token *grown = realloc(toks, (cap = cap ? cap * 2 : 8) * sizeof(*grown));
            if (!grown) {
                free(toks);
                return NULL;
            }
            toks = grown;
        }
        size_t len = 0;
        toks[n].col = col + (unsigned)(s - value);
        while (s[len] && !XG_IS_SEP(s[len]))
            len++;
        snprintf(toks[n].text, sizeof(toks[n].text), "%.*s", (int)len, s);
        s += len;
        n++;
    }
#undef XG_IS_SEP
    *count = n;
    return toks ? toks : calloc(1, sizeof(*toks));
}

static int parse_u16(struct parser *ps, const char *key, const struct token *t, uint16_t *out)
{
    char *end;
    unsigned long v;
    errno = 0;
    if (!isdigit((unsigned char)t->text[0]))
        return fail(ps, t->col, "%s: '%s' is not a port number (1-65535)", key, t->text);
    v = strtoul(t->text, &end, 10);
    if (errno || *end || v < 1 || v > 65535)
        return fail(ps, t->col, "%s: port '%s' is out of range (1-65535)", key, t->text);
    *out = (uint16_t)v;
    return 0;
}

static int parse_uint(struct parser *ps, const char *key, const struct token *t, unsigned max,
                      unsigned *out)
{
    char *end;
    unsigned long v;
    errno = 0;
    if (!isdigit((unsigned char)t->text[0]))
        return fail(ps, t->col, "%s: '%s' is not a number", key, t->text);
    v = strtoul(t->text, &end, 10);
    if (errno || *end || v > max)
        return xg_fail_at(ps->err, ps->path, ps->line, t->col, "%s: '%s' is out of range (0-%u)",
                          key, t->text, max);
    *out = (unsigned)v;
    return 0;
}

static int parse_bool(struct parser *ps, const char *key, const struct token *t, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(t->text, yes[i]))
            return *out = true, 0;
        if (!strcmp(t->text, no[i]))
            return *out = false, 0;
    }
    return fail(ps, t->col, "%s: '%s' is not yes or no", key, t->text);
}

static int parse_ifname(struct parser *ps, const char *key, const struct token *t, char *out)
{
    size_t len = strlen(t->text);
    if (len == 0 || len >= XG_IFNAMSIZ)
        return fail(ps, t->col, "%s: interface name '%s' must be 1 to 15 characters", key, t->text);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t->text[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != '@')
            return fail(ps, t->col, "%s: '%s' is not a valid interface name", key, t->text);
    }
    if (!strcmp(t->text, "lo"))
        return fail(ps, t->col,
                    "%s: '%s' is loopback, which is always allowed and cannot take "
                    "another role",
                    key, t->text);
    memcpy(out, t->text, len + 1);
    return 0;
}

static int parse_prefix(struct parser *ps, const char *key, const struct token *t,
                        struct xg_prefix *out)
{
    char why[192];
    if (xg_prefix_parse(t->text, XG_PREFIX_STRICT, out, why, sizeof(why)) < 0)
        return xg_fail_at(ps->err, ps->path, ps->line, t->col, "%s: %s", key, why);
    return 0;
}

static int parse_prefix_list(struct parser *ps, const char *key, const char *value, unsigned col,
                             struct xg_prefix_list *out)
{
    size_t n;
    struct token *toks = tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return xg_fail(ps->err, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct xg_prefix pfx;
        if ((rc = parse_prefix(ps, key, &toks[i], &pfx)) < 0)
            break;
        for (size_t j = 0; j < out->count; j++) {
            if (xg_prefix_overlaps(&out->items[j], &pfx)) {
                char a[XG_PREFIX_STRLEN], b[XG_PREFIX_STRLEN];
                xg_prefix_format(&out->items[j], true, a);
                xg_prefix_format(&pfx, true, b);
                if (xg_prefix_equal(&out->items[j], &pfx)) {
                    rc = fail(ps, toks[i].col, "%s: '%s' is listed twice", key, b);
                    break;
                }
                xg_warn_at(ps->warnings, ps->path, ps->line, toks[i].col,
                           "%s: %s overlaps %s listed before it", key, b, a);
            }
        }
        if (rc == 0 && xg_prefix_list_add(out, &pfx) < 0)
            rc = xg_fail(ps->err, "out of memory");
    }
    free(toks);
    return rc;
}

/* Words of a list: account names (POSIX portable: letters, digits, '.', '_',
 * '-', not first) or certificate names (also '*' and ':'). */
static bool word_ok(const char *w, const char *extra)
{
    if (!*w || *w == '-' || strlen(w) > 253)
        return false;
    for (; *w; w++)
        if (!isalnum((unsigned char)*w) && !strchr("._-", *w) && !strchr(extra, *w))
            return false;
    return true;
}

static int parse_word_list(struct parser *ps, const char *key, const char *value, unsigned col,
                           const char *extra, char ***out, size_t *count)
{
    size_t n;
    struct token *toks = tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return xg_fail(ps->err, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!word_ok(toks[i].text, extra)) {
            rc = fail(ps, toks[i].col, "%s: '%s' is not a valid name", key, toks[i].text);
            break;
        }
        char **grown = realloc(*out, (*count + 1) * sizeof(*grown));
        if (!grown || !(grown[*count] = strdup(toks[i].text))) {
            if (grown)
                *out = grown;
            rc = xg_fail(ps->err, "out of memory");
            break;
        }
        *out = grown;
        (*count)++;
    }
    free(toks);
    return rc;
}

static int parse_string(struct parser *ps, const char *key, const char *value, unsigned col,
                        char **out)
{
    if (!*value)
        return fail(ps, col, "%s: needs a value%s", key, "");
    free(*out);
    if (!(*out = strdup(value)))
        return xg_fail(ps->err, "out of memory");
    return 0;
}

/* "02:00:00:00:00:01 ..." — the gateways' link-layer addresses */
static int parse_macs(struct parser *ps, const char *key, const char *value, unsigned col)
{
    size_t n;
    struct token *toks = tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return xg_fail(ps->err, "out of memory");
    if (!n)
        rc = fail(ps, col, "%s: needs at least one MAC address%s", key, "");
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned b[6];
        char tail;
        uint8_t *mac = ps->p->gateway_macs[ps->p->gateway_mac_count];
        if (ps->p->gateway_mac_count == XG_MAX_MACS) {
            rc = fail(ps, toks[i].col, "%s: at most 8 MAC addresses%s", key, "");
            break;
        }
        if (strlen(toks[i].text) != 17 || sscanf(toks[i].text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0],
                                                 &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6) {
            rc = fail(ps, toks[i].col, "%s: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", key,
                      toks[i].text);
            break;
        }
        for (int k = 0; k < 6; k++)
            mac[k] = (uint8_t)b[k];
        for (size_t j = 0; j < ps->p->gateway_mac_count; j++)
            if (!memcmp(ps->p->gateway_macs[j], mac, 6))
                rc = fail(ps, toks[i].col, "%s: '%s' is listed twice", key, toks[i].text);
        ps->p->gateway_mac_count++;
    }
    free(toks);
    return rc;
}

/* "123", "80,443", "6000-6010" */
static int parse_ports(struct parser *ps, const char *name, const struct token *t,
                       struct xg_service *svc)
{
    char copy[256];
    char *save = NULL;
    snprintf(copy, sizeof(copy), "%s", t->text);
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        struct token pt = {.col = t->col + (unsigned)(part - copy)};
        char *dash = strchr(part, '-');
        uint16_t lo, hi;
        if (svc->port_count == sizeof(svc->ports) / sizeof(svc->ports[0]))
            return fail(ps, pt.col, "%s: at most 16 ports or ranges per service%s", name, "");
        if (dash)
            *dash = '\0';
        snprintf(pt.text, sizeof(pt.text), "%s", part);
        if (parse_u16(ps, name, &pt, &lo) < 0)
            return -1;
        hi = lo;
        if (dash) {
            struct token ht = {.col = pt.col + (unsigned)(dash + 1 - part)};
            snprintf(ht.text, sizeof(ht.text), "%s", dash + 1);
            if (parse_u16(ps, name, &ht, &hi) < 0)
                return -1;
            if (hi < lo)
                return fail(ps, pt.col, "%s: port range '%s' ends before it starts", name, t->text);
        }
        svc->ports[svc->port_count].lo = lo;
        svc->ports[svc->port_count].hi = hi;
        svc->port_count++;
    }
    if (!svc->port_count)
        return fail(ps, t->col, "%s: '%s' names no port", name, t->text);
    return 0;
}

/* NAME = PROTO/PORTS from ADDR... [on IFACE] */
static int parse_service(struct parser *ps, const char *name, unsigned name_col, const char *value,
                         unsigned col)
{
    struct xg_service svc = {0};
    struct xg_service *grown;
    size_t n, i;
    struct token *toks;
    char *slash;
    int rc = -1;

    if (strlen(name) >= sizeof(svc.name))
        return fail(ps, name_col, "service name '%s' is longer than 47 characters%s", name, "");
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return fail(ps, name_col,
                        "service name '%s' may hold only letters, digits, '-' and "
                        "'_'%s",
                        name, "");
    snprintf(svc.name, sizeof(svc.name), "%s", name);
    svc.loc.line = ps->line;
    svc.loc.col = name_col;
    if (!(toks = tokenize(value, col, false, &n)))
        return xg_fail(ps->err, "out of memory");
    if (n < 3) {
        fail(ps, col, "%s: expected 'PROTO/PORTS from ADDR...' (e.g. 'udp/123 from 192.0.2.1')%s",
             name, "");
        goto fail;
    }
    slash = strchr(toks[0].text, '/');
    if (!slash) {
        fail(ps, toks[0].col, "%s: '%s' is not PROTO/PORTS (e.g. tcp/443)", name, toks[0].text);
        goto fail;
    }
    *slash = '\0';
    if (!strcmp(toks[0].text, "tcp")) {
        svc.proto = IPPROTO_TCP;
    } else if (!strcmp(toks[0].text, "udp")) {
        svc.proto = IPPROTO_UDP;
    } else {
        fail(ps, toks[0].col, "%s: protocol '%s' is not tcp or udp", name, toks[0].text);
        goto fail;
    }
    {
        struct token pt = {.col = toks[0].col + (unsigned)(slash + 1 - toks[0].text)};
        snprintf(pt.text, sizeof(pt.text), "%s", slash + 1);
        if (parse_ports(ps, name, &pt, &svc) < 0)
            goto fail;
    }
    if (strcmp(toks[1].text, "from")) {
        fail(ps, toks[1].col, "%s: expected 'from' after the ports, found '%s'", name,
             toks[1].text);
        goto fail;
    }
    for (i = 2; i < n && strcmp(toks[i].text, "on"); i++) {
        struct xg_prefix pfx;
        if (!strcmp(toks[i].text, "any")) {
            svc.from_any = true;
            continue;
        }
        if (parse_prefix(ps, name, &toks[i], &pfx) < 0)
            goto fail;
        if (xg_prefix_list_add(&svc.from, &pfx) < 0)
            goto oom;
    }
    if (!svc.from_any && !svc.from.count) {
        fail(ps, i < n ? toks[i].col : col, "%s: 'from' needs addresses or 'any'%s", name, "");
        goto fail;
    }
    if (svc.from_any && svc.from.count) {
        fail(ps, toks[2].col,
             "%s: 'any' already covers every address; list either 'any' or "
             "addresses%s",
             name, "");
        goto fail;
    }
    if (i < n) {
        if (i + 2 != n) {
            fail(ps, toks[i].col, "%s: 'on' takes exactly one interface%s", name, "");
            goto fail;
        }
        if (parse_ifname(ps, name, &toks[i + 1], svc.iface) < 0)
            goto fail;
    }
    grown = realloc(ps->p->services, (ps->p->service_count + 1) * sizeof(*grown));
    if (!grown)
        goto oom;
    ps->p->services = grown;
    grown[ps->p->service_count++] = svc;
    free(toks);
    return 0;
oom:
    xg_fail(ps->err, "out of memory");
fail:
    xg_prefix_list_free(&svc.from);
    free(toks);
    return rc;
}

/* ---------- keys ---------- */

static int single_token(struct parser *ps, const char *key, const char *value, unsigned col,
                        struct token *t)
{
    size_t n;
    struct token *toks = tokenize(value, col, false, &n);
    int rc = 0;
    if (!toks)
        return xg_fail(ps->err, "out of memory");
    if (n == 0)
        rc = fail(ps, col, "%s: needs a value%s", key, "");
    else if (n != 1)
        rc = fail(ps, toks[1].col, "%s: takes one value, found extra '%s'", key, toks[1].text);
    else
        *t = toks[0];
    free(toks);
    return rc;
}

/* A keyword value: one token that must be one of `names` (indexed by enum value). */
static int parse_keyword(struct parser *ps, const char *key, const char *value, unsigned col,
                         const char *(*name_of)(int), int count, int *out, struct token *t)
{
    char known[160] = "";
    if (single_token(ps, key, value, col, t) < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        if (!strcmp(t->text, name_of(i)))
            return *out = i, 0;
        snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
                 name_of(i));
    }
    return xg_fail_at(ps->err, ps->path, ps->line, t->col, "%s: '%s' is not one of %s", key,
                      t->text, known);
}

static const char *scenario_name(int i)
{
    return xg_scenario_name((enum xg_scenario)i);
}

static const char *transport_name(int i)
{
    return xg_transport_name((enum xg_transport)i);
}

static int set_host(struct parser *ps, const char *key, const char *value, unsigned col,
                    unsigned key_col)
{
    struct xg_policy *p = ps->p;
    struct token t;
    if (!strcmp(key, "scenario")) {
        int v;
        if (parse_keyword(ps, key, value, col, scenario_name, 3, &v, &t) < 0)
            return -1;
        p->scenario = (enum xg_scenario)v;
        ps->scenario_set = true;
        p->scenario_loc = (struct xg_loc){ps->line, t.col};
        return 0;
    }
    if (!strcmp(key, "public-interface")) {
        if (single_token(ps, key, value, col, &t) < 0 || parse_ifname(ps, key, &t, p->public_if))
            return -1;
        ps->public_set = true;
        p->public_if_loc = (struct xg_loc){ps->line, t.col};
        return 0;
    }
    if (!strcmp(key, "management-interface")) {
        if (single_token(ps, key, value, col, &t) < 0 ||
            parse_ifname(ps, key, &t, p->management_if))
            return -1;
        ps->management_set = true;
        p->management_if_loc = (struct xg_loc){ps->line, t.col};
        return 0;
    }
    if (!strcmp(key, "gateway-mac")) {
        p->gateway_mac_loc = (struct xg_loc){ps->line, col};
        return parse_macs(ps, key, value, col);
    }
    if (!strcmp(key, "icmp-echo"))
        return single_token(ps, key, value, col, &t) ? -1 : parse_bool(ps, key, &t, &p->icmp_echo);
    if (!strcmp(key, "log-rejects"))
        return single_token(ps, key, value, col, &t) ? -1
                                                     : parse_bool(ps, key, &t, &p->log_rejects);
    return fail(ps, key_col,
                "unknown key '%s' in [host] (known: scenario, public-interface, "
                "management-interface, gateway-mac, icmp-echo, log-rejects)%s",
                key, "");
}

static int set_cluster(struct parser *ps, const char *key, const char *value, unsigned col,
                       unsigned key_col)
{
    if (!strcmp(key, "peers")) {
        ps->p->peers_loc = (struct xg_loc){ps->line, col};
        return parse_prefix_list(ps, key, value, col, &ps->p->peers);
    }
    if (!strcmp(key, "networks"))
        return parse_prefix_list(ps, key, value, col, &ps->p->networks);
    return fail(ps, key_col, "unknown key '%s' in [cluster] (known: peers, networks)%s", key, "");
}

static int set_migration(struct parser *ps, const char *key, const char *value, unsigned col,
                         unsigned key_col)
{
    struct xg_policy *p = ps->p;
    struct token t;
    if (!strcmp(key, "transport")) {
        int v;
        if (parse_keyword(ps, key, value, col, transport_name, 4, &v, &t) < 0)
            return -1;
        p->transport = (enum xg_transport)v;
        p->transport_loc = (struct xg_loc){ps->line, t.col};
        return 0;
    }
    if (!strcmp(key, "port"))
        return single_token(ps, key, value, col, &t) ? -1
                                                     : parse_u16(ps, key, &t, &p->migration_port);
    return fail(ps, key_col, "unknown key '%s' in [migration] (known: transport, port)%s", key, "");
}

static int set_admin(struct parser *ps, const char *key, const char *value, unsigned col,
                     unsigned key_col)
{
    struct xg_policy *p = ps->p;
    struct token t;
    if (!strcmp(key, "ssh-from"))
        return parse_prefix_list(ps, key, value, col, &p->ssh_from);
    if (!strcmp(key, "ssh-port"))
        return single_token(ps, key, value, col, &t) ? -1 : parse_u16(ps, key, &t, &p->ssh_port);
    if (!strcmp(key, "users"))
        return parse_word_list(ps, key, value, col, "", &p->admin_users, &p->admin_user_count);
    return fail(ps, key_col, "unknown key '%s' in [admin] (known: ssh-from, ssh-port, users)%s",
                key, "");
}

static int set_tunnel(struct parser *ps, const char *key, const char *value, unsigned col,
                      unsigned key_col)
{
    struct xg_tunnel_conf *tc = &ps->p->tunnel;
    struct token t;
    if (!strcmp(key, "ca"))
        return parse_string(ps, key, value, col, &tc->ca);
    if (!strcmp(key, "cert"))
        return parse_string(ps, key, value, col, &tc->cert);
    if (!strcmp(key, "key"))
        return parse_string(ps, key, value, col, &tc->key);
    if (!strcmp(key, "receive-command"))
        return parse_string(ps, key, value, col, &tc->receive_command);
    if (!strcmp(key, "peer-names"))
        return parse_word_list(ps, key, value, col, "*", &tc->peer_names, &tc->peer_name_count);
    if (!strcmp(key, "peer-fingerprints")) {
        size_t n;
        struct token *toks = tokenize(value, col, true, &n);
        int rc = 0;
        if (!toks)
            return xg_fail(ps->err, "out of memory");
        for (size_t i = 0; i < n && rc == 0; i++) {
            const char *hex = toks[i].text + 7;
            size_t hexlen = strlen(toks[i].text) >= 7 ? strlen(hex) : 0;
            bool ok = !strncmp(toks[i].text, "sha256:", 7);
            for (size_t j = 0; ok && j < hexlen; j++)
                ok = isxdigit((unsigned char)hex[j]) || hex[j] == ':';
            if (!ok || hexlen < 64)
                rc = fail(ps, toks[i].col,
                          "peer-fingerprints: '%s' is not sha256:HEX (64 hex digits)%s",
                          toks[i].text, "");
        }
        free(toks);
        if (rc < 0)
            return rc;
        return parse_word_list(ps, key, value, col, ":", &tc->peer_fingerprints,
                               &tc->peer_fingerprint_count);
    }
    if (!strcmp(key, "max-sessions"))
        return single_token(ps, key, value, col, &t)
                   ? -1
                   : parse_uint(ps, key, &t, 1024, &tc->max_sessions);
    if (!strcmp(key, "handshake-timeout"))
        return single_token(ps, key, value, col, &t)
                   ? -1
                   : parse_uint(ps, key, &t, 3600, &tc->handshake_timeout);
    if (!strcmp(key, "idle-timeout"))
        return single_token(ps, key, value, col, &t)
                   ? -1
                   : parse_uint(ps, key, &t, 86400, &tc->idle_timeout);
    return fail(ps, key_col,
                "unknown key '%s' in [tunnel] (known: ca, cert, key, peer-names, "
                "peer-fingerprints, receive-command, max-sessions, handshake-timeout, "
                "idle-timeout)%s",
                key, "");
}

/* ---------- lines ---------- */

static int remember_key(struct parser *ps, const char *key, unsigned col)
{
    char full[80];
    snprintf(full, sizeof(full), "%s.%s", section_names[ps->section], key);
    for (size_t i = 0; i < ps->seen_count; i++) {
        if (!strcmp(ps->seen_keys[i], full)) {
            char first[32];
            snprintf(first, sizeof(first), "%u", ps->seen_lines[i]);
            return fail(ps, col, "duplicate key '%s' (first set at line %s)", key, first);
        }
    }
    void *k = realloc(ps->seen_keys, (ps->seen_count + 1) * sizeof(*ps->seen_keys));
    if (!k)
        return xg_fail(ps->err, "out of memory");
    ps->seen_keys = k;
    void *l = realloc(ps->seen_lines, (ps->seen_count + 1) * sizeof(*ps->seen_lines));
    if (!l)
        return xg_fail(ps->err, "out of memory");
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
        return fail(ps, col, "section header '%s' has no closing ']'%s", s, "");
    for (rest = end + 1; *rest; rest++)
        if (!isspace((unsigned char)*rest))
            return fail(ps, col + (unsigned)(rest - s), "unexpected '%s' after section header%s",
                        rest, "");
    *end = '\0';
    for (int i = SEC_HOST; i < SEC_COUNT; i++) {
        if (!strcmp(s + 1, section_names[i])) {
            if (ps->section_line[i]) {
                char first[32];
                snprintf(first, sizeof(first), "%u", ps->section_line[i]);
                return fail(ps, col, "section [%s] appears twice (first at line %s)",
                            section_names[i], first);
            }
            ps->section = (enum section)i;
            ps->section_line[i] = ps->line;
            return 0;
        }
    }
    return fail(ps, col + 1,
                "unknown section [%s] (known: host, cluster, migration, admin, allow, tunnel)%s",
                s + 1, "");
}

static int parse_line(struct parser *ps, char *line)
{
    char *s = line, *eq, *key_end, *value, *hash;
    unsigned col, key_col, value_col;

    /* a comment starts at '#' at the line start, after a blank or right after
     * the '=' (so no value can begin with '#': the printer could not write it) */
    for (hash = line; (hash = strchr(hash, '#')); hash++) {
        if (hash == line || isspace((unsigned char)hash[-1]) || hash[-1] == '=') {
            *hash = '\0';
            break;
        }
    }
    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    col = (unsigned)(s - line) + 1;
    {
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
    }
    if (*s == '[')
        return parse_section_header(ps, s, col);

    eq = strchr(s, '=');
    if (!eq)
        return fail(ps, col, "expected 'key = value' or '[section]', found '%s'%s", s, "");
    key_col = col;
    key_end = eq;
    while (key_end > s && isspace((unsigned char)key_end[-1]))
        key_end--;
    if (key_end == s)
        return fail(ps, col, "missing key before '='%s%s", "", "");
    *key_end = '\0';
    for (char *c = s; *c; c++)
        if (isspace((unsigned char)*c))
            return fail(ps, key_col, "key '%s' contains a blank%s", s, "");
    value = eq + 1;
    while (*value && isspace((unsigned char)*value))
        value++;
    value_col = (unsigned)(value - line) + 1;

    if (ps->section == SEC_NONE)
        return fail(ps, key_col, "key '%s' is outside any section (start with [host])%s", s, "");
    if (remember_key(ps, s, key_col) < 0)
        return -1;
    switch (ps->section) {
    case SEC_HOST:
        return set_host(ps, s, value, value_col, key_col);
    case SEC_CLUSTER:
        return set_cluster(ps, s, value, value_col, key_col);
    case SEC_MIGRATION:
        return set_migration(ps, s, value, value_col, key_col);
    case SEC_ADMIN:
        return set_admin(ps, s, value, value_col, key_col);
    case SEC_ALLOW:
        return parse_service(ps, s, key_col, value, value_col);
    case SEC_TUNNEL:
        return set_tunnel(ps, s, value, value_col, key_col);
    default:
        return -1;
    }
}

/* ---------- whole-file checks ---------- */

static int fail_loc(struct parser *ps, struct xg_loc loc, const char *fmt, const char *a,
                    const char *b)
{
    return xg_fail_at(ps->err, ps->path, loc.line, loc.col, fmt, a, b);
}

static void warn_outside_networks(struct parser *ps, const struct xg_prefix_list *list,
                                  const char *what)
{
    const struct xg_policy *p = ps->p;
    if (!p->networks.count)
        return;
    for (size_t i = 0; i < list->count; i++) {
        if (!xg_prefix_list_covers(&p->networks, &list->items[i])) {
            char a[XG_PREFIX_STRLEN];
            xg_prefix_format(&list->items[i], true, a);
            xg_warn_at(ps->warnings, ps->path, 0, 0, "%s %s is outside [cluster] networks%s", what,
                       a,
                       p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT
                           ? ": the management interface drops it as spoofed"
                           : "");
        }
    }
}

static int validate(struct parser *ps)
{
    struct xg_policy *p = ps->p;
    const char *scen = xg_scenario_name(p->scenario);

    if (!ps->scenario_set)
        return xg_fail_at(ps->err, ps->path, 0, 0,
                          "[host] scenario is required (isolated-management, firewalled-subnet "
                          "or untrusted)");
    if (!ps->public_set)
        return xg_fail_at(ps->err, ps->path, 0, 0, "[host] public-interface is required");

    if (p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT) {
        if (!ps->management_set)
            return fail_loc(ps, p->scenario_loc,
                            "scenario %s needs [host] management-interface: the second network "
                            "card on the physically separate management network%s",
                            scen, "");
        if (!strcmp(p->management_if, p->public_if))
            return fail_loc(ps, p->management_if_loc,
                            "management-interface '%s' is also the public interface: scenario %s "
                            "needs a distinct, physically separate card",
                            p->management_if, scen);
        if (!p->networks.count)
            return fail_loc(ps, p->scenario_loc,
                            "scenario %s needs [cluster] networks: the prefixes of the management "
                            "network (anything else arriving on it is dropped)%s",
                            scen, "");
    } else if (ps->management_set && strcmp(p->management_if, p->public_if)) {
        return fail_loc(ps, p->management_if_loc,
                        "management-interface '%s' differs from public-interface, but scenario "
                        "%s has one network card: use isolated-management for a second card",
                        p->management_if, scen);
    } else {
        memcpy(p->management_if, p->public_if, sizeof(p->management_if));
    }

    if (p->gateway_mac_count && p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT)
        return fail_loc(ps, p->gateway_mac_loc,
                        "gateway-mac is for the one-card scenarios: in %s the public interface "
                        "already drops every cluster source%s",
                        scen, "");
    if (!p->gateway_mac_count && p->scenario == XG_SCENARIO_FIREWALLED_SUBNET &&
        (p->networks.count || p->peers.count))
        xg_warn_at(ps->warnings, ps->path, p->scenario_loc.line, p->scenario_loc.col,
                   "no [host] gateway-mac: with one card, a forged cluster source routed in from "
                   "outside looks like a peer on the link; the perimeter firewall must drop it");

    if (p->scenario == XG_SCENARIO_UNTRUSTED && p->transport == XG_TRANSPORT_XEND)
        return fail_loc(ps, p->transport_loc,
                        "transport xend on an untrusted subnet: relocation there is exactly what "
                        "the specification forbids; use tunnel, ssh or off%s%s",
                        "", "");

    for (size_t i = 0; i < p->service_count; i++) {
        const struct xg_service *s = &p->services[i];
        if (s->iface[0] && p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT &&
            strcmp(s->iface, p->public_if) && strcmp(s->iface, p->management_if))
            xg_warn_at(ps->warnings, ps->path, s->loc.line, s->loc.col,
                       "%s: interface '%s' is neither the public nor the management interface",
                       s->name, s->iface);
        for (size_t j = 0; j < s->port_count; j++) {
            bool ssh = s->proto == IPPROTO_TCP && s->ports[j].lo <= p->ssh_port &&
                       p->ssh_port <= s->ports[j].hi;
            bool mig = s->proto == IPPROTO_TCP && xg_policy_has_migration_port(p) &&
                       s->ports[j].lo <= p->migration_port && p->migration_port <= s->ports[j].hi;
            if (ssh || mig)
                return xg_fail_at(ps->err, ps->path, s->loc.line, s->loc.col,
                                  "%s: opens the %s port, which [%s] already governs; change it "
                                  "there",
                                  s->name, ssh ? "ssh" : "migration", ssh ? "admin" : "migration");
        }
    }

    if (xg_policy_has_migration_port(p) && !p->peers.count)
        xg_warn_at(ps->warnings, ps->path, p->transport_loc.line, p->transport_loc.col,
                   "transport %s with no [cluster] peers: the migration port is open to nobody",
                   xg_transport_name(p->transport));
    if (!p->ssh_from.count && !(p->transport == XG_TRANSPORT_SSH && p->peers.count))
        xg_warn_at(ps->warnings, ps->path, 0, 0,
                   "no [admin] ssh-from: sshd will not be reachable for administration");
    warn_outside_networks(ps, &p->peers, "peer");
    if (p->scenario == XG_SCENARIO_ISOLATED_MANAGEMENT)
        warn_outside_networks(ps, &p->ssh_from, "ssh-from");
    return 0;
}

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
}

int xg_policy_parse(const char *text, size_t len, const char *path, struct xg_policy *out,
                    struct xg_warnings *warnings, struct xg_err *err)
{
    struct parser ps = {.path = path, .p = out, .warnings = warnings, .err = err};
    const char *s = text, *end = text + len;
    char *line = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    set_defaults(out);
    if (!(out->path = strdup(path)))
        return xg_fail(err, "out of memory");
    if (memchr(text, '\0', len)) {
        const char *nul = memchr(text, '\0', len);
        unsigned line_no = 1, col = 1;
        for (const char *c = text; c < nul; c++, col++)
            if (*c == '\n')
                line_no++, col = 0;
        rc = xg_fail_at(err, path, line_no, col, "NUL byte in policy file");
        goto done;
    }
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
    rc = validate(&ps);
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

const char *xg_scenario_name(enum xg_scenario s)
{
    switch (s) {
    case XG_SCENARIO_ISOLATED_MANAGEMENT:
        return "isolated-management";
    case XG_SCENARIO_FIREWALLED_SUBNET:
        return "firewalled-subnet";
    case XG_SCENARIO_UNTRUSTED:
        return "untrusted";
    }
    return "?";
}

const char *xg_transport_name(enum xg_transport t)
{
    switch (t) {
    case XG_TRANSPORT_OFF:
        return "off";
    case XG_TRANSPORT_XEND:
        return "xend";
    case XG_TRANSPORT_SSH:
        return "ssh";
    case XG_TRANSPORT_TUNNEL:
        return "tunnel";
    }
    return "?";
}

bool xg_policy_has_migration_port(const struct xg_policy *p)
{
    return p->transport == XG_TRANSPORT_XEND || p->transport == XG_TRANSPORT_TUNNEL;
}

static void free_words(char **words, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(words[i]);
    free(words);
}

void xg_policy_free(struct xg_policy *p)
{
    free(p->path);
    xg_prefix_list_free(&p->peers);
    xg_prefix_list_free(&p->networks);
    xg_prefix_list_free(&p->ssh_from);
    free_words(p->admin_users, p->admin_user_count);
    for (size_t i = 0; i < p->service_count; i++)
        xg_prefix_list_free(&p->services[i].from);
    free(p->services);
    free(p->tunnel.ca);
    free(p->tunnel.cert);
    free(p->tunnel.key);
    free(p->tunnel.receive_command);
    free_words(p->tunnel.peer_names, p->tunnel.peer_name_count);
    free_words(p->tunnel.peer_fingerprints, p->tunnel.peer_fingerprint_count);
    memset(p, 0, sizeof(*p));
}
