// A read-only namespace checker for `baton fsck`: walks the whole metadata
// store in one read transaction and lists what is inconsistent. It reads with
// its own loops over the DBIs (not through apply()), so it is a second opinion.
//
// Problem kinds (stable names, used by tools and tests):
//   bad-record          a key or value that does not decode (db, key)
//   dangling-dentry     a dentry points at a missing inode
//   dentry-parent       a dentry's parent is missing or not a directory
//   dentry-type         a dentry's type differs from its inode's
//   dircookie           the dircookies index disagrees with the dentries
//   nlink               link count differs from the dentries (dirs: 2 + subdirs)
//   dotdot              a directory's '..' is not the directory holding it
//   dir-hardlink        a directory has more than one dentry
//   unreachable         an inode not reachable from the root and not an orphan
//   orphan              an orphan-list entry is missing or still linked
//   xattr-owner         an xattr of a missing inode
//   chunk-owner         a chunk of a missing or non-regular inode
//   chunk-beyond-eof    chunk bytes at or past the file size
//   stored-bytes        an inode's stored_bytes differs from its chunks
//   state               inode_count / bytes_stored / next_ino inconsistent
//   reply-session       an exactly-once reply of a session with no session record
//   reply-pruned        a reply below its session's pruning watermark
//   reply-future        a reply past its session's last request id
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "fs/meta_store.h"

namespace baton::fs {

// The store database a problem's raw key lives in (a bad-record, a stale
// cookie, an xattr or chunk of a missing inode, ...): fsck --repair deletes
// that key (fs/repair.h). Numbers are journaled: never renumber.
enum class StoreDb : uint8_t {
  kNone = 0, kInodes = 1, kDentries = 2, kDircookies = 3, kXattrs = 4, kChunks = 5, kOrphans = 6,
  kSessions = 7, kReplies = 8,
};
const char* StoreDbName(StoreDb db);

// One problem: its kind (above), a message for people, and what the repair
// planner needs (fs/repair.h): the inode, the entry (parent, name), the raw
// key of a record to drop, and a value (the wanted link count, the end of a
// chunk past EOF, ...). Fields a kind does not use stay zero or empty.
struct CheckProblem {
  std::string kind;
  std::string message;
  Ino ino = 0;
  Ino parent = 0;
  std::string name;
  uint64_t value = 0;
  StoreDb db = StoreDb::kNone;
  std::string key;
};

// Progress of a check: called now and then with the phase ("inodes",
// "dentries", ...), records done in that phase and its record count.
using CheckProgress = std::function<void(const char* phase, uint64_t done, uint64_t total)>;

struct CheckOptions {
  size_t max_problems = 10000;
  CheckProgress progress;  // optional
};

// The problems found (empty when consistent); non-ok only if the store
// cannot be read at all. At most max_problems are listed.
StatusOr<std::vector<CheckProblem>> CheckNamespace(MetaStore& store, const CheckOptions& options);
inline StatusOr<std::vector<CheckProblem>> CheckNamespace(MetaStore& store, size_t max_problems = 10000) {
  CheckOptions o;
  o.max_problems = max_problems;
  return CheckNamespace(store, o);
}

}  // namespace baton::fs
