#!/usr/bin/env python3
"""build.py ROOT DIR — write one root of the audit corpus, as `xenguard capture` saves a host.

The roots are hosts as their distributions install them, built from the default files those
distributions ship (files/debian12/: extracted from Debian 12's xen-utils-common and
openssh-server packages with `apt-get download` + `dpkg-deb -x`; the CentOS/XCP-ng/Xen 4.2
files below are the active lines of the shipped files, with their source named). Each root has
its expected verdicts in ROOT.expected, written by hand from the spec and these defaults before
the audit was run on it (tests/e2e/audit_corpus.sh compares).

  debian12-xl   Debian 12 xl Dom0, Xen 4.17, OpenSSH 9.2p1, kernel and package defaults, an
                admin-written guest with pygrub and bootloader_restrict (ignored before 4.18)
  centos6-xend  CentOS 6 legacy xend Dom0, Xen 4.2 (Xen4CentOS) with Xen 4.2's shipped
                xend-config.sxp, CentOS 6's iptables defaults, no os-release
  xcpng82       XCP-ng 8.2 pool member: inventory, a state.db with two hosts, CentOS 7's
                sshd_config, XenServer's default iptables
  qubes-dom0    Qubes-style Dom0: loopback only, no sshd, no xendomains
  secrets-dom0  debian12-xl holding every secret a capture must leave out: sha512crypt and
                yescrypt hashes (usable, locked), an empty password, console passwords in
                domain configs, xend-config.sxp and `xl list -l`, XAPI's state.db with sessions
                and a pool secret, private keys under /etc/xen, /etc/xensource and
                /etc/xenguard/tunnel (tests/e2e/capture_secrets.sh)
Addresses are TEST-NET only. Files are owned by the caller (root in the tests).
"""
import ipaddress
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def w(root, rel, text, mode=0o644):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def copy(root, rel, src, mode=0o644):
    with open(os.path.join(HERE, "files", src)) as f:
        w(root, rel, f.read(), mode)


def mkdir(root, rel, mode=0o755):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)


def link(root, rel, target):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def hexaddr(addr):
    b = ipaddress.ip_address(addr).packed
    return "".join("%08X" % int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b), 4))


class Host:
    """Sockets as /proc/net/* and /proc/PID/fd show them, and ss -l -n -e when `ss` is kept."""

    def __init__(self, root):
        self.root, self.inode, self.pid = root, 50000, 900
        self.tables = {"tcp": [], "tcp6": [], "udp": [], "udp6": []}
        self.ss = []

    def process(self, name):
        self.pid += 1
        w(self.root, "/proc/%d/comm" % self.pid, name + "\n")
        return self.pid

    def listen(self, proto, addr, port, pid, v6only=None):
        six = ":" in addr
        t = self.tables[proto + ("6" if six else "")]
        self.inode += 1
        t.append("%4d: %s:%04X %s:0000 %s 00000000:00000000 00:00000000 00000000     0        0 "
                 "%d 1 0000000000000000 100 0 0 10 0" % (len(t), hexaddr(addr), port,
                                                         "0" * (32 if six else 8),
                                                         "0A" if proto == "tcp" else "07",
                                                         self.inode))
        fd = 3 + len(os.listdir(os.path.join(self.root, "proc/%d" % pid)))
        link(self.root, "/proc/%d/fd/%d" % (pid, fd), "socket:[%d]" % self.inode)
        if six and v6only is not None:
            self.ss.append("%s LISTEN 0 128 [%s]:%d [::]:* ino:%d sk:1 v6only:%d <->"
                           % (proto, addr, port, self.inode, v6only))

    def done(self, keep_ss, ipv6=True):
        if not ipv6:  # IPv6 off in the kernel: no tcp6/udp6 tables at all
            del self.tables["tcp6"], self.tables["udp6"]
        hdr = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        for t, lines in self.tables.items():
            w(self.root, "/proc/net/" + t, hdr + "".join(l + "\n" for l in lines))
        if keep_ss:
            w(self.root, "/xenguard/ss-listen.txt", "".join(l + "\n" for l in self.ss), 0o600)


