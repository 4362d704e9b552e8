// Process-kill torture (issue 5, item 5): one random schedule of kill -9 and
// SIGSTOP of MDS processes, and of the FUSE client daemon, at random moments
// while writers run on a mount, with the failover tests' oracle: every
// operation the application saw succeed is there byte-exact, nothing is
// applied twice, the application never sees an error (EIO, ESTALE, ...) from
// an MDS failover, and `baton fsck` is clean at the end.
//
// The schedule: 2 or 3 MDSs on one volume with a short lease, one mount, and
// these events, each after a random pause:
//   K  kill -9 of the active; a standby takes over; the killed MDS is
//      restarted and rejoins as a standby.
//   S  SIGSTOP of the active until a standby takes over, then SIGCONT: the
//      deposed MDS must exit 3; it is restarted as a standby.
//   k  kill -9 of a standby; it is restarted.
//   C  kill -9 of the client daemon: the mount is dead. The writers stop
//      (each op cut short is resolved against what the file system holds:
//      done, not done, or for a write a prefix of its bytes); the test
//      unmounts, remounts, checks the whole tree and starts the writers again.
//      Every operation acknowledged before the kill must be there, fsync'd or
//      not: a reply from the MDS means durable (docs/ARCHITECTURE.md).
//   P  SIGSTOP of the client daemon for 50-800 ms, half the time with a
//      kill -9 of the active while it is stopped; then SIGCONT: the writers
//      go on without an error.
// K and S are the failovers counted by BATON_TORTURE_FAILOVERS (default 200);
// the k, C and P events come on top. The tree is checked against the model every
// ~10 failovers, after every C, and at the end, on the mount and on a fresh
// mount; then every MDS is stopped and fsck must be clean. An MDS that exits
// on its own is restarted if it exited 3 (deposed: its lease lapsed under
// load, counted as an unplanned takeover); any other exit (a fail-stop, a
// crash) fails the test with the last errors of the MDS log.
//
// BATON_SEED reruns a schedule (printed at the start). A back-to-back event
// (pause under 20 ms) kills or stops the new active before the writers have
// necessarily gone on after the previous takeover.
// BATON_TORTURE_KEEP_LOGS=DIR copies the MDS and client logs there at the end.
#define BOOST_TEST_MODULE kill_torture_test
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/failover/failover_util.h"
#include "tests/fuse/mount_fixture.h"

using namespace baton;
using namespace baton::testing;
using namespace baton::testing::failover;

namespace {

enum class Kind { kKillActive, kStopActive, kKillStandby, kKillClient, kStopClient };

char Letter(Kind k) {
  switch (k) {
    case Kind::kKillActive: return 'K';
    case Kind::kStopActive: return 'S';
    case Kind::kKillStandby: return 'k';
    case Kind::kKillClient: return 'C';
    case Kind::kStopClient: return 'P';
  }
  return '?';
}

struct Event {
  Kind kind;
  long delay_ms;  // the pause before it
  uint64_t pick;  // which standby (k); how long, and whether the active dies meanwhile (P)
};

// `failovers` K/S events, plus k, C and P events at random places; none of
// these comes first.
std::vector<Event> MakeSchedule(std::mt19937_64& rng, int failovers) {
  std::vector<Kind> kinds;
  for (int i = 0; i < failovers; ++i) kinds.push_back(rng() % 100 < 65 ? Kind::kKillActive : Kind::kStopActive);
  int standby_kills = std::max(1, failovers / 8);
  int client_kills = std::max(1, failovers / 50);
  for (int i = 0; i < standby_kills; ++i)
    kinds.insert(kinds.begin() + 1 + static_cast<long>(rng() % kinds.size()), Kind::kKillStandby);
  for (int i = 0; i < client_kills; ++i)
    kinds.insert(kinds.begin() + 1 + static_cast<long>(rng() % kinds.size()), Kind::kKillClient);
  int client_stops = std::max(2, failovers / 20);
  for (int i = 0; i < client_stops; ++i)
    kinds.insert(kinds.begin() + 1 + static_cast<long>(rng() % kinds.size()), Kind::kStopClient);
  std::vector<Event> events;
  for (Kind k : kinds) {
    long delay = rng() % 100 < 15 ? static_cast<long>(rng() % 20) : 30 + static_cast<long>(rng() % 371);
    events.push_back(Event{k, delay, rng()});
  }
  return events;
}

std::string DescribeSchedule(const std::vector<Event>& events) {
  std::ostringstream s;
  for (size_t i = 0; i < events.size(); ++i) s << (i % 20 == 0 ? "\n  " : " ") << Letter(events[i].kind) << events[i].delay_ms;
  return s.str();
}

// Copies the logs to $BATON_TORTURE_KEEP_LOGS (if set) on every exit path.
class KeepLogs {
 public:
  KeepLogs(std::vector<std::string> paths, uint64_t seed) : paths_(std::move(paths)), seed_(seed) {}
  ~KeepLogs() {
    const char* dir = std::getenv("BATON_TORTURE_KEEP_LOGS");
    if (dir == nullptr) return;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    for (const auto& p : paths_) {
      std::string to = std::string(dir) + "/seed" + std::to_string(seed_) + "-" + std::filesystem::path(p).filename().string();
      std::filesystem::copy_file(p, to, std::filesystem::copy_options::overwrite_existing, ec);
    }
  }

