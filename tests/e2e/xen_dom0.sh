#!/bin/bash
# xen_dom0.sh — xenguard inside a real Xen 4.17 Dom0, booted under QEMU (TCG).
#
# Builds the image (tests/xen/build-image.sh: Debian's hypervisor, tools and
# kernel, plus build/xenguard), boots it (tests/xen/boot.sh, hard timeout),
# keeps the whole serial log as build/test-logs/xen_dom0.serial.log, splits
# it into the sections that tests/xen/dom0-checks.sh marked
# (XG-BEGIN name ... XG-END name rc=N) and asserts on them, one TAP line per
# fact. Sections of verbs that are not built yet are reported as TAP skips.
#
# XG_SKIP_XEN=1 skips the whole test (said so, as a skip). Anything the
# machine lacks (no mirror, no QEMU, no root) is a failure, never a skip.
# Uses build/xenguard (the plain build: ASan does not run inside that Dom0).
set -u
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 1
LOGDIR=$ROOT/build/test-logs
SERIAL=$LOGDIR/xen_dom0.serial.log
BUILDLOG=$LOGDIR/xen_dom0.build.log
SECT=$LOGDIR/xen_dom0.sections
PORT=7777 INTRUDER=mallory # planted by dom0-checks.sh
export XG_XEN_TIMEOUT=${XG_XEN_TIMEOUT:-300}
. tests/e2e/lib/tap.sh

if [ -n "${XG_SKIP_XEN:-}" ] && [ "${XG_SKIP_XEN}" != 0 ]; then
    skip "xen dom0" "XG_SKIP_XEN set"
    done_testing
fi
require root python3

# check_why DESCRIPTION WHY-IF-NOT CMD...: check, with the evidence from the
# serial log as a comment when it fails
check_why() {
    local why=$2
    check "$1" "${@:3}" || diag "$why"
}
serial() { sed 's/\r*$//' "$SERIAL"; } # the console ends lines with \r\r\n
finish() {
    diag "serial log: $SERIAL"
    done_testing
}

mkdir -p "$LOGDIR"
# ---- image ---------------------------------------------------------------------
if ! tests/xen/build-image.sh >"$BUILDLOG" 2>&1; then
    not_ok "xen dom0: build the Dom0 image (tests/xen/build-image.sh)" "$(tail -5 "$BUILDLOG")"
    finish
fi
ok "xen dom0: image built ($(grep -o 'base image cached\|building the Dom0 base image' "$BUILDLOG" | head -1))"

# ---- boot ----------------------------------------------------------------------
# boot.sh owns QEMU (hard timeout, killed on any exit); we own boot.sh.
bpid=
trap '[ -n "$bpid" ] && kill -TERM "$bpid" 2>/dev/null; wait 2>/dev/null' EXIT
trap 'exit 130' INT TERM HUP
rm -f "$SERIAL"
tests/xen/boot.sh "$SERIAL" &
bpid=$!
wait "$bpid"
qrc=$?
bpid=
case $qrc in
0) ok "xen dom0: QEMU exited 0 (Dom0 powered off, Xen entered S5)" ;;
124) not_ok "xen dom0: QEMU exited 0" "killed by the ${XG_XEN_TIMEOUT}s timeout: Dom0 hung or crashed" \
    "$(serial | tail -8)" ;;
*) not_ok "xen dom0: QEMU exited 0" "QEMU exit status $qrc" "$(serial | tail -8)" ;;
esac

# ---- sections ------------------------------------------------------------------
# Console lines from Xen "(XEN) ..." and the kernel "[ 1.23] ..." may land
# between the checks' lines: they are dropped.
rm -rf "$SECT"
mkdir -p "$SECT"
serial | awk -v dir="$SECT" '
    /^XG-BEGIN / { name = $2; file = dir "/" name ".out"; printf "" > file; next }
    /^XG-END /   { if (name != "") { sub(/^rc=/, "", $3); print $3 > (dir "/" name ".rc"); close(file) }
                   name = ""; next }
    /^XG-SKIP /  { print > (dir "/skips"); next }
    /^\(XEN\)/ || /^\[ *[0-9]+\.[0-9]+\]/ { next }
    name != ""   { print > file }'
