#!/bin/bash
# analyze_bridged.sh — the differential test of a forward path BRIDGED with
# br_netfilter: `xenguard analyze --chain forward` against real packets.
#
# A namespace holds bridge br0 with three ports (vifa, vifb, vifc), each a
# veth into a guest namespace on one L2 segment (TEST-NET addresses, on-link
# routes, so hosts of different /24s talk across the bridge without a router):
#   gA 192.0.2.10, 192.0.2.130, 203.0.113.10    gB 192.0.2.20, 198.51.100.20
#   gC 198.51.100.30, 203.0.113.30
# With net.bridge.bridge-nf-call-iptables=1 in that namespace, bridged IPv4
# frames meet iptables' FORWARD chain (in = out = br0, physdev = the ports).
# The test loads a FORWARD ruleset (address, port, reject and physdev
# rules; random ports) with the real iptables-restore, and for every port
# and every pair of addresses on different guests opens a real TCP
# connection; the analyzer, given the same ruleset, answers which sources
# reach each destination and port (--reach --to on the forward path).
# Zero disagreements: open <=> accept where the answer is exact; where it
# is a bound (physdev is not modelled) the kernel's outcome lies within it.
# A control first shows the sysctl matters: with it 0, a connection the
# ruleset drops gets through the bridge.
#
# Machine-wide state: on this kernel br_netfilter is built in and the
# sysctl is per network namespace, so nothing outside our namespaces
# changes; the test checks that (it flips the value in its namespace and
# reads the host's). Where it is not (old kernels), or br_netfilter is a
# module to load, the change is machine-wide: the test then restores the
# host's value / unloads the module on exit. Either way it holds an
# exclusive flock on /run/lock/xenguard-br-netfilter.lock for its whole
# run, so two runs (other worktrees, CI) never overlap; tests/run runs e2e
# scripts one after another, so it never overlaps the other bridge tests of
# one run.
set -u
XG=${XG:-$PWD/build/xenguard}
PROBE=${XG_TOOLS:-$PWD/build/tools}/tcpprobe
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
ID="xgbn$$"
NF=/proc/sys/net/bridge/bridge-nf-call-iptables
LOCK=/run/lock/xenguard-br-netfilter.lock
WORK=$(mktemp -d /tmp/xgbn.XXXXXX)
. "$ROOT/tests/e2e/lib/tap.sh"
HOST_NF="" MODULE_LOADED=""

