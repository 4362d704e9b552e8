// Regression tests for the code review's MDS findings: the free-space
// reserve (1), open/release order and reclaim (2), orphans during the grace
// period (3), a re-HELLO superseding the old connection (4), a client that
// stops reading (6), a standby building on a stale superblock (9), a journal
// that does not continue the store (10). The MDS runs as a child process.
#define BOOST_TEST_MODULE mds_review_test
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "tests/mds/client_checks.h"
#include "tests/mds/mds_test_util.h"

using namespace baton;
using namespace baton::testing;
using baton::client::Client;

namespace {

std::unique_ptr<Client> NewClient(const std::string& addr, int64_t call_timeout_ms = -1) {
  return ConnectOrFail(addr, call_timeout_ms);
}

fs::Request UnlinkReq(fs::Ino parent, const std::string& name) {
  fs::Request r = MkReq(fs::Op::kUnlink);
  r.parent = parent;
  r.name = name;
  return r;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

// Finding 1: below the reserve, ops that consume space get ENOSPC and are not
// journaled; everything else is served, and the MDS stays up.
BOOST_AUTO_TEST_CASE(space_reserve_answers_enospc) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  fs::Ino ino;
  {
    MdsProcess mds(vol, FreeLocalAddress());
    BOOST_REQUIRE(mds.Start());
    auto c = NewClient(mds.address());
    ino = MustCall(*c, CreateReq(fs::kRootIno, "f")).attr.ino;
    mds.Kill9();
  }
  MdsProcess mds(vol, FreeLocalAddress());
  mds.min_free_bytes = 1ull << 62;  // no disk has that much free
  BOOST_REQUIRE(mds.Start());
  auto c = NewClient(mds.address());
  uint64_t applied = client::QueryStatus(mds.address(), 2000)->applied_lsn;
  MustCall(*c, WriteReq(ino, 0, "data"), ENOSPC);
  MustCall(*c, CreateReq(fs::kRootIno, "g"), ENOSPC);
  MustCall(*c, MkdirReq(fs::kRootIno, "d"), ENOSPC);
  fs::Request fal = InoReq(fs::Op::kFallocate, ino);
  fal.length = 4096;
  MustCall(*c, fal, ENOSPC);
  BOOST_TEST(client::QueryStatus(mds.address(), 2000)->applied_lsn == applied);  // nothing journaled
  BOOST_TEST(MustCall(*c, InoReq(fs::Op::kGetattr, ino)).attr.size == 0u);
  MustCall(*c, UnlinkReq(fs::kRootIno, "f"));  // freeing space still works
  BOOST_TEST(client::QueryStatus(mds.address(), 2000).ok());
}

// Finding 2: a release pipelined before an open of the same inode must leave
// it open, so an unlink from another session orphans it without reclaiming.
BOOST_AUTO_TEST_CASE(release_then_open_in_frame_order_keeps_the_file) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress(), /*orphan_grace_ms=*/100);
  BOOST_REQUIRE(mds.Start());
  SleepMs(300);  // past the grace period: orphans are reclaimed at once
  auto s = RawSession::Open(mds.address(), 0);
  BOOST_REQUIRE(s.ok());
  auto created = (*s)->Call(1, 1, CreateReq(fs::kRootIno, "f"));
  BOOST_REQUIRE(created.ok() && created->err == 0);
  fs::Ino ino = created->attr.ino;
  BOOST_REQUIRE((*s)->Call(2, 2, WriteReq(ino, 0, "keep me")).ok());
  fs::Request open = InoReq(fs::Op::kOpen, ino);
  open.flags = O_RDWR;
  BOOST_REQUIRE((*s)->Call(3, 3, open)->err == 0);
  auto busy = (*s)->Call(4, 4, CreateReq(fs::kRootIno, "busy"));
  BOOST_REQUIRE(busy.ok() && busy->err == 0);
  // Keep the sequencer busy, then close + re-open, pipelined: the release
  // must take effect before the open, whatever else is queued.
  constexpr uint64_t kWrites = 30;
  for (uint64_t i = 0; i < kWrites; i++) {
    BOOST_REQUIRE((*s)->Send(5 + i, 5, WriteReq(busy->attr.ino, i << 18, std::string(1 << 18, 'w'))).ok());
  }
  BOOST_REQUIRE((*s)->Send(5 + kWrites, 5, InoReq(fs::Op::kRelease, ino)).ok());
  BOOST_REQUIRE((*s)->Send(6 + kWrites, 5, open).ok());
  for (uint64_t i = 0; i < kWrites + 2; i++) {
    uint64_t rid = 0;
    auto r = (*s)->Receive(&rid);
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->err == 0);
  }
  auto other = NewClient(mds.address());
  MustCall(*other, UnlinkReq(fs::kRootIno, "f"));
  SleepMs(500);  // a reclaim would have happened by now
  auto read = (*s)->Call(100, 100, ReadReq(ino, 0, 100));
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->err == 0);
  BOOST_TEST(read->data == "keep me");
  // The last release reclaims it.
  BOOST_REQUIRE((*s)->Call(101, 101, InoReq(fs::Op::kRelease, ino))->err == 0);
  SleepMs(500);
  BOOST_TEST((*s)->Call(102, 102, InoReq(fs::Op::kGetattr, ino))->err != 0);
}

