/*
 * dgram_sink.c — a syslog/journald stand-in for tests: binds a unix datagram
 * socket at PATH and writes each datagram to stdout followed by a newline
 * (so a test can tell records apart), until killed.
 *
 *   dgram_sink PATH >FILE &
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: dgram_sink PATH\n");
        return 2;
    }
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror(argv[1]);
        return 1;
    }
    static char buf[1 << 17];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0)
            return 1;
        fwrite(buf, 1, (size_t)n, stdout);
        putchar('\n');
        fflush(stdout);
    }
}
