#!/bin/bash
# tests/xen/build-image.sh — build what tests/xen/boot.sh boots: Debian 12's
# own Xen 4.17 hypervisor, Debian's 6.1 kernel as a PV Dom0, and a Dom0
# initramfs holding the Xen userspace, nft, iptables-nft and the freshly
# built (non-ASan) xenguard.
#
# The recipe is /work/shared/xen-in-qemu.md (doc/xen-in-qemu.md explains how
# to use it). Nothing is installed on the host but the tools listed in
# HOST_DEPS: the Debian packages for the guest are fetched with
# `apt-get download` and unpacked, never installed.
#
# Two layers, so a second run neither downloads nor unpacks anything:
#   base    build/xen/base-KEY/: xen, vmlinux, base.cpio.gz (Xen tools,
#           kernel modules, nft, iptables, busybox, a tiny PV guest).
#           KEY hashes the exact package versions and this script, so a new
#           Debian point release or a change here builds a new base; the
#           .debs stay in build/xen/debs/.
#   overlay rebuilt on every run (< 1 s): /init, dom0-checks.sh, the
#           example policies and build/xenguard with the libraries it links.
# The kernel unpacks concatenated cpio archives in order, so dom0.cpio.gz is
# simply base.cpio.gz followed by overlay.cpio.gz.
#
# Usage: tests/xen/build-image.sh            (root; network to a Debian mirror
#                                             the first time only)
# Env:   XG_BIN   xenguard to put in Dom0 (default build/xenguard)
#        XG_XEN_DIR  cache and output directory (default build/xen)
# Output: $XG_XEN_DIR/current -> base-KEY, $XG_XEN_DIR/dom0.cpio.gz
set -eEuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${XG_XEN_DIR:-$ROOT/build/xen}
XG_BIN=${XG_BIN:-$ROOT/build/xenguard}
ARCH_LIB=usr/lib/x86_64-linux-gnu

HOST_DEPS="qemu-system-x86 cpio xz-utils kmod gzip"

# What goes into Dom0, fetched from the Debian mirror. The kernel is whatever
# linux-image-amd64 points at. Libraries not listed here (libc, libssl, ...)
# are copied from the host, which is Debian 12 as well.
XEN_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
  libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
  libxenhypfs1 libxenmisc4.17 libxenstore4 libxentoolcore1 libxentoollog1 libyajl2"
USER_PKGS="busybox-static nftables libnftables1 libnftnl11 libmnl0 libjansson4 libxtables12
  libgmp10 libedit2 iptables libip4tc2 libip6tc2 libnetfilter-conntrack3 libnfnetlink0
  kmod libkmod2 iproute2 procps libproc2-0 bash"

# Kernel modules a Dom0 needs (Debian builds them as =m); netfilter comes as
# whole directories so that nft and iptables-nft can autoload what they use.
XEN_MODS="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback xen-netback"
NET_MODS="inet_diag tcp_diag udp_diag raw_diag unix_diag dummy veth crc32c_generic"
NF_DIRS="kernel/net/netfilter kernel/net/ipv4/netfilter kernel/net/ipv6/netfilter kernel/net/bridge"

say() { echo "build-image: $*" >&2; }
die() {
    echo "build-image: error: $*" >&2
    exit 1
}

trap 'die "line $LINENO: \"$BASH_COMMAND\" failed"' ERR

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, and the initramfs holds root-owned files)"
[ -x "$XG_BIN" ] || die "$XG_BIN not found: run 'make' first"
if ldd "$XG_BIN" 2>/dev/null | grep -q libasan; then
    die "$XG_BIN is an ASan build; Dom0 needs the plain one ('make', not 'make SAN=1')"
fi

"$ROOT/scripts/ensure-deps" $HOST_DEPS || die "cannot install the host tools: $HOST_DEPS"

# ---- package versions (from the local apt lists: no network) ------------------

resolve_versions() { # pkg=candidate-version lines, one apt-cache call (it is slow to start)
    local kpkg out n
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    [ -n "$kpkg" ] || return 1
    out=$(apt-cache policy $XEN_PKGS $USER_PKGS "$kpkg" 2>/dev/null |
        awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) } /Candidate:/ && $2 != "(none)" { print p "=" $2 }')
    n=$(echo $XEN_PKGS $USER_PKGS "$kpkg" | wc -w)
    [ "$(echo "$out" | grep -c =)" = "$n" ] || return 1
    echo "$out"
}

