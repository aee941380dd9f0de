#!/bin/bash
# apply / confirm / rollback / status against the real kernel, inside a
# throwaway network namespace (its nftables state is its own). TEST-NET
# addresses only. Prints TAP lines.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$XG_ROOT/tests/fixtures/apply"
NS="xgap$$"
NSA="xgapa$$"   # the administrator's side of the link
PROBE=${XG_TOOLS:-$XG_ROOT/build/tools}/tcpprobe
listener=
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft python3 script pgrep
WORK=$(mktemp -d)
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX)  # root-owned path: /tmp is refused

cleanup() {
    local rc=$?
    # the detached watchdogs of this test (matched by our private state dir)
    for pid in $(pgrep -f -- "--state-dir $ST " 2>/dev/null); do kill "$pid" 2>/dev/null; done
    [ -n "$listener" ] && kill "$listener" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    ip netns del "$NSA" 2>/dev/null
    rm -rf "$WORK" "$ST"
    exit $rc
}
trap cleanup EXIT

in_ns() { ip netns exec "$NS" "$@"; }
xg() { in_ns env -u SSH_CONNECTION "$XG" "$@" --state-dir "$ST"; }

# The whole ruleset as canonical JSON: no handles, counters or metainfo.
snap() {
    in_ns nft -j list ruleset | python3 -c '
import json, sys
def strip(v):
    if isinstance(v, dict):
        v.pop("handle", None)
        if isinstance(v.get("counter"), dict): v["counter"] = {}
        for x in v.values(): strip(x)
    elif isinstance(v, list):
        for x in v: strip(x)
d = [o for o in json.load(sys.stdin)["nftables"] if "metainfo" not in o]
strip(d)
print(json.dumps(d, sort_keys=True))'
}
table() { snap | python3 -c '
import json, sys
fam, name = sys.argv[1], sys.argv[2]
print(json.dumps([o for o in json.load(sys.stdin)
      if (list(o.values())[0].get("table", list(o.values())[0].get("name")) == name
          and list(o.values())[0].get("family") == fam)], sort_keys=True))' "$1" "$2"; }
has_table() { in_ns nft list table "$1" "$2" >/dev/null 2>&1; }
wait_rolled_back() { # up to 30 s for the watchdog
    local i; for i in $(seq 1 150); do [ -e "$ST/pending" ] || return 0; sleep 0.2; done; return 1; }

ip netns add "$NS" || bail_out "ip netns add $NS"
in_ns ip link set lo up
in_ns ip link add xgv0 type veth peer name xgv1
in_ns ip addr add 192.0.2.1/24 dev xgv0
in_ns ip link set xgv0 up
ip netns add "$NSA" || bail_out "ip netns add $NSA"
in_ns ip link set xgv1 netns "$NSA"
ip netns exec "$NSA" ip addr add 192.0.2.10/24 dev xgv1
ip netns exec "$NSA" ip link set xgv1 up
ip netns exec "$NSA" ip link set lo up
ip netns exec "$NS" "$PROBE" listen 22 >/dev/null 2>&1 & listener=$!
# a new ssh-port connection from the admin (192.0.2.10) to Dom0 (192.0.2.1): open / timeout / ...
admin_connect() { ip netns exec "$NSA" "$PROBE" connect -t 700 192.0.2.1 22; }
in_ns nft -f "$FIX/others.nft"
others_before=$(table ip docker-like)$(table ip filter)

# --- apply then confirm -----------------------------------------------------
out=$(xg apply --ruleset "$FIX/v1.nft" --timeout 2 2>&1); rc=$?
check "apply v1 exits 0 and says how to confirm" [ $rc = 0 ]
check "apply names 'xenguard confirm'" grep -q "xenguard confirm" <<<"$out"
check "v1 is loaded" has_table inet xenguard
check "a watchdog is pending" test -s "$ST/pending"
wd=$(pgrep -f -- "rollback --state-dir $(realpath "$ST") --if-pending")
check "the watchdog runs detached: own session, parent is not the caller" \
    bash -c "[ -n '$wd' ] && [ \"\$(ps -o sid= -p $wd | tr -d ' ')\" != \"\$(ps -o sid= -p $$ | tr -d ' ')\" ] && [ \"\$(ps -o ppid= -p $wd | tr -d ' ')\" != $$ ]"
check "confirm exits 0" xg confirm
# gone, or a zombie waiting for a PID 1 that reaps (some container inits do not)
running() { case "$(ps -o stat= -p "$1" 2>/dev/null)" in "" | Z*) return 1 ;; esac; }
check "confirm stops the watchdog" bash -c "$(declare -f running); sleep 0.3; ! running $wd"
sleep 3
check "after confirm and the timeout, v1 stays" xg status --ruleset "$FIX/v1.nft"
check "confirm saved the boot ruleset" test -s "$ST/confirmed.json"
out=$(xg confirm 2>&1); rc=$?
check "a second confirm says there is nothing to confirm (exit 1)" \
    [ $rc = 1 -a -n "$(echo "$out" | grep 'no apply is waiting')" ]

