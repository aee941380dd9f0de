/*
 * nft.c — libnftables calls: one transaction per change, errors reduced to
 * one line, JSON save/restore/normalize of table inet xenguard (see nft.h).
 *
 * Saved state is the kernel's own `nft -j list table` output. Restoring it
 * turns each listed object into an "add" command, preceded by "add table" +
 * "delete table" so the old contents go in the same batch: restore is as
 * atomic as apply.
 */
#include "apply/nft.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"

/* Reduce libnftables' multi-line error (message, source line, carets) to one line. */
static int fail_nft(struct xg_err *err, const char *name, const char *ebuf)
{
    char first[XG_ERR_MAX], src[200] = "";
    /* "In file included from ..." lines come first for included files: skip them. */
    while (ebuf && !strncmp(ebuf, "In file included from", 21) && strchr(ebuf, '\n'))
        ebuf = strchr(ebuf, '\n') + 1;
    const char *nl = ebuf ? strchr(ebuf, '\n') : NULL;
    if (!ebuf || !*ebuf)
        return xg_fail(err, "%s: nftables refused the ruleset (no detail given)", name);
    size_t n = nl ? (size_t)(nl - ebuf) : strlen(ebuf);
    if (n >= sizeof(first))
        n = sizeof(first) - 1;
    memcpy(first, ebuf, n);
    first[n] = '\0';
    if (nl && nl[1] && strncmp(nl + 1, "    ^", 5)) {
        const char *s = nl + 1;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t m = strcspn(s, "\n");
        if (m >= sizeof(src))
            m = sizeof(src) - 1;
        memcpy(src, s, m);
        src[m] = '\0';
    }
    const char *tag = "<cmdline>";
    char *at = strstr(first, tag);
    char line[XG_ERR_MAX];
    size_t fdlen = 0;
    if (!at && !strncmp(first, "/proc/self/fd/", 14)) { /* the checked copy, by its fd */
        at = first;
        fdlen = 14 + strspn(first + 14, "0123456789");
    }
    if (at)
        snprintf(line, sizeof(line), "%.*s%s%s", (int)(at - first), first, name,
                 at + (fdlen ? fdlen : strlen(tag)));
    else
        snprintf(line, sizeof(line), "%s", first);
    if (*src)
        return xg_fail(err, "%s: `%s`", line, src);
    return xg_fail(err, "%s", line);
}

/* xg_nft_run with libnftables' output flags (NFT_CTX_OUTPUT_JSON, _STATELESS). */
static int run_flags(const char *cmds, unsigned flags, const char *name, char **out,
                     struct xg_err *err)
{
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx)
        return xg_fail(err, "libnftables: cannot create a context");
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    if (flags)
        nft_ctx_output_set_flags(ctx, flags);
    int rc = nft_run_cmd_from_buffer(ctx, cmds);
    if (rc != 0) {
        fail_nft(err, name, nft_ctx_get_error_buffer(ctx));
        nft_ctx_free(ctx);
        return -1;
    }
    if (out) {
        const char *o = nft_ctx_get_output_buffer(ctx);
        *out = strdup(o ? o : "");
        if (!*out) {
            nft_ctx_free(ctx);
            return xg_fail(err, "out of memory");
        }
    }
    nft_ctx_free(ctx);
    return 0;
}

int xg_nft_run(const char *cmds, bool json, const char *name, char **out, struct xg_err *err)
{
    return run_flags(cmds, json ? NFT_CTX_OUTPUT_JSON : 0, name, out, err);
}

/* `list table FAMILY xenguard`, as JSON or text; *out = NULL when there is no such table.
 * (Asking directly and reading ENOENT saves a second kernel dump of every table.) */
static int list_ours(const char *family, bool json, char **out, struct xg_err *err)
{
    struct xg_err e = {{0}};
    char cmd[64];
    *out = NULL;
    snprintf(cmd, sizeof(cmd), "list table %s " XG_NFT_TABLE, family);
    if (xg_nft_run(cmd, json, "nft", out, &e) == 0)
        return 0;
    if (strstr(e.msg, "No such file or directory"))
        return 0;
    /* a kernel without nftables' bridge family (whatever it answers) has no bridge table
     * either; loading one there fails on its own, with its own message */
    if (!strcmp(family, XG_NFT_BRIDGE_FAMILY))
        return 0;
    return xg_fail(err, "%s", e.msg);
}

