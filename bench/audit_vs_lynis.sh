#!/bin/bash
# audit_vs_lynis.sh [XENGUARD] — a full live `xenguard audit` against `lynis audit system
# --quick` on this machine, in the same run: prints the median wall time of each and the ratio.
#   XG_RUNS (default 21) audit runs, LYNIS_RUNS (default 3) lynis runs.
# Installs the Debian package lynis when missing (this script only; needs root).
set -eu
XG=${1:-$(dirname "$0")/../build/xenguard}
XG_RUNS=${XG_RUNS:-21}
LYNIS_RUNS=${LYNIS_RUNS:-3}
[ -x "$XG" ] || { echo "no xenguard binary at $XG (run make)" >&2; exit 2; }
if ! command -v lynis >/dev/null; then
    echo "installing lynis (Debian package)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lynis >/dev/null
fi

now_ns() { date +%s%N; }
median_ms() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1e6}'; }

time_runs() { # N CMD... -> one duration (ns) per line
    local n=$1; shift
    for _ in $(seq "$n"); do
        local t0 t1 rc
        t0=$(now_ns)
        "$@" >/dev/null 2>&1 && rc=0 || rc=$?
        t1=$(now_ns)
        # audit exits 1 when it finds something: that is a result, not a failure
        [ "$rc" -le 1 ] || { echo "command failed ($rc): $*" >&2; exit 2; }
        echo $((t1 - t0))
    done
}

"$XG" audit >/dev/null 2>&1 || true # warm the page cache like lynis' first run does
xg=$(time_runs "$XG_RUNS" "$XG" audit | median_ms)
ly=$(time_runs "$LYNIS_RUNS" lynis audit system --quick --no-colors --no-log | median_ms)
echo "xenguard audit (live, full):        median ${xg} ms over ${XG_RUNS} runs"
echo "lynis audit system --quick:          median ${ly} ms over ${LYNIS_RUNS} runs ($(lynis --version 2>/dev/null | head -1))"
awk -v a="$xg" -v b="$ly" 'BEGIN { printf "ratio lynis / xenguard:              %.0fx\n", b / a }'
awk -v a="$xg" 'BEGIN { if (a < 100) print "target (< 100 ms): met"; else print "target (< 100 ms): MISSED" }'