 private:
  std::vector<std::string> paths_;
  uint64_t seed_;
};

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

// The sum of N over the client's "re-sending N requests" log lines.
uint64_t ResentRequests(const std::string& log_path) {
  std::string log = ReadWholeFile(log_path);
  uint64_t total = 0;
  const std::string key = "re-sending ";
  for (size_t at = log.find(key); at != std::string::npos; at = log.find(key, at + 1))
    total += std::strtoull(log.c_str() + at + key.size(), nullptr, 10);
  return total;
}

// The last n lines of the log at path that hold "ERROR".
std::string ErrorLines(const std::string& path, size_t n) {
  std::vector<std::string> lines;
  std::istringstream in(ReadWholeFile(path));
  for (std::string line; std::getline(in, line);)
    if (line.find("ERROR") != std::string::npos) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += "  " + lines[i] + "\n";
  return out;
}

// Lines naming each journal file of an epoch below `epoch` that changed
// (size or mtime) or appeared between two snapshots.
std::string OldEpochChanges(const std::map<std::string, SegmentFile>& before,
                            const std::map<std::string, SegmentFile>& after, uint64_t epoch) {
  std::string out;
  for (const auto& [name, f] : before) {
    auto it = after.find(name);
    if (f.epoch < epoch && it != after.end() && (it->second.size != f.size || it->second.mtime_ns != f.mtime_ns))
      out += name + " (epoch " + std::to_string(f.epoch) + ") size " + std::to_string(f.size) + " -> " +
             std::to_string(it->second.size) + "; ";
  }
  for (const auto& [name, f] : after)
    if (before.count(name) == 0 && f.epoch < epoch) out += "new " + name + " of epoch " + std::to_string(f.epoch) + "; ";
  return out;
}

struct Stats {
  std::map<char, int> done;  // by letter
  int unplanned = 0;         // takeovers no event caused (a lease lapsed under load)
  int back_to_back = 0;
  int client_stop_kills = 0;  // P with a kill -9 of the active while the client was stopped
  int checks = 0;
  int residual_writes = 0;   // S: an old-epoch segment changed after SIGCONT (the documented residual window)
  long worst_takeover_ms[2] = {0, 0};  // K, S
  long worst_stall_ms = 0;
  size_t client_kill_files = 0, client_kill_synced = 0;
};

}  // namespace

