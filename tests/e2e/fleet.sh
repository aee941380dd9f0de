#!/bin/bash
# fleet.sh — a cluster of three Dom0s driven by Debian's ansible-core.
#
# Three "Dom0s" are network namespaces on one TEST-NET bridge
# (198.51.100.1-3), each with its own UTS namespace (hostname) and its own
# sshd listening on its address (throwaway host and user keys, root by key
# only). A fourth namespace (198.51.100.10) is the controller and runs
# ansible-playbook; a fifth (198.51.100.66) is an outsider. The namespaces
# share the file system, so every path the role uses is a per-host variable
# under this test's directory in /run.
#
#   site.yml   installs xenguard, writes each policy, applies it with a
#              rollback timer, reconnects and confirms: table inet xenguard
#              is loaded in each namespace and confirmed; then real packets:
#              the members reach each other's migration port, the outsider
#              does not.
#   audit.yml  brings back three reports and `xenguard fleet` passes; with
#              one host's peer list missing a member it fails the play with
#              XG-FLEET-001.
set -u
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip nft socat ssh ssh-keygen /usr/sbin/sshd ansible-playbook unshare

ID=$$
LAN=xgfL$ID CTRL=xgfC$ID OUT=xgfO$ID
HOSTS=(h1 h2 h3)
declare -A NS=([h1]=xgf1$ID [h2]=xgf2$ID [h3]=xgf3$ID [ctrl]=$CTRL [out]=$OUT)
declare -A ADDR=([h1]=198.51.100.1 [h2]=198.51.100.2 [h3]=198.51.100.3 [ctrl]=198.51.100.10
    [out]=198.51.100.66)
PORT=$((20000 + RANDOM % 20000))
T=$(mktemp -d /run/xenguard-e2e.XXXXXX) || bail_out "mktemp under /run"
PIDS=()

