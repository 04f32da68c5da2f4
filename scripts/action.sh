#!/usr/bin/env bash
# The schemalock GitHub Action (action.yml) as a script: install the pinned schemalock, run the
# forward-only guard (`schemalock diff --base`) on a pull request and `schemalock verify`
# against the database URL given, with GitHub annotations, the job summary and, if asked, SARIF.
#
# action.yml passes its inputs as INPUT_* variables; GitHub sets the GITHUB_* ones. The script
# needs nothing else, so it runs the same outside GitHub (tests/test_ci_integration.py runs it
# with a fake GITHUB_* environment against a real PostgreSQL).
#
# Inputs (all optional):
#   INPUT_VERSION            "" (default): the schemalock source this action was checked out
#                            at; "latest"; a version ("0.1.0" is schemalock==0.1.0); or any
#                            pip requirement
#   INPUT_INSTALL            "false": use the schemalock already on PATH
#   INPUT_LOCK               the lock file (default schema_lock.yaml)
#   INPUT_DATABASE_URL       the database verify reads (a secret; never printed)
#   INPUT_VERIFY             auto (default: when a database URL is given), true, false
#   INPUT_DIFF               auto (default: on a pull request, or when INPUT_BASE is given),
#                            true, false
#   INPUT_BASE               the git ref diff compares with (default: the pull request's base)
#   INPUT_FAIL_ON            error (default), warning, info
#   INPUT_SARIF              a folder for SARIF reports (schemalock-diff.sarif,
#                            schemalock-verify.sarif); empty: none
#   INPUT_DIFF_ARGS, INPUT_VERIFY_ARGS   more arguments, split on spaces
# Outputs (to $GITHUB_OUTPUT): version, diff-exit-code, verify-exit-code ("skipped" when not
# run), sarif-diff, sarif-verify (paths, when written), exit-code.
# Exit: the first error (2-5) of the commands run, else 1 when either found something at
# --fail-on or above, else 0.
set -uo pipefail

lock="${INPUT_LOCK:-schema_lock.yaml}"
fail_on="${INPUT_FAIL_ON:-error}"
sarif_dir="${INPUT_SARIF:-}"
output_file="${GITHUB_OUTPUT:-/dev/null}"

say() { printf 'schemalock-action: %s\n' "$*"; }
output() { printf '%s=%s\n' "$1" "$2" >>"$output_file"; }
summary() { [ -n "${GITHUB_STEP_SUMMARY:-}" ] && printf '%s\n' "$*" >>"$GITHUB_STEP_SUMMARY"; }
# A workflow command's message: %, CR and LF escaped as @actions/core escapes them.
escaped() { local text="${1//'%'/%25}"; text="${text//$'\r'/%0D}"; printf '%s' "${text//$'\n'/%0A}"; }
notice() { printf '::notice title=schemalock::%s\n' "$(escaped "$1")"; summary "> $1"; }

install() {
  if [ "${INPUT_INSTALL:-true}" = "false" ]; then
    return 0
  fi
  local version="${INPUT_VERSION:-}" requirement venv
  case "$version" in
    "") requirement="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: give INPUT_VERSION}" ;;
    latest) requirement="schemalock" ;;
    [0-9]*) requirement="schemalock==$version" ;;
    *) requirement="$version" ;;
  esac
  venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/schemalock-action-venv"
  say "installing $requirement into $venv"
  python3 -m venv "$venv" && "$venv/bin/python" -m pip install --quiet "$requirement" || {
    say "could not install $requirement"
    exit 2
  }
  PATH="$venv/bin:$PATH"
  export PATH
}

# The database URL's password, masked in the log before anything could print it.
mask_password() {
  local secret
  secret="$(python3 - <<'EOF'
import os, re
from urllib.parse import unquote, urlsplit
url = os.environ.get("SCHEMALOCK_DATABASE_URL", "")
found = re.search(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", url)
if "://" in url:
    try:
        print(unquote(urlsplit(url).password or ""))
    except ValueError:
        pass
elif found:
    print(found.group(1).strip("'"))
EOF
)"
  if [ -n "$secret" ]; then
    printf '::add-mask::%s\n' "$secret"
  fi
}

