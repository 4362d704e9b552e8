#include "torture/crash_recorder.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace baton::torture {

namespace {

constexpr uint64_t kSector = 512;

std::string DirOf(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

IoEvent Ev(IoKind kind, std::string path, std::string path2, uint64_t offset, std::string data);

class RecordingFile final : public File {
 public:
  RecordingFile(RecordingEnv* env, std::unique_ptr<File> target, std::string rel)
      : env_(env), target_(std::move(target)), rel_(std::move(rel)) {}

  Status Append(std::string_view data) override {
    BATON_ASSIGN_OR_RETURN(uint64_t size, target_->Size());
    return PWrite(size, data);
  }
  Status PWrite(uint64_t offset, std::string_view data) override {
    BATON_RETURN_IF_ERROR(target_->PWrite(offset, data));
    if (!rel_.empty()) env_->Add(Ev(IoKind::kWrite, rel_, "", offset, std::string(data)));
    return Status::Ok();
  }
  Status PRead(uint64_t offset, size_t n, std::string* out) const override { return target_->PRead(offset, n, out); }
  StatusOr<size_t> PReadInto(uint64_t offset, size_t n, char* buf) const override {
    return target_->PReadInto(offset, n, buf);
  }
  Status Sync() override { return SyncAs(target_->Sync()); }
  Status DataSync() override { return SyncAs(target_->DataSync()); }
  Status Truncate(uint64_t size_bytes) override {
    BATON_RETURN_IF_ERROR(target_->Truncate(size_bytes));
    if (!rel_.empty()) env_->Add(Ev(IoKind::kTruncate, rel_, "", size_bytes, ""));
    return Status::Ok();
  }
  StatusOr<uint64_t> Size() const override { return target_->Size(); }
  Status Close() override { return target_->Close(); }
  const std::string& path() const override { return target_->path(); }

 private:
  Status SyncAs(Status st) {
    if (st.ok() && !rel_.empty()) env_->Add(Ev(IoKind::kFileSync, rel_, "", 0, ""));
    return st;
  }
  RecordingEnv* env_;
  std::unique_ptr<File> target_;
  std::string rel_;
};

IoEvent Ev(IoKind kind, std::string path, std::string path2, uint64_t offset, std::string data) {
  IoEvent e;
  e.kind = kind;
  e.path = std::move(path);
  e.path2 = std::move(path2);
  e.offset = offset;
  e.data = std::move(data);
  return e;
}

void WriteAt(std::string& file, uint64_t off, std::string_view data) {
  if (file.size() < off + data.size()) file.resize(off + data.size(), '\0');
  std::copy(data.begin(), data.end(), file.begin() + static_cast<std::ptrdiff_t>(off));
}

// Directories a namespace change touches.
std::set<std::string> DirsOf(const IoEvent& e) {
  std::set<std::string> d{DirOf(e.path)};
  if (e.kind == IoKind::kRename) d.insert(DirOf(e.path2));
  return d;
}

}  // namespace

const char* CrashModelName(CrashModel m) {
  switch (m) {
    case CrashModel::kPrefix: return "prefix";
    case CrashModel::kRealistic: return "realistic";
    case CrashModel::kAdversarial: return "adversarial";
  }
  return "?";
}

bool ParseCrashModel(const std::string& s, CrashModel* out) {
  for (CrashModel m : {CrashModel::kPrefix, CrashModel::kRealistic, CrashModel::kAdversarial}) {
    if (s == CrashModelName(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

std::string DescribeEvent(const IoEvent& e) {
  switch (e.kind) {
    case IoKind::kCreate: return "create " + e.path;
    case IoKind::kWrite:
      return "write " + e.path + " @" + std::to_string(e.offset) + " +" + std::to_string(e.data.size());
    case IoKind::kTruncate: return "truncate " + e.path + " to " + std::to_string(e.offset);
    case IoKind::kFileSync: return "fsync " + e.path;
    case IoKind::kDirSync: return "fsync dir " + (e.path.empty() ? std::string(".") : e.path);
    case IoKind::kRename: return "rename " + e.path + " -> " + e.path2;
    case IoKind::kRemove: return "remove " + e.path;
    case IoKind::kMarker: {
      static const char* names[] = {"submit", "ack", "lmdb-commit", "lmdb-sync"};
      return std::string("mark ") + names[static_cast<int>(e.marker)] + " " + std::to_string(e.id);
    }
  }
  return "?";
}

StatusOr<FileImage> ReadImage(const std::string& root) {
  FileImage img;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string rel = std::filesystem::relative(it->path(), root).string();
    BATON_ASSIGN_OR_RETURN(img[rel], ReadWholeFile(Env::Default(), it->path().string()));
  }
  if (ec) return Status::IOError("cannot list " + root + ": " + ec.message());
  return img;
}

Status WriteImage(const FileImage& img, const std::string& root) {
  Env* env = Env::Default();
  BATON_RETURN_IF_ERROR(env->CreateDir(root));
  std::set<std::string> made;
  for (const auto& [rel, bytes] : img) {
    std::string dir = DirOf(rel);
    if (!dir.empty() && made.insert(dir).second) {
      std::error_code ec;
      std::filesystem::create_directories(JoinPath(root, dir), ec);
      if (ec) return Status::IOError("cannot create " + JoinPath(root, dir) + ": " + ec.message());
    }
    OpenOptions o;
    o.create = true;
    o.truncate = true;
    BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> f, env->OpenFile(JoinPath(root, rel), o));
    BATON_RETURN_IF_ERROR(f->PWrite(0, bytes));
    BATON_RETURN_IF_ERROR(f->Close());
  }
  return Status::Ok();
}

// ---- RecordingEnv -------------------------------------------------------

RecordingEnv::RecordingEnv(Env* target, std::string root, int64_t fixed_realtime_ns)
    : EnvWrapper(target), root_(std::move(root)), fixed_realtime_ns_(fixed_realtime_ns) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string RecordingEnv::Relative(const std::string& path) const {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == root_) return ".";
  if (p.size() <= root_.size() || p.compare(0, root_.size(), root_) != 0 || p[root_.size()] != '/') return "";
  return p.substr(root_.size() + 1);
}

void RecordingEnv::Add(IoEvent e) {
  std::lock_guard<std::mutex> l(mu_);
  log_.push_back(std::move(e));
}

void RecordingEnv::Mark(Marker m, uint64_t id) {
  IoEvent e;
  e.kind = IoKind::kMarker;
  e.marker = m;
  e.id = id;
  Add(std::move(e));
}

std::vector<IoEvent> RecordingEnv::TakeLog() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<IoEvent> out;
  out.swap(log_);
  return out;
}

size_t RecordingEnv::log_size() const {
  std::lock_guard<std::mutex> l(mu_);
  return log_.size();
}

StatusOr<std::unique_ptr<File>> RecordingEnv::OpenFile(const std::string& path, const OpenOptions& opts) {
  const std::string rel = Relative(path);
  const bool existed = target()->FileExists(path);
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> f, target()->OpenFile(path, opts));
  if (!rel.empty() && rel != ".") {
    if (!existed && opts.create) Add(Ev(IoKind::kCreate, rel, "", 0, ""));
    else if (existed && opts.truncate && !opts.read_only) Add(Ev(IoKind::kTruncate, rel, "", 0, ""));
  }
  return std::unique_ptr<File>(new RecordingFile(this, std::move(f), rel == "." ? "" : rel));
}

