// Torn final group (decision-table row 4a of journal/journal_reader.cc):
// only the last group write of the log can be partly on disk, and a tear
// inside it is the end of the log, never corruption. Damage anywhere else
// stays loud kCorruption. The tools' scanner gives a second opinion on each.
#define BOOST_TEST_MODULE journal_torn_group
#include <boost/test/unit_test.hpp>

#include "base/fault_env.h"
#include "tests/journal/journal_test_util.h"
#include "tools/journal_scanner.h"

using namespace baton;
using namespace baton::journal;
using namespace baton::journal::testing;
namespace f = baton::journal::format;

namespace {

constexpr size_t kSectorBytes = 512;

// Appends `n` records in one group write (AppendBatch); returns the first LSN.
uint64_t AppendGroup(Journal* j, size_t n, size_t payload_bytes, std::vector<std::string>* keep) {
  std::vector<RecordIn> recs;
  size_t base = keep->size();
  for (size_t i = 0; i < n; i++) keep->push_back(Payload(j->next_lsn() + i, payload_bytes));
  for (size_t i = 0; i < n; i++) recs.push_back(RecordIn{5, (*keep)[base + i]});
  auto lsn = j->AppendBatch(recs);
  BOOST_REQUIRE_MESSAGE(lsn.ok(), lsn.status().ToString());
  return *lsn;
}

// A journal of three one-record groups (LSN 1..3), a group of 5 (LSN 4..8),
// and, if `later_group`, a group of 2 (LSN 9..10).
void WriteGroups(const JournalOptions& o, bool later_group) {
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  std::vector<std::string> keep;
  keep.reserve(64);
  for (int i = 0; i < 3; i++) AppendGroup(j->get(), 1, 100, &keep);
  BOOST_REQUIRE_EQUAL(AppendGroup(j->get(), 5, 150, &keep), 4u);
  if (later_group) BOOST_REQUIRE_EQUAL(AppendGroup(j->get(), 2, 80, &keep), 9u);
  BOOST_REQUIRE((*j)->Close().ok());
}

const Record& At(const std::vector<Record>& recs, uint64_t lsn) {
  for (const Record& r : recs) {
    if (r.lsn == lsn) return r;
  }
  BOOST_FAIL("no record with LSN " << lsn);
  return recs.front();
}

// Flips a payload byte of the record with `lsn` in the (single) segment.
uint64_t DamageRecord(const JournalOptions& o, uint64_t lsn) {
  ReadResult clean = ReadAll(o.env, o.dir, o.volume_id);
  const Record& victim = At(clean.records, lsn);
  std::string path = SegPath(o.dir, victim.segment_seq);
  std::string bytes = ReadBytes(path);
  bytes[victim.offset + f::kRecordHeaderSize + 3] ^= 0x40;
  WriteBytes(path, bytes);
  return victim.offset;
}

struct ScanResult {
  std::vector<tools::ScanProblem> problems;
  tools::ScanSummary summary;
  size_t after_tear = 0;
};

ScanResult Scan(const JournalOptions& o) {
  ScanResult s;
  tools::ScanOptions so;
  so.env = o.env;
  so.dir = o.dir;
  so.have_volume_id = true;
  so.volume_id = o.volume_id;
  Status st = tools::ScanJournal(
      so, [&](const tools::ScannedRecord& r) { s.after_tear += r.after_tear ? 1 : 0; },
      [&](const tools::ScanProblem& p) { s.problems.push_back(p); }, &s.summary);
  BOOST_REQUIRE(st.ok());
  return s;
}

}  // namespace

// The writer stamps group_remaining: n-1 .. 0 within each group write.
BOOST_AUTO_TEST_CASE(writer_marks_group_boundaries) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  WriteGroups(o, /*later_group=*/true);
  std::vector<uint32_t> remaining;
  tools::ScanOptions so;
  so.env = o.env;
  so.dir = o.dir;
  tools::ScanSummary sum;
  BOOST_REQUIRE(tools::ScanJournal(
                    so, [&](const tools::ScannedRecord& r) { remaining.push_back(r.group_remaining); },
                    [](const tools::ScanProblem&) {}, &sum)
                    .ok());
  std::vector<uint32_t> want = {0, 0, 0, 4, 3, 2, 1, 0, 1, 0};
  BOOST_CHECK_EQUAL_COLLECTIONS(remaining.begin(), remaining.end(), want.begin(), want.end());
}

