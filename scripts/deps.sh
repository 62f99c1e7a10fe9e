#!/bin/sh
# deps.sh [--test]: install what virtmcd needs on Debian 12 (as root, or with sudo).
# --test adds the test clients and the real-hypervisor tier's packages.
set -eu
BUILD="build-essential autoconf automake libtool autoconf-archive pkg-config
  libvirt-dev libmicrohttpd-dev libxml2-dev libjson-c-dev libsystemd-dev libinih-dev libgnutls28-dev
  libcurl4-gnutls-dev libvirt-clients"
TEST="curl jq python3-sushy redfishtool apache2-utils wrk valgrind clang groff-base
  libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils qemu-block-extra ovmf openssl systemd"
PKGS=$BUILD
[ "${1:-}" = "--test" ] && PKGS="$BUILD $TEST"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
