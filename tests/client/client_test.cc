// The client library against a real MDS child process: reconnect and resend
// across connection resets and kill -9 of the MDS, with every acknowledged
// operation present exactly once afterwards; open orphans survive a restart.
// Failover: redirects from standbys, deposed (stale-epoch) actives refused,
// a hung active left for a newer one found by probing, a hung MDS skipped
// on connect; these use small in-test protocol peers (FakeMds) next to real
// MDSs.
// BATON_SEED replays a run; BATON_KILLS sets the number of kills (default 20).
#define BOOST_TEST_MODULE client_test
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "client/client.h"
#include "proto/frame.h"
#include "proto/messages.h"
#include "proto/net.h"
#include "tests/mds/client_checks.h"
#include "tests/mds/mds_test_util.h"

using namespace baton;
using namespace baton::testing;
using baton::client::Client;
using baton::client::ClientOptions;

namespace {

// SIGSTOP is asynchronous: kill() returns before every thread has stopped, and
// a request sent at once may still be answered. Stops pid and waits until
// each of its threads is in state T.
void StopAndWait(pid_t pid) {
  BOOST_REQUIRE(::kill(pid, SIGSTOP) == 0);
  for (int i = 0; i < 2000; i++) {
    bool all = true;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& t : std::filesystem::directory_iterator(dir)) {
      std::ifstream f(t.path() / "stat");
      std::string line;
      std::getline(f, line);
      size_t paren = line.rfind(')');
      if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'T') all = false;
    }
    if (all) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  BOOST_FAIL("process " << pid << " did not stop");
}


using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Runs f on scope exit (every exit path of a test, BOOST_REQUIRE included).
class Finally {
 public:
  explicit Finally(std::function<void()> f) : f_(std::move(f)) {}
  ~Finally() { f_(); }

 private:
  std::function<void()> f_;
};

// A hang fails the test instead of blocking it.
std::unique_ptr<Client> Connect(const std::string& addr, int64_t timeout_ms = 120000) {
  return ConnectOrFail(addr, timeout_ms);
}

constexpr size_t kRecordBytes = 16;

std::string Record(int t, int i, int j) {
  char buf[64];
  snprintf(buf, sizeof buf, "%02d:%06d:%05d\n", t % 100, i % 1000000, j % 100000);
  return std::string(buf, kRecordBytes);
}

// What the workload got acknowledged: file name -> (ino, acked appends).
struct Acked {
  std::mutex mu;
  std::map<std::string, std::pair<fs::Ino, int>> files;
  std::atomic<int> errors{0};
  std::string first_error;
  void Error(const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    if (errors++ == 0) first_error = what;
  }
};

void Workload(Client& c, int t, std::atomic<bool>& stop, Acked& acked) {
  for (int i = 0; !stop; i++) {
    std::string name = "w" + std::to_string(t) + "-" + std::to_string(i);
    auto cr = c.Call(CreateReq(fs::kRootIno, name));
    // Exactly once: a create re-sent after a crash still answers 0, never EEXIST.
    if (!cr.ok() || cr->err != 0) return acked.Error("create " + name + ": " + (cr.ok() ? std::to_string(cr->err) : cr.status().ToString()));
    {
      std::lock_guard<std::mutex> l(acked.mu);
      acked.files[name] = {cr->attr.ino, 0};
    }
    for (int j = 0; j < 4; j++) {
      auto w = c.Call(WriteReq(cr->attr.ino, 0, Record(t, i, j), true));
      if (!w.ok() || w->err != 0) return acked.Error("append to " + name);
      std::lock_guard<std::mutex> l(acked.mu);
      acked.files[name].second++;
    }
    if (i % 5 == 0) {
      auto f = c.Call(InoReq(fs::Op::kFsync, cr->attr.ino));
      if (!f.ok() || f->err != 0) return acked.Error("fsync " + name);
    }
  }
}

void Verify(Client& c, Acked& acked) {
  int checked = 0;
  for (const auto& [name, v] : acked.files) {
    auto lk = c.Call(LookupReq(fs::kRootIno, name));
    BOOST_REQUIRE(lk.ok());
    BOOST_REQUIRE_MESSAGE(lk->err == 0, "acknowledged create of " << name << " lost");
    BOOST_REQUIRE(lk->attr.ino == v.first);
    BOOST_REQUIRE_MESSAGE(lk->attr.size == v.second * kRecordBytes,
                          name << ": size " << lk->attr.size << ", acknowledged " << v.second << " appends");
    std::string want;
    int t = 0, i = 0;
    sscanf(name.c_str(), "w%d-%d", &t, &i);
    for (int j = 0; j < v.second; j++) want += Record(t, i, j);
    BOOST_REQUIRE(MustCall(c, ReadReq(v.first, 0, 1 << 20)).data == want);
    checked++;
  }
  BOOST_TEST_MESSAGE("verified " << checked << " files");
}

