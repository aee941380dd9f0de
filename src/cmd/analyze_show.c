/*
 * analyze_show.c — `xenguard analyze`'s answers for people and machines:
 * one renderer per query (reach, packet, matrix, spoofing, diff), text and
 * JSON from the same plain structs the analyzer library returns. Address
 * lists are minimal CIDR lists; text may say "all except ..." when shorter.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/space.h"
#include "cmd/analyze.h"
#include "util/buf.h"

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

json_t *analyze_prefixes_json(const struct xg_prefix_list *l)
{
    return prefixes_json(l);
}

void analyze_print_prefixes(const struct xg_prefix_list *l, const char *indent)
{
    print_prefixes(l, indent);
}

json_t *analyze_json_new(const char *query)
{
    json_t *j = json_object();
    json_object_set_new(j, "schema", json_string(ANALYZE_SCHEMA));
    json_object_set_new(j, "query", json_string(query));
    return j;
}

void analyze_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

static void print_json(json_t *j)
{
    analyze_print_json(j);
}

const char *analyze_path_name(enum xg_hook p)
{
    return p == XG_HOOK_FORWARD ? "forward" : "input";
}

static const char *path_name(enum xg_hook p)
{
    return analyze_path_name(p);
}

void analyze_base_query(const struct opts *o, struct xg_packet_query *q, uint8_t family,
                        const struct service *s, const char *iface)
{
    memset(q, 0, sizeof(*q));
    q->family = family;
    q->proto = s->proto;
    q->dport = s->port;
    q->iifname = iface;
    q->path = o->path;
    q->oifname = o->oface;
    q->has_sport = o->has_sport;
    q->sport = o->sport;
    q->mac = o->has_mac ? o->mac : NULL;
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

/* -q: an interface class nobody reaches (not even with a chosen port or MAC) says nothing. */
static bool reach_empty(const struct xg_iface_reach *ir)
{
    for (int f = 0; f < 2; f++)
        if (ir->asked[f] && (ir->r[f].may.count || ir->nextra[f]))
            return false;
    return true;
}

static void print_reach_text(const struct opts *o, const struct xg_ifclass *ic,
                             const struct xg_iface_reach *ir)
{
    const char *ind = "                          ";
    if (o->quiet && reach_empty(ir))
        return;
    printf("  %-16s", !strcmp(ic->kind, "other") ? "(any other)" : ic->label);
    if (o->verbose)
        printf("(%s, evaluated as %s)\n  %-16s", ic->kind, ic->rep, "");
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
            analyze_why_text(&ir->why[f], "                    ");
        }
        analyze_extras_text(ir->extra[f], ir->nextra[f], "                    ");
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
        if (!ex)
            json_object_set_new(jf, "why", analyze_why_json(&ir->why[f]));
        json_object_set_new(jf, "only_with", analyze_extras_json(ir->extra[f], ir->nextra[f]));
        json_object_set_new(ji, f ? "ipv6" : "ipv4", jf);
    }
    return ji;
}

