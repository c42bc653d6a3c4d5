#!/usr/bin/env bash
# One CLI contract case per call: cli_cases.sh CASE PATH_TO_DIFFUSCOPE_CLI
set -uo pipefail
case_name=$1
cli=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=cli_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

# write_npy_ones PATH SHAPE COUNT: a float32 .npy of the given shape (a Python tuple text) filled with 1.
write_npy_ones() {
  local header="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
  while [ $(( (10 + ${#header} + 1) % 64 )) -ne 0 ]; do header="$header "; done
  local len=$(( ${#header} + 1 ))
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))";
    printf '%s\n' "$header"; for ((i = 0; i < $3; i++)); do printf '\x00\x00\x80\x3f'; done; } >"$1"
}

# write_npy_f8 PATH SHAPE COUNT [NAN_INDEX]: a float64 .npy of the given shape (a Python tuple
# text) holding a fixed pseudo-random sequence of values in {+-0.25, +-0.5, +-1}, with a NaN at
# NAN_INDEX if given. The same COUNT prefix gives the same values, so a stack's first field equals
# the single field of the same size.
write_npy_f8() {
  local header="{'descr': '<f8', 'fortran_order': False, 'shape': $2, }"
  while [ $(( (10 + ${#header} + 1) % 64 )) -ne 0 ]; do header="$header "; done
  local len=$(( ${#header} + 1 )) s=7 i
  local highs=('\xd0\x3f' '\xd0\xbf' '\xe0\x3f' '\xe0\xbf' '\xf0\x3f' '\xf0\xbf')
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))"
    printf '%s\n' "$header"
    for ((i = 0; i < $3; i++)); do
      s=$(( (s * 1103515245 + 12345) % 2147483648 ))
      if [ "$i" = "${4:--1}" ]; then printf '\x00\x00\x00\x00\x00\x00\xf8\x7f'
      else printf "\\x00\\x00\\x00\\x00\\x00\\x00${highs[$(( (s >> 16) % 6 ))]}"; fi
    done; } >"$1"
}
# near FILE EXPECTED TOLERANCE: the number in FILE is within TOLERANCE of EXPECTED.
near() {
  awk -v e="$2" -v t="$3" '{ d = $1 - e; if (d < 0) d = -d; exit !(d <= t) }' "$work/$1" \
    || fail "$1 holds '$(cat "$work/$1")', expected $2 +- $3"
}


# cancel_check SIGNAL OUTPUT ARGS...: runs the CLI with ARGS in the background (progress lines on
# stderr), waits until it reports progress (it is inside its long loop), waits a little more,
# sends SIGNAL, and checks that it exits with 128 + the signal number, says it was cancelled and
# leaves OUTPUT absent (nothing half-written; OUTPUT "-" skips that check). The latency from the
# signal to the exit is printed ("cancel latency ... s"): issue 18 asks < 1 s on 2 cores, a figure
# this test logs rather than asserts (CI machines differ).
cancel_check() {
  local sig=$1 output=$2; shift 2
  "$cli" "$@" >"$work/out" 2>"$work/err" &
  local pid=$! tries=0
  # Ready at its first progress line (every long command reports one as its job starts). A
  # signal that arrived before the command listens (while it loads) would terminate it as by
  # default: also 128 + the signal, but without the message, which the check below would catch.
  until grep -q "%" "$work/err" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "'$*' ended before it was signalled: $(cat "$work/err")"
    tries=$((tries + 1))
    [ "$tries" -lt 3600 ] || { kill -9 "$pid"; fail "'$*' reported no progress in 180 s"; }
    sleep 0.05
  done
  sleep 0.7
  kill -0 "$pid" 2>/dev/null || fail "'$*' ended before it was signalled: $(cat "$work/err")"
  local t0 t1 rc number
  t0=$(date +%s.%N)
  kill "-$sig" "$pid"
  wait "$pid"; rc=$?
  t1=$(date +%s.%N)
  number=$(kill -l "$sig")
  [ "$rc" -eq $((128 + number)) ] || fail "'$*' exited $rc after SIG$sig, expected $((128 + number)): $(tail -3 "$work/err")"
  contains err "cancelled"
  if [ "$output" != "-" ]; then
    [ ! -e "$output" ] || fail "$output was written by a cancelled command"
    local leftovers
    leftovers=$(find "$(dirname "$output")" -maxdepth 1 -name "$(basename "$output")*" | head -1)
    [ -z "$leftovers" ] || fail "a cancelled command left $leftovers"
  fi
  echo "cancel latency ${case_name} SIG${sig}: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s"
}
models="$(cd "$(dirname "$0")/../.." && pwd)/assets/models"

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
    # The machine's peaks, and the FFT rows stated against the float64 one.
    grep -q '"machine_peak":{"conv3x3_fp32_gflops":[0-9.e+-]*,"dgemm_fp64_gflops":[0-9.e+-]*' \
      "$work/flat" || fail "machine_peak missing"
    grep -q '"name":"power_spectrum_2d/n=256","note":"[^"]*","peak":"dgemm_fp64","peak_fraction":0\.[0-9]' \
      "$work/flat" || fail "pk2d row without its peak fraction: $(grep -o '"name":"power_spectrum_2d/n=256[^}]*' "$work/flat")"
    contains err "machine peak: sgemm_fp32"
    ;;
  bench_bad_out)
    run 1 --quiet bench --suite points --out "$work/no/such/dir/b.json"
    one_line_error
    contains err "no/such/dir/b.json"
    ;;
  data_info_convert)
    write_npy_ones "$work/f.npy" "(2, 8, 8)" 128
    printf '0.3 0.8\n0.4 0.7\n' >"$work/p.txt"
    run 0 data info "$work/f.npy"
    contains out "kind: fields"
    contains out "shape: \[2, 8, 8\]"
    contains out "dtype: float32"
    run 0 --quiet data convert "$work/f.npy" --params "$work/p.txt" --downsample 2 --out "$work/f.h5"
    run 0 data info "$work/f.h5"
    contains out "format: Diffuscope HDF5 dataset"
    contains out "shape: \[2, 4, 4\]"
    contains out "param Omega_m: \[0.3, 0.4\]"
    write_npy_ones "$work/pts.npy" "(50, 3)" 150
    run 0 --quiet data convert "$work/pts.npy" --out "$work/pts.h5"
    run 0 data info "$work/pts.h5"
    contains out "kind: point clouds"
    contains out "box: 1000 Mpc/h"
    if "$cli" --quiet data convert "$work/pts.h5" --out "$work/pts.vtp" 2>"$work/err"; then
      grep -q '<VTKFile type="PolyData"' "$work/pts.vtp" || fail "not a VTK PolyData file"
    else
      contains err "built without VTK"
    fi
    ;;
  data_bad_inputs)
    run 1 data info "$work/missing.npy"
    one_line_error
    contains err "missing.npy: does not exist"
    printf 'garbage' >"$work/bad.npy"
    run 1 data info "$work/bad.npy"
    one_line_error
    contains err "not a NumPy .npy file"
    write_npy_ones "$work/f.npy" "(2, 8, 8)" 100
    run 1 data info "$work/f.npy"
    one_line_error
    contains err "truncated"
    write_npy_ones "$work/g.npy" "(2, 8, 8)" 128
    printf '0.3 0.8\n' >"$work/p.txt"
    run 1 --quiet data convert "$work/g.npy" --params "$work/p.txt" --out "$work/g.h5"
    one_line_error
    contains err "has 1 rows for 2 samples"
    [ ! -e "$work/g.h5" ] || fail "output written despite the error"
    run 1 --quiet data convert "$work/g.npy" --out "$work/nodir/g.h5"
    one_line_error
    contains err "does not exist"
    ;;
  cosmology_pk)
    run 0 cosmology pk --omega-m 0.3 --sigma-8 0.8 --k 1e-3,10,200 --out "$work/pk.csv"
    [ "$(head -n 1 "$work/pk.csv")" = "k,pk" ] || fail "header is '$(head -n 1 "$work/pk.csv")'"
    [ "$(tail -n +2 "$work/pk.csv" | wc -l)" -eq 200 ] || fail "expected 200 rows"
    awk -F, 'NR > 1 { if ((NR > 2 && $1 <= prev) || $2 <= 0) exit 1; prev = $1 }' "$work/pk.csv" \
      || fail "k not increasing or P(k) not positive"
    awk -F, 'NR == 2 { if ($1 != 0.001) exit 1 } END { if ($1 != 10) exit 1 }' "$work/pk.csv" \
      || fail "k does not run from 1e-3 to 10"
    run 0 cosmology pk --transfer eh98-nowiggle --k 0.01,1,50 --out "$work/nw.csv"
    [ "$(tail -n +2 "$work/nw.csv" | wc -l)" -eq 50 ] || fail "expected 50 rows"
    ;;
  cosmology_sigma8)
    # Opposite prior corners for each transfer function (the core tests cover all corners).
    for point in "eh98 0.1 0.6" "eh98 0.5 1.0" "eh98-nowiggle 0.1 1.0" "eh98-nowiggle 0.5 0.6"; do
      set -- $point
      run 0 cosmology sigma8 --transfer "$1" --omega-m "$2" --sigma-8 "$3"
      near out "$3" 1e-4
    done
    run 0 cosmology growth --omega-m 0.3
    near out 0.5128 1e-4
    ;;
  cosmology_out_of_prior)
    run 1 cosmology pk --omega-m 0.6 --sigma-8 0.8 --out "$work/pk.csv"
    one_line_error
    contains err "Omega_m = 0.6 is outside the prior"
    [ ! -e "$work/pk.csv" ] || fail "an output file was written despite the error"
    run 1 cosmology sigma8 --sigma-8 1.2
    one_line_error
    contains err "sigma_8 = 1.2"
    run 1 cosmology pk --h -1 --out "$work/pk.csv"
    one_line_error
    contains err "h = -1"
    run 1 cosmology growth --omega-m 0.05
    one_line_error
    run 1 cosmology pk --k 1,2 --out "$work/pk.csv"
    one_line_error
    contains err "KMIN,KMAX,N"
    run 2 cosmology pk --transfer bbks --out "$work/pk.csv"
    one_line_error
    ;;
  grf_pk2d)
    run 0 grf pk2d --omega-m 0.3 --sigma-8 0.8 --box 25 --res 32 --out "$work/s.csv"
    [ "$(head -n 1 "$work/s.csv")" = "k,pk" ] || fail "header"
    # Distinct i^2 + j^2 > 0 with 0 <= i, j <= 16.
    distinct=$(awk 'BEGIN { for (i = 0; i <= 16; i++) for (j = 0; j <= 16; j++) if (i + j) m[i*i + j*j] = 1; print length(m) }')
    [ "$(tail -n +2 "$work/s.csv" | wc -l)" -eq "$distinct" ] || fail "expected $distinct rows"
    awk -F, 'NR > 1 { if ((NR > 2 && $1 <= prev) || $2 <= 0) exit 1; prev = $1 }' "$work/s.csv" \
      || fail "k not increasing or P not positive"
    awk -F, 'NR == 2 { d = $1 - 2 * 3.14159265358979 / 25; exit !(d < 1e-12 && d > -1e-12) }' \
      "$work/s.csv" || fail "first k is not the fundamental 2 pi / 25"
    ;;
  grf_loglike)
    write_npy_f8 "$work/f.npy" "(16, 16)" 256
    write_npy_f8 "$work/stack.npy" "(2, 16, 16)" 512
    run 0 grf loglike "$work/f.npy" --omega-m 0.3 --sigma-8 0.8 --box 25
    grep -Eq '^-?[0-9.]+(e[-+]?[0-9]+)?$' "$work/out" || fail "not a number: $(cat "$work/out")"
    value=$(cat "$work/out")
    run 0 grf loglike "$work/f.npy" --omega-m 0.3 --sigma-8 0.8 --gradient
    [ "$(awk '{ print NF }' "$work/out")" -eq 3 ] || fail "--gradient prints value and 2 derivatives"
    [ "$(awk '{ print $1 }' "$work/out")" = "$value" ] || fail "--gradient changed the value"
    run 0 grf loglike "$work/stack.npy" --omega-m 0.3 --sigma-8 0.8
    [ "$(cat "$work/out")" = "$value" ] || fail "stack index 0 differs from the same field alone"
    run 0 grf loglike "$work/stack.npy" --index 1 --omega-m 0.3 --sigma-8 0.8
    [ "$(cat "$work/out")" != "$value" ] || fail "index 1 gives the value of index 0"
    run 0 grf loglike "$work/f.npy" --omega-m 0.4 --sigma-8 0.8
    [ "$(cat "$work/out")" != "$value" ] || fail "the value does not depend on Omega_m"
    ;;
  grf_loglike_bad_inputs)
    write_npy_f8 "$work/f.npy" "(16, 16)" 256
    run 1 grf loglike "$work/missing.npy" --omega-m 0.3 --sigma-8 0.8
    one_line_error
    contains err "missing.npy"
    write_npy_f8 "$work/rect.npy" "(16, 8)" 128
    run 1 grf loglike "$work/rect.npy" --omega-m 0.3 --sigma-8 0.8
    one_line_error
    contains err "rect.npy.*square"
    write_npy_f8 "$work/nan.npy" "(16, 16)" 256 37
    run 1 grf loglike "$work/nan.npy" --omega-m 0.3 --sigma-8 0.8
    one_line_error
    contains err "nan.npy"
    run 1 grf loglike "$work/f.npy" --index 1 --omega-m 0.3 --sigma-8 0.8
    one_line_error
    contains err "f.npy.*out of range"
    write_npy_f8 "$work/odd.npy" "(17, 17)" 289
    run 1 grf loglike "$work/odd.npy" --omega-m 0.3 --sigma-8 0.8
    one_line_error
    contains err "odd.npy"
    run 1 grf loglike "$work/f.npy" --omega-m 0.3 --sigma-8 0.5
    one_line_error
    contains err "sigma_8 = 0.5 is outside the prior"
    ;;
  stats_pk2d_golden)
    # Pylians Pk_plane (../shared/testdata/goldens/README.md, pk2d_a): 1e-5 per bin, same Nmodes.
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 0 stats pk2d "$g/pk2d_a_delta.npy" --box 25 --kind contrast --out "$work/pk.csv"
    [ "$(head -1 "$work/pk.csv")" = "k,pk,nmodes" ] || fail "header: $(head -1 "$work/pk.csv")"
    paste -d, "$work/pk.csv" "$g/pk2d_a_expected.csv" | awk -F, 'NR > 1 { n++
        if ($3 != $6 || ($1 - $4) ^ 2 > (1e-12 * $4) ^ 2 || ($2 - $5) ^ 2 > (1e-5 * $5) ^ 2) {
          print "bin " NR - 1 ": " $0; bad = 1 } }
        END { exit bad || n != 45 }' || fail "pk2d differs from Pylians"
    run 0 stats pk2d "$g/pk2d_a_field.npy" --box 25 --log-bins 35 --cut-nyquist --out "$work/log.csv"
    rows=$(($(wc -l <"$work/log.csv") - 1))
    [ "$rows" -ge 10 ] && [ "$rows" -le 35 ] || fail "--log-bins 35 gave $rows bins"
    ;;
  stats_pk3d_golden)
    # Pylians MA + Pk with CIC (pk3d_a): bins with >= 10 modes to 1e-5 (README: float32 mesh).
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 0 stats pk3d "$g/points_a.npy" --box 1000 --mesh 64 --mas cic --out "$work/pk.csv"
    [ "$(head -1 "$work/pk.csv")" = "k,pk,nmodes" ] || fail "header: $(head -1 "$work/pk.csv")"
    paste -d, "$work/pk.csv" "$g/pk3d_a_expected.csv" | awk -F, 'NR > 1 { n++
        tol = $3 >= 10 ? 1e-5 : 2e-3
        if ($3 != $6 || ($2 - $5) ^ 2 > (tol * $5) ^ 2) { print "bin " NR - 1 ": " $0; bad = 1 } }
        END { exit bad || n != 55 }' || fail "pk3d differs from Pylians"
    ;;
  stats_tpcf_golden)
    # Corrfunc DD autocorrelation (tpcf_a): ordered pair counts exactly.
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    edges=$(awk -F, 'NR > 1 { printf "%s,", $1; last = $2 } END { print last }' "$g/tpcf_a_expected.csv")
    run 0 --threads 2 stats tpcf "$g/points_a.npy" --box 1000 --edges "$edges" --out "$work/xi.csv"
    [ "$(head -1 "$work/xi.csv")" = "r_lo,r_hi,npairs,xi" ] || fail "header: $(head -1 "$work/xi.csv")"
    paste -d, "$work/xi.csv" "$g/tpcf_a_expected.csv" | awk -F, 'NR > 1 { n++
        if ($1 != $5 || $2 != $6 || $3 != $7 || ($4 - $8) ^ 2 > 1e-20 + (1e-12 * $8) ^ 2) {
          print "bin " NR - 1 ": " $0; bad = 1 } }
        END { exit bad || n != 25 }' || fail "tpcf differs from Corrfunc"
    ;;
  stats_knn_golden)
    # scipy cKDTree (knn_a): CDFs exactly, with the given queries.
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    radii=$(awk -F, 'NR > 1 { printf "%s%s", sep, $1; sep = "," }' "$g/knn_a_expected.csv")
    run 0 stats knn "$g/points_a.npy" --box 1000 --k 1,5,9 --queries "$g/knn_a_queries.npy" \
      --r "$radii" --out "$work/knn.csv"
    [ "$(head -1 "$work/knn.csv")" = "r,cdf_k1,cdf_k5,cdf_k9" ] || fail "header: $(head -1 "$work/knn.csv")"
    paste -d, "$work/knn.csv" "$g/knn_a_expected.csv" | awk -F, 'NR > 1 { n++
        for (i = 1; i <= 4; i++) if ($i + 0 != $(i + 4) + 0) { print "row " NR - 1 ": " $0; bad = 1 } }
        END { exit bad || n != 60 }' || fail "knn CDFs differ from scipy"
    # Random queries: the same seed gives the same file, another seed another one.
    run 0 stats knn "$g/points_a.npy" --box 1000 --n-queries 5000 --seed 3 --r 20,40,80 --out "$work/a.csv"
    run 0 stats knn "$g/points_a.npy" --box 1000 --n-queries 5000 --seed 3 --r 20,40,80 --out "$work/b.csv"
    run 0 stats knn "$g/points_a.npy" --box 1000 --n-queries 5000 --seed 4 --r 20,40,80 --out "$work/c.csv"
    cmp -s "$work/a.csv" "$work/b.csv" || fail "same seed, different CDFs"
    cmp -s "$work/a.csv" "$work/c.csv" && fail "different seeds, identical CDFs"
    ;;
  stats_hdf5_input)
    # A dataset written by `data convert` carries its box: the 2PCF needs no --box and equals the
    # .npy result. (Depends on `data convert` writing point datasets.)
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 0 --quiet data convert "$g/points_a.npy" --out "$work/pts.h5"
    run 0 stats tpcf "$work/pts.h5" --edges 1,10,100 --out "$work/h5.csv"
    run 0 stats tpcf "$g/points_a.npy" --box 1000 --edges 1,10,100 --out "$work/npy.csv"
    cmp -s "$work/h5.csv" "$work/npy.csv" || fail "HDF5 and .npy inputs differ"
    run 1 stats pk2d "$work/pts.h5" --out "$work/x.csv"
    one_line_error
    contains err "holds point clouds, not 2D fields"
    ;;
  stats_histogram)
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 0 stats hist "$g/pk2d_a_field.npy" --range -2,2 --bins 40 --out "$work/hist.csv"
    [ "$(head -1 "$work/hist.csv")" = "lo,hi,density" ] || fail "header: $(head -1 "$work/hist.csv")"
    [ "$(wc -l <"$work/hist.csv")" -eq 41 ] || fail "expected 40 bins"
    awk -F, 'NR > 1 { s += $3 * ($2 - $1) } END { exit !(s > 1 - 1e-9 && s < 1 + 1e-9) }' \
      "$work/hist.csv" || fail "histogram density does not integrate to 1"
    ;;
  stats_bad_inputs)
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 1 stats tpcf "$g/points_a.npy" --box 1000 --edges 5,1 --out "$work/x.csv"
    one_line_error
    contains err "strictly increasing"
    run 1 stats tpcf "$g/points_a.npy" --edges 1,5 --out "$work/x.csv"  # .npy without --box
    one_line_error
    contains err "points_a.npy: the file carries no box size"
    write_npy_ones "$work/five.npy" "(5, 3)" 15
    run 1 stats knn "$work/five.npy" --box 10 --k 1,9 --n-queries 10 --r 1,2 --out "$work/x.csv"
    one_line_error
    contains err "k = 9 exceeds the number of points (5)"
    write_npy_ones "$work/empty.npy" "(0, 3)" 0
    run 1 stats tpcf "$work/empty.npy" --box 10 --edges 1,2 --out "$work/x.csv"
    one_line_error
    contains err "empty"
    write_npy_ones "$work/rect.npy" "(4, 8)" 32
    run 1 stats pk2d "$work/rect.npy" --box 25 --out "$work/x.csv"
    one_line_error
    contains err "rect.npy: the field is 4 x 8, not square"
    write_npy_f8 "$work/nan.npy" "(8, 8)" 64 9
    run 1 stats pk2d "$work/nan.npy" --box 25 --out "$work/x.csv"
    one_line_error
    contains err "nan.npy"
    run 1 stats hmf "$g/points_a.npy" --box 1000 --edges 12,13 --out "$work/x.csv"
    one_line_error
    contains err "no log10 mass column"
    [ ! -e "$work/x.csv" ] || fail "an output file was written despite an error"
    # Points outside the box are wrapped, with one warning line, and the command succeeds.
    run 0 stats tpcf "$g/points_a.npy" --box 500 --edges 1,10 --out "$work/w.csv"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "expected one warning line: $(cat "$work/err")"
    contains err "^diffuscope-cli: warning: tpcf: [0-9]* of 5000 points lay outside \[0, 500)^3"
    ;;
  mock_fields)
    # Every kind over a small LH set; `data info` describes the result.
    for kind in grf lognormal zeldovich; do
      run 0 --quiet --threads 2 mock fields --kind $kind --set lh --n-cosmo 3 --per-cosmo 2 \
        --res 32 --seed 5 --out "$work/$kind.h5"
      contains out "wrote 6 $kind fields of 32x32"
      run 0 data info "$work/$kind.h5"
      contains out "shape: \[6, 32, 32\]"
      contains out "set: lh"
      contains out "source: mock ($kind)"
      contains out "seed: 5"
    done
    contains out "units: (Msun/h)/(Mpc/h)^2"
    # 1P: two parameters x C values x M maps; the same seed gives the same bytes of data.
    run 0 --quiet mock fields --kind grf --set 1p --n-cosmo 3 --per-cosmo 2 --res 16 --seed 1 \
      --out "$work/a.h5"
    run 0 --quiet --threads 1 mock fields --kind grf --set 1p --n-cosmo 3 --per-cosmo 2 --res 16 \
      --seed 1 --out "$work/b.h5"
    run 0 data info "$work/a.h5"
    contains out "shape: \[12, 16, 16\]"
    contains out "param Omega_m: \[0.1, 0.5\]"
    run 0 --quiet mock fields --set single --omega-m 0.25 --sigma-8 0.9 --n-cosmo 1 \
      --per-cosmo 3 --res 16 --out "$work/s.h5"
    run 0 data info "$work/s.h5"
    contains out "param Omega_m: \[0.25, 0.25\]"
    ;;
  mock_halos)
    run 0 --quiet mock halos --set cv --n-cosmo 1 --per-cosmo 2 --n-halos 500 --mesh 32 \
      --features all --seed 2 --out "$work/h.h5"
    contains out "wrote 2 halo catalogues of 500 halos"
    run 0 data info "$work/h.h5"
    contains out "shape: \[2, 500, 7\]"
    contains out "features: x y z vx vy vz log10_mass"
    contains out "box: 1000 Mpc/h"
    run 0 --quiet mock halos --set lh --n-cosmo 2 --n-halos 300 --mesh 32 --features pos \
      --out "$work/p.h5"
    run 0 data info "$work/p.h5"
    contains out "shape: \[2, 300, 3\]"
    ;;
  mock_bad_inputs)
    run 1 --quiet mock fields --set single --omega-m 0.7 --out "$work/x.h5"
    one_line_error
    contains err "outside the prior"
    run 1 --quiet mock fields --set lh --sigma-8 0.9 --out "$work/x.h5"
    one_line_error
    contains err "single only"
    run 2 mock fields --kind nope --out "$work/x.h5"
    one_line_error
    run 2 mock fields --res 8 --out "$work/x.h5"
    one_line_error
    run 1 --quiet mock halos --n-halos 300 --mesh 17 --out "$work/x.h5"
    one_line_error
    contains err "mesh 17"
    run 1 --quiet mock fields --res 16 --n-cosmo 1 --out "$work/no/such/dir/x.h5"
    one_line_error
    contains err "no/such/dir"
    [ ! -e "$work/x.h5" ] || fail "an output file was written despite an error"
    ;;
  model_info)
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 0 model info "$d/checkpoint_tiny.pt"
    contains out "^format: PyTorch checkpoint"
    contains out "^parameters: 605967$"
    contains out "dim=16, dim_mults=(1, 2, 4)"
    contains out "^input x_t: \[B, 1, N, N\] float32, N a multiple of 4$"
    contains out "^input theta: \[B, 2\] float32"
    contains out "^schedule: custom_linear_beta_schedule, T = 1000"
    # sqrt(1 - alphabar) of the paper's schedule (reference doc): 0.010, 0.062, 0.242, 0.852.
    contains out "at t = 0, 19, 100, 500, 999: 0.010, 0.062, 0.242, 0.852"
    run 0 model info --json "$d/checkpoint_tiny.pt"
    contains out '"parameters": 605967'
    ;;
  model_eval)
    # The authors' network output for the fixture inputs, to 1e-5 (shared/testdata/dhmc_tiny).
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 0 --quiet model eval --model "$d/checkpoint_tiny.pt" --x "$d/x.npy" --t "$d/t.npy" \
      --theta "$d/theta_normalized.npy" --out "$work/eps.npy"
    head -c 128 "$work/eps.npy" >"$work/header"
    contains header "'descr': '<f4'"
    contains header "'shape': (4, 1, 32, 32"
    # float32 payloads after each header (header length: little-endian uint16 at byte 8, v1).
    payload() { od -A n -t f4 -w4 -v -j $((10 + $(od -A n -t u2 -j 8 -N 2 "$1"))) "$1"; }
    paste <(payload "$work/eps.npy") <(payload "$d/eps_expected.npy") >"$work/pairs"
    [ "$(wc -l <"$work/pairs")" -eq 4096 ] || fail "expected 4096 values"
    awk '{ e = $1 - $2; if (e < 0) e = -e; if (e > m) m = e } END { print "max |eps - expected| =", m; exit !(m < 1e-5) }' \
      "$work/pairs" || fail "eps differs from eps_expected.npy by 1e-5 or more"
    ;;
  model_bad_inputs)
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 1 model info "$work/missing.pt"
    one_line_error
    contains err "missing.pt: does not exist"
    printf 'not a zip' >"$work/bad.pt"
    run 1 model info "$work/bad.pt"
    one_line_error
    contains err "bad.pt: not a zip archive"
    head -c 100000 "$d/checkpoint_tiny.pt" >"$work/cut.pt"
    run 1 model info "$work/cut.pt"
    one_line_error
    contains err "cut.pt: unreadable PyTorch archive, truncated or corrupt"
    run 1 model info --ema "$d/checkpoint_tiny.pt"
    one_line_error
    contains err "has no 'model_ema_state_dict' entry"
    run 1 --quiet model eval --model "$d/checkpoint_tiny.pt" --x "$d/theta_normalized.npy" \
      --t "$d/t.npy" --theta "$d/theta_normalized.npy" --out "$work/eps.npy"
    one_line_error
    contains err "theta_normalized.npy: shape \[4, 2\] is not \[B, 1, N, N\]"
    run 1 --quiet model eval --model "$d/checkpoint_tiny.pt" --x "$d/x.npy" --t "$d/betas.npy" \
      --theta "$d/theta_normalized.npy" --out "$work/eps.npy"
    one_line_error
    contains err "betas.npy: shape \[1000\] is not \[4\]"
    [ ! -e "$work/eps.npy" ] || fail "output written despite the error"
    run 2 model eval --model "$d/checkpoint_tiny.pt"
    one_line_error
    ;;
  diagnose_getdist)
    # Two GetDist chains of 8 draws; Omega_m sorted: 0.27 0.28 0.28 0.29 ... 0.32 0.33, so the 94%
    # HDI (floor(0.94 * 16) = 15 steps wide) is [0.27, 0.33] and the mean 0.3.
    printf '1 %s %s %s\n' 1.5 0.30 0.80 1.2 0.32 0.82 1.1 0.28 0.79 1.4 0.31 0.81 1.3 0.29 0.78 \
      1.0 0.30 0.80 1.6 0.33 0.83 1.2 0.27 0.77 >"$work/run_1.txt"
    printf '1 %s %s %s\n' 1.3 0.31 0.81 1.2 0.29 0.79 1.5 0.30 0.80 1.1 0.32 0.82 1.4 0.28 0.78 \
      1.2 0.30 0.80 1.3 0.29 0.79 1.1 0.31 0.81 >"$work/run_2.txt"
    printf 'omegam  \\Omega_m\nsigma8  \\sigma_8\n' >"$work/run.paramnames"
    run 0 diagnose "$work/run"
    contains out "2 chains x 8 draws"
    contains out "^parameter .*mean .*sd .*hdi_3% .*hdi_97% .*mcse_mean .*ess_bulk .*ess_tail .*r_hat"
    contains out "^Omega_m  *0.3  *0.0[0-9]*  *0.27  *0.33 "
    contains out "^sigma_8  *0.8 "
    run 0 diagnose "$work/run" --json
    contains out '"Omega_m": {'
    contains out '"hdi_3%": 0.27,'
    contains out '"hdi_97%": 0.33,'
    grep -A1 '"Omega_m"' "$work/out" | sed -n 's/.*"mean": \([^,]*\),/\1/p' >"$work/mean"
    near mean 0.3 1e-12
    ;;
  diagnose_csv)
    { echo "chain,draw,Omega_m,sigma_8,acceptance_rate,diverging"
      for c in 0 1; do for d in 0 1 2 3 4 5; do
        echo "$c,$d,0.3$((c + d)),0.8$((d % 3)),0.$((5 + (c + d) % 5)),$(( c == 1 && d == 2 ? 1 : 0 ))"
      done; done; } >"$work/chains.csv"
    run 0 diagnose "$work/chains.csv"
    contains out "2 chains x 6 draws"
    contains out "^acceptance rate: 0.675 (per chain: 0.667 0.683)"
    contains out "^divergences: 1 (per chain: 0 1)"
    contains out "^warning: 1 divergent transitions"
    run 0 diagnose "$work/chains.csv" --json
    sed -n 's/.*"acceptance_rate": \([^,]*\),/\1/p' "$work/out" >"$work/acceptance"
    near acceptance 0.675 1e-12
    contains out '"divergences": 1,'
    ;;
  diagnose_bad_inputs)
    run 1 diagnose "$work/none"
    one_line_error
    contains err "none: no GetDist chains"
    printf '1 0.5 0.30 0.80\n1 0.5 0.31\n' >"$work/bad_1.txt"
    run 1 diagnose "$work/bad"
    one_line_error
    contains err "bad_1.txt: line 2 has 3 columns, expected 4"
    printf '1 0.5 0.30 0.80\n1 0.5 nan 0.81\n' >"$work/bad_1.txt"
    run 1 diagnose "$work/bad"
    one_line_error
    contains err "bad_1.txt: line 2 column 3 is not finite"
    printf 'not HDF5' >"$work/x.nc"
    run 1 diagnose "$work/x.nc"
    one_line_error
    contains err "x.nc: not an HDF5 file"
    run 2 diagnose
    one_line_error
    ;;
  vlb_terms)
    # The authors' truncated VLB terms and gradient for the fixture (shared/testdata/dhmc_tiny) to
    # 1e-4 relative; our files are float64, the references float32.
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 0 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/vlb_x0.npy" \
      --theta 0.3,0.8 --noise "$d/vlb_noise.npy" --tmax 20 --grad --out "$work/terms.npy"
    contains out "^log_likelihood "
    contains out "^gradient "
    head -c 128 "$work/terms.npy" >"$work/header"
    contains header "'descr': '<f8'"
    contains header "'shape': (20,)"
    payload() { od -A n -t "$2" -w"${3}" -v -j $((10 + $(od -A n -t u2 -j 8 -N 2 "$1"))) "$1"; }
    for pair in "terms.npy vlb_terms_expected.npy 20" "terms_grad.npy vlb_grad_expected.npy 2"; do
      set -- $pair
      [ -e "$work/$1" ] || fail "$1 not written"
      paste <(payload "$work/$1" f8 8) <(payload "$d/$2" f4 4) >"$work/pairs"
      [ "$(wc -l <"$work/pairs")" -eq "$3" ] || fail "$1: expected $3 values"
      awk '{ e = ($1 - $2) / $2; if (e < 0) e = -e; if (e > m) m = e } END { print "max relative error", m; exit !(m < 1e-4) }' \
        "$work/pairs" || fail "$1 differs from $2 by 1e-4 relative or more"
    done
    # Without --noise: common draws from the seed, reproducible.
    run 0 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/vlb_x0.npy" --tmax 3 \
      --draws 2 --seed 5 --prior-term --out "$work/a.npy"
    cp "$work/out" "$work/first"
    run 0 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/vlb_x0.npy" --tmax 3 \
      --draws 2 --seed 5 --prior-term --out "$work/b.npy"
    cmp -s "$work/a.npy" "$work/b.npy" || fail "the same seed gave different terms"
    contains a.npy "'shape': (4,)"
    ;;
  vlb_terms_bad_inputs)
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 1 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/vlb_x0.npy" \
      --noise "$d/vlb_noise.npy" --tmax 10 --out "$work/t.npy"
    one_line_error
    contains err "vlb_noise.npy: shape \[20, 1, 32, 32\] is not \[T_MAX = 10, 1, 32, 32\]"
    run 1 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/vlb_x0.npy" \
      --theta 0.3 --out "$work/t.npy"
    one_line_error
    contains err "--theta has 1 values; the model takes 2"
    run 1 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/x.npy" --out "$work/t.npy"
    one_line_error
    contains err "x.npy: holds 4 fields; choose one with --index"
    run 1 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/x.npy" --index 4 \
      --out "$work/t.npy"
    one_line_error
    contains err "x.npy: has 4 fields; index 4 is out of range"
    run 1 --quiet --threads 1 vlb-terms --model "$d/checkpoint_tiny.pt" --field "$d/betas.npy" --out "$work/t.npy"
    one_line_error
    contains err "betas.npy: shape \[1000\] is not"
    run 1 --quiet --threads 1 vlb-terms --model "$work/missing.pt" --field "$d/vlb_x0.npy" --out "$work/t.npy"
    one_line_error
    contains err "missing.pt: does not exist"
    [ ! -e "$work/t.npy" ] || fail "output written despite the error"
    run 2 vlb-terms --model "$d/checkpoint_tiny.pt"
    one_line_error
    ;;
  sample_fields)
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    # The fixture's weights are random, so its fields leave the transform's range: model space.
    run 0 --quiet --threads 1 sample --model "$d/checkpoint_tiny.pt" --omega-m 0.3 --sigma-8 0.8 --n 3 \
      --res 32 --sampler ddim --steps 5 --seed 1 --model-space --out "$work/s.npy"
    head -c 128 "$work/s.npy" >"$work/header"
    contains header "'descr': '<f4'"
    contains header "'shape': (3, 32, 32"
    run 0 --quiet --threads 1 sample --model "$d/checkpoint_tiny.pt" --n 3 --res 32 --steps 5 --seed 1 \
      --model-space --out "$work/again.npy"
    cmp -s "$work/s.npy" "$work/again.npy" || fail "DDIM with the same seed gave different fields"
    run 0 --quiet --threads 1 sample --model "$d/checkpoint_tiny.pt" --n 2 --res 16 --sampler ode --steps 3 \
      --seed 2 --model-space --out "$work/s.h5"
    run 0 data info "$work/s.h5"
    contains out "shape: \[2, 16, 16\]"
    contains out "source: diffusion (checkpoint_tiny.pt)"
    contains out "param sigma_8: \[0.8, 0.8\]"
    contains out "seed: 2"
    ;;
  sample_bad_inputs)
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 1 --quiet --threads 1 sample --model "$d/checkpoint_tiny.pt" --res 30 --out "$work/s.npy"
    one_line_error
    contains err "field size 30 is not a positive multiple of 4"
    run 1 --quiet --threads 1 sample --model "$d/checkpoint_tiny.pt" --res 32 --steps 1001 --out "$work/s.npy"
    one_line_error
    contains err "sampler steps 1001 outside \[1, 1000\]"
    run 1 --quiet --threads 1 sample --model "$d/checkpoint_tiny.pt" --out "$work/s.txt"
    one_line_error
    contains err "must end in .npy, .h5 or .hdf5"
    # Physical units of a random-weight model overflow: refused, nothing written.
    run 1 --quiet --threads 1 sample --model "$d/checkpoint_tiny.pt" --n 2 --res 16 --steps 3 --out "$work/s.npy"
    one_line_error
    contains err "not finite in physical units"
    [ ! -e "$work/s.npy" ] || fail "output written despite the error"
    run 2 sample --model "$d/checkpoint_tiny.pt" --sampler euler --out "$work/s.npy"
    one_line_error
    ;;
  infer_hmc_target)
    # The published configuration (the defaults) on an analytic target: GetDist + ArviZ files,
    # 200 kept draws per chain, a summary on stderr; same seed -> same bytes, any thread count.
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 0 --quiet --threads 1 hmc --target "$g/hmc_targets_a.json:correlated_gaussian" \
      --chains 4 --samples 300 --burn-in 100 --step 5e-4 --leapfrog 5 --inv-mass 1,5 \
      --start 0.3,0.8 --seed 7 --out "$work/c/pub"
    for f in pub_1.txt pub_2.txt pub_3.txt pub_4.txt pub.paramnames pub.ranges pub.nc; do
      [ -s "$work/c/$f" ] || fail "$f not written"
    done
    [ ! -e "$work/c/pub_5.txt" ] || fail "a fifth chain file"
    [ "$(grep -vc '^#' "$work/c/pub_1.txt")" -eq 200 ] || fail "pub_1.txt does not hold 200 draws"
    contains err "hmc: 4 chains x 200 draws"
    contains err "^  x  *mean 0.3"
    contains err "divergences 0 of 800 draws"
    run 0 --quiet --threads 2 hmc --target "$g/hmc_targets_a.json:correlated_gaussian" --seed 7 \
      --out "$work/d/pub"
    cmp -s "$work/c/pub_3.txt" "$work/d/pub_3.txt" || fail "same seed, different chains"
    run 0 --quiet hmc --target "$g/hmc_targets_a.json:correlated_gaussian" --seed 8 --out "$work/e/pub"
    ! cmp -s "$work/c/pub_3.txt" "$work/e/pub_3.txt" || fail "another seed, same chains"
    # With adaptation on the box-truncated target: no draw leaves the box.
    run 0 --quiet hmc --target "$g/hmc_targets_a.json:box_truncated_gaussian" --adapt \
      --samples 600 --burn-in 200 --start 0.12,0.63 --out "$work/b/box"
    awk '!/^#/ { if ($3 < 0.1 || $3 > 0.5 || $4 < 0.6 || $4 > 1.0) bad = 1 } END { exit bad }' \
      "$work"/b/box_*.txt || fail "a draw outside the box"
    ;;
  infer_surrogate_hmc)
    # Delayed-acceptance HMC on a surrogate: an analytic target's chains (GetDist), diagnosed by
    # `diagnose`; the tiny model's VLB with common noise; fresh noise refused.
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 0 --quiet surrogate-hmc --target "$g/hmc_targets_a.json:correlated_gaussian" \
      --samples 700 --burn-in 100 --seed 5 --out "$work/s/g"
    [ "$(grep -vc '^#' "$work/s/g_1.txt")" -eq 600 ] || fail "g_1.txt does not hold 600 draws"
    contains err "surrogate_hmc: 4 chains x 600 draws"
    contains err "exact evaluations (.* for the design), value only; stage 1 accepted"
    contains err "^  x  *mean 0\.[23]"
    run 0 --quiet diagnose "$work/s/g"
    contains out "x"
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    write_npy_f8 "$work/f.npy" "(8, 8)" 64
    run 0 --quiet --threads 1 surrogate-hmc --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 2 --chains 2 --samples 40 --burn-in 10 --seed 3 --formats csv --out "$work/m"
    [ "$(wc -l <"$work/m.csv")" -eq 61 ] || fail "m.csv does not hold 2 x 30 draws"
    contains err "common noise"
    run 1 --quiet surrogate-hmc --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" --tmax 2 \
      --noise fresh --out "$work/x"
    one_line_error
    contains err "delayed acceptance needs the deterministic one (--noise common)"
    run 1 --quiet surrogate-hmc --target "$g/hmc_targets_a.json:correlated_gaussian" \
      --min-leapfrog 9 --max-leapfrog 3 --out "$work/y"
    one_line_error
    contains err "min (9) <= max (3)"
    ;;
  infer_nuts_svi_target)
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    run 0 --quiet nuts --target "$g/hmc_targets_a.json:correlated_gaussian" --samples 700 \
      --burn-in 200 --seed 3 --formats csv --out "$work/n"
    [ ! -e "$work/n_1.txt" ] || fail "GetDist written without being asked"
    contains err "nuts: 4 chains x 500 draws"
    head -1 "$work/n.csv" >"$work/header"
    contains header "^chain,draw,x,y,lp,acceptance_rate,step_size,n_steps,tree_depth,diverging"
    [ "$(wc -l <"$work/n.csv")" -eq 2001 ] || fail "n.csv does not hold 2000 draws"
    # Mean of x over 2000 draws (sd 0.02, ESS ~1000+): 0.3 within 0.003.
    awk -F, 'NR > 1 { s += $3; n++ } END { print s / n }' "$work/n.csv" >"$work/mean"
    near mean 0.3 0.003
    run 0 --quiet svi --target "$g/hmc_targets_a.json:correlated_gaussian" --start 0.27,0.84 \
      --steps 1500 --draws 500 --seed 3 --formats csv,getdist --out "$work/s"
    contains err "svi: 1 chains x 500 draws"
    [ -s "$work/s_1.txt" ] || fail "s_1.txt not written"
    awk -F, 'NR > 1 { s += $4; n++ } END { print s / n }' "$work/s.csv" >"$work/mean"
    near mean 0.8 0.006
    ;;
  infer_posterior_exact_grf)
    # A GRF mock and the exact posterior of its field by NUTS: files and a summary naming the
    # cosmological parameters.
    run 0 --quiet mock fields --kind grf --set single --omega-m 0.3 --sigma-8 0.8 --n-cosmo 1 \
      --per-cosmo 2 --res 32 --box 1000 --seed 3 --out "$work/f.h5"
    run 0 --quiet posterior --exact-grf "$work/f.h5" --index 1 --chains 2 --samples 80 \
      --burn-in 40 --seed 4 --out "$work/p/grf"
    for f in grf_1.txt grf_2.txt grf.paramnames grf.ranges grf.nc; do
      [ -s "$work/p/$f" ] || fail "$f not written"
    done
    contains err "exact GRF posterior of field 1"
    contains err "Omega_m *mean"
    contains err "sigma_8 *mean"
    grep -q "^omegam" "$work/p/grf.paramnames" || fail "no omegam in grf.paramnames"
    grep -q "0.1 *0.5" "$work/p/grf.ranges" || fail "grf.ranges lacks the prior box"
    ;;
  infer_bad_inputs)
    g="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/goldens"
    t="$g/hmc_targets_a.json"
    run 1 hmc --out "$work/x"
    one_line_error
    contains err "exactly one log-density source"
    run 1 hmc --target "$t:correlated_gaussian" --exact-grf "$work/f.npy" --out "$work/x"
    one_line_error
    run 1 nuts --target "$t" --out "$work/x"
    one_line_error
    contains err "must be FILE.json:NAME"
    run 1 nuts --target "$t:nope" --out "$work/x"
    one_line_error
    contains err "has no target 'nope'"
    run 1 hmc --target "$work/missing.json:x" --out "$work/x"
    one_line_error
    contains err "missing.json"
    run 1 hmc --target "$t:correlated_gaussian" --samples 100 --burn-in 100 --out "$work/x"
    one_line_error
    contains err "must exceed --burn-in"
    run 1 hmc --target "$t:correlated_gaussian" --inv-mass 1,-5 --out "$work/x"
    one_line_error
    contains err "inverse mass entry 1"
    run 1 hmc --target "$t:box_truncated_gaussian" --start 0.05,0.7 --out "$work/x"
    one_line_error
    contains err "start"
    run 1 hmc --target "$t:correlated_gaussian" --formats getdist,pdf --out "$work/x"
    one_line_error
    contains err "unknown format 'pdf'"
    run 1 posterior --out "$work/x"
    one_line_error
    contains err "exact-grf"
    run 1 posterior --exact-grf "$work/none.npy" --out "$work/x"
    one_line_error
    contains err "none.npy"
    run 2 nuts --target "$t:correlated_gaussian" --chains 0 --out "$work/x"
    one_line_error
    [ -z "$(ls "$work" | grep '^x')" ] || fail "output written despite the errors"
    ;;
  infer_posterior_pk_baseline)
    # The power-spectrum baseline posterior of a GRF mock: from mock datasets (saved, then reused
    # with --pk-load: identical chains), and from mocks generated like the field.
    run 0 --quiet mock fields --kind grf --set lh --n-cosmo 30 --per-cosmo 2 --res 16 --box 1000 \
      --seed 3 --out "$work/lh.h5"
    run 0 --quiet mock fields --kind grf --set cv --n-cosmo 1 --per-cosmo 60 --res 16 --box 1000 \
      --seed 4 --out "$work/cv.h5"
    run 0 --quiet mock fields --kind grf --set single --omega-m 0.3 --sigma-8 0.8 --n-cosmo 1 \
      --per-cosmo 2 --res 16 --box 1000 --seed 5 --out "$work/f.h5"
    run 0 --quiet posterior --pk-baseline --field "$work/f.h5" --index 1 --pk-mocks "$work/lh.h5" \
      --pk-cov-mocks "$work/cv.h5" --pk-bins 6 --pk-degree 2 --pk-save "$work/b.json" --chains 2 \
      --samples 150 --burn-in 50 --seed 4 --out "$work/p/pk"
    for f in pk_1.txt pk_2.txt pk.paramnames pk.ranges pk.nc; do
      [ -s "$work/p/$f" ] || fail "$f not written"
    done
    contains err "power-spectrum baseline posterior of field 1"
    contains err "degree-2 mean from 60 mocks (30 cosmologies"
    contains err "fiducial covariance from 60 mocks"
    contains err "Omega_m *mean"
    grep -q '"format": "diffuscope-pk-baseline"' "$work/b.json" || fail "b.json is not a baseline"
    run 0 --quiet posterior --pk-baseline --field "$work/f.h5" --index 1 --pk-load "$work/b.json" \
      --chains 2 --samples 150 --burn-in 50 --seed 4 --out "$work/q/pk"
    cmp -s "$work/p/pk_1.txt" "$work/q/pk_1.txt" || fail "the saved baseline gives other chains"
    run 0 --quiet posterior --pk-baseline --field "$work/f.h5" --pk-cosmologies 20 \
      --pk-per-cosmo 2 --pk-cov-count 40 --pk-bins 6 --pk-degree 2 --chains 2 --samples 150 \
      --burn-in 50 --seed 4 --out "$work/g/pk"
    contains err "generated lh set (20 cosmologies x 2 16^2 grf mocks"
    awk '!/^#/ { if ($3 < 0.1 || $3 > 0.5 || $4 < 0.6 || $4 > 1.0) bad = 1 } END { exit bad }' \
      "$work"/g/pk_*.txt || fail "a draw outside the prior box"
    ;;
  calibrate_exact_grf)
    # Coverage table of the exact GRF posterior on 4 of 12 LH mocks, and of the baseline with
    # width ratios against the exact posterior (GRF mocks: reference by default).
    run 0 --quiet mock fields --kind grf --set lh --n-cosmo 12 --per-cosmo 1 --res 16 --box 1000 \
      --seed 7 --out "$work/lh.h5"
    run 0 --quiet calibrate --exact-grf --mocks "$work/lh.h5" --n-fields 4 --chains 2 \
      --samples 100 --burn-in 50 --seed 2 --out "$work/cal.json"
    contains out "calibration of the exact GRF posterior on 4 of 12 fields"
    contains out "^Omega_m *4 "
    contains out "^sigma_8 *4 "
    [ "$(grep -c '"index"' "$work/cal.json")" -eq 4 ] || fail "cal.json lacks the 4 fields"
    grep -q '"coverage_68"' "$work/cal.json" || fail "cal.json lacks the summary"
    grep -q '"source": "exact-grf"' "$work/cal.json" || fail "cal.json lacks the settings"
    run 0 --quiet calibrate --pk-baseline --mocks "$work/lh.h5" --n-fields 2 --pk-cosmologies 20 \
      --pk-per-cosmo 2 --pk-cov-count 40 --pk-bins 6 --pk-degree 2 --chains 2 --samples 100 \
      --burn-in 50 --seed 2 --out "$work/pk.json"
    contains out "power-spectrum baseline posterior on 2 of 12 fields"
    contains out "width ratios against the exact GRF posterior"
    grep -q '"width_ratio_mean": [0-9]' "$work/pk.json" || fail "pk.json lacks the width ratios"
    ;;
  calibrate_bad_inputs)
    run 0 --quiet mock fields --kind grf --set lh --n-cosmo 4 --per-cosmo 1 --res 16 --box 1000 \
      --seed 7 --out "$work/lh.h5"
    run 1 calibrate --exact-grf --mocks "$work/missing.h5" --n-fields 3 --out "$work/x.json"
    one_line_error
    contains err "missing.h5"
    run 1 calibrate --exact-grf --mocks "$work/lh.h5" --n-fields 5 --out "$work/x.json"
    one_line_error
    contains err "lh.h5: --n-fields 5 exceeds the 4 fields it holds"
    run 1 calibrate --mocks "$work/lh.h5" --n-fields 2 --out "$work/x.json"
    one_line_error
    contains err "exactly one posterior source"
    run 1 calibrate --pk-baseline --mocks "$work/lh.h5" --n-fields 2 \
      --pk-mocks "$work/none.h5" --out "$work/x.json"
    one_line_error
    contains err "none.h5"
    run 2 calibrate --exact-grf --mocks "$work/lh.h5"
    one_line_error
    run 1 posterior --pk-baseline --out "$work/x"
    one_line_error
    contains err "--field"
    run 1 posterior --pk-baseline --field "$work/lh.h5" --pk-mocks "$work/none.h5" --out "$work/x"
    one_line_error
    contains err "none.h5"
    [ -z "$(ls "$work" | grep '^x')" ] || fail "output written despite the errors"
    ;;
  batch_slurm_grid)
    # vlb-grid over 3 lognormal mocks (with truths) as a SLURM array driven by a fake SLURM
    # environment; a task killed mid-run (kill -9, scratch left) is re-submitted and only it runs
    # again; the merged table equals the one made from the same fields run one by one with
    # `vlb-grid` itself.
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 0 --quiet mock fields --kind lognormal --set lh --n-cosmo 3 --per-cosmo 1 --res 16 \
      --seed 2 --out "$work/f.h5"
    opts=(--model "$d/checkpoint_tiny.pt" --tmax 2 --grid 4 --full-prior --noise common --draws 1)
    run 0 --quiet batch plan --fields "$work/f.h5" --indices 0-2 --task vlb-grid "${opts[@]}" \
      --seed 9 --time 00:10:00 --mem 1G --partition debug --out "$work/run"
    contains out "planned vlb-grid over 3 fields of .*f.h5: 3 array tasks of 1 field(s)"
    script="$work/run/array.sbatch"
    bash -n "$script" || fail "array.sbatch is not valid bash"
    for line in "#SBATCH --array=0-2" "#SBATCH --output=$work/run/logs/task-%a-job%A.out" \
      "#SBATCH --time=00:10:00" "#SBATCH --mem=1G" "#SBATCH --partition=debug"; do
      grep -qxF -- "$line" "$script" || fail "array.sbatch lacks '$line': $(cat "$script")"
    done
    grep -qF "exec \"$(readlink -f "$cli")\" --quiet" "$script" || fail "array.sbatch does not call $cli"
    grep -qF "batch run \"$work/run\" --task-id \"\$SLURM_ARRAY_TASK_ID\"" "$script" ||
      fail "array.sbatch does not run its task"
    grep -q '"seed": 9' "$work/run/manifest.json" || fail "manifest lacks the seed"
    export SLURM_ARRAY_JOB_ID=77
    for t in 0 2; do
      export SLURM_ARRAY_TASK_ID=$t
      run 0 --quiet --threads 1 batch run "$work/run"
      contains out "task $t of SLURM array job 77"
      contains out "field $t: wrote $work/run/out/field-$t.h5"
      grep "^maximum" "$work/out" >"$work/batch-max-$t"
    done
    # Task 1 killed mid-run: the fields file is swapped for a FIFO, so the task blocks reading its
    # field after it has started; kill -9 then, and leave a half-written file in its scratch.
    mv "$work/f.h5" "$work/f.real.h5" && mkfifo "$work/f.h5"
    SLURM_ARRAY_TASK_ID=1 "$cli" --quiet --threads 1 batch run "$work/run" >"$work/killed" 2>&1 &
    pid=$!
    for _ in $(seq 200); do [ -d "$work/run/out/.field-1.partial" ] && break; sleep 0.1; done
    [ -d "$work/run/out/.field-1.partial" ] || fail "task 1 never started: $(cat "$work/killed")"
    kill -9 $pid; wait $pid 2>/dev/null
    rm "$work/f.h5" && mv "$work/f.real.h5" "$work/f.h5"
    echo junk >"$work/run/out/.field-1.partial/field-1.h5"
    [ ! -e "$work/run/out/field-1.h5" ] || fail "the killed task left an output"
    run 0 batch status "$work/run"
    contains out "^done 2: 0,2$"
    contains out "^missing 1: 1$"
    contains out "^re-submit: sbatch --array=1 $work/run/array.sbatch$"
    run 0 batch status --json "$work/run"
    contains out '"missing": \['
    # The whole array again: only field 1 runs.
    touch "$work/before"; sleep 1
    for t in 0 1 2; do
      export SLURM_ARRAY_TASK_ID=$t
      run 0 --quiet --threads 1 batch run "$work/run"
      [ $t = 1 ] && grep "^maximum" "$work/out" >"$work/batch-max-1"
    done
    contains out "field 2: done already"
    grep "^maximum" "$work/out" >/dev/null && fail "task 2 ran its field again"
    SLURM_ARRAY_TASK_ID=1 run 0 --quiet --threads 1 batch run "$work/run"
    contains out "field 1: done already"
    unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_JOB_ID
    [ "$work/run/out/field-0.h5" -nt "$work/before" ] && fail "the re-submission ran field 0 again"
    [ "$work/run/out/field-1.h5" -nt "$work/before" ] || fail "the re-submission did not run field 1"
    [ ! -e "$work/run/out/.field-1.partial" ] || fail "the scratch of the killed task is left"
    run 0 batch status "$work/run"
    contains out "^done 3: 0-2$"
    run 0 batch merge "$work/run" --out "$work/all.h5" --table "$work/batch.csv"
    contains out "merged 3 of 3 fields of vlb-grid into $work/all.h5"
    contains out "^Omega_m  coverage 68% "
    head -1 "$work/batch.csv" | grep -q "^index,Omega_m_mean,Omega_m_sd,Omega_m_lo68,.*sigma_8_truth$" ||
      fail "batch.csv header: $(head -1 "$work/batch.csv")"
    # The same fields run one by one with vlb-grid, with the seeds of the manifest.
    mkdir "$work/direct"
    for i in 0 1 2; do
      seed=$(grep -A1 "\"index\": $i," "$work/run/manifest.json" | sed -n 's/.*"seed": \([0-9]*\).*/\1/p')
      run 0 --quiet --threads 1 vlb-grid "${opts[@]}" --field "$work/f.h5" --index $i --seed "$seed" \
        --out "$work/direct/field-$i.h5"
      grep "^maximum" "$work/out" | cmp -s - "$work/batch-max-$i" || fail "field $i: batch and direct maxima differ"
    done
    cp -r "$work/run" "$work/run2" && cp "$work/direct"/field-*.h5 "$work/run2/out/"
    run 0 batch merge "$work/run2" --out "$work/direct.h5" --table "$work/direct.csv"
    cmp -s "$work/batch.csv" "$work/direct.csv" ||
      fail "merged tables differ: $(cat "$work/batch.csv") vs $(cat "$work/direct.csv")"
    ;;
  batch_local_chains)
    # nuts over a .npy stack in chunks of 2 fields, run locally by 2 worker processes; the merged
    # table equals the one from `nuts` run on each field; a field that fails leaves a marker,
    # status reports it and the merge refuses the run unless --allow-missing.
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    write_npy_f8 "$work/stack.npy" "(3, 8, 8)" 192
    opts=(--model "$d/checkpoint_tiny.pt" --tmax 2 --draws 1 --max-depth 3 --chains 2 --samples 8
      --burn-in 4)
    run 0 --quiet batch plan --fields "$work/stack.npy" --task nuts "${opts[@]}" --chunk 2 \
      --seed 3 --out "$work/run"
    contains out "2 array tasks of 2 field(s)"
    run 0 --quiet --threads 1 batch run "$work/run" --all --jobs 2
    contains out "2 tasks to run, 2 at a time, 1 thread(s) each"
    [ -s "$work/run/logs/local-task-1.out" ] || fail "no log of local task 1"
    grep -q "field 2: diffuscope-cli .*nuts .*--index 2 --seed [0-9]* --out" "$work/run/logs/local-task-1.out" ||
      fail "the log lacks the equivalent command: $(cat "$work/run/logs/local-task-1.out")"
    run 0 --quiet --threads 1 batch run "$work/run" --all --jobs 2
    contains out "all 3 fields are done already"
    run 0 batch merge "$work/run" --out "$work/all.h5" --table "$work/batch.csv"
    grep -q "_truth" "$work/batch.csv" && fail "a .npy stack has no truths: $(head -1 "$work/batch.csv")"
    mkdir "$work/direct"
    for i in 0 1 2; do
      seed=$(grep -A1 "\"index\": $i," "$work/run/manifest.json" | sed -n 's/.*"seed": \([0-9]*\).*/\1/p')
      run 0 --quiet --threads 1 nuts "${opts[@]}" --field "$work/stack.npy" --index $i --seed "$seed" \
        --formats arviz --out "$work/direct/field-$i"
    done
    cp -r "$work/run" "$work/run2" && cp "$work/direct"/field-*.nc "$work/run2/out/"
    run 0 batch merge "$work/run2" --out "$work/direct.h5" --table "$work/direct.csv"
    cmp -s "$work/batch.csv" "$work/direct.csv" ||
      fail "merged tables differ: $(cat "$work/batch.csv") vs $(cat "$work/direct.csv")"
    # A task whose field fails at run time (samples not above the burn-in).
    run 0 --quiet batch plan --fields "$work/stack.npy" --indices 1 --task hmc \
      --model "$d/checkpoint_tiny.pt" --tmax 2 --samples 4 --burn-in 8 --out "$work/bad"
    run 1 --quiet --threads 1 batch run "$work/bad" --task-id 0
    one_line_error
    contains err "field(s) 1 failed"
    grep -q "must exceed --burn-in" "$work/bad/out/field-1.failed" || fail "no failure marker"
    run 0 batch status "$work/bad"
    contains out "^failed 1: 1$"
    contains out "field 1: hmc: --samples 4 must exceed --burn-in 8"
    run 1 batch merge "$work/bad" --out "$work/bad.h5"
    one_line_error
    contains err "1 of 1 fields are not done; failed 1"
    rm "$work/run/out/field-2.nc"
    run 1 batch merge "$work/run" --out "$work/part.h5"
    contains err "missing 2 (run them again, or merge the rest with --allow-missing)"
    [ ! -e "$work/part.h5" ] || fail "merge wrote a file despite the error"
    run 0 batch merge "$work/run" --out "$work/part.h5" --allow-missing
    contains out "merged 2 of 3 fields of nuts into $work/part.h5 (missing 2)"
    ;;
  batch_report_calibration)
    # The report's calibration block as a batch task: 3 GRF mocks scored by the exact GRF
    # likelihood as fake-SLURM array tasks; `batch merge --report` writes the calibration report,
    # whose table equals that of `report` on the same fields. Then a vlb run with the tiny model:
    # a batch field's record equals `report-calibration` run by hand with the manifest's seed.
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    run 0 --quiet mock fields --kind grf --set lh --n-cosmo 3 --per-cosmo 1 --res 32 --box 1000 \
      --seed 2 --out "$work/g.h5"
    run 0 --quiet batch plan --fields "$work/g.h5" --task report-calibration \
      --likelihood exact-grf --seed 9 --out "$work/run"
    contains out "planned report-calibration over 3 fields"
    for t in 0 1 2; do
      SLURM_ARRAY_TASK_ID=$t run 0 --quiet --threads 1 batch run "$work/run"
      contains out "field $t: wrote $work/run/out/field-$t.json"
    done
    run 0 batch merge "$work/run" --out "$work/all.h5" --report "$work/rep"
    contains out "merged 3 of 3 fields of report-calibration into $work/all.h5"
    contains out "wrote $work/rep/report.json and $work/rep/report.md"
    grep -q '"exact_comparison": false' "$work/rep/report.json" || fail "exact-grf has no exact comparison"
    run 0 --quiet --threads 1 report --mocks "$work/g.h5" --fields 3 --likelihood exact-grf \
      --no-emulator --seed 9 --out "$work/whole"
    grep '^| \(Omega_m\|sigma_8\) |' "$work/rep/report.md" >"$work/rep.rows"
    grep '^| \(Omega_m\|sigma_8\) |' "$work/whole/report.md" >"$work/whole.rows"
    [ "$(wc -l <"$work/rep.rows")" -eq 2 ] || fail "no calibration table: $(cat "$work/rep/report.md")"
    cmp -s "$work/rep.rows" "$work/whole.rows" ||
      fail "batch and report calibration differ: $(cat "$work/rep.rows") vs $(cat "$work/whole.rows")"
    # NUTS on request: the record's posterior from the draws, merged as such.
    run 0 --quiet batch plan --fields "$work/g.h5" --task report-calibration \
      --likelihood exact-grf --nuts --nuts-chains 2 --nuts-warmup 60 --nuts-draws 80 --seed 9 \
      --out "$work/nuts"
    run 0 --quiet --threads 1 batch run "$work/nuts" --all --jobs 2
    grep -q '"method": "nuts"' "$work/nuts/out/field-0.json" || fail "the --nuts record has no NUTS posterior"
    grep -q '"grid_posterior"' "$work/nuts/out/field-0.json" || fail "the --nuts record lost its grid"
    run 0 batch merge "$work/nuts" --out "$work/nuts.h5"
    contains out "merged 3 of 3 fields of report-calibration into $work/nuts.h5"
    run 1 --quiet report-calibration --likelihood exact-grf --field "$work/g.h5" --index 0 \
      --nuts-draws 50 --out "$work/x.json"
    contains err "need --nuts"
    # The vlb likelihood: a batch field against the command run by hand.
    run 0 --quiet mock fields --kind lognormal --set lh --n-cosmo 2 --per-cosmo 1 --res 16 \
      --seed 3 --out "$work/l.h5"
    opts=(--model "$d/checkpoint_tiny.pt" --t-max 2 --coarse 3 --window 5 --max-levels 1)
    run 0 --quiet batch plan --fields "$work/l.h5" --task report-calibration "${opts[@]}" \
      --seed 4 --out "$work/vlb"
    run 0 --quiet --threads 1 batch run "$work/vlb" --all --jobs 2
    seed=$(grep -A1 '"index": 1,' "$work/vlb/manifest.json" | sed -n 's/.*"seed": \([0-9]*\).*/\1/p')
    run 0 --quiet --threads 1 report-calibration "${opts[@]}" --field "$work/l.h5" --index 1 \
      --seed "$seed" --out "$work/direct.json"
    contains out "^Omega_m .* (truth "
    grep -v '"seconds"' "$work/direct.json" >"$work/direct.cmp"
    grep -v '"seconds"' "$work/vlb/out/field-1.json" >"$work/batch.cmp"
    cmp -s "$work/direct.cmp" "$work/batch.cmp" || fail "batch and direct records of field 1 differ"
    grep -q '"likelihood": "vlb"' "$work/direct.json" || fail "the record names no likelihood"
    # Refusals.
    run 1 --quiet batch plan --fields "$work/l.h5" --task report-calibration --out "$work/nomodel"
    one_line_error
    contains err "the report-calibration task needs --model M"
    run 1 report-calibration --likelihood exact-grf --field "$work/l.h5" --index 0 --out "$work/x.json"
    one_line_error
    contains err "l.h5: --likelihood exact-grf needs GRF fields"
    [ ! -e "$work/x.json" ] || fail "a record was written despite the error"
    ;;
  batch_bad_inputs)
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    m="$d/checkpoint_tiny.pt"
    write_npy_f8 "$work/stack.npy" "(3, 8, 8)" 192
    plan() { run "$1" --quiet batch plan --fields "$work/stack.npy" --out "$work/r" "${@:2}"; }
    plan 1 --task vlb-grid --model "$m" --indices 0,x
    one_line_error
    contains err "index list '0,x': 'x' is not an index"
    plan 1 --task vlb-grid --model "$m" --indices 1-5
    contains err "index 3 is out of range (the file holds 3 fields)"
    plan 2 --task frobnicate --model "$m"
    one_line_error
    contains err "frobnicate"
    plan 1 --task vlb-grid --model "$m" --frob 3
    one_line_error
    contains err "vlb-grid: .*--frob"
    plan 1 --task nuts --model "$m" --field "$work/stack.npy"
    contains err "--field is set by the batch for each field"
    plan 1 --task vlb-grid --tmax 3
    contains err "the vlb-grid task needs --model M"
    plan 1 --task nuts --tmax 3
    contains err "the nuts task needs --model M"
    plan 1 --task vlb-grid --model "$work/none.pt"
    contains err "none.pt: does not exist (the --model of the task)"
    plan 1 --task vlb-grid --model "$m" --time "2 hours"
    contains err "--time '2 hours' is not a SLURM time limit"
    [ ! -e "$work/r" ] || fail "a run folder was written despite the errors"
    run 1 --quiet batch plan --fields "$work/none.h5" --task vlb-grid --model "$m" --out "$work/r"
    contains err "none.h5: does not exist"
    plan 0 --task vlb-grid --model "$m"
    plan 1 --task vlb-grid --model "$m"
    contains err "already holds a batch run"
    run 1 batch merge "$work/r" --out "$work/m.h5" --report "$work/rr"
    one_line_error
    contains err "--report is for report-calibration runs; this run is vlb-grid"
    run 1 batch run "$work/r" --task-id 3
    one_line_error
    contains err "task id 3 is out of range: the run has 3 tasks (0-2)"
    SLURM_ARRAY_TASK_ID=abc run 1 batch run "$work/r"
    contains err "SLURM_ARRAY_TASK_ID 'abc' is not a task id"
    run 1 batch run "$work/r"
    contains err "give --task-id I, --all, or run as a SLURM array task"
    run 1 batch status "$work/nothing"
    one_line_error
    contains err "nothing: is not a directory"
    mkdir "$work/empty"
    run 1 batch status "$work/empty"
    contains err "manifest.json: does not exist: .*empty is not a batch run folder"
    run 1 batch merge "$work/r" --out "$work/all.h5"
    contains err "3 of 3 fields are not done; missing 0-2 (nothing to merge)"
    echo '{"format": "diffuscope-batch-run"}' >"$work/empty/manifest.json"
    run 1 batch run "$work/empty" --task-id 0
    contains err "manifest.json: malformed manifest"
    ;;
  vlb_grid)
    # A 5 x 5 likelihood grid of the dhmc_tiny model at T_MAX = 3 on an 8^2 field: HDF5 maps, the
    # maximum and the 1-sigma extent on stdout; the same seed gives the same maximum; a field of a
    # stack by --index.
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    write_npy_f8 "$work/f.npy" "(8, 8)" 64
    write_npy_f8 "$work/stack.npy" "(3, 8, 8)" 192
    run 0 --quiet --threads 1 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 3 --grid 5 --center 0.3,0.8 --half-width 0.04 --noise common --draws 2 --seed 4 \
      --out "$work/g.h5"
    contains out "^grid 5 x 5 (Omega_m \[0.26, 0.34\], sigma_8 \[0.76, 0.84\]), 3 terms"
    contains out "^maximum log_like -\?[0-9]"
    contains out "^1-sigma (-2 Delta ln L <= 2.30): Omega_m \["
    [ -s "$work/g.h5" ] || fail "g.h5 not written"
    [ "$(head -c 8 "$work/g.h5" | od -A n -t x1 | tr -d ' ')" = "894844460d0a1a0a" ] || fail "g.h5 is not HDF5"
    for name in omega_m sigma_8 terms log_like delta_chi2 diffuscope-likelihood-grid checkpoint_tiny.pt f.npy; do
      grep -aq "$name" "$work/g.h5" || fail "g.h5 lacks $name"
    done
    grep "^maximum" "$work/out" >"$work/first"
    run 0 --quiet --threads 1 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 3 --grid 5 --center 0.3,0.8 --half-width 0.04 --noise common --draws 2 --seed 4 \
      --out "$work/again.h5"
    grep "^maximum" "$work/out" | cmp -s - "$work/first" || fail "the same seed gave another maximum"
    # One image per network call: the same grid (chunking changes only float rounding).
    run 0 --quiet --threads 1 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 3 --grid 5 --center 0.3,0.8 --half-width 0.04 --noise common --draws 2 --seed 4 \
      --chunk 1 --out "$work/chunked.h5"
    [ "$(grep "^maximum" "$work/out" | sed 's/.* at /at /')" = "$(sed 's/.* at /at /' "$work/first")" ] ||
      fail "--chunk 1 moved the maximum: $(grep "^maximum" "$work/out")"
    run 0 --quiet --threads 1 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/stack.npy" \
      --index 2 --tmax 2 --grid 3 --full-prior --add-noise 0.02 --out "$work/full.h5"
    contains out "^grid 3 x 3 (Omega_m \[0.1, 0.5\], sigma_8 \[0.6, 1\]), 2 terms"
    # Adaptive: fewer evaluations, the mask in the file, the same maximum as the full 13 x 13.
    run 0 --quiet --threads 1 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 2 --grid 13 --full-prior --noise common --draws 1 --seed 4 --out "$work/full13.h5"
    grep "^maximum" "$work/out" | sed 's/.* at /at /' >"$work/full13"
    run 0 --quiet --threads 1 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 2 --grid 13 --full-prior --noise common --draws 1 --seed 4 --adaptive \
      --out "$work/adaptive.h5"
    contains out "^adaptive (region): [0-9]* of 169 points evaluated, the rest interpolated"
    grep -aq "evaluated" "$work/adaptive.h5" || fail "adaptive.h5 lacks /evaluated"
    [ "$(grep "^maximum" "$work/out" | sed 's/.* at /at /')" = "$(cat "$work/full13")" ] ||
      fail "the adaptive maximum differs: $(grep "^maximum" "$work/out") vs $(cat "$work/full13")"
    # Contour refinement: said in the output and the file, the same maximum.
    run 0 --quiet --threads 1 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 2 --grid 13 --full-prior --noise common --draws 1 --seed 4 --adaptive \
      --refine contours --out "$work/contours.h5"
    contains out "^adaptive (contours): [0-9]* of 169 points evaluated, the rest interpolated"
    grep -aq "contours" "$work/contours.h5" || fail "contours.h5 does not name its refine target"
    [ "$(grep "^maximum" "$work/out" | sed 's/.* at /at /')" = "$(cat "$work/full13")" ] ||
      fail "the contour-adaptive maximum differs: $(grep "^maximum" "$work/out")"
    grep "^adaptive" "$work/out" >"$work/contours_count"
    # Replayed on the full map's values: the same points evaluated as with the model, no point on
    # the other side of a contour, the same maximum; a contour tolerance evaluates fewer.
    run 0 --quiet vlb-grid --replay "$work/full13.h5" --grid 13 --full-prior --adaptive \
      --refine contours --out "$work/replay.h5"
    grep "^adaptive" "$work/out" | cmp -s - "$work/contours_count" ||
      fail "the replay evaluated other points: $(grep "^adaptive" "$work/out") vs $(cat "$work/contours_count")"
    contains out "^against .*full13.h5: 1-sigma region differs at 0 points, 2-sigma at 0 "
    contains out "; maximum the same point$"
    [ -s "$work/replay.h5" ] || fail "replay.h5 not written"
    run 0 --quiet vlb-grid --replay "$work/full13.h5" --grid 13 --full-prior --adaptive \
      --refine contours --contour-tolerance 0.1 --out "$work/tolerance.h5"
    within=$(sed -n 's/^adaptive (contours): \([0-9]*\) of 169.*/\1/p' "$work/out")
    exact=$(sed -n 's/^adaptive (contours): \([0-9]*\) of 169.*/\1/p' "$work/contours_count")
    [ -n "$within" ] && [ "$within" -le "$exact" ] || fail "tolerance 0.1: $within points, exact $exact"
    grep -aq "contour_tolerance" "$work/tolerance.h5" || fail "tolerance.h5 lacks contour_tolerance"
    run 1 --quiet vlb-grid --replay "$work/full13.h5" --grid 11 --full-prior --adaptive \
      --out "$work/no.h5"
    one_line_error
    contains err "full13.h5: has other axes than this scan"
    run 1 --quiet vlb-grid --replay "$work/contours.h5" --grid 13 --full-prior --adaptive \
      --out "$work/no.h5"
    one_line_error
    contains err "contours.h5: is not a complete map"
    run 1 --quiet vlb-grid --replay "$work/full13.h5" --grid 13 --full-prior --adaptive \
      --contour-tolerance 0.1 --out "$work/no.h5"
    contains err "--contour-tolerance needs --refine contours"
    run 2 --quiet vlb-grid --replay "$work/full13.h5" --grid 13 --full-prior --adaptive \
      --refine contours --contour-tolerance -1 --out "$work/no.h5"
    run 1 --quiet vlb-grid --field "$work/f.npy" --grid 13 --out "$work/no.h5"
    one_line_error
    contains err "--model MODEL (or --replay MAP) is required"
    run 1 --quiet vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" --tmax 2 \
      --grid 13 --refine contours --out "$work/no.h5"
    contains err "need --adaptive"
    run 2 --quiet vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" --tmax 2 \
      --grid 13 --adaptive --refine edges --out "$work/no.h5"
    # bf16 networks: an option (it moves the values), refused under another name.
    run 0 --quiet --precision bf16 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 2 --grid 3 --full-prior --noise common --draws 1 --seed 4 --out "$work/bf16.h5"
    contains out "^maximum log_like"
    run 2 --quiet --precision fp16 vlb-grid --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" \
      --tmax 2 --grid 3 --out "$work/no.h5"
    contains err "precision"
    ;;
  vlb_grid_bad_inputs)
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    m="$d/checkpoint_tiny.pt"
    run 1 --quiet vlb-grid --model "$m" --field "$work/none.npy" --tmax 3 --grid 5 --out "$work/g.h5"
    one_line_error
    contains err "none.npy"
    run 1 --quiet vlb-grid --model "$m" --field "$d/vlb_x0.npy" --tmax 3 --grid 5 --center 0.6,0.8 \
      --out "$work/g.h5"
    one_line_error
    contains err "centre Omega_m = 0.6 is outside the prior \[0.1, 0.5\]"
    run 1 --quiet vlb-grid --model "$m" --field "$d/vlb_x0.npy" --tmax 3 --grid 5 --center 0.3 \
      --out "$work/g.h5"
    one_line_error
    contains err "--center '0.3' must be two numbers"
    run 1 --quiet vlb-grid --model "$m" --field "$d/x.npy" --index 4 --tmax 3 --grid 5 --out "$work/g.h5"
    one_line_error
    contains err "x.npy: has 4 fields; index 4 is out of range"
    run 1 --quiet vlb-grid --model "$m" --field "$d/x.npy" --tmax 3 --grid 5 --out "$work/g.h5"
    one_line_error
    contains err "x.npy: holds 4 fields; choose one with --index"
    run 1 --quiet vlb-grid --model "$m" --field "$d/vlb_x0.npy" --tmax 3 --grid 5 \
      --out "$work/nodir/g.h5"
    one_line_error
    contains err "nodir/g.h5: directory .*nodir does not exist"
    run 2 vlb-grid --model "$m" --field "$d/vlb_x0.npy" --index -1 --out "$work/g.h5"
    one_line_error
    run 2 vlb-grid --model "$m" --field "$d/vlb_x0.npy" --grid 1 --out "$work/g.h5"
    one_line_error
    run 2 vlb-grid --model "$m" --field "$d/vlb_x0.npy" --noise stale --out "$work/g.h5"
    one_line_error
    [ ! -e "$work/g.h5" ] || fail "output written despite the errors"
    ;;
  infer_hmc_model)
    # HMC on the truncated VLB of dhmc_tiny (8^2 fields) with the published settings spelled out
    # (a handful of draws): GetDist and ArviZ files; NUTS and SVI on common noise with
    # observation noise added.
    d="${DS_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}/dhmc_tiny"
    write_npy_f8 "$work/f.npy" "(8, 8)" 64
    write_npy_f8 "$work/stack.npy" "(3, 8, 8)" 192
    run 0 --quiet --threads 1 hmc --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" --tmax 3 \
      --noise fresh --chains 2 --samples 10 --burn-in 2 --step 5e-4 --leapfrog 5 --inv-mass 1,5 \
      --start 0.3,0.8 --seed 3 --out "$work/c/m"
    for f in m_1.txt m_2.txt m.paramnames m.ranges m.nc; do
      [ -s "$work/c/$f" ] || fail "$f not written"
    done
    [ ! -e "$work/c/m_3.txt" ] || fail "a third chain file"
    [ "$(grep -vc '^#' "$work/c/m_1.txt")" -eq 8 ] || fail "m_1.txt does not hold 8 draws"
    contains err "hmc: 2 chains x 8 draws"
    contains err "truncated VLB, T_MAX 3, fresh noise, K = 1, of field 0 of .*f.npy"
    grep -q "0.1 *0.5" "$work/c/m.ranges" || fail "m.ranges lacks the prior box"
    run 0 --quiet --threads 1 nuts --model "$d/checkpoint_tiny.pt" --field "$work/stack.npy" --index 1 \
      --tmax 2 --draws 2 --add-noise 0.02 --max-depth 3 --chains 2 --samples 8 --burn-in 4 \
      --seed 3 --out "$work/n/m"
    [ -s "$work/n/m_2.txt" ] || fail "nuts chain files not written"
    contains err "common noise, K = 2, observation noise added, of field 1 of"
    run 0 --quiet --threads 1 svi --model "$d/checkpoint_tiny.pt" --field "$work/f.npy" --tmax 2 \
      --noise-draws 1 --steps 10 --samples-per-step 2 --draws 20 --seed 3 --formats csv --out "$work/s"
    [ "$(wc -l <"$work/s.csv")" -eq 21 ] || fail "s.csv does not hold 20 draws"
    run 1 --quiet hmc --field "$d/vlb_x0.npy" --out "$work/x"
    one_line_error
    contains err "--model M is required with --field"
    run 1 --quiet hmc --model "$d/checkpoint_tiny.pt" --out "$work/x"
    one_line_error
    contains err "--model needs --field FILE"
    run 1 --quiet hmc --model "$d/checkpoint_tiny.pt" --field "$d/vlb_x0.npy" \
      --target "$d/t.json:x" --out "$work/x"
    one_line_error
    contains err "exactly one log-density source"
    [ -z "$(ls "$work" | grep '^x')" ] || fail "output written despite the errors"
    ;;
  train_export_sample)
    # A few steps on a tiny Zel'dovich set: checkpoint, resume, info, export, sample from it.
    run 0 --quiet --threads 1 mock fields --kind zeldovich --set lh --n-cosmo 6 --res 16 --seed 2 \
      --out "$work/d.h5"
    printf '{"model": {"dim": 8, "dim_mults": [1, 2]}, "batch_size": 2, "steps": 3, "log_every": 1,
      "validate_every": 3, "validation_fraction": 0.34, "validation_fields": 1,
      "validation_samples": 2, "validation_sampler_steps": 2}' >"$work/c.json"
    run 0 --threads 1 train --data "$work/d.h5" --config "$work/c.json" --out "$work/m.h5"
    contains out "trained steps 0..3"
    contains out "validation P(k) reduced chi^2 at step 3"
    contains err "step 3: mean loss"
    run 0 --threads 1 train --data "$work/d.h5" --config "$work/c.json" --out "$work/m.h5" \
      --resume --steps 5
    contains out "trained steps 3..5"
    run 0 model info "$work/m.h5"
    contains out "format: Diffuscope model (HDF5)"
    contains out "transform: {.*log10-minmax"
    contains out "weights: weights (EMA weights present)"
    contains out "iteration 5"
    run 0 --quiet model export --model "$work/m.h5" --out "$work/e.h5" --ema
    run 0 model info "$work/e.h5"
    contains out "EMA weights absent"
    run 0 --quiet --threads 1 sample --model "$work/e.h5" --n 2 --res 16 --steps 3 --model-space \
      --out "$work/s.npy"
    [ -s "$work/s.npy" ] || fail "no samples written"
    ;;
  train_bad_inputs)
    run 0 --quiet --threads 1 mock fields --kind grf --set lh --n-cosmo 3 --res 16 --out "$work/d.h5"
    run 1 --quiet train --data "$work/missing.h5" --out "$work/m.h5"
    one_line_error
    contains err "missing.h5"
    printf '{"learning_rate": 1}' >"$work/bad.json"
    run 1 --quiet train --data "$work/d.h5" --config "$work/bad.json" --out "$work/m.h5"
    one_line_error
    contains err 'bad.json: unknown key "learning_rate"'
    run 1 --quiet train --data "$work/d.h5" --config "$work/nothere.json" --out "$work/m.h5"
    contains err "nothere.json"
    run 1 --quiet train --data "$work/d.h5" --out "$work/m.h5" --resume
    one_line_error
    contains err "m.h5"
    run 1 --quiet model export --model "$work/d.h5" --out "$work/e.h5"
    contains err "not a Diffuscope model"
    [ ! -e "$work/m.h5" ] && [ ! -e "$work/e.h5" ] || fail "output written despite the errors"
    ;;
  train_ddp_bad_environment)
    # A broken launcher environment fails at once, naming the variable, before any training.
    run 0 --quiet --threads 1 mock fields --kind grf --set lh --n-cosmo 3 --res 16 --out "$work/d.h5"
    ddp_fails() {
      env -u RANK -u WORLD_SIZE -u MASTER_ADDR -u MASTER_PORT -u SLURM_PROCID -u SLURM_NTASKS \
        "$@" "$cli" --quiet train --data "$work/d.h5" --out "$work/m.h5" >"$work/out" 2>"$work/err"
      [ $? -eq 1 ] || fail "'$*' did not exit 1: $(cat "$work/err")"
      one_line_error
    }
    ddp_fails RANK=0 WORLD_SIZE=2 MASTER_PORT=29500
    contains err "WORLD_SIZE=2 but MASTER_ADDR (the host of rank 0) is not set"
    ddp_fails RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1
    contains err "MASTER_PORT"
    ddp_fails RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
    contains err "RANK=2 is not below WORLD_SIZE=2"
    ddp_fails RANK=one WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
    contains err 'RANK="one" is not an integer'
    ddp_fails RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=http
    contains err 'MASTER_PORT="http" is not an integer'
    ddp_fails WORLD_SIZE=2
    contains err "WORLD_SIZE is set but RANK is not"
    ddp_fails SLURM_PROCID=1 SLURM_NTASKS=2 SLURM_JOB_NODELIST=
    contains err "SLURM_JOB_NODELIST"
    [ ! -e "$work/m.h5" ] || fail "output written despite the errors"
    ;;
  train_points_sample_elbo)
    # A point-cloud model: a few steps on tiny mock halo catalogues, resume, info, export, sample,
    # ELBO, and the inference commands on a cloud.
    run 0 --quiet --threads 1 mock halos --set lh --n-cosmo 6 --n-halos 64 --mesh 16 \
      --features all --seed 2 --out "$work/h.h5"
    printf '{"network": {"kind": "transformer", "d_model": 16, "heads": 2, "layers": 1,
      "mlp_width": 32, "cond_mlp": [8, 8], "time_embedding": 8, "theta_embedding": 4},
      "batch_size": 2, "steps": 4, "log_every": 2, "warmup": 2, "validate_every": 4,
      "validation_fraction": 0.34, "validation_fields": 2}' >"$work/c.json"
    run 0 --threads 1 train --data "$work/h.h5" --config "$work/c.json" --out "$work/m.h5"
    contains out "trained steps 0..4"
    contains out "validation loss per point at step 4"
    contains err "on 4 clouds of 64 points x 7 features (2 held out)"
    run 0 --quiet --threads 1 train --data "$work/h.h5" --config "$work/c.json" \
      --out "$work/m.h5" --resume --steps 6
    contains out "trained steps 4..6"
    run 0 model info "$work/m.h5"
    contains out "modality: points"
    contains out "features: 7 (x y z vx vy vz log10_mass)"
    contains out "weights: weights (EMA weights present)"
    contains out "training: step 6"
    run 0 model info --json "$work/m.h5"
    contains out '"modality": "points"'
    run 0 --quiet model export --model "$work/m.h5" --out "$work/e.h5" --ema
    run 0 model info "$work/e.h5"
    contains out "EMA weights absent"
    run 0 --quiet --threads 1 sample --model "$work/e.h5" --n 2 --n-points 64 --steps 5 \
      --sampler ode --seed 1 --out "$work/s.npy"
    [ -s "$work/s.npy" ] || fail "no clouds written"
    run 0 --quiet --threads 1 sample --model "$work/e.h5" --n 2 --n-points 64 --steps 5 \
      --seed 1 --out "$work/s.h5"
    run 0 data info "$work/s.h5"
    contains out "shape: \[2, 64, 7\]"
    contains out "features: x y z vx vy vz log10_mass"
    # Without --n-points: the model's training count (64 points), not the published 5000.
    run 0 --quiet --threads 1 sample --model "$work/e.h5" --n 1 --steps 2 --seed 1 \
      --out "$work/t.h5"
    run 0 data info "$work/t.h5"
    contains out "shape: \[1, 64, 7\]"
    run 0 --quiet --threads 1 elbo --model "$work/e.h5" --cloud "$work/s.h5" --index 1 \
      --theta "0.3,0.8;0.25,0.75" --steps 5 --draws 3 --seed 4
    contains out "ELBO of cloud 1 of .*s.h5 (64 points x 7 features)"
    contains out "Omega_m 0.25 sigma_8 0.75: ELBO -[0-9.]* +- [0-9.]* nats"
    run 0 --quiet --threads 1 elbo --model "$work/e.h5" --cloud "$work/s.npy" --index 0 \
      --steps 5 --draws 3 --json
    contains out '"standard_error"'
    # model check on halo mocks: the point-cloud sampler is the default for a point model.
    run 0 --quiet --threads 1 mock halos --set single --n-cosmo 1 --per-cosmo 3 --n-halos 64 \
      --mesh 16 --features all --seed 5 --out "$work/ref.h5"
    run 0 --quiet --threads 1 model check --model "$work/e.h5" --mocks "$work/ref.h5" \
      --samples 2 --steps 3 --out "$work/check.json"
    contains out "2 ancestral-3 clouds per cosmology"
    contains out "^0.3000  0.8000      3    2"
    [ -s "$work/check.json" ] || fail "no check table written"
    run 1 --quiet model check --model "$work/e.h5" --mocks "$work/ref.h5" --sampler ddim
    contains err "not a point-cloud sampler"
    run 0 --quiet --threads 1 nuts --model "$work/e.h5" --cloud "$work/s.h5" --index 0 \
      --elbo-steps 3 --draws 2 --chains 2 --samples 12 --burn-in 4 --seed 3 --out "$work/n"
    contains err "ELBO, S = 3 steps, K = 2 common draws"
    [ -s "$work/n_1.txt" ] || fail "no chain written"
    run 0 --quiet --threads 1 vlb-grid --model "$work/e.h5" --cloud "$work/s.npy" --index 1 \
      --elbo-steps 3 --draws 2 --grid 3 --out "$work/g.h5"
    contains out "^grid 3 x 3 (Omega_m \[.*\]), ELBO, S = 3, K = 2, "
    contains out "maximum log_like"
    ;;
  points_bad_inputs)
    run 0 --quiet --threads 1 mock halos --set lh --n-cosmo 3 --n-halos 64 --mesh 16 \
      --features all --seed 2 --out "$work/h.h5"
    run 0 --quiet --threads 1 mock halos --set lh --n-cosmo 2 --n-halos 64 --mesh 16 \
      --features pos --out "$work/h3.h5"
    printf '{"network": {"kind": "transformer", "d_model": 16, "heads": 2, "layers": 1,
      "mlp_width": 32, "cond_mlp": [8, 8]}, "batch_size": 2, "steps": 1, "validate_every": 0}' \
      >"$work/c.json"
    run 0 --quiet --threads 1 train --data "$work/h.h5" --config "$work/c.json" --out "$work/m.h5"
    run 1 --quiet elbo --model "$work/m.h5" --cloud "$work/missing.npy"
    one_line_error
    contains err "missing.npy: does not exist"
    run 1 --quiet elbo --model "$work/m.h5" --cloud "$work/h3.h5" --index 0
    one_line_error
    contains err "h3.h5: clouds have 3 features but the model takes 7"
    run 1 --quiet elbo --model "$work/m.h5" --cloud "$work/h.h5"
    contains err "h.h5: holds 3 clouds; choose one with --index"
    run 1 --quiet elbo --model "$work/m.h5" --cloud "$work/h.h5" --index 0 --theta 0.7,0.8
    contains err "outside the prior box"
    run 1 --quiet elbo --model "$work/h.h5" --cloud "$work/h.h5" --index 0
    one_line_error
    contains err "h.h5"
    run 1 --quiet train --data "$work/h3.h5" --config "$work/c.json" --out "$work/m.h5" --resume
    one_line_error
    contains err "m.h5: was trained on clouds of 7 features but .*h3.h5 has 3"
    printf '{"model": {"dim": 8}}' >"$work/f.json"
    run 1 --quiet train --data "$work/h.h5" --config "$work/f.json" --out "$work/x.h5"
    contains err 'f.json: "model" is a 2D field setting'
    run 1 --quiet sample --model "$work/m.h5" --res 32 --out "$work/y.npy"
    contains err "sample: --res is for 2D field models"
    run 1 --quiet sample --model "$work/m.h5" --sampler ddim --out "$work/y.npy"
    contains err "not a point-cloud sampler"
    run 1 --quiet nuts --model "$work/m.h5" --out "$work/n"
    contains err "give --cloud FILE"
    run 1 --quiet model eval --model "$work/m.h5" --x a.npy --t b.npy --theta c.npy --out d.npy
    contains err "is a point-cloud model"
    [ ! -e "$work/x.h5" ] && [ ! -e "$work/y.npy" ] && [ ! -e "$work/n_1.txt" ] \
      || fail "output written despite the errors"
    ;;
  cancel_sample)
    # The default 2D model with many DDIM steps, and the default halo model: SIGTERM and SIGINT
    # stop them between network chunks (halo steps take seconds for many clouds).
    cancel_check TERM "$work/s.npy" --threads 2 sample --model "$models/zeldovich64.h5" --n 8 \
      --sampler ddim --steps 400 --seed 1 --out "$work/s.npy"
    cancel_check INT "$work/s.npy" --threads 2 sample --model "$models/zeldovich64.h5" --n 8 \
      --sampler ddim --steps 400 --seed 1 --out "$work/s.npy"
    cancel_check TERM "$work/h.h5" --threads 2 sample --model "$models/halos1000.h5" --n 16 \
      --seed 1 --out "$work/h.h5"
    ;;
  cancel_vlb_grid)
    run 0 --quiet mock fields --kind zeldovich --set single --n-cosmo 1 --res 64 --seed 3 --out "$work/f.h5"
    cancel_check TERM "$work/g.h5" --threads 2 vlb-grid --model "$models/zeldovich64.h5" \
      --field "$work/f.h5" --tmax 20 --grid 12 --out "$work/g.h5"
    ;;
  cancel_infer)
    run 0 --quiet mock fields --kind zeldovich --set single --n-cosmo 1 --res 64 --seed 3 --out "$work/f.h5"
    mkdir -p "$work/c"
    for sampler in hmc nuts; do
      cancel_check TERM "$work/c/$sampler.nc" --threads 2 "$sampler" --model "$models/zeldovich64.h5" \
        --field "$work/f.h5" --tmax 20 --chains 2 --samples 40 --burn-in 10 --out "$work/c/$sampler"
      [ -z "$(ls -A "$work/c")" ] || fail "$sampler left files: $(ls "$work/c")"
    done
    cancel_check TERM "$work/c/svi.nc" --threads 2 svi --model "$models/zeldovich64.h5" \
      --field "$work/f.h5" --tmax 20 --steps 200 --out "$work/c/svi"
    [ -z "$(ls -A "$work/c")" ] || fail "svi left files: $(ls "$work/c")"
    ;;
  infer_kill_keeps_partial_chains)
    # hmc / nuts / posterior append their kept draws to ROOT.partial.csv while they sample: a run
    # killed with SIGKILL (no clean-up possible) leaves them, and diagnose reads them, a torn last
    # line included; a run that finishes leaves no partial file.
    run 0 --quiet mock fields --kind grf --set single --omega-m 0.3 --sigma-8 0.8 --n-cosmo 1 \
      --per-cosmo 1 --res 32 --box 1000 --seed 3 --out "$work/f.h5"
    run 0 --quiet posterior --exact-grf "$work/f.h5" --chains 2 --samples 40 --burn-in 10 \
      --seed 4 --formats getdist,arviz,csv --out "$work/short/grf"
    run 0 --quiet hmc --exact-grf "$work/f.h5" --chains 2 --samples 40 --burn-in 10 --step 0.01 \
      --seed 4 --out "$work/short/hmc"
    for f in grf_1.txt grf.nc grf.csv hmc_1.txt hmc.nc; do
      [ -s "$work/short/$f" ] || fail "$f not written"
    done
    [ -z "$(find "$work/short" -name '*partial*')" ] || fail "a finished run left $(ls "$work/short")"
    partial="$work/k/grf.partial.csv"
    "$cli" --quiet --threads 1 posterior --exact-grf "$work/f.h5" --chains 3 --samples 20000 \
      --burn-in 20 --seed 4 --formats getdist,arviz,csv --out "$work/k/grf" >"$work/out" 2>"$work/err" &
    pid=$! tries=0
    until rows=$(grep -c '^[0-9]' "$partial" 2>/dev/null); [ "${rows:-0}" -ge 60 ]; do  # 20 draws x 3
      kill -0 "$pid" 2>/dev/null || fail "posterior ended before it was killed: $(cat "$work/err")"
      tries=$((tries + 1))
      [ "$tries" -lt 400 ] || { kill -9 "$pid"; fail "no 20 kept draws in $partial within 20 s"; }
      sleep 0.05
    done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    for f in grf_1.txt grf.nc grf.csv; do
      [ ! -e "$work/k/$f" ] || fail "$f was written by a killed run"
    done
    head -1 "$partial" | grep -q '^# diffuscope chains in progress (sampler nuts, seed 4, 3 chains)' \
      || fail "$partial does not start with its marker line: $(head -1 "$partial")"
    # A rerun to the same ROOT does not overwrite the draws the crash left.
    run 1 --quiet posterior --exact-grf "$work/f.h5" --chains 3 --samples 40 --burn-in 20 \
      --seed 4 --out "$work/k/grf"
    one_line_error
    contains err "grf.partial.csv: holds the draws of an interrupted run"
    run 0 diagnose "$partial"
    contains out "3 chains x [0-9]* draws"
    contains out "^Omega_m "
    draws=$(sed -n 's/.*3 chains x \([0-9]*\) draws.*/\1/p' "$work/out" | head -1)
    [ "${draws:-0}" -ge 20 ] || fail "diagnose read ${draws:-no} draws of the killed run, expected >= 20"
    # Killed in the middle of a row: the torn line is ignored.
    { cat "$partial"; printf '1,%s,0.31' "$draws"; } >"$work/torn.partial.csv"
    run 0 diagnose "$work/torn.partial.csv"
    contains out "3 chains x $draws draws"
    ;;
  cancel_train_calibrate)
    run 0 --quiet --threads 1 mock fields --kind zeldovich --set lh --n-cosmo 8 --res 16 --seed 2 \
      --out "$work/d.h5"
    printf '{"model": {"dim": 8, "dim_mults": [1, 2]}, "batch_size": 4, "steps": 100000, "log_every": 1}' \
      >"$work/c.json"
    # Training stops after the step in progress (a step is not interruptible; its duration bounds
    # the latency) and checkpoints first: that checkpoint is its output, whole and resumable, so
    # here OUTPUT is not checked for absence but resumed from.
    cancel_check TERM - --threads 2 train --data "$work/d.h5" --config "$work/c.json" --out "$work/m.h5"
    contains err "interrupted: .*continue with --resume"
    run 0 --quiet --threads 2 train --data "$work/d.h5" --config "$work/c.json" --out "$work/m.h5" \
      --resume --steps 1
    run 0 --quiet mock fields --kind grf --set lh --n-cosmo 40 --per-cosmo 1 --res 32 --seed 7 \
      --out "$work/lh.h5"
    cancel_check TERM "$work/cal.json" --threads 2 calibrate --exact-grf --mocks "$work/lh.h5" \
      --n-fields 40 --chains 4 --samples 2000 --burn-in 500 --seed 2 --out "$work/cal.json"
    ;;
  *) fail "unknown case" ;;
esac
echo "PASS [$case_name]"
