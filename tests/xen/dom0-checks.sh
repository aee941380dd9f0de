#!/bin/sh
# dom0-checks.sh — runs inside the test Dom0 (started by /init, see
# tests/xen/dom0-init.sh) and prints what tests/e2e/xen_dom0.sh asserts.
#
# Every step is a section on the serial console:
#     XG-BEGIN name
#     ...output (stdout and stderr)...
#     XG-END name rc=N
# The host side asserts on sections by name, so this script only observes
# and never decides pass or fail. A verb that is not built yet prints
# "XG-SKIP name reason" instead of its sections; the host reports a TAP skip.
#
# Order: facts about the Dom0; plant what the audit must flag (a TCP listener
# on a wildcard address, a login user with a password); firewall compiled by
# xenguard and loaded into this (real Xen Dom0) kernel with nft; a PV guest
# with `xl create`; then audit, apply, audit again, rollback; the guest is
# destroyed last so that every audit sees it.

POLICY=/xg/policies/firewalled-subnet.conf
PORT=7777     # the planted listener
INTRUDER=mallory

sec() { # sec NAME CMD...: run CMD as a marked section, return its status
    name=$1
    shift
    echo "XG-BEGIN $name"
    "$@" 2>&1
    rc=$?
    echo "XG-END $name rc=$rc"
    return $rc
}
skip() { echo "XG-SKIP $1 $2"; }
has_verb() { xenguard "$1" --help >/dev/null 2>&1; }

# ---- facts about this Dom0 --------------------------------------------------
sec caps cat /proc/xen/capabilities
sec hypervisor sh -c 'echo "$(cat /sys/hypervisor/type) $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)"'
sec xl-info xl info
# procps' ps by its path: busybox sh prefers its own applets to $PATH.
sec daemons /usr/bin/ps -e -o pid=,comm=,args=
sec xenstore xenstore-ls -f /local/domain/0
sec version xenguard --version

# ---- plant what an audit must flag ------------------------------------------
plant_network() {
    # The policy's public interface eth0 (192.0.2.10) is a veth whose other
    # end sits in netns "lan", the subnet: there 192.0.2.11 is a cluster peer
    # and 192.0.2.99 is not (TEST-NET addresses; this Dom0 has no real NIC).
    /usr/bin/ip netns add lan &&
        /usr/bin/ip link add eth0 type veth peer name lan0 netns lan &&
        /usr/bin/ip addr add 192.0.2.10/24 dev eth0 &&
        /usr/bin/ip addr add 2001:db8::10/64 dev eth0 nodad &&
        /usr/bin/ip link set eth0 up &&
        /usr/bin/ip -n lan link set lo up &&
        /usr/bin/ip -n lan addr add 192.0.2.11/24 dev lan0 &&
        /usr/bin/ip -n lan addr add 192.0.2.99/24 dev lan0 &&
        /usr/bin/ip -n lan link set lan0 up &&
        sleep 1 &&
        /usr/bin/ip -br addr && /usr/bin/ip -n lan -br addr
}
fetch() { # fetch SRC PORT: HTTP GET of Dom0 (192.0.2.10) from SRC in the lan
    # (nc, not busybox-static's wget, which segfaults). Status 1 when the
    # connection is refused or times out (3 s).
    /usr/bin/ip -n lan route replace 192.0.2.10/32 dev lan0 src "$1" &&
        printf 'GET / HTTP/1.0\r\n\r\n' | nsenter --net=/run/netns/lan nc -w 3 192.0.2.10 "$2"
}
plant_listener() { # an extra service on a wildcard address
    mkdir -p /xg/www && echo planted >/xg/www/index.html &&
        httpd -p 0.0.0.0:$PORT -h /xg/www && sleep 1 &&
        /usr/bin/ss -ltnp
}
plant_user() { # an ordinary login user with a usable password and a shell
    hash=$(mkpasswd -m sha512 xg-planted-password) || return 1
    case "$hash" in '$6$'*) ;; *) echo "cryptpw gave '$hash'" && return 1 ;; esac
    echo "$INTRUDER:x:1000:1000:planted login user:/home/$INTRUDER:/bin/sh" >>/etc/passwd &&
        echo "$INTRUDER:$hash:19000:0:99999:7:::" >>/etc/shadow &&
        echo "$INTRUDER:x:1000:" >>/etc/group &&
        mkdir -p /home/$INTRUDER &&
        grep "^$INTRUDER:" /etc/passwd &&
        grep "^$INTRUDER:" /etc/shadow | cut -d: -f1,2 | cut -c1-24
}
sec plant-network plant_network
sec plant-listener plant_listener
sec plant-user plant_user

