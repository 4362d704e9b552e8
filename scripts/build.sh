#!/usr/bin/env bash
# Configures and builds BatonFS into BUILD_DIR (default: build/).
#   BATON_WERROR=ON|OFF  (default ON)   BATON_SANITIZE=ON|OFF (default OFF)
#   BATON_SEEDED_BUGS=ON|OFF (default OFF; the CI sanitizer build turns it on)
#   BATON_BENCH=ON|OFF   (default ON; the CI sanitizer build runs no benchmark)
#   BATON_LINE_TABLES_ONLY=ON|OFF (default OFF; -g1 instead of -g, the test
#                        command turns it on to keep CI inside its time budget)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBATON_WERROR="${BATON_WERROR:-ON}" -DBATON_SANITIZE="${BATON_SANITIZE:-OFF}" \
  -DBATON_SEEDED_BUGS="${BATON_SEEDED_BUGS:-OFF}" -DBATON_BENCH="${BATON_BENCH:-ON}" \
  -DBATON_LINE_TABLES_ONLY="${BATON_LINE_TABLES_ONLY:-OFF}" >/dev/null
ninja -C "$build" -j"$(nproc)" "$@"
