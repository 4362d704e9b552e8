// baton fsck VOLUME: read-only consistency check of a volume.
//
// Phases: superblock (both slots), journal (tools' own scanner), the
// namespace of every metadata store (the mkfs seed VOLUME/meta and each
// MDS's own VOLUME/mds/NAME/meta; fs/check.h), and the join of the two (some
// store must reach back to the journal's first LSN). Exit codes as fsck(8).
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "base/env.h"
#include "fs/check.h"
#include "fs/meta_store.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/journal_scanner.h"
#include "volume/superblock.h"
#include "volume/volume.h"

namespace baton::tools {

namespace {

// fsck(8) exit codes.
constexpr int kFsckOk = 0;
constexpr int kFsckUncorrected = 4;
constexpr int kFsckOperational = 8;
constexpr int kFsckUsage = 16;

const char* kHelp =
    "usage: baton fsck VOLUME [-n] [-v]        (also: fsck.baton VOLUME)\n"
    "\n"
    "Checks a volume without changing it: both superblock copies; every journal\n"
    "record (checksums, LSN and epoch sequence; a torn tail is normal, damage in\n"
    "the middle is not); every namespace invariant of the metadata store\n"
    "(entries point at inodes, link counts, '..', connectivity, orphans, xattrs\n"
    "and data chunks, counters) of every metadata store: the one mkfs made and\n"
    "each MDS's own (VOLUME/mds/NAME/meta). Safe while MDSs serve the volume\n"
    "(it reads a consistent snapshot of each store).\n"
    "\n"
    "options:\n"
    "  -n, --no-repair   check only (the default; repair is not built yet)\n"
    "  -v, --verbose     list every problem (default: at most 50)\n"
    "\n"
    "exit status (fsck(8)): 0 no errors, 4 errors left uncorrected,\n"
    "  8 operational error (volume missing or unreadable), 16 usage error\n";

struct Report {
  uint64_t errors = 0;
  uint64_t shown = 0;
  uint64_t show_max = 50;
  void Error(const std::string& phase, const std::string& kind, const std::string& msg) {
    errors++;
    if (shown++ < show_max) printf("  ERROR %s %s: %s\n", phase.c_str(), kind.c_str(), msg.c_str());
  }
};

void CheckSuperblock(const std::string& vol_path, Report* rep) {
  int damaged = 0;
  auto sb = volume::ReadSuperblock(Env::Default(), JoinPath(vol_path, "superblock"), &damaged);
  for (int i = 0; i < 2; i++) {
    if (damaged & (1 << i)) rep->Error("superblock", "damaged-copy", "slot " + std::to_string(i) + " is not valid");
  }
  printf("superblock: %s\n", damaged ? "a copy is damaged (the other is used)" : "both copies valid");
}

// Returns the journal's first and last LSN (0 if empty).
void CheckJournal(const volume::Volume& vol, Report* rep, uint64_t* first_lsn, uint64_t* last_lsn) {
  ScanOptions so;
  so.env = Env::Default();
  so.dir = vol.journal_dir();
  so.have_volume_id = true;
  so.volume_id = vol.superblock().volume_id;
  ScanSummary sum;
  Status st = ScanJournal(
      so, [](const ScannedRecord&) {},
      [&](const ScanProblem& p) {
        if (!IsCorruption(p)) return;
        rep->Error("journal", ScanProblemName(p.kind),
                   "segment " + std::to_string(p.segment_seq) + " offset " + std::to_string(p.offset) +
                       (p.expected_lsn ? " expected lsn " + std::to_string(p.expected_lsn) : "") + ": " + p.detail);
      },
      &sum);
  if (!st.ok()) rep->Error("journal", "unreadable", st.ToString());
  *first_lsn = sum.first_lsn;
  *last_lsn = sum.last_lsn;
  printf("journal: %" PRIu64 " segments, %" PRIu64 " records, lsn %" PRIu64 "..%" PRIu64 ", %" PRIu64
         " corruptions\n",
         sum.segments, sum.records, sum.first_lsn, sum.last_lsn, sum.corruptions);
}

// Checks one metadata store; returns true when the journal continues it
// (reaches back to its applied LSN).
bool CheckStore(const volume::Volume& vol, const std::string& label, const std::string& dir, bool seed, Report* rep,
                uint64_t journal_first, uint64_t journal_last) {
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
  auto problems = fs::CheckNamespace(**store);
  if (!problems.ok()) {
    rep->Error("store", "unreadable", label + ": " + problems.status().ToString());
    return false;
  }
  for (const auto& p : *problems) rep->Error("namespace", p.kind, label + ": " + p.message);
  printf("metadata store %s: %" PRIu64 " inodes, %" PRIu64 " data bytes, applied lsn %" PRIu64 ", %zu problems\n",
         label.c_str(), state->inode_count, state->bytes_stored, state->applied_lsn, problems->size());
  const bool covered = journal_first == 0 || journal_first <= state->applied_lsn + 1;
  if (!covered && !seed) {
    // Not an error: that MDS re-seeds its store when it starts again.
    printf("  %s is behind the journal (it starts at lsn %" PRIu64 "); its MDS re-seeds it at start\n", label.c_str(),
           journal_first);
  }
  if (covered && journal_last > state->applied_lsn)
    printf("  %" PRIu64 " journal records not yet applied to %s (replayed at takeover)\n",
           journal_last - state->applied_lsn, label.c_str());
  return covered;
}

// The mkfs store (VOLUME/meta) and every MDS's own store (VOLUME/mds/NAME/meta).
void CheckStores(const volume::Volume& vol, Report* rep, uint64_t journal_first, uint64_t journal_last) {
  bool any_covered = CheckStore(vol, "meta (mkfs seed)", vol.meta_dir(), true, rep, journal_first, journal_last);
  auto names = Env::Default()->ListDir(JoinPath(vol.path(), "mds"));
  if (names.ok()) {
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) {
      const std::string dir = JoinPath(JoinPath(JoinPath(vol.path(), "mds"), n), "meta");
      if (!Env::Default()->FileExists(JoinPath(dir, "data.mdb"))) continue;
      any_covered = CheckStore(vol, "mds/" + n, dir, false, rep, journal_first, journal_last) || any_covered;
    }
  }
  if (!any_covered)
    rep->Error("journal", "gap", "no metadata store reaches back to the journal's first lsn " +
                                     std::to_string(journal_first) + ": no MDS can be brought up to date");
}

}  // namespace

