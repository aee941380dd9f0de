/*
 * perimeter.c — the [perimeter] section: the cluster's router, for
 * `xenguard perimeter` (issue 16). Its value parsers, its whole-file rules
 * and its printer live here, apart from the host's keys, so the two grow
 * without touching each other; parse.c only holds its rows of the key table.
 *
 *   [perimeter]
 *   outside-interface = eth0 ...     where the world comes in (required)
 *   inside-interface  = eth1 ...     the cluster's segments (required)
 *   management-ports  = 8443 9000-9010  more tcp ports of the Dom0s (optional)
 *   xapi              = no           the Dom0s run XAPI: 80 and 443 too
 *
 * The management ports are always the migration port, xend's 8000, 8002,
 * 8005 and 8006 and sshd, whatever [migration] says: the router protects
 * whatever toolstack a Dom0 happens to run, not only the configured one.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parser.h"
#include "util/buf.h"

int policy_ifname_list(struct parser *ps, const char *key, const char *value, unsigned col,
                       char ***out, size_t *count)
{
    size_t n;
    struct token *toks = policy_tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
    if (!n)
        rc = policy_fail(ps, col, 0, "%s: needs at least one interface", key);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char name[XG_IFNAMSIZ];
        if ((rc = policy_ifname(ps, key, &toks[i], name)) < 0)
            break;
        for (size_t j = 0; j < *count; j++)
            if (!strcmp((*out)[j], name))
                rc = policy_fail(ps, toks[i].col, toks[i].len, "%s: '%s' is listed twice", key,
                                 name);
        if (rc == 0)
            rc = policy_words_add(ps, out, count, name);
    }
    free(toks);
    return rc;
}

/* "8443", "9000-9010": one port or range of a token. */
static int parse_range(struct parser *ps, const char *key, const struct token *t,
                       struct xg_port_range *out)
{
    struct token lo = *t, hi;
    char *dash = strchr(lo.text, '-');
    if (!dash)
        return policy_u16(ps, key, t, &out->lo) < 0 ? -1 : (out->hi = out->lo, 0);
    *dash = '\0';
    lo.len = (unsigned)(dash - lo.text);
    hi = (struct token){.col = t->col + lo.len + 1, .len = t->len - lo.len - 1};
    snprintf(hi.text, sizeof(hi.text), "%s", dash + 1);
    if (policy_u16(ps, key, &lo, &out->lo) < 0 || policy_u16(ps, key, &hi, &out->hi) < 0)
        return -1;
    if (out->hi < out->lo)
        return policy_fail(ps, t->col, t->len, "%s: port range '%s' ends before it starts", key,
                           t->text);
    return 0;
}

int policy_perimeter_ports(struct parser *ps, const char *key, const char *value, unsigned col)
{
    struct xg_perimeter *pm = &ps->p->perimeter;
    size_t n;
    struct token *toks = policy_tokenize(value, col, true, &n);
    int rc = 0;
    if (!toks)
        return policy_oom(ps);
    if (!n)
        rc = policy_fail(ps, col, 0, "%s: needs a port or a range", key);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (pm->port_count == XG_PERIMETER_MAX_PORTS)
            rc = policy_fail(ps, toks[i].col, toks[i].len, "%s: at most %d ports or ranges", key,
                             XG_PERIMETER_MAX_PORTS);
        else
            rc = parse_range(ps, key, &toks[i], &pm->ports[pm->port_count++]);
    }
    free(toks);
    return rc;
}

