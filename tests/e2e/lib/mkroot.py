#!/usr/bin/env python3
"""mkroot.py FIXTURE DIR — write a fixture root for `xenguard audit --root DIR`.

Fixtures (each a host as `xenguard capture` would have saved it):
  xl-isolated    Debian 12 xl Dom0 hardened for the isolated-management scenario
  xl-firewalled  Debian 12 xl Dom0 hardened for the firewalled-subnet scenario
  xl-untrusted   Debian 12 xl Dom0 hardened for the untrusted scenario (tunnel)
  xl-insecure    Debian 12 xl Dom0 left insecure
  xend-legacy    legacy xend host: relocation open to all, hosts-allow '.*'
  xend-hardened  legacy xend host with relocation locked down per firewalled-subnet
  xcpng          XCP-ng host as installed (http open, migration in clear text)
  xcpng-hardened XCP-ng host hardened
  domu           a Xen guest (no control_d)
  empty          nothing at all (every check must be n/a)
  rp-all-only    nothing but /proc/sys/net/ipv4/conf/all/rp_filter = 1
  rp-only        every interface's rp_filter, and no other sysctl at all
  qubes-dom0     an xl Dom0 with loopback only (its network lives in a guest), bad sysctls
  xend-names     xend-hardened whose hosts-allow adds the name ^localhost$
  xend-spaces    xend-hardened whose hosts-allow has a doubled space (an empty pattern)
  xl-mig-ssh     xl-firewalled (transport ssh), an accept-all firewall, nothing on 8002
  xl-mig-socat   xl-mig-ssh plus a socat listening on 0.0.0.0:8002
  hostile-bytes  xl-isolated with an account whose name holds invalid UTF-8 and escapes
  xl-activated   xl-isolated where systemd holds ssh.socket (allowed) and rpcbind.socket
A policy, when the fixture has one, is written to DIR/etc/xenguard/xenguard.conf.
Addresses are TEST-NET only. Files are owned by the caller (root in the tests).
"""
import ipaddress
import json
import os
import sys


def w(root, rel, text, mode=0o644):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def link(root, rel, target):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def hexaddr(addr):
    a = ipaddress.ip_address(addr)
    b = a.packed
    # the kernel prints each 32-bit word as %08X of its in-memory (little-endian) value
    return "".join("%08X" % int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b), 4))


class Host:
    def __init__(self, root):
        self.root = root
        self.sockets = {"tcp": [], "tcp6": [], "udp": [], "udp6": []}
        self.inode = 40000
        self.pid = 700

    def listen(self, proto, addr, port, process):
        fam6 = ":" in addr
        table = proto + ("6" if fam6 else "")
        self.inode += 1
        self.pid += 1
        st = "0A" if proto == "tcp" else "07"
        self.sockets[table].append("%4d: %s:%04X %s:0000 %s 00000000:00000000 00:00000000 "
                                   "00000000     0        0 %d 1 0000000000000000 100 0 0 10 0"
                                   % (len(self.sockets[table]), hexaddr(addr), port,
                                      "0" * (32 if fam6 else 8), st, self.inode))
        w(self.root, "/proc/%d/comm" % self.pid, process + "\n")
        link(self.root, "/proc/%d/fd/3" % self.pid, "socket:[%d]" % self.inode)

    def write_sockets(self):
        hdr = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
               "   uid  timeout inode\n")
        for t, lines in self.sockets.items():
            w(self.root, "/proc/net/" + t, hdr + "".join(l + "\n" for l in lines))


def sysctls(root, ifaces, rp, src_route, redirects):
    for fam, names in ((4, ("rp_filter", "accept_source_route", "accept_redirects")),
                       (6, ("accept_source_route", "accept_redirects"))):
        for i in ["all", "default", "lo"] + ifaces:
            for n in names:
                v = {"rp_filter": rp, "accept_source_route": src_route,
                     "accept_redirects": redirects}[n]
                val = v.get(i, v["*"]) if isinstance(v, dict) else v
                w(root, "/proc/sys/net/ipv%d/conf/%s/%s" % (fam, i, n), "%d\n" % val)


def ip_addr(root, ifaces):
    out = []
    for name, addrs in ifaces:
        out.append({"ifname": name, "addr_info": [
            {"family": "inet6" if ":" in a else "inet", "local": a,
             "prefixlen": 64 if ":" in a else 24} for a in addrs]})
    w(root, "/xenguard/ip-addr.json", json.dumps(out), 0o600)


