#!/bin/bash
# bench/vif_1000_guests.sh [BUILD] [GUESTS] — 1,000 guest ports declared with
# `xenguard vif online`, one process per port as the hotplug script runs it,
# into the compiled `table bridge xenguard` (examples/bridged-dom0.conf);
# side by side with the naive approach (the peer): one rule per guest and
# check, appended with `nft -f` per port, as Xen's vif-common.sh does with
# iptables. Prints the time per port (median, and the last 100 when the table
# is full), the rule count before and after, and the ratios. Runs in a
# throwaway network namespace; TEST-NET addresses only.
set -eu
BUILD=${1:-build}
GUESTS=${2:-1000}
cd "$(dirname "$0")/.."
XG="$PWD/$BUILD/xenguard"
NS="xgbvif$$"
W=$(mktemp -d)
cleanup() { ip netns del "$NS" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
[ -x "$XG" ] || { echo "build first: make BUILD=$BUILD" >&2; exit 1; }
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }

# The guests: vifN.0, MAC 00:16:3e:00:HH:LL, one IPv4 of the three TEST-NETs
# (reused past 762: the key is port . address) and 2001:db8::N.
python3 - "$GUESTS" >"$W/guests" <<'PY'
import sys
v4 = [f"{n}.{i}" for n in ("192.0.2", "198.51.100", "203.0.113") for i in range(1, 255)]
for g in range(1, int(sys.argv[1]) + 1):
    print(f"vif{g}.0 00:16:3e:00:{g >> 8:02x}:{g & 255:02x} {v4[g % len(v4)]} 2001:db8::{g:x}")
PY
"$XG" firewall -c examples/bridged-dom0.conf | in_ns nft -f -
rules() { in_ns nft -j list table bridge "$1" | python3 -c '
import json, sys
print(sum(1 for o in json.load(sys.stdin)["nftables"] if "rule" in o))'; }
before=$(rules xenguard)

now() { date +%s%N; }
xg_us=()
while read -r port mac ip4 ip6; do
    t0=$(now)
    in_ns "$XG" vif online "$port" --mac "$mac" --ip "$ip4" --ip "$ip6" >/dev/null
    t1=$(now)
    xg_us+=($(((t1 - t0) / 1000)))
done <"$W/guests"
after=$(rules xenguard)
declared=$(in_ns nft list set bridge xenguard vif_declared | grep -o '"vif[0-9]*\.0"' | wc -l)

# The peer: a table of its own, one rule per guest and check (MAC, IPv4, IPv6).
in_ns nft -f - <<'EOF'
table bridge naive {
    chain guests { type filter hook prerouting priority -300; policy accept; }
}
EOF
naive_before=$(rules naive)
nf_us=()
while read -r port mac ip4 ip6; do
    printf 'add rule bridge naive guests iifname "%s" ether saddr != %s drop\n' "$port" "$mac" >"$W/r"
    printf 'add rule bridge naive guests iifname "%s" ether type ip ip saddr != %s drop\n' \
        "$port" "$ip4" >>"$W/r"
    printf 'add rule bridge naive guests iifname "%s" ether type ip6 ip6 saddr != { fe80::/10, %s } drop\n' \
        "$port" "$ip6" >>"$W/r"
    t0=$(now)
    in_ns nft -f "$W/r"
    t1=$(now)
    nf_us+=($(((t1 - t0) / 1000)))
done <"$W/guests"
naive_after=$(rules naive)

python3 - "$GUESTS" "$declared" "$before" "$after" "$naive_before" "$naive_after" \
    "${xg_us[*]}" "${nf_us[*]}" <<'PY'
import statistics, sys
g, declared, before, after, nb, na = sys.argv[1:7]
xg = [int(x) / 1000 for x in sys.argv[7].split()]
nf = [int(x) / 1000 for x in sys.argv[8].split()]
def line(name, v):
    return (f"{name}: median {statistics.median(v):.1f} ms, last 100 median "
            f"{statistics.median(v[-100:]):.1f} ms (min {min(v):.1f}, max {max(v):.1f})")
print(f"guest ports: {g}; declared in vif_declared: {declared} (both include ip netns exec)")
print(line("xenguard vif online (one process per port)  ", xg))
print(line("naive: nft -f of 3 rules per port (peer)    ", nf))
print(f"rules in table bridge xenguard: {before} before, {after} after (unchanged: "
      f"{'yes' if before == after else 'NO'})")
print(f"rules in the naive table:       {nb} before, {na} after")
print(f"ratio xenguard/naive per port: {statistics.median(xg) / statistics.median(nf):.2f} "
      f"(last 100: {statistics.median(xg[-100:]) / statistics.median(nf[-100:]):.2f}); "
      f"rules per guest: 0 vs {(int(na) - int(nb)) / int(g):.0f}")
PY