// Waits (bounded) until pred holds; false on timeout.
bool Eventually(const std::function<bool()>& pred, int timeout_ms = 5000) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(reconnects_after_connection_reset) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address());
  uint64_t session = c->session_id();
  std::atomic<bool> stop{false};
  Acked acked;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) ts.emplace_back([&, t] { Workload(*c, t, stop, acked); });
  for (int k = 0; k < 10; k++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    c->BreakConnectionForTest();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& t : ts) t.join();
  BOOST_TEST(acked.errors.load() == 0, acked.first_error);
  BOOST_TEST(c->stats().reconnects >= 1u);
  BOOST_TEST(c->session_id() == session);
  Verify(*c, acked);
}

BOOST_AUTO_TEST_CASE(kill9_recovery_keeps_every_acknowledged_op) {
  uint64_t seed = SeedFromEnv();
  uint64_t kills = EnvU64("BATON_KILLS", 20);
  BOOST_TEST_MESSAGE("seed " << seed << " kills " << kills << " (BATON_SEED, BATON_KILLS)");
  std::mt19937_64 rng(seed);
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address());
  std::atomic<bool> stop{false};
  Acked acked;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) ts.emplace_back([&, t] { Workload(*c, t, stop, acked); });
  for (uint64_t k = 0; k < kills && acked.errors == 0; k++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
    mds.Kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
    if (!mds.Start()) {
      acked.Error("restart " + std::to_string(k) + " failed; see " + mds.stderr_path());
      break;
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : ts) t.join();
  BOOST_TEST(acked.errors.load() == 0, acked.first_error);
  BOOST_TEST(c->stats().reconnects >= 1u);
  BOOST_TEST_MESSAGE("reconnects " << c->stats().reconnects << ", resent " << c->stats().resent_requests);
  // Once more from a fresh restart, through a new session.
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  auto fresh = Connect(mds.address());
  Verify(*fresh, acked);
  std::ifstream log(mds.stderr_path());
  int dups = 0;
  for (std::string line; std::getline(log, line);) dups += line.find("exactly-once table") != std::string::npos;
  BOOST_TEST_MESSAGE(dups << " resent requests were answered from the exactly-once table");
  BOOST_TEST(acked.files.size() > 0u);
}

BOOST_AUTO_TEST_CASE(open_orphan_survives_restart_and_is_reclaimed_after) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress(), /*orphan_grace_ms=*/1000);
  BOOST_REQUIRE(mds.Start());
  auto holder = Connect(mds.address());
  auto quitter = Connect(mds.address());
  fs::Ino kept = 0, dropped = 0;
  for (auto* c : {holder.get(), quitter.get()}) {
    std::string name = c == holder.get() ? "kept" : "dropped";
    fs::Ino ino = MustCall(*c, CreateReq(fs::kRootIno, name)).attr.ino;
    fs::Request open = InoReq(fs::Op::kOpen, ino);
    open.flags = O_RDWR;
    MustCall(*c, open);
    MustCall(*c, WriteReq(ino, 0, "data"));
    fs::Request un = MkReq(fs::Op::kUnlink);
    un.parent = fs::kRootIno;
    un.name = name;
    MustCall(*c, un);
    (c == holder.get() ? kept : dropped) = ino;
  }
  quitter->Close();  // this client dies: nobody will re-open `dropped`
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  MustCall(*holder, InoReq(fs::Op::kGetattr, kept));  // reconnected (and re-opened)
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // past the grace period
  BOOST_TEST(MustCall(*holder, ReadReq(kept, 0, 10)).data == "data");
  BOOST_TEST(holder->stats().resent_opens >= 1u);
  int err = 0;
  for (int i = 0; i < 100 && err != ENOENT; i++) {
    err = holder->Call(InoReq(fs::Op::kGetattr, dropped))->err;
    if (err != ENOENT) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  BOOST_TEST(err == ENOENT);  // reclaimed after the grace period
  MustCall(*holder, InoReq(fs::Op::kRelease, kept));
  err = 0;
  for (int i = 0; i < 100 && err != ENOENT; i++) {
    err = holder->Call(InoReq(fs::Op::kGetattr, kept))->err;
    if (err != ENOENT) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  err = holder->Call(InoReq(fs::Op::kGetattr, kept))->err;
  BOOST_TEST(err == ENOENT);  // reclaimed at its last release
}

// AllAnswered (the FUSE client's fsync shortcut) is false while any request
// is unanswered, a posted one included, and true again once it is answered.
BOOST_AUTO_TEST_CASE(all_answered_tracks_unanswered_requests) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address());
  fs::Ino ino = MustCall(*c, CreateReq(fs::kRootIno, "f")).attr.ino;
  BOOST_TEST(c->AllAnswered());
  StopAndWait(mds.pid());
  {
    Finally resume([&] { ::kill(mds.pid(), SIGCONT); });
    BOOST_REQUIRE(c->Post(WriteReq(ino, 0, "x")).ok());
    BOOST_TEST(!c->AllAnswered());
  }
  bool answered = false;
  for (int i = 0; i < 500 && !answered; i++) {
    answered = c->AllAnswered();
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(answered);
  BOOST_TEST(MustCall(*c, InoReq(fs::Op::kGetattr, ino)).attr.size == 1u);
}

