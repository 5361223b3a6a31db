#!/usr/bin/env bash
# Builds crmhub and runs the whole test suite with ctest.
#
# By default the build uses AddressSanitizer + UndefinedBehaviorSanitizer
# and -Werror, exactly as CI runs it. SANITIZE=0 builds a plain Debug tree
# instead (faster for local iteration). Extra arguments go to ctest
# (e.g. scripts/test.sh -R queue).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

sanitize=${SANITIZE:-1}
if [[ $sanitize == 1 ]]; then
  build=build-test
  flags=(-DCMAKE_BUILD_TYPE=Debug -DCRMHUB_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
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

ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" --timeout 600 "$@"
