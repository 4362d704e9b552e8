#include "volume/superblock.h"

#include <cstdio>
#include <cstring>

#include "base/checksum.h"
#include "base/coding.h"
#include "volume/superblock_format.h"

namespace baton::volume {

std::string FormatVolumeId(const journal::VolumeId& id) {
  char buf[37];
  const uint8_t* b = id.bytes;
  snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
           b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
}

bool ParseVolumeId(const std::string& text, journal::VolumeId* out) {
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (!isxdigit(static_cast<unsigned char>(c))) return false;
    hex.push_back(c);
  }
  if (hex.size() != 32) return false;
  for (int i = 0; i < 16; i++) out->bytes[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return true;
}

std::string EncodeSuperblockSlot(const Superblock& sb) {
  assert(sb.label.size() < kSuperblockLabelBytes);
  std::string s;
  s.reserve(kSuperblockSlotBytes);
  PutU64(&s, kSuperblockMagic);
  PutU32(&s, kSuperblockFormatVersion);
  PutU32(&s, kSuperblockHeaderBytes);
  s.append(reinterpret_cast<const char*>(sb.volume_id.bytes), 16);
  PutU64(&s, sb.epoch);
  PutU64(&s, sb.generation);
  PutI64(&s, sb.created_ns);
  PutU32(&s, sb.chunk_size_bytes);
  PutU32(&s, 0);  // flags
  PutU64(&s, sb.journal_segment_bytes);
  PutU64(&s, sb.meta_map_bytes);
  std::string label = sb.label;
  label.resize(kSuperblockLabelBytes, '\0');
  s += label;
  s.resize(kSuperblockChecksumOffset, '\0');
  const uint64_t slot = sb.generation % kSuperblockSlots;
  PutU64(&s, Checksum64(s, kSuperblockSeed ^ slot));
  assert(s.size() == kSuperblockHeaderBytes);
  s.resize(kSuperblockSlotBytes, '\0');
  return s;
}

namespace {

Status Bad(const char* field, const std::string& detail) {
  return Status::Corruption(std::string("superblock field '") + field + "' " + detail);
}

Status CheckGeometry(const Superblock& sb) {
  const uint32_t c = sb.chunk_size_bytes;
  if (c < kChunkSizeMinBytes || c > kChunkSizeMaxBytes || (c & (c - 1)) != 0)
    return Bad("chunk_size_bytes", "is " + std::to_string(c) + ", not a power of two in [4096, 1048576]");
  if (sb.journal_segment_bytes < kJournalSegmentMinBytes)
    return Bad("journal_segment_bytes", "is " + std::to_string(sb.journal_segment_bytes) + ", below 1 MiB");
  if (sb.meta_map_bytes < (1ull << 24)) return Bad("meta_map_bytes", "is below 16 MiB");
  if (sb.epoch == 0) return Bad("epoch", "is 0");
  return Status::Ok();
}

}  // namespace

Status DecodeSuperblockSlot(std::string_view slot, Superblock* out) {
  if (slot.size() < kSuperblockHeaderBytes) return Bad("size", "is short: " + std::to_string(slot.size()) + " bytes");
  const char* p = slot.data();
  if (LoadU64(p + sb_off::kMagic) != kSuperblockMagic) return Bad("magic", "is wrong (not a BatonFS superblock)");
  uint32_t version = LoadU32(p + sb_off::kFormatVersion);
  if (version != kSuperblockFormatVersion)
    return Status::Unsupported("superblock field 'format_version' is " + std::to_string(version) +
                               ", this build reads version " + std::to_string(kSuperblockFormatVersion));
  if (LoadU32(p + sb_off::kHeaderBytes) != kSuperblockHeaderBytes) return Bad("header_bytes", "is wrong");
  Superblock sb;
  sb.format_version = version;
  memcpy(sb.volume_id.bytes, p + sb_off::kVolumeId, 16);
  sb.epoch = LoadU64(p + sb_off::kEpoch);
  sb.generation = LoadU64(p + sb_off::kGeneration);
  sb.created_ns = static_cast<int64_t>(LoadU64(p + sb_off::kCreatedNs));
  sb.chunk_size_bytes = LoadU32(p + sb_off::kChunkSize);
  sb.journal_segment_bytes = LoadU64(p + sb_off::kJournalSegmentBytes);
  sb.meta_map_bytes = LoadU64(p + sb_off::kMetaMapBytes);
  const uint64_t want = Checksum64(slot.substr(0, kSuperblockChecksumOffset),
                                   kSuperblockSeed ^ (sb.generation % kSuperblockSlots));
  if (LoadU64(p + kSuperblockChecksumOffset) != want) return Bad("checksum", "does not match the contents");
  const char* label = p + sb_off::kLabel;
  size_t n = strnlen(label, kSuperblockLabelBytes);
  if (n == kSuperblockLabelBytes) return Bad("label", "is not NUL-terminated");
  sb.label.assign(label, n);
  BATON_RETURN_IF_ERROR(CheckGeometry(sb));
  *out = sb;
  return Status::Ok();
}

StatusOr<Superblock> ReadSuperblock(Env* env, const std::string& path, int* damaged_slots) {
  BATON_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(env, path));
  Superblock best;
  bool found = false;
  std::string problems;
  int damaged = 0;
  bool unsupported = false;
  for (size_t i = 0; i < kSuperblockSlots; i++) {
    std::string_view slot;
    if (bytes.size() >= (i + 1) * kSuperblockSlotBytes)
      slot = std::string_view(bytes).substr(i * kSuperblockSlotBytes, kSuperblockSlotBytes);
    else if (bytes.size() > i * kSuperblockSlotBytes)
      slot = std::string_view(bytes).substr(i * kSuperblockSlotBytes);
    Superblock sb;
    Status st = DecodeSuperblockSlot(slot, &sb);
    if (st.ok() && sb.generation % kSuperblockSlots != i) st = Bad("generation", "does not match its slot (misplaced copy)");
    if (!st.ok()) {
      damaged |= 1 << i;
      unsupported = unsupported || st.code() == Code::kUnsupported;
      problems += " slot " + std::to_string(i) + ": " + st.ToString() + ";";
      continue;
    }
    if (!found || sb.generation > best.generation) best = sb;
    found = true;
  }
  if (damaged_slots != nullptr) *damaged_slots = damaged;
  // No copy this build can read, and one of a newer format: say so (not
  // damage; fsck exits 8, not 4).
  if (!found && unsupported)
    return Status::Unsupported("the superblock in " + path + " is of a newer format than this build reads:" + problems);
  if (!found) return Status::Corruption("no valid superblock in " + path + ":" + problems);
  return best;
}

Status WriteSuperblockSlot(Env* env, const std::string& path, const Superblock& sb) {
  const std::string slot = EncodeSuperblockSlot(sb);
  Superblock check;
  BATON_RETURN_IF_ERROR(DecodeSuperblockSlot(slot, &check));  // assert data right before it is written
  BATON_ASSIGN_OR_RETURN(auto f, env->OpenFile(path, OpenOptions{.create = true}));
  BATON_RETURN_IF_ERROR(f->PWrite((sb.generation % kSuperblockSlots) * kSuperblockSlotBytes, slot));
  BATON_RETURN_IF_ERROR(f->DataSync());
  return f->Close();
}

}  // namespace baton::volume
