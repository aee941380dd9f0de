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

#include <ctype.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
        {"xen-api-server"},          {"xend-relocation-ssl-server"},
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
    xg_buf_puts(&b, XG_HARDEN_SSHD_HEADER
                " (xenguard-harden(8)); rerun it instead of editing.\n"
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

/* ---- sshd: the main file's Include, and what sshd ends up using ---- */

/* Does one Include word (absolute, or relative to /etc/ssh) cover `path`? */
static bool include_covers(const char *word, const char *path)
{
    char full[1024];
    snprintf(full, sizeof(full), "%s%s", word[0] == '/' ? "" : "/etc/ssh/", word);
    return fnmatch(full, path, FNM_PATHNAME | FNM_PERIOD) == 0;
}

/* The first directive of a line (lower-cased into kw) and its value; false for blanks/comments. */
static bool directive(const char *line, size_t len, char *kw, size_t kwcap, const char **val)
{
    size_t i = 0, k = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#' || line[i] == '\r')
        return false;
    while (i < len && !strchr(" \t=\r", line[i]) && k + 1 < kwcap)
        kw[k++] = (char)tolower((unsigned char)line[i++]);
    kw[k] = '\0';
    while (i < len && strchr(" \t=", line[i]))
        i++;
    *val = line + i;
    return k > 0;
}

int xg_harden_sshd_main(const char *old, const char *dropin, char **out, struct xg_err *err)
{
    bool covered = false;
    for (const char *l = old; *l && !covered;) {
        size_t len = strcspn(l, "\n");
        char kw[32], words[1024];
        const char *val;
        if (directive(l, len, kw, sizeof(kw), &val)) {
            if (!strcmp(kw, "match"))
                break; /* an Include below a Match is conditional */
            if (!strcmp(kw, "include")) {
                snprintf(words, sizeof(words), "%.*s", (int)(len - (size_t)(val - l)), val);
                for (char *s = NULL, *w = strtok_r(words, " \t\r", &s); w && !covered;
                     w = strtok_r(NULL, " \t\r", &s))
                    covered = include_covers(w, dropin);
            }
        }
        l += len + (l[len] == '\n');
    }
    struct xg_buf b = {0};
    if (!covered)
        xg_buf_puts(&b, "# Added by 'xenguard harden sshd' (xenguard-harden(8)): the drop-ins come "
                        "first, because\n# sshd keeps the first value it reads.\n"
                        "Include /etc/ssh/sshd_config.d/*.conf\n\n");
    xg_buf_puts(&b, old);
    if (xg_buf_failed(&b))
        return xg_fail(err, "out of memory");
    *out = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return *out ? 0 : xg_fail(err, "out of memory");
}

/* "FILE:LINE" of a setting, or where sshd -T reported it (line 0). */
static const char *where(const struct xg_kv *kv, char *buf, size_t cap)
{
    if (kv->line)
        snprintf(buf, cap, "%s:%u", kv->file, kv->line);
    else
        snprintf(buf, cap, "%s", kv->file);
    return buf;
}

/* The first value of a single-valued keyword must be one of `ok` ("a|b"). */
static void want_first(const struct xg_kvlist *eff, const char *key, const char *name,
                       const char *def, const char *ok, const char *dropin, struct xg_buf *why)
{
    const struct xg_kv *kv = xg_kv_find(eff, key, true);
    const char *v = kv ? kv->value : def;
    char okbuf[64], w[1200];
    snprintf(okbuf, sizeof(okbuf), "%s", ok);
    for (char *s = NULL, *o = strtok_r(okbuf, "|", &s); o; o = strtok_r(NULL, "|", &s))
        if (!strcasecmp(v, o))
            return;
    if (!kv)
        xg_buf_printf(why, "%s is not set at all (sshd uses %s): %s is not read\n", name, def,
                      dropin);
    else
        xg_buf_printf(why, "%s %s (%s) comes before %s and wins: remove it there\n", name, v,
                      where(kv, w, sizeof(w)), dropin);
}

/* Multi-valued keywords add up over every file: each value must be one we want. */
static void want_only(const struct xg_kvlist *eff, const char *key, const char *name,
                      bool (*ok)(const char *word, const void *ctx), const void *ctx,
                      const char *dropin, struct xg_buf *why)
{
    size_t seen = 0;
    char w[1200], words[1024];
    for (size_t i = 0; i < eff->count; i++) {
        const struct xg_kv *kv = &eff->items[i];
        if (strcasecmp(kv->key, key))
            continue;
        snprintf(words, sizeof(words), "%s", kv->value);
        for (char *s = NULL, *word = strtok_r(words, " \t", &s); word;
             word = strtok_r(NULL, " \t", &s)) {
            seen++;
            if (!ok(word, ctx))
                xg_buf_printf(why, "%s %s (%s) adds to %s's: remove it there\n", name, word,
                              where(kv, w, sizeof(w)), dropin);
        }
    }
    if (!seen)
        xg_buf_printf(why, "no %s at all: %s is not read\n", name, dropin);
}

static bool is_listen(const char *word, const void *ctx)
{
    return !strcasecmp(word, ctx);
}

static bool is_admin(const char *word, const void *ctx)
{
    const struct xg_policy *p = ctx;
    char user[256];
    snprintf(user, sizeof(user), "%s", word);
    user[strcspn(user, "@")] = '\0'; /* user@host */
    for (size_t i = 0; i < p->admin_user_count; i++)
        if (!strcmp(p->admin_users[i], user))
            return true;
    return false;
}

int xg_harden_sshd_verify(const struct xg_kvlist *eff, const struct xg_policy *p,
                          const struct xg_prefix *address, const char *dropin, struct xg_buf *why)
{
    char addr[XG_PREFIX_STRLEN], listen[XG_PREFIX_STRLEN + 16];
    xg_prefix_format(address, true, addr);
    snprintf(listen, sizeof(listen), address->family == XG_FAMILY_IPV6 ? "[%s]:%u" : "%s:%u", addr,
             p->ssh_port);
    size_t before = why->len;
    want_first(eff, "passwordauthentication", "PasswordAuthentication", "yes", "no", dropin, why);
    if (xg_kv_find(eff, "kbdinteractiveauthentication", true) ||
        !xg_kv_find(eff, "challengeresponseauthentication", true))
        want_first(eff, "kbdinteractiveauthentication", "KbdInteractiveAuthentication", "yes", "no",
                   dropin, why);
    else /* sshd -T of OpenSSH before 8.7 says challengeresponseauthentication */
        want_first(eff, "challengeresponseauthentication", "ChallengeResponseAuthentication", "yes",
                   "no", dropin, why);
    want_first(eff, "permitrootlogin", "PermitRootLogin", "prohibit-password",
               "prohibit-password|without-password|no", dropin, why);
    want_only(eff, "listenaddress", "ListenAddress", is_listen, listen, dropin, why);
    if (p->admin_user_count)
        want_only(eff, "allowusers", "AllowUsers", is_admin, p, dropin, why);
    return why->len == before ? 0 : -1;
}