PASSWD_BASE = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
_chrony:x:101:103:Chrony daemon,,,:/var/lib/chrony:/usr/sbin/nologin
sshd:x:102:65534::/run/sshd:/usr/sbin/nologin
xen-qemuuser-shared:x:103:104::/var/lib/xen:/usr/sbin/nologin
"""
SHADOW_BASE = """root:$y$j9T$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCDE:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
bin:*:19700:0:99999:7:::
sys:*:19700:0:99999:7:::
sync:*:19700:0:99999:7:::
nobody:*:19700:0:99999:7:::
_chrony:!:19700::::::
sshd:!:19700::::::
xen-qemuuser-shared:!:19700::::::
"""
GROUP_BASE = """root:x:0:
daemon:x:1:
sudo:x:27:%s
users:x:100:
_chrony:x:103:
xen-qemuuser-shared:x:104:
nogroup:x:65534:
"""
SUDOERS = """# /etc/sudoers (Debian 12)
Defaults	env_reset
Defaults	secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
root	ALL=(ALL:ALL) ALL
%sudo	ALL=(ALL:ALL) ALL
@includedir /etc/sudoers.d
"""
SSHD_MAIN = """# Debian 12 sshd_config
Include /etc/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def debian_xl(root, h, admin, flask=True, daemons=("xenstored", "xenconsoled")):
    w(root, "/proc/sys/kernel/hostname", "dom0-a\n")
    w(root, "/proc/xen/capabilities", "control_d\n", 0o444)
    w(root, "/sys/hypervisor/type", "xen\n")
    w(root, "/sys/hypervisor/version/major", "4\n")
    w(root, "/sys/hypervisor/version/minor", "17\n")
    w(root, "/sys/hypervisor/version/extra", ".3\n")
    w(root, "/proc/cmdline", "placeholder root=/dev/xvda1 ro quiet\n")
    # the toolstack's daemons, which listen on no TCP/UDP socket
    for pid, name in enumerate(daemons, start=40):
        w(root, "/proc/%d/comm" % pid, name + "\n")
    w(root, "/xenguard/xl-info.txt",
      "host                   : dom0-a\nxen_version            : 4.17.3\n"
      "xen_commandline        : placeholder dom0_mem=2048M,max:2048M%s\n"
      % (" flask=enforcing" if flask else ""), 0o600)
    w(root, "/xenguard/xl-list.json", json.dumps([
        {"domid": 0, "config": {"c_info": {"name": "Domain-0"}}},
        {"domid": 3, "config": {"c_info": {"name": "vm1"}}}]), 0o600)
    w(root, "/etc/xen/xl.conf", "# xl.conf\nautoballoon=\"off\"\nvif.default.bridge=\"xenbr0\"\n")
    w(root, "/usr/sbin/xl", "", 0o755)
    os.makedirs(os.path.join(root, "dev/xen"), exist_ok=True)
    for d in ("privcmd", "evtchn", "gntdev", "xenbus"):
        w(root, "/dev/xen/" + d, "", 0o600)
    os.makedirs(os.path.join(root, "var/run/xenstored"), exist_ok=True)
    os.chmod(os.path.join(root, "var/run/xenstored"), 0o755)
    w(root, "/etc/passwd", PASSWD_BASE + ("%s:x:1000:1000:%s:/home/%s:/bin/bash\n"
                                          % (admin, admin, admin) if admin else ""))
    w(root, "/etc/shadow", SHADOW_BASE + ("%s:$y$j9T$zzzz$yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy:19700:0:99999:7:::\n"
                                          % admin if admin else ""), 0o640)
    w(root, "/etc/group", GROUP_BASE % (admin or "") + ("%s:x:1000:\n" % admin if admin else ""))
    w(root, "/etc/sudoers", SUDOERS, 0o440)
    os.makedirs(os.path.join(root, "etc/sudoers.d"), exist_ok=True)
    w(root, "/etc/sudoers.d/README", "# files with a '.' are skipped by sudo: bob ALL=(ALL) ALL\n",
      0o440)
    w(root, "/etc/ssh/sshd_config", SSHD_MAIN)
    for u in ("ssh.service", "chrony.service", "xen.service", "xendomains.service",
              "xenstored.service", "xenconsoled.service"):
        link(root, "/etc/systemd/system/multi-user.target.wants/" + u, "/lib/systemd/system/" + u)


