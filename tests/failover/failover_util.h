// Helpers for the failover tests: a volume served by several MDS processes
// (one active, the rest standbys), a FUSE workload that keeps a reference
// model of every operation the application saw succeed, and views of the
// journal directory and of fsck.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proto/messages.h"
#include "tests/fuse/mount_fixture.h"
#include "tests/mds/mds_test_util.h"

namespace baton::testing::failover {

using Clock = std::chrono::steady_clock;
long MsSince(Clock::time_point t0);
void SleepMs(long ms);

// ---- MDS processes -----------------------------------------------------

// Names the MDS and sets its lease where this tree's MdsProcess has those
// fields (the standby work adds `name` and `lease_ms`).
template <class M>
void Configure(M& m, const std::string& name, uint32_t lease_ms) {
  if constexpr (requires { m.name = name; }) m.name = name;
  if constexpr (requires { m.lease_ms = lease_ms; }) m.lease_ms = lease_ms;
}

// STATUS of the MDS at addr, or nullopt when it does not answer in timeout_ms.
std::optional<proto::StatusInfo> QueryMds(const std::string& addr, int timeout_ms = 300);

// Polls until the MDS reports `role`; false on timeout or when it exited.
bool WaitRole(MdsProcess& m, proto::Role role, int timeout_ms);

// If m's process has exited, reaps it and returns its exit status (128+sig
// if signalled); -1 while it runs or when none was started. Never waits.
int ReapIfExited(MdsProcess& m);

// A fresh volume in a TempDir and n MDS processes named a, b, c, ... on free
// loopback ports. Nothing runs until Start*/Spawn.
class Cluster {
 public:
  explicit Cluster(int n, uint32_t lease_ms = 0);
  ~Cluster();

  int size() const { return static_cast<int>(mds_.size()); }
  MdsProcess& mds(int i) { return *mds_[i]; }
  const std::string& name(int i) const { return names_[i]; }
  const std::string& address(int i) const { return addrs_[i]; }
  std::string addresses() const;  // "A,B,..." for `baton mount`
  const std::string& volume() const { return volume_; }
  std::string dir() const { return dir_.path(); }

  // Starts MDS i and waits until it reports active.
  bool StartActive(int i, int timeout_ms = 20000);
  // Starts MDS i and waits until it reports standby.
  bool StartStandby(int i, int timeout_ms = 20000);
  // Index of the running MDS that reports active with epoch >= min_epoch,
  // polling until timeout_ms; -1 if none. *epoch gets its epoch.
  int WaitActive(int timeout_ms, uint64_t min_epoch = 0, uint64_t* epoch = nullptr);
  // WaitActive that does not ask MDS `skip` (a SIGSTOPped MDS answers
  // nothing: asking it costs the query timeout every round).
  int WaitActiveExcept(int skip, int timeout_ms, uint64_t min_epoch = 0, uint64_t* epoch = nullptr);
  // SIGTERM every running MDS; true when each exited 0.
  bool StopAll();
  // The tail of every MDS's log, for failure messages.
  std::string Logs(size_t tail_bytes = 4000) const;

 private:
  TempDir dir_;
  std::string volume_;
  std::vector<std::string> names_, addrs_;
  std::vector<std::unique_ptr<MdsProcess>> mds_;
};

// Sends SIGCONT to a process on every exit path (a SIGSTOPped MDS).
class ContinueGuard {
 public:
  explicit ContinueGuard(pid_t pid) : pid_(pid) {}
  ~ContinueGuard();
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
};

// ---- volume files ------------------------------------------------------

struct SegmentFile {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t epoch = 0;  // from the segment header (0 if unreadable)
};
// Every file in VOLUME/journal/.
std::map<std::string, SegmentFile> SnapshotJournal(const std::string& volume);
std::string DescribeJournal(const std::map<std::string, SegmentFile>& j);

// `$BATON_BIN fsck VOLUME`: its exit status (-1 if it could not run), output in *out.
int RunFsck(const std::string& volume, std::string* out);
// Runs argv, stdout+stderr into *out; its exit status (128+sig if signalled).
int RunCapture(const std::vector<std::string>& argv, std::string* out);

std::string ReadWholeFile(const std::string& path);

// ---- the FUSE workload -------------------------------------------------

// Writer threads on a mount, each in its own directory tN, doing create,
// pwrite, rename (new name, replacing a file, moving a directory), unlink,
// mkdir, rmdir and fsync. Each thread records in its model only what
// returned success; the first error of any kind stops that thread and is
// kept as the failure.
class Workload {
 public:
  Workload(std::string root, int threads, uint64_t seed);
  ~Workload();

  void Start();
  // Asks the threads to stop after their current op and waits up to
  // timeout_ms; false if some are still inside an op (call Join after
  // breaking the mount).
  bool Stop(int timeout_ms = 60000);
  void Join();
  void SetRoot(const std::string& root);  // only while stopped

