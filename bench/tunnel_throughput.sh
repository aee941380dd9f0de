#!/bin/bash
# tunnel_throughput.sh — xenguard tunnel vs ssh vs plain TCP on loopback.
#
#   bench/tunnel_throughput.sh [BUILD_DIR] [GIB] [RUNS]   (default build 2 3)
#
# Streams GIB GiB of zeros (dd, 1 MiB blocks) into `cat >/dev/null` on the
# other end through: xenguard tunnel -> tunneld; ssh -c aes128-gcm@openssh.com
# and ssh's default cipher -> a throwaway sshd on a high port (its own host
# key, authorized key and config in a temp dir; the system sshd and its
# config are never touched); plain TCP with socat. Prints the median wall
# time and throughput per transport, the ratios, CPU seconds per GiB of both
# ends (the sender process + the receiving server and what it runs, the
# `cat` sink included alike for every transport), and the median full mutual
# TLS handshake (TCP connect + TLS 1.3 with both certificates verified).
# Use a non-sanitizer build (`make` -> build/xenguard).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
GIB=${2:-2}
RUNS=${3:-3}
XG=$PWD/$BUILD/xenguard
[ -x "$XG" ] || { echo "build $XG first (make)"; exit 1; }
for t in sshd ssh-keygen socat; do
    command -v $t >/dev/null || [ -x /usr/sbin/$t ] || { echo "needs $t (make test-deps)"; exit 1; }
