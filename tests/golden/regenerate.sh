#!/bin/sh
# Regenerate the golden rulesets from the example policies. Review the diff
# (git diff tests/golden) before committing: it is the firewall that changed.
set -e
cd "$(dirname "$0")/../.."
XG=${XG:-build/xenguard}
for f in isolated-management firewalled-subnet untrusted bridged-dom0; do
    "$XG" firewall -c "examples/$f.conf" >"tests/golden/$f.nft"
    "$XG" firewall -c "examples/$f.conf" --format iptables >"tests/golden/$f.iptables"
    "$XG" firewall -c "examples/$f.conf" --format ip6tables >"tests/golden/$f.ip6tables"
done
