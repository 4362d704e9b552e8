// The scanner (tools/journal_scanner.h) reads past each planted fault and
// reports it at the right offset.
#define BOOST_TEST_MODULE journal_scanner
#include <boost/test/unit_test.hpp>

#include "journal/journal_codec.h"
#include "tests/journal/journal_test_util.h"
#include "tools/journal_scanner.h"

using namespace baton;
using namespace baton::journal;
using namespace baton::journal::testing;
using namespace baton::tools;
namespace f = baton::journal::format;

namespace {

const VolumeId kVol = MakeVolumeId(1);

std::string Hdr(uint64_t seq, uint64_t epoch, uint64_t first_lsn) {
  return EncodeSegmentHeader(SegmentHeader{kVol, seq, epoch, first_lsn});
}

std::string Rec(uint64_t seq, uint64_t lsn, uint64_t epoch, const VolumeId& vol = kVol, size_t size = 40,
                uint32_t group_remaining = 0) {
  std::string out, payload(size, static_cast<char>('a' + lsn % 26));
  RecordHeader h{2, 0, static_cast<uint32_t>(payload.size()), lsn, epoch, vol, group_remaining};
  EncodeRecord(h, payload, f::RecordSeed(vol.bytes, seq), &out);
  return out;
}

struct Scan {
  std::vector<ScannedRecord> records;
  std::vector<ScanProblem> problems;
  ScanSummary summary;
};

Scan RunScan(const std::string& dir) {
  Scan s;
  ScanOptions o;
  o.env = Env::Default();
  o.dir = dir;
  o.have_volume_id = true;
  o.volume_id = kVol;
  Status st = ScanJournal(
      o, [&](const ScannedRecord& r) { s.records.push_back(r); },
      [&](const ScanProblem& p) { s.problems.push_back(p); }, &s.summary);
  BOOST_REQUIRE(st.ok());
  return s;
}

const size_t kRecSize = f::kRecordHeaderSize + 40;
uint64_t OffsetOf(int index) { return f::kSegmentHeaderSize + index * kRecSize; }  // 0-based record index

void ExpectOne(const Scan& s, ScanProblemKind kind, uint64_t seq, uint64_t offset, bool corruption) {
  BOOST_REQUIRE_EQUAL(s.problems.size(), 1u);
  BOOST_CHECK_EQUAL(ScanProblemName(s.problems[0].kind), ScanProblemName(kind));
  BOOST_CHECK_EQUAL(s.problems[0].segment_seq, seq);
  BOOST_CHECK_EQUAL(s.problems[0].offset, offset);
  BOOST_CHECK_EQUAL(IsCorruption(s.problems[0]), corruption);
}

}  // namespace

BOOST_AUTO_TEST_CASE(clean_journal_has_no_problems) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  o.segment_size_bytes = 600;
  BOOST_REQUIRE(WriteJournal(o, 30).ok());
  Scan s = RunScan(o.dir);
  BOOST_CHECK(s.problems.empty());
  BOOST_CHECK_EQUAL(s.summary.records, 30u);
  BOOST_CHECK_GT(s.summary.segments, 2u);
  BOOST_CHECK_EQUAL(s.summary.first_lsn, 1u);
  BOOST_CHECK_EQUAL(s.summary.last_lsn, 30u);
  // Second opinion: the reader returns the same records.
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE_EQUAL(r.records.size(), s.records.size());
  for (size_t i = 0; i < s.records.size(); i++) {
    BOOST_CHECK_EQUAL(r.records[i].offset, s.records[i].offset);
    BOOST_CHECK_EQUAL(r.records[i].segment_seq, s.records[i].segment_seq);
    BOOST_CHECK(r.records[i].payload == s.records[i].payload);
  }
}

BOOST_AUTO_TEST_CASE(bad_checksum_read_past) {
  TempDir tmp;
  std::string seg = Hdr(1, 1, 1);
  for (int l = 1; l <= 10; l++) seg += Rec(1, l, 1);
  seg[OffsetOf(4) + f::kRecordHeaderSize + 7] ^= 4;  // payload of LSN 5
  WriteBytes(SegPath(tmp.path(), 1), seg);
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kBadChecksum, 1, OffsetOf(4), true);
  BOOST_CHECK_EQUAL(s.problems[0].expected_lsn, 5u);
  BOOST_CHECK_EQUAL(s.records.size(), 9u);  // all others, read past the damage
  BOOST_CHECK_EQUAL(s.records.back().lsn, 10u);
}