out() { cat "$SECT/$1.out" 2>/dev/null; }
rc() { cat "$SECT/$1.rc" 2>/dev/null || echo missing; }
has() { grep -Eq "$2" "$SECT/$1.out" 2>/dev/null; }
skipped() { grep -q "^XG-SKIP $1 " "$SECT/skips" 2>/dev/null; }
skipwhy() { sed -n "s/^XG-SKIP $1 //p" "$SECT/skips" 2>/dev/null | head -1; }
section_ok() { # section_ok NAME DESCRIPTION: it ran and exited 0
    if [ "$(rc "$1")" = 0 ]; then ok "$2"; else not_ok "$2" "section $1: rc=$(rc "$1")" "$(out "$1" | head -19)"; fi
}

if grep -q '^XG-DONE' <(serial); then
    ok "xen dom0: Dom0 /init ran the checks to the end"
else
    not_ok "xen dom0: Dom0 /init ran the checks to the end" "no XG-DONE on the console" \
        "$(serial | grep -v '^(XEN)' | tail -8)"
fi

# ---- the Dom0 itself ------------------------------------------------------------
check_why "xen dom0: /proc/xen/capabilities is control_d" "capabilities: '$(out caps)'" \
    has caps '^control_d$'
check_why "xen dom0: xl info says xen_version 4.17" \
    "xl info (rc=$(rc xl-info)): $(out xl-info | grep xen_version || echo 'no xen_version line')" \
    has xl-info '^xen_version +: 4\.17\.'
for d in xenstored xenconsoled; do
    check_why "xen dom0: $d is running" "not in ps: $(out daemons | grep -c .) processes listed" \
        has daemons "^ *[0-9]+ $d "
done
check_why "xen dom0: xenstore answers for Domain-0" "xenstore-ls: rc=$(rc xenstore)" \
    has xenstore '^/local/domain/0/name = "Domain-0"'
check_why "xen dom0: build/xenguard runs inside Dom0" "xenguard --version: rc=$(rc version) $(out version)" \
    has version '^xenguard '
check_why "xen dom0: planted TCP listener on 0.0.0.0:$PORT" "ss -ltnp: $(out plant-listener)" \
    has plant-listener "0\.0\.0\.0:$PORT "
section_ok plant-user "xen dom0: planted login user $INTRUDER with a password and /bin/sh"

# ---- firewall: xenguard's ruleset in the real Dom0 kernel ------------------------
section_ok firewall-compile "xen dom0: xenguard firewall compiles examples/firewalled-subnet.conf"
section_ok firewall-load "xen dom0: nft -f loads the compiled ruleset into the Dom0 kernel"
check_why "xen dom0: nft list ruleset shows table inet xenguard" "$(out firewall-ruleset | head -5)" \
    has firewall-ruleset '^table inet xenguard \{'
