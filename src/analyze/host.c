/*
 * host.c — reading rulesets and interface maps from files and the host.
 *
 * The live ruleset: libnftables gives the whole nf_tables ruleset as JSON,
 * the same text `nft -j list ruleset` prints, so one parser serves files and
 * the host; iptables-nft-save and iptables-legacy-save (both families, when
 * installed) give the iptables views, and xg_ruleset_from_evidence()
 * (evidence.c) combines them by the one rule. Interface prefixes come from
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
#include "util/proc.h"

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

enum xg_fw_kind xg_fw_kind_guess(const char *text)
{
    size_t i = strspn(text, " \n\t\r");
    return text[i] == '{'                ? XG_FW_NFT_JSON
           : guess_ipt_family(text) == 6 ? XG_FW_SAVE6
                                         : XG_FW_SAVE4;
}

int xg_fw_kind_parse(const char *kind, enum xg_fw_kind *out)
{
    if (!strcmp(kind, "nft-json"))
        *out = XG_FW_NFT_JSON;
    else if (!strcmp(kind, "iptables"))
        *out = XG_FW_SAVE4;
    else if (!strcmp(kind, "ip6tables"))
        *out = XG_FW_SAVE6;
    else
        return -1;
    return 0;
}

int xg_load_ruleset_file(const char *kind, const char *path, struct xg_ruleset *rs,
                         struct xg_err *err)
{
    struct xg_fw_evidence ev = {.count = 1};
    char *text;
    size_t len;
    int rc;
    if (xg_file_read(path, false, &text, &len, err) < 0)
        return -1;
    ev.views[0].text = text;
    ev.views[0].name = path;
    if (!kind)
        ev.views[0].kind = xg_fw_kind_guess(text);
    else if (xg_fw_kind_parse(kind, &ev.views[0].kind) < 0) {
        free(text);
        return xg_fail(err, "%s: unknown ruleset kind '%s'", path, kind);
    }
    rc = xg_ruleset_from_evidence(&ev, rs, err);
    free(text);
    return rc;
}

/* Output of a read-only command (argv, through the one process runner), or
 * NULL when it is not there, fails or takes longer than 30 s. */
