#!/bin/bash
# tunnel_security.sh — regression tests for the tunnel findings of the
# security review (issue 12), on loopback. Each test reproduces the attack
# and asserts what must hold; every one of them failed on xenguard before
# the fixes (run it with XG pointing at an older binary to see that).
#
#  1  idle strangers holding connections cannot take the sessions' place;
#     refusals are logged through a rate limit
#  3  a cut stream or a stopping tunneld never looks like a clean end of
#     input to the receive command
#  4  the sender trusts a receiver only if its certificate names HOST and,
#     when an allowlist or pins are configured, is on it
#  8  a certificate subject cannot forge fields of the log line
#  9  --rekey-bytes is capped at AES-GCM's limit; records are counted too
# 11  domain names are [A-Za-z0-9_.-]; with DNS SANs the CN is no name
# 12  SIGHUP reloads (sessions go on); a refused sender is told why
set -u
. "$XG_ROOT/tests/tools/tunnel_lib.sh"
trap tl_cleanup EXIT

make_keys || bail_out "tunnel-keys"

# certificates tunnel-keys would never make, from the same CA
odd_cert() { # odd_cert NAME SUBJECT [SAN]
    local ext=()
    [ -n "${3:-}" ] && ext=(-addext "subjectAltName=$3")
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/pki/$1.key" \
        -subj "$2" "${ext[@]}" -out "$T/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$T/$1.csr" -CA "$T/pki/ca.pem" -CAkey "$T/pki/ca.key" \
            -CAcreateserial -days 2 -copy_extensions copy -out "$T/pki/$1.pem" 2>/dev/null
}
odd_cert inject '/CN=x" result=ok peer=a.test reason="' &&
    odd_cert cnsan '/CN=a.test' 'DNS:evil.test' || bail_out "openssl certificates"

SRV="--ca $T/pki/ca.pem --cert $T/pki/127.0.0.1.pem --key $T/pki/127.0.0.1.key"
export XG_RECV_MARKER="$T/marker"
# the receive command of the truncation tests: it records how its input ended
cat >"$T/record_end.sh" <<EOS
#!/bin/sh
cat >"$T/part"
echo "cat exit \$?" >"$T/end.status"
EOS
chmod +x "$T/record_end.sh"

# hold N idle TCP connections to PORT open until killed
hold_idle() { # hold_idle N PORT READYFILE
    python3 -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[2]))) for _ in range(int(sys.argv[1]))]
open(sys.argv[3], "w").write("ready\n")
time.sleep(600)' "$@" &
    PIDS+=($!)
    HOLDER=$!
    wait_for test -s "$3"
}

# --- 1: strangers cannot hold the slots --------------------------------------
start_tunneld "$T/d1.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$XG_TOOLS/xg_stream recv" || bail_out "tunneld starts"
D1=$TUNNELD_PID
hold_idle 16 "$PORT" "$T/held"
sleep 0.5
"$XG_TOOLS/xg_stream" send 8 4 \
    "exec $XG tunnel $(client_opts a.test) --handshake-timeout 20 --port $PORT 127.0.0.1 2>$T/s1.err" >"$T/s1.out"
rc=$?
check "1: 16 idle connections held open, a real 8 MiB stream still arrives hash-equal (exit $rc)" \
    test $rc = 0
check "1: ... and tunneld logs it as a good session" \
    wait_for grep -q 'session peer=a.test .*bytes_in=8388608 .*result=ok' "$T/d1.log"
check "1: the idle connections were dropped oldest first, not the newcomer" \
    grep -q 'refused addr=127.0.0.1:[0-9]* reason="too many handshakes from this address' "$T/d1.log"
kill "$HOLDER" 2>/dev/null
# a flood of 150 connections that close at once: the log stays short
before=$(grep -c '^xenguard-tunneld: refused' "$T/d1.log")
t0=$(date +%s)
python3 -c '
import socket, sys
for _ in range(150):
    socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$PORT"
sleep 1
secs=$(($(date +%s) - t0))
lines=$(($(grep -c '^xenguard-tunneld: refused' "$T/d1.log") - before))
most=$((20 * (secs / 10 + 2)))
check "1: 150 refused connections in $secs s, at most 20 refusal lines per 10 s ($lines <= $most)" \
    test "$lines" -le "$most"
check "1: ... and one summary line for the rest" \
    wait_for grep -q 'suppressed refused=[0-9]* seconds=10 reason=' "$T/d1.log"