for c in "prerouting:prerouting" "input:input"; do
    chain=${c%%:*} hook=${c#*:}
    check_why "xen dom0: the loaded table has chain $chain hooked at $hook" \
        "$(out firewall-ruleset | grep -E 'chain|hook' | head -8)" \
        sh -c "awk '/^table inet xenguard/,/^}/' '$SECT/firewall-ruleset.out' |
               grep -A1 -E '^\s*chain $chain \{' | grep -q 'hook $hook'"
done
check_why "xen dom0: the loaded input chain drops by default" "$(out firewall-ruleset | grep 'hook input')" \
    has firewall-ruleset 'hook input priority filter; policy drop;'
# Real TCP through the loaded ruleset, from netns "lan" on the other end of eth0.
fetched() { has "$1" '^planted$'; }
blocked() { [ "$(rc "$1")" = 1 ] && ! fetched "$1"; } # nc: refused or timed out, not crashed
check_why "xen dom0: before the firewall, 192.0.2.99 reaches the planted :$PORT (control)" \
    "nc rc=$(rc nofw-outsider-7777): $(out nofw-outsider-7777)" fetched nofw-outsider-7777
check_why "xen dom0: with the ruleset, peer 192.0.2.11 reaches relocation :8002" \
    "nc rc=$(rc fw-peer-8002): $(out fw-peer-8002)" fetched fw-peer-8002
check_why "xen dom0: with the ruleset, non-peer 192.0.2.99 does not reach :8002" \
    "nc rc=$(rc fw-outsider-8002): $(out fw-outsider-8002)" \
    blocked fw-outsider-8002
check_why "xen dom0: with the ruleset, peer 192.0.2.11 does not reach the unlisted :$PORT" \
    "nc rc=$(rc fw-peer-7777): $(out fw-peer-7777)" \
    blocked fw-peer-7777
check_why "xen dom0: nft delete table inet xenguard removes it" \
    "rc=$(rc firewall-delete), tables: $(out firewall-delete)" \
    sh -c "[ '$(rc firewall-delete)' = 0 ] && ! grep -q 'inet xenguard' '$SECT/firewall-delete.out'"

# The iptables backend: the same policy, loaded by iptables-nft-restore --noflush.
section_ok ipt-compile "xen dom0: xenguard firewall --format iptables compiles the policy"
section_ok ipt-load "xen dom0: iptables-restore --noflush loads it into the Dom0 kernel"
check_why "xen dom0: iptables -S shows XENGUARD-INPUT hooked first in INPUT" "$(out ipt-list | head -5)" \
    has ipt-list '^-A INPUT -j XENGUARD-INPUT$'
check_why "xen dom0: with the iptables ruleset, peer 192.0.2.11 reaches relocation :8002" \
    "nc rc=$(rc ipt-peer-8002): $(out ipt-peer-8002)" fetched ipt-peer-8002
check_why "xen dom0: with the iptables ruleset, non-peer 192.0.2.99 does not reach :8002" \
    "nc rc=$(rc ipt-outsider-8002): $(out ipt-outsider-8002)" blocked ipt-outsider-8002
check_why "xen dom0: with the iptables ruleset, peer 192.0.2.11 does not reach the unlisted :$PORT" \
    "nc rc=$(rc ipt-peer-7777): $(out ipt-peer-7777)" blocked ipt-peer-7777
section_ok ipt-delete "xen dom0: the iptables-nft tables are removed again"

# ---- a guest -----------------------------------------------------------------------
section_ok domu-create "xen dom0: xl create starts the PV guest tiny"
check_why "xen dom0: xl list shows the guest tiny with 128 MiB" "$(out xl-list)" \
    has xl-list '^tiny +[0-9]+ +128 '
check_why "xen dom0: the guest booted and its console reached xenconsoled" \
    "guest-tiny.log: $(out domu-console | head -3)" has domu-console '^DOMU-HELLO '
check_why "xen dom0: xl destroy removes the guest" "$(out domu-destroy)" \
    sh -c "[ '$(rc domu-destroy)' = 0 ] && ! grep -q '^tiny ' '$SECT/domu-destroy.out'"

# ---- the guest's vifs on xenbr0 through the shipped vif-xenguard (issue 13) ---------
# Real netback/netfront: Dom0 attached two vifs with script=vif-xenguard, one with
# ip=203.0.113.50 (declared), one without; the guest (tests/xen/domu-net.sh) says
# what reached Dom0's 203.0.113.1.
if skipped vif; then
    skip "xen dom0: vif-xenguard" "$(skipwhy vif)"
else
    section_ok vif-setup "xen dom0: bridge xenbr0 (203.0.113.1) and the guests' table are loaded"
    section_ok vif-attach "xen dom0: xl network-attach of two vifs with script=vif-xenguard succeeds"
    check_why "xen dom0: vif-xenguard declared the vif with ip= from xenstore" "$(out vif-attach | tail -4)" \
        has vif-attach '^vif[0-9]+\.0 mac 00:16:3e:00:00:50 ip 203\.0\.113\.50$'
    check_why "xen dom0: the vif without ip= is not declared" "$(out vif-attach | tail -4)" \
        sh -c "! grep -q 'mac 00:16:3e:00:00:51' '$SECT/vif-attach.out'"
    check_why "xen dom0: vif-bridge put both vifs on xenbr0" "$(out vif-attach | grep -i master)" \
        sh -c "[ \$(grep -cE '^[0-9]+: vif[0-9]+\.[01].*master xenbr0' '$SECT/vif-attach.out') = 2 ]"
    check_why "xen dom0: the PV guest sees both vifs (netfront)" "$(out vif-guest | head -4)" \
        has vif-guest '^DOMU-NET nics declared=[a-z0-9]+ undeclared=[a-z0-9]+ '
    check_why "xen dom0: control: on the undeclared vif the guest's claim of 203.0.113.11 reaches :8002" \
        "$(out vif-guest)" has vif-guest '^DOMU-NET undeclared-claim-8002 reached$'
    check_why "xen dom0: on the declared vif the guest's own 203.0.113.50 reaches Dom0's :8080" \
        "$(out vif-guest)" has vif-guest '^DOMU-NET declared-own-8080 reached$'
    check_why "xen dom0: on the declared vif the same guest claiming 203.0.113.11 does not reach :8002" \
        "$(out vif-guest)" has vif-guest '^DOMU-NET declared-claim-8002 blocked$'
    check_why "xen dom0: xl network-detach runs vif-xenguard offline: the declaration is gone" \
        "rc=$(rc vif-detach): $(out vif-detach)" \
        sh -c "[ '$(rc vif-detach)' = 0 ] && ! grep -q '203.0.113.50' '$SECT/vif-detach.out'"
fi

# ---- audit (when the verb exists) ----------------------------------------------------
Q=tests/xen/audit_json.py
ask() { # ask DESCRIPTION FILE QUESTION [ARG...]: exit 3 from audit_json.py is "not built"
    local d=$1 why rc
    shift
    why=$(python3 "$Q" "$@" 2>&1)
    rc=$?
    case $rc in
    0) ok "$d" ;;
    3) skip "$d" "$why" ;;
    *) not_ok "$d" "$(head -20 <<<"$why")" ;;
    esac
}
if skipped audit; then
    for a in "detects Dom0, xl, Xen 4.17" "sees xenstored/xenconsoled as expected" \
        "flags the planted listener" "flags the planted user" "fails the firewall checks before apply" \
        "lists the guest tiny"; do
        skip "xen dom0: audit $a" "$(skipwhy audit)"
    done
