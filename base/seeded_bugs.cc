#include "base/seeded_bugs.h"

#include <atomic>
#include <cstdlib>

namespace baton::seeded {

const char* BugName(Bug b) {
  switch (b) {
    case Bug::kNone: return "none";
    case Bug::kReplyBeforeSync: return "reply-before-sync";
    case Bug::kNoSegmentDirSync: return "no-segment-dirsync";
    case Bug::kReplaySkipsCorrupt: return "replay-skips-corrupt";
    case Bug::kApplyNotIdempotent: return "apply-not-idempotent";
  }
  return "?";
}

bool ParseBug(const std::string& name, Bug* out) {
  for (Bug b : {Bug::kNone, Bug::kReplyBeforeSync, Bug::kNoSegmentDirSync, Bug::kReplaySkipsCorrupt,
                Bug::kApplyNotIdempotent}) {
    if (name == BugName(b)) {
      *out = b;
      return true;
    }
  }
  return false;
}

#ifdef BATON_SEEDED_BUGS
namespace {
std::atomic<int> g_planted{-1};  // -1: not yet read from the environment
}

bool Planted(Bug b) {
  int v = g_planted.load(std::memory_order_relaxed);
  if (v < 0) {
    Bug from_env = Bug::kNone;
    if (const char* e = std::getenv("BATON_SEEDED_BUG")) ParseBug(e, &from_env);
    int expected = -1;
    g_planted.compare_exchange_strong(expected, static_cast<int>(from_env));
    v = g_planted.load();
  }
  return b != Bug::kNone && v == static_cast<int>(b);
}

void Plant(Bug b) { g_planted.store(static_cast<int>(b)); }
#endif

}  // namespace baton::seeded
