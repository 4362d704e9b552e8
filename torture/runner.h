// `baton torture`: runs the crash-consistency harness over a set of
// workloads, prints progress and, for a failure, the seed, the workload, the
// crash point and a shrunk reproducer.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "torture/harness.h"

namespace baton::torture {

struct RunOptions {
  uint64_t seed = 1;
  uint64_t max_states = 0;       // stop after this many crash states (0: every workload of the set)
  std::string workload = "ace2";  // ace1 | ace2 | ace3 | random
  std::vector<CrashModel> models{CrashModel::kPrefix, CrashModel::kRealistic, CrashModel::kAdversarial};
  bool long_run = false;          // every persistence variant, more samples, longer random workloads
  size_t random_steps = 8;        // steps per random workload
  uint32_t shard = 0, shards = 1; // run workloads i with i % shards == shard
  bool shrink = true;
  int recovery_crash_every = 0;   // one level-1 state in N gets crashes inside its recovery (0: default 8, 2 with --long)
  uint64_t store_commit_records = 0;  // TortureOptions::store_commit_records
  std::string work_dir;
  bool quiet = false;
};

struct RunSummary {
  TortureStats stats;
  double seconds = 0;
  bool failed = false;
  std::string reproducer;  // the failure, shrunk, as printed
};

// The workloads of a set, in the order the seed gives.
std::vector<std::vector<Step>> WorkloadSet(const RunOptions& o);

// Returns 0 when every state passed, 1 on a failure, 2 when the harness
// could not run (the message says why).
int RunTorture(const RunOptions& o, std::ostream& out, RunSummary* summary = nullptr);

}  // namespace baton::torture