# --- apply then timeout: previous ruleset back --------------------------------
before=$(snap)
xg apply --ruleset "$FIX/v2.nft" --timeout 15 >/dev/null 2>&1  # 15: time for the status checks on a busy machine
check "v2 is loaded" xg status --ruleset "$FIX/v2.nft"
check "others survive apply" [ "$(table ip docker-like)$(table ip filter)" = "$others_before" ]
out=$(xg status --ruleset "$FIX/v1.nft"); rc=$?
check "status sees v2 differs from v1 (exit 1, names the difference)" \
    [ $rc = 1 -a -n "$(echo "$out" | grep -e '+ policy only\|- running only')" ]
check "status reports the pending apply" bash -c "echo '$out' | grep -q '^pending:'"
check "the watchdog rolls back within the timeout" wait_rolled_back
check "after the timeout, nft -j list ruleset equals the one before apply" [ "$(snap)" = "$before" ]
check "the rollback is logged" grep -q "rolled back unconfirmed apply" "$ST/rollback.log"

# --- apply then kill the caller's whole process group at once -----------------
before=$(snap)
setsid bash -c 'echo $$ > "$1/pgid"; ip netns exec "$2" env -u SSH_CONNECTION "$3" apply \
    --ruleset "$4" --timeout 2 --state-dir "$5" >/dev/null 2>&1; touch "$1/applied"; sleep 60' \
    _ "$WORK" "$NS" "$XG" "$FIX/v2.nft" "$ST" &
disown   # no job-control chatter when it is killed below
for i in $(seq 1 100); do [ -e "$WORK/applied" ] && break; sleep 0.05; done
kill -KILL -- "-$(cat "$WORK/pgid")"
check "v2 was loaded before the session died" xg status --ruleset "$FIX/v2.nft"
check "the caller's process group is gone" bash -c "! kill -0 -$(cat "$WORK/pgid") 2>/dev/null"
check "the watchdog survives the session and rolls back" wait_rolled_back
check "after the session died, the ruleset equals the one before apply" [ "$(snap)" = "$before" ]

# --- a broken ruleset changes nothing -----------------------------------------
before=$(snap)
out=$(xg apply --ruleset "$FIX/syntax-error.nft" --timeout 2 2>&1); rc=$?
check "a syntax error is refused (exit 1)" [ $rc = 1 ]
check "the error names the file and line" bash -c "echo '$out' | grep -q 'syntax-error.nft:4:'"
out=$(xg apply --ruleset "$FIX/kernel-reject.nft" --timeout 2 2>&1); rc=$?
check "a ruleset the kernel rejects is refused (exit 1)" [ $rc = 1 ]
check "the kernel's error names the line" bash -c "echo '$out' | grep -q 'kernel-reject.nft:5:'"
out=$(xg apply --ruleset "$FIX/foreign-table.nft" --timeout 2 2>&1); rc=$?
check "a ruleset creating another table is refused" \
    [ $rc = 1 -a -n "$(echo "$out" | grep 'creates table ip filter')" ]
check "after the refusals, nothing changed" [ "$(snap)" = "$before" ]
check "no apply is left pending" test ! -e "$ST/pending"

# --- lockout guard ------------------------------------------------------------
before=$(snap)
out=$(in_ns env SSH_CONNECTION="192.0.2.10 40022 192.0.2.1 22" "$XG" apply \
    --ruleset "$FIX/lockout.nft" --timeout 2 --state-dir "$ST" 2>&1); rc=$?
check "a ruleset dropping the admin's session is refused (exit 1)" [ $rc = 1 ]
check "the refusal names the session" bash -c "echo '$out' | grep -q 'refusing.*192.0.2.10 to port 22 on xgv0'"
if [[ "$out" != *"not built into"* ]]; then
    check "the analyzer's verdict: it would drop the session" bash -c "echo '$out' | grep -q 'would drop'"
fi
check "after the refusal, nothing changed" [ "$(snap)" = "$before" ]
out=$(in_ns env SSH_CONNECTION="192.0.2.10 40022 192.0.2.1 22" "$XG" apply \
    --ruleset "$FIX/v1.nft" --timeout 2 --state-dir "$ST" 2>&1); rc=$?
if [[ "$out" == *"not built into"* ]]; then
    # without the analyzer the guard fails closed: refuses, changes nothing
    check "without the analyzer the guard refuses (fail closed)" [ $rc = 1 -a "$(snap)" = "$before" ]
else
    check "a ruleset keeping the admin's session is loaded" [ $rc = 0 ]
    xg rollback >/dev/null
fi
out=$(in_ns env SSH_CONNECTION="192.0.2.10 40022 192.0.2.1 22" "$XG" apply --force \
    --ruleset "$FIX/lockout.nft" --timeout 2 --state-dir "$ST" 2>&1); rc=$?
check "--force loads it anyway, with a warning" [ $rc = 0 -a -n "$(echo "$out" | grep warning)" ]
check "real packets: with it loaded, the admin's new connection is dropped" \
    [ "$(admin_connect)" != open ]
