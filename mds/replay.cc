#include "mds/replay.h"

#include <vector>

#include "base/log.h"
#include "fs/apply.h"
#include "journal/journal.h"

namespace baton::mds {

namespace {

// results is the caller's, kept across chunks: its memory is reused.
Status ApplyChunk(fs::MetaStore& store, std::vector<fs::JournaledOp>& ops, std::vector<fs::ApplyResult>& results,
                  const std::function<void()>& after_commit) {
  if (ops.empty()) return Status::Ok();
  Status st = fs::ApplyBatch(store, ops, &results);
  ops.clear();
  if (st.ok() && after_commit) after_commit();
  return st;
}

}  // namespace

Status ReplayJournal(volume::Volume& vol, fs::MetaStore& store, const std::function<void()>& after_commit) {
  BATON_ASSIGN_OR_RETURN(fs::StoreState state, store.ReadState());
  uint64_t from = state.applied_lsn + 1;
  LOG_INFO("mds", "replay: from lsn %llu", static_cast<unsigned long long>(from));
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<journal::JournalReader> reader,
                         journal::JournalReader::Open(vol.env(), vol.journal_dir(), vol.superblock().volume_id, from));
  uint64_t start_ns = vol.env()->NowMonotonicNanos();
  uint64_t count = 0;
  std::vector<fs::JournaledOp> ops;
  ops.reserve(kReplayBatchRecords);
  std::vector<fs::ApplyResult> results;
  journal::Record rec;
  size_t batch_bytes = 0;
  for (;;) {
    Status st = reader->Next(&rec);
    if (st.IsEndOfLog()) break;
    BATON_RETURN_IF_ERROR(st);
    if (rec.type != fs::kJournalTypeOp) {
      LOG_WARN("mds", "replay: skipping record of unknown type %u at lsn %llu", rec.type,
               static_cast<unsigned long long>(rec.lsn));
      continue;
    }
    fs::JournaledOp& op = ops.emplace_back();
    op.lsn = rec.lsn;
    BATON_RETURN_IF_ERROR(fs::DecodeOpRecord(rec.payload, &op.rec));
    count++;
    batch_bytes += rec.payload.size();
    if (ops.size() >= kReplayBatchRecords || batch_bytes >= kReplayBatchBytes) {
      BATON_RETURN_IF_ERROR(ApplyChunk(store, ops, results, after_commit));
      batch_bytes = 0;
    }
  }
  BATON_RETURN_IF_ERROR(ApplyChunk(store, ops, results, after_commit));
  double secs = static_cast<double>(vol.env()->NowMonotonicNanos() - start_ns) / 1e9;
  LOG_INFO("mds", "replay: %llu records in %.3f s (%.0f records/s), next lsn %llu",
           static_cast<unsigned long long>(count), secs, secs > 0 ? static_cast<double>(count) / secs : 0.0,
           static_cast<unsigned long long>(reader->next_lsn()));
  return Status::Ok();
}

}  // namespace baton::mds
