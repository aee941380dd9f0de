#!/bin/bash
# Scheduled audits: `audit --prometheus FILE` on a real audit of a fixture root
# (promtool checks the exposition format; every gauge agrees with the JSON
# report), the warnings for waivers that waive nothing, and the script
# xenguard-audit.service runs (dated JSON reports, the newest N kept).
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require python3 promtool
W=$(mktemp -d)
trap 'rc=$?; rm -rf "$W"; exit $rc' EXIT
R="$W/root"
python3 "$XG_ROOT/tests/e2e/lib/mkroot.py" xl-insecure "$R" || bail_out "mkroot xl-insecure"

# --- --prometheus --------------------------------------------------------------------
P="$W/textfile/xenguard.prom"
mkdir -p "$W/textfile"
t0=$(date +%s)
"$XG" audit --root "$R" --format json --prometheus "$P" >"$W/audit.json"; rc=$?
t1=$(date +%s)
check "audit --prometheus on an insecure root exits 1 (findings)" [ $rc = 1 ]
check "promtool check metrics accepts the file (format and lint)" bash -c "promtool check metrics <'$P'"
check "mode 0644 (node_exporter reads it), no temporary file left" bash -c \
    "[ \$(stat -c %a '$P') = 644 ] && [ \$(ls -A '$W/textfile' | wc -l) = 1 ]"
compare() { python3 - "$W/audit.json" "$P" "$t0" "$t1" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1]))
codes = {"pass": 0, "fail": 1, "n/a": 2, "error": 3, "waived": 4}
samples, types = {}, {}
for line in open(sys.argv[2]):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        types[name] = kind
        continue
    if line.startswith("#"):
        continue
    m = re.fullmatch(r'([a-z_]+)(?:\{([^}]*)\})? (\S+)', line)
    assert m, "not a sample line: %r" % line
    labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
    assert (m.group(1), labels) not in samples, "duplicate series %r" % line
    samples[(m.group(1), labels)] = float(m.group(3))
assert types == {"xenguard_check_status": "gauge", "xenguard_checks": "gauge",
                 "xenguard_audit_timestamp_seconds": "gauge"}, types
checks = report["checks"]
status = {k: v for k, v in samples.items() if k[0] == "xenguard_check_status"}
assert len(status) == len(checks), (len(status), len(checks))
for c in checks:
    key = ("xenguard_check_status", (("id", c["id"]), ("severity", c["severity"])))
    assert samples[key] == codes[c["status"]], (c["id"], samples[key], c["status"])
for sev in ["info", "low", "medium", "high", "critical"]:
    for st in codes:
        n = sum(1 for c in checks if c["severity"] == sev and c["status"] == st)
        got = samples[("xenguard_checks", (("severity", sev), ("status", st)))]
        assert got == n, (sev, st, got, n)
ts = samples[("xenguard_audit_timestamp_seconds", ())]
assert int(sys.argv[3]) <= ts <= int(sys.argv[4]), ts
assert any(c["status"] == "fail" for c in checks)
PY
}
check "every check's gauge, every severity/status count and the timestamp agree with the JSON report" compare
before=$(sha256sum "$P")
out=$("$XG" audit --root "$R" --prometheus "$W/none/x.prom" 2>&1 >/dev/null); rc=$?
check "an unwritable --prometheus path: exit 2, one line naming it" \
    [ $rc = 2 -a -n "$(echo "$out" | grep -- '--prometheus: .*none/x.prom')" ]
check "and the old file is untouched" [ "$(sha256sum "$P")" = "$before" ]

# --- waivers that waive nothing ------------------------------------------------------
fail_id=$(python3 -c 'import json,sys; print([c["id"] for c in json.load(open(sys.argv[1]))["checks"] if c["status"]=="fail"][0])' "$W/audit.json")
pass_id=$(python3 -c 'import json,sys; print([c["id"] for c in json.load(open(sys.argv[1]))["checks"] if c["status"]=="pass"][0])' "$W/audit.json")
printf '%s 2099-01-01 accepted\n%s 2099-01-01 stale\n%s 2099-01-01 twice\n' "$fail_id" "$pass_id" "$fail_id" >"$W/waivers"
out=$("$XG" audit --root "$R" -W "$W/waivers" 2>&1 >/dev/null)
check "a waiver of a passing check is a warning with FILE:LINE" \
    grep -qF "$W/waivers:2:1: warning: $pass_id passes: remove its waiver" <<<"$out"
check "a second waiver of the same check is a warning" \
    grep -qF "$W/waivers:3:1: warning: $fail_id is waived already at line 1" <<<"$out"
check "the waiver in use is no warning" bash -c "! grep -q 'waivers:1:' <<<\"\$1\"" _ "$out"

# --- what xenguard-audit.service runs ------------------------------------------------
S="$W/xenguard-scheduled-audit"
sed "s|@SBINDIR@|$(cd "$(dirname "$XG")" && pwd)|" "$XG_ROOT/systemd/xenguard-scheduled-audit" >"$S"
chmod +x "$S"
A="$W/state/audit"
run() { XENGUARD_AUDIT_DIR="$A" XENGUARD_AUDIT_KEEP=2 "$S" --root "$R" "$@"; }
check "a scheduled run with findings exits 0 (findings are the report's business)" run
check "the report directory is private (0700)" [ "$(stat -c %a "$A")" = 700 ]
sleep 1.1; run >/dev/null; sleep 1.1; run --prometheus "$W/textfile/xenguard.prom" >/dev/null
reports=$(ls "$A" | grep -E '^audit-[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z\.json$')
is "$(echo "$reports" | wc -l)" 2 "three runs with XENGUARD_AUDIT_KEEP=2 leave the newest two reports"
check "latest.json points at the newest" [ "$(readlink "$A/latest.json")" = "$(echo "$reports" | sort | tail -1)" ]
check "each report is the audit's JSON" bash -c "for f in '$A'/audit-*.json; do python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))[\"checks\"]' \"\$f\" || exit 1; done"
check "extra arguments reach xenguard audit (--prometheus)" [ "$(stat -c %Y "$W/textfile/xenguard.prom")" -ge "$t1" ]
n=$(ls -A "$A" | wc -l)
out=$(XENGUARD_AUDIT_DIR="$A" "$S" --root "$W/nonexistent" 2>&1); rc=$?
check "an audit that cannot run: exit 2, no report, no temporary file" [ $rc = 2 -a "$(ls -A "$A" | wc -l)" = "$n" ]
out=$(XENGUARD_AUDIT_DIR="$A" XENGUARD_AUDIT_KEEP=0 "$S" --root "$R" 2>&1); rc=$?
check "XENGUARD_AUDIT_KEEP=0 is refused (exit 2)" [ $rc = 2 -a -n "$(echo "$out" | grep KEEP)" ]
done_testing
