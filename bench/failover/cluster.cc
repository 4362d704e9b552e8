#include "bench/failover/cluster.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <utility>

#include "bench/failover/procs.h"
#include "client/client.h"

namespace baton::bench::failover {

Cluster::Cluster(ClusterConfig config) : config_(std::move(config)) {
  volume_ = config_.work_dir + "/vol";
  mountpoint_ = config_.work_dir + "/mnt";
  mount_log_ = config_.work_dir + "/logs/mount.log";
  const char* names[2] = {"mds-a", "mds-b"};
  for (int i = 0; i < 2; i++) {
    mds_[i].name = names[i];
    mds_[i].log_path = config_.work_dir + "/logs/" + names[i] + ".log";
  }
}

Cluster::~Cluster() {
  if (mount_pid_ > 0) {
    failover::Unmount(mountpoint_);
    KillAndReap(mount_pid_);
  }
  for (MdsProc& m : mds_) KillAndReap(m.pid);
}

std::string Cluster::Addresses() const { return mds_[0].address + "," + mds_[1].address; }

std::string Cluster::MdsLogTail(int i) const { return FileTail(mds_[i].log_path, 1500); }

bool Cluster::Start(std::string* error) {
  ::mkdir((config_.work_dir + "/logs").c_str(), 0755);
  ::mkdir(mountpoint_.c_str(), 0755);
  std::string mkfs_log = config_.work_dir + "/logs/mkfs.log";
  if (RunCommand({config_.baton_bin, "mkfs", volume_, "--meta-map", "16G", "-q"}, mkfs_log) != 0)
    return *error = "baton mkfs failed: " + FileTail(mkfs_log, 1000), false;
  for (MdsProc& m : mds_) {
    int port = FreeLoopbackPort();
    if (port == 0) return *error = "no free loopback port", false;
    m.address = "127.0.0.1:" + std::to_string(port);
  }
  if (mds_[0].address == mds_[1].address) return *error = "the two free ports are the same", false;
  proto::StatusInfo st;
  if (!SpawnMds(0, error) || !WaitRole(0, proto::Role::kActive, false, 0, 20000, 20, &st, error)) return false;
  if (!SpawnMds(1, error) || !WaitRole(1, proto::Role::kStandby, true, 0, 20000, 20, &st, error)) return false;
  return Mount(error);
}

bool Cluster::SpawnMds(int i, std::string* error) {
  MdsProc& m = mds_[i];
  if (m.pid > 0) return *error = m.name + " is already running", false;
  m.pid = Spawn({config_.baton_bin, "mds", volume_, "--listen", m.address, "--name", m.name, "--lease-ms",
                 std::to_string(config_.lease_ms), "--checkpoint-interval-ms",
                 std::to_string(config_.checkpoint_interval_ms)},
                m.log_path, SIGKILL);
  if (m.pid < 0) return *error = "could not start " + m.name, false;
  return true;
}

bool Cluster::WaitRole(int i, proto::Role role, bool want_lag_zero, uint64_t min_epoch, int64_t timeout_ms,
                       int64_t poll_ms, proto::StatusInfo* out, std::string* error) {
  MdsProc& m = mds_[i];
  uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_ms) * 1000000;
  std::string last = "no answer";
  while (NowNs() < deadline) {
    StatusOr<proto::StatusInfo> st = client::QueryStatus(m.address, 500);
    if (st.ok()) {
      last = std::string("role ") + proto::RoleName(st->role) + ", epoch " + std::to_string(st->epoch) + ", lag " +
             std::to_string(st->lag);
      bool lag_ok = !want_lag_zero || st->lag == 0;
      if (st->role == role && lag_ok && st->epoch >= min_epoch) return *out = *st, true;
    } else {
      last = st.status().ToString();
    }
    int ws = 0;
    if (m.pid > 0 && WaitExit(m.pid, 0, &ws)) {
      m.pid = -1;
      return *error = m.name + " exited (" + DescribeStatus(ws) + "): " + MdsLogTail(i), false;
    }
    SleepMs(poll_ms);
  }
  return *error = m.name + " was not " + proto::RoleName(role) + (want_lag_zero ? " with lag 0" : "") +
                  " within " + std::to_string(timeout_ms) + " ms (last: " + last + "): " + MdsLogTail(i),
         false;
}

void Cluster::KillMds(int i) {
  KillAndReap(mds_[i].pid);
  mds_[i].pid = -1;
}

bool Cluster::SignalMds(int i, int sig) { return mds_[i].pid > 0 && ::kill(mds_[i].pid, sig) == 0; }

bool Cluster::WaitMdsExit(int i, int64_t timeout_ms, int* status) {
  if (mds_[i].pid <= 0) return *status = -1, true;
  if (!WaitExit(mds_[i].pid, timeout_ms, status)) return false;
  mds_[i].pid = -1;
  return true;
}

int Cluster::FindActive(int timeout_ms) {
  for (int i = 0; i < 2; i++) {
    StatusOr<proto::StatusInfo> st = client::QueryStatus(mds_[i].address, timeout_ms);
    if (st.ok() && st->role == proto::Role::kActive) return i;
  }
  return -1;
}

bool Cluster::Mount(std::string* error) {
  RegisterMountPoint(mountpoint_);
  // SIGTERM on our death: the daemon unmounts and exits.
  mount_pid_ = Spawn({config_.baton_bin, "mount", Addresses(), mountpoint_, "-f"}, mount_log_, SIGTERM);
  if (mount_pid_ < 0) return *error = "could not start baton mount", false;
  RegisterMountDaemon(mount_pid_);
  if (!WaitMounted(mountpoint_, mount_pid_, 20000))
    return *error = "baton mount did not come up: " + FileTail(mount_log_, 1500), false;
  return true;
}

bool Cluster::Unmount(std::string* error) {
  if (mount_pid_ <= 0) return true;
  uint64_t t0 = NowNs();
  bool unmounted = failover::Unmount(mountpoint_);
  if (NowNs() - t0 > 1000000000ull) std::fprintf(stderr, "failover_bench: unmounting took %.1f s\n", (NowNs() - t0) / 1e9);
  int status = 0;
  bool exited = WaitExit(mount_pid_, 10000, &status);
  if (!exited) KillAndReap(mount_pid_);  // a hung daemon: killing it aborts the calls stuck in the mount
  mount_pid_ = -1;
  RegisterMountDaemon(0);
  if (!failover::Unmount(mountpoint_)) unmounted = false;
  if (!unmounted) return *error = "could not unmount " + mountpoint_, false;
  if (!exited) return *error = "baton mount did not exit within 10 s of the unmount", false;
  RegisterMountPoint("");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return *error = "baton mount ended with " + DescribeStatus(status) + ": " + FileTail(mount_log_, 1500), false;
  return true;
}

bool Cluster::Shutdown(std::string* error) {
  bool ok = Unmount(error);
  for (int i = 0; i < 2; i++) {
    if (mds_[i].pid <= 0) continue;
    ::kill(mds_[i].pid, SIGTERM);
    int status = 0;
    if (!WaitMdsExit(i, 15000, &status)) {
      KillMds(i);
      if (ok) *error = mds_[i].name + " ignored SIGTERM for 15 s";
      ok = false;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (ok) *error = mds_[i].name + " stopped with " + DescribeStatus(status) + ": " + MdsLogTail(i);
      ok = false;
    }
  }
  return ok;
}

}  // namespace baton::bench::failover
