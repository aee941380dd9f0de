/*
 * xg_stream.c — both ends of a checked, flow-controlled test stream.
 *
 *   xg_stream send MIB WINDOW_MIB CMD   run `sh -c CMD` on two pipes as xl
 *                                       does, write MIB MiB of pseudo-random
 *                                       data, never more than WINDOW_MIB
 *                                       ahead of the receiver's acks; then
 *                                       compare the receiver's SHA-256 with
 *                                       ours. Exit 0 on a match, else 1 (or
 *                                       CMD's own non-zero status).
 *   xg_stream recv                      the receiving side: "ack N" after
 *                                       every MiB, "sha256 HEX" at EOF; with
 *                                       $XG_RECV_MARKER it first writes its
 *                                       pid there, with $XG_RECV_HASH it
 *                                       writes the hash there too.
 *
 * The window makes the test prove that replies flow while the stream is
 * still being sent: without a working reverse direction the sender stalls
 * after WINDOW_MIB and the tunnel's idle timeout fails the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1 << 20)

/*
 * The stream: one pseudo-random MiB made once, each copy stamped with its
 * own sequence number in its first 8 bytes, so that lost, repeated or
 * reordered MiBs change the hash. Cheap even in a sanitizer build.
 */
static void fill(uint8_t *buf, uint64_t *state)
{
    static uint8_t block[MIB];
    static bool made;
    if (!made) {
        uint64_t x = 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i < MIB; i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(block + i, &x, 8);
        }
        made = true;
    }
    memcpy(buf, block, MIB);
    uint64_t seq = ++*state;
    memcpy(buf, &seq, 8);
}

static void hex(const unsigned char *md, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static int recv_main(void)
{
    const char *marker = getenv("XG_RECV_MARKER"), *hashfile = getenv("XG_RECV_HASH");
    if (marker) {
        FILE *f = fopen(marker, "w");
        if (f) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static uint8_t buf[256 * 1024];
    uint64_t total = 0, acked = 0;
    for (;;) {
        ssize_t n = read(0, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 1;
        if (n == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        total += (uint64_t)n;
        while (total / MIB > acked) {
            char line[32];
            int l = snprintf(line, sizeof(line), "ack %llu\n", (unsigned long long)++acked);
            if (write(1, line, (size_t)l) != l)
                return 1;
        }
    }
    unsigned char d[32];
    char h[65], line[80];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    hex(d, h);
    int l = snprintf(line, sizeof(line), "sha256 %s\n", h);
    if (hashfile) {
        FILE *f = fopen(hashfile, "w");
        if (f) {
            fprintf(f, "%s\n", h);
            fclose(f);
        }
    }
    return write(1, line, (size_t)l) == l ? 0 : 1;
}

static int send_main(unsigned long mib, unsigned long window, const char *cmd)
{
    int in[2], out[2];
    signal(SIGPIPE, SIG_IGN);
    if (pipe(in) < 0 || pipe(out) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execlp("sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    int wfd = in[1], rfd = out[0];
    fcntl(wfd, F_SETFL, O_NONBLOCK);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static uint8_t buf[MIB];
    char reply[4096], remote[65] = "";
    size_t rlen = 0, off = MIB;
    uint64_t state = 0;
    unsigned long sent = 0, acked = 0;
    bool done_writing = false, eof = false;
    while (!eof) {
        if (!done_writing && off == MIB && sent < mib && sent < acked + window) {
            fill(buf, &state);
            EVP_DigestUpdate(md, buf, MIB);
            off = 0;
        }
        struct pollfd p[2] = {{.fd = rfd, .events = POLLIN}, {.fd = -1}};
        if (!done_writing && off < MIB)
            p[1] = (struct pollfd){.fd = wfd, .events = POLLOUT};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return 1;
        if (p[1].revents) {
            ssize_t n = write(wfd, buf + off, MIB - off);
            if (n < 0 && errno != EAGAIN) {
                fprintf(stderr, "xg_stream: write: %s\n", strerror(errno));
                done_writing = true;
                close(wfd);
            } else if (n > 0) {
                off += (size_t)n;
                if (off == MIB && ++sent == mib) {
                    done_writing = true;
                    close(wfd);
                }
            }
        }
        if (p[0].revents) {
            ssize_t n = read(rfd, reply + rlen, sizeof(reply) - 1 - rlen);
            if (n <= 0) {
                eof = true;
            } else {
                rlen += (size_t)n;
                reply[rlen] = 0;
                char *nl;
                while ((nl = strchr(reply, '\n'))) {
                    *nl = 0;
                    unsigned long a;
                    if (sscanf(reply, "ack %lu", &a) == 1)
                        acked = a;
                    else if (!strncmp(reply, "sha256 ", 7))
                        snprintf(remote, sizeof(remote), "%.64s", reply + 7);
                    size_t used = (size_t)(nl + 1 - reply);
                    memmove(reply, nl + 1, rlen - used + 1);
                    rlen -= used;
                }
            }
        }
    }
    if (!done_writing)
        close(wfd);
    int st;
    waitpid(pid, &st, 0);
    unsigned char d[32];
    char h[65];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    hex(d, h);
    printf("sent %lu MiB, acked %lu, local %s remote %s\n", sent, acked, h, remote);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    return sent == mib && acked == mib && !strcmp(h, remote) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "recv"))
        return recv_main();
    if (argc == 5 && !strcmp(argv[1], "send"))
        return send_main(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), argv[4]);
    fprintf(stderr, "usage: xg_stream send MIB WINDOW_MIB CMD | xg_stream recv\n");
    return 2;
}
