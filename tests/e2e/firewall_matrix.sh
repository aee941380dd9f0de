#!/bin/bash
# firewall_matrix.sh — the compiler's rulesets, proven with real packets.
#
# For each scenario of the specification and each backend (nft, iptables),
# build throwaway network namespaces acting as Dom0, a cluster peer, an admin
# host and an outsider (plus a switch and, for the one-NIC scenarios, the
# perimeter router), load the generated ruleset into the Dom0 namespace with
# the real nft / iptables-restore, listen on 22, the relocation port and an
# unlisted port, and assert with real TCP connections, IPv4 and IPv6, who gets
# through: open, refused (rejected) or timeout (dropped). Spoofing: the
# outsider adds a peer's address on its own side and connects with it; the
# SYN must be dropped before the listener, which an observer chain at a later
# priority proves (its counter stays 0; a positive control shows it counts).
#
# TEST-NET addresses only, inside our own namespaces; names carry the PID so
# two runs cannot collide; everything is removed on exit, even on failure.
set -u
XG=${XG:-$PWD/build/xenguard}
PROBE=${XG_TOOLS:-$PWD/build/tools}/tcpprobe
ID="xgfw$$"
WORK=$(mktemp -d /tmp/xgfw.XXXXXX)
GW_MAC=02:00:00:00:00:01
. "${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib/tap.sh"

