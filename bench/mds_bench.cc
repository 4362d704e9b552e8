// baton_bench: BatonFS against baselines, side by side in one run.
//
//   1. metadata ops (create, stat, unlink) through the MDS on loopback with
//      1, 4 and 16 client sessions vs the same ops on the local file system;
//   2. create + write 4 KiB + fsync through the MDS vs open+write+fsync+close;
//   3. journal replay (mds::ReplayJournal) vs a raw sequential read() of the
//      same journal files.
// Prints absolute numbers and ratios (BatonFS / baseline); never asserts on
// time. Exit status: 0 all phases ran, 1 a phase failed, 2 bad usage.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/log.h"
#include "bench/bench_util.h"
#include "bench/meta_phase.h"
#include "bench/replay_phase.h"
#include "bench/report.h"
#include "volume/volume.h"

namespace baton::bench {
namespace {

const char* kHelp =
    "usage: baton_bench [options]\n"
    "  --ops N              metadata ops per phase, total over all clients (default 100000)\n"
    "  --fsync-ops N        create+write+fsync ops per run (default 10000)\n"
    "  --replay-records N   journal records to replay (default 1000000)\n"
    "  --dir DIR            where volumes and baseline dirs go (default /tmp)\n"
    "  --baton PATH         the baton binary (default $BATON_BIN, else ../tools/baton next to this binary)\n"
    "  --clients LIST       client counts for the metadata section (default 1,4,16)\n"
    "  --sections LIST      comma list of meta,fsync,replay (default all)\n"
    "  --quick              smoke run: 2000 ops, 200 fsync ops, 20000 replay records\n"
    "  --json FILE          also write the results as JSON\n"
    "  --mds-arg ARG        pass ARG to `baton mds` (repeat for more; e.g.\n"
    "                       --mds-arg --store-commit-ms --mds-arg 0)\n";

struct Options {
  uint64_t ops = 100000;
  uint64_t fsync_ops = 10000;
  uint64_t replay_records = 1000000;
  std::string dir = "/tmp";
  std::string baton;
  std::string sections = "meta,fsync,replay";
  std::vector<int> clients = {1, 4, 16};
  std::vector<std::string> mds_args;
  std::string json;
  std::string command;
};

bool ParseClients(const char* s, std::vector<int>* out) {
  out->clear();
  std::string list = std::string(s) + ",";
  for (size_t pos = 0, comma; (comma = list.find(',', pos)) != std::string::npos; pos = comma + 1) {
    int n = std::atoi(list.substr(pos, comma - pos).c_str());
    if (n < 1 || n > 1024) return false;
    out->push_back(n);
  }
  return !out->empty();
}

bool ParseU64(const char* s, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v == 0) return false;
  *out = v;
  return true;
}

std::string DefaultBaton() {
  if (const char* env = std::getenv("BATON_BIN")) return env;
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "baton";
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/')) + "/../tools/baton";
}

// Returns 0 to go on, else an exit code (2 usage, 0 after --help).
int ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 0; i < argc; i++) o->command += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    const char* v = has_value ? argv[i + 1] : "";
    if (a == "--help" || a == "-h") return fputs(kHelp, stdout), -1;
    if (a == "--quick") {
      o->ops = 2000, o->fsync_ops = 200, o->replay_records = 20000;
      continue;
    }
    if (!has_value) return fprintf(stderr, "baton_bench: %s needs a value or is unknown\n%s", a.c_str(), kHelp), 2;
    bool ok = true;
    if (a == "--ops") ok = ParseU64(v, &o->ops);
    else if (a == "--fsync-ops") ok = ParseU64(v, &o->fsync_ops);
    else if (a == "--replay-records") ok = ParseU64(v, &o->replay_records);
    else if (a == "--dir") o->dir = v;
    else if (a == "--baton") o->baton = v;
    else if (a == "--sections") o->sections = v;
    else if (a == "--clients") ok = ParseClients(v, &o->clients);
    else if (a == "--json") o->json = v;
    else if (a == "--mds-arg") o->mds_args.push_back(v);
    else ok = false;
    if (!ok) return fprintf(stderr, "baton_bench: bad option %s %s\n%s", a.c_str(), v, kHelp), 2;
    i++;
  }
  if (o->baton.empty()) o->baton = DefaultBaton();
  return 0;
}

