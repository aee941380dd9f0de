/*
 * tunneld.c — `xenguard tunneld`: the receiving end of the migration tunnel.
 *
 * Reads the policy's [tunnel] section (or options), listens on the
 * migration port and serves authenticated sessions until SIGTERM. One log
 * line per session on stderr (the journal under systemd). SIGHUP reads
 * the policy file and the certificates again (load() below, the same
 * checks as at start); a configuration that fails them is not taken and
 * the running one stays.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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
            "      --max-handshakes N      connections still authenticating (default 32, a\n"
            "                              quarter per source address; when full, the oldest\n"
            "                              is dropped)\n"
            "      --handshake-timeout S   seconds for TLS handshake + request (default 3)\n"
            "      --idle-timeout S        seconds without progress before abort (default 60)\n"
            "      --once                  serve one connection, exit 0 if it succeeded\n"
            "  -h, --help                  this text\n\n"
            "SIGHUP reloads the policy file and certificates; running sessions go on.\n"
            "See xenguard-tunnel(8).\n",
            XG_DEFAULT_POLICY_PATH);
}

/* The options as given (base) and the configuration in use (cur, base + the policy file). */
struct tunneld {
    struct xg_tunnel_cli base, *cur;
};

static void unload(struct xg_tunnel_cli *c)
{
    if (c) {
        xg_tunnel_cli_free(c);
        free(c);
    }
}

/* The options plus the policy file, checked as tunneld needs them. */
static int load(const struct xg_tunnel_cli *base, struct xg_tunnel_cli **out, struct xg_err *err)
{
    struct xg_tunnel_cli *c = malloc(sizeof(*c));
    if (!c)
        return xg_fail(err, "out of memory");
    *c = *base;
    if (xg_tunnel_cli_resolve(c, err) < 0)
        goto fail;
    if (c->have_policy && c->policy.transport != XG_TRANSPORT_TUNNEL) {
        xg_fail(err, "%s says [migration] transport = %s; tunneld serves only transport = tunnel",
                c->policy.path ? c->policy.path : "the policy",
                xg_transport_name(c->policy.transport));
        goto fail;
    }
    if (c->o.name_count + c->o.fingerprint_count == 0) {
        xg_fail(err, "the allowlist is empty (peer-names / peer-fingerprints, or --allow): "
                     "nobody could migrate in");
        goto fail;
    }
    *out = c;
    return 0;
fail:
    unload(c);
    return -1;
}

/* SIGHUP. The listening socket stays as it is: --listen, --port, --interface need a restart. */
static int reload(void *arg, const struct xg_tunnel_opts **o, SSL_CTX **ctx, struct xg_err *err)
{
    struct tunneld *d = arg;
    struct xg_tunnel_cli *next;
    if (load(&d->base, &next, err) < 0)
        return -1;
    SSL_CTX *nctx = xg_tls_ctx_new(&next->o, true, err);
    if (!nctx) {
        unload(next);
        return -1;
    }
    SSL_CTX_free(*ctx);
    *ctx = nctx;
    unload(d->cur);
    d->cur = next;
    *o = &next->o;
    return 0;
}

enum { O_LISTEN = XG_TOPT_OWN, O_IFACE, O_PORT, O_RECV, O_MAX, O_MAXHS, O_ONCE };

int cmd_tunneld(int argc, char **argv)
{
    static const struct option opts[] = {
        XG_TUNNEL_SHARED_OPTIONS,
        {"listen", required_argument, NULL, O_LISTEN},
        {"interface", required_argument, NULL, O_IFACE},
        {"port", required_argument, NULL, O_PORT},
        {"receive-command", required_argument, NULL, O_RECV},
        {"max-sessions", required_argument, NULL, O_MAX},
        {"max-handshakes", required_argument, NULL, O_MAXHS},
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
        case O_MAXHS:
            if (xg_parse_uint(optarg, opt == O_PORT ? 0 : 1,
                              opt == O_PORT  ? 65535
                              : opt == O_MAX ? 86400
                                             : 1024,
                              &v) < 0) {
                fprintf(stderr, "xenguard tunneld: bad number '%s'\n", optarg);
                return 2;
            }
            if (opt == O_PORT)
                c.port = (uint16_t)v, c.port_set = true;
            else if (opt == O_MAX)
                c.max_sessions = (unsigned)v;
            else
                c.max_handshakes = (unsigned)v;
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
    struct tunneld d = {.base = c};
    if (load(&d.base, &d.cur, &err) < 0) {
        xg_err_print(stderr, "xenguard tunneld", &err);
        return 1;
    }
    struct xg_tunnel_reload r = {.fn = reload, .arg = &d};
    int rc = 0;
    if (xg_tunnel_server(&d.cur->o, once, 2, &r, &err) < 0) {
        if (err.msg[0])
            xg_err_print(stderr, "xenguard tunneld", &err);
        rc = 1;
    }
    unload(d.cur);
    return rc;
}
