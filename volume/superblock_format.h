// On-disk format of the superblock file VOLUME/superblock. Every byte.
//
// The file holds two slots of kSuperblockSlotBytes each. A write goes to the
// slot `generation % 2` and is followed by fdatasync, so the other slot still
// holds the previous version: a write torn at any 512-byte sector leaves one
// valid slot. Readers decode both and take the valid slot with the higher
// generation. A slot found at the wrong index (generation % 2 != index) is
// misplaced and not trusted.
//
// Slot layout (little-endian):
//   off  size  field
//     0     8  magic                 kSuperblockMagic ("BATONSB1")
//     8     4  format_version        kSuperblockFormatVersion
//    12     4  header_bytes          kSuperblockHeaderBytes (bytes covered by the checksum + 8)
//    16    16  volume_id             random UUID chosen by mkfs
//    32     8  epoch                 raised by every takeover (single-writer fencing)
//    40     8  generation            raised by every superblock write
//    48     8  created_ns            mkfs time, ns since the Unix epoch
//    56     4  chunk_size_bytes      file data chunk size, power of two, 4 KiB..1 MiB
//    60     4  flags                 0; reserved
//    64     8  journal_segment_bytes segment roll size, >= 1 MiB
//    72     8  meta_map_bytes        LMDB map size
//    80    64  label                 NUL-padded, at most 63 bytes of text
//   144   104  reserved              zero
//   248     8  checksum              xxHash3-64 of bytes [0, 248) seeded with kSuperblockSeed ^ slot index
//   256  3840  unused                zero, not checked
#pragma once

#include <cstddef>
#include <cstdint>

namespace baton::volume {

constexpr uint64_t kSuperblockMagic = 0x3142534e4f544142ull;  // "BATONSB1" little-endian
constexpr uint32_t kSuperblockFormatVersion = 1;
constexpr size_t kSuperblockSlotBytes = 4096;
constexpr size_t kSuperblockSlots = 2;
constexpr size_t kSuperblockFileBytes = kSuperblockSlotBytes * kSuperblockSlots;
constexpr size_t kSuperblockHeaderBytes = 256;
constexpr size_t kSuperblockChecksumOffset = 248;
constexpr uint64_t kSuperblockSeed = 0x5375706572426c6bull;  // "SuperBlk"
constexpr size_t kSuperblockLabelBytes = 64;

namespace sb_off {
constexpr size_t kMagic = 0;
constexpr size_t kFormatVersion = 8;
constexpr size_t kHeaderBytes = 12;
constexpr size_t kVolumeId = 16;
constexpr size_t kEpoch = 32;
constexpr size_t kGeneration = 40;
constexpr size_t kCreatedNs = 48;
constexpr size_t kChunkSize = 56;
constexpr size_t kFlags = 60;
constexpr size_t kJournalSegmentBytes = 64;
constexpr size_t kMetaMapBytes = 72;
constexpr size_t kLabel = 80;
constexpr size_t kReserved = 144;
}  // namespace sb_off

static_assert(sb_off::kLabel + kSuperblockLabelBytes == sb_off::kReserved);
static_assert(sb_off::kReserved + 104 == kSuperblockChecksumOffset);
static_assert(kSuperblockChecksumOffset + 8 == kSuperblockHeaderBytes);
static_assert(kSuperblockHeaderBytes <= 512, "the header must fit one sector so a torn write cannot split it");
static_assert(kSuperblockSlotBytes % 512 == 0);

constexpr uint32_t kChunkSizeMinBytes = 4096;
constexpr uint32_t kChunkSizeMaxBytes = 1u << 20;
constexpr uint64_t kJournalSegmentMinBytes = 1ull << 20;

}  // namespace baton::volume