// Finding 3: an orphan made during the grace period (clients may not have
// re-sent their opens yet) is held until the deadline, then reclaimed.
BOOST_AUTO_TEST_CASE(orphan_made_during_grace_is_held_until_the_deadline) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress(), /*orphan_grace_ms=*/4000);
  BOOST_REQUIRE(mds.Start());
  auto c = NewClient(mds.address());
  fs::Ino ino = MustCall(*c, CreateReq(fs::kRootIno, "f")).attr.ino;
  MustCall(*c, UnlinkReq(fs::kRootIno, "f"));
  SleepMs(600);
  MustCall(*c, InoReq(fs::Op::kGetattr, ino));  // still there
  SleepMs(4500);
  BOOST_TEST(c->Call(InoReq(fs::Op::kGetattr, ino))->err != 0);  // reclaimed after the deadline
}

// Finding 4: a HELLO re-opening a session closes its older connection, which
// then submits nothing more.
BOOST_AUTO_TEST_CASE(rehello_supersedes_the_older_connection) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto old_conn = RawSession::Open(mds.address(), 0);
  BOOST_REQUIRE(old_conn.ok());
  uint64_t session = (*old_conn)->session_id();
  BOOST_REQUIRE((*old_conn)->Call(1, 1, CreateReq(fs::kRootIno, "a"))->err == 0);
  auto new_conn = RawSession::Open(mds.address(), session);
  BOOST_REQUIRE(new_conn.ok());
  BOOST_TEST((*new_conn)->session_id() == session);
  SleepMs(100);
  auto late = (*old_conn)->Call(2, 2, CreateReq(fs::kRootIno, "late"));
  BOOST_TEST(!late.ok());  // the old connection is closed
  auto look = (*new_conn)->Call(3, 3, LookupReq(fs::kRootIno, "late"));
  BOOST_REQUIRE(look.ok());
  BOOST_TEST(look->err == ENOENT);
}

