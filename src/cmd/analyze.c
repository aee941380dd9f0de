/*
 * analyze.c — `xenguard analyze`: exact answers about the firewall a host has.
 *
 * Reads rulesets (files or the live host, read-only), hands them to the
 * evaluator and prints one of five answers: a single packet's fate with the
 * deciding rule, the sources that reach a service per interface, the
 * service matrix, spoofing per interface, and the reachability drift
 * between two rulesets. Every address answer is a minimal sorted CIDR list
 * and carries its bound: "exact" when may == must, otherwise both bounds.
 * Text for people, JSON (jansson) for machines; the JSON layout is
 * documented in xenguard-analyze(8) and only ever grows.
 */
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/host.h"
#include "analyze/space.h"
#include "util/buf.h"
#include "verbs.h"

#define MAX_SERVICES 32

struct service {
    uint8_t proto;
    uint16_t port;
    char text[24];
};

struct opts {
    struct {
        enum xg_fw_kind kind;
        const char *path;
    } files[24]; /* --iptables, --ip6tables, --nft-json in the order given */
    size_t nfiles;
    enum xg_hook path;
    const char *from, *to, *iface, *oface, *ifmap;
    struct service to_port;
    bool have_to_port;
    struct service reach;
    bool have_reach;
    struct service matrix[MAX_SERVICES];
    size_t nmatrix;
    bool spoofing;
    const char *diff_old, *diff_new;
    bool json;
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: xenguard analyze [INPUT...] QUERY [--iface IF] [--chain input|forward]\n"
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
                 "  --matrix P/N,P/N,...  classes of sources with identical access\n"
                 "  --spoofing [--ifmap FILE]\n"
                 "                        per interface: can sources outside its prefixes get in?\n"
                 "                        (FILE: lines 'IFACE PREFIX...'; default: ip addr/route)\n"
                 "  --diff OLD NEW        reachability changes between two rulesets\n"
                 "                        (KIND:FILE with KIND iptables, ip6tables, nft-json, or\n"
                 "                        guessed from the content)\n"
                 "\n"
                 "Options: --chain input|forward (the packet's path, input by default),\n"
                 "  --oface IF (forward: the outgoing interface), --to ADDR (destination),\n"
                 "  --ifmap FILE (evaluate reverse-path checks), --format text|json.\n"
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

static const char *proto_name(uint8_t p)
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
        rc = xg_read_file(o->files[i].path, &texts[i], &len, err);
        ev.views[i] = (struct xg_fw_view){o->files[i].kind, texts[i], o->files[i].path};
    }
    if (rc == 0)
        rc = xg_ruleset_from_evidence(&ev, rs, err);
    for (size_t i = 0; i < ev.count; i++)
        free(texts[i]);
    return rc;
}

static int load_spec(const char *spec, struct xg_ruleset *rs, struct xg_err *err)
{
    static const char *const kinds[] = {"iptables", "ip6tables", "nft-json"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i]);
        if (!strncmp(spec, kinds[i], n) && spec[n] == ':')
            return xg_load_ruleset_file(kinds[i], spec + n + 1, rs, err);
    }
    return xg_load_ruleset_file(NULL, spec, rs, err);
}

/* --- printing helpers --- */

static json_t *prefixes_json(const struct xg_prefix_list *l)
{
    json_t *a = json_array();
    char buf[XG_PREFIX_STRLEN];
    for (size_t i = 0; i < l->count; i++) {
        xg_prefix_format(&l->items[i], false, buf);
        json_array_append_new(a, json_string(buf));
    }
    return a;
}

static void print_list(const struct xg_prefix_list *l, const char *indent, size_t col)
{
    char buf[XG_PREFIX_STRLEN];
    for (size_t i = 0; i < l->count; i++) {
        xg_prefix_format(&l->items[i], false, buf);
        if (col && col + strlen(buf) > 60) {
            printf("\n%s", indent);
            col = 0;
        }
        printf("%s%s", col ? " " : "", buf);
        col += strlen(buf) + 1;
    }
    printf("\n");
}

/* Text: a minimal CIDR list, or "all except ..." when that is much shorter
 * (the JSON output always has the plain list). */
