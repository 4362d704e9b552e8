#!/usr/bin/env bash
# Installs, with apt-get, every Debian package BatonFS needs to build, test and
# run, skipping what is already there.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config
      libfuse3-dev fuse3 liblmdb-dev lmdb-utils libxxhash-dev libboost-test-dev
      util-linux procps
      git sqlite3 fio attr acl xz-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