Status RecordingEnv::SyncDir(const std::string& path) {
  BATON_RETURN_IF_ERROR(target()->SyncDir(path));
  std::string rel = Relative(path);
  if (!rel.empty()) Add(Ev(IoKind::kDirSync, rel == "." ? "" : rel, "", 0, ""));
  return Status::Ok();
}

Status RecordingEnv::Rename(const std::string& from, const std::string& to) {
  BATON_RETURN_IF_ERROR(target()->Rename(from, to));
  std::string a = Relative(from), b = Relative(to);
  if (!a.empty() && !b.empty()) Add(Ev(IoKind::kRename, a, b, 0, ""));
  return Status::Ok();
}

Status RecordingEnv::RemoveFile(const std::string& path) {
  BATON_RETURN_IF_ERROR(target()->RemoveFile(path));
  std::string rel = Relative(path);
  if (!rel.empty()) Add(Ev(IoKind::kRemove, rel, "", 0, ""));
  return Status::Ok();
}

// ---- CrashPoint ---------------------------------------------------------

CrashPoint::CrashPoint(const FileImage& base, const std::vector<IoEvent>& events, size_t crash_at) {
  uint64_t next_id = 1;
  State cur;
  for (const auto& [path, bytes] : base) {
    cur.names[path] = next_id;
    cur.bytes[next_id] = bytes;
    next_id++;
  }
  durable_ = cur;
  auto id_of = [&](const std::string& p) -> uint64_t {
    auto it = cur.names.find(p);
    if (it != cur.names.end()) return it->second;
    // Written through a handle whose name is gone: give it an id of its own.
    cur.names[p] = next_id;
    durable_.bytes[next_id] = "";
    return next_id++;
  };
  for (size_t i = 0; i < crash_at && i < events.size(); i++) {
    const IoEvent& e = events[i];
    Pending p;
    p.ev = e;
    switch (e.kind) {
      case IoKind::kMarker: continue;
      case IoKind::kCreate:
        p.file = next_id++;
        p.metadata = true;
        durable_.bytes[p.file] = "";
        ApplyName(cur, p);
        pending_.push_back(std::move(p));
        break;
      case IoKind::kWrite:
      case IoKind::kTruncate:
        p.file = id_of(e.path);
        ApplyData(cur, p);
        pending_.push_back(std::move(p));
        break;
      case IoKind::kRemove:
      case IoKind::kRename: {
        auto it = cur.names.find(e.path);
        if (it == cur.names.end()) continue;
        p.file = it->second;
        if (e.kind == IoKind::kRename) {
          auto t = cur.names.find(e.path2);
          p.file2 = t == cur.names.end() ? 0 : t->second;
        }
        p.metadata = true;
        ApplyName(cur, p);
        pending_.push_back(std::move(p));
        break;
      }
      case IoKind::kFileSync: {
        uint64_t id = id_of(e.path);
        durable_.bytes[id] = cur.bytes[id];
        for (Pending& q : pending_) q.fsynced_after |= q.metadata;
        std::erase_if(pending_, [&](const Pending& q) { return !q.metadata && q.file == id; });
        break;
      }
      case IoKind::kDirSync: {
        // Every namespace change up to the last one touching this directory
        // becomes durable (a rename counts for both its directories).
        size_t last = SIZE_MAX;
        for (size_t j = 0; j < pending_.size(); j++) {
          if (pending_[j].metadata && DirsOf(pending_[j].ev).count(e.path) != 0) last = j;
        }
        if (last == SIZE_MAX) break;
        std::vector<Pending> keep;
        for (size_t j = 0; j < pending_.size(); j++) {
          if (pending_[j].metadata && j <= last) ApplyName(durable_, pending_[j]);
          else keep.push_back(std::move(pending_[j]));
        }
        pending_.swap(keep);
        break;
      }
    }
  }
}

