// Every constant and byte layout of the journal on disk. docs/format/journal.md
// is the prose version; keep the two in step. All integers are little-endian
// (base/coding.h). Numbers written to disk are never reused: retire a value
// in a comment instead of deleting it.
//
// Directory: VOLUME/journal/seg-<16 lowercase hex digits of seq>.log
//
// Segment file = SegmentHeader (64 bytes) followed by records back to back.
//
// SegmentHeader (kSegmentHeaderSize = 64 bytes)
//   off size field
//     0    8 magic            kSegmentMagic (bytes "BNTFSEG\0")
//     8    4 format_version   kFormatVersion
//    12    4 header_size      kSegmentHeaderSize (lets a future version grow it)
//    16   16 volume_id
//    32    8 segment_seq      must equal the seq in the file name
//    40    8 epoch            epoch of the writer that created the segment
//    48    8 first_lsn        LSN of the first record this segment holds
//    56    8 header_checksum  xxHash3-64 of bytes [0, 56) seeded kSegmentHeaderSeed
//
// RecordHeader (kRecordHeaderSize = 56 bytes), followed by payload_length bytes
//   off size field
//     0    4 magic            kRecordMagic (bytes "BJRC")
//     4    2 type             opaque to the journal (fs/ gives it meaning)
//     6    2 flags            bit 0 kRecordFlagSafeToIgnore; bit 1
//                             kRecordFlagGroupFirst (first record of a group
//                             write, set by the writer); bits 2..15 reserved
//                             (written zero)
//     8    4 payload_length   <= kMaxPayloadBytes
//    12    4 group_remaining  records after this one in the same group write
//                             (the last record of a group has 0); covered by
//                             the checksum. Was `reserved` (zero) in version 1.
//    16    8 lsn
//    24    8 epoch            must equal the segment header's epoch
//    32   16 volume_id
//    48    8 checksum         xxHash3-64 over bytes [0, 48) of the header and
//                             then the payload, seeded RecordSeed(volume, seq)
//
// Invariants: records are back to back (no padding); LSNs are consecutive
// across the whole journal; a segment's first record has LSN first_lsn.
//
// Group writes: the writer puts each group commit (or AppendBatch) in ONE
// write followed by ONE fdatasync, never starts a group's write before the
// previous group's sync returned, and never lets a group span a segment roll.
// So only the final group write of the log can be partly on disk, and the
// records of a group with first LSN L and n records carry group_remaining
// n-1, n-2, ..., 0: every record of the group knows the group's last LSN
// (lsn + group_remaining). The reader uses this to tell a torn final group
// (end of log) from corruption (journal_reader.cc, decision table row 4a).
//
// Zeroed space: the writer lays zeros ahead of the records in the current
// segment (never past the roll size), so most groups overwrite existing
// blocks (journal_writer.cc). All zeros from the expected record to the end
// of the last segment is the clean end of the log (docs/format/journal.md,
// row 3z); the magic is never zero, so zeros are never a record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "base/checksum.h"
#include "base/coding.h"

