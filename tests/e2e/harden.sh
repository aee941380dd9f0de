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
require root ip unshare ssh-keygen /usr/sbin/sshd python3
R=$(mktemp -d)
cleanup() { local rc=$?; ip netns del "$NS" 2>/dev/null; rm -rf "$R"; exit $rc; }
trap cleanup EXIT
sum() { sha256sum "$1" | cut -d' ' -f1; }
xend005() { # audit --root's verdict on XG-XEND-005 (unauthenticated xend TCP listeners)
    "$XG" audit --root "$1" --format json | python3 -c '
import json, sys
print([c["status"] for c in json.load(sys.stdin)["checks"] if c["id"] == "XG-XEND-005"][0])'; }

cp -r "$FIX/etc" "$R/"
XEND="$R/etc/xen/xend-config.sxp"
orig=$(sum "$XEND")

# --- xend ----------------------------------------------------------------------
is "$(xend005 "$R")" fail "before: XG-XEND-005 fails (the Xen-API server on TCP 9363, auth none)"
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
check "the Xen-API server keeps only its unix socket" grep -qx "(xen-api-server ((unix)))" "$XEND"
is "$(xend005 "$R")" pass "after: XG-XEND-005 passes in xenguard audit --root"
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

# --- sshd ------------------------------------------------------------------------
# sshd -t / -T need /run/sshd, and read /etc/ssh/sshd_config.d through the main
# file's Include: in a private mount namespace, a tmpfs /run and the fixture's
# etc/ssh bound over /etc/ssh (the host's own files are never touched).
mkdir -p "$R/etc/ssh/sshd_config.d" "$R/keys"
ssh-keygen -q -t ed25519 -N '' -f "$R/keys/host_ed25519" </dev/null
printf 'Include /etc/ssh/sshd_config.d/*.conf\nHostKey %s\nUsePAM no\n' "$R/keys/host_ed25519" >"$R/etc/ssh/sshd_config"
export R
in_mntns() { unshare -m bash -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/sshd &&
    mount --bind "$R/etc/ssh" /etc/ssh && exec "$@"' _ "$@"; }
export -f in_mntns
DROPIN="$R/etc/ssh/sshd_config.d/00-xenguard.conf"
status_of() { # audit --root's verdict on one check
    "$XG" audit --root "$1" --format json | python3 -c '
import json, sys
print([c["status"] for c in json.load(sys.stdin)["checks"] if c["id"] == sys.argv[1]][0])' "$2"; }
# what cloud images ship: read before a 50-xenguard.conf would be
printf 'PasswordAuthentication yes\nPermitRootLogin yes\n' >"$R/etc/ssh/sshd_config.d/50-cloud-init.conf"
is "$(status_of "$R" XG-SSH-002)" fail "before: XG-SSH-002 fails with cloud-init's drop-in"
is "$(status_of "$R" XG-SSH-001)" fail "before: XG-SSH-001 fails with cloud-init's drop-in"
out=$("$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1); rc=$?
check "harden sshd --diff shows the drop-in, writes nothing" [ $rc = 0 -a ! -e "$DROPIN" -a -n "$(echo "$out" | grep '^+AllowUsers alice bob')" ]
check "an sshd_config that includes the drop-ins first is left alone" bash -c "! echo \"\$1\" | grep -q '^+++ .*/sshd_config (xenguard)'" _ "$out"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write); rc=$?
check "harden sshd --write passes sshd -t, writes 00-xenguard.conf and finds it in effect" \
    [ $rc = 0 -a -e "$DROPIN" -a -n "$(echo "$out" | grep 'in effect')" ]
is "$(status_of "$R" XG-SSH-002)" pass "after: XG-SSH-002 passes in xenguard audit --root"
is "$(status_of "$R" XG-SSH-001)" pass "after: XG-SSH-001 passes"
is "$(status_of "$R" XG-SSH-004)" pass "after: XG-SSH-004 passes"
check "ListenAddress on the management address" grep -qx "ListenAddress 192.0.2.1:22" "$DROPIN"
check "no passwords, root only with a key" bash -c "grep -qx 'PasswordAuthentication no' '$DROPIN' && grep -qx 'KbdInteractiveAuthentication no' '$DROPIN' && grep -qx 'PermitRootLogin prohibit-password' '$DROPIN'"
check "AllowUsers lists the policy's admins" grep -qx "AllowUsers alice bob" "$DROPIN"
check "sshd -T of the result: no passwords, root only with a key" bash -c \
    "in_mntns /usr/sbin/sshd -T -f /etc/ssh/sshd_config | grep -qx 'passwordauthentication no' &&
     in_mntns /usr/sbin/sshd -T -f /etc/ssh/sshd_config | grep -qx 'permitrootlogin without-password'"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write)
check "a second sshd --write says no changes, and checks again" bash -c "echo \"\$1\" | grep -q 'no changes' && echo \"\$1\" | grep -q 'in effect'" _ "$out"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --address 192.0.2.1 --write); rc=$?
check "live (no --root): sshd -T says the settings are in effect" [ $rc = 0 -a -n "$(echo "$out" | grep 'in effect (sshd -T)')" ]

# a drop-in that sorts first still wins: written, but reported (exit 1), with the place
printf '# the admin'"'"'s own\nPasswordAuthentication yes\n' >"$R/etc/ssh/sshd_config.d/00-aaa.conf"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write 2>&1); rc=$?
check "a drop-in read earlier that turns passwords on: exit 1, naming FILE:LINE" \
    [ $rc = 1 -a -n "$(echo "$out" | grep -F 'PasswordAuthentication yes (/etc/ssh/sshd_config.d/00-aaa.conf:2)')" ]
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --address 192.0.2.1 --write 2>&1); rc=$?
check "live, the same is found through sshd -T" [ $rc = 1 -a -n "$(echo "$out" | grep -F 'PasswordAuthentication yes (sshd -T)')" ]
echo "ListenAddress 0.0.0.0" >"$R/etc/ssh/sshd_config.d/00-aaa.conf"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write 2>&1); rc=$?
check "a ListenAddress elsewhere adds to ours: reported" \
    [ $rc = 1 -a -n "$(echo "$out" | grep -F 'ListenAddress 0.0.0.0 (/etc/ssh/sshd_config.d/00-aaa.conf:1) adds to')" ]
