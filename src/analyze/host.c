/*
 * host.c — reading rulesets and interface maps from files and the host.
 *
 * The live ruleset: libnftables gives the whole nf_tables ruleset as JSON,
 * the same text `nft -j list ruleset` prints, so one parser serves files and
 * the host. Tables that iptables-nft made (ip/ip6 "filter", "nat", ...) hold
 * xtables expressions nft can only show as `xt`; for those, the
 * iptables-nft-save view is parsed instead and replaces them, so that
 * iptables rules on a modern host are understood rather than left unknown.
 * Legacy (x_tables) rules live outside nf_tables and are read with
 * iptables-legacy-save when that tool exists. Interface prefixes come from
 * iproute2's JSON output. Only read commands are ever run.
 */
#include "analyze/host.h"

#include <errno.h>
#include <jansson.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/space.h"
#include "util/file.h"

static uint8_t guess_ipt_family(const char *text)
{
    static const char *const opts[] = {" -s ", " -d ", " --src-range ", " --dst-range "};
    if (strstr(text, "ip6tables"))
        return 6;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        for (const char *p = strstr(text, opts[i]); p; p = strstr(p + 1, opts[i])) {
            const char *e = p + strlen(opts[i]);
            if (*e == '!')
                e += 2;
            for (; *e && *e != ' ' && *e != '\n'; e++)
                if (*e == ':')
                    return 6;
        }
    return 4;
}

int xg_load_ruleset_file(const char *kind, const char *path, struct xg_ruleset *rs,
                         struct xg_err *err)
{
    char *text;
    size_t len, i = 0;
    int rc;
    if (xg_file_read(path, false, &text, &len, err) < 0)
        return -1;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
        i++;
    if (!kind)
        kind = (i < len && text[i] == '{')   ? "nft-json"
               : guess_ipt_family(text) == 6 ? "ip6tables"
                                             : "iptables";
    if (!strcmp(kind, "nft-json"))
        rc = xg_parse_nft_json(text, len, path, rs, err);
    else
        rc = xg_parse_iptables_save(text, len, path, !strcmp(kind, "ip6tables") ? 6 : 4, rs, err);
    free(text);
    return rc;
}

/* Output of a read-only command, or NULL when it is not there or fails. */
static char *run_read(const char *cmd, size_t *len)
{
    FILE *p = popen(cmd, "r");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!p)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            char *g;
            cap = cap ? cap * 2 : 65536;
            if (!(g = realloc(buf, cap + 1))) {
                free(buf);
                pclose(p);
                return NULL;
            }
            buf = g;
        }
        size_t got = fread(buf + n, 1, cap - n, p);
        n += got;
        if (!got)
            break;
    }
    if (pclose(p) != 0 || !buf) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool tool_exists(const char *name)
{
    static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"};
    char path[256];
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", dirs[i], name);
        if (access(path, X_OK) == 0)
            return true;
    }
    return false;
}

static void table_remove(struct xg_ruleset *rs, size_t i)
{
    xg_table_free(rs->tables[i]);
    memmove(&rs->tables[i], &rs->tables[i + 1], (rs->table_count - i - 1) * sizeof(*rs->tables));
    rs->table_count--;
}

/* A table iptables-nft made: its base chains carry iptables' built-in names
 * (nft users name theirs freely, and may reuse a table name like "raw"). */
static bool made_by_iptables(const struct xg_table *t)
{
    size_t bases = 0;
    for (size_t c = 0; c < t->chain_count; c++) {
        if (t->chains[c]->hook == XG_HOOK_NONE)
            continue;
        bases++;
        if (xg_builtin_chain_parse(t->chains[c]->name) == XG_HOOK_NONE)
            return false;
    }
    return bases > 0;
}

/* iptables-nft tables seen through their xtables view. */
static int replace_xt_tables(struct xg_ruleset *rs, const char *tool, uint8_t family,
                             struct xg_err *err)
{
    struct xg_ruleset ipt = {0};
    size_t len;
    char cmd[128];
    char *text;
    enum xg_table_family tf = family == 6 ? XG_TABLE_IP6 : XG_TABLE_IP;
    if (!tool_exists(tool))
        return 0;
    snprintf(cmd, sizeof(cmd), "%s 2>/dev/null", tool);
    if (!(text = run_read(cmd, &len)))
        return 0;
    if (xg_parse_iptables_save(text, len, tool, family, &ipt, err) < 0) {
        free(text);
        xg_ruleset_free(&ipt);
        return -1;
    }
    free(text);
    for (size_t i = 0; i < ipt.table_count; i++) {
        bool replaced = false;
        for (size_t j = 0; j < rs->table_count; j++)
            if (rs->tables[j]->family == tf && !strcmp(rs->tables[j]->name, ipt.tables[i]->name) &&
                made_by_iptables(rs->tables[j])) {
                table_remove(rs, j);
                replaced = true;
                break;
            }
        if (!replaced) {
            /* an nft-made table of that name: nft's view is the right one */
            xg_table_free(ipt.tables[i]);
            ipt.tables[i] = NULL;
            continue;
        }
        struct xg_table **g = realloc(rs->tables, (rs->table_count + 1) * sizeof(*g));
        if (!g) {
            for (size_t k = i; k < ipt.table_count; k++)
                xg_table_free(ipt.tables[k]);
            free(ipt.tables);
            return xg_fail(err, "out of memory");
        }
        rs->tables = g;
        rs->tables[rs->table_count++] = ipt.tables[i];
        ipt.tables[i] = NULL;
    }
    free(ipt.tables);
    return 0;
}

