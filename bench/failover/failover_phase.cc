// RunFailovers: kill -9 or SIGSTOP of the active under a TickWriter.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>

#include "bench/failover/phases.h"
#include "bench/failover/procs.h"

namespace baton::bench::failover {

namespace {

constexpr int64_t kSettleMs = 300;        // steady writing before each event ...
constexpr int64_t kJitterMs = 300;        // ... plus up to this much, so events do not line up with timers
constexpr int64_t kRejoinTimeoutMs = 60000;
constexpr int64_t kDeposedExitTimeoutMs = 15000;
constexpr int kDeposedExitStatus = 3;

uint64_t MsSince(uint64_t t_ns) { return (NowNs() - t_ns) / 1000000; }

// The stopped old active, resumed, must exit 3 (deposed).
bool ResumeDeposed(Cluster& cluster, int old, FailoverEvent* ev, std::string* error) {
  if (!cluster.SignalMds(old, SIGCONT)) return *error = "SIGCONT " + cluster.mds(old).name + " failed", false;
  int status = 0;
  if (!cluster.WaitMdsExit(old, kDeposedExitTimeoutMs, &status)) {
    cluster.KillMds(old);
    return *error = cluster.mds(old).name + " did not exit within 15 s of SIGCONT (killed)", false;
  }
  ev->old_exit = DescribeStatus(status);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != kDeposedExitStatus)
    return *error = cluster.mds(old).name + " resumed and ended with " + ev->old_exit + " (expected exit 3): " +
                    FileTail(cluster.mds(old).log_path, 1500),
           false;
  return true;
}

bool OneFailover(Cluster& cluster, TickWriter& writer, FailoverKind kind, const FailoverOptions& opt, int old,
                 FailoverEvent* ev, std::string* error) {
  int next = 1 - old;
  proto::StatusInfo st;
  if (!cluster.WaitRole(old, proto::Role::kActive, false, 0, 5000, 10, &st, error)) return false;
  uint64_t epoch = st.epoch;
  ev->kind = kind;
  ev->from = cluster.mds(old).name;
  ev->to = cluster.mds(next).name;
  ev->event_ns = NowNs();
  if (kind == FailoverKind::kKill)
    cluster.KillMds(old);
  else if (!cluster.SignalMds(old, SIGSTOP))
    return *error = "SIGSTOP " + ev->from + " failed", false;
  int64_t takeover_timeout_ms = (kind == FailoverKind::kStop ? opt.lease_ms : 0) + 15000;
  if (!cluster.WaitRole(next, proto::Role::kActive, false, epoch + 1, takeover_timeout_ms, 2, &st, error))
    return false;
  ev->takeover_ms = MsSince(ev->event_ns);
  uint64_t takeover_ns = NowNs();
  if (!writer.WaitCompletionAfter(takeover_ns, opt.progress_timeout_ms)) {
    ev->stuck = true;
    *error = "the writer made no progress in " + std::to_string(opt.progress_timeout_ms) + " ms after " + ev->to +
             " took over from " + ev->from + " (" + KindName(kind) + ")";
    return false;
  }
  ev->first_op_ms = (writer.last_completion_ns() - ev->event_ns) / 1000000;
  if (kind == FailoverKind::kStop && !ResumeDeposed(cluster, old, ev, error)) return false;
  uint64_t rejoin_ns = NowNs();
  if (!cluster.SpawnMds(old, error) ||
      !cluster.WaitRole(old, proto::Role::kStandby, true, 0, kRejoinTimeoutMs, 5, &st, error))
    return false;
  ev->rejoin_ms = MsSince(rejoin_ns);
  return true;
}

}  // namespace

const char* KindName(FailoverKind k) { return k == FailoverKind::kKill ? "kill -9" : "SIGSTOP"; }

bool RunFailovers(Cluster& cluster, TickWriter& writer, FailoverKind kind, int n, const FailoverOptions& opt,
                  std::mt19937_64& rng, int* active, std::vector<FailoverEvent>* events, std::string* error) {
  for (int i = 0; i < n; i++) {
    SleepMs(kSettleMs + static_cast<int64_t>(rng() % kJitterMs));
    if (!writer.WaitCompletionAfter(NowNs(), 5000))
      return *error = "the writer is not making progress before " + std::string(KindName(kind)) + " #" +
                      std::to_string(i + 1),
             false;
    FailoverEvent ev;
    bool ok = OneFailover(cluster, writer, kind, opt, *active, &ev, error);
    if (!events->empty() && events->back().window_end_ns == 0) events->back().window_end_ns = ev.event_ns;
    if (ev.event_ns != 0) events->push_back(ev);
    if (!ok) return false;
    *active = 1 - *active;
    std::fprintf(stderr, "failover_bench: %s #%d: %s -> %s, takeover %llu ms, first op %llu ms, rejoin %llu ms%s%s\n",
                 KindName(kind), i + 1, ev.from.c_str(), ev.to.c_str(),
                 static_cast<unsigned long long>(ev.takeover_ms), static_cast<unsigned long long>(ev.first_op_ms),
                 static_cast<unsigned long long>(ev.rejoin_ms), ev.old_exit.empty() ? "" : ", old active: ",
                 ev.old_exit.c_str());
  }
  if (!events->empty() && events->back().window_end_ns == 0) events->back().window_end_ns = NowNs();
  return true;
}

void ComputeStalls(const std::vector<uint64_t>& completions, std::vector<FailoverEvent>* events) {
  uint64_t end_ns = completions.empty() ? 0 : completions.back();
  for (FailoverEvent& ev : *events) {
    uint64_t to = ev.window_end_ns != 0 ? ev.window_end_ns : end_ns;
    ev.stall_ns = LongestGapNs(completions, ev.event_ns, to);
    auto it = std::lower_bound(completions.begin(), completions.end(), ev.event_ns);
    if (it != completions.begin() && it != completions.end()) ev.straddle_ns = *it - *(it - 1);
  }
}

}  // namespace baton::bench::failover
