// Runs FuzzJournalSegment (and the scanner) over >= 20,000 seeded inputs:
// random bytes, and valid segments with random damage. Nothing may crash.
#define BOOST_TEST_MODULE journal_fuzz
#include <boost/test/unit_test.hpp>

#include "journal/journal_codec.h"
#include "journal/journal_fuzz.h"
#include "tests/journal/journal_test_util.h"

using namespace baton;
using namespace baton::journal;
using namespace baton::journal::testing;
namespace f = baton::journal::format;

namespace {

std::string ValidSegment(std::mt19937_64& rng, uint64_t seq, uint64_t first_lsn, const VolumeId& vol) {
  std::string s = EncodeSegmentHeader(SegmentHeader{vol, seq, 1, first_lsn});
  int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; i++) {
    std::string payload(rng() % 200, static_cast<char>(rng()));
    RecordHeader h{1, 0, static_cast<uint32_t>(payload.size()), first_lsn + i, 1, vol};
    EncodeRecord(h, payload, f::RecordSeed(vol.bytes, seq), &s);
  }
  return s;
}

void Damage(std::mt19937_64& rng, std::string* s) {
  int kind = static_cast<int>(rng() % 4);
  if (s->empty()) return;
  if (kind == 0) {
    for (int i = 0; i < 1 + static_cast<int>(rng() % 4); i++) (*s)[rng() % s->size()] ^= static_cast<char>(1 << (rng() % 8));
  } else if (kind == 1) {
    s->resize(rng() % s->size());
  } else if (kind == 2) {
    size_t at = rng() % s->size();
    StoreU32(s->data() + std::min(at, s->size() - std::min<size_t>(4, s->size())), static_cast<uint32_t>(rng()));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(fuzz_inputs_do_not_crash) {
  uint64_t seed = TestSeed("fuzz");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; i++) {
    std::string input;
    VolumeId vol = MakeVolumeId(static_cast<uint8_t>(rng()));
    switch (i % 3) {
      case 0:
        input.resize(rng() % 400);
        for (char& c : input) c = static_cast<char>(rng());
        break;
      case 1:
        input = ValidSegment(rng, 1, 1 + rng() % 3, vol);
        Damage(rng, &input);
        break;
      default:
        input = ValidSegment(rng, 1, 1, vol) + ValidSegment(rng, 2, 1 + rng() % 6, vol);
        Damage(rng, &input);
        break;
    }
    BOOST_REQUIRE_EQUAL(FuzzJournalSegment(reinterpret_cast<const uint8_t*>(input.data()), input.size()), 0);
  }
}
