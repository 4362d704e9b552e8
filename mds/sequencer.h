// The group-commit pipeline: the one data path of DESIGN.md.
//
// One thread takes every queued mutation (and kFsync), and for a batch of
// them (bounded in records and bytes):
//   1. drops duplicates: a (session, request id) with a stored reply
//      (fs::LookupStoredReply) is answered with it; one already in this batch
//      is attached to the first (DESIGN invariant 4, exactly once); an op
//      that consumes space while the disk is below the reserve is answered
//      ENOSPC without being journaled (mds/space.h);
//   2. stamps the rest (session, request id, oldest_unreplied, time, new inode
//      number) and encodes fs::OpRecords, plus internal kReclaim records for
//      orphans no session holds open;
//   3. journal AppendBatch: one write + one fdatasync, only while this MDS's
//      lease is fresh, and followed by the fence check (mds/election.h): a
//      deposed MDS exits before anything of the batch is applied or answered;
//   4. fs::OpenTxn::Apply: into the store's open write transaction;
//   5. replies: handed, one batch at a time and in batch order, to the reply
//      thread, which calls each ReplyFn (a send that never blocks, else a
//      queue on the connection: mds/server.cc). The sequencer meanwhile takes
//      the next batch, so sending a batch's replies overlaps the next
//      batch's journal write and fdatasync instead of delaying it (~20 us a
//      reply on 2 cores). The sequencer thread never does network I/O
//      (without reply_thread, which only the torture harness turns off, it
//      calls the ReplyFns itself; they never block either).
// Deferred store commit: the write transaction stays open across batches and
// is committed (one fdatasync of data.mdb) only when it is
// store_commit_interval_ms old, holds store_commit_records records or
// store_commit_bytes of requests, at a checkpoint and at stop. So a group
// commit costs one fdatasync on the reply path (the journal's), not two. The
// journal already makes every replied batch durable: a crash loses only the
// uncommitted transaction, and the next start replays it (the store's
// applied_lsn is written in the same transaction as the changes). Meanwhile
// every read of the store that must see what was replied goes through the
// open transaction, under txn_mu_: Query (from the connection threads) and
// the exactly-once lookup; with nothing open, Query uses a read transaction
// of its own, concurrently.
// kRelease is not queued here: the connection thread handles it (with kOpen,
// in frame order) and calls NoteReleased. An orphan is reclaimed only after
// OpenTable::TryMarkReclaiming succeeded; orphans that appear before the
// startup grace deadline are held until it, like the startup orphans (clients
// are still re-sending their opens). A kMknod with fs::kMknodOpen (FUSE's
// create) registers its session as a holder right after the batch is applied
// (HoldCreated), so the open needs no second round trip.
// Every reply is sent only after its record is durable (DESIGN invariant 1:
// we chose "acknowledged means durable" for every op, so clients never need
// to keep answered requests). kFsync is therefore answered as soon as it is
// reached: every earlier request of its session is in this or an earlier,
// already durable batch.
//
// Fail-stop: a journal or store error, or an apply that skipped a record
// (the journal and store disagree), logs and ends the process (exit 1) at
// once; nothing is ever answered after it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "fs/apply.h"
#include "fs/meta_store.h"
#include "fs/ops.h"
#include "journal/journal.h"
#include "mds/metrics.h"
#include "mds/open_table.h"
#include "mds/space.h"

namespace baton::mds {

using ReplyFn = std::function<void(const fs::Reply&)>;

struct Submission {
  uint64_t session_id = 0;
  uint64_t request_id = 0;
  uint64_t oldest_unreplied = 0;
  fs::Request req;
  ReplyFn reply;  // called once, from the reply thread (or the sequencer's: reply_thread)
};

// What a queued submission counts against max_queue_bytes.
size_t SubmissionBytes(const Submission& s);
size_t SubmissionBytes(const fs::Request& r);
// What an op counts against store_commit_bytes: its request bytes plus the
// chunks an allocating fallocate writes.
size_t StoreBytes(const fs::Request& r);

struct SequencerOptions {
  uint32_t max_batch_records = 1024;
  uint32_t checkpoint_interval_ms = 30000;
  uint64_t checkpoint_records = 100000;
  uint32_t orphan_grace_ms = 30000;
  uint64_t max_queue_bytes = 64ull << 20;  // Submit blocks while the queue holds more
  uint64_t max_batch_bytes = 16ull << 20;  // one group commit takes at most this much
  std::string volume_path;                 // for the free-space reserve and messages
  uint64_t min_free_bytes = 256ull << 20;
  uint32_t min_free_percent = 5;
  // Fencing (mds/election.h); unset where a bare sequencer is tested.
  std::function<void()> before_append;  // blocks until this MDS's lease is fresh
  std::function<void()> after_durable;  // exits the process if this MDS was deposed
  // Lowers a checkpoint's trim LSN to what every live standby has synced.
  std::function<uint64_t(uint64_t)> trim_limit;
  // Deferred store commit (above); store_commit_interval_ms = 0 commits
  // every batch before its replies.
  uint32_t store_commit_interval_ms = 50;
  uint64_t store_commit_records = 16384;
  uint64_t store_commit_bytes = 64ull << 20;  // of StoreBytes
  // Observers for the crash-torture harness (torture/): called on the
  // sequencer thread right after the store's transaction committed, with
  // every op it held (with store_commit_interval_ms = 0: one batch, before
  // its replies), and right after a checkpoint forced the store to disk.
  std::function<void(std::span<const fs::JournaledOp>)> after_commit;
  std::function<void()> after_store_sync;
  // Optional (mds/metrics.h): apply latency, applied and durable LSN,
  // checkpoints. Unset, the sequencer reads no clock for it.
  MdsMetrics* metrics = nullptr;
  // Replies from a thread of their own (above). false: the sequencer thread
  // calls every ReplyFn itself, after its batch; the crash-torture harness
  // does so, since its recording Env must log acknowledgements and file
  // accesses in one order.
  bool reply_thread = true;
};

class Sequencer {
 public:
  Sequencer(Env* env, fs::MetaStore* store, journal::Journal* journal, OpenTable* opens,
            const SequencerOptions& options);
  ~Sequencer();
  // Reads next_ino and the startup orphans, starts the thread.
  Status Start();
  // Queues s; blocks while the queue is over max_queue_bytes (the connection
  // thread stops reading, TCP pushes back on the client). Dropped (never
  // answered) once stopping.
  void Submit(Submission s);
  // A connection thread dropped the last holder of ino.
  void NoteReleased(fs::Ino ino);
  // Finishes the batch in flight, answers nothing more, commits the store,
  // joins the thread.
  void Stop();
  // Serves a query (fs::IsQuery, and kOpen's check) so that it sees every
  // replied mutation: from the open transaction if there is one.
  fs::Reply Query(const fs::Request& req);
  // Submits one request of (session, request_id) and waits up to timeout for
  // its reply (kTimeout if none came); on_reply, if set, runs on the thread
  // that replies, just before the reply is handed over. For in-process
  // callers: the torture harness and tests.
  StatusOr<fs::Reply> Call(uint64_t session_id, uint64_t request_id, const fs::Request& req,
                           std::chrono::milliseconds timeout, const std::function<void()>& on_reply = nullptr);

