/*
 * conf.c — one set of tunnel settings from the policy file and the options.
 *
 * The policy's [tunnel] section (struct xg_tunnel_conf), [migration] port and
 * [host] management-interface give the defaults; command-line options
 * override them one by one (an --allow given once replaces the policy's
 * allowlist, it does not extend it: what you type is what is allowed).
 * Without -c the default policy file is read if it exists, because xl runs
 * `xenguard tunnel HOST ...` with no options of ours.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tunnel/conf.h"

void xg_tunnel_cli_init(struct xg_tunnel_cli *c)
{
    memset(c, 0, sizeof(*c));
    c->o.port = XG_TUNNEL_DEFAULT_PORT;
    c->o.receive_command = XG_TUNNEL_DEFAULT_RECEIVE;
    c->o.max_sessions = 4;
    c->o.max_handshakes = XG_TUNNEL_MAX_HANDSHAKES;
    c->o.handshake_timeout = 3;
    c->o.idle_timeout = 60;
    c->o.rekey_bytes = XG_TUNNEL_REKEY_BYTES;
    c->o.rekey_records = XG_TUNNEL_REKEY_RECORDS_MAX;
}

int xg_parse_uint(const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s[0] || s[0] == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int xg_tunnel_cli_option(struct xg_tunnel_cli *c, int opt, const char *arg, struct xg_err *err)
{
    unsigned long long v;
    switch (opt) {
    case 'c':
        c->config = arg;
        return 1;
    case XG_TOPT_CA:
        c->ca = arg;
        return 1;
    case XG_TOPT_CERT:
        c->cert = arg;
        return 1;
    case XG_TOPT_KEY:
        c->key = arg;
        return 1;
    case XG_TOPT_ALLOW:
        return xg_tunnel_cli_allow(c, arg, err) < 0 ? -1 : 1;
    case XG_TOPT_HTO:
    case XG_TOPT_ITO:
        if (xg_parse_uint(arg, 1, 86400, &v) < 0)
            return xg_fail(err, "bad number '%s'", arg);
        if (opt == XG_TOPT_HTO)
            c->handshake_timeout = (unsigned)v;
        else
            c->idle_timeout = (unsigned)v;
        return 1;
    default:
        return 0;
    }
}

int xg_tunnel_cli_allow(struct xg_tunnel_cli *c, const char *id, struct xg_err *err)
{
    char fp[72];
    if (!strncasecmp(id, "sha256:", 7)) {
        if (xg_fingerprint_normalize(id, fp, err) < 0)
            return -1;
        if (c->fp_count == XG_TUNNEL_CLI_ALLOW_MAX)
            return xg_fail(err, "too many --allow fingerprints");
        c->fps[c->fp_count++] = id;
    } else {
        if (!id[0] || strlen(id) > 253)
            return xg_fail(err, "--allow '%.80s' is not a certificate name", id);
        if (c->name_count == XG_TUNNEL_CLI_ALLOW_MAX)
            return xg_fail(err, "too many --allow names");
        c->names[c->name_count++] = id;
    }
    c->allow_set = true;
    return 0;
}

int xg_tunnel_cli_resolve(struct xg_tunnel_cli *c, struct xg_err *err)
{
    const char *path = c->config;
    if (!path && access(XG_DEFAULT_POLICY_PATH, R_OK) == 0)
        path = XG_DEFAULT_POLICY_PATH;
    if (path) {
        if (xg_policy_load(path, &c->policy, NULL, err) < 0)
            return -1;
        c->have_policy = true;
        const struct xg_tunnel_conf *t = &c->policy.tunnel;
        struct xg_tunnel_opts *o = &c->o;
        if (t->ca)
            o->ca = t->ca;
        if (t->cert)
            o->cert = t->cert;
        if (t->key)
            o->key = t->key;
        o->names = (const char **)t->peer_names;
        o->name_count = t->peer_name_count;
        o->fingerprints = (const char **)t->peer_fingerprints;
        o->fingerprint_count = t->peer_fingerprint_count;
        if (t->receive_command)
            o->receive_command = t->receive_command;
        if (t->max_sessions)
            o->max_sessions = t->max_sessions;
        if (t->handshake_timeout)
            o->handshake_timeout = t->handshake_timeout;
        if (t->idle_timeout)
            o->idle_timeout = t->idle_timeout;
        if (c->policy.migration_port)
            o->port = c->policy.migration_port;
        if (c->policy.management_if[0])
            o->interface = c->policy.management_if;
    }
    /* command-line overrides */
    if (c->ca)
        c->o.ca = c->ca;
    if (c->cert)
        c->o.cert = c->cert;
    if (c->key)
        c->o.key = c->key;
    if (c->allow_set) {
        c->o.names = c->names;
        c->o.name_count = c->name_count;
        c->o.fingerprints = c->fps;
        c->o.fingerprint_count = c->fp_count;
    }
    if (c->receive_command)
        c->o.receive_command = c->receive_command;
    if (c->listen)
        c->o.listen = c->listen;
    if (c->interface)
        c->o.interface = c->interface;
    if (c->port_set)
        c->o.port = c->port;
    if (c->max_sessions)
        c->o.max_sessions = c->max_sessions;
    if (c->max_handshakes)
        c->o.max_handshakes = c->max_handshakes;
    if (c->handshake_timeout)
        c->o.handshake_timeout = c->handshake_timeout;
    if (c->idle_timeout)
        c->o.idle_timeout = c->idle_timeout;
    if (c->rekey_bytes)
        c->o.rekey_bytes = c->rekey_bytes;
    if (c->rekey_records)
        c->o.rekey_records = c->rekey_records;
    for (size_t i = 0; i < c->o.fingerprint_count; i++) {
        char fp[72];
        if (xg_fingerprint_normalize(c->o.fingerprints[i], fp, err) < 0)
            return -1;
    }
    if (!c->o.ca || !c->o.cert || !c->o.key)
        return xg_fail(err, "no CA, certificate or key configured ([tunnel] ca/cert/key in the "
                            "policy, or --ca --cert --key)");
    return 0;
}

void xg_tunnel_cli_free(struct xg_tunnel_cli *c)
{
    if (c->have_policy)
        xg_policy_free(&c->policy);
}