def hardened_common(root, h, ifaces, mgmt_addr, policy, extra_listeners=()):
    debian_xl(root, h, "alice")
    w(root, "/etc/ssh/sshd_config.d/xenguard.conf",
      "# hardened by the administrator\nPermitRootLogin no\nPasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\nListenAddress %s\nAllowUsers alice\n" % mgmt_addr)
    # a later contrary value is dead text: sshd keeps the first
    with open(os.path.join(root, "etc/ssh/sshd_config"), "a") as f:
        f.write("PasswordAuthentication yes\nPermitRootLogin yes\n")
    w(root, "/etc/xen/vm1.cfg",
      "name = \"vm1\"\ntype = \"pv\"\nmemory = 1024\nbootloader = \"pygrub\"\n"
      "bootloader_restrict = 1\nvif = [ 'bridge=xenbr0' ]\n"
      "vfb = [ 'vnc=1,vnclisten=127.0.0.1,vncpasswd=s3cret' ]\n"
      "disk = [ '/dev/vg0/vm1,raw,xvda,rw' ]\n")
    w(root, "/etc/xen/vm2.cfg",
      "name = 'vm2'; type = 'hvm'; memory = 2048\nvnc = 1\nvnclisten = '127.0.0.1'\n"
      "vncpasswd = 'an0ther'\nspice = 0\n")
    link(root, "/etc/xen/auto/vm1.cfg", "/etc/xen/vm1.cfg")
    # Xen 4.17 ignores bootloader_restrict (from 4.18): xl needs the variable (XSA-443)
    w(root, "/etc/default/xendomains", "XENDOMAINS_SAVE=/var/lib/xen/save\nXENDOMAINS_MIGRATE=\"\"\n"
      "export LIBXL_BOOTLOADER_RESTRICT=1\n")
    sysctls(root, [i for i, _ in ifaces], 1, 0, 0)
    ip_addr(root, [("lo", ["127.0.0.1", "::1"])] + ifaces)
    h.listen("tcp", mgmt_addr, 22, "sshd")
    h.listen("udp", "127.0.0.1", 323, "chronyd")
    h.listen("udp", "::1", 323, "chronyd")
    h.listen("udp", "0.0.0.0", 68, "dhclient")
    h.listen("tcp", "127.0.0.1", 5900, "qemu-system-i38")
    for l in extra_listeners:
        h.listen(*l)
    w(root, "/etc/xenguard/xenguard.conf", policy, 0o600)


POL_ISO = """[host]
scenario = isolated-management
public-interface = eth0
management-interface = eth1
[cluster]
peers = 192.0.2.11 192.0.2.12
networks = 192.0.2.0/24
[migration]
transport = ssh
[admin]
ssh-from = 192.0.2.0/24
users = alice
"""
POL_FW = """[host]
scenario = firewalled-subnet
public-interface = eth0
gateway-mac = 02:00:00:00:00:01
[cluster]
peers = 192.0.2.11 192.0.2.12
networks = 192.0.2.0/24
[migration]
transport = ssh
[admin]
ssh-from = 192.0.2.0/24
users = alice
"""
POL_UNTRUSTED = """[host]
scenario = untrusted
public-interface = eth0
[cluster]
peers = 203.0.113.21 203.0.113.22
[migration]
transport = tunnel
port = 8002
[admin]
ssh-from = 198.51.100.7
users = alice
[tunnel]
ca = /etc/xenguard/tunnel/ca.pem
cert = /etc/xenguard/tunnel/host.pem
key = /etc/xenguard/tunnel/host.key
peer-names = dom0-b.example
"""
POL_XEND = """[host]
scenario = firewalled-subnet
public-interface = eth0
gateway-mac = 02:00:00:00:00:01
[cluster]
peers = 192.0.2.11 192.0.2.12
networks = 192.0.2.0/24
[migration]
transport = xend
port = 8002
[admin]
ssh-from = 192.0.2.0/24
users = alice
"""


def fx_xl_isolated(root, h):
    hardened_common(root, h, [("eth0", ["198.51.100.10", "2001:db8:1::10"]),
                              ("eth1", ["192.0.2.10", "2001:db8::10"])], "192.0.2.10", POL_ISO)