// (a) The first record of the final group is damaged, the rest of the group
// is intact: end of log at that record; Open truncates and continues at it.
BOOST_AUTO_TEST_CASE(torn_final_group_is_end_of_log) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  WriteGroups(o, /*later_group=*/false);
  uint64_t tear = DamageRecord(o, 4);
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_CHECK_MESSAGE(r.end.IsEndOfLog(), r.end.ToString());
  BOOST_CHECK(r.end.message().find("torn final group") != std::string::npos);
  BOOST_CHECK_EQUAL(r.records.size(), 3u);
  BOOST_CHECK_EQUAL(r.next_lsn, 4u);
  // Second opinion: the scanner calls it a torn tail, not corruption, and
  // hands on the 4 records after the tear flagged.
  ScanResult s = Scan(o);
  BOOST_REQUIRE_EQUAL(s.problems.size(), 1u);
  BOOST_CHECK_EQUAL(tools::ScanProblemName(s.problems[0].kind), "torn-tail");
  BOOST_CHECK_EQUAL(s.problems[0].offset, tear);
  BOOST_CHECK_EQUAL(s.summary.corruptions, 0u);
  BOOST_CHECK_EQUAL(s.summary.records, 3u);
  BOOST_CHECK_EQUAL(s.summary.last_lsn, 3u);
  BOOST_CHECK_EQUAL(s.after_tear, 4u);
  BOOST_CHECK_EQUAL(s.summary.torn_records, 4u);

  auto j = Journal::Open(o);
  BOOST_REQUIRE_MESSAGE(j.ok(), j.status().ToString());
  BOOST_CHECK_EQUAL((*j)->next_lsn(), 4u);
  BOOST_CHECK_EQUAL(ReadBytes(SegPath(o.dir, 1)).size(), tear);  // cut at the tear
  auto lsn = (*j)->Append(9, "after the tear");
  BOOST_REQUIRE(lsn.ok());
  BOOST_CHECK_EQUAL(*lsn, 4u);
  BOOST_REQUIRE((*j)->Close().ok());
  r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_CHECK_MESSAGE(r.end.IsEndOfLog() && r.end.message().find("torn") == std::string::npos, r.end.ToString());
  BOOST_REQUIRE_EQUAL(r.records.size(), 4u);
  BOOST_CHECK_EQUAL(r.records[3].payload, "after the tear");
  BOOST_CHECK_EQUAL(Scan(o).summary.problems, 0u);
}

// (b) The same damage with a valid record of a LATER group after it: the
// damaged group was synced before that one was written, so it is corruption.
BOOST_AUTO_TEST_CASE(damaged_group_followed_by_later_group_is_corruption) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  WriteGroups(o, /*later_group=*/true);
  uint64_t offset = DamageRecord(o, 4);
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_CHECK_MESSAGE(r.end.code() == Code::kCorruption, r.end.ToString());
  BOOST_CHECK(r.end.message().find("expected LSN 4") != std::string::npos);
  BOOST_CHECK(r.end.message().find("offset " + std::to_string(offset)) != std::string::npos);
  BOOST_CHECK_EQUAL(r.records.size(), 3u);
  auto j = Journal::Open(o);
  BOOST_CHECK(j.status().code() == Code::kCorruption);
  ScanResult s = Scan(o);
  BOOST_CHECK_GE(s.summary.corruptions, 1u);
  BOOST_CHECK_EQUAL(s.after_tear, 0u);
}

// (c) Damage in a middle group of the last segment is corruption, whichever
// record of the group it hits.
BOOST_AUTO_TEST_CASE(damaged_middle_group_is_corruption) {
  for (uint64_t victim : {2u, 4u, 6u, 8u}) {
    BOOST_TEST_CONTEXT("damaged LSN " << victim) {
      TempDir tmp;
      JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
      WriteGroups(o, /*later_group=*/true);
      uint64_t offset = DamageRecord(o, victim);
      ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
      BOOST_CHECK_MESSAGE(r.end.code() == Code::kCorruption, r.end.ToString());
      BOOST_CHECK(r.end.message().find("expected LSN " + std::to_string(victim)) != std::string::npos);
      BOOST_CHECK(r.end.message().find("offset " + std::to_string(offset)) != std::string::npos);
      BOOST_CHECK_EQUAL(r.records.size(), victim - 1);
      BOOST_CHECK(Journal::Open(o).status().code() == Code::kCorruption);
      BOOST_CHECK_GE(Scan(o).summary.corruptions, 1u);
    }
  }
}

namespace {

// Keeps a random subset of the 512-byte sectors that the unsynced write
// [before.size(), after.size()) touched; a lost sector reads as zeros or
// garbage, or (when the file size did not reach it) is cut off. Bytes of a
// sector outside the write keep their synced value either way.
// The bytes of `after` that the unsynced final group write changed: where it
// first and last differs from `before` (the write may overwrite zeroed space
// the writer laid ahead, or append, or both).
std::string TearSectors(const std::string& before, const std::string& after, std::mt19937_64& rng) {
  size_t begin = 0;
  while (begin < before.size() && begin < after.size() && before[begin] == after[begin]) begin++;
  size_t end = after.size();
  while (end > begin && end <= before.size() && before[end - 1] == after[end - 1]) end--;
  std::string out = after;
  size_t first_sector = begin / kSectorBytes, last_sector = (end + kSectorBytes - 1) / kSectorBytes;
  bool garbage = rng() % 2 == 0;
  unsigned keep_percent = static_cast<unsigned>(rng() % 101);
  for (size_t s = first_sector; s < last_sector; s++) {
    if (rng() % 100 < keep_percent) continue;
    for (size_t b = std::max(begin, s * kSectorBytes); b < std::min(end, (s + 1) * kSectorBytes); b++) {
      out[b] = garbage ? static_cast<char>(rng()) : '\0';
    }
  }
  if (rng() % 3 == 0) {  // the size update was lost too: cut at a sector boundary
    size_t cut = std::max(begin, (first_sector + rng() % (last_sector - first_sector + 1)) * kSectorBytes);
    out.resize(std::min(cut, end));
  }
  return out;
}

}  // namespace