if ! VERSIONS=$(resolve_versions); then
    say "apt lists do not know every package; running apt-get update"
    apt-get update -qq || die "apt-get update failed: no network to the Debian mirror?"
    VERSIONS=$(resolve_versions) || die "a package is not in the apt lists (is bookworm main configured?)"
fi
set_base() { BASE=$OUT/base-$( (
    echo "$VERSIONS"
    cat "$0" "$HERE/domu-net.sh"
) | sha256sum | cut -c1-12); }
set_base
mkdir -p "$OUT/debs"

# ---- base layer ---------------------------------------------------------------

deb_file() { # pkg=ver -> cached file name (apt-get download writes ':' as %3a)
    local p=${1%%=*} v=${1#*=}
    ls "$OUT/debs/${p}_${v//:/%3a}"_*.deb 2>/dev/null | head -1
}

download() {
    local missing=() pv
    for pv in $VERSIONS; do [ -n "$(deb_file "$pv")" ] || missing+=("$pv"); done
    [ ${#missing[@]} = 0 ] && return 0
    say "downloading ${#missing[@]} packages from the Debian mirror"
    if ! (cd "$OUT/debs" && apt-get download -qq "${missing[@]}" 2>&1 | grep -v unsandboxed >&2); then
        :
    fi
    for pv in "${missing[@]}"; do
        [ -n "$(deb_file "$pv")" ] || return 1
    done
}

# Unpack a .deb into a merged-/usr tree (bin -> usr/bin ...), keeping the links.
unpack() { dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink -C "$2"; }

merged_usr_tree() {
    mkdir -p "$1"/usr/{bin,sbin,lib,lib64}
    for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$1/$d"; done
}

# copy_libs R DEST FILE...: copy into DEST every shared library the ELF
# FILEs need that neither R nor DEST holds yet, resolved against R's own
# libraries first, then the host's.
copy_libs() {
    local R=$1 DEST=$2 f lib dst out
    shift 2
    local lp="$R/$ARCH_LIB:$R/$ARCH_LIB/xtables:$R/usr/lib/xen-4.17/lib"
    for f in "$@"; do
        [ -f "$f" ] && [ "$(head -c 4 "$f" | tr -d '\0')" = $'\x7fELF' ] || continue
        out=$(LD_LIBRARY_PATH=$lp ldd "$f" 2>/dev/null) || continue # static
        case "$out" in *"not found"*) die "$f: $(echo "$out" | grep 'not found' | head -1)" ;; esac
        echo "$out" | awk '/=> \//{print $3}'
    done | sort -u | while read -r lib; do
        case "$lib" in "$R"/*) continue ;; esac
        dst=$(realpath -s "$lib")
        dst=${dst#/}
        dst=usr/${dst#usr/}
        [ -e "$R/$dst" ] || [ -e "$DEST/$dst" ] && continue
        mkdir -p "$DEST/$(dirname "$dst")"
        cp -L "$lib" "$DEST/$dst"
    done
}

build_base() {
    local W=$BASE.tmp R K KVER m f d
    rm -rf "$W"
    mkdir -p "$W"
    R=$W/root K=$W/kernel
    merged_usr_tree "$R"
    mkdir -p "$K"
    for pv in $VERSIONS; do
        f=$(deb_file "$pv")
        case "$pv" in
        linux-image-* | xen-hypervisor-*) unpack "$f" "$K" ;;
        *) unpack "$f" "$R" ;;
        esac
    done
    KVER=$(ls "$K/lib/modules")

    # Xen: Debian ships a gzip'd ELF32 multiboot image; QEMU's -kernel wants it plain.
    zcat "$K"/boot/xen-4.17-amd64.gz >"$W/xen"
    # Hand Xen the raw vmlinux: it would spend 4-7 s of TCG time on the xz bzImage.
    local off
    off=$(LC_ALL=C grep -obUaP -m1 '\xfd7zXZ\x00' "$K/boot/vmlinuz-$KVER" | cut -d: -f1 | head -1 || true)
    if [ -n "$off" ]; then
        tail -c +$((off + 1)) "$K/boot/vmlinuz-$KVER" | xz -dc >"$W/vmlinux" 2>/dev/null || true
    fi
    [ "$(head -c 4 "$W/vmlinux" 2>/dev/null | tr -d '\0')" = $'\x7fELF' ] || cp "$K/boot/vmlinuz-$KVER" "$W/vmlinux"

    # Trim what a Dom0 in RAM never reads.
    rm -rf "${R:?}"/usr/share/{doc,man,info,locale,lintian,bug,bash-completion,zsh} "${R:?}/boot" \
        "$R/usr/lib/python3" "$R/usr/lib/xen-4.17/lib/python" # no python in Dom0

    # Kernel modules: the chosen ones and their dependencies, then depmod.
    local want=() kd="$K/lib/modules/$KVER"
    depmod -b "$K" "$KVER" # the .deb ships no modules.dep: dpkg's trigger makes it
    for m in $XEN_MODS $NET_MODS; do
        f=$(find "$kd" -name "$m.ko*" | head -1)
        [ -n "$f" ] || die "kernel module $m not in $KVER"
        want+=("${f#"$kd"/}")
    done
    for d in $NF_DIRS; do
        while read -r f; do want+=("${f#"$kd"/}"); done < <(find "$kd/$d" -name '*.ko*')
    done
    local closure=()
    mapfile -t closure < <(
        for m in "${want[@]}"; do
            echo "$m"
            awk -v m="$m:" '$1 == m { for (i = 2; i <= NF; i++) print $i }' "$kd/modules.dep"
        done | sort -u
    )
    for m in "${closure[@]}"; do
        mkdir -p "$R/lib/modules/$KVER/$(dirname "$m")"
        cp "$kd/$m" "$R/lib/modules/$KVER/$m"
    done
    cp "$kd"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$KVER/"
    depmod -b "$R" "$KVER"
    # The kernel execs /sbin/modprobe to autoload nf_tables expressions: the
    # kmod package's link makes that kmod (busybox --install keeps existing files).
    [ -L "$R/usr/sbin/modprobe" ] || die "kmod's /sbin/modprobe missing from the image"

    # iptables: Debian makes /usr/sbin/iptables an alternative at install time.
    for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
        ln -sfn xtables-nft-multi "$R/usr/sbin/$t"
    done
    # The Xen tools as Debian installs them: xl etc. in /usr/lib/xen-4.17/bin,
    # reached through /usr/sbin/xl -> the xen-utils-common wrapper. Dom0's
    # PATH also names the directory, as the wrapper needs no more than that.

    # Accounts: root only, locked (dom0-checks.sh plants the login user).
    mkdir -p "$R"/{etc,root,proc,sys,dev,run,tmp,var/lib/xen,var/lib/xenstored,var/log/xen/console}
    ln -sfn ../run "$R/var/run"
    chmod 1777 "$R/tmp"
    cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
    cat >"$R/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
nogroup:x:65534:
EOF
    cat >"$R/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
    chmod 640 "$R/etc/shadow"
    echo "xen-dom0" >"$R/etc/hostname"
    # `ip link add eth0 type dummy` autoloads dummy: without this it adds a dummy0 too.
    echo "options dummy numdummies=0" >"$R/etc/modprobe.d/dummy.conf"
    printf '127.0.0.1 localhost\n::1 localhost\n' >"$R/etc/hosts"

    # Every ELF's libraries; glibc dlopen()s libgcc_s for pthread_cancel (xl create).
    mapfile -t elfs < <(find "$R/usr" -type f \( -perm -u+x -o -name '*.so*' \))
    copy_libs "$R" "$R" "${elfs[@]}"
    cp -L /lib64/ld-linux-x86-64.so.2 "$R/usr/lib64/"
    cp -L "/$ARCH_LIB/libgcc_s.so.1" "$R/$ARCH_LIB/"

    # A tiny PV guest: the same kernel, busybox, and an init that says hello,
    # runs the guest's side of the vif test (tests/xen/domu-net.sh, with the
    # netfront driver) and waits to be destroyed (dom0-checks.sh ends it
    # with `xl destroy`).
    local D=$W/domu
    mkdir -p "$D"/{bin,proc,sys,dev}
    cp "$R/usr/bin/busybox" "$D/bin/"
    f=$(find "$kd" -name 'xen-netfront.ko*' | head -1)
    [ -n "$f" ] || die "kernel module xen-netfront not in $KVER"
    case "$f" in *.xz) xz -dc "$f" >"$D/xen-netfront.ko" ;; *) cp "$f" "$D/xen-netfront.ko" ;; esac
    install -m 0755 "$HERE/domu-net.sh" "$D/net.sh"
    cat >"$D/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox echo "DOMU-HELLO $(/bin/busybox uname -r) caps=$(/bin/busybox cat /proc/xen/capabilities 2>/dev/null)"
/bin/busybox sh /net.sh
while :; do /bin/busybox sleep 3600; done
EOF
    chmod +x "$D/init"
    mkdir -p "$R/boot" "$R/etc/xen"
    (cd "$D" && find . | cpio -o -H newc --quiet | gzip -1) >"$R/boot/domu.cpio.gz"
    cp "$K/boot/vmlinuz-$KVER" "$R/boot/vmlinuz"
    cat >"$R/etc/xen/tiny.cfg" <<'EOF'
# A small unprivileged PV guest for tests/xen/dom0-checks.sh.
name = "tiny"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 rdinit=/init quiet"
memory = 128
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
EOF

    (cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/base.cpio.gz"
    echo "$VERSIONS" >"$W/versions"
    echo "$KVER" >"$W/kver"
    rm -rf "$K" "$D"
    rm -rf "$BASE"
    mv "$W" "$BASE"
    # Older bases are stale (other package versions or another recipe).
    for d in "$OUT"/base-*; do [ "$d" = "$BASE" ] || rm -rf "$d"; done
}

if [ ! -f "$BASE/base.cpio.gz" ] && ! download; then
    # Old apt lists name versions the mirror no longer has: refresh them once.
    say "download failed; running apt-get update and trying again"
    apt-get update -qq || die "apt-get update failed: no network to the Debian mirror?"
    VERSIONS=$(resolve_versions) || die "a package is not in the apt lists"
    set_base
    [ -f "$BASE/base.cpio.gz" ] || download ||
        die "cannot download the Debian packages (no network to the mirror?); wanted: $(echo $VERSIONS)"
fi
if [ ! -f "$BASE/base.cpio.gz" ]; then
    say "building the Dom0 base image in $BASE"
    build_base
else
    say "base image cached: $BASE"
fi
ln -sfn "$(basename "$BASE")" "$OUT/current"

# ---- overlay: rebuilt every run -----------------------------------------------

O=$OUT/overlay
rm -rf "$O"
mkdir -p "$O/usr/sbin" "$O/xg/policies"
cp "$XG_BIN" "$O/usr/sbin/xenguard"
install -m 0755 "$HERE/dom0-init.sh" "$O/init"
install -m 0755 "$HERE/dom0-checks.sh" "$O/xg/dom0-checks.sh"
install -m 0644 "$HERE/guests-table.nft" "$O/xg/guests-table.nft"
# The vif hotplug script where `make install` puts it, beside Xen's own.
mkdir -p "$O/etc/xen/scripts"
install -m 0755 "$ROOT/scripts/vif-xenguard" "$O/etc/xen/scripts/vif-xenguard"
cp "$ROOT"/examples/*.conf "$O/xg/policies/"
# xenguard's libraries that the base lacks (resolved against the base first).
copy_libs "$BASE/root" "$O" "$O/usr/sbin/xenguard"
(cd "$O" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/overlay.cpio.gz"
cat "$BASE/base.cpio.gz" "$OUT/overlay.cpio.gz" >"$OUT/dom0.cpio.gz.tmp"
mv "$OUT/dom0.cpio.gz.tmp" "$OUT/dom0.cpio.gz"
say "ready: $OUT/current/{xen,vmlinux} $OUT/dom0.cpio.gz ($(du -h "$OUT/dom0.cpio.gz" | cut -f1))"
