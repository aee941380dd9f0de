#!/bin/bash
# status against the real kernel, inside a throwaway network namespace: exit
# 0 (the running firewall is the policy), 1 (drift), 2 (error); the JSON
# report validated against doc/status.schema.json; drift in the guests'
# table bridge xenguard found (the vif_* elements `xenguard vif` adds are
# not drift); address sets printed as the analyzer prints them ("all
# except ..."); --ruleset - and /dev/fd/N; --quiet and --verbose. TEST-NET
# addresses only. TAP output.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$XG_ROOT/tests/fixtures/apply"
POL="$XG_ROOT/examples/isolated-management.conf"
SCHEMA="$XG_ROOT/doc/status.schema.json"
NS="xgst$$"
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft /usr/bin/python3
ST=$(mktemp -d /run/xenguard-e2e.XXXXXX) # root-owned path: /tmp is refused
WORK=$(mktemp -d)

cleanup() {
    local rc=$?
    # a watchdog of this test (matched by our private state dir)
    for pid in $(pgrep -f -- "--state-dir $ST " 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$ST" "$WORK"
    exit $rc
}
trap cleanup EXIT

in_ns() { ip netns exec "$NS" "$@"; }
xg() { in_ns env -u SSH_CONNECTION "$XG" "$@"; }
st() { xg status -b nft --state-dir "$ST" "$@"; }
keep() { echo "$1" >"$WORK/out.$((++KEPT))"; echo "$WORK/out.$KEPT"; } # text -> a file to grep twice
KEPT=0
valid() { /usr/bin/python3 "$XG_ROOT/tests/e2e/lib/schema_check.py" "$SCHEMA" "$1"; }
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }

ip netns add "$NS" || bail_out "ip netns add $NS"
in_ns ip link set lo up

# --- nothing loaded: drift -----------------------------------------------------------
out=$(st -c "$POL" 2>&1)
is "$?" 1 "nothing loaded: exit 1 (drift)"
check "... says no table inet xenguard is loaded, nor the guests' table" \
    sh -c 'grep -q "^running: no table inet xenguard is loaded" "$1" &&
           grep -q "^running: no table bridge xenguard is loaded" "$1"' - "$(keep "$out")"
st -c "$POL" -f json >"$WORK/none.json"
is "$?" 1 "... JSON: exit 1"
check "... JSON valid against doc/status.schema.json" valid "$WORK/none.json"
is "$(field "$WORK/none.json" 'd["as_policy"], d["inet"]["running"], d["bridge"]["running"]')" \
    "(False, False, False)" "... JSON: as_policy false, neither table running"

# --- errors: 2 -------------------------------------------------------------------------
st -c /nonexistent/xenguard.conf >"$WORK/err.out" 2>&1
is "$?" 2 "a missing policy: exit 2"
check "... one line naming it" grep -q '^xenguard status: /nonexistent/xenguard.conf: No such file' "$WORK/err.out"
st -c "$POL" -f yaml >/dev/null 2>&1
is "$?" 2 "--format yaml: usage error, exit 2"
st --ruleset "$FIX/syntax-error.nft" >/dev/null 2>&1
is "$?" 2 "a ruleset with a syntax error: exit 2"
st -c "$POL" -f json >"$WORK/err.json" 2>/dev/null </dev/null
st -c /nonexistent -f json >"$WORK/err2.json" 2>/dev/null
is "$(wc -c <"$WORK/err2.json")" 0 "an error prints no JSON on stdout"

# --- the policy loaded: 0 --------------------------------------------------------------
xg apply -c "$POL" --yes --state-dir "$ST" </dev/null >/dev/null 2>&1 || bail_out "apply $POL"
out=$(st -c "$POL" 2>&1)
is "$?" 0 "after apply: exit 0"
check "... the analyzer: lets in exactly what the policy asks" grep -q '^running: lets in exactly what' <<<"$out"
check "... the guests' table equals the policy's" grep -q '^running: table bridge xenguard equals' <<<"$out"
check "... summary line" grep -q "^status: as $POL\$" <<<"$out"
st -c "$POL" -f json >"$WORK/ok.json"
is "$?" 0 "... JSON: exit 0"
check "... JSON valid against doc/status.schema.json" valid "$WORK/ok.json"
is "$(field "$WORK/ok.json" 'd["schema"], d["as_policy"], d["comparison"], d["bridge"]["equal"], d["pending"]')" \
    "('xenguard-status/1', True, 'reachability', True, None)" "... JSON: schema, as_policy, reachability, bridge equal, no pending"
is "$(st -c "$POL" -q)" "status: as $POL" "-q: only the summary line when all is well"
check "-v: the questions asked" sh -c "ip netns exec $NS $XG status -b nft -v -c $POL --state-dir $ST | grep -q '^  asked: tcp/22 IPv4 on eth1'"
check "-c - (stdin): exit 0" sh -c "ip netns exec $NS $XG status -b nft -c - --state-dir $ST <$POL >/dev/null"

