#!/bin/bash
# bench/fleet_1000.sh [BUILD] [HOSTS] — `xenguard fleet` over HOSTS (default
# 1,000) synthetic member reports: every member lists all the others as peers
# (999 entries each) and its firewall's analyzer answer admits exactly them, so
# every check runs to the end over the whole cluster. Prints the wall time of
# the fleet run and its CPU time (the reports are written first, not timed;
# on a shared machine the CPU time is the steadier number). Goal: under 2 s.
set -eu
BUILD=${1:-build}
HOSTS=${2:-1000}
cd "$(dirname "$0")/.."
XG="$PWD/$BUILD/xenguard"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
[ -x "$XG" ] || { echo "build first: make BUILD=$BUILD" >&2; exit 1; }
python3 - "$W" "$HOSTS" <<'PY'
import ipaddress, json, sys
out, n = sys.argv[1], int(sys.argv[2])
base = ipaddress.ip_address("2001:db8::1000")
addrs = [str(base + i) for i in range(n)]
for i, a in enumerate(addrs):
    others = [x + "/128" for x in addrs if x != a]
    # the analyzer's minimal answer: the contiguous block around this host
    lo, hi = base, base + n - 1
    def block(first, last):
        return [str(p) for p in ipaddress.summarize_address_range(first, last)] if first <= last else []
    me = base + i
    allowed = block(lo, me - 1) + block(me + 1, hi)
    doc = {"schema": "xenguard-audit/1", "host": {"hostname": "dom0-%04d" % i, "xen_version": "4.17.3"},
           "summary": {"exit": 0}, "checks": [{"id": "XG-FW-001", "status": "pass"}],
           "fleet": {"addresses": [{"interface": "eth0", "address": a}],
                     "policy": {"scenario": "firewalled-subnet", "transport": "xend", "migration_port": 8002,
                                "ssh_port": 22, "public_interface": "eth0", "management_interface": "eth0",
                                "peers": others},
                     "firewall": {"present": True, "error": None, "digest": "sha256:00",
                                  "migration": {"proto": "tcp", "port": 8002, "interfaces": [
                                      {"interface": "eth0", "ipv4": {"may": [], "must": []},
                                       "ipv6": {"may": allowed, "must": allowed}}]}},
                     "tunnel": None}}
    with open("%s/dom0-%04d.json" % (out, i), "w") as f:
        json.dump(doc, f)
PY
set +e
/usr/bin/time -f "%e %U %S" -o "$W/time" "$XG" fleet "$W" >"$W/out.txt"
rc=$?
set -e
tail -1 "$W/out.txt"
read -r wall user sys <"$W/time"
echo "xenguard fleet, $HOSTS reports: ${wall} s wall, ${user} s user, ${sys} s sys (exit $rc)"