// Creates /f with a create that opens (fs::kMknodOpen: the session holds
// it), writes "data" into it and unlinks it: an orphan only the hold keeps.
fs::Ino CreateHeldThenUnlinked(Client& c) {
  fs::Request create = CreateReq(fs::kRootIno, "f");
  create.flags = fs::kMknodOpen;
  const fs::Ino ino = MustCall(c, create).attr.ino;
  MustCall(c, WriteReq(ino, 0, "data"));
  fs::Request un = MkReq(fs::Op::kUnlink);
  un.parent = fs::kRootIno;
  un.name = "f";
  MustCall(c, un);
  return ino;
}

// The read role (client/client.h): a caller waiting for its reply reads it
// itself, with a deadline or without, so no reply of a lone caller passes
// through the reader thread; that thread reads only what nobody waits for
// (a Post's reply), soon after it came.
BOOST_AUTO_TEST_CASE(callers_read_their_own_replies) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  for (int64_t timeout_ms : {int64_t{-1}, int64_t{120000}}) {
    BOOST_TEST_CONTEXT("call_timeout_ms " << timeout_ms) {
      auto c = Connect(mds.address(), timeout_ms);
      const fs::Ino ino = MustCall(*c, CreateReq(fs::kRootIno, "f" + std::to_string(timeout_ms))).attr.ino;
      for (int i = 0; i < 200; i++) MustCall(*c, InoReq(fs::Op::kGetattr, ino));
      BOOST_TEST(c->stats().reader_thread_replies == 0u);
      BOOST_REQUIRE(c->Post(WriteReq(ino, 0, "x")).ok());
      BOOST_TEST(Eventually([&] { return c->AllAnswered(); }));
      BOOST_TEST(c->stats().reader_thread_replies == 1u);
      BOOST_TEST(MustCall(*c, InoReq(fs::Op::kGetattr, ino)).attr.size == 1u);
    }
  }
}

// Nobody reads an idle session's connection, yet a restarted MDS must get
// its opens back before the orphan grace period ends: the reader thread sees
// the connection close (POLLRDHUP) and reconnects with no call made.
BOOST_AUTO_TEST_CASE(idle_session_re_sends_its_opens_after_a_restart) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress(), /*orphan_grace_ms=*/500);
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address(), -1);
  const fs::Ino ino = CreateHeldThenUnlinked(*c);
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  BOOST_REQUIRE_MESSAGE(Eventually([&] { return c->stats().reconnects == 1; }, 3000),
                        "the idle session did not reconnect within 3 s");
  BOOST_TEST(c->stats().resent_opens == 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past the grace period
  auto other = Connect(mds.address(), -1);  // a session that holds nothing
  BOOST_TEST(MustCall(*other, ReadReq(ino, 0, 10)).data == "data");
}

