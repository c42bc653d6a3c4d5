#!/usr/bin/env bash
# One CLI contract case per call: cli_cases.sh CASE PATH_TO_DIFFUSCOPE_CLI
set -uo pipefail
case_name=$1
cli=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
# run EXPECTED_RC ARGS...: runs the CLI, keeps stdout/stderr, checks the exit code.
run() {
  local expected=$1; shift
  "$cli" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  [ "$rc" -eq "$expected" ] || fail "'$*' exited $rc, expected $expected; stderr: $(cat "$work/err")"
}
contains() { grep -q -- "$2" "$work/$1" || fail "$1 lacks '$2': $(cat "$work/$1")"; }
one_line_error() {
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "error is not one line: $(cat "$work/err")"
  contains err "^diffuscope-cli: error: "
}

case "$case_name" in
  version)
    run 0 --version
    for lib in "Diffuscope " "LibTorch " "HDF5 1\." "FFTW 3\." "CUDA "; do contains out "$lib"; done
    ;;
  help_lists_commands)
    run 0 help
    contains out "bench"
    run 0 --help
    contains out "--device"
    ;;
  command_help)
    run 0 bench --help
    contains out "--suite"
    contains out "--out"
    run 0 help bench
    contains out "--suite"
    ;;
  unknown_command)
    run 2 frobnicate
    one_line_error
    run 2 help frobnicate
    one_line_error
    ;;
  bad_option_value)
    run 2 bench --suite nope --out "$work/x.json"
    one_line_error
    contains err "nope"
    run 2 --threads -3 bench --list
    one_line_error
    run 2 --device tpu bench --list
    one_line_error
    ;;
  no_command)
    run 2
    contains err "no command given"
    ;;
  cuda_absent)
    if "$cli" --version | grep -q "CUDA available"; then
      echo "CUDA present: the absent-CUDA error path cannot be exercised here"; exit 0
    fi
    run 1 --device cuda bench --suite points --out "$work/b.json"
    one_line_error
    contains err "CUDA was requested but is not available"
    [ ! -e "$work/b.json" ] || fail "an output file was written despite the error"
    ;;
  bench_json)
    run 0 --quiet bench --suite points --suite stats --out "$work/bench.json"
    # Structure and ratios are checked in detail by the core tests (test_bench.cpp); here the
    # file must hold the two suites, in order, each with its reference at ratio 1.
    tr -d ' \n' <"$work/bench.json" >"$work/flat"
    grep -q '"suites":\[{"description":"[^"]*","measurements":\[{"meets_target":[a-z]*,"name":"thomas_point_process/n=5000","note":"[^"]*","ratio":1.0,"reference":"thomas_point_process/n=5000"' "$work/flat" \
      || fail "points suite or its reference missing: $(head -c 600 "$work/flat")"
    grep -q '"name":"stats"' "$work/flat" || fail "stats suite missing"
    grep -q '"all_targets_met":' "$work/flat" || fail "all_targets_met missing"
    ;;
  bench_bad_out)
    run 1 --quiet bench --suite points --out "$work/no/such/dir/b.json"
    one_line_error
    contains err "no/such/dir/b.json"
    ;;
  *) fail "unknown case" ;;
esac
echo "PASS [$case_name]"
