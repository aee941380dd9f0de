/*
 * io.h — non-blocking helpers shared by the tunnel's two ends (io.c).
 */
#ifndef XG_TUNNEL_IO_H
#define XG_TUNNEL_IO_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define XG_IO_BUF (256 * 1024)

int64_t xg_now_ms(void);
double xg_now_s(void);
int xg_set_nonblock(int fd, bool on);

/*
 * After an SSL call returned ret <= 0: wait until the socket is ready for
 * what OpenSSL asked for. 0 = retry, -1 = a real error, -2 = deadline passed.
 */
int xg_wait_ssl(SSL *ssl, int fd, int ret, int64_t deadline);

#endif
