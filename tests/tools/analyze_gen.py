#!/usr/bin/env python3
"""analyze_gen.py -- random rulesets for the analyzer's differential test.

Generates rulesets in iptables-restore or nft syntax over a fixed world:
receiver interfaces xgi0, xgi1 (named in rules), xgw5 (matched only by the
wildcard xgw+/xgw*), xgo7 (matched by nothing: the analyzer's "any other"
class), sources in the three TEST-NET /24s, ports 22, 80, 8002, 9000.
Rulesets use user chains (jump, goto, return; a DAG so they load), negated
matches, prefixes, ranges, sets, interface wildcards, verdict maps (nft),
conntrack state, source ports, address types (fib/addrtype on the
destination), MAC matches, and several base chains on prerouting and input.

It also picks the source addresses to probe: the edges of every prefix and
range in the ruleset (first, last, one before, one after) plus random ones,
so each atom the analyzer computes is hit at its borders.

Usage: analyze_gen.py SEED iptables|ip6tables|nft|nft6 OUT_RULES OUT_SOURCES
(ip6tables and nft6: the same over 2001:db8:1::/120, :2::/120, :3::/120)
"""
import ipaddress
import random
import sys

NETS4 = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
NETS6 = [ipaddress.ip_network(n) for n in ("2001:db8:1::/120", "2001:db8:2::/120", "2001:db8:3::/120")]
RECEIVER = {ipaddress.ip_address("192.0.2.%d" % (200 + k)) for k in range(4)}
RECEIVER |= {ipaddress.ip_address("2001:db8:ff::%d" % (200 + k)) for k in range(4)}
PORTS = [22, 80, 8002, 9000]
IFACES_IPT = ["xgi0", "xgi1", "xgw+", "xgi+", "xgz9"]


