// JournalTail (journal/journal_tail.h): the standby's reader of a journal a
// live writer appends to, and FirstJournalLsn. Real files, real writers; the
// recovery reader (JournalReader) and the raw segment bytes are the second
// opinion on what the tail returns.
#define BOOST_TEST_MODULE journal_tail
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "journal/journal.h"
#include "journal/journal_codec.h"
#include "journal/journal_format.h"
#include "journal/journal_tail.h"
#include "tests/journal/journal_test_util.h"

using namespace baton;
using namespace baton::journal;
using namespace baton::journal::testing;
namespace f = baton::journal::format;

namespace {

using Clock = std::chrono::steady_clock;

// Payload size of the record with this LSN: mostly small, some empty, a few
// larger than the tail's 1 MiB read chunk (when big is set).
size_t SizeFor(uint64_t lsn, bool big) {
  uint64_t h = lsn * 0x9E3779B97F4A7C15ull;
  if (big && lsn % 499 == 13) return (1u << 20) + 4096 + (h >> 50);
  if (lsn % 11 == 0) return 0;
  return (h >> 40) % 700;
}
std::string PayloadFor(uint64_t lsn, bool big = false) { return Payload(lsn, SizeFor(lsn, big)); }
uint16_t TypeFor(uint64_t lsn) { return static_cast<uint16_t>(lsn % 7 + 1); }

// Appends `n` records (LSNs taken from next_lsn(): one appender only).
uint64_t AppendN(Journal& j, int n, bool big = false) {
  std::vector<std::string> payloads;
  std::vector<RecordIn> in;
  uint64_t first = j.next_lsn();
  for (int i = 0; i < n; i++) payloads.push_back(PayloadFor(first + i, big));
  for (int i = 0; i < n; i++) in.push_back(RecordIn{TypeFor(first + i), payloads[i]});
  StatusOr<uint64_t> lsn = j.AppendBatch(in);
  BOOST_REQUIRE_MESSAGE(lsn.ok(), lsn.status().ToString());
  BOOST_REQUIRE_EQUAL(*lsn, first);
  return first + n - 1;
}

// The record the tail says is at (segment_seq, offset) really is there: a
// second reading straight from the segment file.
void CheckPlace(const JournalOptions& o, const Record& r) {
  std::ifstream in(SegPath(o.dir, r.segment_seq), std::ios::binary);
  std::string seg(f::kRecordHeaderSize + r.payload.size(), '\0');
  in.seekg(static_cast<std::streamoff>(r.offset));
  in.read(seg.data(), static_cast<std::streamsize>(seg.size()));
  seg.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  RecordHeader h;
  std::string_view payload;
  RecordCheck c = DecodeRecordAt(seg, 0, f::RecordSeed(o.volume_id.bytes, r.segment_seq), o.volume_id, &h,
                                 &payload);
  BOOST_REQUIRE_MESSAGE(c == RecordCheck::kOk, "lsn " << r.lsn << ": no valid record at seg " << r.segment_seq
                                                      << " offset " << r.offset << ": " << RecordCheckName(c));
  BOOST_REQUIRE_EQUAL(h.lsn, r.lsn);
  BOOST_REQUIRE(payload == r.payload);
}

// Checks a batch the tail returned: consecutive from *expect, none past
// limit, payload/type as written, epoch as given by epoch_of.
void CheckBatch(const JournalOptions& o, const std::vector<Record>& recs, uint64_t* expect, uint64_t limit,
                const std::function<uint64_t(uint64_t)>& epoch_of, bool big, bool check_place) {
  for (const Record& r : recs) {
    BOOST_REQUIRE_EQUAL(r.lsn, *expect);
    BOOST_REQUIRE_LE(r.lsn, limit);
    BOOST_REQUIRE_EQUAL(r.epoch, epoch_of(r.lsn));
    BOOST_REQUIRE_EQUAL(r.type, TypeFor(r.lsn));
    BOOST_REQUIRE_MESSAGE(r.payload == PayloadFor(r.lsn, big), "payload of lsn " << r.lsn << " differs");
    if (check_place) CheckPlace(o, r);
    (*expect)++;
  }
}

// A writer thread appending random batches, joined on every exit path.
class LiveWriter {
 public:
  LiveWriter(Journal* j, uint64_t seed, int records, bool big) : j_(j) {
    thread_ = std::thread([this, seed, records, big] {
      std::mt19937_64 rng(seed);
      int left = records;
      while (left > 0 && !stop_.load()) {
        int n = std::min(left, 1 + static_cast<int>(rng() % 20));
        std::vector<std::string> payloads;
        std::vector<RecordIn> in;
        uint64_t first = j_->next_lsn();
        for (int i = 0; i < n; i++) payloads.push_back(PayloadFor(first + i, big));
        for (int i = 0; i < n; i++) in.push_back(RecordIn{TypeFor(first + i), payloads[i]});
        StatusOr<uint64_t> lsn = j_->AppendBatch(in);
        if (!lsn.ok() || *lsn != first) {
          error_ = lsn.ok() ? "batch got lsn " + std::to_string(*lsn) + ", wanted " + std::to_string(first)
                            : lsn.status().ToString();
          break;
        }
        left -= n;
        if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
      }
      done_.store(true);
    });
  }
  // A failing test stops the writer; a passing one has joined it already.
  ~LiveWriter() {
    stop_.store(true);
    Join();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_.load(); }
  const std::string& error() const { return error_; }