else
    J=$SECT/audit-json.out
    case $(rc audit-json) in
    0 | 1) ok "xen dom0: xenguard audit --format json ran (exit $(rc audit-json): 0 clean, 1 findings)" ;;
    *) not_ok "xen dom0: xenguard audit --format json ran" "exit $(rc audit-json)" "$(head -5 "$J")" ;;
    esac
    ask "xen dom0: audit detects a Dom0 (control_d)" "$J" dom0
    ask "xen dom0: audit detects the xl toolstack" "$J" toolstack xl
    ask "xen dom0: audit detects Xen 4.17" "$J" xen-version 4.17
    ask "xen dom0: audit sees xenstored as an expected service" "$J" service-ok xenstored
    ask "xen dom0: audit sees xenconsoled as an expected service" "$J" service-ok xenconsoled
    ask "xen dom0: audit flags the planted listener on port $PORT" "$J" flags "$PORT"
    ask "xen dom0: audit flags the planted login user $INTRUDER" "$J" flags "$INTRUDER"
    ask "xen dom0: audit fails the default-reject firewall checks (none loaded yet)" "$J" practice firewall fail default-reject
    ask "xen dom0: audit sees the running guest tiny (listed, or counted with Domain-0 as 2)" "$J" domain tiny 2
fi

# ---- apply / rollback (when the verbs exist) -------------------------------------------
if skipped apply; then
    for a in "apply loads table inet xenguard" "audit passes the firewall checks after apply" \
        "rollback restores the previous ruleset" "an unconfirmed apply is rolled back by its watchdog"; do
        skip "xen dom0: $a" "$(skipwhy apply)"
    done
