// Fail-stop: when a journal write or fdatasync fails, the MDS exits at once
// and answers nothing (STYLE.md: never retry an fsync and carry on). The
// sequencer runs in a forked child over a FaultInjectionEnv that fails the
// next sync or write; the parent checks the exit status and that no reply
// reached the client side, then that the volume recovers.
#define BOOST_TEST_MODULE fail_stop_test
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "base/fault_env.h"
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

fs::StoreOptions StoreOpts(const volume::Volume& v) { return v.store_options(); }

// In the child: a sequencer whose journal's next write or sync fails. Writes
// "replied" to `fd` if a reply is ever delivered. Never returns.
[[noreturn]] void ChildRun(const std::string& vol_path, bool fail_sync, int fd) {
  auto vol = volume::Volume::Open(Env::Default(), vol_path);
  if (!vol.ok()) std::_Exit(10);
  auto store = fs::MetaStore::Open((*vol)->meta_dir(), StoreOpts(**vol));
  if (!store.ok()) std::_Exit(11);
  FaultInjectionEnv fenv(Env::Default());
  journal::JournalOptions jo = (*vol)->journal_options();
  jo.env = &fenv;
  jo.epoch = (*vol)->superblock().epoch + 1;
  auto journal = journal::Journal::Open(jo);
  if (!journal.ok()) std::_Exit(12);
  mds::OpenTable opens;
  mds::SequencerOptions so;
  so.volume_path = vol_path;
  so.min_free_bytes = 0;
  so.min_free_percent = 0;
  mds::Sequencer seq(&fenv, store->get(), journal->get(), &opens, so);
  if (!seq.Start().ok()) std::_Exit(13);
  const Status err = fail_sync ? Status::IOError("injected fdatasync failure", EIO)
                               : Status::NoSpace("injected write failure: no space");
  if (fail_sync) fenv.FailNextSync(err);
  else fenv.FailNextWrite(err);
  mds::Submission s;
  s.session_id = 7;
  s.request_id = 1;
  s.oldest_unreplied = 1;
  s.req = MkdirReq(fs::kRootIno, "never-acknowledged");
  s.reply = [fd](const fs::Reply&) {
    ssize_t n = ::write(fd, "replied", 7);
    (void)n;
  };
  seq.Submit(std::move(s));
  std::this_thread::sleep_for(std::chrono::seconds(10));
  std::_Exit(0);  // still alive: the fault did not stop the MDS
}

void ExpectFailStop(bool fail_sync) {
  TempDir dir;
  const std::string vol = MakeVolume(dir);
  int p[2];
  BOOST_REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    ChildRun(vol, fail_sync, p[1]);
  }
  ::close(p[1]);
  int st = 0;
  BOOST_REQUIRE(::waitpid(pid, &st, 0) == pid);
  char buf[16];
  ssize_t n = ::read(p[0], buf, sizeof buf);
  ::close(p[0]);
  BOOST_TEST(WIFEXITED(st));
  BOOST_TEST(WEXITSTATUS(st) == 1, "the MDS sequencer must exit 1 on a failed journal " << (fail_sync ? "sync" : "write"));
  BOOST_TEST(n == 0, "a reply was delivered after the journal failed");
  // The volume recovers: replay works and the store opens clean.
  auto v = volume::Volume::Open(Env::Default(), vol);
  BOOST_REQUIRE(v.ok());
  auto store = fs::MetaStore::Open((*v)->meta_dir(), StoreOpts(**v));
  BOOST_REQUIRE(store.ok());
  Status rs = mds::ReplayJournal(**v, **store);
  BOOST_TEST(rs.ok(), rs.ToString());
}

}  // namespace

BOOST_AUTO_TEST_CASE(failed_journal_sync_stops_the_mds_without_replying) { ExpectFailStop(true); }
BOOST_AUTO_TEST_CASE(failed_journal_write_stops_the_mds_without_replying) { ExpectFailStop(false); }
