#include "torture/harness.h"

#include "torture/mem_env.h"
#include "torture/model.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "base/checksum.h"
#include "base/log.h"
#include "fs/apply.h"
#include "fs/check.h"
#include "fs/meta_store.h"
#include "fs/store_contents.h"
#include "journal/journal.h"
#include "mds/open_table.h"
#include "mds/replay.h"
#include "mds/sequencer.h"
#include "volume/volume.h"

namespace baton::torture {

namespace stdfs = std::filesystem;

namespace {

constexpr int64_t kFixedTimeNs = 1767225600LL * 1000000000LL;  // 2026-01-01T00:00:00Z
constexpr uint64_t kSetupSession = 1;
constexpr uint64_t kSession = 2;
// Where a crash state's volume files live (in a MemEnv; LMDB stays on disk).
constexpr char kMemVolume[] = "/baton-torture-state";

Status CopyDir(const std::string& from, const std::string& to) {
  std::error_code ec;
  stdfs::copy(from, to, stdfs::copy_options::recursive, ec);
  if (ec) return Status::IOError("cannot copy " + from + " to " + to + ": " + ec.message());
  return Status::Ok();
}

// The store as of its last commit: a plain copy of data.mdb, taken on the
// writing thread right after a commit (no write transaction is open, and
// readers write nothing), so the copy's newest meta page is that commit.
// (mdb_env_copy2 with compaction cost more than a whole crash state.)
Status SnapshotStore(const std::string& store_dir, const std::string& dest_dir) {
  std::error_code ec;
  stdfs::copy_file(store_dir + "/data.mdb", dest_dir + "/data.mdb", ec);
  if (ec) return Status::IOError("cannot copy " + store_dir + "/data.mdb: " + ec.message());
  return Status::Ok();
}

void RemoveAll(const std::string& p) {
  std::error_code ec;
  stdfs::remove_all(p, ec);
}

uint64_t ImageHash(const FileImage& img) {
  Checksummer c(0);
  for (const auto& [path, bytes] : img) {
    uint64_t n = path.size(), m = bytes.size();
    c.Update(std::string_view(reinterpret_cast<const char*>(&n), sizeof n));
    c.Update(path);
    c.Update(std::string_view(reinterpret_cast<const char*>(&m), sizeof m));
    c.Update(bytes);
  }
  return c.Digest();
}

bool SameReply(const fs::Reply& a, const fs::Reply& b) {
  return a.err == b.err && a.attr.ino == b.attr.ino && a.attr.size == b.attr.size && a.attr.nlink == b.attr.nlink &&
         a.attr.mode == b.attr.mode && a.data == b.data && a.offset == b.offset &&
         a.parent_attr.ino == b.parent_attr.ino && a.parent_attr.nlink == b.parent_attr.nlink &&
         a.parent_attr.mtime_ns == b.parent_attr.mtime_ns;
}

std::string DescribeReply(const fs::Reply& r) {
  return "err=" + std::to_string(r.err) + " ino=" + std::to_string(r.attr.ino) + " size=" +
         std::to_string(r.attr.size) + " nlink=" + std::to_string(r.attr.nlink) + " offset=" +
         std::to_string(r.offset);
}

mds::SequencerOptions BaseSequencerOptions(const std::string& volume_path, uint64_t checkpoint_records,
                                           uint64_t store_commit_records = 0) {
  mds::SequencerOptions so;
  so.checkpoint_records = checkpoint_records;
  so.checkpoint_interval_ms = 1u << 30;  // never by time: runs must be reproducible
  // The store's commit (TortureOptions::store_commit_records): every batch
  // before its replies, or deferred and bounded by records only.
  so.store_commit_interval_ms = store_commit_records == 0 ? 0 : 1u << 30;
  if (store_commit_records > 0) so.store_commit_records = store_commit_records;
  so.orphan_grace_ms = 0;
  so.volume_path = volume_path;
  so.min_free_bytes = 0;
  so.min_free_percent = 0;
  // Acknowledgements (Marker::kAck) are logged in the one order of the
  // recording Env, so replies come from the sequencer thread.
  so.reply_thread = false;
  return so;
}

// Sends one request through a sequencer and waits for its reply.
StatusOr<fs::Reply> Call(mds::Sequencer& seq, uint64_t session, uint64_t rid, const fs::Request& req,
                         const std::function<void()>& on_reply = nullptr) {
  return seq.Call(session, rid, req, std::chrono::seconds(30), on_reply);
}

}  // namespace

std::string TortureFailure::Describe() const {
  std::string s = "FAILURE: " + what + "\n  workload: " + DescribeWorkload(workload) + "\n  model: " + model +
                  "\n  crash point: event " + std::to_string(crash_at) +
                  (level > 1 ? " of the live run, then a crash inside recovery (level " + std::to_string(level) + ")"
                             : std::string(" of the live run")) +
                  "\n";
  if (!events.empty()) s += "  events up to the crash point:\n" + events;
  return s;
}

// What the live run recorded.
struct Harness::Live {
  std::string dir, store_dir;
  FileImage base;
  std::vector<IoEvent> log;
  std::vector<std::string> snapshots;           // [0] = the store before the workload
  std::map<uint64_t, uint64_t> digest_at_lsn;   // batch-end LSN -> store digest
  struct Batch {
    size_t snapshot_before = 0;
    std::vector<fs::JournaledOp> ops;
  };
  std::vector<Batch> batches;
  std::map<uint64_t, uint64_t> lsn_of_request;  // request id -> LSN of its record
  std::map<uint64_t, fs::Request> requests;
  std::map<uint64_t, fs::Reply> replies;
  std::map<uint64_t, std::string> view_after;   // request id -> namespace view after its reply
  uint64_t base_lsn = 0;
  std::string model_problem;                    // where the live run disagreed with the reference model
};

struct Harness::Recovered {
  std::unique_ptr<MemEnv> mem;       // the volume's files (journal, superblock), in memory
  std::unique_ptr<RecordingEnv> rec;  // when recovery itself is recorded
  Status status;
  uint64_t applied = 0;
  uint64_t digest = 0;
  std::unique_ptr<volume::Volume> vol;
  std::unique_ptr<journal::Journal> jnl;
  std::unique_ptr<fs::MetaStore> store;
  std::vector<std::string> snapshots;  // level-2 recording: stores after each replay commit
};

Harness::Harness(TortureOptions o) : o_(std::move(o)), rng_(o_.seed) {}

Harness::~Harness() {
  if (!work_.empty()) RemoveAll(work_);
}

std::string Harness::NewDir(const char* what) { return work_ + "/" + what + "-" + std::to_string(dir_seq_++); }

Status Harness::Prepare() {
  std::string base = o_.work_dir;
  if (base.empty()) base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string tmpl = base + "/baton-torture-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::IOError("mkdtemp in " + base, errno);
  work_ = tmpl;
  template_dir_ = work_ + "/template";
  template_store_ = work_ + "/template-store";
  volume::MkfsOptions mo;
  mo.chunk_size_bytes = 4096;
  mo.meta_map_bytes = 256ull << 20;
  BATON_RETURN_IF_ERROR(volume::Volume::Create(Env::Default(), template_dir_, mo).status());
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<volume::Volume> vol, volume::Volume::Open(Env::Default(), template_dir_));
  {
    BATON_ASSIGN_OR_RETURN(std::unique_ptr<fs::MetaStore> seed, fs::MetaStore::Open(vol->meta_dir(), vol->store_options()));
    BATON_RETURN_IF_ERROR(Env::Default()->CreateDir(template_store_));
    BATON_RETURN_IF_ERROR(fs::CopyStore(*seed, template_store_));
  }
  RemoveAll(vol->meta_dir());  // LMDB is not part of the file images
  // The setup namespace, applied and checkpointed (store synced, journal trimmed).
  RecordingEnv env(Env::Default(), template_dir_, kFixedTimeNs);
  BATON_ASSIGN_OR_RETURN(vol, volume::Volume::Open(&env, template_dir_));
  BATON_RETURN_IF_ERROR(vol->SetEpoch(vol->superblock().epoch + 1));
  journal::JournalOptions jo = vol->journal_options();
  jo.segment_size_bytes = o_.segment_bytes;  // smaller than mkfs allows: short workloads roll segments
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<journal::Journal> jnl, journal::Journal::Open(jo));
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<fs::MetaStore> store, fs::MetaStore::Open(template_store_, vol->store_options()));
  mds::OpenTable opens;
  mds::Sequencer seq(&env, store.get(), jnl.get(), &opens, BaseSequencerOptions(template_dir_, 1000000));
  BATON_RETURN_IF_ERROR(seq.Start());
  uint64_t rid = 0;
  for (const Step& s : SetupSteps()) {
    for (const fs::Request& r : ResolveStep(*store, s)) {
      BATON_ASSIGN_OR_RETURN(fs::Reply rep, Call(seq, kSetupSession, ++rid, r));
      if (rep.err != 0) return Status::Corruption("setup step " + DescribeStep(s) + ": errno " + std::to_string(rep.err));
    }
  }
  seq.Stop();
  BATON_RETURN_IF_ERROR(store->Sync());
  BATON_RETURN_IF_ERROR(jnl->Close());
  BATON_ASSIGN_OR_RETURN(template_image_, ReadImage(template_dir_));
  return Status::Ok();
}

