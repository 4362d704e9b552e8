// The sequencer's deferred store commit (mds/sequencer.h): a batch is
// answered once its journal record is durable and it is applied to the
// store's open write transaction; the transaction commits later. These tests
// show that the reply really comes before the commit (a read transaction of
// its own does not see it yet), that everything that must see a replied
// mutation does (queries, the exactly-once table), when the commit happens
// (by records, by time, at stop), and that a crash before the commit loses
// nothing the journal holds.
#define BOOST_TEST_MODULE deferred_commit_test
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "fs/apply.h"
#include "fs/meta_store.h"
#include "journal/journal.h"
#include "mds/open_table.h"
#include "mds/replay.h"
#include "mds/sequencer.h"
#include "tests/mds/mds_test_util.h"
#include "volume/volume.h"

using namespace baton;
using namespace baton::testing;

namespace {

constexpr uint64_t kSession = 7;

// One volume, its store and journal, and a sequencer over them.
struct Rig {
  TempDir dir;
  std::string vol_path = MakeVolume(dir);
  std::unique_ptr<volume::Volume> vol;
  std::unique_ptr<fs::MetaStore> store;
  std::unique_ptr<journal::Journal> jnl;
  mds::OpenTable opens;
  std::unique_ptr<mds::Sequencer> seq;

  explicit Rig(const mds::SequencerOptions& base) {
    vol = std::move(volume::Volume::Open(Env::Default(), vol_path)).value();
    store = std::move(fs::MetaStore::Open(vol->meta_dir(), vol->store_options())).value();
    journal::JournalOptions jo = vol->journal_options();
    jo.epoch = vol->superblock().epoch + 1;
    jnl = std::move(journal::Journal::Open(jo)).value();
    mds::SequencerOptions so = base;
    so.volume_path = vol_path;
    so.min_free_bytes = 0;
    so.min_free_percent = 0;
    seq = std::make_unique<mds::Sequencer>(Env::Default(), store.get(), jnl.get(), &opens, so);
    BOOST_REQUIRE(seq->Start().ok());
  }

  fs::Reply Call(uint64_t request_id, const fs::Request& req) {
    StatusOr<fs::Reply> rep = seq->Call(kSession, request_id, req, std::chrono::seconds(30));
    BOOST_REQUIRE_MESSAGE(rep.ok(), rep.status().ToString());
    return *rep;
  }

