// The power-loss simulator at the I/O seam (issue 5, item 1).
//
// RecordingEnv forwards every call to a real Env and, for paths under one
// root directory, appends what happened to an in-order log: writes (with
// their bytes), truncates, file syncs, directory syncs, creations, renames
// and removals, plus the caller's markers (an acknowledged reply, an LMDB
// commit, a store sync).
//
// BuildCrashImage replays a prefix of that log (the crash point) on top of
// the files as they were when recording began (all durable), and decides
// which of the writes and namespace changes not yet made durable survive the
// "power loss", according to one of three models:
//
//   prefix       an in-order prefix of all unsynced operations survives
//                (writes, truncates, creations, renames, removals), nothing
//                is torn: a file system that persists in issue order.
//   realistic    like ext4 (data=ordered) on a disk with 512-byte atomic
//                sectors: namespace changes persist as a global in-order
//                prefix (the jbd2 journal commits them in order, and any
//                fsync commits every earlier one); each file keeps an
//                in-order prefix of its unsynced writes, and the last kept
//                write may be torn at a sector boundary, the rest reading as
//                zeros.
//   adversarial  any subset of the unsynced writes and truncates survives,
//                in any order; each kept write may be torn at any sectors
//                (the lost sectors keep their old bytes, or read as zeros,
//                or as garbage); each unsynced creation, rename or removal
//                independently persists or not; fsync of a file makes only
//                that file's bytes durable (not its directory entry).
//
// What is durable in every model: the bytes of a file at its last
// Sync/DataSync, and the namespace changes of a directory at its last
// SyncDir (plus, in the realistic model, every namespace change before any
// fsync). LMDB's files are not in this log (LMDB does its own I/O); the
// harness models them by snapshots at commit markers (docs/TESTING.md,
// "LMDB's files").
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "base/env.h"

namespace baton::torture {

enum class CrashModel { kPrefix, kRealistic, kAdversarial };
const char* CrashModelName(CrashModel m);
bool ParseCrashModel(const std::string& s, CrashModel* out);

enum class IoKind : uint8_t {
  kCreate,    // path: a new, empty file
  kWrite,     // path, offset, data
  kTruncate,  // path, offset = new size
  kFileSync,  // path: fsync/fdatasync of the file
  kDirSync,   // path: fsync of the directory
  kRename,    // path -> path2
  kRemove,    // path
  kMarker,    // marker, id: the caller's (never I/O)
};

// Markers the harness puts into the log.
enum class Marker : uint8_t {
  kSubmit,     // id = workload step: the request left the client
  kAck,        // id = workload step: its reply was issued
  kCommit,     // id = snapshot number: an LMDB write transaction committed
  kStoreSync,  // the store was forced to disk (mdb_env_sync)
};

struct IoEvent {
  IoKind kind = IoKind::kMarker;
  std::string path;   // relative to the recorder's root
  std::string path2;  // kRename: the target
  uint64_t offset = 0;
  std::string data;
  Marker marker = Marker::kSubmit;
  uint64_t id = 0;
};

std::string DescribeEvent(const IoEvent& e);

// Files of a volume directory: relative path -> contents. Directories are
// implied by the paths.
using FileImage = std::map<std::string, std::string>;

// Reads every regular file under root (relative paths).
StatusOr<FileImage> ReadImage(const std::string& root);
// Makes root hold exactly the files of img (root is created; it must not
// exist or be empty).
Status WriteImage(const FileImage& img, const std::string& root);

class RecordingEnv : public EnvWrapper {
 public:
  // Records operations on paths under root. The wall clock is fixed at
  // fixed_realtime_ns (so re-sent requests are stamped exactly like the
  // original); the monotonic clock is the target's.
  RecordingEnv(Env* target, std::string root, int64_t fixed_realtime_ns);

  StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, const OpenOptions& opts) override;
  Status SyncDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  int64_t NowRealtimeNanos() override { return fixed_realtime_ns_; }

  void Mark(Marker m, uint64_t id);
  std::vector<IoEvent> TakeLog();
  size_t log_size() const;

  // Used by the file wrapper. rel is empty for paths outside the root.
  std::string Relative(const std::string& path) const;
  void Add(IoEvent e);

 private:
  std::string root_;
  int64_t fixed_realtime_ns_;
  mutable std::mutex mu_;
  std::vector<IoEvent> log_;
};

// The set of unsynced operations at a crash point, and the choices a model
// can make among them. Built once per crash point; Sample() draws one
// post-crash image.
class CrashPoint {
 public:
  // base: the files when recording began (durable). events: the log up to
  // the crash point (markers are ignored).
  CrashPoint(const FileImage& base, const std::vector<IoEvent>& events, size_t crash_at);

  // Number of unsynced operations (the prefix model has this + 1 states).
  size_t unsynced_count() const { return pending_.size(); }
  // The image with every unsynced operation lost / kept.
  FileImage Durable() const;
  FileImage Everything() const;
  // The prefix model's k-th state (k unsynced operations kept, in order).
  FileImage Prefix(size_t k) const;
  // The unsynced operations, in issue order (what Prefix(k) keeps the
  // first k of).
  std::vector<std::string> PendingDescriptions() const;
  // One random state of the model.
  FileImage Sample(CrashModel m, std::mt19937_64& rng) const;

 private:
  struct Pending {
    IoEvent ev;
    uint64_t file = 0;       // file id for writes and truncates
    uint64_t file2 = 0;      // kRename: the file replaced at the target (0: none)
    bool metadata = false;   // namespace change (create, rename, remove)
    bool fsynced_after = false;  // metadata: a file fsync followed (ext4 commits it)
  };
  struct State {
    std::map<std::string, uint64_t> names;  // path -> file id
    std::map<uint64_t, std::string> bytes;  // file id -> contents
  };
  static void ApplyData(State& s, const Pending& p);
  static void ApplyName(State& s, const Pending& p);
  static void ApplyTorn(State& s, const Pending& p, const std::vector<int>& sector_fate, std::mt19937_64& rng);
  FileImage ToImage(const State& s) const;

  State durable_;
  std::vector<Pending> pending_;
};

}  // namespace baton::torture
