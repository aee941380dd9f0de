/*
 * host.h — everything the audit knows about one host, as plain data.
 *
 * Probes (src/probe/) fill this from a root directory; checks (src/check/)
 * read it and nothing else; reporters print the results. Every section has
 * a `present` flag: false means the evidence was not there (a captured root
 * without that file, a live host without Xen), and a check that needs it
 * answers "n/a", never "pass". Strings are owned by the model;
 * xg_host_free() releases everything.
 *
 * Configuration files that sshd, xend and xl read with "first value wins"
 * semantics are kept as ordered key/value lists (struct xg_kvlist) with the
 * file and line each value came from, so a finding can point at the line.
 */
#ifndef XG_MODEL_HOST_H
#define XG_MODEL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ir/ir.h"
#include "net/addr.h"

/* One setting with where it was written. */
struct xg_kv {
    char *key;
    char *value;
    char *file;
    unsigned line;
};

struct xg_kvlist {
    struct xg_kv *items;
    size_t count;
};

/* Append a copy; returns 0 or -1 (out of memory). */
int xg_kv_add(struct xg_kvlist *l, const char *key, const char *value, const char *file,
              unsigned line);
/* The first entry with this key (case-insensitive when `nocase`), or NULL. */
const struct xg_kv *xg_kv_find(const struct xg_kvlist *l, const char *key, bool nocase);
void xg_kv_free(struct xg_kvlist *l);

enum xg_toolstack {
    XG_TOOLSTACK_NONE,
    XG_TOOLSTACK_XEND, /* legacy xend / xm, xend-config.sxp */
    XG_TOOLSTACK_XL,   /* libxl / xl */
    XG_TOOLSTACK_XAPI, /* XAPI: XenServer, XCP-ng */
};
const char *xg_toolstack_name(enum xg_toolstack t);

/* A running process. */
struct xg_process {
    pid_t pid;
    char name[64]; /* /proc/PID/comm */
};

/* Bits of struct xg_host.socket_tables: which of /proc/net/{tcp,tcp6,udp,udp6} were read. */
enum { XG_SOCKTAB_TCP = 1, XG_SOCKTAB_TCP6 = 2, XG_SOCKTAB_UDP = 4, XG_SOCKTAB_UDP6 = 8 };

/*
 * IPV6_V6ONLY of an IPv6 socket. /proc/net/tcp6 cannot show it; `ss -l -n -e`
 * does (v6only:0/1, inode ino:N). A socket ss did not show takes the kernel's
 * default, net.ipv6.bindv6only (0 on Linux: dual-stack).
 */
enum xg_v6only {
    XG_V6ONLY_UNKNOWN, /* no ss line for this inode */
    XG_V6ONLY_YES,     /* IPv6 only */
    XG_V6ONLY_NO,      /* dual-stack: a wildcard [::] socket answers IPv4 too */
};

/* A listening (TCP) or bound (UDP) socket from /proc/net/{tcp,tcp6,udp,udp6}. */
struct xg_socket {
    uint8_t family;        /* 4 or 6 */
    uint8_t proto;         /* IPPROTO_TCP / IPPROTO_UDP */
    struct xg_prefix addr; /* local address (host prefix) */
    uint16_t port;
    unsigned long inode;
    char process[64]; /* "" when no /proc/PID/fd link names the inode */
    pid_t pid;
    /* when only systemd (pid 1) holds it: the enabled .socket unit that listens
     * there and the service it activates, e.g. "rpcbind.socket", "rpcbind.service" */
    char unit[64];
    char service[64];
    enum xg_v6only v6only; /* family 6 only; from ss */
};

/*
 * The versions the checks judge defaults by, and where each came from
 * ("sshd -V", "/var/lib/dpkg/status", "/etc/os-release", ...). NULL: unknown.
 */
struct xg_versions {
    char *os_id;         /* /etc/os-release ID, e.g. "debian", "centos", "xenenterprise" */
    char *os_id_like;    /* ID_LIKE, e.g. "rhel fedora" */
    char *os_version_id; /* VERSION_ID */
    char *os_name;       /* PRETTY_NAME */
    char *openssh;       /* "9.2p1" */
    char *openssh_source;
    int openssh_major, openssh_minor; /* 0.0 when unknown */
    char *xen_source;                 /* where h->xen_version came from */
    int xen_major, xen_minor;         /* 0.0 when unknown */
};

/* Password state of an account, from shadow (or passwd when shadow lacks it). */
enum xg_pw_state {
    XG_PW_UNKNOWN, /* no shadow entry, passwd says "x" */
    XG_PW_LOCKED,  /* "!", "*", "!!", "!hash"... */
    XG_PW_EMPTY,   /* "" : login without a password */
    XG_PW_USABLE,  /* a hash */
};

