// Restart replay: brings the metadata store up to the end of the journal.
#pragma once

#include "base/status.h"
#include "fs/meta_store.h"
#include "volume/volume.h"

namespace baton::mds {

// Reads journal records from the store's applied_lsn + 1 to the end of the
// log and applies them with fs::ApplyBatch in batches of kReplayBatchRecords.
// A torn tail ends the log; mid-log corruption is an error (the MDS refuses
// to start).
constexpr size_t kReplayBatchRecords = 1024;
Status ReplayJournal(volume::Volume& vol, fs::MetaStore& store);

}  // namespace baton::mds