BOOST_AUTO_TEST_CASE(garbage_mid_segment_resyncs) {
  TempDir tmp;
  // Two one-record groups after the garbage: not a torn final group.
  std::string seg = Hdr(1, 1, 1) + Rec(1, 1, 1) + std::string(77, 'Q') + Rec(1, 2, 1) + Rec(1, 3, 1);
  WriteBytes(SegPath(tmp.path(), 1), seg);
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kBadRecordHeader, 1, OffsetOf(1), true);
  BOOST_CHECK_NE(s.problems[0].detail.find("skipped 77 bytes"), std::string::npos);
  BOOST_REQUIRE_EQUAL(s.records.size(), 3u);
  BOOST_CHECK_EQUAL(s.records[1].offset, OffsetOf(1) + 77);
  BOOST_CHECK(!s.records[1].after_tear);
}

// Row 4a: the valid records after the bad spot are the rest of the final
// group (one group end, within [expected LSN, end]): a torn tail, and the
// records after the tear come flagged after_tear, not counted.
BOOST_AUTO_TEST_CASE(torn_final_group_is_a_torn_tail) {
  TempDir tmp;
  std::string seg = Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1, kVol, 40, 2) + std::string(kRecSize, '\0') +
                    Rec(1, 4, 1, kVol, 40, 0);
  WriteBytes(SegPath(tmp.path(), 1), seg);
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kTornTail, 1, OffsetOf(2), false);
  BOOST_CHECK_NE(s.problems[0].detail.find("torn final group"), std::string::npos);
  BOOST_REQUIRE_EQUAL(s.records.size(), 3u);
  BOOST_CHECK(!s.records[1].after_tear && s.records[2].after_tear);
  BOOST_CHECK_EQUAL(s.records[1].group_remaining, 2u);
  BOOST_CHECK_EQUAL(s.summary.records, 2u);
  BOOST_CHECK_EQUAL(s.summary.torn_records, 1u);
  BOOST_CHECK_EQUAL(s.summary.last_lsn, 2u);
  // The group of LSN 3 ends at LSN 4 (2 + 2), the record after says 5: corruption.
  seg = Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1, kVol, 40, 2) + std::string(kRecSize, '\0') +
        Rec(1, 4, 1, kVol, 40, 1);
  WriteBytes(SegPath(tmp.path(), 1), seg);
  s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kBadRecordHeader, 1, OffsetOf(2), true);
}

BOOST_AUTO_TEST_CASE(torn_tail_is_not_corruption) {
  TempDir tmp;
  std::string seg = Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1) + Rec(1, 3, 1).substr(0, 70);
  WriteBytes(SegPath(tmp.path(), 1), seg);
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kTornTail, 1, OffsetOf(2), false);
  BOOST_CHECK(s.problems[0].last_segment);
  BOOST_CHECK_EQUAL(s.summary.corruptions, 0u);
}

