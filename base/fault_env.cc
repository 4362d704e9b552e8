#include "base/fault_env.h"

#include <algorithm>
#include <cassert>
#include <random>

namespace baton {

namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  std::string d = path.substr(0, slash);
  return d.empty() ? "/" : d;
}

std::string StripSlashes(std::string d) {
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

class FaultFile final : public File {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> target) : env_(env), target_(std::move(target)) {}

  Status Append(std::string_view data) override {
    BATON_ASSIGN_OR_RETURN(uint64_t size, target_->Size());
    return PWrite(size, data);
  }
  Status PWrite(uint64_t offset, std::string_view data) override {
    BATON_RETURN_IF_ERROR(env_->BeforeWrite(target_.get(), offset, data.size(), false));
    return target_->PWrite(offset, data);
  }
  Status PRead(uint64_t offset, size_t n, std::string* out) const override { return target_->PRead(offset, n, out); }
  StatusOr<size_t> PReadInto(uint64_t offset, size_t n, char* buf) const override {
    return target_->PReadInto(offset, n, buf);
  }
  Status Sync() override {
    BATON_RETURN_IF_ERROR(env_->BeforeSync());
    BATON_RETURN_IF_ERROR(target_->Sync());
    env_->AfterFileSync(target_->path());
    return Status::Ok();
  }
  Status DataSync() override {
    BATON_RETURN_IF_ERROR(env_->BeforeSync());
    BATON_RETURN_IF_ERROR(target_->DataSync());
    env_->AfterFileSync(target_->path());
    return Status::Ok();
  }
  Status Truncate(uint64_t size_bytes) override {
    BATON_RETURN_IF_ERROR(env_->BeforeWrite(target_.get(), size_bytes, 0, true));
    return target_->Truncate(size_bytes);
  }
  StatusOr<uint64_t> Size() const override { return target_->Size(); }
  Status Close() override { return target_->Close(); }
  const std::string& path() const override { return target_->path(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<File> target_;
};

}  // namespace

StatusOr<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(const std::string& path, const OpenOptions& opts) {
  bool existed = target()->FileExists(path);
  if (existed && opts.truncate && !opts.read_only) {
    BATON_ASSIGN_OR_RETURN(std::string old, ReadWholeFile(target(), path));
    std::lock_guard<std::mutex> l(mu_);
    unsynced_.push_back(Undo{path, 0, 0, old, old.size()});
  }
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> file, target()->OpenFile(path, opts));
  if (opts.create && !existed) {
    std::lock_guard<std::mutex> l(mu_);
    created_unsynced_.insert(path);
  }
  return std::unique_ptr<File>(new FaultFile(this, std::move(file)));
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  BATON_RETURN_IF_ERROR(BeforeSync());
  BATON_RETURN_IF_ERROR(target()->SyncDir(path));
  std::string dir = StripSlashes(path);
  std::lock_guard<std::mutex> l(mu_);
  std::erase_if(created_unsynced_, [&](const std::string& p) { return DirOf(p) == dir; });
  std::erase_if(renamed_, [&](const auto& kv) { return DirOf(kv.first) == dir; });
  return Status::Ok();
}

Status FaultInjectionEnv::Rename(const std::string& from, const std::string& to) {
  bool to_existed = target()->FileExists(to);
  BATON_RETURN_IF_ERROR(target()->Rename(from, to));
  std::lock_guard<std::mutex> l(mu_);
  if (!to_existed) renamed_[to] = from;
  for (Undo& u : unsynced_) {
    if (u.path == from) u.path = to;
  }
  if (created_unsynced_.erase(from) > 0) created_unsynced_.insert(to);
  return Status::Ok();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  BATON_RETURN_IF_ERROR(target()->RemoveFile(path));
  std::lock_guard<std::mutex> l(mu_);
  std::erase_if(unsynced_, [&](const Undo& u) { return u.path == path; });
  created_unsynced_.erase(path);
  renamed_.erase(path);
  return Status::Ok();
}

Status FaultInjectionEnv::BeforeWrite(File* file, uint64_t offset, uint64_t length, bool truncate) {
  std::lock_guard<std::mutex> l(mu_);
  if (!write_error_.ok()) {
    Status st = write_error_;
    write_error_ = Status::Ok();
    return st;
  }
  BATON_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  Undo u{file->path(), offset, truncate ? 0 : length, "", size};
  uint64_t old_end = truncate ? size : std::min(size, offset + length);
  if (old_end > offset) BATON_RETURN_IF_ERROR(file->PRead(offset, old_end - offset, &u.old_bytes));
  unsynced_.push_back(std::move(u));
  return Status::Ok();
}