Status Harness::LiveRun(const std::vector<Step>& workload, Live* live) {
  live->dir = kMemVolume;  // the volume's files in memory; the store on disk
  live->store_dir = NewDir("live-store");
  BATON_RETURN_IF_ERROR(CopyDir(template_store_, live->store_dir));
  MemEnv mem(template_image_, live->dir, kFixedTimeNs);
  RecordingEnv env(&mem, live->dir, kFixedTimeNs);
  // As a taking-over MDS starts: raise the epoch, open the journal (a new
  // segment). That part is durable when Journal::Open returns; recording
  // starts after it (crashes inside it are the recovery crashes).
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<volume::Volume> vol, volume::Volume::Open(&env, live->dir));
  BATON_RETURN_IF_ERROR(vol->SetEpoch(vol->superblock().epoch + 1));
  journal::JournalOptions jo = vol->journal_options();
  jo.segment_size_bytes = o_.segment_bytes;  // smaller than mkfs allows: short workloads roll segments
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<journal::Journal> jnl, journal::Journal::Open(jo));
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<fs::MetaStore> store, fs::MetaStore::Open(live->store_dir, vol->store_options()));
  env.TakeLog();
  live->base = mem.Image();
  BATON_ASSIGN_OR_RETURN(fs::StoreState st0, store->ReadState());
  live->base_lsn = st0.applied_lsn;
  live->snapshots.push_back(template_store_);
  BATON_ASSIGN_OR_RETURN(live->digest_at_lsn[live->base_lsn], fs::DigestStoreContents(*store));

  Status hook_error;
  mds::SequencerOptions so = BaseSequencerOptions(work_, o_.checkpoint_records, o_.store_commit_records);
  so.after_commit = [&](std::span<const fs::JournaledOp> ops) {
    const size_t snap = live->snapshots.size();
    env.Mark(Marker::kCommit, snap);
    std::string dir = NewDir("snap");
    Status s = Env::Default()->CreateDir(dir);
    if (s.ok()) s = SnapshotStore(live->store_dir, dir);
    StatusOr<uint64_t> d = fs::DigestStoreContents(*store);
    if (!d.ok()) s = d.status();
    if (!s.ok() && hook_error.ok()) hook_error = s;
    live->snapshots.push_back(dir);
    live->digest_at_lsn[ops.back().lsn] = d.ok() ? *d : 0;
    Live::Batch b;
    b.snapshot_before = snap - 1;
    b.ops.assign(ops.begin(), ops.end());
    for (const fs::JournaledOp& op : ops) {
      if (op.rec.stamp.session_id == kSession) live->lsn_of_request[op.rec.stamp.request_id] = op.lsn;
    }
    live->batches.push_back(std::move(b));
  };
  so.after_store_sync = [&] { env.Mark(Marker::kStoreSync, 0); };
  mds::OpenTable opens;
  mds::Sequencer seq(&env, store.get(), jnl.get(), &opens, so);
  BATON_RETURN_IF_ERROR(seq.Start());
  uint64_t rid = 0;
  Status st;
  RefModel model;
  // What a client sees: replied mutations, committed to the store or not.
  const QueryFn live_query = [&seq](const fs::Request& q) { return seq.Query(q); };
  for (const Step& step : workload) {
    const std::vector<fs::Request> reqs = ResolveStep(live_query, step);
    const uint64_t first_id = rid + 1;
    for (const fs::Request& r : reqs) {
      const uint64_t id = ++rid;
      live->requests[id] = r;
      env.Mark(Marker::kSubmit, id);
      StatusOr<fs::Reply> rep = Call(seq, kSession, id, r, [&env, id] { env.Mark(Marker::kAck, id); });
      if (!rep.ok()) {
        st = rep.status();
        break;
      }
      live->replies[id] = *rep;
      StatusOr<std::string> view = NamespaceView(live_query);
      if (!view.ok()) {
        st = view.status();
        break;
      }
      live->view_after[id] = *view;
    }
    if (!st.ok()) break;
    // The reference model: same errno, same namespace.
    const int want = model.Apply(step);
    const int got = reqs.empty() ? ENOENT : live->replies[first_id].err;
    if (live->model_problem.empty() && want != got) {
      live->model_problem = "step '" + DescribeStep(step) + "' answered errno " + std::to_string(got) +
                            ", the reference model says " + std::to_string(want);
    }
    if (live->model_problem.empty()) {
      StatusOr<std::string> view = NamespaceView(live_query);
      if (!view.ok()) {
        st = view.status();
        break;
      }
      if (ModelView(*view) != model.View()) {
        live->model_problem = "after step '" + DescribeStep(step) +
                              "' the namespace differs from the reference model's:\n--- model\n" + model.View() +
                              "--- live\n" + ModelView(*view);
      }
    }
  }
  seq.Stop();
  BATON_RETURN_IF_ERROR(st);
  BATON_RETURN_IF_ERROR(hook_error);
  BATON_RETURN_IF_ERROR(jnl->Close());
  live->log = env.TakeLog();
  return Status::Ok();
}

