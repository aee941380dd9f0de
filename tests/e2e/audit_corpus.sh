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
done_testing
