#!/bin/bash
# The system log records apply, confirm and rollback, above all the watchdog's
# automatic rollback: the logger is pointed at a syslog socket this test binds
# (XG_SYSLOG_SOCKET; tests/tools/dgram_sink writes each datagram as a line), and each record's
# RFC 5424 structured data is checked field by field. The firewall part runs
# in a throwaway network namespace (TEST-NET addresses only).
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$XG_ROOT/tests/fixtures/apply"
NS="xgjn$$"
SINK=${XG_TOOLS:-$XG_ROOT/build/tools}/dgram_sink
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft pgrep "$SINK"
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX)
W=$(mktemp -d)
SOCK="$W/log.sock"
sink=
cleanup() {
    local rc=$?
    for pid in $(pgrep -f -- "--state-dir $ST " 2>/dev/null); do kill "$pid" 2>/dev/null; done
    [ -n "$sink" ] && kill "$sink" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$ST" "$W"
    exit $rc
}
trap cleanup EXIT

# one datagram per line in $W/log (an RFC 5424 record never holds a newline)
"$SINK" "$SOCK" >"$W/log" 2>"$W/sink.err" & sink=$!
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || bail_out "dgram_sink did not bind $SOCK: $(cat "$W/sink.err")"
export XG_SYSLOG_SOCKET="$SOCK"

ip netns add "$NS" || bail_out "ip netns add $NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip link add xgj0 type veth peer name xgj1
ip netns exec "$NS" ip addr add 192.0.2.1/24 dev xgj0
ip netns exec "$NS" ip link set xgj0 up
# the admin's ssh session, as sshd exports it (v1 keeps 192.0.2.10 -> :22 open)
xg() { ip netns exec "$NS" env SSH_CONNECTION="192.0.2.10 50022 192.0.2.1 22" "$XG" "$@" --state-dir "$ST"; }
record() { # the last record with RESULT="$1", waiting up to 30 s for it
    local i; for i in $(seq 1 150); do
        grep -F "RESULT=\"$1\"" "$W/log" | tail -1 | grep . && return 0; sleep 0.2; done; return 1; }

out=$(xg apply --ruleset "$FIX/v1.nft" --timeout 2 --rollback-via process 2>&1); rc=$?
check "apply v1 with a 2 s watchdog exits 0" [ $rc = 0 ]
rec=$(record loaded)
check "apply is recorded: RFC 5424 header, facility daemon, notice (<29>1), MSGID apply" \
    bash -c '[[ "$1" =~ ^\<29\>1\ [0-9T:-]+Z\ [^\ ]+\ xenguard\ [0-9]+\ apply\ \[xenguard@32473\  ]]' _ "$rec"
check "with PEER= the ssh client, RESULT=loaded, RULESET= the file" \
    grep -qF "PEER=\"192.0.2.10\" RESULT=\"loaded\" RULESET=\"$FIX/v1.nft\"]" <<<"$rec"
for i in $(seq 1 150); do [ -e "$ST/pending" ] || break; sleep 0.2; done
check "the watchdog rolled back (no confirm)" test ! -e "$ST/pending"
rec=$(record auto-rollback)
check "the automatic rollback is recorded" [ -n "$rec" ]
check "as a warning (<28>1) with MSGID rollback" bash -c '[[ "$1" == "<28>1 "*" xenguard "*" rollback [xenguard@32473 "* ]]' _ "$rec"
check "PEER= the session whose apply it was, RESULT=auto-rollback, RULESET= the state dir" \
    grep -qF "PEER=\"192.0.2.10\" RESULT=\"auto-rollback\" RULESET=\"$(realpath "$ST")\"]" <<<"$rec"
check "and a message that says why" grep -qF "] rollback auto-rollback: the apply was not confirmed in time" <<<"$rec"
check "the state dir's rollback.log still has its line" grep -q "rolled back unconfirmed apply" "$ST/rollback.log"

xg apply --ruleset "$FIX/v1.nft" --timeout 30 --rollback-via process >/dev/null 2>&1
check "confirm exits 0" xg confirm
rec=$(record confirmed)
check "confirm is recorded: RESULT=confirmed" grep -qF "RESULT=\"confirmed\"" <<<"$rec"
xg rollback >/dev/null
rec=$(record rolled-back)
check "a manual rollback is recorded: RESULT=rolled-back" grep -qF "] rollback rolled-back: restored the firewall" <<<"$rec"
out=$(xg apply --ruleset "$FIX/lockout.nft" --timeout 2 2>&1); rc=$?
rec=$(record refused)
check "an apply the lockout guard refuses is recorded: RESULT=refused" \
    [ $rc = 1 -a -n "$(grep -F "PEER=\"192.0.2.10\" RESULT=\"refused\" RULESET=\"$FIX/lockout.nft\"]" <<<"$rec")" ]
check "as a warning (<28>1)" bash -c '[[ "$1" == "<28>1 "* ]]' _ "$rec"
mkdir -m 0700 "$ST/empty"
out=$(ip netns exec "$NS" "$XG" rollback --state-dir "$ST/empty" 2>&1); rc=$?
rec=$(record failed)
check "a rollback with nothing to go back to is an error record (<27>1), RESULT=failed" \
    bash -c '[[ $2 = 1 && "$1" == "<27>1 "*"RESULT=\"failed\""*"] rollback failed: "*"no saved ruleset"* ]]' _ "$rec" $rc
unset XG_SYSLOG_SOCKET
out=$(XG_SYSLOG_SOCKET=/nonexistent/log xg rollback 2>&1); rc=$?
check "with no log to write to, rollback still works (exit 0)" [ $rc = 0 ]
done_testing