 private:
  Journal* j_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, done_{false};
  std::string error_;
};

// Follows a live writer with a tail bounded by the writer's durable LSN.
// trim_behind: the test also trims the journal up to what the tail has read
// (as the active does up to its standbys' positions).
void FollowLive(const JournalOptions& o, uint64_t seed, int records, bool big, bool trim_behind = false) {
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  std::mt19937_64 rng(seed);
  JournalTail tail(o.env, o.dir, o.volume_id, 1);
  uint64_t expect = 1;
  size_t calls = 0, empty_calls = 0, trims = 0;
  LiveWriter writer(j->get(), seed + 1, records, big);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (expect <= static_cast<uint64_t>(records)) {
    BOOST_REQUIRE_MESSAGE(Clock::now() < deadline, "tail stuck at lsn " << expect);
    if (writer.done()) BOOST_REQUIRE_MESSAGE(writer.error().empty(), writer.error());
    uint64_t limit = (*j)->durable_lsn();
    size_t max_bytes = rng() % 3 == 0 ? 1 + rng() % 64 : 1 + rng() % (2u << 20);
    std::vector<Record> out;
    Status st = tail.ReadUpTo(limit, o.epoch, max_bytes, &out);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
    calls++;
    if (out.empty()) {
      empty_calls++;
      // Everything durable was returned already, or the limit is ahead.
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    CheckBatch(o, out, &expect, limit, [&](uint64_t) { return o.epoch; }, big, !trim_behind && rng() % 8 == 0);
    BOOST_REQUIRE_EQUAL(tail.next_lsn(), expect);
    if (trim_behind && rng() % 16 == 0) {
      BOOST_REQUIRE((*j)->Trim(expect - 1).ok());
      trims++;
      auto first = FirstJournalLsn(o.env, o.dir, o.volume_id);
      BOOST_REQUIRE(first.ok());
      BOOST_REQUIRE_LE(*first, expect);
    }
  }
  writer.Join();
  BOOST_REQUIRE_MESSAGE(writer.error().empty(), writer.error());
  // Nothing more, and a call past the end is harmless.
  std::vector<Record> out;
  BOOST_REQUIRE(tail.ReadUpTo(records + 100, o.epoch, 1 << 20, &out).ok());
  BOOST_CHECK(out.empty());
  BOOST_TEST_MESSAGE("followed " << records << " records in " << calls << " calls (" << empty_calls << " empty, "
                                 << trims << " trims), " << SegmentSeqs(o.dir).size() << " segments");
  // The recovery reader agrees.
  auto first = FirstJournalLsn(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE(first.ok());
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id, *first);
  BOOST_REQUIRE(r.open_status.ok());
  BOOST_REQUIRE_EQUAL(r.records.size(), static_cast<size_t>(records) - (*first - 1));
}

std::vector<Record> ReadAllWithTail(const JournalOptions& o, uint64_t from, uint64_t limit, uint64_t limit_epoch,
                                    size_t max_bytes, Status* last) {
  JournalTail tail(o.env, o.dir, o.volume_id, from);
  std::vector<Record> all;
  // One empty call is not the end: a call lists the directory at most once,
  // so it may stop on an empty segment of a writer that wrote nothing.
  int empty_calls = 0;
  for (int i = 0; i < 100000 && empty_calls < 3; i++) {
    std::vector<Record> out;
    *last = tail.ReadUpTo(limit, limit_epoch, max_bytes, &out);
    all.insert(all.end(), out.begin(), out.end());
    if (!last->ok()) break;
    empty_calls = out.empty() ? empty_calls + 1 : 0;
  }
  return all;
}

// The first LSN of the lowest-seq segment with a valid header (read here
// with the codec: a second opinion for FirstJournalLsn).
uint64_t FirstLsnByHand(const JournalOptions& o) {
  for (uint64_t seq : SegmentSeqs(o.dir)) {
    SegmentHeader h;
    std::string bytes = ReadBytes(SegPath(o.dir, seq));
    if (DecodeSegmentHeader(bytes.substr(0, std::min(bytes.size(), f::kSegmentHeaderSize)), &h).ok() &&
        h.volume_id == o.volume_id && h.seq == seq)
      return h.first_lsn;
  }
  return 0;
}

}  // namespace

// (1) A writer appends while a tail follows it, bounded by durable_lsn():
// every record once, in order, as written.
BOOST_AUTO_TEST_CASE(follows_a_live_writer) {
  uint64_t seed = TestSeed("follows_a_live_writer");
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 3);
  FollowLive(o, seed, 10000, /*big=*/true);
  BOOST_CHECK_EQUAL(SegmentSeqs(o.dir).size(), 1u);
}

