#!/bin/bash
# apply --diff against the real kernel, inside a throwaway network namespace:
# it loads nothing (the whole ruleset listing is the same byte for byte
# before and after, and no state is written), shows the rules as a unified
# diff and the reachability change in the analyzer's terms, and exits 0 when
# nothing would change, 1 when something would, 2 on errors. --ruleset reads
# stdin (-) and pipes (/dev/fd/N). TEST-NET addresses only. TAP output.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$XG_ROOT/tests/fixtures/apply"
POL="$XG_ROOT/examples/isolated-management.conf"
OTHER="$XG_ROOT/examples/firewalled-subnet.conf"
NS="xgdf$$"
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX) # root-owned path: /tmp is refused
WORK=$(mktemp -d)

cleanup() {
    local rc=$?
    ip netns del "$NS" 2>/dev/null
    rm -rf "$ST" "$WORK"
    exit $rc
}
trap cleanup EXIT

in_ns() { ip netns exec "$NS" "$@"; }
xg() { in_ns env -u SSH_CONNECTION "$XG" "$@"; }
ruleset() { in_ns nft list ruleset; }
state() { find "$ST" -printf "%p %s %T@ %m\n" | sort; } # (not ls -la: its .. is /run, which others change)

ip netns add "$NS" || bail_out "ip netns add $NS"
in_ns ip link set lo up
in_ns nft -f "$FIX/others.nft" || bail_out "load the other tables"
xg apply --ruleset "$FIX/v1.nft" --yes --state-dir "$ST" </dev/null >/dev/null 2>&1 ||
    bail_out "apply v1"

# --- a change: v1 running, v2 previewed ----------------------------------------
before=$(ruleset) st_before=$(state)
out=$(xg apply --diff --ruleset "$FIX/v2.nft" 2>&1)
is "$?" 1 "apply --diff of v2 over v1 exits 1 (something would change)"
echo "$out" >"$WORK/v2.out"
check "the ruleset listing is the same byte for byte (nothing loaded)" [ "$(ruleset)" = "$before" ]
check "no state written" [ "$(state)" = "$st_before" ]
check "the rules: a unified diff (---, +++, @@ lines)" \
    sh -c 'grep -q "^--- running (table inet xenguard)" "$1" && grep -q "^+++ .*v2.nft" "$1" &&
           grep -q "^@@ -[0-9]*,[0-9]* +[0-9]*,[0-9]* @@" "$1"' - "$WORK/v2.out"
check "the rules: v1's set admins removed, v2's set peers added" \
    sh -c 'grep -q "^-	set admins {" "$1" && grep -q "^+	set peers {" "$1"' - "$WORK/v2.out"
check "the rules: the new reject rule shows as added" grep -q '^+		counter reject with icmpx admin-prohibited' <<<"$out"
check "reachability: tcp/8002 is now reachable from the two peers (the analyzer's terms)" \
    sh -c 'grep -A1 "^tcp/8002 on any other interface, IPv4:" | grep -q "now reachable from: *198.51.100.11/32 198.51.100.12/32"' <<<"$out"
check "the summary line says it would change" grep -q '^would change: the rules and what they let in' <<<"$out"
check "the other tables are untouched and xenguard's is still v1" \
    sh -c "ip netns exec $NS nft list table inet xenguard | grep -q 'first version'"

# --- no change ---------------------------------------------------------------------
out=$(xg apply --diff --ruleset "$FIX/v1.nft" 2>&1)
is "$?" 0 "apply --diff of what is running exits 0"
check "... and says no change" grep -q '^no change: the running firewall is what apply would load' <<<"$out"
out=$(xg apply -d -q --ruleset "$FIX/v1.nft" 2>&1)
is "$out" "no change: the running firewall is what apply would load" "-d -q: just the summary line"

# --- --ruleset - (stdin) and /dev/fd/N (a pipe) ------------------------------------
xg apply -d --ruleset - <"$FIX/v2.nft" >"$WORK/stdin.out" 2>&1
is "$?" 1 "--ruleset - (stdin, v2): exit 1"
check "... named <stdin>" grep -q '^+++ <stdin>' "$WORK/stdin.out"
xg apply -d --ruleset - <"$FIX/v1.nft" >/dev/null 2>&1
is "$?" 0 "--ruleset - (stdin, v1): exit 0"
xg apply -d --ruleset /dev/fd/3 3< <(cat "$FIX/v2.nft") >"$WORK/fd.out" 2>&1
is "$?" 1 "--ruleset /dev/fd/3 (a pipe, v2): exit 1"
xg apply -d --ruleset /dev/fd/3 3< <(cat "$FIX/v1.nft") >/dev/null 2>&1
is "$?" 0 "--ruleset /dev/fd/3 (a pipe, v1): exit 0"
check "still nothing loaded" [ "$(ruleset)" = "$before" ]

# --- errors: exit 2, nothing loaded ------------------------------------------------
out=$(xg apply -d --ruleset "$FIX/syntax-error.nft" 2>&1)
is "$?" 2 "a ruleset with a syntax error: exit 2"
check "... with FILE:LINE" grep -q "syntax-error.nft:[0-9]" <<<"$out"
out=$(xg apply -d --ruleset "$FIX/foreign-table.nft" 2>&1)
is "$?" 2 "a ruleset touching another table: exit 2"
xg apply -d -c /nonexistent/xenguard.conf >/dev/null 2>&1
is "$?" 2 "a missing policy: exit 2"
xg apply -d --boot >/dev/null 2>&1
is "$?" 2 "--diff with --boot: usage error (2)"
check "nothing loaded by any of them" [ "$(ruleset)" = "$before" ]

# --- a compiled policy: the same input path as apply (guests' table included) -------
xg apply -c "$POL" --yes --state-dir "$ST" </dev/null >/dev/null 2>&1 || bail_out "apply $POL"
before=$(ruleset)
out=$(xg apply -d -c "$POL" 2>&1)
is "$?" 0 "apply -d -c POLICY right after applying it: exit 0"
check "... the rules compared cover table inet and table bridge xenguard" \
    grep -q '^rules (table inet xenguard, table bridge xenguard): no change' <<<"$out"
# a guest declared at run time (xenguard vif): apply carries it over, so no change
in_ns nft add element bridge xenguard vif_ip4 '{ "vif9.0" . 198.51.100.77 }' &&
    in_ns nft add element bridge xenguard vif_declared '{ "vif9.0" }'
before=$(ruleset)
xg apply -d -c "$POL" >"$WORK/vif.out" 2>&1
is "$?" 0 "a guest declared at run time (vif_* elements) is carried over: exit 0" ||
    diag "$(cat "$WORK/vif.out")"
out=$(xg apply -d -c "$OTHER" 2>&1)
is "$?" 1 "apply -d -c ANOTHER_POLICY: exit 1"
check "... the guests' table (table bridge xenguard) in the rules diff" grep -q '^-	comment "xenguard: guests on Dom0' <<<"$out"
check "... and a reachability change in the analyzer's terms" \
    grep -Eq '^  (now reachable from|no longer reachable from):' <<<"$out"
check "the ruleset listing is the same byte for byte (nothing loaded)" [ "$(ruleset)" = "$before" ]

done_testing
