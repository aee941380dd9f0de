#!/bin/bash
# audit_dualstack.sh — a listener on [::] without IPV6_V6ONLY answers IPv4 too, and the audit
# must judge it against the IPv4 rules. Real sockets (python3, bound to [::] with and without
# V6ONLY) in a network namespace this test creates, a real ruleset that opens their ports to
# IPv4 only, the live audit inside the namespace (ss -l -n -e tells V6ONLY), and its capture
# audited offline (XG-XAPI-003 once the capture is made an XAPI host): with or without ss.
set -u
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft python3 ss
NS="xgds$$"
T=$(mktemp -d /run/xenguard-e2e.XXXXXX)
P=$((20000 + RANDOM % 20000))
cleanup() {
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }
status() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(next(c["status"] for c in d["checks"] if c["id"]==sys.argv[2]))' "$1" "$2"; }
evidence() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print("\n".join(next(c["evidence"] for c in d["checks"] if c["id"]==sys.argv[2])))' "$1" "$2"; }

ip netns add "$NS" || bail_out "ip netns add $NS"
in_ns ip link set lo up
in_ns ip link add eth0 type veth peer name eth1
in_ns ip addr add 198.51.100.10/24 dev eth0
in_ns ip addr add 2001:db8:1::10/64 dev eth0 nodad
in_ns ip link set eth0 up
in_ns ip link set eth1 up
# IPv4 may reach port P from anywhere; IPv6 may not
check "ruleset: port $P open to IPv4 only" in_ns nft -f - <<NFT
table inet t {
    chain input {
        type filter hook input priority 0; policy drop;
        ct state established,related accept
        iif lo accept
        meta nfproto ipv4 tcp dport $P accept
    }
}
NFT

# listen V6ONLY NAME: a process called NAME (prctl) on [::]:P with IPV6_V6ONLY=V6ONLY
listen() {
    in_ns python3 -c 'import ctypes,socket,sys,time
ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)
s=socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(sys.argv[1]))
s.bind(("::", int(sys.argv[3]))); s.listen(); time.sleep(120)' "$1" "$2" "$P" &
    for _ in $(seq 50); do in_ns ss -H -l -n -t "sport = :$P" | grep -q . && return 0; sleep 0.1; done
    return 1
}
stop() {
    for p in $(ip netns pids "$NS"); do kill "$p" 2>/dev/null; done
    for _ in $(seq 50); do in_ns ss -H -l -n -t "sport = :$P" | grep -q . || return 0; sleep 0.1; done
}
audit_both() { # NAME: live audit and capture (+ offline audit as an XAPI host)
    in_ns "$XG" audit --format json >"$T/$1.json"
    in_ns "$XG" capture "$T/$1.cap" >/dev/null
    mkdir -p "$T/$1.cap/etc" && printf 'migration-https-only = true\n' >"$T/$1.cap/etc/xapi.conf"
    "$XG" audit --root "$T/$1.cap" --format json >"$T/$1.off.json"
}

check "listener [::]:$P with IPV6_V6ONLY=1 (named xapi)" listen 1 xapi
check "ss shows it v6only:1" bash -c "ip netns exec $NS ss -H -l -n -e -t 'sport = :$P' | grep -q v6only:1"
audit_both v6only
is "$(status "$T/v6only.json" XG-FW-003)" pass "V6ONLY listener, IPv6 dropped: XG-FW-003 passes (live)"
check "the evidence says where V6ONLY came from" grep -q 'ss -l -n -e' "$T/v6only.json"
is "$(status "$T/v6only.off.json" XG-XAPI-003)" pass "V6ONLY xapi: XG-XAPI-003 passes (capture)"
check "capture saved ss's view" grep -q 'v6only:1' "$T/v6only.cap/xenguard/ss-listen.txt"
check "capture saved net.ipv6.bindv6only" test -f "$T/v6only.cap/proc/sys/net/ipv6/bindv6only"
stop

check "listener [::]:$P with IPV6_V6ONLY=0, dual-stack (named xapi)" listen 0 xapi
check "ss shows it v6only:0" bash -c "ip netns exec $NS ss -H -l -n -e -t 'sport = :$P' | grep -q v6only:0"
check "an IPv4 client reaches the [::] listener (it is dual-stack)" \
    in_ns python3 -c 'import socket,sys; socket.create_connection(("198.51.100.10", int(sys.argv[1])), 2)' "$P"
audit_both dual
is "$(status "$T/dual.json" XG-FW-003)" fail "dual-stack listener, IPv4 open: XG-FW-003 fails (live)"
check "the finding names IPv4 and dual-stack" \
    bash -c "grep -q '\[::\]:$P (xapi) on eth0 (IPv4, dual-stack: v6only:0' '$T/dual.json'"
is "$(status "$T/dual.off.json" XG-FW-003)" fail "dual-stack listener: XG-FW-003 fails (capture)"
is "$(status "$T/dual.off.json" XG-XAPI-003)" fail "dual-stack xapi open to IPv4: XG-XAPI-003 fails (capture)"
stop

# without ss's view, the kernel's default decides: net.ipv6.bindv6only
rm -f "$T/v6only.cap/xenguard/ss-listen.txt"
"$XG" audit --root "$T/v6only.cap" --format json >"$T/nss0.json"
is "$(status "$T/nss0.json" XG-FW-003)" fail "no ss output, bindv6only=0: [::] counted dual-stack, XG-FW-003 fails"
check "the note says V6ONLY came from bindv6only" grep -q 'net.ipv6.bindv6only' "$T/nss0.json"
echo 1 >"$T/v6only.cap/proc/sys/net/ipv6/bindv6only"
"$XG" audit --root "$T/v6only.cap" --format json >"$T/nss1.json"
is "$(status "$T/nss1.json" XG-FW-003)" pass "no ss output, bindv6only=1: IPv6 only, XG-FW-003 passes"
done_testing
