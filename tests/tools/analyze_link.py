#!/usr/bin/env python3
"""analyze_link.py -- the kernel against `xenguard analyze` on source ports,
MAC addresses and address types, input and routed forward path.

Driven by tests/e2e/analyze_link.sh, which creates the namespaces: sender
SNS (veth xgs0, whose MAC this script sets), receiver/router RNS (veth eth0
with 192.0.2.1/24 and 192.0.2.2/24, both its own; veth eth1 towards DNS), and
DNS behind the router (203.0.113.1). For each ruleset and each sender MAC:
  1. load it into RNS (iptables-restore or nft -f) plus an observer table
     that records, at priority 1000 of input and forward, every SYN that got
     that far (saddr . sport . dport);
  2. from SNS send one SYN per (source, source port, destination port):
     sources on SNS's loopback, one of them (192.0.2.2) the receiver's own
     address (accept_local lets the kernel judge its address type);
  3. ask `analyze --reach --sport P --mac M --to D` (the kernel's own dump)
     and compare every packet. The answers must be exact and agree.

Usage: analyze_link.py XG SNS RNS WORK IFMAP RULES...
(RULES: KIND:FILE with KIND iptables or nft; PATH:KIND:FILE with PATH
forward sends through the router to 203.0.113.1)
"""
import ipaddress
import json
import os
import subprocess
import sys
import time

SOURCES = ["192.0.2.7", "192.0.2.11", "192.0.2.2", "198.51.100.5", "203.0.113.9"]
SPORTS = [53, 67, 40000]
DPORTS = [22, 25, 80, 8002]
MACS = ["02:00:5e:00:01:01", "02:00:00:00:00:09", "02:00:00:00:00:33"]

OBSERVER = """
table inet xgobs {
  set seen { type ipv4_addr . inet_service . inet_service; size 65535; }
  chain in_last { type filter hook input priority 1000; policy accept;
    tcp flags & (syn | ack) == syn add @seen { ip saddr . tcp sport . tcp dport }
  }
  chain fwd_last { type filter hook forward priority 1000; policy accept;
    tcp flags & (syn | ack) == syn add @seen { ip saddr . tcp sport . tcp dport }
  }
}
"""

SENDER = r"""
import socket, sys
for line in sys.stdin.read().split("\n"):
    if not line.strip():
        continue
    src, sport, dst, dport = line.split()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setblocking(False)
    s.bind((src, int(sport)))
    s.connect_ex((dst, int(dport)))
    s.close()
"""


def run(cmd, inp=None, check=True):
    p = subprocess.run(cmd, input=inp, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def netns(ns, *cmd, inp=None, check=True):
    return run(["ip", "netns", "exec", ns] + list(cmd), inp=inp, check=check)


def covers(nets, addr):
    a = ipaddress.ip_address(addr)
    return any(a in ipaddress.ip_network(n) for n in nets if ipaddress.ip_network(n).version == 4)


def one(xg, sns, rns, work, ifmap, spec, n):
    parts = spec.split(":")
    path = parts[0] if len(parts) == 3 else "input"
    kind, rules = parts[-2], parts[-1]
    dst = "203.0.113.1" if path == "forward" else "192.0.2.1"
    netns(rns, "nft", "flush", "ruleset")
    if kind == "iptables":
        netns(rns, "iptables-restore", rules)
    else:
        netns(rns, "nft", "-f", rules)
    netns(rns, "nft", "-f", "-", inp=OBSERVER)
    dump = os.path.join(work, "dump%d" % n)
    with open(dump, "w") as f:
        f.write(netns(rns, "iptables-save") if kind == "iptables" else netns(rns, "nft", "-j", "list", "ruleset"))
    total = bad = inexact = accepted = 0
    notes = []
    for mac in MACS:
        netns(sns, "ip", "link", "set", "dev", "xgs0", "address", mac)
        netns(rns, "nft", "flush", "set", "inet", "xgobs", "seen")
        cases = [(s, sp, dp) for s in SOURCES for sp in SPORTS for dp in DPORTS]
        netns(sns, sys.executable, "-c", SENDER,
              inp="\n".join("%s %d %s %d" % (s, sp, dst, dp) for s, sp, dp in cases))
        time.sleep(0.3)
        seen = set()
        js = json.loads(netns(rns, "nft", "-j", "list", "set", "inet", "xgobs", "seen"))
        for o in js["nftables"]:
            for e in o.get("set", {}).get("elem", []):
                c = (e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e)["concat"]
                seen.add((c[0], int(c[1]), int(c[2])))
        for sp in SPORTS:
            for dp in DPORTS:
                args = [xg, "analyze", "--" + ("iptables" if kind == "iptables" else "nft-json"), dump,
                        "--reach", "tcp/%d" % dp, "--sport", str(sp), "--mac", mac, "--iface", "eth0",
                        "--to", dst, "--ifmap", ifmap, "--format", "json"]
                if path == "forward":
                    args += ["--chain", "forward", "--oface", "eth1"]
                a = json.loads(run(args))["interfaces"][0]["ipv4"]
                if a["bound"] != "exact":
                    inexact += 1
                    notes.append("inexact: sport %d dport %d mac %s: %s" % (sp, dp, mac, a.get("why")))
                for s in SOURCES:
                    total += 1
                    want = (s, sp, dp) in seen
                    accepted += want
                    if covers(a["must"], s) != want or covers(a["may"], s) != want:
                        bad += 1
                        notes.append("%s:%d -> %s:%d mac %s: kernel %s, analyzer must %s may %s" % (
                            s, sp, dst, dp, mac, "accept" if want else "drop",
                            covers(a["must"], s), covers(a["may"], s)))
    name = "%s %s" % (path, os.path.basename(rules))
    for line in notes[:10]:
        print("# " + line)
    print("%s - %s: analyzer agrees with the kernel on %d packets (%d disagreements)" % (
        "ok" if bad == 0 else "not ok", name, total, bad))
    print("%s - %s: every answer exact" % ("ok" if inexact == 0 else "not ok", name))
    teeth = 0 < accepted < total
    print("%s - %s: the kernel accepted %d and dropped %d packets" % (
        "ok" if teeth else "not ok", name, accepted, total - accepted))
    return bad == 0 and inexact == 0 and teeth


def main():
    xg, sns, rns, work, ifmap = sys.argv[1:6]
    good = True
    for n, spec in enumerate(sys.argv[6:]):
        good &= one(xg, sns, rns, work, ifmap, spec, n)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
