#!/bin/bash
# matrix.sh — how fast the service matrix (sources x destinations) is.
#
# Rulesets:
#   forward  bench/matrix_gen.py router rulesets (40 VLANs, traffic between
#            them and to an uplink, anti-spoofing, per-destination chains):
#            4,800 rules (the size of the TUM router fffuu was measured on),
#            5,000 and 50,000; the forward path, with the generator's
#            interface map (uplink as a complement line)
#   input    bench/analyze_gen.py router rulesets (5,000 and 50,000 rules,
#            20 VLANs), the input path, with a map of its VLANs
# For each: bench/matrix_bench.c runs the matrix for three services and both
# families and, in the same run, its peer (one symbolic evaluation per
# destination atom and interface, no classes; stopped after PEER_SECONDS per
# service and family and extrapolated, said so per line), checks that every
# pair the peer evaluated agrees with the matrix, and prints seconds, the
# ratio and peak memory (getrusage ru_maxrss of the whole process: ruleset,
# analyses, matrix and peer). Then the whole command on the 4,800-rule
# router: `xenguard analyze --chain forward --matrix tcp/22,tcp/80,tcp/443
# --ifmap ...`, wall time and peak memory by /usr/bin/time. Targets: < 2 s
# and < 500 MB (fffuu's published figure for a service matrix of the real
# 4,800-rule TUM router: about 200 s; a figure from its paper, not measured
# here).
#
# Usage: bench/matrix.sh [BUILD_DIR] [PEER_SECONDS]   (build with `make` first)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PEER=${2:-20}
XG=$BUILD/xenguard
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -x "$XG" ] && [ -f "$BUILD/libxenguard.a" ] || { echo "build first: make" >&2; exit 2; }
# shellcheck disable=SC2046
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -Wall -Wextra -Werror -Wno-missing-field-initializers \
    -o "$WORK/matrix_bench" bench/matrix_bench.c "$BUILD/libxenguard.a" \
    $(pkg-config --libs libnftables jansson openssl libxml-2.0) -lpthread
SERVICES="tcp/22 tcp/80 tcp/443"
status=0
for n in 4800 5000 50000; do
    python3 bench/matrix_gen.py "$n" 1 "$WORK/f$n.ifmap" >"$WORK/f$n.rules" 2>"$WORK/count"
    echo "== forward path, $(sed 's/# rules: //' "$WORK/count") rules (matrix_gen.py $n 1)"
    # shellcheck disable=SC2086
    "$WORK/matrix_bench" "$WORK/f$n.rules" "$WORK/f$n.ifmap" forward "$PEER" $SERVICES || status=1
done
for n in 5000 50000; do
    python3 bench/analyze_gen.py "$n" 1 >"$WORK/i$n.rules" 2>"$WORK/count"
    { for v in $(seq 10 29); do echo "vlan$v 10.$v.0.0/16"; done
      echo "lo 127.0.0.0/8"; echo "eth0 !10.0.0.0/8 !127.0.0.0/8"; echo "unreach 10.0.0.0/8"
    } >"$WORK/i.ifmap"
    echo "== input path, $(sed 's/# rules: //' "$WORK/count") rules (analyze_gen.py $n 1)"
    # shellcheck disable=SC2086
    "$WORK/matrix_bench" "$WORK/i$n.rules" "$WORK/i.ifmap" input "$PEER" $SERVICES || status=1
done
echo "== the whole command, 4,800-rule router, forward path, three services, both families"
/usr/bin/time -f "%e s wall, %M KB peak" "$XG" analyze --iptables "$WORK/f4800.rules" \
    --chain forward --ifmap "$WORK/f4800.ifmap" --matrix tcp/22,tcp/80,tcp/443 --format json \
    >"$WORK/out.json"
echo "target: < 2 s, < 500 MB"
echo "peer: fffuu service matrix, real 4,800-rule router: ~200 s (published figure, not measured here)"
exit $status
