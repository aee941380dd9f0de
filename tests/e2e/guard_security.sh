#!/bin/bash
# guard_security.sh — the lockout guard's security findings (issue 12).
#
#  5. The guard must answer with the host's interfaces and routes: every
#     compiled ruleset has `fib saddr . iif oif missing drop`, and without the
#     routes that rule is "might drop" for everybody, so apply refused
#     xenguard's own example policies for a permitted admin. A refusal that
#     remains names the rule that decides it.
#  6. sudo and `su -` drop SSH_CONNECTION: the guard must find the session in
#     the process ancestry, and `--yes` on a terminal without any session
#     found must keep the rollback timer.
#
# Everything runs in a throwaway network namespace with veth interfaces;
# TEST-NET addresses only; names carry the PID; cleanup on any exit.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$XG_ROOT/tests/e2e/lib/tap.sh"
EX="$XG_ROOT/examples"
NS="xggs$$"
WORK=$(mktemp -d)
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX)  # root-owned path: /tmp is refused

cleanup() {
    local rc=$?
    for pid in $(pgrep -f -- "--state-dir $ST " 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$WORK" "$ST"
    exit $rc
}
trap cleanup EXIT

# check DESC CMD...: ok when CMD succeeds; on failure the last output is shown.

in_ns() { ip netns exec "$NS" "$@"; }
# apply as a session from CLIENT to SERVER (SSH_CONNECTION in the environment)
apply_as() { # CLIENT SERVER POLICY [ARGS...]
    local c=$1 s=$2 pol=$3; shift 3
    in_ns env SSH_CONNECTION="$c 40022 $s 22" "$XG" apply -c "$pol" --timeout 3 \
        --state-dir "$ST" "$@" 2>&1
}
table() { in_ns nft list table inet xenguard 2>/dev/null; }
undo() { in_ns env -u SSH_CONNECTION "$XG" rollback --state-dir "$ST" >/dev/null 2>&1; }

ip netns add "$NS" || bail_out "ip netns add $NS"
in_ns ip link set lo up
# veth pairs with their peers in the namespace (no dummy driver needed)
in_ns ip link add eth0 type veth peer name eth0p
in_ns ip link add eth1 type veth peer name eth1p
in_ns ip link set eth0p up
in_ns ip link set eth1p up
in_ns ip addr add 198.51.100.1/24 dev eth0
in_ns ip addr add 192.0.2.1/24 dev eth1
in_ns ip link set eth0 up
in_ns ip link set eth1 up

# --- finding 5: the example policies, for an admin they permit ---------------
out=$(apply_as 192.0.2.10 192.0.2.1 "$EX/isolated-management.conf"); rc=$?
check "isolated-management: admin 192.0.2.10 on eth1 (in ssh-from) is accepted without --force" \
    [ $rc = 0 ]
undo
out=$(apply_as 198.51.100.20 198.51.100.1 "$EX/firewalled-subnet.conf"); rc=$?
check "firewalled-subnet: admin 198.51.100.20 on eth0 (in ssh-from) is accepted without --force" \
    [ $rc = 0 ]
undo
out=$(apply_as 198.51.100.7 198.51.100.1 "$EX/untrusted.conf"); rc=$?
check "untrusted: admin 198.51.100.7 on eth0 (ssh-from) is accepted without --force" [ $rc = 0 ]
undo

# --- finding 5: a refusal that remains names its rule --------------------------
before=$(table)
out=$(apply_as 203.0.113.9 192.0.2.1 "$EX/isolated-management.conf"); rc=$?
check "a client outside ssh-from (no route back via eth1) is refused" [ $rc = 1 ]
check "the refusal names the reverse-path rule" \
    bash -c "echo \"\$1\" | grep -q 'refusing.*would drop.*fib saddr . iif oif missing drop'" _ "$out"
check "and nothing changed" [ "$(table)" = "$before" ]
in_ns ip route add default via 192.0.2.254 dev eth1
out=$(apply_as 203.0.113.9 192.0.2.1 "$EX/isolated-management.conf"); rc=$?
check "with a route back via eth1, the client outside ssh-from is still refused" [ $rc = 1 ]
check "the refusal names the anti-spoofing rule of eth1" \
    bash -c "echo \"\$1\" | grep -q 'refusing.*would drop.*iifname \"eth1\".*saddr != @nets_v4 drop'" _ "$out"
in_ns ip route del default via 192.0.2.254 dev eth1

# --- finding 6: the session is found in the ancestry ---------------------------
before=$(table)
out=$(in_ns env SSH_CONNECTION="203.0.113.9 40022 192.0.2.1 22" bash -c \
    'env -u SSH_CONNECTION "$1" apply -c "$2" --timeout 3 --state-dir "$3" 2>&1' \
    _ "$XG" "$EX/isolated-management.conf" "$ST"); rc=$?
check "without SSH_CONNECTION, the parent's session still engages the guard (refused)" [ $rc = 1 ]
check "the refusal says where the session was found" \
    bash -c "echo \"\$1\" | grep -q 'refusing.*SSH_CONNECTION of process'" _ "$out"
check "and nothing changed" [ "$(table)" = "$before" ]
undo
out=$(in_ns env SSH_CONNECTION="192.0.2.10 40022 192.0.2.1 22" bash -c \
    'env -u SSH_CONNECTION "$1" apply -c "$2" --timeout 3 --state-dir "$3" 2>&1' \
    _ "$XG" "$EX/isolated-management.conf" "$ST"); rc=$?
check "the parent's session of a permitted admin: accepted" [ $rc = 0 ]
undo

# --- finding 6: --yes on a terminal without a session keeps the timer ----------
before=$(table)
out=$( (sleep 0.5; echo no) | in_ns env -u SSH_CONNECTION script -qec \
    "$XG apply -c $EX/isolated-management.conf --yes --timeout 3 --state-dir $ST" /dev/null); rc=$?
check "--yes on a terminal without a session does not keep the ruleset at once" \
    bash -c "! echo \"\$1\" | grep -q 'kept it'" _ "$out"
check "it asks instead, and 'no' restores the previous state (exit 1)" \
    bash -c "[ $rc = 1 ] && echo \"\$1\" | grep -q 'Keep this ruleset'" _ "$out"
check "and nothing changed" [ "$(table)" = "$before" ]
out=$(in_ns env -u SSH_CONNECTION "$XG" apply -c "$EX/isolated-management.conf" --yes \
    --state-dir "$ST" </dev/null 2>&1); rc=$?
check "--yes without a terminal keeps the ruleset at once (unchanged)" \
    bash -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'kept it'" _ "$out"

done_testing