Status Harness::Recover(const FileImage& image, const std::string& store_dir, bool record, Recovered* out) {
  const std::string dir = kMemVolume;
  out->mem = std::make_unique<MemEnv>(image, dir, kFixedTimeNs);
  if (record) out->rec = std::make_unique<RecordingEnv>(out->mem.get(), dir, kFixedTimeNs);
  RecordingEnv* rec = out->rec.get();
  Env* env = rec != nullptr ? static_cast<Env*>(rec) : out->mem.get();
  out->status = [&]() -> Status {
    BATON_ASSIGN_OR_RETURN(out->vol, volume::Volume::Open(env, dir));
    const uint64_t epoch = out->vol->superblock().epoch + 1;
    BATON_RETURN_IF_ERROR(out->vol->SetEpoch(epoch));
    journal::JournalOptions jo = out->vol->journal_options();
    jo.epoch = epoch;
    jo.segment_size_bytes = o_.segment_bytes;
    BATON_ASSIGN_OR_RETURN(out->jnl, journal::Journal::Open(jo));
    BATON_ASSIGN_OR_RETURN(out->store, fs::MetaStore::Open(store_dir, out->vol->store_options()));
    std::function<void()> hook;
    Status hook_error;
    if (rec != nullptr) {
      hook = [&] {
        rec->Mark(Marker::kCommit, out->snapshots.size() + 1);
        std::string snap = NewDir("rsnap");
        Status s = Env::Default()->CreateDir(snap);
        if (s.ok()) s = SnapshotStore(store_dir, snap);
        if (!s.ok() && hook_error.ok()) hook_error = s;
        out->snapshots.push_back(snap);
      };
    }
    // Inline reading: the recording Env logs file accesses in one order.
    BATON_RETURN_IF_ERROR(mds::ReplayJournal(*out->vol, *out->store, {mds::ReadAhead::kInline, hook}));
    BATON_RETURN_IF_ERROR(hook_error);
    BATON_ASSIGN_OR_RETURN(fs::StoreState s, out->store->ReadState());
    out->applied = s.applied_lsn;
    if (s.applied_lsn + 1 != out->jnl->next_lsn())
      return Status::Corruption("after replay the store is at LSN " + std::to_string(s.applied_lsn) +
                                " but the journal ends at LSN " + std::to_string(out->jnl->next_lsn() - 1));
    BATON_ASSIGN_OR_RETURN(out->digest, fs::DigestStoreContents(*out->store));
    return Status::Ok();
  }();
  return Status::Ok();
}

