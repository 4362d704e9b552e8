// Env: the one I/O seam. Every file operation of the journal, the superblock
// and the volume layout goes through it, and so does the clock, so tests can
// substitute an Env that drops, reorders and tears unsynced writes
// (base/fault_env.h). Errno is translated into Status here and nowhere else
// for file I/O; messages always name the file.
//
// LMDB does its own I/O on data.mdb/lock.mdb and does not use this seam; see
// docs/ARCHITECTURE.md ("LMDB and recovery") for how its files take part in
// crash recovery.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace baton {

// An open file. Not thread-safe unless stated; the journal serialises access.
class File {
 public:
  virtual ~File() = default;
  // Writes at the current end of file.
  virtual Status Append(std::string_view data) = 0;
  // Writes at an absolute offset.
  virtual Status PWrite(uint64_t offset, std::string_view data) = 0;
  // Reads up to n bytes at offset; fewer at end of file (not an error).
  virtual Status PRead(uint64_t offset, size_t n, std::string* out) const = 0;
  // Reads up to n bytes at offset into the caller's memory: the count read,
  // fewer at end of file. For big reads into a buffer the caller reuses (no
  // zero-filling of a std::string first). The default goes through PRead.
  virtual StatusOr<size_t> PReadInto(uint64_t offset, size_t n, char* buf) const {
    std::string tmp;
    BATON_RETURN_IF_ERROR(PRead(offset, n, &tmp));
    std::copy(tmp.begin(), tmp.end(), buf);
    return tmp.size();
  }
  virtual Status Sync() = 0;      // fsync: data and metadata
  virtual Status DataSync() = 0;  // fdatasync: data and the size
  virtual Status Truncate(uint64_t size_bytes) = 0;
  virtual StatusOr<uint64_t> Size() const = 0;
  virtual Status Close() = 0;
  virtual const std::string& path() const = 0;
};

struct OpenOptions {
  bool create = false;     // O_CREAT
  bool exclusive = false;  // O_EXCL (with create)
  bool read_only = false;  // O_RDONLY instead of O_RDWR
  bool truncate = false;   // O_TRUNC
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX Env.
  static Env* Default();

  virtual StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, const OpenOptions& opts) = 0;
  // fsync of a directory: makes creations, removals and renames in it durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Atomic replace of `to` by `from` (rename(2)); durable after SyncDir.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status CreateDir(const std::string& path) = 0;  // ok if it exists
  virtual Status RemoveDir(const std::string& path) = 0;
  // Entry names in a directory, without "." and "..", sorted.
  virtual StatusOr<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual StatusOr<uint64_t> FileSize(const std::string& path) = 0;

  // Clock. Wall time stamps inodes; monotonic time measures intervals.
  virtual int64_t NowRealtimeNanos() = 0;
  virtual uint64_t NowMonotonicNanos() = 0;
};

// Forwards every call to a target Env; override what you need.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }
  StatusOr<std::unique_ptr<File>> OpenFile(const std::string& p, const OpenOptions& o) override {
    return target_->OpenFile(p, o);
  }
  Status SyncDir(const std::string& p) override { return target_->SyncDir(p); }
  Status Rename(const std::string& f, const std::string& t) override { return target_->Rename(f, t); }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status CreateDir(const std::string& p) override { return target_->CreateDir(p); }
  Status RemoveDir(const std::string& p) override { return target_->RemoveDir(p); }
  StatusOr<std::vector<std::string>> ListDir(const std::string& p) override { return target_->ListDir(p); }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  StatusOr<uint64_t> FileSize(const std::string& p) override { return target_->FileSize(p); }
  int64_t NowRealtimeNanos() override { return target_->NowRealtimeNanos(); }
  uint64_t NowMonotonicNanos() override { return target_->NowMonotonicNanos(); }

 private:
  Env* target_;
};

// Convenience helpers built on an Env.
Status WriteFileAtomically(Env* env, const std::string& dir, const std::string& name, std::string_view data);
StatusOr<std::string> ReadWholeFile(Env* env, const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace baton
