#!/bin/bash
# audit_versions.sh — where the audit's defaults come from on a live host: sshd's own effective
# configuration (`sshd -T`, which needs root and sshd's privilege-separation directory: given
# here in a private mount namespace, so the machine's /run is untouched) or, when it cannot run,
# the parsed files; the OpenSSH version from `sshd -V`; the distribution from /etc/os-release;
# and the same taken from a capture offline.
set -u
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root python3 sshd unshare
T=$(mktemp -d /tmp/xg-versions.XXXXXX)
trap 'rm -rf "$T"' EXIT
field() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(d["host"]["versions"][sys.argv[2]] or "")' "$1" "$2"; }
evidence() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
c=next(c for c in d["checks"] if c["id"]==sys.argv[2])
print(c["status"]); print("\n".join(c["evidence"]))' "$1" "$2"; }
# with_sshd CMD...: CMD where sshd -T can run (a private /run holding /run/sshd)
with_sshd() { unshare -m sh -c 'mount -t tmpfs xg-run /run && mkdir -m 0755 /run/sshd && exec "$@"' sh "$@"; }

with_sshd /usr/sbin/sshd -T >/dev/null 2>&1 || bail_out "sshd -T does not run even with /run/sshd"
with_sshd "$XG" audit --format json >"$T/t.json"
is "$(field "$T/t.json" sshd_source)" "sshd -T -C user=root,host=,addr=" \
    "live as root with sshd runnable: sshd's settings come from sshd -T"
want=$(with_sshd /usr/sbin/sshd -T -C user=root,host=,addr= | awk '$1=="permitrootlogin"{print $2}')
check "XG-SSH-001 judges sshd -T's own permitrootlogin ($want)" \
    bash -c "grep -q 'PermitRootLogin $want (sshd -T' '$T/t.json'"
check "the OpenSSH version is sshd's (sshd -V)" test "$(field "$T/t.json" openssh_source)" = "sshd -V"
ver=$(ssh -V 2>&1 | sed -n 's/^OpenSSH_\([0-9.]*\).*/\1/p')
check "... and agrees with ssh -V ($ver)" bash -c "case '$(field "$T/t.json" openssh)' in $ver*) exit 0;; esac; exit 1"
. /etc/os-release
is "$(field "$T/t.json" os_id)" "$ID" "the distribution from /etc/os-release"

# sshd -T cannot run (a private, empty /run: no /run/sshd): the parsed files, and the report says so
unshare -m sh -c 'mount -t tmpfs xg-run /run && exec "$@"' sh "$XG" audit --format json >"$T/p.json"
check "without /run/sshd: the parsed files" \
    bash -c "grep -q '\"sshd_source\": \"/etc/ssh/sshd_config and its Includes (parsed)\"' '$T/p.json'"
check "... and PermitRootLogin's default by the version (OpenSSH >= 7.0: prohibit-password)" \
    bash -c "grep -q 'PermitRootLogin prohibit-password (not set; OpenSSH' '$T/p.json' || grep -q 'PermitRootLogin [a-z-]* (/etc/ssh/' '$T/p.json'"
# a capture keeps both, and the offline audit uses them
with_sshd "$XG" capture "$T/cap" >/dev/null
check "capture saved sshd -T" grep -q '^permitrootlogin ' "$T/cap/xenguard/sshd-T.txt"
check "capture saved sshd -V" grep -q 'OpenSSH_' "$T/cap/xenguard/sshd-version.txt"
check "capture saved /etc/os-release" test -s "$T/cap/etc/os-release"
"$XG" audit --root "$T/cap" --format json >"$T/off.json"
is "$(field "$T/off.json" sshd_source)" "/xenguard/sshd-T.txt" "offline: sshd's settings from the captured sshd -T"
is "$(evidence "$T/off.json" XG-SSH-001 | sed -n 1p)" "$(evidence "$T/t.json" XG-SSH-001 | sed -n 1p)" \
    "offline XG-SSH-001 agrees with the live one"
check "... on sshd -T's value ($want)" grep -q "PermitRootLogin $want (/xenguard/sshd-T.txt)" "$T/off.json"
rm "$T/cap/xenguard/sshd-T.txt"
"$XG" audit --root "$T/cap" --format json >"$T/off2.json"
check "offline without sshd-T.txt: the parsed files" \
    bash -c "grep -q '\"sshd_source\": \"/etc/ssh/sshd_config and its Includes (parsed)\"' '$T/off2.json'"
done_testing
