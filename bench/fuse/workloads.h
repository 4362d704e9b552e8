// The workloads baton_fuse_bench runs in one directory (a local one, a
// passthrough_ll mount or a BatonFS mount), single-threaded, through plain
// POSIX calls so every target sees the same system calls:
//   create  open(O_CREAT|O_EXCL|O_WRONLY, 0644) + close of `files` empty files
//   stat    stat() of each of them, after waiting stat_delay_ms: both FUSE
//           mounts cache names and attributes for 1 s (passthrough_ll
//           timeout=1.0, baton entry/attr_timeout=1), so without the wait
//           the share of stats answered from the kernel's cache would depend
//           on how fast the creates were. After it, each stat is one LOOKUP.
//   unlink  unlink() of each of them
//   mkdir   mkdir() of `dirs` directories, then rmdir of each of them
//   fsync   `fsync_files` x (open(O_CREAT|O_EXCL) + write 4 KiB + fsync + close),
//           each timed on its own for p50/p99 latency (files removed untimed)
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace baton::fusebench {

struct WorkloadCounts {
  int files = 10000;
  int dirs = 2000;
  int fsync_files = 2000;
  int stat_delay_ms = 1500;
};

// One measured value of one round: metric names are those of report.h.
struct Sample {
  std::string metric;
  double value = 0;
};

// Runs every workload once in a fresh subdirectory of dir (removed after).
StatusOr<std::vector<Sample>> RunRound(const std::string& dir, const WorkloadCounts& counts);

}  // namespace baton::fusebench
