// Recovery reader. Stops at the first problem; never skips a bad record.
//
// Recovery decisions (tests/journal/journal_recovery_cases_test.cc
// enumerates every row):
//
//  #  | situation                                                  | result
//  ---+------------------------------------------------------------+--------------------------
//  1  | record valid, LSN == expected, epoch == segment epoch       | record
//  2  | record valid (checksum, volume) but LSN != expected         | kCorruption (gap/repeat)
//  3  | record short/bad at end of the last segment, nothing valid  | kEndOfLog (torn tail)
//     | after it                                                   |
//  4  | record bad, a valid record follows in the same segment     | kCorruption (seg, offset,
//     | (and row 4a does not apply)                                |   expected LSN)
//  4a | last segment, record bad at offset p with expected LSN E,   | kEndOfLog at p (torn final
//     | valid records V after p (same epoch), and: every record of  |   group; Open truncates at
//     | V has the same group end X = lsn + group_remaining; the    |   p, next LSN is E)
//     | group of E ends at X (previous record in the segment has   |
//     | group_remaining r0 > 0: E-1 + r0 == X; r0 == 0 or no       |
//     | previous record: E starts a group); every record of V has  |
//     | E <= lsn <= X (so no valid record lies beyond X); and no    |
//     | record of V is flagged first of its group (GroupFirst)     |
//  4b | as 4a but V spans two groups, ends below/above the group   | kCorruption
//     | of E, or holds an LSN < E or > X                           |
//  5  | record bad (or segment ends) before the next segment's      | kCorruption
//     | first LSN is reached                                       |
//  6  | record of another volume (volume id or seed mismatch)      | invalid record: row 3/4/5
//  7  | record epoch != its segment header's epoch                 | invalid record: row 3/4/5
//  8  | record in a renamed/recycled file (seed has the old seq)   | invalid record: row 3/4/5
//  9  | segment records at LSN >= next segment's first LSN         | ignored (deposed writer;
//     |                                                            |   the next segment wins)
//  10 | next segment's first LSN > LSN reached (missing segment)   | kCorruption
//  11 | segment epoch < previous segment's epoch                   | kCorruption
//  12 | bad header (magic/checksum/volume/seq) on a non-last seg   | kCorruption
//  13 | bad header on the last segment, no valid record in it      | kEndOfLog (crash while
//     |                                                            |   creating it)
//  14 | bad header on the last segment, a valid record in it       | kCorruption
//  15 | unsupported format version in any segment                  | kUnsupported
//  16 | from_lsn < first LSN present (trimmed)                     | kNotFound at Open
//  17 | clean end of the last segment                              | kEndOfLog
#include <algorithm>
#include <cassert>
#include <limits>

#include "base/big_buffer.h"
#include "base/coding.h"
#include "base/seeded_bugs.h"
#include "journal/journal.h"
#include "journal/journal_codec.h"
#include "journal/journal_format.h"
#include "journal/journal_recovery.h"

namespace baton::journal {

namespace f = format;

std::string SegmentPath(const std::string& dir, uint64_t seq) { return JoinPath(dir, f::SegmentFileName(seq)); }

namespace {

struct Seg {
  uint64_t seq = 0;
  bool header_ok = false;
  SegmentHeader hdr;
  std::string error;
};

std::string Where(uint64_t seq, uint64_t offset) {
  return "segment " + f::SegmentFileName(seq) + " offset " + std::to_string(offset);
}

// The whole file into buf; *data views it. One buffer serves every segment
// of a replay (BigBuffer: huge pages, faulted in once).
Status ReadSegmentBytes(Env* env, const std::string& path, BigBuffer* buf, std::string_view* data) {
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenOptions{.read_only = true}));
  BATON_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  BATON_RETURN_IF_ERROR(buf->Reserve(size));
  BATON_ASSIGN_OR_RETURN(size_t got, file->PReadInto(0, size, buf->data()));
  *data = std::string_view(buf->data(), got);
  return file->Close();
}

