#!/bin/sh
# test-cli.sh: the command line (DAEMON.md): --help, --version, usage errors,
# --test-config on good and bad files, the shipped file with every line
# uncommented, missing named files, and protected mode.
. "$(dirname "$0")/functions.sh"

out=$("$VIRTMCD" --help 2>&1); rc=$?
check "--help exits 0" [ "$rc" = 0 ]
check "--help names every option" sh -c 'for o in -c --listen --uri -v --test-config --version --help; do echo "$1" | grep -q -- "$o" || exit 1; done' _ "$out"
out=$("$VIRTMCD" --version); rc=$?
check "--version exits 0 and names the version" sh -c '[ "$1" = 0 ] && echo "$2" | grep -Eq "^virtmcd [0-9]+\.[0-9]+"' _ "$rc" "$out"
"$VIRTMCD" --bogus >/dev/null 2>&1; rc=$?
check "an unknown option is a usage error (2)" [ "$rc" = 2 ]
"$VIRTMCD" extra-arg >/dev/null 2>&1; rc=$?
check "a stray argument is a usage error (2)" [ "$rc" = 2 ]

write_conf
out=$("$VIRTMCD" -c "$T/virtmcd.conf" --test-config 2>&1); rc=$?
check "--test-config on a good file: 'configuration OK', exit 0" sh -c '[ "$1" = 0 ] && [ "$2" = "configuration OK" ]' _ "$rc" "$out"

printf '[server]\nlisten = 127.0.0.1:9001\nbogus = 1\n[nosuch]\n[power]\nforce_off_timeout = soon\n' > "$T/bad.conf"
out=$("$VIRTMCD" -c "$T/bad.conf" --test-config 2>&1); rc=$?
check "--test-config on a bad file exits 1" [ "$rc" = 1 ]
check "unknown key reported with FILE:LINE" sh -c 'echo "$1" | grep -q "bad.conf:3: .*bogus"' _ "$out"
check "unknown section reported with FILE:LINE" sh -c 'echo "$1" | grep -q "bad.conf:4: .*nosuch"' _ "$out"
check "bad value reported with FILE:LINE" sh -c 'echo "$1" | grep -q "bad.conf:6: .*force_off_timeout"' _ "$out"

out=$("$VIRTMCD" -c "$T/missing.conf" --test-config 2>&1); rc=$?
check "a missing named file is an error (exit 1)" sh -c '[ "$1" = 1 ] && echo "$2" | grep -q missing.conf' _ "$rc" "$out"

# The shipped file: every setting uncommented must validate.
sed -e 's/^#\([^ #]\)/\1/' "$abs_srcdir/data/virtmcd.conf" > "$T/all.conf"
out=$("$VIRTMCD" -c "$T/all.conf" --test-config 2>&1); rc=$?
check "data/virtmcd.conf with every line uncommented validates" sh -c '[ "$1" = 0 ]' _ "$rc"
[ "$rc" = 0 ] || echo "# $out"
out=$("$VIRTMCD" -c "$abs_srcdir/data/virtmcd.conf" --test-config 2>&1); rc=$?
check "data/virtmcd.conf as shipped validates" [ "$rc" = 0 ]

# Protected mode: without users, only loopback or a Unix socket.
out=$("$VIRTMCD" -c "$T/virtmcd.conf" --listen 0.0.0.0:1 --uri "$NODE" 2>&1); rc=$?
check "no users file: refuses 0.0.0.0 (exit 1)" [ "$rc" = 1 ]
check "the refusal says how to add users" sh -c 'echo "$1" | grep -q htdigest' _ "$out"
out=$("$VIRTMCD" -c "$T/virtmcd.conf" --listen "[::]:1" --uri "$NODE" 2>&1); rc=$?
check "no users file: refuses [::] (exit 1)" [ "$rc" = 1 ]

# A Unix socket works without users.
start_daemon --listen "unix:$T/sock" || exit 1
check "READY=1 reports the Unix socket (X_VIRTMCD_LISTEN=unix:...)" [ "$DAEMON_LISTEN" = "unix:$T/sock" ]
out=$(curl -s --unix-socket "$T/sock" http://x/service/vm-off/state_controller/status)
check "listen = unix:/path serves requests" [ "$out" = '{"state":"shut off"}' ]
pid=$DAEMON_PID
DAEMON_PID=
kill -TERM "$pid"; wait "$pid"; rc=$?
check "SIGTERM on the Unix socket daemon: exit 0" [ "$rc" = 0 ]
check "the Unix socket is removed at exit" [ ! -e "$T/sock" ]

# A listen address that cannot be bound is a start-up error with a message.
out=$("$VIRTMCD" -c "$T/virtmcd.conf" --listen 127.0.0.1:notaport --uri "$NODE" 2>&1); rc=$?
check "an invalid --listen exits 1" [ "$rc" = 1 ]
finish
