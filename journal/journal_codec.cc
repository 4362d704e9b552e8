#include "journal/journal_codec.h"

#include <cassert>
#include <cstring>

#include "base/checksum.h"
#include "base/coding.h"
#include "journal/journal_format.h"

namespace baton::journal {

namespace f = format;

std::string EncodeSegmentHeader(const SegmentHeader& h) {
  std::string out;
  PutU64(&out, f::kSegmentMagic);
  PutU32(&out, f::kFormatVersion);
  PutU32(&out, static_cast<uint32_t>(f::kSegmentHeaderSize));
  out.append(reinterpret_cast<const char*>(h.volume_id.bytes), 16);
  PutU64(&out, h.seq);
  PutU64(&out, h.epoch);
  PutU64(&out, h.first_lsn);
  assert(out.size() == f::kSegChecksumOffset);
  PutU64(&out, Checksum64(out, f::kSegmentHeaderSeed));
  assert(out.size() == f::kSegmentHeaderSize);
  return out;
}

Status DecodeSegmentHeader(std::string_view b, SegmentHeader* out) {
  if (b.size() < f::kSegmentHeaderSize) {
    return Status::Corruption("segment header short: " + std::to_string(b.size()) + " bytes");
  }
  if (LoadU64(b.data() + f::kSegMagicOffset) != f::kSegmentMagic) return Status::Corruption("bad segment magic");
  uint64_t want = LoadU64(b.data() + f::kSegChecksumOffset);
  if (Checksum64(b.substr(0, f::kSegChecksumOffset), f::kSegmentHeaderSeed) != want) {
    return Status::Corruption("bad segment header checksum");
  }
  uint32_t version = LoadU32(b.data() + f::kSegVersionOffset);
  if (version != f::kFormatVersion) {
    return Status::Unsupported("segment format version " + std::to_string(version));
  }
  if (LoadU32(b.data() + f::kSegHeaderSizeOffset) != f::kSegmentHeaderSize) {
    return Status::Corruption("bad segment header size");
  }
  std::memcpy(out->volume_id.bytes, b.data() + f::kSegVolumeIdOffset, 16);
  out->seq = LoadU64(b.data() + f::kSegSeqOffset);
  out->epoch = LoadU64(b.data() + f::kSegEpochOffset);
  out->first_lsn = LoadU64(b.data() + f::kSegFirstLsnOffset);
  return Status::Ok();
}

void EncodeRecord(const RecordHeader& h, std::string_view payload, uint64_t seed, std::string* dst) {
  assert(payload.size() == h.payload_length && payload.size() <= f::kMaxPayloadBytes);
  size_t start = dst->size();
  PutU32(dst, f::kRecordMagic);
  PutU16(dst, h.type);
  PutU16(dst, h.flags);
  PutU32(dst, h.payload_length);
  PutU32(dst, h.group_remaining);
  PutU64(dst, h.lsn);
  PutU64(dst, h.epoch);
  dst->append(reinterpret_cast<const char*>(h.volume_id.bytes), 16);
  assert(dst->size() - start == f::kRecChecksummedHeaderBytes);
  Checksummer sum(seed);
  sum.Update(std::string_view(dst->data() + start, f::kRecChecksummedHeaderBytes));
  sum.Update(payload);
  PutU64(dst, sum.Digest());
  dst->append(payload.data(), payload.size());
}

const char* RecordCheckName(RecordCheck c) {
  switch (c) {
    case RecordCheck::kOk: return "ok";
    case RecordCheck::kShort: return "short record";
    case RecordCheck::kBadMagic: return "bad record magic";
    case RecordCheck::kBadLength: return "bad payload length";
    case RecordCheck::kBadChecksum: return "bad record checksum";
    case RecordCheck::kWrongVolume: return "record of another volume";
  }
  return "?";
}

RecordCheck DecodeRecordAt(std::string_view data, size_t pos, uint64_t seed, const VolumeId& vol,
                           RecordHeader* h, std::string_view* payload) {
  if (pos > data.size() || data.size() - pos < f::kRecordHeaderSize) return RecordCheck::kShort;
  const char* p = data.data() + pos;
  if (LoadU32(p + f::kRecMagicOffset) != f::kRecordMagic) return RecordCheck::kBadMagic;
  uint32_t len = LoadU32(p + f::kRecLengthOffset);
  if (len > f::kMaxPayloadBytes) return RecordCheck::kBadLength;
  if (data.size() - pos - f::kRecordHeaderSize < len) return RecordCheck::kShort;
  Checksummer sum(seed);
  sum.Update(std::string_view(p, f::kRecChecksummedHeaderBytes));
  sum.Update(std::string_view(p + f::kRecordHeaderSize, len));
  if (sum.Digest() != LoadU64(p + f::kRecChecksumOffset)) return RecordCheck::kBadChecksum;
  std::memcpy(h->volume_id.bytes, p + f::kRecVolumeIdOffset, 16);
  if (!(h->volume_id == vol)) return RecordCheck::kWrongVolume;
  h->type = LoadU16(p + f::kRecTypeOffset);
  h->flags = LoadU16(p + f::kRecFlagsOffset);
  h->payload_length = len;
  h->lsn = LoadU64(p + f::kRecLsnOffset);
  h->group_remaining = LoadU32(p + f::kRecGroupRemainingOffset);
  h->epoch = LoadU64(p + f::kRecEpochOffset);
  *payload = std::string_view(p + f::kRecordHeaderSize, len);
  return RecordCheck::kOk;
}

}  // namespace baton::journal