cleanup() {
    local p n
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for n in "${NS[@]}" "$LAN"; do ip netns del "$n" 2>/dev/null; done
    # a rollback watchdog left armed by a failed run: stop it by the pid its state records
    for p in "$T"/h?/state/pending; do
        [ -f "$p" ] && kill "$(awk '{print $2}' "$p")" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

# --- the network: a bridge in $LAN, one veth (eth0 inside) per namespace ---
net() {
    local k i=0
    ip netns add "$LAN" && ip -n "$LAN" link add br0 type bridge && ip -n "$LAN" link set br0 up &&
        ip -n "$LAN" link set lo up || return 1
    for k in h1 h2 h3 ctrl out; do
        i=$((i + 1))
        ip netns add "${NS[$k]}" &&
            ip link add "xgf$i-$ID" netns "$LAN" type veth peer name eth0 netns "${NS[$k]}" &&
            ip -n "$LAN" link set "xgf$i-$ID" master br0 up &&
            ip -n "${NS[$k]}" addr add "${ADDR[$k]}/24" dev eth0 &&
            ip -n "${NS[$k]}" link set eth0 up && ip -n "${NS[$k]}" link set lo up || return 1
    done
}
net || bail_out "network namespaces and bridge"
ok "five namespaces on one bridge: h1 h2 h3 (198.51.100.1-3), controller .10, outsider .66"

# --- keys and one sshd per Dom0, in its own UTS namespace (its own hostname) ---
mkdir -p /run/sshd "$T/cp" "$T/ansible-local" "$T/ansible-home" "$T/remote-tmp" "$T/reports" &&
    ssh-keygen -q -t ed25519 -N '' -f "$T/id_ed25519" -C xenguard-e2e &&
    cp "$T/id_ed25519.pub" "$T/authorized_keys" && chmod 600 "$T/authorized_keys" ||
    bail_out "user key"
for h in "${HOSTS[@]}"; do
    mkdir -p "$T/$h/sbin" "$T/$h/etc" && chmod 700 "$T/$h" &&
        ssh-keygen -q -t ed25519 -N '' -f "$T/$h/ssh_host_ed25519_key" || bail_out "host key of $h"
    cat >"$T/$h/sshd_config" <<EOF
ListenAddress ${ADDR[$h]}:22
HostKey $T/$h/ssh_host_ed25519_key
PidFile $T/$h/sshd.pid
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
EOF
    ip netns exec "${NS[$h]}" unshare --uts sh -c "hostname $h-$ID && exec /usr/sbin/sshd -D -e -f $T/$h/sshd_config" \
        >"$T/$h/sshd.log" 2>&1 &
    PIDS+=($!)
done
wait_listen() { # wait_listen NS ADDR PORT
    local i
    for i in $(seq 50); do
        ip netns exec "$1" ss -Htln "src $2 sport = :$3" | grep -q . && return 0
        sleep 0.1
    done
    return 1
}
for h in "${HOSTS[@]}"; do
    wait_listen "${NS[$h]}" "${ADDR[$h]}" 22 || bail_out "sshd of $h listens" "$(cat "$T/$h/sshd.log")"
done
ok "three sshd, one per Dom0 namespace, root by key only"

# --- the inventory: per-host paths, since the namespaces share the file system ---
{
    echo "[xenguard]"
    for h in "${HOSTS[@]}"; do
        echo "$h ansible_host=${ADDR[$h]} xenguard_address=${ADDR[$h]}" \
            "xenguard_install_path=$T/$h/sbin/xenguard xenguard_config_path=$T/$h/etc/xenguard.conf" \
            "xenguard_state_dir=$T/$h/state"
    done
    cat <<EOF

[xenguard:vars]
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
xenguard_binary=$XG
xenguard_scenario=firewalled-subnet
xenguard_public_interface=eth0
xenguard_transport=xend
xenguard_migration_port=$PORT
xenguard_ssh_from=['${ADDR[ctrl]}']
xenguard_networks=['198.51.100.0/24']
xenguard_rollback_timeout=90
xenguard_rollback_via=process
xenguard_report_dir=$T/reports
EOF
} >"$T/inventory"
printf "[defaults]\n" >"$T/ansible.cfg"

playbook() { # playbook LOG PLAYBOOK [ARGS...]: ansible-playbook from the controller namespace
    local log=$1 start=$SECONDS rc cpu0 cpu1
    shift
    times >"$T/times"
    cpu0=$(cpu_seconds)
    ip netns exec "$CTRL" env ANSIBLE_HOME="$T/ansible-home" ANSIBLE_LOCAL_TEMP="$T/ansible-local" \
        ANSIBLE_REMOTE_TEMP="$T/remote-tmp" ANSIBLE_SSH_CONTROL_PATH_DIR="$T/cp" \
        ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_PRIVATE_KEY_FILE="$T/id_ed25519" \
        ANSIBLE_SSH_ARGS="-o UserKnownHostsFile=$T/known_hosts -o StrictHostKeyChecking=no -o ControlMaster=auto -o ControlPersist=300s" \
        ANSIBLE_PIPELINING=True ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
        ANSIBLE_CONFIG="$T/ansible.cfg" ANSIBLE_GATHERING=explicit ANSIBLE_LOG_PATH="$T/$log.tasks" \
        ANSIBLE_INTERNAL_POLL_INTERVAL=0.05 \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
        ansible-playbook -i "$T/inventory" "$XG_ROOT/ansible/$@" >"$LOG_DIR_PREFIX$log" 2>&1
    rc=$?
    times >"$T/times"
    cpu1=$(cpu_seconds)
    diag "ansible-playbook $1: exit $rc after $((SECONDS - start)) s, $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }') s CPU; slowest tasks:"
    slowest "$T/$log.tasks" | while IFS= read -r line; do diag "  $line"; done
    return $rc
}
cpu_seconds() { # user + system time of this shell's finished children, in seconds
    # (`times` in this shell, not in the $(...) subshell, which has no children yet)
    awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } print s }' \
        "$T/times"
}
slowest() { # slowest LOG: the 4 longest tasks, from the log's timestamps (TASK line to next)
    awk '/ TASK \[|PLAY RECAP/ { split($2, hms, /[:,]/); t = hms[1] * 3600 + hms[2] * 60 + hms[3] + hms[4] / 1000
             if (name != "") printf "%6.1f s  %s\n", t - t0, name
             name = $0; sub(/.*TASK \[/, "", name); sub(/\].*/, "", name); t0 = t }' "$1" |
        sort -rn | head -n 4
}
LOG_DIR_PREFIX="$T/"

