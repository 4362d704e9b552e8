// baton_failover_bench: what an application sees when the active MDS fails
// over (docs/PERFORMANCE.md, "Failover"). Two MDSs on one volume in a temp
// dir and a FUSE mount over both; a writer does one 64-byte pwrite + fsync per
// millisecond on the mount and keeps the completion time of every op.
//   1. a few seconds without failover (the writer's own gaps);
//   2. --kills times: kill -9 the active; the standby takes over; restart the
//      killed one and wait until it reports standby with lag 0;
//   3. --stops times: SIGSTOP the active; wait for the takeover (after the
//      lease) and for the writer to move; SIGCONT the old one, which must exit
//      3; restart it as a standby;
//   4. threads create empty files on the mount while the standby's STATUS lag
//      is sampled every 50 ms;
//   5. (unmounted) kill -9 the standby, --replay-records creates on the active
//      through the client library, kill -9 the active, start the standby
//      again: it replays the whole tail before it answers as active.
// Prints the stall p50/p99/max per kind, every event, the lag and the replay.
// Never asserts on time.
//
// Exit status: 0 every phase ran and everything was cleaned up; 1 a phase
// failed (the report shows what was measured); 2 bad usage; 77 skipped (no
// /dev/fuse or fusermount3).
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "bench/failover/cluster.h"
#include "bench/failover/phases.h"
#include "bench/failover/procs.h"
#include "bench/failover/report.h"
#include "bench/failover/tick_writer.h"

namespace baton::bench::failover {
namespace {

struct Options {
  bool quick = false;
  std::string baton_bin;
  std::string parent_dir;
  int kills = 20, stops = 5;
  int64_t baseline_ms = 3000;
  int lag_threads = 4;
  int64_t lag_ms = 10000;
  uint64_t replay_records = 100000;
  int replay_threads = 16;
  int64_t lease_ms = 2000;
  uint64_t seed = 0;
};

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: baton_failover_bench [options]\n"
               "  --quick               smoke run: 3 kill -9, 1 SIGSTOP, 2 s of load, 20,000 records behind\n"
               "  --baton PATH          the baton binary (default: BUILD/tools/baton next to this binary)\n"
               "  --dir DIR             parent of the temp dir (default $TMPDIR or /tmp)\n"
               "  --kills N             kill -9 failovers (default 20)\n"
               "  --stops N             SIGSTOP failovers (default 5)\n"
               "  --lag-seconds S       create load while sampling the standby's lag (default 10)\n"
               "  --lag-threads N       creating threads (default 4)\n"
               "  --replay-records N    creates the standby must replay at takeover (default 100000)\n"
               "  --lease-ms N          the MDSs' --lease-ms (default 2000)\n"
               "  --seed N              seed of the pauses between events (default: from the clock)\n");
}

// Options that take a value, and where it goes.
bool SetValue(const std::string& name, const char* v, Options* o) {
  if (name == "--baton") return o->baton_bin = v, true;
  if (name == "--dir") return o->parent_dir = v, true;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (*v == '\0' || *end != '\0') return false;
  if (name == "--kills") o->kills = static_cast<int>(n);
  else if (name == "--stops") o->stops = static_cast<int>(n);
  else if (name == "--lag-seconds") o->lag_ms = static_cast<int64_t>(n) * 1000;
  else if (name == "--lag-threads") o->lag_threads = std::max(1, static_cast<int>(n));
  else if (name == "--replay-records") o->replay_records = n;
  else if (name == "--lease-ms") o->lease_ms = static_cast<int64_t>(n);
  else if (name == "--seed") o->seed = n;
  else return false;
  return true;
}

// --quick sets smaller defaults first; every other option then wins over them.
bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; i++)
    if (std::strcmp(argv[i], "--quick") == 0) {
      o->quick = true;
      o->kills = 3;
      o->stops = 1;
      o->baseline_ms = 1000;
      o->lag_ms = 2000;
      o->replay_records = 20000;
    }
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--quick") continue;
    if (a == "-h" || a == "--help") {
      Usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc || !SetValue(a, argv[i + 1], o)) {
      std::fprintf(stderr, "failover_bench: bad option or value: %s\n", a.c_str());
      return false;
    }
    i++;
  }
  return true;
}

std::string DefaultBaton() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string exe(buf, static_cast<size_t>(n));
  std::string dir = exe.substr(0, exe.rfind('/'));  // BUILD/bench/failover
  return dir + "/../../tools/baton";
}

std::string Machine(const std::string& dir) {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  std::ifstream load_in("/proc/loadavg");
  std::string l1, l5, l15;
  load_in >> l1 >> l5 >> l15;
  utsname u{};
  ::uname(&u);
  return std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " vCPU (" + model + "), kernel " + u.release + ", temp dir on " +
         dir + ", load " + l1 + " " + l5 + " " + l15;
}

std::string CommandLine(int argc, char** argv) {
  std::string s = "baton_failover_bench";
  for (int i = 1; i < argc; i++) s += std::string(" ") + argv[i];
  return s;
}

// The writer's part of the report, once it has stopped.
struct WriterRun {
  uint64_t baseline_from_ns = 0, baseline_to_ns = 0;
  bool finished = false;
};

bool FinishWriter(TickWriter& writer, WriterRun* run, Report* rep, std::string* error) {
  if (run->finished) return true;
  writer.Stop();
  run->finished = true;
  std::vector<uint64_t> c = writer.completions();
  if (run->baseline_to_ns != 0) rep->baseline = MeasureBaseline(c, run->baseline_from_ns, run->baseline_to_ns);
  ComputeStalls(c, &rep->events);
  if (writer.errors() != 0)
    return *error = std::to_string(writer.errors()) + " writer ops failed; the first: " + writer.first_error(), false;
  return true;
}

