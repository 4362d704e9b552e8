// RunLagUnderLoad: creates on the mount, the standby's lag sampled meanwhile.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "bench/failover/phases.h"
#include "bench/failover/procs.h"
#include "client/client.h"

namespace baton::bench::failover {

namespace {

constexpr int64_t kSampleMs = 50;
constexpr int kStatusTimeoutMs = 1000;

struct Creators {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> creates{0};
  std::atomic<uint64_t> errors{0};
  std::mutex mu;
  std::string first_error;  // GUARDED_BY(mu)

  void Run(const std::string& dir) {
    for (uint64_t i = 0; !stop.load(); i++) {
      std::string path = dir + "/f" + std::to_string(i);
      int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0 && ::close(fd) == 0) {
        creates.fetch_add(1);
        continue;
      }
      std::lock_guard<std::mutex> l(mu);
      if (errors.fetch_add(1) == 0) first_error = "create " + path + ": " + std::strerror(errno);
    }
  }
};

StatusOr<uint64_t> AppliedLsn(const std::string& addr) {
  StatusOr<proto::StatusInfo> st = client::QueryStatus(addr, kStatusTimeoutMs);
  if (!st.ok()) return st.status();
  return st->applied_lsn;
}

}  // namespace

bool RunLagUnderLoad(Cluster& cluster, int active, int threads, int64_t duration_ms, LagResult* out,
                     std::string* error) {
  const std::string& standby = cluster.mds(1 - active).address;
  std::vector<std::string> dirs;
  for (int t = 0; t < threads; t++) {
    dirs.push_back(cluster.mountpoint() + "/load-" + std::to_string(t));
    if (::mkdir(dirs.back().c_str(), 0755) != 0)
      return *error = "mkdir " + dirs.back() + ": " + std::strerror(errno), false;
  }
  StatusOr<uint64_t> lsn0 = AppliedLsn(cluster.mds(active).address);
  if (!lsn0.ok()) return *error = "STATUS of the active: " + lsn0.status().ToString(), false;
  Creators creators;
  std::vector<std::thread> workers;
  uint64_t start_ns = NowNs();
  for (int t = 0; t < threads; t++) workers.emplace_back([&creators, &dirs, t] { creators.Run(dirs[t]); });
  uint64_t end_ns = start_ns + static_cast<uint64_t>(duration_ms) * 1000000;
  for (uint64_t next_ns = start_ns + kSampleMs * 1000000; next_ns <= end_ns; next_ns += kSampleMs * 1000000) {
    uint64_t now = NowNs();
    if (next_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(next_ns - now));
    StatusOr<proto::StatusInfo> sb = client::QueryStatus(standby, kStatusTimeoutMs);
    StatusOr<proto::StatusInfo> act = client::QueryStatus(cluster.mds(active).address, kStatusTimeoutMs);
    if (!sb.ok() || sb->role != proto::Role::kStandby || !act.ok() || act->role != proto::Role::kActive) {
      out->failed_samples++;
      continue;
    }
    out->lag.push_back(sb->lag);
    out->cross_lag.push_back(act->applied_lsn > sb->applied_lsn ? act->applied_lsn - sb->applied_lsn : 0);
  }
  creators.stop.store(true);
  for (std::thread& w : workers) w.join();
  out->seconds = static_cast<double>(NowNs() - start_ns) / 1e9;
  out->threads = threads;
  out->creates = creators.creates.load();
  out->create_errors = creators.errors.load();
  out->first_error = creators.first_error;
  StatusOr<uint64_t> lsn1 = AppliedLsn(cluster.mds(active).address);
  if (!lsn1.ok()) return *error = "STATUS of the active: " + lsn1.status().ToString(), false;
  out->records = *lsn1 - *lsn0;
  if (out->create_errors != 0) return *error = "creates failed: " + out->first_error, false;
  return true;
}

}  // namespace baton::bench::failover
