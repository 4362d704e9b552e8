// Plain journal scanner. Deliberately does not include journal_reader.h or
// journal_codec.h: it decodes the bytes itself from journal_format.h.
#include "tools/journal_scanner.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "base/checksum.h"
#include "base/coding.h"
#include "journal/journal_format.h"

namespace baton::tools {

namespace f = journal::format;

const char* ScanProblemName(ScanProblemKind k) {
  switch (k) {
    case ScanProblemKind::kBadSegmentHeader: return "bad-segment-header";
    case ScanProblemKind::kSegmentSeqMismatch: return "segment-seq-mismatch";
    case ScanProblemKind::kForeignSegment: return "foreign-segment";
    case ScanProblemKind::kEpochRegression: return "epoch-regression";
    case ScanProblemKind::kMissingSegment: return "missing-segment";
    case ScanProblemKind::kBadChecksum: return "bad-checksum";
    case ScanProblemKind::kBadRecordHeader: return "bad-record-header";
    case ScanProblemKind::kForeignVolume: return "foreign-volume";
    case ScanProblemKind::kLsnGap: return "lsn-gap";
    case ScanProblemKind::kLsnRepeat: return "lsn-repeat";
    case ScanProblemKind::kEpochMismatch: return "epoch-mismatch";
    case ScanProblemKind::kTornTail: return "torn-tail";
    case ScanProblemKind::kSuperseded: return "superseded";
  }
  return "?";
}

bool IsCorruption(const ScanProblem& p) {
  if (p.kind == ScanProblemKind::kSuperseded) return false;
  if (p.kind == ScanProblemKind::kTornTail && p.last_segment) return false;
  return true;
}

namespace {

struct SegHeader {
  bool ok = false;
  uint64_t seq = 0, epoch = 0, first_lsn = 0;
  uint8_t vol[16] = {};
};

// A record as found in the bytes.
enum class Found { kOk, kForeign, kBadChecksum, kBadHeader, kShort };

struct RawRecord {
  uint16_t type = 0, flags = 0;
  uint32_t length = 0;
  uint32_t group_remaining = 0;
  uint64_t lsn = 0, epoch = 0;
  uint8_t vol[16] = {};
  size_t size_bytes = 0;  // header + payload
};

SegHeader ParseHeader(std::string_view d) {
  SegHeader h;
  if (d.size() < f::kSegmentHeaderSize) return h;
  if (LoadU64(d.data()) != f::kSegmentMagic) return h;
  if (LoadU32(d.data() + f::kSegVersionOffset) != f::kFormatVersion) return h;
  if (Checksum64(d.substr(0, f::kSegChecksumOffset), f::kSegmentHeaderSeed) !=
      LoadU64(d.data() + f::kSegChecksumOffset)) {
    return h;
  }
  std::memcpy(h.vol, d.data() + f::kSegVolumeIdOffset, 16);
  h.seq = LoadU64(d.data() + f::kSegSeqOffset);
  h.epoch = LoadU64(d.data() + f::kSegEpochOffset);
  h.first_lsn = LoadU64(d.data() + f::kSegFirstLsnOffset);
  h.ok = true;
  return h;
}

bool ChecksumMatches(const char* p, uint32_t len, uint64_t seed) {
  Checksummer c(seed);
  c.Update(std::string_view(p, f::kRecChecksumOffset));
  c.Update(std::string_view(p + f::kRecordHeaderSize, len));
  return c.Digest() == LoadU64(p + f::kRecChecksumOffset);
}

Found TryRecord(std::string_view d, size_t pos, uint64_t seed, uint64_t seq, RawRecord* r) {
  if (d.size() - pos < f::kRecordHeaderSize) return Found::kShort;
  const char* p = d.data() + pos;
  if (LoadU32(p) != f::kRecordMagic) return Found::kBadHeader;
  r->length = LoadU32(p + f::kRecLengthOffset);
  if (r->length > f::kMaxPayloadBytes) return Found::kBadHeader;
  if (d.size() - pos - f::kRecordHeaderSize < r->length) return Found::kShort;
  r->type = LoadU16(p + f::kRecTypeOffset);
  r->flags = LoadU16(p + f::kRecFlagsOffset);
  r->lsn = LoadU64(p + f::kRecLsnOffset);
  r->group_remaining = LoadU32(p + f::kRecGroupRemainingOffset);
  r->epoch = LoadU64(p + f::kRecEpochOffset);
  std::memcpy(r->vol, p + f::kRecVolumeIdOffset, 16);
  r->size_bytes = f::kRecordHeaderSize + r->length;
  if (ChecksumMatches(p, r->length, seed)) return Found::kOk;
  if (ChecksumMatches(p, r->length, f::RecordSeed(r->vol, seq))) return Found::kForeign;
  return Found::kBadChecksum;
}

// A record of this volume and epoch that checksums, found after a bad spot.
struct Later {
  RawRecord rec;
  size_t pos = 0;
};

// Every record at or after `from` that checksums for `seed` and has `epoch`.
std::vector<Later> RecordsFrom(std::string_view d, size_t from, uint64_t seed, uint64_t seq, uint64_t epoch) {
  std::string magic;
  PutU32(&magic, f::kRecordMagic);
  std::vector<Later> out;
  for (size_t at = d.find(magic, from); at != std::string_view::npos; at = d.find(magic, at + 1)) {
    RawRecord r;
    if (TryRecord(d, at, seed, seq, &r) == Found::kOk && r.epoch == epoch) out.push_back(Later{r, at});
  }
  return out;
}

// True if `later` (the valid records after a bad spot whose expected LSN is
// `expected`) is the rest of the log's final group: one group end X for all,
// X is the end of the group of `expected` (known from the previous record's
// group_remaining if it is > 0), and every LSN lies in [expected, X].
bool IsTornFinalGroup(const std::vector<Later>& later, uint64_t expected, uint32_t prev_remaining) {
  if (later.empty() || expected == 0) return false;
  const uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const RawRecord& first = later.front().rec;
  if (first.lsn > kMax - first.group_remaining) return false;
  uint64_t end = first.lsn + first.group_remaining;
  for (const Later& l : later) {
    if (l.rec.lsn > kMax - l.rec.group_remaining || l.rec.lsn + l.rec.group_remaining != end) return false;
    if (l.rec.lsn < expected || l.rec.lsn > end) return false;
  }
  return prev_remaining == 0 || expected - 1 + prev_remaining == end;
}

// The state of one scan across segments.
class Scanner {
 public:
  Scanner(const ScanOptions& o, const RecordCallback& rec, const ProblemCallback& prob, ScanSummary* s)
      : o_(o), on_record_(rec), on_problem_(prob), sum_(s) {}
  Status Run();