def sysctls(root, ifaces, v4, v6):
    """v4/v6: {name: {iface-or-'*': value}}; every iface of ['all', 'default', 'lo'] + ifaces."""
    for fam, table in ((4, v4), (6, v6)):
        for i in ["all", "default", "lo"] + ifaces:
            for n, vals in table.items():
                w(root, "/proc/sys/net/ipv%d/conf/%s/%s" % (fam, i, n),
                  "%d\n" % vals.get(i, vals["*"]))


def ip_addr(root, ifaces):
    w(root, "/xenguard/ip-addr.json", json.dumps([
        {"ifname": n, "addr_info": [{"family": "inet6" if ":" in a else "inet", "local": a,
                                     "prefixlen": 64 if ":" in a else 24} for a in addrs]}
        for n, addrs in ifaces]), 0o600)


def xen(root, major, minor, extra, caps="control_d\n"):
    w(root, "/proc/xen/capabilities", caps, 0o444)
    w(root, "/sys/hypervisor/type", "xen\n")
    if major:
        w(root, "/sys/hypervisor/version/major", "%d\n" % major)
        w(root, "/sys/hypervisor/version/minor", "%d\n" % minor)
        w(root, "/sys/hypervisor/version/extra", extra + "\n")
    for d in ("privcmd", "evtchn", "gntdev", "xenbus"):
        w(root, "/dev/xen/" + d, "", 0o600)
    mkdir(root, "/var/run/xenstored")


def units(root, names):
    for u in names:
        link(root, "/etc/systemd/system/multi-user.target.wants/" + u, "/lib/systemd/system/" + u)


NFT_EMPTY = json.dumps({"nftables": [{"metainfo": {"version": "1.0.6", "release_name":
                                                   "Lester Gooch #5", "json_schema_version": 1}}]})

# ---- Debian 12 --------------------------------------------------------------------------

