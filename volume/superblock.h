// The superblock: identity and geometry of a volume, and its epoch.
// Byte layout in volume/superblock_format.h.
#pragma once

#include <cstdint>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "journal/journal.h"

namespace baton::volume {

struct Superblock {
  uint32_t format_version = 0;
  journal::VolumeId volume_id;
  uint64_t epoch = 0;               // raised by every takeover
  uint64_t generation = 0;          // raised by every superblock write (picks the newer slot)
  int64_t created_ns = 0;
  uint32_t chunk_size_bytes = 0;    // file data chunk size
  uint64_t journal_segment_bytes = 0;
  uint64_t meta_map_bytes = 0;      // LMDB map size
  std::string label;                // at most 63 bytes
};

std::string FormatVolumeId(const journal::VolumeId& id);           // 8-4-4-4-12 hex
bool ParseVolumeId(const std::string& text, journal::VolumeId* out);

// Encodes one slot (kSuperblockSlotBytes bytes, checksummed).
std::string EncodeSuperblockSlot(const Superblock& sb);
// Decodes one slot; kCorruption naming the field that is wrong.
Status DecodeSuperblockSlot(std::string_view slot, Superblock* out);

// Reads the superblock file at `path`: decodes both slots and returns the
// valid one with the higher generation. Reports a damaged slot through
// `damaged_slots` (bit 0 = slot 0, bit 1 = slot 1) when non-null.
StatusOr<Superblock> ReadSuperblock(Env* env, const std::string& path, int* damaged_slots = nullptr);
// Writes `sb` (generation must be the new one) into slot generation % 2 and
// fdatasyncs. The other slot keeps the previous version, so a torn write
// leaves a valid superblock.
Status WriteSuperblockSlot(Env* env, const std::string& path, const Superblock& sb);

}  // namespace baton::volume
