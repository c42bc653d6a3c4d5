#!/bin/bash
# Source on a GPU node (README, "Building on a GPU node"): unpacks the Debian packages the core
# needs (staged in .stage/, git-ignored, by scripts/stage-gpu-deps.sh) and builds the core, the CLI
# and the core tests against the LibTorch inside the node's PyTorch (CUDA), GUI off.
#   there: source scripts/gpu-env.sh && ds_gpu_build [ninja targets...]
DS_ROOT=$PWD
DS_STAGE=$DS_ROOT/.stage/root
mkdir -p "$DS_STAGE"
if [ ! -f "$DS_STAGE/.unpacked" ]; then
  for f in "$DS_ROOT"/.stage/debs/*.deb; do dpkg -x "$f" "$DS_STAGE"; done
  touch "$DS_STAGE/.unpacked"
fi
export LD_LIBRARY_PATH=$DS_STAGE/usr/lib/x86_64-linux-gnu:$DS_ROOT/.stage/lib:${LD_LIBRARY_PATH:-}
export PKG_CONFIG_SYSROOT_DIR=$DS_STAGE
export PKG_CONFIG_LIBDIR=$DS_STAGE/usr/lib/x86_64-linux-gnu/pkgconfig:$DS_STAGE/usr/share/pkgconfig
export PATH=$PATH:$DS_STAGE/usr/bin

ds_gpu_build() {
  local torch_prefix
  torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') || return 1
  cmake -S "$DS_ROOT" -B "$DS_ROOT/build-cuda" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DDS_BUILD_GUI=OFF -DDS_BUILD_TESTS=ON \
    -DDS_TESTDATA_DIR="$DS_ROOT/.stage/testdata" \
    -DPKG_CONFIG_EXECUTABLE="$DS_STAGE/usr/bin/pkgconf" \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$DS_STAGE/usr;$DS_STAGE/usr/lib/x86_64-linux-gnu/hdf5/serial" \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 >"$DS_ROOT/build-cuda.configure.log" 2>&1 ||
    { tail -60 "$DS_ROOT/build-cuda.configure.log"; return 1; }
  ninja -C "$DS_ROOT/build-cuda" -k 0 "${@:-diffuscope-cli}"
}