int xg_nft_list_stateless(const struct xg_nft_tref *tables, char **out, struct xg_err *err)
{
    struct xg_buf all = {0};
    *out = NULL;
    for (size_t i = 0; tables[i].family; i++) {
        struct xg_err e = {{0}};
        char cmd[128], *one = NULL;
        snprintf(cmd, sizeof(cmd), "list table %s %s", tables[i].family, tables[i].name);
        if (run_flags(cmd, NFT_CTX_OUTPUT_STATELESS, "nft", &one, &e) < 0) {
            /* absent (or, for bridge, a kernel without the family): no such table */
            if (!strstr(e.msg, "No such file or directory") &&
                strcmp(tables[i].family, XG_NFT_BRIDGE_FAMILY)) {
                xg_buf_free(&all);
                return xg_fail(err, "%s", e.msg);
            }
            continue;
        }
        xg_buf_puts(&all, one);
        free(one);
    }
    *out = strdup(xg_buf_str(&all));
    bool failed = xg_buf_failed(&all);
    xg_buf_free(&all);
    if (!*out || failed) {
        free(*out);
        *out = NULL;
        return xg_fail(err, "out of memory");
    }
    return 0;
}

int xg_nft_table_json(char **out, struct xg_err *err)
{
    return list_ours(XG_NFT_FAMILY, true, out, err);
}

int xg_nft_bridge_json(char **out, struct xg_err *err)
{
    return list_ours(XG_NFT_BRIDGE_FAMILY, true, out, err);
}

int xg_nft_table_text(char **out, struct xg_err *err)
{
    return xg_nft_tables_text(XG_NFT_INET_TABLE, out, err);
}

int xg_nft_tables_text(unsigned tables, char **out, struct xg_err *err)
{
    char *inet = NULL, *bridge = NULL;
    *out = NULL;
    if (((tables & XG_NFT_INET_TABLE) && list_ours(XG_NFT_FAMILY, false, &inet, err) < 0) ||
        ((tables & XG_NFT_BRIDGE_TABLE) &&
         list_ours(XG_NFT_BRIDGE_FAMILY, false, &bridge, err) < 0)) {
        free(inet);
        return -1;
    }
    int n = asprintf(out, "%s%s", inet ? inet : "", bridge ? bridge : "");
    free(inet);
    free(bridge);
    if (n < 0) {
        *out = NULL;
        return xg_fail(err, "out of memory");
    }
    return 0;
}

int xg_nft_restore_text(const char *saved_text, struct xg_err *err)
{
    return xg_nft_restore_tables_text(saved_text, XG_NFT_INET_TABLE, err);
}

int xg_nft_restore_tables_text(const char *saved_text, unsigned tables, struct xg_err *err)
{
    char *cmds = NULL;
    const char *inet = "table " XG_NFT_FAMILY " " XG_NFT_TABLE " {}\n"
                       "delete table " XG_NFT_FAMILY " " XG_NFT_TABLE "\n";
    const char *bridge = "table " XG_NFT_BRIDGE_FAMILY " " XG_NFT_TABLE " {}\n"
                         "delete table " XG_NFT_BRIDGE_FAMILY " " XG_NFT_TABLE "\n";
    if (asprintf(&cmds, "%s%s%s", tables & XG_NFT_INET_TABLE ? inet : "",
                 tables & XG_NFT_BRIDGE_TABLE ? bridge : "", saved_text) < 0)
        return xg_fail(err, "out of memory");
    int rc = xg_nft_run(cmds, false, "saved ruleset", NULL, err);
    free(cmds);
    return rc;
}

static json_t *table_cmd(const char *verb)
{
    return json_pack("{s:{s:{s:s,s:s}}}", verb, "table", "family", XG_NFT_FAMILY, "name",
                     XG_NFT_TABLE);
}