else
    section_ok other-table "xen dom0: a foreign table inet other is loaded before apply"
    section_ok apply "xen dom0: xenguard apply -c firewalled-subnet.conf"
    check_why "xen dom0: after apply the kernel has table inet xenguard" "$(out apply-ruleset | head -5)" \
        has apply-ruleset '^table inet xenguard \{'
    check_why "xen dom0: apply kept the foreign table inet other" "$(out apply-ruleset | grep '^table')" \
        has apply-ruleset '^table inet other \{'
    if [ -f "$SECT/audit-after-apply-json.rc" ]; then
        ask "xen dom0: audit after apply passes the default-reject firewall checks" \
            "$SECT/audit-after-apply-json.out" practice firewall pass
    else
        skip "xen dom0: audit passes the firewall checks after apply" "audit verb not built yet"
    fi
    if skipped rollback; then
        skip "xen dom0: rollback restores the previous ruleset" "$(skipwhy rollback)"
    else
        section_ok rollback "xen dom0: xenguard rollback"
        check_why "xen dom0: after rollback table inet xenguard is gone" "$(out rollback-ruleset | grep '^table')" \
            sh -c "! grep -q '^table inet xenguard' '$SECT/rollback-ruleset.out'"
        check_why "xen dom0: after rollback table inet other is still there" \
            "$(out rollback-ruleset | grep '^table')" has rollback-ruleset '^table inet other \{'
    fi
    if [ -f "$SECT/status-after-apply.rc" ]; then
        check_why "xen dom0: status after apply says the running ruleset equals the policy (exit 0)" \
            "exit $(rc status-after-apply): $(out status-after-apply)" test "$(rc status-after-apply)" = 0
    fi
    if [ -f "$SECT/status-after-rollback.rc" ]; then
        check_why "xen dom0: status after rollback says it differs (exit 1)" \
            "exit $(rc status-after-rollback): $(out status-after-rollback)" test "$(rc status-after-rollback)" = 1
    fi
    if [ -f "$SECT/apply-unconfirmed.rc" ]; then
        check_why "xen dom0: an unconfirmed apply (--timeout 5) loads table inet xenguard" \
            "exit $(rc apply-unconfirmed); tables: $(out unconfirmed-ruleset)" \
            sh -c "[ '$(rc apply-unconfirmed)' = 0 ] && grep -q '^table inet xenguard' '$SECT/unconfirmed-ruleset.out'"
        check_why "xen dom0: 12 s later its watchdog has restored the state before it" \
            "tables: $(out after-timeout-ruleset)" \
            sh -c "! grep -q '^table inet xenguard' '$SECT/after-timeout-ruleset.out' && grep -q '^table inet other' '$SECT/after-timeout-ruleset.out'"
    else
        skip "xen dom0: an unconfirmed apply is rolled back by its watchdog" "confirm verb not built yet"
    fi
fi
# ---- the migration tunnel inside the Dom0 ---------------------------------------
if skipped tunnel; then
    skip "xen dom0: the migration tunnel carries a stream" "$(skipwhy tunnel)"
else
    section_ok tunnel "xen dom0: xenguard tunnel -> tunneld carries 32 MiB over the Dom0's loopback"
    check_why "xen dom0: tunnel: the receive command hashed exactly what was sent" "$(out tunnel | tail -2)" \
        sh -c "s=\$(sed -n 's/^sent \\([0-9a-f]\\{64\\}\\) .*/\\1/p' '$SECT/tunnel.out');
               r=\$(sed -n 's/^received \\([0-9a-f]\\{64\\}\\) .*/\\1/p' '$SECT/tunnel.out');
               [ -n \"\$s\" ] && [ \"\$s\" = \"\$r\" ]"
    # the receive command says nothing, so tunneld answers the 4 requests with
    # one KeyUpdate before its exit frame (RFC 8446 4.6.3 lets a silent side)
    check_why "xen dom0: tunnel: TLS 1.3, 4 key updates, the silent receiver answers once" \
        "$(out tunnel | grep 'xenguard tunnel:')" \
        sh -c "grep -q 'TLSv1.3' '$SECT/tunnel.out' && grep -q ' 4 key updates (receiver 1)' '$SECT/tunnel.out'"
    check_why "xen dom0: tunneld logged the session: peer, 33554432 bytes, ok" "$(out tunnel | grep session)" \
        has tunnel 'session peer=dom0-a .*bytes_in=33554432 .*result=ok'
fi
finish