// (2) Segment rolls (4 KiB segments: a roll every few batches) are followed.
BOOST_AUTO_TEST_CASE(follows_segment_rolls) {
  uint64_t seed = TestSeed("follows_segment_rolls");
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  o.segment_size_bytes = 4096;
  FollowLive(o, seed, 5000, /*big=*/false);
  BOOST_CHECK_GT(SegmentSeqs(o.dir).size(), 50u);
}

// The writer trims behind the tail while it follows (never past what the
// tail has read): the tail never misses a record.
BOOST_AUTO_TEST_CASE(follows_while_the_writer_trims_behind_it) {
  uint64_t seed = TestSeed("follows_while_the_writer_trims_behind_it");
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  o.segment_size_bytes = 4096;
  FollowLive(o, seed, 5000, /*big=*/false, /*trim_behind=*/true);
  BOOST_CHECK_LT(SegmentSeqs(o.dir).size(), 50u);
}

// Segments of successive writers (restarts with rising epochs, some writing
// nothing) are followed with limit_epoch = the current writer's epoch.
BOOST_AUTO_TEST_CASE(follows_writers_across_restarts) {
  uint64_t seed = TestSeed("follows_writers_across_restarts");
  std::mt19937_64 rng(seed);
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"));
  o.segment_size_bytes = rng() % 2 ? 2048 : (64 << 20);
  BOOST_REQUIRE(Journal::Create(o).ok());
  JournalTail tail(o.env, o.dir, o.volume_id, 1);
  std::map<uint64_t, uint64_t> epoch_of_lsn;
  uint64_t expect = 1;
  for (uint64_t epoch = 1; epoch <= 12; epoch++) {
    o.epoch = epoch;
    auto j = Journal::Open(o);
    BOOST_REQUIRE_MESSAGE(j.ok(), j.status().ToString());
    int batches = epoch % 3 == 2 ? 0 : static_cast<int>(rng() % 6);
    for (int b = 0; b < batches; b++) {
      uint64_t first = (*j)->next_lsn();
      uint64_t last = AppendN(**j, 1 + static_cast<int>(rng() % 30));
      for (uint64_t l = first; l <= last; l++) epoch_of_lsn[l] = epoch;
      // Follow, bounded by what this writer made durable.
      for (int k = 0; k < 4; k++) {
        std::vector<Record> out;
        Status st = tail.ReadUpTo((*j)->durable_lsn(), epoch, 1 + rng() % 5000, &out);
        BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
        CheckBatch(o, out, &expect, (*j)->durable_lsn(), [&](uint64_t l) { return epoch_of_lsn.at(l); }, false,
                   true);
      }
    }
    // Catch up with this writer before the next one starts.
    for (int k = 0; k < 1000 && expect <= (*j)->durable_lsn(); k++) {
      std::vector<Record> out;
      Status st = tail.ReadUpTo((*j)->durable_lsn(), epoch, 1 << 20, &out);
      BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
      CheckBatch(o, out, &expect, (*j)->durable_lsn(), [&](uint64_t l) { return epoch_of_lsn.at(l); }, false, true);
    }
    BOOST_REQUIRE_MESSAGE(expect == (*j)->durable_lsn() + 1,
                          "epoch " << epoch << ": tail at " << expect << ", writer durable " << (*j)->durable_lsn());
    BOOST_REQUIRE((*j)->Close().ok());
  }
  BOOST_TEST_MESSAGE("followed " << expect - 1 << " records over " << SegmentSeqs(o.dir).size() << " segments");
}

