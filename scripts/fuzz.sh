#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan + UBSan) into build-fuzz/ and runs
# each for a given time on its corpus, one after the other with one process each.
#
#   scripts/fuzz.sh [--time SECONDS] [--keep-going] [--seeds] [--build-only] [target...]
#
# Targets are the names after fuzz_ (npy, pickle, ...); none means all. --seeds rewrites the
# committed seed corpora tests/fuzz/corpus/<target>/ with make_fuzz_seeds. Inputs the fuzzer
# finds go to build-fuzz/corpus/<target>/ (the committed corpus stays small); a crashing input is
# saved as tests/fuzz/crashes/<target>-<crash|leak|oom|timeout>-<sha1> (gitignored). By default the
# first finding ends a target's run; --keep-going fuzzes on in libFuzzer's fork mode with one
# worker process (HDF5 files can hang libhdf5 itself: see tests/fuzz/README.md).
# Prints per target: seconds, inputs tried, coverage (edges), corpus size, findings.
# DS_FUZZ_ARGS adds libFuzzer flags, e.g. DS_FUZZ_ARGS=-detect_leaks=0 for the LibTorch and HDF5
# targets: those libraries leak on corrupt files (lsan.supp), and the leak check that follows
# every such input costs most of the time.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
seconds=60
seeds=0
build_only=0
keep_going=0
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --time) seconds="$2"; shift 2 ;;
    --seeds) seeds=1; shift ;;
    --keep-going) keep_going=1; shift ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(npy pickle torch_checkpoint torchscript dataset_hdf5 model_file camels quijote chain_text
     chain_netcdf grid_scan json_config)
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")

command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 not found (apt install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$root/tests/fuzz" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
[[ $seeds -eq 1 ]] && build_targets+=(make_fuzz_seeds)
cmake --build "$build" -j"${DS_FUZZ_BUILD_JOBS:-2}" --target "${build_targets[@]}"
if [[ $seeds -eq 1 ]]; then
  ASAN_OPTIONS=detect_leaks=0 "$build/make_fuzz_seeds" "$root/tests/fuzz/corpus"
fi
[[ $build_only -eq 1 ]] && exit 0

mkdir -p "$root/tests/fuzz/crashes" "$build/logs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0}"
# The HDF5 check process gives up on a hanging file after this many seconds (libFuzzer's own
# -timeout is 20 s): a hang inside libhdf5 is a refused file, not a finding.
export DIFFUSCOPE_HDF5_CHECK_TIMEOUT="${DIFFUSCOPE_HDF5_CHECK_TIMEOUT:-5}"
status=0
printf '%-17s %8s %10s %6s %7s %s\n' target seconds runs cov corpus findings
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$root/tests/fuzz/corpus/$t"
  dict=()
  [[ -f "$root/tests/fuzz/dict/$t.dict" ]] && dict=(-dict="$root/tests/fuzz/dict/$t.dict")
  log="$build/logs/$t.log"
  before=$(ls "$root/tests/fuzz/crashes" | grep -c "^$t-" || true)
  # One process; absurd allocations (over 1 GiB from at most 64 KiB of input) count as findings.
  mode=()
  [[ $keep_going -eq 1 ]] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  set +e
  (cd "$build" && "$build/fuzz_$t" "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" "${dict[@]}" \
      "${mode[@]}" ${DS_FUZZ_ARGS:-} -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
      -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$root/tests/fuzz/crashes/$t-") >"$log" 2>&1
  rc=$?
  set -e
  if [[ $keep_going -eq 1 ]]; then  # fork mode: "#RUNS: cov: C ft: F corp: N exec/s: E ..."
    runs=$(grep -o '^#[0-9]*: cov' "$log" | tail -1 | tr -dc '0-9')
  else
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  fi
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus=$(ls "$build/corpus/$t" | wc -l)
  after=$(ls "$root/tests/fuzz/crashes" | grep -c "^$t-" || true)
  crashes=$((after - before))
  note=""
  if [[ $rc -ne 0 ]]; then
    status=1
    note="  (exit $rc; $(ls -t "$root/tests/fuzz/crashes" | grep "^$t-" | head -1); log $log)"
  fi
  printf '%-17s %8s %10s %6s %7s %s%s\n' "$t" "$seconds" "${runs:-?}" "${cov:-?}" "$corpus" \
    "$crashes" "$note"
done
exit $status
