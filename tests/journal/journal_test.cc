#define BOOST_TEST_MODULE journal
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <thread>

#include "base/fault_env.h"
#include "journal/journal.h"
#include "journal/journal_format.h"
#include "journal/journal_recovery.h"
#include "tests/journal/journal_test_util.h"

using namespace baton;
using namespace baton::journal;
using namespace baton::journal::testing;
namespace f = baton::journal::format;

BOOST_AUTO_TEST_CASE(round_trip_100k_records_and_reopen) {
  uint64_t seed = TestSeed("round_trip");
  std::mt19937_64 rng(seed);
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  o.segment_size_bytes = 4 << 20;
  BOOST_REQUIRE(Journal::Create(o).ok());
  std::vector<uint32_t> sizes;
  {
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    std::vector<std::string> batch;
    for (int i = 0; i < 100000; i += 100) {
      std::vector<RecordIn> in;
      batch.clear();
      for (int k = 0; k < 100; k++) {
        uint32_t size = rng() % 4 == 0 ? rng() % 2000 : rng() % 64;
        sizes.push_back(size);
        batch.push_back(Payload(sizes.size(), size));
      }
      for (auto& p : batch) in.push_back(RecordIn{static_cast<uint16_t>(i % 5), p});
      auto lsn = (*j)->AppendBatch(in);
      BOOST_REQUIRE(lsn.ok());
      BOOST_REQUIRE_EQUAL(*lsn, static_cast<uint64_t>(i + 1));
    }
    BOOST_CHECK_EQUAL((*j)->durable_lsn(), 100000u);
    BOOST_CHECK((*j)->Close().ok());
  }
  BOOST_CHECK_GT(SegmentSeqs(o.dir).size(), 2u);  // rolled
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE(r.open_status.ok());
  BOOST_CHECK(r.end.IsEndOfLog());
  BOOST_REQUIRE_EQUAL(r.records.size(), 100000u);
  for (size_t i = 0; i < r.records.size(); i++) {
    if (r.records[i].lsn != i + 1 || r.records[i].payload != Payload(i + 1, sizes[i])) {
      BOOST_FAIL("record " << i + 1 << " differs");
    }
  }
  // Reopen continues the LSNs in a new segment; a reader from the middle works.
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  BOOST_CHECK_EQUAL((*j)->next_lsn(), 100001u);
  auto lsn = (*j)->Append(1, "after reopen");
  BOOST_REQUIRE(lsn.ok());
  BOOST_CHECK_EQUAL(*lsn, 100001u);
  BOOST_CHECK((*j)->Close().ok());
  ReadResult mid = ReadAll(o.env, o.dir, o.volume_id, 77777);
  BOOST_REQUIRE(mid.open_status.ok());
  BOOST_REQUIRE_EQUAL(mid.records.size(), 100001u - 77777u + 1);
  BOOST_CHECK_EQUAL(mid.records.front().lsn, 77777u);
  BOOST_CHECK_EQUAL(mid.records.back().payload, "after reopen");
  BOOST_CHECK_EQUAL(mid.next_lsn, 100002u);
}

