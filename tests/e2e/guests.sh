#!/bin/bash
# The guests' bridge firewall (table bridge xenguard) with real frames.
#
# A Dom0 namespace with bridge xenbr0 = the uplink eth0 + two guest ports
# (veths vif1.0, vif2.0; their peers are eth0 in two guest namespaces), and a
# LAN peer namespace on the uplink, as a real Dom0 bridges its guests onto the
# segment that carries its own address. The policy is loaded with `xenguard
# apply`. Each attack is run once with `[guests] protect = no` too, where it
# must succeed: that shows the probe can see the attack, so its failure with
# protection on is the firewall's doing. TEST-NET addresses only:
#   Dom0 192.0.2.10 / 2001:db8::10 on xenbr0; LAN peer 192.0.2.11 / ::11
#   (a cluster peer); 192.0.2.12 / ::12 a second peer that is offline (the
#   address a guest claims); guests 192.0.2.21 / ::21 and 192.0.2.22 / ::22.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PROBE=${XG_TOOLS:-$XG_ROOT/build/tools}/tcpprobe
D="xggd$$" L="xggl$$" G1="xgg1$$" G2="xgg2$$"
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft python3
WORK=$(mktemp -d)
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX)
pids=()

cleanup() {
    local rc=$? p
    for p in $(pgrep -f -- "--state-dir $ST " 2>/dev/null); do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    # whatever still runs inside (listeners started through ns()), then the namespace
    for n in "$D" "$L" "$G1" "$G2"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns del "$n" 2>/dev/null
    done
    rm -rf "$WORK" "$ST"
    exit $rc
}
trap cleanup EXIT

ns() { local n=$1; shift; ip netns exec "$n" "$@"; }
xg() { ns "$D" env -u SSH_CONNECTION "$XG" "$@" --state-dir "$ST"; }
mac_of() { ns "$1" cat "/sys/class/net/$2/address"; }

# --- the topology -------------------------------------------------------------
for n in "$D" "$L" "$G1" "$G2"; do
    ip netns add "$n" || bail_out "ip netns add $n"
    ns "$n" ip link set lo up
done
ns "$D" ip link add xenbr0 type bridge
ns "$D" ip link add eth0 type veth peer name eth0 netns "$L"
ns "$D" ip link add vif1.0 type veth peer name eth0 netns "$G1"
ns "$D" ip link add vif2.0 type veth peer name eth0 netns "$G2"
for p in eth0 vif1.0 vif2.0; do
    ns "$D" ip link set "$p" master xenbr0
    ns "$D" ip link set "$p" up
done
ns "$D" ip link set xenbr0 up
ns "$D" ip addr add 192.0.2.10/24 dev xenbr0
ns "$D" ip addr add 2001:db8::10/64 dev xenbr0 nodad
n4=(x 11 21 22)
for i in 1 2 3; do
    nsn=$([ $i = 1 ] && echo "$L" || { [ $i = 2 ] && echo "$G1" || echo "$G2"; })
    ns "$nsn" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
    ns "$nsn" ip addr add "192.0.2.${n4[$i]}/24" dev eth0
    ns "$nsn" ip addr add "2001:db8::${n4[$i]}/64" dev eth0 nodad
    ns "$nsn" ip link set eth0 up
done
G1MAC=$(mac_of "$G1" eth0)
G2MAC=$(mac_of "$G2" eth0)
DMAC=$(mac_of "$D" xenbr0)

ns "$D" "$PROBE" listen 8002 >/dev/null 2>&1 & pids+=($!)
ns "$L" "$PROBE" listen 7001 >/dev/null 2>&1 & pids+=($!)
ns "$G2" "$PROBE" listen 7002 >/dev/null 2>&1 & pids+=($!)
sleep 0.5

policy() { # $1: protect yes|no
    cat <<EOF
[host]
scenario = firewalled-subnet
public-interface = xenbr0
addresses = 192.0.2.10 2001:db8::10
[cluster]
peers = 192.0.2.11 192.0.2.12 2001:db8::11 2001:db8::12
networks = 192.0.2.0/24 2001:db8::/64
[migration]
transport = xend
port = 8002
[admin]
ssh-from = 198.51.100.0/24
[guests]
protect = $1
EOF
}
policy yes >"$WORK/on.conf"
policy no >"$WORK/off.conf"