int analyze_reach(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
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
    analyze_base_query(o, &q, 4, &o->reach, NULL);
    q.daddr = o->to ? &to : NULL;
    if (xg_reach_by_iface(rs, &q, ifs, nifs, o->ifmap ? &map : NULL, ir, err) < 0)
        goto out;
    if (!o->json)
        printf("%s: sources that can open a new connection (%s path)\n", o->reach.text,
               path_name(o->path));
    for (size_t i = 0; i < nifs; i++) {
        json_array_append_new(jifs, reach_json(&ifs[i], &ir[i], &all_exact));
        if (!o->json)
            print_reach_text(o, &ifs[i], &ir[i]);
    }
    if (o->json) {
        json_t *j = analyze_json_new("reach");
        json_object_set_new(j, "service", json_string(o->reach.text));
        json_object_set_new(j, "path", json_string(path_name(o->path)));
        json_object_set_new(j, "exact", json_boolean(all_exact));
        json_object_set_new(j, "interfaces", jifs);
        jifs = NULL;
        print_json(j);
    } else {
        printf("bounds: %s\n",
               all_exact ? "exact (every match on the path is modelled)"
                         : "may/must differ where unmodelled rules or open fields matter");
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

int analyze_packet(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
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
    analyze_base_query(o, &q, src.family, &o->to_port, iface);
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
    struct xg_may_reason why = {0};
    if (may != must && xg_explain_may(rs, &q, &src, &why, err) < 0)
        goto out;
    if (o->json) {
        json_t *j = analyze_json_new("packet"), *steps = json_array();
        json_object_set_new(j, "from", json_string(o->from));
        if (o->to)
            json_object_set_new(j, "to", json_string(o->to));
        json_object_set_new(j, "service", json_string(o->to_port.text));
        json_object_set_new(j, "iface", o->iface ? json_string(o->iface) : json_string("*"));
        json_object_set_new(j, "path", json_string(path_name(o->path)));
        json_object_set_new(j, "verdict", json_string(verdict));
        json_object_set_new(j, "bound", json_string(bound));
        if (may != must)
            json_object_set_new(j, "why", analyze_why_json(&why));
        for (size_t i = 0; i < tr.count; i++) {
            const struct xg_trace_step *st = &tr.steps[i];
            json_t *js = json_object();
            json_object_set_new(js, "table", json_string(st->table->name));
            json_object_set_new(js, "chain", json_string(st->base->name));
            json_object_set_new(js, "hook", json_string(xg_hook_name(st->base->hook)));
            json_object_set_new(js, "priority", json_integer(st->base->priority));
            json_object_set_new(js, "verdict", json_string(xg_verdict_name(st->verdict)));
            json_object_set_new(js, "rule",
                                st->rule ? analyze_rule_ref_json(st->rule) : json_null());
            if (st->rule)
                json_object_set_new(js, "in_chain", json_string(st->chain->name));
            if (st->unknown)
                json_object_set_new(js, "unmodelled", analyze_rule_ref_json(st->unknown));
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
        for (size_t i = 0; i < tr.count && !o->quiet; i++) {
            const struct xg_trace_step *st = &tr.steps[i];
            char ref[300];
            printf("  %-10s %-12s %s %d: %s", st->table->name, st->base->name,
                   xg_hook_name(st->base->hook), st->base->priority, xg_verdict_name(st->verdict));
            if (st->rule) {
                analyze_rule_ref_text(st->rule, ref, sizeof(ref));
                printf(" by rule %s (chain %s)\n", ref, st->chain->name);
            } else {
                printf(" by the chain's policy\n");
            }
            if (st->unknown) {
                analyze_rule_ref_text(st->unknown, ref, sizeof(ref));
                printf("             unmodelled rule on the way: %s (taken as not matching)\n",
                       ref);
            }
        }
        if (!tr.count && !o->quiet)
            printf("  no base chain on the path: accepted by default\n");
        if (may != must && !o->quiet)
            analyze_why_text(&why, "  ");
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

/* --- spoofing --- */

static json_t *spoof_family_out(bool print, const struct xg_spoof_family *sf, uint8_t family)
{
    static const char *const names[] = {"unchecked", "no", "maybe", "yes"};
    char example[XG_PREFIX_STRLEN + 32] = "", a[XG_PREFIX_STRLEN];
    json_t *jf = json_object();
    json_object_set_new(jf, "spoofable", json_string(names[sf->verdict]));
    if (sf->verdict == XG_SPOOF_UNCHECKED) {
        if (print)
            printf("  IPv%d: not checked (no IPv%d prefixes in the map)\n", family, family);
        return jf;
    }
    if (sf->has_example) {
        xg_prefix_format(&sf->example, true, a);
        if (sf->lo == sf->hi)
            snprintf(example, sizeof(example), "%s -> %s/%u", a, analyze_proto_name(sf->proto),
                     sf->lo);
        else
            snprintf(example, sizeof(example), "%s -> %s/%u-%u", a, analyze_proto_name(sf->proto),
                     sf->lo, sf->hi);
    }
    json_object_set_new(jf, "bound",
                        json_string(sf->verdict != XG_SPOOF_MAYBE ? "exact" : "may/must"));
    json_object_set_new(jf, "example", example[0] ? json_string(example) : json_null());
    if (print)
        printf("  IPv%d: %s%s\n", family,
               sf->verdict == XG_SPOOF_YES
                   ? "SPOOFABLE: a source outside its prefixes gets in, e.g. "
               : sf->verdict == XG_SPOOF_MAYBE
                   ? "MAYBE SPOOFABLE (only through unmodelled rules), e.g. "
                   : "protected: sources outside its prefixes cannot get in",
               example);
    return jf;
}

static bool has_bridge(const struct xg_ruleset *rs)
{
    for (size_t t = 0; t < rs->table_count; t++)
        if (rs->tables[t]->family == XG_TABLE_BRIDGE)
            return true;
    return false;
}

static bool guest_port(const struct opts *o, const char *name)
{
    char buf[128], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", o->guest_ports ? o->guest_ports : "vif*,tap*");
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (xg_ifname_matches(t, name))
            return true;
    return false;
}

int analyze_spoofing(const struct opts *o, const struct xg_ruleset *rs, struct xg_err *err)
{
    struct xg_ifmap map = {0};
    struct xg_spoof_answer *ans = NULL;
    json_t *jifs = json_array(), *jguests = json_array();
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
        json_t *ji;
        if (guest_port(o, e->ifname) && has_bridge(rs))
            continue; /* answered below, as a bridge port */
        /* -q: only the interfaces that let spoofed sources in */
        bool print = !o->json && (!o->quiet || ans[i].fam[0].verdict >= XG_SPOOF_MAYBE ||
                                  ans[i].fam[1].verdict >= XG_SPOOF_MAYBE);
        ji = json_object();
        json_object_set_new(ji, "iface", json_string(e->ifname));
        json_object_set_new(ji, "prefixes", prefixes_json(&e->prefixes));
        if (print) {
            struct xg_buf b = {0};
            xg_prefix_list_print(&b, &e->prefixes, " ", false, "");
            printf("%s (%s):\n", e->ifname, xg_buf_str(&b));
            xg_buf_free(&b);
        }
        for (int f = 0; f < 2; f++) {
            bad += ans[i].fam[f].verdict >= XG_SPOOF_MAYBE;
            json_object_set_new(
                ji, f ? "ipv6" : "ipv4",
                spoof_family_out(print && (!o->quiet || ans[i].fam[f].verdict >= XG_SPOOF_MAYBE),
                                 &ans[i].fam[f], f ? 6 : 4));
        }
        json_array_append_new(jifs, ji);
    }
    size_t gbad = 0;
    if (analyze_guests(o, rs, &map, jguests, &gbad, err) < 0)
        goto out;
    bad += gbad;
    if (o->json) {
        json_t *j = analyze_json_new("spoofing");
        json_object_set_new(j, "path", json_string(path_name(o->path)));
        json_object_set_new(j, "interfaces", jifs);
        json_object_set_new(j, "guests", jguests);
        jifs = jguests = NULL;
        print_json(j);
    } else {
        printf("%zu interface/family pair(s) let spoofed sources in\n", bad - gbad);
        if (json_array_size(jguests))
            printf("%zu guest port claim(s) hit Dom0, another guest or a protected address\n",
                   gbad);
    }
    rc = bad ? 1 : 0; /* CI: 1 = an interface is (or may be) spoofable */
out:
    free(ans);
    json_decref(jifs);
    json_decref(jguests);
    xg_ifmap_free(&map);
    return rc;
}

/* --- diff --- */

static void print_change(const struct opts *o, const struct xg_reach_change *c, json_t *jc)
{
    char svc[32];
    if (c->lo == c->hi)
        snprintf(svc, sizeof(svc), "%s/%u", analyze_proto_name(c->proto), c->lo);
    else
        snprintf(svc, sizeof(svc), "%s/%u-%u", analyze_proto_name(c->proto), c->lo, c->hi);
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
    printf("%s on %s, IPv%u:", svc, !strcmp(c->label, "*") ? "any other interface" : c->label,
           c->family);
    if (o->quiet) { /* -q: one line per change */
        printf(" %s\n", c->gained.count && c->lost.count ? "gained and lost sources"
                        : c->gained.count                ? "gained sources"
                        : c->lost.count                  ? "lost sources"
                                                         : "only the must bound changed");
        return;
    }
    printf("\n");
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

int analyze_diff(const struct opts *o, struct xg_err *err)
{
    struct xg_ruleset old = {0}, new = {0}, both = {0};
    struct xg_port_range *ports = NULL;
    size_t nports = 0, nifs = 0, nq = 0;
    struct xg_ifclass *ifs = NULL;
    struct xg_diff_question *qs = NULL;
    struct xg_reach_diff d = {0};
    json_t *jc = json_array();
    int rc = -1;

    if (analyze_load_spec(o->diff_old, &old, err) < 0 ||
        analyze_load_spec(o->diff_new, &new, err) < 0)
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
        xg_diff_questions(ifs, nifs, ports, nports, o->path, o->oface, &qs, &nq) < 0) {
        xg_fail(err, "out of memory");
        goto out;
    }
    if (xg_reach_diff(&old, &new, qs, nq, true, &d, err) < 0)
        goto out;
    for (size_t i = 0; i < d.count; i++)
        print_change(o, &d.items[i], jc);
    if (o->json) {
        json_t *j = analyze_json_new("diff");
        json_object_set_new(j, "old", json_string(o->diff_old));
        json_object_set_new(j, "new", json_string(o->diff_new));
        json_object_set_new(j, "changed", json_boolean(d.count > 0));
        json_object_set_new(j, "changes", jc);
        jc = NULL;
        print_json(j);
    } else {
        if (o->verbose)
            printf("asked %zu questions: %zu interface class(es) x 2 families x tcp, udp x %zu "
                   "port class(es)\n",
                   nq, nifs, nports);
        if (!d.count)
            printf("no reachability changes (%s path)\n", path_name(o->path));
        else if (o->quiet || o->verbose)
            printf("%zu reachability change(s) (%s path)\n", d.count, path_name(o->path));
    }
    rc = d.count ? 1 : 0; /* CI: 1 = reachability changed */
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