# ---- firewall: compiled by xenguard, loaded by nft into this kernel ---------
fw_compile() {
    xenguard firewall -c "$POLICY" >/tmp/xg.nft
    rc=$?
    cat /tmp/xg.nft
    return $rc
}
sec policy cat "$POLICY"
mkdir -p /xg/www && echo planted >/xg/www/index.html
httpd -f -p 0.0.0.0:8002 -h /xg/www & # stands in for the relocation service
relocation=$!
sec nofw-outsider-7777 fetch 192.0.2.99 $PORT # control: open before the firewall
if sec firewall-compile fw_compile; then
    sec firewall-load nft -f /tmp/xg.nft
    sec firewall-ruleset nft list ruleset
    # Real packets through the loaded ruleset (wget prints "planted" when it gets through).
    sec fw-peer-8002 fetch 192.0.2.11 8002
    sec fw-outsider-8002 fetch 192.0.2.99 8002
    sec fw-peer-7777 fetch 192.0.2.11 $PORT
    sec firewall-delete sh -c 'nft delete table inet xenguard && nft list tables'
fi
# The same policy through the iptables backend, loaded by iptables-nft-restore.
ipt_compile() {
    xenguard firewall -c "$POLICY" --format iptables >/tmp/xg.ipt
    rc=$?
    cat /tmp/xg.ipt
    return $rc
}
if sec ipt-compile ipt_compile; then
    sec ipt-load iptables-restore --noflush /tmp/xg.ipt
    sec ipt-list iptables -S
    sec ipt-peer-8002 fetch 192.0.2.11 8002
    sec ipt-outsider-8002 fetch 192.0.2.99 8002
    sec ipt-peer-7777 fetch 192.0.2.11 $PORT
    # iptables-nft keeps its tables in nftables: nothing else here uses them.
    sec ipt-delete sh -c 'nft delete table ip filter && nft delete table ip raw && nft list tables'
fi
kill $relocation

# ---- a guest ----------------------------------------------------------------
sec domu-create xl create /etc/xen/tiny.cfg
sec xl-list xl list
domu_console() { # the guest's own words, through xenconsoled: it really runs
    i=0
    while ! grep -q DOMU-HELLO /var/log/xen/console/guest-tiny.log 2>/dev/null && [ $i -lt 120 ]; do
        sleep 1
        i=$((i + 1))
    done
    grep DOMU- /var/log/xen/console/guest-tiny.log
}
sec domu-console domu_console

# ---- the guest's vifs on xenbr0, through the shipped hotplug script (issue 13) --
# Dom0 198.51.100.1 on bridge xenbr0 serves :8080 (allowed) and :8002 (the
# relocation port). The guests' table is the compiled one firewall-load left
# (firewalled-subnet.conf has guest protection on), else tests/xen/guests-table.nft. Two vifs are attached to the running guest with
# script=vif-xenguard: one with ip= (declared, pinned), one without. The guest
# (tests/xen/domu-net.sh) reports what got through.
vif_setup() {
    /usr/bin/ip link add xenbr0 type bridge &&
        /usr/bin/ip addr add 203.0.113.1/24 dev xenbr0 &&
        /usr/bin/ip link set xenbr0 up &&
        httpd -p 203.0.113.1:8080 -h /xg/www &&
        httpd -p 203.0.113.1:8002 -h /xg/www &&
        { nft list table bridge xenguard >/dev/null 2>&1 || nft -f /xg/guests-table.nft; } &&
        nft list table bridge xenguard
}
vif_attach() {
    xl network-attach tiny mac=00:16:3e:00:00:50 bridge=xenbr0 ip=203.0.113.50 \
        script=vif-xenguard &&
        xl network-attach tiny mac=00:16:3e:00:00:51 bridge=xenbr0 script=vif-xenguard &&
        xl network-list tiny &&
        /usr/bin/ip -o link show master xenbr0 &&
        xenguard vif list
}
vif_guest() { # the guest's report
    i=0
    while ! grep -q DOMU-NET-DONE /var/log/xen/console/guest-tiny.log 2>/dev/null && [ $i -lt 150 ]; do
        sleep 1
        i=$((i + 1))
    done
    echo "waited ${i}s"
    grep DOMU-NET /var/log/xen/console/guest-tiny.log
}
vif_detach() {
    xl network-detach tiny 00:16:3e:00:00:50 && sleep 1 && xenguard vif list &&
        nft list set bridge xenguard vif_ip4
}
if has_verb vif; then
    sec vif-setup vif_setup
    sec vif-attach vif_attach
    sec vif-hotplug-log sh -c 'cat /var/log/xen/xen-hotplug.log 2>/dev/null | tail -20'
    sec vif-guest vif_guest
