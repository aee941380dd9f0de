/*
 * io.c — the small pieces of non-blocking plumbing both ends share.
 *
 * Both ends run one poll() loop over a non-blocking socket and pipes, so
 * the stream and the replies move at the same time and neither direction
 * can wedge the other. Handshakes and the request run under one deadline
 * (the handshake timeout) on the same non-blocking socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include "tunnel/io.h"

int64_t xg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double xg_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int xg_set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int xg_wait_ssl(SSL *ssl, int fd, int ret, int64_t deadline)
{
    short ev;
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        ev = POLLIN;
        break;
    case SSL_ERROR_WANT_WRITE:
        ev = POLLOUT;
        break;
    default:
        return -1;
    }
    for (;;) {
        int64_t left = deadline - xg_now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -2;
        }
        struct pollfd p = {.fd = fd, .events = ev};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}
