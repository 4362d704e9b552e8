// MemEnv: an Env whose files live in memory. The torture harness recovers
// tens of thousands of crash states of the journal and the superblock; doing
// it in memory spares the file-system syscalls (they were most of the time).
// LMDB, which does its own I/O, still uses real files. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/env.h"
#include "torture/crash_recorder.h"

namespace baton::torture {

class MemEnv : public Env {
 public:
  // Files of img placed under root (which, with every parent directory of a
  // file, exists). The wall clock is fixed.
  MemEnv(const FileImage& img, std::string root, int64_t fixed_realtime_ns);

  StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, const OpenOptions& opts) override;
  Status SyncDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  StatusOr<uint64_t> FileSize(const std::string& path) override;
  int64_t NowRealtimeNanos() override { return fixed_realtime_ns_; }
  uint64_t NowMonotonicNanos() override;

  // The files under root, as an image (relative paths).
  FileImage Image() const;

  struct Node {
    std::mutex mu;
    std::string bytes;
  };

 private:
  std::string Norm(const std::string& p) const;
  std::string root_;
  int64_t fixed_realtime_ns_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> files_;  // absolute path -> contents
  std::set<std::string> dirs_;
};

}  // namespace baton::torture
