// Encoding and decoding of segment headers and records (layout in
// journal_format.h). Shared by the writer and the recovery reader; the tools'
// scanner (tools/journal_scanner.cc) decodes with its own code on purpose.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "journal/journal.h"

namespace baton::journal {

struct SegmentHeader {
  VolumeId volume_id;
  uint64_t seq = 0;
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
};

std::string EncodeSegmentHeader(const SegmentHeader& h);
// Checks size, magic, version, header size and checksum. Does not compare
// the volume id or the seq with expectations (the caller does).
Status DecodeSegmentHeader(std::string_view bytes, SegmentHeader* out);

struct RecordHeader {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t payload_length = 0;
  uint64_t lsn = 0;
  uint64_t epoch = 0;
  VolumeId volume_id;
  // Records after this one in the same group write (0 = last of its group).
  uint32_t group_remaining = 0;
};

// Appends header and payload of one record to *dst.
void EncodeRecord(const RecordHeader& h, std::string_view payload, uint64_t seed, std::string* dst);

enum class RecordCheck {
  kOk,
  kShort,        // fewer bytes than the header or the payload needs
  kBadMagic,
  kBadLength,    // payload_length > kMaxPayloadBytes
  // kBadReserved (nonzero reserved field) retired with format version 2.
  kBadChecksum,
  kWrongVolume,  // checksums (with this seed) but names another volume
};
const char* RecordCheckName(RecordCheck c);

// Decodes the record starting at data[pos]: validates it against `seed` and
// `vol`. On kOk fills *h and *payload (a view into data).
RecordCheck DecodeRecordAt(std::string_view data, size_t pos, uint64_t seed, const VolumeId& vol,
                           RecordHeader* h, std::string_view* payload);

}  // namespace baton::journal