// A valid record found after a bad one: its LSN and the last LSN of its group.
struct LaterRecord {
  uint64_t lsn = 0;
  uint64_t group_end_lsn = 0;
  bool group_end_overflows = false;
  bool group_first = false;  // kRecordFlagGroupFirst
  size_t at = 0;             // its offset in the segment
};

// Every record that passes every check and has `epoch` and starts at or
// after `pos`, in file order (row 4a's V).
std::vector<LaterRecord> ValidRecordsFrom(std::string_view data, size_t pos, uint64_t seed, const VolumeId& vol,
                                          uint64_t epoch) {
  std::string magic;
  PutU32(&magic, f::kRecordMagic);
  std::vector<LaterRecord> out;
  for (size_t at = data.find(magic, pos); at != std::string_view::npos; at = data.find(magic, at + 1)) {
    RecordHeader h;
    std::string_view payload;
    if (DecodeRecordAt(data, at, seed, vol, &h, &payload) != RecordCheck::kOk || h.epoch != epoch) continue;
    bool overflows = h.lsn > std::numeric_limits<uint64_t>::max() - h.group_remaining;
    out.push_back(LaterRecord{h.lsn, overflows ? 0 : h.lsn + h.group_remaining, overflows,
                              (h.flags & f::kRecordFlagGroupFirst) != 0, at});
  }
  return out;
}

// Row 4a: empty if `later` (non-empty) is the rest of the final group whose
// record with LSN `expected` is bad; else why not. `prev_remaining` is the
// group_remaining of the record before the bad one in this segment (0 if
// none: a group never spans a segment roll).
std::string TornFinalGroupMismatch(const std::vector<LaterRecord>& later, uint64_t expected,
                                   uint32_t prev_remaining) {
  assert(!later.empty() && expected >= 1);
  uint64_t end = later.front().group_end_lsn;
  for (const LaterRecord& r : later) {
    std::string lsn = "LSN " + std::to_string(r.lsn);
    if (r.group_end_overflows) return lsn + " has an impossible group end";
    if (r.group_end_lsn != end) return lsn + " belongs to another group";
    if (r.lsn < expected || r.lsn > end) return lsn + " lies outside the group";
    // It starts a group of its own: the bad record's group was written (and
    // synced) before it, so it is not the final, possibly torn, group write.
    if (r.group_first && r.lsn > expected) return lsn + " starts a later group";
  }
  if (prev_remaining > 0 && expected - 1 + prev_remaining != end) {
    return "the group of the expected LSN ends at LSN " + std::to_string(expected - 1 + prev_remaining) +
           ", the records after it end at LSN " + std::to_string(end);
  }
  return "";
}

// True if any record that passes every check (epoch 0 = any epoch) starts at
// or after `pos`.
bool AnyValidRecordFrom(std::string_view data, size_t pos, uint64_t seed, const VolumeId& vol, uint64_t epoch) {
  std::string magic;
  PutU32(&magic, f::kRecordMagic);
  for (size_t at = data.find(magic, pos); at != std::string_view::npos; at = data.find(magic, at + 1)) {
    RecordHeader h;
    std::string_view payload;
    if (DecodeRecordAt(data, at, seed, vol, &h, &payload) == RecordCheck::kOk && (epoch == 0 || h.epoch == epoch)) {
      return true;
    }
  }
  return false;
}

class SegmentReader final : public JournalReader {
 public:
  SegmentReader(Env* env, std::string dir, const VolumeId& vol) : env_(env), dir_(std::move(dir)), vol_(vol) {}

  Status Init(uint64_t from_lsn);
  Status Next(Record* out) override;
  uint64_t next_lsn() const override { return expected_lsn_; }

  void FillRecovery(RecoveryResult* r) const;

