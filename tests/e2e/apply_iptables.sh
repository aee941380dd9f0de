#!/bin/bash
# apply on a legacy-iptables host: the compiled policy through
# iptables-restore --noflush (XENGUARD-* chains), rollback by merge, other
# rules kept. Runs the real iptables-legacy tools in a throwaway network
# namespace; a copy of /etc/alternatives bind-mounted in the namespace's own
# mount namespace points iptables* at the -legacy binaries, which is what the
# alternatives system does on a legacy host (xenguard runs tools from
# /usr/sbin:/usr/bin:/sbin:/bin only, never from the caller's PATH).
# TEST-NET addresses only.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
POL="$XG_ROOT/examples/isolated-management.conf"
NS="xgai$$"
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip iptables-legacy ip6tables-legacy python3 pgrep
W=$(mktemp -d)
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX)  # root-owned path: /tmp is refused
cleanup() {
    local rc=$?
    for pid in $(pgrep -f -- "--state-dir $ST " 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$W" "$ST"
    exit $rc
}
trap cleanup EXIT

cp -a /etc/alternatives "$W/alternatives"
for t in iptables ip6tables; do for s in "" -save -restore; do
    [ -x "/usr/sbin/$t-legacy$s" ] || bail_out "$t-legacy$s missing"
    ln -sfn "/usr/sbin/$t-legacy$s" "$W/alternatives/$t$s"
done; done
# ip netns exec gives each command a private (slave) mount namespace: the bind stays in it
printf '#!/bin/sh\nmount --bind "%s" /etc/alternatives && exec "$@"\n' "$W/alternatives" >"$W/legacy"
chmod 755 "$W/legacy"
in_ns() { ip netns exec "$NS" "$W/legacy" "$@"; }
xg() { in_ns env -u SSH_CONNECTION "$XG" "$@" --state-dir "$ST"; }
# iptables-save of both families, without comments, counters and empty tables
snap() {
    local f
    for f in iptables ip6tables; do in_ns $f-save | python3 -c '
import sys
drop_ours = len(sys.argv) > 1
blocks, cur = [], None
for line in sys.stdin.read().splitlines():
    if line.startswith("#") or (drop_ours and "XENGUARD" in line): continue
    if line.startswith("*"): cur = [line]; continue
    if cur is None: continue
    cur.append(line)
    if line == "COMMIT":
        if any(l.startswith("-A") or l.endswith("- [0:0]") for l in cur): blocks.append("\n".join(cur))
        cur = None
print("\n".join(sorted(blocks)))' "$@"; done
}
hooks() { in_ns iptables-save | grep -c -- '-A INPUT -j XENGUARD-INPUT'; }

ip netns add "$NS" || bail_out "ip netns add $NS"
in_ns iptables -N DOCKER-USER
in_ns iptables -A DOCKER-USER -j RETURN
in_ns iptables -A FORWARD -j DOCKER-USER
in_ns iptables -A FORWARD -i vif1.0 -s 192.0.2.50 -j ACCEPT
in_ns iptables -t nat -A POSTROUTING -s 198.51.100.128/25 ! -o docker0 -j MASQUERADE
in_ns ip6tables -A FORWARD -i vif1.0 -s 2001:db8::50 -j ACCEPT
others() { snap drop-ours; }
before=$(snap) others_before=$(others)

# apply --diff on the iptables backend: the analyzer's view of iptables-save before and after
out=$(xg apply --diff -c "$POL" 2>&1); rc=$?
check "apply --diff (auto: iptables) before the first apply: exit 1, says what stops getting in" \
    [ $rc = 1 -a -n "$(echo "$out" | grep '^  no longer reachable from:')" ]
check "... on the iptables backend" [ -n "$(echo "$out" | grep 'iptables backend')" ]
check "... and loads nothing" [ "$(snap)" = "$before" ]
out=$(xg apply -c "$POL" --timeout 8 2>&1); rc=$?
check "auto picks the iptables backend on a legacy host and loads" \
    [ $rc = 0 -a -n "$(echo "$out" | grep 'XENGUARD-\* chains (iptables)')" ]
check "XENGUARD-INPUT is hooked from INPUT once" [ "$(hooks)" = 1 ]
check "the IPv6 chains are loaded too" bash -c "ip netns exec $NS $W/legacy ip6tables-save | grep -q -- '-A XENGUARD-INPUT'"
check "other rules survive apply" [ "$(others)" = "$others_before" ]
check "confirm" xg confirm
# status on the iptables backend: the analyzer judges iptables-save against the policy
out=$(xg status -c "$POL" 2>&1); rc=$?
check "status (auto: iptables) says the running rules let in exactly what the policy asks" \
    [ $rc = 0 -a -n "$(echo "$out" | grep 'iptables lets in exactly what')" ]
check "status reports the INPUT hook for both families" \
    [ -n "$(echo "$out" | grep 'INPUT jumps to XENGUARD-INPUT (IPv4), jumps (IPv6)')" ]
out=$(xg apply -d -c "$POL" 2>&1); rc=$?
check "apply --diff of the loaded policy (iptables): exit 0, no change" \
    [ $rc = 0 -a -n "$(echo "$out" | grep '^no change')" ] || diag "$out"
out=$(xg apply -d -c "$XG_ROOT/examples/firewalled-subnet.conf" 2>&1); rc=$?
check "apply --diff of another policy (iptables): exit 1, a reachability change" \
    [ $rc = 1 -a -n "$(echo "$out" | grep -E '^  (now|no longer) reachable from:')" ]
in_ns iptables -I INPUT 1 -p tcp --dport 22 -j ACCEPT
out=$(xg apply -d -c "$POL" 2>&1); rc=$?
check "apply --diff with a foreign ACCEPT ahead of the hook: exit 0 (apply keeps the hook's place)" \
    [ $rc = 0 ] || diag "$out"
out=$(xg status -c "$POL" 2>&1); rc=$?
# (on the public eth0 the policy admits no ssh; the raw table still drops the
# management subnet's addresses arriving there, so "everything" is all but 192.0.2.0/24)
check "an ACCEPT for tcp/22 ahead of the hook: status exits 1, names tcp/22 IPv4 on eth0" \
    [ $rc = 1 -a -n "$(echo "$out" | grep -A2 '^  tcp/22 IPv4 on eth0:$' | grep 'the policy lets in: (none)')" ]
check "... the running side as the analyzer prints it: all except the management subnet" \
    [ -n "$(echo "$out" | grep -A1 '^  tcp/22 IPv4 on eth0:$' | grep 'running lets in: *all except 192.0.2.0/24$')" ]
in_ns iptables -D INPUT -p tcp --dport 22 -j ACCEPT
check "status --backend nft on this host: no table inet xenguard (exit 1)" \
    bash -c "ip netns exec $NS env -u SSH_CONNECTION $XG status --backend nft -c $POL --state-dir $ST | grep -q 'no table inet xenguard'"
out=$(xg apply -c "$POL" --timeout 2 2>&1)
check "a second apply does not hook twice" [ "$(hooks)" = 1 ]
for i in $(seq 1 50); do [ -e "$ST/pending" ] || break; sleep 0.2; done
check "after the timeout the watchdog restored the confirmed chains" [ "$(hooks)" = 1 -a ! -e "$ST/pending" ]
check "rollback exits 0" xg rollback
check "others survive rollback" [ "$(others)" = "$others_before" ]

# from scratch: apply + timeout gives back exactly the state before
in_ns iptables-save | python3 -c '
import sys
for l in sys.stdin.read().splitlines():
    if "XENGUARD" not in l: print(l)' | in_ns iptables-restore
in_ns ip6tables-save | grep -v XENGUARD | in_ns ip6tables-restore
before=$(snap)
check "the namespace is back to no xenguard chains" [ "$(hooks)" = 0 ]
xg apply -c "$POL" --timeout 2 >/dev/null 2>&1
check "loaded again" [ "$(hooks)" = 1 ]
for i in $(seq 1 50); do [ -e "$ST/pending" ] || break; sleep 0.2; done
check "apply then timeout: iptables-save (both families) equals the state before" [ "$(snap)" = "$before" ]
check "--ruleset is refused with the iptables backend (usage)" bash -c "ip netns exec $NS $XG apply --backend iptables --ruleset /dev/null --state-dir $ST 2>/dev/null; [ \$? = 2 ]"
done_testing
