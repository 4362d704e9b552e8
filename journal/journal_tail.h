// JournalTail: follows a journal that a live writer is appending to (the
// standby's view; mds/standby.h).
//
// Unlike the recovery reader it never treats what it cannot read yet as the
// end of the log: it reads only up to a bound the caller knows is durable and
// fence-checked (the active's published durable LSN, mds/mds_info.h), and
// keeps its place between calls (one open segment, a byte offset), so
// following costs one pread per call rather than a scan of the journal.
// Zeros where the next record should be are zeroed space the writer laid
// ahead (journal_format.h): not written yet, like the end of the file; if
// they stay 5 s at a record at or below the limit, that is corruption.
// It applies the reader's rules that matter below that bound: LSNs are
// consecutive, each record's epoch is its segment's, and a segment's records
// at or beyond the next segment's first LSN belong to a deposed writer and
// are skipped (the next segment is taken at its first LSN).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "journal/journal.h"

namespace baton::journal {

class JournalTail {
 public:
  // Will return records from next_lsn on.
  JournalTail(Env* env, std::string dir, const VolumeId& vol, uint64_t next_lsn);
  ~JournalTail();

  // Appends to *out the records with LSN in [next_lsn(), limit] that can be
  // read now, at most about max_bytes of payload. limit_epoch is the epoch of
  // the writer that published `limit`: a segment of an older epoch is left as
  // soon as a newer segment starts at the LSN reached.
  //   Ok           possibly with no records: what is at or below `limit`
  //                is not readable yet (bytes still on their way to this
  //                reader's view of the storage); call again
  //   kNotFound    next_lsn() was trimmed away, also under an open segment
  //                (the caller must re-seed)
  //   kCorruption  a record at or below `limit` is damaged, or records are
  //                missing before the next segment, and no later segment
  //                continues the log at next_lsn()
  Status ReadUpTo(uint64_t limit, uint64_t limit_epoch, size_t max_bytes, std::vector<Record>* out);
  uint64_t next_lsn() const { return next_lsn_; }

 private:
  struct SegRef {
    uint64_t seq = 0;
    uint64_t epoch = 0;
    uint64_t first_lsn = 0;
  };
  Status List(std::vector<SegRef>* segs);
  Status OpenSegmentFor(uint64_t lsn);
  Status FindNextSegment();
  Status Switch(const SegRef& s);

  Env* env_;
  std::string dir_;
  VolumeId vol_;
  uint64_t next_lsn_;
  std::unique_ptr<File> file_;
  SegRef cur_;
  uint64_t pos_ = 0;
  uint64_t seed_ = 0;
  bool have_next_ = false;
  SegRef next_;
  // Where zeros stood at a record at or below the limit, and since when.
  uint64_t zeros_seq_ = 0;
  uint64_t zeros_pos_ = 0;
  uint64_t zeros_since_ns_ = 0;
};

}  // namespace baton::journal

namespace baton::journal {
// The first LSN the journal still holds (the oldest valid segment's first
// LSN), or 0 when it has no segment yet.
StatusOr<uint64_t> FirstJournalLsn(Env* env, const std::string& dir, const VolumeId& vol);
// The highest epoch of any valid segment header (0 when none): a new writer
// takes an epoch above it as well as above the superblock's (whose newest
// copy may be damaged, leaving an older epoch). Reads only the headers.
StatusOr<uint64_t> NewestSegmentEpoch(Env* env, const std::string& dir, const VolumeId& vol);
}  // namespace baton::journal