rm "$R/etc/ssh/sshd_config.d/00-aaa.conf"

# an sshd_config without the Include gets it on top (diff first, then a backup)
cp "$R/etc/ssh/sshd_config" "$R/main.orig"
printf 'HostKey %s\nPasswordAuthentication yes\nUsePAM no\n' "$R/keys/host_ed25519" >"$R/etc/ssh/sshd_config"
noinc=$(sum "$R/etc/ssh/sshd_config")
is "$(status_of "$R" XG-SSH-002)" fail "without the Include, XG-SSH-002 fails (the drop-in is never read)"
out=$("$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1)
check "the diff adds the Include to the top of sshd_config" bash -c "echo \"\$1\" | grep -A4 '^+++ .*/sshd_config (xenguard)' | grep -qx '+Include /etc/ssh/sshd_config.d/\*.conf'" _ "$out"
check "and changes nothing" [ "$(sum "$R/etc/ssh/sshd_config")" = "$noinc" ]
check "--write adds it" in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write
check "as the first directive" [ "$(grep -v '^#' "$R/etc/ssh/sshd_config" | head -1)" = "Include /etc/ssh/sshd_config.d/*.conf" ]
check "keeping the original as sshd_config.xenguard-bak" [ "$(sum "$R/etc/ssh/sshd_config.xenguard-bak")" = "$noinc" ]
is "$(status_of "$R" XG-SSH-002)" pass "and XG-SSH-002 passes"
mv "$R/main.orig" "$R/etc/ssh/sshd_config"

# the drop-in an earlier xenguard wrote goes (its AllowUsers would add up); an admin's stays
{ echo "# Written by 'xenguard harden sshd' (xenguard-harden(8)); rerun it instead of editing."
  echo "AllowUsers carol"; } >"$R/etc/ssh/sshd_config.d/50-xenguard.conf"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write); rc=$?
check "an earlier xenguard's 50-xenguard.conf is removed" [ $rc = 0 -a ! -e "$R/etc/ssh/sshd_config.d/50-xenguard.conf" ]
echo "AllowUsers carol" >"$R/etc/ssh/sshd_config.d/50-xenguard.conf"
out=$(in_mntns "$XG" harden sshd -c "$FIX/xend.conf" --root "$R" --address 192.0.2.1 --write 2>&1); rc=$?
check "an admin's file of that name is kept, and its AllowUsers reported" \
    [ $rc = 1 -a -e "$R/etc/ssh/sshd_config.d/50-xenguard.conf" -a -n "$(echo "$out" | grep -F 'AllowUsers carol')" ]
rm "$R/etc/ssh/sshd_config.d/50-xenguard.conf"

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