def fx_xl_firewalled(root, h):
    hardened_common(root, h, [("eth0", ["192.0.2.10", "2001:db8::10"])], "192.0.2.10", POL_FW)


def fx_xl_untrusted(root, h):
    hardened_common(root, h, [("eth0", ["203.0.113.10", "2001:db8:3::10"])], "203.0.113.10",
                    POL_UNTRUSTED, [("tcp", "203.0.113.10", 8002, "xenguard")])


def fx_xl_match(root, h):
    """xl-isolated, plus a Match block that turns password logins back on for a subnet"""
    fx_xl_isolated(root, h)
    with open(os.path.join(root, "etc/ssh/sshd_config"), "a") as f:
        f.write("Match Address 203.0.113.0/24\n    PermitRootLogin yes\n"
                "    PasswordAuthentication yes\nMatch all\n")


def fx_xl_insecure(root, h):
    debian_xl(root, h, None, flask=False, daemons=("xenstored",))
    with open(os.path.join(root, "etc/passwd"), "a") as f:
        f.write("bob:x:1001:1001:Bob:/home/bob:/bin/bash\neve:x:1002:1002::/home/eve:/bin/sh\n"
                "toor:x:0:0:backdoor:/root:/bin/bash\n")
    with open(os.path.join(root, "etc/shadow"), "a") as f:
        f.write("bob:$6$salt$hashhashhash:19700:0:99999:7:::\neve::19700:0:99999:7:::\n"
                "toor:$6$salt$hash2:19700:0:99999:7:::\n")
    w(root, "/etc/group", GROUP_BASE % "bob" + "bob:x:1001:\neve:x:1002:\n")
    w(root, "/etc/sudoers.d/eve", "eve ALL=(ALL) NOPASSWD: ALL\n", 0o440)
    w(root, "/etc/ssh/sshd_config", "PermitRootLogin yes\n" + SSHD_MAIN.replace(
        "KbdInteractiveAuthentication no", "KbdInteractiveAuthentication yes"))
    w(root, "/etc/xen/vm1.cfg",
      "name = \"vm1\"\ntype = \"hvm\"\nmemory = 1024\nvnc = 1\nvnclisten = \"0.0.0.0\"\n"
      "spice = 1\nspicehost = '0.0.0.0'\nspicedisable_ticketing = 1\n"
      "bootloader = \"/usr/lib/xen-4.17/bin/pygrub\"\n")
    link(root, "/etc/xen/auto/vm1.cfg", "../vm1.cfg")
    os.chmod(os.path.join(root, "etc/xen"), 0o777)
    os.chmod(os.path.join(root, "dev/xen/privcmd"), 0o666)
    w(root, "/etc/default/xendomains", "XENDOMAINS_MIGRATE=\"\"\n")
    for u in ("apache2.service", "cups.service", "rpcbind.service"):
        link(root, "/etc/systemd/system/multi-user.target.wants/" + u, "/lib/systemd/system/" + u)
    sysctls(root, ["eth0"], {"*": 0, "eth0": 2}, {"*": 1}, {"*": 1})
    ip_addr(root, [("lo", ["127.0.0.1", "::1"]), ("eth0", ["192.0.2.10", "2001:db8::10"])])
    h.listen("tcp", "0.0.0.0", 22, "sshd")
    h.listen("tcp", "::", 22, "sshd")
    h.listen("tcp", "0.0.0.0", 80, "apache2")
    h.listen("tcp", "0.0.0.0", 5900, "qemu-system-i38")
    h.listen("tcp", "0.0.0.0", 8002, "socat")
    h.listen("udp", "0.0.0.0", 111, "rpcbind")


