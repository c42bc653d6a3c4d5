#!/bin/bash
# Run here (Debian 12, package access) before using a GPU node, which has CUDA, CMake, ninja and
# PyTorch but no package access: stages what scripts/gpu-env.sh needs in .stage/ (carry it).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .stage/debs .stage/lib .stage/testdata
(cd .stage/debs && apt-get download libfftw3-dev libfftw3-single3 libfftw3-double3 libhdf5-dev \
  libhdf5-103-1 libhdf5-hl-100 libaec0 libsz2 libaec-dev nlohmann-json3-dev libcli11-dev pkgconf \
  pkgconf-bin libpkgconf3 libgtest-dev libnanoflann-dev libeigen3-dev)
# Runtime libraries of HDF5 and FFTW that a CUDA image may lack (not glibc, libstdc++ or zlib).
for l in $(ldd /usr/lib/x86_64-linux-gnu/libhdf5_serial.so.103 /usr/lib/x86_64-linux-gnu/libfftw3f.so.3 |
           awk '/=>/{print $3}' | sort -u); do
  case $(basename "$l") in
    libc.so*|libm.so*|libstdc++*|libgcc_s*|libpthread*|libdl.so*|ld-linux*|libz.so*|librt.so*|libresolv*) ;;
    *) cp -L "$l" .stage/lib/ ;;
  esac
done
cp -r ../shared/testdata/dhmc_tiny .stage/testdata/