check "and the watchdog still takes it back" wait_rolled_back
check "after the forced apply timed out, nothing changed" [ "$(snap)" = "$before" ]
in_ns env -u SSH_CONNECTION "$XG" apply --ruleset "$FIX/v1.nft" --timeout 8 --state-dir "$ST" >/dev/null 2>&1
check "real packets: with v1 loaded, the admin's new connection opens" [ "$(admin_connect)" = open ]
wait_rolled_back

# --- rollback at any time, and survivors --------------------------------------
xg apply --ruleset "$FIX/v2.nft" --timeout 5 >/dev/null 2>&1
check "apply while another is pending is refused" bash -c "! ip netns exec $NS $XG apply --ruleset $FIX/v1.nft --state-dir $ST 2>/dev/null"
check "rollback of a pending apply exits 0" xg rollback
check "rollback disarmed the pending apply" test ! -e "$ST/pending"
check "after rollback, the ruleset equals the one before apply" [ "$(snap)" = "$before" ]
check "others survive apply and rollback" [ "$(table ip docker-like)$(table ip filter)" = "$others_before" ]
xg apply --ruleset "$FIX/v2.nft" --yes </dev/null >/dev/null 2>&1
check "--yes keeps v2 at once" xg status --ruleset "$FIX/v2.nft"
check "--yes leaves nothing pending" test ! -e "$ST/pending"
in_ns nft delete table inet xenguard
check "apply --boot loads the confirmed ruleset" bash -c "ip netns exec $NS $XG apply --boot --state-dir $ST >/dev/null && ip netns exec $NS $XG status --ruleset $FIX/v2.nft --state-dir $ST >/dev/null"
# --- on a terminal apply asks (script(1) gives it a pty) -----------------------
before=$(snap)
tty_apply() { # ANSWER-SCRIPT FIXTURE
    bash -c "$1" | ip netns exec "$NS" script -qec \
        "env -u SSH_CONNECTION $XG apply --ruleset $2 --timeout 2 --state-dir $ST" /dev/null
}
out=$(tty_apply "sleep 0.3; echo yes" "$FIX/v2.nft"); rc=$?
check "on a terminal, 'yes' keeps the ruleset (exit 0)" [ $rc = 0 -a -n "$(echo "$out" | grep 'Keep this ruleset')" ]
check "and nothing is left pending" test ! -e "$ST/pending"
check "and v2 is running" xg status --ruleset "$FIX/v2.nft"
out=$(tty_apply "sleep 0.3; echo no" "$FIX/v1.nft"); rc=$?
check "on a terminal, 'no' restores the old ruleset at once (exit 1)" [ $rc = 1 ]
check "and v2 is running again" xg status --ruleset "$FIX/v2.nft"
out=$(tty_apply "sleep 4" "$FIX/v1.nft"); rc=$?
check "on a terminal, no answer within the timeout restores it (exit 1)" [ $rc = 1 ]
check "and v2 is running again" xg status --ruleset "$FIX/v2.nft"
xg rollback >/dev/null 2>&1   # back to the state before the terminal tests
check "rollback after the terminal tests gives back the state before them" [ "$(snap)" = "$before" ]

# --- the whole pipeline: policy -> compiler -> nft backend -> apply --------------
POL="$XG_ROOT/examples/isolated-management.conf"
xg rollback >/dev/null 2>&1
before=$(snap)
out=$(xg apply -c "$POL" --timeout 2 2>&1); rc=$?
check "apply -c POLICY loads the compiled policy" [ $rc = 0 ]
check "status -c POLICY: the running table equals the policy" xg status -c "$POL"
check "status -c of another policy differs" bash -c "! ip netns exec $NS $XG status -c $XG_ROOT/examples/firewalled-subnet.conf --state-dir $ST"
check "others survive the compiled policy" [ "$(table ip docker-like)$(table ip filter)" = "$others_before" ]
check "the compiled policy is rolled back after the timeout" wait_rolled_back
check "after it, the ruleset equals the one before" [ "$(snap)" = "$before" ]
xg apply -c "$POL" --timeout 5 >/dev/null 2>&1 && xg confirm >/dev/null
xg apply -c "$XG_ROOT/examples/firewalled-subnet.conf" --timeout 2 >/dev/null 2>&1
wait_rolled_back
check "a rolled-back policy gives back the confirmed one exactly (comments of sets included)" \
    xg status -c "$POL"
xg rollback >/dev/null 2>&1
check "rollback restores the table from before the last apply (the confirmed policy)" \
    xg status -c "$POL"
before=$(snap)
out=$(in_ns env SSH_CONNECTION="203.0.113.9 40022 192.0.2.1 22" "$XG" apply -c "$POL" \
    --timeout 2 --state-dir "$ST" 2>&1); rc=$?
check "a policy whose ssh-from leaves out the admin (203.0.113.9) is refused" [ $rc = 1 ]
check "and nothing changed" [ "$(snap)" = "$before" ]

check "usage errors exit 2" bash -c "$XG apply --timeout 0 >/dev/null 2>&1; [ \$? = 2 ]"
check "--help exits 0" bash -c "$XG apply --help | grep -q Usage"

done_testing