// (3) Nothing past the limit is returned; a limit ahead of what is written
// returns what is there; max_bytes bounds a call but always makes progress.
BOOST_AUTO_TEST_CASE(stops_at_the_limit) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 2);
  o.segment_size_bytes = 8192;
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  for (int i = 0; i < 10; i++) AppendN(**j, 10);
  BOOST_REQUIRE_EQUAL((*j)->durable_lsn(), 100u);
  auto epoch2 = [](uint64_t) { return uint64_t{2}; };

  JournalTail tail(o.env, o.dir, o.volume_id, 1);
  uint64_t expect = 1;
  for (uint64_t limit : {0, 1, 1, 37, 37, 36, 50, 64}) {
    const uint64_t want = std::max<uint64_t>(expect, limit + 1);
    std::vector<Record> out;
    BOOST_REQUIRE(tail.ReadUpTo(limit, 2, 1 << 20, &out).ok());
    CheckBatch(o, out, &expect, limit, epoch2, false, true);
    BOOST_REQUIRE_EQUAL(expect, want);
    BOOST_REQUIRE_EQUAL(tail.next_lsn(), expect);
  }
  BOOST_REQUIRE_EQUAL(expect, 65u);
  // max_bytes = 1: one record per call (records of empty payload count 0
  // bytes, so a call may return several of those plus one more).
  for (int calls = 0; expect <= 80; calls++) {
    BOOST_REQUIRE_LT(calls, 100);
    std::vector<Record> out;
    BOOST_REQUIRE(tail.ReadUpTo(80, 2, 1, &out).ok());
    BOOST_REQUIRE(!out.empty());
    size_t nonempty = 0;
    for (const Record& r : out) nonempty += r.payload.empty() ? 0 : 1;
    BOOST_REQUIRE_LE(nonempty, 1u);
    CheckBatch(o, out, &expect, 80, epoch2, false, false);
  }
  BOOST_REQUIRE_EQUAL(expect, 81u);
  // A limit ahead of the writer: what is there, then the rest once written.
  std::vector<Record> out;
  BOOST_REQUIRE(tail.ReadUpTo(1000, 2, 1 << 20, &out).ok());
  CheckBatch(o, out, &expect, 1000, epoch2, false, true);
  BOOST_REQUIRE_EQUAL(expect, 101u);
  out.clear();
  BOOST_REQUIRE(tail.ReadUpTo(1000, 2, 1 << 20, &out).ok());
  BOOST_REQUIRE(out.empty());
  AppendN(**j, 30);
  BOOST_REQUIRE(tail.ReadUpTo(120, 2, 1 << 20, &out).ok());
  CheckBatch(o, out, &expect, 120, epoch2, false, true);
  BOOST_REQUIRE_EQUAL(expect, 121u);
  // A tail started in the middle of a segment.
  Status last;
  std::vector<Record> mid = ReadAllWithTail(o, 57, 130, 2, 1 << 20, &last);
  BOOST_REQUIRE(last.ok());
  expect = 57;
  CheckBatch(o, mid, &expect, 130, epoch2, false, true);
  BOOST_REQUIRE_EQUAL(expect, 131u);
}

