#!/usr/bin/env bash
# The ThreadSanitizer tier: builds the tests of the threaded core (the
# queue, the HTTP server, intake, the pipeline, the lifecycle and the
# runtime: the crmhub_test(... TSAN) binaries, the only ones a TSan build
# registers) with -fsanitize=thread in build-tsan and runs them. Fails on
# any data race or other TSan report. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

build=build-tsan
# clang (as for the fuzz tier): GCC refuses Asio's atomic_thread_fence under
# -fsanitize=thread (-Wtsan). jemalloc and TSan's own allocator do not mix.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRMHUB_TSAN=ON \
  -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCRMHUB_WERROR=ON -DCRMHUB_JEMALLOC=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"

# halt_on_error: the first report fails the test that caused it.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=4:external_symbolizer_path=/usr/bin/llvm-symbolizer-16}
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" --timeout 900 \
  --no-tests=error "$@"