connect() { # NS [-s SRC] ADDR PORT: prints open / timeout / ...
    local nsn=$1; shift
    ns "$nsn" "$PROBE" connect -t 1500 "$@" 2>/dev/null
}

# A guest adds the offline peer's addresses and opens TCP to Dom0's relocation port.
claim_peer() { # 4|6: prints the probe's outcome
    local a=192.0.2.12
    [ "$1" = 6 ] && a=2001:db8::12
    ns "$G1" ip addr add "$a/$([ "$1" = 6 ] && echo 128 || echo 32)" dev eth0 nodad 2>/dev/null
    connect "$G1" -s "$a" "$([ "$1" = 6 ] && echo 2001:db8::10 || echo 192.0.2.10)" 8002
    ns "$G1" ip addr del "$a/$([ "$1" = 6 ] && echo 128 || echo 32)" dev eth0 2>/dev/null
    ns "$D" ip neigh flush dev xenbr0 2>/dev/null
}

# The LAN peer's neighbour entry for Dom0 after guest 1 sends a gratuitous ARP reply
# (sender = Dom0's address, its own MAC) to the broadcast address.
garp_dom0() {
    connect "$L" 192.0.2.10 8002 >/dev/null # a neighbour entry for Dom0 on the LAN peer
    sleep 1.2 # past the neighbour locktime, so an update would be taken
    ns "$G1" python3 - "$G1MAC" <<'PY'
import socket, struct, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
ip = socket.inet_aton("192.0.2.10")
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac, ip, b"\xff" * 6, ip)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for _ in range(3):
    s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
PY
    sleep 0.3
    ns "$L" ip neigh show 192.0.2.10 dev eth0 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2
}

# Start a listener script in the LAN peer (python3 - ARGS <<< SCRIPT, output to $WORK/$1) and
# wait until it says it is bound (it touches $WORK/$1.ready): python3 may be slow to start.
listen_lan() { # NAME SCRIPT [ARG]
    rm -f "$WORK/$1" "$WORK/$1.ready"
    ns "$L" timeout 20 python3 - "$WORK/$1.ready" "${3:-}" <<<"$2" >"$WORK/$1" 2>&1 &
    LISTENER=$!
    local i
    for i in $(seq 1 100); do [ -e "$WORK/$1.ready" ] && return 0; sleep 0.1; done
    return 1
}

# Does a router advertisement from guest 1 reach the LAN peer? yes / no
ra_reaches_lan() {
    listen_lan ra '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.settimeout(6)
open(sys.argv[1], "w").close()
try:
    while True:
        data = s.recv(2048)
        if data[0] == 134 and b"xenguard-ra" in data:
            print("yes"); break
except socket.timeout:
    print("no")
' || { echo "listener not ready"; return; }
    ns "$G1" python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
idx = socket.if_nametoindex("eth0")
# RA: type 134, code 0, checksum (the kernel's), hop limit, flags, lifetime 1800, timers;
# one 16-byte option (route information) carrying a marker the listener looks for
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + b"\x18\x02" + b"xenguard-ra" + b"\0" * 3
for _ in range(3):
    s.sendto(ra, ("ff02::1", 0, 0, idx))
PY
    wait "$LISTENER"
    cat "$WORK/ra"
}

# Does a DHCP server message (v4: udp 67 -> 68 broadcast; v6: udp 547 -> ff02::1 546)
# from guest 1 reach the LAN peer? yes / no
dhcp_reaches_lan() { # 4|6
    listen_lan dhcp '
import socket, sys
v6 = sys.argv[2] == "6"
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::" if v6 else "0.0.0.0", 546 if v6 else 68))
s.settimeout(6)
open(sys.argv[1], "w").close()
try:
    while b"xenguard-offer" not in s.recv(2048):
        pass
    print("yes")
except socket.timeout:
    print("no")
' "$1" || { echo "listener not ready"; return; }
    ns "$G1" python3 - "$1" <<'PY'
import socket, sys
v6 = sys.argv[1] == "6"
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("::" if v6 else "0.0.0.0", 547 if v6 else 67))
dst = ("ff02::1", 546, 0, socket.if_nametoindex("eth0")) if v6 else ("255.255.255.255", 68)
for _ in range(3):
    s.sendto(b"xenguard-offer", dst)
