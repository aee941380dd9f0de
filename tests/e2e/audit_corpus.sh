#!/bin/bash
# audit_corpus.sh — the audit on the corpus of captured roots (tests/roots/build.py: hosts as
# their distributions install them, from the default files they ship), each check's verdict
# against the expectation written by hand in tests/roots/ROOT.expected. Every difference is
# printed: the check, what was expected, what the audit said and why.
set -u
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root python3
T=$(mktemp -d /run/xenguard-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
R="$XG_ROOT/tests/roots"
for root in debian12-xl centos6-xend xcpng82 qubes-dom0; do
    check "$root: builds" python3 "$R/build.py" "$root" "$T/$root"
    "$XG" audit --root "$T/$root" --format json >"$T/$root.json" 2>"$T/$root.err"
    rc=$?
    check "$root: audit runs (exit $rc)" test "$rc" = 0 -o "$rc" = 1
    check "$root: every check as expected" python3 - "$R/$root.expected" "$T/$root.json" <<'PY'
import json, sys
want = {}
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].split()
    if line:
        want[line[0]] = line[1]
got = {c["id"]: c for c in json.load(open(sys.argv[2]))["checks"]}
bad = 0
for cid in sorted(set(want) | set(got)):
    w, g = want.get(cid, "(none)"), got[cid]["status"] if cid in got else "(none)"
    if w != g:
        bad += 1
        c = got.get(cid, {})
        why = c.get("reason") or "; ".join(c.get("evidence", [])[:3])
        print("%-12s expected %-5s got %-5s %s" % (cid, w, g, why))
sys.exit(1 if bad else 0)
PY
done
# the versions the verdicts rest on are named in the report
check "debian12-xl: OpenSSH from dpkg status named" \
    grep -q '"openssh_source": "/var/lib/dpkg/status (openssh-server)"' "$T/debian12-xl.json"
check "centos6-xend: Xen version from /boot named" grep -q '"xen_source": "/boot/xen-X.Y.Z.gz"' "$T/centos6-xend.json"
check "xcpng82: the row is this host's (INSTALLATION_UUID)" \
    grep -q 'this host.s row, uuid 3f2e1d0c-b9a8-4765-8432-10fedcba9876' "$T/xcpng82.json"
# fix lines (issue 18): commands that name what the root holds, never an unguarded load
fixes() { python3 -c 'import json,sys; [print(f) for c in json.load(open(sys.argv[1]))["checks"] if c["id"]==sys.argv[2] for f in c["fix"]]' "$@"; }
check "debian12-xl: XG-USR-001's fix locks the installer's account admin" \
    grep -qxF 'usermod -L -s /usr/sbin/nologin admin' <(fixes "$T/debian12-xl.json" XG-USR-001)
check "debian12-xl: XG-NET-001's fix names eth0" \
    grep -qxF 'sysctl -w net.ipv4.conf.eth0.rp_filter=1' <(fixes "$T/debian12-xl.json" XG-NET-001)
check "debian12-xl: XG-FW-001's fix is xenguard apply, then confirm" \
    diff <(fixes "$T/debian12-xl.json" XG-FW-001) <(printf 'xenguard apply -c /etc/xenguard/xenguard.conf\nxenguard confirm\n')
check "xcpng82: XG-SVC-003's fix disables rpcbind.service" \
    grep -qxF 'systemctl disable --now rpcbind.service' <(fixes "$T/xcpng82.json" XG-SVC-003)
check "qubes-dom0: XG-USR-003's fix takes user out of wheel" \
    grep -qxF 'gpasswd -d user wheel' <(fixes "$T/qubes-dom0.json" XG-USR-003)
check "no fix line anywhere pipes into nft -f (no guard, no rollback)" \
    bash -c '! grep -h "nft -f" "$@"' _ "$T"/*.json
check "debian12-xl: the text report prints the same fix lines" \
    bash -c '"$1" audit --root "$2" --color never | grep -qxF "         fix: usermod -L -s /usr/sbin/nologin admin"' \
    _ "$XG" "$T/debian12-xl"
done_testing
