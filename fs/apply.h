// apply(): the one deterministic function that turns journal records into
// metadata-store changes. The live MDS path, restart replay, standby replay,
// fsck's journal check and the torture harness all call it; there is no
// second implementation of the semantics.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "fs/lmdb_txn.h"
#include "fs/meta_store.h"
#include "fs/ops.h"

namespace baton::fs {

struct JournaledOp {
  uint64_t lsn = 0;
  OpRecord rec;
};

struct ApplyResult {
  Reply reply;                // the answer (also stored in the exactly-once table)
  std::vector<Ino> orphaned;  // inodes whose last link went away in this op
  bool duplicate = false;     // (session, request id) already applied: reply is the stored one
  bool skipped = false;       // lsn <= applied_lsn: already in the store (idempotent replay)
  // A late duplicate: its request id is below the session's pruned_below
  // watermark and it has no stored reply, so it was applied (and its reply
  // pruned) before. Not applied again; reply.err = ESTALE.
  bool stale = false;
};

// Applies ops in one LMDB write transaction, and sets applied_lsn to the last
// LSN in the same transaction. Ops with lsn <= applied_lsn are skipped.
// A failing operation (ENOENT, EACCES, ENOSPC by the capacity rule, ...) is a
// normal result in its reply, not an error; the returned Status is non-ok
// only when the store itself fails (I/O, a real LMDB map full -> kNoSpace,
// corruption), never because of what a client asked, and then nothing was
// applied.
Status ApplyBatch(MetaStore& store, std::span<const JournaledOp> ops, std::vector<ApplyResult>* results);

// A write transaction kept open across batches: the MDS's deferred store
// commit (mds/sequencer.h). Apply adds a batch to it exactly as ApplyBatch
// would, Query and LookupStoredReply given txn() read through it (and so see
// what was applied), Commit makes it visible to read transactions and, with
// its fdatasync, durable. Not thread-safe: its owner serializes every call
// and every use of txn().
class OpenTxn {
 public:
  explicit OpenTxn(MetaStore& store) : store_(store) {}  // its destructor aborts what was not committed
  // Begins a transaction if none is open. On a store error the transaction
  // is aborted, with everything applied to it since the last Commit; the
  // caller must then fail-stop (the journal holds those records). One
  // exception: a batch alone in its transaction that outgrows it is split
  // and committed as ApplyBatch does.
  Status Apply(std::span<const JournaledOp> ops, std::vector<ApplyResult>* results);
  Status Commit() { return txn_.get() != nullptr ? txn_.Commit() : Status::Ok(); }
  MDB_txn* txn() const { return txn_.get(); }  // null when none is open

 private:
  MetaStore& store_;
  LmdbTxn txn_;
};

// Serves a query (IsQuery(op)) from txn when given (a write transaction:
// OpenTxn), else from a read transaction of its own.
Reply Query(MetaStore& store, const Request& req, MDB_txn* txn = nullptr);

// Looks up the exactly-once table: the stored reply of (session, request_id).
StatusOr<Reply> LookupStoredReply(MetaStore& store, uint64_t session_id, uint64_t request_id,
                                  MDB_txn* txn = nullptr);

// Inodes on the orphan list (nlink 0, kept while open somewhere).
StatusOr<std::vector<Ino>> ListOrphans(MetaStore& store);

}  // namespace baton::fs