BOOST_AUTO_TEST_CASE(kill_torture) {
  const uint64_t seed = SeedFromEnv();
  std::mt19937_64 rng(seed);
  const int failovers = static_cast<int>(EnvU64("BATON_TORTURE_FAILOVERS", 200));
  const int n_mds = 2 + static_cast<int>(rng() % 2);
  const uint32_t lease_ms = 300 + static_cast<uint32_t>(rng() % 201);
  const int writers = 2 + static_cast<int>(rng() % 3);
  const std::vector<Event> events = MakeSchedule(rng, failovers);
  BOOST_TEST_MESSAGE("seed " << seed << " (rerun with BATON_SEED=" << seed << "): " << n_mds << " MDSs, lease "
                             << lease_ms << " ms, " << writers << " writers, " << failovers << " failovers, "
                             << events.size() << " events (K kill -9 active, S SIGSTOP active, k kill -9 standby,"
                             << " C kill -9 client, P SIGSTOP client; the number is the pause before it in ms):"
                             << DescribeSchedule(events));
  auto start = Clock::now();

  Cluster c(n_mds, lease_ms);
  BOOST_REQUIRE_MESSAGE(c.StartActive(0), "MDS a must come up active\n" << c.Logs());
  for (int i = 1; i < n_mds; ++i)
    BOOST_REQUIRE_MESSAGE(c.StartStandby(i), "MDS " << c.name(i) << " must come up standby\n" << c.Logs());
  Workload w(c.dir() + "/mnt", writers, seed);
  FuseMount mount(c.addresses(), c.dir() + "/mnt");
  KeepLogs keep({c.mds(0).stderr_path(), mount.log_path()}, seed);
  BOOST_REQUIRE(mount.Mount());
  StopWriters stopper(w, mount);
  w.Start();
  BOOST_REQUIRE_MESSAGE(w.WaitProgress(50, 20000), "writers before any event: " << w.failure());

  Stats stats;
  uint64_t epoch = 0;
  int since_check = 0;

  // Stops the writers, compares the mount with the model, starts them again.
  auto check = [&](const char* when) {
    BOOST_REQUIRE_MESSAGE(stopper.Stop(), "the writers hung (" << when << "): " << w.failure() << "\n" << c.Logs());
    BOOST_REQUIRE_MESSAGE(!w.failed(), w.failure() << "\n" << c.Logs());
    auto t0 = Clock::now();
    std::string diff = w.Verify(mount.path());
    BOOST_REQUIRE_MESSAGE(diff.empty(), "the mount differs from what the writers were told (" << when << ", seed "
                                                                                              << seed << "):\n" << diff);
    ++stats.checks;
    since_check = 0;
    BOOST_TEST_MESSAGE("check " << stats.checks << " (" << when << "): " << w.ModelFiles() << " files match the model ("
                                << MsSince(t0) << " ms); " << w.ops() << " ops so far");
    w.Start();
  };

  // Reaps MDSs that exited on their own: a deposed one (exit 3, its lease
  // lapsed under load) is restarted; any other exit is a crash.
  auto reap_unplanned = [&](const std::string& when) {
    for (int i = 0; i < n_mds; ++i) {
      int rc = ReapIfExited(c.mds(i));
      if (rc == -1) continue;
      BOOST_REQUIRE_MESSAGE(rc == 3, "MDS " << c.name(i) << " exited with status " << rc << " on its own (" << when
                                            << ", seed " << seed << "); the last errors in the MDS log:\n"
                                            << ErrorLines(c.mds(i).stderr_path(), 5) << c.Logs());
      BOOST_TEST_MESSAGE("MDS " << c.name(i) << " stepped down on its own (exit 3) " << when << "; restarting it");
      BOOST_REQUIRE_MESSAGE(c.StartStandby(i), c.name(i) << " restarted must rejoin as standby\n" << c.Logs());
    }
  };

  for (size_t ev = 0; ev < events.size(); ++ev) {
    const Event& e = events[ev];
    const bool next_quick = ev + 1 < events.size() && events[ev + 1].delay_ms < 20;
    const std::string tag = "event " + std::to_string(ev) + " " + Letter(e.kind);
    w.iteration = ev;
    SleepMs(e.delay_ms);
    BOOST_REQUIRE_MESSAGE(!w.failed(), tag << ": " << w.failure() << "\n" << c.Logs());
    reap_unplanned("before " + tag);
    uint64_t now_epoch = 0;
    int active = c.WaitActive(10000, epoch, &now_epoch);
    BOOST_REQUIRE_MESSAGE(active >= 0, tag << ": no MDS is active with epoch >= " << epoch << " (seed " << seed << ")\n"
                                           << c.Logs());
    if (epoch != 0 && now_epoch != epoch) {
      ++stats.unplanned;
      BOOST_TEST_MESSAGE(tag << ": the epoch moved from " << epoch << " to " << now_epoch << " with no event");
      reap_unplanned("after the unplanned takeover before " + tag);  // the MDS it replaced must have exited 3
    }
    epoch = now_epoch;
    if (e.delay_ms < 20) ++stats.back_to_back;
    w.TakeMaxOpMs();
    std::ostringstream msg;
    msg << tag << " after " << e.delay_ms << " ms: ";

    if (e.kind == Kind::kKillActive || e.kind == Kind::kStopActive) {
      const bool stop = e.kind == Kind::kStopActive;
      pid_t pid = c.mds(active).pid();
      ContinueGuard cont(pid);
      auto t0 = Clock::now();
      uint64_t new_epoch = 0;
      int now = -1;
      std::string old_changes;
      if (!stop) {
        c.mds(active).Kill9();
        now = c.WaitActive(10000, epoch + 1, &new_epoch);
      } else {
        BOOST_REQUIRE(::kill(pid, SIGSTOP) == 0);
        now = c.WaitActiveExcept(active, static_cast<int>(lease_ms) + 10000, epoch + 1, &new_epoch);
      }
      long takeover_ms = MsSince(t0);
      if (now < 0) reap_unplanned("when no MDS took over at " + tag);  // one that crashed says so
      BOOST_REQUIRE_MESSAGE(now >= 0 && now != active,
                            tag << ": after " << (stop ? "SIGSTOP" : "kill -9") << " of " << c.name(active)
                                << " no other MDS became active with epoch > " << epoch << " within "
                                << takeover_ms << " ms (seed " << seed << ")\n" << c.Logs());
      msg << (stop ? "SIGSTOP" : "kill -9") << " of " << c.name(active) << " (epoch " << epoch << "); " << c.name(now)
          << " active (epoch " << new_epoch << ") after " << takeover_ms << " ms";
      if (stop) {
        auto journal_at_takeover = SnapshotJournal(c.volume());
        BOOST_REQUIRE(::kill(pid, SIGCONT) == 0);
        cont.Release();
        auto t1 = Clock::now();
        int rc = c.mds(active).WaitExit(5000);
        BOOST_REQUIRE_MESSAGE(rc == 3, tag << ": the deposed " << c.name(active)
                                           << " must exit 3 within 5 s of SIGCONT (got " << rc
                                           << ", -1 = still running; seed " << seed << ")\n" << c.Logs());
        msg << "; " << c.name(active) << " exited 3 " << MsSince(t1) << " ms after SIGCONT";
        old_changes = OldEpochChanges(journal_at_takeover, SnapshotJournal(c.volume()), new_epoch);
        if (!old_changes.empty()) {
          ++stats.residual_writes;
          msg << "; old-epoch journal changed after SIGCONT (residual window): " << old_changes;
        }
      }
      if (!next_quick) {
        bool going = w.WaitProgress(3, 15000);
        BOOST_REQUIRE_MESSAGE(going, tag << ": the writers did not go on after the takeover: " << w.failure()
                                         << " (seed " << seed << ")\n" << c.Logs());
        msg << "; writers going after " << MsSince(t0) << " ms";
      }
      auto t2 = Clock::now();
      BOOST_REQUIRE_MESSAGE(c.StartStandby(active), tag << ": restarted " << c.name(active)
                                                        << " must rejoin as standby\n" << c.Logs());
      msg << "; " << c.name(active) << " standby again after " << MsSince(t2) << " ms";
      long& worst = stats.worst_takeover_ms[stop ? 1 : 0];
      worst = std::max(worst, takeover_ms);
      epoch = new_epoch;
      ++since_check;
    } else if (e.kind == Kind::kKillStandby) {
      std::vector<int> standbys;
      for (int i = 0; i < n_mds; ++i)
        if (i != active && c.mds(i).running()) standbys.push_back(i);
      BOOST_REQUIRE_MESSAGE(!standbys.empty(), tag << ": no standby running\n" << c.Logs());
      int s = standbys[e.pick % standbys.size()];
      c.mds(s).Kill9();
      msg << "kill -9 of the standby " << c.name(s);
      if (!next_quick) {
        BOOST_REQUIRE_MESSAGE(w.WaitProgress(3, 15000), tag << ": the writers stopped after kill -9 of a standby: "
                                                            << w.failure() << "\n" << c.Logs());
      }
      BOOST_REQUIRE_MESSAGE(c.StartStandby(s), tag << ": restarted " << c.name(s) << " must rejoin as standby\n"
                                                   << c.Logs());
      msg << "; standby again";
    } else if (e.kind == Kind::kStopClient) {
      const long stop_ms = 50 + static_cast<long>(e.pick % 751);
      const bool kill_active = (e.pick >> 32) % 2 == 0;
      pid_t cpid = mount.pid();
      ContinueGuard cont(cpid);
      auto t0 = Clock::now();
      BOOST_REQUIRE(::kill(cpid, SIGSTOP) == 0);
      msg << "SIGSTOP of the client daemon for " << stop_ms << " ms";
      uint64_t new_epoch = 0;
      if (kill_active) {
        c.mds(active).Kill9();
        int now = c.WaitActive(10000, epoch + 1, &new_epoch);
        if (now < 0) reap_unplanned("when no MDS took over at " + tag);
        BOOST_REQUIRE_MESSAGE(now >= 0 && now != active, tag << ": after kill -9 of " << c.name(active)
                                                             << " (the client stopped) no other MDS became active"
                                                             << " (seed " << seed << ")\n" << c.Logs());
        msg << ", meanwhile kill -9 of " << c.name(active) << " (epoch " << epoch << "): " << c.name(now)
            << " active (epoch " << new_epoch << ") after " << MsSince(t0) << " ms";
      }
      long left = stop_ms - MsSince(t0);
      if (left > 0) SleepMs(left);
      BOOST_REQUIRE(::kill(cpid, SIGCONT) == 0);
      cont.Release();
      auto t1 = Clock::now();
      BOOST_REQUIRE_MESSAGE(w.WaitProgress(3, 15000), tag << ": the writers did not go on after SIGCONT of the client: "
                                                          << w.failure() << " (seed " << seed << ")\n" << c.Logs());
      msg << "; writers going " << MsSince(t1) << " ms after SIGCONT";
      if (kill_active) {
        BOOST_REQUIRE_MESSAGE(c.StartStandby(active), tag << ": restarted " << c.name(active)
                                                          << " must rejoin as standby\n" << c.Logs());
        epoch = new_epoch;
        ++stats.client_stop_kills;
      }
    } else {  // kill -9 of the client daemon
      w.SetMountMayDie(true);
      auto t0 = Clock::now();
      BOOST_REQUIRE(::kill(mount.pid(), SIGKILL) == 0);
      bool stopped = w.Stop(20000);
      BOOST_REQUIRE_MESSAGE(stopped, tag << ": writers still in an op 20 s after kill -9 of the client daemon");
      BOOST_REQUIRE_MESSAGE(!w.failed(), tag << ": an error other than ENOTCONN/ECONNABORTED after kill -9 of the "
                                             << "client: " << w.failure() << "\n" << c.Logs());
      int interrupted = w.InterruptedWriters();
      mount.KillDaemon9();  // reaps it and detaches the dead mount
      size_t files = w.ModelFiles(), synced = w.ModelSyncedFiles();
      // A request the dead daemon had sent may still be in the active's
      // socket buffer: wait until the active's applied LSN stands still
      // before looking (nothing else writes now).
      SleepMs(100);
      for (uint64_t last = ~0ull; MsSince(t0) < 5000; SleepMs(100)) {
        auto st = QueryMds(c.address(active), 500);
        uint64_t lsn = st ? st->applied_lsn : ~0ull - 1;
        if (lsn == last) break;
        last = lsn;
      }
      BOOST_REQUIRE_MESSAGE(mount.Mount(), tag << ": remount after kill -9 of the client\n" << c.Logs());
      std::string how;
      std::string bad = w.ResolveInterrupted(mount.path(), &how);
      BOOST_TEST_MESSAGE(tag << ": " << interrupted << " writers cut short:\n" << how);
      BOOST_REQUIRE_MESSAGE(bad.empty(), tag << ": ops cut short by kill -9 of the client left states they cannot "
                                             << "(seed " << seed << "):\n" << bad);
      std::string diff = w.Verify(mount.path());
      BOOST_REQUIRE_MESSAGE(diff.empty(), tag << ": after kill -9 of the client and a remount, the tree differs from"
                                              << " what the writers were told (" << files << " files, " << synced
                                              << " fsync'd since their last change; seed " << seed << "):\n" << diff);
      stats.client_kill_files += files;
      stats.client_kill_synced += synced;
      ++stats.checks;
      since_check = 0;
      w.SetMountMayDie(false);
      w.Start();
      BOOST_REQUIRE_MESSAGE(w.WaitProgress(3, 15000), tag << ": writers after the remount: " << w.failure());
      msg << "kill -9 of the client daemon; " << interrupted << " writers cut short; remounted; all " << files
          << " files (" << synced << " fsync'd since their last change) match; writers going after " << MsSince(t0)
          << " ms";
    }
    ++stats.done[Letter(e.kind)];
    long stall = w.TakeMaxOpMs();
    stats.worst_stall_ms = std::max(stats.worst_stall_ms, stall);
    BOOST_TEST_MESSAGE(msg.str() << "; longest op " << stall << " ms; " << w.ops() << " ops");
    BOOST_REQUIRE_MESSAGE(!w.failed(), tag << ": " << w.failure() << "\n" << c.Logs());
    if (since_check >= 10 && !next_quick) check(("after " + tag).c_str());
  }
  reap_unplanned("at the end");
  long run_ms = MsSince(start);

  BOOST_REQUIRE_MESSAGE(stopper.Stop(), "the writers hung at the end: " << w.failure() << "\n" << c.Logs());
  BOOST_REQUIRE_MESSAGE(!w.failed(), w.failure() << "\n" << c.Logs());
  std::string diff = w.Verify(mount.path());
  BOOST_TEST(diff.empty(), "at the end the mount differs from what the writers were told (seed " << seed << "):\n"
                                                                                                 << diff);
  SleepMs(1100);  // the kernel's entry and attribute caches (1 s) expire
  FuseMount fresh(c.addresses(), c.dir() + "/fresh");
  BOOST_REQUIRE(fresh.Mount());
  diff = w.Verify(fresh.path());
  BOOST_TEST(diff.empty(), "a fresh mount differs from what the writers were told (seed " << seed << "):\n" << diff);
  BOOST_TEST((ListDir(fresh.path()) == w.TopNames()), "the root holds only the writers' directories");
  uint64_t resent = ResentRequests(mount.log_path());

  BOOST_TEST(fresh.Unmount() == 0, "the fresh mount's daemon exits 0");
  BOOST_TEST(mount.Unmount() == 0, "the mount's daemon exits 0");
  BOOST_TEST(c.StopAll(), "every MDS stops cleanly on SIGTERM\n" << c.Logs());
  std::string out;
  int rc = RunFsck(c.volume(), &out);
  BOOST_TEST(rc == 0, "baton fsck " << c.volume() << " exits 0 (got " << rc << "; seed " << seed << "); it said:\n"
                                    << out);

  BOOST_TEST(stats.done['K'] + stats.done['S'] == failovers);
  BOOST_TEST_MESSAGE("seed " << seed << ": " << failovers << " failovers in " << run_ms << " ms (" << n_mds
                             << " MDSs, lease " << lease_ms << " ms, " << writers << " writers): "
                             << stats.done['K'] << " kill -9 of the active, " << stats.done['S']
                             << " SIGSTOP of the active (each deposed MDS exited 3), " << stats.done['k']
                             << " kill -9 of a standby, " << stats.done['C'] << " kill -9 of the client daemon, "
                             << stats.done['P'] << " SIGSTOP of the client daemon (" << stats.client_stop_kills
                             << " with a kill -9 of the active meanwhile); "
                             << stats.back_to_back << " back to back; " << stats.unplanned
                             << " unplanned takeovers; worst takeover " << stats.worst_takeover_ms[0]
                             << " ms after kill -9, " << stats.worst_takeover_ms[1] << " ms after SIGSTOP; worst op "
                             << stats.worst_stall_ms << " ms; " << w.ops() << " ops, " << stats.checks + 2
                             << " checks of the tree, last " << w.ModelFiles() << " files; at the client kills "
                             << stats.client_kill_files << " files checked, " << stats.client_kill_synced
                             << " of them fsync'd since their last change; the client re-sent " << resent
                             << " requests; old-epoch journal files written after SIGCONT " << stats.residual_writes
                             << " times; total " << MsSince(start) << " ms");
}
