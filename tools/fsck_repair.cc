// baton fsck --repair (tools/fsck_repair.h).
#include "tools/fsck_repair.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "fs/apply.h"
#include "fs/check.h"
#include "fs/repair.h"
#include "journal/journal.h"
#include "journal/journal_format.h"
#include "journal/journal_recovery.h"
#include "mds/election.h"
#include "mds/mds_info.h"
#include "mds/replay.h"
#include "tools/journal_scanner.h"

namespace baton::tools {
namespace {

constexpr int kMaxRounds = 8;
constexpr int64_t kLiveHeartbeatNs = 5'000'000'000;  // an MDS that published this recently is running

std::string Num(uint64_t v) { return std::to_string(v); }

int Refuse(FsckReport* rep, int code, const std::string& why) {
  fprintf(stderr, "baton fsck: %s\n", why.c_str());
  rep->Say("nothing was changed\n");
  return code;
}

}  // namespace

RepairLocks::~RepairLocks() {
  for (int fd : fds_) ::close(fd);
}

// takeover.lock (no standby decides a takeover meanwhile), the writer lock,
// and the name lock of every MDS of the volume (each MDS holds its own for
// its whole life, so a running one is refused, and none starts meanwhile).
int RepairLocks::Take(volume::Volume& vol, FsckReport* rep) {
  const std::string stop = "; stop every MDS of the volume before --repair (a check without --repair is safe while it is served)";
  StatusOr<int> takeover = mds::TryLockTakeover(vol.path());
  if (!takeover.ok()) return Refuse(rep, kFsckOperational, takeover.status().ToString());
  if (*takeover < 0) return Refuse(rep, kFsckOperational, "an MDS of " + vol.path() + " is deciding a takeover" + stop);
  fds_.push_back(*takeover);
  Status st = vol.TryLockWriter("name=fsck pid=" + Num(static_cast<uint64_t>(::getpid())));
  if (!st.ok()) return Refuse(rep, kFsckOperational, st.ToString() + stop);
  auto names = vol.env()->ListDir(JoinPath(vol.path(), mds::kMdsDirName));
  for (const std::string& n : names.ok() ? *names : std::vector<std::string>{}) {
    if (!mds::ValidMdsName(n) || !vol.env()->FileExists(mds::MdsDir(vol.path(), n))) continue;
    StatusOr<int> name_lock = mds::LockMdsName(vol.path(), n, "fsck pid " + Num(static_cast<uint64_t>(::getpid())));
    if (!name_lock.ok()) return Refuse(rep, kFsckOperational, name_lock.status().ToString() + stop);
    fds_.push_back(*name_lock);
  }
  const std::string uuid = volume::FormatVolumeId(vol.superblock().volume_id);
  const int64_t now = vol.env()->NowRealtimeNanos();
  for (const mds::MdsInfo& i : mds::ListMdsInfos(vol.env(), vol.path(), uuid)) {
    if (i.role == "stopped" || now - i.updated_ns > kLiveHeartbeatNs) continue;
    return Refuse(rep, kFsckOperational,
                  "MDS " + i.name + " (" + i.role + ", pid " + Num(i.pid) + ", " + i.address +
                      ") published a heartbeat " + Num(static_cast<uint64_t>((now - i.updated_ns) / 1000000)) +
                      " ms ago: stop every MDS of the volume before --repair");
  }
  return kFsckOk;
}

namespace {

struct JournalState {
  ScanSummary sum;
  uint64_t first_corrupt_lsn = 0;  // expected LSN at the first middle corruption (0: none)
  bool torn_tail = false;
  // Where record discard_after_lsn + 1 (or the damage in its place) starts.
  bool have_cut = false;
  uint64_t cut_segment = 0, cut_offset = 0;
};

StatusOr<JournalState> ScanForRepair(volume::Volume& vol, uint64_t cut_lsn) {
  JournalState js;
  ScanOptions so;
  so.env = vol.env();
  so.dir = vol.journal_dir();
  so.have_volume_id = true;
  so.volume_id = vol.superblock().volume_id;
  auto at_cut = [&](uint64_t seg, uint64_t off) {
    if (!js.have_cut || seg < js.cut_segment || (seg == js.cut_segment && off < js.cut_offset))
      js.have_cut = true, js.cut_segment = seg, js.cut_offset = off;
  };
  Status st = ScanJournal(
      so,
      [&](const ScannedRecord& r) {
        if (!r.superseded && !r.after_tear && r.lsn > cut_lsn) at_cut(r.segment_seq, r.offset);
      },
      [&](const ScanProblem& p) {
        if (p.kind == ScanProblemKind::kTornTail) js.torn_tail = true;
        if (!IsCorruption(p)) return;
        if (js.first_corrupt_lsn == 0) js.first_corrupt_lsn = std::max<uint64_t>(p.expected_lsn, 1);
        if (p.expected_lsn == 0 || p.expected_lsn > cut_lsn) at_cut(p.segment_seq, p.offset);
      },
      &js.sum);
  if (!st.ok()) return st;
  return js;
}

// Step 2 with --discard-after-lsn: cuts the journal at the record after N.
Status CutJournal(volume::Volume& vol, const JournalState& js, FsckReport* rep) {
  Env* env = vol.env();
  BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(vol.journal_dir()));
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    uint64_t seq = 0;
    if (!journal::format::ParseSegmentFileName(n, &seq) || seq <= js.cut_segment) continue;
    BATON_RETURN_IF_ERROR(env->RemoveFile(JoinPath(vol.journal_dir(), n)));
    rep->Repaired("journal: removed segment " + n + " (past the cut)");
  }
  OpenOptions oo;
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> f, env->OpenFile(journal::SegmentPath(vol.journal_dir(), js.cut_segment), oo));
  BATON_RETURN_IF_ERROR(f->Truncate(js.cut_offset));
  BATON_RETURN_IF_ERROR(f->Sync());
  BATON_RETURN_IF_ERROR(f->Close());
  rep->Repaired("journal: segment " + Num(js.cut_segment) + " cut at offset " + Num(js.cut_offset));
  return env->SyncDir(vol.journal_dir());
}

