#include "bench/failover/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace baton::bench::failover {

namespace {

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

void PrintStallSummary(const std::vector<FailoverEvent>& events, FailoverKind kind) {
  std::vector<uint64_t> stalls;
  int stuck = 0;
  for (const FailoverEvent& ev : events) {
    if (ev.kind != kind) continue;
    if (ev.stuck)
      stuck++;
    else
      stalls.push_back(ev.stall_ns);
  }
  if (stalls.empty() && stuck == 0) return;
  std::printf("  %-8s %4zu %10.1f %10.1f %10.1f%s\n", KindName(kind), stalls.size(), Ms(Percentile(stalls, 50)),
              Ms(Percentile(stalls, 99)), Ms(Percentile(stalls, 100)),
              stuck ? ("   + " + std::to_string(stuck) + " STUCK (no progress after takeover)").c_str() : "");
}

void PrintEvents(const std::vector<FailoverEvent>& events) {
  std::printf("\nper event (ms): stall = longest gap in [event, next event); across = the gap over the signal;\n"
              "takeover = signal -> new active answers STATUS; rejoin = old one restarted -> standby, lag 0\n");
  std::printf("  %3s %-8s %-13s %8s %8s %9s %7s  %s\n", "#", "kind", "from -> to", "stall", "across", "takeover",
              "rejoin", "old active");
  int i = 0;
  for (const FailoverEvent& ev : events) {
    std::string dir = ev.from + "->" + ev.to;
    if (ev.stuck) {
      std::printf("  %3d %-8s %-13s %8s %8s %9llu %7s  %s\n", ++i, KindName(ev.kind), dir.c_str(), "STUCK", "-",
                  static_cast<unsigned long long>(ev.takeover_ms), "-", ev.old_exit.c_str());
      continue;
    }
    std::printf("  %3d %-8s %-13s %8.1f %8.1f %9llu %7llu  %s\n", ++i, KindName(ev.kind), dir.c_str(),
                Ms(ev.stall_ns), Ms(ev.straddle_ns), static_cast<unsigned long long>(ev.takeover_ms),
                static_cast<unsigned long long>(ev.rejoin_ms), ev.old_exit.c_str());
  }
}

void PrintLag(const LagResult& l) {
  std::printf("\nstandby lag under load: %d threads creating empty files on the mount for %.1f s\n", l.threads,
              l.seconds);
  std::printf("  creates %llu (%.0f/s), journal records %llu (%.0f/s), create errors %llu\n",
              static_cast<unsigned long long>(l.creates), static_cast<double>(l.creates) / l.seconds,
              static_cast<unsigned long long>(l.records), static_cast<double>(l.records) / l.seconds,
              static_cast<unsigned long long>(l.create_errors));
  std::printf("  standby STATUS lag field (records), %zu samples every 50 ms (%llu failed): p50 %llu, p99 %llu, max %llu\n",
              l.lag.size(), static_cast<unsigned long long>(l.failed_samples),
              static_cast<unsigned long long>(Percentile(l.lag, 50)),
              static_cast<unsigned long long>(Percentile(l.lag, 99)),
              static_cast<unsigned long long>(Percentile(l.lag, 100)));
  std::printf("  active applied LSN - standby STATUS applied LSN (records): p50 %llu, p99 %llu, max %llu\n",
              static_cast<unsigned long long>(Percentile(l.cross_lag, 50)),
              static_cast<unsigned long long>(Percentile(l.cross_lag, 99)),
              static_cast<unsigned long long>(Percentile(l.cross_lag, 100)));
}

void PrintReplay(const ReplayResult& r) {
  std::printf("\ntakeover with a long tail: standby killed, %llu creates on the active (%.1f s, %.0f/s), active "
              "killed, standby restarted\n",
              static_cast<unsigned long long>(r.mutations), r.mutate_seconds,
              static_cast<double>(r.mutations) / r.mutate_seconds);
  std::printf("  records behind (active applied LSN - standby applied LSN at their deaths): %llu\n",
              static_cast<unsigned long long>(r.records_behind));
  std::printf("  start -> answers STATUS as active: %.3f s\n", r.start_to_active_s);
  std::printf("  its log: %s\n", r.replay_line.c_str());
  if (r.replay_seconds > 0)
    std::printf("  replay rate: %.0f records/s\n", static_cast<double>(r.replay_records) / r.replay_seconds);
}

}  // namespace

uint64_t Percentile(std::vector<uint64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

BaselineResult MeasureBaseline(const std::vector<uint64_t>& c, uint64_t from_ns, uint64_t to_ns) {
  BaselineResult b;
  std::vector<uint64_t> gaps;
  for (size_t k = 1; k < c.size(); k++)
    if (c[k - 1] >= from_ns && c[k] <= to_ns) gaps.push_back(c[k] - c[k - 1]);
  b.seconds = static_cast<double>(to_ns - from_ns) / 1e9;
  b.ops = gaps.size();
  b.p50_gap_ns = Percentile(gaps, 50);
  b.p99_gap_ns = Percentile(gaps, 99);
  b.max_gap_ns = Percentile(gaps, 100);
  return b;
}

void PrintReport(const Report& r) {
  std::printf("# BatonFS failover bench\ncommand: %s\nmachine: %s\nseed: %s\n\n", r.command.c_str(),
              r.machine.c_str(), r.seed.c_str());
  const BaselineResult& b = r.baseline;
  std::printf("writer: pwrite 64 B + fsync on the mount, one op per ms (back to back when slower)\n");
  std::printf("  no failover, %.1f s: %llu ops, gap between completions p50 %.2f ms, p99 %.2f ms, max %.2f ms\n\n",
              b.seconds, static_cast<unsigned long long>(b.ops), Ms(b.p50_gap_ns), Ms(b.p99_gap_ns),
              Ms(b.max_gap_ns));
  std::printf("stall the writer sees per failover (longest gap between completed ops, ms)\n");
  std::printf("  %-8s %4s %10s %10s %10s\n", "kind", "n", "p50", "p99", "max");
  PrintStallSummary(r.events, FailoverKind::kKill);
  PrintStallSummary(r.events, FailoverKind::kStop);
  PrintEvents(r.events);
  if (r.have_lag) PrintLag(r.lag);
  if (r.have_replay) PrintReplay(r.replay);
  std::fflush(stdout);
}

}  // namespace baton::bench::failover
