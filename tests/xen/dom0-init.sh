#!/bin/busybox sh
# shellcheck shell=dash
# /init of the test Dom0 (tests/xen/build-image.sh puts it in the initramfs).
#
# Brings up the Xen userspace the way Debian's /etc/init.d/xen does (xenfs,
# C xenstored, xen-init-dom0, xenconsoled), then runs /xg/dom0-checks.sh,
# whose output goes to the serial console between XG-BEGIN/XG-END markers
# that tests/e2e/xen_dom0.sh parses, and powers off: with `noreboot` on the
# Xen command line, Xen then enters ACPI S5 and QEMU exits with status 0.
#
# Dom0 kernel arguments it understands:
#   xgshell   skip the checks and give a root shell on hvc0 (boot.sh XG_XEN_SHELL=1)
#   xgdebug   run the checks with `sh -x`
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/usr/lib/xen-4.17/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-vt100}
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts # xenconsoled hands guests a pty: no devpts, no xl create
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen/console
hostname -F /etc/hostname
# Kernel messages would interleave with the marked output on the one console.
echo 1 >/proc/sys/kernel/printk

t() { echo "XG-TIME $(cut -d' ' -f1 /proc/uptime) $*"; }
t "dom0 init"
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback xen-netback \
    inet_diag tcp_diag udp_diag raw_diag unix_diag nf_tables; do
    /usr/sbin/modprobe "$m" || echo "XG-WARN modprobe $m failed: $(dmesg | tail -3)"
done
mount -t xenfs xenfs /proc/xen
XENSTORED_ROOTDIR=/var/lib/xenstored xenstored --pid-file /run/xenstored.pid
i=0
until xenstore-read -s / >/dev/null 2>&1 || [ $i -ge 60 ]; do
    sleep 1
    i=$((i + 1))
done
xen-init-dom0
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
ip link set lo up
t "xen userspace up"

if grep -qw xgshell /proc/cmdline; then
    echo "XG-SHELL: root shell on hvc0; the checks are in /xg/dom0-checks.sh. 'poweroff -f' ends QEMU."
    setsid cttyhack sh -l
else
    # stdin is not the console: no verb may wait for an answer from it.
    if grep -qw xgdebug /proc/cmdline; then
        sh -x /xg/dom0-checks.sh </dev/null
    else
        sh /xg/dom0-checks.sh </dev/null
    fi
    echo "XG-CHECKS-EXIT rc=$?"
fi
t "powering off"
echo "XG-DONE"
sync
poweroff -f
