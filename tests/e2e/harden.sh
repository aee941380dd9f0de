#!/bin/bash
# harden xend / sshd / sysctl on fixture files under a private --root:
# diff changes nothing, write is atomic with a backup, a second run changes
# nothing, sshd -t validates before writing. The interface-address lookup
# runs in a throwaway network namespace (TEST-NET addresses only).
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$XG_ROOT/tests/fixtures/harden"
NS="xghd$$"
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root ip unshare ssh-keygen /usr/sbin/sshd
R=$(mktemp -d)
cleanup() { local rc=$?; ip netns del "$NS" 2>/dev/null; rm -rf "$R"; exit $rc; }
trap cleanup EXIT
sum() { sha256sum "$1" | cut -d' ' -f1; }

cp -r "$FIX/etc" "$R/"
XEND="$R/etc/xen/xend-config.sxp"
orig=$(sum "$XEND")

# --- xend ----------------------------------------------------------------------
out=$("$XG" harden xend -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1); rc=$?
check "harden xend --diff (default) exits 0" [ $rc = 0 ]
check "the diff is unified and names the file" bash -c "echo \"\$1\" | grep -q '^+++ .*xend-config.sxp'" _ "$out"
check "the diff changes nothing" [ "$(sum "$XEND")" = "$orig" ]
check "--diff writes no backup" test ! -e "$XEND.xenguard-bak"

check "harden xend --write exits 0" "$XG" harden xend -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write
check "the relocation server is on for transport xend" grep -qx "(xend-relocation-server yes)" "$XEND"
check "it is bound to the management address" grep -qx "(xend-relocation-address '192.0.2.1')" "$XEND"
check "hosts-allow: anchored regexes, backslashes doubled" grep -qxF \
    "(xend-relocation-hosts-allow '^192\\\\.0\\\\.2\\\\.11\$ ^192\\\\.0\\\\.2\\\\.12\$ ^198\\\\.51\\\\.100\\\\.[0-9]+\$ ^198\\\\.51\\\\.100\\\\.128\$ ^198\\\\.51\\\\.100\\\\.129\$ ^198\\\\.51\\\\.100\\\\.130\$ ^198\\\\.51\\\\.100\\\\.131\$')" "$XEND"
check "the HTTP server is off" grep -qx "(xend-http-server no)" "$XEND"
check "the TCP XML-RPC server is off" grep -qx "(xend-tcp-xmlrpc-server no)" "$XEND"
check "the Xen-API server keeps only its unix socket" grep -qx "(xend-xen-api-server ((unix)))" "$XEND"
check "the SSL relocation server is off, set after its commented default" \
    bash -c "grep -A1 '^#(xend-relocation-ssl-server no)' '$XEND' | grep -qx '(xend-relocation-ssl-server no)'"
check "every comment line is kept, in order" \
    [ "$(grep '^#' "$XEND.xenguard-bak")" = "$(grep '^#' "$XEND")" ]
check "unrelated settings are kept" bash -c "grep -qx '(network-script network-bridge)' '$XEND' && grep -qx '(dom0-min-mem 196)' '$XEND'"
check "each key is set exactly once" \
    [ "$(grep -c '^(xend-relocation-hosts-allow' "$XEND")$(grep -c '^(xend-http-server' "$XEND")" = 11 ]
check "the backup is the original file" [ "$(sum "$XEND.xenguard-bak")" = "$orig" ]
written=$(sum "$XEND")
out=$("$XG" harden xend -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write); rc=$?
check "a second --write says no changes" [ $rc = 0 -a -n "$(echo "$out" | grep 'no changes')" ]
check "and leaves the file as it was" [ "$(sum "$XEND")" = "$written" ]
check "and keeps the original backup" [ "$(sum "$XEND.xenguard-bak")" = "$orig" ]
"$XG" harden xend -c "$FIX/ssh.conf" --root "$R" --address 192.0.2.1 --write >/dev/null
check "transport ssh turns the relocation server off" grep -qx "(xend-relocation-server no)" "$XEND"
check "a missing xend-config.sxp is an error" bash -c "! '$XG' harden xend -c '$FIX/xend.conf' --root '$R/nowhere' --address 192.0.2.1"

# --- sysctl ----------------------------------------------------------------------
check "harden sysctl --write exits 0" "$XG" harden sysctl --root "$R" --write
check "the sysctl file equals systemd/99-xenguard.conf (what make install ships)" \
    cmp "$R/etc/sysctl.d/99-xenguard.conf" "$XG_ROOT/systemd/99-xenguard.conf"
