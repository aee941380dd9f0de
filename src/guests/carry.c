/*
 * carry.c — the running guests' declarations in xenstore, written into a
 * freshly compiled bridge table (carry.h).
 *
 * xenstore is read with `xenstore-list` and `xenstore-read` through the one
 * process runner: per vif backend one list of its keys and, when it has
 * both `ip` and `mac`, one read of the two. The tree walk is a pure
 * function over a small reader interface so the tests can feed it a tree.
 */
#include "guests/carry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/proc.h"

#define VIF_BACKEND "/local/domain/0/backend/vif"

/* ---- the walk (pure) ---- */

static bool all_digits(const char *s)
{
    if (!*s || strlen(s) > 5)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* The next line of `text` at *pos (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **pos)
{
    char *s = *pos;
    if (!s || !*s)
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *pos = nl + 1;
    } else {
        *pos = s + strlen(s);
    }
    return s;
}

static bool has_line(const char *text, const char *want)
{
    size_t n = strlen(want);
    for (const char *s = text; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len == n && !strncmp(s, want, n))
            return true;
        s = nl ? nl + 1 : NULL;
    }
    return false;
}

/* One backend DOMID/DEVID: both keys there, then a declaration vifDOMID.DEVID. */
static int one_vif(const struct xg_xs_reader *xs, const struct xg_vif_ports *ports,
                   const char *domid, const char *devid, struct xg_vif_list *out,
                   struct xg_warnings *w)
{
    char dir[128], path[160], ifname[XG_IFNAMSIZ + 8];
    snprintf(dir, sizeof(dir), VIF_BACKEND "/%s/%s", domid, devid);
    snprintf(ifname, sizeof(ifname), "vif%s.%s", domid, devid);
    char *keys = xs->list(xs->ctx, dir);
    bool both = keys && has_line(keys, "ip") && has_line(keys, "mac");
    free(keys);
    if (!both)
        return 0;
    snprintf(path, sizeof(path), "%s/ip", dir);
    char *ip = xs->read(xs->ctx, path);
    snprintf(path, sizeof(path), "%s/mac", dir);
    char *mac = xs->read(xs->ctx, path);
    const char *ips[XG_VIF_MAX_IPS + 1];
    size_t n = 0;
    char *save = NULL;
    for (char *t = ip ? strtok_r(ip, " \t", &save) : NULL; t && n <= XG_VIF_MAX_IPS;
         t = strtok_r(NULL, " \t", &save))
        ips[n++] = t;
    struct xg_vif_decl d;
    struct xg_err e = {{0}};
    int rc = 0;
    memset(&d, 0, sizeof(d));
    if (ip && mac && xg_vif_decl_make(&d, ifname, ips, n, mac, ports, &e) == 0) {
        struct xg_vif_decl *slot = xg_vif_list_get(out, d.ifname);
        if (!slot) {
            rc = -1;
        } else {
            xg_vif_decl_free(slot);
            *slot = d;
            memset(&d, 0, sizeof(d));
        }
    } else {
        xg_warn_at(w, dir, 0, 0, "%s: not carried over: %s", ifname,
                   ip && mac ? e.msg : "unreadable");
    }
    xg_vif_decl_free(&d);
    free(ip);
    free(mac);
    return rc;
}

int xg_vif_from_xs(const struct xg_xs_reader *xs, const struct xg_vif_ports *ports,
                   struct xg_vif_list *out, struct xg_warnings *w, struct xg_err *err)
{
    memset(out, 0, sizeof(*out));
    char *domids = xs->list(xs->ctx, VIF_BACKEND), *dpos = domids, *domid;
    while ((domid = next_line(&dpos))) {
        if (!all_digits(domid))
            continue;
        char dir[64];
        snprintf(dir, sizeof(dir), VIF_BACKEND "/%s", domid);
        char *devids = xs->list(xs->ctx, dir), *vpos = devids, *devid;
        while ((devid = next_line(&vpos))) {
            if (all_digits(devid) && one_vif(xs, ports, domid, devid, out, w) < 0) {
                free(devids);
                free(domids);
                xg_vif_list_free(out);
                return xg_fail(err, "out of memory");
            }
        }
        free(devids);
    }
    free(domids);
    return 0;
}

/* ---- the real xenstore ---- */

static char *xs_run(const char *verb, const char *path)
{
    char *argv[] = {(char *)verb, (char *)path, NULL};
    struct xg_proc_opts o = {.timeout_ms = 5000, .max_out = 1 << 20};
    struct xg_proc p;
    struct xg_err e;
    if (xg_proc_run(argv, &o, &p, &e) < 0)
        return NULL;
    char *out = NULL;
    if (xg_proc_ok(&p) && !p.truncated) {
        out = p.out;
        p.out = NULL;
    }
    xg_proc_free(&p);
    return out;
}

static char *xs_list(void *ctx, const char *path)
{
    (void)ctx;
    return xs_run("xenstore-list", path);
}

static char *xs_read(void *ctx, const char *path)
{
    (void)ctx;
    char *v = xs_run("xenstore-read", path);
    if (v)
        v[strcspn(v, "\n")] = '\0';
    return v;
}

int xg_vif_from_xenstore(struct xg_vif_list *out, struct xg_warnings *w, struct xg_err *err)
{
    char path[256];
    struct xg_err e;
    memset(out, 0, sizeof(*out));
    if (xg_proc_resolve("xenstore-list", path, sizeof(path), &e) < 0)
        return 0;
    struct xg_xs_reader xs = {xs_list, xs_read, NULL};
    return xg_vif_from_xs(&xs, NULL, out, w, err);
}

