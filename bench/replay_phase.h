// The replay phase: a fresh volume whose journal holds N op records that were
// never applied; times mds::ReplayJournal against reading the same journal
// files sequentially with read().
#pragma once

#include <cstdint>
#include <string>

namespace baton::bench {

struct ReplayResult {
  uint64_t records = 0;        // records written (and replayed)
  uint64_t journal_bytes = 0;  // bytes of the journal segment files
  uint64_t write_ns = 0;       // AppendBatch of all records (for context)
  uint64_t replay_ns = 0;      // mds::ReplayJournal
  uint64_t read_ns = 0;        // raw sequential read() of the segment files
  std::string error;
};

// Builds the volume at volume_path (must not exist) and runs the phase.
ReplayResult RunReplayBench(const std::string& volume_path, uint64_t records);

}  // namespace baton::bench
