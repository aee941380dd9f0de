/*
 * analyze.c — `xenguard analyze`: exact answers about the firewall a host has.
 *
 * Reads rulesets (files or the live host, read-only), hands them to the
 * evaluator and prints one of five answers: a single packet's fate with the
 * deciding rule, the sources that reach a service per interface, the
 * service matrix (who reaches whom), spoofing per interface, and the reachability drift
 * between two rulesets. Every address answer is a minimal sorted CIDR list
 * and carries its bound: "exact" when may == must, otherwise both bounds.
 * Text for people, JSON (jansson) for machines; the JSON layout is
 * documented in xenguard-analyze(8) and only ever grows.
 *
 * This file: the option table, inputs and dispatch; each answer is rendered
 * in analyze_show.c (shared parts: cmd/analyze.h).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/analyze.h"
#include "util/file.h"
#include "verbs.h"

enum {
    O_IPTABLES = XG_CLI_LONG,
    O_IP6TABLES,
    O_NFT_JSON,
    O_CHAIN,
    O_FROM,
    O_TO,
    O_TO_PORT,
    O_IFACE,
    O_REACH,
    O_MATRIX,
    O_SPOOFING,
    O_IFMAP,
    O_DIFF,
    O_OFACE,
    O_PERIMETER,
    O_SPORT,
    O_MAC,
    O_GUEST_PORTS,
};

static const struct xg_opt options[] = {
    {O_IPTABLES, "iptables", "FILE", "input: iptables-save output"},
    {O_IP6TABLES, "ip6tables", "FILE", "input: ip6tables-save output"},
    {O_NFT_JSON, "nft-json", "FILE",
     "input: `nft -j list ruleset` output (inputs are\n"
     "evaluated together, as the kernel runs them; with\n"
     "none, the live host is read, read-only)"},
    {O_FROM, "from", "ADDR",
     "query: one packet from ADDR (with --to-port): its\n"
     "verdict and the rule that decided it"},
    {O_TO_PORT, "to-port", "PROTO/PORT", "the one packet's service (tcp, udp, sctp)"},
    {O_REACH, "reach", "PROTO/PORT", "query: the sources that reach it, per interface"},
    {O_MATRIX, "matrix", "P/N,...",
     "query: who reaches whom: classes of addresses with\n"
     "identical access as source and destination, the\n"
     "edges between them, and apart the edges only a\n"
     "chosen source port or MAC opens"},
    {O_SPOOFING, "spoofing", NULL,
     "query: per interface, can sources outside its\n"
     "prefixes get in? per guest port on a bridge: what\n"
     "it can claim as IPv4/IPv6 source, ARP sender, ND\n"
     "target (exit 1 when something is spoofable)"},
    {O_PERIMETER, "perimeter", NULL,
     "query: a router's ruleset against the perimeter\n"
     "requirements of -c POLICY (forward path; exit 0\n"
     "both hold, 1 one does not)"},
    {O_DIFF, "diff", "OLD",
     "query: `--diff OLD NEW`: reachability changes\n"
     "between two rulesets (KIND:FILE, KIND iptables,\n"
     "ip6tables, nft-json, or guessed; exit 1 on a change)"},
    {'c', "config", "FILE", "the policy (with --perimeter)"},
    {O_CHAIN, "chain", "PATH", "input (default) or forward: the packet's path"},
    {O_IFACE, "iface", "IF", "the incoming interface (--spoofing: the bridge)"},
    {O_OFACE, "oface", "IF", "forward path: the outgoing interface"},
    {O_TO, "to", "ADDR", "the destination (--matrix: PREFIX,...)"},
    {O_SPORT, "sport", "PORT",
     "the client's source port (default: an ordinary\n"
     "client, 1024-65535; what only another port reaches\n"
     "is listed apart)"},
    {O_MAC, "mac", "MAC", "the frame's source MAC (default: one no rule names)"},
    {O_IFMAP, "ifmap", "FILE",
     "lines 'IFACE PREFIX...' ('!PREFIX': all but it;\n"
     "'ADDR/LEN' with host bits: the host's own address);\n"
     "default: ip addr/route"},
    {O_GUEST_PORTS, "guest-ports", "PATTERN,...", "--spoofing: guest ports (default vif*,tap*)"},
    {'f', "format", "F",
     "text (default) or json (\"schema\":\n"
     "\"xenguard-analyze/1\", doc/analyze.schema.json)"},
    {'q', "quiet", NULL,
     "text: only the lines that answer (interfaces\n"
     "someone reaches, edges, spoofable interfaces and\n"
     "claims, changed answers, the verdict) and the\n"
     "summary"},
    {'v', "verbose", NULL,
     "text: also the work done (--matrix, --diff) and how\n"
     "each interface class is evaluated (--reach)"},
    {0},
};

const struct xg_cli xg_cli_analyze = {
    .verb = "analyze",
    .usage = "[INPUT...] --from ADDR --to-port PROTO/PORT [--to ADDR]\n"
             "[INPUT...] --reach PROTO/PORT [--iface IF] [--to ADDR]\n"
             "[INPUT...] --matrix PROTO/PORT,... [--ifmap FILE]\n"
             "[INPUT...] --spoofing [--ifmap FILE] [--guest-ports PAT]\n"
             "[INPUT...] --perimeter -c POLICY\n"
             "--diff OLD NEW\n"
             "... [--chain input|forward] [-f text|json] [-q|-v]",
    .about = "Exact answers about a real firewall: who can open a new connection.\n"
             "Give exactly one query.\n",
    .opts = options,
    .epilog = "Answers are sets of source addresses as minimal CIDR lists. Rules the\n"
              "analyzer cannot model (rate limits, marks, recent, ...) give two bounds:\n"
              "'may' = sources some packet from which can get in, 'must' = sources every\n"
              "packet from which gets in. 'exact' means both are equal. --reach and\n"
              "--matrix list apart what only a chosen source port or MAC lets in, with\n"
              "the rule.\n"
              "\n"
              "Exit status: 0; 1 when --spoofing finds a spoofable interface, --diff a\n"
              "change or --perimeter a hole; 2 on errors. See xenguard-analyze(8).\n",
};

static int parse_service(const char *text, struct service *s)
{
    char proto[16];
    const char *slash = strchr(text, '/');
    char *end;
    unsigned long port;
    if (!slash || (size_t)(slash - text) >= sizeof(proto))
        return -1;
    memcpy(proto, text, (size_t)(slash - text));
    proto[slash - text] = '\0';
    if (!strcmp(proto, "tcp"))
        s->proto = IPPROTO_TCP;
    else if (!strcmp(proto, "udp"))
        s->proto = IPPROTO_UDP;
    else if (!strcmp(proto, "sctp"))
        s->proto = IPPROTO_SCTP;
    else
        return -1;
    port = strtoul(slash + 1, &end, 10);
    if (!slash[1] || *end || port > 65535)
        return -1;
    s->port = (uint16_t)port;
    snprintf(s->text, sizeof(s->text), "%s/%lu", proto, port);
    return 0;
}

const char *analyze_proto_name(uint8_t p)
{
    return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "sctp";
}

static int load_inputs(const struct opts *o, struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_fw_evidence ev = {0};
    char *texts[XG_FW_MAX_VIEWS] = {NULL};
    size_t len;
    int rc = 0;
    if (!o->nfiles)
        return xg_load_live_ruleset(rs, err);
    for (size_t i = 0; i < o->nfiles && rc == 0; i++, ev.count++) {
        rc = xg_file_read_input(o->files[i].path, 0, &texts[i], &len, err);
        ev.views[i] = (struct xg_fw_view){o->files[i].kind, texts[i], o->files[i].path};
    }
    if (rc == 0)
        rc = xg_ruleset_from_evidence(&ev, rs, err);
    for (size_t i = 0; i < ev.count; i++)
        free(texts[i]);
    return rc;
}

int analyze_load_spec(const char *spec, struct xg_ruleset *rs, struct xg_err *err)
{
    static const char *const kinds[] = {"iptables", "ip6tables", "nft-json"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i]);
        if (!strncmp(spec, kinds[i], n) && spec[n] == ':')
            return xg_load_ruleset_file(kinds[i], spec + n + 1, rs, err);
    }
    return xg_load_ruleset_file(NULL, spec, rs, err);
}

#define usage_error(...) xg_cli_usage_error(&xg_cli_analyze, __VA_ARGS__)

/* --sport, --mac, --guest-ports: -1 to go on, 2 on a bad value. */
static int parse_link_opt(struct opts *o, int c, const char *arg)
{
    char *end;
    unsigned long v;
    switch (c) {
    case O_SPORT:
        v = strtoul(arg, &end, 10);
        if (!*arg || *end || v > 65535)
            return usage_error("--sport: '%s' is not a port", arg);
        o->has_sport = true;
        o->sport = (uint16_t)v;
        return -1;
    case O_MAC:
        if (xg_mac_parse(arg, o->mac) < 0)
            return usage_error("--mac: '%s' is not a MAC address", arg);
        o->has_mac = true;
        return -1;
    default:
        o->guest_ports = arg;
        return -1;
    }
}

