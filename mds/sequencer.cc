#include "mds/sequencer.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <map>
#include <string>
#include <utility>

#include "base/log.h"
#include "base/seeded_bugs.h"

namespace baton::mds {

struct Sequencer::Slot {
  fs::OpRecord rec;
  std::vector<ReplyFn> waiters;  // empty for internal records
};

namespace {
bool TakesNewIno(fs::Op op) { return op == fs::Op::kMknod || op == fs::Op::kMkdir || op == fs::Op::kSymlink; }
constexpr size_t kSubmissionOverheadBytes = 256;  // the Submission itself, the reply closure
}  // namespace

size_t SubmissionBytes(const fs::Request& r) {
  return kSubmissionOverheadBytes + r.data.size() + r.name.size() + r.new_name.size();
}

size_t SubmissionBytes(const Submission& s) { return SubmissionBytes(s.req); }

size_t StoreBytes(const fs::Request& r) {
  // An allocating fallocate writes up to 64 MiB of chunks (fs/apply_data.cc).
  const uint64_t allocated = r.op == fs::Op::kFallocate ? std::min<uint64_t>(r.length, 64ull << 20) : 0;
  return SubmissionBytes(r) + allocated;
}

Sequencer::Sequencer(Env* env, fs::MetaStore* store, journal::Journal* journal, OpenTable* opens,
                     const SequencerOptions& options)
    : env_(env),
      store_(store),
      journal_(journal),
      opens_(opens),
      options_(options),
      open_txn_(*store),
      space_(env, options.volume_path, options.min_free_bytes, options.min_free_percent) {}

Sequencer::~Sequencer() {
  Stop();
  // The loop commits before it ends; an abort here would run on a thread
  // that does not own LMDB's writer lock.
  assert(open_txn_.txn() == nullptr);
}

Status Sequencer::Start() {
  BATON_ASSIGN_OR_RETURN(fs::StoreState st, store_->ReadState());
  BATON_ASSIGN_OR_RETURN(std::vector<fs::Ino> orphans, fs::ListOrphans(*store_));
  next_ino_ = st.next_ino;
  applied_lsn_ = st.applied_lsn;
  synced_lsn_.store(st.applied_lsn);
  orphans_.insert(orphans.begin(), orphans.end());
  startup_orphans_ = orphans_;
  uint64_t now = env_->NowMonotonicNanos();
  grace_deadline_ns_ = now + uint64_t{options_.orphan_grace_ms} * 1000000;
  last_checkpoint_ns_ = now;
  if (!orphans.empty()) {
    LOG_INFO("mds", "%zu orphan inodes at startup; reclaimed in %u ms unless re-opened", orphans.size(),
             options_.orphan_grace_ms);
  }
  if (options_.reply_thread) reply_thread_ = std::thread([this] { ReplyLoop(); });
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Sequencer::Answer(Replies replies) {
  if (replies.empty()) return;
  if (!reply_thread_.joinable()) {
    for (auto& [fn, rep] : replies) fn(rep);
    return;
  }
  std::lock_guard<std::mutex> l(reply_mu_);
  reply_queue_.push_back(std::move(replies));
  reply_cv_.notify_one();
}

void Sequencer::ReplyLoop() {
  std::unique_lock<std::mutex> l(reply_mu_);
  for (;;) {
    reply_cv_.wait(l, [this] { return reply_stop_ || !reply_queue_.empty(); });
    if (reply_queue_.empty()) return;  // stopping and drained
    Replies batch = std::move(reply_queue_.front());
    reply_queue_.pop_front();
    l.unlock();
    for (auto& [fn, rep] : batch) fn(rep);
    l.lock();
  }
}

void Sequencer::Submit(Submission s) {
  size_t bytes = SubmissionBytes(s);
  std::unique_lock<std::mutex> l(mu_);
  // An empty queue takes anything, so one large request never waits forever.
  space_cv_.wait(l, [&] { return stopping_ || queue_.empty() || queue_bytes_ + bytes <= options_.max_queue_bytes; });
  if (stopping_) return;
  queue_bytes_ += bytes;
  queue_.push_back(std::move(s));
  cv_.notify_one();
}

void Sequencer::NoteReleased(fs::Ino ino) {
  std::lock_guard<std::mutex> l(mu_);
  released_.push_back(ino);
  cv_.notify_one();
}

void Sequencer::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_one();
    space_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> l(reply_mu_);
    reply_stop_ = true;
    reply_cv_.notify_one();
  }
  if (reply_thread_.joinable()) reply_thread_.join();  // every reply of a finished batch goes out
}

