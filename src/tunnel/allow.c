/*
 * allow.c — who may talk to us: the allowlist of peer identities.
 *
 * Chaining to the cluster CA proves a certificate was issued by whoever
 * holds the CA key; it does not say this peer may migrate into us. Every
 * peer must additionally be named here, by certificate name (its DNS
 * subjectAltNames, or its CN only when it has none: RFC 6125; exact,
 * case-insensitive like DNS) or by pinned SHA-256 fingerprint of
 * the whole DER certificate (survives nothing: a reissued certificate needs
 * a new pin, which is the point). Pure functions over X509, no I/O.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "tunnel/tunnel.h"

int xg_fingerprint_normalize(const char *in, char out[72], struct xg_err *err)
{
    size_t n = 0;
    if (strncasecmp(in, "sha256:", 7))
        return xg_fail(err, "fingerprint '%.80s' must start with sha256:", in);
    memcpy(out, "sha256:", 7);
    for (const char *p = in + 7; *p; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p) || n == 64)
            return xg_fail(err, "fingerprint '%.80s' is not 32 hex bytes", in);
        out[7 + n++] = (char)tolower((unsigned char)*p);
    }
    if (n != 64)
        return xg_fail(err, "fingerprint '%.80s' is not 32 hex bytes", in);
    out[71] = 0;
    return 0;
}

int xg_cert_fingerprint(X509 *cert, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &len) || len != 32)
        return -1;
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static bool name_listed(const struct xg_tunnel_opts *o, const char *name)
{
    for (size_t i = 0; i < o->name_count; i++)
        if (!strcasecmp(o->names[i], name))
            return true;
    return false;
}

bool xg_allow_match(const struct xg_tunnel_opts *o, X509 *cert, char *who, size_t who_len)
{
    char fp[72], norm[72], cn[256];
    struct xg_err ignore;

    if (xg_cert_fingerprint(cert, fp) == 0)
        for (size_t i = 0; i < o->fingerprint_count; i++)
            if (xg_fingerprint_normalize(o->fingerprints[i], norm, &ignore) == 0 &&
                !strcmp(norm, fp)) {
                snprintf(who, who_len, "%s", fp);
                return true;
            }
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    bool found = false, dns = false;
    for (int i = 0; sans && !found && i < sk_GENERAL_NAME_num(sans); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS)
            continue;
        dns = true;
        const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
        int len = ASN1_STRING_length(g->d.dNSName);
        if (len <= 0 || len >= (int)sizeof(cn) || memchr(s, 0, (size_t)len))
            continue;
        memcpy(cn, s, (size_t)len);
        cn[len] = 0;
        if (name_listed(o, cn)) {
            snprintf(who, who_len, "%s", cn);
            found = true;
        }
    }
    GENERAL_NAMES_free(sans);
    if (found || dns)
        return found; /* with DNS names, the CN is not a name (RFC 6125) */
    int len =
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, (int)sizeof(cn));
    if (len > 0 && (size_t)len == strlen(cn) && name_listed(o, cn)) {
        snprintf(who, who_len, "%s", cn);
        return true;
    }
    return false;
}
