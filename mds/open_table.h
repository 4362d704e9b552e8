// Which sessions hold which inodes open. kOpen (served on a connection
// thread) registers, kRelease (in the sequencer) unregisters. An orphan (nlink
// 0) may be reclaimed only when no session holds it. In memory only: after a
// restart, clients re-send their opens on reconnect (within the grace period).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>

#include "fs/ops.h"

namespace baton::mds {

class OpenTable {
 public:
  void Open(uint64_t session_id, fs::Ino ino) {
    std::lock_guard<std::mutex> l(mu_);
    holders_[ino].insert(session_id);
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
  bool IsOpen(fs::Ino ino) const {
    std::lock_guard<std::mutex> l(mu_);
    return holders_.count(ino) != 0;
  }

 private:
  mutable std::mutex mu_;
  std::map<fs::Ino, std::set<uint64_t>> holders_;  // GUARDED_BY(mu_); never an empty set
};

}  // namespace baton::mds
