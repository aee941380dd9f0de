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
# The transports take turns within each round (tunnel, ssh aes128-gcm, ssh
# default, TCP), so a slow spell of a shared machine hits all of them; the
# receivers run for the whole benchmark, their CPU is divided by RUNS.
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

# one_run NAME SENDER-CMD...: one stream; appends wall seconds and sender CPU
one_run() {
    local name=$1 t0 t1
    shift
    t0=$(now)
    dd if=/dev/zero bs=1M count=$COUNT status=none | "$CPU_OF" "$D/cpu1" "$@" >/dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc -l >>"$D/$name.wall"
    cat "$D/cpu1" >>"$D/$name.cpu"
}

# ---- receivers: all started first, each under cpu_of, stopped at the end ------
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

# one throwaway sshd per cipher, so each one's CPU is its own
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/user_key"
cp "$D/user_key.pub" "$D/authorized_keys"
mkdir -p /run/sshd
start_sshd() { # start_sshd NAME PORT
    cat >"$D/sshd_$1.config" <<EOC
Port $2
ListenAddress 127.0.0.1
HostKey $D/host_key
AuthorizedKeysFile $D/authorized_keys
PidFile $D/sshd_$1.pid
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $(id -un)
EOC
    "$CPU_OF" "$D/sshd_$1.cpu" /usr/sbin/sshd -D -e -f "$D/sshd_$1.config" 2>"$D/sshd_$1.log" &
    PIDS+=($!)
    eval "SSHD_$1=$!"
}
GPORT=$(free_port)
start_sshd gcm "$GPORT"
DPORT=$(free_port)
start_sshd def "$DPORT"
SSH="ssh -F /dev/null -i $D/user_key -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$D/known_hosts"
for p in $GPORT $DPORT; do
    for i in $(seq 100); do $SSH -p $p 127.0.0.1 true 2>/dev/null && break; sleep 0.1; done
done
DEFAULT_CIPHER=$($SSH -p $DPORT -v 127.0.0.1 true 2>&1 | sed -n 's/.*kex: server->client cipher: \([^ ]*\).*/\1/p' | head -1)

# ---- the runs: interleaved, so a slow spell of a shared machine hits every transport alike
: >"$D/tcp_srv.cpu"
for name in tunnel ssh_gcm ssh_default tcp; do : >"$D/$name.wall"; : >"$D/$name.cpu"; done
for r in $(seq "$RUNS"); do
    one_run tunnel "$XG" tunnel $TOPTS 127.0.0.1
    one_run ssh_gcm $SSH -p $GPORT -c aes128-gcm@openssh.com 127.0.0.1 'cat >/dev/null'
    one_run ssh_default $SSH -p $DPORT 127.0.0.1 'cat >/dev/null'
    PP=$(free_port)
    "$CPU_OF" "$D/tcpsrv.cpu" socat -u TCP-LISTEN:$PP,bind=127.0.0.1,reuseaddr OPEN:/dev/null &
    SW=$!
    for k in $(seq 100); do ss -ltn | grep -q ":$PP " && break; sleep 0.02; done
    one_run tcp socat -u - TCP:127.0.0.1:$PP
    wait $SW
    cat "$D/tcpsrv.cpu" >>"$D/tcp_srv.cpu"
    # this round's ratios
    tw=$(tail -1 "$D/tunnel.wall")
    echo "$(tail -1 "$D/ssh_gcm.wall") / $tw" | bc -l >>"$D/ratio_gcm"
    echo "$(tail -1 "$D/ssh_default.wall") / $tw" | bc -l >>"$D/ratio_default"
done

: >"$D/hs"
for i in $(seq 21); do
    "$XG" tunnel -v $TOPTS 127.0.0.1 </dev/null 2>&1 >/dev/null |
        sed -n 's/.*handshake \([0-9.]*\) ms.*/\1/p' >>"$D/hs"
done
stop() { kill "$(pgrep -P "$1")" 2>/dev/null; wait "$1" || true; }
stop $TD_WRAP
stop $SSHD_gcm
stop $SSHD_def
TUNNELD_CPU=$(cat "$D/tunneld.cpu")
# the readiness probes ran `true` over ssh: negligible next to GiB streams
SSH_GCM_SRV=$(cat "$D/sshd_gcm.cpu")
SSH_DEF_SRV=$(cat "$D/sshd_def.cpu")
TCP_SRV=$(paste -sd+ "$D/tcp_srv.cpu" | bc -l)

# ---- report -----------------------------------------------------------------------
mibs() { echo "$BYTES / 1048576 / $1" | bc -l; }
row() { # row NAME LABEL SERVER_CPU_TOTAL
    local w c s
    w=$(median <"$D/$1.wall")
    c=$(median <"$D/$1.cpu")
    s=$(echo "$3 / $RUNS" | bc -l)
    printf "%-44s %6.2f s %6.0f MiB/s   CPU/GiB: %5.2f s (sender %.2f + receiver %.2f)\n" \
        "$2" "$w" "$(mibs "$w")" "$(echo "($c + $s) / $GIB" | bc -l)" \
        "$(echo "$c / $GIB" | bc -l)" "$(echo "$s / $GIB" | bc -l)"
    eval "W_$1=$w"
}
echo "tunnel_throughput: $GIB GiB over loopback, median of $RUNS interleaved rounds, $(nproc) CPUs, $(date -u +%FT%TZ)"
echo "$(openssl version); $(ssh -V 2>&1); xenguard $("$XG" --version | cut -d' ' -f2)"
row tunnel "xenguard tunnel (TLS_AES_128_GCM)" "$TUNNELD_CPU"
row ssh_gcm "ssh -c aes128-gcm@openssh.com" "$SSH_GCM_SRV"
row ssh_default "ssh default ($DEFAULT_CIPHER)" "$SSH_DEF_SRV"
row tcp "plain TCP (socat)" "$TCP_SRV"
printf "ratio tunnel vs ssh aes128-gcm: %.2fx (target >= 1.5; median of per-round ratios %.2fx)\n" \
    "$(echo "$W_ssh_gcm / $W_tunnel" | bc -l)" "$(median <"$D/ratio_gcm")"
printf "ratio tunnel vs ssh default:    %.2fx (target >= 2.4; median of per-round ratios %.2fx)\n" \
    "$(echo "$W_ssh_default / $W_tunnel" | bc -l)" "$(median <"$D/ratio_default")"
printf "ratio tunnel vs plain TCP:      %.2fx\n" "$(echo "$W_tcp / $W_tunnel" | bc -l)"
printf "CPU target: tunnel <= 2.0 CPU s/GiB, both ends (see the first row)\n"
printf "full mutual handshake (TCP connect + TLS 1.3, both certificates verified): median %.2f ms of 21 (target < 20)\n" "$(median <"$D/hs")"