struct xg_account {
    char *name;
    uid_t uid;
    gid_t gid;
    char *home;
    char *shell;
    enum xg_pw_state pw;
    unsigned line; /* in passwd */
};

struct xg_group {
    char *name;
    gid_t gid;
    char **members;
    size_t member_count;
};

/* One sudoers user specification: "who host=(runas) cmds", who may be %group. */
struct xg_sudo_rule {
    char *who;
    char *file;
    unsigned line;
};

/* The network interfaces of `ip -j addr`. */
struct xg_iface {
    char name[16];
    struct xg_prefix_list addrs; /* host prefixes of each address */
};

/* A sysctl leaf of /proc/sys/net/ipv{4,6}/conf/IFACE/NAME. */
struct xg_sysctl {
    uint8_t family; /* 4 or 6 */
    char iface[16]; /* "all", "default" or an interface name */
    char name[32];  /* rp_filter, accept_source_route, accept_redirects */
    int value;
};

/* A filesystem object whose permissions matter. */
struct xg_path_perm {
    char *path; /* as on the host, e.g. "/etc/xen/xl.conf" */
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

/* An xl-style configuration file (xl.conf, a domain .cfg). */
struct xg_xlcfg_value {
    char *key;
    bool is_list;
    char **items; /* one item for a scalar */
    size_t count;
    unsigned line;
};

struct xg_xlcfg {
    char *path;
    struct xg_xlcfg_value *values;
    size_t count;
    bool autostart; /* linked from /etc/xen/auto/ */
};

/* The first value of KEY (a scalar, or the first list item), or NULL. */
const struct xg_xlcfg_value *xg_xlcfg_get(const struct xg_xlcfg *c, const char *key);
void xg_xlcfg_free(struct xg_xlcfg *c);

/* A running domain (xenstore, or `xl list -l`). */
struct xg_domain {
    unsigned domid;
    char *name;
};

/* A Linux bridge and its ports (/sys/class/net/BR/brif/). */
struct xg_bridge {
    char name[16];
    char (*ports)[16];
    size_t port_count;
};

/* Parts of the model a parse error can spoil: the checks over them report "error". */
enum xg_section {
    XG_SEC_SOCKETS,
    XG_SEC_ACCOUNTS,
    XG_SEC_SUDOERS,
    XG_SEC_SSHD,
    XG_SEC_XEND,
    XG_SEC_XL,
    XG_SEC_XENDOMAINS,
    XG_SEC_XAPI,
    XG_SEC_IFACES,
    XG_SEC_DOMAINS,
    XG_SEC_FIREWALL,
    XG_SEC_BRIDGES,
    XG_SEC_COUNT
};

struct xg_host {
    char *errors[XG_SEC_COUNT]; /* first parse error of each section, or NULL */
    char *root;                 /* "/" for the live host */
    bool live;
    bool unprivileged; /* the live host read without root: root-only files are unknown */
    /* "PATH: REASON" for each file or directory that exists but could not be read */
    char **unreadable;
    size_t unreadable_count;
    char *hostname; /* "" when unknown */

    /* Xen */
    bool xen_present;      /* /proc/xen or /sys/hypervisor says Xen */
    bool caps_present;     /* /proc/xen/capabilities readable */
    bool dom0;             /* "control_d" in capabilities */
    char *hypervisor_type; /* /sys/hypervisor/type, NULL if absent */
    char *
        xen_version; /* "4.17.3" from /sys/hypervisor/version/{major,minor,extra}, NULL if absent */
    enum xg_toolstack toolstack;
    char *toolstack_why;  /* the evidence for the detection */
    char *kernel_cmdline; /* /proc/cmdline */
    char *xen_cmdline;    /* xl info xen_commandline, NULL if unknown */
    bool domains_present;
    struct xg_domain *domains;
    size_t domain_count;

    /* sockets */
    int bindv6only;         /* /proc/sys/net/ipv6/bindv6only, -1 unknown */
    char *v6only_source;    /* "ss -l -n -e" (live), the captured ss output, or NULL */
    bool sockets_present;   /* at least one of /proc/net/{tcp,...} */
    unsigned socket_tables; /* XG_SOCKTAB_* of the tables that were read */
    bool procs_present;     /* /proc/PID/fd links were readable */
    struct xg_socket *sockets;
    size_t socket_count;
    /* every process, from /proc/PID/comm (daemons that do not listen, e.g. xenconsoled) */
    struct xg_process *processes;
    size_t process_count;

    /* accounts */
    bool passwd_present, shadow_present, group_present, sudoers_present;
    struct xg_account *accounts;
    size_t account_count;
    struct xg_group *groups;
    size_t group_count;
    struct xg_sudo_rule *sudo_rules;
    size_t sudo_rule_count;

