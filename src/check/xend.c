/*
 * xend.c — the legacy xend toolstack's xend-config.sxp.
 *
 * xend answered on several TCP listeners; the chapter's relocation server
 * is the famous one, but the HTTP and XML-RPC servers and the Xen-API
 * server with auth "none" hand Domain-0 to whoever connects. The
 * relocation hosts-allow list is a list of regular expressions that xend
 * matches against the peer's address and reverse-DNS name with re.match:
 * anchored only at the start, and an unescaped '.' matches any character,
 * so `^192.0.2.1` also admits 192.0.2.10 and 192a0b2c1.attacker.example.
 * xend splits the list with split(" "): a doubled, leading or trailing
 * space makes an empty pattern, which matches every peer. Because the
 * reverse-DNS name is the peer's to choose, a name entry (even
 * `^localhost$`) admits whoever sets that PTR record: only address entries
 * that are peers of the policy pass.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check.h"

static const struct xg_kv *get(const struct xg_host *h, const char *key)
{
    return xg_kv_find(&h->xend, key, false);
}

static bool on(const struct xg_kv *kv)
{
    return kv && (!strcasecmp(kv->value, "yes") || !strcasecmp(kv->value, "true") ||
                  !strcmp(kv->value, "1"));
}

static bool need(const struct xg_host *h, struct xg_result *r)
{
    return xg_need_file(r, h, h->xend_present, XG_SEC_XEND, "/etc/xen/xend-config.sxp");
}

/* xenguard harden xend writes each key these checks judge (relocation per the policy,
 * its address, hosts-allow = the peers, no SSL relocation, no TCP control servers). */
static void fix_by_harden(const struct xg_policy *p, struct xg_result *r)
{
    if (r->status == XG_STATUS_FAIL)
        xg_fix_harden(r, p, "xend");
}

static bool relocation_on(const struct xg_host *h)
{
    return on(get(h, "xend-relocation-server")) || on(get(h, "xend-relocation-ssl-server"));
}

static void check_reloc_server(const struct xg_host *h, const struct xg_policy *p,
                               struct xg_result *r)
{
    if (!need(h, r))
        return;
    const struct xg_kv *kv = get(h, "xend-relocation-server");
    if (!on(kv)) {
        xg_evidence(r, "xend-relocation-server %s", kv ? kv->value : "no (default)");
        return;
    }
    if (p && p->transport == XG_TRANSPORT_XEND)
        xg_evidence(r, "%s:%u: relocation server on, as the policy's transport xend declares",
                    kv->file, kv->line);
    else
        xg_failf(r, "%s:%u: xend-relocation-server yes, but the policy %s", kv->file, kv->line,
                 p ? "does not declare transport xend" : "is absent (strictest reading: off)");
    fix_by_harden(p, r);
}

static void check_reloc_address(const struct xg_host *h, const struct xg_policy *p,
                                struct xg_result *r)
{
    if (!need(h, r))
        return;
    if (!relocation_on(h)) {
        xg_evidence(r, "relocation server off");
        return;
    }
    const struct xg_kv *a = get(h, "xend-relocation-address");
    if (!a || !a->value[0] || !strcmp(a->value, "0.0.0.0") || !strcmp(a->value, "::"))
        xg_failf(r, "xend-relocation-address '%s'%s: relocation listens on every interface",
                 a ? a->value : "", a ? "" : " (not set)");
    else
        xg_evidence(r, "%s:%u: xend-relocation-address %s", a->file, a->line, a->value);
    fix_by_harden(p, r);
}

/*
 * Judge one hosts-allow regex; returns NULL when it admits exactly one
 * address, else why not. `lit` receives the literal text.
 */
static const char *judge_regex(const char *re, char *lit, size_t lit_size)
{
    size_t n = strlen(re);
    if (!n)
        return "an empty pattern (a doubled, leading or trailing space: xend splits on ' '): "
               "it matches every peer";
    if (strpbrk(re, "\t\r\n\v\f"))
        return "whitespace other than a single space: xend splits the list on ' ' only, so this "
               "is one pattern";
    if (n < 2 || re[0] != '^' || re[n - 1] != '$' || (n >= 2 && re[n - 2] == '\\'))
        return "not anchored with ^...$ (xend uses re.match: a prefix match)";
    size_t o = 0;
    bool name = false;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = re[i];
        if (c == '\\') {
            if (re[i + 1] != '.' || i + 2 >= n)
                return "a regex escape other than \\.";
            i++;
            c = '.';
        } else if (c == '.') {
            return "an unescaped '.' matches any character";
        } else if (strchr("*+?[](){}|", c)) {
            return "a regex operator admits more than one host";
        } else if (isalpha((unsigned char)c) && !isxdigit((unsigned char)c)) {
            name = true;
        } else if (c != ':' && !isxdigit((unsigned char)c)) {
            name = true;
        }
        if (o + 1 < lit_size)
            lit[o++] = c;
    }
    lit[o] = '\0';
    struct xg_prefix a;
    if (name || xg_addr_parse(lit, &a) < 0)
        return "a host name: xend matches it against the peer's reverse-DNS name, which "
               "whoever controls the PTR record chooses";
    return NULL;
}