fs::Reply Sequencer::Query(const fs::Request& req) {
  {
    std::lock_guard<std::mutex> l(txn_mu_);
    if (open_txn_.txn() != nullptr) return fs::Query(*store_, req, open_txn_.txn());
  }
  // Nothing uncommitted: every replied mutation is visible to a read
  // transaction, which runs concurrently with everything else.
  return fs::Query(*store_, req);
}

StatusOr<fs::Reply> Sequencer::Call(uint64_t session_id, uint64_t request_id, const fs::Request& req,
                                    std::chrono::milliseconds timeout, const std::function<void()>& on_reply) {
  auto promise = std::make_shared<std::promise<fs::Reply>>();
  std::future<fs::Reply> fut = promise->get_future();
  Submission s;
  s.session_id = session_id;
  s.request_id = request_id;
  s.oldest_unreplied = request_id;
  s.req = req;
  s.reply = [promise, on_reply](const fs::Reply& r) {
    if (on_reply) on_reply();
    promise->set_value(r);
  };
  Submit(std::move(s));
  if (fut.wait_for(timeout) != std::future_status::ready)
    return Status::Timeout("no reply to request " + std::to_string(request_id) + " within " +
                           std::to_string(timeout.count()) + " ms");
  return fut.get();
}

uint64_t Sequencer::applied_lsn() const {
  std::lock_guard<std::mutex> l(mu_);
  return applied_lsn_;
}

void Sequencer::StoreFailStop(const char* what, const Status& s) {
  if (s.code() == Code::kNoSpace) LogVolumeFull(options_.volume_path);
  FailStop(what, s);
}

void Sequencer::FailStop(const char* what, const Status& s) {
  LOG_ERROR("mds", "fail-stop: %s failed: %s; exiting without replying", what, s.ToString().c_str());
  std::_Exit(1);
}

// Moves the next batch (bounded in records and bytes) out of the queue, and
// the released inodes into released_; false when stopping with nothing left.
bool Sequencer::TakeBatch(std::vector<Submission>& batch) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::min<std::chrono::nanoseconds>(std::chrono::milliseconds(100), UntilCommitDue()),
               [this] { return stopping_ || !queue_.empty() || !released_.empty(); });
  if (stopping_ && queue_.empty()) return false;
  uint64_t bytes = 0;
  while (!queue_.empty() && batch.size() < options_.max_batch_records &&
         (batch.empty() || bytes + SubmissionBytes(queue_.front()) <= options_.max_batch_bytes)) {
    size_t b = SubmissionBytes(queue_.front());
    bytes += b;
    queue_bytes_ -= b;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  space_cv_.notify_all();
  return true;
}

void Sequencer::TakeReleased() {
  std::vector<fs::Ino> released;
  {
    std::lock_guard<std::mutex> l(mu_);
    released.swap(released_);
  }
  for (fs::Ino ino : released) {
    if (orphans_.count(ino) != 0 && startup_orphans_.count(ino) == 0) reclaim_queue_.insert(ino);
  }
}

void Sequencer::Loop() {
  std::vector<Submission> batch;
  for (;;) {
    batch.clear();
    if (!TakeBatch(batch)) break;
    TakeReleased();
    MaybeReclaimStartupOrphans();
    if (!batch.empty() || !reclaim_queue_.empty()) RunBatch(batch);
    MaybeCommitStore();
    MaybeCheckpoint(false);
  }
  CommitStore();
  MaybeCheckpoint(true);
}