static void print_prefixes(const struct xg_prefix_list *l, const char *indent)
{
    struct xg_ivlist iv = {0}, rest = {0};
    struct xg_prefix_list comp = {0};
    if (!l->count) {
        printf("(none)\n");
        return;
    }
    if (l->count > 6) {
        uint8_t family = l->items[0].family;
        if (xg_ivlist_from_prefixes(&iv, l, family) == 0 &&
            xg_ivlist_complement(&iv, family, &rest) == 0 &&
            xg_ivlist_to_prefixes(&rest, family, &comp) == 0 && comp.count * 3 < l->count) {
            printf("all except");
            print_list(&comp, indent, 11);
            xg_ivlist_free(&iv);
            xg_ivlist_free(&rest);
            xg_prefix_list_free(&comp);
            return;
        }
        xg_ivlist_free(&iv);
        xg_ivlist_free(&rest);
        xg_prefix_list_free(&comp);
    }
    print_list(l, indent, 0);
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

static const char *path_name(enum xg_hook p)
{
    return p == XG_HOOK_FORWARD ? "forward" : "input";
}

static void base_query(const struct opts *o, struct xg_packet_query *q, uint8_t family,
                       const struct service *s, const char *iface)
{
    memset(q, 0, sizeof(*q));
    q->family = family;
    q->proto = s->proto;
    q->dport = s->port;
    q->iifname = iface;
    q->path = o->path;
    q->oifname = o->oface;
}

/* With --ifmap, reverse-path (fib/rpfilter) matches are evaluated. */
static int with_rpf(const struct opts *o, const struct xg_ifmap *map, struct xg_packet_query *q,
                    struct xg_prefix_list *rpf)
{
    if (!o->ifmap)
        return 0;
    if (xg_ifmap_rpf(map, q->iifname, q->family, rpf) < 0)
        return -1;
    q->rpf_ok = rpf;
    return 0;
}

/* --- --reach --- */

static void print_reach_text(const struct xg_ifclass *ic, const struct xg_iface_reach *ir)
{
    const char *ind = "                          ";
    printf("  %-16s", !strcmp(ic->kind, "other") ? "(any other)" : ic->label);
    for (int f = 0; f < 2; f++) {
        const struct xg_reach *r = &ir->r[f];
        if (!ir->asked[f])
            continue;
        if (f)
            printf("  %-16s", "");
        if (xg_prefix_list_equal(&r->may, &r->must)) {
            printf("IPv%d:      ", f ? 6 : 4);
            print_prefixes(&r->may, ind);
        } else {
            printf("IPv%d may:  ", f ? 6 : 4);
            print_prefixes(&r->may, ind);
            printf("  %-16sIPv%d must: ", "", f ? 6 : 4);
            print_prefixes(&r->must, ind);
        }
    }
}

static json_t *reach_json(const struct xg_ifclass *ic, const struct xg_iface_reach *ir, bool *exact)
{
    json_t *ji = json_object();
    json_object_set_new(ji, "iface", json_string(ic->label));
    json_object_set_new(ji, "class", json_string(ic->kind));
    for (int f = 0; f < 2; f++) {
        const struct xg_reach *r = &ir->r[f];
        json_t *jf;
        if (!ir->asked[f])
            continue;
        bool ex = xg_prefix_list_equal(&r->may, &r->must);
        *exact &= ex;
        jf = json_object();
        json_object_set_new(jf, "bound", json_string(ex ? "exact" : "may/must"));
        json_object_set_new(jf, "may", prefixes_json(&r->may));
        json_object_set_new(jf, "must", prefixes_json(&r->must));
        json_object_set_new(ji, f ? "ipv6" : "ipv4", jf);
    }
    return ji;
}

static int do_reach(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_ifclass *ifs = NULL;
    struct xg_iface_reach *ir = NULL;
    size_t nifs = 0;
    json_t *jifs = json_array();
    bool all_exact = true;
    int rc = -1;
    struct xg_prefix to;
    struct xg_ifmap map = {0};
    struct xg_packet_query q;

    if (o->ifmap && xg_ifmap_load(o->ifmap, &map, err) < 0)
        goto out;
    if (o->to && xg_addr_parse(o->to, &to) < 0) {
        xg_fail(err, "--to: '%s' is not an address", o->to);
        goto out;
    }
    if (xg_ifclasses(rs, o->iface, &ifs, &nifs) < 0 || !(ir = calloc(nifs, sizeof(*ir)))) {
        xg_fail(err, "out of memory");
        goto out;
    }
    base_query(o, &q, 4, &o->reach, NULL);
    q.daddr = o->to ? &to : NULL;
    if (xg_reach_by_iface(rs, &q, ifs, nifs, o->ifmap ? &map : NULL, ir, err) < 0)
        goto out;
    if (!o->json)
        printf("%s: sources that can open a new connection (%s path)\n", o->reach.text,
               path_name(o->path));
    for (size_t i = 0; i < nifs; i++) {
        json_array_append_new(jifs, reach_json(&ifs[i], &ir[i], &all_exact));
        if (!o->json)
            print_reach_text(&ifs[i], &ir[i]);
    }
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "query", json_string("reach"));
        json_object_set_new(j, "service", json_string(o->reach.text));
        json_object_set_new(j, "path", json_string(path_name(o->path)));
        json_object_set_new(j, "exact", json_boolean(all_exact));
        json_object_set_new(j, "interfaces", jifs);
        jifs = NULL;
        print_json(j);
    } else {
        printf("bounds: %s\n", all_exact ? "exact (every match on the path is modelled)"
                                         : "may/must differ where unmodelled rules matter");
    }
    rc = 0;
