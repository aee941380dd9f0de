/*
 * tunnel.c — `xenguard tunnel HOST [REMOTE ARGS...]`: the sending end.
 *
 * Built to be xl's migration transport: `xl migrate -s "xenguard tunnel"
 * DOMAIN HOST` runs `sh -c "exec xenguard tunnel HOST xl ... migrate-receive
 * ..."`. Options stop at HOST (operands_first), everything after it is forwarded
 * for the receiver to re-validate. The receiver's exit status becomes ours;
 * a failure of the tunnel itself exits 1 with one line on stderr.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/conf.h"
#include "verbs.h"

enum { O_PORT = XG_TOPT_OWN, O_DOMAIN, O_REKEY, O_REKEY_REC };

static const struct xg_opt options[] = {
    {'c', "config", "FILE", "policy file (default " XG_DEFAULT_POLICY_PATH " if present)"},
    {XG_TOPT_CA, "ca", "FILE", "CA certificate the receiver must chain to"},
    {XG_TOPT_CERT, "cert", "FILE", "this host's certificate"},
    {XG_TOPT_KEY, "key", "FILE", "this host's private key"},
    {XG_TOPT_ALLOW, "allow", "NAME|sha256:FP",
     "the receiver must also be one of these identities\n"
     "(repeat; its certificate must name HOST anyway)"},
    {O_PORT, "port", "N", "receiver's port (default: [migration] port or 8002)"},
    {O_DOMAIN, "domain", "NAME",
     "domain name for the receiver's log (default: read\n"
     "from the calling xl's command line)"},
    {XG_TOPT_HTO, "handshake-timeout", "S", "connect + handshake (default 3)"},
    {XG_TOPT_ITO, "idle-timeout", "S", "seconds without progress before abort (default 60)"},
    {O_REKEY, "rekey-bytes", "N", "TLS key update every N bytes (default 1 GiB, at\nmost 2^38)"},
    {O_REKEY_REC, "rekey-records", "N",
     "... or every N records, if sooner (default and at\n"
     "most 2^24: RFC 8446's AES-GCM limit)"},
    {'v', "verbose", NULL, "print handshake, throughput and key updates on stderr"},
    {0},
};

const struct xg_cli xg_cli_tunnel = {
    .verb = "tunnel",
    .usage = "[-c FILE] [OPTIONS] HOST [xl [-t] [-T] [-v] migrate-receive [-e] [-d] [-p] [-F]]",
    .about = "Carry a migration stream (stdin) and the receiver's replies (stdout) over\n"
             "mutually authenticated TLS 1.3 to `xenguard tunneld` on HOST. Options stop at\n"
             "HOST: what follows is the receive command. xl runs it as\n"
             "  xl migrate -s \"xenguard tunnel\" DOMAIN HOST\n",
    .opts = options,
    .epilog = "Exit status: the receive command's, or 1 when the tunnel failed, 2 on usage.\n"
              "See xenguard-tunnel(8).\n",
    .operands_first = true,
};

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

/* The options into c, domain and verbose: 0, or -1 with the exit status in *rc. */
static int parse_opts(int argc, char **argv, struct xg_tunnel_cli *c, char *domain,
                      size_t domain_len, bool *verbose, int *optind_out, int *rc)
{
    struct xg_cli_parser p;
    struct xg_err err = {{0}};
    unsigned long long v;
    int opt;
    xg_cli_begin(&p, &xg_cli_tunnel, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        int shared = opt == XG_CLI_STOP ? 0 : xg_tunnel_cli_option(c, opt, p.arg, &err);
        if (shared < 0) {
            *rc = xg_cli_usage_error(&xg_cli_tunnel, "%s", err.msg);
            return -1;
        }
        if (shared)
            continue;
        switch (opt) {
        case O_DOMAIN:
            if (!xg_domain_name_ok(p.arg)) {
                *rc = xg_cli_usage_error(&xg_cli_tunnel,
                                         "bad domain name '%s' (letters, digits, '_', '.', "
                                         "'-'; at most 64)",
                                         p.arg);
                return -1;
            }
            snprintf(domain, domain_len, "%s", p.arg);
            break;
        case O_PORT:
            if (xg_parse_uint(p.arg, 1, 65535, &v) < 0) {
                *rc = xg_cli_usage_error(&xg_cli_tunnel, "bad port '%s'", p.arg);
                return -1;
            }
            c->port = (uint16_t)v, c->port_set = true;
            break;
        case O_REKEY:
            if (xg_parse_uint(p.arg, 16384, XG_TUNNEL_REKEY_BYTES_MAX, &v) < 0) {
                *rc = xg_cli_usage_error(&xg_cli_tunnel,
                                         "--rekey-bytes '%s' is not in 16384..%llu (2^38: "
                                         "AES-GCM's limit per key, RFC 8446 5.5)",
                                         p.arg, XG_TUNNEL_REKEY_BYTES_MAX);
                return -1;
            }
            c->rekey_bytes = v;
            break;
        case O_REKEY_REC:
            if (xg_parse_uint(p.arg, 2, XG_TUNNEL_REKEY_RECORDS_MAX, &v) < 0) {
                *rc = xg_cli_usage_error(&xg_cli_tunnel,
                                         "--rekey-records '%s' is not in 2..%llu (2^24: "
                                         "AES-GCM's limit per key, RFC 8446 5.5)",
                                         p.arg, XG_TUNNEL_REKEY_RECORDS_MAX);
                return -1;
            }
            c->rekey_records = v;
            break;
        case 'v':
            *verbose = true;
            break;
        default:
            *rc = p.rc;
            return -1;
        }
    }
    if (xg_cli_operands(&p, 1, -1) < 0) {
        *rc = p.rc;
        return -1;
    }
    *optind_out = p.optind;
    return 0;
}

int cmd_tunnel(int argc, char **argv)
{
    struct xg_tunnel_cli c;
    struct xg_err err = {{0}};
    char domain[XG_TUNNEL_DOMAIN_MAX + 1] = "";
    bool verbose = false;
    int first, rc;

    xg_tunnel_cli_init(&c);
    if (parse_opts(argc, argv, &c, domain, sizeof(domain), &verbose, &first, &rc) < 0)
        return rc;
    const char *host = argv[first];
    if (!*domain)
        domain_from_parent(domain, sizeof(domain));
    rc = 1;
    if (xg_tunnel_cli_resolve(&c, &err) < 0) {
        xg_err_print(stderr, "xenguard tunnel", &err);
        goto out;
    }
    rc = xg_tunnel_client(&c.o, host, domain, (size_t)(argc - first - 1), argv + first + 1, verbose,
                          &err);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard tunnel", &err);
        rc = 1;
    }
out:
    xg_tunnel_cli_free(&c);
    return rc;
}
