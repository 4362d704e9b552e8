#!/usr/bin/env bash
# Unmounts what scripts/up.sh mounted and stops the MDS processes it started
# (by their pid files).
set -uo pipefail
home=${BATON_HOME:-/var/lib/batonfs}
mnt=${BATON_MOUNT:-/mnt/baton}
if grep -q " $mnt fuse.baton " /proc/mounts; then
  fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"
  echo "unmounted $mnt"
fi
for name in mds-b mds-a; do
  pidf=$home/$name.pid
  [ -f "$pidf" ] || continue
  pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidf"
done
