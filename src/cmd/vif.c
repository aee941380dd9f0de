/*
 * vif.c — `xenguard vif online|offline|list`: a guest port's declared
 * addresses in the loaded `table bridge xenguard`.
 *
 * The verb parses and prints; validation, the nft batch and the listing
 * live in src/guests/vif.c. Called by the vif hotplug script
 * (scripts/vif-xenguard) with values from xenstore, so every argument is
 * treated as hostile: a bad one is a one-line error, exit 1, nothing changed.
 */
#include <stdio.h>
#include <string.h>

#include "guests/vif.h"
#include "ir/names.h"
#include "policy/policy.h"
#include "verbs.h"

enum { O_IP = XG_CLI_LONG, O_MAC };

static const struct xg_opt options[] = {
    {O_IP, "ip", "ADDR", "an IPv4 or IPv6 address of the guest (repeat for more)"},
    {O_MAC, "mac", "MAC", "the guest's MAC address (xx:xx:xx:xx:xx:xx)"},
    {'c', "config", "FILE",
     "take the guest port patterns from this policy's [guests]\n"
     "ports (default: vif* and tap*)"},
    {0},
};

const struct xg_cli xg_cli_vif = {
    .verb = "vif",
    .usage = "online IFACE --mac MAC --ip ADDR [--ip ADDR]...\noffline IFACE\nlist",
    .about = "Declare a guest port's addresses in the loaded table bridge xenguard (see\n"
             "'xenguard apply'). Once declared, every frame from the port with another source\n"
             "MAC, IPv4 or IPv6 address, ARP sender or neighbour-advertisement target is\n"
             "dropped (DHCP client requests and duplicate address detection still pass).\n"
             "'online' replaces whatever the port declared before, in one transaction;\n"
             "'offline' removes the port's declaration; 'list' prints the declared ports.\n"
             "The vif hotplug script vif-xenguard calls this with the ip and mac the\n"
             "toolstack wrote to xenstore.\n",
    .opts = options,
    .epilog = "IFACE is a guest port: vif* or tap* (or -c's [guests] ports). Exit status: 0\n"
              "done, 1 refused (nothing changed), 2 usage, 3 no guest table loaded. See\n"
              "xenguard-vif(8).\n",
};

/* The guest port patterns: a policy's [guests] ports (-c), else the defaults. */
struct ports {
    char copies[XG_MAX_GUEST_PORTS][XG_IFNAMSIZ];
    const char *names[XG_MAX_GUEST_PORTS];
    struct xg_vif_ports set;
};

static int load_ports(const char *config, struct ports *out)
{
    struct xg_policy p;
    struct xg_err err = {{0}};
    out->set = *xg_vif_default_ports();
    if (!config)
        return 0;
    if (xg_policy_load(config, &p, NULL, &err) < 0) {
        xg_err_print(stderr, "xenguard vif", &err);
        return -1;
    }
    for (size_t i = 0; i < p.guests.port_count; i++) {
        memcpy(out->copies[i], p.guests.ports[i], XG_IFNAMSIZ);
        out->names[i] = out->copies[i];
    }
    out->set = (struct xg_vif_ports){out->names, p.guests.port_count};
    xg_policy_free(&p);
    return 0;
}

/* 3: no guest table loaded (the hotplug script lets the guest start, with a warning). */
static int exit_code(int rc)
{
    return rc == XG_VIF_NOT_LOADED ? 3 : rc < 0 ? 1 : 0;
}

static void print_decl(const struct xg_vif_decl *d)
{
    printf("%s", d->ifname);
    for (size_t i = 0; i < d->mac_count; i++)
        printf(" mac %02x:%02x:%02x:%02x:%02x:%02x", d->macs[i][0], d->macs[i][1], d->macs[i][2],
               d->macs[i][3], d->macs[i][4], d->macs[i][5]);
    for (size_t i = 0; i < d->ips.count; i++) {
        char text[XG_PREFIX_STRLEN];
        xg_prefix_format(&d->ips.items[i], true, text);
        printf(" ip %s", text);
    }
    printf("%s\n", d->declared ? "" : " (not in " XG_BR_SET_DECLARED ": not enforced)");
}

