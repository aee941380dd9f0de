#!/bin/bash
# Install and discover: make install (of the binary as built: -o, no relink) into a private tree (units whose paths
# follow PREFIX, man pages for every verb, bash completion), make uninstall
# leaves nothing; the completion as bash runs it (COMP_WORDS / COMP_CWORD);
# `firewall -v | nft -c -f -` in a throwaway network namespace.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NS="xgin$$"
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require make ip nft man systemd-analyze
W=$(mktemp -d)
cleanup() { local rc=$?; ip netns del "$NS" 2>/dev/null; rm -rf "$W"; exit $rc; }
trap cleanup EXIT
BUILD=$(dirname "$XG")
verbs=$("$XG" --help | sed -nE 's/^  ([a-z][a-z-]*)  .*/\1/p')
check "xenguard --help lists verbs" [ "$(echo "$verbs" | wc -l)" -ge 10 ]

# --- completion ---------------------------------------------------------------------
complete_at() { # the completions of the words given, the last one being completed
    PATH="$(cd "$BUILD" && pwd):$PATH" bash -c '
        source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _xenguard
        printf "%s\n" "${COMPREPLY[@]}"' "$XG_ROOT/completion/xenguard.bash" "$@"; }
is "$(complete_at xenguard au)" audit "xenguard au<TAB> completes to audit"
is "$(complete_at xenguard tunnel | tr '\n' ' ')" "tunnel tunneld tunnel-keys " "xenguard tunnel<TAB>: the three tunnel verbs"
is "$(complete_at xenguard '' | grep -vc -- '^--')" "$(echo "$verbs" | wc -l)" "every verb of --help is offered"
check "audit --f offers --format and --fail-on" bash -c '[ "$(echo $1)" = "--fail-on --format" ]' _ "$(complete_at xenguard audit --f)"
is "$(complete_at xenguard audit --format '' | tr '\n' ' ')" "text json junit " "audit --format values"
is "$(complete_at xenguard audit --skip XG-SSH-00 | wc -l)" 4 "audit --skip offers the check IDs of audit --list"
check "audit --skip offers only IDs audit --list has" bash -c '
    for id in $1; do "$2" audit --list | grep -q "^$id " || exit 1; done' _ "$(complete_at xenguard audit --skip XG-)" "$XG"
mkdir -p "$W/dir/sub" && touch "$W/dir/policy.conf"
is "$(complete_at xenguard audit --config "$W/dir/po")" "$W/dir/policy.conf" "a FILE value completes as a path"
is "$(complete_at xenguard audit -c "$W/dir/po")" "$W/dir/policy.conf" "so does the short option's"
is "$(complete_at xenguard apply --state-dir "$W/dir/s")" "$W/dir/sub" "a DIR value completes as a directory"
is "$(complete_at xenguard harden s | tr '\n' ' ')" "sshd sysctl " "harden's targets"
for v in $verbs; do # the options its --help lists at the start of a line, all offered
    opts=$(complete_at xenguard "$v" -- | tr '\n' ' ')
    listed=$("$XG" "$v" --help | sed -nE 's/^ +(-[A-Za-z], )?(--[a-z][a-z0-9-]*).*/\2/p' | sort -u)
    check "completion offers the options of $v --help" bash -c '
        for o in $2; do [[ " $1" == *" $o "* ]] || exit 1; done' _ "$opts" "$listed"
done

# --- a man page for every verb -----------------------------------------------------
for v in $verbs; do
    check "doc/xenguard-$v.8 exists" test -s "$XG_ROOT/doc/xenguard-$v.8"
done

# --- make install / uninstall into a private tree -------------------------------------
D="$W/dest"
make -s -C "$XG_ROOT" -o "$BUILD/xenguard" install BUILD="$BUILD" DESTDIR="$D" PREFIX=/opt/xg STATEDIR=/opt/xg/state >"$W/install.log" 2>&1
check "make install DESTDIR=... PREFIX=/opt/xg exits 0" [ $? = 0 ]
U="$D/opt/xg/lib/systemd/system"
check "the binary is in PREFIX/sbin" test -x "$D/opt/xg/sbin/xenguard"
check "the bash completion is in PREFIX/share/bash-completion/completions" cmp "$D/opt/xg/share/bash-completion/completions/xenguard" "$XG_ROOT/completion/xenguard.bash"
check "the units' ExecStart follow PREFIX" bash -c "grep -h '^ExecStart=' '$U'/*.service | grep -v '^ExecStart=/opt/xg/' | grep -q . && exit 1;
    [ \$(grep -l '^ExecStart=/opt/xg/' '$U'/*.service | wc -l) = 3 ]"
check "no @PLACEHOLDER@ is left in the installed text files (units, scripts, pages)" bash -c "! grep -rlIE '@[A-Z]+@' '$D'"
check "xenguard-audit.timer is installed" test -s "$U/xenguard-audit.timer"
check "the scheduled-audit script is executable, in PREFIX/libexec" test -x "$D/opt/xg/libexec/xenguard/xenguard-scheduled-audit"
for v in $verbs; do
    check "man xenguard-$v finds a page that names it" bash -c \
        "MANPATH='$D/opt/xg/share/man' man -P cat xenguard-$v 2>/dev/null | grep -q 'xenguard.$v\|xenguard $v'"
done
make -s -C "$XG_ROOT" -o "$BUILD/xenguard" uninstall BUILD="$BUILD" DESTDIR="$D" PREFIX=/opt/xg STATEDIR=/opt/xg/state >"$W/uninstall.log" 2>&1
check "make uninstall exits 0" [ $? = 0 ]
is "$(find "$D" -mindepth 1 | sed "s|^$D||" | tr '\n' ' ')" "/opt /opt/xg " "uninstall removes every file and directory install made"

# the units as installed, checked by systemd itself (real paths: PREFIX inside $W)
make -s -C "$XG_ROOT" -o "$BUILD/xenguard" install BUILD="$BUILD" PREFIX="$W/p" STATEDIR="$W/p/state" >"$W/install2.log" 2>&1
check "systemd-analyze verify accepts the installed units" bash -c \
    "MANPATH='$W/p/share/man' systemd-analyze verify '$W/p/lib/systemd/system/'*.service '$W/p/lib/systemd/system/'*.timer"
check "the timer: daily, persistent, randomized" bash -c "grep -qx 'OnCalendar=daily' '$W/p/lib/systemd/system/xenguard-audit.timer' &&
    grep -qx 'Persistent=true' '$W/p/lib/systemd/system/xenguard-audit.timer' && grep -q '^RandomizedDelaySec=' '$W/p/lib/systemd/system/xenguard-audit.timer'"

# --- firewall -v | nft -f - ------------------------------------------------------------------
ip netns add "$NS" || bail_out "ip netns add $NS"
for ex in isolated-management firewalled-subnet untrusted; do
    "$XG" firewall -c "$XG_ROOT/examples/$ex.conf" -v 2>"$W/v.err" | ip netns exec "$NS" nft -c -f -
    check "firewall -v | nft -c -f - accepts $ex" [ "${PIPESTATUS[0]}${PIPESTATUS[1]}" = 00 ]
    check "and -v's policy echo went to stderr" grep -q "as xenguard understands it" "$W/v.err"
done
check "the ruleset on stdout is the same with and without -v" bash -c \
    "[ \"\$('$XG' firewall -c '$XG_ROOT/examples/untrusted.conf' -v 2>/dev/null)\" = \"\$('$XG' firewall -c '$XG_ROOT/examples/untrusted.conf')\" ]"
"$XG" firewall -c "$XG_ROOT/examples/untrusted.conf" -v 2>/dev/null | ip netns exec "$NS" nft -f -
check "and it loads (in the namespace)" ip netns exec "$NS" nft list table inet xenguard
out=$("$XG" firewall -c "$XG_ROOT/examples/untrusted.conf" --check -v 2>&1 >/dev/null)
check "--check -v: the canonical policy alone, on stderr" bash -c "echo \"\$1\" | grep -q '^\[host\]'" _ "$out"
done_testing
