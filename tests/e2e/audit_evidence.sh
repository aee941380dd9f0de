#!/bin/bash
# audit_evidence.sh — every PASS of `xenguard audit` rests on evidence (issue 15):
#   - property: for each check that passes on a fixture root, removing the files it
#     declares it reads (--list -v "reads:") turns the PASS into n/a with a reason;
#   - a live run as nobody says it is unprivileged, and XG-USR-002 (shadow) is n/a;
#   - sysctl checks: conf/all alone, no value at all, a loopback-only Dom0 -> n/a;
#   - xend hosts-allow: a name (^localhost$) or an empty pattern (doubled space) fails;
#   - XG-MIG-002: transport ssh and nothing on the port is not a finding;
#   - any bytes in a host file: JSON parses and keeps the finding, JUnit is well-formed
#     XML, text sends no escape sequence to the terminal.
set -u
T=$(mktemp -d /tmp/xg-audev.XXXXXX)
trap 'rm -rf "$T"' EXIT
MK="python3 $XG_ROOT/tests/e2e/lib/mkroot.py"
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require python3 xmllint setpriv

# audit ROOT OUT: JSON of the root, with the fixture's policy when it has one
audit() {
    local pol="$1/etc/xenguard/xenguard.conf" args=()
    [ -f "$pol" ] && args=(-c "$pol")
    "$XG" audit --root "$1" "${args[@]}" --format json >"$2" 2>"$2.err"
}
# field JSON ID KEY -> status / reason / evidence (one line each)
field() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); c=next(c for c in d["checks"] if c["id"]==sys.argv[2])
v=c[sys.argv[3]]; print("\n".join(v) if isinstance(v, list) else (v or ""))' "$@"; }

FIXTURES="xl-isolated xl-untrusted xend-hardened xcpng-hardened rp-all-only rp-only
          qubes-dom0 xend-names xend-spaces xl-mig-ssh xl-mig-socat hostile-bytes xl-activated"
for f in $FIXTURES; do
    $MK "$f" "$T/$f" || not_ok "fixture $f builds"
    audit "$T/$f" "$T/$f.json"
done

