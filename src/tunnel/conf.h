/*
 * conf.h — tunnel settings from the policy file plus command-line overrides
 * (conf.c), shared by the tunnel and tunneld verbs.
 */
#ifndef XG_TUNNEL_CONF_H
#define XG_TUNNEL_CONF_H

#include "policy/policy.h"
#include "tunnel/tunnel.h"

#define XG_TUNNEL_CLI_ALLOW_MAX 64

struct xg_tunnel_cli {
    const char *config; /* -c FILE */
    const char *ca, *cert, *key, *receive_command, *listen, *interface;
    const char *names[XG_TUNNEL_CLI_ALLOW_MAX], *fps[XG_TUNNEL_CLI_ALLOW_MAX];
    size_t name_count, fp_count;
    bool allow_set, port_set, have_policy;
    uint16_t port;
    unsigned max_sessions, max_handshakes, handshake_timeout, idle_timeout;
    unsigned long long rekey_bytes, rekey_records;
    struct xg_policy policy;
    struct xg_tunnel_opts o; /* the result */
};

/* The options tunnel and tunneld share (-c and these): the ids of their rows
 * in each verb's option table (cmd/cli.h), handled by xg_tunnel_cli_option().
 * A verb numbers its own long options from XG_TOPT_OWN. */
enum {
    XG_TOPT_CA = 256, /* XG_CLI_LONG */
    XG_TOPT_CERT,
    XG_TOPT_KEY,
    XG_TOPT_ALLOW,
    XG_TOPT_HTO,
    XG_TOPT_ITO,
    XG_TOPT_OWN
};

/* Apply a shared option: 1 when `opt` was one (set), 0 when it is not shared, -1 on a bad
 * value (err says which). */
int xg_tunnel_cli_option(struct xg_tunnel_cli *c, int opt, const char *arg, struct xg_err *err);

void xg_tunnel_cli_init(struct xg_tunnel_cli *c);
int xg_tunnel_cli_allow(struct xg_tunnel_cli *c, const char *id, struct xg_err *err);
/* Load the policy (-c, or the default file if present) and apply the overrides. */
int xg_tunnel_cli_resolve(struct xg_tunnel_cli *c, struct xg_err *err);
void xg_tunnel_cli_free(struct xg_tunnel_cli *c);

/* Decimal in [min, max]; -1 otherwise. */
int xg_parse_uint(const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out);

#endif