PY
    wait "$LISTENER"
    cat "$WORK/dhcp"
}

# --- without guest protection, every attack works (the probes see them) ------
check "apply with [guests] protect = no" xg apply -c "$WORK/off.conf" --yes
check_fails "protect = no: no table bridge xenguard" ns "$D" nft list table bridge xenguard
is "$(claim_peer 4)" open "protect = no: a guest claiming a peer's IPv4 address reaches tcp/8002"
is "$(claim_peer 6)" open "protect = no: a guest claiming a peer's IPv6 address reaches tcp/8002"
is "$(garp_dom0)" "$G1MAC" "protect = no: a guest's gratuitous ARP takes over Dom0's address on the LAN"
ns "$L" ip neigh flush dev eth0
is "$(ra_reaches_lan)" yes "protect = no: a guest's router advertisement reaches the LAN"
is "$(dhcp_reaches_lan 4)" yes "protect = no: a guest's DHCP offer reaches the LAN"
is "$(dhcp_reaches_lan 6)" yes "protect = no: a guest's DHCPv6 server message reaches the LAN"

# --- with it ------------------------------------------------------------------
out=$(xg apply -c "$WORK/on.conf" --yes 2>&1)
check "apply with guest protection (the default) loads both tables" grep -q "table bridge xenguard" <<<"$out" || diag "$out"
check "table bridge xenguard is loaded" ns "$D" nft list table bridge xenguard
check "table inet xenguard is loaded" ns "$D" nft list table inet xenguard
check "the live host's addresses joined protected6 (Dom0's link-local)" \
    bash -c "ip netns exec $D nft list set bridge xenguard protected6 | grep -q fe80::"

is "$(connect "$L" 192.0.2.10 8002)" open "the real peer reaches tcp/8002 (IPv4)"
is "$(connect "$L" 2001:db8::10 8002)" open "the real peer reaches tcp/8002 (IPv6)"
is "$(claim_peer 4)" timeout "a guest claiming a peer's IPv4 address never reaches tcp/8002"
is "$(claim_peer 6)" timeout "a guest claiming a peer's IPv6 address never reaches tcp/8002"
is "$(connect "$L" 192.0.2.10 8002)" open "the real peer still reaches tcp/8002 afterwards"
is "$(garp_dom0)" "$DMAC" "a guest's gratuitous ARP for Dom0's address leaves the LAN's neighbour entry alone"
is "$(ra_reaches_lan)" no "a guest's router advertisement does not reach the LAN"
is "$(dhcp_reaches_lan 4)" no "a guest's DHCP offer does not reach the LAN"
is "$(dhcp_reaches_lan 6)" no "a guest's DHCPv6 server message does not reach the LAN"
drops=$(ns "$D" nft list chain bridge xenguard guest_drop | grep -o 'counter packets [0-9]*' | tail -1 | cut -d' ' -f3)
check "the drops were counted (guest_drop: ${drops:-none})" test "${drops:-0}" -gt 0

# a guest's own traffic
is "$(connect "$G1" 192.0.2.22 7002)" open "guest 1 reaches guest 2 (IPv4)"
is "$(connect "$G1" 2001:db8::22 7002)" open "guest 1 reaches guest 2 (IPv6)"
is "$(connect "$G1" 192.0.2.11 7001)" open "guest 1 reaches the LAN"
is "$(connect "$G1" 192.0.2.10 8002)" refused "a guest reaches Dom0 (IPv4): the inet table's reject at 8002, not the bridge's drop"
is "$(connect "$G1" 2001:db8::10 8002)" refused "a guest reaches Dom0 (IPv6): the inet table's reject at 8002"

