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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/conf.h"
#include "verbs.h"

enum { O_LISTEN = XG_TOPT_OWN, O_IFACE, O_PORT, O_RECV, O_MAX, O_MAXHS, O_ONCE };

static const struct xg_opt options[] = {
    {'c', "config", "FILE", "policy file (default " XG_DEFAULT_POLICY_PATH " if present)"},
    {XG_TOPT_CA, "ca", "FILE", "CA certificate peers must chain to"},
    {XG_TOPT_CERT, "cert", "FILE", "this host's certificate"},
    {XG_TOPT_KEY, "key", "FILE", "this host's private key"},
    {XG_TOPT_ALLOW, "allow", "NAME|sha256:FP", "allowed peer (repeat; replaces the policy's list)"},
    {O_LISTEN, "listen", "ADDR", "address to listen on (default: all)"},
    {O_IFACE, "interface", "IFACE", "accept only on this interface"},
    {O_PORT, "port", "N", "TCP port (default: [migration] port or 8002; 0 = any)"},
    {O_RECV, "receive-command", "CMD", "command fed with the stream"},
    {O_MAX, "max-sessions", "N", "concurrent sessions (default 4)"},
    {O_MAXHS, "max-handshakes", "N",
     "connections still authenticating (default 32, a\n"
     "quarter per source address; when full, the oldest\n"
     "is dropped)"},
    {XG_TOPT_HTO, "handshake-timeout", "S", "seconds for TLS handshake + request (default 3)"},
    {XG_TOPT_ITO, "idle-timeout", "S", "seconds without progress before abort (default 60)"},
    {O_ONCE, "once", NULL, "serve one connection, exit 0 if it succeeded"},
    {0},
};

const struct xg_cli xg_cli_tunneld = {
    .verb = "tunneld",
    .usage = "[-c FILE] [OPTIONS]",
    .about = "Receive live migrations over mutually authenticated TLS 1.3 and hand each\n"
             "stream to the receive command (default: xl migrate-receive).\n",
    .opts = options,
    .epilog = "SIGHUP reloads the policy file and certificates; running sessions go on.\n"
              "Exit status: 0 stopped by SIGTERM (--once: the session succeeded), 1 failure,\n"
              "2 usage. See xenguard-tunnel(8).\n",
};

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

/* The options into c and once: 0, or -1 with the exit status in *rc. */
static int parse_opts(int argc, char **argv, struct xg_tunnel_cli *c, bool *once, int *rc)
{
    struct xg_cli_parser p;
    struct xg_err err = {{0}};
    unsigned long long v;
    int opt;
    xg_cli_begin(&p, &xg_cli_tunneld, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        int shared = opt == XG_CLI_STOP ? 0 : xg_tunnel_cli_option(c, opt, p.arg, &err);
        if (shared < 0) {
            *rc = xg_cli_usage_error(&xg_cli_tunneld, "%s", err.msg);
            return -1;
        }
        if (shared)
            continue;
        switch (opt) {
        case O_LISTEN:
            c->listen = p.arg;
            break;
        case O_IFACE:
            c->interface = p.arg;
            break;
        case O_RECV:
            c->receive_command = p.arg;
            break;
        case O_PORT:
        case O_MAX:
        case O_MAXHS:
            if (xg_parse_uint(p.arg, opt == O_PORT ? 0 : 1,
                              opt == O_PORT  ? 65535
                              : opt == O_MAX ? 86400
                                             : 1024,
                              &v) < 0) {
                *rc = xg_cli_usage_error(&xg_cli_tunneld, "bad number '%s'", p.arg);
                return -1;
            }
            if (opt == O_PORT)
                c->port = (uint16_t)v, c->port_set = true;
            else if (opt == O_MAX)
                c->max_sessions = (unsigned)v;
            else
                c->max_handshakes = (unsigned)v;
            break;
        case O_ONCE:
            *once = true;
            break;
        default:
            *rc = p.rc;
            return -1;
        }
    }
    if (xg_cli_operands(&p, 0, 0) < 0) {
        *rc = p.rc;
        return -1;
    }
    return 0;
}

int cmd_tunneld(int argc, char **argv)
{
    struct xg_tunnel_cli c;
    struct xg_err err = {{0}};
    bool once = false;
    int rc;

    xg_tunnel_cli_init(&c);
    if (parse_opts(argc, argv, &c, &once, &rc) < 0)
        return rc;
    struct tunneld d = {.base = c};
    if (load(&d.base, &d.cur, &err) < 0) {
        xg_err_print(stderr, "xenguard tunneld", &err);
        return 1;
    }
    struct xg_tunnel_reload r = {.fn = reload, .arg = &d};
    rc = 0;
    if (xg_tunnel_server(&d.cur->o, once, 2, &r, &err) < 0) {
        if (err.msg[0])
            xg_err_print(stderr, "xenguard tunneld", &err);
        rc = 1;
    }
    unload(d.cur);
    return rc;
}