XEND_LEGACY = """# -*- sh -*-  xend-config.sxp of a Xen 3.4 host
(logfile /var/log/xen/xend.log)
(xend-http-server yes)
(xend-unix-server yes)
(xen-api-server ((9363 none) (unix none)))
(xend-relocation-server yes)
(xend-relocation-ssl-server yes)
(xend-relocation-port 8002)
(xend-relocation-address '')
(xend-relocation-hosts-allow '.*')
(xend-relocation-hosts-allow '^192\\\\.0\\\\.2\\\\.11$')
(network-script network-bridge)
(vif-script vif-bridge)
(dom0-min-mem 196)
(vnc-listen '0.0.0.0')
(vncpasswd '')
"""
XEND_HARDENED = """# xend-config.sxp, locked down for the firewalled-subnet scenario
(logfile /var/log/xen/xend.log)
(xend-http-server no)
(xend-unix-server yes)
(xen-api-server ((unix none)))
(xend-relocation-server yes)
(xend-relocation-port 8002)
(xend-relocation-address '192.0.2.10')
(xend-relocation-hosts-allow '^192\\\\.0\\\\.2\\\\.11$ ^192\\\\.0\\\\.2\\\\.12$')
(xend-relocation-hosts-allow '')
(vnc-listen '127.0.0.1')
(vncpasswd 'cons0le')
"""


def xend_host(root, h, sxp, admin):
    debian_xl(root, h, admin)
    os.unlink(os.path.join(root, "etc/xen/xl.conf"))
    os.unlink(os.path.join(root, "usr/sbin/xl"))
    w(root, "/etc/xen/xend-config.sxp", sxp)
    ip_addr(root, [("lo", ["127.0.0.1"]), ("eth0", ["192.0.2.10"])])


def fx_xend_legacy(root, h):
    xend_host(root, h, XEND_LEGACY, None)
    w(root, "/etc/default/xendomains", "XENDOMAINS_MIGRATE=\"192.0.2.11\"\n")
    sysctls(root, ["eth0"], 1, 0, 0)
    h.listen("tcp", "0.0.0.0", 8002, "xend")
    h.listen("tcp", "0.0.0.0", 8000, "xend")
    h.listen("tcp", "0.0.0.0", 9363, "xend")


def fx_xend_hardened(root, h):
    xend_host(root, h, XEND_HARDENED, "alice")
    w(root, "/etc/ssh/sshd_config.d/xenguard.conf",
      "PermitRootLogin no\nPasswordAuthentication no\nListenAddress 192.0.2.10:22\n"
      "AllowUsers alice@192.0.2.0/24\n")
    w(root, "/etc/default/xendomains", "XENDOMAINS_MIGRATE=\n")
    sysctls(root, ["eth0"], 1, 0, 0)
    h.listen("tcp", "192.0.2.10", 8002, "xend")
    h.listen("tcp", "192.0.2.10", 22, "sshd")
    w(root, "/etc/xenguard/xenguard.conf", POL_XEND, 0o600)


def xapi_host(root, h):
    w(root, "/proc/sys/kernel/hostname", "xcp-ng-1\n")
    w(root, "/proc/xen/capabilities", "control_d\n", 0o444)
    w(root, "/sys/hypervisor/type", "xen\n")
    w(root, "/sys/hypervisor/version/major", "4\n")
    w(root, "/sys/hypervisor/version/minor", "17\n")
    w(root, "/sys/hypervisor/version/extra", ".4-3\n")
    w(root, "/etc/xensource-inventory",
      "PRODUCT_BRAND='XCP-ng'\nPRODUCT_VERSION='8.3.0'\n"
      "INSTALLATION_UUID='5d4b3c2a-1f0e-4d9c-8b7a-6e5f4d3c2b1a'\n")
    w(root, "/etc/passwd", PASSWD_BASE)
    w(root, "/etc/shadow", SHADOW_BASE, 0o600)
    w(root, "/etc/group", GROUP_BASE % "")
    ip_addr(root, [("lo", ["127.0.0.1"]), ("xenbr0", ["192.0.2.20"])])
    sysctls(root, ["xenbr0"], 1, 0, 0)
    h.listen("tcp", "0.0.0.0", 80, "xapi")
    h.listen("tcp", "0.0.0.0", 443, "stunnel")
    h.listen("tcp", "0.0.0.0", 22, "sshd")


def fx_xcpng(root, h):
    xapi_host(root, h)
    w(root, "/etc/xapi.conf", "# xapi.conf\nuse-switch = false\nmigration-https-only = false\n")


