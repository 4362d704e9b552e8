// baton fsck VOLUME: checks a volume, and with --repair (-y, -a, -p) repairs
// it (tools/fsck_repair.h).
//
// Phases: superblock (both slots), journal (tools' own scanner), the
// namespace of every metadata store (the mkfs seed VOLUME/meta and each
// MDS's own VOLUME/mds/NAME/meta; fs/check.h), and the join of the two (some
// store must reach back to the journal's first LSN). After a repair the same
// phases run again and decide the exit code. Exit codes as fsck(8).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "base/env.h"
#include "fs/apply.h"
#include "fs/check.h"
#include "fs/meta_store.h"
#include "mds/mds_info.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/fsck_repair.h"
#include "tools/fsck_report.h"
#include "tools/journal_scanner.h"
#include "volume/superblock.h"
#include "volume/volume.h"

namespace baton::tools {

namespace {

const char* kHelp =
    "NAME\n"
    "  baton fsck - check a BatonFS volume, and repair it\n"
    "\n"
    "SYNOPSIS\n"
    "  baton fsck VOLUME [-n | --repair | -y | -a | -p] [--discard-after-lsn N]\n"
    "             [--reclaim-orphans] [--progress] [--json] [-v] [-f]\n"
    "  fsck.baton [-n | -y | -a | -p] VOLUME        (what fsck(8) runs)\n"
    "\n"
    "DESCRIPTION\n"
    "  Checks both superblock copies; every journal record (checksums, LSN and\n"
    "  epoch sequence; a torn tail is normal after a crash, damage in the middle\n"
    "  is not); every namespace invariant of every metadata store (the one mkfs\n"
    "  made and each MDS's own, VOLUME/mds/NAME/meta): entries point at inodes,\n"
    "  link counts, '..', connectivity, no cycles, the orphan list, xattrs, data\n"
    "  chunks against file sizes, leaked chunks, counters and the exactly-once\n"
    "  table. A check is safe while MDSs serve the volume (it reads a\n"
    "  consistent snapshot of each store).\n"
    "\n"
    "  A repair needs every MDS of the volume stopped (it takes the volume's\n"
    "  writer lock and raises the epoch, as a takeover does). It writes its\n"
    "  changes as journal records, so every MDS's store receives the same\n"
    "  repairs: link counts and counters fixed, dangling and extra entries\n"
    "  dropped, detached inodes moved to /lost+found as #INO, leaked data and\n"
    "  stale records dropped, a torn journal tail truncated, a damaged\n"
    "  superblock copy rewritten. A store damaged on its own is set aside as\n"
    "  meta.damaged-TIME (never deleted) and its MDS re-seeds it at start.\n"
    "  Damage in the middle of the journal is never repaired silently: records\n"
    "  after it may have been acknowledged; see --discard-after-lsn.\n"
    "\n"
    "OPTIONS\n"
    "  -n, --no-repair\n"
    "      Check only (the default). Opens nothing for writing.\n"
    "  --repair, -y, --yes, -a, -p, --preen\n"
    "      Repair what the check finds, without questions (fsck(8)'s -a and -p\n"
    "      'automatic' and -y 'yes to all' all mean this: fsck never asks).\n"
    "  --discard-after-lsn N\n"
    "      With a repair: cut the journal after record N (below the damaged\n"
    "      LSN fsck names). Acknowledged changes after N are lost; stores that\n"
    "      applied past N are set aside. Use only when the journal's storage\n"
    "      cannot be restored.\n"
    "  --reclaim-orphans\n"
    "      With a repair: also delete orphans, files unlinked while open whose\n"
    "      last close the MDS never saw. Only when no client has the volume\n"
    "      mounted: a mount outlives MDS restarts and may still use them (by\n"
    "      default the MDS deletes those nobody re-opens after its start-up\n"
    "      grace period).\n"
    "  --progress\n"
    "      A progress line (phase, percentage, rate) on stderr; the default on a\n"
    "      terminal.\n"
    "  --json\n"
    "      Print one JSON object at the end instead of the text report: errors\n"
    "      found, errors left, warnings, repairs, stores, exit code.\n"
    "  -v, --verbose\n"
    "      List every problem (default: at most 50).\n"
    "  -f, --force\n"
    "      Accepted for fsck(8); every check is always complete.\n"
    "  -t TYPE, -C FD\n"
    "      Accepted and ignored (fsck(8) conventions).\n"
    "  -h, --help\n"
    "      This manual.\n"
    "\n"
    "EXIT STATUS\n"
    "  0   no errors\n"
    "  1   errors were found and all corrected\n"
    "  4   errors left uncorrected (or found by a check without --repair);\n"
    "      both superblock copies damaged\n"
    "  8   operational error: not a volume, unreadable, a newer format, or\n"
    "      served by an MDS (with --repair)\n"
    "  16  usage error\n"
    "  32  cancelled (SIGINT)\n"
    "\n"
    "EXAMPLES\n"
    "  baton fsck /srv/baton/vol\n"
    "  baton fsck --repair /srv/baton/vol      # every MDS stopped first\n"
    "  fsck -t baton -y /srv/baton/vol\n"
    "  baton fsck --json /srv/baton/vol | jq .errors\n"
    "\n"
    "SEE ALSO\n"
    "  baton journal verify, baton mds, fsck(8)\n";

std::atomic<bool> g_cancelled{false};
void OnSigint(int) { g_cancelled.store(true); }

// A single progress line on stderr, redrawn at most 10 times a second.
class Progress {
 public:
  explicit Progress(bool on) : on_(on) {}
  fs::CheckProgress Callback(const std::string& store) {
    if (!on_) return nullptr;
    return [this, store](const char* phase, uint64_t done, uint64_t total) {
      auto now = std::chrono::steady_clock::now();
      if (phase != phase_) phase_ = phase, start_ = now, last_ = {};
      if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
      last_ = now;
      double secs = std::chrono::duration<double>(now - start_).count();
      fprintf(stderr, "\r%-20s %-9s %5.1f%%  %" PRIu64 "/%" PRIu64 "  %.0f records/s   ", store.c_str(), phase,
              total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, done, total,
              secs > 0 ? static_cast<double>(done) / secs : 0.0);
      if (done == total) fputs("\r\033[K", stderr);
    };
  }

