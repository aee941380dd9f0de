#!/bin/bash
# tunnel_netns.sh — the tunnel between two network namespaces (two "Dom0s"
# on TEST-NET 198.51.100.0/24 over a veth pair), configured from real policy
# files, and the `xl migrate -s "xenguard tunnel"` integration end to end
# with a stand-in for xl (tests/tools/fake_xl.py) that speaks xl's
# migrate-receive protocol on both sides.
set -u
. "$XG_ROOT/tests/tools/tunnel_lib.sh"
A=xgtA$$ B=xgtB$$
TL_EXTRA_CLEANUP='ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null'
trap tl_cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
require root ip python3

ip netns add "$A" && ip netns add "$B" &&
    ip link add xgta$$ netns "$A" type veth peer name xgtb$$ netns "$B" &&
    ip -n "$A" addr add 198.51.100.1/24 dev xgta$$ && ip -n "$B" addr add 198.51.100.2/24 dev xgtb$$ &&
    ip -n "$A" link set xgta$$ up && ip -n "$B" link set xgtb$$ up &&
    ip -n "$A" link set lo up && ip -n "$B" link set lo up ||
    bail_out "network namespaces"
ok "namespaces $A (198.51.100.1) and $B (198.51.100.2)"
make_keys || bail_out "tunnel-keys" "$(cat "$T/keys.out" 2>/dev/null)"

policy() { # policy IFACE PEER CERTNAME
    cat <<EOP
[host]
scenario = untrusted
public-interface = $1

[cluster]
peers = $2

[migration]
transport = tunnel
port = 8002

[admin]
ssh-from = 198.51.100.7
users = root

[tunnel]
ca = $T/pki/ca.pem
cert = $T/pki/$3.pem
key = $T/pki/$3.key
peer-names = a.test b.test 198.51.100.2
receive-command = python3 $XG_ROOT/tests/tools/fake_xl.py migrate-receive
EOP
}
policy xgtb$$ 198.51.100.1 198.51.100.2 >"$T/b.conf"
policy xgta$$ 198.51.100.2 a.test >"$T/a.conf"
mkdir "$T/state"

# receiver B from its policy file: port 8002, bound to its interface
FAKE_XL_STATE="$T/state" start_tunneld "$T/b.log" ip netns exec "$B" "$XG" tunneld -c "$T/b.conf" ||
    bail_out "tunneld -c starts in $B" "$(cat "$T/b.log")"
check "tunneld -c listens on the policy's port 8002" test "$PORT" = 8002

# the same policy with command-line overrides: another port and receive command
XG_RECV_HASH="$T/hash" start_tunneld "$T/b2.log" ip netns exec "$B" "$XG" tunneld -c "$T/b.conf" \
    --port 8003 --receive-command "$XG_TOOLS/xg_stream recv"
check "options override -c (port 8003)" test "$PORT" = 8003

# 1 GiB across the namespaces, replies flowing while the stream does
ip netns exec "$A" "$XG_TOOLS/xg_stream" send 1024 8 \
    "exec $XG tunnel -c $T/a.conf --port 8003 198.51.100.2" >"$T/send.out" 2>"$T/send.err"
rc=$?
check "1 GiB across namespaces: sender exits 0, hashes equal, acks during the stream" test $rc = 0
check "1 GiB across namespaces: receiver wrote the same SHA-256" \
    grep -q "local $(cat "$T/hash" 2>/dev/null) remote" "$T/send.out"
check "session logged with the peer's certificate name and TEST-NET address" wait_for \
    grep -q 'session peer=a.test addr=\[::ffff:198.51.100.1\]:[0-9]* .*bytes_in=1073741824 .*result=ok' "$T/b2.log"

# xl migrate -s "xenguard tunnel" with the stand-in xl on both ends
ip netns exec "$A" env FAKE_XL_MIB=64 python3 "$XG_ROOT/tests/tools/fake_xl.py" migrate \
    -s "$XG tunnel -c $T/a.conf" -e guest7 198.51.100.2 >"$T/xl.out" 2>"$T/xl.err"
rc=$?
check "xl migrate -s \"xenguard tunnel\": sender reports success" \
    test $rc = 0 -a -n "$(grep 'Migration successful' "$T/xl.err")"
check "the receiving xl saw the receiver's replies and the sender's GO (banner, ready, report)" \
    grep -q 'migration target: Got permission' "$T/xl.err"
SENT=$(sed -n 's/.*pages sha256 //p' "$T/xl.err")
check "the receiving xl got the guest's pages byte for byte" \
    grep -q "\"sha256\": \"$SENT\"" "$T/state/received"
check "the receiving xl got the domain config and only the validated flag -e" \
    grep -q '"domain": "guest7".*"receive_flags": \["-e"\]' "$T/state/received"
check "the receive command learns the authenticated peer" grep -q '"peer": "a.test"' "$T/state/received"
check "tunneld logs the domain name" wait_for grep -q 'session peer=a.test .*domain=guest7 .*result=ok' "$T/b.log"

# a sender without a cert for this CA gets nowhere across the wire either
rm -f "$T/state/received"
ip netns exec "$A" python3 "$XG_ROOT/tests/tools/fake_xl.py" migrate \
    -s "$XG tunnel --ca $T/pki/ca.pem --cert $T/other/a.test.pem --key $T/other/a.test.key" \
    guest8 198.51.100.2 >/dev/null 2>"$T/xl2.err"
check "xl migrate with a foreign certificate fails on the sender" test $? != 0
check "... and the receiving xl never ran" test ! -e "$T/state/received"
check "... and tunneld logged the refusal" wait_for grep -q 'refused addr=.*198.51.100.1.*unable to get local issuer' "$T/b.log"

done_testing