done
D=$(mktemp -d /tmp/xgbench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT
cc -O2 -o "$D/cpu_of" bench/cpu_of.c
CPU_OF=$D/cpu_of
COUNT=$((GIB * 1024))
BYTES=$((COUNT * 1048576))

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_case NAME SENDER-CMD...: RUNS times; records wall seconds and sender CPU
run_case() {
    local name=$1 i t0 t1
    shift
    : >"$D/$name.wall"; : >"$D/$name.cpu"
    for i in $(seq "$RUNS"); do
        t0=$(now)
        dd if=/dev/zero bs=1M count=$COUNT status=none | "$CPU_OF" "$D/cpu1" "$@" >/dev/null
        t1=$(now)
        echo "$t1 - $t0" | bc -l >>"$D/$name.wall"
        cat "$D/cpu1" >>"$D/$name.cpu"
    done
}

# ---- xenguard tunnel ---------------------------------------------------------
# the receive command is split on blanks (no shell), so the sink is a script
printf '#!/bin/sh\nexec cat >/dev/null\n' >"$D/sink"
chmod +x "$D/sink"
"$XG" tunnel-keys -d "$D/pki" sender.test 127.0.0.1 >/dev/null
"$CPU_OF" "$D/tunneld.cpu" "$XG" tunneld --ca "$D/pki/ca.pem" --cert "$D/pki/127.0.0.1.pem" \
    --key "$D/pki/127.0.0.1.key" --allow sender.test --listen 127.0.0.1 --port 0 \
    --receive-command "$D/sink" 2>"$D/tunneld.log" &
TD_WRAP=$!
PIDS+=($TD_WRAP)
for i in $(seq 100); do grep -q listening "$D/tunneld.log" && break; sleep 0.05; done
TPORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$D/tunneld.log" | head -1)
TOPTS="--ca $D/pki/ca.pem --cert $D/pki/sender.test.pem --key $D/pki/sender.test.key --port $TPORT"
run_case tunnel "$XG" tunnel $TOPTS 127.0.0.1
: >"$D/hs"
for i in $(seq 21); do
    "$XG" tunnel -v $TOPTS 127.0.0.1 </dev/null 2>&1 >/dev/null |
        sed -n 's/.*handshake \([0-9.]*\) ms.*/\1/p' >>"$D/hs"
done
kill "$(pgrep -P $TD_WRAP)"
wait $TD_WRAP || true
TUNNELD_CPU=$(cat "$D/tunneld.cpu")

# ---- ssh ----------------------------------------------------------------------
SPORT=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/user_key"
cp "$D/user_key.pub" "$D/authorized_keys"
cat >"$D/sshd_config" <<EOC
Port $SPORT
ListenAddress 127.0.0.1
HostKey $D/host_key
AuthorizedKeysFile $D/authorized_keys
PidFile $D/sshd.pid
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $(id -un)
EOC
mkdir -p /run/sshd
"$CPU_OF" "$D/sshd.cpu" /usr/sbin/sshd -D -e -f "$D/sshd_config" 2>"$D/sshd.log" &
SSHD_WRAP=$!
PIDS+=($SSHD_WRAP)
SSH="ssh -F /dev/null -i $D/user_key -p $SPORT -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$D/known_hosts"
for i in $(seq 100); do $SSH 127.0.0.1 true 2>/dev/null && break; sleep 0.1; done
DEFAULT_CIPHER=$($SSH -v 127.0.0.1 true 2>&1 | sed -n 's/.*kex: server->client cipher: \([^ ]*\).*/\1/p' | head -1)
run_case ssh_gcm $SSH -c aes128-gcm@openssh.com 127.0.0.1 'cat >/dev/null'
kill "$(pgrep -P $SSHD_WRAP)"; wait $SSHD_WRAP || true
SSH_GCM_SRV=$(cat "$D/sshd.cpu")
"$CPU_OF" "$D/sshd.cpu" /usr/sbin/sshd -D -e -f "$D/sshd_config" 2>>"$D/sshd.log" &
SSHD_WRAP=$!
PIDS+=($SSHD_WRAP)
for i in $(seq 100); do $SSH 127.0.0.1 true 2>/dev/null && break; sleep 0.1; done
run_case ssh_default $SSH 127.0.0.1 'cat >/dev/null'
kill "$(pgrep -P $SSHD_WRAP)"; wait $SSHD_WRAP || true
# the two readiness probes ran `true` over ssh: negligible next to GiB streams
SSH_DEF_SRV=$(cat "$D/sshd.cpu")

# ---- plain TCP ------------------------------------------------------------------
: >"$D/tcp.wall"
: >"$D/tcp.cpu"
for i in $(seq "$RUNS"); do
    PP=$(free_port)
    "$CPU_OF" "$D/tcpsrv.cpu" socat -u TCP-LISTEN:$PP,bind=127.0.0.1,reuseaddr OPEN:/dev/null &
    SW=$!
    for k in $(seq 100); do ss -ltn | grep -q ":$PP " && break; sleep 0.02; done
    t0=$(now)
    dd if=/dev/zero bs=1M count=$COUNT status=none | "$CPU_OF" "$D/cpu1" socat -u - TCP:127.0.0.1:$PP
    wait $SW
    t1=$(now)
    echo "$t1 - $t0" | bc -l >>"$D/tcp.wall"
    echo "$(cat "$D/cpu1") + $(cat "$D/tcpsrv.cpu")" | bc -l >>"$D/tcp.cpu"
done

# ---- report -----------------------------------------------------------------------
mibs() { echo "$BYTES / 1048576 / $1" | bc -l; }
row() { # row NAME LABEL SERVER_CPU_TOTAL
    local w c s
    w=$(median <"$D/$1.wall")
    c=$(median <"$D/$1.cpu")
    s=$(echo "$3 / $RUNS" | bc -l)
    printf "%-34s %8.2f s %9.0f MiB/s   CPU/GiB: %5.2f s (sender %.2f + receiver %.2f)\n" \
        "$2" "$w" "$(mibs "$w")" "$(echo "($c + $s) / $GIB" | bc -l)" \
        "$(echo "$c / $GIB" | bc -l)" "$(echo "$s / $GIB" | bc -l)"
    eval "W_$1=$w"
}
echo "tunnel_throughput: $GIB GiB over loopback, median of $RUNS runs, $(nproc) CPUs, $(date -u +%FT%TZ)"
echo "$(openssl version); $(ssh -V 2>&1); xenguard $("$XG" --version | cut -d' ' -f2)"
row tunnel "xenguard tunnel (TLS_AES_128_GCM)" "$TUNNELD_CPU"
row ssh_gcm "ssh -c aes128-gcm@openssh.com" "$SSH_GCM_SRV"
row ssh_default "ssh default ($DEFAULT_CIPHER)" "$SSH_DEF_SRV"
w=$(median <"$D/tcp.wall")
c=$(median <"$D/tcp.cpu")
printf "%-34s %8.2f s %9.0f MiB/s   CPU/GiB: %5.2f s (both socat ends)\n" "plain TCP (socat)" "$w" "$(mibs "$w")" "$(echo "$c / $GIB" | bc -l)"
W_tcp=$w
printf "ratio tunnel vs ssh aes128-gcm: %.2fx (target >= 1.5)\n" "$(echo "$W_ssh_gcm / $W_tunnel" | bc -l)"
printf "ratio tunnel vs ssh default:    %.2fx (target >= 2.4)\n" "$(echo "$W_ssh_default / $W_tunnel" | bc -l)"
printf "ratio tunnel vs plain TCP:      %.2fx\n" "$(echo "$W_tcp / $W_tunnel" | bc -l)"
printf "full mutual handshake (TCP connect + TLS 1.3, both certificates verified): median %.2f ms of 21 (target < 20)\n" "$(median <"$D/hs")"