# --- declared addresses (the elements `xenguard vif online` adds) -------------
ns "$D" nft add element bridge xenguard vif_ip4 "{ \"vif2.0\" . 192.0.2.22 }"
ns "$D" nft add element bridge xenguard vif_ip6 "{ \"vif2.0\" . 2001:db8::22 }"
ns "$D" nft add element bridge xenguard vif_ip6_nd "{ \"vif2.0\" . 0x20010db8000000000000000000000022 }"
ns "$D" nft add element bridge xenguard vif_mac "{ \"vif2.0\" . $G2MAC }"
ns "$D" nft add element bridge xenguard vif_declared "{ \"vif2.0\" }"
ns "$G2" ip addr add 192.0.2.23/32 dev eth0
ns "$G2" ip addr add 2001:db8::23/128 dev eth0 nodad
declared_checks() { # $1: label
    is "$(connect "$G2" -s 192.0.2.22 192.0.2.11 7001)" open "$1: a declared guest's own IPv4 address works"
    is "$(connect "$G2" -s 2001:db8::22 2001:db8::11 7001)" open "$1: a declared guest's own IPv6 address works"
    is "$(connect "$G2" -s 192.0.2.23 192.0.2.11 7001)" timeout "$1: an undeclared IPv4 source from it is dropped"
    is "$(connect "$G2" -s 2001:db8::23 2001:db8::11 7001)" timeout "$1: an undeclared IPv6 source from it is dropped"
    is "$(connect "$G1" -s 192.0.2.21 192.0.2.11 7001)" open "$1: an undeclared port is not bound"
}
declared_checks "declared"
ns "$G2" ip link set eth0 down
ns "$G2" ip link set eth0 address 02:00:00:00:00:99
ns "$G2" ip link set eth0 up
ns "$L" ip neigh flush dev eth0
is "$(connect "$G2" -s 192.0.2.22 192.0.2.11 7001)" timeout "a declared guest with another MAC is dropped"
ns "$G2" ip link set eth0 down
ns "$G2" ip link set eth0 address "$G2MAC"
ns "$G2" ip link set eth0 up
ns "$G2" ip addr add 2001:db8::22/64 dev eth0 nodad 2>/dev/null
ns "$G2" ip addr add 2001:db8::23/128 dev eth0 nodad 2>/dev/null
ns "$L" ip neigh flush dev eth0
sleep 0.5

# --- a reload keeps the declared guests; rollback covers the bridge table ----
check "apply again (reload)" xg apply -c "$WORK/on.conf" --yes
check "the reload kept vif2.0's declared address" \
    bash -c "ip netns exec $D nft list set bridge xenguard vif_ip4 | grep -q '\"vif2.0\" . 192.0.2.22'"
check "the reload kept vif2.0's ND target companion" \
    bash -c "ip netns exec $D nft list set bridge xenguard vif_ip6_nd | grep -q 0x20010db8000000000000000000000022"
declared_checks "after a reload"

check "apply protect = no, unconfirmed" xg apply -c "$WORK/off.conf" --timeout 30
check_fails "protect = no removed table bridge xenguard" ns "$D" nft list table bridge xenguard
check "rollback" xg rollback
check "rollback brought table bridge xenguard back" ns "$D" nft list table bridge xenguard
check "... with its declared guests" \
    bash -c "ip netns exec $D nft list set bridge xenguard vif_mac | grep -q '\"vif2.0\" . $G2MAC'"
is "$(claim_peer 4)" timeout "after the rollback a guest claiming a peer still never reaches tcp/8002"

# --- the iptables backend keeps the guests' table (nft) ----------------------
if command -v iptables-restore >/dev/null && ns "$D" iptables -L >/dev/null 2>&1; then
    check "apply --backend iptables" xg apply -c "$WORK/on.conf" --backend iptables --yes
    check "the iptables backend loaded table bridge xenguard" ns "$D" nft list table bridge xenguard
    check "... and the XENGUARD chains" bash -c "ip netns exec $D iptables -S | grep -q XENGUARD-INPUT"
    is "$(claim_peer 4)" timeout "iptables backend: a guest claiming a peer never reaches tcp/8002"
    is "$(connect "$L" 192.0.2.10 8002)" open "iptables backend: the real peer reaches tcp/8002"
else
    skip "iptables backend" "iptables-restore not usable here"
fi

done_testing