# ---- the property: remove what a passing check reads, and it is n/a ----
"$XG" audit --list -v >"$T/list" || not_ok "audit --list -v"
reads_of() { awk -v id="$1" '$1==id {on=1; next} /^XG-/ {on=0} on && $1=="reads:" {$1=""; print; exit}' "$T/list"; }
checked=0
for f in xl-isolated xend-hardened xcpng-hardened; do
    # passing checks (and whether each has an evidence line), grouped by what they read
    declare -A group=()
    while read -r id has_ev; do
        [ "$has_ev" = 1 ] || not_ok "$f: $id passes without an evidence line"
        paths=$(reads_of "$id")
        if [ -z "$paths" ] || [ "$paths" = " (not declared)" ]; then
            not_ok "$f: $id passes but declares no evidence it reads"; continue
        fi
        group[$paths]="${group[$paths]:-} $id"
    done < <(python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    if c["status"] == "pass": print(c["id"], int(bool(c["evidence"])))' "$T/$f.json")
    for paths in "${!group[@]}"; do
        rm -rf "$T/strip"; cp -a "$T/$f" "$T/strip"
        for p in $paths; do rm -rf "$T/strip/${p#/}"; done
        audit "$T/strip" "$T/strip.json"
        while read -r id s; do
            if [ "$s" = n/a ]; then checked=$((checked + 1))
            else not_ok "$f: $id without$paths is '$s' (want n/a with a reason)"; fi
        done < <(python3 -c 'import json,sys
d={c["id"]: c for c in json.load(open(sys.argv[1]))["checks"]}
for i in sys.argv[2:]: print(i, d[i]["status"] if d[i]["status"] != "n/a" or d[i]["reason"] else "n/a-without-reason")' \
            "$T/strip.json" ${group[$paths]})
    done
    unset group
done
check "property: $checked passing checks turned n/a when their evidence was removed" \
    eval "[ $checked -ge 45 ]"

# ---- an unprivileged live run ----
if id nobody >/dev/null 2>&1 && setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$XG"; then
    run_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$XG" audit "$@"; }
    run_nobody --format json >"$T/nobody.json" 2>"$T/nobody.err"; rc=$?
    check "as nobody: the audit runs (rc=$rc)" \
        eval "[ $rc = 0 ] || [ $rc = 1 ]"
    check "as nobody: the JSON says unprivileged" \
        eval "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d[\"unprivileged\"] and d[\"host\"][\"unprivileged\"]))' $T/nobody.json"
    s=$(field "$T/nobody.json" XG-USR-002 status)
    if [ -e /etc/shadow ] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -r /etc/shadow; then
        check "as nobody: XG-USR-002 is n/a, not a pass (got $s)" \
            eval "[ '$s' = n/a ]"
        check "as nobody: XG-USR-002 says /etc/shadow could not be read" \
            eval "field $T/nobody.json XG-USR-002 reason | grep -q '/etc/shadow: Permission denied'"
    else
        check "as nobody: XG-USR-002 (no unreadable shadow here: $s)" \
            eval "[ '$s' != pass ] || [ -r /etc/shadow ]"
    fi
    run_nobody --color never >"$T/nobody.txt" 2>/dev/null
    check "as nobody: the text report says so at the top" \
        eval "sed -n 2p $T/nobody.txt | grep -q '^UNPRIVILEGED RUN'"
    "$XG" audit --format json >"$T/root.json" 2>/dev/null
    check "as root: not flagged unprivileged" \
        eval "python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"unprivileged\"])' $T/root.json"
else
    echo "ok - unprivileged run # SKIP no nobody user or $XG not executable by it"
fi

# ---- sysctls: conf/all alone, no value, a loopback-only Dom0 ----
for id in XG-NET-001 XG-NET-002 XG-NET-003; do
    check "$id: only conf/all/rp_filter -> n/a" \
        eval "[ \"\$(field $T/rp-all-only.json $id status)\" = n/a ]"
    check "$id: loopback-only Dom0 -> n/a, not fail" \
        eval "[ \"\$(field $T/qubes-dom0.json $id status)\" = n/a ]"
    check "$id: loopback-only Dom0 says why" \
        eval "field $T/qubes-dom0.json $id reason | grep -q '^only loopback'"
done
check "XG-NET-001 names the missing conf/default" \
    eval "field $T/rp-all-only.json XG-NET-001 reason | grep -q 'conf/default/rp_filter'"
for id in XG-NET-002 XG-NET-003; do
    check "$id: no value of it at all -> n/a" \
        eval "[ \"\$(field $T/rp-only.json $id status)\" = n/a ]"
done
check "XG-NET-001: all, default and every interface -> pass" \
    eval "[ \"\$(field $T/rp-only.json XG-NET-001 status)\" = pass ]"

# ---- XG-MIG-003 judges the untrusted scenario only ----
check "XG-MIG-003: firewalled-subnet policy -> n/a, not a pass" \
    eval "[ \"\$(field $T/xend-hardened.json XG-MIG-003 status)\" = n/a ]"
check "XG-MIG-003: untrusted, tunnel only -> pass" \
    eval "[ \"\$(field $T/xl-untrusted.json XG-MIG-003 status)\" = pass ]"

# ---- xend hosts-allow ----
check "XG-XEND-003: address entries of peers pass" \
    eval "[ \"\$(field $T/xend-hardened.json XG-XEND-003 status)\" = pass ]"
check "XG-XEND-003: ^localhost$ (a name) fails" \
    eval "[ \"\$(field $T/xend-names.json XG-XEND-003 status)\" = fail ]"
check "XG-XEND-003: the name entry is named, with the reverse-DNS reason" \
    eval "field $T/xend-names.json XG-XEND-003 evidence | grep -q \"'^localhost\\\$': a host name: xend matches it against the peer's reverse-DNS name\""
check "XG-XEND-003: a doubled space (empty pattern) fails" \
    eval "[ \"\$(field $T/xend-spaces.json XG-XEND-003 status)\" = fail ]"
check "XG-XEND-003: the empty pattern is explained" \
    eval "field $T/xend-spaces.json XG-XEND-003 evidence | grep -q 'empty pattern'"

# ---- XG-MIG-002: nothing listens and the policy migrates over ssh ----
check "xl-mig-ssh: the firewall really accepts everything" \
    eval "[ \"\$(field $T/xl-mig-ssh.json XG-FW-001 status)\" = fail ]"
check "XG-MIG-002: transport ssh, nothing on 8002 -> no finding" \
    eval "[ \"\$(field $T/xl-mig-ssh.json XG-MIG-002 status)\" = pass ]"
check "XG-MIG-002: says why" \
    eval "field $T/xl-mig-ssh.json XG-MIG-002 evidence | grep -q 'nothing listens on TCP 8002'"
check "XG-MIG-002: a listener on 8002 open to all still fails" \
    eval "[ \"\$(field $T/xl-mig-socat.json XG-MIG-002 status)\" = fail ]"

# ---- listeners opened by systemd are the socket unit's and its service's ----
f=xl-activated
check "socket activation: rpcbind.socket held by systemd fails XG-SVC-001" \
    eval "[ \"\$(field $T/$f.json XG-SVC-001 status)\" = fail ]"
check "socket activation: the finding names the unit and its service, not systemd" \
    eval "field $T/$f.json XG-SVC-001 evidence | grep -qF 'udp 0.0.0.0:111 (rpcbind.socket for rpcbind.service, opened by systemd)'"
check "socket activation: the fix line disables both" \
    eval "field $T/$f.json XG-SVC-001 fix | grep -qxF 'systemctl disable --now rpcbind.socket rpcbind.service'"
check "socket activation: ssh.socket (sshd@.service) is allowed as sshd" \
    eval "! field $T/$f.json XG-SVC-001 evidence | grep -q '2222'"

# ---- any bytes: JSON, JUnit, text ----
f=hostile-bytes
"$XG_TOOLS/audit_json_check" "$T/$f.json" && ok "JSON valid: $f" || not_ok "JSON valid: $f"
check "JSON keeps the finding, invalid UTF-8 as \\xNN" \
    eval "field $T/$f.json XG-USR-001 evidence | grep -qF 'ev\\xFFil\\xC3(' "
check "the hostile account is a finding" \
    eval "[ \"\$(field $T/$f.json XG-USR-001 status)\" = fail ]"
"$XG" audit --root "$T/$f" -c "$T/$f/etc/xenguard/xenguard.conf" --format junit >"$T/$f.xml"
check "JUnit well-formed (xmllint): $f" \
    eval "xmllint --noout $T/$f.xml"
check "JUnit keeps the finding" \
    eval "python3 -c 'import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); sys.exit(not any(\"ev\\\\xFFil\" in (x.text or \"\") for x in r.iter(\"failure\")))' $T/$f.xml"
"$XG" audit --root "$T/$f" -c "$T/$f/etc/xenguard/xenguard.conf" --color never >"$T/$f.txt"
check "text: no raw escape or bell from the file" \
    eval "! grep -q \$'\\x1b' $T/$f.txt && ! grep -q \$'\\x07' $T/$f.txt"
check "text: the bytes shown as \\xNN" \
    eval "grep -qF 'ev\\xFFil\\xC3(\\x1B[2J\\x07' $T/$f.txt"
done_testing