// (4) A deposed writer: writer A (epoch 1) keeps appending to its segment
// after writer B (epoch 2) started the next segment at LSN 6. A tail told
// the limit's epoch is 2 leaves A's segment at LSN 6 and never returns A's
// records 6..10.
BOOST_AUTO_TEST_CASE(skips_a_deposed_writers_records) {
  TempDir tmp;
  JournalOptions oa = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  BOOST_REQUIRE(Journal::Create(oa).ok());
  auto a = Journal::Open(oa);
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE_EQUAL(AppendN(**a, 5), 5u);
  // A tail that followed A before B existed.
  JournalTail early(oa.env, oa.dir, oa.volume_id, 1);
  {
    std::vector<Record> out;
    BOOST_REQUIRE(early.ReadUpTo(5, 1, 1 << 20, &out).ok());
    BOOST_REQUIRE_EQUAL(out.size(), 5u);
  }
  JournalOptions ob = oa;
  ob.epoch = 2;
  auto b = Journal::Open(ob);
  BOOST_REQUIRE(b.ok());
  BOOST_REQUIRE_EQUAL((*b)->next_lsn(), 6u);
  // A does not know: its records 6..10 land in its own segment (seq 1).
  {
    std::vector<std::string> p;
    std::vector<RecordIn> in;
    for (int i = 6; i <= 10; i++) p.push_back("deposed " + std::to_string(i));
    for (auto& s : p) in.push_back(RecordIn{9, s});
    auto lsn = (*a)->AppendBatch(in);
    BOOST_REQUIRE_MESSAGE(lsn.ok(), lsn.status().ToString());
    BOOST_REQUIRE_EQUAL(*lsn, 6u);
  }
  BOOST_REQUIRE_EQUAL(AppendN(**b, 7), 12u);
  BOOST_REQUIRE(SegmentSeqs(oa.dir) == (std::vector<uint64_t>{1, 2}));
  auto epoch_of = [](uint64_t l) { return l <= 5 ? uint64_t{1} : uint64_t{2}; };

  {  // the early tail, now told of epoch 2
    std::vector<Record> out;
    BOOST_REQUIRE(early.ReadUpTo(12, 2, 1 << 20, &out).ok());
    uint64_t expect = 6;
    CheckBatch(oa, out, &expect, 12, epoch_of, false, true);
    BOOST_REQUIRE_EQUAL(expect, 13u);
    for (const Record& r : out) BOOST_CHECK_EQUAL(r.segment_seq, 2u);
  }
  // Fresh tails from several places, with big and tiny max_bytes.
  for (uint64_t from : {1, 2, 5, 6, 7, 12}) {
    for (size_t max_bytes : {size_t{1}, size_t{100}, size_t{1} << 20}) {
      Status last;
      std::vector<Record> all = ReadAllWithTail(oa, from, 12, 2, max_bytes, &last);
      BOOST_REQUIRE_MESSAGE(last.ok(), "from " << from << ": " << last.ToString());
      uint64_t expect = from;
      CheckBatch(oa, all, &expect, 12, epoch_of, false, true);
      BOOST_REQUIRE_MESSAGE(expect == 13, "from " << from << " max_bytes " << max_bytes << ": tail stopped at "
                                                  << expect);
      for (const Record& r : all) BOOST_CHECK(r.payload.find("deposed") == std::string::npos);
    }
  }
  // A limit inside A's first records: A's segment is still the right one.
  {
    Status last;
    std::vector<Record> all = ReadAllWithTail(oa, 1, 4, 2, 1 << 20, &last);
    BOOST_REQUIRE(last.ok());
    BOOST_REQUIRE_EQUAL(all.size(), 4u);
  }
  // The recovery reader is the second opinion.
  ReadResult r = ReadAll(oa.env, oa.dir, oa.volume_id);
  BOOST_REQUIRE(r.open_status.ok());
  BOOST_REQUIRE_EQUAL(r.records.size(), 12u);
  {
    Status last;
    std::vector<Record> all = ReadAllWithTail(oa, 1, 12, 2, 1 << 20, &last);
    BOOST_REQUIRE_EQUAL(all.size(), 12u);
    for (size_t i = 0; i < all.size(); i++) {
      BOOST_CHECK_EQUAL(all[i].lsn, r.records[i].lsn);
      BOOST_CHECK_EQUAL(all[i].epoch, r.records[i].epoch);
      BOOST_CHECK(all[i].payload == r.records[i].payload);
    }
  }
  // A tail that was told A's epoch was the newest followed A's records; once
  // it learns of epoch 2 it cannot continue (journal_tail.cc reports this as
  // corruption naming the deposed writer) and must not return B's records
  // as if they continued A's.
  {
    JournalTail misled(oa.env, oa.dir, oa.volume_id, 1);
    std::vector<Record> out;
    BOOST_REQUIRE(misled.ReadUpTo(10, 1, 1 << 20, &out).ok());
    BOOST_REQUIRE_EQUAL(out.size(), 10u);
    BOOST_CHECK_EQUAL(out.back().payload, "deposed 10");
    out.clear();
    Status st = misled.ReadUpTo(12, 2, 1 << 20, &out);
    BOOST_CHECK_MESSAGE(st.IsCorruption(), st.ToString());
    BOOST_CHECK(out.empty());
  }
}

