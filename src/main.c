/*
 * main.c — xenguard's dispatch table.
 *
 * Like wg(8): a table of { verb, function, one-line description }; main()
 * looks the verb up and `xenguard --help` is printed from the same table.
 * Adding a verb is one row here, one prototype in verbs.h and one file in
 * src/cmd/.
 */
#include <stdio.h>
#include <string.h>

#include "verbs.h"

#ifndef XG_VERSION
#define XG_VERSION "unknown"
#endif

struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct verb verbs[] = {
    {"firewall", cmd_firewall, "compile the policy into an nftables or iptables-restore ruleset"},
    {"perimeter", cmd_perimeter, "compile the cluster router's perimeter firewall (forward path)"},
    {"apply", cmd_apply, "load the policy's firewall atomically, rolled back unless confirmed"},
    {"confirm", cmd_confirm, "keep the ruleset of a pending apply"},
    {"rollback", cmd_rollback, "restore the firewall from before the last apply"},
    {"status", cmd_status, "does the running firewall equal the policy? is an apply pending?"},
    {"harden", cmd_harden, "write hardened xend / sshd / sysctl configuration (diff first)"},
    {"audit", cmd_audit, "check this Xen host (or a captured root) against every practice"},
    {"fleet", cmd_fleet, "check a cluster from its members' audit reports (audit --format json)"},
    {"vif", cmd_vif, "declare a guest port's addresses (vif hotplug script: vif-xenguard)"},
    {"capture", cmd_capture, "save what audit reads from this host into a directory"},
    {"analyze", cmd_analyze, "exact answers about a real firewall: reach, matrix, spoofing, drift"},
    {"tunnel", cmd_tunnel, "send a migration over the TLS tunnel (xl migrate -s)"},
    {"tunneld", cmd_tunneld, "receive migrations over the TLS tunnel"},
    {"tunnel-keys", cmd_tunnel_keys, "make the tunnel's cluster CA and host certificates"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: xenguard VERB [OPTIONS]\n"
                 "       xenguard VERB --help\n"
                 "       xenguard --version\n\n"
                 "Secure a Xen host as the \"Securing Xen\" chapter of the Xen manual asks.\n\n"
                 "Verbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\nSee xenguard(8) and xenguard.conf(5).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (!strcmp(argv[1], "help") && argc > 2) {
            char *help_argv[] = {argv[2], "--help", NULL};
            for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                if (!strcmp(verbs[i].name, argv[2]))
                    return verbs[i].run(2, help_argv);
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("xenguard %s\n", XG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(verbs[i].name, argv[1]))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "xenguard: unknown verb '%s' (try 'xenguard --help')\n", argv[1]);
    return 2;
}
