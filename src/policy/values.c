/*
 * values.c — the policy's value parsers, one small function per kind of
 * value (wireguard-tools' config.c habit). Each names the offending token
 * and points at it: column and length go into the error as data, so the verb
 * can underline the token (util/err.h).
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parser.h"
#include "util/strv.h"

struct token *policy_tokenize(const char *value, unsigned col, bool commas, size_t *count)
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
        toks[n].len = (unsigned)len;
        snprintf(toks[n].text, sizeof(toks[n].text), "%.*s", (int)len, s);
        s += len;
        n++;
    }
#undef XG_IS_SEP
    *count = n;
    return toks ? toks : calloc(1, sizeof(*toks));
}

int policy_single_token(struct parser *ps, const char *key, const char *value, unsigned col,
                        struct token *t)
{
    size_t n;
    struct token *toks = policy_tokenize(value, col, false, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
    if (n == 0)
        rc = policy_fail(ps, col, 0, "%s: needs a value", key);
    else if (n != 1)
        rc = policy_fail(ps, toks[1].col, toks[1].len, "%s: takes one value, found extra '%s'", key,
                         toks[1].text);
    else
        *t = toks[0];
    free(toks);
    return rc;
}

int policy_keyword(struct parser *ps, const char *key, const char *value, unsigned col,
                   const char *(*name_of)(int), int count, int *out)
{
    char known[160] = "";
    struct token t;
    if (policy_single_token(ps, key, value, col, &t) < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        if (!strcmp(t.text, name_of(i)))
            return *out = i, 0;
        snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
                 name_of(i));
    }
    return policy_fail(ps, t.col, t.len, "%s: '%s' is not one of %s", key, t.text, known);
}

int policy_u16(struct parser *ps, const char *key, const struct token *t, uint16_t *out)
{
    char *end;
    unsigned long v;
    errno = 0;
    if (!isdigit((unsigned char)t->text[0]))
        return policy_fail(ps, t->col, t->len, "%s: '%s' is not a port number (1-65535)", key,
                           t->text);
    v = strtoul(t->text, &end, 10);
    if (errno || *end || v < 1 || v > 65535)
        return policy_fail(ps, t->col, t->len, "%s: port '%s' is out of range (1-65535)", key,
                           t->text);
    *out = (uint16_t)v;
    return 0;
}

int policy_uint(struct parser *ps, const char *key, const struct token *t, unsigned max,
                unsigned *out)
{
    char *end;
    unsigned long v;
    errno = 0;
    if (!isdigit((unsigned char)t->text[0]))
        return policy_fail(ps, t->col, t->len, "%s: '%s' is not a number", key, t->text);
    v = strtoul(t->text, &end, 10);
    if (errno || *end || v > max)
        return policy_fail(ps, t->col, t->len, "%s: '%s' is out of range (0-%u)", key, t->text,
                           max);
    *out = (unsigned)v;
    return 0;
}

int policy_bool(struct parser *ps, const char *key, const struct token *t, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(t->text, yes[i]))
            return *out = true, 0;
        if (!strcmp(t->text, no[i]))
            return *out = false, 0;
    }
    return policy_fail(ps, t->col, t->len, "%s: '%s' is not yes or no", key, t->text);
}

int policy_ifname(struct parser *ps, const char *key, const struct token *t, char *out)
{
    size_t len = strlen(t->text);
    if (len == 0 || len >= XG_IFNAMSIZ)
        return policy_fail(ps, t->col, t->len, "%s: interface name '%s' must be 1 to 15 characters",
                           key, t->text);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t->text[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != '@')
            return policy_fail(ps, t->col, t->len, "%s: '%s' is not a valid interface name", key,
                               t->text);
    }
    if (!strcmp(t->text, "lo"))
        return policy_fail(ps, t->col, t->len,
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
        return policy_fail(ps, t->col, t->len, "%s: %s", key, why);
    return 0;
}

int policy_prefix_list(struct parser *ps, const char *key, const char *value, unsigned col,
                       struct xg_prefix_list *out)
{
    size_t n;
    struct token *toks = policy_tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
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
                    rc = policy_fail(ps, toks[i].col, toks[i].len, "%s: '%s' is listed twice", key,
                                     b);
                    break;
                }
                xg_warn_at(ps->warnings, ps->src.file, ps->line, toks[i].col,
                           "%s: %s overlaps %s listed before it", key, b, a);
            }
        }
        if (rc == 0 && xg_prefix_list_add(out, &pfx) < 0)
            rc = policy_oom(ps);
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

int policy_words_add(struct parser *ps, char ***words, size_t *count, const char *word)
{
    return xg_strv_add(words, count, word) < 0 ? policy_oom(ps) : 0;
}

int policy_word_list(struct parser *ps, const char *key, const char *value, unsigned col,
                     const char *extra, char ***out, size_t *count)
{
    size_t n;
    struct token *toks = policy_tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!word_ok(toks[i].text, extra)) {
            rc = policy_fail(ps, toks[i].col, toks[i].len, "%s: '%s' is not a valid name", key,
                             toks[i].text);
            break;
        }
        rc = policy_words_add(ps, out, count, toks[i].text);
    }
    free(toks);
    return rc;
}

int policy_string(struct parser *ps, const char *key, const char *value, unsigned col, char **out)
{
    if (!*value)
        return policy_fail(ps, col, 0, "%s: needs a value", key);
    free(*out);
    if (!(*out = strdup(value)))
        return policy_oom(ps);
    return 0;
}

/* "02:00:00:00:00:01 ..." — the gateways' link-layer addresses */
int policy_macs(struct parser *ps, const char *key, const char *value, unsigned col)
{
    size_t n;
    struct token *toks = policy_tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
    if (!n)
        rc = policy_fail(ps, col, 0, "%s: needs at least one MAC address", key);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct token *t = &toks[i];
        unsigned b[6];
        char tail;
        uint8_t *mac = ps->p->gateway_macs[ps->p->gateway_mac_count];
        if (ps->p->gateway_mac_count == XG_MAX_MACS) {
            rc = policy_fail(ps, t->col, t->len, "%s: at most 8 MAC addresses", key);
            break;
        }
        if (strlen(t->text) != 17 || sscanf(t->text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1],
                                            &b[2], &b[3], &b[4], &b[5], &tail) != 6) {
            rc = policy_fail(ps, t->col, t->len,
                             "%s: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", key, t->text);
            break;
        }
        for (int k = 0; k < 6; k++)
            mac[k] = (uint8_t)b[k];
        for (size_t j = 0; j < ps->p->gateway_mac_count; j++)
            if (!memcmp(ps->p->gateway_macs[j], mac, 6))
                rc = policy_fail(ps, t->col, t->len, "%s: '%s' is listed twice", key, t->text);
        ps->p->gateway_mac_count++;
    }
    free(toks);
    return rc;
}