// Review finding: the reader thread, woken while a caller held the read role
// (here: rung for a Post's reply while a call waited on a stopped MDS),
// parked until the role was free again, and nothing woke it
// when the caller let go with nothing pending. It then no longer watched the
// connection, and the kill -9 below went unnoticed by the idle session.
BOOST_AUTO_TEST_CASE(reader_thread_watches_again_after_a_caller_held_the_role) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address(), -1);
  const fs::Ino ino = MustCall(*c, CreateReq(fs::kRootIno, "f")).attr.ino;
  StatusOr<fs::Reply> called = Status::Closed("not called");
  std::thread caller;
  StopAndWait(mds.pid());
  {
    Finally resume([&] { ::kill(mds.pid(), SIGCONT); });
    BOOST_REQUIRE(c->Post(WriteReq(ino, 0, "x")).ok());
    // A mutation too: answered after the Post's, so the caller reads both
    // and lets go with nothing pending.
    caller = std::thread([&] { called = c->Call(WriteReq(ino, 1, "y")); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // past kReadHandOff, the caller reading
  }
  caller.join();
  BOOST_REQUIRE(called.ok());
  BOOST_TEST(called->err == 0);
  BOOST_REQUIRE(Eventually([&] { return c->AllAnswered(); }, 3000));
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  BOOST_TEST(Eventually([&] { return c->stats().reconnects == 1; }, 3000),
             "the idle session did not notice the restart within 3 s");
}

// A create that opens (fs::kMknodOpen) puts its new inode in the client's
// open set when answered, so a reconnect re-sends a hold for it like for a
// kOpen: the unlinked file outlives the restart and the grace period.
BOOST_AUTO_TEST_CASE(create_that_opens_is_held_again_after_restart) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress(), /*orphan_grace_ms=*/500);
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address());
  const fs::Ino ino = CreateHeldThenUnlinked(*c);
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  MustCall(*c, InoReq(fs::Op::kGetattr, ino));  // reconnected (and held again)
  BOOST_TEST(c->stats().resent_opens == 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past the grace period
  BOOST_TEST(MustCall(*c, ReadReq(ino, 0, 10)).data == "data");
  MustCall(*c, InoReq(fs::Op::kRelease, ino));
  int err = 0;
  for (int i = 0; i < 100 && err != ENOENT; i++) {
    err = c->Call(InoReq(fs::Op::kGetattr, ino))->err;
    if (err != ENOENT) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_TEST(err == ENOENT);  // reclaimed at its release
}

// An open that was still unanswered when the connection was lost is re-sent
// as itself, not also as a hold: when it then fails (EACCES), nothing of it
// stays open, on the client or on the MDS (review finding: the hold stayed
// for the life of the session and was re-sent at every reconnect).
BOOST_AUTO_TEST_CASE(failed_open_across_a_reconnect_leaves_no_hold) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address());
  fs::Ino ino = MustCall(*c, CreateReq(fs::kRootIno, "private", 0100600)).attr.ino;
  StopAndWait(mds.pid());
  Finally resume([&] { ::kill(mds.pid(), SIGCONT); });
  fs::Request open = InoReq(fs::Op::kOpen, ino);
  open.flags = O_RDONLY;
  open.creds.uid = 1000;
  open.creds.gid = 1000;
  int err = -1;
  std::thread opener([&] {
    auto r = c->Call(open);
    err = r.ok() ? r->err : -2;
  });
  Finally join([&] {
    if (opener.joinable()) opener.join();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the open is on the wire, unanswered
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  opener.join();
  BOOST_TEST(err == EACCES);
  const uint64_t opens_before = c->stats().resent_opens;
  c->BreakConnectionForTest();
  MustCall(*c, InoReq(fs::Op::kGetattr, ino));  // reconnected
  BOOST_TEST(c->stats().resent_opens == opens_before);  // nothing held
}

// Two real MDSs on one volume, active and standby. The client is given the
// standby's address first: it is redirected to the active. When the active
// is killed the standby takes over (raising the epoch), and the client finds
// it at the other address, re-opens its session and resends; a new standby
// is started at the dead one's address. Repeated both ways.
BOOST_AUTO_TEST_CASE(failover_to_a_standby_at_another_address) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  std::string addr[2] = {FreeLocalAddress(), FreeLocalAddress()};
  auto active = std::make_unique<MdsProcess>(vol, addr[0], 30000, true);
  BOOST_REQUIRE(active->Start());
  BOOST_REQUIRE(active->WaitRole(proto::Role::kActive, 20000));
  auto standby = std::make_unique<MdsProcess>(vol, addr[1], 30000, true);
  BOOST_REQUIRE(standby->Start());
  BOOST_REQUIRE(standby->WaitRole(proto::Role::kStandby, 20000));
  ClientOptions o;
  o.call_timeout_ms = 120000;
  auto c = Client::Connect({addr[1], addr[0]}, o);  // the standby first
  BOOST_REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  BOOST_TEST((*c)->active_address() == addr[0]);
  BOOST_TEST((*c)->stats().redirects >= 1u);
  std::atomic<bool> stop{false};
  Acked acked;
  std::vector<std::thread> ts;
  Finally join([&] {
    stop = true;
    (*c)->Close();  // a failed REQUIRE: unblocks the workload's calls
    for (auto& t : ts) t.join();
  });
  for (int t = 0; t < 2; t++) ts.emplace_back([&, t] { Workload(**c, t, stop, acked); });
  uint64_t epoch = (*c)->epoch();
  for (int k = 1; k <= 4; k++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    active->Kill9();
    BOOST_REQUIRE_MESSAGE(standby->WaitRole(proto::Role::kActive, 10000), "standby did not take over");
    active = std::move(standby);
    standby = std::make_unique<MdsProcess>(vol, addr[(k + 1) % 2], 30000, true);
    BOOST_REQUIRE(standby->Start());
    BOOST_REQUIRE(standby->WaitRole(proto::Role::kStandby, 20000));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  stop = true;
  for (auto& t : ts) t.join();
  ts.clear();
  BOOST_TEST(acked.errors.load() == 0, acked.first_error);
  BOOST_TEST((*c)->epoch() > epoch);
  BOOST_TEST((*c)->stats().reconnects >= 4u);
  Verify(**c, acked);
}

// With a call timeout, a hung MDS (SIGSTOP) gives kTimeout instead of a hang;
// after SIGCONT the same client carries on.
BOOST_AUTO_TEST_CASE(call_timeout_on_a_hung_mds) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address(), /*timeout_ms=*/300);
  MustCall(*c, CreateReq(fs::kRootIno, "before"));
  StopAndWait(mds.pid());
  StatusOr<fs::Reply> r = c->Call(CreateReq(fs::kRootIno, "during"));
  ::kill(mds.pid(), SIGCONT);
  BOOST_TEST((r.status().code() == Code::kTimeout));
  MustCall(*c, CreateReq(fs::kRootIno, "after"));
  MustCall(*c, LookupReq(fs::kRootIno, "before"));
}