bool RunPhases(const Options& o, Cluster& cluster, TickWriter& writer, WriterRun* wrun, Report* rep,
               std::string* error) {
  if (!cluster.Start(error)) return false;
  int active = 0;
  if (!writer.Start(cluster.mountpoint() + "/ticks", error)) return false;
  if (!writer.WaitCompletionAfter(NowNs(), 10000)) return *error = "the writer does not get going", false;
  wrun->baseline_from_ns = NowNs();
  SleepMs(o.baseline_ms);
  wrun->baseline_to_ns = NowNs();
  std::mt19937_64 rng(o.seed);
  FailoverOptions fo;
  fo.lease_ms = o.lease_ms;
  if (!RunFailovers(cluster, writer, FailoverKind::kKill, o.kills, fo, rng, &active, &rep->events, error) ||
      !RunFailovers(cluster, writer, FailoverKind::kStop, o.stops, fo, rng, &active, &rep->events, error) ||
      !FinishWriter(writer, wrun, rep, error))
    return false;
  std::fprintf(stderr, "failover_bench: create load for %lld ms, sampling the standby's lag\n",
               static_cast<long long>(o.lag_ms));
  rep->have_lag = true;
  if (!RunLagUnderLoad(cluster, active, o.lag_threads, o.lag_ms, &rep->lag, error)) return false;
  if (!cluster.Unmount(error)) return false;
  std::fprintf(stderr, "failover_bench: %llu records behind a dead standby, then its takeover\n",
               static_cast<unsigned long long>(o.replay_records));
  rep->have_replay = RunReplayTail(cluster, &active, o.replay_records, o.replay_threads, &rep->replay, error);
  return rep->have_replay;
}

// What must be gone after the teardown.
struct Leftovers {
  std::string mountpoint;
  std::vector<pid_t> pids;
};

// Runs the phases in work and tears the cluster down (also after a failure).
bool RunInDir(const Options& o, const std::string& work, Report* rep, Leftovers* left) {
  ClusterConfig cc;
  cc.baton_bin = o.baton_bin;
  cc.work_dir = work;
  cc.lease_ms = o.lease_ms;
  TickWriter writer;  // destroyed after the cluster: a writer stuck in the mount is freed by its teardown
  Cluster cluster(cc);
  WriterRun wrun;
  std::string error;
  bool ok = RunPhases(o, cluster, writer, &wrun, rep, &error);
  if (!ok) {
    std::fprintf(stderr, "failover_bench: FAILED: %s\n", error.c_str());
    std::fprintf(stderr, "failover_bench: the mount's log:\n%s\n", FileTail(work + "/logs/mount.log", 3000).c_str());
  }
  left->mountpoint = cluster.mountpoint();
  left->pids = {cluster.mds(0).pid, cluster.mds(1).pid, cluster.mount_pid()};
  if (!cluster.Shutdown(&error)) {  // unmounts first, which frees a stuck writer
    std::fprintf(stderr, "failover_bench: teardown: %s\n", error.c_str());
    ok = false;
  }
  if (!FinishWriter(writer, &wrun, rep, &error)) {
    std::fprintf(stderr, "failover_bench: FAILED: %s\n", error.c_str());
    ok = false;
  }
  return ok;
}

// A fresh temp dir for RunInDir; checks that nothing is left afterwards.
int RunBench(const Options& o, Report* rep) {
  std::string tmpl = o.parent_dir + "/baton-failover-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return std::perror("mkdtemp"), 1;
  std::string work = buf.data();
  RegisterWorkDir(work);
  Leftovers left;
  bool ok = RunInDir(o, work, rep, &left);
  RunCommand({"rm", "-rf", work}, "");
  RegisterWorkDir("");
  bool dirty = IsMounted(left.mountpoint) || ::access(work.c_str(), F_OK) == 0;
  for (pid_t p : left.pids)
    if (p > 0 && ::kill(p, 0) == 0) dirty = true;
  if (dirty) std::fprintf(stderr, "failover_bench: cleanup left a mount, a process or %s\n", work.c_str());
  return ok && !dirty ? 0 : 1;
}

}  // namespace
}  // namespace baton::bench::failover

int main(int argc, char** argv) {
  using namespace baton::bench::failover;
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    Usage(stderr);
    return 2;
  }
  if (o.baton_bin.empty()) o.baton_bin = DefaultBaton();
  if (o.parent_dir.empty()) o.parent_dir = ::getenv("TMPDIR") != nullptr ? ::getenv("TMPDIR") : "/tmp";
  if (o.seed == 0) o.seed = NowNs();
  if (::access(o.baton_bin.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "failover_bench: not executable: %s (use --baton)\n", o.baton_bin.c_str());
    return 2;
  }
  if (::access("/dev/fuse", R_OK | W_OK) != 0 || RunCommand({"fusermount3", "--version"}, "") != 0) {
    std::fprintf(stderr, "failover_bench: skipped: no /dev/fuse or fusermount3\n");
    return 77;
  }
  InstallSignalCleanup();
  Report rep;
  rep.command = CommandLine(argc, argv);
  rep.machine = Machine(o.parent_dir);
  rep.seed = std::to_string(o.seed);
  std::fprintf(stderr, "failover_bench: %s (seed %s)\n", rep.command.c_str(), rep.seed.c_str());
  int rc = RunBench(o, &rep);
  PrintReport(rep);
  if (rc == 0) std::fprintf(stderr, "failover_bench: every phase ran; mounts, processes and the temp dir cleaned up\n");
  return rc;
}
