// Two `baton mds` processes on one volume in a temp dir, and a FUSE mount
// (`baton mount A,B MNT -f`) over them, for the failover bench. MDS i keeps
// its name (mds-a, mds-b), address and log across restarts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/messages.h"

namespace baton::bench::failover {

struct ClusterConfig {
  std::string baton_bin;
  std::string work_dir;  // holds vol/, mnt/ and logs/
  int64_t lease_ms = 2000;
  int64_t checkpoint_interval_ms = 3600000;  // no journal trim during the bench
};

struct MdsProc {
  std::string name;
  std::string address;
  std::string log_path;
  pid_t pid = -1;  // -1: not running (killed and reaped, or exited)
};

class Cluster {
 public:
  explicit Cluster(ClusterConfig config);
  ~Cluster();  // EmergencyCleanup-style teardown if Shutdown was not called
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // mkfs; MDS 0 up as active, MDS 1 up as standby with lag 0; the mount up.
  bool Start(std::string* error);

  // Spawns MDS i (must not be running).
  bool SpawnMds(int i, std::string* error);
  // Polls MDS i's STATUS every poll_ms until role matches (and, for a
  // standby with want_lag_zero, lag is 0; for an active, epoch >= min_epoch).
  bool WaitRole(int i, proto::Role role, bool want_lag_zero, uint64_t min_epoch, int64_t timeout_ms,
                int64_t poll_ms, proto::StatusInfo* out, std::string* error);
  // kill -9 of MDS i, reaped.
  void KillMds(int i);
  // SIGSTOP / SIGCONT of MDS i.
  bool SignalMds(int i, int sig);
  // Waits for MDS i to exit; *status is the waitpid status.
  bool WaitMdsExit(int i, int64_t timeout_ms, int* status);
  // The index whose STATUS says active (-1 if none answers so).
  int FindActive(int timeout_ms);

  bool Mount(std::string* error);
  // fusermount3 -u (then umount -l), and waits for the mount daemon's exit;
  // false (with *error) when the daemon did not exit 0 or the mount stayed.
  bool Unmount(std::string* error);
  // Unmounts, SIGTERMs every running MDS and checks each exits 0.
  bool Shutdown(std::string* error);

  const std::string& mountpoint() const { return mountpoint_; }
  pid_t mount_pid() const { return mount_pid_; }
  const MdsProc& mds(int i) const { return mds_[i]; }
  std::string Addresses() const;  // "A,B"

 private:
  std::string MdsLogTail(int i) const;

  ClusterConfig config_;
  std::string volume_, mountpoint_, mount_log_;
  MdsProc mds_[2];
  pid_t mount_pid_ = -1;
};

}  // namespace baton::bench::failover
