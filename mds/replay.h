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
// to start). Batches before the one holding the bad record are applied (and
// committed); that batch is not.
// Each batch is one LMDB transaction with one fdatasync; large batches keep
// syncs rare (LMDB spills dirty pages of a large transaction by itself), and
// the byte bound keeps memory flat.
constexpr size_t kReplayBatchRecords = 32768;
constexpr size_t kReplayBatchBytes = 64u << 20;

// Who reads and decodes the journal. kThread: a second thread reads and
// decodes the next batch while this one applies the last (at most two
// batches ahead), so reading costs no replay time on a machine with a spare
// core. kInline: this thread does both in turn; the crash-torture harness
// uses it, since its recording Env logs every file access in one order.
// Either way the batches, their order and the store's changes are the same.
enum class ReadAhead { kThread, kInline };

struct ReplayOptions {
  ReadAhead read_ahead = ReadAhead::kThread;
  // If set, called after each batch's transaction committed (the
  // crash-torture harness snapshots the store there).
  std::function<void()> after_commit;
};

Status ReplayJournal(volume::Volume& vol, fs::MetaStore& store, const ReplayOptions& opts = {});

}  // namespace baton::mds
