#!/bin/bash
# `xenguard vif online/offline` against the real kernel, in throwaway network
# namespaces: a Dom0 with bridge xenbr0 (192.0.2.1, 2001:db8::1) and two guest
# ports vif1.0 / vif2.0 (veths) whose other ends sit in the guests' own
# namespaces. Real TCP connections (tests/tools/tcpprobe) show that after
# `vif online` the declared address and MAC work and anything else from that
# port is dropped, that `vif offline` removes exactly the port's elements, that
# bad arguments change nothing, and that a reload (`xenguard apply` again) keeps
# the declared guests. TEST-NET addresses only. Prints TAP lines.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PROBE=${XG_TOOLS:-$XG_ROOT/build/tools}/tcpprobe
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft
[ -x "$PROBE" ] || bail_out "missing $PROBE (make check-tests builds it)"
D="xgvifd$$" G1="xgvifa$$" G2="xgvifb$$"
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX)
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
MAC1=00:16:3e:00:01:10 MAC2=00:16:3e:00:02:20
listener=

cleanup() {
    local rc=$?
    [ -n "$listener" ] && kill "$listener" 2>/dev/null
    # whatever still runs inside (a listener started through a wrapper), then the namespace
    for ns in "$D" "$G1" "$G2"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$ST" "$WORK"
    exit $rc
}
trap cleanup EXIT

d() { ip netns exec "$D" "$@"; }
g1() { ip netns exec "$G1" "$@"; }
g2() { ip netns exec "$G2" "$@"; }
xg() { d env -u SSH_CONNECTION "$XG" "$@"; }
# connect GUESTNS SRC DST: what happened (open / timeout / ...)
conn() { ip netns exec "$1" "$PROBE" connect -t 800 -s "$2" "$3" "$PORT" 2>/dev/null; }
elements() { d nft list set bridge xenguard "$1" 2>/dev/null | tr -d '\n\t' |
    sed -n 's/.*elements = { \(.*\) }.*/\1/p'; }
sets() { for s in vif_declared vif_ip4 vif_ip6 vif_mac; do echo "$s: $(elements $s)"; done; }
# audit_says ID [AUDIT ARGS...]: "STATUS: first evidence line or reason" of one check
audit_says() {
    local id=$1
    shift
    xg audit --format json "$@" 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin)["checks"]:
    if r["id"] == sys.argv[1]:
        print(r["status"] + ": " + ((r.get("evidence") or [""])[0] or r.get("reason") or ""))' "$id"
}

for ns in "$D" "$G1" "$G2"; do ip netns add "$ns" || bail_out "ip netns add $ns"; done
d ip link set lo up
d ip link add xenbr0 type bridge
d ip link set xenbr0 address 00:16:3e:00:00:01 up
d ip addr add 192.0.2.1/24 dev xenbr0
d ip addr add 2001:db8::1/64 dev xenbr0 nodad
d sysctl -qw net.ipv6.conf.xenbr0.accept_dad=0
for n in 1 2; do
    ns=$G1 mac=$MAC1; [ $n = 2 ] && ns=$G2 mac=$MAC2
    d ip link add "vif$n.0" type veth peer name eth0 netns "$ns"
    d ip link set "vif$n.0" master xenbr0 up
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set eth0 address "$mac" up
    ip netns exec "$ns" ip addr add "192.0.2.${n}0/24" dev eth0
    ip netns exec "$ns" ip addr add "2001:db8::${n}0/64" dev eth0 nodad
    ip netns exec "$ns" ip addr add 192.0.2.99/32 dev eth0          # a claim: not declared
    ip netns exec "$ns" ip addr add 2001:db8::99/128 dev eth0 nodad
done
d "$PROBE" listen "$PORT" >/dev/null 2>&1 & listener=$!

# Not loaded yet: a clear error naming `xenguard apply`, nothing created.
out=$(xg vif online vif1.0 --ip 192.0.2.10 --mac $MAC1 2>&1); rc=$?
is "$rc" 3 "vif online without table bridge xenguard exits 3 (not loaded)"
check "... and tells the user to run xenguard apply" grep -q "run 'xenguard apply'" <<<"$out"
check_fails "... and creates no table" d nft list table bridge xenguard

# The guests' table as the contract (src/ir/names.h) defines its dynamic sets
# (tests/xen/guests-table.nft; the Xen Dom0 test loads the same file).
d nft -f "$XG_ROOT/tests/xen/guests-table.nft" || bail_out "loading the test's bridge table"

# --- the audit: Dom0's 192.0.2.1 on xenbr0 with guest ports, not protected ------
check "audit XG-GUEST-001 fails: the test's table has no protected4" \
    grep -q "^fail: xenbr0 (guest ports vif1.0 vif2.0) carries Dom0's 192.0.2.1, which table bridge xenguard does not protect" \
    <<<"$(audit_says XG-GUEST-001)"