 private:
  bool on_;
  std::string phase_;
  std::chrono::steady_clock::time_point start_, last_;
};

void CheckSuperblock(const std::string& vol_path, FsckReport* rep) {
  int damaged = 0;
  auto sb = volume::ReadSuperblock(Env::Default(), JoinPath(vol_path, "superblock"), &damaged);
  for (int i = 0; i < 2; i++) {
    if (damaged & (1 << i)) rep->Error("superblock", "damaged-copy", "slot " + std::to_string(i) + " is not valid");
  }
  rep->Say("superblock: %s\n", damaged ? "a copy is damaged (the other is used)" : "both copies valid");
}

// Returns the journal's first and last LSN (0 if empty).
void CheckJournal(const volume::Volume& vol, FsckReport* rep, uint64_t* first_lsn, uint64_t* last_lsn) {
  ScanOptions so;
  so.env = Env::Default();
  so.dir = vol.journal_dir();
  so.have_volume_id = true;
  so.volume_id = vol.superblock().volume_id;
  ScanSummary sum;
  Status st = ScanJournal(
      so, [](const ScannedRecord&) {},
      [&](const ScanProblem& p) {
        std::string where = "segment " + std::to_string(p.segment_seq) + " offset " + std::to_string(p.offset) +
                            (p.expected_lsn ? " expected lsn " + std::to_string(p.expected_lsn) : "");
        if (p.kind == ScanProblemKind::kTornTail)
          rep->Warn("journal", "torn-tail", where + ": the end of the last write never completed (normal after "
                                                "a crash; the next MDS start or --repair truncates it)");
        if (!IsCorruption(p)) return;
        rep->Error("journal", ScanProblemName(p.kind), where + ": " + p.detail);
      },
      &sum);
  if (!st.ok()) rep->Error("journal", "unreadable", st.ToString());
  *first_lsn = sum.first_lsn;
  *last_lsn = sum.last_lsn;
  rep->Say("journal: %" PRIu64 " segments, %" PRIu64 " records, lsn %" PRIu64 "..%" PRIu64 ", %" PRIu64
           " corruptions\n",
           sum.segments, sum.records, sum.first_lsn, sum.last_lsn, sum.corruptions);
}

// Checks one metadata store; returns true when the journal continues it
// (reaches back to its applied LSN).
bool CheckStore(const volume::Volume& vol, const std::string& label, const std::string& dir, bool seed,
                FsckReport* rep, Progress* progress, uint64_t journal_first, uint64_t journal_last) {
  auto store = fs::MetaStore::Open(dir, vol.store_options(/*read_only=*/true));
  if (!store.ok()) {
    rep->Error("store", "unopenable", label + ": " + store.status().ToString());
    return false;
  }
  auto state = (*store)->ReadState();
  if (!state.ok()) {
    rep->Error("store", "state", label + ": " + state.status().ToString());
    return false;
  }
  fs::CheckOptions co;
  co.progress = progress->Callback(label);
  auto problems = fs::CheckNamespace(**store, co);
  if (!problems.ok()) {
    rep->Error("store", "unreadable", label + ": " + problems.status().ToString());
    return false;
  }
  for (const auto& p : *problems) rep->Error("namespace", p.kind, label + ": " + p.message);
  rep->AddStore({label, state->inode_count, state->applied_lsn, problems->size()});
  if (auto orphans = fs::ListOrphans(**store); orphans.ok() && !orphans->empty())
    rep->Say("  %s holds %zu orphans (unlinked while open): its MDS deletes those nobody re-opens after its start-up "
             "grace period (or --repair --reclaim-orphans, no client mounted)\n",
             label.c_str(), orphans->size());
  rep->Say("metadata store %s: %" PRIu64 " inodes, %" PRIu64 " data bytes, applied lsn %" PRIu64 ", %zu problems\n",
           label.c_str(), state->inode_count, state->bytes_stored, state->applied_lsn, problems->size());
  const bool covered = journal_first == 0 || journal_first <= state->applied_lsn + 1;
  if (!covered && !seed) {
    // Not an error: that MDS re-seeds its store when it starts again.
    rep->Say("  %s is behind the journal (it starts at lsn %" PRIu64 "); its MDS re-seeds it at start\n",
             label.c_str(), journal_first);
  }
  if (covered && journal_last > state->applied_lsn)
    rep->Say("  %" PRIu64 " journal records not yet applied to %s (replayed at takeover)\n",
             journal_last - state->applied_lsn, label.c_str());
  return covered;
}

// The mkfs store (VOLUME/meta) and every MDS's own store (VOLUME/mds/NAME/meta).
void CheckStores(const volume::Volume& vol, FsckReport* rep, Progress* progress, uint64_t journal_first,
                 uint64_t journal_last) {
  bool any_covered =
      CheckStore(vol, "meta (mkfs seed)", vol.meta_dir(), true, rep, progress, journal_first, journal_last);
  auto names = Env::Default()->ListDir(JoinPath(vol.path(), mds::kMdsDirName));
  if (names.ok()) {
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) {
      const std::string dir = JoinPath(mds::MdsDir(vol.path(), n), "meta");
      if (!mds::ValidMdsName(n) || !Env::Default()->FileExists(JoinPath(dir, "data.mdb"))) continue;
      any_covered =
          CheckStore(vol, "mds/" + n, dir, false, rep, progress, journal_first, journal_last) || any_covered;
    }
  }
  if (!any_covered)
    rep->Error("journal", "gap", "no metadata store reaches back to the journal's first lsn " +
                                     std::to_string(journal_first) + ": no MDS can be brought up to date");
}

void CheckAll(const std::string& path, const volume::Volume& vol, FsckReport* rep, Progress* progress) {
  CheckSuperblock(path, rep);
  uint64_t jfirst = 0, jlast = 0;
  CheckJournal(vol, rep, &jfirst, &jlast);
  CheckStores(vol, rep, progress, jfirst, jlast);
}

struct FsckArgs {
  std::string path;
  bool repair = false;
  RepairOptions repair_options;
  bool json = false;
  bool progress = false;
  bool verbose = false;
};

// Returns 0, or the usage exit code after printing why.
int ParseFsckArgs(int argc, char** argv, int first, FsckArgs* out) {
  Args a({"-n", "--no-repair", "--repair", "-y", "--yes", "-a", "-p", "--preen", "-f", "--force", "-v", "--verbose",
          "--progress", "--json", "--reclaim-orphans", "--help", "-h"},
         {"-t", "-C", "--discard-after-lsn"});
  auto usage = [](const std::string& why) {
    return UsageError("fsck", why, "usage: baton fsck VOLUME [-n | --repair] [options]\n", kFsckUsage);
  };
  if (!a.Parse(argc, argv, first)) return usage(a.error());
  if (a.Has("--help") || a.Has("-h")) return fputs(kHelp, stdout), -1;
  if (a.positional().size() != 1) return usage("give exactly one VOLUME");
  out->path = a.positional()[0];
  out->repair = a.Has("--repair") || a.Has("-y") || a.Has("--yes") || a.Has("-a") || a.Has("-p") || a.Has("--preen");
  if (out->repair && (a.Has("-n") || a.Has("--no-repair"))) return usage("-n and a repair option exclude each other");
  if (auto v = a.Get("--discard-after-lsn")) {
    if (!out->repair) return usage("--discard-after-lsn needs --repair");
    if (!ParseU64(*v, &out->repair_options.discard_after_lsn)) return usage("bad --discard-after-lsn: " + *v);
    out->repair_options.discard = true;
  }
  if (a.Has("--reclaim-orphans")) {
    if (!out->repair) return usage("--reclaim-orphans needs --repair");
    out->repair_options.reclaim_orphans = true;
  }
  out->json = a.Has("--json");
  out->progress = a.Has("--progress") || (!out->json && isatty(STDERR_FILENO));
  out->verbose = a.Has("-v") || a.Has("--verbose");
  return 0;
}

}  // namespace

