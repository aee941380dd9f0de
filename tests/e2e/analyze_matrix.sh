#!/bin/bash
# analyze_matrix.sh — the service matrix (`analyze --matrix`), checked
# against the kernel with real connections through a real router.
#
# A router namespace with three segments, each its own namespace of hosts:
#   lan  192.0.2.0/24     hosts .10 (a client) and .200 (an admin)
#   dmz  198.51.100.0/24  hosts .10 (web), .20 (ssh bastion), .30 (other)
#   wan  every other address (the map's complement line); host 203.0.113.5
# The router loads tests/analyze/router_matrix.rules with the real
# iptables-restore and forwards; every host listens on 22, 80 and 443. The
# analyzer reads the router's live ruleset (in its namespace) and answers
# --matrix tcp/22,tcp/80,tcp/443 for the forward path with
# tests/analyze/router_matrix.ifmap. Then, for every service and every pair
# of hosts on different segments, a real TCP connection from the one to the
# other through the router must open exactly when the matrix has an edge
# from the source's class to the destination's class, and time out (the
# FORWARD policy drops) when it has none. TEST-NET addresses only, in our
# own namespaces (names carry the PID), removed on exit even on failure.
set -u
XG=${XG:-$PWD/build/xenguard}
PROBE=${XG_TOOLS:-$PWD/build/tools}/tcpprobe
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
ID="xgmx$$"
WORK=$(mktemp -d /tmp/xgmx.XXXXXX)
. "$ROOT/tests/e2e/lib/tap.sh"

cleanup() {
    local ns
    for ns in r lan dmz wan; do
        ip netns pids "$ID-$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ID-$ns" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

require root ip iptables-restore iptables-save python3 "$PROBE" "$XG"

in_ns() { local ns=$1; shift; ip netns exec "$ID-$ns" "$@"; }

setup() {
    local seg gw
    ip netns add "$ID-r" && in_ns r ip link set lo up || return 1
    in_ns r sysctl -qw net.ipv4.ip_forward=1 || return 1
    for seg in lan dmz wan; do
        ip netns add "$ID-$seg" && in_ns "$seg" ip link set lo up || return 1
        ip link add "m$$$seg" type veth peer name "h$$$seg" || return 1
        ip link set "m$$$seg" netns "$ID-r" && ip link set "h$$$seg" netns "$ID-$seg" || return 1
        in_ns r ip link set "m$$$seg" name "$seg" up || return 1
        in_ns "$seg" ip link set "h$$$seg" name eth0 up || return 1
    done
    in_ns r ip addr add 192.0.2.1/24 dev lan &&
        in_ns r ip addr add 198.51.100.1/24 dev dmz &&
        in_ns r ip addr add 203.0.113.1/24 dev wan || return 1
    for a in 192.0.2.10 192.0.2.200; do in_ns lan ip addr add "$a/24" dev eth0 || return 1; done
    for a in 198.51.100.10 198.51.100.20 198.51.100.30; do
        in_ns dmz ip addr add "$a/24" dev eth0 || return 1
    done
    in_ns wan ip addr add 203.0.113.5/24 dev eth0 || return 1
    for seg in lan dmz wan; do
        case $seg in lan) gw=192.0.2.1 ;; dmz) gw=198.51.100.1 ;; wan) gw=203.0.113.1 ;; esac
        in_ns "$seg" ip route add default via "$gw" || return 1
        in_ns "$seg" "$PROBE" listen 22 80 443 >/dev/null 2>&1 &
    done
    in_ns r iptables-restore "$ROOT/tests/analyze/router_matrix.rules"
}
setup || bail_out "could not build the router and its segments"

check "the analyzer reads the router's live ruleset and answers the matrix" \
    sh -c "ip netns exec '$ID-r' '$XG' analyze --chain forward \
        --ifmap '$ROOT/tests/analyze/router_matrix.ifmap' --matrix tcp/22,tcp/80,tcp/443 \
        --format json >'$WORK/matrix.json'" || bail_out "no matrix to check"

# "SERVICE PORT SRC_NS SRC DST EXPECT" per pair of hosts on different segments,
# EXPECT = open (an edge between their classes) or timeout (none).
python3 - "$WORK/matrix.json" >"$WORK/pairs" <<'EOF' || bail_out "the matrix JSON is not as documented"
import ipaddress, json, sys
hosts = {"lan": ["192.0.2.10", "192.0.2.200"],
         "dmz": ["198.51.100.10", "198.51.100.20", "198.51.100.30"],
         "wan": ["203.0.113.5"]}
doc = json.load(open(sys.argv[1]))
assert doc["query"] == "matrix" and doc["path"] == "forward"
for m in doc["matrices"]:
    if m["family"] != 4:
        continue
    assert m["exact"], "every match is modelled: the matrix must be exact"
    nets = [(n, ipaddress.ip_network(c)) for n, cs in m["classes"].items() for c in cs]
    cls = lambda a: [n for n, net in nets if ipaddress.ip_address(a) in net]
    edges = {(e[0], e[1]) for e in m["edges"]}
    port = m["service"].split("/")[1]
    for sseg, srcs in hosts.items():
        for s in srcs:
            for dseg, dsts in hosts.items():
                if dseg == sseg:
                    continue
                for d in dsts:
                    (cs,), (cd,) = cls(s), cls(d)  # each address in exactly one class
                    want = "open" if (cs, cd) in edges else "timeout"
                    print(m["service"], port, sseg, s, d, want)
EOF
is "$(awk '{print $1}' "$WORK/pairs" | sort -u | tr '\n' ' ')" "tcp/22 tcp/443 tcp/80 " \
    "the matrix covers the three services (IPv4, exact)"
check "the matrix claims some edges and some non-edges among the hosts" \
    sh -c "grep -q ' open\$' '$WORK/pairs' && grep -q ' timeout\$' '$WORK/pairs'"

# all connections at once, one `ip netns exec` per segment (each pair has its
# own source address or port); then the verdicts in order
awk '{print NR, $2, $3, $4, $5}' "$WORK/pairs" >"$WORK/jobs"
pids=()
for seg in lan dmz wan; do
    in_ns "$seg" bash -c 'while read -r n port ns src dst; do
            [ "$ns" = "$1" ] || continue
            "$2" connect -s "$src" -t 1500 "$dst" "$port" >"$3/got.$n" 2>/dev/null &
        done <"$3/jobs"; wait' _ "$seg" "$PROBE" "$WORK" &
    pids+=($!)
done
wait "${pids[@]}"
n=0
while read -r svc port ns src dst want; do
    n=$((n + 1))
    got=$(cat "$WORK/got.$n")
    is "${got%% *}" "$want" "$svc $src -> $dst: $( [ "$want" = open ] && echo edge || echo no edge)"
done <"$WORK/pairs"
done_testing
