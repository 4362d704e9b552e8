// baton journal dump|verify|stat VOLUME: inspect the journal with the tools'
// own scanner (tools/journal_scanner.h), which reads past corruption.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>

#include "fs/ops.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/journal_scanner.h"
#include "volume/superblock.h"
#include "volume/volume.h"

namespace baton::tools {

namespace {

// The manual (`baton journal --help`), man-page style like every
// subcommand's.
const char* kHelp =
    "NAME\n"
    "  baton journal - dump, verify or summarize a volume's journal\n"
    "\n"
    "SYNOPSIS\n"
    "  baton journal dump VOLUME [--lsn A..B] [--type NAME] [--ino N]\n"
    "  baton journal verify VOLUME\n"
    "  baton journal stat VOLUME\n"
    "\n"
    "DESCRIPTION\n"
    "  Reads the journal of VOLUME with the tools' own plain reader, which\n"
    "  reads past corruption, independent of the MDS's reader.\n"
    "\n"
    "  dump    one line per record: LSN, epoch, segment:offset, operation and\n"
    "          arguments (records after a torn tail or superseded are marked);\n"
    "          corruption is reported between the records\n"
    "  verify  checks every record, prints each problem with its segment and\n"
    "          offset, and a summary line\n"
    "  stat    segments, sizes, first and last LSN, epochs\n"
    "\n"
    "OPTIONS\n"
    "  --lsn A..B\n"
    "        dump only records with A <= LSN <= B (either side may be empty;\n"
    "        a single number selects one LSN)\n"
    "  --type NAME\n"
    "        dump only operations of this type (mknod, write, rename, ...)\n"
    "  --ino N\n"
    "        dump only operations naming inode N (as target, parent or new\n"
    "        inode)\n"
    "  -h, --help\n"
    "        print this manual and exit\n"
    "\n"
    "EXIT STATUS\n"
    "  0  no corruption\n"
    "  1  corruption found\n"
    "  2  usage error or unreadable volume\n"
    "\n"
    "EXAMPLES\n"
    "  baton journal verify /srv/baton/volume\n"
    "  baton journal dump /srv/baton/volume --lsn 100..200 --type rename\n"
    "  baton journal stat /srv/baton/volume\n"
    "\n"
    "SEE ALSO\n"
    "  baton fsck --help, baton mds --help, docs/FORMAT.md\n";

const char* kUsage = "usage: baton journal dump|verify|stat VOLUME [OPTIONS]\n";

int UsageError(const std::string& why) { return tools::UsageError("journal", why, kUsage, 2); }

struct DumpFilter {
  uint64_t lsn_min = 0, lsn_max = UINT64_MAX;
  std::optional<std::string> type;
  std::optional<uint64_t> ino;
};

bool ParseLsnRange(const std::string& s, DumpFilter* f) {
  auto dots = s.find("..");
  if (dots == std::string::npos) {
    if (!ParseU64(s, &f->lsn_min)) return false;
    f->lsn_max = f->lsn_min;
    return true;
  }
  std::string a = s.substr(0, dots), b = s.substr(dots + 2);
  if (!a.empty() && !ParseU64(a, &f->lsn_min)) return false;
  if (!b.empty() && !ParseU64(b, &f->lsn_max)) return false;
  return true;
}

bool Matches(const DumpFilter& f, const ScannedRecord& r, const fs::OpRecord* op) {
  if (r.lsn < f.lsn_min || r.lsn > f.lsn_max) return false;
  if (f.type && (op == nullptr || *f.type != fs::OpName(op->req.op))) return false;
  if (f.ino) {
    if (op == nullptr) return false;
    const auto& q = op->req;
    if (q.ino != *f.ino && q.parent != *f.ino && q.new_parent != *f.ino && op->stamp.new_ino != *f.ino) return false;
  }
  return true;
}

void PrintRecord(const ScannedRecord& r, const DumpFilter& f) {
  fs::OpRecord op;
  bool decoded = r.type == fs::kJournalTypeOp && fs::DecodeOpRecord(r.payload, &op).ok();
  if (!Matches(f, r, decoded ? &op : nullptr)) return;
  std::string what = decoded ? fs::DescribeOpRecord(op)
                             : "type=" + std::to_string(r.type) + " (" + std::to_string(r.payload.size()) +
                                   " bytes, " + (r.type == fs::kJournalTypeOp ? "undecodable" : "not an operation") + ")";
  const char* mark = r.superseded ? " SUPERSEDED" : r.after_tear ? " AFTER-TEAR" : "";
  printf("lsn=%" PRIu64 " epoch=%" PRIu64 " at=%" PRIu64 ":%" PRIu64 "%s %s\n", r.lsn, r.epoch, r.segment_seq, r.offset,
         mark, what.c_str());
}

void PrintProblem(const ScanProblem& p) {
  fprintf(stdout, "%s: %s at segment %" PRIu64 " offset %" PRIu64, IsCorruption(p) ? "CORRUPTION" : "note",
          ScanProblemName(p.kind), p.segment_seq, p.offset);
  if (p.expected_lsn != 0) fprintf(stdout, " (expected lsn %" PRIu64 ")", p.expected_lsn);
  fprintf(stdout, ": %s\n", p.detail.c_str());
}

struct SegmentStat {
  uint64_t records = 0, first_lsn = 0, last_lsn = 0, epoch = 0, end_offset = 0;
};

int Stat(const ScanOptions& so, const volume::Volume& vol) {
  std::map<uint64_t, SegmentStat> segs;
  ScanSummary sum;
  Status st = ScanJournal(
      so,
      [&](const ScannedRecord& r) {
        if (r.after_tear || r.superseded) return;  // not part of the log
        SegmentStat& s = segs[r.segment_seq];
        if (s.records++ == 0) s.first_lsn = r.lsn;
        s.last_lsn = r.lsn;
        s.epoch = r.epoch;
        s.end_offset = r.offset;
      },
      [&](const ScanProblem&) {}, &sum);
  if (!st.ok()) return fprintf(stderr, "baton journal stat: %s\n", st.ToString().c_str()), 2;
  printf("volume %s  epoch %" PRIu64 "\n", volume::FormatVolumeId(vol.superblock().volume_id).c_str(),
         vol.superblock().epoch);
  printf("segments %" PRIu64 "  records %" PRIu64 "  lsn %" PRIu64 "..%" PRIu64 "  problems %" PRIu64
         " (corruptions %" PRIu64 ")\n",
         sum.segments, sum.records, sum.first_lsn, sum.last_lsn, sum.problems, sum.corruptions);
  printf("%-18s %10s %10s %10s %8s %12s\n", "segment", "records", "first", "last", "epoch", "bytes");
  for (const auto& [seq, s] : segs) {
    char name[40];
    snprintf(name, sizeof name, "seg-%016" PRIx64, seq);
    auto size = vol.env()->FileSize(JoinPath(so.dir, std::string(name) + ".log"));
    printf("%-18" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %12" PRIu64 "\n", seq, s.records,
           s.first_lsn, s.last_lsn, s.epoch, size.ok() ? *size : 0);
  }
  return sum.corruptions ? 1 : 0;
}

}  // namespace

int CmdJournal(int argc, char** argv, int first) {
  Args a({"--help", "-h"}, {"--lsn", "--type", "--ino"});
  if (!a.Parse(argc, argv, first)) return UsageError(a.error());
  if (a.Has("--help") || a.Has("-h")) return fputs(kHelp, stdout), 0;
  if (a.positional().size() != 2) return UsageError("give a verb and a VOLUME");
  const std::string verb = a.positional()[0];
  DumpFilter filter;
  if (auto v = a.Get("--lsn"); v && !ParseLsnRange(*v, &filter))
    return fprintf(stderr, "baton journal: bad --lsn %s (want A..B)\n", v->c_str()), 2;
  if (auto v = a.Get("--type")) filter.type = *v;
  if (auto v = a.Get("--ino")) {
    uint64_t n;
    if (!ParseU64(*v, &n)) return fprintf(stderr, "baton journal: bad --ino %s\n", v->c_str()), 2;
    filter.ino = n;
  }
  auto vol = volume::Volume::Open(Env::Default(), a.positional()[1]);
  if (!vol.ok()) return fprintf(stderr, "baton journal: %s\n", vol.status().ToString().c_str()), 2;
  ScanOptions so;
  so.env = Env::Default();
  so.dir = (*vol)->journal_dir();
  so.have_volume_id = true;
  so.volume_id = (*vol)->superblock().volume_id;
  if (verb == "stat") return Stat(so, **vol);
  if (verb != "dump" && verb != "verify") return UsageError("unknown verb " + verb);
  const bool dump = verb == "dump";
  ScanSummary sum;
  Status st = ScanJournal(
      so, [&](const ScannedRecord& r) { if (dump) PrintRecord(r, filter); },
      [&](const ScanProblem& p) { if (!dump || IsCorruption(p)) PrintProblem(p); }, &sum);
  if (!st.ok()) return fprintf(stderr, "baton journal: %s\n", st.ToString().c_str()), 2;
  if (!dump) {
    printf("%" PRIu64 " segments, %" PRIu64 " records (lsn %" PRIu64 "..%" PRIu64 "), %" PRIu64 " corruption%s\n",
           sum.segments, sum.records, sum.first_lsn, sum.last_lsn, sum.corruptions, sum.corruptions == 1 ? "" : "s");
  }
  return sum.corruptions ? 1 : 0;
}

}  // namespace baton::tools
