/*
 * analyze_why.c — the parts of `xenguard analyze`'s answers that explain
 * them: where a rule came from (FILE:LINE or nft handle), why a bound is not
 * exact (an unmodelled match, or a packet field the query left open), and
 * what only a chosen source port or MAC reaches, listed apart from the
 * ordinary client's answer. Text and JSON from the same structs.
 */
#include <stdio.h>
#include <string.h>

#include "analyze/space.h"
#include "cmd/analyze.h"

json_t *analyze_rule_ref_json(const struct xg_rule *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "file", json_string(r->src_file ? r->src_file : ""));
    if (r->src_line)
        json_object_set_new(j, "line", json_integer(r->src_line));
    if (r->src_handle)
        json_object_set_new(j, "handle", json_integer(r->src_handle));
    return j;
}

void analyze_rule_ref_text(const struct xg_rule *r, char *buf, size_t n)
{
    if (!r)
        snprintf(buf, n, "(no rule found)");
    else if (r->src_line)
        snprintf(buf, n, "%s:%u", r->src_file ? r->src_file : "?", r->src_line);
    else
        snprintf(buf, n, "%s (handle %u)", r->src_file ? r->src_file : "?", r->src_handle);
}

static void extra_label(const struct xg_reach_extra *x, char *buf, size_t n)
{
    const uint8_t *m = x->mac;
    if (x->kind == XG_EXTRA_MAC)
        snprintf(buf, n, "MAC %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    else if (x->lo == x->hi)
        snprintf(buf, n, "source port %u", x->lo);
    else
        snprintf(buf, n, "source ports %u-%u", x->lo, x->hi);
}

/* A source list on one line: the list, "all except ...", or the first few. */
static void print_short(const struct xg_prefix_list *l, char *a)
{
    struct xg_ivlist iv = {0}, rest = {0};
    struct xg_prefix_list comp = {0};
    const struct xg_prefix_list *show = l;
    const char *lead = "";
    if (l->count > 3 && xg_ivlist_from_prefixes(&iv, l, l->items[0].family) == 0 &&
        xg_ivlist_complement(&iv, l->items[0].family, &rest) == 0 &&
        xg_ivlist_to_prefixes(&rest, l->items[0].family, &comp) == 0 && comp.count <= 3) {
        show = &comp;
        lead = "all except ";
    }
    printf("%s", lead);
    for (size_t k = 0; k < show->count && k < 4; k++) {
        xg_prefix_format(&show->items[k], false, a);
        printf("%s%s", k ? " " : "", a);
    }
    if (show->count > 4)
        printf(" (+%zu more)", show->count - 4);
    xg_ivlist_free(&iv);
    xg_ivlist_free(&rest);
    xg_prefix_list_free(&comp);
}

void analyze_extras_text(const struct xg_reach_extra *x, size_t n, const char *indent)
{
    for (size_t i = 0; i < n; i++) {
        char label[64], ref[300], a[XG_PREFIX_STRLEN];
        extra_label(&x[i], label, sizeof(label));
        analyze_rule_ref_text(x[i].rule, ref, sizeof(ref));
        printf("%sfrom ", indent);
        print_short(&x[i].sources, a);
        printf(" with %s%s: %s\n", label, x[i].exact ? "" : " (may)", ref);
    }
}

json_t *analyze_extras_json(const struct xg_reach_extra *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_object();
        char buf[32];
        const uint8_t *m = x[i].mac;
        if (x[i].kind == XG_EXTRA_MAC) {
            snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
                     m[4], m[5]);
            json_object_set_new(j, "mac", json_string(buf));
        } else {
            if (x[i].lo == x[i].hi)
                snprintf(buf, sizeof(buf), "%u", x[i].lo);
            else
                snprintf(buf, sizeof(buf), "%u-%u", x[i].lo, x[i].hi);
            json_object_set_new(j, "sport", json_string(buf));
        }
        json_object_set_new(j, "sources", analyze_prefixes_json(&x[i].sources));
        json_object_set_new(j, "bound", json_string(x[i].exact ? "exact" : "may"));
        json_object_set_new(j, "rule", x[i].rule ? analyze_rule_ref_json(x[i].rule) : json_null());
        json_array_append_new(a, j);
    }
    return a;
}

void analyze_why_text(const struct xg_may_reason *w, const char *indent)
{
    char ref[300];
    if (!w->rule)
        return;
    analyze_rule_ref_text(w->rule, ref, sizeof(ref));
    printf("%swhy not exact: %s: %s%s\n", indent, ref, w->open_field ? "open field: " : "",
           w->what);
}

json_t *analyze_why_json(const struct xg_may_reason *w)
{
    json_t *j;
    if (!w->rule)
        return json_null();
    j = json_object();
    json_object_set_new(j, "rule", analyze_rule_ref_json(w->rule));
    json_object_set_new(j, "cause", json_string(w->open_field ? "open-field" : "unmodelled"));
    json_object_set_new(j, "what", json_string(w->what));
    return j;
}