"$XG_TOOLS/xg_stream" send 2 4 \
    "exec $XG tunnel $(client_opts a.test) --handshake-timeout 20 --port $PORT 127.0.0.1 2>/dev/null" >/dev/null
check "1: after the flood a stream still gets through" test $? = 0
kill "$D1"

# --- 3: a broken stream is never a clean end of input -------------------------
rm -f "$T/end.status"
start_tunneld "$T/d3.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$T/record_end.sh" --once
D3=$TUNNELD_PID
"$XG_TOOLS/flip_relay" "$T/relay.port" 127.0.0.1 "$PORT" 3000000 cut 2>/dev/null &
PIDS+=($!)
wait_for test -s "$T/relay.port"
head -c 16777216 /dev/zero |
    "$XG" tunnel $(client_opts a.test) --port "$(cat "$T/relay.port")" 127.0.0.1 >/dev/null 2>&1
check "3: the sender fails when the relay cuts the stream after 3 MB" test $? != 0
wait "$D3"
check "3: tunneld --once fails (exit $?)" test $? != 0
check "3: ... logging the truncation" grep -q 'session .*result=fail reason="receiving: connection closed before close_notify' "$T/d3.log"
check "3: the receive command never saw the end of its input ($(cat "$T/end.status" 2>/dev/null || echo killed))" \
    test ! -e "$T/end.status"

rm -f "$T/end.status" "$T/marker"
cat >"$T/record_end_marked.sh" <<EOS
#!/bin/sh
echo \$\$ >"$T/marker"
exec "$T/record_end.sh"
EOS
chmod +x "$T/record_end_marked.sh"
start_tunneld "$T/d3b.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$T/record_end_marked.sh"
D3=$TUNNELD_PID
mkfifo "$T/fifo3"
( head -c 4194304 /dev/zero; exec sleep 600 ) >"$T/fifo3" 2>/dev/null &
PIDS+=($!)
FEED3=$!
"$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 <"$T/fifo3" >/dev/null 2>&1 &
PIDS+=($!)
wait_for test -s "$T/marker" && sleep 0.5
kill -TERM "$D3"
check "3: tunneld stopping mid-stream: the session is logged as failed" \
    wait_for grep -q 'session .*result=fail reason="receiving: tunneld is stopping"' "$T/d3b.log"
check "3: ... and the receive command never saw the end of its input ($(cat "$T/end.status" 2>/dev/null || echo killed))" \
    test ! -e "$T/end.status"
kill "$FEED3" 2>/dev/null

# --- the receiver for the rest ------------------------------------------------
start_tunneld "$T/d.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --allow b.test --receive-command "$XG_TOOLS/xg_stream recv"

# --- 4: the sender's trust ------------------------------------------------------
FP_C=$("$XG" tunnel-keys --fingerprint "$T/pki/c.test.pem" | cut -d' ' -f1)
FP_R=$("$XG" tunnel-keys --fingerprint "$T/pki/127.0.0.1.pem" | cut -d' ' -f1)
send() { echo data | "$XG" tunnel $(client_opts a.test) --port "$PORT" "$@" >/dev/null 2>"$T/send.err"; }
send --allow b.test 127.0.0.1
check "4: a receiver that names HOST but is not on the sender's allowlist is refused" \
    grep -q "refusing the receiver: .*names 127.0.0.1 but is not on the allowlist" "$T/send.err"
send --allow "$FP_C" 127.0.0.1
check "4: a pin pins: a receiver with another fingerprint is refused" \
    grep -q "refusing the receiver: .*not on the allowlist" "$T/send.err"
send --allow 127.0.0.1 localhost
check "4: a receiver on the allowlist that does not name HOST is refused, the sender says how to fix it" \
    grep -q "refusing the receiver: .*does not name localhost: .*--san HOST=localhost" "$T/send.err"
send --allow "$FP_R" 127.0.0.1
check "4: the pinned receiver that names HOST is accepted" test $? = 0

# --- 8 and 12: a subject cannot forge log fields; the refused sender learns why
echo x | "$XG" tunnel $(client_opts inject) --port "$PORT" 127.0.0.1 >/dev/null 2>"$T/inj.err"
check "12: a sender not on the allowlist is told so, not just an OpenSSL alert" \
    grep -q "receiver refused: this sender's certificate is not on the receiver's allowlist" "$T/inj.err"
