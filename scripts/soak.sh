#!/usr/bin/env bash
# The GUI soak test (tests/ui/test_soak.cpp) for a given number of minutes under a private Xvfb:
# a seeded random session of slider drags, source and workspace switches, maps and chains started
# and cancelled, good and bad files opened; no crash, bad files refused, results still correct,
# resident memory growth bounded (printed). With --build-dir build-asan (what
# scripts/sanitize-tests.sh builds: -DDS_SANITIZE=address,undefined) it runs under
# AddressSanitizer + UndefinedBehaviorSanitizer, with that script's sanitizer options.
#
#   scripts/soak.sh [--minutes M] [--seed S] [--build-dir DIR]     (default 10 minutes, build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=10
build="$root/build"
seed=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cmake --build "$build" --target test_soak
export DS_SOAK_SECONDS=$((minutes * 60))
# Qt Test stops a test function after 5 minutes unless told otherwise.
export QTEST_FUNCTION_TIMEOUT=$(((minutes * 60 + 600) * 1000))
[[ -n "$seed" ]] && export DS_SOAK_SEED="$seed"
export QT_QPA_PLATFORM=xcb QT_XCB_GL_INTEGRATION=xcb_glx GOMP_SPINCOUNT=10000
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# No exit leak check (as for the GUI tests in scripts/sanitize-tests.sh: Qt's X11/GL stack leaves
# allocations in libraries unloaded before it); the soak measures memory growth instead.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0:detect_container_overflow=0:abort_on_error=1:detect_leaks=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0}"
[[ "$build" == *asan* ]] && export DIFFUSCOPE_MALLOC=system  # ASan refuses mallopt
exec xvfb-run -a -s "-screen 0 1600x1000x24" "$build/tests/ui/test_soak" -maxwarnings 0
