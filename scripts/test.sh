#!/bin/sh
# test.sh: install everything the tests need, build, and run the whole suite
# twice: a plain -Werror build, then one under AddressSanitizer and
# UndefinedBehaviorSanitizer.  Ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }
jobs=$(nproc)
passed=0
failed=0

# run_suite NAME CONFIGURE-ARGS...: build out of tree and run make check.
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
    make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1
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

run_suite plain --enable-werror
run_suite sanitizers --enable-werror --enable-sanitizers
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
