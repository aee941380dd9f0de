#!/bin/bash
# analyze_schema.sh — every kind of `xenguard analyze --format json` answer
# (packet, reach, matrix, spoofing, diff, perimeter), produced for real from the corpus
# rulesets, validates against doc/analyze.schema.json (Draft 2020-12, Debian's
# python3-jsonschema) and names itself ("schema": "xenguard-analyze/1",
# "query"); and broken documents are refused, so the check can fail.
set -u
XG=${XG:-build/xenguard}
cd "${XG_ROOT:-$(dirname "$0")/../..}" || exit 1
. tests/e2e/lib/tap.sh
PY=/usr/bin/python3
SCHEMA=doc/analyze.schema.json
require "$PY"
"$PY" -c 'import jsonschema' 2>/dev/null || bail_out "python3-jsonschema is missing (make test-deps)"
WORK=$(mktemp -d /tmp/xenguard-schema.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
A=tests/analyze

# name, expected exit status, arguments: each answer kind, with its optional
# parts present (why, only_with, may edges, conditional edges, guest claims,
# unchecked families, changes)
answer() {
    local name=$1 want=$2 rc
    shift 2
    "$XG" analyze "$@" --format json >"$WORK/$name.json" 2>"$WORK/$name.err"
    rc=$?
    is "$rc" "$want" "$name: analyze $* exits $want" || diag "$(cat "$WORK/$name.err")"
}
answer packet 0 --iptables $A/sport53.rules --from 192.0.2.5 --to-port tcp/22 --iface eth0
answer packet_may 0 --iptables $A/dirty.rules --from 192.0.2.5 --to-port tcp/22 --to 192.0.2.1 --iface eth0
answer reach 0 --iptables $A/sport53.rules --reach udp/68 --iface eth0
answer reach_may 0 --iptables $A/dirty.rules --reach tcp/22
answer reach_mac 0 --iptables $A/mac.rules --reach tcp/22 --iface eth0
answer matrix 0 --iptables $A/router_matrix.rules --chain forward --ifmap $A/router_matrix.ifmap \
    --matrix tcp/443,tcp/22
answer matrix_cond 0 --iptables $A/sport53.rules --matrix udp/68,tcp/22 --iface eth0
answer matrix_mac 0 --iptables $A/mac.rules --matrix tcp/22 --iface eth0
answer spoofing 1 --iptables $A/isolated_mgmt.rules --spoofing --ifmap $A/isolated_mgmt.ifmap
answer spoofing_guests 1 --nft-json $A/bridge.json --spoofing --ifmap $A/bridge.ifmap --iface xenbr0
answer diff 1 --diff $A/isolated_mgmt.rules $A/isolated_mgmt_drift.rules
answer diff_none 0 --diff $A/isolated_mgmt.rules $A/isolated_mgmt.rules
# the perimeter: the compiled router (both requirements hold) and a router with
# an empty forward path (holes, exit 1)
"$XG" perimeter -c examples/perimeter.conf >"$WORK/per.nft" 2>"$WORK/per.err" ||
    bail_out "perimeter did not compile: $(cat "$WORK/per.err")"
nft_json_of() { # the compiled nft text as `nft -j list ruleset` prints it, in a throwaway netns
    local ns=xg-aschema-$$
    ip netns add "$ns" || return 1
    ip netns exec "$ns" nft -f "$1" && ip netns exec "$ns" nft -j list ruleset >"$2"
    local rc=$?
    ip netns del "$ns"
    return $rc
}
if nft_json_of "$WORK/per.nft" "$WORK/per.nftjson"; then
    answer perimeter 0 --perimeter -c examples/perimeter.conf --nft-json "$WORK/per.nftjson"
else
    check "perimeter ruleset loads in a namespace" false
fi
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"$WORK/open.rules"
answer perimeter_holes 1 --perimeter -c examples/perimeter.conf --iptables "$WORK/open.rules"

for f in "$WORK"/*.json; do
    check "$(basename "$f" .json): valid against $SCHEMA" "$PY" tests/e2e/lib/schema_check.py "$SCHEMA" "$f"
done
query_of() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["schema"], d["query"])' "$1"; }
for k in packet reach matrix spoofing diff perimeter; do
    is "$(query_of "$WORK/$k.json")" "xenguard-analyze/1 $k" "$k: names schema and query"
done
# the optional parts were really there (else the schema was not tested on them)
has() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
check "packet_may carries why" has "$WORK/packet_may.json" 'd["why"]["cause"]'
check "reach carries only_with (source port)" has "$WORK/reach.json" 'd["interfaces"][0]["ipv4"]["only_with"][0]["sport"]'
check "reach_mac carries only_with (MAC)" has "$WORK/reach_mac.json" 'd["interfaces"][0]["ipv4"]["only_with"][0]["mac"]'
check "matrix_cond carries conditional edges by source port" has "$WORK/matrix_cond.json" \
    'any(c.get("sport")=="53" for m in d["matrices"] for c in m["conditional_edges"])'
check "matrix_mac carries a conditional edge by MAC" has "$WORK/matrix_mac.json" \
    'd["matrices"][0]["conditional_edges"][0]["mac"]=="02:00:00:00:00:09"'
check "spoofing_guests carries guest claims" has "$WORK/spoofing_guests.json" 'any("whom" in g["claims"]["arp"] for g in d["guests"])'
check "diff carries changes" has "$WORK/diff.json" 'd["changes"][0]["gained"]'
check "perimeter_holes carries holes" has "$WORK/perimeter_holes.json" 'd["holes"][0]["rule"]'

# broken documents fail: each a real answer with one thing wrong
mutate() {
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); $2; json.dump(d, open(sys.argv[2],'w'))" \
        "$WORK/$1.json" "$WORK/bad_$3.json"
    check_fails "broken ($3) is refused" "$PY" tests/e2e/lib/schema_check.py "$SCHEMA" "$WORK/bad_$3.json"
}
mutate packet 'del d["schema"]' no_schema
mutate reach 'd["schema"]="xenguard-analyze/2"' other_version
mutate matrix 'd["query"]="reach"' wrong_query
mutate matrix_cond 'd["matrices"][0]["conditional_edges"][0]["mac"]="02:00:00:00:00:01"' sport_and_mac
mutate spoofing 'd["interfaces"][0]["ipv4"]["spoofable"]="perhaps"' bad_verdict
mutate diff 'd["changes"][0]["gained"]=["192.0.2.300/33"]' bad_cidr
mutate reach 'd["interfaces"][0]["surprise"]=1' unknown_field
done_testing
