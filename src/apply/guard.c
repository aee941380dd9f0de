/*
 * guard.c — the lockout guard (see guard.h): finding the caller's session,
 * the interface it arrives on, and the question put to the analyzer.
 *
 * The session: SSH_CONNECTION, and when sudo or `su -` removed it, the same
 * variable in the environment of the nearest ancestor process. The walk
 * stops at a process in another network namespace (its connection does not
 * pass the rules loaded here) and at sshd itself (the session's first
 * process is its child, already looked at). Everything under /proc is read
 * as untrusted text: bounded reads, no assumption about its contents.
 *
 * The verdict: the analyzer's reachability with reverse-path matches decided
 * by the host's interfaces and routes; when the session is not kept, one
 * packet's trace names the rule that drops it (or that cannot be decided).
 */
#include "apply/guard.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "backend/backend.h"
#include "util/buf.h"

static int parse_port(const char *text, uint16_t *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static int parse_host(const char *text, struct xg_prefix *out)
{
    if (!strncasecmp(text, "::ffff:", 7) && strchr(text + 7, '.'))
        text += 7;
    return xg_addr_parse(text, out);
}

int xg_session_parse(const char *ssh_connection, struct xg_session *s, struct xg_err *err)
{
    char f[4][64];
    char extra;
    memset(s, 0, sizeof(*s));
    if (sscanf(ssh_connection, "%63s %63s %63s %63s %c", f[0], f[1], f[2], f[3], &extra) != 4)
        return xg_fail(err,
                       "SSH_CONNECTION='%s': expected 'client_ip client_port server_ip "
                       "server_port'",
                       ssh_connection);
    if (parse_host(f[0], &s->client) < 0 || parse_port(f[1], &s->client_port) < 0 ||
        parse_host(f[2], &s->server) < 0 || parse_port(f[3], &s->server_port) < 0)
        return xg_fail(err, "SSH_CONNECTION='%s': not an address/port quadruple", ssh_connection);
    return 0;
}

/* Up to size-1 bytes of a /proc file, NUL-terminated; its length, or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    size_t n = 0;
    if (fd < 0)
        return -1;
    while (n < size - 1) {
        ssize_t got = read(fd, buf + n, size - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* The value of `name` in a NUL-separated environment block, or NULL. */
static const char *environ_get(const char *env, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < len; i += strnlen(env + i, len - i) + 1)
        if (len - i > nl && !strncmp(env + i, name, nl) && env[i + nl] == '=')
            return env + i + nl + 1;
    return NULL;
}

/* A process's command name and parent, from /proc/PID/stat ("pid (comm) S ppid ..."). */
static int proc_parent(pid_t pid, char comm[32], pid_t *ppid)
{
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_proc(path, stat, sizeof(stat)) < 0)
        return -1;
    char *open_paren = strchr(stat, '('), *close_paren = strrchr(stat, ')');
    int parent;
    char state;
    if (!open_paren || !close_paren || close_paren < open_paren ||
        sscanf(close_paren + 1, " %c %d", &state, &parent) != 2)
        return -1;
    snprintf(comm, 32, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    *ppid = parent;
    return 0;
}

static bool same_netns(pid_t pid)
{
    char path[64], mine[64], theirs[64];
    ssize_t a = readlink("/proc/self/ns/net", mine, sizeof(mine) - 1), b;
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    b = readlink(path, theirs, sizeof(theirs) - 1);
    if (a <= 0 || b <= 0)
        return false;
    mine[a] = theirs[b] = '\0';
    return !strcmp(mine, theirs);
}

static int session_from_ancestry(struct xg_session *s, struct xg_err *err)
{
    static char env[256 * 1024]; /* one environment at a time; apply is single-threaded */
    pid_t pid = getppid();
    for (int depth = 0; pid > 1 && depth < 64; depth++) {
        char comm[32], path[64];
        pid_t ppid;
        if (!same_netns(pid) || proc_parent(pid, comm, &ppid) < 0)
            return 0;
        if (!strcmp(comm, "sshd") || !strncmp(comm, "sshd-", 5))
            return 0; /* the server: its child, the session, had no SSH_CONNECTION */
        snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
        ssize_t len = read_proc(path, env, sizeof(env));
        const char *conn = len > 0 ? environ_get(env, (size_t)len, "SSH_CONNECTION") : NULL;
        if (conn && *conn) {
            char value[256];
            snprintf(value, sizeof(value), "%s", conn);
            if (xg_session_parse(value, s, err) < 0)
                return -1;
            snprintf(s->whence, sizeof(s->whence), "SSH_CONNECTION of process %d (%s)", (int)pid,
                     comm);
            return 1;
        }
        pid = ppid;
    }
    return 0;
}

int xg_session_find(struct xg_session *s, struct xg_err *err)
{
    const char *conn = getenv("SSH_CONNECTION");
    memset(s, 0, sizeof(*s));
    if (conn && *conn) {
        if (xg_session_parse(conn, s, err) < 0)
            return -1;
        snprintf(s->whence, sizeof(s->whence), "SSH_CONNECTION");
        return 1;
    }
    return session_from_ancestry(s, err);
}

