#!/bin/bash
# bench/apply_1000_peers.sh [BUILD] [RUNS] — xenguard apply of a policy with
# 1,000 peers, from process start to the ruleset loaded in the kernel, side by
# side with `nft -f` of the same compiled text (the peer). Runs in a throwaway
# network namespace (TEST-NET addresses only); prints medians and the ratio.
#
# xenguard apply here does everything a real apply does: parse + compile the
# policy, save the running table (nft -j list), arm the detached rollback
# watchdog, load in one transaction. `xenguard confirm` between runs is not
# timed.
set -eu
BUILD=${1:-build}
RUNS=${2:-21}
cd "$(dirname "$0")/.."
XG="$PWD/$BUILD/xenguard"
NS="xgbench$$"
W=$(mktemp -d)
cleanup() { for p in $(pgrep -f -- "--state-dir $W/state " 2>/dev/null); do kill "$p" 2>/dev/null; done
            ip netns del "$NS" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
[ -x "$XG" ] || { echo "build first: make BUILD=$BUILD" >&2; exit 1; }

# 1,000 peers, none adjacent (so the sets cannot merge them into ranges): every
# other host of the three IPv4 TEST-NETs (381) + 619 IPv6 hosts of 2001:db8::/32.
python3 - "$W/policy.conf" <<'PY'
import sys
peers = [f"{net}.{i}" for net in ("192.0.2", "198.51.100", "203.0.113") for i in range(1, 255, 2)]
peers += [f"2001:db8::{2 * i + 1:x}" for i in range(1000 - len(peers))]
assert len(peers) == 1000
with open(sys.argv[1], "w") as f:
    f.write("[host]\nscenario = firewalled-subnet\npublic-interface = eth0\n\n")
    f.write("[cluster]\npeers = " + " ".join(peers) + "\n")
    f.write("networks = 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32\n\n")
    f.write("[migration]\ntransport = tunnel\nport = 8002\n\n")
    f.write("[admin]\nssh-from = 192.0.2.0/24\nusers = root\n")
PY
"$XG" firewall -c "$W/policy.conf" >"$W/ruleset.nft" 2>/dev/null
ip netns add "$NS"

now() { date +%s%N; }
xg_times=() nft_times=()
for i in $(seq 1 "$RUNS"); do
    t0=$(now)
    ip netns exec "$NS" "$XG" apply -c "$W/policy.conf" --timeout 60 --state-dir "$W/state" >/dev/null 2>&1
    t1=$(now)
    ip netns exec "$NS" "$XG" confirm --state-dir "$W/state" >/dev/null
    xg_times+=($(( (t1 - t0) / 1000 )))
    t0=$(now)
    ip netns exec "$NS" nft -f "$W/ruleset.nft"
    t1=$(now)
    nft_times+=($(( (t1 - t0) / 1000 )))
done
elements=$(ip netns exec "$NS" nft -j list table inet xenguard | python3 -c '
import json, sys
print(sum(len(o["set"].get("elem", [])) for o in json.load(sys.stdin)["nftables"] if "set" in o))')
python3 - "$RUNS" "$elements" "${xg_times[*]}" "${nft_times[*]}" <<'PY'
import statistics, sys
runs, elements = sys.argv[1], sys.argv[2]
xg = [int(x) / 1000 for x in sys.argv[3].split()]
nf = [int(x) / 1000 for x in sys.argv[4].split()]
mx, mn = statistics.median(xg), statistics.median(nf)
print(f"policy: 1000 peers; loaded set elements (all sets): {elements}; runs: {runs} (both include ip netns exec)")
print(f"xenguard apply (parse+compile+save+watchdog+load): median {mx:.1f} ms (min {min(xg):.1f}, max {max(xg):.1f})")
print(f"nft -f of the same text (peer):                    median {mn:.1f} ms (min {min(nf):.1f}, max {max(nf):.1f})")
print(f"ratio xenguard/nft: {mx / mn:.2f}; target < 100 ms: {'met' if mx < 100 else 'NOT met'}")
PY
