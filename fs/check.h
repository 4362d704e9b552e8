// A read-only namespace checker for `baton fsck`: walks the whole metadata
// store in one read transaction and lists what is inconsistent. It reads with
// its own loops over the DBIs (not through apply()), so it is a second opinion.
//
// Problem kinds (stable names, used by tools and tests):
//   bad-record          a key or value that does not decode
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

#include <string>
#include <vector>

#include "base/status.h"
#include "fs/meta_store.h"

namespace baton::fs {

struct CheckProblem {
  std::string kind;
  std::string message;
};

// The problems found (empty when consistent); non-ok only if the store
// cannot be read at all. At most max_problems are listed.
StatusOr<std::vector<CheckProblem>> CheckNamespace(MetaStore& store, size_t max_problems = 10000);

}  // namespace baton::fs
