# tunnel_lib.sh — shared helpers of tests/e2e/tunnel*.sh (sourced, not run).
#
# Needs XG (xenguard), XG_TOOLS (built tools), XG_ROOT. Everything lives in
# $T (a fresh temp dir) and is removed, with every process we started, by
# the EXIT trap the caller installs with `trap tl_cleanup EXIT`. The TAP
# functions (ok, check, done_testing...) are tests/e2e/lib/tap.sh's.
. "$XG_ROOT/tests/e2e/lib/tap.sh"
T=$(mktemp -d /tmp/xgtun.XXXXXX)
PIDS=()

tl_cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${TL_EXTRA_CLEANUP:-}" ] && eval "$TL_EXTRA_CLEANUP"
    rm -rf "$T"
}

# wait_for COMMAND...: poll (up to ~20 s) until COMMAND succeeds
wait_for() {
    local i
    for i in $(seq 200); do "$@" && return 0; sleep 0.1; done
    return 1
}

# start_tunneld LOG [NETNS] ARGS...: start a receiver, set PORT from its log line
start_tunneld() {
    local log=$1; shift
    "$@" 2>"$log" &
    PIDS+=($!)
    TUNNELD_PID=$!
    wait_for grep -q 'listening on' "$log" || { cat "$log"; return 1; }
    PORT=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$log" | head -1)
}

# keys: one good CA with hosts a.test, b.test, intruder.test, 127.0.0.1,
# 198.51.100.2, and a second, unrelated CA with a.test
make_keys() {
    "$XG" tunnel-keys -D "$T/pki" a.test b.test intruder.test c.test 127.0.0.1 198.51.100.2 \
        >"$T/keys.out" &&
        "$XG" tunnel-keys -D "$T/other" --ca-name "someone else" a.test >/dev/null
}

client_opts() { # client_opts NAME [PKI]
    local pki=${2:-$T/pki}
    echo "--ca $T/pki/ca.pem --cert $pki/$1.pem --key $pki/$1.key"
}
