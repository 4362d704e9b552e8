// FaultInjectionEnv: an EnvWrapper that remembers what is not yet durable
// and can reconstruct, on the real files, a state a power loss could leave
// (leveldb fault_injection_test, RocksDB FaultInjectionTestFS).
//
// What it tracks:
//   - every write and truncate since the file's last Sync/DataSync, in the
//     global order they happened, with the bytes each one overwrote and the
//     file size before it (so it can be undone exactly);
//   - files created since the last SyncDir of their directory, and renames
//     not yet made durable by a SyncDir of the target's directory.
// SimulateCrash rewrites the real files into one possible post-crash state.
// Close every file and object using this Env before calling it.
//
// Limits: a removal (RemoveFile) is treated as durable at once; a rename
// over an existing file is not undone (its old content is not kept).
//
// It also injects errors: the next write or sync can be made to fail, to
// test fail-stop paths.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"

namespace baton {

enum class CrashMode {
  kDropUnsynced,         // every unsynced write is lost
  kKeepPrefix,           // a random in-order prefix of the unsynced writes survives
  kTearLastZeros,        // a random prefix survives, its last write torn at a 512-byte
                         //   boundary; the lost part reads as zeros
  kTearLastGarbage,      // same, the lost part reads as random bytes
  kRemoveUnsyncedFiles,  // kDropUnsynced, and files created (or renamed) since the
                         //   last SyncDir of their directory disappear (or move back)
};

class FaultInjectionEnv : public EnvWrapper {
 public:
  explicit FaultInjectionEnv(Env* target) : EnvWrapper(target) {}

  StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, const OpenOptions& opts) override;
  Status SyncDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;

  // Rewrites the real files into a state a crash could leave. The seed picks
  // the prefix and the tear point; the same seed gives the same state.
  Status SimulateCrash(CrashMode mode, uint64_t seed);
  // Forgets all tracking (everything counts as durable from now on).
  void ResetState();

  // The next write (Append/PWrite/Truncate) or the next sync (Sync/DataSync/
  // SyncDir) fails with `error` without touching the file. One-shot.
  void FailNextWrite(Status error);
  void FailNextSync(Status error);

  uint64_t data_sync_calls() const;  // Sync + DataSync calls that succeeded
  size_t unsynced_write_count() const;

  // Used by the file wrapper.
  Status BeforeWrite(File* target, uint64_t offset, uint64_t length, bool truncate);
  Status BeforeSync();
  void AfterFileSync(const std::string& path);

 private:
  struct Undo {
    std::string path;
    uint64_t offset = 0;      // where the write started (or the new size, for truncate)
    uint64_t length = 0;      // bytes written (0 for truncate)
    std::string old_bytes;    // what [offset, offset + old_bytes.size()) held before
    uint64_t size_before = 0;
  };
  Status UndoOne(const Undo& u);
  Status TearOne(const Undo& u, bool garbage, uint64_t seed);
  Status DropUnsyncedFiles();

  mutable std::mutex mu_;
  std::vector<Undo> unsynced_;                   // GUARDED_BY(mu_), global write order
  std::set<std::string> created_unsynced_;       // GUARDED_BY(mu_)
  std::map<std::string, std::string> renamed_;   // GUARDED_BY(mu_): to -> from
  Status write_error_;                           // GUARDED_BY(mu_)
  Status sync_error_;                            // GUARDED_BY(mu_)
  uint64_t data_sync_calls_ = 0;                 // GUARDED_BY(mu_)
};

}  // namespace baton
