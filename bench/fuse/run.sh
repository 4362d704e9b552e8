#!/usr/bin/env bash
# FUSE bench: the same workloads on a local directory, on libfuse's example
# passthrough_ll mounted over a local directory, and on a BatonFS mount, side
# by side in one run; prints absolute numbers, the ratio baton / passthrough
# and which targets are met (docs/PERFORMANCE.md, "FUSE mount vs
# passthrough_ll"). Never asserts on time.
#
# Workloads, per target and round (rounds interleave the targets):
#   baton_fuse_bench run: create / stat / unlink 10,000 empty files, mkdir and
#     rmdir 2,000, 2,000 x (create, write 4 KiB, fsync, close) with p50/p99;
#   fio (psync, buffered): sequential write 1 GiB bs=1M (+ fsync at the end),
#     sequential read of it, random 4 KiB write and read for 30 s each.
# The report is the median over rounds.
#
# Exit status: 0 everything ran and everything was cleaned up (mounts,
# processes, temp dir); 1 a workload failed, a daemon (baton mount,
# passthrough_ll, baton mds) did not exit 0 when stopped, or cleanup left
# something;
# 2 bad usage; 77 skipped (no /dev/fuse, fusermount3 or fio, or `baton mount`
# not built).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/fuse/run.sh [options]
  --quick               smoke run: 200 files, 100 dirs, 50 fsync'd files, fio 64M and 2 s, 1 round
  --rounds N            rounds per target (default 3; --quick 1); the report is the median
  --json FILE           also write the table as JSON
  --samples FILE        keep the raw samples (one line per target, metric and round)
  --dir DIR             parent of the temp dir (default $TMPDIR or /tmp); everything runs on its disk
  --targets LIST        subset of local,passthrough,baton (default all three)
  --no-fio              metadata and fsync'd-file workloads only (a quicker A/B of those)
  --build-dir DIR       build tree (default $BUILD_DIR, else REPO/build); the binaries below are
                        built in it with ninja when missing
  --baton PATH  --driver PATH  --passthrough PATH
                        the baton, baton_fuse_bench and passthrough_ll binaries
EOF
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
COMMAND="bench/fuse/run.sh $*"
QUICK=0 FIO=1 ROUNDS="" JSON="" SAMPLES_OUT="" PARENT="${TMPDIR:-/tmp}" TARGETS="local,passthrough,baton"
BUILD_DIR="${BUILD_DIR:-}" BATON="" DRIVER="" PASSTHROUGH=""
while (($#)); do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-fio) FIO=0 ;;
    --rounds) ROUNDS="${2:?}"; shift ;;
    --json) JSON="${2:?}"; shift ;;
    --samples) SAMPLES_OUT="${2:?}"; shift ;;
    --dir) PARENT="${2:?}"; shift ;;
    --targets) TARGETS="${2:?}"; shift ;;
    --build-dir) BUILD_DIR="${2:?}"; shift ;;
    --baton) BATON="${2:?}"; shift ;;
    --driver) DRIVER="${2:?}"; shift ;;
    --passthrough) PASSTHROUGH="${2:?}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ -z "$ROUNDS" || "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad --rounds $ROUNDS" >&2; exit 2; }
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do
  [[ "$t" == local || "$t" == passthrough || "$t" == baton ]] || { echo "run.sh: unknown target $t" >&2; exit 2; }
done
wants() { [[ ",$TARGETS," == *",$1,"* ]]; }

if ((QUICK)); then
  ROUNDS=${ROUNDS:-1} FIO_SIZE=64M FIO_RUNTIME_S=2 DRIVER_COUNTS=(--files 200 --dirs 100 --fsync-files 50)
  STEP_TIMEOUT_S=60
else
  ROUNDS=${ROUNDS:-3} FIO_SIZE=1G FIO_RUNTIME_S=30 DRIVER_COUNTS=()
  STEP_TIMEOUT_S=1800
fi

log() { echo "run.sh: $*" >&2; }
skip() { log "skipped: $*"; exit 77; }