Status Harness::Run(const std::vector<Step>& workload, std::vector<TortureFailure>* failures) {
  Live live;
  Status st = LiveRun(workload, &live);
  auto cleanup = [&] {
    RemoveAll(live.store_dir);
    for (size_t i = 1; i < live.snapshots.size(); i++) RemoveAll(live.snapshots[i]);
  };
  if (!st.ok()) {
    cleanup();
    return Status::IOError("live run of [" + DescribeWorkload(workload) + "]: " + st.ToString());
  }
  stats_.workloads++;
  if (!live.model_problem.empty()) {
    TortureFailure f;
    f.workload = workload;
    f.model = "reference-model";
    f.crash_at = live.log.size();
    f.what = "the live run disagrees with the reference model: " + live.model_problem;
    failures->push_back(std::move(f));
  }
  for (size_t p = 0; p <= live.log.size() && failures->empty(); p++) {
    st = CheckPoint(workload, live, p, failures);
    if (!st.ok()) break;
  }
  if (st.ok() && failures->empty() && o_.corrupt_middle) st = CheckCorruptMiddle(workload, live, failures);
  cleanup();
  return st;
}

Status Harness::CheckPoint(const std::vector<Step>& workload, Live& live, size_t p,
                           std::vector<TortureFailure>* failures) {
  // What had happened before the crash.
  std::set<uint64_t> acked, submitted;
  size_t commits = 0;
  bool synced_after_commit = false;
  for (size_t i = 0; i < p; i++) {
    const IoEvent& e = live.log[i];
    if (e.kind != IoKind::kMarker) continue;
    if (e.marker == Marker::kAck) acked.insert(e.id);
    if (e.marker == Marker::kSubmit) submitted.insert(e.id);
    if (e.marker == Marker::kCommit) {
      commits = e.id;
      synced_after_commit = false;
    }
    if (e.marker == Marker::kStoreSync) synced_after_commit = true;
  }
  uint64_t required = live.base_lsn;
  for (uint64_t id : acked) {
    auto it = live.lsn_of_request.find(id);
    if (it != live.lsn_of_request.end()) required = std::max(required, it->second);
  }
  uint64_t inflight = 0;
  for (uint64_t id : submitted) {
    if (acked.count(id) == 0) inflight = id;
  }
  // LMDB's state (tests/torture/lmdb_crash_test.cc checks this rule on its
  // real I/O): the last commit; the one before while no store sync followed;
  // and the commit in progress at the crash (its pages are synced before its
  // meta page is written, so it may already be the store).
  std::vector<size_t> snaps{commits};
  if (commits > 0 && !synced_after_commit) snaps.push_back(commits - 1);
  if (p < live.log.size() && live.log[p].kind == IoKind::kMarker && live.log[p].marker == Marker::kCommit)
    snaps.push_back(live.log[p].id);
  stats_.crash_points++;

  const CrashPoint cp(live.base, live.log, p);
  struct Candidate {
    FileImage img;
    CrashModel model;
  };
  std::vector<Candidate> cands;
  std::set<uint64_t> seen;
  auto add = [&](FileImage img, CrashModel m) {
    if (seen.insert(ImageHash(img)).second) cands.push_back({std::move(img), m});
  };
  for (CrashModel m : o_.models) {
    if (m == CrashModel::kPrefix) {
      for (size_t k = 0; k <= cp.unsynced_count(); k++) add(cp.Prefix(k), m);
    } else {
      for (int i = 0; i < o_.samples; i++) add(cp.Sample(m, rng_), m);
    }
  }
  auto fail = [&](const std::string& what, CrashModel m, int level = 1) {
    TortureFailure f;
    f.workload = workload;
    f.model = CrashModelName(m);
    f.crash_at = p;
    f.level = level;
    f.what = what;
    for (size_t i = p > 12 ? p - 12 : 0; i < p; i++) f.events += "    #" + std::to_string(i) + " " + DescribeEvent(live.log[i]) + "\n";
    failures->push_back(std::move(f));
  };
  // Judges one crash state: "" when it passes, else what failed. A crash
  // inside its recovery (deep) adds its own failures.
  auto judge = [&](const FileImage& img, size_t snap, bool deep) -> StatusOr<std::string> {
      stats_.states++;
      const std::string store_dir = NewDir("state");
      BATON_RETURN_IF_ERROR(CopyDir(live.snapshots[snap], store_dir));
      Recovered r;
      BATON_RETURN_IF_ERROR(Recover(img, store_dir, false, &r));
      std::string problem;
      if (!r.status.ok()) {
        problem = "recovery failed: " + r.status.ToString();
      } else if (r.applied < required) {
        problem = "an acknowledged operation was lost: recovered up to LSN " + std::to_string(r.applied) +
                  ", acknowledged up to LSN " + std::to_string(required);
      } else {
        auto g = live.digest_at_lsn.find(r.applied);
        uint64_t want = 0;
        if (g != live.digest_at_lsn.end()) {
          want = g->second;
        } else {
          // Inside a batch (a torn group write kept some of its records):
          // the golden state is the batch's start plus its first records.
          for (const Live::Batch& b : live.batches) {
            if (b.ops.front().lsn > r.applied || b.ops.back().lsn < r.applied) continue;
            const std::string ref = NewDir("ref");
            BATON_RETURN_IF_ERROR(CopyDir(live.snapshots[b.snapshot_before], ref));
            StatusOr<std::unique_ptr<fs::MetaStore>> rs = fs::MetaStore::Open(ref, r.vol->store_options());
            BATON_RETURN_IF_ERROR(rs.status());
            for (const fs::JournaledOp& op : b.ops) {
              if (op.lsn > r.applied) break;
              std::vector<fs::ApplyResult> res;
              BATON_RETURN_IF_ERROR(fs::ApplyBatch(**rs, std::span<const fs::JournaledOp>(&op, 1), &res));
            }
            BATON_ASSIGN_OR_RETURN(want, fs::DigestStoreContents(**rs));
            rs->reset();
            RemoveAll(ref);
            break;
          }
        }
        if (want == 0) {
          problem = "recovered to LSN " + std::to_string(r.applied) + ", which the live run never wrote";
        } else if (want != r.digest) {
          problem = "the recovered store differs from the live store at LSN " + std::to_string(r.applied) +
                    " (not a prefix of the journal order)";
        }
      }
      if (problem.empty()) {
        StatusOr<std::vector<fs::CheckProblem>> probs = fs::CheckNamespace(*r.store, 5);
        if (!probs.ok()) problem = "fsck cannot read the store: " + probs.status().ToString();
        else if (!probs->empty()) problem = "fsck: " + (*probs)[0].kind + ": " + (*probs)[0].message;
      }
      if (problem.empty() && inflight != 0) {
        // The client re-sends the request it never got an answer to.
        mds::OpenTable opens;
        mds::Sequencer seq(r.mem.get(), r.store.get(), r.jnl.get(), &opens,
                           BaseSequencerOptions(work_, o_.checkpoint_records, o_.store_commit_records));
        Status s = seq.Start();
        StatusOr<fs::Reply> rep = s.ok() ? Call(seq, kSession, inflight, live.requests[inflight]) : StatusOr<fs::Reply>(s);
        seq.Stop();
        if (!rep.ok()) {
          problem = "re-sent request " + std::to_string(inflight) + " got no answer: " + rep.status().ToString();
        } else if (!SameReply(*rep, live.replies[inflight])) {
          problem = "re-sent request " + std::to_string(inflight) + " answered " + DescribeReply(*rep) +
                    ", the live run answered " + DescribeReply(live.replies[inflight]) + " (not exactly once)";
        } else {
          StatusOr<std::string> view = NamespaceView(*r.store);
          if (!view.ok()) problem = "namespace view after the re-send: " + view.status().ToString();
          else if (*view != live.view_after[inflight])
            problem = "after re-sending request " + std::to_string(inflight) +
                      " the namespace differs from the live run's (applied twice or not at all):\n--- live\n" +
                      live.view_after[inflight] + "--- recovered\n" + *view;
        }
      }
      const uint64_t level1_digest = r.digest;
      r = Recovered{};
      if (problem.empty() && stats_.states % 16 == 1) {
        // The same crash state recovered again gives the same store.
        const std::string store2 = NewDir("again");
        BATON_RETURN_IF_ERROR(CopyDir(live.snapshots[snap], store2));
        Recovered again;
        BATON_RETURN_IF_ERROR(Recover(img, store2, false, &again));
        if (!again.status.ok() || again.digest != level1_digest)
          problem = "recovering the same crash state twice gave different stores";
        again = Recovered{};
        RemoveAll(store2);
      }
      if (problem.empty() && deep) {
        size_t before = failures->size();
        BATON_RETURN_IF_ERROR(
            CheckRecoveryCrashes(workload, img, live.snapshots[snap], level1_digest, 2, p, failures));
        for (size_t i = before; i < failures->size(); i++) (*failures)[i].events = "";
      }
      RemoveAll(store_dir);
      return problem;
  };
  for (const Candidate& c : cands) {
    for (size_t snap : snaps) {
      const bool deep = o_.recovery_levels >= 2 && o_.recovery_crash_every > 0 &&
                        (stats_.states + 1) % static_cast<uint64_t>(o_.recovery_crash_every) == 0;
      BATON_ASSIGN_OR_RETURN(std::string problem, judge(c.img, snap, deep));
      if (!problem.empty()) {
        fail(problem + " (LMDB at commit " + std::to_string(snap) + ")", c.model);
        // Shrink the crash state: the fewest unsynced operations kept, in
        // issue order, with which some LMDB state still fails.
        std::string minimal;
        for (size_t k = 0; k <= cp.unsynced_count() && minimal.empty(); k++) {
          for (size_t s2 : snaps) {
            BATON_ASSIGN_OR_RETURN(std::string p2, judge(cp.Prefix(k), s2, false));
            if (p2.empty()) continue;
            minimal = "  smallest failing crash state: keep " + std::to_string(k) + " of the " +
                      std::to_string(cp.unsynced_count()) + " unsynced operations, LMDB at commit " +
                      std::to_string(s2) + " (" + p2.substr(0, 160) + ")\n";
            std::vector<std::string> kept = cp.PendingDescriptions();
            for (size_t i = 0; i < kept.size(); i++)
              minimal += std::string(i < k ? "    kept: " : "    lost: ") + kept[i] + "\n";
            break;
          }
        }
        if (minimal.empty()) minimal = "  no prefix-model state at this crash point fails: the failing state needs reordering or tearing (model " + std::string(CrashModelName(c.model)) + ")\n";
        failures->back().events += minimal;
        return Status::Ok();
      }
      if (!failures->empty()) return Status::Ok();
    }
  }
  return Status::Ok();
}

