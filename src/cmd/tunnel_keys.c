/*
 * tunnel_keys.c — `xenguard tunnel-keys`: a CA and host certificates for the
 * migration tunnel, and certificate fingerprints for pinning.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "tunnel/conf.h"
#include "verbs.h"

#define DEFAULT_DIR "/etc/xenguard/tunnel"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard tunnel-keys [-d DIR] [OPTIONS] HOST...\n"
            "       xenguard tunnel-keys --fingerprint CERT...\n\n"
            "Create the cluster CA in DIR (ca.pem, ca.key) unless it exists, then a key and\n"
            "certificate for each HOST (HOST.pem, HOST.key) signed by it.\n\n"
            "  -d, --dir DIR          where keys live (default %s)\n"
            "      --days N           validity of new certificates (default 825)\n"
            "      --ca-name NAME     CN of a new CA (default \"xenguard tunnel CA\")\n"
            "      --san HOST=NAME    extra DNS name or IP address for HOST's certificate\n"
            "      --force            reissue existing host certificates (rotation)\n"
            "      --fingerprint      print sha256: fingerprints of the given certificates\n"
            "  -h, --help             this text\n\n"
            "See xenguard-tunnel(8), section KEYS AND ROTATION.\n",
            DEFAULT_DIR);
}

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

enum { O_DAYS = 256, O_CANAME, O_SAN, O_FORCE, O_FP };

int cmd_tunnel_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"days", required_argument, NULL, O_DAYS},
        {"ca-name", required_argument, NULL, O_CANAME},
        {"san", required_argument, NULL, O_SAN},
        {"force", no_argument, NULL, O_FORCE},
        {"fingerprint", no_argument, NULL, O_FP},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *dir = DEFAULT_DIR, *ca_name = "xenguard tunnel CA", *sans[64];
    size_t nsan = 0;
    unsigned long long days = 825;
    bool force = false, fp_mode = false;
    struct xg_err err = {{0}};
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case O_DAYS:
            if (xg_parse_uint(optarg, 1, 36500, &days) < 0) {
                fprintf(stderr, "xenguard tunnel-keys: bad number of days '%s'\n", optarg);
                return 2;
            }
            break;
        case O_CANAME:
            ca_name = optarg;
            break;
        case O_SAN:
            if (!strchr(optarg, '=') || nsan == 64) {
                fprintf(stderr, "xenguard tunnel-keys: --san wants HOST=NAME\n");
                return 2;
            }
            sans[nsan++] = optarg;
            break;
        case O_FORCE:
            force = true;
            break;
        case O_FP:
            fp_mode = true;
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
    if (fp_mode)
        return fingerprints(argc - optind, argv + optind);

    bool created;
    if (xg_keys_ca(dir, ca_name, (unsigned)days, &created, &err) < 0) {
        xg_err_print(stderr, "xenguard tunnel-keys", &err);
        return 1;
    }
    printf("%s %s/ca.pem (keep %s/ca.key offline once the hosts are issued)\n",
           created ? "created" : "using", dir, dir);
    for (int i = optind; i < argc; i++) {
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
