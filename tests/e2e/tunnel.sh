#!/bin/bash
# tunnel.sh — xenguard tunnel / tunneld on loopback, end to end.
#
# A 1 GiB flow-controlled stream (tests/tools/xg_stream.c: the sender may not
# run more than 8 MiB ahead of the receiver's acks, so replies must flow
# while the stream does) arrives with the same SHA-256; every kind of
# stranger is refused before the receive command starts (the stand-in
# command writes a marker file the first thing it does); a flipped byte, a
# dying sender, forbidden flags, full sessions and silent peers all fail
# the way they should.
set -u
. "$XG_ROOT/tests/tools/tunnel_lib.sh"
trap tl_cleanup EXIT
require openssl python3

make_keys || bail_out "tunnel-keys" "$(cat "$T/keys.out" 2>/dev/null)"
ok "tunnel-keys made a CA and host certificates"
check "host keys are private (0600)" test "$(stat -c %a "$T/pki/a.test.key")" = 600
FP_C=$(sed -n 's|^issued  .*/c.test.pem  ||p' "$T/keys.out")
check "tunnel-keys --fingerprint matches the issued fingerprint" \
    grep -q "^$FP_C " <("$XG" tunnel-keys --fingerprint "$T/pki/c.test.pem")

cat >"$T/recv.sh" <<EOS
#!/bin/sh
echo "\$*" >"$T/args"
exec "$XG_TOOLS/xg_stream" recv
EOS
chmod +x "$T/recv.sh"
export XG_RECV_MARKER="$T/marker" XG_RECV_HASH="$T/hash"
SRV="--ca $T/pki/ca.pem --cert $T/pki/127.0.0.1.pem --key $T/pki/127.0.0.1.key"
start_tunneld "$T/d.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 \
    --allow a.test --allow "$FP_C" --receive-command "$T/recv.sh migrate-receive" ||
    bail_out "tunneld starts" "$(cat "$T/d.log")"
ok "tunneld listens on 127.0.0.1:$PORT"
MAIN_PORT=$PORT

# --- 1 GiB, byte-identical, replies at the same time, key updates -----------
"$XG_TOOLS/xg_stream" send 1024 8 \
    "exec $XG tunnel -v --rekey-bytes 268435456 $(client_opts a.test) --port $PORT 127.0.0.1 xl -t migrate-receive -e 2>$T/c.err" \
    >"$T/send.out"
rc=$?
check "1 GiB stream: sender exits 0 (hashes match, 1024 acks during the stream)" test $rc = 0
check "1 GiB stream: the receiver's SHA-256 equals the sender's" \
    grep -q "local $(cat "$T/hash" 2>/dev/null) remote" "$T/send.out"
check "1 GiB stream: TLS 1.3 with AES-128-GCM" grep -q 'TLSv1.3 TLS_AES_128_GCM_SHA256' "$T/c.err"
check "1 GiB stream: 4 key updates at 256 MiB each, both directions" grep -q ' 4 key updates (receiver 4)' "$T/c.err"
check "receive command got only the validated flags" \
    grep -qx -- "-t migrate-receive -e" "$T/args"
check "session log line: peer, bytes, result" wait_for grep -q \
    'session peer=a.test addr=127.0.0.1:[0-9]* domain=- bytes_in=1073741824 bytes_out=[0-9]* seconds=[0-9.]* result=ok' "$T/d.log"

# --- an irregular stream: tiny and odd-sized writes, a slow, fitful reader ----
# Records of every size (1 byte to full), the sender's ring wrapping with
# partial writes, the receiver's buffer compacting under back-pressure.
cat >"$T/irregular.py" <<'EOS'
import hashlib, os, random, sys, time
mode, seed, total, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng, h, n = random.Random(seed), hashlib.sha256(), 0
if mode == "write":
    while n < total:
        size = min(total - n, rng.choice([1, 2, 5, 17, 4096, 16383, 16384, 16385, rng.randint(1, 70000)]))
        chunk = rng.randbytes(size)
        h.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(1, view):]
        n += size
        if rng.random() < 0.02:
            time.sleep(0.002)
else:
    while True:
        chunk = os.read(0, rng.choice([1, 3, 1000, 65536, rng.randint(1, 200000)]))
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
        if rng.random() < 0.01:
            time.sleep(0.005)
