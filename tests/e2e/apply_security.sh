#!/bin/bash
# apply_security.sh — regression tests for the apply findings of issue 12,
# each reproducing the attack: a state directory someone else owns, symlinks
# planted in it, a pid in `pending` that is not our watchdog, a --ruleset
# that flushes or deletes other tables, the xtables lock held while apply
# and rollback run (legacy iptables), FIFOs and device nodes in an audited
# or hardened root. Real kernel state only inside network namespaces this
# script creates; TEST-NET addresses only. Prints TAP lines.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$XG_ROOT/tests/e2e/lib/tap.sh"
FIX="$XG_ROOT/tests/fixtures/apply"
POL="$XG_ROOT/examples/isolated-management.conf"
NS="xgsec$$"
W=$(mktemp -d)
RUNDIR=$(mktemp -d /run/xenguard-e2e-sec.XXXXXX) # root-owned, not /tmp
decoy_pid=

cleanup() {
    local rc=$?
    for pid in $(pgrep -f -- "--state-dir $RUNDIR/" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    [ -n "$decoy_pid" ] && { pkill -P "$decoy_pid"; kill "$decoy_pid"; } 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$W" "$RUNDIR"
    exit $rc
}
trap cleanup EXIT


in_ns() { ip netns exec "$NS" "$@"; }
xg() { in_ns env -u SSH_CONNECTION "$XG" "$@"; }
has_table() { in_ns nft list table "$1" "$2" >/dev/null 2>&1; }
# another program's table, with a rule in it
other_table() { in_ns nft -f - <<'EOF'
table ip other {
    chain other_forward {
        type filter hook forward priority 10; policy accept;
        ip saddr 192.0.2.50 accept
    }
}
EOF
}

ip netns add "$NS" || bail_out "ip netns add"
other_table

# --- 2: a state directory owned by someone else -------------------------------
# nobody's directory holds a "previous" ruleset and a pending apply: root's
# rollback must not load it (it flushes every table) nor trust the dir at all.
SD="$RUNDIR/nobody-state"
mkdir -m 0700 "$SD"
printf 'flush ruleset\n' >"$SD/previous.nft"
printf '0123456789abcdef0123456789abcdef 1 1 process\n' >"$SD/pending"
chown -R 65534:65534 "$SD"
out=$(xg rollback --state-dir "$SD" 2>&1); rc=$?
check "rollback refuses a state dir owned by nobody (exit 1, says who owns it)" \
    [ $rc = 1 -a -n "$(echo "$out" | grep 'owned by uid 65534')" ]
check "nothing from it was loaded: table ip other survives" has_table ip other
out=$(xg apply --ruleset "$FIX/v1.nft" --yes --state-dir "$SD/sub" 2>&1); rc=$?
check "apply refuses a state dir below a directory nobody owns" [ $rc = 1 ]
check "and loads nothing" bash -c "! ip netns exec $NS nft list table inet xenguard"
mkdir -m 0777 "$RUNDIR/open" && chmod 0777 "$RUNDIR/open"
out=$(xg apply --ruleset "$FIX/v1.nft" --yes --state-dir "$RUNDIR/open/st" 2>&1); rc=$?
check "apply refuses a state dir below a world-writable directory" \
    [ $rc = 1 -a -n "$(echo "$out" | grep 'writable by others')" ]
out=$(xg apply --ruleset "$FIX/v1.nft" --yes --state-dir "$W/st" 2>&1); rc=$?
check "apply refuses a state dir under /tmp (sticky, world-writable)" [ $rc = 1 ]

# --- 2: symlinks planted in a root-owned state directory ------------------------
ST="$RUNDIR/st-lock"
mkdir -m 0700 "$ST"
ln -s "$W/victim-lock" "$ST/lock"
out=$(xg apply --ruleset "$FIX/v1.nft" --yes --state-dir "$ST" 2>&1); rc=$?
check "a symlinked lock is refused (exit 1, names it)" [ $rc = 1 -a -n "$(echo "$out" | grep '/lock')" ]
check "root created nothing through the lock symlink" test ! -e "$W/victim-lock"
check "and loaded nothing" bash -c "! ip netns exec $NS nft list table inet xenguard"

ST="$RUNDIR/st-log"
mkdir -m 0700 "$ST"
out=$(xg apply --ruleset "$FIX/v1.nft" --timeout 60 --state-dir "$ST" 2>&1); rc=$?
check "apply with a watchdog (setup)" [ $rc = 0 ]
ln -s "$W/victim-log" "$ST/rollback.log"
token=$(cut -d' ' -f1 "$ST/pending" 2>/dev/null)
out=$(xg rollback --state-dir "$ST" --if-pending "$token" 2>&1); rc=$?
check "the watchdog's rollback still restores (exit 0)" [ $rc = 0 ]
check "its log line did not go through the rollback.log symlink" test ! -e "$W/victim-log"
check "table ip other survived all of the above" has_table ip other

# --- kill(pid) of whatever now has the pid in `pending` -------------------------
# a process that merely carries the token on its command line is not our watchdog
ST="$RUNDIR/st-pid"
mkdir -m 0700 "$ST"
token=0123456789abcdef0123456789abcdef
bash -c 'sleep 300; exit 0' "$token" >/dev/null 2>&1 & # (two commands: no exec)
decoy_pid=$!
printf '%s %s %s process\n' "$token" "$decoy_pid" $(($(date +%s) + 60)) >"$ST/pending"
printf '%s\n' '{"nftables": []}' >"$ST/previous.json"
out=$(xg confirm --state-dir "$ST" 2>&1); rc=$?
sleep 0.3
check "confirm with a foreign pid in pending (exit 0)" [ $rc = 0 ]
check "the process that is not our watchdog was not signalled" kill -0 "$decoy_pid"

# --- 7: --ruleset may only touch table inet/bridge xenguard --------------------
ST="$RUNDIR/st-rs"
mkdir -m 0700 "$ST"
refused() { # FILE CONTENT DESC
    printf '%b' "$2" >"$W/$1"
    out=$(xg apply --ruleset "$W/$1" --yes --state-dir "$ST" 2>&1); rc=$?
    check "$3: refused (exit 1, names the line)" \
        [ $rc = 1 -a -n "$(echo "$out" | grep "$1:[0-9]*:[0-9]*: ")" ]
    check "$3: table ip other survives" has_table ip other
}
OURS='table inet xenguard {\n    chain input {\n        type filter hook input priority 0; policy accept;\n    }\n}\n'
refused flush.nft "${OURS}flush ruleset\n" "a ruleset ending in flush ruleset"
refused delete.nft "${OURS}add table ip other\ndelete table ip other\n" \
    "a ruleset adding then deleting table ip other"
refused include.nft "${OURS}include \"$W/flush.nft\"\n" "a ruleset including another file"
check "no table inet xenguard was loaded by any of them" \
    bash -c "! ip netns exec $NS nft list table inet xenguard"
printf '%b' "$OURS" >"$W/ours.nft"
out=$(xg apply --ruleset "$W/ours.nft" --yes --state-dir "$ST" 2>&1); rc=$?
check "a ruleset of table inet xenguard only is loaded" [ $rc = 0 ]
check "and table ip other is still there" has_table ip other
check "applied.nft records the file's own text" cmp -s "$W/ours.nft" "$ST/applied.nft"

# --- 10: the xtables lock held while apply and rollback run (legacy iptables) ---
cp -a /etc/alternatives "$W/alternatives"
for t in iptables ip6tables; do for s in "" -save -restore; do
    ln -sfn "/usr/sbin/$t-legacy$s" "$W/alternatives/$t$s"
done; done
# own mount namespace: legacy iptables via the alternatives, a private /run
# (the xtables lock and the state dir live there), the lock held 2 s each time
cat >"$W/locked.sh" <<EOF
mount --bind "$W/alternatives" /etc/alternatives || exit 9
mount -t tmpfs -o mode=0755 xg-run /run || exit 9
mkdir -m 0700 /run/st
hold() { flock /run/xtables.lock sleep 2 >/dev/null 2>&1 & sleep 0.3; }
hold; t0=\$(date +%s%N)
env -u SSH_CONNECTION "$XG" apply -c "$POL" --backend iptables --yes --state-dir /run/st
echo "apply rc=\$? waited_ms=\$(( (\$(date +%s%N) - t0) / 1000000 ))"
iptables-save | grep -c -- '-A INPUT -j XENGUARD-INPUT' | sed 's/^/hooked=/'
wait; hold
"$XG" rollback --state-dir /run/st
echo "rollback rc=\$?"
iptables-save | grep -c XENGUARD | sed 's/^/left=/'
wait
EOF
out=$(in_ns unshare -m --propagation private bash "$W/locked.sh" 2>&1)
echo "$out" | sed 's/^/# /'
check "apply waits for the xtables lock and loads (exit 0)" \
    [ -n "$(echo "$out" | grep '^apply rc=0 ')" ]
waited=$(echo "$out" | sed -n 's/.*waited_ms=\([0-9]*\).*/\1/p')
check "it waited for the holder (>= 1 s)" [ "${waited:-0}" -ge 1000 ]
check "the chains are hooked" [ -n "$(echo "$out" | grep '^hooked=1$')" ]
check "rollback waits for the lock and restores (exit 0)" [ -n "$(echo "$out" | grep '^rollback rc=0$')" ]
check "after rollback no XENGUARD chains are left" [ -n "$(echo "$out" | grep '^left=0$')" ]

# a lock that is never released: apply gives up (3 x --wait=10) and says why, no hang
cat >"$W/stuck.sh" <<EOF
mount --bind "$W/alternatives" /etc/alternatives || exit 9
mount -t tmpfs -o mode=0755 xg-run /run || exit 9
mkdir -m 0700 /run/st
flock -o /run/xtables.lock sleep 120 >/dev/null 2>&1 & holder=\$!
sleep 0.3
timeout 50 env -u SSH_CONNECTION "$XG" apply -c "$POL" --backend iptables --yes --state-dir /run/st
echo "apply rc=\$?"
iptables-save | grep -c XENGUARD | sed 's/^/left=/'
pkill -P \$holder; kill \$holder 2>/dev/null
EOF
out=$(in_ns unshare -m --propagation private bash "$W/stuck.sh" 2>&1)
echo "$out" | sed 's/^/# /'
check "with the lock held for good, apply fails within its retries (exit 1, not killed)" \
    [ -n "$(echo "$out" | grep '^apply rc=1$')" ]
check "the error names the xtables lock" [ -n "$(echo "$out" | grep 'xtables lock')" ]
check "nothing was loaded" [ -n "$(echo "$out" | grep '^left=0$')" ]

# --- 11: FIFOs and device nodes in an untrusted root ---------------------------
R="$W/root"
python3 "$XG_ROOT/tests/e2e/lib/mkroot.py" xl-isolated "$R" >/dev/null
rm -f "$R/etc/shadow" "$R/etc/ssh/sshd_config"
mkfifo "$R/etc/shadow"
mknod "$R/etc/ssh/sshd_config" c 1 5 # what /dev/zero is
out=$(timeout 30 "$XG" audit --root "$R" 2>&1); rc=$?
check "audit --root with a FIFO and a device node finishes (no hang)" [ $rc != 124 ]
check "it reports /etc/shadow as not a regular file" \
    [ -n "$(echo "$out" | grep '/etc/shadow: not a regular file')" ]
check "it reports /etc/ssh/sshd_config as not a regular file" \
    [ -n "$(echo "$out" | grep '/etc/ssh/sshd_config: not a regular file')" ]
mkdir -p "$R/etc/sysctl.d"
mkfifo "$R/etc/sysctl.d/99-xenguard.conf"
out=$(timeout 10 "$XG" harden sysctl --root "$R" 2>&1); rc=$?
check "harden --root with a FIFO in place of the file fails at once (no hang, exit 1)" \
    [ $rc = 1 -a -n "$(echo "$out" | grep 'not a regular file')" ]

done_testing
