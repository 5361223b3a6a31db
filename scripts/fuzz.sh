#!/usr/bin/env bash
# The fuzz tier: builds the libFuzzer targets of tests/fuzz with clang
# (ASan + UBSan) in build-fuzz, and runs each for FUZZ_SECONDS (default 45)
# on a copy of its committed corpus (tests/fuzz/corpus/<target>). Fails on
# any crash, sanitizer report, leak or time-out; the input that did it is in
# build-fuzz/findings/<target>/ (add it to the corpus and a regression test).
# Extra arguments name targets to run (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

seconds=${FUZZ_SECONDS:-45}
build=build-fuzz
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCRMHUB_FUZZ=ON -DCRMHUB_WERROR=ON -DCRMHUB_JEMALLOC=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target crmhub_fuzzers

targets=("$@")
if ((${#targets[@]} == 0)); then
  for t in "$build"/fuzz/fuzz_*; do
    if [[ -f "$t" && -x "$t" ]]; then targets+=("$(basename "$t")"); fi
  done
fi
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-16}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# One target per core at a time: each libFuzzer run is one process on one
# core, so on N cores N of them share the wall time of one.
jobs=${FUZZ_JOBS:-$(nproc)}
fuzz_one() {
  local name=$1
  local corpus="$build/corpus/$name" findings="$build/findings/$name" log="$build/$name.log"
  rm -rf "$corpus" "$findings"
  mkdir -p "$corpus" "$findings"
  cp tests/fuzz/corpus/"$name"/* "$corpus"/
  if [[ -s "$build/fuzz-seeds/$name.txt" ]]; then  # seeds kept where they live (crmhub_fuzzer SEEDS)
    xargs -r -a "$build/fuzz-seeds/$name.txt" cp -t "$corpus"/
  fi
  if "$build/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    echo "fuzz: $name ran ${seconds}s ($(ls "$findings" | wc -l) findings):" \
      "$(grep -aE "^stat::number_of_executed_units|^stat::new_units_added" "$log" | tr '\n' ' ')"
  else
    echo "fuzz: $name FAILED; the input is in $findings/, the report in $log"
    tail -40 "$log"
    return 1
  fi
}
failed=()
declare -A running=()
reap() {  # waits for one run to end; records its name when it failed
  local pid
  wait -n -p pid "${!running[@]}" || failed+=("${running[$pid]}")
  unset "running[$pid]"
}
for name in "${targets[@]}"; do
  while ((${#running[@]} >= jobs)); do reap; done
  seeds=$(ls tests/fuzz/corpus/"$name" | wc -l)
  if [[ -s "$build/fuzz-seeds/$name.txt" ]]; then
    seeds=$((seeds + $(wc -l <"$build/fuzz-seeds/$name.txt")))
  fi
  echo "fuzz: $name for ${seconds}s ($seeds seed inputs)"
  fuzz_one "$name" &
  running[$!]=$name
done
while ((${#running[@]} > 0)); do reap; done
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a finding"
