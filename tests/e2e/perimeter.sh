#!/bin/bash
# perimeter.sh — `xenguard perimeter` on a real router, proven with real packets;
# `analyze --perimeter` on what was loaded and on a broken router; `apply
# --perimeter` rolled back when not confirmed.
#
# Namespaces (names carry the PID): an outside segment (bridge in "osw") with
# an attacker (203.0.113.50, 2001:db8:ffff::50) and an admin host in ssh-from
# (198.51.100.20, 2001:db8:5::20); a router (wan outside, lan inside) that
# forwards and does no filtering of its own (rp_filter off: only the loaded
# ruleset can stop anything); an inside segment (bridge in "isw") with two
# Dom0s, the peers (192.0.2.11/.12, 2001:db8::11/12), and a guest
# (192.0.2.20, 2001:db8::20). Observer chains (inet xgobserve, input hook) on
# a Dom0, the guest and the attacker count what arrived; a positive control
# before the ruleset is loaded shows each counts. Then, for nft and for
# iptables: who reaches what (real TCP), spoofed sources from outside never
# reach a Dom0 or the guest, a forged source from inside never gets out, IPv4
# and IPv6. TEST-NET addresses only; everything is removed on exit.
set -u
XG=${XG:-$PWD/build/xenguard}
PROBE=${XG_TOOLS:-$PWD/build/tools}/tcpprobe
ID="xgper$$"
WORK=$(mktemp -d /tmp/xgper.XXXXXX)
RTR_MAC=02:00:00:00:02:01
. "${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib/tap.sh"

