// Journal scanner for `baton journal dump|verify`: a second, plainer reader
// that reads PAST corruption. It walks every segment file, reports every
// record it can decode and every problem it meets with its offset, and
// resyncs after a bad record by scanning forward for the next record magic
// whose record checksums. It shares only journal/journal_format.h with the
// journal (never the recovery reader), so tests can use it as a second
// opinion.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "journal/journal.h"

namespace baton::tools {

struct ScannedRecord {
  uint64_t segment_seq = 0;
  uint64_t offset = 0;  // of the record header in the segment file
  uint64_t lsn = 0;
  uint64_t epoch = 0;
  uint16_t type = 0;
  uint16_t flags = 0;
  std::string payload;
  // At or past the next segment's first LSN: written by a deposed writer,
  // ignored by recovery.
  bool superseded = false;
  // Records after this one in the same group write (format field).
  uint32_t group_remaining = 0;
  // Found after the tear of a torn final group (see kTornTail): part of a
  // group write that never completed; recovery drops it (and everything
  // from the tear on). Not counted in ScanSummary::records or last_lsn.
  bool after_tear = false;
};

enum class ScanProblemKind {
  kBadSegmentHeader,    // short, bad magic, bad checksum, unknown version
  kSegmentSeqMismatch,  // header seq differs from the file name (recycled file)
  kForeignSegment,      // segment header names another volume
  kEpochRegression,     // segment epoch lower than the previous segment's
  kMissingSegment,      // segment's first LSN is past the LSN the log reached
  kBadChecksum,         // record magic present but the record fails its checksum
  kBadRecordHeader,     // no record magic / impossible length
  kForeignVolume,       // a well-formed record of another volume id
  kLsnGap,              // record LSN above the expected one
  kLsnRepeat,           // record LSN below the expected one
  kEpochMismatch,       // record epoch differs from its segment's epoch
  kTornTail,            // bad or short bytes at the end of a segment, nothing valid after;
                        //   or, in the last segment, a torn final group: the valid records
                        //   after the bad spot are all the rest of the group of the expected
                        //   LSN and that group is the last of the log (they are reported with
                        //   after_tear set; docs/format/journal.md, row 4a)
  kSuperseded,          // first record at/after the next segment's first LSN (deposed writer)
};
const char* ScanProblemName(ScanProblemKind kind);

struct ScanProblem {
  ScanProblemKind kind;
  uint64_t segment_seq = 0;
  uint64_t offset = 0;
  uint64_t expected_lsn = 0;  // 0 when not known
  bool last_segment = false;
  std::string detail;
};
// False for problems recovery accepts: a torn tail of the last segment and
// superseded records. Everything else makes `verify` fail.
bool IsCorruption(const ScanProblem& p);

struct ScanOptions {
  Env* env = nullptr;
  std::string dir;  // VOLUME/journal
  // If unset, the volume id of the first segment header that checksums.
  bool have_volume_id = false;
  journal::VolumeId volume_id;
};

struct ScanSummary {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t problems = 0;
  uint64_t corruptions = 0;  // problems with IsCorruption()
  uint64_t first_lsn = 0;    // 0 if no record
  uint64_t last_lsn = 0;
  uint64_t torn_records = 0;  // valid records after the tear of a torn final group
};

using RecordCallback = std::function<void(const ScannedRecord&)>;
using ProblemCallback = std::function<void(const ScanProblem&)>;

// Returns an error only when the directory or a file cannot be read; damage
// is reported through on_problem and counted in *summary.
Status ScanJournal(const ScanOptions& options, const RecordCallback& on_record, const ProblemCallback& on_problem,
                   ScanSummary* summary);

}  // namespace baton::tools