void CrashPoint::ApplyData(State& s, const Pending& p) {
  std::string& f = s.bytes[p.file];
  if (p.ev.kind == IoKind::kTruncate) f.resize(p.ev.offset, '\0');
  else WriteAt(f, p.ev.offset, p.ev.data);
}

void CrashPoint::ApplyName(State& s, const Pending& p) {
  switch (p.ev.kind) {
    case IoKind::kCreate: s.names[p.ev.path] = p.file; break;
    case IoKind::kRemove: {
      auto it = s.names.find(p.ev.path);
      if (it != s.names.end() && it->second == p.file) s.names.erase(it);
      break;
    }
    case IoKind::kRename: {
      auto it = s.names.find(p.ev.path);
      if (it == s.names.end() || it->second != p.file) break;  // its source never persisted
      s.names.erase(it);
      s.names[p.ev.path2] = p.file;
      break;
    }
    default: break;
  }
}

// sector_fate per 512-byte sector the write touches: 0 written, 1 old bytes
// kept, 2 zeros, 3 garbage.
void CrashPoint::ApplyTorn(State& s, const Pending& p, const std::vector<int>& sector_fate, std::mt19937_64& rng) {
  std::string& f = s.bytes[p.file];
  const uint64_t begin = p.ev.offset, end = p.ev.offset + p.ev.data.size();
  const std::string old = f;
  WriteAt(f, begin, p.ev.data);
  size_t i = 0;
  for (uint64_t sec = begin / kSector * kSector; sec < end; sec += kSector, i++) {
    int fate = i < sector_fate.size() ? sector_fate[i] : 0;
    if (fate == 0) continue;
    for (uint64_t b = std::max(sec, begin); b < std::min(sec + kSector, end); b++) {
      char c = 0;
      if (fate == 1) c = b < old.size() ? old[b] : '\0';
      else if (fate == 3) c = static_cast<char>(rng());
      f[b] = c;
    }
  }
}

FileImage CrashPoint::ToImage(const State& s) const {
  FileImage img;
  for (const auto& [path, id] : s.names) {
    auto it = s.bytes.find(id);
    img[path] = it == s.bytes.end() ? std::string() : it->second;
  }
  return img;
}

std::vector<std::string> CrashPoint::PendingDescriptions() const {
  std::vector<std::string> out;
  for (const Pending& p : pending_) out.push_back(DescribeEvent(p.ev));
  return out;
}

