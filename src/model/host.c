/*
 * host.c — small helpers over the host model: key/value lists, lookups and
 * freeing. No I/O here; probes fill the model, checks read it.
 */
#include "model/host.h"
#include "util/strv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int xg_kv_add(struct xg_kvlist *l, const char *key, const char *value, const char *file,
              unsigned line)
{
    struct xg_kv *grown = realloc(l->items, (l->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    l->items = grown;
    struct xg_kv *kv = &l->items[l->count];
    kv->key = strdup(key);
    kv->value = strdup(value ? value : "");
    kv->file = strdup(file ? file : "");
    kv->line = line;
    if (!kv->key || !kv->value || !kv->file) {
        free(kv->key);
        free(kv->value);
        free(kv->file);
        return -1;
    }
    l->count++;
    return 0;
}

const struct xg_kv *xg_kv_find(const struct xg_kvlist *l, const char *key, bool nocase)
{
    for (size_t i = 0; i < l->count; i++)
        if (nocase ? !strcasecmp(l->items[i].key, key) : !strcmp(l->items[i].key, key))
            return &l->items[i];
    return NULL;
}

void xg_kv_free(struct xg_kvlist *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
        free(l->items[i].file);
    }
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

const char *xg_toolstack_name(enum xg_toolstack t)
{
    switch (t) {
    case XG_TOOLSTACK_XEND:
        return "xend";
    case XG_TOOLSTACK_XL:
        return "xl";
    case XG_TOOLSTACK_XAPI:
        return "xapi";
    case XG_TOOLSTACK_NONE:
        break;
    }
    return "none";
}

const struct xg_xlcfg_value *xg_xlcfg_get(const struct xg_xlcfg *c, const char *key)
{
    for (size_t i = 0; i < c->count; i++)
        if (!strcmp(c->values[i].key, key))
            return &c->values[i];
    return NULL;
}

void xg_xlcfg_free(struct xg_xlcfg *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->values[i].key);
        for (size_t j = 0; j < c->values[i].count; j++)
            free(c->values[i].items[j]);
        free(c->values[i].items);
    }
    free(c->values);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

void xg_host_note(struct xg_host *h, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    xg_strv_add(&h->notes, &h->note_count, buf);
}

void xg_host_unreadable_add(struct xg_host *h, const char *path, int err)
{
    char buf[1200];
    snprintf(buf, sizeof(buf), "%s: %s", path, strerror(err));
    xg_strv_add(&h->unreadable, &h->unreadable_count, buf);
}

const char *xg_host_unreadable(const struct xg_host *h, const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < h->unreadable_count; i++) {
        const char *u = h->unreadable[i];
        if (!strncmp(u, path, n) &&
            (u[n] == ':' || u[n] == '/' || u[n] == ' ' || (n && path[n - 1] == '/')))
            return u;
    }
    return NULL;
}

const struct xg_iface *xg_host_iface(const struct xg_host *h, const char *name)
{
    for (size_t i = 0; i < h->iface_count; i++)
        if (!strcmp(h->ifaces[i].name, name))
            return &h->ifaces[i];
    return NULL;
}

const struct xg_account *xg_host_account(const struct xg_host *h, const char *name)
{
    for (size_t i = 0; i < h->account_count; i++)
        if (!strcmp(h->accounts[i].name, name))
            return &h->accounts[i];
    return NULL;
}

const struct xg_group *xg_host_group(const struct xg_host *h, const char *name)
{
    for (size_t i = 0; i < h->group_count; i++)
        if (!strcmp(h->groups[i].name, name))
            return &h->groups[i];
    return NULL;
}

int xg_host_sysctl(const struct xg_host *h, uint8_t family, const char *iface, const char *name)
{
    for (size_t i = 0; i < h->sysctl_count; i++) {
        const struct xg_sysctl *s = &h->sysctls[i];
        if (s->family == family && !strcmp(s->iface, iface) && !strcmp(s->name, name))
            return s->value;
    }
    return -1;
}

