#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds
# with warnings as errors, runs every test with CTest, then builds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test again
# (the MDS processes that integration tests start are sanitized too).
#
# Every process the tests start runs in this script's own process group; on
# exit (pass, fail or interrupt) stragglers in that group are killed, so a
# failed run leaves no server behind. Tests unmount their FUSE mounts on every
# path they control; a test killed outright (ctest's timeout sends SIGKILL)
# cannot, so on exit every fuse.baton mount under the tests' temporary
# directories (/tmp/baton-test-*) is lazily unmounted too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${BATON_TEST_IN_GROUP:-}" != 1 ]; then
  export BATON_TEST_IN_GROUP=1
  set +e
  setsid bash "$0" "$@" &
  child=$!
  trap 'kill -TERM -- -$child 2>/dev/null' INT TERM
  wait $child
  rc=$?
  kill -KILL -- -$child 2>/dev/null || true
  awk '$3 == "fuse.baton" && $2 ~ "^/tmp/baton-test-" {print $2}' /proc/mounts | while read -r m; do
    echo "test.sh: unmounting a mount a test left behind: $m" >&2
    umount -l "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || true
  done
  exit $rc
fi

start=$(date +%s)
# Each phase line says how far into the run it starts (CI's budget: 25 min).
at() { echo "$(( $(date +%s) - start )) s"; }
bash scripts/install-deps.sh
echo "== build (warnings are errors), at $(at)"
BUILD_DIR=$root/build BATON_WERROR=ON BATON_LINE_TABLES_ONLY=ON bash scripts/build.sh
# Install as up.sh does, so `mount -t baton` (which runs /sbin/mount.baton)
# in the mount tests uses this build.
cmake --install build --prefix /usr/local >/dev/null
echo "== tests, at $(at)"
ctest --test-dir build --output-on-failure -j2 --timeout 900
echo "== sanitizer build (ASan + UBSan), at $(at)"
BUILD_DIR=$root/build-asan BATON_WERROR=ON BATON_SANITIZE=ON BATON_SEEDED_BUGS=ON BATON_BENCH=OFF BATON_LINE_TABLES_ONLY=ON bash scripts/build.sh
echo "== all tests under ASan + UBSan, at $(at)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 900
echo "== all tests passed in $(( $(date +%s) - start )) s"