int policy_validate_perimeter(struct parser *ps)
{
    struct xg_perimeter *pm = &ps->p->perimeter;
    struct xg_loc section = {ps->section_line[SEC_PERIMETER], 1, 11};
    pm->present = ps->section_line[SEC_PERIMETER] != 0;
    if (!pm->present)
        return 0;
    if (!pm->outside_count)
        return policy_fail_loc(ps, section,
                               "[perimeter] needs outside-interface: the router's interfaces "
                               "towards everything that is not the cluster");
    if (!pm->inside_count)
        return policy_fail_loc(ps, section,
                               "[perimeter] needs inside-interface: the router's interfaces "
                               "on the cluster's segments");
    for (size_t i = 0; i < pm->inside_count; i++)
        for (size_t j = 0; j < pm->outside_count; j++)
            if (!strcmp(pm->inside[i], pm->outside[j]))
                return policy_fail_loc(ps, pm->inside_loc,
                                       "inside-interface '%s' is also an outside-interface",
                                       pm->inside[i]);
    if (!ps->p->networks.count)
        return policy_fail_loc(ps, section,
                               "[perimeter] needs [cluster] networks: the sources that may "
                               "leave by the outside interfaces and never arrive on them");
    if (!ps->p->peers.count)
        xg_warn_at(ps->warnings, ps->src.file, section.line, 1,
                   "[perimeter] with no [cluster] peers: no Dom0's management ports are "
                   "protected, only spoofing is filtered");
    return 0;
}

static int cmp_range(const void *a, const void *b)
{
    const struct xg_port_range *x = a, *y = b;
    return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi < y->hi ? -1 : x->hi > y->hi);
}

size_t xg_perimeter_ports(const struct xg_policy *p, struct xg_port_range *out, size_t max)
{
    struct xg_port_range all[XG_PERIMETER_MAX_PORTS + 8];
    size_t n = 0, m = 0;
    static const uint16_t xend[] = {8000, 8002, 8005, 8006};
    for (size_t i = 0; i < 4; i++)
        all[n++] = (struct xg_port_range){xend[i], xend[i]};
    all[n++] = (struct xg_port_range){p->migration_port, p->migration_port};
    all[n++] = (struct xg_port_range){p->ssh_port, p->ssh_port};
    if (p->perimeter.xapi) {
        all[n++] = (struct xg_port_range){80, 80};
        all[n++] = (struct xg_port_range){443, 443};
    }
    for (size_t i = 0; i < p->perimeter.port_count; i++)
        all[n++] = p->perimeter.ports[i];
    qsort(all, n, sizeof(all[0]), cmp_range);
    for (size_t i = 0; i < n; i++) {
        if (m && all[i].lo <= (unsigned)out[m - 1].hi + 1) {
            if (all[i].hi > out[m - 1].hi)
                out[m - 1].hi = all[i].hi;
        } else if (m < max) {
            out[m++] = all[i];
        }
    }
    return m;
}

void policy_print_perimeter(struct xg_buf *b, const struct xg_perimeter *pm)
{
    if (!pm->present)
        return;
    xg_buf_puts(b, "\n[perimeter]\noutside-interface =");
    for (size_t i = 0; i < pm->outside_count; i++)
        xg_buf_printf(b, " %s", pm->outside[i]);
    xg_buf_puts(b, "\ninside-interface =");
    for (size_t i = 0; i < pm->inside_count; i++)
        xg_buf_printf(b, " %s", pm->inside[i]);
    xg_buf_puts(b, "\n");
    if (pm->port_count) {
        xg_buf_puts(b, "management-ports =");
        for (size_t i = 0; i < pm->port_count; i++) {
            xg_buf_printf(b, " %u", pm->ports[i].lo);
            if (pm->ports[i].hi != pm->ports[i].lo)
                xg_buf_printf(b, "-%u", pm->ports[i].hi);
        }
        xg_buf_puts(b, "\n");
    }
    xg_buf_printf(b, "xapi = %s\n", pm->xapi ? "yes" : "no");
}

void policy_free_perimeter(struct xg_perimeter *pm)
{
    for (size_t i = 0; i < pm->outside_count; i++)
        free(pm->outside[i]);
    for (size_t i = 0; i < pm->inside_count; i++)
        free(pm->inside[i]);
    free(pm->outside);
    free(pm->inside);
}
