// What recovery learns about the journal's shape: the valid segments, where
// the valid log ends, and what must be cut off before appending again.
// Implemented by the reader (journal_reader.cc); used by the writer's Open.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "journal/journal.h"

namespace baton::journal {

struct SegmentInfo {
  uint64_t seq = 0;
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
};

struct RecoveryResult {
  uint64_t next_lsn = 1;              // LSN the next appended record takes
  std::vector<SegmentInfo> segments;  // segments with a valid header, seq order
  // The segment holding the end of the valid log and the byte offset where
  // the valid log ends in it (a torn tail after it is cut off).
  bool has_tail = false;
  uint64_t tail_seq = 0;
  uint64_t tail_offset_bytes = 0;
  // A last segment whose header never became valid (crash while creating it,
  // with no valid record in it): removed before a new segment is created.
  std::vector<uint64_t> bad_trailing_seqs;
  uint64_t max_seq = 0;    // highest seq of any segment file (valid or not)
  uint64_t max_epoch = 0;  // highest epoch of a valid segment header
};

// Reads the whole journal. kCorruption for mid-log corruption.
StatusOr<RecoveryResult> RecoverJournal(Env* env, const std::string& dir, const VolumeId& vol);

std::string SegmentPath(const std::string& dir, uint64_t seq);

}  // namespace baton::journal
