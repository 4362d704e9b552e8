// The group-commit pipeline: the one data path of DESIGN.md.
//
// One thread takes every queued mutation (and kFsync / kRelease), and for a
// batch of them:
//   1. drops duplicates: a (session, request id) with a stored reply
//      (fs::LookupStoredReply) is answered with it; one already in this batch
//      is attached to the first (DESIGN invariant 4, exactly once);
//   2. stamps the rest (session, request id, oldest_unreplied, time, new inode
//      number) and encodes fs::OpRecords, plus internal kReclaim records for
//      orphans no session holds open;
//   3. journal AppendBatch: one write + one fdatasync;
//   4. fs::ApplyBatch: one LMDB transaction;
//   5. replies.
// Every reply is sent only after its record is durable (DESIGN invariant 1:
// we chose "acknowledged means durable" for every op, so clients never need
// to keep answered requests). kFsync is therefore answered as soon as it is
// reached: every earlier request of its session is in this or an earlier,
// already durable batch.
//
// Fail-stop: a journal or store error logs and ends the process (exit 1) at
// once; nothing is ever answered after it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "base/env.h"
#include "fs/apply.h"
#include "fs/meta_store.h"
#include "fs/ops.h"
#include "journal/journal.h"
#include "mds/open_table.h"

namespace baton::mds {

using ReplyFn = std::function<void(const fs::Reply&)>;

struct Submission {
  uint64_t session_id = 0;
  uint64_t request_id = 0;
  uint64_t oldest_unreplied = 0;
  fs::Request req;
  ReplyFn reply;  // called once, from the sequencer thread
};

struct SequencerOptions {
  uint32_t max_batch_records = 1024;
  uint32_t checkpoint_interval_ms = 30000;
  uint64_t checkpoint_records = 100000;
  uint32_t orphan_grace_ms = 30000;
};

class Sequencer {
 public:
  Sequencer(Env* env, fs::MetaStore* store, journal::Journal* journal, OpenTable* opens,
            const SequencerOptions& options);
  ~Sequencer();
  // Reads next_ino and the startup orphans, starts the thread.
  Status Start();
  void Submit(Submission s);
  // Finishes the batch in flight, answers nothing more, joins the thread.
  void Stop();

  uint64_t applied_lsn() const;
  uint64_t durable_lsn() const { return journal_->durable_lsn(); }

 private:
  struct Slot;  // one journaled record of a batch and who waits for it
  void Loop();
  void RunBatch(std::vector<Submission>& batch);
  bool Classify(Submission& s, std::vector<Slot>& slots, std::vector<std::pair<ReplyFn, fs::Reply>>& now);
  void StampInto(Submission& s, std::vector<Slot>& slots);
  void AddReclaims(std::vector<Slot>& slots);
  void CommitSlots(std::vector<Slot>& slots);
  void NoteOrphans(const std::vector<fs::Ino>& orphaned);
  void HandleRelease(uint64_t session_id, fs::Ino ino);
  void MaybeReclaimStartupOrphans();
  void MaybeCheckpoint(bool force);
  [[noreturn]] void FailStop(const char* what, const Status& s);

  Env* env_;
  fs::MetaStore* store_;
  journal::Journal* journal_;
  OpenTable* opens_;
  SequencerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Submission> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;         // GUARDED_BY(mu_)
  uint64_t applied_lsn_ = 0;      // GUARDED_BY(mu_)
  std::thread thread_;

  // Sequencer-thread state.
  fs::Ino next_ino_ = 0;
  int64_t last_time_ns_ = 0;
  std::set<fs::Ino> orphans_;          // nlink 0 inodes not yet reclaimed
  std::set<fs::Ino> reclaim_queue_;    // orphans to reclaim in the next batch
  std::set<fs::Ino> startup_orphans_;  // reclaimed after the grace period unless re-opened
  uint64_t grace_deadline_ns_ = 0;
  uint64_t last_checkpoint_ns_ = 0;
  uint64_t records_since_checkpoint_ = 0;
};

}  // namespace baton::mds