// The outage timeout (mount -o failover_timeout) counts only time with no
// MDS reachable: a hung but connected MDS does not trip it; a dead one does,
// after about the timeout; and once an MDS is back the same client carries on.
BOOST_AUTO_TEST_CASE(outage_timeout_fails_calls_only_while_no_mds_is_reachable) {
  TempDir dir;
  const std::string vol = MakeVolume(dir), addr = FreeLocalAddress();
  auto mds = std::make_unique<MdsProcess>(vol, addr);
  BOOST_REQUIRE(mds->Start());
  ClientOptions o;
  o.outage_timeout_ms = 700;
  auto c = Client::Connect({addr}, o);
  BOOST_REQUIRE(c.ok());
  MustCall(**c, CreateReq(fs::kRootIno, "before"));
  StopAndWait(mds->pid());  // connected but silent for longer than the timeout
  std::thread resume([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ::kill(mds->pid(), SIGCONT);
  });
  MustCall(**c, CreateReq(fs::kRootIno, "while_hung"));
  resume.join();
  mds->Kill9();
  auto t0 = std::chrono::steady_clock::now();
  StatusOr<fs::Reply> r = (*c)->Call(LookupReq(fs::kRootIno, "before"));
  double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST((r.status().code() == Code::kTimeout), r.status().ToString());
  BOOST_TEST(waited_s >= 0.5);
  BOOST_TEST(waited_s < 10.0);
  mds = std::make_unique<MdsProcess>(vol, addr);
  BOOST_REQUIRE(mds->Start());
  MustCall(**c, LookupReq(fs::kRootIno, "while_hung"));
}

// Review finding 6: after a reconnect the client re-sends many large writes
// and many reads with large replies. It must keep reading replies while it
// re-sends, or the MDS blocks on the replies and the client on the writes.
BOOST_AUTO_TEST_CASE(resend_of_large_requests_keeps_reading_replies) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  auto c = Connect(mds.address(), 60000);
  constexpr int kThreads = 24;
  constexpr size_t kMiB = 1 << 20;
  fs::Ino ino = MustCall(*c, CreateReq(fs::kRootIno, "big")).attr.ino;
  MustCall(*c, WriteReq(ino, 0, std::string(kMiB, 'a')));
  StopAndWait(mds.pid());  // requests pile up unanswered
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      auto r = t % 2 == 0 ? c->Call(ReadReq(ino, 0, kMiB))
                          : c->Call(WriteReq(ino, kMiB * (1 + t), std::string(kMiB, 'b')));
      if (!r.ok() || r->err != 0) failures++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  c->BreakConnectionForTest();
  ::kill(mds.pid(), SIGCONT);
  for (auto& t : ts) t.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(c->stats().resent_requests >= 1u);
}

// ---------------------------------------------------------------------------
// Failover: standbys, deposed actives, hung actives.

namespace {

// A protocol peer posing as an MDS, on 127.0.0.1:0. Each connection gets one
// thread. HELLO: a HELLO_REPLY with the configured role, epoch and address
// list (session id 0 unless active, else the one asked for); the connection then stays open and
// any REQUEST on it is counted, never answered, so a test sees whether the
// client used it. STATUS: a STATUS_REPLY with role and epoch, then close.
class FakeMds {
 public:
  FakeMds(proto::Role role, uint64_t epoch) : role_(role), epoch_(epoch) {
    StatusOr<int> fd = proto::ListenTcp("127.0.0.1:0", &address_);
    BOOST_REQUIRE_MESSAGE(fd.ok(), fd.status().ToString());
    listen_fd_ = *fd;
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeMds() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
    }
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    for (auto& t : threads_) t.join();
    for (int fd : conns_) proto::CloseFd(fd);
    proto::CloseFd(listen_fd_);
  }
  const std::string& address() const { return address_; }
  void set_mds_addresses(std::vector<std::string> a) {
    std::lock_guard<std::mutex> l(mu_);
    mds_addresses_ = std::move(a);
  }
  std::atomic<int> hellos{0}, statuses{0}, requests{0}, closed_by_client{0};

 private:
  void AcceptLoop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) {
        proto::CloseFd(fd);
        return;
      }
      if (fd < 0) continue;
      conns_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    proto::FrameDecoder dec;
    proto::Frame f;
    Status st;
    while ((st = proto::ReadFrame(fd, &dec, &f)).ok()) {
      if (f.kind == proto::FrameKind::kRequest) {
        requests++;
      } else if (f.kind == proto::FrameKind::kHello) {
        hellos++;
        proto::HelloReply r;
        {
          std::lock_guard<std::mutex> l(mu_);
          r.accepted_version = proto::kProtocolVersion;
          proto::Hello h;
          if (!proto::DecodeHello(f.payload, &h).ok()) return;
          r.session_id = role_ != proto::Role::kActive ? 0 : h.session_id != 0 ? h.session_id : 0x5eed;
          r.epoch = epoch_;
          r.role = role_;
          r.mds_addresses = mds_addresses_;
        }
        if (!proto::SendFrame(fd, {proto::FrameKind::kHelloReply, 0, 0, 0, proto::EncodeHelloReply(r)}).ok()) return;
      } else if (f.kind == proto::FrameKind::kStatus) {
        statuses++;
        proto::StatusInfo s;
        s.role = role_;
        s.epoch = epoch_;
        s.address = address_;
        proto::SendFrame(fd, {proto::FrameKind::kStatusReply, 0, 0, 0, proto::EncodeStatusInfo(s)}).PermitUnchecked();
        return;
      } else {
        return;
      }
    }
    if (st.code() == Code::kClosed) closed_by_client++;
  }

  const proto::Role role_;
  const uint64_t epoch_;
  std::string address_;
  int listen_fd_ = -1;
  std::thread acceptor_;
  std::mutex mu_;
  bool stop_ = false;                      // GUARDED_BY(mu_)
  std::vector<std::string> mds_addresses_;  // GUARDED_BY(mu_)
  std::vector<int> conns_;                  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;        // GUARDED_BY(mu_) until stop_
};