static int add_legacy(struct xg_ruleset *rs, const char *tool, uint8_t family, struct xg_err *err)
{
    size_t len;
    char cmd[128];
    char *text;
    int rc;
    if (!tool_exists(tool))
        return 0;
    snprintf(cmd, sizeof(cmd), "%s 2>/dev/null", tool);
    if (!(text = run_read(cmd, &len)))
        return 0;
    rc = xg_parse_iptables_save(text, len, tool, family, rs, err);
    free(text);
    return rc;
}

int xg_load_live_ruleset(struct xg_ruleset *rs, struct xg_err *err)
{
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    const char *out;
    int rc;
    if (!nft)
        return xg_fail(err, "libnftables: cannot create a context");
    nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
    if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
        nft_ctx_free(nft);
        return xg_fail(err, "libnftables: cannot buffer output");
    }
    if (nft_run_cmd_from_buffer(nft, "list ruleset") != 0) {
        const char *e = nft_ctx_get_error_buffer(nft);
        xg_fail(err, "nft list ruleset: %s (are you root?)", e && *e ? e : "failed");
        nft_ctx_free(nft);
        return -1;
    }
    out = nft_ctx_get_output_buffer(nft);
    rc = out && *out ? xg_parse_nft_json(out, strlen(out), "nft list ruleset", rs, err) : 0;
    nft_ctx_free(nft);
    if (rc < 0)
        return -1;
    if (replace_xt_tables(rs, "iptables-nft-save", 4, err) < 0 ||
        replace_xt_tables(rs, "ip6tables-nft-save", 6, err) < 0 ||
        add_legacy(rs, "iptables-legacy-save", 4, err) < 0 ||
        add_legacy(rs, "ip6tables-legacy-save", 6, err) < 0)
        return -1;
    return 0;
}

/* --- interface maps --- */

static struct xg_ifmap_entry *ifmap_get(struct xg_ifmap *m, const char *name)
{
    struct xg_ifmap_entry *g;
    for (size_t i = 0; i < m->count; i++)
        if (!strcmp(m->entries[i].ifname, name))
            return &m->entries[i];
    g = realloc(m->entries, (m->count + 1) * sizeof(*g));
    if (!g)
        return NULL;
    m->entries = g;
    memset(&g[m->count], 0, sizeof(*g));
    snprintf(g[m->count].ifname, XG_IFNAMSIZ, "%s", name);
    return &g[m->count++];
}

int xg_ifmap_parse(const char *text, size_t len, const char *path, struct xg_ifmap *out,
                   struct xg_err *err)
{
    const struct xg_src src = {path, text, len};
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        const char *eol = memchr(text + pos, '\n', len - pos);
        size_t ll = eol ? (size_t)(eol - (text + pos)) : len - pos;
        char *line = strndup(text + pos, ll), *save = NULL, *tok, *hash;
        struct xg_ifmap_entry *e = NULL;
        lineno++;
        pos += ll + 1;
        if (!line)
            return xg_fail(err, "out of memory");
        if ((hash = strchr(line, '#')))
            *hash = '\0';
        for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
            if (!e) {
                if (strlen(tok) >= XG_IFNAMSIZ) {
                    unsigned col = (unsigned)(tok - line) + 1;
                    xg_fail_src(err, &src, lineno, col, (unsigned)strlen(tok),
                                "interface name '%s' is too long", tok);
                    free(line);
                    return -1;
                }
                if (!(e = ifmap_get(out, tok))) {
                    free(line);
                    return xg_fail(err, "out of memory");
                }
                continue;
            }
            struct xg_prefix p;
            char why[160];
            if (xg_prefix_parse(tok, XG_PREFIX_STRICT, &p, why, sizeof(why)) < 0) {
                unsigned col = (unsigned)(tok - line) + 1, n = (unsigned)strlen(tok);
                free(line);
                return xg_fail_src(err, &src, lineno, col, n, "%s", why);
            }
            if (xg_prefix_list_add(&e->prefixes, &p) < 0) {
                free(line);
                return xg_fail(err, "out of memory");
            }
        }
        free(line);
    }
    return 0;
}