static int add_matrix(struct opts *o, const char *arg)
{
    char *dup = strdup(arg), *save = NULL;
    int rc = -1;
    if (!dup)
        return 2;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->nmatrix >= MAX_SERVICES || parse_service(t, &o->matrix[o->nmatrix]) < 0) {
            rc = usage_error("--matrix: '%s' is not PROTO/PORT (at most %d)", t, MAX_SERVICES);
            break;
        }
        o->nmatrix++;
    }
    free(dup);
    return rc;
}

static int add_input(struct opts *o, int c, const char *arg)
{
    if (o->nfiles >= 24)
        return usage_error("at most 24 input files");
    o->files[o->nfiles].kind = c == O_IPTABLES    ? XG_FW_SAVE4
                               : c == O_IP6TABLES ? XG_FW_SAVE6
                                                  : XG_FW_NFT_JSON;
    o->files[o->nfiles++].path = arg;
    return -1;
}

static int set_ifname(const char **dst, const char *what, const char *arg)
{
    if (strlen(arg) >= XG_IFNAMSIZ)
        return usage_error("%s: '%s': name too long", what, arg);
    *dst = arg;
    return -1;
}

/* One option into `o`: -1 to go on, or the exit status (usage error: 2). */
static int parse_opt(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case O_IPTABLES:
    case O_IP6TABLES:
    case O_NFT_JSON:
        return add_input(o, c, arg);
    case O_CHAIN:
        if (!strcmp(arg, "input"))
            o->path = XG_HOOK_INPUT;
        else if (!strcmp(arg, "forward"))
            o->path = XG_HOOK_FORWARD;
        else
            return usage_error("--chain: '%s' (input or forward)", arg);
        return -1;
    case O_FROM:
        o->from = arg;
        return -1;
    case O_TO:
        o->to = arg;
        return -1;
    case O_TO_PORT:
        if (parse_service(arg, &o->to_port) < 0)
            return usage_error("--to-port: '%s' is not PROTO/PORT", arg);
        o->have_to_port = true;
        return -1;
    case O_IFACE:
        return set_ifname(&o->iface, "--iface", arg);
    case O_OFACE:
        return set_ifname(&o->oface, "--oface", arg);
    case O_REACH:
        if (parse_service(arg, &o->reach) < 0)
            return usage_error("--reach: '%s' is not PROTO/PORT", arg);
        o->have_reach = true;
        return -1;
    case O_MATRIX:
        return add_matrix(o, arg);
    case O_SPOOFING:
        o->spoofing = true;
        return -1;
    case O_IFMAP:
        o->ifmap = arg;
        return -1;
    case O_DIFF:
        o->diff_old = arg; /* NEW is the operand */
        return -1;
    case O_PERIMETER:
        o->perimeter = true;
        return -1;
    case 'c':
        o->config = arg;
        return -1;
    case O_SPORT:
    case O_MAC:
    case O_GUEST_PORTS:
        return parse_link_opt(o, c, arg);
    case 'f':
        if (!strcmp(arg, "json"))
            o->json = true;
        else if (strcmp(arg, "text"))
            return usage_error("--format: '%s' (text or json)", arg);
        return -1;
    case 'q':
        o->quiet = true;
        return -1;
    case 'v':
        o->verbose = true;
        return -1;
    }
    return 2;
}