 private:
  Status ListSegments();
  Status CheckHeaders();
  Status CheckTrailingBadSegment(const Seg& s);
  Status ReadOne(Record* out, bool* got);
  Status LoadCurrent();
  Status BadRecord(const char* reason);
  bool IsLastValid(size_t i) const { return i + 1 >= valid_count_; }
  uint64_t StopLsn() const {
    return IsLastValid(cur_) ? std::numeric_limits<uint64_t>::max() : segs_[cur_ + 1].hdr.first_lsn;
  }

  Env* env_;
  std::string dir_;
  VolumeId vol_;
  std::vector<Seg> segs_;   // seq order; only the last may have a bad header
  size_t valid_count_ = 0;  // segs_[0, valid_count_) have valid headers
  size_t cur_ = 0;          // segment being read
  bool loaded_ = false;
  BigBuffer buf_;           // holds data_
  std::string_view data_;   // bytes of segs_[cur_]
  size_t pos_ = 0;          // next record offset in data_
  uint64_t seed_ = 0;
  uint64_t expected_lsn_ = 1;
  uint64_t from_lsn_ = 0;
  Status final_;            // sticky kEndOfLog / kCorruption once reached
  // group_remaining of the last record read from segs_[cur_] (0 if none yet).
  uint32_t prev_group_remaining_ = 0;
};

Status SegmentReader::ListSegments() {
  BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir_));
  for (const std::string& name : names) {
    Seg s;
    if (!f::ParseSegmentFileName(name, &s.seq)) continue;
    std::string head;
    StatusOr<std::unique_ptr<File>> opened = env_->OpenFile(JoinPath(dir_, name), {.read_only = true});
    // Listed, then removed before we opened it: a trim (the active's, or a
    // deposed writer's finishing late) takes only the oldest segments. If we
    // needed it, the LSN checks below say so (rows 10 and 16).
    if (opened.status().IsNotFound()) continue;
    BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> file, std::move(opened));
    BATON_RETURN_IF_ERROR(file->PRead(0, f::kSegmentHeaderSize, &head));
    BATON_RETURN_IF_ERROR(file->Close());
    Status st = DecodeSegmentHeader(head, &s.hdr);
    if (st.code() == Code::kUnsupported) return Status::Unsupported(Where(s.seq, 0) + ": " + st.message());
    if (!st.ok()) {
      s.error = st.message();
    } else if (!(s.hdr.volume_id == vol_)) {
      s.error = "segment of another volume";
    } else if (s.hdr.seq != s.seq) {
      s.error = "header seq " + std::to_string(s.hdr.seq) + " does not match the file name (recycled segment)";
    } else {
      s.header_ok = true;
    }
    segs_.push_back(std::move(s));
  }
  std::sort(segs_.begin(), segs_.end(), [](const Seg& a, const Seg& b) { return a.seq < b.seq; });
  return Status::Ok();
}

Status SegmentReader::CheckHeaders() {
  for (size_t i = 0; i < segs_.size(); i++) {
    const Seg& s = segs_[i];
    if (!s.header_ok && i + 1 < segs_.size()) {
      return Status::Corruption(Where(s.seq, 0) + ": bad segment header (" + s.error + ") before later segments");
    }
    if (!s.header_ok) return CheckTrailingBadSegment(s);
    valid_count_ = i + 1;
    if (i > 0 && s.hdr.epoch < segs_[i - 1].hdr.epoch) {
      return Status::Corruption(Where(s.seq, 0) + ": epoch " + std::to_string(s.hdr.epoch) +
                                " lower than previous segment's " + std::to_string(segs_[i - 1].hdr.epoch));
    }
    if (i > 0 && s.hdr.first_lsn < segs_[i - 1].hdr.first_lsn) {
      return Status::Corruption(Where(s.seq, 0) + ": first LSN " + std::to_string(s.hdr.first_lsn) +
                                " lower than previous segment's");
    }
  }
  return Status::Ok();
}