# --- before any declaration: the port is not pinned -------------------------
is "$(conn "$G1" 192.0.2.99 192.0.2.1)" open "undeclared vif1.0: a claimed 192.0.2.99 still reaches Dom0 (nothing declared yet)"

# --- online ------------------------------------------------------------------
check "vif online vif1.0 (IPv4 + IPv6 + MAC)" xg vif online vif1.0 --ip 192.0.2.10 --ip 2001:db8::10 --mac $MAC1
is "$(elements vif_ip4)" '"vif1.0" . 192.0.2.10' "vif_ip4 holds vif1.0's address"
is "$(elements vif_mac)" '"vif1.0" . 00:16:3e:00:01:10' "vif_mac holds vif1.0's MAC"
is "$(conn "$G1" 192.0.2.10 192.0.2.1)" open "declared 192.0.2.10 from vif1.0 reaches Dom0"
is "$(conn "$G1" 2001:db8::10 2001:db8::1)" open "declared 2001:db8::10 from vif1.0 reaches Dom0"
is "$(conn "$G1" 192.0.2.99 192.0.2.1)" timeout "undeclared 192.0.2.99 from vif1.0 is dropped"
is "$(conn "$G1" 2001:db8::99 2001:db8::1)" timeout "undeclared 2001:db8::99 from vif1.0 is dropped"
g1 ip link set eth0 address 00:16:3e:00:01:99
is "$(conn "$G1" 192.0.2.10 192.0.2.1)" timeout "the declared address from another MAC is dropped"
g1 ip link set eth0 address $MAC1
is "$(conn "$G1" 192.0.2.10 192.0.2.1)" open "... and works again from the declared MAC"
is "$(conn "$G2" 192.0.2.20 192.0.2.1)" open "the other guest (vif2.0, undeclared) is untouched"

# --- hostile arguments change nothing -----------------------------------------
before=$(sets)
refused() { # refused ARGS...: exit 1, a one-line error and "nothing was changed"
    local out rc
    out=$(xg vif online "$@" 2>&1); rc=$?
    [ $rc = 1 ] && [ "$(wc -l <<<"$out")" = 2 ] && grep -q "nothing was changed" <<<"$out" && return 0
    not_ok "bad arguments refused: $*" "exit $rc" "$out"
}
refused 'vif1.0;nft flush ruleset' --ip 192.0.2.11 --mac $MAC1
refused 'vif1.0" }; flush ruleset; {"' --ip 192.0.2.11 --mac $MAC1
refused eth0 --ip 192.0.2.11 --mac $MAC1
refused xenbr0 --ip 192.0.2.11 --mac $MAC1
refused vif1.0 --ip 192.0.2.0/24 --mac $MAC1
refused vif1.0 --ip 192.0.2.11 --ip 224.0.0.1 --mac $MAC1
refused vif1.0 --ip '192.0.2.11 } ; flush ruleset ; {' --mac $MAC1
refused vif1.0 --ip 192.0.2.11 --mac ff:ff:ff:ff:ff:ff
refused vif1.0 --ip 192.0.2.11 --mac '00:16:3e:00:01:10 } ; flush ruleset'
refused vif1.0 --ip 192.0.2.11
ok "every bad argument list: one-line error, non-zero exit"
is "$(sets)" "$before" "... and the sets are as before"
is "$(conn "$G1" 192.0.2.10 192.0.2.1)" open "... and vif1.0 still works"

# --- online again replaces the port's elements in one transaction -------------
check "vif online vif1.0 again with 192.0.2.11" xg vif online vif1.0 --ip 192.0.2.11 --mac $MAC1
g1 ip addr add 192.0.2.11/32 dev eth0
is "$(elements vif_ip4)" '"vif1.0" . 192.0.2.11' "vif_ip4 holds only the new address"
is "$(elements vif_ip6)" '' "the old IPv6 declaration is gone"
is "$(conn "$G1" 192.0.2.11 192.0.2.1)" open "the new address works"
is "$(conn "$G1" 192.0.2.10 192.0.2.1)" timeout "the replaced address is dropped"
check "vif online vif2.0" xg vif online vif2.0 --ip 192.0.2.20 --mac $MAC2
is "$(conn "$G2" 192.0.2.99 192.0.2.1)" timeout "vif2.0 claiming 192.0.2.99 is dropped"

