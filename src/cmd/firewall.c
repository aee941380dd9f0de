/*
 * firewall.c — `xenguard firewall`: policy file in, ruleset text out.
 *
 * policy (parse) -> IR (compile) -> text (backend). The ruleset is
 * rendered completely into memory first, so bad input never leaves half a
 * ruleset on stdout: an error prints one FILE:LINE:COL line to stderr and
 * nothing to stdout. Read-only: this verb never touches the kernel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "compile/compile.h"
#include "policy/policy.h"
#include "verbs.h"

enum format { FORMAT_NFT, FORMAT_IPTABLES, FORMAT_IP6TABLES, FORMAT_BRIDGE };

enum { O_CHECK = XG_CLI_LONG, O_NO_HOOK };

static const struct xg_opt options[] = {
    {'c', "config", "FILE", "policy file (default " XG_DEFAULT_POLICY_PATH ")"},
    {'f', "format", "F",
     "nft (default): `table inet xenguard` and the guests'\n"
     "`table bridge xenguard`, each replaced as a whole;\n"
     "iptables / ip6tables: input for\n"
     "`iptables-restore --noflush` (chains XENGUARD-*); bridge:\n"
     "the guests' table alone, nft text (iptables cannot filter\n"
     "bridge ports: with the iptables backend it is still nft)"},
    {O_NO_HOOK, "no-hook", NULL,
     "iptables formats: leave out the jumps from the built-in\n"
     "chains (when reloading chains that are already hooked)"},
    {O_CHECK, "check", NULL, "validate the policy and compile it, print nothing"},
    {'v', "verbose", NULL,
     "print the policy as xenguard understood it (canonical form)\n"
     "on stderr"},
    {0},
};

const struct xg_cli xg_cli_firewall = {
    .verb = "firewall",
    .usage = "[-c FILE] [-f nft|iptables|ip6tables|bridge] [--no-hook] [--check] [-v]",
    .about = "Compile the policy into a complete, default-reject firewall for this Dom0 and\n"
             "print it. Nothing is loaded: pipe it to `nft -f -`, or use `xenguard apply`.\n",
    .opts = options,
    .epilog = "Exit status: 0 success, 1 invalid policy, 2 usage error. See xenguard(8),\n"
              "xenguard.conf(5).\n",
};

static int render(const struct xg_ruleset *rs, enum format format, bool hook, struct xg_buf *out,
                  struct xg_err *err)
{
    switch (format) {
    case FORMAT_NFT:
        return xg_backend_nft(rs, out, err);
    case FORMAT_IPTABLES:
        return xg_backend_iptables_ex(rs, 4, hook, out, err);
    case FORMAT_IP6TABLES:
        return xg_backend_iptables_ex(rs, 6, hook, out, err);
    case FORMAT_BRIDGE: {
        struct xg_table *t = xg_guests_table(rs);
        struct xg_ruleset only = {.tables = &t, .table_count = t ? 1 : 0};
        return xg_backend_nft(&only, out, err);
    }
    }
    return -1;
}

int cmd_firewall(int argc, char **argv)
{
    const char *path = XG_DEFAULT_POLICY_PATH;
    enum format format = FORMAT_NFT;
    bool check = false, verbose = false, hook = true;
    struct xg_policy policy;
    struct xg_warnings warnings = {0};
    struct xg_ruleset rs = {0};
    struct xg_buf text = {0};
    struct xg_err err;
    int opt, rc = 1;

    struct xg_cli_parser p;
    xg_cli_begin(&p, &xg_cli_firewall, argc, argv);
    while ((opt = xg_cli_next(&p)) != -1) {
        switch (opt) {
        case 'c':
            path = p.arg;
            break;
        case 'f':
            if (!strcmp(p.arg, "nft"))
                format = FORMAT_NFT;
            else if (!strcmp(p.arg, "iptables"))
                format = FORMAT_IPTABLES;
            else if (!strcmp(p.arg, "ip6tables"))
                format = FORMAT_IP6TABLES;
            else if (!strcmp(p.arg, "bridge"))
                format = FORMAT_BRIDGE;
            else
                return xg_cli_usage_error(&xg_cli_firewall,
                                          "unknown format '%s' (nft, iptables, ip6tables, bridge)",
                                          p.arg);
            break;
        case O_CHECK:
            check = true;
            break;
        case O_NO_HOOK:
            hook = false;
            break;
        case 'v':
            verbose = true;
            break;
        default:
            return p.rc;
        }
    }
    if (xg_cli_operands(&p, 0, 0) < 0)
        return p.rc;

    if (xg_policy_load(path, &policy, &warnings, &err) < 0) {
        xg_err_print(stderr, NULL, &err);
        xg_warnings_free(&warnings);
        return 1;
    }
    for (size_t i = 0; i < warnings.count; i++)
        fprintf(stderr, "%s\n", warnings.lines[i]);

    if (xg_compile(&policy, &rs, &err) < 0 || render(&rs, format, hook, &text, &err) < 0) {
        xg_err_print(stderr, "xenguard firewall", &err);
        goto out;
    }
    if ((format == FORMAT_IPTABLES || format == FORMAT_IP6TABLES) && xg_guests_table(&rs))
        fprintf(stderr, "xenguard firewall: note: guest protection ([guests]) is nft's bridge "
                        "family, not iptables: see it with --format bridge; `xenguard apply "
                        "--backend iptables` loads it through nftables\n");
    if (format == FORMAT_BRIDGE && !xg_guests_table(&rs))
        fprintf(stderr, "xenguard firewall: note: [guests] protect = no: no guests' table\n");
    if (verbose) {
        char *canonical;
        if (xg_policy_print(&policy, &canonical) < 0) {
            fprintf(stderr, "xenguard firewall: out of memory\n");
            goto out;
        }
        /* on stderr: `firewall -v | nft -f -` loads only the ruleset */
        fprintf(stderr, "# %s as xenguard understands it\n%s", policy.path, canonical);
        free(canonical);
    }
    if (!check) {
        printf("# Generated by xenguard %s from %s (scenario %s). Do not edit: edit the policy.\n",
               XG_VERSION, policy.path, xg_scenario_name(policy.scenario));
        fputs(xg_buf_str(&text), stdout);
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    xg_buf_free(&text);
    xg_ruleset_free(&rs);
    xg_policy_free(&policy);
    xg_warnings_free(&warnings);
    return rc;
}
