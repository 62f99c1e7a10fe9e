#!/bin/sh
# test-docs.sh: the documentation a user reads is there and complete: the
# man pages' sections, every command-line option in virtmcd(8), every
# command, option and variable of the client in virtmc(1), the README's
# quick start, every route of the daemon in docs/API.md, the units install.
. "$(dirname "$0")/functions.sh"

man8="$abs_srcdir/man/virtmcd.8"
readme="$abs_srcdir/README.md"
man5="$abs_srcdir/man/virtmcd.conf.5"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS FILES ENVIRONMENT "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    check "virtmcd.8 has section $s" grep -q "^\.SH \"\{0,1\}$s\"\{0,1\}" "$man8"
done
for o in config listen uri verbose test-config version help; do
    check "virtmcd.8 documents --$o" grep -q -- "-\{1,2\}$o" "$man8"
done
man1="$abs_srcdir/man/virtmc.1"
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    check "virtmc.1 has section $s" grep -q "^\.SH \"\{0,1\}$s\"\{0,1\}" "$man1"
done
for c in list status power boot backups restore query map hosts meta addresses wait \
    pools checkout lease return; do
    check "virtmc.1 documents the command $c" grep -Eq "^(\\\\fB|\.BI? )$c( |\\\\|\$)" "$man1"
    check "README shows virtmc $c" grep -q "\`$c" "$abs_srcdir/README.md"
done
for o in server user password auth cacert insecure config json help version state host owner tag \
    quiet once restart force timeout lifetime extend; do
    check "virtmc.1 documents --$o" grep -qF -- "\\-\\-$o" "$man1"
done
for e in VIRTMC_URL VIRTMC_USER VIRTMC_PASSWORD VIRTMC_CACERT VIRTMC_CONFIG NO_COLOR \
    .config/virtmc/config; do
    check "virtmc.1 documents $e" grep -qF -- "$e" "$man1"
done
check "README has the client's section" grep -q "^## The command-line client: virtmc" "$readme"
for m in "$man8" "$man5" "$man1"; do
    if command -v groff >/dev/null 2>&1; then
        out=$(groff -man -ww -z "$m" 2>&1)
        check "$(basename "$m") renders without warnings" [ -z "$out" ]
    fi
done
check "README has a Quick start" grep -qi "^## Quick start" "$readme"
check "README's quick start runs the demo" grep -q "scripts/demo.sh" "$readme"
check "README's quick start runs the tests" grep -q "scripts/test.sh" "$readme"
check ".ci/run runs the README's test command" grep -q "scripts/test.sh" "$abs_srcdir/.ci/run"
api="$abs_srcdir/docs/API.md"
for p in "/service/machines" "state_controller/status" "state_controller/<action>" "/boot" \
    "/backups" "/restore" "/metadata" "/addresses" "addresses=1" "/service/health" "/service/version" \
    "/service/hosts" "/service/map" "/api/v1/vmap" "/metrics" "virtmcd_http_requests_total" pxeboot diskboot cdromboot \
    defaultboot power_on power_off soft_off power_cycle force_reset reboot force_off nmi cyclepower \
    "/redfish/v1/Systems" "ComputerSystem.Reset" "BootSourceOverrideEnabled" "If-Match" \
    "/redfish/v1/Managers" "/redfish/v1/Chassis" EthernetInterfaces Processors SimpleStorage \
    "/service/pools" "/service/pools/<pool>" "/service/pools/<pool>/checkout" \
    "/service/pools/checkout" "/lease" "/service/status" "/api/v3/token" "/api/v3/token/<token>" \
    "/api/v3/vm" "/api/v3/vm/<pool>[+<pool>...]" "/api/v3/vm/<hostname>" "/api/v3/status" \
    "/api/v3/summary"; do
    check "docs/API.md documents $p" grep -qF -- "$p" "$api"
done
check "demo node parses in libvirt's test driver" \
    sh -c 'virsh -c "test://$1/data/demo-node.xml" list --all >/dev/null 2>&1' _ "$abs_srcdir"
finish