bool Wants(const Options& o, const char* section) {
  return ("," + o.sections + ",").find("," + std::string(section) + ",") != std::string::npos;
}

struct Bench {
  Options opt;
  std::vector<Row> rows;
  std::vector<Target> targets;
  bool failed = false;
};

void AddPhaseRow(Bench& b, const char* section, MetaOp op, int clients, const PhaseResult& baton,
                 const PhaseResult& local) {
  Row r{section, MetaOpName(op), clients, baton.ops_per_s(), local.ops_per_s(), "ops/s",
        op == MetaOp::kCreateFsync ? "local open+write+fsync+close" : "local fs, same disk", ""};
  r.error = !baton.error.empty() ? "BatonFS: " + baton.error : local.error.empty() ? "" : "local: " + local.error;
  if (!r.error.empty()) b.failed = true;
  printf("  %-22s clients %2d: BatonFS %10.0f ops/s   local %10.0f ops/s%s\n", r.operation.c_str(), clients,
         r.baton, r.baseline, r.error.empty() ? "" : "   (FAILED)");
  fflush(stdout);
  b.rows.push_back(r);
}

// One client count: sessions + dirs on both sides, then each op in turn.
void RunClientCount(Bench& b, const std::string& addr, const std::string& local_root, const char* section,
                    int clients, const std::vector<MetaOp>& ops, uint64_t total) {
  std::string prefix = std::string(section) + std::to_string(clients);
  BatonClients bc;
  std::vector<std::string> dirs;
  std::string err;
  if (!ConnectClients(addr, clients, prefix, &bc, &err) || !MakeLocalDirs(local_root, clients, prefix, &dirs, &err)) {
    b.failed = true;
    b.rows.push_back(Row{section, "setup", clients, 0, 0, "", "", err});
    return;
  }
  for (MetaOp op : ops) {
    PhaseResult baton = RunBatonPhase(bc, op, total);
    PhaseResult local = RunLocalPhase(dirs, op, total);
    AddPhaseRow(b, section, op, clients, baton, local);
  }
}

void AddCreateTarget(Bench& b) {
  Target t{"MDS creates/s with 16 clients", 0, 20000, false};
  for (const Row& r : b.rows)
    if (r.section == "metadata" && r.operation == "create" && r.clients == 16 && r.error.empty())
      t.value = r.baton, t.measured = true;
  b.targets.push_back(t);
}

void RunMdsSections(Bench& b, const std::string& root) {
  std::string vol = root + "/vol", local = root + "/local";
  // mkfs with the same binary that serves, so a stale build cannot mismatch formats.
  bool made = RunBaton(b.opt.baton, {"mkfs", vol, "--meta-map", "4G", "-q"}, root + "/mds.log");
  MdsChild mds(b.opt.baton, vol, root + "/mds.log", b.opt.mds_args);
  std::string err = made ? "" : "baton mkfs failed: " + FileTail(root + "/mds.log", 2000);
  if (!made || ::mkdir(local.c_str(), 0755) != 0 || !mds.Start(30000, &err)) {
    b.failed = true;
    b.rows.push_back(Row{"mds", "setup", 0, 0, 0, "", "", err});
    return;
  }
  printf("MDS %s serving %s (log %s)\n", b.opt.baton.c_str(), vol.c_str(), (root + "/mds.log").c_str());
  if (Wants(b.opt, "meta")) {
    for (int clients : b.opt.clients)
      RunClientCount(b, mds.address(), local, "metadata", clients,
                     {MetaOp::kCreate, MetaOp::kStat, MetaOp::kUnlink}, b.opt.ops);
    AddCreateTarget(b);
  }
  if (Wants(b.opt, "fsync")) {
    for (int clients : {1, 16})
      RunClientCount(b, mds.address(), local, "fsync", clients, {MetaOp::kCreateFsync}, b.opt.fsync_ops);
  }
  if (b.failed) fprintf(stderr, "--- tail of the MDS log ---\n%s\n", FileTail(root + "/mds.log", 3000).c_str());
}

