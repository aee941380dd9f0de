#!/bin/bash
# analyze_differential.sh — the main test of `xenguard analyze`: random
# rulesets loaded into a real kernel (in throwaway network namespaces), real
# TCP SYNs from TEST-NET sources over veth pairs, and the analyzer's answer
# compared with what the kernel let through, packet by packet.
#
#   XGA_RULESETS (default 48) rulesets, in turn iptables-restore, nft (IPv4),
#   ip6tables-restore, nft (IPv6);
#   XGA_SEED (default 1000) the first generator seed. Each ruleset is probed
#   with ~28 sources x 4 interfaces x 4 ports.
set -u
XG=${XG:-build/xenguard}
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
COUNT=${XGA_RULESETS:-48}
SEED=${XGA_SEED:-1000}
SNS="xgas$$"
RNS="xgar$$"
. "$ROOT/tests/e2e/lib/tap.sh"
require root ip nft iptables-restore ip6tables-restore python3
WORK=$(mktemp -d)
cleanup() {
    ip netns del "$SNS" 2>/dev/null
    ip netns del "$RNS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$SNS" && ip netns add "$RNS" || bail_out "cannot create namespaces"
ip -n "$RNS" link set lo up
ip -n "$SNS" link set lo up
k=0
for ifc in xgi0 xgi1 xgw5 xgo7; do
    ip link add "xgs$k$$" netns "$SNS" type veth peer name "$ifc" netns "$RNS" || bail_out "veth pair for $ifc"
    ip -n "$SNS" link set "xgs$k$$" name "xgs$k"
    ip -n "$SNS" link set "xgs$k" up
    ip -n "$RNS" link set "$ifc" up
    ip -n "$RNS" addr add "192.0.2.$((200 + k))/32" dev "$ifc"
    ip -n "$SNS" route add "192.0.2.$((200 + k))/32" dev "xgs$k"
    ip -n "$RNS" addr add "2001:db8:ff::$((200 + k))/128" dev "$ifc" nodad
    ip -n "$SNS" route add "2001:db8:ff::$((200 + k))/128" dev "xgs$k"
    # static neighbours: the rulesets under test may drop ICMPv6 neighbour
    # discovery, which is not what this test is about
    mac=$(ip -n "$RNS" -j link show "$ifc" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
    ip -n "$SNS" neigh replace "2001:db8:ff::$((200 + k))" lladdr "$mac" dev "xgs$k" nud permanent
    k=$((k + 1))
done
for ns in "$SNS" "$RNS"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    for ifc in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
        ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$ifc.rp_filter=0" 2>/dev/null
    done
done
ip netns exec "$SNS" sysctl -qw net.ipv4.tcp_syn_retries=1
# routes back to the probe sources, one block per interface: what the
# reverse-path rules (fib, rpfilter) in some rulesets look at; the analyzer
# gets the same map with --ifmap (xgo7 has none: everything on it is spoofed)
ifmap="$WORK/receiver.ifmap"
: >"$ifmap"
route() {
    ip -n "$RNS" route add "$2" dev "$1" || bail_out "route $2 dev $1"
    echo "$1 $2" >>"$ifmap"
}
route xgi0 192.0.2.0/25
route xgi1 192.0.2.128/25
route xgi1 198.51.100.0/24
route xgw5 203.0.113.0/24
route xgi0 2001:db8:1::/120
route xgi1 2001:db8:2::/120
route xgw5 2001:db8:3::/121
route xgi1 2001:db8:3::80/121
ok "namespaces $SNS and $RNS with 4 veth pairs and routes back to the sources"

tap_pipe python3 "$ROOT/tests/tools/analyze_differential.py" "$XG" "$ROOT/tests/tools/analyze_gen.py" \
    "$SNS" "$RNS" "$COUNT" "$SEED" "$WORK" "$ifmap"
done_testing
