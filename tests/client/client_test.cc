// The client library against a real MDS child process: reconnect and resend
// across connection resets and kill -9 of the MDS, with every acknowledged
// operation present exactly once afterwards; open orphans survive a restart.
// BATON_SEED replays a run; BATON_KILLS sets the number of kills (default 20).
#define BOOST_TEST_MODULE client_test
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "client/client.h"
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

// Two addresses: a standby MDS waits for the writer lock; when the active is
// killed it takes over (raising the epoch), and the client finds it at the
// other address, re-opens its session and resends. Repeated both ways.
BOOST_AUTO_TEST_CASE(failover_to_a_standby_at_another_address) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  std::string addr[2] = {FreeLocalAddress(), FreeLocalAddress()};
  std::unique_ptr<MdsProcess> active = std::make_unique<MdsProcess>(vol, addr[0], 30000, true);
  BOOST_REQUIRE(active->Start());
  ClientOptions o;
  o.call_timeout_ms = 120000;
  auto c = Client::Connect({addr[0], addr[1]}, o);
  BOOST_REQUIRE(c.ok());
  std::atomic<bool> stop{false};
  Acked acked;
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; t++) ts.emplace_back([&, t] { Workload(**c, t, stop, acked); });
  uint64_t epoch = (*c)->epoch();
  for (int k = 1; k <= 4; k++) {
    auto standby = std::make_unique<MdsProcess>(vol, addr[k % 2], 30000, true);
    BOOST_REQUIRE(standby->Spawn());
    BOOST_TEST(!standby->WaitReady(300));  // blocked on the lock while the active lives
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    active->Kill9();
    BOOST_REQUIRE_MESSAGE(standby->WaitReady(10000), "standby did not take over");
    active = std::move(standby);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  stop = true;
  for (auto& t : ts) t.join();
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
