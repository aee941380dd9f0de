#!/bin/bash
# schemas.sh — the JSON reports against their schemas in doc/ (issue 18, "Reports for
# machines"), on REAL output: `xenguard audit --format json` of the captured roots of
# tests/roots/ and of policy fixtures (tests/e2e/lib/mkroot.py) with their policies,
# `audit --list --format json`, and `xenguard fleet --format json` over real audit
# reports. Validation is Debian's python3-jsonschema (Draft 2020-12) through
# tests/e2e/lib/schema_check.py. Documents broken on purpose must fail it, so the
# test can fail: a wrong status, a missing field, an unknown field, a bad timestamp.
set -u
. "$XG_ROOT/tests/e2e/lib/tap.sh"
PY=/usr/bin/python3
require "$PY" python3
T=$(mktemp -d /run/xenguard-e2e.XXXXXX) || bail_out "mktemp under /run"
trap 'rm -rf "$T"' EXIT
D="$XG_ROOT/doc"
valid() { # valid SCHEMA FILE...
    "$PY" "$XG_ROOT/tests/e2e/lib/schema_check.py" "$D/$1.schema.json" "${@:2}"
}
check "python3-jsonschema is there (Debian's python3)" "$PY" -c 'import jsonschema'
for s in audit fleet checks; do
    check "doc/$s.schema.json is a valid Draft 2020-12 schema" "$PY" -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
jsonschema.Draft202012Validator.check_schema(s)' "$D/$s.schema.json"
done

# ---- audit: the corpus of captured roots, without a policy ----
for root in debian12-xl centos6-xend xcpng82 qubes-dom0; do
    python3 "$XG_ROOT/tests/roots/build.py" "$root" "$T/$root" >/dev/null ||
        not_ok "$root: builds"
    "$XG" audit --root "$T/$root" --format json >"$T/$root.json" 2>"$T/$root.err"
    rc=$?
    check "audit $root: JSON written (exit $rc: 0 or 1)" test "$rc" -le 1 -a -s "$T/$root.json"
    check "audit $root: valid against doc/audit.schema.json" valid audit "$T/$root.json"
done
# the text and JUnit renderings of the same runs are no JSON: the schema test is the JSON
# one, but the text report of the same root must carry the fix lines the JSON holds
check "debian12-xl: text shows the JSON's fix lines" bash -c '
    "$1" audit --root "$2" --color never >"$3.txt"
    python3 -c "import json,sys; [print(f) for c in json.load(open(sys.argv[1]))[\"checks\"] for f in c[\"fix\"]]" "$3.json" |
        while IFS= read -r f; do grep -qxF "         fix: $f" "$3.txt" || { echo "missing: $f"; exit 1; }; done' \
    _ "$XG" "$T/debian12-xl" "$T/debian12-xl"

# ---- audit with a policy: the fleet section filled; then fleet over those reports ----
MK="python3 $XG_ROOT/tests/e2e/lib/mkroot.py"
n=0
for f in xl-isolated xl-firewalled xend-hardened; do
    n=$((n + 1))
    $MK "$f" "$T/$f" || not_ok "fixture $f builds"
    echo "dom0-$n" >"$T/$f/proc/sys/kernel/hostname" # one report per host for fleet
    mkdir -p "$T/reports"
    "$XG" audit --root "$T/$f" -c "$T/$f/etc/xenguard/xenguard.conf" --format json \
        >"$T/reports/$f.json" 2>"$T/$f.err"
    rc=$?
    check "audit $f (with its policy): exit $rc, 0 or 1" test "$rc" -le 1
    check "audit $f: valid against doc/audit.schema.json" valid audit "$T/reports/$f.json"
done
check "the policy reports carry the fleet section" \
    python3 -c 'import json,sys; assert all(json.load(open(p))["fleet"]["policy"] for p in sys.argv[1:])' \
    "$T"/reports/*.json
check "audit --list --format json: valid against doc/checks.schema.json" \
    bash -c '"$1" audit --list --format json >"$2" && "$3" "$4" "$5" "$2"' _ "$XG" "$T/checks.json" \
    "$PY" "$XG_ROOT/tests/e2e/lib/schema_check.py" "$D/checks.schema.json"
is "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["checks"]))' "$T/checks.json")" \
    "$("$XG" audit --list | wc -l)" "audit --list --format json lists every check of audit --list"
"$XG" fleet --format json "$T/reports" >"$T/fleet.json" 2>"$T/fleet.err"
rc=$?
check "fleet over the real reports: exit $rc, 0 or 1" test "$rc" -le 1 -a -s "$T/fleet.json"
check "fleet: valid against doc/fleet.schema.json" valid fleet "$T/fleet.json"
is "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["hosts"]))' "$T/fleet.json")" 3 \
    "fleet: the three members"

# ---- broken documents fail: the schemas are strict enough to catch real mistakes ----
break_doc() { # break_doc IN OUT PYTHON-STATEMENT-ON-d
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec(sys.argv[3]); json.dump(d, open(sys.argv[2], "w"))' "$@"
}
A="$T/debian12-xl.json"
break_doc "$A" "$T/b1.json" 'd["checks"][0]["status"] = "passed"'
check_fails "audit: an unknown status fails validation" valid audit "$T/b1.json"
break_doc "$A" "$T/b2.json" 'del d["summary"]["fail_by_severity"]'
check_fails "audit: a missing fail_by_severity fails validation" valid audit "$T/b2.json"
break_doc "$A" "$T/b3.json" 'd["checks"][0]["surprise"] = 1'
check_fails "audit: an unknown field in a check fails validation" valid audit "$T/b3.json"
break_doc "$A" "$T/b4.json" 'd["timestamp"] = "yesterday"'
check_fails "audit: a timestamp that is not RFC 3339 UTC fails validation" valid audit "$T/b4.json"
break_doc "$A" "$T/b5.json" 'd["schema"] = "xenguard-audit/2"'
check_fails "audit: another schema version fails validation" valid audit "$T/b5.json"
break_doc "$A" "$T/b6.json" 'next(c for c in d["checks"] if c["status"] == "pass")["fix"] = ["rm -rf /"]'
check_fails "audit: fix lines on a passing check fail validation" valid audit "$T/b6.json"
break_doc "$T/fleet.json" "$T/b7.json" 'd["checks"][0]["status"] = "waived"'
check_fails "fleet: a cluster check cannot be waived" valid fleet "$T/b7.json"
break_doc "$T/checks.json" "$T/b8.json" 'd["checks"][0]["severity"] = "severe"'
check_fails "checks: an unknown severity fails validation" valid checks "$T/b8.json"
check "and the unbroken documents still pass (the breakage is what failed)" \
    valid audit "$A" "$T"/reports/*.json
done_testing
