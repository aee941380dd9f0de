/*
 * tcpprobe.c — real TCP connections for the firewall tests.
 *
 *   tcpprobe listen PORT...
 *       Listen on [::]:PORT (dual-stack) for every PORT; accept and close
 *       forever. Runs inside the Dom0 namespace while the test probes it.
 *   tcpprobe connect [-s SRC] [-t MS] ADDR PORT
 *       One connection attempt from SRC (if given) to ADDR:PORT. Prints
 *       and exits with what happened:
 *         open 0 | refused 1 (TCP reset: rejected, or no listener)
 *         timeout 2 (dropped) | unreachable 3 (ICMP error) | error 4
 *
 * The firewall tests assert on these outcomes, so the tool distinguishes a
 * reject from a drop instead of reporting "failed".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_sockaddr(const char *addr, unsigned port, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        return 0;
    }
    return -1;
}

static int do_listen(int argc, char **argv)
{
    struct pollfd fds[32];
    int n = 0;
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < argc && n < 32; i++, n++) {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
        int one = 1, zero = 0;
        int fd = socket(AF_INET6, SOCK_STREAM, 0);
        sa.sin6_port = htons((uint16_t)atoi(argv[i]));
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
            bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
            fprintf(stderr, "tcpprobe: listen on %s: %s\n", argv[i], strerror(errno));
            return 4;
        }
        fds[n].fd = fd;
        fds[n].events = POLLIN;
    }
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR)
            return 4;
        for (int i = 0; i < n; i++) {
            if (fds[i].revents & POLLIN) {
                int c = accept(fds[i].fd, NULL, NULL);
                if (c >= 0)
                    close(c);
            }
        }
    }
}

static int outcome(const char *word, int code)
{
    printf("%s\n", word);
    return code;
}

static int do_connect(int argc, char **argv)
{
    const char *src = NULL;
    int timeout_ms = 1000, opt, fd, err = 0;
    struct sockaddr_storage dst, from;
    socklen_t dst_len, from_len, err_len = sizeof(err);
    struct pollfd pfd;

    while ((opt = getopt(argc, argv, "s:t:")) != -1) {
        if (opt == 's')
            src = optarg;
        else if (opt == 't')
            timeout_ms = atoi(optarg);
        else
            return 4;
    }
    if (argc - optind != 2 ||
        parse_sockaddr(argv[optind], (unsigned)atoi(argv[optind + 1]), &dst, &dst_len) < 0) {
        fprintf(stderr, "usage: tcpprobe connect [-s SRC] [-t MS] ADDR PORT\n");
        return 4;
    }
    fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return outcome("error", 4);
    if (src) {
        if (parse_sockaddr(src, 0, &from, &from_len) < 0 ||
            bind(fd, (struct sockaddr *)&from, from_len) < 0) {
            fprintf(stderr, "tcpprobe: bind %s: %s\n", src, strerror(errno));
            return outcome("error", 4);
        }
    }
    if (connect(fd, (struct sockaddr *)&dst, dst_len) == 0)
        return outcome("open", 0);
    if (errno != EINPROGRESS)
        err = errno;
    if (!err) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        int r = poll(&pfd, 1, timeout_ms);
        if (r == 0)
            return outcome("timeout", 2);
        if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0)
            return outcome("error", 4);
    }
    close(fd);
    switch (err) {
    case 0:
        return outcome("open", 0);
    case ECONNREFUSED:
        return outcome("refused", 1);
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EACCES:
    case EPERM:
        return outcome("unreachable", 3);
    case ETIMEDOUT:
        return outcome("timeout", 2);
    default:
        fprintf(stderr, "tcpprobe: %s\n", strerror(err));
        return outcome("error", 4);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "listen"))
        return do_listen(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "connect"))
        return do_connect(argc - 1, argv + 1);
    fprintf(stderr, "usage: tcpprobe listen PORT... | tcpprobe connect [-s SRC] [-t MS] ADDR "
                    "PORT\n");
    return 4;
}
