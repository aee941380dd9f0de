/*
 * tunneld.c — `xenguard tunneld`: the receiving end of the migration tunnel.
 *
 * Reads the policy's [tunnel] section (or options), listens on the
 * migration port and serves authenticated sessions until SIGTERM. One log
 * line per session on stderr (the journal under systemd).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tunnel/conf.h"
#include "verbs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard tunneld [-c FILE] [OPTIONS]\n\n"
            "Receive live migrations over mutually authenticated TLS 1.3 and hand each\n"
            "stream to the receive command (default: xl migrate-receive).\n\n"
            "  -c, --config FILE           policy file (default %s if present)\n"
            "      --ca FILE               CA certificate peers must chain to\n"
            "      --cert FILE             this host's certificate\n"
            "      --key FILE              this host's private key\n"
            "      --allow NAME|sha256:FP  allowed peer (repeat; replaces the policy's list)\n"
            "      --listen ADDR           address to listen on (default: all)\n"
            "      --interface IFACE       accept only on this interface\n"
            "      --port N                TCP port (default: [migration] port or 8002; 0 = any)\n"
            "      --receive-command CMD   command fed with the stream\n"
            "      --max-sessions N        concurrent sessions (default 4)\n"
            "      --handshake-timeout S   seconds for TLS handshake + request (default 10)\n"
            "      --idle-timeout S        seconds without progress before abort (default 60)\n"
            "      --once                  serve one connection, exit 0 if it succeeded\n"
            "  -h, --help                  this text\n\n"
            "See xenguard-tunnel(8).\n",
            XG_DEFAULT_POLICY_PATH);
}

enum { O_LISTEN = XG_TOPT_OWN, O_IFACE, O_PORT, O_RECV, O_MAX, O_ONCE };

int cmd_tunneld(int argc, char **argv)
{
    static const struct option opts[] = {
        XG_TUNNEL_SHARED_OPTIONS,
        {"listen", required_argument, NULL, O_LISTEN},
        {"interface", required_argument, NULL, O_IFACE},
        {"port", required_argument, NULL, O_PORT},
        {"receive-command", required_argument, NULL, O_RECV},
        {"max-sessions", required_argument, NULL, O_MAX},
        {"once", no_argument, NULL, O_ONCE},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct xg_tunnel_cli c;
    struct xg_err err = {{0}};
    unsigned long long v;
    bool once = false;
    int opt;

    xg_tunnel_cli_init(&c);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        int shared = xg_tunnel_cli_option(&c, opt, optarg, &err);
        if (shared < 0) {
            xg_err_print(stderr, "xenguard tunneld", &err);
            return 2;
        }
        if (shared)
            continue;
        switch (opt) {
        case O_LISTEN:
            c.listen = optarg;
            break;
        case O_IFACE:
            c.interface = optarg;
            break;
        case O_RECV:
            c.receive_command = optarg;
            break;
        case O_PORT:
        case O_MAX:
            if (xg_parse_uint(optarg, opt == O_PORT ? 0 : 1, opt == O_PORT ? 65535 : 86400, &v) <
                0) {
                fprintf(stderr, "xenguard tunneld: bad number '%s'\n", optarg);
                return 2;
            }
            if (opt == O_PORT)
                c.port = (uint16_t)v, c.port_set = true;
            else
                c.max_sessions = (unsigned)v;
            break;
        case O_ONCE:
            once = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    int rc = 1;
    if (xg_tunnel_cli_resolve(&c, &err) < 0) {
        xg_err_print(stderr, "xenguard tunneld", &err);
        goto out;
    }
    if (c.have_policy && c.policy.transport != XG_TRANSPORT_TUNNEL) {
        fprintf(stderr,
                "xenguard tunneld: %s says [migration] transport = %s; tunneld serves only "
                "transport = tunnel\n",
                c.policy.path ? c.policy.path : "the policy",
                xg_transport_name(c.policy.transport));
        goto out;
    }
    if (c.o.name_count + c.o.fingerprint_count == 0) {
        fprintf(stderr, "xenguard tunneld: the allowlist is empty (peer-names / "
                        "peer-fingerprints, or --allow): nobody could migrate in\n");
        goto out;
    }
    if (xg_tunnel_server(&c.o, once, 2, &err) < 0) {
        if (err.msg[0])
            xg_err_print(stderr, "xenguard tunneld", &err);
        goto out;
    }
    rc = 0;
out:
    xg_tunnel_cli_free(&c);
    return rc;
}