Status SegmentReader::CheckTrailingBadSegment(const Seg& s) {
  std::string_view data;
  BATON_RETURN_IF_ERROR(ReadSegmentBytes(env_, JoinPath(dir_, f::SegmentFileName(s.seq)), &buf_, &data));
  if (AnyValidRecordFrom(data, 0, f::RecordSeed(vol_.bytes, s.seq), vol_, 0)) {
    return Status::Corruption(Where(s.seq, 0) + ": bad segment header (" + s.error + ") but valid records in it");
  }
  return Status::Ok();
}

Status SegmentReader::Init(uint64_t from_lsn) {
  BATON_RETURN_IF_ERROR(ListSegments());
  BATON_RETURN_IF_ERROR(CheckHeaders());
  from_lsn_ = from_lsn;
  if (valid_count_ == 0) {
    final_ = Status::EndOfLog("empty journal");
    return Status::Ok();
  }
  uint64_t first = segs_[0].hdr.first_lsn;
  if (from_lsn != 0 && from_lsn < first) {
    return Status::NotFound("journal LSN " + std::to_string(from_lsn) + " was trimmed; first LSN present is " +
                            std::to_string(first));
  }
  while (cur_ + 1 < valid_count_ && segs_[cur_ + 1].hdr.first_lsn <= from_lsn) cur_++;
  expected_lsn_ = segs_[cur_].hdr.first_lsn;
  return Status::Ok();
}

Status SegmentReader::LoadCurrent() {
  const Seg& s = segs_[cur_];
  if (s.hdr.first_lsn != expected_lsn_) {
    return Status::Corruption(Where(s.seq, 0) + ": first LSN " + std::to_string(s.hdr.first_lsn) +
                              " but log reached LSN " + std::to_string(expected_lsn_) + " (missing segment)");
  }
  BATON_RETURN_IF_ERROR(ReadSegmentBytes(env_, JoinPath(dir_, f::SegmentFileName(s.seq)), &buf_, &data_));
  pos_ = f::kSegmentHeaderSize;
  seed_ = f::RecordSeed(vol_.bytes, s.seq);
  prev_group_remaining_ = 0;
  loaded_ = true;
  return Status::Ok();
}

Status SegmentReader::BadRecord(const char* reason) {
  const Seg& s = segs_[cur_];
  std::string what = Where(s.seq, pos_) + ": " + reason + " (expected LSN " + std::to_string(expected_lsn_) + ")";
  if (!IsLastValid(cur_) && seeded::Planted(seeded::Bug::kReplaySkipsCorrupt)) {
    // Seeded bug: skip the bad record (to the next valid one, else to the
    // next segment) instead of stopping.
    std::vector<LaterRecord> next = ValidRecordsFrom(data_, pos_ + 1, seed_, vol_, s.hdr.epoch);
    pos_ = next.empty() ? data_.size() : next.front().at;
    expected_lsn_ = next.empty() ? StopLsn() : next.front().lsn;
    return Status::Ok();
  }
  if (!IsLastValid(cur_)) return Status::Corruption(what + "; later segments follow");
  // Zeroed space the writer laid ahead (journal_writer.cc): the clean end.
  if (data_.find_first_not_of('\0', pos_) == std::string_view::npos) {
    return Status::EndOfLog("end of log at " + Where(s.seq, pos_) + " (zeroed space follows)");
  }
  std::vector<LaterRecord> later = ValidRecordsFrom(data_, pos_ + 1, seed_, vol_, s.hdr.epoch);
  if (later.empty()) return Status::EndOfLog("torn tail at " + what);  // row 3
  std::string mismatch = TornFinalGroupMismatch(later, expected_lsn_, prev_group_remaining_);
  if (mismatch.empty()) {  // row 4a
    return Status::EndOfLog("torn final group at " + what + "; " + std::to_string(later.size()) +
                            " unacknowledged record(s) of that group after it dropped");
  }
  if (seeded::Planted(seeded::Bug::kReplaySkipsCorrupt)) {  // seeded bug: skip to the next valid record
    pos_ = later.front().at;
    expected_lsn_ = later.front().lsn;
    return Status::Ok();
  }
  return Status::Corruption(what + "; a valid record follows (" + mismatch + ")");  // rows 4, 4b
}

