/*
 * tunnel_keys.c — `xenguard tunnel-keys`: a CA and host certificates for the
 * migration tunnel, and certificate fingerprints for pinning.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "tunnel/conf.h"
#include "verbs.h"

#define DEFAULT_DIR "/etc/xenguard/tunnel"

enum { O_DAYS = XG_CLI_LONG, O_CANAME, O_SAN, O_FORCE, O_FP };

static const struct xg_opt options[] = {
    {'D', "dir", "DIR", "where keys live (default " DEFAULT_DIR ")"},
    {O_DAYS, "days", "N", "validity of new certificates (default 825)"},
    {O_CANAME, "ca-name", "NAME", "CN of a new CA (default \"xenguard tunnel CA\")"},
    {O_SAN, "san", "HOST=NAME", "extra DNS name or IP address for HOST's certificate"},
    {O_FORCE, "force", NULL, "reissue existing host certificates (rotation)"},
    {O_FP, "fingerprint", NULL, "print sha256: fingerprints of the given certificates"},
    {0},
};

const struct xg_cli xg_cli_tunnel_keys = {
    .verb = "tunnel-keys",
    .usage = "[-D DIR] [OPTIONS] HOST...\n--fingerprint CERT...",
    .about = "Create the cluster CA in DIR (ca.pem, ca.key) unless it exists, then a key and\n"
             "certificate for each HOST (HOST.pem, HOST.key) signed by it.\n",
    .opts = options,
    .epilog = "Exit status: 0 success, 1 failure, 2 usage.\n"
              "See xenguard-tunnel(8), section KEYS AND ROTATION.\n",
};

static int fingerprints(int argc, char **argv)
{
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        char fp[72];
        if (f)
            fclose(f);
        if (!x || xg_cert_fingerprint(x, fp) < 0) {
            fprintf(stderr, "xenguard tunnel-keys: %s: not a PEM certificate\n", argv[i]);
            rc = 1;
        } else {
            printf("%s  %s\n", fp, argv[i]);
        }
        X509_free(x);
    }
    return rc;
}

int cmd_tunnel_keys(int argc, char **argv)
{
    const char *dir = DEFAULT_DIR, *ca_name = "xenguard tunnel CA", *sans[64];
    size_t nsan = 0;
    unsigned long long days = 825;
    bool force = false, fp_mode = false;
    struct xg_err err = {{0}};
    int opt;

    struct xg_cli_parser p;
    xg_cli_begin(&p, &xg_cli_tunnel_keys, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        switch (opt) {
        case 'D':
            dir = p.arg;
            break;
        case O_DAYS:
            if (xg_parse_uint(p.arg, 1, 36500, &days) < 0)
                return xg_cli_usage_error(&xg_cli_tunnel_keys, "bad number of days '%s'", p.arg);
            break;
        case O_CANAME:
            ca_name = p.arg;
            break;
        case O_SAN:
            if (!strchr(p.arg, '='))
                return xg_cli_usage_error(&xg_cli_tunnel_keys, "--san wants HOST=NAME");
            if (nsan == 64)
                return xg_cli_usage_error(&xg_cli_tunnel_keys, "at most 64 --san");
            sans[nsan++] = p.arg;
            break;
        case O_FORCE:
            force = true;
            break;
        case O_FP:
            fp_mode = true;
            break;
        default:
            return p.rc;
        }
    }
    if (xg_cli_operands(&p, 1, -1) < 0)
        return p.rc;
    int first = p.optind;
    if (fp_mode)
        return fingerprints(argc - first, argv + first);

    bool created;
    if (xg_keys_ca(dir, ca_name, (unsigned)days, &created, &err) < 0) {
        xg_err_print(stderr, "xenguard tunnel-keys", &err);
        return 1;
    }
    printf("%s %s/ca.pem (keep %s/ca.key offline once the hosts are issued)\n",
           created ? "created" : "using", dir, dir);
    for (int i = first; i < argc; i++) {
        const char *extra[64];
        size_t nextra = 0;
        size_t hl = strlen(argv[i]);
        for (size_t k = 0; k < nsan; k++)
            if (!strncmp(sans[k], argv[i], hl) && sans[k][hl] == '=')
                extra[nextra++] = sans[k] + hl + 1;
        char fp[72];
        if (xg_keys_host(dir, argv[i], extra, nextra, (unsigned)days, force, fp, &err) < 0) {
            xg_err_print(stderr, "xenguard tunnel-keys", &err);
            return 1;
        }
        printf("issued  %s/%s.pem  %s\n", dir, argv[i], fp);
    }
    return 0;
}
