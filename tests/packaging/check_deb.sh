#!/usr/bin/env bash
# Builds the Debian package from a build tree and checks what it installs.
# check_deb.sh BUILD_DIR
set -euo pipefail
build=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpack -G DEB -B "$out" --config "$build/CPackConfig.cmake" >"$out/cpack.log" 2>&1 \
  || { cat "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/*.deb)
echo "built $(basename "$deb")"
dpkg-deb -c "$deb" >"$out/contents"
for path in ./usr/bin/diffuscope-cli ./usr/bin/diffuscope ./usr/libexec/diffuscope/diffuscope-hdf5-check \
            ./usr/share/applications/diffuscope.desktop \
            ./usr/share/icons/hicolor/scalable/apps/diffuscope.svg \
            ./usr/share/metainfo/io.diffuscope.Diffuscope.metainfo.xml \
            ./usr/share/diffuscope/models/halos1000.h5 ./usr/share/diffuscope/models/zeldovich64.h5 \
            ./usr/share/diffuscope/models/grf32.h5; do
  grep -q " $path\$" "$out/contents" || { echo "missing $path in package:"; cat "$out/contents"; exit 1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libqt6widgets6 libhdf5 libfftw3; do
  echo "$depends" | grep -q "$lib" || { echo "Depends lacks $lib: $depends"; exit 1; }
done
# The installed CLI runs from the extracted package.
dpkg-deb -x "$deb" "$out/root"
"$out/root/usr/bin/diffuscope-cli" --version | grep -q "^Diffuscope "
# It reads HDF5 files through the packaged check program (../libexec/diffuscope), which names
# a file that crashes libhdf5.
"$out/root/usr/bin/diffuscope-cli" model info "$out/root/usr/share/diffuscope/models/halos1000.h5" \
  >"$out/info.log" || { echo "model info of the packaged halo model failed"; exit 1; }
grep -q "modality: points" "$out/info.log" || { cat "$out/info.log"; exit 1; }
DIFFUSCOPE_HDF5_CHECK="$out/root/usr/libexec/diffuscope/diffuscope-hdf5-check" \
  "$out/root/usr/bin/diffuscope-cli" data info "$(dirname "$0")/../fuzz/regressions/hdf5_chunk_read_segv.h5" \
  >"$out/segv.log" 2>&1 && { echo "a file that crashes libhdf5 was read"; exit 1; }
grep -q "refused: libhdf5 crashed" "$out/segv.log" || { cat "$out/segv.log"; exit 1; }
echo "package OK"