base_ref() {
  if [ -n "${INPUT_BASE:-}" ]; then
    printf '%s' "$INPUT_BASE"
  elif [ -n "${GITHUB_BASE_REF:-}" ]; then
    # actions/checkout fetches one commit: fetch the base branch's tip too (depth 1 is
    # enough, `git show REF:PATH` reads one tree).
    git fetch --quiet --no-tags --depth=1 origin \
      "+refs/heads/$GITHUB_BASE_REF:refs/remotes/origin/$GITHUB_BASE_REF" >&2 || return 1
    printf 'origin/%s' "$GITHUB_BASE_REF"
  fi
}

run_diff() {
  local want="${INPUT_DIFF:-auto}" base code sarif=()
  if [ "$want" = "false" ]; then
    output diff-exit-code skipped
    return 0
  fi
  if ! base="$(base_ref)"; then
    say "cannot fetch the base branch $GITHUB_BASE_REF from origin"
    output diff-exit-code 2
    return 2
  fi
  if [ -z "$base" ]; then
    if [ "$want" = "true" ]; then
      say "diff: no base: set the base input, or run on a pull_request event"
      output diff-exit-code 2
      return 2
    fi
    notice "diff skipped: not a pull request and no base given"
    output diff-exit-code skipped
    return 0
  fi
  if [ -n "$sarif_dir" ]; then
    sarif=(--format "sarif=$sarif_dir/schemalock-diff.sarif")
  fi
  # shellcheck disable=SC2086  # the extra arguments are words on purpose
  schemalock diff --base "$base" --lock "$lock" --fail-on "$fail_on" --format github \
    "${sarif[@]}" ${INPUT_DIFF_ARGS:-}
  code=$?
  output diff-exit-code "$code"
  if [ -n "$sarif_dir" ] && [ -f "$sarif_dir/schemalock-diff.sarif" ]; then
    output sarif-diff "$sarif_dir/schemalock-diff.sarif"
  fi
  return "$code"
}

run_verify() {
  local want="${INPUT_VERIFY:-auto}" code sarif=()
  if [ "$want" = "false" ]; then
    output verify-exit-code skipped
    return 0
  fi
  if [ -z "${INPUT_DATABASE_URL:-}" ]; then
    if [ "$want" = "true" ]; then
      say "verify: no database-url given (secrets are not passed to pull requests from forks)"
      output verify-exit-code 3
      return 3
    fi
    notice "verify skipped: no database-url given"
    output verify-exit-code skipped
    return 0
  fi
  if [ -n "$sarif_dir" ]; then
    sarif=(--format "sarif=$sarif_dir/schemalock-verify.sarif")
  fi
  # The URL goes by the environment, never on a command line a log or `ps` could show.
  # shellcheck disable=SC2086
  SCHEMALOCK_DATABASE_URL="$INPUT_DATABASE_URL" schemalock verify --lock "$lock" \
    --fail-on "$fail_on" --format github "${sarif[@]}" ${INPUT_VERIFY_ARGS:-}
  code=$?
  output verify-exit-code "$code"
  if [ -n "$sarif_dir" ] && [ -f "$sarif_dir/schemalock-verify.sarif" ]; then
    output sarif-verify "$sarif_dir/schemalock-verify.sarif"
  fi
  return "$code"
}

# The worse of two exit codes: an error (2-5) before findings (1) before clean (0).
worse() {
  if [ "$1" -ge 2 ]; then echo "$1"; elif [ "$2" -ge 2 ]; then echo "$2";
  elif [ "$1" -eq 1 ] || [ "$2" -eq 1 ]; then echo 1; else echo 0; fi
}

main() {
  if [ -n "${INPUT_DATABASE_URL:-}" ]; then
    SCHEMALOCK_DATABASE_URL="$INPUT_DATABASE_URL" mask_password
  fi
  install
  local version
  version="$(schemalock --version)" || { say "schemalock is not installed"; exit 2; }
  say "$version"
  output version "${version#schemalock }"
  if [ -n "$sarif_dir" ]; then
    mkdir -p "$sarif_dir" || exit 2
  fi
  run_diff
  local diff_code=$?
  run_verify
  local verify_code=$?
  local code
  code="$(worse "$diff_code" "$verify_code")"
  output exit-code "$code"
  exit "$code"
}

main "$@"
