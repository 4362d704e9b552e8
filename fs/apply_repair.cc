// apply() of kRepair records (fs/repair.h): the actions `baton fsck --repair`
// journals. Each is idempotent and tolerant: what it would fix already gone
// or fixed is a no-op, so a replay or a second fsck round changes nothing.
// Counters (inode_count, bytes_stored, used_bytes) are left to the round's
// final kRecountVolume.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "fs/apply_internal.h"
#include "fs/repair.h"

namespace baton::fs {
namespace {

StatusOr<MDB_dbi> DbOf(ApplyCtx& c, StoreDb db) {
  const Dbis& d = c.t.d;
  switch (db) {
    case StoreDb::kInodes: return d.inodes;
    case StoreDb::kDentries: return d.dentries;
    case StoreDb::kDircookies: return d.dircookies;
    case StoreDb::kXattrs: return d.xattrs;
    case StoreDb::kChunks: return d.chunks;
    case StoreDb::kOrphans: return d.orphans;
    case StoreDb::kSessions: return d.sessions;
    case StoreDb::kReplies: return d.replies;
    case StoreDb::kNone: break;
  }
  return Err(EINVAL);
}

// Also from the batch's pending replies and cached session rows
// (fs/apply_internal.h), which would otherwise be written back at its end.
Status DropKey(ApplyCtx& c) {
  const auto db = static_cast<StoreDb>(c.req->length);
  BATON_ASSIGN_OR_RETURN(MDB_dbi dbi, DbOf(c, db));
  const std::string& key = c.req->data;
  if (key.empty()) return Err(EINVAL);
  if (db == StoreDb::kReplies && key.size() == 16)
    c.replies.erase({LoadU64BE(key.data()), LoadU64BE(key.data() + 8)});
  if (db == StoreDb::kSessions && key.size() == 8)
    std::erase_if(c.sessions, [&](const auto& s) { return s.first == LoadU64BE(key.data()); });
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  return DelRaw(c.t, dbi, k);
}

// The entry and its cookie, if the cookie names this entry.
Status DropEntry(ApplyCtx& c) {
  const Request& q = *c.req;
  DentryVal dv;
  Status s = GetDentry(c.t, q.parent, q.name, &dv);
  if (s.IsNotFound() || s.IsCorruption()) {
    NameKey k(q.parent, q.name);
    return DelRaw(c.t, c.t.d.dentries, k.val());
  }
  BATON_RETURN_IF_ERROR(s);
  Key16 ck = PairKey(q.parent, dv.cookie);
  MDB_val cv;
  Status got = GetRaw(c.t, c.t.d.dircookies, ck.val(), &cv);
  if (got.ok() && View(cv) != q.name) return DelRaw(c.t, c.t.d.dentries, NameKey(q.parent, q.name).val());
  return DelDentry(c.t, q.parent, q.name, dv.cookie);
}

// NotFound from the store layer is a normal outcome for a repair (already
// gone): ENOENT in the record's reply, nothing changed, the batch goes on.
Status Found(Status s) { return s.IsNotFound() ? Err(ENOENT) : s; }

Status FixEntryType(ApplyCtx& c) {
  DentryVal dv;
  InodeRec r;
  BATON_RETURN_IF_ERROR(Found(GetDentry(c.t, c.req->parent, c.req->name, &dv)));
  BATON_RETURN_IF_ERROR(Found(ReadInode(c, dv.ino, &r)));
  dv.type = r.attr.mode & S_IFMT;
  return SetDentry(c.t, c.req->parent, c.req->name, dv);
}

// A fresh cookie from the directory's counter; the old cookie row goes if
// it named this entry.
Status FixCookie(ApplyCtx& c) {
  const Request& q = *c.req;
  DentryVal dv;
  InodeRec dir;
  BATON_RETURN_IF_ERROR(Found(GetDentry(c.t, q.parent, q.name, &dv)));
  BATON_RETURN_IF_ERROR(LoadDir(c, q.parent, &dir));
  Key16 old = PairKey(q.parent, dv.cookie);
  MDB_val cv;
  Status got = GetRaw(c.t, c.t.d.dircookies, old.val(), &cv);
  const bool named = got.ok() && View(cv) == q.name;
  if (named && dv.cookie < dir.next_cookie) return Status::Ok();  // nothing wrong (any more)
  if (named) BATON_RETURN_IF_ERROR(DelRaw(c.t, c.t.d.dircookies, old.val()));
  dv.cookie = dir.next_cookie++;
  BATON_RETURN_IF_ERROR(SetDentry(c.t, q.parent, q.name, dv));
  BATON_RETURN_IF_ERROR(PutRaw(c.t, c.t.d.dircookies, PairKey(q.parent, dv.cookie).val(), q.name));
  return StoreInode(c, dir);
}

Status ExtendSize(ApplyCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, c.req->ino, &r));
  if (!S_ISREG(r.attr.mode) || r.attr.size >= c.req->offset || c.req->offset > kFileSizeMaxBytes) return Status::Ok();
  r.attr.size = c.req->offset;
  r.attr.ctime_ns = c.now();
  return StoreInode(c, r);
}

