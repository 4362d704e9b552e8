// Standby MDSs and takeover (issue 4), end to end: real `baton mds`
// processes on one volume, a real FUSE mount given every MDS address, and
// kill -9 / SIGSTOP of the active while writers run. Every case ends with
// the MDSs stopped and `baton fsck` clean.
//
// BATON_SEED reruns a case with the same random choices;
// BATON_FAILOVER_ITERATIONS sets the number of kills in kill9_during_workload
// (default 30); BATON_FAILOVER_TAIL the number of creates before the first
// kill in takeover_during_takeover (default 20000).
#define BOOST_TEST_MODULE failover_test
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "fs/ops.h"
#include "mds/mds_info.h"
#include "proto/frame.h"
#include "proto/messages.h"
#include "proto/net.h"
#include "tests/failover/failover_util.h"
#include "tools/journal_scanner.h"
#include "journal/journal_format.h"
#include "tests/fuse/mount_fixture.h"

using namespace baton;
using namespace baton::testing;
using namespace baton::testing::failover;

namespace {

uint64_t Seed() {
  uint64_t seed = SeedFromEnv();
  BOOST_TEST_MESSAGE("seed " << seed << " (rerun with BATON_SEED=" << seed << ")");
  return seed;
}

void StopWritersOrFail(StopWriters& s, Workload& w, Cluster& c) {
  BOOST_REQUIRE_MESSAGE(s.Stop(), "the writers hung: " << w.failure() << "\n" << c.Logs());
  BOOST_REQUIRE_MESSAGE(!w.failed(), w.failure() << "\n" << c.Logs());
}

std::optional<proto::StatusInfo> MustStatus(Cluster& c, int i) {
  auto st = QueryMds(c.address(i), 2000);
  BOOST_REQUIRE_MESSAGE(st.has_value(), "MDS " << c.name(i) << " at " << c.address(i) << " does not answer STATUS\n"
                                               << c.Logs());
  return st;
}

// Waits until MDS i has applied everything the active (index `active`) had
// applied when this was called.
void WaitCaughtUp(Cluster& c, int i, int active, int timeout_ms) {
  uint64_t target = MustStatus(c, active)->applied_lsn;
  auto t0 = Clock::now();
  uint64_t seen = 0;
  while (MsSince(t0) < timeout_ms) {
    auto st = QueryMds(c.address(i), 500);
    if (st) seen = st->applied_lsn;
    if (st && seen >= target) {
      BOOST_TEST_MESSAGE("standby " << c.name(i) << " reached applied_lsn " << target << " in " << MsSince(t0)
                                    << " ms");
      return;
    }
    SleepMs(10);
  }
  BOOST_FAIL("standby " << c.name(i) << " stuck at applied_lsn " << seen << ", the active had applied " << target
                        << "\n"
                        << c.Logs());
}

// Unmounts (the daemon must exit 0), stops every MDS, and requires fsck clean.
void UnmountStopAndFsck(Cluster& c, std::vector<FuseMount*> mounts) {
  for (FuseMount* m : mounts) BOOST_TEST(m->Unmount() == 0, "the mount daemon at " << m->path() << " exits 0");
  BOOST_TEST(c.StopAll(), "every MDS stops cleanly on SIGTERM\n" << c.Logs());
  std::string out;
  int rc = RunFsck(c.volume(), &out);
  BOOST_TEST(rc == 0, "baton fsck " << c.volume() << " exits 0 (got " << rc << "); it said:\n" << out);
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Lines naming every journal file that differs between two snapshots.
std::string JournalChanges(const std::map<std::string, SegmentFile>& before,
                           const std::map<std::string, SegmentFile>& after) {
  std::string out;
  for (const auto& [name, f] : before) {
    auto it = after.find(name);
    if (it == after.end()) out += "removed " + name + "\n";
    else if (it->second.size != f.size || it->second.mtime_ns != f.mtime_ns)
      out += "changed " + name + ": size " + std::to_string(f.size) + " -> " + std::to_string(it->second.size) + "\n";
  }
  for (const auto& [name, f] : after)
    if (before.count(name) == 0) out += "added " + name + " (epoch " + std::to_string(f.epoch) + ")\n";
  return out;
}

// The sum of N over the client's "re-sending N requests" log lines.
uint64_t ResentRequests(const std::string& log_path) {
  std::string log = ReadWholeFile(log_path);
  uint64_t total = 0;
  const std::string key = "re-sending ";
  for (size_t at = log.find(key); at != std::string::npos; at = log.find(key, at + 1))
    total += std::strtoull(log.c_str() + at + key.size(), nullptr, 10);
  return total;
}

std::string Lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// 1. kill -9 of the active, again and again, under four writers.
BOOST_AUTO_TEST_CASE(kill9_during_workload) {
  uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  int iterations = static_cast<int>(EnvU64("BATON_FAILOVER_ITERATIONS", 30));
  Cluster c(2);
  BOOST_REQUIRE_MESSAGE(c.StartActive(0), "MDS a must come up active\n" << c.Logs());
  BOOST_REQUIRE_MESSAGE(c.StartStandby(1), "MDS b must come up standby\n" << c.Logs());
  Workload w(c.dir() + "/mnt", 4, seed);
  FuseMount mount(c.addresses(), c.dir() + "/mnt");
  BOOST_REQUIRE(mount.Mount());
  StopWriters stopper(w, mount);
  w.Start();
  BOOST_REQUIRE_MESSAGE(w.WaitProgress(50, 20000), "writers before any kill: " << w.failure());

  int active = 0;
  uint64_t epoch = MustStatus(c, 0)->epoch;
  long worst_stall_ms = 0, worst_takeover_ms = 0;
  auto start = Clock::now();
  for (int it = 0; it < iterations && !w.failed(); ++it) {
    w.iteration = static_cast<uint64_t>(it);
    long delay_ms = 50 + static_cast<long>(rng() % 351);
    SleepMs(delay_ms);
    w.TakeMaxOpMs();
    c.mds(active).Kill9();
    auto t0 = Clock::now();
    uint64_t new_epoch = 0;
    int now = c.WaitActive(10000, epoch + 1, &new_epoch);
    long takeover_ms = MsSince(t0);
    BOOST_REQUIRE_MESSAGE(now == 1 - active, "iteration " << it << ": after kill -9 of " << c.name(active)
                                                          << " no MDS became active with epoch > " << epoch
                                                          << " within 10 s (seed " << seed << ")\n" << c.Logs());
    bool resumed = w.WaitProgress(5, 15000);
    long resumed_ms = MsSince(t0);
    BOOST_REQUIRE_MESSAGE(resumed, "iteration " << it << ": the writers did not go on after the takeover: "
                                                << w.failure() << " (seed " << seed << ")\n" << c.Logs());
    auto t1 = Clock::now();
    BOOST_REQUIRE_MESSAGE(c.StartStandby(active), "iteration " << it << ": restarted " << c.name(active)
                                                               << " must rejoin as standby\n" << c.Logs());
    long stall_ms = w.TakeMaxOpMs();
    BOOST_TEST_MESSAGE("iteration " << it << ": kill -9 of " << c.name(active) << " after " << delay_ms << " ms; "
                                    << c.name(now) << " active (epoch " << new_epoch << ") after " << takeover_ms
                                    << " ms; writers going again after " << resumed_ms << " ms; longest op "
                                    << stall_ms << " ms; " << c.name(active) << " standby again after "
                                    << MsSince(t1) << " ms; " << w.ops() << " ops so far");
    worst_stall_ms = std::max(worst_stall_ms, stall_ms);
    worst_takeover_ms = std::max(worst_takeover_ms, takeover_ms);
    active = now;
    epoch = new_epoch;
  }
  BOOST_TEST_MESSAGE(iterations << " kills in " << MsSince(start) << " ms; worst takeover " << worst_takeover_ms
                                << " ms, worst writer stall " << worst_stall_ms << " ms; " << w.ops() << " ops");
  StopWritersOrFail(stopper, w, c);

  SleepMs(1100);  // the kernel's entry and attribute caches (1 s) expire
  std::string diff = w.Verify(mount.path());
  BOOST_TEST(diff.empty(), "the mount differs from what the writers were told (seed " << seed << "):\n" << diff);
  FuseMount fresh(c.addresses(), c.dir() + "/fresh");
  BOOST_REQUIRE(fresh.Mount());
  diff = w.Verify(fresh.path());
  BOOST_TEST(diff.empty(), "a fresh mount differs from what the writers were told (seed " << seed << "):\n" << diff);
  BOOST_TEST((ListDir(fresh.path()) == w.TopNames()), "the root holds only the writers' directories");
  BOOST_TEST_MESSAGE(w.ModelFiles() << " files checked; the client re-sent " << ResentRequests(mount.log_path())
                                    << " requests after reconnects");
  // The check has teeth: a file nobody was told about and a changed byte
  // are reported.
  BOOST_REQUIRE(::close(::open((fresh.path() + "/t0/not-in-model").c_str(), O_CREAT | O_WRONLY, 0644)) == 0);
  BOOST_TEST(w.Verify(fresh.path()).find("extra: t0/not-in-model") != std::string::npos);
  BOOST_REQUIRE(::unlink((fresh.path() + "/t0/not-in-model").c_str()) == 0);
  std::string victim = w.SomeNonEmptyFile();
  BOOST_REQUIRE(!victim.empty());
  int vfd = ::open((fresh.path() + "/" + victim).c_str(), O_RDWR);
  BOOST_REQUIRE(vfd >= 0);
  char byte = 0;
  BOOST_REQUIRE(::pread(vfd, &byte, 1, 0) == 1);
  byte = static_cast<char>(byte ^ 0x5a);
  BOOST_REQUIRE(::pwrite(vfd, &byte, 1, 0) == 1);
  ::close(vfd);
  BOOST_TEST(w.Verify(fresh.path()).find("content of " + victim) != std::string::npos);
  UnmountStopAndFsck(c, {&fresh, &mount});
}

// ---------------------------------------------------------------------------
// 2. SIGSTOP of the active past its lease: the standby takes over; the old
// active, resumed, writes nothing, answers no client and exits 3.
namespace {

// A connection to addr that has sent `frames` (the kernel accepts it even
// while the MDS is stopped).
int OpenProbe(const std::string& addr, const std::vector<proto::Frame>& frames) {
  auto fd = proto::ConnectTcp(addr, 1000);
  if (!fd.ok()) return -1;
  for (const auto& f : frames)
    if (!proto::SendFrame(*fd, f).ok()) break;
  return *fd;
}

// What came back on a probe until EOF, error or a 2 s silence: "" when no
// answer that serves a client (HELLO_REPLY, REPLY, or STATUS saying active).
std::string ProbeAnswers(int fd) {
  if (fd < 0) return "";
  struct timeval tv = {2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  proto::FrameDecoder dec;
  std::string bad;
  for (int i = 0; i < 8; ++i) {
    proto::Frame f;
    if (!proto::ReadFrame(fd, &dec, &f).ok()) break;
    if (f.kind == proto::FrameKind::kHelloReply) bad += "HELLO_REPLY ";
    if (f.kind == proto::FrameKind::kReply) bad += "REPLY ";
    if (f.kind == proto::FrameKind::kStatusReply) {
      proto::StatusInfo s;
      if (proto::DecodeStatusInfo(f.payload, &s).ok() && s.role == proto::Role::kActive) bad += "STATUS(active) ";
    }
  }
  proto::CloseFd(fd);
  return bad;
}

std::vector<proto::Frame> HelloAndMkdir(const std::string& name) {
  proto::Hello h{proto::kProtocolVersion, 0, "fenced-probe"};
  fs::Request r = MkdirReq(fs::kRootIno, name);
  return {proto::Frame{proto::FrameKind::kHello, 0, 0, 0, proto::EncodeHello(h)},
          proto::Frame{proto::FrameKind::kRequest, static_cast<uint16_t>(r.op), 0, 1,
                       proto::MakeRequestPayload(1, fs::EncodeRequest(r))}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigstop_active_is_fenced) {
  uint64_t seed = Seed();
  const uint32_t lease_ms = 1000;
  Cluster c(2, lease_ms);
  BOOST_REQUIRE_MESSAGE(c.StartActive(0), "MDS a must come up active\n" << c.Logs());
  BOOST_REQUIRE_MESSAGE(c.StartStandby(1), "MDS b must come up standby\n" << c.Logs());
  Workload w(c.dir() + "/mnt", 1, seed);
  FuseMount mount(c.addresses(), c.dir() + "/mnt");
  BOOST_REQUIRE(mount.Mount());
  StopWriters stopper(w, mount);
  w.Start();
  BOOST_REQUIRE_MESSAGE(w.WaitProgress(30, 20000), "writer before the stop: " << w.failure());

  uint64_t epoch_a = MustStatus(c, 0)->epoch;
  // A session opened on a before it hangs; it sends while a is stopped.
  auto session = RawSession::Open(c.address(0), 0);
  BOOST_REQUIRE_MESSAGE(session.ok(), session.status().ToString());
  pid_t a = c.mds(0).pid();
  ContinueGuard cont(a);  // the destructors SIGKILL it too
  w.TakeMaxOpMs();
  BOOST_REQUIRE(::kill(a, SIGSTOP) == 0);
  auto t0 = Clock::now();
  std::optional<proto::StatusInfo> sb;
  while (MsSince(t0) < static_cast<long>(lease_ms) + 2000) {
    sb = QueryMds(c.address(1), 200);
    if (sb && sb->role == proto::Role::kActive) break;
    SleepMs(5);
  }
  long takeover_ms = MsSince(t0);
  BOOST_REQUIRE_MESSAGE(sb && sb->role == proto::Role::kActive,
                        "b is not active " << takeover_ms << " ms after SIGSTOP of a (lease " << lease_ms << " ms)\n"
                                           << c.Logs());
  BOOST_TEST(sb->epoch > epoch_a, "the takeover raises the epoch");
  uint64_t epoch_b = sb->epoch;
  BOOST_REQUIRE_MESSAGE(w.WaitProgress(5, 10000), "the writer must go on after the takeover: " << w.failure() << "\n"
                                                                                             << c.Logs());
  BOOST_TEST_MESSAGE("b active (epoch " << epoch_b << ") " << takeover_ms << " ms after SIGSTOP of a; writer going"
                                         << " again after " << MsSince(t0) << " ms, longest op " << w.TakeMaxOpMs()
                                         << " ms");

  // Clients knocking at the stopped a: its kernel completes the connects.
  BOOST_TEST((*session)->Send(1, 1, MkdirReq(fs::kRootIno, "zombie-session-probe")).ok());
  BOOST_TEST((*session)->Send(2, 1, InoReq(fs::Op::kGetattr, fs::kRootIno)).ok());
  int hello_probe = OpenProbe(c.address(0), HelloAndMkdir("zombie-probe"));
  int status_probe = OpenProbe(c.address(0), {proto::Frame{proto::FrameKind::kStatus, 0, 0, 0, {}}});
  BOOST_TEST((hello_probe >= 0 && status_probe >= 0), "the probes connect to the stopped a (its kernel accepts)");
  auto journal_at_takeover = SnapshotJournal(c.volume());
  size_t old_segments = 0;
  for (const auto& [name, f] : journal_at_takeover) old_segments += f.epoch < epoch_b ? 1 : 0;
  BOOST_TEST_MESSAGE("journal at takeover (" << old_segments << " files of earlier epochs):\n"
                                             << DescribeJournal(journal_at_takeover));

  BOOST_REQUIRE(::kill(a, SIGCONT) == 0);
  cont.Release();
  auto t1 = Clock::now();
  int rc = c.mds(0).WaitExit(5000);
  BOOST_TEST(rc == 3, "the deposed a exits with status 3 within 5 s of SIGCONT (got " << rc << ", -1 = still running)\n"
                                                                                     << c.Logs());
  if (rc != -1) BOOST_TEST_MESSAGE("a exited " << MsSince(t1) << " ms after SIGCONT with status " << rc);
  c.mds(0).Kill9();
  BOOST_TEST(ProbeAnswers(hello_probe) == "", "the deposed a must not answer a client");
  BOOST_TEST(ProbeAnswers(status_probe) == "", "the deposed a must not claim to be active");
  {
    struct timeval tv = {2, 0};
    ::setsockopt((*session)->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint64_t id = 0;
    auto reply = (*session)->Receive(&id);
    BOOST_TEST(!reply.ok(), "the deposed a answered request " << id << " of a session opened before the stop");
  }

  BOOST_REQUIRE_MESSAGE(w.WaitProgress(20, 10000), "the writer after a's exit: " << w.failure());
  StopWritersOrFail(stopper, w, c);
  auto journal_after = SnapshotJournal(c.volume());
  // A deposed writer stopped between its lease check and its write finishes
  // that one write when it resumes (the check and the write are two steps;
  // a SIGSTOP can fall between them). The design makes that write harmless:
  // its records lie at or beyond the first LSN of b's segment, and every
  // reader ignores them (docs/ARCHITECTURE.md "Fencing", row 9). So an old
  // file may grow only by records the journal scanner marks superseded.
  std::map<std::string, uint64_t> old_size;  // segment file -> size at takeover, for old epochs
  for (const auto& [name, f] : journal_at_takeover)
    if (f.epoch < epoch_b) old_size[name] = f.size;
  tools::ScanOptions so;
  so.env = Env::Default();
  so.dir = c.volume() + "/journal";
  tools::ScanSummary sum;
  std::string grown;
  uint64_t late_records = 0;
  BOOST_REQUIRE(tools::ScanJournal(
                    so,
                    [&](const tools::ScannedRecord& r) {
                      auto it = old_size.find(journal::format::SegmentFileName(r.segment_seq));
                      if (it == old_size.end() || r.offset < it->second) return;
                      late_records++;
                      if (!r.superseded)
                        grown += "lsn " + std::to_string(r.lsn) + " written by the deposed a at " + it->first +
                                 " offset " + std::to_string(r.offset) + " is part of the history\n";
                    },
                    nullptr, &sum)
                    .ok());
  if (late_records) BOOST_TEST_MESSAGE("the deposed a finished one write after SIGCONT: " << late_records
                                       << " records, all superseded");
  for (const auto& [name, f] : journal_after)
    if (journal_at_takeover.count(name) == 0 && f.epoch < epoch_b)
      grown += "new " + name + " of epoch " + std::to_string(f.epoch) + "\n";
  BOOST_TEST(grown.empty(), "journal files of epochs before b's (" << epoch_b << ") took part in the history after the takeover:\n"
                                                                    << grown << "at takeover:\n"
                                                                    << DescribeJournal(journal_at_takeover)
                                                                    << "after:\n"
                                                                    << DescribeJournal(journal_after));

  SleepMs(1100);
  std::string diff = w.Verify(mount.path());
  BOOST_TEST(diff.empty(), "the mount differs from what the writer was told (seed " << seed << "):\n" << diff);
  struct stat st;
  BOOST_TEST(::lstat((mount.path() + "/zombie-probe").c_str(), &st) != 0, "the probe's mkdir sent to a was not done");
  BOOST_TEST(::lstat((mount.path() + "/zombie-session-probe").c_str(), &st) != 0,
             "the mkdir sent to a on a session opened before the stop was not done");
  UnmountStopAndFsck(c, {&mount});
}

// ---------------------------------------------------------------------------
// 3. kill -9 of the standby, of the client daemon, then of each MDS in turn.
BOOST_AUTO_TEST_CASE(kill_standby_client_and_both) {
  uint64_t seed = Seed();
  Cluster c(2);
  BOOST_REQUIRE_MESSAGE(c.StartActive(0), "MDS a must come up active\n" << c.Logs());
  BOOST_REQUIRE_MESSAGE(c.StartStandby(1), "MDS b must come up standby\n" << c.Logs());
  Workload w(c.dir() + "/mnt", 2, seed);
  FuseMount mount(c.addresses(), c.dir() + "/mnt");
  BOOST_REQUIRE(mount.Mount());
  StopWriters stopper(w, mount);
  w.Start();
  BOOST_REQUIRE_MESSAGE(w.WaitProgress(30, 20000), "writers at the start: " << w.failure());

  // The standby dies: the writers do not notice; restarted, it catches up.
  w.iteration = 1;
  uint64_t epoch = MustStatus(c, 0)->epoch;
  w.TakeMaxOpMs();
  c.mds(1).Kill9();
  BOOST_REQUIRE_MESSAGE(w.WaitProgress(30, 10000), "writers after kill -9 of the standby: " << w.failure());
  auto sa = MustStatus(c, 0);
  BOOST_TEST((sa->role == proto::Role::kActive && sa->epoch == epoch), "a stays active in the same epoch");
  BOOST_REQUIRE_MESSAGE(c.StartStandby(1), "b restarted must rejoin as standby\n" << c.Logs());
  WaitCaughtUp(c, 1, 0, 20000);
  BOOST_TEST_MESSAGE("standby killed and back; longest writer op meanwhile " << w.TakeMaxOpMs() << " ms");

  // The client daemon dies with a written (not fsync'd) file still open.
  w.iteration = 2;
  StopWritersOrFail(stopper, w, c);
  const std::string held = mount.path() + "/held-open";
  const std::string held_data = "written, not fsync'd, open when the client died";
  int fd = ::open(held.c_str(), O_CREAT | O_WRONLY, 0644);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(::write(fd, held_data.data(), held_data.size()) == static_cast<ssize_t>(held_data.size()));
  mount.KillDaemon9();
  ::close(fd);  // on the dead connection: its result does not matter
  BOOST_REQUIRE(mount.Mount());
  std::string diff = w.Verify(mount.path());
  BOOST_TEST(diff.empty(), "after kill -9 of the client and a remount (seed " << seed << "):\n" << diff);
  BOOST_TEST(ContentDiff(ReadUncached(held), held_data) == "", "the acknowledged write to the file held open");

  // Each MDS in turn: a dies (b takes over), a comes back, b dies (a takes over).
  w.Start();
  BOOST_REQUIRE_MESSAGE(w.WaitProgress(20, 20000), "writers after the remount: " << w.failure());
  for (int victim : {0, 1}) {
    int other = 1 - victim;
    w.iteration = 3 + victim;
    uint64_t e = MustStatus(c, victim)->epoch;
    w.TakeMaxOpMs();
    c.mds(victim).Kill9();
    auto t0 = Clock::now();
    int now = c.WaitActive(10000, e + 1);
    BOOST_REQUIRE_MESSAGE(now == other, "after kill -9 of " << c.name(victim) << ", " << c.name(other)
                                                            << " must become active\n" << c.Logs());
    long takeover_ms = MsSince(t0);
    BOOST_REQUIRE_MESSAGE(w.WaitProgress(10, 15000), "writers after the takeover: " << w.failure() << "\n"
                                                                                     << c.Logs());
    BOOST_REQUIRE_MESSAGE(c.StartStandby(victim), c.name(victim) << " restarted must rejoin as standby\n"
                                                                 << c.Logs());
    WaitCaughtUp(c, victim, other, 20000);
    BOOST_TEST_MESSAGE("kill -9 of " << c.name(victim) << ": " << c.name(other) << " active after " << takeover_ms
                                     << " ms; longest writer op " << w.TakeMaxOpMs() << " ms");
  }
  StopWritersOrFail(stopper, w, c);
  SleepMs(1100);
  diff = w.Verify(mount.path());
  BOOST_TEST(diff.empty(), "after kill -9 of each MDS in turn (seed " << seed << "):\n" << diff);
  BOOST_TEST(ContentDiff(ReadUncached(held), held_data) == "");
  UnmountStopAndFsck(c, {&mount});
}

// ---------------------------------------------------------------------------
// 4. Takeover during takeover: the active dies with a long journal tail, and
// the MDS taking over dies too; the third completes it.
namespace {

struct Creators {
  client::Client& cl;
  fs::Ino dir;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acked{0};
  std::vector<std::vector<std::string>> names;
  std::mutex mu;
  std::string failure;
  std::vector<std::thread> threads;

  Creators(client::Client& c, fs::Ino d, int n) : cl(c), dir(d), names(n) {
    for (int t = 0; t < n; ++t) threads.emplace_back([this, t] { Run(t); });
  }
  ~Creators() { Stop(); }
  void Stop() {
    stop = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  void Run(int t) {
    for (uint64_t i = 0; !stop; ++i) {
      std::string name = "k" + std::to_string(t) + "-" + std::to_string(i);
      auto r = cl.Call(CreateReq(dir, name));
      if (!r.ok() || r->err != 0) {
        std::lock_guard<std::mutex> l(mu);
        if (failure.empty())
          failure = "create " + name + ": " + (r.ok() ? std::string(strerror(r->err)) : r.status().ToString());
        return;
      }
      names[t].push_back(name);
      ++acked;
    }
  }
  bool failed() {
    std::lock_guard<std::mutex> l(mu);
    return !failure.empty();
  }
  std::string Failure() {
    std::lock_guard<std::mutex> l(mu);
    return failure;
  }
  bool WaitAcked(uint64_t n, int timeout_ms) {
    auto t0 = Clock::now();
    while (acked < n && !failed() && MsSince(t0) < timeout_ms) SleepMs(10);
    return acked >= n;
  }
};

// The index among `candidates` of the MDS that has won the election but not
// finished taking over: its VOLUME/mds/NAME/info says "taking-over", or
// VOLUME/lock names it as the holder ("name=NAME ..."). -1 if none yet.
int TakingOver(Cluster& c, const std::vector<int>& candidates, std::string* how) {
  std::string text = ReadWholeFile(c.volume() + "/lock");
  for (int i : candidates) {
    mds::MdsInfo info;
    if (mds::DecodeMdsInfo(ReadWholeFile(mds::MdsInfoPath(c.volume(), c.name(i))), &info).ok() &&
        info.role == "taking-over") {
      *how = "its info saying taking-over";
      return i;
    }
    if (text.rfind("name=" + c.name(i) + " ", 0) == 0) {
      *how = "named in VOLUME/lock";
      return i;
    }
  }
  return -1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(takeover_during_takeover) {
  uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  uint64_t tail = EnvU64("BATON_FAILOVER_TAIL", 20000);
  Cluster c(3);
  BOOST_REQUIRE_MESSAGE(c.StartActive(0), "MDS a must come up active\n" << c.Logs());
  BOOST_REQUIRE_MESSAGE(c.StartStandby(1) && c.StartStandby(2), "b and c must come up standby\n" << c.Logs());
  client::ClientOptions o;
  o.call_timeout_ms = 60000;  // a hang fails the test instead of the ctest timeout
  auto cl = client::Client::Connect({c.address(0), c.address(1), c.address(2)}, o);
  BOOST_REQUIRE_MESSAGE(cl.ok(), cl.status().ToString());
  auto mk = (*cl)->Call(MkdirReq(fs::kRootIno, "many"));
  BOOST_REQUIRE(mk.ok() && mk->err == 0);
  Creators cr(**cl, mk->attr.ino, 16);

  int active = 0;
  uint64_t epoch = MustStatus(c, 0)->epoch;
  for (int round = 0; round < 5; ++round) {
    auto tb = Clock::now();
    uint64_t from = cr.acked;
    bool built = cr.WaitAcked(round == 0 ? tail : from + tail / 4, 45000);
    BOOST_REQUIRE_MESSAGE(!cr.failed(), cr.Failure() << "\n" << c.Logs());
    BOOST_TEST_MESSAGE("round " << round << ": " << cr.acked << " creates acknowledged"
                                << (built ? "" : " (fewer than wanted: slow machine)") << ", "
                                << (cr.acked - from) * 1000 / static_cast<uint64_t>(std::max(1L, MsSince(tb)))
                                << " creates/s");
    std::vector<int> standbys;
    for (int i = 0; i < 3; ++i)
      if (i != active) standbys.push_back(i);
    c.mds(active).Kill9();
    auto t0 = Clock::now();
    int second = -1;
    std::string how;
    if (round % 2 == 0) {
      // Kill the standby taking over the instant it is seen: when the MDS
      // map or VOLUME/lock shows it won (it raised the epoch; replay has not
      // finished), or (round 2) when it reports active.
      bool by_lock = round != 2;
      while (second < 0 && MsSince(t0) < 10000) {
        if (by_lock) second = TakingOver(c, standbys, &how);
        for (int i : standbys) {
          if (second >= 0 || (by_lock && MsSince(t0) < 2000)) break;  // give the map a chance first
          auto st = QueryMds(c.address(i), 100);
          if (st && st->role == proto::Role::kActive) second = i, how = "reporting active";
        }
        if (second < 0) SleepMs(1);
      }
      BOOST_REQUIRE_MESSAGE(second >= 0, "no standby took over within 10 s\n" << c.Logs());
    } else {  // kill one standby a few ms into the takeover, whichever it is
      SleepMs(static_cast<long>(rng() % 10));
      second = standbys[rng() % 2];
      how = "at random";
    }
    long between_ms = MsSince(t0);
    c.mds(second).Kill9();
    long reaped_ms = MsSince(t0);
    int third = standbys[0] == second ? standbys[1] : standbys[0];
    uint64_t new_epoch = 0;
    int now = c.WaitActive(10000, epoch + 1, &new_epoch);
    long takeover_ms = MsSince(t0);
    BOOST_REQUIRE_MESSAGE(now == third, "round " << round << ": " << c.name(third) << " must complete the takeover"
                                                 << " (active: " << now << ")\n" << c.Logs());
    uint64_t before = cr.acked;
    BOOST_REQUIRE_MESSAGE(cr.WaitAcked(before + 100, 15000), "creates after the double takeover: " << cr.Failure()
                                                                                                 << "\n" << c.Logs());
    BOOST_TEST_MESSAGE("round " << round << ": kill -9 of " << c.name(active) << ", then of " << c.name(second)
                                << " (" << how << ") " << between_ms << " ms later (reaped at " << reaped_ms << " ms); " << c.name(third) << " active (epoch "
                                << new_epoch << ") " << takeover_ms << " ms after the first kill");
    BOOST_REQUIRE_MESSAGE(c.StartStandby(active) && c.StartStandby(second), "the killed MDSs must rejoin\n"
                                                                               << c.Logs());
    active = third;
    epoch = new_epoch;
  }
  cr.Stop();
  BOOST_REQUIRE_MESSAGE(!cr.failed(), cr.Failure() << "\n" << c.Logs());
  cl->reset();

  std::set<std::string> want;
  for (const auto& v : cr.names) want.insert(v.begin(), v.end());
  FuseMount mount(c.addresses(), c.dir() + "/mnt");
  BOOST_REQUIRE(mount.Mount());
  std::vector<std::string> got = ListDir(mount.path() + "/many");
  std::set<std::string> got_set(got.begin(), got.end());
  BOOST_TEST(got.size() == got_set.size(), "readdir lists no name twice");
  std::string missing, extra;
  size_t n_missing = 0, n_extra = 0;
  for (const auto& n : want)
    if (got_set.count(n) == 0 && n_missing++ < 10) missing += n + " ";
  for (const auto& n : got_set)
    if (want.count(n) == 0 && n_extra++ < 10) extra += n + " ";
  BOOST_TEST(n_missing == 0u, n_missing << " acknowledged creates missing, e.g. " << missing << "(seed " << seed << ")");
  BOOST_TEST(n_extra == 0u, n_extra << " names nobody was told about, e.g. " << extra);
  BOOST_TEST_MESSAGE(want.size() << " acknowledged creates checked");
  UnmountStopAndFsck(c, {&mount});
}

// ---------------------------------------------------------------------------
// 5. Bad input: each gives a clear error, and nothing is written.
namespace {

// The part of the log at path written after `from` bytes.
std::string LogSince(const std::string& path, size_t from) {
  std::string s = ReadWholeFile(path);
  return s.size() > from ? s.substr(from) : "";
}

void CreateSome(const std::string& addr, const std::string& prefix) {
  client::ClientOptions o;
  o.call_timeout_ms = 20000;
  auto cl = client::Client::Connect({addr}, o);
  BOOST_REQUIRE_MESSAGE(cl.ok(), cl.status().ToString());
  for (int i = 0; i < 50; ++i) {
    auto r = (*cl)->Call(CreateReq(fs::kRootIno, prefix + std::to_string(i)));
    BOOST_REQUIRE(r.ok() && r->err == 0);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(bad_input_same_address_other_volume) {
  Cluster first(1);
  BOOST_REQUIRE_MESSAGE(first.StartActive(0), first.Logs());
  CreateSome(first.address(0), "f");
  uint64_t epoch = MustStatus(first, 0)->epoch;
  Cluster second(1);  // another volume; its MDS is given first's address
  MdsProcess intruder(second.volume(), first.address(0), 30000, true);
  Configure(intruder, "x", 0);
  auto j1 = SnapshotJournal(first.volume());
  auto j2 = SnapshotJournal(second.volume());
  size_t log_from = ReadWholeFile(intruder.stderr_path()).size();

  BOOST_REQUIRE(intruder.Spawn());
  int rc = intruder.WaitExit(15000);
  intruder.Kill9();
  std::string err = LogSince(intruder.stderr_path(), log_from);
  BOOST_TEST_MESSAGE("an MDS of another volume on " << first.address(0) << " exited " << rc << " saying:\n" << err);
  BOOST_TEST((rc != -1 && rc != 0), "it exits non-zero (got " << rc << ", -1 = still running after 15 s)");
  std::string port = first.address(0).substr(first.address(0).rfind(':') + 1);
  BOOST_TEST((err.find(port) != std::string::npos || Lower(err).find("in use") != std::string::npos),
             "its message names the address or says it is in use");
  BOOST_TEST(JournalChanges(j1, SnapshotJournal(first.volume())) == "", "the serving volume's journal is untouched");
  BOOST_TEST(JournalChanges(j2, SnapshotJournal(second.volume())) == "", "nothing is written to the other volume");
  auto st = MustStatus(first, 0);
  BOOST_TEST((st->role == proto::Role::kActive && st->epoch == epoch), "the first MDS still serves, same epoch");
  CreateSome(first.address(0), "g");  // and answers clients
  BOOST_TEST(first.StopAll());
  std::string out;
  BOOST_TEST(RunFsck(first.volume(), &out) == 0, out);
}

BOOST_AUTO_TEST_CASE(bad_input_standby_store_of_another_volume) {
  namespace fsys = std::filesystem;
  std::string foreign;
  Cluster one(2);
  BOOST_REQUIRE_MESSAGE(one.StartActive(0) && one.StartStandby(1), one.Logs());
  CreateSome(one.address(0), "f");
  WaitCaughtUp(one, 1, 0, 20000);
  BOOST_REQUIRE(one.StopAll());
  foreign = one.volume() + "/mds/b/meta";
  BOOST_REQUIRE_MESSAGE(fsys::is_directory(foreign), "the standby b keeps its store at " << foreign);

  Cluster two(2);
  BOOST_REQUIRE_MESSAGE(two.StartActive(0), two.Logs());
  uint64_t epoch = MustStatus(two, 0)->epoch;
  std::string store = two.volume() + "/mds/b/meta";
  fsys::create_directories(two.volume() + "/mds/b");
  fsys::remove_all(store);
  fsys::copy(foreign, store, fsys::copy_options::recursive);
  std::string data_before = ReadWholeFile(store + "/data.mdb");
  auto j = SnapshotJournal(two.volume());
  size_t log_from = ReadWholeFile(two.mds(1).stderr_path()).size();

  BOOST_REQUIRE(two.mds(1).Spawn());
  int rc = two.mds(1).WaitExit(15000);
  two.mds(1).Kill9();
  std::string err = LogSince(two.mds(1).stderr_path(), log_from);
  BOOST_TEST_MESSAGE("a standby with another volume's store exited " << rc << "; the log since its start:\n" << err);
  BOOST_TEST((rc != -1 && rc != 0), "it exits non-zero (got " << rc << ", -1 = still running after 15 s)");
  std::string lower = Lower(err);
  BOOST_TEST((lower.find("uuid") != std::string::npos || lower.find("volume id") != std::string::npos ||
              lower.find("another volume") != std::string::npos || lower.find("different volume") != std::string::npos ||
              lower.find("belongs to volume") != std::string::npos),
             "its message says the store belongs to another volume");
  BOOST_TEST(JournalChanges(j, SnapshotJournal(two.volume())) == "", "the volume's journal is untouched");
  BOOST_TEST((ReadWholeFile(store + "/data.mdb") == data_before), "the foreign store is not written");
  auto st = MustStatus(two, 0);
  BOOST_TEST((st->role == proto::Role::kActive && st->epoch == epoch), "the active still serves, same epoch");
  BOOST_TEST(two.StopAll());
  fsys::remove_all(two.volume() + "/mds/b");  // the foreign store is not this volume's to check
  std::string out;
  BOOST_TEST(RunFsck(two.volume(), &out) == 0, out);
}