namespace baton::journal::format {

// ---- segment header ----
inline constexpr uint64_t kSegmentMagic = 0x0047455346544E42ull;  // "BNTFSEG\0"
// Version 2 (pre-release): record bytes [12,16) became group_remaining. A
// version-1 reader would reject those records as "nonzero reserved" and a
// version-2 reader would misread version-1 records as one-record groups, so
// the version changed. Version 1 is retired: never reuse it.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr size_t kSegmentHeaderSize = 64;
inline constexpr uint64_t kSegmentHeaderSeed = 0x6A6F75726E616C31ull;  // "1lanruoj"

inline constexpr size_t kSegMagicOffset = 0;
inline constexpr size_t kSegVersionOffset = 8;
inline constexpr size_t kSegHeaderSizeOffset = 12;
inline constexpr size_t kSegVolumeIdOffset = 16;
inline constexpr size_t kSegSeqOffset = 32;
inline constexpr size_t kSegEpochOffset = 40;
inline constexpr size_t kSegFirstLsnOffset = 48;
inline constexpr size_t kSegChecksumOffset = 56;
static_assert(kSegVersionOffset == kSegMagicOffset + 8);
static_assert(kSegHeaderSizeOffset == kSegVersionOffset + 4);
static_assert(kSegVolumeIdOffset == kSegHeaderSizeOffset + 4);
static_assert(kSegSeqOffset == kSegVolumeIdOffset + 16);
static_assert(kSegEpochOffset == kSegSeqOffset + 8);
static_assert(kSegFirstLsnOffset == kSegEpochOffset + 8);
static_assert(kSegChecksumOffset == kSegFirstLsnOffset + 8);
static_assert(kSegmentHeaderSize == kSegChecksumOffset + 8);

// ---- record header ----
inline constexpr uint32_t kRecordMagic = 0x43524A42u;  // "BJRC"
inline constexpr size_t kRecordHeaderSize = 56;
inline constexpr uint32_t kMaxPayloadBytes = 8u << 20;  // a larger length is garbage

inline constexpr size_t kRecMagicOffset = 0;
inline constexpr size_t kRecTypeOffset = 4;
inline constexpr size_t kRecFlagsOffset = 6;
inline constexpr size_t kRecLengthOffset = 8;
inline constexpr size_t kRecGroupRemainingOffset = 12;
inline constexpr size_t kRecLsnOffset = 16;
inline constexpr size_t kRecEpochOffset = 24;
inline constexpr size_t kRecVolumeIdOffset = 32;
inline constexpr size_t kRecChecksumOffset = 48;
static_assert(kRecTypeOffset == kRecMagicOffset + 4);
static_assert(kRecFlagsOffset == kRecTypeOffset + 2);
static_assert(kRecLengthOffset == kRecFlagsOffset + 2);
static_assert(kRecGroupRemainingOffset == kRecLengthOffset + 4);
static_assert(kRecLsnOffset == kRecGroupRemainingOffset + 4);
static_assert(kRecEpochOffset == kRecLsnOffset + 8);
static_assert(kRecVolumeIdOffset == kRecEpochOffset + 8);
static_assert(kRecChecksumOffset == kRecVolumeIdOffset + 16);
static_assert(kRecordHeaderSize == kRecChecksumOffset + 8);
// The checksum covers the header up to (not including) the checksum field,
// so group_remaining is checksummed.
inline constexpr size_t kRecChecksummedHeaderBytes = kRecChecksumOffset;
static_assert(kRecGroupRemainingOffset + 4 <= kRecChecksummedHeaderBytes);

// Record flags. A reader that does not know a record's type skips it if
// kRecordFlagSafeToIgnore is set and must stop otherwise (fs/ decides).
inline constexpr uint16_t kRecordFlagSafeToIgnore = 1u << 0;
// Set by the journal writer on the first record of each group write. A valid
// record with this flag after a bad one proves that the bad record's group
// was not the final group write, so the bad record is corruption, not a
// torn tail (reader row 4a). Added in format version 2 without a version
// change: records written before it have the bit clear, which the reader
// takes as "unknown" (the group_remaining rule alone decides, as before);
// older readers ignore the bit.
inline constexpr uint16_t kRecordFlagGroupFirst = 1u << 1;
// Bits 2..15: reserved, written as zero.

// The writer joins waiters into one group write only up to this many bytes
// (a single AppendBatch larger than this is written alone, as one group).
inline constexpr size_t kMaxGroupBytes = 16u << 20;
static_assert(kMaxGroupBytes >= kRecordHeaderSize + kMaxPayloadBytes);
// At most this many records in one group (one AppendBatch is limited to it,
// and the writer joins waiters only up to it), so group_remaining < 2^32.
inline constexpr uint32_t kMaxGroupRecords = 1u << 24;
static_assert(kMaxGroupRecords - 1 <= UINT32_MAX);

// ---- naming ----
inline constexpr char kSegmentPrefix[] = "seg-";
inline constexpr char kSegmentSuffix[] = ".log";
inline constexpr size_t kSegmentSeqDigits = 16;
inline constexpr size_t kSegmentNameSize = 4 + kSegmentSeqDigits + 4;

inline std::string SegmentFileName(uint64_t seq) {
  char buf[kSegmentNameSize + 1];
  std::snprintf(buf, sizeof(buf), "seg-%016llx.log", static_cast<unsigned long long>(seq));
  return std::string(buf, kSegmentNameSize);
}

// Parses "seg-<16 lowercase hex>.log"; false for any other name.
inline bool ParseSegmentFileName(const std::string& name, uint64_t* seq) {
  if (name.size() != kSegmentNameSize || name.compare(0, 4, kSegmentPrefix) != 0 ||
      name.compare(4 + kSegmentSeqDigits, 4, kSegmentSuffix) != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 4; i < 4 + kSegmentSeqDigits; i++) {
    char c = name[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *seq = v;
  return true;
}

// ---- checksum seeds ----
// The record seed folds in the volume id and the segment seq, so a record
// from another volume, or a stale record surviving in a file that now
// carries another seq, fails its checksum.
inline uint64_t RecordSeed(const uint8_t volume_id[16], uint64_t segment_seq) {
  std::string seq_le;
  PutU64(&seq_le, segment_seq);
  return Checksum64(seq_le, SeedFromVolumeId(volume_id));
}

}  // namespace baton::journal::format