FileImage CrashPoint::Durable() const { return ToImage(durable_); }

FileImage CrashPoint::Everything() const { return Prefix(pending_.size()); }

FileImage CrashPoint::Prefix(size_t k) const {
  State s = durable_;
  for (size_t i = 0; i < k && i < pending_.size(); i++) {
    if (pending_[i].metadata) ApplyName(s, pending_[i]);
    else ApplyData(s, pending_[i]);
  }
  return ToImage(s);
}

FileImage CrashPoint::Sample(CrashModel m, std::mt19937_64& rng) const {
  if (m == CrashModel::kPrefix) return Prefix(rng() % (pending_.size() + 1));
  State s = durable_;
  auto sectors_of = [](const Pending& p) {
    uint64_t b = p.ev.offset / kSector, e = (p.ev.offset + p.ev.data.size() + kSector - 1) / kSector;
    return static_cast<size_t>(std::max<uint64_t>(e - b, 1));
  };
  if (m == CrashModel::kRealistic) {
    // Namespace changes: a global in-order prefix, at least every one a
    // later fsync of any file committed.
    std::vector<size_t> meta;
    size_t forced = 0;
    for (size_t i = 0; i < pending_.size(); i++) {
      if (!pending_[i].metadata) continue;
      meta.push_back(i);
      if (pending_[i].fsynced_after) forced = meta.size();
    }
    size_t keep_meta = forced + rng() % (meta.size() - forced + 1);
    // Per file: an in-order prefix of its writes, the last kept one maybe torn.
    std::map<uint64_t, std::vector<size_t>> per_file;
    for (size_t i = 0; i < pending_.size(); i++) {
      if (!pending_[i].metadata) per_file[pending_[i].file].push_back(i);
    }
    std::map<size_t, int> fate;  // pending index -> 0 lost, 1 kept, 2 kept torn
    for (auto& [file, idx] : per_file) {
      size_t k = rng() % (idx.size() + 1);
      for (size_t j = 0; j < k; j++) fate[idx[j]] = 1;
      if (k > 0 && pending_[idx[k - 1]].ev.kind == IoKind::kWrite && rng() % 2 == 0) fate[idx[k - 1]] = 2;
    }
    for (size_t i = 0; i < pending_.size(); i++) {
      const Pending& p = pending_[i];
      if (p.metadata) {
        size_t pos = std::find(meta.begin(), meta.end(), i) - meta.begin();
        if (pos < keep_meta) ApplyName(s, p);
        continue;
      }
      int f = fate.count(i) ? fate[i] : 0;
      if (f == 1) {
        ApplyData(s, p);
      } else if (f == 2) {
        // The first n sectors reached the disk, the rest read as zeros (or
        // keep their old bytes where the file already had bytes).
        size_t n = sectors_of(p), kept = rng() % n;
        std::vector<int> sf(n, 0);
        for (size_t j = kept; j < n; j++) sf[j] = 1;
        ApplyTorn(s, p, sf, rng);
        if (rng() % 2 == 0) {  // the size update did not make it either
          // The file ends where the kept sectors end, but never shorter than
          // it was durably (only the part this write extended is cut).
          auto it = durable_.bytes.find(p.file);
          const uint64_t before = it == durable_.bytes.end() ? 0 : it->second.size();
          const uint64_t cut = std::max({p.ev.offset, (p.ev.offset / kSector + kept) * kSector, before});
          std::string& bytes = s.bytes[p.file];
          if (bytes.size() > cut) bytes.resize(cut);
        }
      }
    }
    return ToImage(s);
  }
  // Adversarial: any subset, any order, any sectors.
  std::vector<size_t> kept;
  for (size_t i = 0; i < pending_.size(); i++) {
    if (rng() % 2 == 0) kept.push_back(i);
  }
  // Namespace changes keep their order among themselves (a later rename of
  // a file whose creation was lost simply finds no source); data writes are
  // shuffled.
  std::vector<size_t> data;
  for (size_t i : kept) {
    if (pending_[i].metadata) ApplyName(s, pending_[i]);
    else data.push_back(i);
  }
  std::shuffle(data.begin(), data.end(), rng);
  for (size_t i : data) {
    const Pending& p = pending_[i];
    if (p.ev.kind == IoKind::kWrite && rng() % 3 == 0) {
      std::vector<int> sf(sectors_of(p));
      for (int& f : sf) f = static_cast<int>(rng() % 4);
      ApplyTorn(s, p, sf, rng);
    } else {
      ApplyData(s, p);
    }
  }
  return ToImage(s);
}

}  // namespace baton::torture