struct StoreRef {
  std::string label;  // "meta (mkfs seed)" or "mds/NAME"
  std::string dir;
  bool seed = false;
  std::unique_ptr<fs::MetaStore> store;
  uint64_t applied = 0;
  std::string why;                       // why it cannot stay ("" = no reason yet)
  bool caught_up = false;                // replayed to the journal's end, and checked:
  std::vector<fs::CheckProblem> problems;  // what that check found
};

bool Covered(const StoreRef& s, uint64_t journal_first) { return journal_first == 0 || s.applied + 1 >= journal_first; }

// Renames a store's directory to DIR.damaged-TIME: kept, never deleted.
Status SetAside(volume::Volume& vol, StoreRef* s, const std::string& why, FsckReport* rep) {
  s->store.reset();
  if (!vol.env()->FileExists(s->dir)) return Status::Ok();
  const std::string to = s->dir + ".damaged-" + Num(static_cast<uint64_t>(vol.env()->NowRealtimeNanos()));
  BATON_RETURN_IF_ERROR(vol.env()->Rename(s->dir, to));
  BATON_RETURN_IF_ERROR(vol.env()->SyncDir(to.substr(0, to.rfind('/'))));
  rep->Repaired("store " + s->label + ": " + why + "; moved to " + to +
                (s->seed ? "" : " (its MDS re-seeds its store at start)"));
  return Status::Ok();
}