class Gen:
    def __init__(self, seed, fmt):
        self.r = random.Random(seed)
        self.fmt = fmt
        self.v6 = fmt in ("ip6tables", "nft6")
        self.nets = NETS6 if self.v6 else NETS4
        self.ip = "ip6" if self.v6 else "ip"
        self.bits = 128 if self.v6 else 32
        # one ruleset in three also gets matches the analyzer does not model
        # (packet marks, lengths): then its answer is a may/must pair, and the
        # kernel must fall between the bounds
        self.unknowns = seed % 3 == 0
        self.cuts = []  # (lo, hi) int ranges used by rules
        self.have_set = True

    def prefix(self):
        net = self.r.choice(self.nets)
        plen = self.bits - self.r.choice([8, 7, 6, 5, 4, 3, 2, 1, 0])
        host = self.r.randrange(256)
        p = ipaddress.ip_network("%s/%d" % (net.network_address + host, plen), strict=False)
        self.cuts.append((int(p.network_address), int(p.broadcast_address)))
        return str(p)

    def addr_range(self):
        net = self.r.choice(self.nets)
        a, b = sorted(self.r.sample(range(256), 2))
        lo, hi = net.network_address + a, net.network_address + b
        self.cuts.append((int(lo), int(hi)))
        return str(lo), str(hi)

    def port_match(self):
        k = self.r.randrange(4)
        if k == 0:
            return ("single", self.r.choice(PORTS))
        if k == 1:
            return ("range", (8000, 8005))
        if k == 2:
            return ("range", (20, 80))
        return ("multi", sorted(self.r.sample(PORTS, 2)))

    # --- iptables ---
    def ipt_rule(self, chain, later, base, need_addr=False):
        parts = ["-A", chain]
        r = self.r
        if need_addr or r.random() < 0.5:
            neg = r.random() < 0.25
            if r.random() < 0.5:
                parts += (["!"] if neg else []) + ["-s", self.prefix()]
            else:
                lo, hi = self.addr_range()
                parts += ["-m", "iprange"] + (["!"] if neg else []) + ["--src-range", "%s-%s" % (lo, hi)]
        if r.random() < 0.35:
            neg = r.random() < 0.25
            parts += (["!"] if neg else []) + ["-i", r.choice(IFACES_IPT)]
        if r.random() < 0.45:
            kind, v = self.port_match()
            neg = r.random() < 0.2
            n = ["!"] if neg else []
            if kind == "single":
                parts += ["-p", "tcp", "-m", "tcp"] + n + ["--dport", str(v)]
            elif kind == "range":
                parts += ["-p", "tcp", "-m", "tcp"] + n + ["--dport", "%d:%d" % v]
            else:
                parts += ["-p", "tcp", "-m", "multiport"] + n + ["--dports", ",".join(map(str, v))]
        elif r.random() < 0.15:
            parts += ["-p", r.choice(["udp", "tcp", "ipv6-icmp" if self.v6 else "icmp"])]
        if r.random() < 0.15:
            parts += ["-m", "conntrack", "--ctstate", r.choice(["NEW", "ESTABLISHED,RELATED", "NEW,ESTABLISHED"])]
        if r.random() < 0.12:
            # modelled beside addresses: source ports (the sender's are
            # ephemeral: an ordinary client), the destination's address type
            # (local on the input path), the sender's MAC (one no rule names)
            extra = [["-m", "addrtype", "--dst-type", "LOCAL"], ["-m", "addrtype", "!", "--dst-type", "LOCAL"],
                     ["-m", "addrtype", "--dst-type", "MULTICAST" if self.v6 else "MULTICAST,BROADCAST"],
                     ["-m", "mac", "--mac-source", "02:00:00:00:00:01"],
                     ["-m", "mac", "!", "--mac-source", "02:00:00:00:00:01"]]
            if "-p" not in parts:
                extra += [["-p", "tcp", "-m", "tcp", "--sport", "53"], ["-p", "tcp", "-m", "tcp", "--sport", "1024:65535"],
                          ["-p", "tcp", "-m", "tcp", "!", "--sport", "0:1023"]]
            parts += r.choice(extra)
        if self.unknowns and r.random() < 0.2:
            parts += r.choice([["-m", "mark", "--mark", "0x0"], ["-m", "mark", "--mark", "0x1"],
                               ["-m", "length", "--length", "0:65535"], ["-m", "length", "--length", "1000:2000"]])
        targets = ["ACCEPT", "DROP", "REJECT", "LOG"]
        if not base:
            targets += ["RETURN"]
        if later:
            targets += ["JUMP", "JUMP", "GOTO"]
        t = r.choice(targets)
        if t == "JUMP":
            parts += ["-j", r.choice(later)]
        elif t == "GOTO":
            parts += ["-g", r.choice(later)]
        elif t == "LOG":
            parts += ["-j", "LOG", "--log-prefix", '"xg "']
        elif t == "REJECT":
            parts += ["-j", "REJECT"] + (["--reject-with", "tcp-reset"] if "tcp" in parts and r.random() < 0.5 else [])
        else:
            parts += ["-j", t]
        return " ".join(parts)

    def iptables(self):
        r = self.r
        out = []
        nuser = r.randrange(1, 5)
        users = ["c%d" % i for i in range(nuser)]
        rpf = r.random() < 0.3
        if rpf or r.random() < 0.4:
            out += ["*raw", ":PREROUTING %s [0:0]" % "ACCEPT"]
            if rpf:
                # reverse-path filter; the receiver's routes (see
                # analyze_differential.sh) decide, the analyzer reads them
                # from the interface map
                out.append("-A PREROUTING %s-m rpfilter --invert -j DROP" % r.choice(["", "! -i xgi1 ", "-i xgw+ "]))
            for _ in range(r.randrange(0 if rpf else 1, 3)):
                out.append(self.ipt_rule("PREROUTING", [], True, True).replace(" -j REJECT", " -j DROP").replace(" --reject-with tcp-reset", ""))
            out.append("COMMIT")
        if r.random() < 0.3:
            out += ["*mangle", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]"]
            for _ in range(r.randrange(1, 3)):
                out.append(self.ipt_rule(r.choice(["PREROUTING", "INPUT"]), [], True, True).replace(" -j REJECT", " -j DROP").replace(" --reject-with tcp-reset", ""))
            out.append("COMMIT")
        out += ["*filter", ":INPUT %s [0:0]" % r.choice(["ACCEPT", "DROP"]), ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
        out += [":%s - [0:0]" % u for u in users]
        for _ in range(r.randrange(3, 10)):
            out.append(self.ipt_rule("INPUT", users, True))
        for i, u in enumerate(users):
            for _ in range(r.randrange(1, 7)):
                out.append(self.ipt_rule(u, users[i + 1:], False))
        out.append("COMMIT")
        return "\n".join(out) + "\n"

    # --- nft ---
    def nft_addr(self):
        r = self.r
        k = r.randrange(4 if self.have_set else 3)
        if k == 0:
            return self.prefix()
        if k == 1:
            lo, hi = self.addr_range()
            return "%s-%s" % (lo, hi)
        if k == 2:
            return "{ %s }" % ", ".join(self.prefix() for _ in range(r.randrange(1, 4)))
        return "@s1"

    def nft_rule(self, later, base, need_addr=False):
        r = self.r
        parts = []
        if need_addr or r.random() < 0.5:
            op = "!= " if r.random() < 0.25 else ""
            parts.append("%s saddr %s%s" % (self.ip, op, self.nft_addr()))
        if r.random() < 0.35:
            k = r.randrange(3)
            if k == 0:
                parts.append('iifname %s"%s"' % ("!= " if r.random() < 0.25 else "", r.choice(["xgi0", "xgi1", "xgw*", "xgi*", "xgz9"])))
            elif k == 1:
                parts.append('iifname { "xgi0", "xgw5" }')
            else:
                parts.append('iifname != { "xgi1", "xgz9" }')
        if r.random() < 0.45:
            kind, v = self.port_match()
            op = "!= " if r.random() < 0.2 else ""
            if kind == "single":
                parts.append("tcp dport %s%d" % (op, v))
            elif kind == "range":
                parts.append("tcp dport %s%d-%d" % (op, v[0], v[1]))
            else:
                parts.append("tcp dport %s{ %s }" % (op, ", ".join(map(str, v))))
        elif r.random() < 0.15:
            parts.append("meta l4proto %s" % r.choice(["udp", "tcp", "icmp", "{ tcp, udp }"]))
        if r.random() < 0.15:
            parts.append("ct state %s" % r.choice(["new", "established,related", "{ new, established }"]))
        if r.random() < 0.12:
            extra = ["fib daddr type local", "fib daddr type != local",
                     "fib daddr type multicast" if self.v6 else "fib daddr type { broadcast, multicast }",
                     "ether saddr 02:00:00:00:00:01", "ether saddr != 02:00:00:00:00:01"]
            if not any("l4proto" in p for p in parts):  # nft refuses `meta l4proto udp tcp sport 53`
                extra += ["tcp sport 53", "tcp sport 1024-65535", "tcp sport != 0-1023", "th sport { 53, 67 }"]
            parts.append(r.choice(extra))
        if self.unknowns and r.random() < 0.2:
            parts.append(r.choice(["meta mark 0", "meta mark 1", "meta length 0-65535", "meta length 1000-2000"]))
        if r.random() < 0.3:
            parts.append("counter")
        verdicts = ["accept", "drop", "reject", "log", ""]
        if not base:
            verdicts.append("return")
        if later:
            verdicts += ["jump", "jump", "goto", "vmap"]
        v = r.choice(verdicts)
        if v in ("jump", "goto"):
            parts.append("%s %s" % (v, r.choice(later)))
        elif v == "vmap":
            def verd():
                c = r.choice(["accept", "drop", "jump", "goto", "return" if not base else "drop"])
                return "%s %s" % (c, r.choice(later)) if c in ("jump", "goto") else c
            k = r.random()
            if k < 0.2:
                parts.append('ct state vmap { new : %s, established : %s }' % (verd(), verd()))
            elif k < 0.6:
                parts.append('iifname vmap { "xgi0" : %s, "xgw5" : %s }' % (verd(), verd()))
            else:
                a, b = self.prefix(), self.prefix()
                na, nb = ipaddress.ip_network(a), ipaddress.ip_network(b)
                if na.overlaps(nb):
                    parts.append("%s saddr vmap { %s : %s }" % (self.ip, a, verd()))
                else:
                    parts.append("%s saddr vmap { %s : %s, %s : %s }" % (self.ip, a, verd(), b, verd()))
        elif v == "log":
            parts.append('log prefix "xg "')
        elif v == "reject" and "tcp dport" in " ".join(parts) and r.random() < 0.5:
            parts.append("reject with tcp reset")
        elif v:
            parts.append(v)
        if not parts:
            parts.append("counter")
        return " ".join(parts)

    def nft(self):
        r = self.r
        out = ["table %s xgt {" % self.ip]
        elems = ", ".join(self.prefix() for _ in range(r.randrange(1, 4)))
        lo, hi = self.addr_range()
        out.append("  set s1 { type %s; flags interval; auto-merge; elements = { %s, %s-%s } }" % (
            "ipv6_addr" if self.v6 else "ipv4_addr", elems, lo, hi))
        nuser = r.randrange(1, 5)
        users = ["c%d" % i for i in range(nuser)]
        for i, u in enumerate(users):
            out.append("  chain %s {" % u)
            for _ in range(r.randrange(1, 7)):
                out.append("    " + self.nft_rule(users[i + 1:], False))
            out.append("  }")
        out.append("  chain input { type filter hook input priority 0; policy %s;" % r.choice(["accept", "drop"]))
        for _ in range(r.randrange(3, 10)):
            out.append("    " + self.nft_rule(users, True))
        out.append("  }")
        rpf = r.random() < 0.3
        if rpf or r.random() < 0.5:
            out.append("  chain pre { type filter hook prerouting priority %d; policy accept;" % r.choice([-300, -150, 0]))
            if rpf:
                out.append("    %sfib saddr . iif oif missing drop" % r.choice(["", 'iifname != "xgi1" ', 'iifname "xgw*" ']))
            for _ in range(r.randrange(0 if rpf else 1, 3)):
                out.append("    " + self.nft_rule([], True, True).replace("reject with tcp reset", "drop").replace("reject", "drop"))
            out.append("  }")
        out.append("}")
        if r.random() < 0.5:
            self.have_set = False
            out.append("table inet xgt2 {")
            out.append("  chain input2 { type filter hook input priority %d; policy %s;" % (r.choice([-10, 10]), r.choice(["accept", "accept", "drop"])))
            for _ in range(r.randrange(1, 4)):
                out.append("    " + self.nft_rule([], True))
            out.append("  }")
            out.append("}")
        return "\n".join(out) + "\n"

    def sources(self, n_random=8):
        cand = set()
        for lo, hi in self.cuts:
            for v in (lo - 1, lo, hi, hi + 1, (lo + hi) // 2):
                cand.add(v)
        for _ in range(n_random):
            net = self.r.choice(self.nets)
            cand.add(int(net.network_address) + self.r.randrange(256))
        ok = []
        for v in sorted(cand):
            if v < 0:
                continue
            a = ipaddress.ip_address(v)
            if any(a in n for n in self.nets) and a not in RECEIVER and (self.v6 or int(a) & 0xff not in (0, 255)):
                ok.append(str(a))
        self.r.shuffle(ok)
        return sorted(ok[:28], key=lambda s: int(ipaddress.ip_address(s)))


def main():
    seed, fmt, out_rules, out_sources = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    g = Gen(seed, fmt)
    text = g.iptables() if fmt in ("iptables", "ip6tables") else g.nft()
    with open(out_rules, "w") as f:
        f.write(text)
    with open(out_sources, "w") as f:
        f.write("\n".join(g.sources()) + "\n")


if __name__ == "__main__":
    main()
