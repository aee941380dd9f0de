/*
 * textfmt.c — the small formats: KEY=VALUE files, /proc/net socket tables,
 * and the JSON of `ip -j addr` and `xl list -l` (read with jansson).
 *
 * /proc/net/tcp* hold addresses as hex words in host byte order; a TCP
 * socket listens in state 0A, an unconnected UDP socket sits in state 07
 * with a zero remote address. Both are what "listening" means for the
 * fewest-services practice.
 */
#include "probe/parse.h"

#include <ctype.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/lines.h"

int xg_keyval_parse(const char *text, size_t len, const char *path, struct xg_kvlist *out,
                    struct xg_err *err)
{
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        char *line = xg_line_next(text, len, &pos);
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#' || *p == ';' || *p == '[') {
            free(line);
            continue;
        }
        if (!strncmp(p, "export ", 7))
            p += 7;
        char *eq = strchr(p, '=');
        if (!eq) {
            free(line);
            return xg_fail_at(err, path, lineno, 1, "expected KEY=VALUE");
        }
        char *kend = eq;
        while (kend > p && isspace((unsigned char)kend[-1]))
            kend--;
        *kend = '\0';
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        size_t n = strlen(v);
        while (n && isspace((unsigned char)v[n - 1]))
            v[--n] = '\0';
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = '\0';
            v++;
        } else {
            char *hash = strstr(v, " #");
            if (hash)
                *hash = '\0';
        }
        if (!*p) {
            free(line);
            return xg_fail_at(err, path, lineno, 1, "empty key");
        }
        int rc = xg_kv_add(out, p, v, path, lineno);
        free(line);
        if (rc < 0)
            return xg_fail(err, "%s: out of memory", path);
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "0100007F:0016" -> address and port; words are 32-bit host-order (little endian). */
static bool parse_endpoint(const char *s, uint8_t family, struct xg_prefix *addr, uint16_t *port)
{
    size_t words = family == 4 ? 1 : 4;
    memset(addr, 0, sizeof(*addr));
    addr->family = family;
    addr->len = family == 4 ? 32 : 128;
    for (size_t w = 0; w < words; w++) {
        uint32_t v = 0;
        for (size_t i = 0; i < 8; i++) {
            int h = hexval((unsigned char)s[w * 8 + i]);
            if (h < 0)
                return false;
            v = v << 4 | (uint32_t)h;
        }
        /* the kernel printed the in-memory word as %08X on a little-endian host */
        addr->addr[w * 4 + 0] = (uint8_t)v;
        addr->addr[w * 4 + 1] = (uint8_t)(v >> 8);
        addr->addr[w * 4 + 2] = (uint8_t)(v >> 16);
        addr->addr[w * 4 + 3] = (uint8_t)(v >> 24);
    }
    const char *c = s + words * 8;
    if (*c != ':')
        return false;
    uint32_t p = 0;
    for (size_t i = 1; i <= 4; i++) {
        int h = hexval((unsigned char)c[i]);
        if (h < 0)
            return false;
        p = p << 4 | (uint32_t)h;
    }
    *port = (uint16_t)p;
    return true;
}

int xg_procnet_parse(const char *text, size_t len, const char *path, uint8_t family, uint8_t proto,
                     struct xg_socket **sockets, size_t *count, struct xg_err *err)
{
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        char *line = xg_line_next(text, len, &pos);
        if (!line)
            return xg_fail(err, "%s: out of memory", path);
        if (lineno == 1 || !*line) { /* header */
            free(line);
            continue;
        }
        char local[64], remote[64], st[8];
        unsigned long inode;
        unsigned uid;
        int n = sscanf(line, " %*[0-9]: %63s %63s %7s %*s %*s %*s %u %*d %lu", local, remote, st,
                       &uid, &inode);
        struct xg_socket s = {.family = family, .proto = proto};
        struct xg_prefix rem;
        uint16_t rport;
        if (n != 5 || !parse_endpoint(local, family, &s.addr, &s.port) ||
            !parse_endpoint(remote, family, &rem, &rport)) {
            free(line);
            return xg_fail_at(err, path, lineno, 1, "not a socket table line");
        }
        free(line);
        bool listening = proto == IPPROTO_TCP ? !strcasecmp(st, "0A") : !strcmp(st, "07") && !rport;
        if (!listening)
            continue;
        s.inode = inode;
        struct xg_socket *grown = realloc(*sockets, (*count + 1) * sizeof(*grown));
        if (!grown)
            return xg_fail(err, "%s: out of memory", path);
        *sockets = grown;
        grown[(*count)++] = s;
    }
    return 0;
}

