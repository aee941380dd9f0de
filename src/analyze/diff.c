/*
 * diff.c — what two rulesets let in differently, as plain data.
 *
 * The one comparison behind `analyze --diff` (every interface and port
 * class of both rulesets) and `status` (every service the policy declares):
 * each question is answered on both sides by the same analysis, and only
 * the questions whose may or must bound differ are returned, with the
 * sources gained and lost. Adjacent port classes that changed alike are
 * merged when the caller asks for it. Rendering is the caller's.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/space.h"

/* a minus b (both of one family), as a minimal prefix list appended to out. */
int xg_prefix_list_minus(const struct xg_prefix_list *a, const struct xg_prefix_list *b,
                         uint8_t family, struct xg_prefix_list *out)
{
    struct xg_ivlist ia = {0}, ib = {0}, r = {0};
    int rc = -1;
    if (xg_ivlist_from_prefixes(&ia, a, family) == 0 &&
        xg_ivlist_from_prefixes(&ib, b, family) == 0 &&
        xg_ivlist_subtract(&ia, &ib, family, &r) == 0)
        rc = xg_ivlist_to_prefixes(&r, family, out);
    xg_ivlist_free(&ia);
    xg_ivlist_free(&ib);
    xg_ivlist_free(&r);
    return rc;
}

static void change_free(struct xg_reach_change *c)
{
    xg_reach_free(&c->old);
    xg_reach_free(&c->new);
    xg_prefix_list_free(&c->gained);
    xg_prefix_list_free(&c->lost);
}

/* Does `c` continue the previous change (same question, next port, same answer)? */
static bool continues(const struct xg_reach_change *prev, const struct xg_reach_change *c)
{
    return !strcmp(prev->label, c->label) && prev->family == c->family && prev->proto == c->proto &&
           (uint32_t)prev->hi + 1 == c->lo && xg_prefix_list_equal(&prev->gained, &c->gained) &&
           xg_prefix_list_equal(&prev->lost, &c->lost) && prev->must_changed == c->must_changed;
}

static int add_change(struct xg_reach_diff *d, struct xg_reach_change *c, bool merge)
{
    if (merge && d->count && continues(&d->items[d->count - 1], c)) {
        d->items[d->count - 1].hi = c->hi;
        change_free(c);
        return 0;
    }
    struct xg_reach_change *g = realloc(d->items, (d->count + 1) * sizeof(*g));
    if (!g)
        return -1; /* `c` stays the caller's */
    d->items = g;
    d->items[d->count++] = *c;
    return 0;
}

/* One question on both sides; a change is added when the answers differ. */
int xg_diff_questions(const struct xg_ifclass *ifs, size_t nifs, const struct xg_port_range *ports,
                      size_t nports, enum xg_hook path, const char *oface,
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
                    qs[k].q.oifname = oface;
                    qs[k].q.path = path;
                    qs[k].label = ifs[i].label;
                    qs[k].hi = ports[c].hi;
                }
    *out = qs;
    *n = k;
    return 0;
}

static int ask(struct xg_analysis *ao, struct xg_analysis *an, const struct xg_diff_question *dq,
               bool merge, struct xg_reach_diff *out, struct xg_err *err)
{
    struct xg_reach_change c = {.label = dq->label,
                                .family = dq->q.family,
                                .proto = dq->q.proto,
                                .lo = dq->q.dport,
                                .hi = dq->hi > dq->q.dport ? dq->hi : dq->q.dport};
    if (xg_analysis_reach(ao, &dq->q, &c.old, err) < 0 ||
        xg_analysis_reach(an, &dq->q, &c.new, err) < 0) {
        change_free(&c);
        return -1;
    }
    out->asked++;
    if (xg_prefix_list_equal(&c.old.may, &c.new.may) &&
        xg_prefix_list_equal(&c.old.must, &c.new.must)) {
        change_free(&c);
        return 0;
    }
    c.must_changed = !xg_prefix_list_equal(&c.old.must, &c.new.must);
    if (xg_prefix_list_minus(&c.new.may, &c.old.may, c.family, &c.gained) < 0 ||
        xg_prefix_list_minus(&c.old.may, &c.new.may, c.family, &c.lost) < 0 ||
        add_change(out, &c, merge) < 0) {
        change_free(&c);
        return xg_fail(err, "out of memory");
    }
    return 0;
}

int xg_reach_diff(const struct xg_ruleset *old, const struct xg_ruleset *new,
                  const struct xg_diff_question *qs, size_t n, bool merge,
                  struct xg_reach_diff *out, struct xg_err *err)
{
    struct xg_analysis *ao = NULL, *an = NULL;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (!(ao = xg_analysis_new(old, NULL, err)) || !(an = xg_analysis_new(new, NULL, err)))
        goto done;
    for (size_t i = 0; i < n; i++)
        if (ask(ao, an, &qs[i], merge, out, err) < 0)
            goto done;
    rc = 0;
done:
    xg_analysis_free(ao);
    xg_analysis_free(an);
    if (rc < 0)
        xg_reach_diff_free(out);
    return rc;
}

void xg_reach_diff_free(struct xg_reach_diff *d)
{
    for (size_t i = 0; i < d->count; i++)
        change_free(&d->items[i]);
    free(d->items);
    memset(d, 0, sizeof(*d));
}
