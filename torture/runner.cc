#include "torture/runner.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <ostream>
#include <random>

#include "base/log.h"

namespace baton::torture {

namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<std::vector<Step>> WorkloadSet(const RunOptions& o) {
  std::vector<Persist> persists{Persist::kNone, Persist::kFsync, Persist::kFsyncDir};
  if (o.long_run) persists.push_back(Persist::kFdatasync);
  std::vector<std::vector<Step>> set;
  if (o.workload == "random") {
    // Unbounded in principle; max_states ends the run. 100,000 workloads is
    // far more than any run checks.
    std::mt19937_64 rng(o.seed);
    for (int i = 0; i < 100000; i++) set.push_back(RandomWorkload(rng(), o.long_run ? o.random_steps * 4 : o.random_steps));
    return set;
  }
  const int n = o.workload == "ace1" ? 1 : o.workload == "ace3" ? 3 : 2;
  set = AceWorkloads(n, persists);
  std::mt19937_64 rng(o.seed);
  std::shuffle(set.begin(), set.end(), rng);
  return set;
}

int RunTorture(const RunOptions& o, std::ostream& out, RunSummary* summary) {
  RunSummary local;
  RunSummary& sum = summary != nullptr ? *summary : local;
  if (o.workload != "ace1" && o.workload != "ace2" && o.workload != "ace3" && o.workload != "random") {
    out << "baton torture: unknown workload set '" << o.workload << "' (ace1, ace2, ace3 or random)\n";
    return 2;
  }
  const LogLevel saved = GetLogLevel();
  SetLogLevel(LogLevel::kError);
  TortureOptions to;
  to.seed = o.seed;
  to.models = o.models;
  to.work_dir = o.work_dir;
  if (o.long_run) {
    to.samples = 6;
    to.recovery_crash_every = 2;
    to.recovery_levels = 3;
  }
  if (o.recovery_crash_every > 0) to.recovery_crash_every = o.recovery_crash_every;
  to.store_commit_records = o.store_commit_records;
  Harness h(to);
  Status st = h.Prepare();
  if (!st.ok()) {
    SetLogLevel(saved);
    out << "baton torture: cannot prepare the template volume: " << st.ToString() << "\n";
    return 2;
  }
  const std::vector<std::vector<Step>> set = WorkloadSet(o);
  std::string models;
  for (CrashModel m : o.models) models += std::string(models.empty() ? "" : ",") + CrashModelName(m);
  if (!o.quiet) {
    out << "baton torture: seed " << o.seed << ", workloads " << o.workload << (o.long_run ? " (long)" : "") << " ("
        << set.size() << (o.workload == "random" ? " generated" : "") << "), models " << models << ", shard "
        << o.shard << "/" << o.shards << ", "
        << (o.max_states ? "up to " + std::to_string(o.max_states) + " crash states" : std::string("every workload"))
        << "\n  scratch: " << h.work_dir() << "\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  int rc = 0;
  uint64_t index = 0;
  for (const std::vector<Step>& w : set) {
    if (o.shards > 1 && index++ % o.shards != o.shard) continue;
    if (o.max_states != 0 && h.stats().states >= o.max_states) break;
    std::vector<TortureFailure> failures;
    st = h.Run(w, &failures);
    if (!st.ok()) {
      out << "baton torture: the harness could not run: " << st.ToString() << "\n";
      rc = 2;
      break;
    }
    if (!failures.empty()) {
      sum.failed = true;
      rc = 1;
      std::string rep = failures[0].Describe();
      rep += "  seed: " + std::to_string(o.seed) + " (workload set " + o.workload + ")\n";
      if (o.shrink && w.size() > 1) {
        std::vector<Step> small = h.Shrink(w);
        std::vector<TortureFailure> f2;
        if (h.Run(small, &f2).ok() && !f2.empty()) rep += "  shrunk:\n" + f2[0].Describe();
      }
      rep += "  reproduce: baton torture --seed " + std::to_string(o.seed) + " --workload " + o.workload +
             (o.long_run ? " --long" : "") +
             (o.store_commit_records > 0 ? " --store-commit-records " + std::to_string(o.store_commit_records) : "") +
             "\n";
      sum.reproducer = rep;
      out << rep;
      break;
    }
    if (!o.quiet && Since(last_print) >= 5.0) {
      last_print = std::chrono::steady_clock::now();
      const double s = Since(t0);
      out << "  " << std::fixed << std::setprecision(0) << s << " s: " << h.stats().workloads << " workloads, "
          << h.stats().states << " crash states (" << static_cast<uint64_t>(h.stats().states / s) << "/s)\n"
          << std::flush;
    }
  }
  sum.stats = h.stats();
  sum.seconds = Since(t0);
  SetLogLevel(saved);
  if (!o.quiet || rc != 0) {
    const TortureStats& s = sum.stats;
    out << (rc == 0 ? "PASS" : rc == 1 ? "FAIL" : "ERROR") << ": " << s.workloads << " workloads, " << s.crash_points
        << " crash points, " << s.states << " crash states checked (" << s.recovery_states
        << " of them crashes inside recovery, " << s.corrupt_states << " corrupted middle records) in " << std::fixed
        << std::setprecision(1) << sum.seconds << " s = " << std::setprecision(0)
        << (sum.seconds > 0 ? static_cast<double>(s.states) / sum.seconds : 0.0) << " states/s\n";
  }
  return rc;
}

}  // namespace baton::torture