else
    skip vif "vif verb not built yet"
fi

# ---- audit (issue 4) ---------------------------------------------------------
if has_verb audit; then
    sec audit-json xenguard audit --format json
    sec audit-text xenguard audit --color never
else
    skip audit "audit verb not built yet"
fi

# ---- apply / rollback (issue 5) ----------------------------------------------
# Another table (as Docker or libvirt would have) must survive both.
other_table() {
    nft add table inet other &&
        nft add chain inet other input '{ type filter hook input priority 10 ; policy accept ; }' &&
        nft add rule inet other input tcp dport 4444 counter accept
}
if has_verb apply; then
    sec other-table other_table
    sec apply-before-ruleset nft list ruleset
    # The real flow: a pending apply with a rollback timer, then confirm.
    if has_verb confirm; then
        sec apply xenguard apply -c "$POLICY" --timeout 120
        sec confirm xenguard confirm
    else
        sec apply xenguard apply -c "$POLICY" --yes
    fi
    sec apply-ruleset nft list ruleset
    if has_verb status; then sec status-after-apply xenguard status -c "$POLICY"; fi
    if has_verb audit; then
        sec audit-after-apply-json xenguard audit --format json -c "$POLICY"
    fi
    if has_verb rollback; then
        sec rollback xenguard rollback
        sec rollback-ruleset nft list ruleset
        if has_verb status; then sec status-after-rollback xenguard status -c "$POLICY"; fi
    else
        skip rollback "rollback verb not built yet"
    fi
    if has_verb confirm; then
        # Unconfirmed: the watchdog (a detached process here: no systemd) restores
        # the state from before this apply by itself.
        sec apply-unconfirmed xenguard apply -c "$POLICY" --timeout 5
        sec unconfirmed-ruleset sh -c 'nft list tables'
        sleep 12
        sec after-timeout-ruleset sh -c 'nft list tables'
    fi
else
    skip apply "apply verb not built yet"
fi

# ---- the migration tunnel, over this Dom0's loopback -------------------------
# A 32 MiB random stream through xenguard tunnel -> tunneld (--once) into a
# receive command that hashes it, with a key update every 8 MiB.
tunnel_loop() {
    d=/tmp/xgtunnel
    mkdir -p $d &&
        xenguard tunnel-keys -D $d/pki dom0-a 127.0.0.1 >/dev/null &&
        printf '#!/bin/sh\nexec sha256sum >%s/received.sum\n' $d >$d/sink &&
        chmod +x $d/sink &&
        head -c 33554432 /dev/urandom >$d/stream || return 1
    xenguard tunneld --ca $d/pki/ca.pem --cert $d/pki/127.0.0.1.pem --key $d/pki/127.0.0.1.key \
        --allow dom0-a --listen 127.0.0.1 --port 8002 --once --receive-command $d/sink \
        2>$d/tunneld.log &
    tpid=$!
    for i in 1 2 3 4 5 6 7 8 9 10; do grep -q listening $d/tunneld.log && break; sleep 1; done
    xenguard tunnel -v --ca $d/pki/ca.pem --cert $d/pki/dom0-a.pem --key $d/pki/dom0-a.key \
        --port 8002 --rekey-bytes 8388608 127.0.0.1 <$d/stream
    src=$?
    wait $tpid
    drc=$?
    cat $d/tunneld.log
    echo "sent $(sha256sum <$d/stream)"
    echo "received $(cat $d/received.sum)"
    [ $src = 0 ] && [ $drc = 0 ]
}
if has_verb tunneld; then
    sec tunnel tunnel_loop
else
    skip tunnel "tunnel verbs not built yet"
fi

# ---- the guest's end ---------------------------------------------------------
if has_verb vif; then sec vif-detach vif_detach; fi
sec domu-destroy sh -c 'xl destroy tiny && xl list'
exit 0