int xg_ipaddr_parse(const char *text, size_t len, const char *path, struct xg_iface **out,
                    size_t *count, struct xg_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return xg_fail_at(err, path, (unsigned)je.line, (unsigned)je.column, "%s", je.text);
    if (!json_is_array(root)) {
        json_decref(root);
        return xg_fail(err, "%s: expected a JSON array of interfaces", path);
    }
    size_t i;
    json_t *ifj;
    json_array_foreach(root, i, ifj)
    {
        const char *name = json_string_value(json_object_get(ifj, "ifname"));
        if (!name)
            continue;
        struct xg_iface *grown = realloc(*out, (*count + 1) * sizeof(*grown));
        if (!grown) {
            json_decref(root);
            return xg_fail(err, "%s: out of memory", path);
        }
        *out = grown;
        struct xg_iface *f = &grown[(*count)++];
        memset(f, 0, sizeof(*f));
        snprintf(f->name, sizeof(f->name), "%s", name);
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(ifj, "addr_info"), j, a)
        {
            const char *local = json_string_value(json_object_get(a, "local"));
            struct xg_prefix p;
            if (local && xg_addr_parse(local, &p) == 0 && xg_prefix_list_add(&f->addrs, &p) < 0) {
                json_decref(root);
                return xg_fail(err, "%s: out of memory", path);
            }
        }
    }
    json_decref(root);
    return 0;
}

int xg_xllist_parse(const char *text, size_t len, const char *path, struct xg_domain **out,
                    size_t *count, struct xg_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return xg_fail_at(err, path, (unsigned)je.line, (unsigned)je.column, "%s", je.text);
    if (!json_is_array(root)) {
        json_decref(root);
        return xg_fail(err, "%s: expected a JSON array of domains", path);
    }
    size_t i;
    json_t *d;
    json_array_foreach(root, i, d)
    {
        json_t *id = json_object_get(d, "domid");
        const char *name = json_string_value(
            json_object_get(json_object_get(json_object_get(d, "config"), "c_info"), "name"));
        if (!json_is_integer(id))
            continue;
        struct xg_domain *grown = realloc(*out, (*count + 1) * sizeof(*grown));
        if (!grown) {
            json_decref(root);
            return xg_fail(err, "%s: out of memory", path);
        }
        *out = grown;
        grown[*count].domid = (unsigned)json_integer_value(id);
        grown[*count].name = strdup(name ? name : "");
        if (grown[*count].name)
            (*count)++;
    }
    json_decref(root);
    return 0;
}

/* ---- systemd socket units ---- */

static bool listen_port(const char *v, uint16_t port)
{
    const char *colon = strrchr(v, ':');
    const char *num = colon ? colon + 1 : v;
    char *end;
    unsigned long n = strtoul(num, &end, 10);
    return end != num && (!*end || isspace((unsigned char)*end)) && n == port;
}

bool xg_socket_unit_matches(const char *text, const char *name, uint8_t proto, uint16_t port,
                            char *service, size_t service_size)
{
    const char *want = proto == IPPROTO_TCP ? "ListenStream=" : "ListenDatagram=";
    bool hit = false, accept = false;
    char svc[256] = "";
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        while (*l == ' ' || *l == '\t')
            l++;
        size_t n = strcspn(l, "\n");
        if (!strncmp(l, want, strlen(want)))
            hit |= listen_port(l + strlen(want), port);
        else if (!strncmp(l, "Service=", 8) && n > 8)
            snprintf(svc, sizeof(svc), "%.*s", (int)(n - 8), l + 8);
        else if (!strncmp(l, "Accept=", 7))
            accept = !strncmp(l + 7, "yes", 3) || !strncmp(l + 7, "true", 4);
    }
    if (!hit)
        return false;
    if (!svc[0]) {
        const char *dot = strrchr(name, '.');
        snprintf(svc, sizeof(svc), "%.*s%s.service", dot ? (int)(dot - name) : (int)strlen(name),
                 name, accept ? "@" : "");
    }
    snprintf(service, service_size, "%s", svc);
    return true;
}