open(out, "w").write("%d %s\n" % (n, h.hexdigest()))
EOS
printf '#!/bin/sh\nexec python3 %s read 2 0 %s\n' "$T/irregular.py" "$T/irr.recv" >"$T/irrsink"
chmod +x "$T/irrsink"
start_tunneld "$T/di.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$T/irrsink"
python3 "$T/irregular.py" write 1 16777216 "$T/irr.sent" |
    "$XG" tunnel -v --rekey-bytes 4000000 $(client_opts a.test) --port "$PORT" 127.0.0.1 2>"$T/irr.err"
rc=$?
check "irregular stream: the sender exits 0 (exit $rc)" test $rc = 0
check "irregular stream: the reader counted and hashed exactly what was written" \
    sh -c "[ -s '$T/irr.sent' ] && cmp -s '$T/irr.sent' '$T/irr.recv'"
check "irregular stream: 4 key updates on the way" grep -q ' 4 key updates' "$T/irr.err"
check "irregular stream: the session is logged ok" wait_for grep -q \
    'session peer=a.test .*bytes_in=16777216 .*result=ok' "$T/di.log"
PORT=$MAIN_PORT

# --- receiver exit status and empty stream -----------------------------------
cat >"$T/exit7.sh" <<'EOS'
#!/bin/sh
cat >/dev/null
echo "bye"
exit 7
EOS
chmod +x "$T/exit7.sh"
start_tunneld "$T/d7.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$T/exit7.sh"
echo data | "$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 >"$T/out7"
rc=$?
check "the receive command's exit status (7) is the sender's" test $rc = 7
check "its stdout reached the sender" grep -qx bye "$T/out7"
PORT=$MAIN_PORT
rm -f "$T/marker"
"$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 </dev/null >"$T/empty.out"
check "an empty stream is a clean, successful session" test $? = 0
check "an empty stream hashes as empty" grep -q "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$T/empty.out"

# --- strangers are refused before the receive command starts ----------------
refused() { # refused DESCRIPTION LOGPATTERN COMMAND...
    local d=$1 pat=$2; shift 2
    rm -f "$T/marker"
    local before; before=$(grep -c refused "$T/d.log")
    "$@" >/dev/null 2>"$T/r.err" </dev/null
    local rc=$?
    wait_for test "$(grep -c refused "$T/d.log")" -gt "$before"
    if [ $rc != 0 ] && [ ! -e "$T/marker" ] && tail -n +1 "$T/d.log" | grep refused | tail -1 | grep -q -- "$pat"; then
        ok "$d"
    else
        not_ok "$d" "rc=$rc, marker=$([ -e "$T/marker" ] && echo yes || echo no)" \
            "$(tail -2 "$T/d.log")" "$(cat "$T/r.err")"
    fi
}
refused "client without a certificate is refused, command never starts" "certificate" \
    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -CAfile "$T/pki/ca.pem" -quiet
refused "TLS 1.2 is refused, command never starts" "TLS handshake" \
    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -CAfile "$T/pki/ca.pem" \
    -cert "$T/pki/a.test.pem" -key "$T/pki/a.test.key" -quiet
refused "certificate from another CA is refused, command never starts" "unable to get local issuer" \
    "$XG" tunnel --ca "$T/pki/ca.pem" --cert "$T/other/a.test.pem" --key "$T/other/a.test.key" \
    --port "$PORT" 127.0.0.1
refused "valid certificate not on the allowlist is refused, command never starts" "not on the allowlist" \
    "$XG" tunnel $(client_opts intruder.test) --port "$PORT" 127.0.0.1
for bad in "xl migrate-receive -r" "xl migrate-receive --colo" \
    "xl migrate-receive --coloft-script /tmp/evil" "xl migrate-receive --userspace-colo-proxy" \
    "xl -Z migrate-receive" "xl create /tmp/evil.cfg" "sh -c id" "xl migrate-receive -e extra"; do
    refused "remote args '$bad' refused, command never starts" "not allowed\|not 'xl migrate-receive'" \
        "$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 $bad