int xg_nft_restore(const char *saved_json, struct xg_err *err)
{
    json_error_t jerr;
    json_t *cmds = json_array(), *saved = NULL, *item;
    size_t i;
    json_array_append_new(cmds, table_cmd("add"));
    json_array_append_new(cmds, table_cmd("delete"));
    if (saved_json) {
        saved = json_loads(saved_json, 0, &jerr);
        json_t *list = json_object_get(saved, "nftables");
        if (!json_is_array(list)) {
            json_decref(cmds);
            json_decref(saved);
            return xg_fail(err, "saved ruleset: not an nft -j listing (line %d: %s)", jerr.line,
                           saved ? "no \"nftables\" array" : jerr.text);
        }
        json_array_foreach(list, i, item)
        {
            if (json_object_get(item, "metainfo"))
                continue;
            json_array_append_new(cmds, json_pack("{s:O}", "add", item));
        }
    }
    json_t *root = json_pack("{s:o}", "nftables", cmds);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    json_decref(saved);
    if (!text)
        return xg_fail(err, "out of memory");
    int rc = xg_nft_run(text, true, "saved ruleset", NULL, err);
    free(text);
    return rc;
}

/* Drop handles and counter values everywhere below `v`. */
static void strip_volatile(json_t *v)
{
    const char *key;
    json_t *child;
    size_t i;
    void *tmp;
    if (json_is_array(v)) {
        json_array_foreach(v, i, child) strip_volatile(child);
    } else if (json_is_object(v)) {
        json_object_del(v, "handle");
        json_t *counter = json_object_get(v, "counter");
        if (json_is_object(counter)) {
            json_object_del(counter, "packets");
            json_object_del(counter, "bytes");
        }
        json_object_foreach_safe(v, tmp, key, child) strip_volatile(child);
    }
}

/* A JSON ruleset object of table `family` xenguard (the table, or something in it). */
static bool in_table(json_t *obj, const char *family)
{
    const char *kind;
    json_t *body;
    json_object_foreach(obj, kind, body)
    {
        const char *fam = json_string_value(json_object_get(body, "family"));
        const char *tbl =
            json_string_value(json_object_get(body, strcmp(kind, "table") ? "table" : "name"));
        return fam && tbl && !strcmp(fam, family) && !strcmp(tbl, XG_NFT_TABLE);
    }
    return false;
}

static bool is_ours(json_t *obj)
{
    return in_table(obj, XG_NFT_FAMILY);
}

/* A set xenguard vif fills at run time (vif_*): its elements are expected drift. */
static void drop_dynamic_elems(json_t *obj)
{
    json_t *set = json_object_get(obj, "set");
    const char *name = json_string_value(json_object_get(set, "name"));
    if (name && !strncmp(name, "vif_", 4))
        json_object_del(set, "elem");
}