wait_for grep -q 'refused.*result=ok' "$T/d.log"
grep 'refused.*result=ok' "$T/d.log" | tail -1 >"$T/inj.line"
python3 - "$T/inj.line" >"$T/inj.keys" <<'EOS'
import re, sys
line = open(sys.argv[1]).read().strip()
# key=bare or key="escaped", separated by single spaces
tok = re.compile(r' ([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ "]+)')
body = line.split(": refused", 1)[1] if ": refused" in line else ""
pos, keys = 0, []
while pos < len(body):
    m = tok.match(body, pos)
    if not m:
        print("unparsable at", pos); sys.exit(1)
    keys.append(m.group(1)); pos = m.end()
print(" ".join(keys))
EOS
check "8: the forged subject stays inside reason=\"...\": the line's keys are only addr and reason ($(cat "$T/inj.keys"))" \
    grep -qx "addr reason" "$T/inj.keys"

# --- 9: rekey limits ------------------------------------------------------------
"$XG" tunnel $(client_opts a.test) --rekey-bytes 1099511627776 --port "$PORT" 127.0.0.1 </dev/null >/dev/null 2>"$T/rk.err"
rc=$?
check "9: --rekey-bytes 2^40 is refused as a usage error (exit $rc)" test $rc = 2
check "9: ... naming AES-GCM's limit" grep -q "RFC 8446" "$T/rk.err"
head -c 4194304 /dev/urandom |
    "$XG" tunnel -v $(client_opts a.test) --rekey-bytes 274877906944 --rekey-records 64 \
        --port "$PORT" 127.0.0.1 >/dev/null 2>"$T/rr.err"
rc=$?
K=$(sed -n 's/.* \([0-9]*\) key updates.*/\1/p' "$T/rr.err")
check "9: records are counted too: 4 MiB with --rekey-records 64 makes >= 4 key updates (exit $rc, ${K:-no} updates)" \
    test $rc = 0 -a "${K:-0}" -ge 4

