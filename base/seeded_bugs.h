// Seeded bugs: known crash-consistency bugs planted on purpose, to prove
// that the crash-torture harness (torture/, docs/TESTING.md) catches them.
//
// They exist only in a build configured with -DBATON_SEEDED_BUGS=ON (the CI
// sanitizer build; never a release build), and even there each stays
// dormant until armed, by seeded::Plant() or by the environment variable
// BATON_SEEDED_BUG=<name>. In every other build Planted() is a constant
// false and the compiler removes the bug.
#pragma once

#include <string>

namespace baton::seeded {

enum class Bug {
  kNone,
  kReplyBeforeSync,     // reply-before-sync: the journal returns before its fdatasync (done one group later)
  kNoSegmentDirSync,    // no-segment-dirsync: a new segment's directory entry is never fsynced
  kReplaySkipsCorrupt,  // replay-skips-corrupt: the reader skips a bad record that valid ones follow
  kApplyNotIdempotent,  // apply-not-idempotent: a re-sent request is applied again
};

const char* BugName(Bug b);
bool ParseBug(const std::string& name, Bug* out);

#ifdef BATON_SEEDED_BUGS
constexpr bool kSeededBugsBuilt = true;
bool Planted(Bug b);
void Plant(Bug b);  // kNone disarms
#else
constexpr bool kSeededBugsBuilt = false;
constexpr bool Planted(Bug) { return false; }
inline void Plant(Bug) {}
#endif

}  // namespace baton::seeded
