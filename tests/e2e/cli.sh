#!/bin/bash
# Every verb's --help, man page and bash completion agree (issue 18).
#
# For every verb `xenguard --help` lists:
#   - `xenguard VERB --help` exits 0;
#   - every long option its help lists (the "  -c, --config FILE" lines) is
#     an item of its man page (doc/xenguard-VERB.8, or the page its `.so`
#     line includes; an item in any section, as analyze's INPUTS and
#     QUERIES), and every item of the page's OPTIONS section is in the help
#     of a verb documented on that page: neither can drift alone;
#   - its short letters are the ones xenguard(8) writes out (one letter, one
#     meaning);
#   - an unknown option exits 2 with one line and the hint, nothing on stdout;
#   - bash completion offers every option of its help.
# And the completion completes `au` to audit, `audit --form` to --format,
# `apply --ti` to --timeout. -h/--help itself is documented once, in
# xenguard(8), and so is not required of each page.
#
# Man page items are the lines after `.TP`; the OPTIONS sections are those
# whose title ends in OPTIONS (xenguard(8): FIREWALL OPTIONS); options are
# written `\-\-name` (or `\fB\-\-name\fR`, `--name`).
# Read-only: runs the binary with --help and bad options only.
set -u
XG=${XG:-build/xenguard}
XG_ROOT=${XG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require bash sed awk grep
DOC="$XG_ROOT/doc"
BIN=$(cd "$(dirname "$XG")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

verbs=$("$XG" --help | sed -nE 's/^  ([a-z][a-z-]*)  .*/\1/p')
check "xenguard --help lists the verbs" [ "$(echo "$verbs" | wc -l)" -ge 10 ]

# help_options VERB: the long options its help lists, one per line
help_options() {
    "$XG" "$1" --help 2>/dev/null | sed -nE 's/^ +(-[A-Za-z], )?--([a-z][a-z0-9-]*).*/--\2/p' | sort -u
}

# page_of VERB: the man page file that documents it (following one `.so`)
page_of() {
    local f="$DOC/xenguard-$1.8" so
    so=$(sed -nE '1s/^\.so +(man8\/)?//p' "$f" 2>/dev/null)
    [ -n "$so" ] && f="$DOC/$(basename "$so")"
    echo "$f"
}

# page_options FILE [all]: the long options the page lists as items (the line
# after `.TP`) in its OPTIONS sections, or with "all" in any section (INPUTS,
# QUERIES, ...)
page_options() {
    awk -v all="${2:-}" '/^\.SH /{ sect = all != "" || ($0 ~ /OPTIONS"?$/) }
        sect && tag { print } { tag = sect && /^\.TP/ }' "$1" |
        sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# letters VERB: "-c --config" for each short option its help lists
letters() {
    "$XG" "$1" --help 2>/dev/null | sed -nE 's/^ +-([A-Za-z]), --([a-z][a-z0-9-]*).*/-\1 --\2/p'
}
# the letter table of xenguard(8), as "-c --config" lines
sed -n '/^\.SH OPTIONS COMMON TO ALL VERBS/,/^\.SH /p' "$DOC/xenguard.8" |
    sed -nE 's/\\-/-/g; s/^(-[A-Za-z])\t(--[a-z][a-z0-9-]*)$/\1 \2/p' >"$W/letters"
check "xenguard(8) has the table of short letters" [ "$(wc -l <"$W/letters")" -ge 10 ]
check "xenguard(8) says -h/--help works on every verb" grep -q '^\.BR \\-h ", " \\-\\-help' "$DOC/xenguard.8"

# pages: which verbs each man page documents (for the page -> help direction)
declare -A page_verbs
for v in $verbs; do
    p=$(page_of "$v")
    page_verbs[$p]="${page_verbs[$p]:-} $v"
done

complete_at() { # the completions of the words given, the last one being completed
    PATH="$BIN:$PATH" bash -c '
        source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _xenguard
        printf "%s\n" "${COMPREPLY[@]}"' "$XG_ROOT/completion/xenguard.bash" "$@"
}

for v in $verbs; do
    check "xenguard $v --help exits 0" "$XG" "$v" --help
    page=$(page_of "$v")
    if ! check "xenguard $v has a man page ($(basename "$page"))" test -s "$page"; then
        continue
    fi
    help_options "$v" | grep -vx -- --help >"$W/help"
    page_options "$page" all >"$W/page"
    missing=$(comm -23 "$W/help" "$W/page" | tr '\n' ' ')
    is "$missing" "" "every option of xenguard $v --help is an item in $(basename "$page")"

    # letters: each one the help uses means what xenguard(8) says
    wrong=$(letters "$v" | grep -vxFf "$W/letters" | tr '\n' ' ')
    is "$wrong" "" "xenguard $v uses its short letters as xenguard(8) says"

    # an unknown option: exit 2, one line and the hint on stderr, nothing on stdout
    "$XG" "$v" --no-such-option-xg >"$W/out" 2>"$W/err"
    rc=$?
    is "$rc:$(wc -c <"$W/out"):$(wc -l <"$W/err")" "2:0:2" \
        "xenguard $v --no-such-option-xg exits 2 with two lines on stderr, nothing on stdout" ||
        diag "$(head -n 5 "$W/err")"
    is "$(head -n 3 "$W/err")" "xenguard $v: unknown option '--no-such-option-xg'
Try 'xenguard $v --help'." "xenguard $v: the usage error is one line and the hint"

    # completion: every option of the help is offered after "--"
    offered=$(complete_at xenguard "$v" -- | sort -u)
    missing=$(comm -23 "$W/help" <(echo "$offered") | tr '\n' ' ')
    is "$missing" "" "completion offers every option of xenguard $v --help"
done

# page -> help: every option a page lists is taken by a verb it documents
for page in "${!page_verbs[@]}"; do
    [ -s "$page" ] || continue
    : >"$W/union"
    for v in ${page_verbs[$page]}; do help_options "$v" >>"$W/union"; done
    extra=$(page_options "$page" | grep -vxFf "$W/union" | tr '\n' ' ')
    is "$extra" "" "every option item of $(basename "$page") is in the --help of${page_verbs[$page]}"
done

# the letters that changed meaning are gone, the new ones work
usage_error() { # usage_error WANT_FIRST_LINE CMD...: exit 2 and that first line on stderr
    local want=$1 err rc
    shift
    err=$("$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" = 2 ] && [ "$(head -n 1 <<<"$err")" = "$want" ]
}
check "harden -R is no more (-r is --root)" usage_error "xenguard harden: unknown option '-R'" \
    "$XG" harden sysctl -R "$W"
mkdir -p "$W/hroot"
check "harden sysctl -r DIR shows the diff under DIR, writes nothing" bash -c \
    '"$1" harden sysctl -r "$2" | grep -q "^+++ $2/etc/sysctl.d/99-xenguard.conf" && [ ! -e "$2/etc" ]' _ "$XG" "$W/hroot"
check "tunnel-keys -d is no more (-D is --dir)" usage_error "xenguard tunnel-keys: unknown option '-d'" \
    "$XG" tunnel-keys -d "$W/pki" a.test
check "tunnel-keys -D DIR makes the CA in DIR" bash -c \
    '"$1" tunnel-keys -D "$2" a.test >/dev/null && [ -s "$2/ca.pem" ] && [ -s "$2/a.test.pem" ]' _ "$XG" "$W/pki"
check "vif -i is no more (--ip is long-only)" usage_error "xenguard vif: unknown option '-i'" \
    "$XG" vif online vif1.0 -i 192.0.2.10 --mac 00:16:3e:00:00:01
check "vif -m is no more (--mac is long-only)" usage_error "xenguard vif: unknown option '-m'" \
    "$XG" vif online vif1.0 --ip 192.0.2.10 -m 00:16:3e:00:00:01
check "vif: a bad operation is a usage error" usage_error \
    "xenguard vif: 'up': expected online, offline or list" "$XG" vif up vif1.0
check "harden: a missing target is a usage error" usage_error "xenguard harden: missing operand" \
    "$XG" harden
# tunnel: options stop at HOST, what follows is the receive command's
"$XG" tunnel -c /dev/null h1.test --no-such-option-xg >/dev/null 2>"$W/tunnel.err"
rc=$?
check "tunnel: an option after HOST is the receive command's, not a usage error (exit $rc)" \
    bash -c '[ "$1" = 1 ] && ! grep -q "unknown option" "$2"' _ "$rc" "$W/tunnel.err"

is "$(complete_at xenguard au)" audit "completion: xenguard au<TAB> is audit"
is "$(complete_at xenguard audit --form)" --format "completion: xenguard audit --form<TAB> is --format"
is "$(complete_at xenguard apply --ti)" --timeout "completion: xenguard apply --ti<TAB> is --timeout"
is "$(complete_at xenguard firewall --format '' | tr '\n' ' ')" "nft iptables ip6tables bridge " \
    "completion: firewall --format values, from its usage line"
is "$(complete_at xenguard perimeter -f '' | tr '\n' ' ')" "nft iptables ip6tables " \
    "completion: perimeter -f values, from its usage line"
mkdir -p "$W/root/sub" && touch "$W/root/sfile"
is "$(complete_at xenguard harden -r "$W/root/s")" "$W/root/sub" "completion: harden -r DIR completes a directory"
done_testing
