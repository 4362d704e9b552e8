// The seeded bugs (base/seeded_bugs.h) prove the harness: each planted bug
// must be caught by `baton torture`'s checks within the CI budget. Built only
// with -DBATON_SEEDED_BUGS=ON (the CI sanitizer build).
#define BOOST_TEST_MODULE seeded_bugs_test
#include <boost/test/unit_test.hpp>

#include <iostream>
#include <sstream>

#include "base/seeded_bugs.h"
#include "torture/runner.h"

using namespace baton;
using namespace baton::torture;

namespace {

// Runs ace1 then ace2 until the budget; returns the states checked before
// the failure, or 0 if nothing failed.
uint64_t StatesToCatch(seeded::Bug bug, uint64_t budget, std::string* report) {
  seeded::Plant(bug);
  uint64_t states = 0;
  for (const char* set : {"ace1", "ace2"}) {
    RunOptions o;
    o.workload = set;
    o.max_states = budget - states;
    o.shrink = false;
    o.quiet = true;
    o.recovery_crash_every = 64;  // the planted bugs need no crash inside recovery to show
    std::ostringstream out;
    RunSummary sum;
    int rc = RunTorture(o, out, &sum);
    states += sum.stats.states;
    if (rc == 1) {
      *report = out.str();
      seeded::Plant(seeded::Bug::kNone);
      return states;
    }
    if (states >= budget) break;
  }
  seeded::Plant(seeded::Bug::kNone);
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_build_has_the_seeded_bugs) { BOOST_TEST(seeded::kSeededBugsBuilt); }

BOOST_AUTO_TEST_CASE(every_planted_bug_is_caught) {
  for (seeded::Bug bug : {seeded::Bug::kReplyBeforeSync, seeded::Bug::kNoSegmentDirSync,
                          seeded::Bug::kReplaySkipsCorrupt, seeded::Bug::kApplyNotIdempotent}) {
    std::string report;
    uint64_t n = StatesToCatch(bug, 60000, &report);
    std::cout << "seeded bug " << seeded::BugName(bug) << ": "
              << (n ? "caught after " + std::to_string(n) + " crash states" : std::string("NOT caught")) << "\n"
              << report << std::flush;
    BOOST_TEST(n > 0u, seeded::BugName(bug));
  }
}

BOOST_AUTO_TEST_CASE(with_no_bug_planted_the_same_run_passes) {
  RunOptions o;
  o.workload = "ace1";
  o.quiet = true;
  o.recovery_crash_every = 64;
  std::ostringstream out;
  BOOST_TEST(RunTorture(o, out) == 0, out.str());
}