void RunReplaySection(Bench& b, const std::string& root) {
  printf("replay: writing %llu unapplied records, then replaying them\n",
         static_cast<unsigned long long>(b.opt.replay_records));
  fflush(stdout);
  ReplayResult r = RunReplayBench(root + "/vol-replay", b.opt.replay_records);
  double replay_s = r.replay_ns / 1e9, read_s = r.read_ns / 1e9, mb = r.journal_bytes / 1e6;
  auto rate = [](double v, double s) { return s > 0 ? v / s : 0.0; };
  b.rows.push_back(Row{"replay", "replay records", 0, rate(r.records, replay_s), rate(r.records, read_s), "records/s",
                       "raw read() of the journal files", r.error});
  b.rows.push_back(Row{"replay", "replay bytes", 0, rate(mb, replay_s), rate(mb, read_s), "MB/s",
                       "raw read() of the journal files", r.error});
  b.rows.push_back(Row{"context", "journal AppendBatch", 0, rate(r.records, r.write_ns / 1e9), 0, "records/s",
                       "(writing the replay journal, batches of 1024)", r.error});
  b.rows.push_back(Row{"context", "journal size", 0, mb, 0, "MB", "", r.error});
  b.targets.push_back(Target{"replay records/s", rate(r.records, replay_s), 500000, r.error.empty()});
  if (!r.error.empty()) b.failed = true;
}

void AddContext(Bench& b, const std::string& root) {
  double ns = DsyncWriteLatencyNs(root, b.opt.ops >= 100000 ? 1000 : 200);
  b.rows.push_back(Row{"context", "4K O_DSYNC write", 0, ns / 1000, 0, "us/write", "like dd oflag=dsync bs=4k",
                       ns > 0 ? "" : "probe failed"});
}

int Main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  Bench b;
  int rc = ParseArgs(argc, argv, &b.opt);
  if (rc != 0) return rc < 0 ? 0 : rc;
  InstallCleanupHandlers();
  SetLogLevel(LogLevel::kWarn);
  TempDir root(b.opt.dir);
  if (!root.ok()) return fprintf(stderr, "baton_bench: cannot create a temp dir in %s\n", b.opt.dir.c_str()), 1;
  printf("baton_bench: ops %llu, fsync-ops %llu, replay-records %llu, dir %s\n",
         static_cast<unsigned long long>(b.opt.ops), static_cast<unsigned long long>(b.opt.fsync_ops),
         static_cast<unsigned long long>(b.opt.replay_records), root.path().c_str());
  AddContext(b, root.path());
  if (Wants(b.opt, "meta") || Wants(b.opt, "fsync")) {
    if (::access(b.opt.baton.c_str(), X_OK) != 0) {
      fprintf(stderr, "baton_bench: no baton binary at %s (use --baton or BATON_BIN)\n", b.opt.baton.c_str());
      return 2;
    }
    RunMdsSections(b, root.path());
  }
  if (Wants(b.opt, "replay")) RunReplaySection(b, root.path());
  PrintTable(b.rows, b.targets);
  if (!b.opt.json.empty() && !WriteJson(b.opt.json, b.opt.command, b.rows, b.targets))
    fprintf(stderr, "baton_bench: cannot write %s\n", b.opt.json.c_str());
  return b.failed ? 1 : 0;
}

}  // namespace
}  // namespace baton::bench

int main(int argc, char** argv) { return baton::bench::Main(argc, argv); }