# --- binaries ---------------------------------------------------------------
if [[ -z "$BATON" || -z "$DRIVER" || -z "$PASSTHROUGH" ]]; then
  BUILD_DIR=${BUILD_DIR:-$REPO/build}
  BATON=${BATON:-$BUILD_DIR/tools/baton}
  DRIVER=${DRIVER:-$BUILD_DIR/bench/fuse/baton_fuse_bench}
  PASSTHROUGH=${PASSTHROUGH:-$BUILD_DIR/bench/fuse/passthrough_ll}
  if [[ ! -x "$BATON" || ! -x "$DRIVER" || ! -x "$PASSTHROUGH" ]]; then
    log "building baton, baton_fuse_bench and passthrough_ll in $BUILD_DIR"
    [[ -f "$BUILD_DIR/build.ninja" ]] || cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja >&2
    ninja -C "$BUILD_DIR" -j2 baton baton_fuse_bench passthrough_ll >&2
  fi
fi
for b in "$BATON" "$DRIVER" "$PASSTHROUGH"; do [[ -x "$b" ]] || { log "not executable: $b"; exit 1; }; done
[[ -c /dev/fuse ]] || skip "no /dev/fuse"
command -v fusermount3 >/dev/null || skip "fusermount3 not installed"
command -v fio >/dev/null || skip "fio not installed"
if wants baton && ! "$BATON" mount --help >/dev/null 2>&1; then
  skip "'$BATON mount' does not exist yet (run with --targets local,passthrough)"
fi

# --- state and cleanup ------------------------------------------------------
WORK="" LOGS="" SAMPLES="" MDS_PID="" BATON_PID="" PT_PID="" STEP_PID="" MOUNTS=()

# Runs one workload step (stdout appended to $SAMPLES) in the background and
# waits for it: bash's wait returns at once when a trapped signal arrives, so
# SIGINT/SIGTERM stop the bench mid-step (cleanup kills the step first).
run_step() {
  timeout --kill-after=10 "$STEP_TIMEOUT_S" "$@" >>"$SAMPLES" &
  STEP_PID=$!
  local rc=0
  wait "$STEP_PID" || rc=$?
  STEP_PID=""
  return $rc
}

is_mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }

unmount_one() {
  is_mounted "$1" || return 0
  fusermount3 -u "$1" 2>/dev/null || umount "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true
  is_mounted "$1" && { log "could not unmount $1"; return 1; }
  return 0
}