def fx_xcpng_hardened(root, h):
    xapi_host(root, h)
    w(root, "/etc/xapi.conf", "# xapi.conf\nuse-switch = false\n")
    w(root, "/etc/xapi.conf.d/hardening.conf", "migration-https-only = true\n")
    # a pool of two: the other member's row comes first and still answers clear text
    w(root, "/var/lib/xcp/state.db",
      '<database><manifest><pair key="schema_major_vsn" value="5"/></manifest>\n'
      '<table name="host">\n'
      '<row ref="OpaqueRef:2" uuid="9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d" https_only="false" '
      'name__label="xcp-ng-2"/>\n'
      '<row ref="OpaqueRef:1" uuid="5d4b3c2a-1f0e-4d9c-8b7a-6e5f4d3c2b1a" https_only="true" '
      'name__label="xcp-ng-1"/>\n</table></database>\n', 0o600)


def fx_domu(root, h):
    w(root, "/proc/xen/capabilities", "", 0o444)
    w(root, "/sys/hypervisor/type", "xen\n")


def fx_empty(root, h):
    os.makedirs(root, exist_ok=True)


def fx_rp_all_only(root, h):
    w(root, "/proc/sys/net/ipv4/conf/all/rp_filter", "1\n")


def fx_rp_only(root, h):
    for i in ("all", "default", "lo", "eth0"):
        w(root, "/proc/sys/net/ipv4/conf/%s/rp_filter" % i, "1\n")


def fx_qubes_dom0(root, h):
    debian_xl(root, h, None)
    sysctls(root, [], 0, 1, 1)
    ip_addr(root, [("lo", ["127.0.0.1", "::1"])])


def fx_xend_names(root, h):
    fx_xend_hardened(root, h)
    sxp = XEND_HARDENED.replace("^192\\\\.0\\\\.2\\\\.12$')", "^localhost$')")
    assert sxp != XEND_HARDENED
    w(root, "/etc/xen/xend-config.sxp", sxp)


def fx_xend_spaces(root, h):
    fx_xend_hardened(root, h)
    sxp = XEND_HARDENED.replace("$ ^192", "$  ^192")
    assert sxp != XEND_HARDENED
    w(root, "/etc/xen/xend-config.sxp", sxp)


ACCEPT_ALL = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"


def fx_xl_mig_ssh(root, h):
    fx_xl_firewalled(root, h)
    w(root, "/xenguard/iptables-save.txt", ACCEPT_ALL, 0o600)
    w(root, "/xenguard/ip6tables-save.txt", ACCEPT_ALL, 0o600)


def fx_xl_mig_socat(root, h):
    fx_xl_mig_ssh(root, h)
    h.listen("tcp", "0.0.0.0", 8002, "socat")


def fx_xl_activated(root, h):
    fx_xl_isolated(root, h)
    w(root, "/proc/1/comm", "systemd\n")
    for unit, body in (("ssh.socket", "[Socket]\nListenStream=192.0.2.10:2222\nAccept=yes\n"),
                       ("rpcbind.socket", "[Socket]\nListenStream=0.0.0.0:111\n"
                                          "ListenDatagram=0.0.0.0:111\n")):
        w(root, "/lib/systemd/system/" + unit, "[Unit]\nDescription=x\n" + body)
        link(root, "/etc/systemd/system/sockets.target.wants/" + unit, "/lib/systemd/system/" + unit)
    for proto, port in (("tcp", 2222), ("tcp", 111), ("udp", 111)):
        addr = "192.0.2.10" if port == 2222 else "0.0.0.0"
        h.inode += 1
        table = h.sockets[proto]
        st = "0A" if proto == "tcp" else "07"
        table.append("%4d: %s:%04X 00000000:0000 %s 00000000:00000000 00:00000000 "
                     "00000000     0        0 %d 1 0000000000000000 100 0 0 10 0"
                     % (len(table), hexaddr(addr), port, st, h.inode))
        link(root, "/proc/1/fd/%d" % (h.inode - 40000), "socket:[%d]" % h.inode)


def fx_hostile_bytes(root, h):
    fx_xl_isolated(root, h)
    name = b"ev\xffil\xc3\x28\x1b[2J\x07\xed\xa0\x80"  # bad byte, bad pair, ESC, BEL, surrogate
    with open(os.path.join(root, "etc/passwd"), "ab") as f:
        f.write(name + b":x:1003:1003::/home/x:/bin/bash\n")


def main():
    fixture, root = sys.argv[1], sys.argv[2]
    os.makedirs(root, exist_ok=True)
    h = Host(root)
    globals()["fx_" + fixture.replace("-", "_")](root, h)
    if any(h.sockets.values()):
        h.write_sockets()


if __name__ == "__main__":
    main()
