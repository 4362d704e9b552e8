#include "journal/journal_tail.h"

#include <algorithm>

#include "base/coding.h"
#include "journal/journal_codec.h"
#include "journal/journal_format.h"
#include "journal/journal_recovery.h"

namespace baton::journal {

namespace f = format;

namespace {
constexpr size_t kReadChunkBytes = 1u << 20;
// How long zeros may stand where a record at or below the durable limit
// should be before they are called damage (bytes on their way to this
// reader's view of the storage arrive well within it).
constexpr uint64_t kZerosGraceNs = 5'000'000'000;
}

JournalTail::JournalTail(Env* env, std::string dir, const VolumeId& vol, uint64_t next_lsn)
    : env_(env), dir_(std::move(dir)), vol_(vol), next_lsn_(next_lsn) {}

JournalTail::~JournalTail() {
  if (file_) file_->Close().PermitUnchecked();
}

Status JournalTail::List(std::vector<SegRef>* segs) {
  BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir_));
  for (const std::string& name : names) {
    uint64_t seq;
    if (!f::ParseSegmentFileName(name, &seq)) continue;
    StatusOr<std::unique_ptr<File>> file = env_->OpenFile(JoinPath(dir_, name), {.read_only = true});
    if (!file.ok()) continue;  // trimmed meanwhile
    std::string head;
    Status st = (*file)->PRead(0, f::kSegmentHeaderSize, &head);
    (*file)->Close().PermitUnchecked();
    SegmentHeader h;
    if (!st.ok() || !DecodeSegmentHeader(head, &h).ok() || !(h.volume_id == vol_) || h.seq != seq) continue;
    segs->push_back(SegRef{seq, h.epoch, h.first_lsn});
  }
  std::sort(segs->begin(), segs->end(), [](const SegRef& a, const SegRef& b) { return a.seq < b.seq; });
  return Status::Ok();
}

Status JournalTail::Switch(const SegRef& s) {
  if (file_) file_->Close().PermitUnchecked();
  file_.reset();
  BATON_ASSIGN_OR_RETURN(file_, env_->OpenFile(SegmentPath(dir_, s.seq), {.read_only = true}));
  cur_ = s;
  pos_ = f::kSegmentHeaderSize;
  seed_ = f::RecordSeed(vol_.bytes, s.seq);
  have_next_ = false;
  return Status::Ok();
}

// The segment holding `lsn`: the last one starting at or before it.
Status JournalTail::OpenSegmentFor(uint64_t lsn) {
  std::vector<SegRef> segs;
  BATON_RETURN_IF_ERROR(List(&segs));
  const SegRef* pick = nullptr;
  for (const SegRef& s : segs) {
    if (s.first_lsn <= lsn) pick = &s;
  }
  if (pick == nullptr) {
    if (segs.empty()) return Status::Ok();  // nothing written yet
    return Status::NotFound("journal LSN " + std::to_string(lsn) + " was trimmed; first LSN present is " +
                            std::to_string(segs.front().first_lsn));
  }
  BATON_RETURN_IF_ERROR(Switch(*pick));
  // Skip to lsn inside the segment.
  while (true) {
    std::string buf;
    BATON_RETURN_IF_ERROR(file_->PRead(pos_, f::kRecordHeaderSize, &buf));
    if (buf.size() < f::kRecordHeaderSize) return Status::Ok();
    RecordHeader h;
    std::string_view payload;
    uint64_t len = LoadU32(buf.data() + 8);
    if (len > f::kMaxPayloadBytes) return Status::Ok();  // damaged: ReadUpTo reports it
    std::string rec;
    BATON_RETURN_IF_ERROR(file_->PRead(pos_, f::kRecordHeaderSize + len, &rec));
    if (DecodeRecordAt(rec, 0, seed_, vol_, &h, &payload) != RecordCheck::kOk || h.lsn >= lsn) return Status::Ok();
    pos_ += f::kRecordHeaderSize + len;
  }
}