# --- drift in the guests' table ----------------------------------------------------------
in_ns nft add element bridge xenguard protected4 '{ 203.0.113.77 }'
out=$(st -c "$POL" 2>&1)
is "$?" 1 "an element added to the guests' protected4 set: exit 1"
check "... names the bridge table and the set's extra address" \
    sh -c 'grep -q "^running: table bridge xenguard differs" "$1" &&
           grep -q "^  set protected4: running also holds: 203.0.113.77/32" "$1"' - "$(keep "$out")"
st -c "$POL" -f json >"$WORK/bridge.json"
check "... JSON valid" valid "$WORK/bridge.json"
is "$(field "$WORK/bridge.json" 'd["as_policy"], d["bridge"]["equal"], d["bridge"]["sets"]')" \
    "(False, False, [{'name': 'protected4', 'running_only': ['203.0.113.77/32'], 'policy_only': []}])" \
    "... JSON: the set's difference as a prefix list"
is "$(st -c "$POL" -q | grep -c .)" 4 "-q: the drift (3 lines) and the summary line only"
in_ns nft delete element bridge xenguard protected4 '{ 203.0.113.77 }'
in_ns nft add element bridge xenguard vif_ip4 '{ "vif9.0" . 198.51.100.77 }'
in_ns nft add element bridge xenguard vif_declared '{ "vif9.0" }'
st -c "$POL" >"$WORK/vif.out" 2>&1
is "$?" 0 "a guest declared at run time (vif_* elements) is expected drift: exit 0" ||
    diag "$(cat "$WORK/vif.out")"
in_ns nft delete table bridge xenguard
st -c "$POL" >"$WORK/nobridge.out" 2>&1
is "$?" 1 "the guests' table deleted: exit 1"
check "... says so" grep -q '^running: no table bridge xenguard is loaded' "$WORK/nobridge.out"
xg apply -c "$POL" --yes --state-dir "$ST" </dev/null >/dev/null 2>&1

# --- drift in table inet xenguard: the analyzer's sets -----------------------------------
in_ns nft insert rule inet xenguard input iifname eth0 ip saddr != 203.0.113.0/24 tcp dport 22 accept
out=$(st -c "$POL" 2>&1)
is "$?" 1 "an ssh accept for all but 203.0.113.0/24 on eth0: exit 1"
check "... tcp/22 IPv4 on eth0, running lets in 'all except ...' (not a list of prefixes)" \
    sh -c 'grep -A1 "^  tcp/22 IPv4 on eth0:" "$1" | grep -q "running lets in: *all except .*203.0.113.0/24"' - "$(keep "$out")"
st -c "$POL" -f json >"$WORK/inet.json"
check "... JSON valid" valid "$WORK/inet.json"
is "$(field "$WORK/inet.json" '[x["service"] for x in d["reachability"]["differences"] if x["iface"] == "eth0" and x["family"] == 4]')" \
    "['tcp/22']" "... JSON: the difference is tcp/22 IPv4 on eth0"

# --- a pending apply: reported, not counted ------------------------------------------------
xg apply -c "$POL" --timeout 60 --rollback-via process --state-dir "$ST" </dev/null >/dev/null 2>&1
out=$(st -c "$POL" 2>&1)
is "$?" 0 "an unconfirmed apply of the policy: exit 0"
check "... reported" sh -c 'grep -q "^pending: an apply is unconfirmed" "$1" &&
    grep -q "(an apply is pending)\$" "$1"' - "$(keep "$out")"
st -c "$POL" -f json >"$WORK/pending.json"
check "... JSON valid" valid "$WORK/pending.json"
is "$(field "$WORK/pending.json" 'd["pending"]["via"], d["pending"]["seconds_left"] > 0')" \
    "('process', True)" "... JSON: the pending apply's watchdog and time left"
xg confirm --state-dir "$ST" >/dev/null 2>&1

# --- --ruleset FILE, - and /dev/fd/N -------------------------------------------------------
xg apply --ruleset "$FIX/v1.nft" --yes --state-dir "$ST" </dev/null >/dev/null 2>&1
st --ruleset - <"$FIX/v1.nft" >/dev/null 2>&1
is "$?" 0 "--ruleset - (stdin) of what is loaded: exit 0"
st --ruleset - <"$FIX/v2.nft" >"$WORK/v2.out" 2>&1
is "$?" 1 "--ruleset - (stdin) of another ruleset: exit 1"
check "... the listing's differences" grep -q '^  + policy only: ' "$WORK/v2.out"
st --ruleset /dev/fd/3 3< <(cat "$FIX/v1.nft") >/dev/null 2>&1
is "$?" 0 "--ruleset /dev/fd/3 (a pipe) of what is loaded: exit 0"
st --ruleset /dev/fd/3 3< <(cat "$FIX/v2.nft") >/dev/null 2>&1
is "$?" 1 "--ruleset /dev/fd/3 (a pipe) of another ruleset: exit 1"
st --ruleset "$FIX/v1.nft" -f json >"$WORK/file.json"
check "--ruleset: JSON valid (listing comparison, no bridge table in the file)" valid "$WORK/file.json"
is "$(field "$WORK/file.json" 'd["comparison"], d["bridge"]')" "('listing', None)" \
    "... comparison 'listing', bridge null"

done_testing
