#!/usr/bin/env bash
# Installs the Debian packages cnnc needs to build and test, if any are missing.
# Safe to run again: it does nothing when everything is there.
set -euo pipefail

packages=(
  meson ninja-build pkg-config gcc clang flex bison   # build
  libcriterion-dev zlib1g-dev libpng-dev              # tests, .npz, .png
  python3-numpy                                       # example weights generator
  llvm libclang-rt-14-dev                             # libFuzzer + sanitizers with clang
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user  # NEON target under emulation
  binutils                                            # nm: generated code calls no allocator
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
