// Restart replay (mds/replay.h): the read-ahead thread changes nothing but
// speed. Over the same journal, kThread and kInline leave the same store;
// a bad record in the middle of the log stops both with the same error,
// after the same batches (those before the bad record's batch) committed.
#define BOOST_TEST_MODULE replay_test
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "fs/meta_store.h"
#include "fs/ops.h"
#include "fs/store_contents.h"
#include "journal/journal.h"
#include "journal/journal_format.h"
#include "mds/replay.h"
#include "tests/mds/mds_test_util.h"
#include "volume/volume.h"

using namespace baton;
using namespace baton::testing;

namespace {

// More than one replay batch, so the reading thread runs ahead.
constexpr uint64_t kRecords = mds::kReplayBatchRecords + 7000;
constexpr uint64_t kBadLsn = mds::kReplayBatchRecords + 2000;  // in the second batch, not in the final group

fs::OpRecord MakeRecord(uint64_t i) {
  fs::OpRecord r;
  r.stamp.session_id = 1;
  r.stamp.request_id = r.stamp.oldest_unreplied = i + 1;
  r.stamp.time_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(i);
  r.stamp.new_ino = 2 + i;
  uint64_t dir_record = i - i % 500;
  r.req.op = i == dir_record ? fs::Op::kMkdir : fs::Op::kMknod;
  r.req.parent = i == dir_record ? fs::kRootIno : 2 + dir_record;
  r.req.name = (i == dir_record ? "d" : "f") + std::to_string(i);
  r.req.mode = i == dir_record ? (S_IFDIR | 0755) : (S_IFREG | 0644);
  return r;
}

// A volume whose journal holds kRecords never-applied records.
std::string MakeJournaledVolume(const TempDir& dir) {
  std::string path = MakeVolume(dir);
  auto vol = std::move(volume::Volume::Open(Env::Default(), path)).value();
  uint64_t epoch = vol->superblock().epoch + 1;
  BOOST_REQUIRE(vol->SetEpoch(epoch).ok());
  journal::JournalOptions jo = vol->journal_options();
  jo.epoch = epoch;
  auto jnl = std::move(journal::Journal::Open(jo)).value();
  for (uint64_t i = 0; i < kRecords; i += 1000) {
    std::vector<std::string> payloads;
    for (uint64_t j = i; j < std::min(kRecords, i + 1000); j++) payloads.push_back(fs::EncodeOpRecord(MakeRecord(j)));
    std::vector<journal::RecordIn> batch;
    for (const std::string& p : payloads) batch.push_back({fs::kJournalTypeOp, p});
    BOOST_REQUIRE(jnl->AppendBatch(batch).ok());
  }
  BOOST_REQUIRE(jnl->Close().ok());
  return path;
}

std::string CopyVolume(const std::string& from, const TempDir& dir, const std::string& name) {
  std::string to = dir.path() + "/" + name;
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  return to;
}

struct Outcome {
  Status status;
  uint64_t applied_lsn = 0;
  uint64_t digest = 0;
};

Outcome Replay(const std::string& path, mds::ReadAhead mode) {
  auto vol = std::move(volume::Volume::Open(Env::Default(), path)).value();
  auto store = std::move(fs::MetaStore::Open(vol->meta_dir(), vol->store_options())).value();
  Outcome o;
  o.status = mds::ReplayJournal(*vol, *store, {mode, nullptr});
  o.applied_lsn = store->ReadState().value().applied_lsn;
  o.digest = fs::DigestStoreContents(*store).value();
  return o;
}

// Flips one payload byte of the record with LSN lsn.
void DamageRecord(const std::string& path, uint64_t lsn) {
  auto vol = std::move(volume::Volume::Open(Env::Default(), path)).value();
  auto reader = std::move(journal::JournalReader::Open(Env::Default(), vol->journal_dir(),
                                                       vol->superblock().volume_id, lsn))
                    .value();
  journal::Record rec;
  BOOST_REQUIRE(reader->Next(&rec).ok());
  BOOST_REQUIRE(rec.lsn == lsn);
  std::string seg = vol->journal_dir() + "/" + journal::format::SegmentFileName(rec.segment_seq);
  auto file = std::move(Env::Default()->OpenFile(seg, OpenOptions{})).value();
  const uint64_t at = rec.offset + journal::format::kRecordHeaderSize + 3;
  std::string byte;
  BOOST_REQUIRE(file->PRead(at, 1, &byte).ok());
  byte[0] = static_cast<char>(byte[0] ^ 0x20);
  BOOST_REQUIRE(file->PWrite(at, byte).ok());
  BOOST_REQUIRE(file->Close().ok());
}

}  // namespace

BOOST_AUTO_TEST_CASE(read_ahead_and_inline_replay_leave_the_same_store) {
  TempDir dir;
  std::string a = MakeJournaledVolume(dir);
  std::string b = CopyVolume(a, dir, "copy");
  Outcome threaded = Replay(a, mds::ReadAhead::kThread);
  Outcome inline_ = Replay(b, mds::ReadAhead::kInline);
  BOOST_REQUIRE_MESSAGE(threaded.status.ok(), threaded.status.ToString());
  BOOST_REQUIRE_MESSAGE(inline_.status.ok(), inline_.status.ToString());
  BOOST_TEST(threaded.applied_lsn == kRecords);
  BOOST_TEST(inline_.applied_lsn == kRecords);
  BOOST_TEST(threaded.digest == inline_.digest);
  // A second replay finds nothing left to do.
  Outcome again = Replay(a, mds::ReadAhead::kThread);
  BOOST_TEST(again.status.ok());
  BOOST_TEST(again.digest == threaded.digest);
}

BOOST_AUTO_TEST_CASE(a_bad_record_mid_log_stops_both_after_the_same_batches) {
  TempDir dir;
  std::string a = MakeJournaledVolume(dir);
  DamageRecord(a, kBadLsn);
  std::string b = CopyVolume(a, dir, "copy");
  Outcome threaded = Replay(a, mds::ReadAhead::kThread);
  Outcome inline_ = Replay(b, mds::ReadAhead::kInline);
  for (const Outcome* o : {&threaded, &inline_}) {
    BOOST_TEST(o->status.IsCorruption(), o->status.ToString());
    BOOST_TEST(o->status.ToString().find("expected LSN " + std::to_string(kBadLsn)) != std::string::npos,
               o->status.ToString());
    BOOST_TEST(o->applied_lsn == mds::kReplayBatchRecords);  // the first batch, not the bad one's
  }
  BOOST_TEST(threaded.digest == inline_.digest);
}
