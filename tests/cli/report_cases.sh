#!/usr/bin/env bash
# `diffuscope-cli report` contract cases: report_cases.sh CASE PATH_TO_DIFFUSCOPE_CLI SOURCE_DIR
set -uo pipefail
case_name=$1
cli=$2
src=$3
work=$(mktemp -d)
bg=""
cleanup() { [ -n "$bg" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=cli_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
count_fields() { ls "$1/fields" 2>/dev/null | grep -c '\.json$'; }
# start_report DIR ARGS...: a report in the background (pid in $bg).
start_report() {
  local dir=$1; shift
  "$cli" --quiet --threads 1 report "$@" --out "$dir" >"$work/bg.out" 2>"$work/bg.err" &
  bg=$!
}
# wait_fields DIR N: until DIR holds N finished fields (or the report ended).
wait_fields() {
  for _ in $(seq 1 600); do
    [ "$(count_fields "$1")" -ge "$2" ] && return 0
    kill -0 "$bg" 2>/dev/null || return 0
    sleep 0.02
  done
}
GRF=(--likelihood exact-grf --mock-kind grf --res 32 --box 1000 --fields 40 --seed 5)

case "$case_name" in
  report_help)
    run 0 report --help
    for opt in --model --mocks --mock-kind --fields --cosmologies --likelihood --t-max --seed \
               --out --figures-only; do contains out "$opt"; done
    ;;
  report_bad_inputs)
    run 1 report --likelihood exact-grf --mock-kind grf --fields 1 --out "$work/r"
    one_line_error
    contains err "K >= 2"
    run 1 report --model "$work/nothere.h5" --mock-kind grf --out "$work/r"
    one_line_error
    contains err "nothere.h5: no such model file"
    run 1 report --mock-kind grf --out "$work/r"
    one_line_error
    contains err "--model M is required"
    run 1 report --likelihood nope --mock-kind grf --out "$work/r"
    one_line_error
    contains err "unknown likelihood 'nope'"
    run 1 report --likelihood exact-grf --mock-kind zeldovich --out "$work/r"
    one_line_error
    contains err "exact-grf needs GRF mocks"
    run 1 report --model "$src/assets/models/halos1000.h5" --likelihood exact-grf --out "$work/r"
    one_line_error
    contains err "halos1000.h5 is a point-cloud model: its likelihood is its ELBO"
    run 1 report --model "$src/assets/models/halos1000.h5" --fields 1 --out "$work/r"
    one_line_error
    contains err "K >= 2 catalogues"
    run 1 report-calibration --model "$src/assets/models/halos1000.h5" --field "$work/none.h5" \
      --out "$work/f.json"
    one_line_error
    contains err "report-calibration of one catalogue is for 2D field models only"
    run 1 report --model "$src/assets/models/zeldovich64.h5" --res 30 --out "$work/r"
    one_line_error
    contains err "--res 30"
    run 1 report --figures-only --out "$work/empty"
    one_line_error
    contains err "holds no report.json"
    run 2 report --mock-kind grf
    [ ! -e "$work/r/report.json" ] || fail "a failed report wrote report.json"
    ;;
  report_kill_resume)
    # The whole report, then one killed with SIGKILL mid-way and resumed: the same report.json.
    run 0 --quiet --threads 1 report "${GRF[@]}" --out "$work/whole"
    contains out "40 calibration fields computed, 0 reused"
    start_report "$work/killed" "${GRF[@]}"
    wait_fields "$work/killed" 5
    kill -9 "$bg" 2>/dev/null
    wait "$bg" 2>/dev/null
    bg=""
    done_before=$(count_fields "$work/killed")
    [ "$done_before" -lt 40 ] || fail "the report finished before it could be killed"
    [ ! -e "$work/killed/report.json" ] || fail "a killed report left report.json"
    # A kill during a write may leave that field's temporary (.NNN.json.tmp-PID), never a partial
    # NNN.json; the resumed run writes the field again and removes the dead writer's temporary.
    run 0 --quiet --threads 1 report "${GRF[@]}" --out "$work/killed"
    contains out "$done_before reused"
    ls -a "$work/killed" "$work/killed/fields" | grep -q '\.tmp\|\.part' &&
      fail "temporary files left after the resume: $(ls -a "$work/killed/fields")"
    cmp -s "$work/whole/report.json" "$work/killed/report.json" \
      || fail "the resumed report.json differs from the uninterrupted one"
    # SIGTERM: exit status 143, finished fields kept, a rerun completes.
    start_report "$work/term" "${GRF[@]}"
    wait_fields "$work/term" 5
    kill -TERM "$bg"
    wait "$bg"
    rc=$?
    bg=""
    [ "$rc" -eq 143 ] || [ "$(count_fields "$work/term")" -eq 40 ] || fail "SIGTERM gave exit $rc, expected 143"
    [ "$rc" -ne 143 ] || grep -q "rerun the same command to resume" "$work/bg.err" \
      || fail "no resume hint: $(cat "$work/bg.err")"
    run 0 --quiet --threads 1 report "${GRF[@]}" --out "$work/term"
    cmp -s "$work/whole/report.json" "$work/term/report.json" || fail "resumed after SIGTERM differs"
    ;;
  report_figures)
    # A tiny model trained for 3 steps, every block at minimal size; the figures rendered offscreen
    # are as many as report.json lists, and --figures-only renders them again.
    run 0 --quiet --threads 1 mock fields --kind zeldovich --set lh --n-cosmo 6 --res 16 --seed 2 \
      --out "$work/d.h5"
    printf '{"model": {"dim": 8, "dim_mults": [1, 2]}, "batch_size": 2, "steps": 3,
      "validate_every": 0}' >"$work/c.json"
    run 0 --quiet --threads 1 train --data "$work/d.h5" --config "$work/c.json" --out "$work/m.h5"
    run 0 --threads 1 report --model "$work/m.h5" --cosmologies 2 --mocks-per-cosmo 3 \
      --generated-per-cosmo 2 --one-p-values 3 --one-p-seeds 2 --cv-mocks 5 --cv-generated 5 \
      --steps 2 --fields 3 --t-max 2 --coarse 3 --window 5 --max-levels 1 --seed 1 --out "$work/r"
    contains out "wrote .*report.json"
    listed=$(grep -c '"png": "figures/' "$work/r/report.json")
    [ "$listed" -ge 7 ] || fail "report.json lists $listed figures, expected >= 7"
    if grep -q "figures not rendered" "$work/err"; then
      contains err "figures-only"
      exit 0  # a build without the GUI: the message is the contract
    fi
    pngs=$(ls "$work/r/figures" | grep -c '\.png$')
    pdfs=$(ls "$work/r/figures" | grep -c '\.pdf$')
    [ "$pngs" -eq "$listed" ] || fail "$pngs PNGs for $listed figures"
    [ "$pdfs" -eq "$listed" ] || fail "$pdfs PDFs for $listed figures"
    for f in "$work/r/figures"/*.png; do [ -s "$f" ] || fail "$f is empty"; done
    rm -r "$work/r/figures"
    run 0 report --figures-only --out "$work/r"
    [ "$(ls "$work/r/figures" | grep -c '\.png$')" -eq "$listed" ] || fail "--figures-only rendered too few"
    ;;
  report_points)
    # A point-cloud model trained for 2 steps on tiny lognormal halo catalogues: the options of a
    # point model's report reach it (ELBO steps and draws, mesh, queries, sampler and steps), and
    # every statistic's figure is listed and rendered.
    run 0 --quiet --threads 1 mock halos --set lh --n-cosmo 6 --n-halos 64 --mesh 16 \
      --features all --seed 2 --out "$work/h.h5"
    printf '{"network": {"kind": "transformer", "d_model": 16, "heads": 2, "layers": 1,
      "mlp_width": 32, "cond_mlp": [8, 8], "time_embedding": 8, "theta_embedding": 4},
      "batch_size": 2, "steps": 2, "warmup": 1, "validate_every": 0, "validation_fraction": 0}' \
      >"$work/c.json"
    run 0 --quiet --threads 1 train --data "$work/h.h5" --config "$work/c.json" --out "$work/m.h5"
    run 0 --threads 1 report --model "$work/m.h5" --cosmologies 2 --mocks-per-cosmo 3 \
      --generated-per-cosmo 2 --fields 3 --elbo-steps 3 --draws 2 --halo-mesh 16 --queries 300 \
      --sampler ode --steps 3 --coarse 3 --window 5 --max-levels 1 --seed 1 --out "$work/r"
    contains out "3 calibration fields computed, 0 reused; 2 emulator blocks computed"
    contains_file() { grep -q -- "$2" "$1" || fail "$1 lacks '$2'"; }
    contains_file "$work/r/settings.json" '"steps": 3'
    contains_file "$work/r/settings.json" '"draws": 2'
    contains_file "$work/r/settings.json" '"halo_mesh": 16'
    contains_file "$work/r/settings.json" '"queries": 300'
    contains_file "$work/r/settings.json" '"sampler": "ode"'
    contains_file "$work/r/emulator/halo-000.json" '"sampler": "2 cloud(s)'
    contains_file "$work/r/report.md" "kNN-CDF (k = 1, 5, 9)"
    for name in halo_knn halo_xi halo_hmf halo_v12 halo_chi2 calibration_coverage; do
      contains_file "$work/r/report.json" "\"name\": \"$name\""
    done
    if ! grep -q "figures not rendered" "$work/err"; then
      for name in halo_knn halo_xi halo_hmf halo_v12 halo_chi2; do
        [ -s "$work/r/figures/$name.png" ] || fail "figures/$name.png missing"
      done
    fi
    # A rerun resumes everything.
    run 0 --threads 1 report --model "$work/m.h5" --cosmologies 2 --mocks-per-cosmo 3 \
      --generated-per-cosmo 2 --fields 3 --elbo-steps 3 --draws 2 --halo-mesh 16 --queries 300 \
      --sampler ode --steps 3 --coarse 3 --window 5 --max-levels 1 --seed 1 --out "$work/r"
    contains out "0 calibration fields computed, 3 reused; 0 emulator blocks computed, 2 reused"
    ;;
  *)
    fail "unknown case"
    ;;
esac
