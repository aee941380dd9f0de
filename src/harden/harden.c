/*
 * harden.c — xend-config.sxp edits, the sshd drop-in and the sysctl file
 * (see harden.h).
 *
 * The xend editor works on lines, not on a full S-expression parse: every
 * key xend reads sits on one line of its own, `(key value)`, and the shipped
 * file documents each default as a commented-out line. A line is ours when,
 * after leading blanks, it starts with "(KEY" followed by a blank; such a
 * line is replaced in place. A key absent from the file goes right after its
 * commented-out default ("#(KEY ..."), else to the end of the file. Nothing
 * else is touched, so comments and unrelated settings survive.
 */
#include "harden/harden.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

int xg_iface_address(const char *ifname, struct xg_prefix *out, struct xg_err *err)
{
    struct ifaddrs *list, *ifa;
    bool found = false;
    if (!ifname || !*ifname)
        return xg_fail(err, "no management interface in the policy: give --address");
    if (getifaddrs(&list) < 0)
        return xg_fail(err, "getifaddrs: cannot list interface addresses");
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (ifa = list; ifa && !found; ifa = ifa->ifa_next) {
            if (!ifa->ifa_addr || strcmp(ifa->ifa_name, ifname))
                continue;
            memset(out, 0, sizeof(*out));
            if (pass == 0 && ifa->ifa_addr->sa_family == AF_INET) {
                out->family = XG_FAMILY_IPV4;
                out->len = 32;
                memcpy(out->addr, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr, 4);
                found = true;
            } else if (pass == 1 && ifa->ifa_addr->sa_family == AF_INET6) {
                const uint8_t *a =
                    ((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr.s6_addr;
                if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
                    continue; /* link-local: needs a scope, not for binding */
                out->family = XG_FAMILY_IPV6;
                out->len = 128;
                memcpy(out->addr, a, 16);
                found = true;
            }
        }
    }
    freeifaddrs(list);
    if (!found)
        return xg_fail(err, "interface %s has no usable address: give --address", ifname);
    return 0;
}

/* One regex for an IPv4 prefix whose length is a multiple of 8. */
static void v4_octet_regex(struct xg_buf *b, const struct xg_prefix *p)
{
    xg_buf_puts(b, "^");
    for (unsigned i = 0; i < 4; i++) {
        if (i)
            xg_buf_puts(b, "\\\\.");
        if (i * 8 < p->len)
            xg_buf_printf(b, "%u", p->addr[i]);
        else
            xg_buf_puts(b, "[0-9]+");
    }
    xg_buf_puts(b, "$");
}

int xg_xend_hosts_allow(const struct xg_prefix_list *peers, char **out, struct xg_err *err)
{
    struct xg_buf b = {0};
    for (size_t i = 0; i < peers->count; i++) {
        const struct xg_prefix *p = &peers->items[i];
        char text[XG_PREFIX_STRLEN];
        xg_prefix_format(p, true, text);
        if (p->family == XG_FAMILY_IPV6) {
            if (p->len != 128) {
                xg_buf_free(&b);
                return xg_fail(err,
                               "peer %s: xend's hosts-allow takes IPv6 peers as single "
                               "addresses only",
                               text);
            }
            xg_buf_printf(&b, "%s^%s$", b.len ? " " : "", text);
        } else if (p->len % 8 == 0) {
            if (b.len)
                xg_buf_puts(&b, " ");
            v4_octet_regex(&b, p);
        } else if (p->len >= 24) {
            uint32_t base = (uint32_t)p->addr[0] << 24 | (uint32_t)p->addr[1] << 16 |
                            (uint32_t)p->addr[2] << 8 | p->addr[3];
            for (uint32_t k = 0; k < (1u << (32 - p->len)); k++) {
                uint32_t a = base + k;
                xg_buf_printf(&b, "%s^%u\\\\.%u\\\\.%u\\\\.%u$", b.len ? " " : "", a >> 24,
                              (a >> 16) & 255, (a >> 8) & 255, a & 255);
            }
        } else {
            xg_buf_free(&b);
            return xg_fail(err,
                           "peer %s: too wide for xend's hosts-allow regexes (use a /8, /16, "
                           "/24, or at most 256 addresses)",
                           text);
        }
    }
    if (xg_buf_failed(&b))
        return xg_fail(err, "out of memory");
    *out = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return *out ? 0 : xg_fail(err, "out of memory");
}

struct xend_key {
    const char *key;
    char value[4096];
    bool done;
};

/* Does `line` set `key` ("(key ..." after blanks)? With `commented`, "#(key". */
static bool line_sets(const char *line, size_t len, const char *key, bool commented)
{
    size_t i = 0, klen = strlen(key);
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (commented) {
        if (i >= len || line[i] != '#')
            return false;
        while (i < len && (line[i] == '#' || line[i] == ' ' || line[i] == '\t'))
            i++;
    }
    if (i >= len || line[i] != '(')
        return false;
    i++;
    return len - i > klen && !strncmp(line + i, key, klen) &&
           (line[i + klen] == ' ' || line[i + klen] == '\t');
}

int xg_harden_xend(const char *old, const struct xg_policy *p, const struct xg_prefix *address,
                   char **out, struct xg_err *err)
{
    bool xend = p->transport == XG_TRANSPORT_XEND;
    char addr[XG_PREFIX_STRLEN], *allow = NULL;
    struct xend_key keys[8] = {
        {"xend-relocation-server"},  {"xend-relocation-port"},
        {"xend-relocation-address"}, {"xend-relocation-hosts-allow"},
        {"xend-http-server"},        {"xend-tcp-xmlrpc-server"},
        {"xend-xen-api-server"},     {"xend-relocation-ssl-server"},
    };
    xg_prefix_format(address, true, addr);
    if (xg_xend_hosts_allow(&p->peers, &allow, err) < 0)
        return -1;
    snprintf(keys[0].value, sizeof(keys[0].value), "%s", xend ? "yes" : "no");
    snprintf(keys[1].value, sizeof(keys[1].value), "%u", p->migration_port);
    snprintf(keys[2].value, sizeof(keys[2].value), "'%s'", addr);
    int n = snprintf(keys[3].value, sizeof(keys[3].value), "'%s'", allow);
    free(allow);
    if (n < 0 || (size_t)n >= sizeof(keys[3].value))
        return xg_fail(err, "too many peers for one xend-relocation-hosts-allow line");
    snprintf(keys[4].value, sizeof(keys[4].value), "no");
    snprintf(keys[5].value, sizeof(keys[5].value), "no");
    snprintf(keys[6].value, sizeof(keys[6].value), "((unix))");
    /* the SSL relocation server listens on another port than the policy opens */
    snprintf(keys[7].value, sizeof(keys[7].value), "no");
    size_t nkeys = sizeof(keys) / sizeof(keys[0]);

    /* Pass 1: which keys are set on a live line somewhere. */
    for (const char *l = old; *l;) {
        size_t len = strcspn(l, "\n");
        for (size_t k = 0; k < nkeys; k++)
            if (line_sets(l, len, keys[k].key, false))
                keys[k].done = true;
        l += len + (l[len] == '\n');
    }
    /* Pass 2: replace live lines; add missing keys after their commented default. */
    struct xg_buf b = {0};
    for (const char *l = old; *l;) {
        size_t len = strcspn(l, "\n");
        bool replaced = false;
        for (size_t k = 0; k < nkeys && !replaced; k++) {
            if (line_sets(l, len, keys[k].key, false)) {
                xg_buf_printf(&b, "(%s %s)\n", keys[k].key, keys[k].value);
                replaced = true;
            }
        }
        if (!replaced)
            xg_buf_printf(&b, "%.*s\n", (int)len, l);
        for (size_t k = 0; k < nkeys; k++) {
            if (!keys[k].done && line_sets(l, len, keys[k].key, true)) {
                xg_buf_printf(&b, "(%s %s)\n", keys[k].key, keys[k].value);
                keys[k].done = true;
            }
        }
        l += len + (l[len] == '\n');
    }
    bool header = false;
    for (size_t k = 0; k < nkeys; k++) {
        if (keys[k].done)
            continue;
        if (!header)
            xg_buf_puts(&b, "\n# Added by xenguard harden xend (see xenguard-harden(8)).\n");
        header = true;
        xg_buf_printf(&b, "(%s %s)\n", keys[k].key, keys[k].value);
    }
    if (xg_buf_failed(&b))
        return xg_fail(err, "out of memory");
    *out = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return *out ? 0 : xg_fail(err, "out of memory");
}

int xg_harden_sshd(const struct xg_policy *p, const struct xg_prefix *address, char **out,
                   struct xg_err *err)
{
    char addr[XG_PREFIX_STRLEN];
    struct xg_buf b = {0};
    xg_prefix_format(address, true, addr);
    xg_buf_puts(&b, "# Written by 'xenguard harden sshd' (xenguard-harden(8)); rerun it instead "
                    "of editing.\n"
                    "# Dom0 runs as few services as possible and lets only its admins in, with "
                    "keys.\n");
    if (address->family == XG_FAMILY_IPV6)
        xg_buf_printf(&b, "ListenAddress [%s]:%u\n", addr, p->ssh_port);
    else
        xg_buf_printf(&b, "ListenAddress %s:%u\n", addr, p->ssh_port);
    xg_buf_puts(&b, "PasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\n"
                    "PermitRootLogin prohibit-password\n");
    if (p->admin_user_count) {
        xg_buf_puts(&b, "AllowUsers");
        for (size_t i = 0; i < p->admin_user_count; i++) {
            const char *u = p->admin_users[i];
            if (!*u || strpbrk(u, " \t\n\"#*?!,")) {
                xg_buf_free(&b);
                return xg_fail(err, "admin user '%s': not a plain account name", u);
            }
            xg_buf_printf(&b, " %s", u);
        }
        xg_buf_puts(&b, "\n");
    } else {
        xg_buf_puts(&b, "# No [admin] users in the policy: no AllowUsers line, so every account "
                        "with a key may log in.\n");
    }
    if (xg_buf_failed(&b))
        return xg_fail(err, "out of memory");
    *out = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return *out ? 0 : xg_fail(err, "out of memory");
}

const char *xg_harden_sysctl(void)
{
    return "# Written by xenguard (xenguard-harden(8)): what the \"Securing Xen\" chapter asks of\n"
           "# Dom0's network stack. Reverse-path filtering drops spoofed sources; source\n"
           "# routing and ICMP redirects let a remote party steer Dom0's routing.\n"
           "# IPv6 has no rp_filter or send_redirects knob: the firewall's fib rule covers it.\n"
           "net.ipv4.conf.all.rp_filter = 1\n"
           "net.ipv4.conf.default.rp_filter = 1\n"
           "net.ipv4.conf.all.accept_source_route = 0\n"
           "net.ipv4.conf.default.accept_source_route = 0\n"
           "net.ipv6.conf.all.accept_source_route = 0\n"
           "net.ipv6.conf.default.accept_source_route = 0\n"
           "net.ipv4.conf.all.accept_redirects = 0\n"
           "net.ipv4.conf.default.accept_redirects = 0\n"
           "net.ipv6.conf.all.accept_redirects = 0\n"
           "net.ipv6.conf.default.accept_redirects = 0\n"
           "net.ipv4.conf.all.send_redirects = 0\n"
           "net.ipv4.conf.default.send_redirects = 0\n";
}