# --- site.yml: install, write, apply, reconnect, confirm ---
playbook site.log site.yml
rc=$?
is "$rc" 0 "site.yml exits 0" || diag "$(tail -n 40 "$T/site.log")"
check "site.yml: every host changed, none failed or unreachable" \
    grep -Eq '^h3 +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0' "$T/site.log"
for h in "${HOSTS[@]}"; do
    check "$h: table inet xenguard is loaded in its namespace, with the migration rule for its peers" \
        sh -c "ip netns exec ${NS[$h]} nft list table inet xenguard | grep -q 'tcp dport $PORT ip saddr @peers_v4 accept'"
    check "$h: the apply was confirmed from a new connection (confirmed.json, nothing pending)" \
        sh -c "test -s $T/$h/state/confirmed.json && ! test -e $T/$h/state/pending"
done
peers_h1=$(sed -n 's/^peers = //p' "$T/h1/etc/xenguard.conf")
is "$peers_h1" "198.51.100.2 198.51.100.3" "h1's policy lists the other two members (from the inventory)"

# --- real packets: members reach the migration port, the outsider does not ---
for h in "${HOSTS[@]}"; do
    ip netns exec "${NS[$h]}" socat TCP-LISTEN:$PORT,bind=${ADDR[$h]},reuseaddr,fork SYSTEM:'echo up' \
        >/dev/null 2>&1 &
    PIDS+=($!)
done
for h in "${HOSTS[@]}"; do wait_listen "${NS[$h]}" "${ADDR[$h]}" "$PORT"; done
connect() { # connect FROM_NS TO_ADDR: prints what the listener said
    ip netns exec "$1" socat -T 3 - "TCP:$2:$PORT,connect-timeout=3" </dev/null 2>/dev/null
}
is "$(connect "${NS[h2]}" "${ADDR[h1]}")" up "h2 reaches h1's migration port $PORT"
is "$(connect "${NS[h3]}" "${ADDR[h1]}")" up "h3 reaches h1's migration port $PORT"
is "$(connect "${NS[h1]}" "${ADDR[h3]}")" up "h1 reaches h3's migration port $PORT"
is "$(connect "$OUT" "${ADDR[h1]}")" "" "the outsider (.66) does not reach h1's migration port"
is "$(connect "$CTRL" "${ADDR[h2]}")" "" "the controller (admin, not a member) does not reach h2's migration port"

# --- site.yml --check --diff: h2's policy now differs from what it runs, h3's does not ---
ruleset_of() { ip netns exec "${NS[$1]}" nft list ruleset; }
h2_before=$(ruleset_of h2) h3_before=$(ruleset_of h3) conf_h2=$(cat "$T/h2/etc/xenguard.conf")
cp "$T/inventory" "$T/inventory.orig"
sed -i "/^h2 /s/\$/ xenguard_ssh_from=\"['${ADDR[ctrl]}','203.0.113.5']\"/" "$T/inventory"
playbook site-check.log site.yml --check --diff --limit h2,h3
rc=$?
is "$rc" 0 "site.yml --check --diff exits 0" || diag "$(tail -n 40 "$T/site-check.log")"
check "check mode: h2 (its policy differs from the loaded one) reports changed" \
    grep -Eq '^h2 +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0' "$T/site-check.log"
