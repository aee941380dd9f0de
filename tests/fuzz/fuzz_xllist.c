/*
 * fuzz_xllist.c — the JSON of `xl list -l` (xg_xllist_parse), and the same
 * bytes as `ip -j addr` (xg_ipaddr_parse), both read with jansson.
 *
 * Property: the domains found, written back as xl writes them
 * ([{"domid": N, "config": {"c_info": {"name": ...}}}]), parse to the same
 * domains in the same order; every interface name fits its buffer.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/parse.h"

static void free_domains(struct xg_domain *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].name);
    free(d);
}

static void check_roundtrip(const struct xg_domain *d, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:{s:{s:s}}}", "domid", (json_int_t)d[i].domid,
                                             "config", "c_info", "name", d[i].name));
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!text)
        return;
    struct xg_domain *again = NULL;
    size_t m = 0;
    struct xg_err err;
    if (xg_xllist_parse(text, strlen(text), "print", &again, &m, &err) != 0 || m != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (again[i].domid != d[i].domid || strcmp(again[i].name, d[i].name))
            abort();
    free_domains(again, m);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xg_domain *d = NULL;
    size_t n = 0;
    struct xg_err err;
    if (xg_xllist_parse((const char *)data, size, "fuzz", &d, &n, &err) == 0)
        check_roundtrip(d, n);
    free_domains(d, n);

    struct xg_iface *f = NULL;
    size_t nf = 0;
    xg_ipaddr_parse((const char *)data, size, "fuzz", &f, &nf, &err);
    for (size_t i = 0; i < nf; i++) {
        if (strnlen(f[i].name, sizeof(f[i].name)) == sizeof(f[i].name))
            abort();
        xg_prefix_list_free(&f[i].addrs);
    }
    free(f);
    return 0;
}
