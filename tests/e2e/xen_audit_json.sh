#!/bin/bash
# xen_audit_json.sh — tests/xen/audit_json.py, the judge of the audit JSON
# that xen_dom0.sh captures inside the real Dom0, must tell right from wrong:
# each question is asked of a report where the answer is yes and of one where
# it is no (fast, no QEMU).
set -u
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
Q=$ROOT/tests/xen/audit_json.py
. "$ROOT/tests/e2e/lib/tap.sh"
require python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# A report shaped like `xenguard audit --format json` (schema xenguard-audit/1).
cat >"$T/good.json" <<'EOF'
{"schema": "xenguard-audit/1",
 "host": {"dom0": true, "toolstack": "xl", "xen_version": "4.17.7",
          "domains": [{"name": "Domain-0", "id": 0}, {"name": "tiny", "id": 1}]},
 "checks": [
  {"id": "XG-HOST-001", "practice": "Host", "title": "The host is a Xen Domain-0", "status": "pass",
   "evidence": ["control_d in /proc/xen/capabilities: this is Domain-0"]},
  {"id": "XG-SVC-001", "practice": "1. Fewest services in Domain-0", "title": "Only allowlisted services",
   "status": "fail", "evidence": ["not in the xl allowlist: tcp 0.0.0.0:7777 (httpd)",
   "expected for xl: xenstored (pid 12), xenconsoled (pid 13)"]},
  {"id": "XG-USR-001", "practice": "3. No ordinary users", "title": "No ordinary account can log in",
   "status": "fail", "evidence": ["/etc/passwd:4: mallory (uid 1000, shell /bin/sh) can log in"]},
  {"id": "XG-USR-004", "practice": "3. No ordinary users", "title": "Xen control paths",
   "status": "pass", "evidence": ["43 paths under /etc/xen, /var/run/xenstored: root-owned"]},
  {"id": "XG-FW-001", "practice": "2. Default-reject firewall", "title": "IPv4 default-reject",
   "status": "pass", "evidence": []},
  {"id": "XG-XAPI-003", "practice": "XAPI", "title": "xapi on all addresses is firewalled",
   "status": "n/a", "reason": "no XAPI", "evidence": []}
 ]}
EOF
# The same report gone wrong in every way asked about.
cat >"$T/bad.json" <<'EOF'
{"schema": "xenguard-audit/1",
 "host": {"dom0": false, "toolstack": "xend", "xen_version": "4.14.1", "domains": []},
 "checks": [
  {"id": "XG-SVC-001", "practice": "1. Fewest services in Domain-0", "title": "Only allowlisted services",
   "status": "fail", "evidence": ["not in the xl allowlist: tcp 0.0.0.0:99 (xenconsoled)"]},
  {"id": "XG-SVC-002", "practice": "1. Fewest services in Domain-0", "title": "Wildcard binds",
   "status": "pass", "evidence": ["tcp 0.0.0.0:7777 (httpd) is fine"]},
  {"id": "XG-USR-004", "practice": "3. No ordinary users", "title": "Xen control paths",
   "status": "pass", "evidence": ["43 paths under /etc/xen, /var/run/xenstored: root-owned"]},
  {"id": "XG-FW-001", "practice": "2. Default-reject firewall", "title": "IPv4 default-reject",
   "status": "n/a", "reason": "firewall analyzer not available in this build", "evidence": []}
 ]}
EOF
echo '{"host": {"dom0": true}, "checks": [' >"$T/broken.json"
echo '{"host": {"dom0": true}, "checks": []}' >"$T/nodomains.json"

expect() { # expect RC DESCRIPTION FILE QUESTION...
    local want=$1 d=$2 got out
    shift 2
    out=$(python3 "$Q" "$@" 2>&1)
    got=$?
    is "$got" "$want" "audit_json: $d" || diag "$out"
}
expect 0 "dom0 seen" "$T/good.json" dom0
expect 1 "dom0 false is not a Dom0" "$T/bad.json" dom0
expect 0 "toolstack xl" "$T/good.json" toolstack xl
expect 1 "toolstack xend is not xl" "$T/bad.json" toolstack xl
expect 0 "Xen 4.17.7 is 4.17" "$T/good.json" xen-version 4.17
expect 1 "Xen 4.14.1 is not 4.17" "$T/bad.json" xen-version 4.17
expect 0 "xenconsoled named as expected beside a failing listener" "$T/good.json" service-ok xenconsoled
expect 1 "xenconsoled named as not in the allowlist" "$T/bad.json" service-ok xenconsoled
expect 1 "xenstored only as part of a path is not seeing the daemon" "$T/bad.json" service-ok xenstored
expect 0 "port 7777 flagged by a failing check" "$T/good.json" flags 7777
expect 1 "port 7777 only in a passing check is not flagged" "$T/bad.json" flags 7777
expect 0 "user mallory flagged" "$T/good.json" flags mallory
expect 1 "user mallory absent is not flagged" "$T/bad.json" flags mallory
expect 0 "firewall practice passes (XAPI's 'firewalled' title not counted)" "$T/good.json" practice firewall pass
expect 3 "firewall practice n/a for want of the analyzer: not built (skip)" "$T/bad.json" practice firewall pass
cat >"$T/na.json" <<'EOF'
{"checks": [{"id": "F", "practice": "2. Default-reject firewall", "title": "IPv4 default-reject",
 "status": "n/a", "reason": "no evidence: no ruleset captured"}]}
EOF
expect 1 "firewall practice n/a for want of evidence is not a pass" "$T/na.json" practice firewall pass
expect 0 "guest tiny among the domains" "$T/good.json" domain tiny
expect 1 "guest tiny missing from the domains" "$T/bad.json" domain tiny
expect 3 "no list of domains at all: not built (skip)" "$T/nodomains.json" domain tiny 2
cat >"$T/count.json" <<'EOF'
{"host": {"dom0": true}, "checks": [{"id": "H", "title": "Dom0", "status": "pass",
 "evidence": ["2 running domains (xl list -l)"]}]}
EOF
expect 0 "counted: 2 running domains" "$T/count.json" domain tiny 2
expect 1 "counted: 2 running domains is not 3" "$T/count.json" domain tiny 3
expect 1 "truncated JSON is an error" "$T/broken.json" dom0
done_testing
