#!/usr/bin/env bash
# Builds the project with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, DS_SANITIZE) into
# build-asan/ and runs ctest there; GUI tests run under xvfb-run.
#
#   scripts/sanitize-tests.sh [ctest arguments...]     e.g. -L unit, -R 'test_core_data|npy'
#
# With no arguments the whole suite runs (long: every test is 2-5x slower under ASan).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-asan"
jobs="${DS_SANITIZE_JOBS:-2}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDS_SANITIZE=address,undefined ${DS_SANITIZE_CMAKE_ARGS:-}
cmake --build "$build" -j"$jobs"
# LibTorch and Qt are not instrumented: container-overflow and ODR checks across them give false
# reports; leaks inside LibTorch's own allocations are suppressed (tests/fuzz/lsan.supp).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0:detect_container_overflow=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# ASan replaces malloc and refuses mallopt: the tests' allocator-policy check would abort.
export DIFFUSCOPE_MALLOC=system
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0}"
run=(ctest --test-dir "$build" --output-on-failure -j1 "$@")
if command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1600x1000x24" "${run[@]}"
else
  "${run[@]}"
fi
