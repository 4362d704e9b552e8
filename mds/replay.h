// Restart replay: brings the metadata store up to the end of the journal.
#pragma once

#include <functional>

#include "base/status.h"
#include "fs/meta_store.h"
#include "volume/volume.h"

namespace baton::mds {

// Reads journal records from the store's applied_lsn + 1 to the end of the
// log and applies them with fs::ApplyBatch in batches of kReplayBatchRecords.
// A torn tail ends the log; mid-log corruption is an error (the MDS refuses
// to start).
// Each batch is one LMDB transaction with one fdatasync; large batches keep
// syncs rare (LMDB spills dirty pages of a large transaction by itself), and
// the byte bound keeps memory flat.
constexpr size_t kReplayBatchRecords = 32768;
constexpr size_t kReplayBatchBytes = 64u << 20;
// after_commit, if set, is called after each batch's transaction committed
// (the crash-torture harness snapshots the store there).
Status ReplayJournal(volume::Volume& vol, fs::MetaStore& store, const std::function<void()>& after_commit = nullptr);

}  // namespace baton::mds