Status FaultInjectionEnv::BeforeSync() {
  std::lock_guard<std::mutex> l(mu_);
  if (sync_error_.ok()) return Status::Ok();
  Status st = sync_error_;
  sync_error_ = Status::Ok();
  return st;
}

void FaultInjectionEnv::AfterFileSync(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::erase_if(unsynced_, [&](const Undo& u) { return u.path == path; });
  data_sync_calls_++;
}

void FaultInjectionEnv::FailNextWrite(Status error) {
  assert(!error.ok());
  std::lock_guard<std::mutex> l(mu_);
  write_error_ = std::move(error);
}

void FaultInjectionEnv::FailNextSync(Status error) {
  assert(!error.ok());
  std::lock_guard<std::mutex> l(mu_);
  sync_error_ = std::move(error);
}

uint64_t FaultInjectionEnv::data_sync_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return data_sync_calls_;
}

size_t FaultInjectionEnv::unsynced_write_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return unsynced_.size();
}

void FaultInjectionEnv::ResetState() {
  std::lock_guard<std::mutex> l(mu_);
  unsynced_.clear();
  created_unsynced_.clear();
  renamed_.clear();
}

Status FaultInjectionEnv::UndoOne(const Undo& u) {
  if (!target()->FileExists(u.path)) return Status::Ok();
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> file, target()->OpenFile(u.path, {}));
  if (!u.old_bytes.empty()) BATON_RETURN_IF_ERROR(file->PWrite(u.offset, u.old_bytes));
  BATON_RETURN_IF_ERROR(file->Truncate(u.size_before));
  return file->Close();
}

Status FaultInjectionEnv::TearOne(const Undo& u, bool garbage, uint64_t seed) {
  if (u.length == 0 || !target()->FileExists(u.path)) return Status::Ok();
  std::mt19937_64 rng(seed);
  uint64_t lo = u.offset, hi = u.offset + u.length;
  uint64_t boundaries = (hi - 1) / 512 - lo / 512;  // multiples of 512 in (lo, hi)
  uint64_t k = rng() % (boundaries + 1);
  uint64_t cut = k == 0 ? lo : (lo / 512 + k) * 512;
  assert(cut >= lo && cut < hi);
  std::string lost(hi - cut, '\0');
  if (garbage) {
    for (char& c : lost) c = static_cast<char>(rng());
  }
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<File> file, target()->OpenFile(u.path, {}));
  BATON_RETURN_IF_ERROR(file->PWrite(cut, lost));
  return file->Close();
}

Status FaultInjectionEnv::DropUnsyncedFiles() {
  for (const auto& [to, from] : renamed_) {
    if (!target()->FileExists(to)) continue;
    BATON_RETURN_IF_ERROR(target()->Rename(to, from));
    if (created_unsynced_.erase(to) > 0) created_unsynced_.insert(from);
  }
  for (const std::string& path : created_unsynced_) {
    if (target()->FileExists(path)) BATON_RETURN_IF_ERROR(target()->RemoveFile(path));
  }
  return Status::Ok();
}

Status FaultInjectionEnv::SimulateCrash(CrashMode mode, uint64_t seed) {
  std::lock_guard<std::mutex> l(mu_);
  std::mt19937_64 rng(seed);
  size_t n = unsynced_.size();
  bool tear = mode == CrashMode::kTearLastZeros || mode == CrashMode::kTearLastGarbage;
  size_t keep = 0;
  if (mode == CrashMode::kKeepPrefix) keep = rng() % (n + 1);
  if (tear && n > 0) keep = 1 + rng() % n;
  for (size_t i = n; i > keep; i--) BATON_RETURN_IF_ERROR(UndoOne(unsynced_[i - 1]));
  if (tear && keep > 0) {
    BATON_RETURN_IF_ERROR(TearOne(unsynced_[keep - 1], mode == CrashMode::kTearLastGarbage, rng()));
  }
  if (mode == CrashMode::kRemoveUnsyncedFiles) BATON_RETURN_IF_ERROR(DropUnsyncedFiles());
  unsynced_.clear();
  created_unsynced_.clear();
  renamed_.clear();
  return Status::Ok();
}

}  // namespace baton
