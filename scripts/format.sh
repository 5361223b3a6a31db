#!/usr/bin/env bash
# Formats crmhub's C++ sources in place with clang-format 16 and .clang-format
# (Google style, 100 columns); `scripts/format.sh --check` only reports, and
# exits 1 when a file would change (the suite runs it as the test
# format_check). Vendored files (contracts/) and generated ones are not ours
# to format.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format-16}
command -v "$clang_format" >/dev/null || { echo "format: $clang_format not found (scripts/bootstrap.sh installs it)" >&2; exit 2; }
mapfile -t files < <(git ls-files -- '*.h' '*.cc' ':!contracts/**')
if [[ ${1:-} == --check ]]; then
  exec "$clang_format" --dry-run -Werror "${files[@]}"
fi
exec "$clang_format" -i "${files[@]}"
