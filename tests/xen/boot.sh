#!/bin/bash
# tests/xen/boot.sh [SERIAL_LOG] — boot the image tests/xen/build-image.sh
# built: Xen 4.17 under qemu-system-x86_64 (TCG), Debian's kernel as a PV Dom0
# whose /init runs tests/xen/dom0-checks.sh and powers off.
#
# Exit status: QEMU's. 0 when Dom0 powered off (Xen enters ACPI S5 because of
# `noreboot`); 124 when the hard timeout fired (e.g. Dom0 crashed, after
# which Xen only halts); anything else is QEMU's own failure.
#
# Env:
#   XG_XEN_TIMEOUT  seconds before QEMU is killed (default 300)
#   XG_XEN_SHELL=1  interactive: Dom0 gives a root shell on hvc0 instead of the
#                   checks; serial and QEMU monitor on this terminal
#                   (Ctrl-a x quits, Ctrl-a c switches to the monitor); no timeout
#   XG_XEN_DOM0_ARGS  more Dom0 kernel arguments (no commas: QEMU splits -initrd
#                   on them), e.g. "xgdebug" (sh -x) or "loglevel=7"
#   XG_XEN_ARGS     more Xen arguments, e.g. "loglvl=all guest_loglvl=all"
#   XG_XEN_MEM      MiB of RAM (default 1024), XG_XEN_CPU (default qemu64;
#                   'max' crashes Dom0 under TCG unless written 'max,-smap')
#   XG_XEN_DIR      image directory (default build/xen)
# Without SERIAL_LOG the serial console goes to stdout.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=${XG_XEN_DIR:-$ROOT/build/xen}
LOG=${1:-}
TMO=${XG_XEN_TIMEOUT:-300}

for f in "$DIR/current/xen" "$DIR/current/vmlinux" "$DIR/dom0.cpio.gz"; do
    [ -f "$f" ] || {
        echo "boot: $f missing: run tests/xen/build-image.sh first" >&2
        exit 2
    }
done
command -v qemu-system-x86_64 >/dev/null || {
    echo "boot: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2
    exit 2
}

XENARGS="console=com1 com1=115200,8n1 dom0_mem=512M,max:512M dom0_max_vcpus=2 noreboot ${XG_XEN_ARGS:-}"
DOM0ARGS="console=hvc0 earlyprintk=xen rdinit=/init quiet ${XG_XEN_DOM0_ARGS:-}"
QEMU=(qemu-system-x86_64 -accel tcg -machine q35 -cpu "${XG_XEN_CPU:-qemu64}" -m "${XG_XEN_MEM:-1024}"
    -smp 2 -display none -nic none -no-reboot
    -kernel "$DIR/current/xen" -append "$XENARGS")

if [ "${XG_XEN_SHELL:-}" = 1 ]; then
    exec "${QEMU[@]}" -serial mon:stdio -monitor none \
        -initrd "$DIR/current/vmlinux $DOM0ARGS xgshell,$DIR/dom0.cpio.gz"
fi

# Batch: a hard timeout, and QEMU dies with this script whatever ends it.
PIDFILE=$(mktemp)
qpid=
cleanup() {
    [ -n "$qpid" ] && kill -TERM "$qpid" 2>/dev/null
    local q
    q=$(cat "$PIDFILE" 2>/dev/null)
    [ -n "$q" ] && kill -KILL "$q" 2>/dev/null
    rm -f "$PIDFILE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
: >"$PIDFILE"
if [ -n "$LOG" ]; then exec 3>"$LOG"; else exec 3>&1; fi
nice timeout -k 10 "$TMO" "${QEMU[@]}" -serial stdio -monitor none -pidfile "$PIDFILE" \
    -initrd "$DIR/current/vmlinux $DOM0ARGS,$DIR/dom0.cpio.gz" </dev/null >&3 2>&1 &
qpid=$!
wait "$qpid"
rc=$?
qpid=
exit $rc
