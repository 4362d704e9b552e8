// Internals of apply(): the per-batch context and one function per op.
// Every op function checks everything first and changes the store only after
// the last check: a kPosix Status (the op's errno) means nothing was changed.
// Any other non-ok Status is a store failure that aborts the whole batch.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fs/lmdb_txn.h"

#include "fs/apply.h"
#include "fs/meta_schema.h"
#include "fs/posix_rules.h"
#include "fs/store_ops.h"

namespace baton::fs {

struct ApplyCtx {
  explicit ApplyCtx(TxnRef txn) : t(txn) {}
  TxnRef t;
  PersistState st;          // updated in memory, written once per batch
  uint32_t chunk_bytes = 0;
  const Stamp* stamp = nullptr;
  const Request* req = nullptr;
  ApplyResult* res = nullptr;
  std::string scratch;      // encode buffer
  std::string chunk_buf;    // chunk read-modify-write buffer
  LmdbCursor replies_cur;   // opened once per batch
  // Sessions touched in this batch, written back once at its end.
  std::vector<std::pair<uint64_t, SessionVal>> sessions;
  // The batch's exactly-once replies, (session, request id) -> encoded
  // reply, written at its end (FlushSessions) unless a prune in the same
  // batch dropped them first: most replies of a long replay batch are pruned
  // before it ends, so they never touch the store. The store's contents are
  // the same as with immediate writes.
  std::map<std::pair<uint64_t, uint64_t>, std::string> replies;
  // The batch's inodes as last read or stored: a directory that takes
  // thousands of creates in one batch is read and written once, not once
  // per create. Dirty ones are written at the batch's end (FlushInodes),
  // before anything reads the store outside apply. Every inode read and
  // write of an op goes through it (ReadInode, StoreInode, CreateInode,
  // DeleteInode); ops that walk the inode table themselves (repair) flush
  // and empty it first.
  struct CachedInode {
    InodeRec rec;
    bool dirty = false;
  };
  std::unordered_map<Ino, CachedInode> inodes;

  int64_t now() const { return stamp->time_ns; }
  const Creds& creds() const { return req->creds; }
};

inline Status Err(int e) { return Status::Posix(e); }
// The inode through the batch's cache; NotFound if there is none.
Status ReadInode(ApplyCtx& c, Ino ino, InodeRec* out);
// Writes the batch's changed inodes (in inode order) and empties the cache.
Status FlushInodes(ApplyCtx& c);
// Stores a new inode at once: EIO (nothing changed) if its number is taken,
// since an inode number is never reused. An op's first change.
Status CreateInode(ApplyCtx& c, const InodeRec& r);
// Loads an inode named by a request: a missing one is ENOENT.
Status LoadInode(ApplyCtx& c, Ino ino, InodeRec* out);
// Loads a directory named by a request: ENOENT / ENOTDIR.
Status LoadDir(ApplyCtx& c, Ino ino, InodeRec* out);
Status StoreInode(ApplyCtx& c, const InodeRec& r);
// Updates blocks, stores the inode and answers with its attributes.
Status StoreInodeAndReply(ApplyCtx& c, InodeRec* r);
void SetBlocks(InodeRec* r);
// Parent directory bookkeeping after an entry change: nlink delta, mtime/ctime.
Status TouchDir(ApplyCtx& c, Ino dir, int nlink_delta);
// Drops one link of a non-directory; orphans it at zero.
Status DropLink(ApplyCtx& c, InodeRec* r);
// Deletes a directory or reclaimed inode with its xattrs and chunks.
Status DeleteInode(ApplyCtx& c, const InodeRec& r);

// The capacity rule: ENOSPC when growing used_bytes by growth_bytes would
// pass capacity_bytes. Every op that can grow the store calls it before its
// first change, with an upper bound of its growth.
Status CheckRoom(ApplyCtx& c, uint64_t growth_bytes);
// used_bytes += add - remove (never below zero).
void Charge(ApplyCtx& c, uint64_t add_bytes, uint64_t remove_bytes);
// Directory entries with their readdir cookie, charged.
Status AddEntry(ApplyCtx& c, InodeRec* parent, std::string_view name, Ino child, uint32_t type);
Status DelEntry(ApplyCtx& c, Ino parent, std::string_view name, uint64_t cookie);

// The exactly-once table (apply_session.cc). CheckExactlyOnce returns true
// when the op must not be applied: a stored reply (res->duplicate) or a late
// duplicate below the session's watermark (res->stale, ESTALE).
StatusOr<bool> CheckExactlyOnce(ApplyCtx& c, const Stamp& s, ApplyResult* res);
Status RecordOutcome(ApplyCtx& c);  // stores the reply, prunes now and then
Status FlushSessions(ApplyCtx& c);  // writes the touched session rows and the batch's replies

Status ApplyCreate(ApplyCtx& c);   // mknod, mkdir, symlink
Status ApplyLink(ApplyCtx& c);
Status ApplyUnlink(ApplyCtx& c);
Status ApplyRmdir(ApplyCtx& c);
Status ApplyRename(ApplyCtx& c);
Status ApplySetattr(ApplyCtx& c);
Status ApplyWrite(ApplyCtx& c);
Status ApplyFallocate(ApplyCtx& c);
Status ApplySetxattr(ApplyCtx& c);
Status ApplyRemovexattr(ApplyCtx& c);
Status ApplyReclaim(ApplyCtx& c);
Status ApplyRepair(ApplyCtx& c);   // fs/apply_repair.cc

// Data helpers (apply_data.cc). Truncate drops chunks past new_size and cuts
// the last one; the caller sets the size and stores the inode.
Status TruncateData(ApplyCtx& c, InodeRec* r, uint64_t new_size);
// xattr namespace rule for a change: 0 or errno.
int XattrWriteRule(const Attr& a, const Creds& cr, std::string_view name);

}  // namespace baton::fs
