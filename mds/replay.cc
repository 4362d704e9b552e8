#include "mds/replay.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.h"
#include "fs/apply.h"
#include "journal/journal.h"

namespace baton::mds {

namespace {

using Batch = std::vector<fs::JournaledOp>;

// Reads and decodes the journal, one batch at a time.
class BatchReader {
 public:
  explicit BatchReader(std::unique_ptr<journal::JournalReader> reader) : reader_(std::move(reader)) {}

  // Fills *ops (emptied first) with the next batch; *end once the log ended
  // (*ops then holds the last records, maybe none). An error leaves the
  // partial batch unapplied.
  Status Fill(Batch* ops, bool* end) {
    ops->clear();
    ops->reserve(kReplayBatchRecords);
    *end = false;
    size_t bytes = 0;
    while (ops->size() < kReplayBatchRecords && bytes < kReplayBatchBytes) {
      Status st = reader_->Next(&rec_);
      if (st.IsEndOfLog()) {
        *end = true;
        return Status::Ok();
      }
      BATON_RETURN_IF_ERROR(st);
      if (rec_.type != fs::kJournalTypeOp) {
        LOG_WARN("mds", "replay: skipping record of unknown type %u at lsn %llu", rec_.type,
                 static_cast<unsigned long long>(rec_.lsn));
        continue;
      }
      fs::JournaledOp& op = ops->emplace_back();
      op.lsn = rec_.lsn;
      BATON_RETURN_IF_ERROR(fs::DecodeOpRecord(rec_.payload, &op.rec));
      bytes += rec_.payload.size();
    }
    return Status::Ok();
  }

  uint64_t next_lsn() const { return reader_->next_lsn(); }

 private:
  std::unique_ptr<journal::JournalReader> reader_;
  journal::Record rec_;  // its payload buffer is reused record to record
};

// Hands batches from the reading thread to the applying one; at most
// kDepth wait, so memory stays at a few batches.
class BatchQueue {
 public:
  static constexpr size_t kDepth = 2;
  struct Item {
    Batch ops;
    Status st;         // the reader's error: ops are not to be applied
    bool end = false;  // the last item
  };

  // The reader's side; false once the applier stopped listening.
  bool Push(Item item) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return items_.size() < kDepth || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    cv_.notify_all();
    return true;
  }
  Item Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty(); });
    Item it = std::move(items_.front());
    items_.pop_front();
    cv_.notify_all();
    return it;
  }
  // The applier stops (an apply failed): the reader's next Push returns false.
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  bool closed_ = false;
};

// Applies batches in order, one transaction each; counts records.
class Applier {
 public:
  Applier(fs::MetaStore& store, const std::function<void()>& after_commit)
      : store_(store), after_commit_(after_commit) {}

  Status Apply(const Batch& ops) {
    if (ops.empty()) return Status::Ok();
    BATON_RETURN_IF_ERROR(fs::ApplyBatch(store_, ops, &results_));
    count_ += ops.size();
    if (after_commit_) after_commit_();
    return Status::Ok();
  }
  uint64_t count() const { return count_; }

 private:
  fs::MetaStore& store_;
  const std::function<void()>& after_commit_;
  std::vector<fs::ApplyResult> results_;  // its memory is reused batch to batch
  uint64_t count_ = 0;
};

Status ReplayInline(BatchReader& reader, Applier& applier) {
  Batch ops;
  for (bool end = false; !end;) {
    BATON_RETURN_IF_ERROR(reader.Fill(&ops, &end));
    BATON_RETURN_IF_ERROR(applier.Apply(ops));
  }
  return Status::Ok();
}

Status ReplayWithReadAhead(BatchReader& reader, Applier& applier) {
  BatchQueue queue;
  // On every way out (an exception too): stop the reader, then join it.
  struct Joiner {
    BatchQueue& q;
    std::thread& t;
    ~Joiner() {
      q.Close();
      if (t.joinable()) t.join();
    }
  };
  std::thread read_thread;
  Joiner joiner{queue, read_thread};
  read_thread = std::thread([&] {
    for (bool end = false; !end;) {
      BatchQueue::Item item;
      item.st = reader.Fill(&item.ops, &end);
      item.end = end || !item.st.ok();
      end = item.end;
      if (!queue.Push(std::move(item))) return;
    }
  });
  Status result;
  for (;;) {
    BatchQueue::Item item = queue.Pop();
    result = item.st.ok() ? applier.Apply(item.ops) : item.st;
    if (!result.ok() || item.end) break;
  }
  return result;
}

}  // namespace

Status ReplayJournal(volume::Volume& vol, fs::MetaStore& store, const ReplayOptions& opts) {
  BATON_ASSIGN_OR_RETURN(fs::StoreState state, store.ReadState());
  uint64_t from = state.applied_lsn + 1;
  LOG_INFO("mds", "replay: from lsn %llu", static_cast<unsigned long long>(from));
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<journal::JournalReader> jr,
                         journal::JournalReader::Open(vol.env(), vol.journal_dir(), vol.superblock().volume_id, from));
  BatchReader reader(std::move(jr));
  Applier applier(store, opts.after_commit);
  uint64_t start_ns = vol.env()->NowMonotonicNanos();
  BATON_RETURN_IF_ERROR(opts.read_ahead == ReadAhead::kThread ? ReplayWithReadAhead(reader, applier)
                                                              : ReplayInline(reader, applier));
  double secs = static_cast<double>(vol.env()->NowMonotonicNanos() - start_ns) / 1e9;
  LOG_INFO("mds", "replay: %llu records in %.3f s (%.0f records/s), next lsn %llu",
           static_cast<unsigned long long>(applier.count()), secs,
           secs > 0 ? static_cast<double>(applier.count()) / secs : 0.0,
           static_cast<unsigned long long>(reader.next_lsn()));
  return Status::Ok();
}

}  // namespace baton::mds