  uint64_t applied_lsn() const;
  uint64_t durable_lsn() const { return journal_->durable_lsn(); }
  // The store holds every record up to here durably (the last checkpoint).
  uint64_t synced_lsn() const { return synced_lsn_.load(); }

 private:
  struct Slot;  // one journaled record of a batch and who waits for it
  using Replies = std::vector<std::pair<ReplyFn, fs::Reply>>;
  void Loop();
  void RunBatch(std::vector<Submission>& batch);
  bool Classify(Submission& s, std::vector<Slot>& slots, Replies& now);
  void StampInto(Submission& s, std::vector<Slot>& slots);
  void AddReclaims(std::vector<Slot>& slots);
  bool HoldCreated(uint64_t session_id, const fs::Request& req, const fs::Reply& rep);
  bool HoldResentCreate(uint64_t session_id, const fs::Request& req, const fs::Reply& rep);
  void CommitSlots(std::vector<Slot>& slots, Replies& out);
  // A batch's replies, in order: to the reply thread, or answered here.
  void Answer(Replies replies);
  void ReplyLoop();
  std::vector<fs::JournaledOp> JournalSlots(std::vector<Slot>& slots);
  void NoteOrphans(const std::vector<fs::Ino>& orphaned);
  void TakeReleased();
  bool TakeBatch(std::vector<Submission>& batch);
  void MaybeReclaimStartupOrphans();
  void ApplyToStore(std::span<const fs::JournaledOp> ops, std::vector<fs::ApplyResult>* results);
  void CommitStore();
  void MaybeCommitStore();
  std::chrono::nanoseconds UntilCommitDue() const;
  void MaybeCheckpoint(bool force);
  [[noreturn]] void FailStop(const char* what, const Status& s);
  [[noreturn]] void StoreFailStop(const char* what, const Status& s);  // logs a full volume first

  Env* env_;
  fs::MetaStore* store_;
  journal::Journal* journal_;
  OpenTable* opens_;
  SequencerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable space_cv_;  // Submit waits here for queue space
  std::deque<Submission> queue_;  // GUARDED_BY(mu_)
  uint64_t queue_bytes_ = 0;      // GUARDED_BY(mu_): SubmissionBytes of queue_
  std::vector<fs::Ino> released_;  // GUARDED_BY(mu_): from NoteReleased
  bool stopping_ = false;         // GUARDED_BY(mu_)
  uint64_t applied_lsn_ = 0;      // GUARDED_BY(mu_)
  std::thread thread_;

  // The reply thread's queue: whole batches of replies, in batch order.
  std::mutex reply_mu_;
  std::condition_variable reply_cv_;
  std::deque<Replies> reply_queue_;  // GUARDED_BY(reply_mu_)
  bool reply_stop_ = false;          // GUARDED_BY(reply_mu_): drain, then end
  std::thread reply_thread_;

  // The store's open write transaction: used by the sequencer thread and by
  // Query, always under txn_mu_ (LMDB transactions are not thread-safe).
  std::mutex txn_mu_;
  fs::OpenTxn open_txn_;  // GUARDED_BY(txn_mu_)

  // Sequencer-thread state.
  uint64_t uncommitted_records_ = 0;
  uint64_t uncommitted_bytes_ = 0;
  uint64_t first_uncommitted_ns_ = 0;
  std::vector<fs::JournaledOp> uncommitted_ops_;  // kept for after_commit only
  SpaceGuard space_;
  fs::Ino next_ino_ = 0;
  int64_t last_time_ns_ = 0;
  std::set<fs::Ino> orphans_;          // nlink 0 inodes not yet reclaimed
  std::set<fs::Ino> reclaim_queue_;    // orphans to reclaim in the next batch
  std::set<fs::Ino> startup_orphans_;  // reclaimed after the grace period unless re-opened
  uint64_t grace_deadline_ns_ = 0;
  uint64_t last_checkpoint_ns_ = 0;
  uint64_t records_since_checkpoint_ = 0;
  std::atomic<uint64_t> synced_lsn_{0};
};

}  // namespace baton::mds