out:
    if (ir)
        xg_iface_reach_free(ir, nifs);
    free(ir);
    json_decref(jifs);
    free(ifs);
    xg_ifmap_free(&map);
    return rc;
}

/* --- one packet --- */

static json_t *rule_ref_json(const struct xg_rule *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "file", json_string(r->src_file ? r->src_file : ""));
    if (r->src_line)
        json_object_set_new(j, "line", json_integer(r->src_line));
    if (r->src_handle)
        json_object_set_new(j, "handle", json_integer(r->src_handle));
    return j;
}

static void rule_ref_text(const struct xg_rule *r, char *buf, size_t n)
{
    if (r->src_line)
        snprintf(buf, n, "%s:%u", r->src_file ? r->src_file : "?", r->src_line);
    else
        snprintf(buf, n, "%s (handle %u)", r->src_file ? r->src_file : "?", r->src_handle);
}

static int do_packet(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_prefix src, to;
    struct xg_prefix_list extra = {0};
    struct xg_analysis *an = NULL;
    struct xg_packet_query q;
    struct xg_reach r = {0};
    struct xg_trace tr = {0};
    char other[XG_IFNAMSIZ];
    const char *iface = o->iface;
    int rc = -1;
    struct xg_ifmap map = {0};
    struct xg_prefix_list rpf = {0};

    if (xg_addr_parse(o->from, &src) < 0)
        return xg_fail(err, "--from: '%s' is not an address", o->from);
    if (o->to && (xg_addr_parse(o->to, &to) < 0 || to.family != src.family))
        return xg_fail(err, "--to: '%s' is not an address of the family of --from", o->to);
    if (!iface) {
        xg_ruleset_other_ifname(rs, other);
        iface = other;
    }
    if (xg_prefix_list_add(&extra, &src) < 0)
        return xg_fail(err, "out of memory");
    if (o->ifmap &&
        (xg_ifmap_load(o->ifmap, &map, err) < 0 || xg_ifmap_all_prefixes(&map, &extra) < 0))
        goto out;
    if (!(an = xg_analysis_new(rs, &extra, err)))
        goto out;
    base_query(o, &q, src.family, &o->to_port, iface);
    q.daddr = o->to ? &to : NULL;
    if (with_rpf(o, &map, &q, &rpf) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    if (xg_analysis_reach(an, &q, &r, err) < 0 || xg_packet_trace(rs, &q, &src, &tr, err) < 0)
        goto out;
    bool may = xg_prefix_list_covers(&r.may, &src), must = xg_prefix_list_covers(&r.must, &src);
    const char *verdict = must ? "accept" : !may ? "drop" : "unknown";
    const char *bound = may == must ? "exact" : "may";
    if (o->json) {
        json_t *j = json_object(), *steps = json_array();
        json_object_set_new(j, "query", json_string("packet"));
        json_object_set_new(j, "from", json_string(o->from));
        if (o->to)
            json_object_set_new(j, "to", json_string(o->to));
        json_object_set_new(j, "service", json_string(o->to_port.text));
        json_object_set_new(j, "iface", o->iface ? json_string(o->iface) : json_string("*"));
        json_object_set_new(j, "path", json_string(path_name(o->path)));
        json_object_set_new(j, "verdict", json_string(verdict));
        json_object_set_new(j, "bound", json_string(bound));
        for (size_t i = 0; i < tr.count; i++) {
            const struct xg_trace_step *st = &tr.steps[i];
            json_t *js = json_object();
            json_object_set_new(js, "table", json_string(st->table->name));
            json_object_set_new(js, "chain", json_string(st->base->name));
            json_object_set_new(js, "hook", json_string(xg_hook_name(st->base->hook)));
            json_object_set_new(js, "priority", json_integer(st->base->priority));
            json_object_set_new(js, "verdict", json_string(xg_verdict_name(st->verdict)));
            json_object_set_new(js, "rule", st->rule ? rule_ref_json(st->rule) : json_null());
            if (st->rule)
                json_object_set_new(js, "in_chain", json_string(st->chain->name));
            if (st->unknown)
                json_object_set_new(js, "unmodelled", rule_ref_json(st->unknown));
            json_array_append_new(steps, js);
        }
        json_object_set_new(j, "steps", steps);
        print_json(j);
    } else {
        printf("%s -> %s%s%s on %s%s (%s path): %s%s\n", o->from, o->to ? o->to : "",
               o->to ? " " : "", o->to_port.text, o->iface ? o->iface : "any other interface", "",
               path_name(o->path),
               must   ? "ACCEPT"
               : !may ? "DROP"
                      : "UNKNOWN (may be accepted)",
               may == must ? " (exact)" : "");
        for (size_t i = 0; i < tr.count; i++) {
            const struct xg_trace_step *st = &tr.steps[i];
            char ref[300];
            printf("  %-10s %-12s %s %d: %s", st->table->name, st->base->name,
                   xg_hook_name(st->base->hook), st->base->priority, xg_verdict_name(st->verdict));
            if (st->rule) {
                rule_ref_text(st->rule, ref, sizeof(ref));
                printf(" by rule %s (chain %s)\n", ref, st->chain->name);
            } else {
                printf(" by the chain's policy\n");
            }
            if (st->unknown) {
                rule_ref_text(st->unknown, ref, sizeof(ref));
                printf("             unmodelled rule on the way: %s (taken as not matching)\n",
                       ref);
            }
        }
        if (!tr.count)
            printf("  no base chain on the path: accepted by default\n");
    }
    rc = 0;
out:
    xg_reach_free(&r);
    xg_trace_free(&tr);
    xg_prefix_list_free(&extra);
    xg_prefix_list_free(&rpf);
    xg_ifmap_free(&map);
    xg_analysis_free(an);
    return rc;
}

/* --- matrix --- */

static int do_matrix(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_analysis *an = NULL;
    struct xg_ifclass *ifs = NULL;
    size_t nifs = 0;
    json_t *jifs = json_array();
    int rc = -1;
    struct xg_ifmap map = {0};
    struct xg_prefix_list extra = {0}, rpf = {0};
    if (o->ifmap &&
        (xg_ifmap_load(o->ifmap, &map, err) < 0 || xg_ifmap_all_prefixes(&map, &extra) < 0))
        goto out;
    if (!(an = xg_analysis_new(rs, &extra, err)))
        goto out;
    if (xg_ifclasses(rs, o->iface, &ifs, &nifs) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nifs; i++) {
        json_t *ji = json_object();
        json_object_set_new(ji, "iface", json_string(ifs[i].label));
        json_object_set_new(ji, "class", json_string(ifs[i].kind));
        for (int f = 0; f < 2; f++) {
            uint8_t family = f ? 6 : 4;
            struct xg_packet_query qs[MAX_SERVICES];
            struct xg_matrix m;
            json_t *jc = json_array();
            xg_prefix_list_free(&rpf);
            for (size_t k = 0; k < o->nmatrix; k++) {
                base_query(o, &qs[k], family, &o->matrix[k], ifs[i].rep);
                if (o->ifmap && k == 0 && with_rpf(o, &map, &qs[0], &rpf) < 0) {
                    json_decref(jc);
                    json_decref(ji);
                    xg_fail(err, "out of memory");
                    goto out;
                }
                qs[k].rpf_ok = qs[0].rpf_ok;
            }
            if (xg_analysis_matrix(an, qs, o->nmatrix, family, &m, err) < 0) {
                json_decref(jc);
                json_decref(ji);
                goto out;
            }
            if (!o->json)
                printf("%s, IPv%d:\n",
                       !strcmp(ifs[i].kind, "other") ? "any other interface" : ifs[i].label,
                       family);
            for (size_t c = 0; c < m.count; c++) {
                json_t *cl = json_object(), *may = json_array(), *must = json_array();
                char line[1024];
                size_t used = 0;
                line[0] = '\0';
                for (size_t k = 0; k < o->nmatrix; k++) {
                    bool ma = (m.classes[c].sig >> (2 * k)) & 1,
                         mu = (m.classes[c].sig >> (2 * k + 1)) & 1;
                    if (ma)
                        json_array_append_new(may, json_string(o->matrix[k].text));
                    if (mu)
                        json_array_append_new(must, json_string(o->matrix[k].text));
                    if (ma && used < sizeof(line))
                        used += (size_t)snprintf(line + used, sizeof(line) - used, " %s%s",
                                                 o->matrix[k].text, mu ? "" : "(may)");
                }
                json_object_set_new(cl, "sources", prefixes_json(&m.classes[c].sources));
                json_object_set_new(cl, "may", may);
                json_object_set_new(cl, "must", must);
                json_array_append_new(jc, cl);
                if (!o->json) {
                    printf("  reaches:%s\n    from: ", used ? line : " nothing");
                    print_prefixes(&m.classes[c].sources, "          ");
                }
            }
            json_object_set_new(ji, f ? "ipv6" : "ipv4", jc);
            xg_matrix_free(&m);
        }
        json_array_append_new(jifs, ji);
    }
    if (o->json) {
        json_t *j = json_object(), *svc = json_array();
        for (size_t k = 0; k < o->nmatrix; k++)
            json_array_append_new(svc, json_string(o->matrix[k].text));
        json_object_set_new(j, "query", json_string("matrix"));
        json_object_set_new(j, "services", svc);
        json_object_set_new(j, "path", json_string(path_name(o->path)));
        json_object_set_new(j, "interfaces", jifs);
        jifs = NULL;
        print_json(j);
    }
    rc = 0;
out:
    json_decref(jifs);
    free(ifs);
    xg_analysis_free(an);
    xg_ifmap_free(&map);
    xg_prefix_list_free(&extra);
    xg_prefix_list_free(&rpf);
    return rc;
}

/* --- spoofing --- */

static json_t *spoof_family_out(const struct opts *o, const struct xg_spoof_family *sf,
                                uint8_t family)
{
    static const char *const names[] = {"unchecked", "no", "maybe", "yes"};
    char example[XG_PREFIX_STRLEN + 32] = "", a[XG_PREFIX_STRLEN];
    json_t *jf = json_object();
    json_object_set_new(jf, "spoofable", json_string(names[sf->verdict]));
    if (sf->verdict == XG_SPOOF_UNCHECKED) {
        if (!o->json)
            printf("  IPv%d: not checked (no IPv%d prefixes in the map)\n", family, family);
        return jf;
    }
    if (sf->has_example) {
        xg_prefix_format(&sf->example, true, a);
        if (sf->lo == sf->hi)
            snprintf(example, sizeof(example), "%s -> %s/%u", a, proto_name(sf->proto), sf->lo);
        else
            snprintf(example, sizeof(example), "%s -> %s/%u-%u", a, proto_name(sf->proto), sf->lo,
                     sf->hi);
    }
    json_object_set_new(jf, "bound",
                        json_string(sf->verdict != XG_SPOOF_MAYBE ? "exact" : "may/must"));
    json_object_set_new(jf, "example", example[0] ? json_string(example) : json_null());
    if (!o->json)
        printf("  IPv%d: %s%s\n", family,
               sf->verdict == XG_SPOOF_YES
                   ? "SPOOFABLE: a source outside its prefixes gets in, e.g. "
               : sf->verdict == XG_SPOOF_MAYBE
                   ? "MAYBE SPOOFABLE (only through unmodelled rules), e.g. "
                   : "protected: sources outside its prefixes cannot get in",
               example);
    return jf;
}

static int do_spoofing(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_ifmap map = {0};
    struct xg_spoof_answer *ans = NULL;
    json_t *jifs = json_array();
    int rc = -1;
    size_t bad = 0;

    if (xg_ifmap_load(o->ifmap, &map, err) < 0)
        goto out;
    if (!(ans = calloc(map.count + 1, sizeof(*ans)))) {
        xg_fail(err, "out of memory");
        goto out;
    }
    if (xg_spoofing(rs, &map, o->path, o->oface, ans, err) < 0)
        goto out;
    for (size_t i = 0; i < map.count; i++) {
        const struct xg_ifmap_entry *e = &map.entries[i];
        json_t *ji = json_object();
        json_object_set_new(ji, "iface", json_string(e->ifname));
        json_object_set_new(ji, "prefixes", prefixes_json(&e->prefixes));
        if (!o->json) {
            struct xg_buf b = {0};
            xg_prefix_list_print(&b, &e->prefixes, " ", false, "");
            printf("%s (%s):\n", e->ifname, xg_buf_str(&b));
            xg_buf_free(&b);
        }
        for (int f = 0; f < 2; f++) {
            bad += ans[i].fam[f].verdict >= XG_SPOOF_MAYBE;
            json_object_set_new(ji, f ? "ipv6" : "ipv4",
                                spoof_family_out(o, &ans[i].fam[f], f ? 6 : 4));
        }
        json_array_append_new(jifs, ji);
    }
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "query", json_string("spoofing"));
        json_object_set_new(j, "path", json_string(path_name(o->path)));
        json_object_set_new(j, "interfaces", jifs);
        jifs = NULL;
        print_json(j);
    } else {
        printf("%zu interface/family pair(s) let spoofed sources in\n", bad);
    }
    rc = 0;