Status SegmentReader::ReadOne(Record* out, bool* got) {
  *got = false;
  if (!loaded_) BATON_RETURN_IF_ERROR(LoadCurrent());
  const Seg& s = segs_[cur_];
  if (expected_lsn_ >= StopLsn()) {  // row 9: the rest was written by a deposed writer
    cur_++;
    loaded_ = false;
    return Status::Ok();
  }
  if (pos_ == data_.size()) {
    if (IsLastValid(cur_)) return Status::EndOfLog();
    return Status::Corruption(Where(s.seq, pos_) + ": segment ends at LSN " + std::to_string(expected_lsn_) +
                              " but the next segment starts at LSN " + std::to_string(StopLsn()));
  }
  RecordHeader h;
  std::string_view payload;
  RecordCheck check = DecodeRecordAt(data_, pos_, seed_, vol_, &h, &payload);
  if (check != RecordCheck::kOk) return BadRecord(RecordCheckName(check));
  if (h.epoch != s.hdr.epoch) return BadRecord("record epoch differs from its segment's epoch");
  if (h.lsn != expected_lsn_) {
    return Status::Corruption(Where(s.seq, pos_) + ": record has LSN " + std::to_string(h.lsn) + ", expected LSN " +
                              std::to_string(expected_lsn_));
  }
  out->lsn = h.lsn;
  out->epoch = h.epoch;
  out->type = h.type;
  out->flags = h.flags;
  out->payload.assign(payload);  // reuses the caller's buffer: no allocation per record
  out->segment_seq = s.seq;
  out->offset = pos_;
  pos_ += f::kRecordHeaderSize + payload.size();
  prev_group_remaining_ = h.group_remaining;
  expected_lsn_++;
  *got = true;
  return Status::Ok();
}

Status SegmentReader::Next(Record* out) {
  while (final_.ok()) {
    bool got = false;
    Status st = ReadOne(out, &got);
    if (!st.ok()) {
      final_ = st;
      break;
    }
    if (got && out->lsn >= from_lsn_) return Status::Ok();
  }
  return final_;
}

void SegmentReader::FillRecovery(RecoveryResult* r) const {
  r->next_lsn = expected_lsn_;
  for (const Seg& s : segs_) {
    r->max_seq = std::max(r->max_seq, s.seq);
    if (!s.header_ok) {
      r->bad_trailing_seqs.push_back(s.seq);
      continue;
    }
    r->segments.push_back(SegmentInfo{s.seq, s.hdr.epoch, s.hdr.first_lsn});
    r->max_epoch = std::max(r->max_epoch, s.hdr.epoch);
  }
  if (valid_count_ > 0) {
    size_t tail = std::min(cur_, valid_count_ - 1);
    r->has_tail = true;
    r->tail_seq = segs_[tail].seq;
    r->tail_offset_bytes = (loaded_ && tail == cur_) ? pos_ : f::kSegmentHeaderSize;
  }
}

}  // namespace

StatusOr<std::unique_ptr<JournalReader>> JournalReader::Open(Env* env, const std::string& dir, const VolumeId& vol,
                                                             uint64_t from_lsn) {
  auto reader = std::make_unique<SegmentReader>(env, dir, vol);
  BATON_RETURN_IF_ERROR(reader->Init(from_lsn));
  return std::unique_ptr<JournalReader>(std::move(reader));
}

StatusOr<RecoveryResult> RecoverJournal(Env* env, const std::string& dir, const VolumeId& vol) {
  SegmentReader reader(env, dir, vol);
  BATON_RETURN_IF_ERROR(reader.Init(0));
  Record rec;
  Status st;
  while ((st = reader.Next(&rec)).ok()) {
  }
  if (!st.IsEndOfLog()) return st;
  RecoveryResult r;
  reader.FillRecovery(&r);
  return r;
}

}  // namespace baton::journal
