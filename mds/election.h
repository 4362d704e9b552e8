// Election of the active MDS on a shared volume, and the active's lease.
//
// Files (docs/FORMAT.md, "Volume directory"):
//   VOLUME/lock           the active's lock: an open-file-description lock
//                         (F_OFD_SETLK) held by the active for as long as it
//                         lives; its text names the holder ("name=... ").
//   VOLUME/takeover.lock  serialises takeover decisions between standbys.
//   VOLUME/mds/NAME/info  each MDS's heartbeat and state (mds/mds_info.h).
//
// A standby polls (Election::Poll, every 10 ms) under takeover.lock:
//   * VOLUME/lock is free: the active died (the kernel drops an OFD lock the
//     instant its process dies) or there was none: this MDS wins.
//   * It is held, but the holder's heartbeat has not moved for lease_ms as
//     this standby observed it: the holder hangs (SIGSTOP, a stuck disk, ...).
//     The standby makes a new lock file, locks it and renames it over
//     VOLUME/lock, and wins. The hung process keeps a lock on a file that is
//     no longer the volume's lock.
// The winner then raises the epoch in the superblock (crash-safely) before it
// does anything else (mds/mds.cc).
//
// The Lease is the winner's side. Its heartbeat thread, every
// HeartbeatInterval(lease_ms): checks the fence (the superblock's epoch is
// still ours and VOLUME/lock is still our file; if not this MDS was deposed
// and the process exits with status 3 at once), publishes the MDS's info,
// and then renews the lease by this process's own clock. Fresh() holds while
// the last renewal started less than lease_ms/2 ago: a takeover needs the
// heartbeat to stand still for a whole lease_ms, so a deposed MDS's lease
// lapses (by at least lease_ms/2 of margin) before anyone can take over.
// The fencing argument in full: docs/ARCHITECTURE.md "Fencing".
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/env.h"
#include "base/status.h"
#include "mds/mds_info.h"
#include "volume/superblock.h"

namespace baton::mds {

inline constexpr int kDeposedExitCode = 3;

struct ElectionOptions {
  std::string volume_path;
  std::string name;     // this MDS's name (VOLUME/mds/NAME)
  std::string address;  // written into the lock text
  std::string volume_id;  // the volume's UUID text: info files of another volume are ignored
  uint32_t lease_ms = 2000;
};

uint32_t HeartbeatIntervalMs(uint32_t lease_ms);

class Lease {
 public:
  Lease(Env* env, ElectionOptions options, int lock_fd);
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // The epoch this MDS raised the superblock to; 0 until set.
  void set_epoch(uint64_t epoch);
  uint64_t epoch() const { return epoch_.load(); }
  // Records "name=... address=... pid=... epoch=..." in VOLUME/lock; false
  // if it could not.
  bool WriteHolderText();

  // Starts the heartbeat thread; snapshot() gives the info to publish.
  void StartHeartbeat(std::function<MdsInfo()> snapshot);
  void StopHeartbeat();

  bool Fresh() const;
  // Blocks until Fresh() (the heartbeat renews it, or exits the process when
  // the fence check fails). For the reply path and the journal append.
  void WaitFresh() const;
  // Reads the superblock and the lock file now; exits the process with
  // kDeposedExitCode if another MDS took over. True when the volume is
  // verifiably still ours, false when it cannot tell (the superblock is
  // unreadable): then nothing may be applied or answered, and the lease is
  // not renewed.
  bool CheckFence();
  // CheckFence until it can tell, for at most lease_ms; then fail-stop
  // (exit 1). Called after every journal fsync, before anything of that
  // batch is applied or answered.
  void ConfirmFence();

 private:
  void Beat();
  [[noreturn]] void Deposed(const std::string& why);

  Env* env_;
  ElectionOptions options_;
  int lock_fd_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> renewed_ns_{0};  // monotonic start of the last successful fence check
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::function<MdsInfo()> snapshot_;
  std::unique_ptr<MdsInfoWriter> info_;
  std::thread thread_;
};

class Election {
 public:
  explicit Election(Env* env, ElectionOptions options);
  ~Election();
  // One attempt. Returns the lease when this MDS won, nullptr when another
  // MDS is active (or deciding), an error for a problem with the lock files.
  StatusOr<std::unique_ptr<Lease>> Poll();
  // The current holder's name as its lock text says ("" if unknown).
  std::string HolderName() const;
  // The lock text, for messages ("another process" if empty).
  std::string DescribeHolder() const;

 private:
  StatusOr<std::unique_ptr<Lease>> PollLocked();
  StatusOr<std::unique_ptr<Lease>> Replace(const std::string& holder, uint64_t silent_ms);

  Env* env_;
  ElectionOptions options_;
  int takeover_fd_ = -1;
  // What this standby observed of the holder: its lock file and heartbeat,
  // and when the heartbeat last moved (monotonic).
  uint64_t seen_ino_ = 0;
  std::string seen_holder_;
  uint64_t seen_heartbeat_ = 0;
  bool seen_any_ = false;
  uint64_t seen_change_ns_ = 0;
};

// Takes VOLUME/mds/NAME/name.lock, an OFD lock held for the life of the
// process (returns its fd): two MDSs with one name would share one store and
// one info file. kBusy, naming the holder, if another process has it.
StatusOr<int> LockMdsName(const std::string& volume_path, const std::string& name, const std::string& address);

// Takes VOLUME/takeover.lock without waiting (returns its fd; -1 when another
// process holds it): fsck --repair holds it so no standby decides a takeover.
StatusOr<int> TryLockTakeover(const std::string& volume_path);

// The epoch a new writer of the volume takes: one above both the superblock's
// (`fresh`, just re-read) and the journal's newest segment header's. With the
// newest superblock copy damaged the superblock reads the older copy, whose
// epoch may be the last writer's minus one: taking the last writer's own
// epoch again would not fence it.
StatusOr<uint64_t> NextWriterEpoch(Env* env, const std::string& journal_dir, const volume::Superblock& fresh);

// Parses "name=NAME" out of a lock text ("" if absent).
std::string HolderNameFromText(const std::string& text);

}  // namespace baton::mds
