// Failures the crash-torture harness found, each kept as a small named test.
#define BOOST_TEST_MODULE torture_regression_test
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "journal/journal.h"
#include "journal/journal_format.h"
#include "tests/journal/journal_test_util.h"
#include "torture/runner.h"

using namespace baton;
using namespace baton::journal;
using baton::journal::testing::TempDir;
using namespace baton::torture;

// Found by `baton torture --seed 1 --workload ace1` (corrupt-middle state of
// "unlink A/foo; fsync"): two synced one-record groups (the unlink, then the
// orphan's reclaim); a bit flip in the first was taken for a torn final group
// (reader row 4a) and the log silently ended before both, dropping an
// acknowledged record. The GroupFirst flag on the second record now proves
// the first group was complete: corruption, loudly.
BOOST_AUTO_TEST_CASE(bit_flip_in_a_synced_group_before_a_one_record_group_is_corruption) {
  TempDir dir;
  JournalOptions o;
  o.env = Env::Default();
  o.dir = dir.Sub("journal");
  o.volume_id.bytes[0] = 7;
  BOOST_REQUIRE(Journal::Create(o).ok());
  {
    auto j = Journal::Open(o);
    BOOST_REQUIRE(j.ok());
    BOOST_REQUIRE((*j)->Append(1, "unlink: a durable, acknowledged record").ok());  // LSN 1, its own group
    BOOST_REQUIRE((*j)->Append(1, "reclaim").ok());                                   // LSN 2, its own group
    BOOST_REQUIRE((*j)->Close().ok());
  }
  auto names = Env::Default()->ListDir(o.dir);
  BOOST_REQUIRE(names.ok());
  BOOST_REQUIRE(!names->empty());
  const std::string seg = o.dir + "/" + names->back();
  auto bytes = ReadWholeFile(Env::Default(), seg);
  BOOST_REQUIRE(bytes.ok());
  std::string b = *bytes;
  const size_t flip = format::kSegmentHeaderSize + format::kRecordHeaderSize + 3;  // in LSN 1's payload
  b[flip] = static_cast<char>(b[flip] ^ 0x10);
  BOOST_REQUIRE(WriteFileAtomically(Env::Default(), o.dir, names->back(), b).ok());
  auto r = JournalReader::Open(Env::Default(), o.dir, o.volume_id, 1);
  BOOST_REQUIRE(r.ok());
  Record rec;
  Status st = (*r)->Next(&rec);
  BOOST_TEST((st.code() == Code::kCorruption), st.ToString());
  BOOST_TEST(st.ToString().find("starts a later group") != std::string::npos, st.ToString());
  auto reopened = Journal::Open(o);
  BOOST_TEST((reopened.status().code() == Code::kCorruption), reopened.status().ToString());
}

// The same workload through the whole harness, every crash state and the
// corrupted-middle states, passes.
BOOST_AUTO_TEST_CASE(unlink_then_fsync_workload_passes_the_harness) {
  TortureOptions o;
  o.recovery_crash_every = 0;  // the corrupted middle records are the point here, not crashes inside recovery
  Harness h(o);
  BOOST_REQUIRE(h.Prepare().ok());
  Step s;
  s.op = StepOp::kUnlink;
  s.path = "A/foo";
  s.persist = Persist::kFsync;
  for (int i = 0; i < 20; i++) {  // the corrupted byte is random: several rounds
    std::vector<TortureFailure> f;
    BOOST_REQUIRE(h.Run({s}, &f).ok());
    BOOST_TEST(f.empty(), (f.empty() ? "" : f[0].Describe()));
  }
  BOOST_TEST(h.stats().corrupt_states > 0u);
}