bool xg_socket_dual_stack(const struct xg_host *h, const struct xg_socket *s, char *why,
                          size_t why_size)
{
    static const uint8_t any6[16] = {0};
    char scratch[8];
    if (!why) {
        why = scratch;
        why_size = sizeof(scratch);
    }
    why[0] = '\0';
    if (s->family != 6 || memcmp(s->addr.addr, any6, 16))
        return false;
    if (s->v6only != XG_V6ONLY_UNKNOWN) {
        snprintf(why, why_size, "v6only:%d (%s)", s->v6only == XG_V6ONLY_YES,
                 h->v6only_source ? h->v6only_source : "ss");
        return s->v6only == XG_V6ONLY_NO;
    }
    if (h->bindv6only >= 0)
        snprintf(why, why_size, "not in ss; net.ipv6.bindv6only = %d", h->bindv6only);
    else
        snprintf(why, why_size, "V6ONLY unknown: Linux's default, net.ipv6.bindv6only = 0");
    return h->bindv6only != 1;
}

bool xg_host_has_ipv6(const struct xg_host *h)
{
    if (h->socket_tables & (XG_SOCKTAB_TCP6 | XG_SOCKTAB_UDP6))
        return true;
    for (size_t i = 0; i < h->sysctl_count; i++)
        if (h->sysctls[i].family == 6)
            return true;
    for (size_t i = 0; i < h->iface_count; i++)
        for (size_t k = 0; k < h->ifaces[i].addrs.count; k++)
            if (h->ifaces[i].addrs.items[k].family == 6)
                return true;
    return false;
}

int xg_host_xen_at_least(const struct xg_host *h, int major, int minor)
{
    const struct xg_versions *v = &h->versions;
    if (v->xen_major <= 0)
        return -1;
    return v->xen_major > major || (v->xen_major == major && v->xen_minor >= minor);
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void xg_host_free(struct xg_host *h)
{
    for (size_t i = 0; i < XG_SEC_COUNT; i++)
        free(h->errors[i]);
    free(h->root);
    free(h->hostname);
    free(h->hypervisor_type);
    free(h->xen_version);
    free(h->toolstack_why);
    free_strv(h->unreadable, h->unreadable_count);
    free(h->kernel_cmdline);
    free(h->xen_cmdline);
    for (size_t i = 0; i < h->domain_count; i++)
        free(h->domains[i].name);
    free(h->domains);
    free(h->sockets);
    free(h->processes);
    for (size_t i = 0; i < h->account_count; i++) {
        free(h->accounts[i].name);
        free(h->accounts[i].home);
        free(h->accounts[i].shell);
    }
    free(h->accounts);
    for (size_t i = 0; i < h->group_count; i++) {
        free(h->groups[i].name);
        free_strv(h->groups[i].members, h->groups[i].member_count);
    }
    free(h->groups);
    for (size_t i = 0; i < h->sudo_rule_count; i++) {
        free(h->sudo_rules[i].who);
        free(h->sudo_rules[i].file);
    }
    free(h->sudo_rules);
    xg_kv_free(&h->sshd);
    free(h->sshd_source);
    free(h->v6only_source);
    free(h->versions.os_id);
    free(h->versions.os_id_like);
    free(h->versions.os_version_id);
    free(h->versions.os_name);
    free(h->versions.openssh);
    free(h->versions.openssh_source);
    free(h->versions.xen_source);
    xg_kv_free(&h->xend);
    free_strv(h->xend_api_servers, h->xend_api_server_count);
    xg_xlcfg_free(&h->xlconf);
    for (size_t i = 0; i < h->domcfg_count; i++)
        xg_xlcfg_free(&h->domcfgs[i]);
    free(h->domcfgs);
    xg_kv_free(&h->xendomains);
    xg_kv_free(&h->xapi);
    free(h->xapi_uuid);
    free(h->xapi_db_problem);
    free_strv(h->units, h->unit_count);
    free(h->sysctls);
    for (size_t i = 0; i < h->perm_count; i++)
        free(h->perms[i].path);
    free(h->perms);
    for (size_t i = 0; i < h->iface_count; i++)
        xg_prefix_list_free(&h->ifaces[i].addrs);
    free(h->ifaces);
    xg_ruleset_free(&h->firewall);
    free(h->ip_addr_json);
    for (size_t i = 0; i < h->bridge_count; i++)
        free(h->bridges[i].ports);
    free(h->bridges);
    free(h->vif_declared);
    free_strv(h->notes, h->note_count);
    memset(h, 0, sizeof(*h));
}