// The deposed writer's records built with the codec: segment 1 (epoch 4)
// holds LSNs 1..9, segment 2 (epoch 5) starts at 4; the tail returns
// 1..3 from segment 1 and 4.. from segment 2.
BOOST_AUTO_TEST_CASE(skips_crafted_deposed_records) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 4);
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto segment = [&](uint64_t seq, uint64_t epoch, uint64_t first, uint64_t last, const std::string& tag) {
    std::string s = EncodeSegmentHeader(SegmentHeader{o.volume_id, seq, epoch, first});
    for (uint64_t l = first; l <= last; l++) {
      std::string p = tag + std::to_string(l);
      RecordHeader h{1, 0, static_cast<uint32_t>(p.size()), l, epoch, o.volume_id, 0};
      EncodeRecord(h, p, f::RecordSeed(o.volume_id.bytes, seq), &s);
    }
    WriteBytes(SegPath(o.dir, seq), s);
  };
  segment(1, 4, 1, 9, "old");
  segment(2, 5, 4, 6, "new");
  for (uint64_t from : {1, 3, 4, 5}) {
    Status last;
    std::vector<Record> all = ReadAllWithTail(o, from, 6, 5, 1 << 20, &last);
    BOOST_REQUIRE_MESSAGE(last.ok(), last.ToString());
    BOOST_REQUIRE_EQUAL(all.size(), 6 - from + 1);
    for (const Record& r : all) {
      BOOST_CHECK_EQUAL(r.payload, (r.lsn <= 3 ? "old" : "new") + std::to_string(r.lsn));
      BOOST_CHECK_EQUAL(r.epoch, r.lsn <= 3 ? 4u : 5u);
    }
  }
}

// (5) A tail starting at a trimmed LSN gets kNotFound; from the first LSN
// present it reads everything.
BOOST_AUTO_TEST_CASE(trimmed_start_is_not_found) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  o.segment_size_bytes = 4096;
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  for (int i = 0; i < 40; i++) AppendN(**j, 10);
  BOOST_REQUIRE_EQUAL((*j)->durable_lsn(), 400u);
  BOOST_REQUIRE((*j)->Trim(200).ok());
  auto first = FirstJournalLsn(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE(first.ok());
  BOOST_REQUIRE_GT(*first, 1u);
  BOOST_REQUIRE_LE(*first, 201u);
  for (uint64_t from : {uint64_t{1}, uint64_t{2}, *first - 1}) {
    JournalTail t(o.env, o.dir, o.volume_id, from);
    std::vector<Record> out;
    Status st = t.ReadUpTo(400, 1, 1 << 20, &out);
    BOOST_CHECK_MESSAGE(st.IsNotFound(), "from " << from << ": " << st.ToString());
    BOOST_CHECK(out.empty());
    BOOST_CHECK_EQUAL(t.next_lsn(), from);
  }
  Status last;
  std::vector<Record> all = ReadAllWithTail(o, *first, 400, 1, 1 << 20, &last);
  BOOST_REQUIRE(last.ok());
  uint64_t expect = *first;
  CheckBatch(o, all, &expect, 400, [](uint64_t) { return uint64_t{1}; }, false, true);
  BOOST_CHECK_EQUAL(expect, 401u);
}

// A tail that is reading a segment when the writer trims past it: it reads
// on in the segment it has open, and when the segments after it are gone
// too it must say so (kNotFound: its next LSN was trimmed; the standby
// re-seeds on it, mds/standby.cc), not wait forever.
BOOST_AUTO_TEST_CASE(trimmed_under_an_open_tail_is_not_found) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  o.segment_size_bytes = 4096;
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  for (int i = 0; i < 40; i++) AppendN(**j, 10);
  JournalTail t(o.env, o.dir, o.volume_id, 1);
  uint64_t expect = 1;
  {
    std::vector<Record> out;
    BOOST_REQUIRE(t.ReadUpTo(3, 1, 1 << 20, &out).ok());
    CheckBatch(o, out, &expect, 3, [](uint64_t) { return uint64_t{1}; }, false, false);
  }
  BOOST_REQUIRE((*j)->Trim(300).ok());
  auto first = FirstJournalLsn(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE(first.ok());
  BOOST_TEST_MESSAGE("journal now starts at lsn " << *first);
  Status st;
  for (int calls = 0; calls < 50; calls++) {
    std::vector<Record> out;
    st = t.ReadUpTo(400, 1, 1 << 20, &out);
    if (!st.ok()) break;
    CheckBatch(o, out, &expect, 400, [](uint64_t) { return uint64_t{1}; }, false, false);
    if (expect > 400) break;
  }
  BOOST_CHECK_MESSAGE(st.IsNotFound(), "after 50 calls the tail is at lsn " << expect << " (the journal starts at "
                                                                             << *first << "), status "
                                                                             << st.ToString());
}

