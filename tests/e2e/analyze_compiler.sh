#!/bin/bash
# analyze_compiler.sh — the analyzer run on the compiler's own output for the
# example policies gives the answers each policy asks for.
#
# For every example policy: `xenguard firewall` in nft form (loaded into a
# throwaway namespace, dumped with `nft -j list ruleset`) and in
# iptables/ip6tables form (the text as compiled), then `xenguard analyze
# --reach` per interface and service with an interface map for the
# reverse-path checks. The expected sets are read off the policy files
# (peers, ssh-from, [allow]). The MAC-based anti-spoofing rule of the
# firewalled-subnet policy (`ether saddr GATEWAY ip saddr @nets drop`, read
# back from the kernel) is modelled: a packet from a MAC no rule names, so
# the relocation port's answer is exact and equals the peers.
set -u
XG=${XG:-build/xenguard}
ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NS="xgcm$$"
. "$ROOT/tests/e2e/lib/tap.sh"
require root ip nft python3
WORK=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"' EXIT
ip netns add "$NS" || bail_out "cannot create namespace $NS"
printf 'eth0 0.0.0.0/0 ::/0\n' >"$WORK/one.ifmap"
printf 'eth0 0.0.0.0/0 ::/0\neth1 192.0.2.0/24 2001:db8::/64\n' >"$WORK/two.ifmap"
# expect POLICY IFMAP IFACE SERVICE BOUND IPV4-LIST IPV6-LIST
#   BOUND exact: may == must == the lists; may: may == the lists
expect() {
    local ex=$1 map=$2 ifc=$3 svc=$4 bound=$5 v4=$6 v6=$7 form
    for form in nft iptables; do
        local args
        if [ "$form" = nft ]; then
            args=(--nft-json "$WORK/$ex.json")
        else
            args=(--iptables "$WORK/$ex.v4" --ip6tables "$WORK/$ex.v6")
        fi
        if "$XG" analyze "${args[@]}" --reach "$svc" --iface "$ifc" --ifmap "$WORK/$map" \
            --format json >"$WORK/out.json" &&
            python3 - "$WORK/out.json" "$bound" "$v4" "$v6" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
bound, want = sys.argv[2], {"ipv4": sys.argv[3].split(), "ipv6": sys.argv[4].split()}
i = d["interfaces"][0]
for fam in ("ipv4", "ipv6"):
    a = i[fam]
    if a["may"] != want[fam]:
        sys.exit("%s may %s != %s" % (fam, a["may"], want[fam]))
    if bound == "exact" and (a["bound"] != "exact" or a["must"] != want[fam]):
        sys.exit("%s not exact: must %s" % (fam, a["must"]))
    if not set(a["must"]) <= set(a["may"]):
        sys.exit("must not within may")
PY
            ok "$ex ($form): $svc on $ifc reachable from [$v4] [$v6] ($bound)"
        else
            not_ok "$ex ($form): $svc on $ifc should be reachable from [$v4] [$v6] ($bound)"
        fi
    done
}

for ex in firewalled-subnet isolated-management untrusted; do
    "$XG" firewall -c "$ROOT/examples/$ex.conf" >"$WORK/$ex.nft" &&
        "$XG" firewall -c "$ROOT/examples/$ex.conf" --format iptables >"$WORK/$ex.v4" &&
        "$XG" firewall -c "$ROOT/examples/$ex.conf" --format ip6tables >"$WORK/$ex.v6" ||
        bail_out "compile $ex"
    ip netns exec "$NS" nft flush ruleset
    ip netns exec "$NS" nft -f "$WORK/$ex.nft" || bail_out "load $ex"
    ip netns exec "$NS" nft -j list ruleset >"$WORK/$ex.json"
done

# firewalled-subnet: relocation from [cluster] peers, sshd from [admin] ssh-from
expect firewalled-subnet one.ifmap eth0 tcp/8002 exact "192.0.2.11/32 192.0.2.12/32" "2001:db8::11/128"
expect firewalled-subnet one.ifmap eth0 tcp/22 exact "198.51.100.0/24" "2001:db8:5::/48"
expect firewalled-subnet one.ifmap eth0 tcp/80 exact "" ""
# isolated-management: nothing on the public NIC; ssh (also the migration
# transport) and ntp on the management NIC only, from the management network
expect isolated-management two.ifmap eth0 tcp/22 exact "" ""
expect isolated-management two.ifmap eth0 tcp/8002 exact "" ""
expect isolated-management two.ifmap eth1 tcp/22 exact "192.0.2.0/24" "2001:db8::/64"
expect isolated-management two.ifmap eth1 tcp/8002 exact "" ""
expect isolated-management two.ifmap eth1 udp/123 exact "192.0.2.1/32" ""
# untrusted: the tunnel port from the two peers, ssh from one admin host
expect untrusted one.ifmap eth0 tcp/8002 exact "203.0.113.21/32 203.0.113.22/32" ""
expect untrusted one.ifmap eth0 tcp/22 exact "198.51.100.7/32" ""
expect untrusted one.ifmap eth0 udp/8002 exact "" ""
done_testing