BOOST_AUTO_TEST_CASE(group_commit_from_8_threads) {
  TempDir tmp;
  FaultInjectionEnv env(Env::Default());
  JournalOptions o = MakeOptions(&env, tmp.Sub("journal"));
  o.segment_size_bytes = 1 << 20;
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  uint64_t syncs_before = env.data_sync_calls();
  constexpr int kThreads = 8, kPerThread = 2000;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      uint64_t last = 0;
      for (int i = 0; i < kPerThread; i++) {
        std::string p = std::to_string(t) + ":" + std::to_string(i);
        auto lsn = (*j)->Append(static_cast<uint16_t>(t), p);
        if (!lsn.ok() || *lsn <= last) failures++;
        if (lsn.ok()) last = *lsn;
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_REQUIRE_EQUAL(failures.load(), 0);
  uint64_t syncs = env.data_sync_calls() - syncs_before;
  BOOST_TEST_MESSAGE("syncs " << syncs << " for " << kThreads * kPerThread << " records");
  BOOST_CHECK_LT(syncs, static_cast<uint64_t>(kThreads * kPerThread));
  BOOST_CHECK((*j)->Close().ok());

  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE(r.end.IsEndOfLog());
  BOOST_REQUIRE_EQUAL(r.records.size(), static_cast<size_t>(kThreads * kPerThread));
  std::map<int, int> next_index;  // per thread, the index expected next
  for (size_t k = 0; k < r.records.size(); k++) {
    const Record& rec = r.records[k];
    BOOST_REQUIRE_EQUAL(rec.lsn, k + 1);
    int t = rec.type;
    std::string want = std::to_string(t) + ":" + std::to_string(next_index[t]++);
    BOOST_REQUIRE_EQUAL(rec.payload, want);  // each thread's records once, in its order
  }
  for (int t = 0; t < kThreads; t++) BOOST_CHECK_EQUAL(next_index[t], kPerThread);
}

// Every cut of the last record is a torn tail; Open cuts it and continues.
BOOST_AUTO_TEST_CASE(truncate_last_record_at_every_byte) {
  TempDir tmp;
  JournalOptions base = MakeOptions(Env::Default(), tmp.Sub("base"));
  BOOST_REQUIRE(WriteJournal(base, 5, 100).ok());
  ReadResult all = ReadAll(base.env, base.dir, base.volume_id);
  BOOST_REQUIRE_EQUAL(all.records.size(), 5u);
  const Record& last = all.records.back();
  std::string seg = SegPath(base.dir, last.segment_seq);
  uint64_t end = last.offset + f::kRecordHeaderSize + last.payload.size();
  BOOST_REQUIRE_EQUAL(ReadBytes(seg).size(), end);
  for (uint64_t cut = last.offset; cut < end; cut++) {
    std::string dir = tmp.Sub("cut" + std::to_string(cut));
    CopyDir(base.dir, dir);
    std::filesystem::resize_file(SegPath(dir, last.segment_seq), cut);
    ReadResult r = ReadAll(base.env, dir, base.volume_id);
    BOOST_REQUIRE_MESSAGE(r.end.IsEndOfLog(), "cut " << cut << ": " << r.end.ToString());
    BOOST_REQUIRE_EQUAL(r.records.size(), 4u);
    BOOST_REQUIRE_EQUAL(r.next_lsn, 5u);
    for (int i = 0; i < 4; i++) BOOST_REQUIRE(r.records[i].payload == all.records[i].payload);

    JournalOptions o = base;
    o.dir = dir;
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    BOOST_REQUIRE_EQUAL(std::filesystem::file_size(SegPath(dir, last.segment_seq)), last.offset);  // cut
    auto lsn = (*j)->Append(9, "new");
    BOOST_REQUIRE(lsn.ok());
    BOOST_REQUIRE_EQUAL(*lsn, 5u);
    BOOST_REQUIRE((*j)->Close().ok());
    ReadResult after = ReadAll(base.env, dir, base.volume_id);
    BOOST_REQUIRE(after.end.IsEndOfLog());
    BOOST_REQUIRE_EQUAL(after.records.size(), 5u);
    BOOST_REQUIRE_EQUAL(after.records[4].payload, "new");
    std::filesystem::remove_all(dir);
  }
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_middle_record_is_corruption) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  BOOST_REQUIRE(WriteJournal(o, 10, 100).ok());
  ReadResult all = ReadAll(o.env, o.dir, o.volume_id);
  const Record& victim = all.records[4];  // LSN 5
  for (uint64_t at : {victim.offset + 3, victim.offset + 20, victim.offset + f::kRecordHeaderSize + 50}) {
    std::string seg = SegPath(o.dir, victim.segment_seq);
    std::string bytes = ReadBytes(seg);
    bytes[at] ^= 0x10;
    WriteBytes(seg, bytes);
    ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
    BOOST_CHECK_EQUAL(r.records.size(), 4u);
    BOOST_CHECK(r.end.IsCorruption());
    BOOST_CHECK_MESSAGE(r.end.message().find("expected LSN 5") != std::string::npos, r.end.message());
    BOOST_CHECK_MESSAGE(r.end.message().find("offset " + std::to_string(victim.offset)) != std::string::npos,
                        r.end.message());
    auto j = Journal::Open(o);  // the writer refuses mid-log corruption
    BOOST_CHECK(j.status().IsCorruption());
    bytes[at] ^= 0x10;
    WriteBytes(seg, bytes);
  }
  BOOST_CHECK(ReadAll(o.env, o.dir, o.volume_id).end.IsEndOfLog());
}

