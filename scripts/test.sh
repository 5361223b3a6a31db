#!/usr/bin/env bash
# Builds crmhub and runs the whole test suite, exactly as CI runs it:
#
#   1. every test (labels unit, component, e2e, bench, fuzz: the fuzz
#      corpora replayed) in a Debug build with AddressSanitizer +
#      UndefinedBehaviorSanitizer and -Werror, compiled by clang 16 (about
#      half GCC's compile time with the sanitizers; docs/decisions.md);
#   2. the threaded core's tests under ThreadSanitizer (scripts/tsan.sh);
#   3. each libFuzzer target for FUZZ_SECONDS (scripts/fuzz.sh).
#
# For local iteration: SANITIZE=0 builds a plain Debug tree instead, and
# runs stage 1 only; extra arguments go to ctest and also mean stage 1 only
# (e.g. scripts/test.sh -R queue, scripts/test.sh -L unit,
# scripts/test.sh -L long for the full-size scenarios CI leaves out); SKIP_TSAN=1 and
# SKIP_FUZZ=1 leave out a stage.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

sanitize=${SANITIZE:-1}
if [[ $sanitize == 1 ]]; then
  build=build-asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DCRMHUB_SANITIZE=ON
         -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-16}
else
  build=build-debug
  flags=(-DCMAKE_BUILD_TYPE=Debug -DCRMHUB_SANITIZE=OFF)
fi

# Prism validates adapter requests against the official OpenAPI specs.
if [[ -f tests/contract/package-lock.json ]]; then
  npm ci --prefix tests/contract --no-audit --no-fund --loglevel=error
fi

cmake -S . -B "$build" -G Ninja -DCRMHUB_WERROR=ON "${flags[@]}"
cmake --build "$build" --parallel "$(nproc)"

# The long tier (full-size variants of slow scenarios) only when asked for:
# scripts/test.sh -L long.
if [[ $# -eq 0 ]]; then
  ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" --timeout 600 -LE long
else
  ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" --timeout 600 "$@"
fi

if [[ $sanitize == 1 && $# -eq 0 ]]; then
  if [[ ${SKIP_TSAN:-0} != 1 ]]; then scripts/tsan.sh; fi
  if [[ ${SKIP_FUZZ:-0} != 1 ]]; then scripts/fuzz.sh; fi
fi
