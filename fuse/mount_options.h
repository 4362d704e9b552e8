// `baton mount` command line: ADDRS MOUNTPOINT [-f] [-o OPTS], also as
// mount(8) calls the helper: mount.baton SPEC DIR [-sfnv] [-o OPTS].
// Parsing is pure (no I/O) so it is unit-tested; docs in README "Mount options".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace baton::fuse {

struct MountConfig {
  std::vector<std::string> addresses;  // from "ADDR:PORT[,ADDR:PORT...]"
  std::string spec;                    // as given, for fsname=baton:SPEC
  std::string mountpoint;
  bool foreground = false;
  bool fake = false;  // mount(8)'s -f: check everything, mount nothing
  bool debug = false;
  bool allow_other = false;
  bool default_permissions = false;  // accepted for compatibility; always on (mount_main.cc)
  bool read_only = false;
  bool nonempty = false;
  bool writeback_cache = false;
  double attr_timeout_s = 1.0;
  double entry_timeout_s = 1.0;
  double negative_timeout_s = 0.0;
  double connect_timeout_s = 10.0;   // the first connection
  double failover_timeout_s = -1;    // < 0: wait through any MDS outage (hard mount); else EIO after it
  uint32_t max_threads = 16;         // FUSE worker threads
  std::string log_path;              // daemon's log (stderr) when in the background; empty: discarded
  // Generic mount flags passed to the kernel as given (suid, dev, exec,
  // noatime, sync...); FUSE's own default is nosuid,nodev.
  std::vector<std::string> kernel_flags;
};

// Parses argv[first..argc). An unknown option, a malformed value or a missing
// argument is an InvalidArgument naming it. As mount(8)'s helper
// (mount.baton), -f means "fake" as mount(8) passes it, not "foreground".
StatusOr<MountConfig> ParseMountArgs(int argc, char** argv, int first, bool as_mount_helper = false);
// Applies one comma-separated -o list to cfg (exposed for tests).
Status ApplyMountOptions(const std::string& list, MountConfig* cfg);

}  // namespace baton::fuse