BOOST_AUTO_TEST_CASE(foreign_volume_older_epoch_and_recycled_segment_rejected) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  BOOST_REQUIRE(WriteJournal(o, 3).ok());
  // Another volume's reader sees a foreign segment (bad header as last segment,
  // no record of its own volume in it): nothing is returned as valid.
  ReadResult other = ReadAll(o.env, o.dir, MakeVolumeId(2));
  BOOST_CHECK(other.records.empty());
  // A record of another volume spliced into the tail of ours is not accepted.
  TempDir tmp2;
  JournalOptions o2 = MakeOptions(Env::Default(), tmp2.Sub("journal"), 1, 2);
  BOOST_REQUIRE(WriteJournal(o2, 4).ok());
  ReadResult theirs = ReadAll(o2.env, o2.dir, o2.volume_id);
  std::string their_seg = ReadBytes(SegPath(o2.dir, 1));
  std::string their_rec4 = their_seg.substr(theirs.records[3].offset);
  std::string ours = ReadBytes(SegPath(o.dir, 1));
  WriteBytes(SegPath(o.dir, 1), ours + their_rec4);
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_CHECK_EQUAL(r.records.size(), 3u);
  BOOST_CHECK(r.end.IsEndOfLog());  // invalid record at the end: torn tail, not accepted

  // A record with an older epoch than its segment (header rewritten to epoch 2
  // but records keep epoch 1): rejected.
  TempDir tmp3;
  JournalOptions o3 = MakeOptions(Env::Default(), tmp3.Sub("journal"));
  BOOST_REQUIRE(WriteJournal(o3, 3).ok());
  o3.epoch = 2;
  auto j = Journal::Open(o3);
  BOOST_REQUIRE(j.ok());
  BOOST_REQUIRE((*j)->Append(1, "epoch2").ok());
  BOOST_REQUIRE((*j)->Close().ok());
  std::string seg1 = ReadBytes(SegPath(o3.dir, 1));
  std::string seg2 = ReadBytes(SegPath(o3.dir, 2));
  // Put segment 1's record 3 (epoch 1, seq 1 seed) after segment 2's records.
  ReadResult r3 = ReadAll(o3.env, o3.dir, o3.volume_id);
  WriteBytes(SegPath(o3.dir, 2), seg2 + seg1.substr(r3.records[2].offset));
  ReadResult r3b = ReadAll(o3.env, o3.dir, o3.volume_id);
  BOOST_CHECK_EQUAL(r3b.records.size(), 4u);
  BOOST_CHECK(r3b.end.IsEndOfLog());

  // Recycled segment: segment 1's bytes under the name of segment 3 after 2.
  WriteBytes(SegPath(o3.dir, 2), seg2);
  WriteBytes(SegPath(o3.dir, 3), seg1);
  ReadResult r4 = ReadAll(o3.env, o3.dir, o3.volume_id);
  BOOST_CHECK_EQUAL(r4.records.size(), 4u);  // nothing of segment 3 accepted
  // Its header is now rewritten with the right seq: the records' seed still
  // carries seq 1, so they fail.
  std::string fake = seg1;
  StoreU64(fake.data() + f::kSegSeqOffset, 3);
  StoreU64(fake.data() + f::kSegEpochOffset, 2);
  StoreU64(fake.data() + f::kSegFirstLsnOffset, 5);
  StoreU64(fake.data() + f::kSegChecksumOffset, Checksum64(std::string_view(fake).substr(0, 56), f::kSegmentHeaderSeed));
  WriteBytes(SegPath(o3.dir, 3), fake);
  ReadResult r5 = ReadAll(o3.env, o3.dir, o3.volume_id);
  BOOST_CHECK_EQUAL(r5.records.size(), 4u);
  BOOST_CHECK(r5.end.IsEndOfLog());
  BOOST_CHECK_EQUAL(r5.next_lsn, 5u);
}