  // What a read transaction of its own sees: the committed store.
  int CommittedLookup(const std::string& name) { return fs::Query(*store, LookupReq(fs::kRootIno, name)).err; }
  uint64_t CommittedLsn() { return store->ReadState().value().applied_lsn; }
};

mds::SequencerOptions NeverByTime() {
  mds::SequencerOptions so;
  so.store_commit_interval_ms = 3600 * 1000;
  return so;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_reply_precedes_the_commit_and_every_reader_that_must_sees_it) {
  Rig r(NeverByTime());
  const uint64_t lsn0 = r.CommittedLsn();
  fs::Reply made = r.Call(1, MkdirReq(fs::kRootIno, "a"));
  BOOST_REQUIRE(made.err == 0);
  // Replied, durable in the journal, not committed to the store.
  BOOST_TEST(r.jnl->durable_lsn() > lsn0);
  BOOST_TEST(r.CommittedLookup("a") == ENOENT);
  BOOST_TEST(r.CommittedLsn() == lsn0);
  // Queries through the sequencer see it, with the attributes of the reply.
  fs::Reply seen = r.seq->Query(LookupReq(fs::kRootIno, "a"));
  BOOST_TEST(seen.err == 0);
  BOOST_TEST(seen.attr.ino == made.attr.ino);
  // Mutations build on it (they apply into the same transaction).
  BOOST_TEST(r.Call(2, MkdirReq(made.attr.ino, "b")).err == 0);
  BOOST_TEST(r.seq->Query(LookupReq(made.attr.ino, "b")).err == 0);
  // A resend of request 1 is answered from the exactly-once table as it is
  // in the open transaction: the first answer, nothing made twice.
  fs::Reply again = r.Call(1, MkdirReq(fs::kRootIno, "a"));
  BOOST_TEST(again.err == 0);
  BOOST_TEST(again.attr.ino == made.attr.ino);
  BOOST_TEST(r.CommittedLookup("a") == ENOENT);
  // Stop commits.
  r.seq->Stop();
  BOOST_TEST(r.CommittedLookup("a") == 0);
  BOOST_TEST(r.CommittedLsn() == r.jnl->durable_lsn());
}

BOOST_AUTO_TEST_CASE(the_open_transaction_commits_before_it_outgrows_its_record_bound) {
  mds::SequencerOptions so = NeverByTime();
  so.store_commit_records = 3;
  Rig r(so);
  for (int i = 0; i < 3; i++) BOOST_REQUIRE(r.Call(1 + i, MkdirReq(fs::kRootIno, "d" + std::to_string(i))).err == 0);
  BOOST_TEST(r.CommittedLookup("d0") == ENOENT);  // three records: still open
  BOOST_REQUIRE(r.Call(4, MkdirReq(fs::kRootIno, "d3")).err == 0);
  // The fourth would have made four: the three were committed first.
  BOOST_TEST(r.CommittedLookup("d2") == 0);
  BOOST_TEST(r.CommittedLookup("d3") == ENOENT);
  BOOST_TEST(r.seq->Query(LookupReq(fs::kRootIno, "d3")).err == 0);
}

BOOST_AUTO_TEST_CASE(an_idle_open_transaction_commits_after_the_interval) {
  mds::SequencerOptions so;
  so.store_commit_interval_ms = 1000;
  Rig r(so);
  BOOST_REQUIRE(r.Call(1, MkdirReq(fs::kRootIno, "a")).err == 0);
  BOOST_TEST(r.CommittedLookup("a") == ENOENT);  // not at once: it waits for the interval
  // No further request arrives: the interval alone must commit it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (r.CommittedLookup("a") != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(r.CommittedLookup("a") == 0);
}

BOOST_AUTO_TEST_CASE(committing_every_batch_commits_before_the_reply) {
  mds::SequencerOptions so;
  so.store_commit_interval_ms = 0;
  Rig r(so);
  BOOST_REQUIRE(r.Call(1, MkdirReq(fs::kRootIno, "a")).err == 0);
  BOOST_TEST(r.CommittedLookup("a") == 0);
}

// A process that dies with replied batches in its open transaction (kill -9
// before the commit): the store lacks them, replay brings them all back.
BOOST_AUTO_TEST_CASE(a_crash_before_the_commit_loses_nothing_replied) {
  TempDir holder;
  std::string vol_path;
  int p[2];
  BOOST_REQUIRE(::pipe(p) == 0);
  {
    // The child makes the volume and dies; the parent checks it afterwards.
    vol_path = MakeVolume(holder);
  }
  constexpr int kDirs = 50;
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    auto vol = volume::Volume::Open(Env::Default(), vol_path);
    auto store = vol.ok() ? fs::MetaStore::Open((*vol)->meta_dir(), (*vol)->store_options())
                          : StatusOr<std::unique_ptr<fs::MetaStore>>(vol.status());
    if (!store.ok()) std::_Exit(10);
    journal::JournalOptions jo = (*vol)->journal_options();
    jo.epoch = (*vol)->superblock().epoch + 1;
    auto jnl = journal::Journal::Open(jo);
    if (!jnl.ok()) std::_Exit(11);
    mds::OpenTable opens;
    mds::SequencerOptions so = NeverByTime();
    so.volume_path = vol_path;
    so.min_free_bytes = 0;
    so.min_free_percent = 0;
    mds::Sequencer seq(Env::Default(), store->get(), jnl->get(), &opens, so);
    if (!seq.Start().ok()) std::_Exit(12);
    for (int i = 0; i < kDirs; i++) {
      StatusOr<fs::Reply> rep = seq.Call(kSession, 1 + i, MkdirReq(fs::kRootIno, "d" + std::to_string(i)),
                                         std::chrono::seconds(30));
      if (!rep.ok() || rep->err != 0) std::_Exit(13);
      ssize_t n = ::write(p[1], "r", 1);  // replied
      (void)n;
    }
    ::kill(::getpid(), SIGKILL);  // no stop, no commit
    std::_Exit(14);
  }
  ::close(p[1]);
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  char buf[kDirs + 1];
  ssize_t n = ::read(p[0], buf, sizeof buf);
  ::close(p[0]);
  BOOST_REQUIRE(WIFSIGNALED(status));
  BOOST_REQUIRE(n == kDirs);

  auto vol = std::move(volume::Volume::Open(Env::Default(), vol_path)).value();
  auto store = std::move(fs::MetaStore::Open(vol->meta_dir(), vol->store_options())).value();
  BOOST_TEST(fs::Query(*store, LookupReq(fs::kRootIno, "d0")).err == ENOENT);  // never committed
  Status rs = mds::ReplayJournal(*vol, *store);
  BOOST_REQUIRE_MESSAGE(rs.ok(), rs.ToString());
  for (int i = 0; i < kDirs; i++) {
    BOOST_TEST(fs::Query(*store, LookupReq(fs::kRootIno, "d" + std::to_string(i))).err == 0, "d" << i);
  }
}
