# Shared by the CLI contract scripts (cli_cases.sh, report_cases.sh): sourced after they set
# case_name, cli and work (a scratch folder the script removes on exit).

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