BOOST_AUTO_TEST_CASE(open_with_older_epoch_is_fenced) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 3);
  BOOST_REQUIRE(WriteJournal(o, 2).ok());
  o.epoch = 2;
  BOOST_CHECK(Journal::Open(o).status().IsFenced());
}

// A deposed writer (epoch 1) keeps appending to its segment after a new
// writer (epoch 2) started segment 2 at LSN 4: its records are ignored.
BOOST_AUTO_TEST_CASE(deposed_writer_records_ignored) {
  TempDir tmp;
  JournalOptions o1 = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  BOOST_REQUIRE(Journal::Create(o1).ok());
  auto old_writer = Journal::Open(o1);
  BOOST_REQUIRE(old_writer.ok());
  for (int i = 0; i < 3; i++) BOOST_REQUIRE((*old_writer)->Append(1, "old").ok());
  JournalOptions o2 = o1;
  o2.epoch = 2;
  auto new_writer = Journal::Open(o2);
  BOOST_REQUIRE(new_writer.ok());
  BOOST_CHECK_EQUAL((*new_writer)->next_lsn(), 4u);
  // The deposed writer still believes it owns LSN 4, 5.
  BOOST_REQUIRE((*old_writer)->Append(1, "deposed-4").ok());
  BOOST_REQUIRE((*old_writer)->Append(1, "deposed-5").ok());
  BOOST_REQUIRE((*new_writer)->Append(2, "new-4").ok());
  BOOST_REQUIRE((*old_writer)->Close().ok());
  BOOST_REQUIRE((*new_writer)->Close().ok());
  ReadResult r = ReadAll(o1.env, o1.dir, o1.volume_id);
  BOOST_REQUIRE(r.end.IsEndOfLog());
  BOOST_REQUIRE_EQUAL(r.records.size(), 4u);
  BOOST_CHECK_EQUAL(r.records[3].payload, "new-4");
  BOOST_CHECK_EQUAL(r.records[3].epoch, 2u);
}

BOOST_AUTO_TEST_CASE(trim_deletes_whole_old_segments) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  o.segment_size_bytes = 1000;  // ~6 records of 100 bytes per segment
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  for (int i = 1; i <= 50; i++) BOOST_REQUIRE((*j)->Append(1, Payload(i, 100)).ok());
  size_t before = SegmentSeqs(o.dir).size();
  BOOST_REQUIRE_GT(before, 5u);
  BOOST_CHECK((*j)->Trim(51).code() == Code::kInvalidArgument);  // past durable
  BOOST_REQUIRE((*j)->Trim(20).ok());
  std::vector<uint64_t> left = SegmentSeqs(o.dir);
  BOOST_CHECK_LT(left.size(), before);
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id, 21);
  BOOST_REQUIRE(r.open_status.ok());
  BOOST_CHECK(r.end.IsEndOfLog());
  BOOST_REQUIRE_EQUAL(r.records.size(), 30u);
  BOOST_CHECK_EQUAL(r.records.front().lsn, 21u);
  // Whatever remains starts at or before 21, and after 1 (something went).
  ReadResult whole = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE(!whole.records.empty());
  BOOST_CHECK_LE(whole.records.front().lsn, 21u);
  BOOST_CHECK_GT(whole.records.front().lsn, 1u);
  // Reading from a trimmed LSN is an error.
  BOOST_CHECK(ReadAll(o.env, o.dir, o.volume_id, 1).open_status.IsNotFound());
  // Trim everything: the current segment stays.
  BOOST_REQUIRE((*j)->Trim(50).ok());
  BOOST_CHECK_GE(SegmentSeqs(o.dir).size(), 1u);
  BOOST_REQUIRE((*j)->Append(1, "after trim").ok());
  BOOST_REQUIRE((*j)->Close().ok());
  auto again = Journal::Open(o);
  BOOST_REQUIRE(again.ok());
  BOOST_CHECK_EQUAL((*again)->next_lsn(), 52u);
}

