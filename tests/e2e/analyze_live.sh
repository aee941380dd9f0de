#!/bin/bash
# analyze_live.sh — `xenguard analyze` reading the live host (libnftables,
# iptables-nft-save) inside a throwaway namespace: the same answers as from
# the files that were loaded, and the host's ruleset left untouched.
set -u
XG=${XG:-build/xenguard}
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NS="xgal$$"
. "$ROOT/tests/e2e/lib/tap.sh"
require root ip nft iptables-restore python3
WORK=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"' EXIT
ip netns add "$NS" || bail_out "cannot create namespace $NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth1 type veth peer name eth1p && ip -n "$NS" link set eth1 up
ip -n "$NS" addr add 198.51.100.1/24 dev eth1
ip netns exec "$NS" iptables-restore "$ROOT/tests/analyze/isolated_mgmt.rules" || bail_out "iptables-restore isolated_mgmt.rules"
ip netns exec "$NS" nft -f "$ROOT/tests/analyze/vmap_sets.json.src" || bail_out "nft -f vmap_sets.json.src"
ip netns exec "$NS" iptables-save >"$WORK/v4.rules"
ip netns exec "$NS" nft -j list ruleset >"$WORK/all.json"
before=$(ip netns exec "$NS" nft list ruleset | md5sum)

for svc in tcp/22 tcp/8002 udp/53; do
    live=$(ip netns exec "$NS" "$XG" analyze --reach "$svc" --format json)
    check "live analyze --reach $svc exits 0" test $? = 0
    # the nft dump holds the iptables-nft table as `xt` statements (unknown);
    # the live reader swaps in the iptables-save view of it, as we do here
    python3 - "$WORK/all.json" "$WORK/nft-only.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keep = []
for o in d["nftables"]:
    body = next(iter(o.values()))
    if isinstance(body, dict) and body.get("family") == "ip" and body.get("table", body.get("name")) == "filter":
        continue
    keep.append(o)
json.dump({"nftables": keep}, open(sys.argv[2], "w"))
PY
    files=$("$XG" analyze --iptables "$WORK/v4.rules" --nft-json "$WORK/nft-only.json" --reach "$svc" --format json)
    # the rules the answers name come from differently named inputs (the
    # live reader's "iptables-nft-save" and "nft", the dumps' files): drop the
    # names, keep lines and handles
    unnamed() { python3 -c 'import json,sys
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k != "file"}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
print(json.dumps(strip(json.loads(sys.stdin.read())), indent=1))'; }
    is "$(unnamed <<<"$live")" "$(unnamed <<<"$files")" "live host answer for $svc equals the answer from its dumps"
done
out=$(ip netns exec "$NS" "$XG" analyze --from 198.51.100.7 --to-port tcp/22 --iface eth1)
check "live packet query names the iptables-nft-save rule that decided" \
    grep -q "filter .*INPUT .*accept by rule iptables-nft-save:19 (chain MGMT)" <<<"$out"
ip netns exec "$NS" "$XG" analyze --spoofing --format json >"$WORK/spoof.json"
check "live spoofing check derives eth1's prefix from ip addr" python3 -c "
import json,sys
d=json.load(open('$WORK/spoof.json'))
names={i['iface']: i for i in d['interfaces']}
sys.exit(0 if 'eth1' in names and '198.51.100.0/24' in names['eth1']['prefixes'] else 1)"
after=$(ip netns exec "$NS" nft list ruleset | md5sum)
is "$after" "$before" "the analyzed ruleset is unchanged (read-only)"
done_testing
