// RunReplayTail: a standby that must replay a long journal tail at takeover.
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/failover/phases.h"
#include "bench/failover/procs.h"
#include "client/client.h"
#include "fs/ops.h"

namespace baton::bench::failover {

namespace {

constexpr int kStatusTimeoutMs = 1000;
constexpr int64_t kTakeoverTimeoutMs = 300000;

StatusOr<proto::StatusInfo> Status1s(const std::string& addr) { return client::QueryStatus(addr, kStatusTimeoutMs); }

fs::Request MakeReq(fs::Op op, fs::Ino parent, std::string name, uint32_t mode) {
  fs::Request r;
  r.op = op;
  r.parent = parent;
  r.name = std::move(name);
  r.mode = mode;
  return r;
}

// `mutations` creates (kMknod), pipelined on one session from `threads`
// threads, each in its own directory.
bool Mutate(const std::string& addr, uint64_t mutations, int threads, std::string* error) {
  client::ClientOptions co;
  co.client_name = "baton-failover-bench";
  co.call_timeout_ms = 120000;
  StatusOr<std::unique_ptr<client::Client>> c = client::Client::Connect({addr}, co);
  if (!c.ok()) return *error = "connect " + addr + ": " + c.status().ToString(), false;
  client::Client& cl = **c;
  std::vector<fs::Ino> dirs;
  for (int t = 0; t < threads; t++) {
    StatusOr<fs::Reply> r = cl.Call(MakeReq(fs::Op::kMkdir, fs::kRootIno, "tail-" + std::to_string(t), S_IFDIR | 0755));
    if (!r.ok() || r->err != 0) return *error = "mkdir tail-" + std::to_string(t) + " failed", false;
    dirs.push_back(r->attr.ino);
  }
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  std::string first_error;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; t++) {
    workers.emplace_back([&, t] {
      for (uint64_t i; (i = next.fetch_add(1)) < mutations;) {
        StatusOr<fs::Reply> r = cl.Call(MakeReq(fs::Op::kMknod, dirs[t], "f" + std::to_string(i), S_IFREG | 0644));
        if (r.ok() && r->err == 0) continue;
        std::lock_guard<std::mutex> l(mu);
        if (first_error.empty())
          first_error = r.ok() ? std::string("mknod: ") + std::strerror(r->err) : r.status().ToString();
        next.store(mutations);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  cl.Close();
  if (!first_error.empty()) return *error = first_error, false;
  return true;
}

// "replay: N records in S s (...)" of the MDS's latest start.
void ParseReplayLine(const std::string& log, ReplayResult* out) {
  size_t at = log.rfind("replay: ");
  while (at != std::string::npos) {
    size_t eol = log.find('\n', at);
    std::string line = log.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
    unsigned long long n = 0;
    double s = 0;
    if (std::sscanf(line.c_str(), "replay: %llu records in %lf s", &n, &s) == 2) {
      out->replay_line = line;
      out->replay_records = n;
      out->replay_seconds = s;
      return;
    }
    at = at == 0 ? std::string::npos : log.rfind("replay: ", at - 1);
  }
}

}  // namespace

bool RunReplayTail(Cluster& cluster, int* active, uint64_t mutations, int threads, ReplayResult* out,
                   std::string* error) {
  int sb = 1 - *active;
  StatusOr<proto::StatusInfo> before = Status1s(cluster.mds(sb).address);
  if (!before.ok() || before->role != proto::Role::kStandby)
    return *error = cluster.mds(sb).name + " is not answering as standby", false;
  cluster.KillMds(sb);
  uint64_t t0 = NowNs();
  if (!Mutate(cluster.mds(*active).address, mutations, threads, error)) return false;
  out->mutate_seconds = static_cast<double>(NowNs() - t0) / 1e9;
  out->mutations = mutations;
  StatusOr<proto::StatusInfo> last = Status1s(cluster.mds(*active).address);
  if (!last.ok()) return *error = "STATUS of the active: " + last.status().ToString(), false;
  cluster.KillMds(*active);
  // Killed right after the STATUS: nothing was written in between (no client).
  out->records_behind = last->applied_lsn - before->applied_lsn;
  uint64_t log_offset = FileSizeOr0(cluster.mds(sb).log_path);
  uint64_t start_ns = NowNs();
  proto::StatusInfo st;
  if (!cluster.SpawnMds(sb, error) ||
      !cluster.WaitRole(sb, proto::Role::kActive, false, last->epoch + 1, kTakeoverTimeoutMs, 2, &st, error))
    return false;
  out->start_to_active_s = static_cast<double>(NowNs() - start_ns) / 1e9;
  *active = sb;
  ParseReplayLine(FileFrom(cluster.mds(sb).log_path, log_offset), out);
  if (out->replay_line.empty()) return *error = "no \"replay: N records in S s\" line in the log", false;
  if (st.applied_lsn < last->applied_lsn)
    return *error = "the new active's applied LSN " + std::to_string(st.applied_lsn) + " is below the old's " +
                    std::to_string(last->applied_lsn),
           false;
  return true;
}

}  // namespace baton::bench::failover
