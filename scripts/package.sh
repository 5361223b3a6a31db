#!/usr/bin/env bash
# Builds the Debian package: a release build in build-package/ (no tests),
# then CPack. Prints the .deb's path. Run scripts/bootstrap.sh first.
#   scripts/package.sh            -> build-package/crmhub_<version>_<arch>.deb
# Install it: sudo apt install ./build-package/crmhub_*.deb (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-package
# -Werror is CI's gate (scripts/test.sh), not the packager's: see demo.sh.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCRMHUB_TESTS=OFF \
  -DCRMHUB_WERROR=OFF -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$build" --target crmhub crmhub_man
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/crmhub_*.deb