done
check "the sender says why it was refused" grep -q "receiver refused: migrate-receive argument" \
    <("$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 xl migrate-receive -r 2>&1 </dev/null)
rm -f "$T/marker"
echo pinned | "$XG" tunnel $(client_opts c.test) --port "$PORT" 127.0.0.1 >/dev/null
check "a peer allowed by pinned sha256 fingerprint is accepted" test $? = 0 -a -e "$T/marker"
check "the pinned peer is logged by fingerprint" grep -q "session peer=$FP_C" "$T/d.log"

# --- the sender checks the receiver too -------------------------------------
echo x | "$XG" tunnel $(client_opts a.test) --port "$PORT" localhost >/dev/null 2>"$T/host.err"
check "sender refuses a receiver whose certificate does not name HOST" \
    grep -q "refusing the receiver: certificate /CN=127.0.0.1" "$T/host.err"

# --- a man in the middle flips one byte: both ends fail ----------------------
start_tunneld "$T/dm.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$XG_TOOLS/xg_stream recv" --once
MITM_TUNNELD=$TUNNELD_PID
"$XG_TOOLS/flip_relay" "$T/relay.port" 127.0.0.1 "$PORT" 5000000 2>/dev/null &
PIDS+=($!)
wait_for test -s "$T/relay.port"
"$XG_TOOLS/xg_stream" send 64 8 \
    "exec $XG tunnel $(client_opts a.test) --port $(cat "$T/relay.port") 127.0.0.1 2>$T/mitm.err" >/dev/null
rc=$?
wait "$MITM_TUNNELD"
src=$?
check "flipped byte: the sender fails (exit $rc)" test $rc != 0
check "flipped byte: the sender reports the forged record" grep -q "xenguard tunnel: .*\(alert\|bad record mac\|bad_record_mac\|decrypt\)" "$T/mitm.err"
check "flipped byte: tunneld --once fails (exit $src)" test $src != 0
check "flipped byte: the session is logged as failed" grep -q "session peer=a.test.*result=fail" "$T/dm.log"

# --- the sender dies mid-stream: no receive process is left -----------------
cat >"$T/stubborn.sh" <<EOS
#!/bin/sh
trap '' TERM HUP
echo \$\$ >"$T/stubborn.pid"
cat >/dev/null
sleep 600
EOS
chmod +x "$T/stubborn.sh"
start_tunneld "$T/dd.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$T/stubborn.sh"
mkfifo "$T/fifo"
( head -c 8388608 /dev/zero; exec sleep 600 ) >"$T/fifo" 2>/dev/null &
FEED=$!
PIDS+=($FEED)
"$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 <"$T/fifo" &
SENDER=$!
wait_for test -s "$T/stubborn.pid"
RPID=$(cat "$T/stubborn.pid")
kill -9 "$SENDER"
wait "$SENDER" 2>/dev/null
kill "$FEED" 2>/dev/null
check "sender killed: the session is logged as failed" \
    wait_for grep -q "session peer=a.test.*result=fail" "$T/dd.log"
check "sender killed: the receive command is gone" bash -c "! kill -0 $RPID 2>/dev/null"
check "sender killed: nothing is left in its process group" bash -c "! pgrep -g $RPID >/dev/null"

# --- limits: max-sessions and the handshake timeout ---------------------------
start_tunneld "$T/dl.log" "$XG" tunneld $SRV --listen 127.0.0.1 --port 0 --allow a.test \
    --receive-command "$T/recv.sh" --max-sessions 1 --handshake-timeout 1
rm -f "$T/marker"
mkfifo "$T/fifo2"
sleep 600 >"$T/fifo2" 2>/dev/null &
HOLDFEED=$!
PIDS+=($HOLDFEED)
"$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 <"$T/fifo2" >/dev/null &
PIDS+=($!)
wait_for test -e "$T/marker"
echo x | "$XG" tunnel $(client_opts a.test) --port "$PORT" 127.0.0.1 >/dev/null 2>&1
check "a session beyond --max-sessions is refused" test $? != 0
check "... and logged" grep -q 'refused addr=.*max-sessions' "$T/dl.log"
kill "$HOLDFEED" 2>/dev/null
check "the held session ends cleanly when its stream ends" \
    wait_for grep -q 'session peer=a.test.*result=ok' "$T/dl.log"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
check "a silent peer is dropped after the handshake timeout" \
    wait_for grep -q 'refused addr=.*handshake timeout' "$T/dl.log"
exec 3<&-

done_testing