StatusOr<std::vector<StoreRef>> OpenStores(volume::Volume& vol) {
  std::vector<StoreRef> out;
  out.push_back(StoreRef{"meta (mkfs seed)", vol.meta_dir(), true, nullptr, 0, "", false, {}});
  auto names = vol.env()->ListDir(JoinPath(vol.path(), mds::kMdsDirName));
  if (names.ok()) {
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) {
      const std::string dir = JoinPath(mds::MdsDir(vol.path(), n), "meta");
      if (mds::ValidMdsName(n) && vol.env()->FileExists(JoinPath(dir, "data.mdb")))
        out.push_back(StoreRef{"mds/" + n, dir, false, nullptr, 0, "", false, {}});
    }
  }
  for (StoreRef& s : out) {
    auto st = fs::MetaStore::Open(s.dir, vol.store_options());
    if (!st.ok()) continue;  // reported by the check; an MDS refuses it too
    auto state = (*st)->ReadState();
    if (!state.ok()) continue;
    s.store = std::move(*st);
    s.applied = state->applied_lsn;
  }
  return out;
}

// Looks up /lost+found in the primary.
void FindLostFound(fs::MetaStore& store, fs::Ino* ino, bool* is_dir) {
  fs::Request q;
  q.op = fs::Op::kLookup;
  q.parent = fs::kRootIno;
  q.name = fs::kLostFoundName;
  fs::Reply r = fs::Query(store, q);
  *ino = r.err == 0 ? r.attr.ino : 0;
  *is_dir = r.err == 0 && S_ISDIR(r.attr.mode);
}

// One round: journal the plan's records as one group, then apply them.
Status JournalAndApply(journal::Journal& jnl, fs::MetaStore& store, const fs::RepairPlan& plan, Env* env,
                       FsckReport* rep) {
  std::vector<std::string> payloads;
  std::vector<fs::JournaledOp> ops(plan.actions.size());
  for (size_t i = 0; i < plan.actions.size(); i++) {
    ops[i].rec.req = plan.actions[i];
    ops[i].rec.stamp.time_ns = env->NowRealtimeNanos();
    if (plan.actions[i].op == fs::Op::kMkdir) ops[i].rec.stamp.new_ino = plan.mkdir_ino;
    payloads.push_back(fs::EncodeOpRecord(ops[i].rec));
  }
  std::vector<journal::RecordIn> recs;
  for (const std::string& p : payloads) recs.push_back(journal::RecordIn{fs::kJournalTypeOp, p});
  BATON_ASSIGN_OR_RETURN(uint64_t first, jnl.AppendBatch(recs));
  for (size_t i = 0; i < ops.size(); i++) ops[i].lsn = first + i;
  std::vector<fs::ApplyResult> results;
  BATON_RETURN_IF_ERROR(fs::ApplyBatch(store, ops, &results));
  for (size_t i = 0; i < ops.size(); i++) {
    std::string what = "lsn " + Num(ops[i].lsn) + " " + fs::DescribeRepair(plan.actions[i]);
    if (results[i].reply.err != 0) what += " (no change: " + std::string(strerror(results[i].reply.err)) + ")";
    rep->Repaired(what);
  }
  return Status::Ok();
}

// Step 5. Returns the problems left (or an error). Stops when a round would
// journal exactly what the last one did (nothing it does changes anything).
StatusOr<std::vector<fs::CheckProblem>> RepairRounds(journal::Journal& jnl, StoreRef& primary, Env* env,
                                                     FsckReport* rep) {
  std::string last_plan;
  for (int round = 1;; round++) {
    BATON_ASSIGN_OR_RETURN(std::vector<fs::CheckProblem> problems, fs::CheckNamespace(*primary.store));
    if (problems.empty() || round > kMaxRounds) return problems;
    BATON_ASSIGN_OR_RETURN(fs::StoreState state, primary.store->ReadState());
    fs::Ino lf = 0;
    bool lf_dir = false;
    FindLostFound(*primary.store, &lf, &lf_dir);
    fs::RepairPlan plan = fs::PlanRepairs(problems, lf, lf_dir, state.next_ino);
    for (const fs::CheckProblem& u : plan.unrepairable)
      rep->Say("  cannot repair %s: %s\n", u.kind.c_str(), u.message.c_str());
    std::string this_plan;
    for (const fs::Request& q : plan.actions) this_plan += fs::EncodeRequest(q);
    if (plan.actions.empty() || this_plan == last_plan) return problems;
    last_plan = std::move(this_plan);
    rep->Say("repair round %d on %s: %zu problems, %zu records\n", round, primary.label.c_str(), problems.size(),
             plan.actions.size());
    BATON_RETURN_IF_ERROR(JournalAndApply(jnl, *primary.store, plan, env, rep));
  }
}