// A record at or below the limit that fails its check, with no later segment
// continuing the log, is corruption (journal_tail.h, ReadUpTo).
BOOST_AUTO_TEST_CASE(bad_record_below_the_limit_is_corruption) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  BOOST_REQUIRE(Journal::Create(o).ok());
  {
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    AppendN(**j, 20);
    BOOST_REQUIRE((*j)->Close().ok());
  }
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE_EQUAL(r.records.size(), 20u);
  const uint64_t offset_of_10 = r.records[9].offset;
  std::string seg = ReadBytes(SegPath(o.dir, r.records[9].segment_seq));
  seg[offset_of_10 + f::kRecordHeaderSize - 1] ^= 0x40;  // the checksum of lsn 10
  WriteBytes(SegPath(o.dir, r.records[9].segment_seq), seg);
  JournalTail t(o.env, o.dir, o.volume_id, 1);
  std::vector<Record> all;
  Status st;
  for (int calls = 0; calls < 10 && st.ok(); calls++) {
    std::vector<Record> out;
    st = t.ReadUpTo(20, 1, 1 << 20, &out);
    all.insert(all.end(), out.begin(), out.end());
  }
  BOOST_CHECK_EQUAL(all.size(), 9u);
  BOOST_CHECK_MESSAGE(st.IsCorruption(), "after 10 calls: " << st.ToString() << ", tail at lsn " << t.next_lsn());
}

// Zeros where a record at or below the limit should be (the writer's zeroed
// space, journal_format.h) are "not written yet" for a while, as the end of
// the file is; after 5 s at the same place they are corruption, not an
// endless wait.
BOOST_AUTO_TEST_CASE(zeros_below_the_limit_wait_then_are_corruption) {
  class Clock : public EnvWrapper {
   public:
    Clock() : EnvWrapper(Env::Default()) {}
    uint64_t NowMonotonicNanos() override { return now_ns; }
    uint64_t now_ns = 1'000'000'000;
  } clock;
  TempDir tmp;
  JournalOptions o = MakeOptions(&clock, tmp.Sub("journal"), 1);
  BOOST_REQUIRE(Journal::Create(o).ok());
  {
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    AppendN(**j, 5);
    BOOST_REQUIRE((*j)->Close().ok());
  }
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE_EQUAL(r.records.size(), 5u);
  const std::string path = SegPath(o.dir, r.records[4].segment_seq);
  WriteBytes(path, ReadBytes(path) + std::string(8192, '\0'));
  JournalTail t(&clock, o.dir, o.volume_id, 1);
  std::vector<Record> out;
  BOOST_REQUIRE(t.ReadUpTo(7, 1, 1 << 20, &out).ok());  // LSNs 6 and 7 "published", zeros on disk
  BOOST_CHECK_EQUAL(out.size(), 5u);
  clock.now_ns += 4'000'000'000;
  BOOST_CHECK(t.ReadUpTo(7, 1, 1 << 20, &out).ok());  // still within the grace
  // The writer's record arrives: read on.
  {
    auto j = Journal::Open(o);  // a new segment; LSN 6 there
    BOOST_REQUIRE(j.ok());
    AppendN(**j, 1);
    BOOST_REQUIRE((*j)->Close().ok());
  }
  clock.now_ns += 2'000'000'000;
  out.clear();
  BOOST_CHECK(t.ReadUpTo(6, 1, 1 << 20, &out).ok());
  BOOST_CHECK_EQUAL(out.size(), 1u);
  // Zeros at LSN 7, published durable, for longer than the grace: corruption.
  const uint64_t seq7 = SegmentSeqs(o.dir).back();
  const std::string p7 = SegPath(o.dir, seq7);
  WriteBytes(p7, ReadBytes(p7) + std::string(8192, '\0'));
  BOOST_CHECK(t.ReadUpTo(7, 1, 1 << 20, &out).ok());
  clock.now_ns += 5'000'000'001;
  Status st = t.ReadUpTo(7, 1, 1 << 20, &out);
  BOOST_CHECK_MESSAGE(st.IsCorruption(), st.ToString());
  BOOST_CHECK_MESSAGE(st.ToString().find("zeros") != std::string::npos, st.ToString());
}