Status Harness::CheckRecoveryCrashes(const std::vector<Step>& workload, const FileImage& image,
                                     const std::string& snapshot, uint64_t expect_digest, int level, size_t live_point,
                                     std::vector<TortureFailure>* failures) {
  const std::string store_dir = NewDir("rec");
  BATON_RETURN_IF_ERROR(CopyDir(snapshot, store_dir));
  Recovered r;
  BATON_RETURN_IF_ERROR(Recover(image, store_dir, true, &r));
  std::vector<IoEvent> log = r.rec->TakeLog();
  std::vector<std::string> snaps{snapshot};
  for (const std::string& s : r.snapshots) snaps.push_back(s);
  const bool ok = r.status.ok();
  r = Recovered{};
  auto cleanup = [&] {
    RemoveAll(store_dir);
    for (size_t i = 1; i < snaps.size(); i++) RemoveAll(snaps[i]);
  };
  if (!ok) {  // it recovered without the recorder; something differs
    cleanup();
    TortureFailure f;
    f.workload = workload;
    f.model = "-";
    f.crash_at = live_point;
    f.level = level;
    f.what = "recovery failed when recorded";
    failures->push_back(std::move(f));
    return Status::Ok();
  }
  for (size_t q = 0; q <= log.size(); q++) {
    size_t commits = 0;
    for (size_t i = 0; i < q; i++) {
      if (log[i].kind == IoKind::kMarker && log[i].marker == Marker::kCommit) commits = log[i].id;
    }
    std::vector<size_t> choices{commits};
    if (commits > 0) choices.push_back(commits - 1);
    if (q < log.size() && log[q].kind == IoKind::kMarker && log[q].marker == Marker::kCommit)
      choices.push_back(log[q].id);
    const CrashPoint cp(image, log, q);
    std::vector<std::pair<FileImage, CrashModel>> cands{{cp.Durable(), CrashModel::kPrefix},
                                                        {cp.Everything(), CrashModel::kPrefix}};
    for (CrashModel m : o_.models) {
      if (m != CrashModel::kPrefix) cands.push_back({cp.Sample(m, rng_), m});
    }
    for (auto& [img, model] : cands) {
      for (size_t snap : choices) {
        stats_.states++;
        stats_.recovery_states++;
        const std::string s2 = NewDir("state2");
        BATON_RETURN_IF_ERROR(CopyDir(snaps[snap], s2));
        Recovered r2;
        BATON_RETURN_IF_ERROR(Recover(img, s2, false, &r2));
        std::string problem;
        if (!r2.status.ok()) problem = "recovery after a crash inside recovery failed: " + r2.status.ToString();
        else if (r2.digest != expect_digest)
          problem = "a crash inside recovery changed the recovered store (recovered to LSN " +
                    std::to_string(r2.applied) + ")";
        r2 = Recovered{};
        if (problem.empty() && level < o_.recovery_levels && q == log.size() / 2 && snap == commits) {
          BATON_RETURN_IF_ERROR(
              CheckRecoveryCrashes(workload, img, snaps[snap], expect_digest, level + 1, live_point, failures));
        }
        RemoveAll(s2);
        if (!problem.empty()) {
          TortureFailure f;
          f.workload = workload;
          f.model = CrashModelName(model);
          f.crash_at = live_point;
          f.level = level;
          f.what = problem + " (recovery event " + std::to_string(q) + " of " + std::to_string(log.size()) +
                   ", LMDB at replay commit " + std::to_string(snap) + ")";
          for (size_t i = q > 8 ? q - 8 : 0; i < q; i++)
            f.events += "    recovery #" + std::to_string(i) + " " + DescribeEvent(log[i]) + "\n";
          failures->push_back(std::move(f));
        }
        if (!failures->empty()) {
          cleanup();
          return Status::Ok();
        }
      }
    }
  }
  cleanup();
  return Status::Ok();
}

