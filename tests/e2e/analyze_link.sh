#!/bin/bash
# analyze_link.sh — `xenguard analyze` against the kernel on what lies beside
# addresses and destination ports: source ports (the classic `--sport 53`
# hole, ufw's DHCP rule), MAC addresses (raw frames from a known sender MAC:
# xenguard's own gateway-MAC anti-spoofing rule, a MAC let in to ssh) and
# address types (ufw's addrtype rules, nft `fib saddr/daddr type`), on the
# input path and the routed forward path. Real iptables-restore / nft, real
# TCP SYNs, packet by packet (tests/tools/analyze_link.py).
set -u
XG=${XG:-build/xenguard}
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SNS="xgls$$"
RNS="xglr$$"
DNS="xgld$$"
. "$ROOT/tests/e2e/lib/tap.sh"
require root ip nft iptables-restore python3
WORK=$(mktemp -d)
cleanup() {
    ip netns del "$SNS" 2>/dev/null
    ip netns del "$RNS" 2>/dev/null
    ip netns del "$DNS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
for ns in "$SNS" "$RNS" "$DNS"; do
    ip netns add "$ns" || bail_out "cannot create namespace $ns"
    ip -n "$ns" link set lo up
done
ip link add "xgs0$$" netns "$SNS" type veth peer name eth0 netns "$RNS" || bail_out "veth sender"
ip -n "$SNS" link set "xgs0$$" name xgs0
ip link add "xgd0$$" netns "$DNS" type veth peer name eth1 netns "$RNS" || bail_out "veth far side"
ip -n "$DNS" link set "xgd0$$" name xgd0
ip -n "$SNS" link set xgs0 up
ip -n "$RNS" link set eth0 up
ip -n "$RNS" link set eth1 up
ip -n "$DNS" link set xgd0 up
# the receiver: two addresses of its own on eth0, the far side on eth1
ip -n "$RNS" addr add 192.0.2.1/24 dev eth0
ip -n "$RNS" addr add 192.0.2.2/24 dev eth0
ip -n "$RNS" addr add 203.0.113.254/24 dev eth1
ip -n "$RNS" route add default dev eth0
ip -n "$DNS" addr add 203.0.113.1/24 dev xgd0
ip -n "$DNS" route add default dev xgd0
# the sender: probe sources on its loopback (one is the receiver's own 192.0.2.2)
for a in 192.0.2.7 192.0.2.11 192.0.2.2 198.51.100.5 203.0.113.9; do
    ip -n "$SNS" addr add "$a/32" dev lo
done
ip -n "$SNS" route add 192.0.2.1/32 dev xgs0
# (through the receiver as gateway: changing the sender's MAC flushes its
# neighbours, and the receiver answers ARP for its own address only)
ip -n "$SNS" route add 203.0.113.1/32 via 192.0.2.1 dev xgs0
ip netns exec "$RNS" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth0.accept_local=1 \
    net.ipv4.conf.all.accept_local=1
ip netns exec "$SNS" sysctl -qw net.ipv4.tcp_syn_retries=1
# what the analyzer is told about the receiver: its addresses (host bits) and routes
printf 'eth0 192.0.2.1/24 192.0.2.2/24 0.0.0.0/0\neth1 203.0.113.254/24\n' >"$WORK/rx.ifmap"
ok "namespaces $SNS, $RNS, $DNS: sender, receiver/router, far side"

"$XG" firewall -c "$ROOT/examples/firewalled-subnet.conf" >"$WORK/fs.nft" || bail_out "compile firewalled-subnet"
cat >"$WORK/fwd.nft" <<'NFT'
table ip xgfw {
	chain xgfwd {
		type filter hook forward priority filter; policy drop;
		iifname "eth0" oifname "eth1" tcp sport 53 accept
		iifname "eth0" ether saddr 02:00:00:00:00:09 tcp dport 22 accept
		fib daddr type local drop
		ip saddr 192.0.2.0/24 tcp dport 8002 accept
	}
}
NFT
tap_pipe python3 "$ROOT/tests/tools/analyze_link.py" "$XG" "$SNS" "$RNS" "$WORK" "$WORK/rx.ifmap" \
    "iptables:$ROOT/tests/analyze/sport53.rules" "iptables:$ROOT/tests/analyze/ufw.rules" \
    "nft:$ROOT/tests/analyze/link.json.src" "nft:$WORK/fs.nft" "forward:nft:$WORK/fwd.nft"
done_testing