void Sequencer::RunBatch(std::vector<Submission>& batch) {
  std::vector<Slot> slots;
  Replies now;  // answered after this batch is durable
  std::map<std::pair<uint64_t, uint64_t>, size_t> in_batch;
  for (Submission& s : batch) {
    auto key = std::make_pair(s.session_id, s.request_id);
    auto it = in_batch.find(key);
    if (it != in_batch.end()) {  // a resend of a request in this very batch
      slots[it->second].waiters.push_back(std::move(s.reply));
      continue;
    }
    if (Classify(s, slots, now)) in_batch[key] = slots.size() - 1;
  }
  AddReclaims(slots);
  Replies out;
  if (!slots.empty()) CommitSlots(slots, out);
  for (auto& r : now) out.push_back(std::move(r));
  Answer(std::move(out));
}

// Returns true when s became a new slot.
bool Sequencer::Classify(Submission& s, std::vector<Slot>& slots, Replies& now) {
  if (s.req.op == fs::Op::kFsync) {
    now.emplace_back(std::move(s.reply), fs::Reply{});
    return false;
  }
  StatusOr<fs::Reply> stored = Status::NotFound("");
  {
    std::lock_guard<std::mutex> l(txn_mu_);  // a reply applied but not committed counts
    stored = fs::LookupStoredReply(*store_, s.session_id, s.request_id, open_txn_.txn());
  }
  if (seeded::Planted(seeded::Bug::kApplyNotIdempotent)) stored = Status::NotFound("seeded bug");
  if (stored.ok()) {
    LOG_INFO("mds", "session %016llx request %llu: resent, answered from the exactly-once table",
             static_cast<unsigned long long>(s.session_id), static_cast<unsigned long long>(s.request_id));
    fs::Reply rep = std::move(stored).value();
    if (!HoldResentCreate(s.session_id, s.req, rep)) {
      rep = fs::Reply{};
      rep.err = ENOENT;
    }
    now.emplace_back(std::move(s.reply), std::move(rep));
    return false;
  }
  if (!stored.status().IsNotFound()) FailStop("exactly-once lookup", stored.status());
  if (space_.Refuses(s.req)) {  // not journaled, so nothing to remember either
    fs::Reply full;
    full.err = ENOSPC;
    now.emplace_back(std::move(s.reply), std::move(full));
    return false;
  }
  StampInto(s, slots);
  return true;
}

void Sequencer::StampInto(Submission& s, std::vector<Slot>& slots) {
  Slot slot;
  fs::Stamp& st = slot.rec.stamp;
  st.session_id = s.session_id;
  st.request_id = s.request_id;
  st.oldest_unreplied = std::min(s.oldest_unreplied, s.request_id);
  last_time_ns_ = std::max(last_time_ns_, env_->NowRealtimeNanos());
  st.time_ns = last_time_ns_;
  if (TakesNewIno(s.req.op)) st.new_ino = next_ino_++;
  slot.rec.req = std::move(s.req);
  slot.waiters.push_back(std::move(s.reply));
  slots.push_back(std::move(slot));
}

// For a kMknod with kMknodOpen just applied with success: registers the
// session as a holder of the new inode. False when that inode is being
// reclaimed (never, for a new inode number).
bool Sequencer::HoldCreated(uint64_t session_id, const fs::Request& req, const fs::Reply& rep) {
  if (!fs::IsCreateThatOpened(req, rep)) return true;
  return opens_->Open(session_id, rep.attr.ino);
}

// The same for a re-sent one answered from the exactly-once table: its file
// may have been unlinked and reclaimed since (the client reconnected after
// the grace period), so, as HandleOpen does, register first, then check that
// the inode is still there. False (and nothing held) when it is not.
bool Sequencer::HoldResentCreate(uint64_t session_id, const fs::Request& req, const fs::Reply& rep) {
  if (!fs::IsCreateThatOpened(req, rep)) return true;
  if (!opens_->Open(session_id, rep.attr.ino)) return false;
  fs::Request probe;
  probe.op = fs::Op::kGetattr;
  probe.ino = rep.attr.ino;
  if (Query(probe).err == 0) return true;
  if (opens_->Release(session_id, rep.attr.ino)) NoteReleased(rep.attr.ino);
  return false;
}