// Finding 6: a client that sends requests but never reads replies must not
// stall anybody else; its connection is closed once too much is queued.
BOOST_AUTO_TEST_CASE(client_that_stops_reading_stalls_nobody) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = NewClient(mds.address(), 10000);
  fs::Ino big = MustCall(*c, CreateReq(fs::kRootIno, "big")).attr.ino;
  fs::Ino small = MustCall(*c, CreateReq(fs::kRootIno, "small")).attr.ino;
  MustCall(*c, WriteReq(big, 0, std::string(1 << 20, 'x')));
  auto stuck = RawSession::Open(mds.address(), 0);
  BOOST_REQUIRE(stuck.ok());
  RawSession* raw = stuck->get();
  std::thread flood([raw, big, small] {
    uint64_t rid = 1;
    for (int i = 0; i < 200; i++) {
      if (!raw->Send(rid++, 1, ReadReq(big, 0, 1 << 20)).ok()) return;
      for (int w = 0; w < 4; w++) {  // replies from the sequencer thread meet the full socket
        if (!raw->Send(rid++, 1, WriteReq(small, 0, "y", true)).ok()) return;
      }
    }
  });
  SleepMs(1500);
  int served = 0;
  for (int i = 0; i < 20; i++) {
    auto r = c->Call(MkdirReq(fs::kRootIno, "d" + std::to_string(i)));
    if (!r.ok()) break;  // the MDS is stalled (10 s call timeout)
    served += r->err == 0;
    SleepMs(100);
  }
  ::shutdown(raw->fd(), SHUT_RDWR);  // also unblocks the flood
  flood.join();
  BOOST_TEST(served == 20);
  BOOST_TEST(client::QueryStatus(mds.address(), 2000).ok());
}

// Finding 9: a standby that opened the volume before two takeovers still
// raises the epoch above every earlier one.
BOOST_AUTO_TEST_CASE(standby_builds_on_the_newest_superblock) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess active(vol, FreeLocalAddress());
  BOOST_REQUIRE(active.Start());
  uint64_t e0 = client::QueryStatus(active.address(), 2000)->epoch;
  MdsProcess s1(vol, FreeLocalAddress(), 30000, true), s2(vol, FreeLocalAddress(), 30000, true);
  BOOST_REQUIRE(s1.Spawn() && s2.Spawn());
  // Both have read the superblock and are standbys.
  BOOST_REQUIRE(s1.WaitRole(proto::Role::kStandby, 10000) && s2.WaitRole(proto::Role::kStandby, 10000));
  active.Kill9();
  auto is_active = [](MdsProcess& m) {
    auto st = client::QueryStatus(m.address(), 100);
    return st.ok() && st->role == proto::Role::kActive;
  };
  MdsProcess* first = nullptr;
  for (int i = 0; i < 200 && first == nullptr; i++) {
    if (is_active(s1)) first = &s1;
    else if (is_active(s2)) first = &s2;
    else SleepMs(20);
  }
  BOOST_REQUIRE(first != nullptr);
  MdsProcess* second = first == &s1 ? &s2 : &s1;
  BOOST_TEST(!is_active(*second));  // exactly one active
  uint64_t e1 = client::QueryStatus(first->address(), 2000)->epoch;
  BOOST_TEST(e1 > e0);
  first->Kill9();
  BOOST_REQUIRE(second->WaitRole(proto::Role::kActive, 10000));
  uint64_t e2 = client::QueryStatus(second->address(), 2000)->epoch;
  BOOST_TEST(e2 > e1);
}

// Finding 10: the MDS refuses to serve when the journal does not continue
// where the store is (here: the journal's segments were lost).
BOOST_AUTO_TEST_CASE(refuses_when_journal_does_not_continue_the_store) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  {
    MdsProcess mds(vol, FreeLocalAddress());
    BOOST_REQUIRE(mds.Start());
    auto c = NewClient(mds.address());
    for (int i = 0; i < 5; i++) MustCall(*c, MkdirReq(fs::kRootIno, "d" + std::to_string(i)));
    c.reset();
    BOOST_REQUIRE(mds.Terminate() == 0);
  }
  for (const auto& e : std::filesystem::directory_iterator(vol + "/journal")) std::filesystem::remove_all(e.path());
  MdsProcess mds(vol, FreeLocalAddress());
  BOOST_TEST(!mds.Start(5000));
  std::string log = ReadAll(mds.stderr_path());
  BOOST_TEST_MESSAGE("MDS said: " << log);
  BOOST_TEST(log.find("refusing to serve") != std::string::npos);
}
