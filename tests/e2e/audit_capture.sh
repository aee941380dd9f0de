#!/bin/bash
# audit_capture.sh — `xenguard capture` and the live probes against real kernel state, inside a
# network namespace this test creates (TEST-NET addresses, veth pair, xenguard's compiled
# ruleset loaded with nft, a listener on the migration port): the audit of the capture,
# run offline outside the namespace, must agree with the live audit inside it, check by check.
set -u
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft python3 sysctl
NS="xgau$$"
T=$(mktemp -d /tmp/xg-capture.XXXXXX)
LPID=
cleanup() {
    # the listener we started: every process left in our own namespace, by pid
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
    [ -n "$LPID" ] && wait "$LPID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }
status() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(next(c["status"] for c in d["checks"] if c["id"]==sys.argv[2]))' "$1" "$2"; }

cat >"$T/iso.conf" <<'P'
[host]
scenario = isolated-management
public-interface = eth0
management-interface = eth1
[cluster]
peers = 192.0.2.11 192.0.2.12
networks = 192.0.2.0/24
[migration]
transport = ssh
[admin]
ssh-from = 192.0.2.0/24
users = root
P

ip netns add "$NS" || bail_out "ip netns add $NS"
in_ns ip link set lo up
in_ns ip link add eth0 type veth peer name eth1
in_ns ip addr add 198.51.100.10/24 dev eth0
in_ns ip addr add 192.0.2.10/24 dev eth1
in_ns ip link set eth0 up
in_ns ip link set eth1 up
for k in all default eth0 eth1; do
    in_ns sysctl -qw net.ipv4.conf.$k.rp_filter=1 net.ipv4.conf.$k.accept_source_route=0 \
        net.ipv4.conf.$k.accept_redirects=0 net.ipv6.conf.$k.accept_source_route=0 \
        net.ipv6.conf.$k.accept_redirects=0
done
in_ns sysctl -qw net.ipv4.conf.lo.accept_redirects=0 net.ipv6.conf.lo.accept_redirects=0
# the firewall checks, before and after xenguard's ruleset is loaded (with the analyzer built in;
# without it they must say so and give no verdict)
in_ns python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.10", 8002)); s.listen(); time.sleep(120)' &
LPID=$!
# a process that calls itself xapi (prctl PR_SET_NAME), listening on every address like xapi does
in_ns python3 -c 'import ctypes,socket,time
ctypes.CDLL(None).prctl(15, b"xapi", 0, 0, 0)
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 443)); s.listen(); time.sleep(120)' &
for _ in $(seq 50); do
    in_ns grep -q ':1F42 00000000:0000 0A' /proc/net/tcp && in_ns grep -q ':01BB 00000000:0000 0A' /proc/net/tcp && break
    sleep 0.1
done
fw_ids="XG-FW-001 XG-FW-002 XG-FW-003 XG-MIG-002 XG-MIG-004"
in_ns "$XG" audit -c "$T/iso.conf" --format json >"$T/open.json"
in_ns "$XG" capture "$T/cap-open" >/dev/null
check "compiled ruleset loaded in the namespace" in_ns nft -f <("$XG" firewall -c "$T/iso.conf")

# live audit inside the namespace (real /proc/net, /proc/sys/net, nft, ip -j addr)
in_ns "$XG" audit -c "$T/iso.conf" --format json >"$T/live.json"; rc=$?
check "live audit in the namespace runs (rc=$rc)" test "$rc" = 0 -o "$rc" = 1
for id in XG-NET-001 XG-NET-002 XG-NET-003 XG-MIG-001; do
    is "$(status "$T/live.json" $id)" pass "live: $id passes on the namespace's kernel state"
done
check "live: the listener is matched to its process through /proc/PID/fd" \
    grep -q 'tcp 192.0.2.10:8002 (python3) on the management interface eth1' "$T/live.json"

for id in $fw_ids; do
    if grep -q 'firewall analyzer not available in this build' "$T/live.json"; then
        is "$(status "$T/live.json" $id) $(status "$T/open.json" $id)" "n/a n/a" \
            "$id: n/a without the analyzer (integration point), no verdict"
    else
        is "$(status "$T/open.json" $id)" fail "$id fails on the namespace's empty ruleset"
        is "$(status "$T/live.json" $id)" pass "$id passes once xenguard's ruleset is loaded"
    fi
done

