/*
 * verbs.h — one entry point per verb; each lives in src/cmd/<verb>.c.
 *
 * The table of verbs is src/cmd/verbs.c. A verb gets argv with argv[0] = the verb's name, parses
 * its own options, does its job through the pipeline modules and returns the process exit code.
 * Verbs are the only code that prints to stdout/stderr.
 */
#ifndef XG_VERBS_H
#define XG_VERBS_H

#include "cmd/cli.h"

int cmd_firewall(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_confirm(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_harden(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_tunnel(int argc, char **argv);
int cmd_tunneld(int argc, char **argv);
int cmd_tunnel_keys(int argc, char **argv);
int cmd_perimeter(int argc, char **argv);
int cmd_vif(int argc, char **argv);

/* Each verb's option table (src/cmd/cli.h), beside its entry point. */
extern const struct xg_cli xg_cli_firewall;
extern const struct xg_cli xg_cli_perimeter;
extern const struct xg_cli xg_cli_apply;
extern const struct xg_cli xg_cli_confirm;
extern const struct xg_cli xg_cli_rollback;
extern const struct xg_cli xg_cli_status;
extern const struct xg_cli xg_cli_harden;
extern const struct xg_cli xg_cli_audit;
extern const struct xg_cli xg_cli_fleet;
extern const struct xg_cli xg_cli_vif;
extern const struct xg_cli xg_cli_capture;
extern const struct xg_cli xg_cli_analyze;
extern const struct xg_cli xg_cli_tunnel;
extern const struct xg_cli xg_cli_tunneld;
extern const struct xg_cli xg_cli_tunnel_keys;

#endif
