#!/bin/bash
# analyze_scale.sh — how fast `xenguard analyze` answers on big rulesets.
#
# For router rulesets of 5,000 and 50,000 rules (bench/analyze_gen.py: 20
# VLANs, per-VLAN chains, anti-spoofing chains, host rules), measures the
# full reachability answer for three services on every interface class and
# both families (`--matrix tcp/22,tcp/443,tcp/8002`): median wall time of
# RUNS runs and peak memory (/usr/bin/time -v). Targets: < 1 s at 5,000,
# < 10 s at 50,000, < 500 MB.
#
# The peer, fffuu (Diekmann et al., "Verified iptables Firewall Analysis"),
# is not installable here; its published figure is printed for reference:
# about 200 s for a service matrix of a real 4,800-rule router. That is a
# figure from the paper on comparable hardware, NOT measured in this run.
#
# Usage: bench/analyze_scale.sh [XENGUARD] [RUNS]   (build with `make` first)
set -eu
cd "$(dirname "$0")/.."
XG=${1:-build/xenguard}
RUNS=${2:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf '%-8s %-10s %-12s %-14s %s\n' rules lines seconds peak_MB target
for n in 5000 50000; do
    python3 bench/analyze_gen.py "$n" 1 >"$WORK/r$n.rules" 2>"$WORK/count"
    rules=$(sed 's/# rules: //' "$WORK/count")
    times=()
    peak=0
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -v nice "$XG" analyze --iptables "$WORK/r$n.rules" \
            --matrix tcp/22,tcp/443,tcp/8002 --format json >"$WORK/out.json" 2>"$WORK/time"
        t=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time" |
            awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
        m=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time")
        times+=("$t")
        [ "$m" -gt "$peak" ] && peak=$m
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    target=$([ "$n" = 5000 ] && echo "< 1 s" || echo "< 10 s")
    printf '%-8s %-10s %-12s %-14s %s\n' "$rules" "$(wc -l <"$WORK/r$n.rules")" "$median" \
        "$((peak / 1024))" "$target, < 500 MB"
done
echo "peer: fffuu service matrix, real 4,800-rule router: ~200 s (published figure, not measured here)"
