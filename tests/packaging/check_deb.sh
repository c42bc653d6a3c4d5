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
for path in ./usr/bin/diffuscope-cli ./usr/bin/diffuscope ./usr/share/applications/diffuscope.desktop \
            ./usr/share/icons/hicolor/scalable/apps/diffuscope.svg \
            ./usr/share/metainfo/io.diffuscope.Diffuscope.metainfo.xml \
            ./usr/share/diffuscope/models/halos1000.h5 ./usr/share/diffuscope/models/zeldovich64.h5; do
  grep -q " $path\$" "$out/contents" || { echo "missing $path in package:"; cat "$out/contents"; exit 1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libqt6widgets6 libhdf5 libfftw3; do
  echo "$depends" | grep -q "$lib" || { echo "Depends lacks $lib: $depends"; exit 1; }
done
# The installed CLI runs from the extracted package.
dpkg-deb -x "$deb" "$out/root"
"$out/root/usr/bin/diffuscope-cli" --version | grep -q "^Diffuscope "
echo "package OK"