uint64_t EpochOf(const std::string& addr) {
  StatusOr<proto::StatusInfo> s = client::QueryStatus(addr, 2000);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return s->epoch;
}

std::unique_ptr<Client> ConnectTo(const std::vector<std::string>& addrs, const ClientOptions& o) {
  auto c = Client::Connect(addrs, o);
  BOOST_REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return std::move(c).value();
}

}  // namespace

// (a) The client is given a standby's address (and a second standby's). The
// first one's HELLO_REPLY names the active first: the client closes the
// standby's connection unused, learns the active's address and serves from
// it, before trying the other standby; a later reconnect goes straight to
// the active.
BOOST_AUTO_TEST_CASE(standby_redirects_to_the_active) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  FakeMds standby(proto::Role::kStandby, EpochOf(mds.address()));
  FakeMds decoy(proto::Role::kStandby, EpochOf(mds.address()));  // no hint
  standby.set_mds_addresses({mds.address(), standby.address(), decoy.address()});
  auto c = ConnectTo({standby.address(), decoy.address()}, ClientOptions{});
  BOOST_TEST(decoy.hellos.load() == 0);  // the hint went before the other addresses
  BOOST_TEST(c->active_address() == mds.address());
  BOOST_TEST(c->stats().redirects == 1u);
  MustCall(*c, CreateReq(fs::kRootIno, "via-redirect"));
  c->BreakConnectionForTest();
  MustCall(*c, LookupReq(fs::kRootIno, "via-redirect"));
  BOOST_TEST(c->stats().reconnects >= 1u);
  BOOST_TEST(standby.hellos.load() == 1);  // the reconnect tried the active first
  BOOST_TEST(standby.requests.load() == 0);
  BOOST_TEST(Eventually([&] { return standby.closed_by_client.load() == 1; }));  // closed, not kept
}

// Redirect chasing ends: two standbys naming each other (and no active) make
// Connect fail after initial_connect_timeout_ms, not loop forever.
BOOST_AUTO_TEST_CASE(standbys_naming_each_other_do_not_loop) {
  FakeMds a(proto::Role::kStandby, 3), b(proto::Role::kStandby, 3);
  a.set_mds_addresses({b.address(), a.address()});
  b.set_mds_addresses({a.address(), b.address()});
  ClientOptions o;
  o.initial_connect_timeout_ms = 300;
  auto t0 = Clock::now();
  auto c = Client::Connect({a.address()}, o);
  BOOST_TEST(!c.ok());
  BOOST_TEST_MESSAGE("Connect gave up after " << SecondsSince(t0) << " s: " << c.status().ToString());
  BOOST_TEST(SecondsSince(t0) < 3.0);
  BOOST_TEST(b.hellos.load() >= 1);  // the hint was followed
}

// (b) A peer that answers as active with an epoch below one already seen was
// deposed: refused on a fresh connect (the epoch was seen from a standby)
// and on reconnects (the epoch was seen from the real active).
BOOST_AUTO_TEST_CASE(active_with_a_stale_epoch_is_refused) {
  TempDir dir;
  const std::string vol = MakeVolume(dir), addr = FreeLocalAddress();
  auto mds = std::make_unique<MdsProcess>(vol, addr);
  BOOST_REQUIRE(mds->Start());
  const uint64_t epoch = EpochOf(addr);
  BOOST_REQUIRE(epoch >= 1u);
  FakeMds stale(proto::Role::kActive, epoch - 1);
  FakeMds standby(proto::Role::kStandby, epoch);
  standby.set_mds_addresses({stale.address(), addr});  // a wrong hint: the deposed one
  auto c = ConnectTo({standby.address(), stale.address(), addr}, ClientOptions{});
  BOOST_TEST(c->active_address() == addr);
  BOOST_TEST(c->stats().stale_refused == 1u);
  BOOST_TEST(stale.hellos.load() == 1);
  MustCall(*c, CreateReq(fs::kRootIno, "a"));

  // The MDS dies; only the stale peer answers. Refused on every round until
  // the MDS is back (a higher epoch), and the call made meanwhile completes.
  mds->Kill9();
  std::atomic<bool> done{false};
  StatusOr<fs::Reply> r = Status::Closed("not called");
  std::thread t([&] {
    r = c->Call(CreateReq(fs::kRootIno, "b"));
    done = true;
  });
  Finally join([&] {
    c->Close();
    t.join();
  });
  BOOST_TEST(Eventually([&] { return c->stats().stale_refused >= 3u; }));
  BOOST_TEST(!done.load());
  mds = std::make_unique<MdsProcess>(vol, addr);
  BOOST_REQUIRE(mds->Start());
  BOOST_REQUIRE(Eventually([&] { return done.load(); }, 10000));
  BOOST_TEST(r.ok());
  BOOST_TEST(c->active_address() == addr);
  BOOST_TEST(c->epoch() > epoch);
  BOOST_TEST(stale.requests.load() == 0);
  BOOST_TEST(Eventually([&] { return stale.closed_by_client.load() == stale.hellos.load(); }));
}