// (d) Power loss during the final group write: any subset of its sectors
// survives (FaultInjectionEnv only keeps in-order prefixes, so the test
// tears the bytes itself). Recovery always ends the log cleanly at a prefix
// that holds every synced group, and Open continues from it.
BOOST_AUTO_TEST_CASE(any_subset_of_final_group_sectors_recovers_synced_prefix) {
  uint64_t seed = TestSeed("torn_group_sectors");
  int torn_groups = 0;  // rounds that ended at row 4a (valid records after the tear)
  for (int round = 0; round < 300; round++) {
    BOOST_TEST_CONTEXT("round " << round << " seed " << seed) {
      std::mt19937_64 rng(seed + round);
      TempDir tmp;
      FaultInjectionEnv env(Env::Default());
      JournalOptions o = MakeOptions(&env, tmp.Sub("journal"));
      o.segment_size_bytes = 1 << 20;
      BOOST_REQUIRE(Journal::Create(o).ok());
      auto j = Journal::Open(o);
      BOOST_REQUIRE(j.ok());
      std::vector<std::string> keep;
      keep.reserve(4096);
      int groups = static_cast<int>(rng() % 8);
      for (int g = 0; g < groups; g++) AppendGroup(j->get(), 1 + rng() % 6, rng() % 400, &keep);
      uint64_t acked = (*j)->durable_lsn();
      BOOST_REQUIRE_EQUAL(acked, keep.size());
      // The final group: written, its fdatasync fails (never acknowledged).
      size_t n = 2 + rng() % 12;
      std::vector<std::string> last;
      for (size_t i = 0; i < n; i++) last.push_back(Payload(acked + 1 + i, 20 + rng() % 500));
      std::vector<RecordIn> recs;
      for (const std::string& p : last) recs.push_back(RecordIn{5, p});
      uint64_t seq = SegmentSeqs(o.dir).back();
      // No roll before the final group, so the failed sync is the group's own.
      // (The file may hold zeroed space past its records.)
      const std::string seg_bytes = ReadBytes(SegPath(o.dir, seq));
      BOOST_REQUIRE_LT(seg_bytes.find_last_not_of('\0') + 1, o.segment_size_bytes);
      env.FailNextSync(Status::IOError("power loss"));
      BOOST_REQUIRE(!(*j)->AppendBatch(recs).ok());
      (*j)->Close().PermitUnchecked();
      std::string after = ReadBytes(SegPath(o.dir, seq));
      BOOST_REQUIRE(env.SimulateCrash(CrashMode::kDropUnsynced, seed + round).ok());
      std::string before = ReadBytes(SegPath(o.dir, seq));
      if (after != before) WriteBytes(SegPath(o.dir, seq), TearSectors(before, after, rng));

      ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
      BOOST_REQUIRE_MESSAGE(r.end.IsEndOfLog(), r.end.ToString());
      BOOST_REQUIRE_GE(r.records.size(), acked);
      BOOST_REQUIRE_LE(r.records.size(), acked + n);
      for (size_t i = 0; i < r.records.size(); i++) {
        BOOST_REQUIRE_EQUAL(r.records[i].lsn, i + 1);
        const std::string& want = i < acked ? keep[i] : last[i - acked];
        BOOST_REQUIRE(r.records[i].payload == want);
      }
      if (r.end.message().find("torn final group") != std::string::npos) torn_groups++;
      BOOST_CHECK_EQUAL(Scan(o).summary.corruptions, 0u);
      auto again = Journal::Open(o);
      BOOST_REQUIRE_MESSAGE(again.ok(), again.status().ToString());
      BOOST_REQUIRE_EQUAL((*again)->next_lsn(), r.records.size() + 1);
      auto lsn = (*again)->Append(1, "next");
      BOOST_REQUIRE(lsn.ok());
      BOOST_REQUIRE((*again)->Close().ok());
      ReadResult r2 = ReadAll(o.env, o.dir, o.volume_id);
      BOOST_REQUIRE_MESSAGE(r2.end.IsEndOfLog(), r2.end.ToString());
      BOOST_REQUIRE_EQUAL(r2.records.size(), r.records.size() + 1);
    }
  }
  BOOST_TEST_MESSAGE("rounds ending in a torn final group: " << torn_groups);
  BOOST_CHECK_GT(torn_groups, 30);
}
