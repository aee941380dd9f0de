# shellcheck shell=bash
# tap.sh — the one TAP library of tests/e2e/*.sh (sourced, not run).
#
# Every e2e script sources this file and says what it checks with these
# functions, so each prints the same TAP (numbered "ok N - ...", a closing
# plan "1..N") and tests/run counts them all the same way:
#
#   ok DESC                     a passed assertion
#   not_ok DESC [DETAIL...]     a failed one; each DETAIL becomes a "#" line
#   check DESC CMD...           run CMD (stdout and stderr kept aside): ok if it
#                               exits 0, else not ok with its exit status and
#                               the last lines of its output as "#" lines
#   check_fails DESC CMD...     the same, ok when CMD exits non-zero
#   is GOT WANT DESC            ok when the two strings are equal, else says both
#   skip DESC REASON            a counted skip: "ok N - DESC # SKIP REASON"
#   diag TEXT...                "#" lines (comments TAP consumers show)
#   require root|TOOL...        the script's prerequisites, before its first
#                               assertion: when one is missing the script ends
#                               with one failure naming it, or, when
#                               XG_TEST_SKIP_MISSING=1, as a skip ("1..0 # SKIP")
#   tap_pipe CMD...             run CMD, which prints TAP of its own (a helper
#                               in another language): its ok / not ok lines are
#                               renumbered into this script's count, the rest
#                               passes through; a non-zero exit with no failure
#                               reported is a failure
#   bail_out DESC [DETAIL...]   a failure the script cannot go on after: not ok,
#                               the plan, exit 1
#   done_testing                the plan "1..N"; exits 1 when anything failed
#
# check, check_fails and is return 0 / 1 as the assertion went, so a script
# can add evidence: `check "..." cmd || diag "what we saw"`.
# A missing tool is a failure by default, not a skip: a test machine set up
# by `make test-deps` has them all, and a skipped suite must not look green.

TAP_N=0
TAP_FAILED=0
TAP_SKIPPED=0

diag() {
    local l
    for l in "$@"; do
        [ -n "$l" ] || continue
        while IFS= read -r l; do printf '#   %s\n' "$l"; done <<<"$l"
    done
}

ok() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1"
}

not_ok() {
    TAP_N=$((TAP_N + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $1"
    shift
    [ $# = 0 ] || diag "$@"
    return 1
}

skip() {
    TAP_N=$((TAP_N + 1))
    TAP_SKIPPED=$((TAP_SKIPPED + 1))
    echo "ok $TAP_N - $1 # SKIP ${2:-}"
}

# _tap_run WANT DESC CMD...: WANT "zero" or "nonzero" exit status
_tap_run() {
    local want=$1 desc=$2 out rc
    shift 2
    out=$(mktemp "${TMPDIR:-/tmp}/xgtap.XXXXXX") || { not_ok "$desc" "mktemp failed"; return 1; }
    "$@" >"$out" 2>&1
    rc=$?
    if { [ "$want" = zero ] && [ $rc = 0 ]; } || { [ "$want" = nonzero ] && [ $rc != 0 ]; }; then
        rm -f "$out"
        ok "$desc"
        return 0
    fi
    if [ "$want" = zero ]; then
        not_ok "$desc" "exit $rc: $*" "$(tail -n 20 "$out")"
    else
        not_ok "$desc" "exit 0, wanted a failure: $*" "$(tail -n 20 "$out")"
    fi
    rm -f "$out"
    return 1
}

check() { _tap_run zero "$@"; }
check_fails() { _tap_run nonzero "$@"; }

is() {
    if [ "$1" = "$2" ]; then
        ok "$3"
    else
        not_ok "$3" "expected: $2" "     got: $1"
    fi
}

bail_out() {
    not_ok "$@"
    echo "1..$TAP_N"
    exit 1
}

done_testing() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" = 0 ] || echo "# $TAP_FAILED of $TAP_N failed"
    [ "$TAP_SKIPPED" = 0 ] || echo "# $TAP_SKIPPED skipped"
    exit $((TAP_FAILED > 0))
}

require() {
    local what missing=()
    for what in "$@"; do
        if [ "$what" = root ]; then
            [ "$(id -u)" = 0 ] || missing+=("root")
        elif ! command -v "$what" >/dev/null 2>&1; then
            missing+=("$what")
        fi
    done
    [ ${#missing[@]} = 0 ] && return 0
    if [ "${XG_TEST_SKIP_MISSING:-0}" = 1 ] && [ "$TAP_N" = 0 ]; then
        echo "1..0 # SKIP $(basename "$0") needs ${missing[*]}"
        exit 0
    fi
    bail_out "prerequisites of $(basename "$0"): missing ${missing[*]}" \
        "(XG_TEST_SKIP_MISSING=1 turns this into a skip of the whole script)"
}

tap_pipe() {
    local line rc reported=$TAP_FAILED re='^(not ok|ok)( [0-9]+)?( -)? ?(.*)$'
    while IFS= read -r line; do
        if [[ "$line" =~ $re ]]; then
            local what=${BASH_REMATCH[1]} desc=${BASH_REMATCH[4]}
            if [ "$what" = ok ]; then
                TAP_N=$((TAP_N + 1))
                [[ "$desc" == *"# SKIP"* ]] && TAP_SKIPPED=$((TAP_SKIPPED + 1))
                echo "ok $TAP_N - $desc"
            else
                not_ok "$desc"
            fi
        elif [[ "$line" =~ ^1\.\.[0-9]+ ]]; then
            : # its own plan: ours counts its lines
        else
            printf '%s\n' "$line"
        fi
    done < <("$@")
    wait $! 2>/dev/null
    rc=$?
    if [ $rc != 0 ] && [ "$TAP_FAILED" = "$reported" ]; then
        not_ok "$* exited $rc"
    fi
    return $((rc != 0))
}
