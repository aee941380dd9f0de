#!/bin/bash
# analyze_bridge.sh — `analyze --spoofing` on a bridge with guest ports,
# against the kernel: a hand-written `table bridge xenguard` (declared
# guest vif1.0, protected sets; tests/analyze/bridge.json.src) loaded into a
# namespace whose bridge xenbr0 holds two guest ports, read back with
# `nft -j list ruleset`; each guest sends real TCP SYNs to Dom0 from
# claimed IPv4 sources, and the analyzer's per-port claim set must be
# exactly the set of sources the kernel let through to Dom0's input.
set -u
XG=${XG:-build/xenguard}
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
DOM0="xgbd$$"
G1="xgb1$$"
G2="xgb2$$"
. "$ROOT/tests/e2e/lib/tap.sh"
require root ip nft python3
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
done_testing
