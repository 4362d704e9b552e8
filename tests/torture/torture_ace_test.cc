// The crash-consistency harness over the ACE workloads (issue 5): every
// workload of one operation, then two-operation workloads until the state
// budget, under all three fault models, with crashes inside recovery and
// corrupted middle records. Zero failures allowed; the count is printed.
//
// BATON_TORTURE_SHARD=K/N splits the workloads (CTest runs two shards side
// by side); BATON_TORTURE_STATES is this shard's budget of crash states.
#define BOOST_TEST_MODULE torture_ace_test
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "torture/runner.h"

using namespace baton::torture;

namespace {

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : def;
}

void Shard(RunOptions* o) {
  const char* v = std::getenv("BATON_TORTURE_SHARD");
  if (v == nullptr) return;
  std::string s(v);
  size_t slash = s.find('/');
  if (slash == std::string::npos) return;
  o->shard = static_cast<uint32_t>(std::stoul(s.substr(0, slash)));
  o->shards = static_cast<uint32_t>(std::stoul(s.substr(slash + 1)));
}

RunSummary Run(RunOptions o) {
  std::ostringstream out;
  RunSummary sum;
  int rc = RunTorture(o, out, &sum);
  std::cout << out.str() << std::flush;
  BOOST_TEST(rc == 0, sum.reproducer);
  return sum;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_one_and_two_operation_workload_survives_every_crash_state) {
  RunOptions o;
  o.seed = EnvU64("BATON_SEED", 1);
  Shard(&o);
  // BATON_TORTURE_STATES=0: every ace2 workload of this shard (CI); else a
  // budget of crash states.
  const uint64_t budget = EnvU64("BATON_TORTURE_STATES", 50000);
  o.recovery_crash_every = static_cast<int>(EnvU64("BATON_TORTURE_RECOVERY_EVERY", 0));
  o.workload = "ace1";
  RunSummary one = Run(o);
  BOOST_TEST(one.stats.workloads > 0u);
  o.workload = "ace2";
  o.max_states = budget == 0 ? 0 : budget > one.stats.states ? budget - one.stats.states : 1;
  RunSummary two = Run(o);
  if (budget == 0) {
    const uint64_t all = WorkloadSet(o).size();
    BOOST_TEST(two.stats.workloads == (all + o.shards - 1 - o.shard) / o.shards);  // every one of this shard
  }
  const uint64_t total = one.stats.states + two.stats.states;
  std::cout << "crash states checked: " << total << " (shard " << o.shard << "/" << o.shards << ", seed " << o.seed
            << "), " << one.stats.workloads + two.stats.workloads << " workloads, "
            << static_cast<uint64_t>(total / (one.seconds + two.seconds)) << " states/s\n";
  BOOST_TEST(total >= (budget == 0 ? EnvU64("BATON_TORTURE_MIN_STATES", 50000) : budget));
  BOOST_TEST(two.stats.recovery_states > 0u);
  BOOST_TEST(two.stats.corrupt_states > 0u);
}

BOOST_AUTO_TEST_CASE(random_workloads_survive_too_with_the_deferred_store_commit) {
  RunOptions o;
  o.seed = EnvU64("BATON_SEED", 1) + 1000;
  Shard(&o);
  o.workload = "random";
  // The MDS's deferred store commit (replies before the commit, a commit
  // every 3 records): the ace runs above commit after every request.
  o.store_commit_records = 3;
  o.max_states = std::max<uint64_t>(EnvU64("BATON_TORTURE_STATES", 50000) / 10, 2000);
  RunSummary r = Run(o);
  BOOST_TEST(r.stats.states >= o.max_states);
}