static int ip_json(const char *cmd, json_t **out, struct xg_err *err)
{
    size_t len;
    char *text = run_read(cmd, &len);
    json_error_t jerr;
    if (!text)
        return xg_fail(err, "'%s' failed (is iproute2 installed?)", cmd);
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!*out || !json_is_array(*out)) {
        json_decref(*out);
        return xg_fail(err, "'%s': unexpected output", cmd);
    }
    return 0;
}

int xg_ifmap_from_host(struct xg_ifmap *out, struct xg_err *err)
{
    json_t *addrs = NULL, *routes4 = NULL, *routes6 = NULL, *x;
    size_t i, j;
    int rc = -1;
    if (ip_json("ip -j addr show 2>/dev/null", &addrs, err) < 0 ||
        ip_json("ip -4 -j route show table main 2>/dev/null", &routes4, err) < 0 ||
        ip_json("ip -6 -j route show table main 2>/dev/null", &routes6, err) < 0)
        goto out;
    json_array_foreach(addrs, i, x)
    {
        const char *name = json_string_value(json_object_get(x, "ifname"));
        json_t *ai = json_object_get(x, "addr_info"), *a;
        struct xg_ifmap_entry *e;
        if (!name || !(e = ifmap_get(out, name)))
            continue;
        json_array_foreach(ai, j, a)
        {
            const char *local = json_string_value(json_object_get(a, "local"));
            json_t *plen = json_object_get(a, "prefixlen");
            struct xg_prefix p;
            if (!local || !json_is_integer(plen) || xg_addr_parse(local, &p) < 0)
                continue;
            p.len = (uint8_t)json_integer_value(plen);
            xg_prefix_mask(&p);
            xg_prefix_list_add(&e->prefixes, &p);
        }
    }
    for (int f = 0; f < 2; f++) {
        json_t *routes = f ? routes6 : routes4;
        json_array_foreach(routes, i, x)
        {
            const char *dst = json_string_value(json_object_get(x, "dst"));
            const char *dev = json_string_value(json_object_get(x, "dev"));
            struct xg_ifmap_entry *e;
            struct xg_prefix p;
            char why[160];
            if (!dst || !dev || !(e = ifmap_get(out, dev)))
                continue;
            if (!strcmp(dst, "default"))
                xg_prefix_parse(f ? "::/0" : "0.0.0.0/0", XG_PREFIX_MASK, &p, why, sizeof(why));
            else if (xg_prefix_parse(dst, XG_PREFIX_MASK, &p, why, sizeof(why)) < 0)
                continue;
            if (!xg_prefix_list_covers(&e->prefixes, &p))
                xg_prefix_list_add(&e->prefixes, &p);
        }
    }
    rc = 0;
out:
    json_decref(addrs);
    json_decref(routes4);
    json_decref(routes6);
    return rc;
}

void xg_ifmap_free(struct xg_ifmap *m)
{
    for (size_t i = 0; i < m->count; i++)
        xg_prefix_list_free(&m->entries[i].prefixes);
    free(m->entries);
    m->entries = NULL;
    m->count = 0;
}

int xg_ifmap_rpf(const struct xg_ifmap *m, const char *ifname, uint8_t family,
                 struct xg_prefix_list *out)
{
    struct xg_atoms a = {.family = family};
    struct xg_ivlist iv = {0};
    int rc = -1;
    for (size_t i = 0; i < m->count; i++)
        for (size_t k = 0; k < m->entries[i].prefixes.count; k++) {
            const struct xg_prefix *p = &m->entries[i].prefixes.items[k];
            if (p->family == family && xg_atoms_cut(&a, xg_prefix_lo(p), xg_prefix_hi(p)) < 0)
                goto out;
        }
    if (xg_atoms_finish(&a) < 0)
        goto out;
    for (size_t at = 0; at < a.count; at++) {
        struct xg_prefix rep;
        int best = -1;
        const char *via = NULL;
        xg_u128_to_addr(a.starts[at], family, &rep);
        for (size_t i = 0; i < m->count; i++)
            for (size_t k = 0; k < m->entries[i].prefixes.count; k++) {
                const struct xg_prefix *p = &m->entries[i].prefixes.items[k];
                if (xg_prefix_contains(p, &rep) && p->len > best) {
                    best = p->len;
                    via = m->entries[i].ifname;
                }
            }
        if (via && !strcmp(via, ifname) &&
            xg_ivlist_add(&iv, a.starts[at], xg_atoms_hi(&a, at)) < 0)
            goto out;
    }
    xg_ivlist_normalize(&iv);
    rc = xg_ivlist_to_prefixes(&iv, family, out);
out:
    xg_atoms_free(&a);
    xg_ivlist_free(&iv);
    return rc;
}
