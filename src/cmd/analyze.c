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
 * This file: usage, options, inputs and dispatch; each answer is rendered
 * in analyze_show.c (shared parts: cmd/analyze.h).
 */
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/analyze.h"
#include "util/file.h"
#include "verbs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xenguard analyze [INPUT...] QUERY [--iface IF] [--chain input|forward]\n"
            "                        [--format text|json]\n"
            "\n"
            "Exact answers about a real firewall: who can open a new connection.\n"
            "\n"
            "Inputs (any combination, evaluated together as the kernel runs them;\n"
            "without any, the live host is read, read-only):\n"
            "  --iptables FILE       iptables-save output\n"
            "  --ip6tables FILE      ip6tables-save output\n"
            "  --nft-json FILE       nft -j list ruleset output\n"
            "\n"
            "Queries (one):\n"
            "  --from ADDR --to-port PROTO/PORT [--to ADDR]\n"
            "                        one packet: verdict and the rule that decided it\n"
            "  --reach PROTO/PORT    sources that can reach the service, per interface\n"
            "  --matrix P/N,P/N,...  who reaches whom: classes of addresses with identical\n"
            "                        access as source and destination, and the edges\n"
            "                        between them (--ifmap binds addresses to interfaces;\n"
            "                        --to PREFIX,... the destinations)\n"
            "  --spoofing [--ifmap FILE]\n"
            "                        per interface: can sources outside its prefixes get in?\n"
            "                        (FILE: lines 'IFACE PREFIX...', '!PREFIX' = all but it;\n"
            "                        default: ip addr/route)\n"
            "                        and per guest port on a bridge (--guest-ports vif*,tap*;\n"
            "                        --iface names the bridge): what it can claim as IPv4/IPv6\n"
            "                        source, ARP sender, ND target\n"
            "  --perimeter -c POLICY a router's ruleset against the chapter's two perimeter\n"
            "                        requirements for the policy's [perimeter] (forward\n"
            "                        path): exit 0 both hold, 1 one does not, 2 error\n"
            "  --diff OLD NEW        reachability changes between two rulesets\n"
            "                        (KIND:FILE with KIND iptables, ip6tables, nft-json, or\n"
            "                        guessed from the content)\n"
            "\n"
            "Options: --chain input|forward (the packet's path, input by default),\n"
            "  --oface IF (forward: the outgoing interface), --to ADDR (destination),\n"
            "  --sport PORT (the client's source port; default: an ordinary client,\n"
            "  1024-65535), --mac MAC (the frame's source MAC; default: one no rule\n"
            "  names), --ifmap FILE (reverse-path checks; 'IFACE ADDR/LEN' with host\n"
            "  bits names the host's own address), --format text|json.\n"
            "\n"
            "--reach lists apart the sources only a chosen source port or MAC lets\n"
            "in, with the rule. Exit status: 0; 1 when --spoofing finds a spoofable\n"
            "interface or --diff a change; 2 on errors.\n"
            "\n"
            "Answers are sets of source addresses as minimal CIDR lists. Rules the\n"
            "analyzer cannot model (rate limits, marks, recent, ...) give two bounds:\n"
            "'may' = sources some packet from which can get in, 'must' = sources every\n"
            "packet from which gets in. 'exact' means both are equal. See\n"
            "xenguard-analyze(8).\n");
}

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

/* --sport, --mac, --guest-ports: -1 to go on, 2 on a bad value. */
static int parse_link_opt(struct opts *o, int c)
{
    char *end;
    unsigned long v;
    switch (c) {
    case 'S':
        v = strtoul(optarg, &end, 10);
        if (!*optarg || *end || v > 65535) {
            fprintf(stderr, "xenguard analyze: --sport: '%s' is not a port\n", optarg);
            return 2;
        }
        o->has_sport = true;
        o->sport = (uint16_t)v;
        return -1;
    case 'A':
        if (xg_mac_parse(optarg, o->mac) < 0) {
            fprintf(stderr, "xenguard analyze: --mac: '%s' is not a MAC address\n", optarg);
            return 2;
        }
        o->has_mac = true;
        return -1;
    default:
        o->guest_ports = optarg;
        return -1;
    }
}

