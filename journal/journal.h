// The journal: a segmented, append-only write-ahead log of opaque records.
// It knows bytes, records, LSNs, epochs, checksums and segments; it knows
// nothing of inodes (fs/ gives records their meaning).
//
// Layout on disk: VOLUME/journal/seg-<16 hex digits of segment seq>.log, each
// a segment header followed by records. journal/journal_format.h documents
// every byte; docs/format/journal.md is the prose version.
//
// Invariants (asserted where used):
//   records' LSNs are consecutive (+1) across the whole journal;
//   a record's epoch equals the epoch of the segment holding it;
//   segment epochs never decrease; trimmed_lsn <= checkpoint <= durable_lsn.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace baton::journal {

struct VolumeId {
  uint8_t bytes[16] = {};
  bool operator==(const VolumeId&) const = default;
};

// What one group write cost, for an observer (the MDS's metrics).
struct GroupSyncStats {
  uint64_t records = 0;  // records in the group
  uint64_t bytes = 0;    // bytes written for it (record headers included)
  uint64_t sync_ns = 0;  // the fdatasync after its write, alone (env monotonic clock)
};

struct JournalOptions {
  Env* env = nullptr;
  std::string dir;                               // VOLUME/journal
  VolumeId volume_id;
  uint64_t epoch = 1;                            // stamped on every record written
  uint64_t segment_size_bytes = 64ull << 20;     // roll to a new segment past this size
  // Optional observer, called by the group's leader after the group's write
  // and fdatasync succeeded and before its callers are woken, without the
  // journal's lock held. It must be cheap and must not call the journal.
  // Unset (the default), the writer reads no clock for it. (Not called on
  // the seeded reply-before-sync path, base/seeded_bugs.h.)
  std::function<void(const GroupSyncStats&)> on_group_synced;
};

// A record as read back.
struct Record {
  uint64_t lsn = 0;
  uint64_t epoch = 0;
  uint16_t type = 0;
  uint16_t flags = 0;
  std::string payload;
  uint64_t segment_seq = 0;  // where it was found (for messages and tools)
  uint64_t offset = 0;
};

// A record to append.
struct RecordIn {
  uint16_t type = 0;
  std::string_view payload;
};

// Recovery reader: returns records in LSN order from a starting LSN, and
// stops at the end. A torn tail (a bad or short record with no valid record
// after it) is the end of the log (kEndOfLog); so is a tear inside the final
// group write (the one write that may have been cut by power loss: every
// valid record after the tear belongs to that same, never-acknowledged group).
// Any other bad record followed by a valid one is corruption (kCorruption
// naming the segment, offset and the expected LSN); it is never skipped.
// Records of another volume, of an older epoch than their segment, or left
// over from a recycled segment fail their checks. Records of a segment at or
// beyond the first LSN of the next segment were written by a deposed writer
// and are ignored (the next segment's epoch is newer). The decision table is
// at the top of journal/journal_reader.cc and in docs/format/journal.md.
class JournalReader {
 public:
  static StatusOr<std::unique_ptr<JournalReader>> Open(Env* env, const std::string& dir, const VolumeId& vol,
                                                       uint64_t from_lsn);
  virtual ~JournalReader() = default;
  // Ok and a record; kEndOfLog at the end; kCorruption on corruption.
  virtual Status Next(Record* out) = 0;
  // Where the valid log ends: the LSN the next appended record must take, and
  // the segment/offset at which writing must continue (tail truncation point).
  virtual uint64_t next_lsn() const = 0;
};

// Writer with group commit. Thread-safe: many threads call Append, and the
// records of all callers waiting at the same time go to disk in one write and
// one fdatasync. Fail-stop: after the first write or sync error every later
// call fails with that error.
class Journal {
 public:
  // Opens for appending after recovery: scans the log, truncates a torn tail,
  // and starts a new segment stamped with options.epoch whose first LSN is
  // the next LSN. Returns kCorruption for mid-log corruption (the caller
  // decides; the MDS refuses to start).
  static StatusOr<std::unique_ptr<Journal>> Open(const JournalOptions& options);
  // Creates an empty journal directory for a new volume (mkfs).
  static Status Create(const JournalOptions& options);
  virtual ~Journal() = default;

  // Appends one record and returns once it is durable. Concurrent callers
  // share one write and one fdatasync (group commit).
  virtual StatusOr<uint64_t> Append(uint16_t type, std::string_view payload) = 0;
  // Appends records with consecutive LSNs in one write and one fdatasync;
  // returns the LSN of the first. For a caller that batches itself.
  virtual StatusOr<uint64_t> AppendBatch(std::span<const RecordIn> records) = 0;

  virtual uint64_t durable_lsn() const = 0;  // last LSN known durable (0 if none)
  virtual uint64_t next_lsn() const = 0;
  // Deletes whole segments whose records all have LSN <= lsn (never the
  // segment being written), then syncs the directory.
  virtual Status Trim(uint64_t lsn) = 0;
  // Lets the writer stop at the next opportunity (a fenced MDS).
  virtual Status Close() = 0;
};

}  // namespace baton::journal
