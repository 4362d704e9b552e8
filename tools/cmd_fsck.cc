// baton fsck VOLUME: read-only consistency check of a volume.
//
// Phases: superblock (both slots), journal (tools' own scanner), metadata
// store namespace (fs/check.h), and the join of the two (the journal must
// reach back to the store's applied LSN). Exit codes as fsck(8).
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
    "and data chunks, counters). Safe while an MDS serves the volume (it reads\n"
    "a consistent snapshot).\n"
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

void CheckStore(const volume::Volume& vol, Report* rep, uint64_t journal_first, uint64_t journal_last) {
  auto store = fs::MetaStore::Open(vol.meta_dir(), vol.store_options(/*read_only=*/true));
  if (!store.ok()) return rep->Error("store", "unopenable", store.status().ToString());
  auto state = (*store)->ReadState();
  if (!state.ok()) return rep->Error("store", "state", state.status().ToString());
  auto problems = fs::CheckNamespace(**store);
  if (!problems.ok()) return rep->Error("store", "unreadable", problems.status().ToString());
  for (const auto& p : *problems) rep->Error("namespace", p.kind, p.message);
  printf("metadata store: %" PRIu64 " inodes, %" PRIu64 " data bytes, applied lsn %" PRIu64 ", %zu problems\n",
         state->inode_count, state->bytes_stored, state->applied_lsn, problems->size());
  // The journal must hold every record after the store's applied LSN.
  if (journal_first > state->applied_lsn + 1)
    rep->Error("journal", "gap", "the store has applied lsn " + std::to_string(state->applied_lsn) +
                                     " but the journal starts at lsn " + std::to_string(journal_first));
  if (journal_last > state->applied_lsn)
    printf("journal: %" PRIu64 " records not yet applied to the store (the MDS replays them at start)\n",
           journal_last - state->applied_lsn);
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
  CheckStore(**vol, &rep, jfirst, jlast);
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
