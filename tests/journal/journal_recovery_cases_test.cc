// Enumerates the recovery decision table of journal/journal_reader.cc
// (TigerBeetle recovery_cases style): each row is built as raw segment bytes
// and the reader's answer is checked.
#define BOOST_TEST_MODULE journal_recovery_cases
#include <boost/test/unit_test.hpp>

#include "base/checksum.h"
#include "base/coding.h"
#include "journal/journal_codec.h"
#include "tests/journal/journal_test_util.h"

using namespace baton;
using namespace baton::journal;
using namespace baton::journal::testing;
namespace f = baton::journal::format;

namespace {

const VolumeId kVol = MakeVolumeId(1);
const VolumeId kOther = MakeVolumeId(2);

std::string Hdr(uint64_t seq, uint64_t epoch, uint64_t first_lsn, const VolumeId& vol = kVol) {
  return EncodeSegmentHeader(SegmentHeader{vol, seq, epoch, first_lsn});
}

// A record sealed for segment `seed_seq`; group_remaining 0 = a group of its own.
std::string Rec(uint64_t seed_seq, uint64_t lsn, uint64_t epoch, const VolumeId& vol = kVol,
                uint32_t group_remaining = 0) {
  std::string out, payload = "payload-" + std::to_string(lsn);
  RecordHeader h{3, 0, static_cast<uint32_t>(payload.size()), lsn, epoch, vol, group_remaining};
  EncodeRecord(h, payload, f::RecordSeed(vol.bytes, seed_seq), &out);
  return out;
}

std::string Flip(std::string s, size_t at) {
  s[at] ^= 1;
  return s;
}

std::string Recs(uint64_t seq, uint64_t epoch, std::initializer_list<uint64_t> lsns) {
  std::string out;
  for (uint64_t l : lsns) out += Rec(seq, l, epoch);
  return out;
}

// One group write of segment 1, epoch 1: LSNs [first, last], group_remaining
// last - lsn. `bad` (0 = none) is the LSN whose record is damaged, by `damage`.
enum class Damage { kFlip, kZeros };
std::string Group(uint64_t first, uint64_t last, uint64_t bad = 0, Damage damage = Damage::kFlip) {
  std::string out;
  for (uint64_t l = first; l <= last; l++) {
    std::string r = Rec(1, l, 1, kVol, static_cast<uint32_t>(last - l));
    if (l == bad) r = damage == Damage::kFlip ? Flip(r, 60) : std::string(r.size(), '\0');
    out += r;
  }
  return out;
}

std::string BadVersionHeader() {
  std::string h = Hdr(1, 1, 1);
  StoreU32(h.data() + f::kSegVersionOffset, 99);
  StoreU64(h.data() + f::kSegChecksumOffset, Checksum64(std::string_view(h).substr(0, 56), f::kSegmentHeaderSeed));
  return h;
}

struct Case {
  const char* row;
  std::vector<std::pair<uint64_t, std::string>> segments;  // seq -> bytes
  Code want_open;            // of JournalReader::Open
  size_t want_records;
  Code want_end;             // status that ends the read
  std::string want_message;  // substring of the end (or open) message, "" = any
  uint64_t from_lsn = 0;
};

std::vector<Case> Cases() {
  const std::string r3 = Rec(1, 3, 1);
  return {
      {"1/17 clean log", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2, 3})}}, Code::kOk, 3, Code::kEndOfLog, ""},
      {"2 LSN gap", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2, 4})}}, Code::kOk, 2, Code::kCorruption, "expected LSN 3"},
      {"2 LSN repeat", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2, 2})}}, Code::kOk, 2, Code::kCorruption,
       "expected LSN 3"},
      {"3 torn tail (short)", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + r3.substr(0, r3.size() - 5)}}, Code::kOk, 2,
       Code::kEndOfLog, "torn tail"},
      {"3z zeroed space", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + std::string(512, '\0')}}, Code::kOk, 2,
       Code::kEndOfLog, "zeroed space"},
      {"3z zeroed space in an empty segment", {{1, Hdr(1, 1, 1) + std::string(4096, '\0')}}, Code::kOk, 0,
       Code::kEndOfLog, "zeroed space"},
      {"3 zeros then a torn record", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + std::string(512, '\0') + r3.substr(0, 30)}},
       Code::kOk, 2, Code::kEndOfLog, "torn tail"},
      {"3z zeros of a deposed writer before the next segment's first LSN",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + std::string(512, '\0')}, {2, Hdr(2, 2, 3) + Recs(2, 2, {3})}},
       Code::kOk, 3, Code::kEndOfLog, ""},
      {"5 zeros where records are missing before the next segment",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + std::string(512, '\0')}, {2, Hdr(2, 2, 4) + Recs(2, 2, {4})}},
       Code::kOk, 2, Code::kCorruption, "later segments follow"},
      {"3 torn tail (bad checksum)", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + Flip(r3, 60)}}, Code::kOk, 2,
       Code::kEndOfLog, "torn tail"},
      {"4 bad record then valid records of two groups",
       {{1, Hdr(1, 1, 1) + Rec(1, 1, 1) + Flip(Rec(1, 2, 1), 60) + r3 + Rec(1, 4, 1)}}, Code::kOk, 1,
       Code::kCorruption, "expected LSN 2"},
      {"4 offset is named", {{1, Hdr(1, 1, 1) + Rec(1, 1, 1) + Flip(Rec(1, 2, 1), 60) + r3 + Rec(1, 4, 1)}},
       Code::kOk, 1, Code::kCorruption, "offset " + std::to_string(f::kSegmentHeaderSize + r3.size())},
      {"4a torn final group: its first record bad, the rest intact",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + Group(3, 6, 3)}}, Code::kOk, 2, Code::kEndOfLog,
       "torn final group"},
      {"4a torn final group: its first record zeroed (sector lost)",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + Group(3, 6, 3, Damage::kZeros)}}, Code::kOk, 2, Code::kEndOfLog,
       "torn final group"},
      {"4a torn final group: a middle record bad (r0 > 0)", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + Group(3, 6, 5)}},
       Code::kOk, 4, Code::kEndOfLog, "torn final group"},
      {"4a torn final group: only the last record survives", {{1, Hdr(1, 1, 1) + Group(1, 2) + std::string(3 * r3.size(), '\0') + Rec(1, 6, 1)}},
       Code::kOk, 2, Code::kEndOfLog, "torn final group"},
      {"4a torn final group at the segment's start", {{1, Hdr(1, 1, 1) + Group(1, 3, 1)}}, Code::kOk, 0,
       Code::kEndOfLog, "torn final group"},
      {"4b a later group after the torn one", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + Group(3, 5, 3) + Group(6, 7)}},
       Code::kOk, 2, Code::kCorruption, "expected LSN 3"},
      {"4b bad middle group of the last segment",
       {{1, Hdr(1, 1, 1) + Group(1, 1) + Group(2, 3, 2) + Group(4, 5) + Group(6, 6)}}, Code::kOk, 1,
       Code::kCorruption, "another group"},
      {"4b records after the bad one end elsewhere than the group of E (r0 > 0)",
       {{1, Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1, kVol, 3) + Flip(Rec(1, 3, 1, kVol, 2), 60) +
                Rec(1, 4, 1, kVol, 3)}},
       Code::kOk, 2, Code::kCorruption, "group of the expected LSN ends at LSN 5"},
      {"4b record after the bad one has an LSN below the expected one",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + Flip(r3, 60) + Rec(1, 2, 1, kVol, 1)}}, Code::kOk, 2,
       Code::kCorruption, "outside the group"},
      {"5 bad record before next segment",
       {{1, Hdr(1, 1, 1) + Rec(1, 1, 1) + Flip(Rec(1, 2, 1), 60)}, {2, Hdr(2, 1, 3) + Rec(2, 3, 1)}}, Code::kOk, 1,
       Code::kCorruption, "later segments follow"},
      {"6 foreign record at tail", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2}) + Rec(1, 3, 1, kOther)}}, Code::kOk, 2,
       Code::kEndOfLog, ""},
      {"6 foreign record mid-log",
       {{1, Hdr(1, 1, 1) + Rec(1, 1, 1) + Rec(1, 2, 1, kOther) + Rec(1, 3, 1) + Rec(1, 4, 1)}},
       Code::kOk, 1, Code::kCorruption, "expected LSN 2"},
      {"7 older epoch record at tail", {{1, Hdr(1, 2, 1) + Recs(1, 2, {1}) + Rec(1, 2, 1)}}, Code::kOk, 1,
       Code::kEndOfLog, ""},
      {"7 older epoch record mid-log",
       {{1, Hdr(1, 2, 1) + Recs(1, 2, {1}) + Rec(1, 2, 1) + Rec(1, 3, 2) + Rec(1, 4, 2)}},
       Code::kOk, 1, Code::kCorruption, "epoch"},
      {"8 recycled record (old seq seed)",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1})}, {2, Hdr(2, 1, 2) + Rec(1, 2, 1)}}, Code::kOk, 1, Code::kEndOfLog, ""},
      {"8 recycled segment (header of seq 1 under seq 2)",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2})}, {2, Hdr(1, 1, 1) + Recs(1, 1, {1, 2})}}, Code::kOk, 2,
       Code::kEndOfLog, ""},
      {"9 deposed writer: bad bytes past the next segment's first LSN ignored",
       {{1, Hdr(1, 1, 1) + Rec(1, 1, 1) + Flip(Rec(1, 2, 1), 60)}, {2, Hdr(2, 2, 2) + Rec(2, 2, 2)}}, Code::kOk, 2,
       Code::kEndOfLog, ""},
      {"9 deposed writer ignored",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2, 3, 4})}, {2, Hdr(2, 2, 3) + Recs(2, 2, {3})}}, Code::kOk, 3,
       Code::kEndOfLog, ""},
      {"10 missing segment", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2})}, {3, Hdr(3, 1, 5) + Recs(3, 1, {5})}},
       Code::kOk, 2, Code::kCorruption, "next segment starts at LSN 5"},
      {"11 epoch regression", {{1, Hdr(1, 2, 1) + Recs(1, 2, {1})}, {2, Hdr(2, 1, 2) + Recs(2, 1, {2})}},
       Code::kCorruption, 0, Code::kOk, "epoch"},
      {"12 bad header before later segment",
       {{1, Flip(Hdr(1, 1, 1), 40) + Recs(1, 1, {1})}, {2, Hdr(2, 1, 2) + Recs(2, 1, {2})}}, Code::kCorruption, 0,
       Code::kOk, "bad segment header"},
      {"12 foreign segment before later segment",
       {{1, Hdr(1, 1, 1, kOther)}, {2, Hdr(2, 1, 1) + Recs(2, 1, {1})}}, Code::kCorruption, 0, Code::kOk,
       "another volume"},
      {"13 unfinished last header", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2})}, {2, Hdr(2, 1, 3).substr(0, 30)}},
       Code::kOk, 2, Code::kEndOfLog, ""},
      {"13 empty last segment file", {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2})}, {2, ""}}, Code::kOk, 2,
       Code::kEndOfLog, ""},
      {"14 bad last header but valid record",
       {{1, Hdr(1, 1, 1) + Recs(1, 1, {1, 2})}, {2, std::string(64, 'z') + Rec(2, 3, 1)}}, Code::kCorruption, 0,
       Code::kOk, "valid records"},
      {"15 unsupported version", {{1, BadVersionHeader()}}, Code::kUnsupported, 0, Code::kOk, "version"},
      {"16 from_lsn trimmed", {{5, Hdr(5, 1, 10) + Recs(5, 1, {10, 11})}}, Code::kNotFound, 0, Code::kOk, "trimmed",
       3},
      {"16 from_lsn present", {{5, Hdr(5, 1, 10) + Recs(5, 1, {10, 11})}}, Code::kOk, 1, Code::kEndOfLog, "", 11},
      {"empty journal", {}, Code::kOk, 0, Code::kEndOfLog, ""},
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(recovery_cases) {
  for (const Case& c : Cases()) {
    BOOST_TEST_CONTEXT("row " << c.row) {
      TempDir tmp;
      for (const auto& [seq, bytes] : c.segments) WriteBytes(SegPath(tmp.path(), seq), bytes);
      ReadResult r = ReadAll(Env::Default(), tmp.path(), kVol, c.from_lsn);
      BOOST_CHECK_MESSAGE(r.open_status.code() == c.want_open, "open: " << r.open_status.ToString());
      const Status& s = c.want_open == Code::kOk ? r.end : r.open_status;
      BOOST_CHECK_MESSAGE(s.message().find(c.want_message) != std::string::npos, s.ToString());
      if (c.want_open != Code::kOk) continue;
      BOOST_CHECK_EQUAL(r.records.size(), c.want_records);
      BOOST_CHECK_MESSAGE(r.end.code() == c.want_end, "end: " << r.end.ToString());
      for (size_t i = 0; i + 1 < r.records.size(); i++) BOOST_CHECK_EQUAL(r.records[i].lsn + 1, r.records[i + 1].lsn);
      if (r.end.IsEndOfLog() && !r.records.empty()) BOOST_CHECK_EQUAL(r.next_lsn, r.records.back().lsn + 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(deposed_rule_keeps_new_epoch_record) {
  TempDir tmp;
  WriteBytes(SegPath(tmp.path(), 1), Hdr(1, 1, 1) + Recs(1, 1, {1, 2, 3, 4}));
  WriteBytes(SegPath(tmp.path(), 2), Hdr(2, 2, 3) + Recs(2, 2, {3}));
  ReadResult r = ReadAll(Env::Default(), tmp.path(), kVol);
  BOOST_REQUIRE_EQUAL(r.records.size(), 3u);
  BOOST_CHECK_EQUAL(r.records[2].epoch, 2u);
  BOOST_CHECK_EQUAL(r.records[2].segment_seq, 2u);
  BOOST_CHECK_EQUAL(r.next_lsn, 4u);
}