// A deposed active that resumes in the middle of its trim removes segments
// the new active's writer still lists (found by kill_torture_test: the new
// active then fail-stopped on "not found"). Its own trim must count them as
// trimmed, and a reader listing them just before they vanish must skip them.
BOOST_AUTO_TEST_CASE(trim_and_readers_tolerate_segments_removed_by_another_writer) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  o.segment_size_bytes = 1000;
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  for (int i = 1; i <= 50; i++) BOOST_REQUIRE((*j)->Append(1, Payload(i, 100)).ok());
  std::vector<uint64_t> seqs = SegmentSeqs(o.dir);
  BOOST_REQUIRE_GT(seqs.size(), 3u);
  // "The deposed writer" removes the two oldest segments behind its back.
  for (int k = 0; k < 2; k++) BOOST_REQUIRE(Env::Default()->RemoveFile(SegmentPath(o.dir, seqs[k])).ok());
  BOOST_REQUIRE((*j)->Trim(30).ok());
  BOOST_REQUIRE((*j)->Append(1, "still writing").ok());  // not fail-stopped
  // A reader whose directory listing still names a removed segment.
  class StaleListEnv : public EnvWrapper {
   public:
    StaleListEnv(Env* t, std::string ghost) : EnvWrapper(t), ghost_(std::move(ghost)) {}
    StatusOr<std::vector<std::string>> ListDir(const std::string& p) override {
      BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, target()->ListDir(p));
      names.insert(names.begin(), ghost_);
      return names;
    }
   private:
    std::string ghost_;
  };
  StaleListEnv stale(Env::Default(), format::SegmentFileName(seqs[0]));
  ReadResult r = ReadAll(&stale, o.dir, o.volume_id, 40);
  BOOST_REQUIRE_MESSAGE(r.open_status.ok(), r.open_status.ToString());
  BOOST_CHECK(r.end.IsEndOfLog());
  BOOST_REQUIRE(!r.records.empty());
  BOOST_CHECK_EQUAL(r.records.front().lsn, 40u);
  BOOST_REQUIRE((*j)->Close().ok());
}

BOOST_AUTO_TEST_CASE(fail_stop_after_sync_error) {
  for (bool on_sync : {true, false}) {
    TempDir tmp;
    FaultInjectionEnv env(Env::Default());
    JournalOptions o = MakeOptions(&env, tmp.Sub("journal"));
    BOOST_REQUIRE(Journal::Create(o).ok());
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    BOOST_REQUIRE((*j)->Append(1, "one").ok());
    if (on_sync) {
      env.FailNextSync(Status::IOError("injected fdatasync failure", 5));
    } else {
      env.FailNextWrite(Status::NoSpace("injected ENOSPC"));
    }
    auto bad = (*j)->Append(1, "two");
    BOOST_REQUIRE(!bad.ok());
    // Later calls fail with the same error, although the env works again.
    for (int i = 0; i < 3; i++) {
      auto later = (*j)->Append(1, "three");
      BOOST_REQUIRE(!later.ok());
      BOOST_CHECK(later.status().code() == bad.status().code());
    }
    BOOST_CHECK(!(*j)->Trim(1).ok());
    BOOST_CHECK_EQUAL((*j)->durable_lsn(), 1u);
    BOOST_REQUIRE((*j)->Close().ok());
    j = Journal::Open(o);  // a restart recovers what was durable
    BOOST_REQUIRE(j.ok());
    BOOST_CHECK_GE((*j)->next_lsn(), 2u);
  }
}

