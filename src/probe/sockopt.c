/*
 * sockopt.c — which IPv6 sockets are dual-stack.
 *
 * A socket bound to [::] without IPV6_V6ONLY also accepts IPv4 (as
 * ::ffff:a.b.c.d), and Linux's default (net.ipv6.bindv6only = 0) leaves
 * V6ONLY off: xapi, stunnel, sshd's second listener and most daemons that
 * say "[::]" answer IPv4 too. /proc/net/tcp6 does not show the option;
 * `ss -l -n -e` does, per socket ("v6only:0", "v6only:1", with the inode as
 * "ino:N"), through inet_diag. The probe runs it on the live host and reads
 * its captured output (xenguard/ss-listen.txt) in a captured root; a socket
 * ss did not show falls back to net.ipv6.bindv6only (see
 * xg_socket_dual_stack()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"
#include "probe/parse.h"
#include "probe/probe.h"
#include "util/lines.h"

/* The value of "NAME:VALUE" among the words of line, or NULL. */
static const char *field(const char *line, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = line; (p = strstr(p, name)); p += n)
        if ((p == line || p[-1] == ' ' || p[-1] == '\t') && p[n] == ':')
            return p + n + 1;
    return NULL;
}

int xg_ss_v6only_apply(const char *text, size_t len, struct xg_socket *sockets, size_t count,
                       size_t *matched)
{
    size_t pos = 0;
    *matched = 0;
    while (pos < len) {
        char *line = xg_line_next(text, len, &pos);
        if (!line)
            return -1;
        const char *ino = field(line, "ino"), *v6 = field(line, "v6only");
        char *end;
        unsigned long inode = ino ? strtoul(ino, &end, 10) : 0;
        bool ok = ino && end != ino && inode && v6 && (v6[0] == '0' || v6[0] == '1') &&
                  (v6[1] == '\0' || v6[1] == ' ' || v6[1] == '\t');
        for (size_t i = 0; ok && i < count; i++)
            if (sockets[i].family == 6 && sockets[i].inode == inode &&
                sockets[i].v6only == XG_V6ONLY_UNKNOWN) {
                sockets[i].v6only = v6[0] == '1' ? XG_V6ONLY_YES : XG_V6ONLY_NO;
                (*matched)++;
            }
        free(line);
    }
    return 0;
}

void xg_probe_v6only(const struct xg_rootfs *r, struct xg_host *h)
{
    char *b = xg_probe_read_trim(r, "/proc/sys/net/ipv6/bindv6only");
    h->bindv6only = b && (!strcmp(b, "0") || !strcmp(b, "1")) ? b[0] - '0' : -1;
    free(b);
    bool any6 = false;
    for (size_t i = 0; i < h->socket_count; i++)
        any6 |= h->sockets[i].family == 6;
    if (!any6)
        return;
    char *ss[] = {"ss", "-H", "-l", "-n", "-e", "-t", "-u", NULL};
    char *out = xg_probe_evidence(r, "ss-listen.txt", ss);
    if (!out) {
        xg_host_note(h,
                     "no ss -l -n -e output: IPV6_V6ONLY of [::] sockets taken from "
                     "net.ipv6.bindv6only (%s)",
                     h->bindv6only < 0 ? "unknown: Linux's default 0, dual-stack"
                     : h->bindv6only   ? "1"
                                       : "0");
        return;
    }
    size_t matched;
    if (xg_ss_v6only_apply(out, strlen(out), h->sockets, h->socket_count, &matched) == 0)
        h->v6only_source = strdup(r->live ? "ss -l -n -e" : XG_CAPTURE_DIR "/ss-listen.txt");
    free(out);
}
