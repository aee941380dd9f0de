#!/bin/bash
# capture_secrets.sh — a capture holds no secret, and is judged as the original.
#
# tests/roots/build.py secrets-dom0 writes a Dom0 full of secrets (sha512crypt and yescrypt
# hashes, a locked hash, an empty password, console passwords in xl configs, xend-config.sxp
# and `xl list -l`, XAPI's state.db with sessions and a pool secret, private keys under
# /etc/xen, /etc/xensource, /etc/xenguard/tunnel, an ssh host key). `xenguard capture --root`
# captures it; then: no secret anywhere in the capture, the audit of the capture gives every
# check the verdict the audit of the root gives, and xenguard/redacted.txt names what was done.
# The live path is captured too, inside a private mount namespace where /etc and /var are the
# fixture's (the host's own files are never touched).
set -u
. "$XG_ROOT/tests/e2e/lib/tap.sh"
require root python3 unshare
T=$(mktemp -d /run/xenguard-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
R="$T/root"
check "the secrets root builds" python3 "$XG_ROOT/tests/roots/build.py" secrets-dom0 "$R"
# the secrets, as build.py wrote them (each one unique text)
secrets=$(python3 - "$XG_ROOT/tests/roots" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import build
for s in (build.VNC_XL, build.VNC_VFB, build.SPICE_XL, build.VNC_XEND, build.VNC_LIST,
          build.VNC_TDB, build.XAPI_SESSION, build.XAPI_POOL):
    print(s)
PY
)
[ -n "$secrets" ] || bail_out "no secrets read from build.py"
# ... and what gives a hash or key away: crypt ids, the salts, PEM key headers, XAPI refs
secrets="$secrets
\$6\$
\$y\$
rootSALT
adminSALT
lockSALT
grpSALT
PRIVATE KEY
MIIEowIBAAKCAQEAx9
OpaqueRef"
check "the root does hold them (the test would catch a leak)" \
    bash -c 'while IFS= read -r s; do grep -rqF -- "$s" "$1" || { echo "missing: $s"; exit 1; }; done <<<"$2"' _ "$R" "$secrets"

no_secret() { # DIR: every secret absent from every file (and link target) of DIR
    local found=0 s
    [ -s "$1/etc/shadow" ] || { echo "$1: no capture there"; return 1; }
    while IFS= read -r s; do
        if grep -rlF -- "$s" "$1"; then
            echo "found: $s"
            found=1
        fi
    done <<<"$secrets"
    return $found
}
verdicts() { # JSON: "ID STATUS" per check
    python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["checks"]:
    print(c["id"], c["status"])' "$1"
}
same_verdicts() { # ROOT CAPTURE NAME
    "$XG" audit --root "$1" --format json >"$T/$3.orig.json"
    "$XG" audit --root "$2" --format json >"$T/$3.cap.json"
    diff <(verdicts "$T/$3.orig.json") <(verdicts "$T/$3.cap.json") >"$T/$3.diff"
    local rc=$?
    [ "$(verdicts "$T/$3.orig.json" | wc -l)" -gt 30 ] || { echo "too few checks"; return 1; }
    cat "$T/$3.diff"
    return $rc
}

"$XG" capture --root "$R" "$T/cap" >"$T/out"; rc=$?
is "$rc" 0 "capture --root exits 0"
check "capture names the manifest" grep -q 'redacted (see .*/xenguard/redacted.txt)' "$T/out"
check "no secret anywhere in the capture" no_secret "$T/cap"
check "the audit of the capture gives every check the original's verdict" \
    same_verdicts "$R" "$T/cap" root
# the verdicts the secrets decide, on both sides (so "the same" is not "all n/a")
for want in "XG-USR-002 fail" "XG-XEND-007 pass" "XG-XL-002 fail" "XG-XAPI-001 pass"; do
    check "capture: $want" grep -qx -- "$want" <(verdicts "$T/root.cap.json")
done
check "shadow: every state kept (usable, locked, empty), no hash" \
    grep -qx 'root:<usable>:19700:0:99999:7:::' "$T/cap/etc/shadow"
check "shadow: a locked hash is locked" grep -qx 'olduser:!<locked>:19700:0:99999:7:::' "$T/cap/etc/shadow"
check "shadow: the empty password stays empty" grep -qx 'kiosk::19700:0:99999:7:::' "$T/cap/etc/shadow"
check "xl config: vncpasswd is <set>" grep -qx 'vncpasswd = "<set>"' "$T/cap/etc/xen/hvm1.cfg"
check "xl config: vfb vncpasswd= is <set>" grep -q "vncpasswd=<set>'" "$T/cap/etc/xen/pv1.cfg"
check "xl config: an unset vfb vncpasswd stays unset" grep -q "vncpasswd=' ]" "$T/cap/etc/xen/pv2.cfg"
check "xend-config.sxp: (vncpasswd '<set>')" grep -qx "(vncpasswd '<set>')" "$T/cap/etc/xen/xend-config.sxp"
check "state.db: only the host table's uuid and https_only" python3 - "$T/cap/var/lib/xcp/state.db" <<'PY'
import sys, xml.etree.ElementTree as ET
db = ET.parse(sys.argv[1]).getroot()
tables = [t.get("name") for t in db]
rows = [dict(r.attrib) for t in db for r in t]
print(tables, rows)
sys.exit(0 if tables == ["host"] and rows == [{"uuid": "3f2e1d0c-b9a8-4765-8432-10fedcba9876",
                                               "https_only": "true"}] else 1)
PY
check "private key: an empty placeholder, mode kept" \
    test "$(stat -c '%s %a' "$T/cap/etc/xen/xmlrpc.key")" = "0 600"
check "xenstored's database: an empty placeholder, mode kept" \
    test "$(stat -c '%s %a' "$T/cap/var/run/xenstored/tdb")" = "0 640"
check "a certificate is kept" grep -q 'BEGIN CERTIFICATE' "$T/cap/etc/xen/xmlrpc.crt"
check "/etc/xensource: the directory without its files" \
    bash -c 'test -d "$1" && test -z "$(ls -A "$1")"' _ "$T/cap/etc/xensource"
check "/etc/xenguard is not captured" test ! -e "$T/cap/etc/xenguard"
check "no ssh host key is captured" test ! -e "$T/cap/etc/ssh/ssh_host_ed25519_key"
for what in "/etc/shadow: 3 password fields" "/etc/group: 1 password field" \
    "/etc/xen/hvm1.cfg: 3 password values" "/etc/xen/pv1.cfg: 1 password value" \
    "/etc/xen/xend-config.sxp: 1 password value" "/etc/xen/xmlrpc.key: private key left out" \
    "/etc/xen/auth/guest-keys.pem: private key left out" \
    "/etc/xensource: contents left out (2 entries: ptoken xapi-ssl.pem)" \
    "/var/lib/xcp/state.db: reduced to the host rows' uuid and https_only" \
    "/xenguard/xl-list.json: 2 console passwords" \
    "/var/run/xenstored/tdb: contents left out"; do
    check "redacted.txt: $what" grep -qF -- "$what" "$T/cap/xenguard/redacted.txt"
done
check_fails "redacted.txt names no file that was not redacted" \
    grep -E '^/etc/(passwd|xen/pv2.cfg|xen/xl.conf|ssh)' "$T/cap/xenguard/redacted.txt"

# a capture of the capture: nothing more to redact, the same verdicts
"$XG" capture -q --root "$T/cap" "$T/cap2" >"$T/out2"; rc=$?
is "$rc $(wc -c <"$T/out2")" "0 0" "capture -q: exit 0, prints nothing"
check "a capture of a capture has the same shadow" cmp "$T/cap/etc/shadow" "$T/cap2/etc/shadow"
check "a capture of a capture: same verdicts" same_verdicts "$T/cap" "$T/cap2" recap
check "-v names each redaction on stderr" \
    bash -c '"$1" capture -v --root "$2" "$3" 2>&1 >/dev/null | grep -q "^xenguard capture: /etc/shadow: 3 password"' \
    _ "$XG" "$R" "$T/cap3"

# the live path: the same root seen as the host's /etc and /var, in a private mount namespace
live() {
    unshare -m --propagation private bash -c \
        'mount --bind "$1/etc" /etc && mount --bind "$1/var" /var && exec "$2" capture "$3"' \
        _ "$R" "$XG" "$T/live"
}
check "live capture (private mount namespace over the secrets root) runs" live
check "live capture: no secret anywhere" no_secret "$T/live"
check "live capture: shadow holds states only" \
    bash -c 'diff <(cut -d: -f1,2 "$1/etc/shadow") <(cut -d: -f1,2 "$2/etc/shadow")' _ "$T/cap" "$T/live"
check "live capture: the redaction manifest" grep -qF "/var/lib/xcp/state.db: reduced" "$T/live/xenguard/redacted.txt"

# usage
"$XG" capture >/dev/null 2>&1; is $? 2 "capture without CAPTURE: usage error"
"$XG" capture -q -v "$T/x" >/dev/null 2>&1; is $? 2 "capture -q -v: usage error"
"$XG" capture --root "$T/nonexistent" "$T/y" >/dev/null 2>"$T/e"; is $? 1 "capture --root of a missing root: exit 1"
check "... with the reason" grep -q 'nonexistent' "$T/e"
check "capture --help says what is redacted" grep -q 'password hashes become' <("$XG" capture --help)
done_testing