    /* sshd effective settings (first value wins), keys lower-case; then the Match
     * blocks of the files ("match", "match:KEY"), as the parser keeps them */
    bool sshd_present;
    struct xg_kvlist sshd;
    /* where the global values came from: "sshd -T ..." (sshd's own effective
     * configuration, compiled-in vendor defaults included) or the parsed files */
    char *sshd_source;
    bool sshd_effective; /* true: from sshd -T, every keyword has its value */

    struct xg_versions versions;

    /* xend-config.sxp top-level (key value...) pairs, first value wins */
    bool xend_present;
    struct xg_kvlist xend;
    char **xend_api_servers; /* xen-api-server entries as "PORT-OR-ADDR AUTH" */
    size_t xend_api_server_count;

    /* xl */
    bool xlconf_present;
    struct xg_xlcfg xlconf;
    bool domcfgs_present; /* /etc/xen exists: the list below is complete (maybe empty) */
    struct xg_xlcfg *domcfgs;
    size_t domcfg_count;
    bool xendomains_present;
    struct xg_kvlist xendomains;

    /* XAPI: /etc/xapi.conf (+ .d), then the fields of this host's row of the
     * database as "db:FIELD" (file state.db, line of the row) */
    bool xapi_present;
    struct xg_kvlist xapi;
    char *xapi_uuid;       /* INSTALLATION_UUID of /etc/xensource-inventory, NULL if unknown */
    bool xapi_db_present;  /* /var/lib/xcp/state.db was read */
    size_t xapi_db_hosts;  /* host rows in it (one per pool member) */
    char *xapi_db_problem; /* why this host's row is not in the model (parse error with
                            * file:line, no inventory, UUID not found), or NULL */

    /* systemd: names of units enabled in /etc/systemd/system/ *.wants */
    bool units_present;
    char **units;
    size_t unit_count;

    /* sysctls */
    bool sysctl_present;
    struct xg_sysctl *sysctls;
    size_t sysctl_count;

    /* permissions */
    bool perms_present; /* /etc/xen was found */
    struct xg_path_perm *perms;
    size_t perm_count;

    /* interfaces (parsed from ip_addr_json) */
    bool ifaces_present;
    struct xg_iface *ifaces;
    size_t iface_count;

    /* the firewall as the kernel evaluates it: iptables-save, ip6tables-save and
     * `nft -j list ruleset` parsed once by the probe and combined by the analyzer's one rule
     * (xg_ruleset_from_evidence); present when any of the three was there */
    bool firewall_present;
    struct xg_ruleset firewall;
    char *ip_addr_json;

    /* bridges and their ports: live from /sys/class/net/BR/brif, captured in
     * xenguard/bridges.txt ("BRIDGE PORT..." lines); src/probe/bridges.c */
    bool bridges_present;
    struct xg_bridge *bridges;
    size_t bridge_count;
    /* the loaded table bridge xenguard with its vif sets (from the nft listing above),
     * and the guest ports its vif_declared holds */
    bool guests_table_present;
    char (*vif_declared)[16];
    size_t vif_declared_count;

    /* warnings met while probing (unparsable lines...), for the report */
    char **notes;
    size_t note_count;
};

void xg_host_note(struct xg_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record that PATH exists but could not be read (errno in err). */
void xg_host_unreadable_add(struct xg_host *h, const char *path, int err);
/* The first unreadable entry at or under PATH ("/etc/ssh" covers /etc/ssh/...), or NULL. */
const char *xg_host_unreadable(const struct xg_host *h, const char *path);
const struct xg_iface *xg_host_iface(const struct xg_host *h, const char *name);
const struct xg_account *xg_host_account(const struct xg_host *h, const char *name);
const struct xg_group *xg_host_group(const struct xg_host *h, const char *name);
/* value of a sysctl, or -1 when absent */
int xg_host_sysctl(const struct xg_host *h, uint8_t family, const char *iface, const char *name);
/*
 * Does this socket also answer IPv4? An IPv6 wildcard ([::]) socket without
 * IPV6_V6ONLY: v6only 0 in ss, or not shown by ss and net.ipv6.bindv6only not
 * 1 (Linux's default is 0; unknown counts as the default). `why` (may be
 * NULL) receives the evidence.
 */
bool xg_socket_dual_stack(const struct xg_host *h, const struct xg_socket *s, char *why,
                          size_t why_size);
/*
 * Does the host speak IPv6 at all? True when /proc/net/tcp6 or udp6 was read,
 * /proc/sys/net/ipv6/conf has entries, or an interface has an IPv6 address;
 * a kernel with IPv6 off has none of them.
 */
bool xg_host_has_ipv6(const struct xg_host *h);
/* The Xen version is at least major.minor: 1 yes, 0 no, -1 unknown. */
int xg_host_xen_at_least(const struct xg_host *h, int major, int minor);
void xg_host_free(struct xg_host *h);

#endif