out:
    free(ans);
    json_decref(jifs);
    xg_ifmap_free(&map);
    return rc;
}

/* --- diff --- */

/* Every interface class x family x protocol x port class of both rulesets. */
static int diff_questions(const struct opts *o, const struct xg_ifclass *ifs, size_t nifs,
                          const struct xg_port_range *ports, size_t nports,
                          struct xg_diff_question **out, size_t *n)
{
    static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};
    struct xg_diff_question *qs = calloc(nifs * 4 * nports + 1, sizeof(*qs));
    size_t k = 0;
    if (!qs)
        return -1;
    for (size_t i = 0; i < nifs; i++)
        for (int f = 0; f < 2; f++)
            for (size_t p = 0; p < 2; p++)
                for (size_t c = 0; c < nports; c++, k++) {
                    qs[k].q.family = f ? 6 : 4;
                    qs[k].q.proto = protos[p];
                    qs[k].q.dport = ports[c].lo;
                    qs[k].q.iifname = ifs[i].rep;
                    qs[k].q.oifname = o->oface;
                    qs[k].q.path = o->path;
                    qs[k].label = ifs[i].label;
                    qs[k].hi = ports[c].hi;
                }
    *out = qs;
    *n = k;
    return 0;
}

static void print_change(const struct opts *o, const struct xg_reach_change *c, json_t *jc)
{
    char svc[32];
    if (c->lo == c->hi)
        snprintf(svc, sizeof(svc), "%s/%u", proto_name(c->proto), c->lo);
    else
        snprintf(svc, sizeof(svc), "%s/%u-%u", proto_name(c->proto), c->lo, c->hi);
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "iface", json_string(c->label));
        json_object_set_new(j, "family", json_integer(c->family));
        json_object_set_new(j, "service", json_string(svc));
        json_object_set_new(j, "gained", prefixes_json(&c->gained));
        json_object_set_new(j, "lost", prefixes_json(&c->lost));
        json_object_set_new(j, "must_changed", json_boolean(c->must_changed));
        json_array_append_new(jc, j);
        return;
    }
    printf("%s on %s, IPv%u:\n", svc, !strcmp(c->label, "*") ? "any other interface" : c->label,
           c->family);
    if (c->gained.count) {
        printf("  now reachable from:   ");
        print_prefixes(&c->gained, "                        ");
    }
    if (c->lost.count) {
        printf("  no longer reachable from: ");
        print_prefixes(&c->lost, "                            ");
    }
    if (!c->gained.count && !c->lost.count)
        printf("  only the lower (must) bound changed\n");
}