/* ---- carry ---- */

static struct xg_set *dyn_set(const struct xg_table *t, const char *name, enum xg_set_key key)
{
    struct xg_set *s = xg_table_find_set(t, name);
    return s && s->dynamic && s->key == key ? s : NULL;
}

/* The declaration's pairs into the four sets (into vif_declared only when it is there). */
static int carry_one(struct xg_set *decl, struct xg_set *ip4, struct xg_set *ip6,
                     struct xg_set *mac, const struct xg_vif_decl *d)
{
    struct xg_set_pair p;
    memset(&p, 0, sizeof(p));
    snprintf(p.ifname, sizeof(p.ifname), "%s", d->ifname);
    if (decl && d->declared && xg_set_add_pair(decl, &p) < 0)
        return -1;
    for (size_t i = 0; i < d->ips.count; i++) {
        struct xg_set *s = d->ips.items[i].family == XG_FAMILY_IPV4 ? ip4 : ip6;
        p.addr = d->ips.items[i];
        if (s && xg_set_add_pair(s, &p) < 0)
            return -1;
    }
    memset(&p.addr, 0, sizeof(p.addr));
    for (size_t i = 0; i < d->mac_count; i++) {
        memcpy(p.mac, d->macs[i], 6);
        if (mac && xg_set_add_pair(mac, &p) < 0)
            return -1;
    }
    return 0;
}

/* A loaded declaration is carried only when it is whole and every value passes
 * the checks `vif online` makes (the loaded table is root's, but not ours alone). */
static int valid(const struct xg_vif_decl *d, const struct xg_vif_ports *ports, struct xg_err *e)
{
    if (xg_vif_check_ifname(d->ifname, ports, e) < 0)
        return -1;
    if (!d->declared || !d->mac_count || !d->ips.count)
        return xg_fail(e, "incomplete (in %s: %s, MACs: %zu, addresses: %zu)", XG_BR_SET_DECLARED,
                       d->declared ? "yes" : "no", d->mac_count, d->ips.count);
    for (size_t i = 0; i < d->mac_count; i++) {
        const uint8_t *m = d->macs[i];
        if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
            return xg_fail(e, "a multicast or zero MAC");
    }
    for (size_t i = 0; i < d->ips.count; i++) {
        char text[XG_PREFIX_STRLEN];
        struct xg_prefix p;
        xg_prefix_format(&d->ips.items[i], true, text);
        if (xg_vif_parse_ip(text, &p, e) < 0)
            return -1;
    }
    return 0;
}

/* The compiled table's four dynamic sets; false when any is missing. */
static bool find_sets(const struct xg_ruleset *rs, struct xg_set *out[4])
{
    const struct xg_table *t = NULL;
    for (size_t i = 0; i < rs->table_count; i++)
        if (rs->tables[i]->family == XG_TABLE_BRIDGE && !strcmp(rs->tables[i]->name, XG_NFT_TABLE))
            t = rs->tables[i];
    if (!t)
        return false;
    out[0] = dyn_set(t, XG_BR_SET_DECLARED, XG_SETKEY_IFNAME);
    out[1] = dyn_set(t, XG_BR_SET_IP4, XG_SETKEY_IF_ADDR);
    out[2] = dyn_set(t, XG_BR_SET_IP6, XG_SETKEY_IF_ADDR);
    out[3] = dyn_set(t, XG_BR_SET_MAC, XG_SETKEY_IF_MAC);
    return out[0] && out[1] && out[2] && out[3];
}

static bool in_set(const struct xg_set *decl, const char *ifname)
{
    for (size_t i = 0; i < decl->pair_count; i++)
        if (!strcmp(decl->pairs[i].ifname, ifname))
            return true;
    return false;
}

int xg_vif_carry(struct xg_ruleset *rs, const struct xg_vif_list *running,
                 const struct xg_vif_ports *ports, struct xg_warnings *w, struct xg_err *err)
{
    struct xg_set *s[4];
    if (!find_sets(rs, s))
        return 0;
    for (size_t i = 0; i < running->count; i++) {
        const struct xg_vif_decl *d = &running->items[i];
        struct xg_err e = {{0}};
        if (in_set(s[0], d->ifname))
            continue; /* the running table's declaration (carried first) stands */
        if (valid(d, ports, &e) < 0) {
            xg_warn_at(w, NULL, 0, 0, "guest port %s: not carried over: %s", d->ifname, e.msg);
            continue;
        }
        if (carry_one(s[0], s[1], s[2], s[3], d) < 0)
            return xg_fail(err, "out of memory");
    }
    return 0;
}

int xg_vif_carry_listed(struct xg_ruleset *rs, const struct xg_vif_list *listed, struct xg_err *err)
{
    struct xg_set *s[4];
    if (!find_sets(rs, s))
        return 0;
    for (size_t i = 0; i < listed->count; i++)
        if (carry_one(s[0], s[1], s[2], s[3], &listed->items[i]) < 0)
            return xg_fail(err, "out of memory");
    return 0;
}

int xg_vif_carry_xenstore(struct xg_ruleset *rs, struct xg_warnings *w, struct xg_err *err)
{
    struct xg_set *s[4];
    struct xg_vif_list xs;
    if (!find_sets(rs, s))
        return 0;
    if (xg_vif_from_xenstore(&xs, w, err) < 0)
        return -1;
    int rc = xg_vif_carry(rs, &xs, NULL, w, err);
    xg_vif_list_free(&xs);
    return rc;
}