/* One option into `o`: -1 to go on, or the exit status (help printed: 0; usage: 2). */
static int parse_opt(struct opts *o, int c, int argc, char **argv)
{
    switch (c) {
    case 'h':
        usage(stdout);
        return 0;
    case '4':
    case '6':
    case 'j': {
        if (o->nfiles >= 24) {
            fprintf(stderr, "xenguard analyze: at most 24 input files\n");
            return 2;
        }
        o->files[o->nfiles].kind = c == '4' ? XG_FW_SAVE4 : c == '6' ? XG_FW_SAVE6 : XG_FW_NFT_JSON;
        o->files[o->nfiles++].path = optarg;
        break;
    }
    case 'k':
        if (!strcmp(optarg, "input"))
            o->path = XG_HOOK_INPUT;
        else if (!strcmp(optarg, "forward"))
            o->path = XG_HOOK_FORWARD;
        else {
            fprintf(stderr, "xenguard analyze: --chain must be input or forward\n");
            return 2;
        }
        break;
    case 'f':
        o->from = optarg;
        break;
    case 't':
        o->to = optarg;
        break;
    case 'p':
        if (parse_service(optarg, &o->to_port) < 0) {
            fprintf(stderr, "xenguard analyze: --to-port: '%s' is not PROTO/PORT\n", optarg);
            return 2;
        }
        o->have_to_port = true;
        break;
    case 'i':
        if (strlen(optarg) >= XG_IFNAMSIZ) {
            fprintf(stderr, "xenguard analyze: --iface: name too long\n");
            return 2;
        }
        o->iface = optarg;
        break;
    case 'r':
        if (parse_service(optarg, &o->reach) < 0) {
            fprintf(stderr, "xenguard analyze: --reach: '%s' is not PROTO/PORT\n", optarg);
            return 2;
        }
        o->have_reach = true;
        break;
    case 'm': {
        char *dup = strdup(optarg), *save = NULL;
        if (!dup)
            return 2;
        for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (o->nmatrix >= MAX_SERVICES || parse_service(t, &o->matrix[o->nmatrix]) < 0) {
                fprintf(stderr, "xenguard analyze: --matrix: '%s' is not PROTO/PORT (at most %d)\n",
                        t, MAX_SERVICES);
                free(dup);
                return 2;
            }
            o->nmatrix++;
        }
        free(dup);
        break;
    }
    case 's':
        o->spoofing = true;
        break;
    case 'M':
        o->ifmap = optarg;
        break;
    case 'O':
        if (strlen(optarg) >= XG_IFNAMSIZ) {
            fprintf(stderr, "xenguard analyze: --oface: name too long\n");
            return 2;
        }
        o->oface = optarg;
        break;
    case 'd':
        if (optind >= argc) {
            fprintf(stderr, "xenguard analyze: --diff needs OLD and NEW\n");
            return 2;
        }
        o->diff_old = optarg;
        o->diff_new = argv[optind++];
        break;
    case 'P':
        o->perimeter = true;
        break;
    case 'c':
        o->config = optarg;
        break;
    case 'S':
    case 'A':
    case 'G':
        return parse_link_opt(o, c);
    case 'F':
        if (!strcmp(optarg, "json"))
            o->json = true;
        else if (strcmp(optarg, "text")) {
            fprintf(stderr, "xenguard analyze: --format must be text or json\n");
            return 2;
        }
        break;
    default:
        usage(stderr);
        return 2;
    }
    return -1;
}

/* --perimeter: its own exit codes (0 holds, 1 fails, 2 error). */
static int analyze_perimeter_main(const struct opts *o, int nq)
{
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    int rc;
    if (nq != 1 || !o->config) {
        fprintf(stderr, "xenguard analyze: --perimeter takes -c POLICY and no other query\n");
        return 2;
    }
    rc = load_inputs(o, &rs, &err) < 0 ? -1 : analyze_perimeter(o, &rs, &err);
    xg_ruleset_free(&rs);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard analyze", &err);
        return 2;
    }
    return rc;
}

int cmd_analyze(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"iptables", required_argument, NULL, '4'},
                                             {"ip6tables", required_argument, NULL, '6'},
                                             {"nft-json", required_argument, NULL, 'j'},
                                             {"chain", required_argument, NULL, 'k'},
                                             {"from", required_argument, NULL, 'f'},
                                             {"to", required_argument, NULL, 't'},
                                             {"to-port", required_argument, NULL, 'p'},
                                             {"iface", required_argument, NULL, 'i'},
                                             {"reach", required_argument, NULL, 'r'},
                                             {"matrix", required_argument, NULL, 'm'},
                                             {"spoofing", no_argument, NULL, 's'},
                                             {"ifmap", required_argument, NULL, 'M'},
                                             {"diff", required_argument, NULL, 'd'},
                                             {"format", required_argument, NULL, 'F'},
                                             {"oface", required_argument, NULL, 'O'},
                                             {"perimeter", no_argument, NULL, 'P'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"sport", required_argument, NULL, 'S'},
                                             {"mac", required_argument, NULL, 'A'},
                                             {"guest-ports", required_argument, NULL, 'G'},
                                             {NULL, 0, NULL, 0}};
    struct opts o = {.path = XG_HOOK_INPUT};
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    int c, nq, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1)
        if ((rc = parse_opt(&o, c, argc, argv)) >= 0)
            return rc;
    if (optind < argc) {
        fprintf(stderr, "xenguard analyze: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    nq = (o.from || o.have_to_port) + o.have_reach + (o.nmatrix > 0) + o.spoofing +
         (o.diff_old != NULL) + o.perimeter;
    if (o.perimeter)
        return analyze_perimeter_main(&o, nq);
    if (nq != 1) {
        fprintf(stderr, "xenguard analyze: give exactly one query (--from/--to-port, --reach, "
                        "--matrix, --spoofing or --diff); see --help\n");
        return 2;
    }
    if ((o.from != NULL) != o.have_to_port) {
        fprintf(stderr, "xenguard analyze: --from and --to-port go together\n");
        return 2;
    }
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