void Sequencer::AddReclaims(std::vector<Slot>& slots) {
  for (fs::Ino ino : reclaim_queue_) {
    if (orphans_.count(ino) == 0 || !opens_->TryMarkReclaiming(ino)) continue;
    Slot slot;
    last_time_ns_ = std::max(last_time_ns_, env_->NowRealtimeNanos());
    slot.rec.stamp.time_ns = last_time_ns_;
    slot.rec.req.op = fs::Op::kReclaim;
    slot.rec.req.ino = ino;
    orphans_.erase(ino);
    startup_orphans_.erase(ino);
    slots.push_back(std::move(slot));
  }
  reclaim_queue_.clear();
}

void Sequencer::CommitSlots(std::vector<Slot>& slots, Replies& out) {
  std::vector<fs::JournaledOp> ops = JournalSlots(slots);
  std::vector<fs::ApplyResult> results;
  ApplyToStore(ops, &results);
  assert(results.size() == slots.size());
  for (size_t i = 0; i < results.size(); i++) {
    // A skipped record was not applied now: answering it would be a lie.
    if (results[i].skipped) FailStop("apply", Status::Corruption("record at lsn " + std::to_string(ops[i].lsn) +
                                                                 " was skipped as already applied"));
    if (ops[i].rec.req.op == fs::Op::kReclaim) opens_->DoneReclaiming(ops[i].rec.req.ino);
    // Before any later record can unlink the new inode (and before its reply).
    bool held = HoldCreated(ops[i].rec.stamp.session_id, ops[i].rec.req, results[i].reply);
    assert(held);  // a new inode number is never being reclaimed
    (void)held;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    applied_lsn_ = ops.back().lsn;
  }
  if (options_.metrics) options_.metrics->applied_lsn->Set(static_cast<double>(ops.back().lsn));
  records_since_checkpoint_ += slots.size();
  if (options_.store_commit_interval_ms == 0) CommitStore();
  for (size_t i = 0; i < slots.size(); i++) {
    NoteOrphans(results[i].orphaned);
    for (ReplyFn& fn : slots[i].waiters) out.emplace_back(std::move(fn), results[i].reply);
  }
}

// Applies a durable batch into the open transaction (a fresh one when it
// would take the open one past its bounds).
void Sequencer::ApplyToStore(std::span<const fs::JournaledOp> ops, std::vector<fs::ApplyResult>* results) {
  uint64_t bytes = 0;
  for (const fs::JournaledOp& op : ops) bytes += StoreBytes(op.rec.req);
  // A batch that would take the open transaction past its bounds goes into a
  // fresh one: only there can a batch too large for one transaction be split
  // (fs::OpenTxn::Apply).
  if (uncommitted_records_ > 0 && (uncommitted_records_ + ops.size() > options_.store_commit_records ||
                                   uncommitted_bytes_ + bytes > options_.store_commit_bytes)) {
    CommitStore();
  }
  const uint64_t apply_start_ns = options_.metrics ? env_->NowMonotonicNanos() : 0;
  {
    std::lock_guard<std::mutex> l(txn_mu_);
    Status st = open_txn_.Apply(ops, results);
    // Fail-stop still holding txn_mu_: the transaction, and with it replied
    // batches, is gone, and no query may answer from the older committed
    // store meanwhile.
    if (!st.ok()) StoreFailStop("apply", st);
  }
  if (options_.metrics) options_.metrics->ObserveApplyNanos(env_->NowMonotonicNanos() - apply_start_ns);
  if (uncommitted_records_ == 0) first_uncommitted_ns_ = env_->NowMonotonicNanos();
  uncommitted_records_ += ops.size();
  uncommitted_bytes_ += bytes;
  if (options_.after_commit) uncommitted_ops_.insert(uncommitted_ops_.end(), ops.begin(), ops.end());
}

// Commits the open transaction: from here on read transactions see it.
void Sequencer::CommitStore() {
  if (uncommitted_records_ == 0) return;
  {
    std::lock_guard<std::mutex> l(txn_mu_);
    Status st = open_txn_.Commit();
    if (!st.ok()) StoreFailStop("metadata store commit", st);  // under txn_mu_, as in ApplyToStore
  }
  uncommitted_records_ = 0;
  uncommitted_bytes_ = 0;
  if (options_.after_commit) {
    options_.after_commit(uncommitted_ops_);
    uncommitted_ops_.clear();
  }
}

void Sequencer::MaybeCommitStore() {
  if (uncommitted_records_ > 0 && UntilCommitDue().count() == 0) CommitStore();
}