// A damaged length field in a record before the tail's start LSN (the
// records it skips to reach its place) is bad bytes from disk: it may stop
// the tail, but must not make it read (and allocate) what the length claims.
// 256 MiB here (the field allows 4 GiB; kMaxPayloadBytes is 8 MiB).
BOOST_AUTO_TEST_CASE(damaged_length_before_the_start_is_not_read) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  BOOST_REQUIRE(Journal::Create(o).ok());
  {
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    AppendN(**j, 20);
    BOOST_REQUIRE((*j)->Close().ok());
  }
  ReadResult r = ReadAll(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE_EQUAL(r.records.size(), 20u);
  std::string seg = ReadBytes(SegPath(o.dir, 1));
  StoreU32(seg.data() + r.records[1].offset + f::kRecLengthOffset, 256u << 20);  // lsn 2
  WriteBytes(SegPath(o.dir, 1), seg);
  // In a child whose address space may grow by 64 MiB at most: a read of
  // what the damaged length claims fails there (exit 2).
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) + (64u << 20);
    if (::setrlimit(RLIMIT_AS, &lim) != 0) std::_Exit(3);
    try {
      JournalTail t(o.env, o.dir, o.volume_id, 5);
      std::vector<Record> out;
      Status st = t.ReadUpTo(20, 1, 1 << 20, &out);
      for (const Record& rec : out) {
        if (rec.lsn < 5) std::_Exit(4);
      }
      std::_Exit(0);
    } catch (const std::bad_alloc&) {
      std::_Exit(2);
    }
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status), "the child died of signal " << WTERMSIG(status));
  BOOST_CHECK_MESSAGE(WEXITSTATUS(status) != 2, "the tail tried to allocate what a damaged length field claims");
  BOOST_CHECK_EQUAL(WEXITSTATUS(status), 0);
}

// (6) FirstJournalLsn: 0 with no segment, 1 for a new journal, the oldest
// remaining segment's first LSN after Trim; foreign and damaged segment
// files are not counted.
BOOST_AUTO_TEST_CASE(first_journal_lsn) {
  TempDir tmp;
  JournalOptions o = MakeOptions(Env::Default(), tmp.Sub("journal"), 1);
  o.segment_size_bytes = 4096;
  BOOST_REQUIRE(Journal::Create(o).ok());
  auto first = FirstJournalLsn(o.env, o.dir, o.volume_id);
  BOOST_REQUIRE(first.ok());
  BOOST_CHECK_EQUAL(*first, 0u);
  BOOST_CHECK(!FirstJournalLsn(o.env, tmp.Sub("missing"), o.volume_id).ok());
  auto j = Journal::Open(o);
  BOOST_REQUIRE(j.ok());
  BOOST_CHECK_EQUAL(*FirstJournalLsn(o.env, o.dir, o.volume_id), 1u);
  for (int i = 0; i < 30; i++) AppendN(**j, 10);
  BOOST_REQUIRE_GT(SegmentSeqs(o.dir).size(), 5u);
  BOOST_CHECK_EQUAL(*FirstJournalLsn(o.env, o.dir, o.volume_id), 1u);
  uint64_t prev = 1;
  for (uint64_t trim : {uint64_t{0}, uint64_t{5}, uint64_t{60}, uint64_t{61}, uint64_t{150}, uint64_t{299},
                        uint64_t{300}}) {
    BOOST_REQUIRE((*j)->Trim(trim).ok());
    first = FirstJournalLsn(o.env, o.dir, o.volume_id);
    BOOST_REQUIRE(first.ok());
    BOOST_CHECK_EQUAL(*first, FirstLsnByHand(o));
    BOOST_CHECK_LE(*first, trim + 1);  // nothing not yet trimmable is gone
    BOOST_CHECK_GE(*first, prev);
    prev = *first;
  }
  BOOST_CHECK_GT(prev, 250u);
  // A segment of another volume, and one with a damaged header, at lower seqs.
  std::string good = ReadBytes(SegPath(o.dir, SegmentSeqs(o.dir).front()));
  JournalOptions other = MakeOptions(Env::Default(), tmp.Sub("other"), 1, /*vol_tag=*/9);
  BOOST_REQUIRE(Journal::Create(other).ok());
  { auto oj = Journal::Open(other); BOOST_REQUIRE(oj.ok()); }
  std::string foreign = ReadBytes(SegPath(other.dir, 1));
  BOOST_REQUIRE_GT(SegmentSeqs(o.dir).front(), 1u);
  WriteBytes(SegPath(o.dir, 1), foreign);  // its header says seq 1, of volume 9
  std::string damaged = EncodeSegmentHeader(SegmentHeader{o.volume_id, 0, 1, 1});
  damaged[50] ^= 1;  // first_lsn: the header checksum fails
  WriteBytes(SegPath(o.dir, 0), damaged);
  BOOST_CHECK_EQUAL(*FirstJournalLsn(o.env, o.dir, o.volume_id), prev);
  // And the tail does not take them for the journal either.
  Status last;
  std::vector<Record> all = ReadAllWithTail(o, prev, 300, 1, 1 << 20, &last);
  BOOST_CHECK(last.ok());
  BOOST_CHECK_EQUAL(all.size(), 300 - prev + 1);
}