BOOST_AUTO_TEST_CASE(crash_keeps_synced_and_recovers_a_prefix) {
  uint64_t seed = TestSeed("crash");
  for (int round = 0; round < 40; round++) {
    TempDir tmp;
    FaultInjectionEnv env(Env::Default());
    JournalOptions o = MakeOptions(&env, tmp.Sub("journal"));
    o.segment_size_bytes = 4096;
    BOOST_REQUIRE(Journal::Create(o).ok());
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    std::mt19937_64 rng(seed + round);
    int acked = 10 + static_cast<int>(rng() % 40);
    for (int i = 1; i <= acked; i++) BOOST_REQUIRE((*j)->Append(1, Payload(i, rng() % 700)).ok());
    // Unsynced writes after the last ack: written straight into the segment,
    // as a writer that died between write and fdatasync would leave them.
    (*j)->Close().PermitUnchecked();
    std::vector<uint64_t> seqs = SegmentSeqs(o.dir);
    auto f = env.OpenFile(SegPath(o.dir, seqs.back()), {});
    BOOST_REQUIRE(f.ok());
    uint64_t size = *(*f)->Size();
    for (int k = 0; k < 3; k++) {
      std::string junk(1 + rng() % 1500, static_cast<char>(rng()));
      BOOST_REQUIRE((*f)->PWrite(size, junk).ok());
      size += junk.size();
    }
    BOOST_REQUIRE((*f)->Close().ok());
    CrashMode mode = static_cast<CrashMode>(round % 5);
    BOOST_REQUIRE(env.SimulateCrash(mode, seed + round).ok());
    ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
    BOOST_REQUIRE_MESSAGE(r.end.IsEndOfLog(), "round " << round << ": " << r.end.ToString());
    BOOST_REQUIRE_EQUAL(r.records.size(), static_cast<size_t>(acked));  // every synced record, nothing else
    auto again = Journal::Open(o);
    BOOST_REQUIRE(again.ok());
    BOOST_CHECK_EQUAL((*again)->next_lsn(), static_cast<uint64_t>(acked + 1));
  }
}

// Crash at a random moment of a running writer: the recovered log is a
// prefix of what was written and holds everything acknowledged.
BOOST_AUTO_TEST_CASE(crash_mid_stream_recovers_prefix) {
  uint64_t seed = TestSeed("crash_mid_stream");
  for (int round = 0; round < 40; round++) {
    TempDir tmp;
    FaultInjectionEnv env(Env::Default());
    JournalOptions o = MakeOptions(&env, tmp.Sub("journal"));
    o.segment_size_bytes = 2048;
    BOOST_REQUIRE(Journal::Create(o).ok());
    std::mt19937_64 rng(seed * 7 + round);
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    int acked = static_cast<int>(rng() % 30);
    for (int i = 1; i <= acked; i++) BOOST_REQUIRE((*j)->Append(1, Payload(i, rng() % 600)).ok());
    // The next append fails at its sync: written but not durable.
    env.FailNextSync(Status::IOError("crash"));
    BOOST_CHECK(!(*j)->Append(1, Payload(acked + 1, 300)).ok());
    (*j)->Close().PermitUnchecked();
    BOOST_REQUIRE(env.SimulateCrash(static_cast<CrashMode>(round % 5), seed + round).ok());
    ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
    BOOST_REQUIRE_MESSAGE(r.end.IsEndOfLog(), "round " << round << ": " << r.end.ToString());
    BOOST_REQUIRE_GE(r.records.size(), static_cast<size_t>(acked));
    BOOST_REQUIRE_LE(r.records.size(), static_cast<size_t>(acked + 1));
    for (size_t i = 0; i < r.records.size(); i++) BOOST_REQUIRE_EQUAL(r.records[i].lsn, i + 1);
  }
}
