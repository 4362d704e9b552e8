// The crash-consistency torture harness (issue 5; docs/TESTING.md).
//
// For one workload it:
//   1. runs the real MDS write path in process (journal::Journal, the
//      mds::Sequencer group commit, fs::ApplyBatch into an LMDB store) on a
//      copy of a small template volume, through a RecordingEnv that logs
//      every write, sync, directory sync, creation, rename and removal, with
//      markers for each request submitted and each reply issued (on the
//      sequencer thread, at the moment it is issued), each LMDB commit (the
//      store is snapshotted there, and its digest and namespace view kept as
//      the golden state of that LSN) and each checkpoint's store sync;
//   2. at every position of that log (every I/O boundary: journal commits,
//      segment creation and trim, superblock updates, checkpoints), builds
//      the crash states the models allow: the prefix model exhaustively, the
//      realistic and adversarial models by seeded samples; LMDB's state is
//      the snapshot of the last or the one-before-last commit (only the last
//      after a store sync);
//   3. recovers each state the way a taking-over MDS does (raise the epoch,
//      open the journal, replay into the store) and checks the oracle:
//      recovery succeeds; fsck's namespace check finds nothing; the store
//      equals, byte for byte (a digest of every LMDB entry), the golden state
//      of some LSN at or after the last acknowledged record (a prefix of the
//      journal that holds every acknowledged operation); the request that
//      was in flight, re-sent with its session and request id, gets the
//      answer the live run got and leaves the namespace the live run had
//      (applied exactly once); and recovering the same state again gives the
//      same store;
//   4. crashes recovery itself: for sampled states it records the recovery
//      and checks crash states inside it, recursively (levels deep);
//   5. flips a bit in a durable journal record that later records follow:
//      recovery must refuse with a corruption error, never skip it.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"
#include "torture/crash_recorder.h"
#include "torture/workload.h"

namespace baton::torture {

struct TortureOptions {
  std::string work_dir;  // scratch; default: /dev/shm if usable, else /tmp
  std::vector<CrashModel> models{CrashModel::kPrefix, CrashModel::kRealistic, CrashModel::kAdversarial};
  uint64_t seed = 1;
  // Samples per crash point and LMDB snapshot for the realistic and the
  // adversarial model (the prefix model is enumerated).
  int samples = 2;
  // Crashes inside recovery: how deep, and for one in how many level-1
  // states (0: never).
  int recovery_levels = 2;
  int recovery_crash_every = 8;
  bool corrupt_middle = true;
  // Small journal segments and frequent checkpoints, so that short
  // workloads create and trim segments.
  uint64_t segment_bytes = 2048;
  uint64_t checkpoint_records = 3;
  // The store's commit: 0 = after every batch, before its replies; N = the
  // MDS's deferred commit (mds/sequencer.h), replies first and a commit once
  // the open transaction would pass N records (never by time: runs must be
  // reproducible). The live run then reads through the sequencer.
  uint64_t store_commit_records = 0;
  bool verbose = false;
};

struct TortureStats {
  uint64_t workloads = 0;
  uint64_t crash_points = 0;
  uint64_t states = 0;           // crash states checked (recovered and judged)
  uint64_t recovery_states = 0;  // of which: states of a crash inside recovery
  uint64_t corrupt_states = 0;   // of which: a corrupted middle record
};

struct TortureFailure {
  std::vector<Step> workload;
  std::string model;
  size_t crash_at = 0;  // index into the live run's event log
  int level = 1;        // 1: crash of the live run; 2+: crash inside recovery
  std::string what;
  std::string events;   // the log around the crash point
  std::string Describe() const;
};

class Harness {
 public:
  explicit Harness(TortureOptions o);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Makes the template volume (mkfs + the setup namespace, applied, synced).
  Status Prepare();
  // Runs the workload and checks its crash states; stops at the first
  // failure. Non-ok only when the harness itself cannot run.
  Status Run(const std::vector<Step>& workload, std::vector<TortureFailure>* failures);
  // Shrinks a failing workload: the smallest sub-sequence that still fails.
  std::vector<Step> Shrink(const std::vector<Step>& workload);

  const TortureStats& stats() const { return stats_; }
  const std::string& work_dir() const { return work_; }

 private:
  struct Live;
  struct Recovered;
  Status LiveRun(const std::vector<Step>& workload, Live* live);
  Status CheckPoint(const std::vector<Step>& workload, Live& live, size_t p, std::vector<TortureFailure>* failures);
  Status CheckCorruptMiddle(const std::vector<Step>& workload, Live& live, std::vector<TortureFailure>* failures);
  // Recovers the volume files of image (in memory) with the store in
  // store_dir, as a taking-over MDS does; record: log recovery's own I/O.
  Status Recover(const FileImage& image, const std::string& store_dir, bool record, Recovered* out);
  Status CheckRecoveryCrashes(const std::vector<Step>& workload, const FileImage& image, const std::string& snapshot,
                              uint64_t expect_digest, int level, size_t live_point,
                              std::vector<TortureFailure>* failures);
  std::string NewDir(const char* what);

  TortureOptions o_;
  std::string work_;
  std::string template_dir_, template_store_;
  FileImage template_image_;  // the template volume's files (journal, superblock)
  uint64_t dir_seq_ = 0;
  std::mt19937_64 rng_;
  TortureStats stats_;
};

}  // namespace baton::torture
