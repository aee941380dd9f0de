/*
 * vif.c — validate a guest port's declaration, read the declarations of the
 * loaded `table bridge xenguard`, build and run the one nft batch that
 * replaces a port's elements (see vif.h).
 *
 * There is no "delete if present" in nft 1.0.6 (`destroy element` came
 * later), so online/offline read the port's current elements first and
 * delete exactly those in the same batch that adds the new ones. If
 * another `vif` call changed the port in between, the batch fails as a
 * whole (ENOENT) and is retried against a fresh listing.
 */
#include "guests/vif.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/nft.h"
#include "ir/names.h"

#define BR_TABLE XG_NFT_BRIDGE_FAMILY " " XG_NFT_TABLE

static const char *const default_patterns[] = {XG_VIF_DEFAULT_PORTS};
static const struct xg_vif_ports default_ports = {
    default_patterns, sizeof(default_patterns) / sizeof(default_patterns[0])};

const struct xg_vif_ports *xg_vif_default_ports(void)
{
    return &default_ports;
}

/* ---- validation ---- */

int xg_vif_check_ifname(const char *name, const struct xg_vif_ports *ports, struct xg_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n >= XG_IFNAMSIZ)
        return xg_fail(err, "'%.64s' is not an interface name (1 to %d characters)", name,
                       XG_IFNAMSIZ - 1);
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n ||
        !strcmp(name, ".") || !strcmp(name, ".."))
        return xg_fail(err, "'%s' is not an interface name (letters, digits, '_', '.', '-')", name);
    if (!ports)
        ports = &default_ports;
    for (size_t i = 0; i < ports->count; i++)
        if (fnmatch(ports->patterns[i], name, 0) == 0)
            return 0;
    char list[256] = "";
    for (size_t i = 0; i < ports->count; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                 ports->patterns[i]);
    return xg_fail(err, "'%s' is not a guest port (guest ports are named %s)", name, list);
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

int xg_vif_parse_ip(const char *text, struct xg_prefix *out, struct xg_err *err)
{
    char why[200];
    if (xg_prefix_parse(text, XG_PREFIX_STRICT, out, why, sizeof(why)) < 0)
        return xg_fail(err, "'%.80s' is not an IP address", text);
    if (out->len != xg_family_bits(out->family))
        return xg_fail(err, "'%s' is a network; give the guest's addresses one by one", text);
    const uint8_t *a = out->addr;
    bool bad;
    if (out->family == XG_FAMILY_IPV4)
        bad = a[0] == 0 || a[0] == 127 || a[0] >= 224;
    else
        bad = all_zero(a, 16) || (all_zero(a, 15) && a[15] == 1) || a[0] == 0xff;
    if (bad)
        return xg_fail(err,
                       "'%s' cannot be a guest's address (unspecified, loopback, multicast or "
                       "broadcast)",
                       text);
    return 0;
}

/* xx:xx:xx:xx:xx:xx with one separator (':' or '-'); 0 or -1. */
static int mac_syntax(const char *text, uint8_t mac[6])
{
    if (strlen(text) != 17 || (text[2] != ':' && text[2] != '-'))
        return -1;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? text[i] != text[2] : !strchr("0123456789abcdefABCDEF", text[i]))
            return -1;
    }
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)strtoul((char[]){text[3 * i], text[3 * i + 1], '\0'}, NULL, 16);
    return 0;
}

int xg_vif_parse_mac(const char *text, uint8_t mac[6], struct xg_err *err)
{
    if (mac_syntax(text, mac) < 0)
        return xg_fail(err, "'%.40s' is not a MAC address (xx:xx:xx:xx:xx:xx)", text);
    if (mac[0] & 1)
        return xg_fail(err, "'%s' is a multicast MAC address; a guest's MAC is unicast", text);
    if (all_zero(mac, 6))
        return xg_fail(err, "'%s' is the zero MAC address", text);
    return 0;
}