DEB_PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
games:x:5:60:games:/usr/games:/usr/sbin/nologin
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin
lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin
news:x:9:9:news:/var/spool/news:/usr/sbin/nologin
uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
backup:x:34:34:backup:/var/backups:/usr/sbin/nologin
list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin
irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
messagebus:x:100:107::/nonexistent:/usr/sbin/nologin
sshd:x:101:65534::/run/sshd:/usr/sbin/nologin
admin:x:1000:1000:admin,,,:/home/admin:/bin/bash
"""


def shadow_for(passwd, hashed):
    out = []
    for line in passwd.splitlines():
        name = line.split(":")[0]
        out.append("%s:%s:19700:0:99999:7:::" % (name, "$y$j9T$saltsalt$hashhashhashhashhashhashhashhashhashhash" if name in hashed else "*"))
    return "\n".join(out) + "\n"


def debian12_xl(root):
    h = Host(root)
    xen(root, 4, 17, ".5")
    w(root, "/proc/sys/kernel/hostname", "deb-dom0\n")
    w(root, "/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
      'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')
    w(root, "/var/lib/dpkg/status",
      "Package: openssh-server\nStatus: install ok installed\nPriority: optional\n"
      "Architecture: amd64\nSource: openssh\nVersion: 1:9.2p1-2+deb12u10\n\n"
      "Package: xen-utils-common\nStatus: install ok installed\nArchitecture: amd64\n"
      "Source: xen\nVersion: 4.17.7+13-g2445b30a44-0+deb12u1\n\n"
      "Package: xen-hypervisor-common\nStatus: install ok installed\nArchitecture: amd64\n"
      "Source: xen\nVersion: 4.17.7+13-g2445b30a44-0+deb12u1\n")
    w(root, "/xenguard/xl-info.txt", "host                   : deb-dom0\n"
      "xen_version            : 4.17.5\nxen_commandline        : placeholder dom0_mem=2G,max:2G\n", 0o600)
    copy(root, "/etc/xen/xl.conf", "debian12/xl.conf")
    copy(root, "/etc/default/xendomains", "debian12/xendomains")
    copy(root, "/etc/ssh/sshd_config", "debian12/sshd_config")
    mkdir(root, "/etc/ssh/sshd_config.d")
    w(root, "/usr/sbin/xl", "", 0o755)
    # an admin's guest, written from xl.cfg(5) of Xen 4.18: this 4.17 xl ignores the key
    w(root, "/etc/xen/guest1.cfg", 'name = "guest1"\ntype = "pv"\nmemory = 1024\n'
      'bootloader = "pygrub"\nbootloader_restrict = 1\n'
      "disk = [ 'phy:/dev/vg0/guest1,xvda,w' ]\nvif = [ 'bridge=xenbr0' ]\n")
    w(root, "/etc/passwd", DEB_PASSWD)
    w(root, "/etc/shadow", shadow_for(DEB_PASSWD, ("root", "admin")), 0o640)
    w(root, "/etc/group", "root:x:0:\ndaemon:x:1:\nsudo:x:27:\nusers:x:100:\n"
      "admin:x:1000:\nnogroup:x:65534:\n")
    units(root, ["ssh.service", "cron.service", "xen.service", "xendomains.service",
                 "xenstored.service", "xenconsoled.service", "networking.service"])
    for name in ("xenstored", "xenconsoled", "cron"):
        h.process(name)
    sshd = h.process("sshd")
    h.listen("tcp", "0.0.0.0", 22, sshd)
    h.listen("tcp", "::", 22, sshd, v6only=1)  # sshd sets IPV6_V6ONLY on its [::] socket
    h.done(keep_ss=True)
    w(root, "/proc/sys/net/ipv6/bindv6only", "0\n")
    # the kernel's defaults (Debian 12 sets none of these)
    sysctls(root, ["eth0"], {"rp_filter": {"*": 0}, "accept_source_route": {"*": 1, "all": 0},
                             "accept_redirects": {"*": 1}},
            {"accept_source_route": {"*": 0}, "accept_redirects": {"*": 1}})
    ip_addr(root, [("lo", ["127.0.0.1", "::1"]), ("eth0", ["198.51.100.20", "2001:db8::20"])])
    # nftables is installed and not enabled: nothing loaded
    w(root, "/xenguard/nft-ruleset.json", NFT_EMPTY, 0o600)
    w(root, "/xenguard/iptables-save.txt", "", 0o600)
    w(root, "/xenguard/ip6tables-save.txt", "", 0o600)


# ---- CentOS 6, legacy xend ---------------------------------------------------------------

# The active lines of Xen 4.2's tools/examples/xend-config.sxp (as installed by Xen4CentOS);
# every other line of the shipped file is a comment.
XEND_CONFIG_42 = """# -*- sh -*-
# Xend configuration file (Xen 4.2 tools/examples/xend-config.sxp, active lines)
(xend-unix-server yes)
(xend-relocation-hosts-allow '^localhost$ ^localhost\\\\.localdomain$')
(network-script )
(vif-script vif-bridge)
(dom0-min-mem 512)
(enable-dom0-ballooning yes)
(total_available_memory 0)
(dom0-cpus 0)
(vncpasswd '')
"""
# CentOS 6 / 7 /etc/ssh/sshd_config, active lines (PermitRootLogin is commented: "#PermitRootLogin yes")
SSHD_CENTOS = """Protocol 2
SyslogFacility AUTHPRIV
#PermitRootLogin yes
PasswordAuthentication yes
ChallengeResponseAuthentication no
GSSAPIAuthentication yes
GSSAPICleanupCredentials yes
UsePAM yes
AcceptEnv LANG LC_CTYPE LC_NUMERIC LC_TIME LC_COLLATE LC_MONETARY LC_MESSAGES
AcceptEnv LC_PAPER LC_NAME LC_ADDRESS LC_TELEPHONE LC_MEASUREMENT
AcceptEnv LC_IDENTIFICATION LC_ALL LANGUAGE
AcceptEnv XMODIFIERS
X11Forwarding yes
Subsystem	sftp	/usr/libexec/openssh/sftp-server
"""
RH_PASSWD = """root:x:0:0:root:/root:/bin/bash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
adm:x:3:4:adm:/var/adm:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/spool/mail:/sbin/nologin
operator:x:11:0:operator:/root:/sbin/nologin
games:x:12:100:games:/usr/games:/sbin/nologin
ftp:x:14:50:FTP User:/var/ftp:/sbin/nologin
nobody:x:99:99:Nobody:/:/sbin/nologin
dbus:x:81:81:System message bus:/:/sbin/nologin
postfix:x:89:89::/var/spool/postfix:/sbin/nologin
sshd:x:74:74:Privilege-separated SSH:/var/empty/sshd:/sbin/nologin
"""
RH_SUDOERS = """## Sudoers allows particular users to run various commands as
## the root user, without needing the root password. (CentOS default, active lines)
Defaults    requiretty
Defaults   !visiblepw
Defaults    always_set_home
Defaults    env_reset
Defaults    secure_path = /sbin:/bin:/usr/sbin:/usr/bin
root	ALL=(ALL) 	ALL
# %wheel	ALL=(ALL)	ALL
#includedir /etc/sudoers.d
"""
# CentOS 6's /etc/sysconfig/iptables and ip6tables as installed (system-config-firewall defaults)
IPT_CENTOS6 = """# Generated by iptables-save v1.4.7
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
COMMIT
"""
IP6T_CENTOS6 = """# Generated by ip6tables-save v1.4.7
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p ipv6-icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp6-adm-prohibited
-A FORWARD -j REJECT --reject-with icmp6-adm-prohibited
COMMIT
"""


def centos6_xend(root):
    h = Host(root)
    xen(root, 0, 0, "")  # no /sys/hypervisor/version in this capture: /boot tells
    w(root, "/boot/xen-4.2.5-38.el6.gz", "")
    w(root, "/proc/sys/kernel/hostname", "c6-dom0\n")
    w(root, "/etc/redhat-release", "CentOS release 6.10 (Final)\n")
    w(root, "/etc/xen/xend-config.sxp", XEND_CONFIG_42)
    w(root, "/etc/sysconfig/xendomains", 'XENDOMAINS_MIGRATE=""\nXENDOMAINS_SAVE=/var/lib/xen/save\n'
      'XENDOMAINS_RESTORE=true\nXENDOMAINS_AUTO=/etc/xen/auto\n')
    w(root, "/etc/ssh/sshd_config", SSHD_CENTOS, 0o600)
    w(root, "/etc/passwd", RH_PASSWD)
    w(root, "/etc/shadow", shadow_for(RH_PASSWD, ("root",)), 0o400)
    w(root, "/etc/group", "root:x:0:\nbin:x:1:\ndaemon:x:2:\nwheel:x:10:\nnobody:x:99:\n")
    w(root, "/etc/sudoers", RH_SUDOERS, 0o440)
    for name in ("xenstored", "xenconsoled", "xend", "master"):
        h.process(name)
    sshd = h.process("sshd")
    h.listen("tcp", "0.0.0.0", 22, sshd)
    h.listen("tcp", "::", 22, sshd)
    h.listen("tcp", "127.0.0.1", 25, h.process("master"))  # postfix, loopback
    h.done(keep_ss=False)  # CentOS 6's ss predates v6only: bindv6only decides
    w(root, "/proc/sys/net/ipv6/bindv6only", "0\n")
    # /etc/sysctl.conf of CentOS 6 sets default.rp_filter = 1, default.accept_source_route = 0
    sysctls(root, ["xenbr0", "eth0"],
            {"rp_filter": {"*": 1, "all": 0, "lo": 0}, "accept_source_route": {"*": 0, "lo": 1},
             "accept_redirects": {"*": 1}},
            {"accept_source_route": {"*": 0}, "accept_redirects": {"*": 1}})
    ip_addr(root, [("lo", ["127.0.0.1", "::1"]), ("eth0", []),
                   ("xenbr0", ["192.0.2.30", "2001:db8::30"])])
    w(root, "/xenguard/iptables-save.txt", IPT_CENTOS6, 0o600)
    w(root, "/xenguard/ip6tables-save.txt", IP6T_CENTOS6, 0o600)


# ---- XCP-ng 8.2 --------------------------------------------------------------------------

THIS = "3f2e1d0c-b9a8-4765-8432-10fedcba9876"
OTHER = "a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d"
# XenServer / XCP-ng's /etc/sysconfig/iptables as installed
IPT_XCPNG = """# Generated by iptables-save
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:RH-Firewall-1-INPUT - [0:0]
-A INPUT -j RH-Firewall-1-INPUT
-A FORWARD -j RH-Firewall-1-INPUT
-A RH-Firewall-1-INPUT -i lo -j ACCEPT
-A RH-Firewall-1-INPUT -p icmp -m icmp --icmp-type any -j ACCEPT
-A RH-Firewall-1-INPUT -i xenapi -p udp -m udp --dport 67 -j ACCEPT
-A RH-Firewall-1-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A RH-Firewall-1-INPUT -p udp -m conntrack --ctstate NEW -m udp --dport 694 -j ACCEPT
-A RH-Firewall-1-INPUT -p tcp -m conntrack --ctstate NEW -m tcp --dport 22 -j ACCEPT
-A RH-Firewall-1-INPUT -p tcp -m conntrack --ctstate NEW -m tcp --dport 80 -j ACCEPT
-A RH-Firewall-1-INPUT -p tcp -m conntrack --ctstate NEW -m tcp --dport 443 -j ACCEPT
-A RH-Firewall-1-INPUT -j REJECT --reject-with icmp-host-prohibited
COMMIT
"""


def xcpng82(root):
    h = Host(root)
    xen(root, 4, 13, ".5-9.40")
    w(root, "/proc/sys/kernel/hostname", "xcp-ng-a\n")
    w(root, "/etc/os-release", 'NAME="XCP-ng"\nVERSION="8.2.1"\nID="xenenterprise"\n'
      'ID_LIKE="centos rhel fedora"\nVERSION_ID="8.2.1"\nPRETTY_NAME="XCP-ng 8.2.1"\n')
    w(root, "/etc/xensource-inventory",
      "PRODUCT_BRAND='XCP-ng'\nPRODUCT_NAME='xenenterprise'\nPRODUCT_VERSION='8.2.1'\n"
      "PLATFORM_VERSION='3.2.1'\nBUILD_NUMBER='release/yangtze/master/58'\n"
      "INSTALLATION_UUID='%s'\nCONTROL_DOMAIN_UUID='0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9'\n"
      "MANAGEMENT_INTERFACE='xenbr0'\nMANAGEMENT_ADDRESS_TYPE='IPv4'\n" % THIS)
    # the pool's database, as every member keeps it: the other member (the master, already
    # switched to https-only) comes first; this host still answers HTTP
    w(root, "/var/lib/xcp/state.db",
      '<?xml version="1.0" encoding="UTF-8"?>\n<database>'
      '<manifest><pair key="schema_major_vsn" value="5"/><pair key="schema_minor_vsn" '
      'value="604"/><pair key="generation_count" value="4242"/></manifest>\n'
      '<table name="pool"><row ref="OpaqueRef:p1" uuid="77777777-8888-4999-aaaa-bbbbbbbbbbbb" '
      'name__label="pool-a" master="OpaqueRef:h2"/></table>\n'
      '<table name="host">\n'
      '<row ref="OpaqueRef:h2" uuid="%s" hostname="xcp-ng-b" name__label="xcp-ng-b" '
      'https_only="true" address="192.0.2.41"/>\n'
      '<row ref="OpaqueRef:h1" uuid="%s" hostname="xcp-ng-a" name__label="xcp-ng-a" '
      'https_only="false" address="192.0.2.40"/>\n'
      '</table>\n</database>\n' % (OTHER, THIS), 0o600)
    w(root, "/etc/xapi.conf", "# xapi.conf (abridged)\ninventory = /etc/xensource-inventory\n"
      "use-switch = false\nhttp-limit-max-rpc-size = 307200\n")
    mkdir(root, "/etc/xensource")
    mkdir(root, "/etc/xen/scripts")
    w(root, "/etc/ssh/sshd_config", SSHD_CENTOS.replace("Protocol 2\n", "HostKey /etc/ssh/ssh_host_rsa_key\n"), 0o600)
    w(root, "/etc/passwd", RH_PASSWD)
    w(root, "/etc/shadow", shadow_for(RH_PASSWD, ("root",)), 0o000)
    w(root, "/etc/group", "root:x:0:\nbin:x:1:\ndaemon:x:2:\nwheel:x:10:\nnobody:x:99:\n")
    w(root, "/etc/sudoers", RH_SUDOERS, 0o440)
    units(root, ["xapi.service", "sshd.service", "rpcbind.service", "xcp-rrdd.service",
                 "xenopsd-xc.service", "xcp-networkd.service", "squeezed.service"])
    for name in ("oxenstored", "xenconsoled", "xcp-rrdd", "xenopsd-xc", "squeezed"):
        h.process(name)
    xapi, stunnel, sshd, rpcbind = (h.process(n) for n in ("xapi", "stunnel", "sshd", "rpcbind"))
    h.listen("tcp", "0.0.0.0", 80, xapi)
    h.listen("tcp", "0.0.0.0", 443, stunnel)
    h.listen("tcp", "0.0.0.0", 22, sshd)
    h.listen("tcp", "0.0.0.0", 111, rpcbind)
    h.listen("udp", "0.0.0.0", 111, rpcbind)
    h.done(keep_ss=True, ipv6=False)
    # IPv6 is off in XCP-ng 8.2's Dom0: no tcp6 table content, no ipv6 conf
    sysctls(root, ["xenbr0", "eth0"], {"rp_filter": {"*": 0}, "accept_source_route": {"*": 1, "all": 0},
                                       "accept_redirects": {"*": 1}}, {})
    ip_addr(root, [("lo", ["127.0.0.1"]), ("eth0", []), ("xenbr0", ["192.0.2.40"])])
    w(root, "/xenguard/iptables-save.txt", IPT_XCPNG, 0o600)


# ---- Qubes-style Dom0 --------------------------------------------------------------------

def qubes_dom0(root):
    h = Host(root)
    xen(root, 4, 17, ".4")
    w(root, "/proc/sys/kernel/hostname", "dom0\n")
    w(root, "/etc/os-release", 'NAME=Qubes\nVERSION="4.2.3 (R4.2)"\nID=qubes\nVERSION_ID=4.2\n'
      'PRETTY_NAME="Qubes OS 4.2.3 (R4.2)"\n')
    w(root, "/xenguard/xl-info.txt", "host                   : dom0\nxen_version            : 4.17.4\n"
      "xen_commandline        : placeholder console=none dom0_mem=min:1024M dom0_mem=max:4096M "
      "ucode=scan smt=off gnttab=max_frames:2048\n", 0o600)
    w(root, "/etc/xen/xl.conf", "# Qubes: libvirt starts the domains\nautoballoon=\"off\"\n")
    w(root, "/usr/sbin/xl", "", 0o755)
    passwd = ("root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n"
              "daemon:x:2:2:daemon:/sbin:/sbin/nologin\nnobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin\n"
              "qubes:x:998:998::/var/lib/qubes:/sbin/nologin\nuser:x:1000:1000:user:/home/user:/bin/bash\n")
    w(root, "/etc/passwd", passwd)
    w(root, "/etc/shadow", "root:!locked::0:99999:7:::\nbin:*:19700:0:99999:7:::\n"
      "daemon:*:19700:0:99999:7:::\nnobody:*:19700:0:99999:7:::\nqubes:!!:19700::::::\n"
      "user:$6$saltsalt$hashhashhash:19700:0:99999:7:::\n", 0o000)
    w(root, "/etc/group", "root:x:0:\nwheel:x:10:user\nqubes:x:998:user\nuser:x:1000:\n")
    w(root, "/etc/sudoers", "root ALL=(ALL) ALL\n%wheel ALL=(ALL) ALL\n#includedir /etc/sudoers.d\n", 0o440)
    units(root, ["qubesd.service", "qubes-qmemman.service", "libvirtd.service",
                 "xenstored.service", "xenconsoled.service"])
    for name in ("xenstored", "xenconsoled", "qubesd", "libvirtd"):
        h.process(name)
    h.done(keep_ss=True)
    sysctls(root, [], {"rp_filter": {"*": 0}, "accept_source_route": {"*": 1, "all": 0},
                       "accept_redirects": {"*": 1}},
            {"accept_source_route": {"*": 0}, "accept_redirects": {"*": 1}})
    ip_addr(root, [("lo", ["127.0.0.1", "::1"])])
    w(root, "/xenguard/nft-ruleset.json", NFT_EMPTY, 0o600)


# ---- a Dom0 full of secrets (for `xenguard capture`) ---------------------------------------

# Every secret below is unique text, so the test can grep the capture for each one.
SECRET_PASSWD = DEB_PASSWD + "olduser:x:1001:1001::/home/olduser:/bin/bash\n" \
    "kiosk:x:1002:1002::/home/kiosk:/bin/bash\n"
SECRET_SHADOW = (
    "root:$6$rootSALTq9Zr$FmT0wGqG8r2yF3nq7yXk1mS1d4uGv9yJ2k5bQ0Zk7w3jP6xH8eR1tY4uI7oP2aS5dF8gH1jK4lZ7xC0vB3nM6.:19700:0:99999:7:::\n"
    "admin:$y$j9T$adminSALTx7Qw$Yk4p0v5bK8dW2sH6qL9mZ3tR7cN1fJ5gX8aE2uV6yB0:19700:0:99999:7:::\n"
    "olduser:!$6$lockSALTp3Lm$Q2w4e6r8t0y2u4i6o8p0a2s4d6f8g0h2j4k6l8z0x2c4v6b8n0m2Q4W6E8R0T2Y4U6I8O0P2A4S6D8F0.:19700:0:99999:7:::\n"
    "kiosk::19700:0:99999:7:::\n")
VNC_XL = "xl-vnc-Pa55word"
VNC_VFB = "vfb-vnc-Pa55word"
SPICE_XL = "spice-Pa55word"
VNC_XEND = "xend-vnc-Pa55word"
VNC_LIST = "running-vnc-Pa55word"
VNC_TDB = "xenstore-vnc-Pa55word"
XAPI_SESSION = "SessionSecret-7f3e2a"
XAPI_POOL = "PoolToken-93c1d7"
PEM_KEY = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx9KeyMaterialNotReal0123456789abcdefghij\n"
           "-----END RSA PRIVATE KEY-----\n")


def secrets_dom0(root):
    debian12_xl(root)
    w(root, "/etc/passwd", SECRET_PASSWD)
    # every account of Debian's passwd keeps its '*', then the ones that hold secrets
    base = "".join("%s:*:19700:0:99999:7:::\n" % l.split(":")[0] for l in DEB_PASSWD.splitlines()
                   if l.split(":")[0] not in ("root", "admin"))
    w(root, "/etc/shadow", SECRET_SHADOW + base, 0o640)
    w(root, "/etc/group", "root:x:0:\nsudo:x:27:admin\nusers:x:100:\nadmin:x:1000:\n"
      "olduser:$6$grpSALT$grouphash:1001:\nkiosk:x:1002:\nnogroup:x:65534:\n")
    # two guests: one console with passwords (pass), one open (fail)
    w(root, "/etc/xen/hvm1.cfg", 'name = "hvm1"\ntype = "hvm"\nmemory = 2048\n'
      '# vncpasswd = "%s" (the old one)\nvnc = 1\nvnclisten = "127.0.0.1"\n'
      'vncpasswd = "%s"\nspice = 1\nspicehost = "127.0.0.1"\nspicepasswd = "%s"\n'
      "disk = [ 'phy:/dev/vg0/hvm1,xvda,w' ]\n" % (VNC_XL, VNC_XL, SPICE_XL), 0o600)
    w(root, "/etc/xen/pv1.cfg", 'name = "pv1"\ntype = "pv"\nmemory = 1024\n'
      "vfb = [ 'vnc=1,vnclisten=0.0.0.0,vncpasswd=%s' ]\n"
      "disk = [ 'phy:/dev/vg0/pv1,xvda,w' ]\n" % VNC_VFB)
    w(root, "/etc/xen/pv2.cfg", 'name = "pv2"\ntype = "pv"\nmemory = 1024\n'
      "vfb = [ 'vnc=1,vnclisten=127.0.0.1,vncpasswd=' ]\n")
    link(root, "/etc/xen/auto/hvm1.cfg", "/etc/xen/hvm1.cfg")
    w(root, "/etc/xen/xend-config.sxp", XEND_CONFIG_42.replace("(vncpasswd '')",
                                                              "(vncpasswd '%s')" % VNC_XEND))
    # xenstored's database, where qemu's console passwords live too
    w(root, "/var/run/xenstored/tdb", "TDB file\n/vm/1234/vncpasswd\n%s\n" % VNC_TDB, 0o640)
    w(root, "/etc/xen/xmlrpc.key", PEM_KEY, 0o600)
    w(root, "/etc/xen/xmlrpc.crt", "-----BEGIN CERTIFICATE-----\nMIIBnotreal\n"
      "-----END CERTIFICATE-----\n", 0o644)
    w(root, "/etc/xen/auth/guest-keys.pem", PEM_KEY.replace("RSA ", ""), 0o644)
    w(root, "/etc/xenguard/tunnel/key.pem", PEM_KEY.replace("RSA ", "EC "), 0o600)
    w(root, "/etc/ssh/ssh_host_ed25519_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n"
      "-----END OPENSSH PRIVATE KEY-----\n", 0o600)
    w(root, "/xenguard/xl-list.json", json.dumps([
        {"domid": 0, "config": {"c_info": {"name": "Domain-0"}}},
        {"domid": 3, "config": {"c_info": {"name": "hvm1"}, "b_info": {"type.hvm": {
            "vnc": {"enable": "True", "listen": "127.0.0.1", "passwd": VNC_LIST},
            "spice": {"enable": "True", "passwd": SPICE_XL}}}}}], indent=4), 0o600)
    # XAPI pieces: the inventory, a database with sessions and secrets, the pool token
    w(root, "/etc/xensource-inventory", "INSTALLATION_UUID='%s'\n" % THIS)
    w(root, "/etc/xensource/ptoken", XAPI_POOL + "\n", 0o600)
    w(root, "/etc/xensource/xapi-ssl.pem", PEM_KEY, 0o400)
    w(root, "/etc/xapi.conf", "migration-https-only = true\n")
    w(root, "/var/lib/xcp/state.db",
      '<?xml version="1.0" encoding="UTF-8"?>\n<database>'
      '<manifest><pair key="schema_major_vsn" value="5"/></manifest>\n'
      '<table name="session"><row ref="OpaqueRef:s1" uuid="5e55" this_host="OpaqueRef:h1" '
      'auth_user_sid="root" session_secret="%s"/></table>\n'
      '<table name="pool"><row ref="OpaqueRef:p1" uuid="p" other_config="((&apos;pool_secret&apos; '
      '&apos;%s&apos;))"/></table>\n'
      '<table name="secret"><row ref="OpaqueRef:sec" uuid="sec" value="%s"/></table>\n'
      '<table name="VM"><row ref="OpaqueRef:vm" uuid="vm" platform="((&apos;vnc_password&apos; '
      '&apos;%s&apos;))"/></table>\n'
      '<table name="host"><row ref="OpaqueRef:h1" uuid="%s" hostname="deb-dom0" '
      'https_only="true" other_config="((&apos;xapi_secret&apos; &apos;%s&apos;))"/></table>\n'
      '</database>\n' % (XAPI_SESSION, XAPI_POOL, XAPI_SESSION, VNC_LIST, THIS, XAPI_POOL), 0o600)


ROOTS = {"debian12-xl": debian12_xl, "secrets-dom0": secrets_dom0, "centos6-xend": centos6_xend, "xcpng82": xcpng82,
         "qubes-dom0": qubes_dom0}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ROOTS:
        sys.exit("usage: build.py {%s} DIR" % ",".join(ROOTS))
    os.makedirs(sys.argv[2], exist_ok=True)
    ROOTS[sys.argv[1]](sys.argv[2])