# --- 11: domain names, CN vs SAN --------------------------------------------------
"$XG" tunnel $(client_opts a.test) --domain 'g;id' --port "$PORT" 127.0.0.1 </dev/null >/dev/null 2>"$T/dom.err"
check "11: the sender refuses --domain with shell metacharacters (exit $?)" grep -q "bad domain name" "$T/dom.err"
rm -f "$T/marker"
python3 - "$T" "$PORT" 'x$(id)' >"$T/raw.out" 2>&1 <<'EOS'
import socket, ssl, struct, sys
t, port, domain = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(t + "/pki/ca.pem")
ctx.load_cert_chain(t + "/pki/a.test.pem", t + "/pki/a.test.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
s.sendall(b"XGT1" + bytes([0]) + struct.pack(">H", len(domain)) + domain)
data = b""
while len(data) < 5 or len(data) < 5 + struct.unpack(">I", data[1:5])[0]:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(chr(data[0]), data[5:].decode(errors="replace"))
EOS
check "11: a raw request with domain 'x\$(id)' is refused with the reason ($(head -c 120 "$T/raw.out"))" \
    grep -q "^R domain name 'x\$(id)' is not allowed" "$T/raw.out"
check "11: ... and the receive command never started" test ! -e "$T/marker"
echo x | "$XG" tunnel $(client_opts cnsan) --port "$PORT" 127.0.0.1 >/dev/null 2>"$T/cn.err"
rc=$?
check "11: CN=a.test with DNS SAN evil.test is not a.test (RFC 6125): refused (exit $rc)" \
    test $rc != 0 -a ! -e "$T/marker"

# --- 11: kill(-pid) never reaches a process group that reused the id ---------
# In a pid namespace of our own: the receive command writes 1.2 MB and exits
# while the sender, whose stdout nobody reads, stalls; tunneld's session then
# waits for the idle timeout (3 s) and kills the command's group. The test
# meanwhile gives the leader's pid, once it is free, to a new process group
# (ns_last_pid). tunneld must not kill it: it may reap the leader only after
# killing the group, so the id cannot be free before.
if unshare --pid --fork --mount-proc true 2>/dev/null; then
    cat >"$T/reuse_recv.sh" <<EOS
#!/bin/sh
echo \$\$ >"$T/reuse.leader"
head -c 1200000 /dev/zero
EOS
    chmod +x "$T/reuse_recv.sh"
    cat >"$T/reuse.sh" <<EOS
"$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test --once --idle-timeout 3 \
    --receive-command "$T/reuse_recv.sh" 2>"$T/reuse.log" &
D=\$!
for i in \$(seq 200); do grep -q 'listening on' "$T/reuse.log" && break; sleep 0.1; done
P=\$(sed -n 's/.*listening on .*:\([0-9]*\)\$/\1/p' "$T/reuse.log")
sleep 600 | "$XG" tunnel $(client_opts a.test) --port \$P 127.0.0.1 2>/dev/null | sleep 600 &
for i in \$(seq 200); do [ -s "$T/reuse.leader" ] && break; sleep 0.1; done
L=\$(cat "$T/reuse.leader")
for i in \$(seq 200); do [ -e /proc/\$L ] || break; sleep 0.05; done
echo \$((L - 1)) >/proc/sys/kernel/ns_last_pid
setsid sleep 600 &
V=\$!
wait \$D
sleep 0.5
echo "leader \$L victim \$V \$(kill -0 \$V 2>/dev/null && echo alive || echo killed)" >"$T/reuse.out"
EOS
    timeout 60 unshare --pid --fork --mount-proc bash "$T/reuse.sh" 2>/dev/null
    check "11: a process group that took the receive command's old id survives ($(cat "$T/reuse.out" 2>/dev/null))" \
        grep -q ' alive$' "$T/reuse.out"
    check "11: ... the session itself ended by the idle timeout" \
        grep -q 'session .*result=fail reason="idle for 3 s"' "$T/reuse.log"
else
    ok "11: kill(-pid) reuse # SKIP no pid namespaces here"
fi

# --- 12: SIGHUP reloads ---------------------------------------------------------
policy() { # policy PEER...
    cat <<EOP
[host]
scenario = untrusted
public-interface = xgsec0

[cluster]
peers = 127.0.0.1

[migration]
transport = tunnel

[admin]
ssh-from = 198.51.100.7
users = root

[tunnel]
ca = $T/pki/ca.pem
cert = $T/pki/127.0.0.1.pem
key = $T/pki/127.0.0.1.key
peer-names = $*
receive-command = $T/record_end_marked.sh
EOP
}
policy a.test >"$T/h.conf"
start_tunneld "$T/dh.log" "$XG" tunneld -c "$T/h.conf" --listen 127.0.0.1 --port 0 --interface lo
DH=$TUNNELD_PID
rm -f "$T/marker" "$T/end.status"
mkfifo "$T/fifo12"
( head -c 1048576 /dev/zero; exec sleep 600 ) >"$T/fifo12" 2>/dev/null &
PIDS+=($!)
FEED12=$!
"$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 <"$T/fifo12" >/dev/null 2>&1 &
HELD=$!
wait_for test -s "$T/marker"
policy b.test >"$T/h.conf"
kill -HUP "$DH"
check "12: SIGHUP: tunneld reloads instead of stopping" wait_for grep -q 'reloaded peers=1' "$T/dh.log"
check "12: ... and is still running" kill -0 "$DH"
kill "$FEED12" 2>/dev/null
wait "$HELD"
check "12: the session running across the reload ends well" test $? = 0
check "12: ... logged ok" wait_for grep -q 'session peer=a.test .*bytes_in=1048576 .*result=ok' "$T/dh.log"
echo x | "$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 >/dev/null 2>"$T/h.err"
check "12: after the reload a.test (removed from peer-names) is refused, and told why" \
    grep -q "receiver refused: this sender's certificate is not on" "$T/h.err"
echo x | "$XG" tunnel $(client_opts b.test) --port "$PORT" 127.0.0.1 >/dev/null 2>&1
check "12: ... and b.test (added) is accepted" test $? = 0
echo 'peer-names = ' >>"$T/h.conf"
sed -i 's/^peer-names = b.test$/peer-names = a.test/' "$T/h.conf"
printf 'bogus line\n' >>"$T/h.conf"
kill -HUP "$DH"
check "12: a broken policy on SIGHUP is refused, the running configuration stays" \
    wait_for grep -q 'reload-failed reason=' "$T/dh.log"
echo x | "$XG" tunnel $(client_opts b.test) --port "$PORT" 127.0.0.1 >/dev/null 2>&1
check "12: ... b.test still gets in" test $? = 0
check "12: the unit reloads with SIGHUP" \
    grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$XG_ROOT/systemd/xenguard-tunneld.service"

done_testing
