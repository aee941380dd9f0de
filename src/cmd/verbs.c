/*
 * verbs.c — xenguard's verb table: { verb, function, one-line summary,
 * option table }.
 *
 * Like wg(8): main() looks the verb up here and `xenguard --help` is printed
 * from the same rows; test_cli walks the option tables to hold every verb to
 * one letter, one meaning. Adding a verb is one row here, one prototype in
 * verbs.h and one file in src/cmd/.
 */
#include "cmd/cli.h"
#include "verbs.h"

const struct xg_verb xg_verbs[] = {
    {"firewall", cmd_firewall, "compile the policy into an nftables or iptables-restore ruleset",
     &xg_cli_firewall},
    {"perimeter", cmd_perimeter, "compile the cluster router's perimeter firewall (forward path)",
     &xg_cli_perimeter},
    {"apply", cmd_apply, "load the policy's firewall atomically, rolled back unless confirmed",
     &xg_cli_apply},
    {"confirm", cmd_confirm, "keep the ruleset of a pending apply", &xg_cli_confirm},
    {"rollback", cmd_rollback, "restore the firewall from before the last apply", &xg_cli_rollback},
    {"status", cmd_status, "does the running firewall equal the policy? is an apply pending?",
     &xg_cli_status},
    {"harden", cmd_harden, "write hardened xend / sshd / sysctl configuration (diff first)",
     &xg_cli_harden},
    {"audit", cmd_audit, "check this Xen host (or a captured root) against every practice",
     &xg_cli_audit},
    {"fleet", cmd_fleet, "check a cluster from its members' audit reports (audit --format json)",
     &xg_cli_fleet},
    {"vif", cmd_vif, "declare a guest port's addresses (vif hotplug script: vif-xenguard)",
     &xg_cli_vif},
    {"capture", cmd_capture, "save what audit reads from this host into a directory",
     &xg_cli_capture},
    {"analyze", cmd_analyze, "exact answers about a real firewall: reach, matrix, spoofing, drift",
     &xg_cli_analyze},
    {"tunnel", cmd_tunnel, "send a migration over the TLS tunnel (xl migrate -s)", &xg_cli_tunnel},
    {"tunneld", cmd_tunneld, "receive migrations over the TLS tunnel", &xg_cli_tunneld},
    {"tunnel-keys", cmd_tunnel_keys, "make the tunnel's cluster CA and host certificates",
     &xg_cli_tunnel_keys},
};

const size_t xg_verb_count = sizeof(xg_verbs) / sizeof(xg_verbs[0]);
