/*
 * server.h — between tunneld's listener (listen.c) and its sessions
 * (server.c): the session entry point and the small control channel a
 * session uses to ask the listener for a session slot and to pass it the
 * log lines of refusals, which the listener rate-limits.
 *
 * Control messages (one SOCK_SEQPACKET datagram each): a type byte, then
 * text. Session -> listener: 'L' a refusal's log line, 'S' "may I start
 * the receive command?". Listener -> session: 'Y', or 'N' and the reason.
 */
#ifndef XG_TUNNEL_SERVER_H
#define XG_TUNNEL_SERVER_H

#include <stdint.h>
#include <sys/socket.h>

#include "tunnel/tunnel.h"

#define XG_CTL_MAX 1100
enum { XG_CTL_LOG = 'L', XG_CTL_SLOT = 'S', XG_CTL_YES = 'Y', XG_CTL_NO = 'N' };

/* Send one message; 0 or -1. */
int xg_ctl_send(int fd, char type, const char *text);
/* Wait (until deadline, ms) for one message: out[0] is its type, then its NUL-terminated text. */
int xg_ctl_recv(int fd, char *out, size_t cap, int64_t deadline);

/* "1.2.3.4:5" / "[::1]:5" */
void xg_addr_text(const struct sockaddr_storage *ss, char *out, size_t len);

/*
 * One connection, start to end (in its own process). ctl_fd is the
 * listener's control channel, -1 with --once. Returns 0 when it ended well.
 */
int xg_session(SSL_CTX *ctx, const struct xg_tunnel_opts *o, int fd,
               const struct sockaddr_storage *ss, int log_fd, int ctl_fd);

#endif