# Waits up to timeout_s for pid to exit, then SIGTERM, then SIGKILL; reaps it.
# Its exit status is left in STOP_STATUS (0 when there was no pid).
stop_pid() {
  local pid=$1 timeout_s=$2 i
  STOP_STATUS=0
  [[ -n "$pid" ]] || return 0
  for ((i = 0; i < timeout_s * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  wait "$pid" 2>/dev/null || STOP_STATUS=$?
}

# Daemons that did not exit 0 (an unmounted FUSE daemon and an MDS stopped by
# SIGTERM both should): "name:status ...", for the final check.
BAD_EXITS=""
note_exit() {
  ((STOP_STATUS == 0)) && return 0
  BAD_EXITS+="$1:$STOP_STATUS "
  log "$1 exited with status $STOP_STATUS; the end of its log:"; tail -n 20 "$2" >&2 2>/dev/null
  return 0
}

# Idempotent: runs on the normal path and again from the EXIT trap.
cleanup() {
  set +e
  local m
  if [[ -n "$STEP_PID" ]]; then kill -TERM "$STEP_PID" 2>/dev/null; stop_pid "$STEP_PID" 5; STEP_PID=""; fi
  for m in "${MOUNTS[@]}"; do unmount_one "$m" || true; done
  stop_pid "$BATON_PID" 5; note_exit "baton mount" "$LOGS/baton-mount.log"; BATON_PID=""
  stop_pid "$PT_PID" 5; note_exit passthrough_ll "$LOGS/passthrough.log"; PT_PID=""
  # The mounts are gone once their daemons have exited; a lazy unmount for
  # any that a dead daemon left behind.
  for m in "${MOUNTS[@]}"; do is_mounted "$m" && umount -l "$m" 2>/dev/null; done
  MOUNTS=()
  if [[ -n "$MDS_PID" ]]; then kill -TERM "$MDS_PID" 2>/dev/null || true; stop_pid "$MDS_PID" 10; note_exit "baton mds" "$LOGS/mds.log"; MDS_PID=""; fi
  if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
  return 0
}
trap 'cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

WORK=$(mktemp -d "$PARENT/baton-fusebench-XXXXXX")
LOGS="$WORK/logs" SAMPLES="$WORK/samples"
mkdir -p "$LOGS" "$WORK/local" "$WORK/pt-src" "$WORK/pt-mnt" "$WORK/baton-mnt" "$WORK/vol"
: >"$SAMPLES"

# Waits until mountpoint is mounted, or the daemon pid died, or 20 s passed.
wait_mounted() {
  local mnt=$1 pid=$2 log_file=$3 i
  for ((i = 0; i < 200; i++)); do
    is_mounted "$mnt" && return 0
    kill -0 "$pid" 2>/dev/null || { log "mount daemon for $mnt exited:"; tail -n 20 "$log_file" >&2; return 1; }
    sleep 0.1
  done
  log "timed out waiting for $mnt"; tail -n 20 "$log_file" >&2; return 1
}

start_mds() {
  local attempt port i
  "$BATON" mkfs "$WORK/vol" --meta-map 16G -q
  for attempt in 1 2 3 4 5; do
    port=$("$DRIVER" free-port)
    MDS_ADDR="127.0.0.1:$port"
    "$BATON" mds "$WORK/vol" --listen "$MDS_ADDR" >"$LOGS/mds.log" 2>&1 &
    MDS_PID=$!
    for ((i = 0; i < 100; i++)); do
      "$BATON" status "$MDS_ADDR" --timeout-ms 500 >/dev/null 2>&1 && return 0
      kill -0 "$MDS_PID" 2>/dev/null || break
      sleep 0.1
    done
    log "MDS on $MDS_ADDR did not come up (attempt $attempt):"; tail -n 5 "$LOGS/mds.log" >&2
    kill -KILL "$MDS_PID" 2>/dev/null || true; wait "$MDS_PID" 2>/dev/null || true; MDS_PID=""
  done
  return 1
}

mount_baton() {
  start_mds || return 1
  MOUNTS+=("$WORK/baton-mnt")
  "$BATON" mount "$MDS_ADDR" "$WORK/baton-mnt" -f >"$LOGS/baton-mount.log" 2>&1 &
  BATON_PID=$!
  wait_mounted "$WORK/baton-mnt" "$BATON_PID" "$LOGS/baton-mount.log"
}

mount_passthrough() {
  MOUNTS+=("$WORK/pt-mnt")
  "$PASSTHROUGH" -f -o source="$WORK/pt-src" "$WORK/pt-mnt" >"$LOGS/passthrough.log" 2>&1 &
  PT_PID=$!
  wait_mounted "$WORK/pt-mnt" "$PT_PID" "$LOGS/passthrough.log"
}

dir_of() {
  case "$1" in
    local) echo "$WORK/local" ;;
    passthrough) echo "$WORK/pt-mnt" ;;
    baton) echo "$WORK/baton-mnt" ;;
  esac
}

# One fio job on target's directory; appends "TARGET METRIC VALUE". Fields of
# fio's terse v3 line: 5 error, 7/8 read KiB/s and IOPS, 48/49 write KiB/s and IOPS.
fio_job() {
  local target=$1 dir=$2 metric=$3 rw=$4 bs=$5; shift 5
  local out_file="$LOGS/fio-$target-$metric.out" err_file="$LOGS/fio-$target-$metric.err"
  : >"$out_file"
  SAMPLES="$out_file" run_step fio --name="$metric" --filename="$dir/fio.dat" --rw="$rw" --bs="$bs" \
      --size="$FIO_SIZE" --direct=0 --ioengine=psync --fallocate=none --invalidate=1 \
      --output-format=terse --terse-version=3 "$@" 2>"$err_file" || {
    log "fio $metric on $target failed:"; tail -n 5 "$err_file" >&2; return 1; }
  awk -F';' -v t="$target" -v m="$metric" '
    $1 != 3 { next }
    $5 != 0 { bad = 1; next }
    { got = 1
      if (m ~ /_MiBps$/) v = (m ~ /read/ ? $7 : $48) / 1024; else v = (m ~ /read/ ? $8 : $49)
      if (v <= 0) bad = 1; else printf "%s %s %.3f\n", t, m, v }
    END { exit (bad || !got) }' "$out_file" >>"$SAMPLES" || {
    log "fio $metric on $target: bad result: $(cat "$out_file")"; return 1; }
}