/* "vif* tap* vif5.0": a guest port pattern is an interface name, or its start followed by '*' */
static bool port_pattern_ok(const char *t)
{
    size_t len = strlen(t);
    if (len == 0 || len >= XG_IFNAMSIZ || !strcmp(t, "*"))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '*' && i == len - 1)
            continue;
        if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != '@')
            return false;
    }
    return true;
}

int policy_port_patterns(struct parser *ps, const char *key, const char *value, unsigned col)
{
    struct xg_guests_conf *g = &ps->p->guests;
    size_t n;
    struct token *toks = policy_tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
    if (!n)
        rc =
            policy_fail(ps, col, 0, "%s: needs at least one interface name or pattern (vif*)", key);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct token *t = &toks[i];
        if (g->port_count == XG_MAX_GUEST_PORTS)
            rc =
                policy_fail(ps, t->col, t->len, "%s: at most %d patterns", key, XG_MAX_GUEST_PORTS);
        else if (!port_pattern_ok(t->text))
            rc = policy_fail(ps, t->col, t->len,
                             "%s: '%s' is not an interface name or a name start followed by '*' "
                             "(vif*)",
                             key, t->text);
        else if (!strcmp(t->text, "lo") || !strcmp(t->text, "l*") || !strcmp(t->text, "lo*"))
            rc = policy_fail(ps, t->col, t->len, "%s: '%s' would make loopback a guest port", key,
                             t->text);
        for (size_t j = 0; rc == 0 && j < g->port_count; j++)
            if (!strcmp(g->ports[j], t->text))
                rc = policy_fail(ps, t->col, t->len, "%s: '%s' is listed twice", key, t->text);
        if (rc == 0) /* port_pattern_ok: shorter than XG_IFNAMSIZ */
            memcpy(g->ports[g->port_count++], t->text, strlen(t->text) + 1);
    }
    free(toks);
    return rc;
}

/* "sha256:HEX..." pins, checked before they join the word list */
int policy_fingerprints(struct parser *ps, const char *key, const char *value, unsigned col)
{
    struct xg_tunnel_conf *tc = &ps->p->tunnel;
    size_t n;
    struct token *toks = policy_tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *hex = toks[i].text + 7;
        size_t hexlen = strlen(toks[i].text) >= 7 ? strlen(hex) : 0;
        bool ok = !strncmp(toks[i].text, "sha256:", 7);
        for (size_t j = 0; ok && j < hexlen; j++)
            ok = isxdigit((unsigned char)hex[j]) || hex[j] == ':';
        if (!ok || hexlen < 64)
            rc = policy_fail(ps, toks[i].col, toks[i].len,
                             "%s: '%s' is not sha256:HEX (64 hex digits)", key, toks[i].text);
    }
    free(toks);
    if (rc < 0)
        return rc;
    return policy_word_list(ps, key, value, col, ":", &tc->peer_fingerprints,
                            &tc->peer_fingerprint_count);
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
            return policy_fail(ps, pt.col, (unsigned)strlen(part),
                               "%s: at most 16 ports or ranges per service", name);
        pt.len = (unsigned)strlen(part);
        if (dash)
            *dash = '\0';
        snprintf(pt.text, sizeof(pt.text), "%s", part);
        if (dash)
            pt.len = (unsigned)(dash - part);
        if (policy_u16(ps, name, &pt, &lo) < 0)
            return -1;
        hi = lo;
        if (dash) {
            struct token ht = {.col = pt.col + (unsigned)(dash + 1 - part)};
            snprintf(ht.text, sizeof(ht.text), "%s", dash + 1);
            ht.len = (unsigned)strlen(ht.text);
            if (policy_u16(ps, name, &ht, &hi) < 0)
                return -1;
            if (hi < lo)
                return policy_fail(ps, pt.col, pt.len + 1 + ht.len,
                                   "%s: port range '%s' ends before it starts", name, t->text);
        }
        svc->ports[svc->port_count].lo = lo;
        svc->ports[svc->port_count].hi = hi;
        svc->port_count++;
    }
    if (!svc->port_count)
        return policy_fail(ps, t->col, t->len, "%s: '%s' names no port", name, t->text);
    return 0;
}