static int add_mac(struct xg_vif_decl *d, const uint8_t mac[6])
{
    for (size_t i = 0; i < d->mac_count; i++)
        if (!memcmp(d->macs[i], mac, 6))
            return 0;
    uint8_t(*grown)[6] = realloc(d->macs, (d->mac_count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    d->macs = grown;
    memcpy(d->macs[d->mac_count++], mac, 6);
    return 0;
}

static int add_ip(struct xg_vif_decl *d, const struct xg_prefix *p)
{
    if (xg_prefix_list_covers(&d->ips, p))
        return 0;
    return xg_prefix_list_add(&d->ips, p);
}

int xg_vif_decl_make(struct xg_vif_decl *d, const char *ifname, const char *const *ips,
                     size_t ip_count, const char *mac, const struct xg_vif_ports *ports,
                     struct xg_err *err)
{
    memset(d, 0, sizeof(*d));
    if (xg_vif_check_ifname(ifname, ports, err) < 0)
        return -1;
    snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
    d->declared = true;
    if (!mac)
        return xg_fail(err,
                       "%s: --mac is needed: a declared port passes only frames from its "
                       "declared MAC",
                       ifname);
    if (!ip_count)
        return xg_fail(err,
                       "%s: at least one --ip is needed: a declared port passes only IP "
                       "traffic from its declared addresses",
                       ifname);
    if (ip_count > XG_VIF_MAX_IPS)
        return xg_fail(err, "%s: at most %d addresses per port", ifname, XG_VIF_MAX_IPS);
    uint8_t m[6];
    if (xg_vif_parse_mac(mac, m, err) < 0 || add_mac(d, m) < 0)
        return err->msg[0] ? -1 : xg_fail(err, "out of memory");
    for (size_t i = 0; i < ip_count; i++) {
        struct xg_prefix p;
        if (xg_vif_parse_ip(ips[i], &p, err) < 0)
            return -1;
        if (add_ip(d, &p) < 0)
            return xg_fail(err, "out of memory");
    }
    return 0;
}

void xg_vif_decl_free(struct xg_vif_decl *d)
{
    xg_prefix_list_free(&d->ips);
    xg_prefix_list_free(&d->nd);
    free(d->macs);
    memset(d, 0, sizeof(*d));
}

const struct xg_vif_decl *xg_vif_list_find(const struct xg_vif_list *l, const char *ifname)
{
    for (size_t i = 0; i < l->count; i++)
        if (!strcmp(l->items[i].ifname, ifname))
            return &l->items[i];
    return NULL;
}

struct xg_vif_decl *xg_vif_list_get(struct xg_vif_list *l, const char *ifname)
{
    struct xg_vif_decl *d = (struct xg_vif_decl *)xg_vif_list_find(l, ifname);
    if (d)
        return d;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct xg_vif_decl *grown = realloc(l->items, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        l->items = grown;
        l->cap = cap;
    }
    d = &l->items[l->count++];
    memset(d, 0, sizeof(*d));
    snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
    return d;
}

void xg_vif_list_free(struct xg_vif_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        xg_vif_decl_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* ---- the listing ---- */

/* SET_IP6_ND, the companion of vif_ip6 holding the same addresses as integers
 * (names.h XG_NFT_ND_SUFFIX), is optional: a table without it has no ND target
 * rule to feed. */
enum set_kind { SET_DECLARED, SET_IP4, SET_IP6, SET_MAC, SET_IP6_ND, SET_KINDS };

static const struct {
    const char *name;
    const char *type2; /* the second key type; NULL: plain ifname */
} sets[SET_KINDS] = {
    {XG_BR_SET_DECLARED, NULL},
    {XG_BR_SET_IP4, "ipv4_addr"},
    {XG_BR_SET_IP6, "ipv6_addr"},
    {XG_BR_SET_MAC, "ether_addr"},
    {XG_BR_SET_IP6 XG_NFT_ND_SUFFIX, "integer"},
};

/* "0x20010db8...0010" (32 hex digits) <-> an IPv6 host prefix. */
static int nd_parse(const char *text, struct xg_prefix *p)
{
    if (strlen(text) != 34 || strncmp(text, "0x", 2) ||
        strspn(text + 2, "0123456789abcdefABCDEF") != 32)
        return -1;
    memset(p, 0, sizeof(*p));
    p->family = XG_FAMILY_IPV6;
    p->len = 128;
    for (int i = 0; i < 16; i++)
        p->addr[i] = (uint8_t)strtoul((char[]){text[2 + 2 * i], text[3 + 2 * i], '\0'}, NULL, 16);
    return 0;
}

static void nd_format(const struct xg_prefix *p, char out[35])
{
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 + 2 * i, 3, "%02x", p->addr[i]);
}

static bool str_is(json_t *v, const char *s)
{
    return json_is_string(v) && !strcmp(json_string_value(v), s);
}

static bool type_ok(json_t *type, enum set_kind k)
{
    if (!sets[k].type2)
        return str_is(type, "ifname");
    return json_is_array(type) && json_array_size(type) == 2 &&
           str_is(json_array_get(type, 0), "ifname") &&
           str_is(json_array_get(type, 1), sets[k].type2);
}

/* One element: "vif1.0" or {"concat": ["vif1.0", VALUE]}, maybe wrapped in {"elem": {"val": }}. */
static int add_element(struct xg_vif_list *l, enum set_kind k, json_t *e, struct xg_err *err)
{
    json_t *wrapped = json_object_get(json_object_get(e, "elem"), "val");
    if (wrapped)
        e = wrapped;
    json_t *concat = json_object_get(e, "concat");
    const char *ifname = json_string_value(concat ? json_array_get(concat, 0) : e);
    const char *value = json_string_value(json_array_get(concat, 1));
    if (!ifname || !*ifname || strlen(ifname) >= XG_IFNAMSIZ || (k != SET_DECLARED && !value)) {
        char *text = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
        xg_fail(err, "set %s: element %.200s is not an interface%s", sets[k].name,
                text ? text : "?", k == SET_DECLARED ? "" : " pair");
        free(text);
        return -1;
    }
    struct xg_vif_decl *d = xg_vif_list_get(l, ifname);
    if (!d)
        return xg_fail(err, "out of memory");
    struct xg_prefix p;
    uint8_t mac[6];
    switch (k) {
    case SET_DECLARED:
        d->declared = true;
        return 0;
    case SET_IP6_ND:
        if (nd_parse(value, &p) < 0)
            return xg_fail(err, "set %s: '%s' is not an IPv6 address as an integer", sets[k].name,
                           value);
        return xg_prefix_list_covers(&d->nd, &p) || xg_prefix_list_add(&d->nd, &p) == 0
                   ? 0
                   : xg_fail(err, "out of memory");
    case SET_MAC:
        if (mac_syntax(value, mac) < 0)
            return xg_fail(err, "set %s: '%s' is not a MAC address", sets[k].name, value);
        return add_mac(d, mac) < 0 ? xg_fail(err, "out of memory") : 0;
    default:
        if (xg_addr_parse(value, &p) < 0 ||
            p.family != (k == SET_IP4 ? XG_FAMILY_IPV4 : XG_FAMILY_IPV6))
            return xg_fail(err, "set %s: '%s' is not an IPv%c address", sets[k].name, value,
                           k == SET_IP4 ? '4' : '6');
        return add_ip(d, &p) < 0 ? xg_fail(err, "out of memory") : 0;
    }
}

int xg_vif_parse_listing(const char *json, struct xg_vif_list *out, struct xg_err *err)
{
    json_error_t jerr;
    json_t *root = json_loads(json, 0, &jerr), *item;
    bool seen[SET_KINDS] = {false};
    size_t i;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (!root)
        return xg_fail(err, "table listing:%d:%d: %s", jerr.line, jerr.column, jerr.text);
    json_array_foreach(json_object_get(root, "nftables"), i, item)
    {
        json_t *set = json_object_get(item, "set");
        const char *name = json_string_value(json_object_get(set, "name"));
        if (!str_is(json_object_get(set, "family"), XG_NFT_BRIDGE_FAMILY) ||
            !str_is(json_object_get(set, "table"), XG_NFT_TABLE))
            continue; /* another table's set of the same name */
        for (int k = 0; set && name && k < SET_KINDS && rc == 0; k++) {
            if (strcmp(name, sets[k].name))
                continue;
            seen[k] = true;
            if (!type_ok(json_object_get(set, "type"), (enum set_kind)k)) {
                rc = xg_fail(err, "table " BR_TABLE ": set %s is not of the type xenguard uses",
                             name);
                break;
            }
            json_t *e;
            size_t j;
            json_array_foreach(json_object_get(set, "elem"), j, e)
            {
                if ((rc = add_element(out, (enum set_kind)k, e, err)) < 0)
                    break;
            }
        }
    }
    out->has_nd = seen[SET_IP6_ND];
    for (int k = 0; rc == 0 && k < SET_IP6_ND; k++)
        if (!seen[k]) {
            xg_fail(err,
                    "table " BR_TABLE " has no set %s: guest protection is off in the "
                    "loaded ruleset (see [guests] in xenguard.conf(5))",
                    sets[k].name);
            rc = XG_VIF_NOT_LOADED;
        }
    json_decref(root);
    if (rc < 0)
        xg_vif_list_free(out);
    return rc;
}

/* ---- commands ---- */

static bool has_family(const struct xg_vif_decl *d, uint8_t family)
{
    return xg_prefix_list_count_family(&d->ips, family) > 0;
}

/* The ND companion's elements: as listed (old), or the IPv6 addresses (new). */
static void nd_elements(struct xg_buf *out, const struct xg_vif_decl *d, bool listed)
{
    const struct xg_prefix_list *l = listed ? &d->nd : &d->ips;
    const char *sep = "";
    for (size_t i = 0; i < l->count; i++) {
        char hex[35];
        if (l->items[i].family != XG_FAMILY_IPV6)
            continue;
        nd_format(&l->items[i], hex);
        xg_buf_printf(out, "%s\"%s\" . %s", sep, d->ifname, hex);
        sep = ", ";
    }
}

/* "VERB element bridge xenguard SET { "if" . v, ... }" for one set, when d has elements
 * there (the ND companion: `nd` says whether the table has it). */
static void set_cmd(struct xg_buf *out, const char *verb, const struct xg_vif_decl *d,
                    enum set_kind k, bool nd)
{
    const char *sep = "";
    bool old = !strcmp(verb, "delete");
    if ((k == SET_DECLARED && !d->declared) || (k == SET_MAC && !d->mac_count) ||
        (k == SET_IP4 && !has_family(d, XG_FAMILY_IPV4)) ||
        (k == SET_IP6 && !has_family(d, XG_FAMILY_IPV6)) ||
        (k == SET_IP6_ND && (!nd || (old ? !d->nd.count : !has_family(d, XG_FAMILY_IPV6)))))
        return;
    xg_buf_printf(out, "%s element " BR_TABLE " %s { ", verb, sets[k].name);
    if (k == SET_DECLARED)
        xg_buf_printf(out, "\"%s\"", d->ifname);
    for (size_t i = 0; k == SET_MAC && i < d->mac_count; i++, sep = ", ") {
        const uint8_t *m = d->macs[i];
        xg_buf_printf(out, "%s\"%s\" . %02x:%02x:%02x:%02x:%02x:%02x", sep, d->ifname, m[0], m[1],
                      m[2], m[3], m[4], m[5]);
    }
    for (size_t i = 0; (k == SET_IP4 || k == SET_IP6) && i < d->ips.count; i++) {
        const struct xg_prefix *p = &d->ips.items[i];
        if (p->family != (k == SET_IP4 ? XG_FAMILY_IPV4 : XG_FAMILY_IPV6))
            continue;
        char text[XG_PREFIX_STRLEN];
        xg_prefix_format(p, true, text);
        xg_buf_printf(out, "%s\"%s\" . %s", sep, d->ifname, text);
        sep = ", ";
    }
    if (k == SET_IP6_ND)
        nd_elements(out, d, old);
    xg_buf_puts(out, " }\n");
}

void xg_vif_cmds(const struct xg_vif_decl *old, const struct xg_vif_decl *new_decl, bool nd,
                 struct xg_buf *out)
{
    for (int k = 0; old && k < SET_KINDS; k++)
        set_cmd(out, "delete", old, (enum set_kind)k, nd);
    for (int k = 0; new_decl && k < SET_KINDS; k++)
        set_cmd(out, "add", new_decl, (enum set_kind)k, nd);
}

/* ---- the kernel ---- */

int xg_vif_loaded(struct xg_vif_list *out, struct xg_err *err)
{
    char *json = NULL;
    struct xg_err e = {{0}};
    memset(out, 0, sizeof(*out));
    if (xg_nft_run("list table " BR_TABLE, true, "nft", &json, &e) < 0) {
        if (strstr(e.msg, "No such file or directory")) {
            xg_fail(err, "table " BR_TABLE " is not loaded: run 'xenguard apply' first "
                         "(with guest protection on)");
            return XG_VIF_NOT_LOADED;
        }
        return xg_fail(err, "%s", e.msg);
    }
    int rc = xg_vif_parse_listing(json, out, err);
    free(json);
    return rc;
}

/* Read the port's elements, replace them by new_decl (NULL: none); retried when a
 * concurrent change made the listed elements stale. */
static int replace(const char *ifname, const struct xg_vif_decl *new_decl, bool *had,
                   struct xg_err *err)
{
    for (int attempt = 0;; attempt++) {
        struct xg_vif_list l;
        int loaded = xg_vif_loaded(&l, err);
        if (loaded < 0)
            return loaded;
        const struct xg_vif_decl *old = xg_vif_list_find(&l, ifname);
        struct xg_buf cmds = {0};
        xg_vif_cmds(old, new_decl, l.has_nd, &cmds);
        if (had)
            *had = old != NULL;
        int rc = 0;
        struct xg_err e = {{0}};
        if (xg_buf_failed(&cmds))
            rc = xg_fail(&e, "out of memory");
        else if (cmds.len)
            rc = xg_nft_run(xg_buf_str(&cmds), false, ifname, NULL, &e);
        xg_buf_free(&cmds);
        xg_vif_list_free(&l);
        if (rc == 0)
            return 0;
        if (attempt < 3 && strstr(e.msg, "No such file or directory"))
            continue;
        return xg_fail(err, "%s", e.msg);
    }
}

int xg_vif_online(const struct xg_vif_decl *d, struct xg_err *err)
{
    return replace(d->ifname, d, NULL, err);
}

int xg_vif_offline(const char *ifname, bool *had, struct xg_err *err)
{
    return replace(ifname, NULL, had, err);
}