// (c) The active hangs (SIGSTOP): its connection stays open, the call gets
// no reply. A new active takes over at another address with a higher epoch
// (here: a real MDS on a copy of the volume made while the old one is
// stopped, i.e. what a takeover after kill -9 would find). The watchdog's
// probe finds it, the client drops the hung connection, reconnects there
// and re-sends: the pending call completes, applied once.
BOOST_AUTO_TEST_CASE(probe_leaves_a_hung_active_for_a_newer_one) {
  TempDir dir;
  const std::string vol = MakeVolume(dir), copy = dir.path() + "/vol-copy";
  MdsProcess old_mds(vol, FreeLocalAddress());
  BOOST_REQUIRE(old_mds.Start());
  const std::string new_addr = FreeLocalAddress();
  ClientOptions o;  // the default probe_after_ms and probe_interval_ms
  o.call_timeout_ms = 30000;
  auto c = ConnectTo({old_mds.address(), new_addr}, o);
  const uint64_t epoch = c->epoch();
  MustCall(*c, CreateReq(fs::kRootIno, "before"));
  StopAndWait(old_mds.pid());
  Finally resume([&] { ::kill(old_mds.pid(), SIGCONT); });  // then killed by ~MdsProcess
  std::atomic<bool> done{false};
  StatusOr<fs::Reply> r = Status::Closed("not called");
  auto t0 = Clock::now();
  std::thread t([&] {
    r = c->Call(CreateReq(fs::kRootIno, "during"));
    done = true;
  });
  Finally join([&] {
    c->Close();
    t.join();
  });
  // Nothing newer exists yet: the probes find nothing, the connection stays.
  BOOST_TEST(Eventually([&] { return c->stats().probe_rounds >= 2u; }));
  BOOST_TEST(SecondsSince(t0) >= 0.9);  // not before probe_after_ms
  BOOST_TEST(c->stats().probe_switches == 0u);
  BOOST_TEST(c->stats().reconnects == 0u);
  BOOST_TEST(!done.load());
  std::filesystem::copy(vol, copy, std::filesystem::copy_options::recursive);
  MdsProcess new_mds(copy, new_addr);
  BOOST_REQUIRE(new_mds.Start());
  auto t1 = Clock::now();
  BOOST_REQUIRE(Eventually([&] { return done.load(); }, 10000));
  BOOST_TEST_MESSAGE("the call completed " << SecondsSince(t1) << " s after the new active was up");
  BOOST_TEST(r.ok(), r.status().ToString());
  BOOST_TEST((r.ok() && r->err == 0));
  BOOST_TEST(c->stats().probe_switches == 1u);
  BOOST_TEST(c->stats().reconnects == 1u);
  BOOST_TEST(c->active_address() == new_addr);
  BOOST_TEST(c->epoch() > epoch);
  MustCall(*c, LookupReq(fs::kRootIno, "before"));
  MustCall(*c, LookupReq(fs::kRootIno, "during"));
}

// A connected MDS that is merely slow (stopped, then resumed) is never left
// while no other MDS is active with a higher epoch: here one peer is standby
// and one claims active with the session's own epoch.
BOOST_AUTO_TEST_CASE(slow_active_is_kept_without_a_newer_one) {
  TempDir dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  const uint64_t epoch = EpochOf(mds.address());
  FakeMds standby(proto::Role::kStandby, epoch), same(proto::Role::kActive, epoch);
  ClientOptions o;
  o.probe_after_ms = 300;
  o.probe_interval_ms = 100;
  auto c = ConnectTo({mds.address(), standby.address(), same.address()}, o);
  MustCall(*c, CreateReq(fs::kRootIno, "before"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  BOOST_TEST(c->stats().probe_rounds == 0u);  // an idle connection is not probed
  StopAndWait(mds.pid());
  Finally resume([&] { ::kill(mds.pid(), SIGCONT); });
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ::kill(mds.pid(), SIGCONT);
  });
  Finally join([&] { waker.join(); });
  MustCall(*c, CreateReq(fs::kRootIno, "slow"));
  client::ClientStats s = c->stats();
  BOOST_TEST_MESSAGE("probe rounds " << s.probe_rounds);
  BOOST_TEST(s.probe_rounds >= 3u);
  BOOST_TEST(standby.statuses.load() >= 3);
  BOOST_TEST(same.statuses.load() >= 3);
  BOOST_TEST(s.probe_switches == 0u);
  BOOST_TEST(s.reconnects == 0u);
  BOOST_TEST(c->active_address() == mds.address());
}

