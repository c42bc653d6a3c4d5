#!/usr/bin/env bash
# Installs the Debian 12 packages Diffuscope needs to build, test and run. Idempotent: when
# everything is present it only checks and returns within a second.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config dpkg-dev file
  libtorch-dev libhdf5-dev libfftw3-dev nlohmann-json3-dev libcli11-dev libnanoflann-dev libeigen3-dev
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev qt6-svg-dev libimgui-dev libstb-dev libvtk9-dev
  libqcustomplot-dev libqcustomplot2.1-qt6
  libgl1-mesa-dev libgl1-mesa-dri libglx-mesa0 xvfb xauth
  libgtest-dev libnetcdf-dev
  # Gloo's headers, which LibTorch's c10d headers include: data-parallel training.
  libgloo-dev
  # Debian's LibTorch does its matrix products through libblas.so.3; without an optimised BLAS
  # that is the reference implementation (4-5x slower networks). The OpenMP build shares
  # LibTorch's thread pool instead of starting its own.
  libopenblas0-openmp
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
