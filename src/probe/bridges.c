/*
 * bridges.c — which bridges Dom0 has and which ports sit on them, and which
 * guest ports the loaded `table bridge xenguard` declares: the evidence of
 * the guests' checks (check/guests.c).
 *
 * One text form carries bridge membership everywhere: "BRIDGE PORT PORT...",
 * a line per bridge. The live host's is made from /sys/class/net/BR/brif/
 * (xg_bridges_text); `xenguard capture` saves that same text as
 * xenguard/bridges.txt, and a captured root is read from there. One parser
 * (xg_bridges_parse) reads both. The declared ports come from the nft
 * listing the probe already read, through the one parser of that table's
 * vif sets (guests/vif.h).
 */
#include "probe/bridges.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guests/vif.h"
#include "util/buf.h"

/* An interface name as the kernel allows it in sysfs: 1..15 bytes, no '/' or space. */
static bool ifname_ok(const char *s)
{
    size_t n = strlen(s);
    return n && n < 16 && !strpbrk(s, "/ \t\n:") && strcmp(s, ".") && strcmp(s, "..");
}

char *xg_bridges_text(const struct xg_rootfs *r)
{
    char **ifs;
    size_t n;
    struct xg_buf b = {0};
    if (xg_rootfs_list(r, "/sys/class/net", &ifs, &n) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char rel[128], **ports;
        size_t np;
        if (!ifname_ok(ifs[i]))
            continue;
        snprintf(rel, sizeof(rel), "/sys/class/net/%s/brif", ifs[i]);
        if (xg_rootfs_list(r, rel, &ports, &np) < 0)
            continue; /* not a bridge */
        xg_buf_puts(&b, ifs[i]);
        for (size_t k = 0; k < np; k++)
            if (ifname_ok(ports[k]))
                xg_buf_printf(&b, " %s", ports[k]);
        xg_buf_puts(&b, "\n");
        xg_strv_free(ports, np);
    }
    xg_strv_free(ifs, n);
    if (xg_buf_failed(&b)) {
        xg_buf_free(&b);
        return NULL;
    }
    char *out = strdup(xg_buf_str(&b));
    xg_buf_free(&b);
    return out;
}

static int add_port(struct xg_bridge *br, const char *name)
{
    char(*grown)[16] = realloc(br->ports, (br->port_count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    br->ports = grown;
    snprintf(br->ports[br->port_count++], 16, "%s", name);
    return 0;
}

int xg_bridges_parse(const char *text, const char *name, struct xg_bridge **out, size_t *count,
                     struct xg_err *err)
{
    *out = NULL;
    *count = 0;
    unsigned line = 0;
    for (const char *s = text; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char buf[4096];
        line++;
        if (len >= sizeof(buf)) {
            return xg_fail_at(err, name, line, 0, "line too long");
        }
        memcpy(buf, s, len);
        buf[len] = '\0';
        s = nl ? nl + 1 : NULL;
        char *save = NULL, *tok = strtok_r(buf, " \t", &save);
        if (!tok)
            continue;
        struct xg_bridge *grown = realloc(*out, (*count + 1) * sizeof(**out));
        if (!grown)
            return xg_fail(err, "out of memory");
        *out = grown;
        struct xg_bridge *br = &(*out)[(*count)++];
        memset(br, 0, sizeof(*br));
        for (bool first = true; tok; tok = strtok_r(NULL, " \t", &save), first = false) {
            if (!ifname_ok(tok))
                return xg_fail_at(err, name, line, 0, "'%.40s' is not an interface name", tok);
            if (first)
                snprintf(br->name, sizeof(br->name), "%s", tok);
            else if (add_port(br, tok) < 0)
                return xg_fail(err, "out of memory");
        }
    }
    return 0;
}

void xg_probe_bridges(const struct xg_rootfs *r, struct xg_host *h, const char *captured,
                      const char *nft_json)
{
    char *text = r->live ? xg_bridges_text(r) : xg_rootfs_read(r, captured, NULL);
    if (text) {
        struct xg_err e = {{0}};
        h->bridges_present = true;
        if (xg_bridges_parse(text, captured, &h->bridges, &h->bridge_count, &e) < 0 &&
            !h->errors[XG_SEC_BRIDGES])
            h->errors[XG_SEC_BRIDGES] = strdup(e.msg);
        free(text);
    }
    struct xg_vif_list l;
    struct xg_err e = {{0}};
    if (!nft_json || xg_vif_parse_listing(nft_json, &l, &e) < 0)
        return; /* no listing, or no guests' table with its vif sets in it */
    h->guests_table_present = true;
    for (size_t i = 0; i < l.count; i++) {
        if (!l.items[i].declared)
            continue;
        char(*grown)[16] = realloc(h->vif_declared, (h->vif_declared_count + 1) * sizeof(*grown));
        if (!grown)
            break;
        h->vif_declared = grown;
        snprintf(h->vif_declared[h->vif_declared_count++], 16, "%s", l.items[i].ifname);
    }
    xg_vif_list_free(&l);
}