/* PROTO/PORTS, the first token of a service */
static int parse_proto_ports(struct parser *ps, const char *name, const struct token *t,
                             struct xg_service *svc)
{
    const char *slash = strchr(t->text, '/');
    unsigned proto_len = slash ? (unsigned)(slash - t->text) : 0;
    struct token pt;
    if (!slash)
        return policy_fail(ps, t->col, t->len, "%s: '%s' is not PROTO/PORTS (e.g. tcp/443)", name,
                           t->text);
    if (!strncmp(t->text, "tcp/", 4))
        svc->proto = IPPROTO_TCP;
    else if (!strncmp(t->text, "udp/", 4))
        svc->proto = IPPROTO_UDP;
    else
        return policy_fail(ps, t->col, proto_len, "%s: protocol '%.*s' is not tcp or udp", name,
                           (int)proto_len, t->text);
    pt.col = t->col + proto_len + 1;
    pt.len = t->len - proto_len - 1;
    snprintf(pt.text, sizeof(pt.text), "%s", slash + 1);
    return parse_ports(ps, name, &pt, svc);
}

/* from ADDR... [on IFACE]: the tokens after PROTO/PORTS */
static int parse_sources(struct parser *ps, const char *name, const struct token *toks, size_t n,
                         unsigned col, struct xg_service *svc)
{
    size_t i;
    if (strcmp(toks[1].text, "from"))
        return policy_fail(ps, toks[1].col, toks[1].len,
                           "%s: expected 'from' after the ports, found '%s'", name, toks[1].text);
    for (i = 2; i < n && strcmp(toks[i].text, "on"); i++) {
        struct xg_prefix pfx;
        if (!strcmp(toks[i].text, "any")) {
            svc->from_any = true;
            continue;
        }
        if (parse_prefix(ps, name, &toks[i], &pfx) < 0)
            return -1;
        if (xg_prefix_list_add(&svc->from, &pfx) < 0)
            return policy_oom(ps);
    }
    if (!svc->from_any && !svc->from.count)
        return policy_fail(ps, i < n ? toks[i].col : col, i < n ? toks[i].len : 0,
                           "%s: 'from' needs addresses or 'any'", name);
    if (svc->from_any && svc->from.count)
        return policy_fail(ps, toks[2].col, toks[2].len,
                           "%s: 'any' already covers every address; list either 'any' or "
                           "addresses",
                           name);
    if (i < n) {
        if (i + 2 != n)
            return policy_fail(ps, toks[i].col, toks[i].len, "%s: 'on' takes exactly one interface",
                               name);
        if (policy_ifname(ps, name, &toks[i + 1], svc->iface) < 0)
            return -1;
    }
    return 0;
}

int policy_service(struct parser *ps, const char *name, unsigned name_col, const char *value,
                   unsigned col)
{
    struct xg_service svc = {0};
    struct xg_service *grown;
    unsigned name_len = (unsigned)strlen(name);
    size_t n;
    struct token *toks;

    if (name_len >= sizeof(svc.name))
        return policy_fail(ps, name_col, name_len, "service name '%s' is longer than 47 characters",
                           name);
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return policy_fail(ps, name_col, name_len,
                               "service name '%s' may hold only letters, digits, '-' and '_'",
                               name);
    snprintf(svc.name, sizeof(svc.name), "%s", name);
    svc.loc = (struct xg_loc){ps->line, name_col, name_len};
    if (!(toks = policy_tokenize(value, col, false, &n)))
        return policy_oom(ps);
    if (n < 3) {
        policy_fail(ps, col, (unsigned)strlen(value),
                    "%s: expected 'PROTO/PORTS from ADDR...' (e.g. 'udp/123 from 192.0.2.1')",
                    name);
        goto fail;
    }
    if (parse_proto_ports(ps, name, &toks[0], &svc) < 0 ||
        parse_sources(ps, name, toks, n, col, &svc) < 0)
        goto fail;
    grown = realloc(ps->p->services, (ps->p->service_count + 1) * sizeof(*grown));
    if (!grown) {
        policy_oom(ps);
        goto fail;
    }
    ps->p->services = grown;
    grown[ps->p->service_count++] = svc;
    free(toks);
    return 0;
fail:
    xg_prefix_list_free(&svc.from);
    free(toks);
    return -1;
}