check "check mode: h3 (as loaded) reports nothing changed" \
    grep -Eq '^h3 +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' "$T/site-check.log"
check "the play shows apply --diff's output: h2's new ssh-from in the rules, 'would change'" \
    sh -c "grep -q '+.*elements = { ${ADDR[ctrl]}, 203.0.113.5 }' '$T/site-check.log' &&
           grep -q 'would change' '$T/site-check.log'"
check "h2 loaded nothing (nft list ruleset byte for byte)" [ "$(ruleset_of h2)" = "$h2_before" ]
check "h3 loaded nothing (nft list ruleset byte for byte)" [ "$(ruleset_of h3)" = "$h3_before" ]
check "h2: its policy file is unchanged and no apply is pending" \
    sh -c "[ \"\$(cat $T/h2/etc/xenguard.conf)\" = \"\$1\" ] && ! test -e $T/h2/state/pending" - "$conf_h2"
mv "$T/inventory.orig" "$T/inventory"

# --- audit.yml: three reports, the cluster passes ---
playbook audit.log audit.yml
rc=$?
is "$rc" 0 "audit.yml exits 0 on the consistent cluster" || diag "$(tail -n 40 "$T/audit.log")"
check "three reports on the controller" test -s "$T/reports/h1.json" -a -s "$T/reports/h2.json" -a -s "$T/reports/h3.json"
"$XG" fleet "$T/reports" >"$T/fleet.out" 2>&1
is "$?" 0 "xenguard fleet over the reports exits 0"
check "fleet: the firewalls pass XG-FLEET-006 (members in, nobody else)" grep -q '^PASS   XG-FLEET-006' "$T/fleet.out"
check "fleet: three distinct hosts in the table" grep -q "^h3-$ID " "$T/fleet.out"

# --- the planted inconsistency: h1's peers omit h3 ---
sed -i "s/^peers = .*/peers = ${ADDR[h2]}/" "$T/h1/etc/xenguard.conf"
# only h1 changed: re-audit it alone; fleet judges its new report with h2's and h3's
playbook audit-bad.log audit.yml --limit h1
rc=$?
check_fails "audit.yml fails when h1's peer list omits h3" test "$rc" = 0
check "the play names XG-FLEET-001 and the missing member" \
    sh -c "grep -q 'XG-FLEET-001' $T/audit-bad.log && grep -q 'h1-$ID does not list h3-$ID (198.51.100.3) as a peer' $T/audit-bad.log"
"$XG" fleet "$T/reports" >"$T/fleet-bad.out" 2>&1
is "$?" 1 "xenguard fleet exits 1 on the asymmetric cluster"

# --- hostile or unusable reports: a clear one-line error, exit 2 ---
printf '{\n  "schema": "xenguard-audit/1",\n  "host": {,\n}\n' >"$T/broken.json"
"$XG" fleet "$T/broken.json" >"$T/broken.out" 2>&1
is "$?" 2 "a report that is not JSON: exit 2"
check "... with FILE:LINE:COLUMN" grep -q "^xenguard fleet: $T/broken.json:3:[0-9]*: " "$T/broken.out"
"$XG" fleet "$T/reports/h1.json" "$T/reports/h1.json" >"$T/twice.out" 2>&1
is "$?" 2 "the same host's report twice: exit 2"
check "... naming both reports" grep -q "is also in $T/reports/h1.json: one report per host" "$T/twice.out"

# where the time goes: the Dom0 side's CPU (each sshd with the sessions it reaped)
remote_cpu=0
for p in "${PIDS[@]:0:3}"; do
    remote_cpu=$(awk -v t="$(getconf CLK_TCK)" -v s="$remote_cpu" '{ print s + ($14 + $15 + $16 + $17) / t }' \
        "/proc/$p/stat" 2>/dev/null || echo "$remote_cpu")
done
diag "the three Dom0s' sshd and their sessions: $remote_cpu s CPU; load average $(cut -d' ' -f1-3 /proc/loadavg)"

done_testing