check "rp_filter, source routing, redirects" bash -c "grep -qx 'net.ipv4.conf.all.rp_filter = 1' '$R/etc/sysctl.d/99-xenguard.conf' && grep -qx 'net.ipv6.conf.all.accept_redirects = 0' '$R/etc/sysctl.d/99-xenguard.conf' && grep -qx 'net.ipv4.conf.all.send_redirects = 0' '$R/etc/sysctl.d/99-xenguard.conf'"
keys_exist() { # every key names a real kernel knob (read-only look at /proc/sys)
    local k; for k in $(sed -n 's/^\([a-z0-9_.]*\) = .*/\1/p' "$1"); do
        [ -e "/proc/sys/${k//./\/}" ] || return 1; done; }
check "every sysctl key exists in /proc/sys" keys_exist "$R/etc/sysctl.d/99-xenguard.conf"
out=$("$XG" harden sysctl --root "$R" --write)
check "a second sysctl --write says no changes" bash -c "echo '$out' | grep -q 'no changes'"

# --- sshd (sshd -t needs /run/sshd: give it one in a private mount namespace) ---
mkdir -p "$R/etc/ssh/sshd_config.d" "$R/keys"
ssh-keygen -q -t ed25519 -N '' -f "$R/keys/host_ed25519" </dev/null
printf 'HostKey %s\nInclude %s/etc/ssh/sshd_config.d/*.conf\nUsePAM no\n' "$R/keys/host_ed25519" "$R" >"$R/etc/ssh/sshd_config"
in_mntns() { unshare -m bash -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec "$@"' _ "$@"; }
DROPIN="$R/etc/ssh/sshd_config.d/50-xenguard.conf"
out=$("$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1); rc=$?
check "harden sshd --diff shows the drop-in, writes nothing" [ $rc = 0 -a ! -e "$DROPIN" -a -n "$(echo "$out" | grep '^+AllowUsers alice bob')" ]
check "harden sshd --write passes sshd -t and writes" in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write
check "ListenAddress on the management address" grep -qx "ListenAddress 192.0.2.1:22" "$DROPIN"
check "no passwords, root only with a key" bash -c "grep -qx 'PasswordAuthentication no' '$DROPIN' && grep -qx 'KbdInteractiveAuthentication no' '$DROPIN' && grep -qx 'PermitRootLogin prohibit-password' '$DROPIN'"
check "AllowUsers lists the policy's admins" grep -qx "AllowUsers alice bob" "$DROPIN"
check "sshd -T of the result shows the settings" bash -c "in_mntns() { unshare -m bash -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec \"\$@\"' _ \"\$@\"; }; in_mntns /usr/sbin/sshd -T -f '$R/etc/ssh/sshd_config' | grep -qx 'passwordauthentication no'"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write)
check "a second sshd --write says no changes" bash -c "echo '$out' | grep -q 'no changes'"
before=$(sum "$DROPIN")
echo "NoSuchSshdOption yes" >>"$R/etc/ssh/sshd_config"
out=$(in_mntns "$XG" harden sshd -c "$FIX/ssh.conf" --root "$R" --address 192.0.2.2 --write 2>&1); rc=$?
check "when sshd -t fails, harden sshd refuses (exit 1) and says why" [ $rc = 1 -a -n "$(echo "$out" | grep 'sshd -t rejects.*NoSuchSshdOption')" ]
check "and writes nothing" [ "$(sum "$DROPIN")" = "$before" ]

# --- the management address comes from the interface ------------------------------
ip netns add "$NS" && ip netns exec "$NS" ip link add xgh0 type veth peer name xgh1 &&
    ip netns exec "$NS" ip addr add 192.0.2.7/24 dev xgh0
out=$(ip netns exec "$NS" "$XG" harden sshd -c "$FIX/xend.conf" --root "$R/fresh")
check "without --address, the management interface's address is used" bash -c "echo '$out' | grep -q '^+ListenAddress 192.0.2.7:22'"
out=$(ip netns exec "$NS" "$XG" harden sshd -c "$FIX/xend.conf" --root "$R/fresh" 2>&1 >/dev/null; ip netns exec "$NS" ip addr flush dev xgh0; ip netns exec "$NS" "$XG" harden sshd -c "$FIX/xend.conf" --root "$R/fresh" 2>&1); rc=$?
check "an interface without an address is a clear error" [ $rc = 1 -a -n "$(echo "$out" | grep 'no usable address')" ]
check "usage errors exit 2" bash -c "'$XG' harden bogus >/dev/null 2>&1; [ \$? = 2 ]"
check "--help exits 0" bash -c "'$XG' harden --help | grep -q Usage"
done_testing