static char *run_read(char *const argv[], size_t *len)
{
    struct xg_proc_opts o = {.timeout_ms = 30000};
    struct xg_proc p;
    struct xg_err err;
    if (xg_proc_run(argv, &o, &p, &err) < 0)
        return NULL;
    char *out = NULL;
    if (xg_proc_ok(&p)) {
        out = p.out;
        *len = p.out_len;
        p.out = NULL;
    }
    xg_proc_free(&p);
    return out;
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

/* The output of a read-only tool, or NULL when it is not installed or fails. */
static char *tool_output(const char *tool)
{
    char *argv[] = {(char *)tool, NULL};
    size_t len;
    if (!tool_exists(tool))
        return NULL;
    return run_read(argv, &len);
}

/* `nft -j list ruleset` through libnftables, as a string of our own ("" when empty). */
static int nft_listing(char **out, struct xg_err *err)
{
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    const char *text;
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
    text = nft_ctx_get_output_buffer(nft);
    *out = strdup(text ? text : "");
    nft_ctx_free(nft);
    return *out ? 0 : xg_fail(err, "out of memory");
}

int xg_load_live_ruleset(struct xg_ruleset *rs, struct xg_err *err)
{
    static const struct {
        const char *tool;
        enum xg_fw_kind kind;
    } tools[] = {{"iptables-nft-save", XG_FW_SAVE4},
                 {"ip6tables-nft-save", XG_FW_SAVE6},
                 {"iptables-legacy-save", XG_FW_SAVE4},
                 {"ip6tables-legacy-save", XG_FW_SAVE6}};
    struct xg_fw_evidence ev = {.count = 5};
    char *nft = NULL, *texts[4] = {NULL};
    int rc;
    memset(rs, 0, sizeof(*rs));
    if (nft_listing(&nft, err) < 0)
        return -1;
    ev.views[0] = (struct xg_fw_view){XG_FW_NFT_JSON, *nft ? nft : NULL, "nft list ruleset"};
    for (size_t i = 0; i < 4; i++) {
        texts[i] = tool_output(tools[i].tool);
        ev.views[i + 1] = (struct xg_fw_view){tools[i].kind, texts[i], tools[i].tool};
    }
    rc = xg_ruleset_from_evidence(&ev, rs, err);
    free(nft);
    for (size_t i = 0; i < 4; i++)
        free(texts[i]);
    return rc;
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

/* "IFACE !P..." gives the interface every address of P's family outside the P's. */
static int ifmap_add_complement(struct xg_ifmap_entry *e, const struct xg_prefix_list * not )
{
    for (uint8_t family = 4; family <= 6; family += 2) {
        struct xg_ivlist iv = {0}, rest = {0};
        int rc = 0;
        if (!xg_prefix_list_count_family(not, family))
            continue;
        if (xg_ivlist_from_prefixes(&iv, not, family) < 0 ||
            xg_ivlist_complement(&iv, family, &rest) < 0 ||
            xg_ivlist_to_prefixes(&rest, family, &e->prefixes) < 0)
            rc = -1;
        xg_ivlist_free(&iv);
        xg_ivlist_free(&rest);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The host's own address `a` on subnet `net`: recorded with its broadcast. */
static int add_own(struct xg_ifmap *m, const struct xg_prefix *a, const struct xg_prefix *net)
{
    struct xg_prefix host = *a, b;
    host.len = (uint8_t)xg_family_bits(a->family);
    if (xg_prefix_list_add(&m->local, &host) < 0)
        return -1;
    if (a->family != XG_FAMILY_IPV4 || net->len >= 31)
        return 0;
    xg_u128_to_addr(xg_prefix_hi(net), XG_FAMILY_IPV4, &b);
    return xg_prefix_list_add(&m->bcast, &b);
}

/* "ADDR/LEN" with host bits: the host's address on that subnet (-> *net). */
static bool host_address(const char *tok, struct xg_ifmap *m, struct xg_prefix *net)
{
    struct xg_prefix a;
    char why[160];
    const char *slash = strchr(tok, '/');
    if (!slash || xg_prefix_parse(tok, XG_PREFIX_MASK, net, why, sizeof(why)) < 0)
        return false;
    char addr[64];
    snprintf(addr, sizeof(addr), "%.*s", (int)(slash - tok), tok);
    if (xg_addr_parse(addr, &a) < 0)
        return false;
    return add_own(m, &a, net) == 0;
}

void xg_ifmap_addrtypes(const struct xg_ifmap *m, struct xg_packet_query *q)
{
    if (m->local.count) {
        q->local = &m->local;
        q->bcast = &m->bcast;
    }
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
        struct xg_prefix_list not = {0}; /* "!PREFIX": every address but these */
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
            bool neg = tok[0] == '!';
            if (xg_prefix_parse(tok + neg, XG_PREFIX_STRICT, &p, why, sizeof(why)) < 0 &&
                (neg || !host_address(tok, out, &p))) {
                unsigned col = (unsigned)(tok - line) + 1, n = (unsigned)strlen(tok);
                free(line);
                xg_prefix_list_free(&not );
                return xg_fail_src(err, &src, lineno, col, n, "%s", why);
            }
            if (xg_prefix_list_add(neg ? &not : &e->prefixes, &p) < 0) {
                free(line);
                xg_prefix_list_free(&not );
                return xg_fail(err, "out of memory");
            }
        }
        free(line);
        if (e && ifmap_add_complement(e, &not ) < 0) {
            xg_prefix_list_free(&not );
            return xg_fail(err, "out of memory");
        }
        xg_prefix_list_free(&not );
    }
    return 0;
}

static int ip_json(char *const argv[], const char *cmd, json_t **out, struct xg_err *err)
{
    size_t len;
    char *text = run_read(argv, &len);
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
    static char *const addr_argv[] = {"ip", "-j", "addr", "show", NULL};
    static char *const route4_argv[] = {"ip", "-4", "-j", "route", "show", "table", "main", NULL};
    static char *const route6_argv[] = {"ip", "-6", "-j", "route", "show", "table", "main", NULL};
    if (ip_json(addr_argv, "ip -j addr show", &addrs, err) < 0 ||
        ip_json(route4_argv, "ip -4 -j route show table main", &routes4, err) < 0 ||
        ip_json(route6_argv, "ip -6 -j route show table main", &routes6, err) < 0)
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
            struct xg_prefix own = p;
            p.len = (uint8_t)json_integer_value(plen);
            xg_prefix_mask(&p);
            xg_prefix_list_add(&e->prefixes, &p);
            add_own(out, &own, &p);
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

int xg_ifmap_load(const char *path, struct xg_ifmap *out, struct xg_err *err)
{
    char *text;
    size_t len;
    int rc;
    if (!path)
        return xg_ifmap_from_host(out, err);
    if (xg_file_read(path, false, &text, &len, err) < 0)
        return -1;
    rc = xg_ifmap_parse(text, len, path, out, err);
    free(text);
    return rc;
}

int xg_ifmap_all_prefixes(const struct xg_ifmap *m, struct xg_prefix_list *out)
{
    for (size_t i = 0; i < m->count; i++)
        if (xg_prefix_list_copy(out, &m->entries[i].prefixes) < 0)
            return -1;
    if (xg_prefix_list_copy(out, &m->local) < 0 || xg_prefix_list_copy(out, &m->bcast) < 0)
        return -1;
    return 0;
}

void xg_ifmap_free(struct xg_ifmap *m)
{
    for (size_t i = 0; i < m->count; i++)
        xg_prefix_list_free(&m->entries[i].prefixes);
    free(m->entries);
    m->entries = NULL;
    m->count = 0;
    xg_prefix_list_free(&m->local);
    xg_prefix_list_free(&m->bcast);
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