cleanup() {
    local ns
    for ns in br ga gb gc; do
        ip netns pids "$ID-$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ID-$ns" 2>/dev/null
    done
    [ -n "$HOST_NF" ] && [ -w "$NF" ] && echo "$HOST_NF" >"$NF"
    [ -n "$MODULE_LOADED" ] && modprobe -r br_netfilter 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PY=/usr/bin/python3 # Debian's: the python3 on PATH may be a slow shim
require root ip iptables-restore flock "$PY" "$PROBE" "$XG"
exec 9>"$LOCK" || bail_out "cannot open $LOCK"
flock -w 900 9 || bail_out "another run holds $LOCK for more than 15 minutes"
if [ ! -e "$NF" ]; then
    modprobe br_netfilter || bail_out "br_netfilter is neither built in nor loadable"
    MODULE_LOADED=1
fi
HOST_BEFORE=$(cat "$NF")

in_ns() { local ns=$1; shift; ip netns exec "$ID-$ns" "$@"; }
declare -A ADDRS=([ga]="192.0.2.10 192.0.2.130 203.0.113.10" [gb]="192.0.2.20 198.51.100.20"
    [gc]="198.51.100.30 203.0.113.30")
PORT=$((20000 + RANDOM % 30000))
P1=$PORT P2=$((PORT + 1)) P3=$((PORT + 2)) P4=$((PORT + 3))

setup() {
    local g a net
    ip netns add "$ID-br" && in_ns br ip link set lo up || return 1
    in_ns br ip link add br0 type bridge && in_ns br ip link set br0 up || return 1
    for g in ga gb gc; do
        ip netns add "$ID-$g" && in_ns "$g" ip link set lo up || return 1
        ip link add "b$$$g" netns "$ID-br" type veth peer name eth0 netns "$ID-$g" || return 1
        in_ns br ip link set "b$$$g" name "vif${g#g}" || return 1
        in_ns br ip link set "vif${g#g}" master br0 up && in_ns "$g" ip link set eth0 up || return 1
        in_ns "$g" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
        for a in ${ADDRS[$g]}; do in_ns "$g" ip addr add "$a/24" dev eth0 || return 1; done
        for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24; do
            in_ns "$g" ip route replace "$net" dev eth0 || return 1
        done
    done
    in_ns gb "$PROBE" listen "$P1" "$P2" "$P3" "$P4" >/dev/null 2>&1 &
    in_ns gc "$PROBE" listen "$P1" "$P2" "$P3" "$P4" >/dev/null 2>&1 &
    cat >"$WORK/bridged.rules" <<EOF
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -p tcp -m physdev --physdev-in vifa --physdev-out vifc --physdev-is-bridged -m tcp --dport $P4 -j ACCEPT
-A FORWARD -i br0 -o br0 -s 192.0.2.128/25 -j DROP
-A FORWARD -i br0 -o br0 -p tcp -d 192.0.2.20/32 -m tcp --dport $P1 -j ACCEPT
-A FORWARD -i br0 -o br0 -p tcp -s 203.0.113.0/24 -d 198.51.100.0/24 -m tcp --dport $P2 -j ACCEPT
-A FORWARD -i br0 -o br0 -p tcp -s 192.0.2.0/24 -m tcp --dport $P3 -j REJECT --reject-with tcp-reset
-A FORWARD -i br0 -p tcp -m multiport --dports $P3,$P4 -j ACCEPT
COMMIT
EOF
    in_ns br iptables-restore "$WORK/bridged.rules"
}
setup || bail_out "could not build the bridge, its guests and the ruleset"
sleep 0.3

# per network namespace? flip it in ours and read the host's
in_ns br sysctl -qw net.bridge.bridge-nf-call-iptables=$((1 - HOST_BEFORE))
if [ "$(cat "$NF")" != "$HOST_BEFORE" ]; then
    HOST_NF=$HOST_BEFORE
    diag "bridge-nf-call-iptables is machine-wide on $(uname -r): restored to $HOST_BEFORE on exit"
else
    diag "bridge-nf-call-iptables is per network namespace on $(uname -r): the host's stays $HOST_BEFORE"
fi

# the control: without the sysctl, iptables never sees bridged frames
in_ns br sysctl -qw net.bridge.bridge-nf-call-iptables=0
is "$(in_ns gc "$PROBE" connect -s 203.0.113.30 -t 1500 192.0.2.20 "$P2")" "open" \
    "control: with bridge-nf-call-iptables=0 a connection FORWARD drops crosses the bridge"
in_ns br sysctl -qw net.bridge.bridge-nf-call-iptables=1
is "$(in_ns br cat "$NF")" "1" "bridge-nf-call-iptables=1 in the bridge's namespace"

# per (destination, port): the analyzer's sources (--reach, bridged forward
# path, the same ruleset file); then every source on another guest, for real
: >"$WORK/results"
verdict_of() { # verdict_of REACH.json SRC -> "accept exact" | "drop exact" | "unknown may/must"
    "$PY" - "$1" "$2" <<'PY'
import ipaddress, json, sys
r = json.load(open(sys.argv[1]))["interfaces"][0]["ipv4"]
a = ipaddress.ip_address(sys.argv[2])
inn = lambda l: any(a in ipaddress.ip_network(n) for n in l)
may, must = inn(r["may"]), inn(r["must"])
print("accept" if must else "drop" if not may else "unknown", "exact" if may == must else "may/must")
PY
}
for dg in gb gc; do
    for d in ${ADDRS[$dg]}; do
        for p in "$P1" "$P2" "$P3" "$P4"; do
            "$XG" analyze --iptables "$WORK/bridged.rules" --chain forward --iface br0 \
                --oface br0 --to "$d" --reach "tcp/$p" -f json >"$WORK/r.json" 2>"$WORK/r.err" ||
                { not_ok "analyze --reach tcp/$p --to $d" "$(cat "$WORK/r.err")"; continue; }
            for sg in ga gb gc; do
                [ "$sg" = "$dg" ] && continue
                for s in ${ADDRS[$sg]}; do
                    got=$(in_ns "$sg" "$PROBE" connect -s "$s" -t 800 "$d" "$p")
                    echo "$s $d $p $got $(verdict_of "$WORK/r.json" "$s")" >>"$WORK/results"
                done
            done
        done
    done
done
check "the kernel and the analyzer agree on every bridged packet (0 disagreements)" \
    "$PY" - "$WORK/results" "$P4" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
p4 = sys.argv[2]
bad, exact, bounded, opened = [], 0, 0, 0
for s, d, p, got, verdict, bound in rows:
    ok = got == "open"
    opened += ok
    if bound == "exact":
        exact += 1
        if ok != (verdict == "accept"):
            bad.append(f"{s} -> {d} tcp/{p}: kernel {got}, analyzer {verdict} (exact)")
    else:
        bounded += 1
        if (ok and verdict == "drop") or (not ok and verdict == "accept"):
            bad.append(f"{s} -> {d} tcp/{p}: kernel {got}, analyzer {verdict} ({bound})")
        if p != p4:
            bad.append(f"{s} -> {d} tcp/{p}: a bound where every match is modelled")
for b in bad:
    print("# " + b)
print(f"# {len(rows)} packets: {opened} opened, {exact} exact answers, {bounded} bounds (physdev), {len(bad)} disagreements")
sys.exit(1 if bad or len(rows) != 80 or not opened or opened == len(rows) else 0)
PY
diag "$("$PY" -c '
import sys
rows=[l.split() for l in open(sys.argv[1]) if l.strip()]
print(len(rows), "packets,", sum(r[3]=="open" for r in rows), "opened,", sum(r[5]=="exact" for r in rows), "exact")' "$WORK/results")"
check "the physdev rule really decides: 192.0.2.130 reaches gC on tcp/$P4 but not gB" sh -c \
    "grep -q '^192.0.2.130 198.51.100.30 $P4 open' '$WORK/results' &&
     grep -q '^192.0.2.130 192.0.2.20 $P4 timeout' '$WORK/results'"
is "$(cat "$NF")" "$HOST_BEFORE" "the host's bridge-nf-call-iptables is unchanged ($HOST_BEFORE)"
done_testing
