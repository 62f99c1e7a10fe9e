#!/bin/sh
# run-fuzz.sh: run every libFuzzer target for a while over a copy of its seed
# corpus; exit non-zero when one crashes, leaks or trips a sanitizer.
#
# Usage: run-fuzz.sh BUILDDIR [TARGET...]
#   BUILDDIR holds the fuzz binaries, either directly or in tests/fuzz/.
#   TARGET defaults to fuzz-route fuzz-bootxml fuzz-json fuzz-conf.
# Environment:
#   FUZZ_SECONDS    seconds per target (default 10)
#   abs_srcdir      source tree with tests/fuzz/corpus (default: this script's)
#   FUZZ_ARTIFACTS  where crash reproducers are kept (default BUILDDIR/tests/fuzz/artifacts)
#
# A reproducer is replayed with:  BUILDDIR/tests/fuzz/fuzz-NAME FILE
# and belongs in tests/fuzz/corpus/fuzz-NAME/ once the bug is fixed.
set -u

# Under make check the harness gives no arguments: the build folder is
# $abs_builddir (exported by the Makefile).
if [ $# -lt 1 ] && [ -n "${abs_builddir:-}" ]; then
    set -- "$abs_builddir"
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILDDIR [TARGET...]" >&2
    exit 2
fi
build=$1
shift
[ $# -gt 0 ] || set -- fuzz-route fuzz-bootxml fuzz-json fuzz-conf
src=${abs_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${FUZZ_SECONDS:-10}
arts=${FUZZ_ARTIFACTS:-$build/tests/fuzz/artifacts}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/virtmcd-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$arts"

ran=0
failed=0
for t in "$@"; do
    bin=
    for cand in "$build/tests/fuzz/$t" "$build/$t"; do
        if [ -x "$cand" ]; then bin=$cand; break; fi
    done
    if [ -z "$bin" ]; then
        echo "# $t: not built, skipped"
        continue
    fi
    corpus="$tmp/$t"
    mkdir -p "$corpus"
    if [ -d "$src/tests/fuzz/corpus/$t" ]; then
        cp -R "$src/tests/fuzz/corpus/$t/." "$corpus/"
    else
        echo "# $t: no seed corpus in $src/tests/fuzz/corpus/$t"
    fi
    mkdir -p "$arts/$t"
    echo "# $t: $secs s over $(ls "$corpus" | wc -l | tr -d ' ') seeds"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$arts/$t/" "$corpus" > "$tmp/$t.log" 2>&1
    rc=$?
    ran=$((ran + 1))
    if [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        echo "not ok - $t crashed (exit $rc)"
        grep -E 'ERROR|SUMMARY|fuzz-[a-z]+:|Test unit written' "$tmp/$t.log" | head -n 20 | sed 's/^/#   /'
        cp "$tmp/$t.log" "$arts/$t/last.log"
        echo "#   full log: $arts/$t/last.log"
    else
        echo "ok - $t: $(grep -o 'number_of_executed_units: [0-9]*' "$tmp/$t.log" | cut -d' ' -f2) runs, no crash"
    fi
done

if [ "$ran" -eq 0 ]; then
    echo "# no fuzz target built in $build"
    exit 77
fi
[ "$failed" -eq 0 ]
