#!/usr/bin/env bash
# Formats crmhub's C++ sources with .clang-format and the pinned clang-format
# (16, Debian's clang-format-16, installed by scripts/bootstrap.sh): one
# version, because clang-format's output changes between releases.
#
#   scripts/format.sh           rewrites every file that differs, in place
#   scripts/format.sh --check   changes nothing; lists each file that differs
#                               and fails (the test suite runs this: format_check)
#
# The files are git's: every tracked *.h and *.cc outside contracts/ (the
# vendors' documents are theirs).
set -euo pipefail
cd "$(dirname "$0")/.."

tool=${CLANG_FORMAT:-clang-format-16}
command -v "$tool" >/dev/null || { echo "format.sh: $tool is not installed (scripts/bootstrap.sh)" >&2; exit 2; }
mapfile -t files < <(git ls-files -- '*.h' '*.cc' | grep -v '^contracts/')
((${#files[@]} > 0)) || { echo "format.sh: no sources found (not a git checkout?)" >&2; exit 2; }

if [[ ${1:-} == --check ]]; then
  # 100 files an invocation, one invocation a core: starting clang-format
  # once per file cost two minutes of the test run's CPU, most of it the
  # process start.
  report=$(mktemp)
  trap 'rm -f "$report"' EXIT
  if ! printf '%s\0' "${files[@]}" |
      xargs -0 -n 100 -P "$(nproc)" "$tool" --style=file --dry-run -Werror --ferror-limit=1 \
        2>"$report"; then
    mapfile -t differ < <(sed -nE 's/^(.+):[0-9]+:[0-9]+: error: .*/\1/p' "$report" | sort -u)
    if ((${#differ[@]} == 0)); then
      cat "$report" >&2
      echo "format.sh: $tool failed" >&2
      exit 1
    fi
    printf '%s\n' "${differ[@]}" | sed 's/^/not formatted: /' >&2
    echo "format.sh: ${#differ[@]} of ${#files[@]} files differ from .clang-format; run scripts/format.sh" >&2
    exit 1
  fi
  echo "format.sh: ${#files[@]} files formatted as .clang-format says"
else
  printf '%s\0' "${files[@]}" | xargs -0 -n 50 "$tool" --style=file -i
fi
