#!/usr/bin/env python3
"""analyze_differential.py -- the kernel against `xenguard analyze`.

Driven by tests/e2e/analyze_differential.sh, which creates the two network
namespaces (sender SNS, receiver RNS, veth pairs xgsK <-> IFACE) and removes
them on exit. For each random ruleset (analyze_gen.py):
  1. load it into RNS with the real iptables-restore or nft, plus an observer
     table whose input chain runs last (priority 1000) and records every SYN
     that got that far (saddr . iifname . dport) in a set;
  2. from SNS, open a TCP connection (one SYN) from every probe source, to the
     receiver's address on every interface, on every port;
  3. read the observer set back: those packets passed every base chain;
  4. ask the analyzer (on the kernel's own dump of the ruleset:
     iptables-save, or nft -j list ruleset) for each interface and port, and
     compare packet by packet. The analyzer must be exact (may == must) and
     agree with the kernel on every packet.
Prints TAP lines; exit status 1 on any disagreement.

Usage: analyze_differential.py XG GEN SNS RNS COUNT SEED WORKDIR IFMAP
(IFMAP: the receiver's routes per interface, for reverse-path checks)
"""
import ipaddress
import json
import os
import subprocess
import sys
import time

IFACES = ["xgi0", "xgi1", "xgw5", "xgo7"]  # xgo7: named by no rule -> class "*"
DST = {name: "192.0.2.%d" % (200 + k) for k, name in enumerate(IFACES)}
DST6 = {name: "2001:db8:ff::%d" % (200 + k) for k, name in enumerate(IFACES)}
FORMATS = ["iptables", "nft", "ip6tables", "nft6"]
PORTS = [22, 80, 8002, 9000]

OBSERVER = """
table inet xgobs {
  set seen { type ipv4_addr . ifname . inet_service; size 65535; }
  set seen6 { type ipv6_addr . ifname . inet_service; size 65535; }
  chain last { type filter hook input priority 1000; policy accept;
    tcp flags & (syn | ack) == syn meta nfproto ipv4 add @seen { ip saddr . iifname . tcp dport }
    tcp flags & (syn | ack) == syn meta nfproto ipv6 add @seen6 { ip6 saddr . iifname . tcp dport }
  }
}
"""

SENDER = r"""
import socket, sys, errno
cases = [l.split() for l in sys.stdin.read().split("\n") if l.strip()]
socks = []
for src, dst, port in cases:
    s = socket.socket(socket.AF_INET6 if ":" in src else socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    s.connect_ex((dst, int(port)))
    socks.append(s)
    if len(socks) >= 200:
        for x in socks: x.close()
        socks = []
for x in socks: x.close()
"""