// --reclaim-orphans: one kReclaim record per orphan (the MDS's own record
// for the same deletion).
Status ReclaimOrphans(journal::Journal& jnl, StoreRef& primary, Env* env, FsckReport* rep) {
  BATON_ASSIGN_OR_RETURN(std::vector<fs::Ino> orphans, fs::ListOrphans(*primary.store));
  if (orphans.empty()) return Status::Ok();
  fs::RepairPlan plan;
  for (fs::Ino ino : orphans) {
    fs::Request q;
    q.op = fs::Op::kReclaim;
    q.ino = ino;
    plan.actions.push_back(q);
  }
  rep->Say("reclaiming %zu orphans on %s\n", orphans.size(), primary.label.c_str());
  return JournalAndApply(jnl, *primary.store, plan, env, rep);
}

// Step 4: every MDS store the journal continues is replayed to its end and
// checked; the primary is the one with the fewest problems (the mkfs store
// only when no MDS store can serve).
StoreRef* CatchUpAndPick(volume::Volume& vol, std::vector<StoreRef>& stores, uint64_t journal_first) {
  StoreRef* best = nullptr;
  for (StoreRef& s : stores) {
    if (s.seed || !s.store || !Covered(s, journal_first)) continue;
    Status st = mds::ReplayJournal(vol, *s.store);
    StatusOr<std::vector<fs::CheckProblem>> p =
        st.ok() ? fs::CheckNamespace(*s.store) : StatusOr<std::vector<fs::CheckProblem>>(st);
    if (!p.ok()) {
      s.why = "its replay or check fails: " + p.status().ToString();
      continue;
    }
    s.problems = std::move(*p);
    s.caught_up = true;
    if (!best || s.problems.size() < best->problems.size()) best = &s;
  }
  StoreRef& seed = stores.front();  // no MDS store can serve: the mkfs store
  if (best != nullptr || !seed.store || !seed.why.empty() || !Covered(seed, journal_first)) return best;
  Status st = mds::ReplayJournal(vol, *seed.store);
  StatusOr<std::vector<fs::CheckProblem>> p =
      st.ok() ? fs::CheckNamespace(*seed.store) : StatusOr<std::vector<fs::CheckProblem>>(st);
  if (!p.ok()) return nullptr;
  seed.problems = std::move(*p);
  seed.caught_up = true;
  return &seed;
}

// A problem of `mine` that `primary_left` does not have: the store's own damage.
const fs::CheckProblem* OwnProblem(const std::vector<fs::CheckProblem>& mine,
                                   const std::vector<fs::CheckProblem>& primary_left) {
  for (const fs::CheckProblem& p : mine) {
    bool shared = false;
    for (const fs::CheckProblem& q : primary_left) shared = shared || (p.kind == q.kind && p.message == q.message);
    if (!shared) return &p;
  }
  return nullptr;
}

// Why a store other than the primary cannot stay ("" when it can): it does
// not open, its replay fails, or after the replay (which brought it the
// repair records) it has a problem the primary does not have.
std::string Verdict(volume::Volume& vol, StoreRef& s, uint64_t journal_first,
                    const std::vector<fs::CheckProblem>& primary_left) {
  if (!s.why.empty()) return s.why;
  if (!s.store) return "it does not open";
  if (!s.seed && Covered(s, journal_first)) {
    Status st = mds::ReplayJournal(vol, *s.store);
    if (!st.ok()) return "its replay fails: " + st.ToString();
  }
  StatusOr<std::vector<fs::CheckProblem>> problems = fs::CheckNamespace(*s.store);
  if (!problems.ok()) return "it cannot be read: " + problems.status().ToString();
  const fs::CheckProblem* own = OwnProblem(*problems, primary_left);
  if (own == nullptr) return "";
  return Num(problems->size()) + " problems of its own (first: " + own->kind + " " + own->message + ")" +
         (Covered(s, journal_first) ? "" : ", and it is behind the journal");
}