// How long the open transaction may stay open (100 ms when none is).
std::chrono::nanoseconds Sequencer::UntilCommitDue() const {
  if (uncommitted_records_ == 0) return std::chrono::milliseconds(100);
  const uint64_t due = first_uncommitted_ns_ + uint64_t{options_.store_commit_interval_ms} * 1000000;
  const uint64_t now = env_->NowMonotonicNanos();
  return std::chrono::nanoseconds(due > now ? due - now : 0);
}

void Sequencer::NoteOrphans(const std::vector<fs::Ino>& orphaned) {
  // Before the grace deadline other clients may not have re-sent their opens
  // yet: hold new orphans like the startup ones.
  bool in_grace = !orphaned.empty() && env_->NowMonotonicNanos() < grace_deadline_ns_;
  for (fs::Ino ino : orphaned) {
    orphans_.insert(ino);
    if (in_grace) {
      startup_orphans_.insert(ino);
    } else if (!opens_->IsOpen(ino)) {
      reclaim_queue_.insert(ino);
    }
  }
}

// Encodes, journals (one write, one fdatasync) and returns the slots as ops,
// moving each record out of its slot.
std::vector<fs::JournaledOp> Sequencer::JournalSlots(std::vector<Slot>& slots) {
  std::vector<std::string> payloads;
  std::vector<journal::RecordIn> records;
  payloads.reserve(slots.size());
  for (const Slot& s : slots) payloads.push_back(fs::EncodeOpRecord(s.rec));
  for (const std::string& p : payloads) records.push_back({fs::kJournalTypeOp, p});
  if (options_.before_append) options_.before_append();
  StatusOr<uint64_t> first = journal_->AppendBatch(records);
  if (!first.ok()) FailStop("journal append", first.status());
  if (options_.after_durable) options_.after_durable();
  if (options_.metrics) options_.metrics->durable_lsn->Set(static_cast<double>(*first + records.size() - 1));
  std::vector<fs::JournaledOp> ops(slots.size());
  for (size_t i = 0; i < slots.size(); i++) {
    ops[i].lsn = *first + i;
    ops[i].rec = std::move(slots[i].rec);
  }
  return ops;
}

void Sequencer::MaybeReclaimStartupOrphans() {
  if (startup_orphans_.empty() || env_->NowMonotonicNanos() < grace_deadline_ns_) return;
  for (fs::Ino ino : startup_orphans_) {
    if (!opens_->IsOpen(ino)) reclaim_queue_.insert(ino);
  }
  // Those still open are now ordinary orphans: reclaimed at their last release.
  startup_orphans_.clear();
}

void Sequencer::MaybeCheckpoint(bool force) {
  uint64_t now = env_->NowMonotonicNanos();
  bool due = records_since_checkpoint_ >= options_.checkpoint_records ||
             now - last_checkpoint_ns_ >= uint64_t{options_.checkpoint_interval_ms} * 1000000;
  if (records_since_checkpoint_ == 0 || !(due || force)) return;
  CommitStore();
  uint64_t lsn = applied_lsn();
  Status st = store_->Sync();
  if (!st.ok()) FailStop("metadata store sync", st);
  if (options_.after_store_sync) options_.after_store_sync();
  synced_lsn_.store(lsn);
  const uint64_t trim_to = options_.trim_limit ? options_.trim_limit(lsn) : lsn;
  // Removing segments is a write to the shared journal: only while this MDS
  // is still the active (a deposed one that resumed here exits instead; the
  // trim tolerates segments a late deposed writer removed anyway).
  if (options_.after_durable) options_.after_durable();
  st = journal_->Trim(trim_to);
  if (!st.ok()) FailStop("journal trim", st);
  LOG_INFO("mds", "checkpoint at lsn %llu (%llu records since the last), journal kept from lsn %llu",
           static_cast<unsigned long long>(lsn), static_cast<unsigned long long>(records_since_checkpoint_),
           static_cast<unsigned long long>(trim_to + 1));
  records_since_checkpoint_ = 0;
  last_checkpoint_ns_ = now;
  if (options_.metrics) options_.metrics->checkpoints_total->Add();
}

}  // namespace baton::mds
