#!/bin/busybox sh
# shellcheck shell=dash
# domu-net.sh — the PV guest's side of the vif test (tests/xen/dom0-checks.sh);
# build-image.sh puts it in the guest's initramfs as /net.sh, and /init runs
# it after DOMU-HELLO. It prints DOMU-NET lines on the guest console, which
# xenconsoled logs in Dom0 (/var/log/xen/console/guest-tiny.log).
#
# Dom0 attaches two vifs on xenbr0 (203.0.113.1) with `xl network-attach
# ... script=vif-xenguard`: MAC 00:16:3e:00:00:50 with ip=203.0.113.50
# (declared by the hotplug script) and 00:16:3e:00:00:51 without ip=
# (undeclared). The guest finds them by MAC, then:
#   1. on the undeclared NIC claims 203.0.113.11 and fetches :8002 (control:
#      an undeclared port is not pinned, so the claim gets through);
#   2. on the declared NIC uses its own 203.0.113.50 and fetches :8080;
#   3. on the declared NIC claims 203.0.113.11 and fetches :8002 (dropped).
# Without the two NICs within 120 s it says so and stops.
bb=/bin/busybox
$bb insmod /xen-netfront.ko 2>&1 | $bb sed 's/^/DOMU-NET insmod: /'
nic() { # the interface with MAC $1
    for d in /sys/class/net/*; do
        [ "$($bb cat "$d/address" 2>/dev/null)" = "$1" ] && $bb basename "$d" && return 0
    done
    return 1
}
i=0
while ! { nic 00:16:3e:00:00:50 >/dev/null && nic 00:16:3e:00:00:51 >/dev/null; }; do
    [ $i -ge 120 ] && echo "DOMU-NET no vifs after ${i}s" && exit 0
    $bb sleep 1
    i=$((i + 1))
done
decl=$(nic 00:16:3e:00:00:50)
free=$(nic 00:16:3e:00:00:51)
echo "DOMU-NET nics declared=$decl undeclared=$free after ${i}s"
fetch() { # fetch PORT: "reached" when Dom0's httpd answered
    if printf 'GET / HTTP/1.0\r\n\r\n' | $bb timeout 6 $bb nc -w 4 203.0.113.1 "$1" 2>/dev/null |
        $bb grep -q planted; then
        echo reached
    else
        echo blocked
    fi
}
$bb ip link set lo up
$bb ip link set "$free" up
$bb ip addr add 203.0.113.11/24 dev "$free"
$bb sleep 2
echo "DOMU-NET undeclared-claim-8002 $(fetch 8002)"
$bb ip addr flush dev "$free"
$bb ip link set "$free" down
$bb ip link set "$decl" up
$bb ip addr add 203.0.113.50/24 dev "$decl"
$bb sleep 2
echo "DOMU-NET declared-own-8080 $(fetch 8080)"
$bb ip addr flush dev "$decl"
$bb ip addr add 203.0.113.11/24 dev "$decl"
$bb sleep 1
echo "DOMU-NET declared-claim-8002 $(fetch 8002)"
echo "DOMU-NET-DONE"