# capture inside, audit outside: the same verdicts
in_ns "$XG" capture "$T/cap" >"$T/cap.out"; rc=$?
is "$rc" 0 "capture exits 0"
check "capture saved nft -j list ruleset with xenguard's table" \
    grep -q xenguard "$T/cap/xenguard/nft-ruleset.json"
check "capture saved ip -j addr" grep -q '"eth1"' "$T/cap/xenguard/ip-addr.json"
# the listener's socket (TCP 8002 listening, inode from the namespace's /proc/net/tcp) must be
# among the captured fd links: found by inode, whatever runs python3 here (a pyenv shim is a
# bash that forks python3, and other python3 processes on the machine are captured too)
inode=$(in_ns awk '$2 ~ /:1F42$/ && $4 == "0A" {print $10; exit}' /proc/net/tcp)
check "capture recreated the listener's socket links (proc/PID/fd -> socket:[INODE])" \
    bash -c '[ -n "$2" ] && find "$1"/proc/*/fd -maxdepth 1 -type l -lname "socket:\[$2\]" | grep -q .' \
    _ "$T/cap" "$inode"
is "$(cat "$T/cap/proc/sys/net/ipv4/conf/eth1/rp_filter")" 1 "capture saved the namespace's sysctls"
"$XG" audit --root "$T/cap" -c "$T/iso.conf" --format json >"$T/offline.json"; rc=$?
check "offline audit of the capture runs (rc=$rc)" test "$rc" = 0 -o "$rc" = 1
check "offline audit of the capture agrees with the live audit, check by check" \
    python3 - "$T/live.json" "$T/offline.json" <<'PY'
import json, sys
a = {c["id"]: c["status"] for c in json.load(open(sys.argv[1]))["checks"]}
b = {c["id"]: c["status"] for c in json.load(open(sys.argv[2]))["checks"]}
diff = {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
print("# differences:", diff)
sys.exit(1 if diff else 0)
PY
check "offline audit says it is not live" grep -q '"live": false' "$T/offline.json"

# XG-XAPI-003 on the two captures, made XAPI hosts by adding /etc/xapi.conf: xapi listens on
# every address; open to everyone on the empty ruleset, closed once xenguard's is loaded
for c in cap-open cap; do
    mkdir -p "$T/$c/etc" && printf 'migration-https-only = true\n' >"$T/$c/etc/xapi.conf"
    "$XG" audit --root "$T/$c" --format json >"$T/$c-xapi.json"
done
if grep -q 'firewall analyzer not available in this build' "$T/cap-xapi.json"; then
    is "$(status "$T/cap-xapi.json" XG-XAPI-003)" n/a "XG-XAPI-003: n/a without the analyzer, no verdict"
else
    is "$(status "$T/cap-open-xapi.json" XG-XAPI-003)" fail "XG-XAPI-003 fails: xapi on every address, empty ruleset"
    is "$(status "$T/cap-xapi.json" XG-XAPI-003)" pass "XG-XAPI-003 passes behind xenguard's ruleset"
fi
check "the renamed process is seen as xapi in the capture" \
    grep -q 'tcp 0.0.0.0:443 (xapi): XAPI binds every address by design' "$T/cap-xapi.json"
mkdir -p "$T/full" && touch "$T/full/x"
"$XG" capture "$T/full" >/dev/null 2>"$T/e"; rc=$?
is "$rc" 1 "capture refuses a non-empty directory (exit 1)"
check "capture refuses a non-empty directory: says so" grep -q 'not empty' "$T/e"
check "capture --help" grep -q 'audit --root' <("$XG" capture --help)
"$XG" capture >/dev/null 2>&1; is $? 2 "capture without DIR: usage error"

# kernel state the other way: loose / off reverse-path filter, source routes, redirects
in_ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=2 \
    net.ipv4.conf.all.accept_source_route=1 net.ipv4.conf.eth0.accept_source_route=1 \
    net.ipv6.conf.eth1.accept_redirects=1
in_ns "$XG" audit -c "$T/iso.conf" --format json >"$T/live2.json"
for id in XG-NET-001 XG-NET-002 XG-NET-003; do
    is "$(status "$T/live2.json" $id)" fail "live: $id fails after the namespace's sysctls are loosened"
done
check "live: loose rp_filter named per interface" grep -q 'eth0: effective rp_filter 2' "$T/live2.json"
done_testing
