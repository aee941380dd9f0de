/*
 * keys.c — a cluster CA and host certificates, with the OpenSSL API.
 *
 * `xenguard tunnel-keys` exists so that nobody has to get openssl(1)
 * incantations right: the CA is P-256 with CA:TRUE, pathlen 0, and only
 * keyCertSign/cRLSign; host certificates are P-256, CA:FALSE,
 * digitalSignature, EKU serverAuth + clientAuth (every Dom0 is both ends),
 * CN = host and a SAN naming the host (DNS or IP), random 127-bit serials,
 * SHA-256 signatures. Private keys are created 0600 with O_EXCL, so an
 * existing key is never silently replaced.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tunnel/tunnel.h"

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static bool host_ok(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 253 || h[0] == '.' || h[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(h[i] == '.' || h[i] == '-' || h[i] == ':' || h[i] == '_' ||
              (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'z') ||
              (h[i] >= 'A' && h[i] <= 'Z')))
            return false;
    return true;
}

static bool is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value, struct xg_err *err)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    if (!e || !X509_add_ext(x, e, -1)) {
        X509_EXTENSION_free(e);
        return xg_fail(err, "certificate extension %s: %s", value,
                       ERR_reason_error_string(ERR_get_error()));
    }
    X509_EXTENSION_free(e);
    return 0;
}

static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert, bool replace,
                     struct xg_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL), mode);
    if (fd < 0)
        return xg_fail(err, "%s: %s", path, strerror(errno));
    fchmod(fd, mode);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return xg_fail(err, "%s: %s", path, strerror(errno));
    }
    int ok =
        key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    if (fclose(f) != 0 || !ok)
        return xg_fail(err, "%s: cannot write", path);
    return 0;
}

/* Build and sign a certificate; issuer NULL = self-signed. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       unsigned days, const char *const *exts, const int *nids, size_t next,
                       struct xg_err *err)
{
    X509 *x = X509_new();
    BIGNUM *bn = BN_new();
    if (!x || !bn || !X509_set_version(x, 2) || !BN_rand(bn, 127, BN_RAND_TOP_ANY, 0) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) || !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x))) {
        xg_fail(err, "cannot build certificate for %s", cn);
        goto fail;
    }
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    for (size_t i = 0; i < next; i++)
        if (add_ext(x, &v3, nids[i], exts[i], err) < 0)
            goto fail;
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
        xg_fail(err, "cannot sign certificate for %s", cn);
        goto fail;
    }
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

int xg_keys_ca(const char *dir, const char *ca_name, unsigned days, bool *created,
               struct xg_err *err)
{
    char cp[4096], kp[4096];
    snprintf(cp, sizeof(cp), "%s/ca.pem", dir);
    snprintf(kp, sizeof(kp), "%s/ca.key", dir);
    *created = false;
    if (exists(cp) && exists(kp))
        return 0;
    if (exists(cp) || exists(kp))
        return xg_fail(err, "%s: only one of ca.pem and ca.key exists; refusing to guess", dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return xg_fail(err, "%s: %s", dir, strerror(errno));
    static const int nids[] = {NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
                               NID_authority_key_identifier};
    static const char *const exts[] = {"critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign",
                                       "hash", "keyid:always"};
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key)
        return xg_fail(err, "cannot generate the CA key");
    X509 *x = make_cert(key, ca_name, NULL, NULL, days, exts, nids, 4, err);
    int rc = -1;
    if (x && write_pem(kp, 0600, key, NULL, false, err) == 0 &&
        write_pem(cp, 0644, NULL, x, false, err) == 0) {
        rc = 0;
        *created = true;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static int load_ca(const char *dir, X509 **cert, EVP_PKEY **key, struct xg_err *err)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/ca.pem", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return xg_fail(err, "%s: %s", p, strerror(errno));
    *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!*cert)
        return xg_fail(err, "%s: not a PEM certificate", p);
    snprintf(p, sizeof(p), "%s/ca.key", dir);
    if (!(f = fopen(p, "r")))
        return xg_fail(err, "%s: %s", p, strerror(errno));
    *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!*key || X509_check_private_key(*cert, *key) != 1)
        return xg_fail(err, "%s: not the key of ca.pem", p);
    return 0;
}

int xg_keys_host(const char *dir, const char *host, const char **sans, size_t san_count,
                 unsigned days, bool force, char fp[72], struct xg_err *err)
{
    char cp[4096], kp[4096], san[2048];
    X509 *ca = NULL, *x = NULL;
    EVP_PKEY *cakey = NULL, *key = NULL;
    int rc = -1;
    size_t pos;

    if (!host_ok(host))
        return xg_fail(err, "'%.80s' is not a host name or address", host);
    pos = (size_t)snprintf(san, sizeof(san), "%s:%s", is_ip(host) ? "IP" : "DNS", host);
    for (size_t i = 0; i < san_count; i++) {
        if (!host_ok(sans[i]))
            return xg_fail(err, "'%.80s' is not a host name or address", sans[i]);
        pos += (size_t)snprintf(san + pos, sizeof(san) - pos, ",%s:%s",
                                is_ip(sans[i]) ? "IP" : "DNS", sans[i]);
        if (pos >= sizeof(san))
            return xg_fail(err, "too many names");
    }
    snprintf(cp, sizeof(cp), "%s/%s.pem", dir, host);
    snprintf(kp, sizeof(kp), "%s/%s.key", dir, host);
    if (!force && (exists(cp) || exists(kp)))
        return xg_fail(err, "%s: exists (use --force to reissue it)", cp);
    if (load_ca(dir, &ca, &cakey, err) < 0)
        goto out;
    static const int nids[] = {NID_basic_constraints,      NID_key_usage,
                               NID_ext_key_usage,          NID_subject_alt_name,
                               NID_subject_key_identifier, NID_authority_key_identifier};
    const char *exts[] = {
        "critical,CA:FALSE", "critical,digitalSignature", "serverAuth,clientAuth", san, "hash",
        "keyid:always"};
    if (!(key = EVP_EC_gen("P-256"))) {
        xg_fail(err, "cannot generate a key for %s", host);
        goto out;
    }
    if (!(x = make_cert(key, host, ca, cakey, days, exts, nids, 6, err)))
        goto out;
    if (force)
        unlink(kp);
    if (write_pem(kp, 0600, key, NULL, false, err) < 0 ||
        write_pem(cp, 0644, NULL, x, true, err) < 0)
        goto out;
    xg_cert_fingerprint(x, fp);
    rc = 0;
out:
    X509_free(ca);
    X509_free(x);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(key);
    return rc;
}
