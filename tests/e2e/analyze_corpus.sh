#!/bin/bash
# analyze_corpus.sh — hand-written rulesets with known answers.
#
# Each tests/analyze/NAME.expected holds blocks:
#   $ ARGS...          arguments to `xenguard analyze` (paths from the repo root)
#   expected output    stdout and stderr, exactly
#   exit N             the exit status
# The answers were worked out by hand from the rules (comments in the
# .rules files say what each case is about), then checked against the tool.
set -u
XG=${XG:-build/xenguard}
cd "${XG_ROOT:-$(dirname "$0")/../..}" || exit 1
. tests/e2e/lib/tap.sh
run_case() {
    local file=$1 args=$2 want=$3 got
    # shellcheck disable=SC2086
    got=$("$XG" analyze $args 2>&1; echo "exit $?")
    if [ "$got" == "$want" ]; then
        ok "$(basename "$file" .expected): analyze $args"
    else
        not_ok "$(basename "$file" .expected): analyze $args" \
            "$(diff <(echo "$want") <(echo "$got") | head -20)"
    fi
}
for f in tests/analyze/*.expected; do
    args="" want="" have=0
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ "$line" == '$ '* ]]; then
            [ "$have" = 1 ] && run_case "$f" "$args" "$want"
            args=${line#\$ } want="" have=1
        else
            if [ -z "$want" ]; then want=$line; else want+=$'\n'"$line"; fi
        fi
    done <"$f"
    [ "$have" = 1 ] && run_case "$f" "$args" "$want"
done
done_testing