/* --perimeter: its own exit codes (0 holds, 1 fails, 2 error). */
static int analyze_perimeter_main(const struct opts *o, int nq)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    int rc;
    if (nq != 1 || !o->config)
        return usage_error("--perimeter takes -c POLICY and no other query");
    rc = load_inputs(o, &rs, &err) < 0 ? -1 : analyze_perimeter(o, &rs, &err);
    xg_ruleset_free(&rs);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard analyze", &err);
        return 2;
    }
    return rc;
}

/* Options and operands into `o`: -1 to go on, or the exit status. */
static int parse_args(struct opts *o, int argc, char **argv)
{
    struct xg_cli_parser p;
    int c, rc;
    xg_cli_begin(&p, &xg_cli_analyze, argc, argv);
    while ((c = xg_cli_next(&p)) != -1) {
        if (c == XG_CLI_STOP)
            return p.rc;
        if ((rc = parse_opt(o, c, p.arg)) >= 0)
            return rc;
    }
    if (o->diff_old) {
        if (p.optind >= argc)
            return usage_error("--diff needs OLD and NEW");
        o->diff_new = argv[p.optind++];
    }
    if (xg_cli_operands(&p, 0, 0) < 0)
        return p.rc;
    if (o->quiet && o->verbose)
        return usage_error("-q and -v exclude each other");
    return -1;
}

int cmd_analyze(int argc, char **argv)
{
    struct opts o = {.path = XG_HOOK_INPUT};
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    int nq, rc;

    if ((rc = parse_args(&o, argc, argv)) >= 0)
        return rc;
    nq = (o.from || o.have_to_port) + o.have_reach + (o.nmatrix > 0) + o.spoofing +
         (o.diff_old != NULL) + o.perimeter;
    if (o.perimeter)
        return analyze_perimeter_main(&o, nq);
    if (nq != 1)
        return usage_error("give exactly one query (--from/--to-port, --reach, --matrix, "
                           "--spoofing, --perimeter or --diff)");
    if ((o.from != NULL) != o.have_to_port)
        return usage_error("--from and --to-port go together");
    if (o.diff_old)
        rc = analyze_diff(&o, &err);
    else if (load_inputs(&o, &rs, &err) < 0)
        rc = -1;
    else if (o.from)
        rc = analyze_packet(&o, &rs, &err);
    else if (o.have_reach)
        rc = analyze_reach(&o, &rs, &err);
    else if (o.nmatrix)
        rc = analyze_matrix(&o, &rs, &err);
    else
        rc = analyze_spoofing(&o, &rs, &err);
    xg_ruleset_free(&rs);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard analyze", &err);
        return 2;
    }
    return rc; /* 1: --spoofing found a spoofable interface, --diff a change */
}