// A fresh copy of the primary as the mkfs store (mds/store_bootstrap.h
// seeds MDS stores from it): copied and synced beside it, then swapped in.
Status ReplaceSeed(volume::Volume& vol, StoreRef& seed, StoreRef& primary, const std::string& why,
                   FsckReport* rep) {
  Env* env = vol.env();
  const std::string fresh = seed.dir + ".new";
  std::error_code ec;
  std::filesystem::remove_all(fresh, ec);
  BATON_RETURN_IF_ERROR(env->CreateDir(fresh));
  BATON_RETURN_IF_ERROR(fs::CopyStore(*primary.store, fresh));
  OpenOptions oo;
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> f, env->OpenFile(JoinPath(fresh, "data.mdb"), oo));
  BATON_RETURN_IF_ERROR(f->Sync());
  BATON_RETURN_IF_ERROR(f->Close());
  BATON_RETURN_IF_ERROR(env->SyncDir(fresh));
  BATON_RETURN_IF_ERROR(SetAside(vol, &seed, why, rep));
  BATON_RETURN_IF_ERROR(env->Rename(fresh, seed.dir));
  BATON_RETURN_IF_ERROR(env->SyncDir(vol.path()));
  rep->Repaired("store " + seed.label + ": replaced by a copy of " + primary.label);
  return Status::Ok();
}

// Step 6: every other store follows the journal, or is set aside.
Status AlignOtherStores(volume::Volume& vol, std::vector<StoreRef>& stores, StoreRef& primary, uint64_t journal_first,
                        const std::vector<fs::CheckProblem>& primary_left, FsckReport* rep) {
  for (StoreRef& s : stores) {
    if (&s == &primary) continue;
    const std::string why = Verdict(vol, s, journal_first, primary_left);
    if (why.empty()) continue;
    if (s.seed) BATON_RETURN_IF_ERROR(ReplaceSeed(vol, s, primary, why, rep));
    else BATON_RETURN_IF_ERROR(SetAside(vol, &s, why, rep));
  }
  return Status::Ok();
}

// Step 3: the epoch raised as a takeover does (mds::NextWriterEpoch); the
// superblock write also rewrites a damaged copy.
StatusOr<uint64_t> RaiseEpoch(volume::Volume& vol, FsckReport* rep) {
  BATON_ASSIGN_OR_RETURN(volume::Superblock sb, vol.ReloadSuperblock());
  BATON_ASSIGN_OR_RETURN(uint64_t epoch, mds::NextWriterEpoch(vol.env(), vol.journal_dir(), sb));
  int damaged = 0;
  volume::ReadSuperblock(vol.env(), JoinPath(vol.path(), "superblock"), &damaged).status().PermitUnchecked();
  BATON_RETURN_IF_ERROR(vol.SetEpoch(epoch));
  if (damaged != 0) rep->Repaired("superblock: the damaged copy rewritten (the epoch raise writes it)");
  rep->Say("epoch raised to %" PRIu64 " (fences any deposed writer)\n", epoch);
  return epoch;
}