void xg_session_find_iif(struct xg_session *s)
{
    struct ifaddrs *list, *ifa;
    if (getifaddrs(&list) < 0)
        return;
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        struct xg_prefix a = {0};
        if (!ifa->ifa_addr)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET) {
            a.family = XG_FAMILY_IPV4;
            a.len = 32;
            memcpy(a.addr, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr, 4);
        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            a.family = XG_FAMILY_IPV6;
            a.len = 128;
            memcpy(a.addr, &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        if (xg_prefix_equal(&a, &s->server)) {
            snprintf(s->iifname, sizeof(s->iifname), "%s", ifa->ifa_name);
            break;
        }
    }
    freeifaddrs(list);
}

void xg_session_describe(const struct xg_session *s, char *out, size_t size)
{
    char client[XG_PREFIX_STRLEN];
    xg_prefix_format(&s->client, true, client);
    snprintf(out, size, "new ssh connections from %s to port %u%s%s", client, s->server_port,
             s->iifname[0] ? " on " : "", s->iifname);
}

/* "rule `TEXT` (FILE:LINE, table T, chain C)", or the chain's policy. */
static void describe_rule(const struct xg_table *t, const struct xg_chain *c,
                          const struct xg_rule *r, char *out, size_t size)
{
    struct xg_buf text = {0};
    struct xg_err e;
    char where[300] = "";
    if (!r) {
        snprintf(out, size, "the policy %s of chain %s (table %s)", xg_verdict_name(c->policy),
                 c->name, t->name);
        return;
    }
    if (r->src_line)
        snprintf(where, sizeof(where), "%s:%u, ", r->src_file ? r->src_file : "?", r->src_line);
    else if (r->src_handle)
        snprintf(where, sizeof(where), "handle %u, ", r->src_handle);
    if (xg_backend_nft_rule(t, r, &text, &e) == 0)
        snprintf(out, size, "rule `%s` (%stable %s, chain %s)", xg_buf_str(&text), where, t->name,
                 c->name);
    else
        snprintf(out, size, "a rule (%stable %s, chain %s)", where, t->name, c->name);
    xg_buf_free(&text);
}

/* Name the rule behind a verdict other than KEEPS: one packet's trace from the client. */
static int name_rule(const struct xg_ruleset *rs, const struct xg_packet_query *q,
                     const struct xg_session *s, struct xg_guard_verdict *out, struct xg_err *err)
{
    struct xg_trace tr = {0};
    if (xg_packet_trace(rs, q, &s->client, &tr, err) < 0)
        return -1;
    const struct xg_trace_step *last = tr.count ? &tr.steps[tr.count - 1] : NULL;
    if (last && (last->verdict == XG_VERDICT_DROP || last->verdict == XG_VERDICT_REJECT)) {
        describe_rule(last->table, last->rule ? last->chain : last->base, last->rule, out->rule,
                      sizeof(out->rule));
    } else {
        for (size_t i = 0; i < tr.count; i++)
            if (tr.steps[i].unknown) {
                /* the unmodelled rule's chain is not recorded: name the base chain */
                describe_rule(tr.steps[i].table, tr.steps[i].base, tr.steps[i].unknown, out->rule,
                              sizeof(out->rule));
                break;
            }
    }
    xg_trace_free(&tr);
    return 0;
}

int xg_guard_check(const struct xg_ruleset *rs, const struct xg_session *s,
                   const struct xg_ifmap *map, struct xg_guard_verdict *out, struct xg_err *err)
{
    struct xg_prefix_list rpf = {0};
    struct xg_packet_query q = {
        .family = s->client.family,
        .proto = IPPROTO_TCP,
        .dport = s->server_port,
        .iifname = s->iifname[0] ? s->iifname : NULL,
        .path = XG_HOOK_INPUT,
    };
    struct xg_reach r = {0};
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (map && q.iifname) {
        if (xg_ifmap_rpf(map, q.iifname, q.family, &rpf) < 0) {
            xg_fail(err, "out of memory");
            goto done;
        }
        q.rpf_ok = &rpf;
    }
    if (xg_reach_compute(rs, &q, &r, err) < 0)
        goto done;
    if (xg_prefix_list_covers(&r.must, &s->client))
        out->result = XG_GUARD_KEEPS;
    else if (xg_prefix_list_covers(&r.may, &s->client))
        out->result = XG_GUARD_MAY_DROP;
    else
        out->result = XG_GUARD_DROPS;
    rc = out->result == XG_GUARD_KEEPS ? 0 : name_rule(rs, &q, s, out, err);
done:
    xg_reach_free(&r);
    xg_prefix_list_free(&rpf);
    return rc;
}

int xg_guard_check_json(const char *json, const char *name, const struct xg_session *s,
                        const struct xg_ifmap *map, struct xg_guard_verdict *out,
                        struct xg_err *err)
{
    struct xg_ruleset rs = {0};
    int rc = xg_parse_nft_json(json, strlen(json), name, &rs, err);
    if (rc == 0)
        rc = xg_guard_check(&rs, s, map, out, err);
    xg_ruleset_free(&rs);
    return rc;
}
