#!/bin/sh
# test-docs.sh: the documentation a user reads is there and complete: the
# man pages' sections, every command-line option in virtmcd(8), the README's
# quick start, every route of the daemon in docs/API.md, the units install.
. "$(dirname "$0")/functions.sh"

man8="$abs_srcdir/man/virtmcd.8"
man5="$abs_srcdir/man/virtmcd.conf.5"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS FILES ENVIRONMENT "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    check "virtmcd.8 has section $s" grep -q "^\.SH \"\{0,1\}$s\"\{0,1\}" "$man8"
done
for o in config listen uri verbose test-config version help; do
    check "virtmcd.8 documents --$o" grep -q -- "-\{1,2\}$o" "$man8"
done
for m in "$man8" "$man5"; do
    if command -v groff >/dev/null 2>&1; then
        out=$(groff -man -ww -z "$m" 2>&1)
        check "$(basename "$m") renders without warnings" [ -z "$out" ]
    fi
done
readme="$abs_srcdir/README.md"
check "README has a Quick start" grep -qi "^## Quick start" "$readme"
check "README's quick start runs the demo" grep -q "scripts/demo.sh" "$readme"
check "README's quick start runs the tests" grep -q "scripts/test.sh" "$readme"
check ".ci/run runs the README's test command" grep -q "scripts/test.sh" "$abs_srcdir/.ci/run"
api="$abs_srcdir/docs/API.md"
for p in "/service/machines" "state_controller/status" "state_controller/<action>" "/boot" \
    "/backups" "/restore" "/metadata" "/addresses" "addresses=1" "/service/health" "/service/version" \
    "/service/hosts" "/service/map" "/api/v1/vmap" pxeboot diskboot cdromboot \
    defaultboot power_on power_off soft_off power_cycle force_reset reboot force_off nmi cyclepower \
    "/redfish/v1/Systems" "ComputerSystem.Reset" "BootSourceOverrideEnabled" "If-Match" \
    "/redfish/v1/Managers" "/redfish/v1/Chassis" EthernetInterfaces Processors SimpleStorage \
    "/service/pools" "/service/pools/<pool>" "/service/pools/<pool>/checkout" \
    "/service/pools/checkout" "/lease" "/service/status"; do
    check "docs/API.md documents $p" grep -qF -- "$p" "$api"
done
check "demo node parses in libvirt's test driver" \
    sh -c 'virsh -c "test://$1/data/demo-node.xml" list --all >/dev/null 2>&1' _ "$abs_srcdir"
finish
