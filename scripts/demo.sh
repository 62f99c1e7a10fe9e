#!/bin/sh
# demo.sh: install the build dependencies, build, and run virtmcd on
# 127.0.0.1:9001 against the demo machines of data/demo-node.xml (libvirt's
# test driver: no hypervisor needed).  Ctrl-C stops it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure -q
make -s -j"$(nproc)" virtmcd
mkdir -p "${TMPDIR:-/tmp}/virtmcd-demo"
printf '[boot]\nbackup_dir = %s\n' "${TMPDIR:-/tmp}/virtmcd-demo/backups" > "${TMPDIR:-/tmp}/virtmcd-demo/virtmcd.conf"
cat <<MSG

virtmcd is starting on http://127.0.0.1:9001 with the demo machines. Try, in another terminal:

  curl -s localhost:9001/service/machines
  curl -s localhost:9001/service/web-01/state_controller/status
  curl -s -X POST localhost:9001/service/web-01/state_controller/power_cycle
  curl -s -X POST localhost:9001/service/pxe-01/state_controller/pxeboot
  curl -s localhost:9001/service/pxe-01/boot
  curl -s localhost:9001/service/pxe-01/backups

MSG
exec ./virtmcd -c "${TMPDIR:-/tmp}/virtmcd-demo/virtmcd.conf" --listen 127.0.0.1:9001 \
    --uri "test://$(pwd)/data/demo-node.xml"