// An MDS of another volume in the address list, active with a higher epoch,
// never takes the session over while its own active is slow, and its epoch
// does not count (review finding: the client used to switch volumes).
BOOST_AUTO_TEST_CASE(active_of_another_volume_is_never_used) {
  TempDir dir, other_dir;
  MdsProcess mds(MakeVolume(dir), FreeLocalAddress());
  MdsProcess other(MakeVolume(other_dir), FreeLocalAddress());
  BOOST_REQUIRE(mds.Start());
  for (int i = 0; i < 3; i++) {  // each start raises the other volume's epoch
    BOOST_REQUIRE(other.Start());
    other.Kill9();
  }
  BOOST_REQUIRE(other.Start());
  BOOST_REQUIRE(EpochOf(other.address()) > EpochOf(mds.address()));
  ClientOptions o;
  o.probe_after_ms = 300;
  o.probe_interval_ms = 100;
  auto c = ConnectTo({mds.address(), other.address()}, o);
  MustCall(*c, CreateReq(fs::kRootIno, "before"));
  StopAndWait(mds.pid());
  Finally resume([&] { ::kill(mds.pid(), SIGCONT); });
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ::kill(mds.pid(), SIGCONT);
  });
  Finally join([&] { waker.join(); });
  MustCall(*c, CreateReq(fs::kRootIno, "slow"));
  client::ClientStats s = c->stats();
  BOOST_TEST(s.probe_rounds >= 3u);
  BOOST_TEST(s.probe_switches == 0u);
  BOOST_TEST(c->active_address() == mds.address());
  BOOST_TEST(c->highest_epoch_seen() == EpochOf(mds.address()));
  // Nothing reached the other volume.
  auto o2 = Client::Connect({other.address()});
  BOOST_REQUIRE(o2.ok());
  auto look = (*o2)->Call(LookupReq(fs::kRootIno, "slow"));
  BOOST_REQUIRE(look.ok());
  BOOST_TEST(look->err == ENOENT);
}

// (d) An MDS that accepts connections but never answers (stopped) is first
// in the list: Connect moves on after about connect_timeout_ms, and later
// reconnects start at the MDS that answered.
BOOST_AUTO_TEST_CASE(hung_mds_first_in_the_list_costs_one_connect_timeout) {
  TempDir hung_dir, good_dir;
  MdsProcess hung(MakeVolume(hung_dir), FreeLocalAddress()), good(MakeVolume(good_dir), FreeLocalAddress());
  BOOST_REQUIRE(hung.Start());
  BOOST_REQUIRE(good.Start());
  StopAndWait(hung.pid());
  Finally resume([&] { ::kill(hung.pid(), SIGCONT); });
  ClientOptions o;
  o.connect_timeout_ms = 500;
  auto t0 = Clock::now();
  auto c = ConnectTo({hung.address(), good.address()}, o);
  double took_s = SecondsSince(t0);
  BOOST_TEST_MESSAGE("Connect took " << took_s << " s");
  BOOST_TEST(took_s >= 0.45);  // it did try the hung one first, for its timeout
  BOOST_TEST(c->stats().connect_attempts == 2u);  // the hung one once, then the good one
  BOOST_TEST(c->active_address() == good.address());
  c->BreakConnectionForTest();
  MustCall(*c, CreateReq(fs::kRootIno, "after-reconnect"));
  // The reconnect went straight to the MDS that answered: one attempt more,
  // none on the hung one (counted, not timed: CI machines are noisy).
  BOOST_TEST(c->stats().connect_attempts == 3u);
  BOOST_TEST(c->stats().reconnects == 1u);
}

// (c) with real MDSs: a standby on the same volume takes over the stopped
// active after its lease; the client's probe finds the new active and the
// pending call completes there. After SIGCONT the deposed MDS never answers
// it (the client's session is elsewhere, and its stale epoch is refused).
BOOST_AUTO_TEST_CASE(real_standby_takeover_of_a_hung_active) {
  TempDir dir;
  const std::string vol = MakeVolume(dir);
  MdsProcess a(vol, FreeLocalAddress(), 30000, true), b(vol, FreeLocalAddress(), 30000, true);
  a.lease_ms = b.lease_ms = 600;
  BOOST_REQUIRE(a.Start());
  BOOST_REQUIRE(a.WaitRole(proto::Role::kActive, 20000));
  BOOST_REQUIRE(b.Start());
  BOOST_REQUIRE(b.WaitRole(proto::Role::kStandby, 20000));
  ClientOptions o;
  o.call_timeout_ms = 30000;
  auto c = ConnectTo({a.address()}, o);  // b is learnt from a's HELLO_REPLY
  const uint64_t epoch = c->epoch();
  MustCall(*c, CreateReq(fs::kRootIno, "before"));
  StopAndWait(a.pid());
  Finally resume([&] { ::kill(a.pid(), SIGCONT); });
  auto t0 = Clock::now();
  StatusOr<fs::Reply> r = c->Call(CreateReq(fs::kRootIno, "during"));
  BOOST_TEST_MESSAGE("the call completed " << SecondsSince(t0) << " s after SIGSTOP");
  BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  BOOST_TEST(r->err == 0);
  BOOST_TEST(c->active_address() == b.address());
  BOOST_TEST(c->epoch() > epoch);
  BOOST_TEST(c->stats().probe_switches == 1u);
  ::kill(a.pid(), SIGCONT);
  MustCall(*c, LookupReq(fs::kRootIno, "during"));
  c->BreakConnectionForTest();  // reconnects to b, not to the deposed a
  MustCall(*c, LookupReq(fs::kRootIno, "before"));
  BOOST_TEST(c->active_address() == b.address());
}