# --- offline removes the port's elements, only its own -------------------------
check "vif offline vif1.0" xg vif offline vif1.0
is "$(sets)" "$(printf 'vif_declared: "vif2.0"\nvif_ip4: "vif2.0" . 192.0.2.20\nvif_ip6: \nvif_mac: "vif2.0" . 00:16:3e:00:02:20')" \
    "only vif2.0's elements are left"
is "$(conn "$G1" 192.0.2.99 192.0.2.1)" open "vif1.0 is no longer pinned"
check "vif offline of a port with nothing declared succeeds (hotplug remove is idempotent)" \
    xg vif offline vif1.0
check_fails "vif offline of a non-guest interface is refused" xg vif offline xenbr0

# --- a reload keeps declared guests ----------------------------------------------
# The compiled policy now replaces the test's table (carrying vif2.0 over), and
# Dom0's input chain rejects the test port: a frame that reaches Dom0 is
# "refused", one dropped on the bridge a "timeout".
POL="$WORK/xenguard.conf"
cat >"$POL" <<'EOF'
[host]
scenario = firewalled-subnet
public-interface = xenbr0
addresses = 192.0.2.1 2001:db8::1
[cluster]
peers = 192.0.2.5
[migration]
transport = xend
port = 8002
[admin]
ssh-from = 198.51.100.0/24
[guests]
ports = vif* tap*
EOF
check "apply a policy with guest protection (vif2.0 carried from the test's table)" \
    xg apply -c "$POL" --yes --state-dir "$ST"
is "$(elements vif_ip4)" '"vif2.0" . 192.0.2.20' "the compiled table holds vif2.0's declaration"
check "vif online vif1.0 into the compiled table (IPv4 + IPv6)" \
    xg vif online vif1.0 --ip 192.0.2.10 --ip 2001:db8::10 --mac $MAC1
check "... its IPv6 address also went into the ND companion set vif_ip6_nd" \
    grep -q '"vif1.0" . 0x20010db8000000000000000000000010' <<<"$(elements vif_ip6_nd)"
is "$(conn "$G1" 192.0.2.10 192.0.2.1)" refused "declared 192.0.2.10 reaches Dom0 (whose firewall rejects the port)"
is "$(conn "$G1" 192.0.2.99 192.0.2.1)" timeout "undeclared 192.0.2.99 is dropped on the bridge"
before=$(sets)
check "apply again (reload)" xg apply -c "$POL" --yes --state-dir "$ST"
is "$(sets)" "$before" "the reload kept every declared guest's elements"
is "$(conn "$G1" 192.0.2.99 192.0.2.1)" timeout "after the reload vif1.0 is still pinned"
is "$(conn "$G1" 192.0.2.10 192.0.2.1)" refused "... and its declared address still reaches Dom0"
sed 's/^ports = vif\* tap\*$/ports = guest*/' "$POL" >"$WORK/ports.conf"
check_fails "vif online -c POLICY: vif1.0 is no guest port when [guests] ports = guest*" \
    xg vif online vif1.0 -c "$WORK/ports.conf" --ip 192.0.2.10 --mac $MAC1
check "vif offline -c POLICY (ports vif* tap*) of vif1.0 in the compiled table" \
    xg vif offline vif1.0 -c "$POL"
is "$(elements vif_ip6_nd)" '' "... empties its ND companion elements too"

# --- the audit after apply: protected; declared ports; a captured root says the same --
is "$(audit_says XG-GUEST-001 -c "$POL")" \
    "pass: xenbr0 (guest ports vif1.0 vif2.0): Dom0's 192.0.2.1 is in table bridge xenguard protected4" \
    "audit XG-GUEST-001 passes with the compiled guests' table"
sed 's/^ports = vif\* tap\*$/ports = vif* tap*\nrequire-addresses = yes/' "$POL" >"$WORK/require.conf"
check "audit XG-GUEST-002 (require-addresses = yes) fails: vif1.0 is offline" \
    grep -q "^fail: vif1.0 on xenbr0: not in vif_declared" <<<"$(audit_says XG-GUEST-002 -c "$WORK/require.conf")"
check "xenguard capture saves the bridge membership" xg capture "$WORK/root"
is "$(cat "$WORK/root/xenguard/bridges.txt")" "xenbr0 vif1.0 vif2.0" "... as xenguard/bridges.txt"
is "$(audit_says XG-GUEST-001 -c "$POL" --root "$WORK/root")" "$(audit_says XG-GUEST-001 -c "$POL")" \
    "audit --root of the capture: XG-GUEST-001 as on the live host"
rm "$WORK/root/xenguard/bridges.txt"
check "... and n/a with the reason when the capture lacks bridges.txt" \
    grep -q "^n/a: no evidence: no /xenguard/bridges.txt" <<<"$(audit_says XG-GUEST-001 -c "$POL" --root "$WORK/root")"
done_testing
