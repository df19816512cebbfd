#!/usr/bin/env bash
# System packages fpgaflow uses beyond Python: the Fashion-MNIST data set (Debian package
# dataset-fashion-mnist, files in /usr/share/datasets/fashion-mnist) and tclsh (Debian package tcl,
# which runs the generated Vivado/Vitis HLS scripts against recording stubs in the tests).
# g++ must already be there.
# Idempotent: does nothing when everything is installed. Needs root (or sudo) and apt-get.
set -euo pipefail
packages=(dataset-fashion-mnist tcl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "install_system_packages.sh: no apt-get; install ${missing[*]} (Fashion-MNIST, tclsh) by hand" >&2
    exit 2
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