/* Judge one space-separated pattern of the list; true when it admits a policy peer. */
static bool judge_entry(const struct xg_kv *kv, const char *re, const struct xg_policy *p,
                        struct xg_result *r)
{
    char lit[256];
    const char *why = judge_regex(re, lit, sizeof(lit));
    if (why) {
        xg_failf(r, "%s:%u: hosts-allow '%s': %s", kv->file, kv->line, re, why);
        return false;
    }
    struct xg_prefix a;
    bool addr = xg_addr_parse(lit, &a) == 0;
    if (p && addr && !xg_prefix_list_covers(&p->peers, &a)) {
        xg_failf(r, "%s:%u: hosts-allow '%s': %s is not a peer of the policy", kv->file, kv->line,
                 re, lit);
        return false;
    }
    xg_evidence(r, "%s:%u: hosts-allow '%s' admits exactly %s", kv->file, kv->line, re, lit);
    return p && addr;
}

static void check_hosts_allow(const struct xg_host *h, const struct xg_policy *p,
                              struct xg_result *r)
{
    if (!need(h, r))
        return;
    if (!relocation_on(h)) {
        xg_evidence(r, "relocation server off");
        return;
    }
    const struct xg_kv *kv = get(h, "xend-relocation-hosts-allow");
    if (!kv || !kv->value[0]) {
        xg_failf(r, "xend-relocation-hosts-allow is %s: every host may relocate domains here",
                 kv ? "empty" : "not set");
        fix_by_harden(p, r);
        return;
    }
    /* exactly xend's hosts_allow.split(" ") */
    size_t peers = 0;
    for (const char *tok = kv->value;;) {
        const char *sp = strchr(tok, ' ');
        char re[256];
        snprintf(re, sizeof(re), "%.*s", sp ? (int)(sp - tok) : (int)strlen(tok), tok);
        peers += judge_entry(kv, re, p, r);
        if (!sp)
            break;
        tok = sp + 1;
    }
    if (p && !peers)
        xg_failf(r,
                 "%s:%u: hosts-allow admits none of the policy's peers: relocation from the "
                 "cluster cannot work, and what it does admit is not the cluster",
                 kv->file, kv->line);
    else if (r->status == XG_STATUS_PASS)
        xg_evidence(r, "xend also matches each pattern against the peer's reverse-DNS name: "
                       "the firewall (XG-MIG-002) must hold TCP 8002 to the peers");
    fix_by_harden(p, r);
}

static void check_ssl(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!need(h, r))
        return;
    const struct xg_kv *kv = get(h, "xend-relocation-ssl-server");
    if (on(kv))
        xg_failf(r,
                 "%s:%u: xend-relocation-ssl-server yes: TLS without client certificate "
                 "verification, anyone reaching the port is served",
                 kv->file, kv->line);
    else
        xg_evidence(r, "xend-relocation-ssl-server %s", kv ? kv->value : "no (default)");
    fix_by_harden(p, r);
}

static void check_unauth(const struct xg_host *h, const struct xg_policy *p, struct xg_result *r)
{
    if (!need(h, r))
        return;
    static const char *servers[] = {"xend-http-server", "xend-tcp-xmlrpc-server"};
    for (size_t i = 0; i < 2; i++) {
        const struct xg_kv *kv = get(h, servers[i]);
        if (on(kv))
            xg_failf(r, "%s:%u: %s yes: a TCP listener with no authentication", kv->file, kv->line,
                     servers[i]);
        else
            xg_evidence(r, "%s %s", servers[i], kv ? kv->value : "no (default)");
    }
    for (size_t i = 0; i < h->xend_api_server_count; i++) {
        char where[256], auth[64] = "";
        if (sscanf(h->xend_api_servers[i], "%255s %63s", where, auth) < 1)
            continue;
        bool unix_sock = !strcmp(where, "unix");
        if (!unix_sock && (!auth[0] || !strcasecmp(auth, "none")))
            xg_failf(r,
                     "xen-api-server %s with auth '%s': Xen-API over TCP without "
                     "authentication",
                     where, auth[0] ? auth : "none");
        else
            xg_evidence(r, "xen-api-server %s auth %s", where, auth[0] ? auth : "none");
    }
    fix_by_harden(p, r);
}

