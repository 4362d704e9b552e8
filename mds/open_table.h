// Which sessions hold which inodes open. kOpen and kRelease are both handled
// on their connection's thread, synchronously and in frame order, so a
// session's opens and releases take effect in the order the client sent them.
// An orphan (nlink 0) may be reclaimed only when no session holds it: the
// sequencer calls TryMarkReclaiming, which checks and marks in one step, and
// an Open of a marked inode fails, so an inode is never both open and
// reclaimed. In memory only: after a restart, clients re-send their opens on
// reconnect (within the grace period).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>

#include "fs/ops.h"

namespace baton::mds {

class OpenTable {
 public:
  // False (and nothing registered) when ino is being reclaimed.
  [[nodiscard]] bool Open(uint64_t session_id, fs::Ino ino) {
    std::lock_guard<std::mutex> l(mu_);
    if (reclaiming_.count(ino) != 0) return false;
    holders_[ino].insert(session_id);
    return true;
  }
  // True when this dropped the last holder of ino.
  bool Release(uint64_t session_id, fs::Ino ino) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = holders_.find(ino);
    if (it == holders_.end() || it->second.erase(session_id) == 0) return false;
    if (!it->second.empty()) return false;
    holders_.erase(it);
    return true;
  }
  bool Holds(uint64_t session_id, fs::Ino ino) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = holders_.find(ino);
    return it != holders_.end() && it->second.count(session_id) != 0;
  }
  bool IsOpen(fs::Ino ino) const {
    std::lock_guard<std::mutex> l(mu_);
    return holders_.count(ino) != 0;
  }
  // Atomically: if nobody holds ino, marks it reclaiming and returns true.
  bool TryMarkReclaiming(fs::Ino ino) {
    std::lock_guard<std::mutex> l(mu_);
    if (holders_.count(ino) != 0) return false;
    reclaiming_.insert(ino);
    return true;
  }
  // After the kReclaim record is applied (the inode is gone; inode numbers
  // are never reused, so later opens fail in the query).
  void DoneReclaiming(fs::Ino ino) {
    std::lock_guard<std::mutex> l(mu_);
    reclaiming_.erase(ino);
  }

 private:
  mutable std::mutex mu_;
  std::map<fs::Ino, std::set<uint64_t>> holders_;  // GUARDED_BY(mu_); never an empty set
  std::set<fs::Ino> reclaiming_;                   // GUARDED_BY(mu_); never in holders_
};

}  // namespace baton::mds