destroy_namespaces() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ID-"); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
}
STATE=""
cleanup() {
    destroy_namespaces
    rm -rf "$WORK"
    [ -z "$STATE" ] || rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

require root nft iptables-restore ip6tables-restore iptables-save ip6tables-save ip "$PROBE" "$XG"

in_ns() { local ns=$1; shift; ip netns exec "$ID-$ns" "$@"; }

mkns() {
    ip netns add "$ID-$1"
    in_ns "$1" ip link set lo up
    in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

links=0
link() { # NS_A IF_A NS_B IF_B
    links=$((links + 1))
    local a="v$$p${links}a" b="v$$p${links}b"
    ip link add "$a" type veth peer name "$b"
    ip link set "$a" netns "$ID-$1"
    ip link set "$b" netns "$ID-$3"
    in_ns "$1" ip link set "$a" name "$2" up
    in_ns "$3" ip link set "$b" name "$4" up
}

ports=0
on_switch() { # SWITCH-NS NS IF
    ports=$((ports + 1))
    link "$2" "$3" "$1" "p${ports}"
    in_ns "$1" ip link set "p${ports}" master br0
}

make_switch() {
    mkns "$1"
    in_ns "$1" ip link add br0 type bridge mcast_snooping 0
    in_ns "$1" ip link set br0 up
}

addr() { in_ns "$1" ip addr add "$3" dev "$2" nodad 2>/dev/null || in_ns "$1" ip addr add "$3" dev "$2"; }

topology() {
    local h
    make_switch osw; make_switch isw
    for h in rtr out admin dom0a dom0b guest; do mkns $h; done
    on_switch osw rtr wan; on_switch osw out eth0; on_switch osw admin eth0
    on_switch isw rtr lan; on_switch isw dom0a eth0; on_switch isw dom0b eth0
    on_switch isw guest eth0
    in_ns rtr ip link set lan address "$RTR_MAC"
    in_ns rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.conf.wan.rp_filter=0 net.ipv4.conf.lan.rp_filter=0
    addr rtr wan 203.0.113.1/24; addr rtr wan 198.51.100.1/24
    addr rtr wan 2001:db8:ffff::1/64; addr rtr wan 2001:db8:5::1/64
    addr rtr lan 192.0.2.1/24; addr rtr lan 2001:db8::1/64
    addr out eth0 203.0.113.50/24; addr out eth0 2001:db8:ffff::50/64
    addr admin eth0 198.51.100.20/24; addr admin eth0 2001:db8:5::20/64
    addr dom0a eth0 192.0.2.11/24; addr dom0a eth0 2001:db8::11/64
    addr dom0b eth0 192.0.2.12/24; addr dom0b eth0 2001:db8::12/64
    addr guest eth0 192.0.2.20/24; addr guest eth0 2001:db8::20/64
    in_ns out ip route add default via 203.0.113.1
    in_ns out ip -6 route add default via 2001:db8:ffff::1
    in_ns admin ip route add default via 198.51.100.1
    in_ns admin ip -6 route add default via 2001:db8:5::1
    for h in dom0a dom0b guest; do
        in_ns $h ip route add default via 192.0.2.1
        in_ns $h ip -6 route add default via 2001:db8::1
    done
}

policy() {
    cat <<'EOF'
[host]
scenario = firewalled-subnet
public-interface = eth0
[cluster]
peers = 192.0.2.11 192.0.2.12 2001:db8::11 2001:db8::12
networks = 192.0.2.0/24 2001:db8::/64
[migration]
transport = xend
port = 8002
[admin]
ssh-from = 198.51.100.0/24 2001:db8:5::/48
[perimeter]
outside-interface = wan
inside-interface = lan
EOF
}

# Observers at the input hook of the receivers: what they count got through the router.
observe() { # NS RULES...
    local ns=$1
    shift
    # replaced as a whole: a fresh table is the only way to zero rule counters in nft 1.0.6
    { echo "table inet xgobserve {}"; echo "delete table inet xgobserve"
      echo "table inet xgobserve {"; echo " chain input {"
      echo "  type filter hook input priority 10; policy accept;"
      printf '  %s\n' "$@"; echo " }"; echo "}"; } | in_ns "$ns" nft -f -
}
start_observers() {
    observe dom0a \
        "ether saddr $RTR_MAC ip saddr 192.0.2.12 tcp dport 8002 counter comment \"spoof4\"" \
        "ether saddr $RTR_MAC ip6 saddr 2001:db8::12 tcp dport 8002 counter comment \"spoof6\""
    observe guest \
        "ip saddr 169.254.7.7 tcp dport 80 counter comment \"ll4\"" \
        "ether saddr $RTR_MAC ip saddr 192.0.2.12 tcp dport 80 counter comment \"net4\""
    observe out \
        "ip saddr 203.0.113.99 tcp dport 9000 counter comment \"forged4\"" \
        "ip6 saddr 2001:db8:ffff::99 tcp dport 9000 counter comment \"forged6\""
}
observed() { # NS COMMENT -> packets
    in_ns "$1" nft list table inet xgobserve |
        sed -n "s/.*counter packets \([0-9]*\) bytes.*comment \"$2\".*/\1/p"
}
reset_observers() { start_observers; }

start_listeners() {
    local h
    for h in dom0a dom0b; do in_ns $h "$PROBE" listen 22 8000 8002 >"$WORK/l.$h" 2>&1 & done
    in_ns guest "$PROBE" listen 80 8002 >"$WORK/l.guest" 2>&1 &
    in_ns out "$PROBE" listen 9000 >"$WORK/l.out" 2>&1 &
    for h in dom0a dom0b guest out; do
        for _ in $(seq 50); do grep -q listening "$WORK/l.$h" 2>/dev/null && break; sleep 0.1; done
    done
}

expect() { # FROM DST PORT WANT LABEL [SRC]
    local got
    got=$(in_ns "$1" "$PROBE" connect ${6:+-s "$6"} -t 1000 "$2" "$3")
    is "$got" "$4" "$5: $1${6:+ (as $6)} -> [$2]:$3 is $4"
}

# The spoofing attempts: the attacker claims dom0b's addresses and a link-local one, the
# guest an outside one; the forged sources exist only while they are tried.
forged() { # add|del
    in_ns out ip addr "$1" 192.0.2.12/32 dev eth0
    in_ns out ip addr "$1" 2001:db8::12/128 dev eth0 ${2:-}
    in_ns out ip addr "$1" 169.254.7.7/32 dev eth0
    in_ns guest ip addr "$1" 203.0.113.99/32 dev eth0
    in_ns guest ip addr "$1" 2001:db8:ffff::99/128 dev eth0 ${2:-}
}
spoof_attempts() {
    forged add nodad
    expect out 192.0.2.11 8002 timeout "$1" 192.0.2.12
    expect out 2001:db8::11 8002 timeout "$1" 2001:db8::12
    expect out 192.0.2.20 80 timeout "$1" 169.254.7.7
    expect out 192.0.2.20 80 timeout "$1" 192.0.2.12
    expect guest 203.0.113.50 9000 timeout "$1" 203.0.113.99
    expect guest 2001:db8:ffff::50 9000 timeout "$1" 2001:db8:ffff::99
    forged del
}

control() {
    local label="no ruleset (control)"
    expect out 192.0.2.11 8002 open "$label"
    spoof_attempts "$label"
    local n
    for n in "dom0a spoof4" "dom0a spoof6" "guest ll4" "guest net4" "out forged4" "out forged6"; do
        set -- $n
        check "$label: the observer on $1 counts '$2'" test "$(observed "$1" "$2")" -gt 0
    done
    reset_observers
}

matrix() { # LABEL
    local l=$1 d
    for d in 192.0.2.11 2001:db8::11 192.0.2.12 2001:db8::12; do
        expect out "$d" 8002 timeout "$l"
        expect out "$d" 8000 timeout "$l"
        expect out "$d" 22 timeout "$l"
    done
    expect admin 192.0.2.11 22 open "$l"
    expect admin 2001:db8::12 22 open "$l"
    expect admin 192.0.2.11 8002 timeout "$l"
    expect out 192.0.2.20 80 open "$l"
    expect out 2001:db8::20 80 open "$l"
    expect out 192.0.2.20 8002 open "$l: the guests are not the perimeter's business"
    expect dom0b 192.0.2.11 8002 open "$l: inside-to-inside relocation"
    expect dom0b 2001:db8::11 8002 open "$l: inside-to-inside relocation"
    expect guest 203.0.113.50 9000 open "$l: the inside reaches out with its own source"
    spoof_attempts "$l"
    local n
    for n in "dom0a spoof4" "dom0a spoof6" "guest ll4" "guest net4" "out forged4" "out forged6"; do
        set -- $n
        is "$(observed "$1" "$2")" 0 "$l: no '$2' packet reached $1"
    done
}

analyze_loaded() { # LABEL ARGS... (the router's ruleset as files)
    local l=$1
    shift
    check "$l: analyze --perimeter passes the loaded ruleset" \
        "$XG" analyze --perimeter -c "$WORK/policy.conf" "$@"
}

topology
policy >"$WORK/policy.conf"
start_observers
start_listeners
control

# --- nft --------------------------------------------------------------------
check "nft: xenguard perimeter compiles" sh -c "'$XG' perimeter -c '$WORK/policy.conf' >'$WORK/p.nft'"
check "nft: the router loads it" in_ns rtr nft -f "$WORK/p.nft"
matrix nft
check "nft: the ingress drops were counted" \
    sh -c "ip netns exec $ID-rtr nft list chain inet xenguard-perimeter perimeter-ingress |
           grep -q 'counter packets [1-9]'"
in_ns rtr nft -j list ruleset >"$WORK/rtr.json"
analyze_loaded nft --nft-json "$WORK/rtr.json"
check "nft: reloading replaces the table (one table, nothing else flushed)" \
    sh -c "ip netns exec $ID-rtr nft -f '$WORK/p.nft' &&
           test \$(ip netns exec $ID-rtr nft list tables | grep -c xenguard-perimeter) = 1"
in_ns rtr nft delete table inet xenguard-perimeter
reset_observers

# --- iptables ----------------------------------------------------------------
check "iptables: xenguard perimeter compiles (both families)" \
    sh -c "'$XG' perimeter -c '$WORK/policy.conf' -f iptables >'$WORK/p.v4' &&
           '$XG' perimeter -c '$WORK/policy.conf' -f ip6tables >'$WORK/p.v6'"
check "iptables: the router loads it" \
    sh -c "ip netns exec $ID-rtr iptables-restore --noflush <'$WORK/p.v4' &&
           ip netns exec $ID-rtr ip6tables-restore --noflush <'$WORK/p.v6'"
matrix iptables
in_ns rtr iptables-save >"$WORK/rtr.v4"
in_ns rtr ip6tables-save >"$WORK/rtr.v6"
analyze_loaded iptables --iptables "$WORK/rtr.v4" --ip6tables "$WORK/rtr.v6"

# --- apply --perimeter: rollback unless confirmed, the host's table untouched -----
for t in iptables ip6tables; do in_ns rtr $t -F; in_ns rtr $t -X; done
STATE=$(mktemp -d /run/xenguard-e2e.XXXXXX)
xgr() { in_ns rtr env -u SSH_CONNECTION "$XG" "$@" --state-dir "$STATE"; }
watchdog_gone() { # wait for the pending apply to be rolled back (the watchdog's pid from `pending`)
    local i
    for i in $(seq 1 150); do [ -e "$STATE/pending" ] || return 0; sleep 0.2; done
    return 1
}
kill_watchdog() { local pid; pid=$(awk '{print $2}' "$STATE/pending" 2>/dev/null); [ -z "$pid" ] || kill "$pid" 2>/dev/null; }
in_ns rtr nft -f - <<'EOF2' || bail_out "cannot create the other table"
table inet other {
    chain pass {
        type filter hook forward priority 10; policy accept;
        counter
    }
}
EOF2
has_table() { in_ns rtr nft list tables | grep -qx "table inet $1"; }
check "apply --perimeter (nft): loads with an 8s rollback timer" \
    xgr apply --perimeter -c "$WORK/policy.conf" --backend nft --timeout 8 --rollback-via process
check "apply --perimeter: the pending apply is the perimeter's" grep -q ' perimeter$' "$STATE/pending"
check "apply --perimeter: table inet xenguard-perimeter is loaded" has_table xenguard-perimeter
expect out 192.0.2.11 8002 timeout "apply --perimeter (nft, loaded)"
check "apply --perimeter: unconfirmed, the watchdog rolls it back" watchdog_gone || kill_watchdog
check "apply --perimeter: after the rollback there is no perimeter table" \
    sh -c "! ip netns exec $ID-rtr nft list tables | grep -q xenguard-perimeter"
check "apply --perimeter: the router's other table is untouched" has_table other
expect out 192.0.2.11 8002 open "apply --perimeter (nft, rolled back)"
check "apply --perimeter: the host firewall's snapshots are not touched" \
    sh -c "! ls '$STATE' | grep -q '^previous\.'"
check "apply --perimeter (nft) + confirm keeps it" \
    sh -c "ip netns exec $ID-rtr env -u SSH_CONNECTION '$XG' apply --perimeter -c '$WORK/policy.conf' \
             --backend nft --timeout 60 --rollback-via process --state-dir '$STATE' >/dev/null &&
           ip netns exec $ID-rtr env -u SSH_CONNECTION '$XG' confirm --state-dir '$STATE' >/dev/null"
check "apply --perimeter: confirmed, it stays, saved as perimeter-confirmed.nft" \
    sh -c "test ! -e '$STATE/pending' && test -s '$STATE/perimeter-confirmed.nft'"
check "apply --perimeter: still loaded after confirm" has_table xenguard-perimeter
in_ns rtr nft delete table inet xenguard-perimeter
rm -f "$STATE"/perimeter-*
ipt_hooks() { in_ns rtr iptables-save | grep -c -- '-A FORWARD -j XENGUARD-PERIMETER-FORWARD'; }
check "apply --perimeter (iptables): loads with an 8s rollback timer" \
    xgr apply --perimeter -c "$WORK/policy.conf" --backend iptables --timeout 8 --rollback-via process
is "$(ipt_hooks)" 1 "apply --perimeter (iptables): FORWARD jumps to XENGUARD-PERIMETER-FORWARD once"
expect out 2001:db8::11 8002 timeout "apply --perimeter (iptables, loaded)"
check "apply --perimeter (iptables): unconfirmed, the watchdog rolls it back" watchdog_gone || kill_watchdog
is "$(ipt_hooks)" 0 "apply --perimeter (iptables): after the rollback no jump is left"
check "apply --perimeter (iptables): no XENGUARD-PERIMETER chain is left" \
    sh -c "! ip netns exec $ID-rtr iptables-save | grep -q XENGUARD-PERIMETER"
expect out 2001:db8::11 8002 open "apply --perimeter (iptables, rolled back)"
check "apply --perimeter with --ruleset is a usage error" \
    sh -c "ip netns exec $ID-rtr '$XG' apply --perimeter --ruleset /dev/null --state-dir '$STATE' 2>/dev/null; test \$? = 2"

# --- analyze: a hand-written router with one hole of each kind ---------------
cat >"$WORK/broken.v4" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i lan -s 192.0.2.0/24 -j ACCEPT
-A FORWARD -i wan -s 192.0.2.0/24 -j DROP
-A FORWARD -i wan -s 127.0.0.0/8 -j DROP
-A FORWARD -i wan -s 0.0.0.0/8 -j DROP
-A FORWARD -i wan -s 169.254.0.0/16 -j DROP
-A FORWARD -i wan -s 224.0.0.0/3 -j DROP
-A FORWARD -i wan -p tcp -s 198.51.100.0/24 -d 192.0.2.11 --dport 22 -j ACCEPT
-A FORWARD -i wan -p tcp -d 192.0.2.20 --dport 80 -j ACCEPT
-A FORWARD -i wan -p tcp -d 192.0.2.12 --dport 8002 -j ACCEPT
COMMIT
EOF
cat >"$WORK/broken.v6" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i lan -s 2001:db8::/64 -j ACCEPT
-A FORWARD -i wan -s fe80::/10 -j DROP
-A FORWARD -i wan -s ff00::/8 -j DROP
-A FORWARD -i wan -s ::1/128 -j DROP
-A FORWARD -i wan -s ::/128 -j DROP
-A FORWARD -i wan -s ::ffff:0.0.0.0/96 -j DROP
-A FORWARD -i wan -p tcp -d 2001:db8::20 --dport 80 -j ACCEPT
COMMIT
EOF
"$XG" analyze --perimeter -c "$WORK/policy.conf" --iptables "$WORK/broken.v4" \
    --ip6tables "$WORK/broken.v6" >"$WORK/broken.out" 2>&1
is "$?" 1 "analyze --perimeter: a router with holes exits 1"
check "analyze --perimeter: names the IPv6 spoofing hole (no cluster-source drop: line 12)" \
    grep -q "XG-PER-001 FAILS" "$WORK/broken.out"
check "analyze --perimeter: names the rule behind the IPv6 spoofing hole (broken.v6:12)" \
    grep -q "broken.v6:12:" "$WORK/broken.out"
check "analyze --perimeter: names the management hole (broken.v4:14, 8002 from outside)" \
    sh -c "sed -n '/XG-PER-002/,\$p' '$WORK/broken.out' | grep -q 'broken.v4:14:'"
check "analyze --perimeter: the IPv4 spoofing drops are complete (no broken.v4:13 hole)" \
    sh -c "! sed -n '/XG-PER-001/,/XG-PER-002/p' '$WORK/broken.out' | grep -q 'broken.v4:13:'"
diag "$(cat "$WORK/broken.out")"
"$XG" analyze --perimeter -c "$WORK/policy.conf" --iptables /nonexistent >/dev/null 2>&1
is "$?" 2 "analyze --perimeter: an unreadable input exits 2"

# --- audit: the same answers as checks XG-PER-001/002 -------------------------
mkdir -p "$WORK/root"
audit() { "$XG" audit -r "$WORK/root" -c "$WORK/policy.conf" --fail-on critical "$@" 2>&1; }
audit --perimeter-ruleset "$WORK/broken.v4" --perimeter-ruleset "$WORK/broken.v6" >"$WORK/audit.out"
check "audit --perimeter-ruleset: XG-PER-001 fails on the broken router" \
    grep -Eq 'FAIL +XG-PER-001' "$WORK/audit.out"
check "audit --perimeter-ruleset: XG-PER-002 fails, naming broken.v4:14" \
    sh -c "grep -E -A3 'FAIL +XG-PER-002' '$WORK/audit.out' | grep -q 'broken.v4:14:'"
audit --perimeter-ruleset "$WORK/rtr.v4" --perimeter-ruleset "$WORK/rtr.v6" -v >"$WORK/audit.out"
check "audit --perimeter-ruleset: both pass on the ruleset xenguard loaded" \
    sh -c "grep -Eq 'PASS +XG-PER-001' '$WORK/audit.out' && grep -Eq 'PASS +XG-PER-002' '$WORK/audit.out'"
audit >"$WORK/audit.out"
check "audit without --perimeter-ruleset: both n/a" \
    sh -c "grep -Eq 'N/A +XG-PER-001' '$WORK/audit.out' && grep -Eq 'N/A +XG-PER-002' '$WORK/audit.out'"

done_testing