def run(cmd, inp=None, check=True):
    p = subprocess.run(cmd, input=inp, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def netns(ns, *cmd, inp=None, check=True):
    return run(["ip", "netns", "exec", ns] + list(cmd), inp=inp, check=check)


def main():
    xg, gen, sns, rns, count, seed, work, ifmap = sys.argv[1:9]
    count, seed = int(count), int(seed)
    total = disagreements = inexact = accepted = bounded = wide = 0
    failed_rulesets = 0
    for i in range(count):
        fmt = FORMATS[i % len(FORMATS)]
        v6 = fmt in ("ip6tables", "nft6")
        fam = "ipv6" if v6 else "ipv4"
        rules = os.path.join(work, "r%d.%s" % (i, fmt))
        srcf = os.path.join(work, "r%d.src" % i)
        run([sys.executable, gen, str(seed + i), fmt, rules, srcf])
        sources = [l.strip() for l in open(srcf) if l.strip()]
        has_unknowns = any(w in open(rules).read() for w in ("mark", "length"))
        bounded += has_unknowns

        netns(rns, "nft", "flush", "ruleset")
        if fmt in ("iptables", "ip6tables"):
            netns(rns, fmt + "-restore", rules)
        else:
            netns(rns, "nft", "-f", rules)
        netns(rns, "nft", "-f", "-", inp=OBSERVER)

        # probe sources live on the sender's loopback
        netns(sns, "ip", "-6" if v6 else "-4", "addr", "flush", "dev", "lo", "scope", "global")
        batch = "".join("address add %s/%d dev lo%s\n" % (s, 128 if v6 else 32, " nodad" if v6 else "")
                        for s in sources)
        netns(sns, "ip", "-batch", "-", inp=batch)
        cases = [(s, ifc, p) for s in sources for ifc in IFACES for p in PORTS]
        netns(sns, sys.executable, "-c", SENDER,
              inp="\n".join("%s %s %d" % (s, (DST6 if v6 else DST)[ifc], p) for s, ifc, p in cases))
        time.sleep(0.3)
        seen = set()
        js = json.loads(netns(rns, "nft", "-j", "list", "set", "inet", "xgobs", "seen6" if v6 else "seen"))
        for o in js["nftables"]:
            if "set" in o:
                for e in o["set"].get("elem", []):
                    if isinstance(e, dict) and "elem" in e:
                        e = e["elem"]["val"]
                    c = e["concat"]
                    seen.add((c[0], c[1], int(c[2])))

        # the kernel's own view of the ruleset, for the analyzer
        dump = os.path.join(work, "r%d.dump" % i)
        if fmt in ("iptables", "ip6tables"):
            text = netns(rns, fmt + "-save")
            opt = "--" + fmt
        else:
            text = netns(rns, "nft", "-j", "list", "ruleset")
            opt = "--nft-json"
        with open(dump, "w") as f:
            f.write(text)

        bad_here = []
        for p in PORTS:
            answers = {}
            for ifc in IFACES[:3]:
                out = run([xg, "analyze", opt, dump, "--reach", "tcp/%d" % p, "--iface", ifc,
                           "--ifmap", ifmap, "--format", "json"])
                answers[ifc] = json.loads(out)["interfaces"][0][fam]
            # the "any other" class, from the per-class answer
            out = json.loads(run([xg, "analyze", opt, dump, "--reach", "tcp/%d" % p,
                                  "--ifmap", ifmap, "--format", "json"]))
            other = [x for x in out["interfaces"] if x["class"] == "other"]
            answers["xgo7"] = other[0][fam]
            for ifc in IFACES:
                a = answers[ifc]
                if a["bound"] != "exact" and not has_unknowns:
                    inexact += 1
                must = [ipaddress.ip_network(n) for n in a["must"]]
                may = [ipaddress.ip_network(n) for n in a["may"]]
                for s in sources:
                    total += 1
                    want = (s, ifc, p) in seen
                    accepted += want
                    ad = ipaddress.ip_address(s)
                    got_must = any(ad in n for n in must if n.version == ad.version)
                    got_may = any(ad in n for n in may if n.version == ad.version)
                    wide += got_may and not got_must
                    # exact answers: must == may == the kernel; with unmodelled
                    # matches: must <= kernel <= may
                    if (got_must and not want) or (want and not got_may):
                        disagreements += 1
                        bad_here.append("%s -> %s tcp/%d: kernel %s, analyzer must %s may %s" % (
                            s, ifc, p, "accept" if want else "drop", got_must, got_may))
        if bad_here:
            failed_rulesets += 1
            print("# ruleset %d (%s, seed %d) disagrees; kept in %s" % (i, fmt, seed + i, rules))
            for b in bad_here[:10]:
                print("#   " + b)
    print("# %d packets over %d rulesets, %d disagreements, %d inexact answers" % (
        total, count, disagreements, inexact))
    print("%s - analyzer agrees with the kernel on every packet (%d packets, %d rulesets)" % (
        "ok" if disagreements == 0 else "not ok", total, count))
    print("%s - every answer is exact where the ruleset has no unmodelled match" % (
        "ok" if inexact == 0 else "not ok"))
    print("# %d rulesets with unmodelled matches (mark, length): %d packets between the bounds" % (
        bounded, wide))
    print("%s - the bounds were exercised: some packets lie strictly between must and may" % (
        "ok" if wide > 0 else "not ok"))
    teeth = total and 0.1 * total < accepted < 0.9 * total
    print("# kernel accepted %d of %d packets" % (accepted, total))
    print("%s - the kernel accepted some and dropped some packets (the test has teeth)" % (
        "ok" if teeth else "not ok"))
    return 1 if disagreements or inexact or not teeth or not wide else 0


if __name__ == "__main__":
    sys.exit(main())