Status Harness::CheckCorruptMiddle(const std::vector<Step>& workload, Live& live,
                                   std::vector<TortureFailure>* failures) {
  // The last journal write before the first checkpoint (the store the
  // workload started from still needs every record written so far).
  size_t end = live.log.size();
  for (size_t i = 0; i < live.log.size(); i++) {
    if (live.log[i].kind == IoKind::kMarker && live.log[i].marker == Marker::kStoreSync) {
      end = i;
      break;
    }
  }
  std::vector<size_t> writes;
  for (size_t i = 0; i < end; i++) {
    const IoEvent& e = live.log[i];
    if (e.kind == IoKind::kWrite && e.path.rfind("journal/", 0) == 0) writes.push_back(i);
  }
  if (writes.size() < 2) return Status::Ok();
  const CrashPoint cp(live.base, live.log, end);
  const FileImage all = cp.Everything();
  for (int round = 0; round < 2; round++) {
    const IoEvent& e = live.log[writes[rng_() % (writes.size() - 1)]];  // never the last write
    FileImage img = all;
    auto f = img.find(e.path);
    if (f == img.end() || e.data.empty() || f->second.size() < e.offset + e.data.size()) continue;
    // Only the records of the write: a group write may end in zeroed space
    // laid ahead of the log (journal_format.h), which holds no record.
    const size_t record_bytes = e.data.find_last_not_of('\0') + 1;
    if (record_bytes == 0) continue;
    const uint64_t byte = e.offset + rng_() % record_bytes;
    f->second[byte] = static_cast<char>(f->second[byte] ^ (1 << (rng_() % 8)));
    stats_.states++;
    stats_.corrupt_states++;
    const std::string store_dir = NewDir("corrupt");
    BATON_RETURN_IF_ERROR(CopyDir(live.snapshots[0], store_dir));
    Recovered r;
    BATON_RETURN_IF_ERROR(Recover(img, store_dir, false, &r));
    const Status rs = r.status;
    r = Recovered{};
    RemoveAll(store_dir);
    if (rs.code() != Code::kCorruption) {
      TortureFailure tf;
      tf.workload = workload;
      tf.model = "corrupt-middle";
      tf.crash_at = end;
      tf.what = "a bit flipped in " + e.path + " at byte " + std::to_string(byte) +
                " (a durable record that later records follow) was not reported as corruption: recovery " +
                (rs.ok() ? std::string("succeeded") : "said " + rs.ToString());
      for (size_t i : writes) tf.events += "    #" + std::to_string(i) + " " + DescribeEvent(live.log[i]) + "\n";
      for (const auto& [path, bytes] : img) tf.events += "    file " + path + " " + std::to_string(bytes.size()) + " bytes\n";
      failures->push_back(std::move(tf));
      return Status::Ok();
    }
  }
  return Status::Ok();
}

std::vector<Step> Harness::Shrink(const std::vector<Step>& workload) {
  std::vector<Step> w = workload;
  auto fails = [&](const std::vector<Step>& cand) {
    std::vector<TortureFailure> f;
    Status st = Run(cand, &f);
    return st.ok() && !f.empty();
  };
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t i = 0; i < w.size() && w.size() > 1; i++) {
      std::vector<Step> cand = w;
      cand.erase(cand.begin() + static_cast<std::ptrdiff_t>(i));
      if (fails(cand)) {
        w = cand;
        progress = true;
        break;
      }
    }
    for (size_t i = 0; i < w.size() && !progress; i++) {
      if (w[i].persist == Persist::kNone) continue;
      std::vector<Step> cand = w;
      cand[i].persist = Persist::kNone;
      if (fails(cand)) {
        w = cand;
        progress = true;
      }
    }
  }
  return w;
}

}  // namespace baton::torture