Status LinkLostFound(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec r, lf;
  BATON_RETURN_IF_ERROR(LoadInode(c, q.ino, &r));
  BATON_RETURN_IF_ERROR(LoadDir(c, q.parent, &lf));
  const std::string name = "#" + std::to_string(q.ino);
  DentryVal dv;
  Status s = GetDentry(c.t, lf.attr.ino, name, &dv);
  if (s.ok()) return dv.ino == q.ino ? Status::Ok() : Err(EEXIST);  // already there, or the name is taken
  if (!s.IsNotFound()) return s;
  BATON_RETURN_IF_ERROR(AddEntry(c, &lf, name, q.ino, r.attr.mode & S_IFMT));
  if (S_ISDIR(r.attr.mode)) {
    r.parent = lf.attr.ino;
    lf.attr.nlink++;
  } else {
    r.attr.nlink = std::max<uint32_t>(r.attr.nlink, 1);
  }
  r.attr.ctime_ns = c.now();
  lf.attr.mtime_ns = lf.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, r));
  return StoreInode(c, lf);
}

Status SetNlink(ApplyCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, c.req->ino, &r));
  if (c.req->offset > UINT32_MAX) return Err(EINVAL);
  r.attr.nlink = static_cast<uint32_t>(c.req->offset);
  return StoreInode(c, r);
}

Status SetDotdot(ApplyCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadDir(c, c.req->ino, &r));
  r.parent = c.req->parent;
  return StoreInode(c, r);
}

// Sums the value sizes of every chunk keyed by ino (all inodes when ino is 0).
StatusOr<uint64_t> ChunkBytes(ApplyCtx& c, Ino ino) {
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.chunks));
  Key16 start = PairKey(ino, 0);
  MDB_val k = start.val(), v;
  uint64_t sum = 0;
  int rc = cur.Get(&k, &v, ino ? MDB_SET_RANGE : MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
    if (ino != 0 && (k.mv_size < 8 || std::memcmp(k.mv_data, start.val().mv_data, 8) != 0)) break;
    sum += v.mv_size;
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "repair chunk cursor");
  return sum;
}

Status RecountStored(ApplyCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, c.req->ino, &r));
  BATON_ASSIGN_OR_RETURN(r.stored_bytes, ChunkBytes(c, c.req->ino));
  SetBlocks(&r);
  return StoreInode(c, r);
}

Status RecountVolume(ApplyCtx& c) {
  MDB_stat ms;
  BATON_RETURN_IF_ERROR(LmdbStatus(mdb_stat(c.t.txn, c.t.d.inodes, &ms), "mdb_stat inodes"));
  c.st.inode_count = ms.ms_entries;
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.inodes));
  MDB_val k, v;
  if (cur.Get(&k, &v, MDB_LAST) == MDB_SUCCESS && k.mv_size == 8)
    c.st.next_ino = std::max(c.st.next_ino, LoadU64BE(static_cast<const char*>(k.mv_data)) + 1);
  BATON_ASSIGN_OR_RETURN(c.st.bytes_stored, ChunkBytes(c, 0));
  BATON_ASSIGN_OR_RETURN(c.st.used_bytes, ComputeUsedBytes(c.t));
  return Status::Ok();
}

}  // namespace

Status ApplyRepair(ApplyCtx& c) {
  switch (static_cast<RepairAction>(c.req->flags)) {
    case RepairAction::kDropKey: return DropKey(c);
    case RepairAction::kDropEntry: return DropEntry(c);
    case RepairAction::kFixEntryType: return FixEntryType(c);
    case RepairAction::kFixCookie: return FixCookie(c);
    case RepairAction::kExtendSize: return ExtendSize(c);
    case RepairAction::kLinkLostFound: return LinkLostFound(c);
    case RepairAction::kSetNlink: return SetNlink(c);
    case RepairAction::kSetDotdot: return SetDotdot(c);
    case RepairAction::kRecountStored: return RecountStored(c);
    case RepairAction::kRecountVolume: return RecountVolume(c);
  }
  return Err(EINVAL);
}

}  // namespace baton::fs