static void check_vnc_listen(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    (void)p;
    if (!need(h, r))
        return;
    const struct xg_kv *kv = get(h, "vnc-listen");
    if (kv && (!strcmp(kv->value, "0.0.0.0") || !strcmp(kv->value, "::") || !kv->value[0])) {
        xg_failf(r, "%s:%u: vnc-listen '%s': guest consoles on every interface", kv->file, kv->line,
                 kv->value);
        xg_fix(r, "sed -i \"%us/.*/(vnc-listen '127.0.0.1')/\" %s", kv->line, xg_sh(kv->file).s);
        xg_fix(r, "service xend restart");
    } else
        xg_evidence(r, "vnc-listen %s", kv ? kv->value : "127.0.0.1 (default)");
}

static void check_vnc_passwd(const struct xg_host *h, const struct xg_policy *p,
                             struct xg_result *r)
{
    (void)p;
    if (!need(h, r))
        return;
    const struct xg_kv *kv = get(h, "vncpasswd");
    if (!kv || !kv->value[0])
        xg_failf(r, "vncpasswd %s: guest consoles without a password",
                 kv ? "is empty" : "not set (default empty)");
    else
        xg_evidence(r, "%s:%u: vncpasswd set", kv->file, kv->line);
}

const struct xg_check_def xg_checks_xend[] = {
    {"XG-XEND-001", XG_PRACTICE_XEND, XG_SEV_HIGH,
     "The xend relocation server is off unless the policy uses it",
     "(xend-relocation-server yes) accepts whole domains over clear-text TCP 8002; only a policy "
     "with transport = xend justifies it.",
     "(xend-relocation-server no) in /etc/xen/xend-config.sxp, then restart xend.",
     check_reloc_server, "/etc/xen/xend-config.sxp"},
    {"XG-XEND-002", XG_PRACTICE_XEND, XG_SEV_HIGH, "xend relocation has an address",
     "With relocation on, an empty xend-relocation-address binds every interface.",
     "(xend-relocation-address 'MANAGEMENT-ADDRESS').", check_reloc_address,
     "/etc/xen/xend-config.sxp"},
    {"XG-XEND-003", XG_PRACTICE_XEND, XG_SEV_HIGH, "xend hosts-allow admits the peers only",
     "xend-relocation-hosts-allow must not be empty; each space-separated regex must be "
     "anchored (^...$), escape its dots and name an address rather than a host name (xend "
     "matches the peer's reverse-DNS name too, which the peer chooses: ^localhost$ included); "
     "no empty pattern (doubled space); with a policy, each names a peer and one at least "
     "does.",
     "(xend-relocation-hosts-allow '^192\\\\.0\\\\.2\\\\.11$ ^192\\\\.0\\\\.2\\\\.12$').",
     check_hosts_allow, "/etc/xen/xend-config.sxp"},
    {"XG-XEND-004", XG_PRACTICE_XEND, XG_SEV_HIGH, "No xend SSL relocation listener",
     "xend's SSL relocation server encrypts but verifies no client certificate: it "
     "authenticates nobody.",
     "(xend-relocation-ssl-server no); use an authenticated tunnel (xenguard tunnel).", check_ssl,
     "/etc/xen/xend-config.sxp"},
    {"XG-XEND-005", XG_PRACTICE_XEND, XG_SEV_CRITICAL, "No unauthenticated xend TCP listener",
     "xend-http-server, xend-tcp-xmlrpc-server and xen-api-server entries with a TCP port and "
     "auth 'none' give full control of Domain-0 to whoever connects.",
     "(xend-http-server no), (xend-tcp-xmlrpc-server no), xen-api-server on unix or with pam.",
     check_unauth, "/etc/xen/xend-config.sxp"},
    {"XG-XEND-006", XG_PRACTICE_XEND, XG_SEV_MEDIUM, "xend guest consoles on loopback",
     "vnc-listen 0.0.0.0 or :: exposes every HVM guest's console on every interface.",
     "(vnc-listen '127.0.0.1'), reach consoles through an ssh tunnel.", check_vnc_listen,
     "/etc/xen/xend-config.sxp"},
    {"XG-XEND-007", XG_PRACTICE_XEND, XG_SEV_MEDIUM, "xend guest consoles have a password",
     "An empty vncpasswd (the default) leaves consoles open to anyone who reaches them.",
     "(vncpasswd 'SECRET'), or per-domain vncpasswd.", check_vnc_passwd,
     "/etc/xen/xend-config.sxp"},
};
const size_t xg_checks_xend_count = sizeof(xg_checks_xend) / sizeof(xg_checks_xend[0]);
