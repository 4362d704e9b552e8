#include "torture/mem_env.h"

#include <cerrno>
#include <chrono>

namespace baton::torture {

namespace {

std::string ParentOf(const std::string& p) {
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : p.substr(0, slash);
}

class MemFile final : public File {
 public:
  MemFile(std::shared_ptr<MemEnv::Node> node, std::string path, bool read_only)
      : node_(std::move(node)), path_(std::move(path)), read_only_(read_only) {}

  Status Append(std::string_view data) override {
    if (read_only_) return Status::IOError(path_ + ": opened read-only", EBADF);
    std::lock_guard<std::mutex> l(node_->mu);
    node_->bytes.append(data);
    return Status::Ok();
  }
  Status PWrite(uint64_t offset, std::string_view data) override {
    if (read_only_) return Status::IOError(path_ + ": opened read-only", EBADF);
    std::lock_guard<std::mutex> l(node_->mu);
    std::string& b = node_->bytes;
    if (b.size() < offset + data.size()) b.resize(offset + data.size(), '\0');
    b.replace(offset, data.size(), data);
    return Status::Ok();
  }
  Status PRead(uint64_t offset, size_t n, std::string* out) const override {
    std::lock_guard<std::mutex> l(node_->mu);
    const std::string& b = node_->bytes;
    out->assign(offset >= b.size() ? std::string() : b.substr(offset, n));
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status DataSync() override { return Status::Ok(); }
  Status Truncate(uint64_t size_bytes) override {
    if (read_only_) return Status::IOError(path_ + ": opened read-only", EBADF);
    std::lock_guard<std::mutex> l(node_->mu);
    node_->bytes.resize(size_bytes, '\0');
    return Status::Ok();
  }
  StatusOr<uint64_t> Size() const override {
    std::lock_guard<std::mutex> l(node_->mu);
    return static_cast<uint64_t>(node_->bytes.size());
  }
  Status Close() override { return Status::Ok(); }
  const std::string& path() const override { return path_; }

 private:
  std::shared_ptr<MemEnv::Node> node_;
  std::string path_;
  bool read_only_;
};

}  // namespace

MemEnv::MemEnv(const FileImage& img, std::string root, int64_t fixed_realtime_ns)
    : root_(std::move(root)), fixed_realtime_ns_(fixed_realtime_ns) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  for (std::string d = root_; !d.empty(); d = ParentOf(d)) {
    dirs_.insert(d);
    if (d == "/") break;
  }
  for (const auto& [rel, bytes] : img) {
    const std::string p = root_ + "/" + rel;
    auto n = std::make_shared<Node>();
    n->bytes = bytes;
    files_[p] = n;
    for (std::string d = ParentOf(p); d.size() > root_.size(); d = ParentOf(d)) dirs_.insert(d);
  }
}

std::string MemEnv::Norm(const std::string& p) const {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

StatusOr<std::unique_ptr<File>> MemEnv::OpenFile(const std::string& path, const OpenOptions& opts) {
  const std::string p = Norm(path);
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(p);
  if (it == files_.end()) {
    if (!opts.create) return Status::NotFound("cannot open " + p + ": No such file or directory");
    if (dirs_.count(ParentOf(p)) == 0) return Status::NotFound("cannot create " + p + ": No such file or directory");
    it = files_.emplace(p, std::make_shared<Node>()).first;
  } else if (opts.create && opts.exclusive) {
    return Status::IOError("cannot create " + p + ": File exists", EEXIST);
  } else if (opts.truncate && !opts.read_only) {
    std::lock_guard<std::mutex> nl(it->second->mu);
    it->second->bytes.clear();
  }
  return std::unique_ptr<File>(new MemFile(it->second, p, opts.read_only));
}

Status MemEnv::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  if (dirs_.count(Norm(path)) == 0) return Status::NotFound("cannot sync directory " + path);
  return Status::Ok();
}

Status MemEnv::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(Norm(from));
  if (it == files_.end()) return Status::NotFound("cannot rename " + from + ": No such file or directory");
  auto node = it->second;
  files_.erase(it);
  files_[Norm(to)] = node;
  return Status::Ok();
}

Status MemEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  if (files_.erase(Norm(path)) == 0) return Status::NotFound("cannot remove " + path + ": No such file or directory");
  return Status::Ok();
}

Status MemEnv::CreateDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  dirs_.insert(Norm(path));
  return Status::Ok();
}

Status MemEnv::RemoveDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  dirs_.erase(Norm(path));
  return Status::Ok();
}

StatusOr<std::vector<std::string>> MemEnv::ListDir(const std::string& path) {
  const std::string d = Norm(path);
  std::lock_guard<std::mutex> l(mu_);
  if (dirs_.count(d) == 0) return Status::NotFound("cannot list " + d + ": No such file or directory");
  std::set<std::string> names;
  const std::string prefix = d + "/";
  for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    std::string rest = it->first.substr(prefix.size());
    names.insert(rest.substr(0, rest.find('/')));
  }
  for (auto it = dirs_.lower_bound(prefix); it != dirs_.end() && it->compare(0, prefix.size(), prefix) == 0; ++it) {
    std::string rest = it->substr(prefix.size());
    names.insert(rest.substr(0, rest.find('/')));
  }
  return std::vector<std::string>(names.begin(), names.end());
}

bool MemEnv::FileExists(const std::string& path) {
  const std::string p = Norm(path);
  std::lock_guard<std::mutex> l(mu_);
  return files_.count(p) != 0 || dirs_.count(p) != 0;
}

StatusOr<uint64_t> MemEnv::FileSize(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(Norm(path));
  if (it == files_.end()) return Status::NotFound("cannot stat " + path + ": No such file or directory");
  std::lock_guard<std::mutex> nl(it->second->mu);
  return static_cast<uint64_t>(it->second->bytes.size());
}

uint64_t MemEnv::NowMonotonicNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

FileImage MemEnv::Image() const {
  std::lock_guard<std::mutex> l(mu_);
  FileImage img;
  const std::string prefix = root_ + "/";
  for (const auto& [p, node] : files_) {
    if (p.compare(0, prefix.size(), prefix) != 0) continue;
    std::lock_guard<std::mutex> nl(node->mu);
    img[p.substr(prefix.size())] = node->bytes;
  }
  return img;
}

}  // namespace baton::torture