  std::atomic<uint64_t> iteration{0};  // the test's current step, for failure messages
  bool failed() const;
  std::string failure() const;
  uint64_t ops() const { return ops_.load(); }
  // The longest op since the last call, in ms.
  long TakeMaxOpMs() { return max_op_ms_.exchange(0); }
  // Waits until `count` more ops have completed; false on timeout or failure.
  bool WaitProgress(uint64_t count, int timeout_ms);

  // Compares the trees tN under root with the model: "" when they match,
  // else one line per difference.
  std::string Verify(const std::string& root) const;
  std::vector<std::string> TopNames() const;  // t0, t1, ...
  std::string SomeNonEmptyFile() const;        // a file of the model with data ("" if none)
  size_t ModelFiles() const;

  // ---- kill -9 of the client daemon (kill_torture_test) ----
  // While on, an error that a dead mount gives (ENOTCONN, ECONNABORTED) stops
  // a writer without counting as a failure: the op it was in is
  // "interrupted" and may or may not have taken effect. Any other error is
  // still a failure. Off by default.
  void SetMountMayDie(bool on) { mount_may_die_ = on; }
  int InterruptedWriters() const;
  // After a remount, with the writers stopped: for each interrupted op, looks
  // at what the tree under root holds, checks that it is a state the op can
  // have left (not done; done; for a create or a write, a prefix of its
  // bytes), and makes the model match it. "" when every one did, else one
  // line per problem. *how (if not null) gets one line per interrupted op.
  std::string ResolveInterrupted(const std::string& root, std::string* how);
  // Files of the model fsync'd since their last change.
  size_t ModelSyncedFiles() const;

 private:
  // The op a writer is in, for ResolveInterrupted.
  struct Pending {
    enum Kind { kNone, kCreate, kWrite, kRename, kRenameDir, kUnlink, kMkdir, kRmdir };
    Pending() = default;
    Pending(Kind k, std::string path, std::string to = "") : kind(k), a(std::move(path)), b(std::move(to)) {}
    Kind kind = kNone;
    std::string a, b;  // the path (the source of a rename), the destination
    int stage = 0;     // create, write: 0 open not answered, 1 open, bytes being written, 2 bytes written
    bool trunc = false;
    uint64_t offset = 0;
    std::string data;  // the bytes being written
  };
  struct Node {
    bool dir = false;
    std::string data;
    bool synced = false;  // fsync'd since its last change
  };
  struct Thread {
    int id = 0;
    std::mt19937_64 rng;
    std::map<std::string, Node> model;  // path relative to root -> node
    uint64_t next_name = 0;
    uint64_t op_count = 0;
    std::thread thread;
    Pending pending;           // kill_torture_test's client kills
    bool interrupted = false;  // stopped by a dead mount (SetMountMayDie)
    std::string interrupted_by;
  };
  void Run(Thread& t);
  bool Step(Thread& t);
  bool OpCreate(Thread& t);
  bool OpWrite(Thread& t);
  bool OpRename(Thread& t);
  bool OpRenameDir(Thread& t);
  bool OpUnlink(Thread& t);
  bool OpMkdir(Thread& t);
  bool OpRmdir(Thread& t);
  bool OpFsync(Thread& t);
  bool Fail(Thread& t, const char* op, const std::string& path, int err);
  bool WriteAll(Thread& t, int fd, const std::string& path, const std::string& data, uint64_t offset);
  std::string P(const std::string& rel) const { return root_ + "/" + rel; }

  std::string root_;
  uint64_t seed_;
  std::vector<std::unique_ptr<Thread>> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::atomic<uint64_t> ops_{0};
  std::atomic<long> max_op_ms_{0};
  std::atomic<bool> mount_may_die_{false};
  mutable std::mutex mu_;
  std::string failure_;  // GUARDED_BY(mu_)
};

// Stops the writers on every exit path, before the mount goes (declare it
// after the mount). Writers stuck in an op on a hung mount are released by
// killing the mount's daemon.
class StopWriters {
 public:
  StopWriters(Workload& w, FuseMount& m) : w_(w), m_(m) {}
  ~StopWriters() { Stop(); }
  StopWriters(const StopWriters&) = delete;
  StopWriters& operator=(const StopWriters&) = delete;
  // False if the writers had to be released by killing the mount.
  bool Stop() {
    if (w_.Stop(60000)) return true;
    fprintf(stderr, "writers still inside an op 60 s after being asked to stop; killing the mount daemon\n");
    m_.KillDaemon9();
    w_.Join();
    return false;
  }

 private:
  Workload& w_;
  FuseMount& m_;
};

}  // namespace baton::testing::failover
