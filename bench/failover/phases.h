// The phases of the failover bench (bench/failover/failover_bench.cc runs
// them in this order on one Cluster):
//   RunFailovers  kill -9 (or SIGSTOP) of the active while a TickWriter
//                 runs on the mount; the old active rejoins as a standby;
//   RunLagUnderLoad  threads create empty files on the mount while the
//                 standby's STATUS lag is sampled;
//   RunReplayTail the standby is killed, N mutations go to the active, the
//                 active is killed and the standby restarted: it replays
//                 the whole tail before it serves.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench/failover/cluster.h"
#include "bench/failover/tick_writer.h"

namespace baton::bench::failover {

enum class FailoverKind { kKill, kStop };
const char* KindName(FailoverKind k);

struct FailoverEvent {
  FailoverKind kind = FailoverKind::kKill;
  std::string from, to;          // MDS names: the old active and the new
  uint64_t event_ns = 0;         // when the signal was sent
  uint64_t window_end_ns = 0;    // the next event, or the end of the phase
  uint64_t takeover_ms = 0;      // signal -> the standby answers STATUS as active
  uint64_t first_op_ms = 0;      // signal -> the writer's first completed op after the takeover
  uint64_t rejoin_ms = 0;        // restart of the old active -> standby with lag 0
  bool stuck = false;            // the writer made no progress after the takeover
  std::string old_exit;          // SIGSTOP: how the resumed old active exited
  uint64_t stall_ns = 0;         // the longest gap between completions in [event, window end]
  uint64_t straddle_ns = 0;      // the gap across the event itself
};

struct FailoverOptions {
  int64_t lease_ms = 2000;
  int64_t progress_timeout_ms = 30000;  // after a takeover, the writer must move within this
};

// Runs n events of one kind. *active is the index of the active MDS (in and
// out). False (with *error) when the cluster did not behave; events run so
// far are in *events either way.
bool RunFailovers(Cluster& cluster, TickWriter& writer, FailoverKind kind, int n, const FailoverOptions& opt,
                  std::mt19937_64& rng, int* active, std::vector<FailoverEvent>* events, std::string* error);
// Fills stall_ns / straddle_ns from the writer's completions.
void ComputeStalls(const std::vector<uint64_t>& completions, std::vector<FailoverEvent>* events);

struct LagResult {
  int threads = 0;
  double seconds = 0;
  uint64_t creates = 0;
  uint64_t records = 0;           // the active's applied LSN advance over the run
  uint64_t create_errors = 0;
  std::string first_error;
  // One sample per 50 ms: the standby's STATUS lag field, and the active's
  // applied LSN (its STATUS, asked right after) minus the standby's STATUS
  // applied LSN (which the standby refreshes every 100 ms).
  std::vector<uint64_t> lag;
  std::vector<uint64_t> cross_lag;
  uint64_t failed_samples = 0;    // a STATUS did not answer, or not in the expected role
};
bool RunLagUnderLoad(Cluster& cluster, int active, int threads, int64_t duration_ms, LagResult* out,
                     std::string* error);

struct ReplayResult {
  uint64_t mutations = 0;         // creates sent to the active
  double mutate_seconds = 0;
  uint64_t records_behind = 0;    // active applied LSN at its death - standby applied LSN at its death
  double start_to_active_s = 0;   // spawn of the standby -> STATUS says active
  std::string replay_line;        // the MDS's "replay: N records in S s" line
  uint64_t replay_records = 0;    // N and S parsed from it
  double replay_seconds = 0;
};
// After it, MDS *active is the replayed one and the other is not running.
bool RunReplayTail(Cluster& cluster, int* active, uint64_t mutations, int threads, ReplayResult* out,
                   std::string* error);

}  // namespace baton::bench::failover
