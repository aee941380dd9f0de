#!/bin/bash
# analyze_bridge.sh — `analyze --spoofing` on a bridge with guest ports,
# against the kernel: a hand-written `table bridge xenguard` (declared
# guest vif1.0, protected sets; tests/analyze/bridge.json.src) loaded into a
# namespace whose bridge xenbr0 holds two guest ports, read back with
# `nft -j list ruleset`; each guest sends real TCP SYNs to Dom0 from
# claimed IPv4 sources, and the analyzer's per-port claim set must be
# exactly the set of sources the kernel let through to Dom0's input. Then
# each guest sends real gratuitous ARP requests (claimed sender) and
# unsolicited neighbour advertisements (claimed target; from the port's
# declared IPv6 address, else fe80::1, as the analyzer assumes), built by
# tests/tools/claimframe; an observer table counts, per port and claim,
# the frames that got past the guests' table (bridge forward and input,
# priority 1000), and a frame passes exactly when the analyzer's ARP / ND
# claim set for that port holds the address: zero disagreements.
set -u
XG=${XG:-build/xenguard}
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
DOM0="xgbd$$"
G1="xgb1$$"
G2="xgb2$$"
. "$ROOT/tests/e2e/lib/tap.sh"
CLAIMFRAME=${XG_TOOLS:-$ROOT/build/tools}/claimframe
require root ip nft python3 "$CLAIMFRAME"
WORK=$(mktemp -d)
cleanup() {
    ip netns del "$DOM0" 2>/dev/null
    ip netns del "$G1" 2>/dev/null
    ip netns del "$G2" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
for ns in "$DOM0" "$G1" "$G2"; do
    ip netns add "$ns" || bail_out "cannot create namespace $ns"
    ip -n "$ns" link set lo up
done
ip -n "$DOM0" link add xenbr0 type bridge || bail_out "bridge"
k=1
for g in "$G1" "$G2"; do
    ip link add "xgbv$k$$" netns "$DOM0" type veth peer name eth0 netns "$g" || bail_out "veth vif$k.0"
    ip -n "$DOM0" link set "xgbv$k$$" name "vif$k.0"
    ip -n "$DOM0" link set "vif$k.0" master xenbr0 up
    ip -n "$g" link set eth0 up
    for a in 192.0.2.21 192.0.2.22 192.0.2.11 198.51.100.5 203.0.113.9; do
        ip -n "$g" addr add "$a/32" dev lo
    done
    ip -n "$g" route add 192.0.2.1/32 dev eth0
    k=$((k + 1))
done
# guest 1 is the declared one: its MAC is the one vif_mac holds
ip -n "$G1" link set eth0 address 02:00:00:00:00:21
ip -n "$G2" link set eth0 address 02:00:00:00:00:42
ip -n "$DOM0" link set xenbr0 up
ip -n "$DOM0" addr add 192.0.2.1/24 dev xenbr0
ip netns exec "$DOM0" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.xenbr0.rp_filter=0
ip netns exec "$DOM0" nft -f "$ROOT/tests/analyze/bridge.json.src" || bail_out "load the bridge ruleset"
ip netns exec "$DOM0" nft -j list ruleset >"$WORK/dump.json" || bail_out "dump"
ip netns exec "$DOM0" nft -f - <<'NFT' || bail_out "observer"
table inet xgobs {
  set seen { type ipv4_addr; size 1024; }
  chain last { type filter hook input priority 1000; policy accept;
    tcp dport 8002 tcp flags & (syn | ack) == syn add @seen { ip saddr }
  }
}
NFT
printf 'xenbr0 192.0.2.1/24 0.0.0.0/0\n' >"$WORK/dom0.ifmap"
"$XG" analyze --nft-json "$WORK/dump.json" --spoofing --ifmap "$WORK/dom0.ifmap" --iface xenbr0 \
    --guest-ports vif1.0,vif2.0 --format json >"$WORK/spoof.json"
check "analyze --spoofing exits 1: an undeclared guest can claim a peer" test $? = 1
k=1
for g in "$G1" "$G2"; do
    ip netns exec "$DOM0" nft flush set inet xgobs seen
    ip netns exec "$g" python3 -c '
import socket
for src in ("192.0.2.21", "192.0.2.22", "192.0.2.11", "198.51.100.5", "203.0.113.9"):
    s = socket.socket(); s.setblocking(False); s.bind((src, 0)); s.connect_ex(("192.0.2.1", 8002)); s.close()'
    sleep 0.5
    ip netns exec "$DOM0" nft -j list set inet xgobs seen >"$WORK/seen$k.json"
    check "vif$k.0: the analyzer's IPv4 claims are exactly the sources the kernel let in" \
        python3 - "$WORK/spoof.json" "$WORK/seen$k.json" "vif$k.0" <<'PY'
import ipaddress, json, sys
spoof, seen, port = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
got = set()
for o in seen["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        got.add(e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e)
claim = [g for g in spoof["guests"] if g["port"] == port][0]["claims"]["ipv4"]
bad = []
for s in ("192.0.2.21", "192.0.2.22", "192.0.2.11", "198.51.100.5", "203.0.113.9"):
    a = ipaddress.ip_address(s)
    must = any(a in ipaddress.ip_network(n) for n in claim["must"])
    may = any(a in ipaddress.ip_network(n) for n in claim["may"])
    if must != (s in got) or may != (s in got):
        bad.append("%s: kernel %s, analyzer must %s may %s" % (s, s in got, must, may))
print("\n".join("# " + b for b in bad))
sys.exit(1 if bad or not got else 0)
PY
    k=$((k + 1))
done
check "vif1.0 (declared) is reported protected, vif2.0 spoofable with a protected address" python3 -c "
import json,sys
d = {g['port']: g['claims'] for g in json.load(open('$WORK/spoof.json'))['guests']}
ok = all(d['vif1.0'][k]['spoofable'] == 'no' for k in ('ipv4', 'ipv6', 'arp', 'nd'))
ok &= d['vif2.0']['ipv4']['spoofable'] == 'yes' and d['vif2.0']['arp']['spoofable'] == 'yes'
sys.exit(0 if ok else 1)"
# --- real ARP and ND frames ---
V4="192.0.2.21 192.0.2.22 192.0.2.11 198.51.100.5 203.0.113.9"
V6="2001:db8::21 2001:db8::22 2001:db8::11 2001:db8::1 2001:db8::99"
{
    echo "table bridge xgobsb {"
    for hook in forward input; do
        echo "  chain $hook { type filter hook $hook priority 1000; policy accept;"
        for port in vif1.0 vif2.0; do
            for a in $V4; do
                echo "    iifname \"$port\" ether type arp arp saddr ip $a counter comment \"$port arp $a\""
            done
            for a in $V6; do
                hex=$(/usr/bin/python3 -c 'import ipaddress,sys; print(hex(int(ipaddress.ip_address(sys.argv[1]))))' "$a")
                echo "    iifname \"$port\" icmpv6 type nd-neighbor-advert @th,64,128 $hex counter comment \"$port nd $a\""
            done
        done
        echo "  }"
    done
    echo "}"
} >"$WORK/obs.nft"
ip netns exec "$DOM0" nft -f "$WORK/obs.nft" || bail_out "load the frame observer"
k=1
for g in "$G1" "$G2"; do
    # the ND frame's own source: the port's declared address, else link-local
    src6=fe80::1
    [ "$k" = 1 ] && src6=2001:db8::21
    for a in $V4; do
        ip netns exec "$g" "$CLAIMFRAME" arp eth0 "$a" || not_ok "vif$k.0: send ARP claiming $a"
    done
    for a in $V6; do
        ip netns exec "$g" "$CLAIMFRAME" na eth0 "$a" "$src6" || not_ok "vif$k.0: send NA for $a"
    done
    k=$((k + 1))
done
sleep 0.5
ip netns exec "$DOM0" nft -j list table bridge xgobsb >"$WORK/obs.json" || bail_out "read the observer"
for port in vif1.0 vif2.0; do
    for kind in arp nd; do
        check "$port: real $kind frames pass the bridge exactly for the analyzer's $kind claims" \
            python3 - "$WORK/spoof.json" "$WORK/obs.json" "$port" "$kind" "$V4" "$V6" <<'PY'
import ipaddress, json, sys
spoof, obs, port, kind = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
addrs = (sys.argv[5] if kind == "arp" else sys.argv[6]).split()
passed = {}
for o in obs["nftables"]:
    r = o.get("rule")
    if not r or "comment" not in r:
        continue
    p, k, a = r["comment"].split()
    n = sum(e["counter"]["packets"] for e in r["expr"] if "counter" in e)
    passed[(p, k, a)] = passed.get((p, k, a), 0) + n
claim = [g for g in spoof["guests"] if g["port"] == port][0]["claims"][kind]
bad, seen = [], 0
for s in addrs:
    a = ipaddress.ip_address(s)
    must = any(a in ipaddress.ip_network(n) for n in claim["must"])
    may = any(a in ipaddress.ip_network(n) for n in claim["may"])
    got = passed.get((port, kind, s), 0) > 0
    seen += got
    if must != got or may != got:
        bad.append("%s: kernel %s, analyzer must %s may %s" % (s, "passed" if got else "dropped", must, may))
for b in bad:
    print("# " + b)
print("# %s %s: %d of %d claims passed, %d disagreements" % (port, kind, seen, len(addrs), len(bad)))
sys.exit(1 if bad else 0)
PY
    done
done
for seen in "vif2.0 arp 203.0.113.9" "vif1.0 arp 192.0.2.21" "vif1.0 nd 2001:db8::21"; do
    check "frames are really sent and observed: $seen passed" python3 -c "
import json, sys
n = sum(e['counter']['packets'] for o in json.load(open('$WORK/obs.json'))['nftables']
        for e in o.get('rule', {}).get('expr', []) if 'counter' in e
        and o['rule'].get('comment') == '$seen')
sys.exit(0 if n > 0 else 1)"
done
done_testing