int CmdFsck(int argc, char** argv, int first) {
  FsckArgs fa;
  if (int rc = ParseFsckArgs(argc, argv, first, &fa); rc != 0) return rc < 0 ? kFsckOk : rc;
  signal(SIGINT, OnSigint);
  FsckReport rep(fa.json);
  if (fa.verbose) rep.set_show_max(UINT64_MAX);
  Progress progress(fa.progress);
  auto vol = volume::Volume::Open(Env::Default(), fa.path);
  if (!vol.ok()) {
    fprintf(stderr, "baton fsck: %s\n", vol.status().ToString().c_str());
    // Both superblock copies damaged is damage fsck cannot correct (4);
    // anything else (missing, unreadable, a newer format) is operational (8).
    return vol.status().IsCorruption() ? kFsckUncorrected : kFsckOperational;
  }
  const std::string uuid = volume::FormatVolumeId((*vol)->superblock().volume_id);
  RepairLocks locks;  // a repair owns the volume from before its check to the end
  if (fa.repair) {
    if (int rc = locks.Take(**vol, &rep); rc != kFsckOk) return rep.Finish(fa.path, uuid, (*vol)->superblock().epoch, rc);
  }
  rep.Say("checking BatonFS volume %s (%s), epoch %" PRIu64 "\n", fa.path.c_str(), uuid.c_str(),
          (*vol)->superblock().epoch);
  CheckAll(fa.path, **vol, &rep, &progress);
  auto epoch = [&] { return (*vol)->superblock().epoch; };
  if (g_cancelled.load()) return rep.Finish(fa.path, uuid, epoch(), kFsckCancelled);
  if (rep.errors() == 0 && (!fa.repair || (rep.warnings() == 0 && !fa.repair_options.reclaim_orphans))) {
    rep.Say("%s: clean\n", fa.path.c_str());
    return rep.Finish(fa.path, uuid, epoch(), kFsckOk);
  }
  if (!fa.repair) {
    rep.Say("%s: %" PRIu64 " error%s found, nothing changed (repair with --repair, every MDS stopped)\n",
            fa.path.c_str(), rep.errors(), rep.errors() == 1 ? "" : "s");
    return rep.Finish(fa.path, uuid, epoch(), rep.errors() ? kFsckUncorrected : kFsckOk);
  }
  rep.Say("repairing %s\n", fa.path.c_str());
  int rc = RepairVolume(**vol, fa.repair_options, &rep);
  if (rc != kFsckOk) return rep.Finish(fa.path, uuid, epoch(), rc);
  rep.Say("checking again after the repair\n");
  rep.StartRecheck();
  CheckAll(fa.path, **vol, &rep, &progress);
  if (g_cancelled.load()) return rep.Finish(fa.path, uuid, epoch(), kFsckCancelled);
  if (rep.errors() != 0) {
    rep.Say("%s: %" PRIu64 " error%s left uncorrected\n", fa.path.c_str(), rep.errors(), rep.errors() == 1 ? "" : "s");
    return rep.Finish(fa.path, uuid, epoch(), kFsckUncorrected);
  }
  rep.Say("%s: repaired (%" PRIu64 " change%s), now clean\n", fa.path.c_str(), rep.repairs(),
          rep.repairs() == 1 ? "" : "s");
  return rep.Finish(fa.path, uuid, epoch(), rep.repairs() ? kFsckCorrected : kFsckOk);
}

}  // namespace baton::tools
