#!/usr/bin/env bash
# Installs everything crmhub needs to build, test and run, from Debian's
# packages. Non-interactive, idempotent, and quick when all is installed.
# Run as root on Debian 12 (bookworm) or newer.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost-dev libcurl4-openssl-dev libssl-dev librdkafka-dev libsqlite3-dev sqlite3
  nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libpugixml-dev libjemalloc-dev
  libzip-dev libxml2-dev
  libgtest-dev libgmock-dev
  # the fuzz and ThreadSanitizer tiers (scripts/fuzz.sh, scripts/tsan.sh):
  # libFuzzer and the sanitizer runtimes, and the symbolizer for reports.
  # clang 16: clang 14 cannot compile Asio's coroutines under ASan.
  clang-16 libclang-rt-16-dev llvm-16
  # LLVM's linker (cmake/crmhub.cmake, CRMHUB_LLD): about 3x faster than GNU ld
  # on the sanitizer builds' test binaries
  lld-16
  # scripts/format.sh and the format_check test
  clang-format-16
  wrk systemd
  # scripts/package.sh and the package test: dpkg-shlibdeps, dpkg-deb
  dpkg-dev
  # promtool, for the alert rules test (tests/contrib)
  prometheus
  # the status page's browser test (tests/ui)
  chromium
  # bench/intake.sh, which BenchIntakeTest runs
  curl bc python3 openssl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Prism (contract tests) runs on Node.js; any node >= 18 with npm will do.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "bootstrap: all build and test dependencies are installed"
