#!/usr/bin/env bash
# The main job: installs what is missing, builds, installs the binaries
# (/usr/local/bin, and /sbin/mount.baton for mount -t baton), creates a local
# volume (once), starts an active MDS and a standby MDS on it, and mounts the
# file system.
#
#   BATON_HOME    where the volume, logs and pid files live (default /var/lib/batonfs)
#   BATON_PORT    port of the active MDS (default 7070; the standby uses +1)
#   BATON_MOUNT   mount point (default /mnt/baton)
#
# Run it again at any time: it rebuilds, keeps the volume, and restarts no MDS
# or mount that is still running. `bash scripts/down.sh` unmounts and stops.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${BATON_HOME:-/var/lib/batonfs}
port=${BATON_PORT:-7070}
vol=$home/volume
mnt=${BATON_MOUNT:-/mnt/baton}
baton=$root/build/tools/baton

bash "$root/scripts/install-deps.sh"
BUILD_DIR=$root/build BATON_WERROR=OFF bash "$root/scripts/build.sh" baton
cmake --install "$root/build" --prefix /usr/local >/dev/null
mkdir -p "$home"
if [ ! -e "$vol/superblock" ]; then
  "$baton" mkfs "$vol" --label local
fi

start_mds() {  # name port extra-args...
  local name=$1 p=$2; shift 2
  local pidf=$home/$name.pid
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    echo "$name MDS already running (pid $(cat "$pidf"))"
    return
  fi
  nohup "$baton" mds "$vol" --listen "127.0.0.1:$p" --name "$name" "$@" >>"$home/$name.log" 2>&1 &
  echo $! >"$pidf"
  echo "$name MDS started (pid $!, 127.0.0.1:$p, log $home/$name.log)"
}
start_mds mds-a "$port"
sleep 0.5
start_mds mds-b "$((port + 1))"
sleep 0.5
if ! kill -0 "$(cat "$home/mds-a.pid")" 2>/dev/null; then
  echo "the first MDS exited; its log:" >&2
  tail -n 20 "$home/mds-a.log" >&2
  exit 1
fi

mkdir -p "$mnt"
if grep -q " $mnt fuse.baton " /proc/mounts; then
  echo "already mounted at $mnt"
else
  "$baton" mount "127.0.0.1:$port,127.0.0.1:$((port + 1))" "$mnt" -o "allow_other,log=$home/mount.log"
fi
echo
echo "BatonFS is up: volume $vol, active MDS 127.0.0.1:$port, standby 127.0.0.1:$((port + 1)) (follows the journal, takes over)."
"$baton" status "127.0.0.1:$port" || true
echo "Mounted at $mnt"
