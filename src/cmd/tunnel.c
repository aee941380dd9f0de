/*
 * tunnel.c — `xenguard tunnel HOST [REMOTE ARGS...]`: the sending end.
 *
 * Built to be xl's migration transport: `xl migrate -s "xenguard tunnel"
 * DOMAIN HOST` runs `sh -c "exec xenguard tunnel HOST xl ... migrate-receive
 * ..."`. Options stop at HOST (getopt "+"), everything after it is forwarded
 * for the receiver to re-validate. The receiver's exit status becomes ours;
 * a failure of the tunnel itself exits 1 with one line on stderr.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/conf.h"
#include "verbs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard tunnel [-c FILE] [OPTIONS] HOST [xl [-t] [-T] [-v] migrate-receive "
            "[-e] [-d] [-p] [-F]]\n"
            "       xl migrate -s \"xenguard tunnel\" DOMAIN HOST\n\n"
            "Carry a migration stream (stdin) and the receiver's replies (stdout) over\n"
            "mutually authenticated TLS 1.3 to `xenguard tunneld` on HOST.\n\n"
            "  -c, --config FILE           policy file (default %s if present)\n"
            "      --ca FILE               CA certificate the receiver must chain to\n"
            "      --cert FILE             this host's certificate\n"
            "      --key FILE              this host's private key\n"
            "      --allow NAME|sha256:FP  the receiver must also be one of these identities\n"
            "                              (repeat; its certificate must name HOST anyway)\n"
            "      --port N                receiver's port (default: [migration] port or 8002)\n"
            "      --domain NAME           domain name for the receiver's log (default: read\n"
            "                              from the calling xl's command line)\n"
            "      --handshake-timeout S   connect + handshake (default 3)\n"
            "      --idle-timeout S        seconds without progress before abort (default 60)\n"
            "      --rekey-bytes N         TLS key update every N bytes (default 1 GiB, at\n"
            "                              most 2^38)\n"
            "      --rekey-records N       ... or every N records, if sooner (default and at\n"
            "                              most 2^24: RFC 8446's AES-GCM limit)\n"
            "  -v, --verbose               print handshake, throughput and key updates on stderr\n"
            "  -h, --help                  this text\n\n"
            "Exit status: the receive command's, or 1 when the tunnel failed, 2 on usage.\n"
            "See xenguard-tunnel(8).\n",
            XG_DEFAULT_POLICY_PATH);
}

/*
 * When xl runs us, our parent is xl (sh exec'd us): its argv holds
 * `migrate [opts] DOMAIN HOST`. A label for the receiver's log, nothing more.
 */
static void domain_from_parent(char *out, size_t len)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)getppid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    char *words[64];
    size_t nw = 0;
    for (char *p = buf; p < buf + n && nw < 64; p += strlen(p) + 1)
        words[nw++] = p;
    size_t i = 0;
    while (i < nw && strcmp(words[i], "migrate"))
        i++;
    for (i++; i < nw; i++) {
        if (!strcmp(words[i], "-C") || !strcmp(words[i], "-s")) {
            i++;
            continue;
        }
        if (words[i][0] == '-')
            continue;
        if (xg_domain_name_ok(words[i]))
            snprintf(out, len, "%s", words[i]);
        return;
    }
}

enum { O_PORT = XG_TOPT_OWN, O_DOMAIN, O_REKEY, O_REKEY_REC };

int cmd_tunnel(int argc, char **argv)
{
    static const struct option opts[] = {
        XG_TUNNEL_SHARED_OPTIONS,
        {"port", required_argument, NULL, O_PORT},
        {"domain", required_argument, NULL, O_DOMAIN},
        {"rekey-bytes", required_argument, NULL, O_REKEY},
        {"rekey-records", required_argument, NULL, O_REKEY_REC},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct xg_tunnel_cli c;
    struct xg_err err = {{0}};
    unsigned long long v;
    char domain[XG_TUNNEL_DOMAIN_MAX + 1] = "";
    bool verbose = false, domain_set = false;
    int opt;

    xg_tunnel_cli_init(&c);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+c:vh", opts, NULL)) != -1) {
        int shared = xg_tunnel_cli_option(&c, opt, optarg, &err);
        if (shared < 0) {
            xg_err_print(stderr, "xenguard tunnel", &err);
            return 2;
        }
        if (shared)
            continue;
        switch (opt) {
        case O_DOMAIN:
            if (!xg_domain_name_ok(optarg)) {
                fprintf(stderr,
                        "xenguard tunnel: bad domain name '%s' (letters, digits, '_', '.', "
                        "'-'; at most 64)\n",
                        optarg);
                return 2;
            }
            snprintf(domain, sizeof(domain), "%s", optarg);
            domain_set = true;
            break;
        case O_PORT:
            if (xg_parse_uint(optarg, 1, 65535, &v) < 0) {
                fprintf(stderr, "xenguard tunnel: bad port '%s'\n", optarg);
                return 2;
            }
            c.port = (uint16_t)v, c.port_set = true;
            break;
        case O_REKEY:
            if (xg_parse_uint(optarg, 16384, XG_TUNNEL_REKEY_BYTES_MAX, &v) < 0) {
                fprintf(stderr,
                        "xenguard tunnel: --rekey-bytes '%s' is not in 16384..%llu (2^38: "
                        "AES-GCM's limit per key, RFC 8446 5.5)\n",
                        optarg, XG_TUNNEL_REKEY_BYTES_MAX);
                return 2;
            }
            c.rekey_bytes = v;
            break;
        case O_REKEY_REC:
            if (xg_parse_uint(optarg, 2, XG_TUNNEL_REKEY_RECORDS_MAX, &v) < 0) {
                fprintf(stderr,
                        "xenguard tunnel: --rekey-records '%s' is not in 2..%llu (2^24: "
                        "AES-GCM's limit per key, RFC 8446 5.5)\n",
                        optarg, XG_TUNNEL_REKEY_RECORDS_MAX);
                return 2;
            }
            c.rekey_records = v;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *host = argv[optind];
    if (!domain_set)
        domain_from_parent(domain, sizeof(domain));
    int rc = 1;
    if (xg_tunnel_cli_resolve(&c, &err) < 0) {
        xg_err_print(stderr, "xenguard tunnel", &err);
        goto out;
    }
    rc = xg_tunnel_client(&c.o, host, domain, (size_t)(argc - optind - 1), argv + optind + 1,
                          verbose, &err);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard tunnel", &err);
        rc = 1;
    }
out:
    xg_tunnel_cli_free(&c);
    return rc;
}