int CmdFsck(int argc, char** argv, int first) {
  Args a({"-n", "--no-repair", "-v", "--verbose", "--help", "-h"}, {"-t"});
  if (!a.Parse(argc, argv, first)) return fprintf(stderr, "baton fsck: %s\n\n%s", a.error().c_str(), kHelp), kFsckUsage;
  if (a.Has("--help") || a.Has("-h")) return fputs(kHelp, stdout), kFsckOk;
  if (a.positional().size() != 1)
    return fprintf(stderr, "baton fsck: give exactly one VOLUME\n\n%s", kHelp), kFsckUsage;
  const std::string path = a.positional()[0];
  Report rep;
  if (a.Has("-v") || a.Has("--verbose")) rep.show_max = UINT64_MAX;
  auto vol = volume::Volume::Open(Env::Default(), path);
  if (!vol.ok()) {
    fprintf(stderr, "baton fsck: %s\n", vol.status().ToString().c_str());
    return vol.status().IsCorruption() ? kFsckUncorrected : kFsckOperational;
  }
  printf("checking BatonFS volume %s (%s), epoch %" PRIu64 "\n", path.c_str(),
         volume::FormatVolumeId((*vol)->superblock().volume_id).c_str(), (*vol)->superblock().epoch);
  CheckSuperblock(path, &rep);
  uint64_t jfirst = 0, jlast = 0;
  CheckJournal(**vol, &rep, &jfirst, &jlast);
  CheckStores(**vol, &rep, jfirst, jlast);
  if (rep.shown > rep.show_max) printf("  ... %" PRIu64 " more (use -v)\n", rep.shown - rep.show_max);
  if (rep.errors == 0) {
    printf("%s: clean\n", path.c_str());
    return kFsckOk;
  }
  printf("%s: %" PRIu64 " error%s found, not corrected (repair is not built yet)\n", path.c_str(), rep.errors,
         rep.errors == 1 ? "" : "s");
  return kFsckUncorrected;
}

}  // namespace baton::tools