// Zeroed space the writer laid ahead (docs/format/journal.md, row 3z) is no
// problem: at the end of the last segment, at the end of a segment before a
// bad-header file, and in a deposed writer's segment after its records
// reached the next segment's first LSN. Zeros where records are missing are.
BOOST_AUTO_TEST_CASE(zeroed_space_is_no_problem) {
  const std::string zeros(4096, '\0');
  TempDir last;
  WriteBytes(SegPath(last.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1) + zeros);
  Scan s = RunScan(last.path());
  BOOST_CHECK(s.problems.empty());
  BOOST_CHECK_EQUAL(s.summary.records, 2u);
  TempDir deposed;
  WriteBytes(SegPath(deposed.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1) + zeros);
  WriteBytes(SegPath(deposed.path(), 2), Hdr(2, 2, 3) + Rec(2, 3, 2));
  s = RunScan(deposed.path());
  BOOST_CHECK(s.problems.empty());
  BOOST_CHECK_EQUAL(s.summary.records, 3u);
  TempDir before_bad_header;
  WriteBytes(SegPath(before_bad_header.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + zeros);
  WriteBytes(SegPath(before_bad_header.path(), 2), Hdr(2, 1, 2).substr(0, 20));
  s = RunScan(before_bad_header.path());
  for (const ScanProblem& p : s.problems) BOOST_CHECK_MESSAGE(p.kind != ScanProblemKind::kTornTail, p.detail);
  TempDir missing;
  WriteBytes(SegPath(missing.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + zeros);
  WriteBytes(SegPath(missing.path(), 2), Hdr(2, 2, 3) + Rec(2, 3, 2));
  s = RunScan(missing.path());
  BOOST_CHECK_GE(s.summary.corruptions, 1u);
}

BOOST_AUTO_TEST_CASE(lsn_gap_and_repeat) {
  TempDir tmp;
  WriteBytes(SegPath(tmp.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1) + Rec(1, 4, 1));
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kLsnGap, 1, OffsetOf(2), true);
  WriteBytes(SegPath(tmp.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1) + Rec(1, 2, 1));
  s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kLsnRepeat, 1, OffsetOf(2), true);
}

BOOST_AUTO_TEST_CASE(epoch_regression_and_record_epoch_mismatch) {
  TempDir tmp;
  WriteBytes(SegPath(tmp.path(), 1), Hdr(1, 2, 1) + Rec(1, 1, 2));
  WriteBytes(SegPath(tmp.path(), 2), Hdr(2, 1, 2) + Rec(2, 2, 1));
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kEpochRegression, 2, 0, true);
  TempDir tmp2;
  WriteBytes(SegPath(tmp2.path(), 1), Hdr(1, 2, 1) + Rec(1, 1, 2) + Rec(1, 2, 1));
  s = RunScan(tmp2.path());
  ExpectOne(s, ScanProblemKind::kEpochMismatch, 1, OffsetOf(1), true);
}

BOOST_AUTO_TEST_CASE(foreign_volume_record) {
  TempDir tmp;
  WriteBytes(SegPath(tmp.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1, MakeVolumeId(9)) + Rec(1, 2, 1));
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kForeignVolume, 1, OffsetOf(1), true);
  BOOST_CHECK_EQUAL(s.records.size(), 2u);
}

BOOST_AUTO_TEST_CASE(missing_segment_recycled_segment_and_superseded) {
  TempDir tmp;
  WriteBytes(SegPath(tmp.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1));
  WriteBytes(SegPath(tmp.path(), 3), Hdr(3, 1, 7) + Rec(3, 7, 1));
  Scan s = RunScan(tmp.path());
  ExpectOne(s, ScanProblemKind::kMissingSegment, 3, 0, true);

  TempDir tmp2;  // segment 1's bytes copied under seq 2
  std::string seg1 = Hdr(1, 1, 1) + Rec(1, 1, 1);
  WriteBytes(SegPath(tmp2.path(), 1), seg1);
  WriteBytes(SegPath(tmp2.path(), 2), seg1);
  s = RunScan(tmp2.path());
  BOOST_REQUIRE_GE(s.problems.size(), 2u);
  BOOST_CHECK_EQUAL(ScanProblemName(s.problems[0].kind), ScanProblemName(ScanProblemKind::kSegmentSeqMismatch));
  BOOST_CHECK_EQUAL(s.problems[0].segment_seq, 2u);
  BOOST_CHECK_EQUAL(s.records.size(), 1u);  // the copied record fails its seq-2 checksum

  TempDir tmp3;  // deposed writer
  WriteBytes(SegPath(tmp3.path(), 1), Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1) + Rec(1, 3, 1));
  WriteBytes(SegPath(tmp3.path(), 2), Hdr(2, 2, 2) + Rec(2, 2, 2));
  s = RunScan(tmp3.path());
  ExpectOne(s, ScanProblemKind::kSuperseded, 1, OffsetOf(1), false);
  BOOST_REQUIRE_EQUAL(s.records.size(), 4u);
  BOOST_CHECK(s.records[1].superseded && s.records[2].superseded && !s.records[3].superseded);
}