static int do_list(void)
{
    struct xg_vif_list l;
    struct xg_err err = {{0}};
    int rc = xg_vif_loaded(&l, &err);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard vif", &err);
        return exit_code(rc);
    }
    for (size_t i = 0; i < l.count; i++)
        print_decl(&l.items[i]);
    xg_vif_list_free(&l);
    return 0;
}

static int do_online(const char *ifname, const char *const *ips, size_t ip_count, const char *mac,
                     const struct xg_vif_ports *ports)
{
    struct xg_vif_decl d;
    struct xg_err err = {{0}};
    int rc = xg_vif_decl_make(&d, ifname, ips, ip_count, mac, ports, &err);
    if (rc == 0)
        rc = xg_vif_online(&d, &err);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard vif online", &err);
        fprintf(stderr, "xenguard vif online: nothing was changed\n");
    } else {
        printf("xenguard: declared ");
        print_decl(&d);
    }
    xg_vif_decl_free(&d);
    return exit_code(rc);
}

static int do_offline(const char *ifname, const struct xg_vif_ports *ports)
{
    struct xg_err err = {{0}};
    bool had = false;
    int rc = xg_vif_check_ifname(ifname, ports, &err);
    if (rc == 0)
        rc = xg_vif_offline(ifname, &had, &err);
    if (rc < 0) {
        xg_err_print(stderr, "xenguard vif offline", &err);
        fprintf(stderr, "xenguard vif offline: nothing was changed\n");
        return exit_code(rc);
    }
    printf(had ? "xenguard: %s no longer declared\n" : "xenguard: %s had nothing declared\n",
           ifname);
    return 0;
}

int cmd_vif(int argc, char **argv)
{
    const char *ips[XG_VIF_MAX_IPS + 1], *mac = NULL, *config = NULL;
    size_t ip_count = 0;
    struct xg_cli_parser p;
    int c;
    xg_cli_begin(&p, &xg_cli_vif, argc, argv);
    while ((c = xg_cli_next(&p)) != -1) {
        if (c == 'c') {
            config = p.arg;
        } else if (c == O_IP && ip_count <= XG_VIF_MAX_IPS) {
            ips[ip_count++] = p.arg;
        } else if (c == O_IP) {
            return xg_cli_usage_error(&xg_cli_vif, "at most %d --ip per port", XG_VIF_MAX_IPS);
        } else if (c == O_MAC && !mac) {
            mac = p.arg;
        } else if (c == O_MAC) {
            return xg_cli_usage_error(&xg_cli_vif, "--mac given twice (a port has one MAC)");
        } else {
            return p.rc;
        }
    }
    struct ports ports;
    if (load_ports(config, &ports) < 0)
        return 1;
    int rest = argc - p.optind;
    const char *what = rest > 0 ? argv[p.optind] : "";
    if (!strcmp(what, "list") && rest == 1 && !ip_count && !mac)
        return do_list();
    if (!strcmp(what, "online") && rest == 2)
        return do_online(argv[p.optind + 1], ips, ip_count, mac, &ports.set);
    if (!strcmp(what, "offline") && rest == 2 && !ip_count && !mac)
        return do_offline(argv[p.optind + 1], &ports.set);
    if (!strcmp(what, "offline") && rest == 2)
        return xg_cli_usage_error(&xg_cli_vif, "offline takes no --ip or --mac");
    if (!*what)
        return xg_cli_usage_error(&xg_cli_vif, "missing operand (online, offline or list)");
    if (strcmp(what, "list") && strcmp(what, "online") && strcmp(what, "offline"))
        return xg_cli_usage_error(&xg_cli_vif, "'%s': expected online, offline or list", what);
    if (!strcmp(what, "list"))
        return xg_cli_usage_error(&xg_cli_vif, rest == 1 ? "list takes no --ip or --mac"
                                                         : "list takes no interface");
    return xg_cli_usage_error(&xg_cli_vif, "%s takes one interface", what);
}
