// The failover bench's report: stall percentiles per kind of failover, the
// per-event table, the standby's lag under load and the replay of a long tail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/failover/phases.h"

namespace baton::bench::failover {

// Nearest-rank percentile (p in (0, 100]) of values; 0 when empty.
uint64_t Percentile(std::vector<uint64_t> values, double p);

struct BaselineResult {
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t p50_gap_ns = 0, p99_gap_ns = 0, max_gap_ns = 0;
};
BaselineResult MeasureBaseline(const std::vector<uint64_t>& completions, uint64_t from_ns, uint64_t to_ns);

struct Report {
  std::string command, machine, seed;
  BaselineResult baseline;
  std::vector<FailoverEvent> events;
  bool have_lag = false;
  LagResult lag;
  bool have_replay = false;
  ReplayResult replay;
};
void PrintReport(const Report& r);

}  // namespace baton::bench::failover