// Step 2's checks; kFsckOk when the journal may be repaired as asked.
int CheckJournalPlan(const JournalState& js, const RepairOptions& o, FsckReport* rep) {
  if (js.first_corrupt_lsn != 0 && !o.discard)
    return Refuse(rep, kFsckUncorrected,
                  "the journal is damaged in the middle (at lsn " + Num(js.first_corrupt_lsn) +
                      "), and records after the damage may have been acknowledged to clients. fsck does not "
                      "guess: restore the journal's storage if you can; otherwise --discard-after-lsn " +
                      Num(js.first_corrupt_lsn - 1) + " throws away every record after lsn " +
                      Num(js.first_corrupt_lsn - 1) + " (acknowledged changes among them are lost)");
  if (o.discard && js.first_corrupt_lsn == 0)
    return Refuse(rep, kFsckUsage, "the journal has no damage in the middle: --discard-after-lsn would only throw "
                                   "away good records");
  if (o.discard && o.discard_after_lsn >= js.first_corrupt_lsn)
    return Refuse(rep, kFsckUsage, "--discard-after-lsn must be below the damaged lsn " + Num(js.first_corrupt_lsn));
  return kFsckOk;
}

}  // namespace

int RepairVolume(volume::Volume& vol, const RepairOptions& o, FsckReport* rep) {
  StatusOr<JournalState> js = ScanForRepair(vol, o.discard ? o.discard_after_lsn : UINT64_MAX);
  if (!js.ok()) return Refuse(rep, kFsckOperational, "cannot read the journal: " + js.status().ToString());
  if (int rc = CheckJournalPlan(*js, o, rep); rc != kFsckOk) return rc;
  StatusOr<std::vector<StoreRef>> stores = OpenStores(vol);
  if (!stores.ok()) return Refuse(rep, kFsckOperational, stores.status().ToString());
  const uint64_t first = js->sum.first_lsn;
  bool any = false;
  for (const StoreRef& s : *stores) any = any || (s.store && Covered(s, first) && !(o.discard && s.applied > o.discard_after_lsn));
  if (!any)
    return Refuse(rep, kFsckUncorrected, "no metadata store of the volume can be brought up to date from the journal (" +
                                             std::string(o.discard ? "every store applied past the cut" : "none opens") + ")");
  // --- from here on, fsck writes.
  auto fail = [&](const Status& st) {
    fprintf(stderr, "baton fsck: the repair stopped after it had changed the volume (above): %s\n"
                    "fix the cause and run fsck --repair again\n", st.ToString().c_str());
    return kFsckOperational;
  };
  StatusOr<uint64_t> epoch = RaiseEpoch(vol, rep);
  if (!epoch.ok()) return fail(epoch.status());
  if (o.discard && js->have_cut) {
    for (StoreRef& s : *stores)
      if (s.store && !s.seed && s.applied > o.discard_after_lsn)
        if (Status st = SetAside(vol, &s, "applied lsn " + Num(s.applied) + " is past the cut", rep); !st.ok())
          return fail(st);
    if (stores->front().store && stores->front().applied > o.discard_after_lsn) stores->front().why = "past the cut";
    if (Status st = CutJournal(vol, *js, rep); !st.ok()) return fail(st);
  }
  journal::JournalOptions jo = vol.journal_options();
  jo.epoch = *epoch;
  StatusOr<std::unique_ptr<journal::Journal>> jnl = journal::Journal::Open(jo);
  if (!jnl.ok()) return fail(jnl.status());
  if (js->torn_tail && !(o.discard && js->have_cut)) rep->Repaired("journal: torn tail truncated");
  StoreRef* primary = CatchUpAndPick(vol, *stores, first);
  if (primary == nullptr) return fail(Status::Corruption("no metadata store could be brought to the journal's end"));
  StatusOr<std::vector<fs::CheckProblem>> left = RepairRounds(**jnl, *primary, vol.env(), rep);
  if (!left.ok()) return fail(left.status());
  if (o.reclaim_orphans)
    if (Status st = ReclaimOrphans(**jnl, *primary, vol.env(), rep); !st.ok()) return fail(st);
  if (Status st = AlignOtherStores(vol, *stores, *primary, first, *left, rep); !st.ok()) return fail(st);
  if (Status st = (*jnl)->Close(); !st.ok()) return fail(st);
  return kFsckOk;
}

}  // namespace baton::tools
