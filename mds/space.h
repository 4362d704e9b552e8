// The MDS's free-space reserve (review finding 1).
//
// A record that is journaled must be applicable: if apply() ran out of space
// the MDS would fail-stop, and since the record is durable, fail again on
// every restart. So before journaling an op that consumes space, the
// sequencer asks SpaceGuard whether the file system holding the volume still
// has more than the reserve free; below it the op is answered ENOSPC and
// never journaled (nothing applied, so nothing for the exactly-once table).
//
// statvfs is asked at most every kSpaceRecheckNs; a failing statvfs counts as
// "enough space" (logged once) so that an odd mount never stops service.
// Wanted: an Env::FreeSpaceBytes seam (base/env.h) so tests can fake a full
// disk; until then statvfs is called here directly.
#pragma once

#include <cstdint>
#include <string>

#include "base/env.h"
#include "fs/ops.h"

namespace baton::mds {

constexpr uint64_t kSpaceRecheckNs = 100ull * 1000 * 1000;

class SpaceGuard {
 public:
  SpaceGuard(Env* env, std::string path, uint64_t min_free_bytes, uint32_t min_free_percent);
  // True when req would consume space and the reserve is not there.
  bool Refuses(const fs::Request& req);

 private:
  bool BelowReserve();
  Env* env_;
  std::string path_;
  uint64_t min_free_bytes_;
  uint32_t min_free_percent_;
  uint64_t checked_ns_ = 0;
  bool below_ = false;
  bool said_ = false;
};

// True for ops whose apply may allocate chunks, inodes, entries or xattrs.
bool ConsumesSpace(const fs::Request& req);

// The one message for "apply or replay ran out of space".
void LogVolumeFull(const std::string& volume_path);

}  // namespace baton::mds
