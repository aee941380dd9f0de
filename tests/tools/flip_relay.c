/*
 * flip_relay.c — a man in the middle for the tunnel tests.
 *
 *   flip_relay PORTFILE HOST PORT OFFSET [cut]
 *
 * Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE), accepts
 * one connection, connects to HOST:PORT and relays both ways, flipping the
 * lowest bit of the byte at OFFSET of the client-to-server direction.
 * TLS must notice (the record's AEAD tag fails) and both ends must fail.
 * With `cut`, it instead passes exactly OFFSET bytes client-to-server and
 * then closes both connections: a truncated stream, which must never look
 * like a complete one to the receive command.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && !strcmp(argv[5], "cut"))) {
        fprintf(stderr, "usage: flip_relay PORTFILE HOST PORT OFFSET [cut]\n");
        return 2;
    }
    int cut = argc == 6;
    unsigned long long flip_at = strtoull(argv[4], NULL, 10), seen = 0;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) < 0)
        return 1;
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 1;
    fprintf(f, "%u\n", ntohs(a.sin_port));
    fclose(f);
    int c = accept(l, NULL, NULL);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (c < 0 || getaddrinfo(argv[2], argv[3], &hints, &res))
        return 1;
    int s = socket(res->ai_family, SOCK_STREAM, 0);
    if (connect(s, res->ai_addr, res->ai_addrlen) < 0)
        return 1;
    freeaddrinfo(res);
    static uint8_t buf[65536];
    int open_c = 1, open_s = 1, flipped = 0;
    while (open_c || open_s) {
        struct pollfd p[2] = {{.fd = open_c ? c : -1, .events = POLLIN},
                              {.fd = open_s ? s : -1, .events = POLLIN}};
        if (poll(p, 2, -1) < 0)
            return 1;
        for (int i = 0; i < 2; i++) {
            if (!p[i].revents)
                continue;
            int from = i ? s : c, to = i ? c : s;
            ssize_t n = read(from, buf, sizeof(buf));
            if (n <= 0) {
                shutdown(to, SHUT_WR);
                if (i)
                    open_s = 0;
                else
                    open_c = 0;
                continue;
            }
            if (!i && cut && seen + (unsigned long long)n >= flip_at) {
                n = (ssize_t)(flip_at - seen);
                for (ssize_t o = 0; o < n;) {
                    ssize_t w = write(to, buf + o, (size_t)(n - o));
                    if (w <= 0)
                        break;
                    o += w;
                }
                fprintf(stderr, "flip_relay: cut after %llu bytes\n", flip_at);
                close(c);
                close(s);
                return 0;
            }
            if (!i && !cut && !flipped && seen + (unsigned long long)n > flip_at) {
                buf[flip_at - seen] ^= 1;
                flipped = 1;
            }
            if (!i)
                seen += (unsigned long long)n;
            for (ssize_t o = 0; o < n;) {
                ssize_t w = write(to, buf + o, (size_t)(n - o));
                if (w <= 0)
                    break;
                o += w;
            }
        }
    }
    fprintf(stderr, "flip_relay: %llu bytes client->server, flipped=%d\n", seen, flipped);
    return 0;
}