static int do_diff(const struct opts *o, struct xg_err *err)
{
    struct xg_ruleset old = {0}, new = {0}, both = {0};
    struct xg_port_range *ports = NULL;
    size_t nports = 0, nifs = 0, nq = 0;
    struct xg_ifclass *ifs = NULL;
    struct xg_diff_question *qs = NULL;
    struct xg_reach_diff d = {0};
    json_t *jc = json_array();
    int rc = -1;

    if (load_spec(o->diff_old, &old, err) < 0 || load_spec(o->diff_new, &new, err) < 0)
        goto out;
    /* shallow union, for interface and port classes */
    both.table_count = old.table_count + new.table_count;
    both.tables = calloc(both.table_count + 1, sizeof(*both.tables));
    if (!both.tables) {
        xg_fail(err, "out of memory");
        goto out;
    }
    memcpy(both.tables, old.tables, old.table_count * sizeof(*both.tables));
    memcpy(both.tables + old.table_count, new.tables, new.table_count * sizeof(*both.tables));
    if (xg_ifclasses(&both, o->iface, &ifs, &nifs) < 0 ||
        xg_ruleset_port_classes(&both, &ports, &nports) < 0 ||
        diff_questions(o, ifs, nifs, ports, nports, &qs, &nq) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    if (xg_reach_diff(&old, &new, qs, nq, true, &d, err) < 0)
        goto out;
    for (size_t i = 0; i < d.count; i++)
        print_change(o, &d.items[i], jc);
    if (o->json) {
        json_t *j = json_object();
        json_object_set_new(j, "query", json_string("diff"));
        json_object_set_new(j, "old", json_string(o->diff_old));
        json_object_set_new(j, "new", json_string(o->diff_new));
        json_object_set_new(j, "changed", json_boolean(d.count > 0));
        json_object_set_new(j, "changes", jc);
        jc = NULL;
        print_json(j);
    } else if (!d.count) {
        printf("no reachability changes (%s path)\n", path_name(o->path));
    }
    rc = 0;
out:
    xg_reach_diff_free(&d);
    free(qs);
    json_decref(jc);
    free(ifs);
    free(ports);
    free(both.tables);
    xg_ruleset_free(&old);
    xg_ruleset_free(&new);
    return rc;
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
    case 'c':
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
            return 1;
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

int cmd_analyze(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"iptables", required_argument, NULL, '4'},
                                             {"ip6tables", required_argument, NULL, '6'},
                                             {"nft-json", required_argument, NULL, 'j'},
                                             {"chain", required_argument, NULL, 'c'},
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
                                             {NULL, 0, NULL, 0}};
    struct opts o = {.path = XG_HOOK_INPUT};
    struct xg_ruleset rs = {0};
    struct xg_err err = {{0}};
    int c, nq, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        if ((rc = parse_opt(&o, c, argc, argv)) >= 0)
            return rc;
    if (optind < argc) {
        fprintf(stderr, "xenguard analyze: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    nq = (o.from || o.have_to_port) + o.have_reach + (o.nmatrix > 0) + o.spoofing +
         (o.diff_old != NULL);
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
        rc = do_diff(&o, &err);
    else if (load_inputs(&o, &rs, &err) < 0)
        rc = -1;
    else if (o.from)
        rc = do_packet(&o, &rs, &err);
    else if (o.have_reach)
        rc = do_reach(&o, &rs, &err);
    else if (o.nmatrix)
        rc = do_matrix(&o, &rs, &err);
    else
        rc = do_spoofing(&o, &rs, &err);
    xg_ruleset_free(&rs);
    if (rc < 0) {
        fprintf(stderr, "xenguard analyze: %s\n", err.msg);
        return 1;
    }
    return 0;
}