 private:
  Status LoadHeaders(std::vector<uint64_t>* seqs);
  void ScanSegment(size_t index, std::string_view data);
  bool CheckHeader(size_t index, const SegHeader& h);
  size_t FindNextGood(std::string_view d, size_t from, uint64_t seed, uint64_t seq);
  void OnRecord(const RawRecord& r, std::string_view d, size_t pos, const SegHeader& h);
  bool TryTornFinalGroup(std::string_view d, size_t pos, uint64_t seed, const SegHeader& h);
  void Problem(ScanProblemKind k, uint64_t offset, std::string detail);
  // A header that checksums, names this volume and matches its file name.
  bool Trusted(size_t i) const {
    return headers_[i].ok && headers_[i].seq == seqs_[i] && std::memcmp(headers_[i].vol, vol_, 16) == 0;
  }

  const ScanOptions& o_;
  const RecordCallback& on_record_;
  const ProblemCallback& on_problem_;
  ScanSummary* sum_;
  uint8_t vol_[16] = {};
  std::vector<uint64_t> seqs_;
  std::vector<SegHeader> headers_;
  uint64_t cur_seq_ = 0;
  bool last_ = false;
  uint64_t expected_lsn_ = 0;  // 0 = unknown
  uint64_t stop_lsn_ = 0;      // next valid segment's first LSN
  uint64_t prev_epoch_ = 0;
  bool superseded_reported_ = false;
  uint32_t prev_remaining_ = 0;  // group_remaining of the previous record of this segment
};

void Scanner::Problem(ScanProblemKind k, uint64_t offset, std::string detail) {
  ScanProblem p{k, cur_seq_, offset, expected_lsn_, last_, std::move(detail)};
  sum_->problems++;
  if (IsCorruption(p)) sum_->corruptions++;
  if (on_problem_) on_problem_(p);
}

Status Scanner::LoadHeaders(std::vector<uint64_t>* seqs) {
  BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, o_.env->ListDir(o_.dir));
  for (const std::string& n : names) {
    uint64_t seq;
    if (f::ParseSegmentFileName(n, &seq)) seqs->push_back(seq);
  }
  std::sort(seqs->begin(), seqs->end());
  if (o_.have_volume_id) std::memcpy(vol_, o_.volume_id.bytes, 16);
  for (uint64_t seq : *seqs) {
    BATON_ASSIGN_OR_RETURN(std::string head, ReadWholeFile(o_.env, JoinPath(o_.dir, f::SegmentFileName(seq))));
    SegHeader h = ParseHeader(head.substr(0, std::min(head.size(), f::kSegmentHeaderSize)));
    if (h.ok && !o_.have_volume_id && headers_.empty()) std::memcpy(vol_, h.vol, 16);
    headers_.push_back(h);
  }
  return Status::Ok();
}

bool Scanner::CheckHeader(size_t index, const SegHeader& h) {
  if (!h.ok) {
    Problem(ScanProblemKind::kBadSegmentHeader, 0, "short, bad magic, bad checksum or unknown version");
    return false;
  }
  if (std::memcmp(h.vol, vol_, 16) != 0) Problem(ScanProblemKind::kForeignSegment, 0, "header of another volume");
  if (h.seq != cur_seq_) {
    Problem(ScanProblemKind::kSegmentSeqMismatch, 0, "header seq " + std::to_string(h.seq));
  }
  if (h.epoch < prev_epoch_) {
    Problem(ScanProblemKind::kEpochRegression, 0,
            "epoch " + std::to_string(h.epoch) + " after " + std::to_string(prev_epoch_));
  }
  prev_epoch_ = std::max(prev_epoch_, h.epoch);
  if (expected_lsn_ != 0 && h.first_lsn > expected_lsn_) {
    Problem(ScanProblemKind::kMissingSegment, 0,
            "first LSN " + std::to_string(h.first_lsn) + ", log reached " + std::to_string(expected_lsn_));
  }
  expected_lsn_ = h.first_lsn;
  return true;
}

size_t Scanner::FindNextGood(std::string_view d, size_t from, uint64_t seed, uint64_t seq) {
  std::string magic;
  PutU32(&magic, f::kRecordMagic);
  for (size_t at = d.find(magic, from); at != std::string_view::npos; at = d.find(magic, at + 1)) {
    RawRecord r;
    Found k = TryRecord(d, at, seed, seq, &r);
    if (k == Found::kOk || k == Found::kForeign) return at;
  }
  return std::string_view::npos;
}

void Scanner::OnRecord(const RawRecord& r, std::string_view d, size_t pos, const SegHeader& h) {
  ScannedRecord rec{cur_seq_, pos, r.lsn, r.epoch, r.type, r.flags,
                    std::string(d.substr(pos + f::kRecordHeaderSize, r.length)), r.lsn >= stop_lsn_,
                    r.group_remaining, false};
  prev_remaining_ = r.group_remaining;
  if (rec.superseded && !superseded_reported_) {
    superseded_reported_ = true;
    Problem(ScanProblemKind::kSuperseded, pos, "records from LSN " + std::to_string(r.lsn) + " on are superseded");
  }
  if (!rec.superseded && expected_lsn_ != 0 && r.lsn != expected_lsn_) {
    Problem(r.lsn > expected_lsn_ ? ScanProblemKind::kLsnGap : ScanProblemKind::kLsnRepeat, pos,
            "LSN " + std::to_string(r.lsn));
  }
  if (h.ok && r.epoch != h.epoch) {
    Problem(ScanProblemKind::kEpochMismatch, pos,
            "record epoch " + std::to_string(r.epoch) + ", segment epoch " + std::to_string(h.epoch));
  }
  if (!rec.superseded) expected_lsn_ = r.lsn + 1;
  if (sum_->first_lsn == 0) sum_->first_lsn = r.lsn;
  sum_->last_lsn = std::max(sum_->last_lsn, r.lsn);
  sum_->records++;
  if (on_record_) on_record_(rec);
}

// At a bad spot `pos` of the last segment: if the valid records after it are
// the rest of a torn final group (row 4a of the reader's table, decided here
// with this file's own code), reports kTornTail, hands those records on with
// after_tear set, and returns true (the segment is done).
bool Scanner::TryTornFinalGroup(std::string_view d, size_t pos, uint64_t seed, const SegHeader& h) {
  if (!last_ || !h.ok) return false;
  std::vector<Later> later = RecordsFrom(d, pos + 1, seed, cur_seq_, h.epoch);
  if (!IsTornFinalGroup(later, expected_lsn_, prev_remaining_)) return false;
  Problem(ScanProblemKind::kTornTail, pos,
          "torn final group: " + std::to_string(d.size() - pos) + " bytes, " + std::to_string(later.size()) +
              " unacknowledged record(s) of the group after the tear");
  for (const Later& l : later) {
    ScannedRecord rec{cur_seq_, l.pos, l.rec.lsn, l.rec.epoch, l.rec.type, l.rec.flags,
                      std::string(d.substr(l.pos + f::kRecordHeaderSize, l.rec.length)), false,
                      l.rec.group_remaining, true};
    sum_->torn_records++;
    if (on_record_) on_record_(rec);
  }
  return true;
}

void Scanner::ScanSegment(size_t index, std::string_view d) {
  const SegHeader& h = headers_[index];
  CheckHeader(index, h);
  uint64_t seed = f::RecordSeed(vol_, cur_seq_);
  prev_remaining_ = 0;
  size_t pos = f::kSegmentHeaderSize;
  while (pos < d.size()) {
    RawRecord r;
    Found k = TryRecord(d, pos, seed, cur_seq_, &r);
    if (k == Found::kOk) {
      OnRecord(r, d, pos, h);
      pos += r.size_bytes;
      continue;
    }
    if (k == Found::kForeign) {
      Problem(ScanProblemKind::kForeignVolume, pos, "record LSN " + std::to_string(r.lsn) + " of another volume");
      pos += r.size_bytes;
      continue;
    }
    // Zeroed space (row 3z) ends the last segment cleanly, and any segment
    // whose records already reached the next trusted segment's first LSN (a
    // deposed writer's zeros, after its successor cut the tail).
    const bool log_goes_on = stop_lsn_ != std::numeric_limits<uint64_t>::max();
    const bool reached_next = log_goes_on && expected_lsn_ != 0 && expected_lsn_ >= stop_lsn_;
    if ((!log_goes_on || reached_next) && d.find_first_not_of('\0', pos) == std::string_view::npos) return;
    if (TryTornFinalGroup(d, pos, seed, h)) return;
    size_t next = FindNextGood(d, pos + 1, seed, cur_seq_);
    if (next == std::string_view::npos) {
      Problem(ScanProblemKind::kTornTail, pos, std::to_string(d.size() - pos) + " bytes");
      return;
    }
    Problem(k == Found::kBadChecksum ? ScanProblemKind::kBadChecksum : ScanProblemKind::kBadRecordHeader, pos,
            "skipped " + std::to_string(next - pos) + " bytes");
    pos = next;
    expected_lsn_ = 0;  // the skipped bytes may have held records: no gap report
    prev_remaining_ = 0;
  }
}

Status Scanner::Run() {
  BATON_RETURN_IF_ERROR(LoadHeaders(&seqs_));
  for (size_t i = 0; i < seqs_.size(); i++) {
    cur_seq_ = seqs_[i];
    last_ = i + 1 == seqs_.size();
    stop_lsn_ = std::numeric_limits<uint64_t>::max();
    for (size_t j = i + 1; j < seqs_.size(); j++) {
      if (Trusted(j)) {
        stop_lsn_ = headers_[j].first_lsn;
        break;
      }
    }
    superseded_reported_ = false;
    BATON_ASSIGN_OR_RETURN(std::string data, ReadWholeFile(o_.env, JoinPath(o_.dir, f::SegmentFileName(cur_seq_))));
    sum_->segments++;
    ScanSegment(i, data);
  }
  return Status::Ok();
}

}  // namespace

Status ScanJournal(const ScanOptions& options, const RecordCallback& on_record, const ProblemCallback& on_problem,
                   ScanSummary* summary) {
  if (options.env == nullptr) return Status::InvalidArgument("scan: no env");
  *summary = ScanSummary{};
  Scanner s(options, on_record, on_problem, summary);
  return s.Run();
}

}  // namespace baton::tools