run_fio() {
  local target=$1 dir=$2
  fio_job "$target" "$dir" seq_write_MiBps write 1M --end_fsync=1 &&
    fio_job "$target" "$dir" seq_read_MiBps read 1M &&
    fio_job "$target" "$dir" rand_write_iops randwrite 4k --time_based --runtime="$FIO_RUNTIME_S" &&
    fio_job "$target" "$dir" rand_read_iops randread 4k --time_based --runtime="$FIO_RUNTIME_S" &&
    rm -f "$dir/fio.dat"
}

run_round() {
  local round=$1 target dir failed=0
  for target in "${TARGET_LIST[@]}"; do
    dir=$(dir_of "$target")
    log "round $round/$ROUNDS: $target ($dir): metadata and fsync'd writes"
    if ! run_step "$DRIVER" run "$dir" --target "$target" --rounds 1 "${DRIVER_COUNTS[@]}"; then
      log "baton_fuse_bench on $target failed"; failed=1
    fi
    ((FIO)) || continue
    log "round $round/$ROUNDS: $target: fio"
    run_fio "$target" "$dir" || failed=1
  done
  return $failed
}

machine() {
  local cpu disk
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  disk=$(df -hT "$PARENT" | awk 'NR == 2 { print $1 " " $2 ", " $3 " size, " $4 " used" }')
  printf '%s vCPU (%s), %s RAM, kernel %s, %s on %s, load %s' "$(nproc)" "$cpu" \
    "$(free -h | awk '/^Mem:/ { print $2 }')" "$(uname -r)" "$PARENT" "$disk" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- run ----------------------------------------------------------------------
MACHINE=$(machine)
log "$COMMAND"
log "machine: $MACHINE"
failed=0
if wants passthrough; then mount_passthrough || { log "passthrough_ll did not mount"; exit 1; }; fi
if wants baton; then mount_baton || { log "baton mount did not come up"; exit 1; }; fi
for ((r = 1; r <= ROUNDS; r++)); do run_round "$r" || failed=1; done

report_args=("$SAMPLES" --targets "$TARGETS" --command "$COMMAND" --machine "$MACHINE")
[[ -n "$JSON" ]] && report_args+=(--json "$JSON")
"$DRIVER" report "${report_args[@]}" || failed=1
[[ -n "$SAMPLES_OUT" ]] && cp "$SAMPLES" "$SAMPLES_OUT"
if ((failed)); then log "logs of the mounts and the MDS:"; tail -n 20 "$LOGS"/*.log >&2 || true; fi

# Clean up now and check that nothing is left (the trap would do it too, but
# then nobody could check).
pids=("$MDS_PID" "$BATON_PID" "$PT_PID")
mounts=("${MOUNTS[@]}")
work=$WORK
cleanup
for m in "${mounts[@]}"; do is_mounted "$m" && { log "cleanup failed: $m still mounted"; failed=1; }; done
for p in "${pids[@]}"; do [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null && { log "cleanup failed: pid $p alive"; failed=1; }; done
[[ -e "$work" ]] && { log "cleanup failed: $work left"; failed=1; }
[[ -n "$BAD_EXITS" ]] && { log "daemons that did not exit 0 (name:status): $BAD_EXITS"; failed=1; }
((failed == 0)) && log "all workloads ran; mounts, processes and $work cleaned up"
exit $failed