destroy_namespaces() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ID-"); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
}
cleanup() { destroy_namespaces; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

require root nft iptables-restore ip6tables-restore ip "$PROBE" "$XG"

in_ns() { local ns=$1; shift; ip netns exec "$ID-$ns" "$@"; }

mkns() {
    ip netns add "$ID-$1"
    in_ns "$1" ip link set lo up
    # no duplicate address detection: addresses are usable at once
    in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

links=0
# link NS_A IF_A NS_B IF_B: a veth pair between two namespaces
link() {
    links=$((links + 1))
    local a="v$$x${links}a" b="v$$x${links}b"
    ip link add "$a" type veth peer name "$b"
    ip link set "$a" netns "$ID-$1"
    ip link set "$b" netns "$ID-$3"
    in_ns "$1" ip link set "$a" name "$2" up
    in_ns "$3" ip link set "$b" name "$4" up
}

# on_switch NS IF: connect NS's IF to the bridge in the "sw" namespace
ports=0
on_switch() {
    ports=$((ports + 1))
    local port="p${ports}"
    link "$1" "$2" sw "$port"
    in_ns sw ip link set "$port" master br0
}

addr() { in_ns "$1" ip addr add "$3" dev "$2" nodad 2>/dev/null || in_ns "$1" ip addr add "$3" dev "$2"; }

make_switch() {
    mkns sw
    in_ns sw ip link add br0 type bridge mcast_snooping 0
    in_ns sw ip link set br0 up
}

# --- topologies -----------------------------------------------------------

# Two NICs: eth0 public (outsider attached directly), eth1 on the management switch.
topology_isolated() {
    mkns dom0; mkns peer; mkns admin; mkns out; make_switch
    on_switch dom0 eth1; on_switch peer eth0; on_switch admin eth0
    link dom0 eth0 out eth0
    addr dom0 eth1 192.0.2.10/24; addr dom0 eth1 2001:db8::10/64
    addr dom0 eth0 203.0.113.10/24; addr dom0 eth0 2001:db8:ffff::10/64
    addr peer eth0 192.0.2.11/24; addr peer eth0 2001:db8::11/64
    addr admin eth0 192.0.2.20/24; addr admin eth0 2001:db8::20/64
    addr out eth0 203.0.113.50/24; addr out eth0 2001:db8:ffff::50/64
    # the outsider knows where the management addresses live and tries them through eth0
    in_ns out ip route add 192.0.2.0/24 via 203.0.113.10
    in_ns out ip -6 route add 2001:db8::/64 via 2001:db8:ffff::10
}

# One NIC on the cluster LAN; a perimeter router (that does no filtering) links
# the LAN to the admins' network and to the outside.
topology_one_nic() {
    mkns dom0; mkns peer; mkns admin; mkns out; mkns rtr; make_switch
    on_switch dom0 eth0; on_switch peer eth0; on_switch rtr lan
    in_ns rtr ip link set lan address "$GW_MAC"
    link rtr adm admin eth0
    link rtr wan out eth0
    in_ns rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.conf.wan.rp_filter=0 net.ipv4.conf.lan.rp_filter=0
    addr rtr lan 192.0.2.1/24; addr rtr lan 2001:db8::1/64
    addr rtr adm 198.51.100.1/24; addr rtr adm 2001:db8:5::1/64
    addr rtr wan 203.0.113.1/24; addr rtr wan 2001:db8:ffff::1/64
    addr dom0 eth0 192.0.2.10/24; addr dom0 eth0 2001:db8::10/64
    addr peer eth0 192.0.2.11/24; addr peer eth0 2001:db8::11/64
    addr admin eth0 198.51.100.20/24; addr admin eth0 2001:db8:5::20/64
    addr out eth0 203.0.113.50/24; addr out eth0 2001:db8:ffff::50/64
    for h in dom0 peer; do
        in_ns $h ip route add default via 192.0.2.1
        in_ns $h ip -6 route add default via 2001:db8::1
    done
    in_ns admin ip route add default via 198.51.100.1
    in_ns admin ip -6 route add default via 2001:db8:5::1
    in_ns out ip route add default via 203.0.113.1
    in_ns out ip -6 route add default via 2001:db8:ffff::1
}

# --- policies ---------------------------------------------------------------

policy_isolated() {
    cat <<'EOF'
[host]
scenario = isolated-management
public-interface = eth0
management-interface = eth1
[cluster]
peers = 192.0.2.11 2001:db8::11
networks = 192.0.2.0/24 2001:db8::/64
[migration]
transport = xend
port = 8002
[admin]
ssh-from = 192.0.2.20 2001:db8::20
EOF
}

policy_firewalled() {
    cat <<EOF
[host]
scenario = firewalled-subnet
public-interface = eth0
gateway-mac = $GW_MAC
[cluster]
peers = 192.0.2.11 2001:db8::11
networks = 192.0.2.0/24 2001:db8::/64
[migration]
transport = xend
port = 8002
[admin]
ssh-from = 198.51.100.0/24 2001:db8:5::/64
EOF
}

policy_untrusted() { # $1: tunnel | off
    cat <<EOF
[host]
scenario = untrusted
public-interface = eth0
gateway-mac = $GW_MAC
[cluster]
peers = 192.0.2.11 2001:db8::11
[migration]
transport = $1
port = 8002
[admin]
ssh-from = 198.51.100.20 2001:db8:5::20
EOF
}

# --- loading ----------------------------------------------------------------

load_ruleset() { # backend policy-file label
    local backend=$1 policy=$2 label=$3
    if [ "$backend" = nft ]; then
        "$XG" firewall -c "$policy" >"$WORK/rules.nft" 2>"$WORK/err" &&
            in_ns dom0 nft -f "$WORK/rules.nft" 2>>"$WORK/err"
    else
        "$XG" firewall -c "$policy" --format iptables >"$WORK/rules.v4" 2>"$WORK/err" &&
            "$XG" firewall -c "$policy" --format ip6tables >"$WORK/rules.v6" 2>>"$WORK/err" &&
            in_ns dom0 iptables-restore --noflush <"$WORK/rules.v4" 2>>"$WORK/err" &&
            in_ns dom0 ip6tables-restore --noflush <"$WORK/rules.v6" 2>>"$WORK/err"
    fi
    local rc=$?
    if [ $rc = 0 ]; then ok "$label: ruleset loads into the Dom0 namespace"; else
        not_ok "$label: ruleset loads into the Dom0 namespace" "$(cat "$WORK/err")"; fi
    return $rc
}

# Reloading replaces xenguard's rules and nothing else.
check_reload() { # backend policy label
    local backend=$1 policy=$2 label=$3
    if [ "$backend" = nft ]; then
        in_ns dom0 nft -f "$WORK/rules.nft"
        is "$(in_ns dom0 nft list tables | grep -c 'table inet xenguard')" 1 \
            "$label: reload leaves exactly one table inet xenguard"
        is "$(in_ns dom0 nft list tables | grep -c 'table inet xgobserve')" 1 \
            "$label: reload leaves the other table alone"
    else
        "$XG" firewall -c "$policy" --format iptables --no-hook >"$WORK/rules.v4"
        in_ns dom0 iptables-restore --noflush <"$WORK/rules.v4"
        is "$(in_ns dom0 iptables -S INPUT | grep -c 'XENGUARD-INPUT')" 1 \
            "$label: reload with --no-hook keeps one jump from INPUT"
        is "$(in_ns dom0 nft list tables | grep -c 'table inet xgobserve')" 1 \
            "$label: reload leaves the other table alone"
    fi
}

# An observer at a later priority than any filter: what it counts got past xenguard.
start_observer() {
    in_ns dom0 nft -f - <<EOF
table inet xgobserve {
    chain input {
        type filter hook input priority 10; policy accept;
        ether saddr $GW_MAC ip saddr 192.0.2.11 tcp dport 8002 counter comment "gw-spoof4"
        ether saddr $GW_MAC ip6 saddr 2001:db8::11 tcp dport 8002 counter comment "gw-spoof6"
        iifname "eth0" ip saddr 192.0.2.11 tcp dport 8002 counter comment "eth0-spoof4"
        iifname "eth0" ip6 saddr 2001:db8::11 tcp dport 8002 counter comment "eth0-spoof6"
        iifname "eth1" ip saddr 198.51.100.77 counter comment "mgmt-foreign"
        ether saddr != $GW_MAC ip saddr 192.0.2.11 tcp dport 8002 counter comment "peer4"
    }
}
EOF
}

observed() { # comment -> packets counted
    in_ns dom0 nft list table inet xgobserve |
        sed -n "s/.*counter packets \([0-9]*\) bytes.*comment \"$1\".*/\1/p"
}

start_listeners() {
    in_ns dom0 "$PROBE" listen 22 8002 9999 >"$WORK/listen.out" 2>&1 &
    for _ in $(seq 50); do grep -q listening "$WORK/listen.out" 2>/dev/null && return; sleep 0.1; done
}

# expect FROM-NS DST PORT WANT LABEL [SRC]
expect() {
    local from=$1 dst=$2 port=$3 want=$4 label=$5 src=${6:-}
    local got
    got=$(in_ns "$from" "$PROBE" connect ${src:+-s "$src"} -t 1000 "$dst" "$port")
    is "$got" "$want" "$label: $from${src:+ (as $src)} -> [$dst]:$port is $want"
}

# the service matrix: FROM DST4 DST6 WANT22 WANT8002 WANT9999
matrix() {
    local label=$1 from=$2 dst4=$3 dst6=$4
    expect "$from" "$dst4" 22 "$5" "$label"
    expect "$from" "$dst4" 8002 "$6" "$label"
    expect "$from" "$dst4" 9999 "$7" "$label"
    expect "$from" "$dst6" 22 "$5" "$label"
    expect "$from" "$dst6" 8002 "$6" "$label"
    expect "$from" "$dst6" 9999 "$7" "$label"
}

run_isolated() { # backend
    local label="isolated-management/$1"
    topology_isolated
    policy_isolated >"$WORK/policy.conf"
    start_observer
    load_ruleset "$1" "$WORK/policy.conf" "$label" || { destroy_namespaces; return; }
    start_listeners
    matrix "$label" peer 192.0.2.10 2001:db8::10 refused open refused
    matrix "$label" admin 192.0.2.10 2001:db8::10 open refused refused
    matrix "$label" out 203.0.113.10 2001:db8:ffff::10 refused refused refused
    # relocation is bound to the management interface: not reachable through eth0
    expect out 192.0.2.10 8002 refused "$label: management address via the public interface"
    expect out 2001:db8::10 8002 refused "$label: management address via the public interface"
    # the outsider claims to be the peer on the public interface
    addr out eth0 192.0.2.11/32; addr out eth0 2001:db8::11/128
    expect out 192.0.2.10 8002 timeout "$label: spoofed peer on the public side" 192.0.2.11
    expect out 2001:db8::10 8002 timeout "$label: spoofed peer on the public side" 2001:db8::11
    is "$(observed eth0-spoof4)" 0 "$label: spoofed IPv4 SYN never reached the listener"
    is "$(observed eth0-spoof6)" 0 "$label: spoofed IPv6 SYN never reached the listener"
    # a source outside the management networks, on the management switch
    addr admin eth0 198.51.100.77/32
    expect admin 192.0.2.10 22 timeout "$label: foreign source on the management network" \
        198.51.100.77
    is "$(observed mgmt-foreign)" 0 "$label: foreign management source dropped before input"
    check_reload "$1" "$WORK/policy.conf" "$label"
    destroy_namespaces
}

run_one_nic() { # backend scenario(firewalled|untrusted|untrusted-off)
    local backend=$1 scenario=$2 label="$2/$1" mig=open
    topology_one_nic
    case $scenario in
    firewalled) policy_firewalled >"$WORK/policy.conf" ;;
    untrusted) policy_untrusted tunnel >"$WORK/policy.conf" ;;
    untrusted-off) policy_untrusted off >"$WORK/policy.conf"; mig=refused ;;
    esac
    start_observer
    load_ruleset "$backend" "$WORK/policy.conf" "$label" || { destroy_namespaces; return; }
    start_listeners
    matrix "$label" peer 192.0.2.10 2001:db8::10 refused "$mig" refused
    matrix "$label" admin 192.0.2.10 2001:db8::10 open refused refused
    matrix "$label" out 192.0.2.10 2001:db8::10 refused refused refused
    if [ "$mig" = open ]; then
        local peer4; peer4=$(observed peer4)
        check "$label: observer counts the real peer's SYN (control)" test "${peer4:-0}" -gt 0 ||
            diag "counted: '$peer4'"
    fi
    # the outsider claims to be the peer; the router forwards it without checking
    addr out eth0 192.0.2.11/32; addr out eth0 2001:db8::11/128
    expect out 192.0.2.10 8002 timeout "$label: spoofed peer routed in from outside" 192.0.2.11
    expect out 2001:db8::10 8002 timeout "$label: spoofed peer routed in from outside" \
        2001:db8::11
    is "$(observed gw-spoof4)" 0 "$label: spoofed IPv4 SYN never reached the listener"
    is "$(observed gw-spoof6)" 0 "$label: spoofed IPv6 SYN never reached the listener"
    check_reload "$backend" "$WORK/policy.conf" "$label"
    destroy_namespaces
}

for backend in nft iptables; do
    run_isolated "$backend"
    run_one_nic "$backend" firewalled
    run_one_nic "$backend" untrusted
    run_one_nic "$backend" untrusted-off
done

done_testing
