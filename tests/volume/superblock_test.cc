#define BOOST_TEST_MODULE superblock_test
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "base/env.h"
#include "volume/superblock.h"
#include "volume/superblock_format.h"
#include "volume/volume.h"

namespace fsys = std::filesystem;
using namespace baton;
using namespace baton::volume;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/baton-sb-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fsys::remove_all(path); }
};

Superblock Sample() {
  Superblock sb;
  sb.format_version = kSuperblockFormatVersion;
  for (int i = 0; i < 16; i++) sb.volume_id.bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  sb.epoch = 3;
  sb.generation = 5;
  sb.created_ns = 1234567890123;
  sb.chunk_size_bytes = 65536;
  sb.journal_segment_bytes = 64ull << 20;
  sb.meta_map_bytes = 1ull << 30;
  sb.label = "test-label";
  return sb;
}

std::string Slurp(const std::string& p) { return *ReadWholeFile(Env::Default(), p); }
void Spit(const std::string& p, const std::string& data) {
  auto f = Env::Default()->OpenFile(p, OpenOptions{.create = true, .truncate = true});
  BOOST_REQUIRE(f.ok());
  BOOST_REQUIRE(f.value()->PWrite(0, data).ok());
}

}  // namespace

BOOST_AUTO_TEST_CASE(slot_round_trip) {
  Superblock sb = Sample();
  std::string slot = EncodeSuperblockSlot(sb);
  BOOST_TEST(slot.size() == kSuperblockSlotBytes);
  Superblock out;
  BOOST_REQUIRE(DecodeSuperblockSlot(slot, &out).ok());
  BOOST_TEST((out.volume_id == sb.volume_id));
  BOOST_TEST(out.epoch == sb.epoch);
  BOOST_TEST(out.generation == sb.generation);
  BOOST_TEST(out.created_ns == sb.created_ns);
  BOOST_TEST(out.chunk_size_bytes == sb.chunk_size_bytes);
  BOOST_TEST(out.journal_segment_bytes == sb.journal_segment_bytes);
  BOOST_TEST(out.meta_map_bytes == sb.meta_map_bytes);
  BOOST_TEST(out.label == sb.label);
}

// Every bit of the checksummed header matters: a flip anywhere is reported.
BOOST_AUTO_TEST_CASE(every_header_bit_flip_is_detected) {
  const std::string slot = EncodeSuperblockSlot(Sample());
  for (size_t byte = 0; byte < kSuperblockHeaderBytes; byte++) {
    for (int bit = 0; bit < 8; bit++) {
      std::string bad = slot;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      Superblock out;
      Status st = DecodeSuperblockSlot(bad, &out);
      BOOST_TEST_REQUIRE(!st.ok(), "flip at byte " << byte << " bit " << bit << " was not detected");
    }
  }
}

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
  std::string slot = EncodeSuperblockSlot(Sample());
  Superblock out;
  std::string bad = slot;
  bad[0] = 'X';
  Status st = DecodeSuperblockSlot(bad, &out);
  BOOST_TEST(st.IsCorruption());
  BOOST_TEST(st.message().find("magic") != std::string::npos);
  bad = slot;
  bad[sb_off::kEpoch] ^= 1;
  st = DecodeSuperblockSlot(bad, &out);
  BOOST_TEST(st.message().find("checksum") != std::string::npos);
  bad = slot;
  bad[sb_off::kFormatVersion] = 9;
  st = DecodeSuperblockSlot(bad, &out);
  BOOST_TEST(st.message().find("format_version") != std::string::npos);
  st = DecodeSuperblockSlot(slot.substr(0, 100), &out);
  BOOST_TEST(!st.ok());
}

BOOST_AUTO_TEST_CASE(newer_valid_slot_wins_and_damage_falls_back) {
  TempDir t;
  const std::string p = t.path + "/superblock";
  Superblock sb = Sample();
  sb.generation = 6;  // slot 0
  BOOST_REQUIRE(WriteSuperblockSlot(Env::Default(), p, sb).ok());
  sb.generation = 7;  // slot 1
  sb.epoch = 4;
  BOOST_REQUIRE(WriteSuperblockSlot(Env::Default(), p, sb).ok());
  int damaged = -1;
  auto got = ReadSuperblock(Env::Default(), p, &damaged);
  BOOST_REQUIRE(got.ok());
  BOOST_TEST(got->generation == 7u);
  BOOST_TEST(got->epoch == 4u);
  BOOST_TEST(damaged == 0);

  // Tear the newer slot at every sector boundary inside its header: the older
  // copy must be returned, and the damage reported.
  const std::string good = Slurp(p);
  std::mt19937_64 rng(42);
  for (size_t cut = 8; cut < kSuperblockHeaderBytes; cut += 8) {
    std::string torn = good;
    for (size_t i = kSuperblockSlotBytes + cut; i < 2 * kSuperblockSlotBytes; i++) torn[i] = static_cast<char>(rng());
    Spit(p, torn);
    got = ReadSuperblock(Env::Default(), p, &damaged);
    BOOST_REQUIRE(got.ok());
    BOOST_TEST(got->generation == 6u);
    BOOST_TEST(got->epoch == 3u);
    BOOST_TEST(damaged == 2);
  }
  // Both slots damaged: a clear error naming the file.
  std::string both = good;
  both[0] ^= 1;
  both[kSuperblockSlotBytes] ^= 1;
  Spit(p, both);
  got = ReadSuperblock(Env::Default(), p, &damaged);
  BOOST_TEST(got.status().IsCorruption());
  BOOST_TEST(got.status().message().find(p) != std::string::npos);
  BOOST_TEST(damaged == 3);
}

BOOST_AUTO_TEST_CASE(misplaced_slot_is_not_trusted) {
  TempDir t;
  const std::string p = t.path + "/superblock";
  Superblock sb = Sample();
  sb.generation = 8;
  std::string s0 = EncodeSuperblockSlot(sb);
  // Put a slot whose generation says "slot 0" into slot 1 as well.
  Spit(p, s0 + s0);
  int damaged = 0;
  auto got = ReadSuperblock(Env::Default(), p, &damaged);
  BOOST_REQUIRE(got.ok());
  BOOST_TEST(damaged == 2);
}

BOOST_AUTO_TEST_CASE(volume_id_text_round_trip) {
  journal::VolumeId id = Sample().volume_id, back;
  std::string s = FormatVolumeId(id);
  BOOST_TEST(s.size() == 36u);
  BOOST_REQUIRE(ParseVolumeId(s, &back));
  BOOST_TEST((back == id));
  BOOST_TEST(!ParseVolumeId("not-a-uuid", &back));
}