Status JournalTail::FindNextSegment() {
  std::vector<SegRef> segs;
  BATON_RETURN_IF_ERROR(List(&segs));
  for (const SegRef& s : segs) {
    if (s.seq > cur_.seq) {
      next_ = s;
      have_next_ = true;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status JournalTail::ReadUpTo(uint64_t limit, uint64_t limit_epoch, size_t max_bytes, std::vector<Record>* out) {
  size_t bytes = 0;
  bool listed = false;  // at most one directory listing per call
  while (next_lsn_ <= limit && bytes < max_bytes) {
    if (!file_) {
      BATON_RETURN_IF_ERROR(OpenSegmentFor(next_lsn_));
      if (!file_) return Status::Ok();
    }
    if (!have_next_ && limit_epoch > cur_.epoch && !listed) {
      listed = true;
      BATON_RETURN_IF_ERROR(FindNextSegment());
    }
    if (have_next_ && next_lsn_ >= next_.first_lsn) {
      if (next_.first_lsn != next_lsn_)
        return Status::Corruption("journal segment " + f::SegmentFileName(next_.seq) + " starts at LSN " +
                                  std::to_string(next_.first_lsn) + " but this reader reached LSN " +
                                  std::to_string(next_lsn_) + " (it followed a deposed writer's records)");
      BATON_RETURN_IF_ERROR(Switch(next_));
      continue;
    }
    std::string buf;
    BATON_RETURN_IF_ERROR(file_->PRead(pos_, kReadChunkBytes, &buf));
    size_t at = 0;
    bool progressed = false;
    bool zeros = false;  // zeros where the record for next_lsn_ should be
    std::string bad;  // why the record at pos_ + at is not the one expected ("" = not there yet)
    while (at < buf.size() && next_lsn_ <= limit && bytes < max_bytes) {
      if (have_next_ && next_lsn_ >= next_.first_lsn) break;
      if (buf.size() - at >= f::kRecordHeaderSize) {
        uint64_t len = LoadU32(buf.data() + at + 8);
        if (len <= f::kMaxPayloadBytes && buf.size() - at < f::kRecordHeaderSize + len && at == 0) {
          // One record larger than the chunk: read it whole.
          BATON_RETURN_IF_ERROR(file_->PRead(pos_, f::kRecordHeaderSize + len, &buf));
        }
      }
      // Zeroed space ahead of the writer (journal_format.h): not written yet
      // (for kZerosGraceNs at one place; then damage, below).
      if (buf.size() - at >= 4 && LoadU32(buf.data() + at) == 0) {
        zeros = true;
        break;
      }
      RecordHeader h;
      std::string_view payload;
      RecordCheck check = DecodeRecordAt(buf, at, seed_, vol_, &h, &payload);
      if (check == RecordCheck::kShort) break;
      if (check != RecordCheck::kOk) {
        bad = RecordCheckName(check);
        break;
      }
      if (h.epoch != cur_.epoch || h.lsn != next_lsn_) {
        bad = "record has LSN " + std::to_string(h.lsn) + " epoch " + std::to_string(h.epoch);
        break;
      }
      out->push_back(Record{h.lsn, h.epoch, h.type, h.flags, std::string(payload), cur_.seq, pos_ + at});
      at += f::kRecordHeaderSize + payload.size();
      bytes += payload.size();
      next_lsn_++;
      progressed = true;
    }
    pos_ += at;
    if (progressed) continue;
    if (have_next_ && next_lsn_ >= next_.first_lsn) continue;
    // Nothing readable here at or below the limit: the log goes on in a later
    // segment (a roll, or a newer writer), or the bytes are not there yet.
    if (!listed) {
      listed = true;
      BATON_RETURN_IF_ERROR(FindNextSegment());
      if (have_next_ && next_.first_lsn <= next_lsn_) continue;
    }
    if (have_next_ && next_.first_lsn > next_lsn_) {
      // The records between are gone: trimmed away (our segment was
      // deleted under us) or lost.
      if (!env_->FileExists(SegmentPath(dir_, cur_.seq)))
        return Status::NotFound("journal LSN " + std::to_string(next_lsn_) + " was trimmed (segment " +
                                f::SegmentFileName(cur_.seq) + " is gone; the next starts at LSN " +
                                std::to_string(next_.first_lsn) + ")");
      return Status::Corruption("journal segment " + f::SegmentFileName(cur_.seq) + " ends at LSN " +
                                std::to_string(next_lsn_) + " (offset " + std::to_string(pos_) +
                                (bad.empty() ? "" : ": " + bad) + ") but the next segment starts at LSN " +
                                std::to_string(next_.first_lsn));
    }
    if (zeros) {
      const uint64_t now = env_->NowMonotonicNanos();
      if (zeros_seq_ != cur_.seq || zeros_pos_ != pos_ || zeros_since_ns_ == 0) {
        zeros_seq_ = cur_.seq;
        zeros_pos_ = pos_;
        zeros_since_ns_ = now;
      }
      if (now - zeros_since_ns_ >= kZerosGraceNs)
        bad = "zeros for " + std::to_string((now - zeros_since_ns_) / 1000000) + " ms";
    }
    if (!bad.empty()) {
      // Durable by the writer's word (at or below the limit), yet damaged.
      return Status::Corruption("journal segment " + f::SegmentFileName(cur_.seq) + " offset " +
                                std::to_string(pos_) + ": " + bad + " (expected LSN " + std::to_string(next_lsn_) +
                                ", published durable up to " + std::to_string(limit) + ")");
    }
    break;
  }
  // Below `limit` but not readable yet (the bytes are still on their way to
  // this reader's view of the storage): the caller retries; its lag shows.
  return Status::Ok();
}

}  // namespace baton::journal

namespace baton::journal {
StatusOr<uint64_t> FirstJournalLsn(Env* env, const std::string& dir, const VolumeId& vol) {
  BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  uint64_t best_seq = UINT64_MAX, first = 0;
  for (const std::string& name : names) {
    uint64_t seq;
    if (!format::ParseSegmentFileName(name, &seq) || seq >= best_seq) continue;
    StatusOr<std::unique_ptr<File>> file = env->OpenFile(JoinPath(dir, name), {.read_only = true});
    if (!file.ok()) continue;
    std::string head;
    Status st = (*file)->PRead(0, format::kSegmentHeaderSize, &head);
    (*file)->Close().PermitUnchecked();
    SegmentHeader h;
    if (!st.ok() || !DecodeSegmentHeader(head, &h).ok() || !(h.volume_id == vol) || h.seq != seq) continue;
    best_seq = seq;
    first = h.first_lsn;
  }
  return first;
}

StatusOr<uint64_t> NewestSegmentEpoch(Env* env, const std::string& dir, const VolumeId& vol) {
  BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  uint64_t newest = 0;
  for (const std::string& name : names) {
    uint64_t seq;
    if (!format::ParseSegmentFileName(name, &seq)) continue;
    StatusOr<std::unique_ptr<File>> file = env->OpenFile(JoinPath(dir, name), {.read_only = true});
    if (!file.ok()) continue;  // removed by a trim meanwhile
    std::string head;
    Status st = (*file)->PRead(0, format::kSegmentHeaderSize, &head);
    (*file)->Close().PermitUnchecked();
    SegmentHeader h;
    if (!st.ok() || !DecodeSegmentHeader(head, &h).ok() || !(h.volume_id == vol) || h.seq != seq) continue;
    newest = std::max(newest, h.epoch);
  }
  return newest;
}
}  // namespace baton::journal
