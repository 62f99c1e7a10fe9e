#!/bin/sh
# test.sh: install everything the tests need, build, and run the whole suite
# twice: a plain -Werror build (without the real-QEMU tier), then one under
# AddressSanitizer and UndefinedBehaviorSanitizer (with it); then build the
# libFuzzer targets with clang and run each for FUZZ_SECONDS (15) over its
# corpus.  Ends with one line "N passed, N failed" (test programs; each
# prints its own checks).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }
# Out-of-tree builds need a source tree that was never configured in place.
[ -f config.status ] && make distclean >/dev/null 2>&1
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }
jobs=$(nproc)
passed=0
failed=0

# run_suite NAME CONFIGURE-ARGS...: build out of tree and run make check
# (only $CHECK_TESTS when set).
run_suite() {
    name=$1
    shift
    dir="$top/_build/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "== $name: configure $*"
    if ! (cd "$dir" && "$top/configure" -q "$@" >configure.out 2>&1); then
        cat "$dir/configure.out"
        failed=$((failed + 1))
        return
    fi
    if ! make -C "$dir" -s -j"$jobs" >"$dir/build.out" 2>&1; then
        tail -n 40 "$dir/build.out"
        failed=$((failed + 1))
        return
    fi
    if [ -n "${CHECK_TESTS:-}" ]; then
        make -C "$dir" -j"$jobs" check TESTS="$CHECK_TESTS" >"$dir/check.out" 2>&1
    else
        make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1
    fi
    grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$dir/check.out" | sed "s/^/[$name] /"
    p=$(sed -n 's/^# PASS: *//p' "$dir/check.out" | tail -n1)
    f=$(sed -n 's/^# FAIL: *//p' "$dir/check.out" | tail -n1)
    e=$(sed -n 's/^# ERROR: *//p' "$dir/check.out" | tail -n1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0}))
    if [ -z "$p" ]; then
        tail -n 30 "$dir/check.out"
        failed=$((failed + 1))
    fi
    for log in $(grep -lE '^(# )?(FAIL|ERROR)' "$dir"/tests/*/*.log 2>/dev/null); do
        echo "---- $log"
        tail -n 60 "$log"
    done
}

# The real-QEMU tier runs once, in the stricter build: twice took a third
# of CI's time for no more coverage.
export VIRTMCD_SKIP_QEMU="the QEMU tier runs in the sanitizers build (scripts/test.sh)"
run_suite plain --enable-werror
unset VIRTMCD_SKIP_QEMU
run_suite sanitizers --enable-werror --enable-sanitizers
# The libFuzzer targets, each for FUZZ_SECONDS over its committed corpus.
export FUZZ_SECONDS=${FUZZ_SECONDS:-15}
CHECK_TESTS=tests/fuzz/run-fuzz.sh run_suite fuzzing --enable-werror --enable-fuzzing CC=clang
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