int xg_nft_normalize_table(const char *json, const char *family, bool drop_dynamic, char **out,
                           struct xg_err *err)
{
    json_error_t jerr;
    json_t *root = json_loads(json ? json : "{\"nftables\":[]}", 0, &jerr), *item;
    json_t *keep = json_array();
    size_t i;
    if (!root) {
        json_decref(keep);
        return xg_fail(err, "ruleset listing:%d:%d: %s", jerr.line, jerr.column, jerr.text);
    }
    json_array_foreach(json_object_get(root, "nftables"), i, item)
    {
        if (json_object_get(item, "metainfo") || !in_table(item, family))
            continue;
        json_t *copy = json_deep_copy(item);
        strip_volatile(copy);
        if (drop_dynamic)
            drop_dynamic_elems(copy);
        json_array_append_new(keep, copy);
    }
    json_decref(root);
    *out = json_dumps(keep, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(keep);
    return *out ? 0 : xg_fail(err, "out of memory");
}

int xg_nft_normalize(const char *json, char **out, struct xg_err *err)
{
    return xg_nft_normalize_table(json, XG_NFT_FAMILY, false, out, err);
}

/* Table bridge xenguard (or something in it): allowed in a ruleset file, for guests. */
static bool is_ours_bridge(json_t *obj)
{
    return in_table(obj, XG_NFT_BRIDGE_FAMILY);
}

int xg_nft_only_ours(const char *json, const char *name, struct xg_err *err)
{
    json_error_t jerr;
    json_t *root = json_loads(json, 0, &jerr), *item;
    size_t i;
    int rc = 0;
    json_array_foreach(json_object_get(root, "nftables"), i, item)
    {
        if (json_object_get(item, "metainfo") || is_ours(item) || is_ours_bridge(item))
            continue;
        const char *kind = json_object_iter_key(json_object_iter(item));
        json_t *body = json_object_iter_value(json_object_iter(item));
        const char *fam = json_string_value(json_object_get(body, "family"));
        const char *tbl =
            json_string_value(json_object_get(body, strcmp(kind, "table") ? "table" : "name"));
        if (!strcmp(kind, "table"))
            rc = xg_fail(err,
                         "%s: creates table %s %s; xenguard only loads table " XG_NFT_FAMILY
                         " " XG_NFT_TABLE " (and bridge " XG_NFT_TABLE ")",
                         name, fam ? fam : "?", tbl ? tbl : "?");
        else
            rc = xg_fail(err,
                         "%s: creates a %s in table %s %s; xenguard only loads table " XG_NFT_FAMILY
                         " " XG_NFT_TABLE " (and bridge " XG_NFT_TABLE ")",
                         name, kind, fam ? fam : "?", tbl ? tbl : "?");
        break;
    }
    json_decref(root);
    return rc;
}

static int read_all_fd(int fd, char **out)
{
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            return -1;
        if (cap - used < 2) {
            char *b = realloc(buf, cap * 2);
            if (!b)
                free(buf);
            buf = b;
            cap *= 2;
            continue;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    *out = buf;
    return 0;
}

static void write_all_fd(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

/* The scratch child: load `cmds`, write "O" + JSON listing + NUL + the stateless text of
 * `tables` (or "E" + the error) to `fd`, exit. */
static void scratch_child(int fd, const char *cmds, const char *name,
                          const struct xg_nft_tref *tables)
{
    struct xg_err cerr = {{0}};
    char *listing = NULL, *text = NULL;
    if (unshare(CLONE_NEWNET) < 0) {
        xg_fail(&cerr, "cannot create a scratch network namespace to check %s: %s", name,
                strerror(errno));
    } else if (xg_nft_run(cmds, false, name, NULL, &cerr) == 0 &&
               xg_nft_run("list ruleset", true, name, &listing, &cerr) == 0 &&
               (!tables || xg_nft_list_stateless(tables, &text, &cerr) == 0)) {
        write_all_fd(fd, "O", 1);
        write_all_fd(fd, listing, strlen(listing) + 1);
        if (text)
            write_all_fd(fd, text, strlen(text));
        _exit(0);
    }
    write_all_fd(fd, "E", 1);
    write_all_fd(fd, cerr.msg, strlen(cerr.msg));
    _exit(1);
}

/* Fork the scratch child, read its answer: "O" JSON NUL TEXT or "E" error. */
static int scratch_run(const char *cmds, const char *name, const struct xg_nft_tref *tables,
                       char **got, struct xg_err *err)
{
    int pipefd[2];
    *got = NULL;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return xg_fail(err, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return xg_fail(err, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(pipefd[0]);
        scratch_child(pipefd[1], cmds, name, tables);
    }
    close(pipefd[1]);
    int rr = read_all_fd(pipefd[0], got);
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rr < 0 || !*got || !**got) {
        free(*got);
        *got = NULL;
        return xg_fail(err, "%s: the scratch check died (status %d)", name, status);
    }
    if (**got == 'E') {
        xg_fail(err, "%s", *got + 1);
        free(*got);
        *got = NULL;
        return -1;
    }
    return 0;
}

int xg_nft_scratch_text(const char *cmds, const char *name, const struct xg_nft_tref *tables,
                        char **json_out, char **text_out, struct xg_err *err)
{
    char *got;
    *json_out = NULL;
    if (text_out)
        *text_out = NULL;
    if (scratch_run(cmds, name, tables, &got, err) < 0)
        return -1;
    /* the child wrote the JSON's NUL; read_all_fd NUL-terminated the whole */
    const char *json = got + 1, *text = json + strlen(json) + 1;
    *json_out = strdup(json);
    if (text_out)
        *text_out = strdup(tables ? text : "");
    free(got);
    if (!*json_out || (text_out && !*text_out)) {
        free(*json_out);
        *json_out = NULL;
        if (text_out) {
            free(*text_out);
            *text_out = NULL;
        }
        return xg_fail(err, "out of memory");
    }
    return 0;
}

int xg_nft_scratch(const char *cmds, const char *name, char **json_out, struct xg_err *err)
{
    if (xg_nft_scratch_text(cmds, name, NULL, json_out, NULL, err) < 0)
        return -1;
    if (xg_nft_only_ours(*json_out, name, err) < 0) {
        free(*json_out);
        *json_out = NULL;
        return -1;
    }
    return 0;
}
