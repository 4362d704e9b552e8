// apply(): rename, including RENAME_NOREPLACE and RENAME_EXCHANGE.
#include <linux/fs.h>

#include "fs/apply_internal.h"

namespace baton::fs {
namespace {

constexpr uint32_t kNoReplace = RENAME_NOREPLACE;
constexpr uint32_t kExchange = RENAME_EXCHANGE;
constexpr int kDepthMax = 1 << 20;

// Everything rename learns before it changes anything.
struct RenamePlan {
  InodeRec src;
  DentryVal src_dv;
  bool has_dst = false;
  InodeRec dst;
  DentryVal dst_dv;
};

// True if `anc` is `ino` or one of its ancestors ('..' chain).
Status IsSelfOrAncestor(ApplyCtx& c, Ino anc, Ino ino, bool* out) {
  for (int i = 0; i < kDepthMax; i++) {
    if (ino == anc) return (*out = true, Status::Ok());
    if (ino == kRootIno) return (*out = false, Status::Ok());
    InodeRec r;
    BATON_RETURN_IF_ERROR(ReadInode(c, ino, &r));
    if (r.parent == ino || r.parent == 0) return (*out = false, Status::Ok());
    ino = r.parent;
  }
  return Err(ELOOP);
}

Status LoadEntry(ApplyCtx& c, Ino parent, const std::string& name, DentryVal* dv, InodeRec* r, bool* found) {
  Status s = GetDentry(c.t, parent, name, dv);
  *found = s.ok();
  if (s.IsNotFound()) return Status::Ok();
  BATON_RETURN_IF_ERROR(s);
  return LoadInode(c, dv->ino, r);
}

Status CheckNames(const Request& q) {
  if (int e = CheckName(q.name)) return Err(e);
  if (int e = CheckName(q.new_name)) return Err(e);
  if (IsDotOrDotDot(q.name) || IsDotOrDotDot(q.new_name)) return Err(EBUSY);
  if (q.flags & ~(kNoReplace | kExchange)) return Err(EINVAL);
  if ((q.flags & kNoReplace) && (q.flags & kExchange)) return Err(EINVAL);
  return Status::Ok();
}

// A directory `dir` moving to parent `to`: no loops, and '..' must be writable.
Status CheckDirMove(ApplyCtx& c, const InodeRec& dir, Ino from, Ino to) {
  if (!IsDir(dir.attr.mode) || from == to) return Status::Ok();
  bool loop = false;
  BATON_RETURN_IF_ERROR(IsSelfOrAncestor(c, dir.attr.ino, to, &loop));
  if (loop) return Err(EINVAL);
  if (int e = CheckAccess(dir.attr, c.req->creds, kMayWrite)) return Err(e);
  return Status::Ok();
}

Status CheckReplace(ApplyCtx& c, const RenamePlan& p) {
  bool src_dir = IsDir(p.src.attr.mode), dst_dir = IsDir(p.dst.attr.mode);
  if (src_dir && !dst_dir) return Err(ENOTDIR);
  if (!src_dir && dst_dir) return Err(EISDIR);
  if (!dst_dir) return Status::Ok();
  BATON_ASSIGN_OR_RETURN(bool empty, DirIsEmpty(c.t, p.dst.attr.ino));
  return empty ? Status::Ok() : Err(ENOTEMPTY);
}

// All checks; *noop when source and target are the same inode.
Status Plan(ApplyCtx& c, RenamePlan* p, bool* noop) {
  const Request& q = *c.req;
  InodeRec from, to;
  BATON_RETURN_IF_ERROR(LoadDir(c, q.parent, &from));
  BATON_RETURN_IF_ERROR(LoadDir(c, q.new_parent, &to));
  BATON_RETURN_IF_ERROR(CheckNames(q));
  if (int e = CheckAccess(from.attr, q.creds, kMayWrite | kMayExec)) return Err(e);
  if (int e = CheckAccess(to.attr, q.creds, kMayWrite | kMayExec)) return Err(e);
  bool found = false;
  BATON_RETURN_IF_ERROR(LoadEntry(c, q.parent, q.name, &p->src_dv, &p->src, &found));
  if (!found) return Err(ENOENT);
  BATON_RETURN_IF_ERROR(LoadEntry(c, q.new_parent, q.new_name, &p->dst_dv, &p->dst, &p->has_dst));
  if ((q.flags & kExchange) && !p->has_dst) return Err(ENOENT);
  if ((q.flags & kNoReplace) && p->has_dst) return Err(EEXIST);
  *noop = p->has_dst && p->dst.attr.ino == p->src.attr.ino;
  if (*noop) return Status::Ok();
  if (int e = CheckSticky(from.attr, p->src.attr, q.creds)) return Err(e);
  if (p->has_dst)
    if (int e = CheckSticky(to.attr, p->dst.attr, q.creds)) return Err(e);
  BATON_RETURN_IF_ERROR(CheckDirMove(c, p->src, q.parent, q.new_parent));
  if (q.flags & kExchange) return CheckDirMove(c, p->dst, q.new_parent, q.parent);
  if (p->has_dst) return CheckReplace(c, *p);
  uint64_t add = DentryCharge(q.new_name.size()), drop = DentryCharge(q.name.size());
  return CheckRoom(c, add > drop ? add - drop : 0);  // a longer name may grow the store
}

Status DoExchange(ApplyCtx& c, RenamePlan& p) {
  const Request& q = *c.req;
  BATON_RETURN_IF_ERROR(SetDentry(c.t, q.parent, q.name,
                                  DentryVal{p.dst.attr.ino, p.dst_dv.type, p.src_dv.cookie}));
  BATON_RETURN_IF_ERROR(SetDentry(c.t, q.new_parent, q.new_name,
                                  DentryVal{p.src.attr.ino, p.src_dv.type, p.dst_dv.cookie}));
  int from_delta = 0, to_delta = 0;
  if (q.parent != q.new_parent) {
    if (IsDir(p.src.attr.mode)) p.src.parent = q.new_parent, from_delta--, to_delta++;
    if (IsDir(p.dst.attr.mode)) p.dst.parent = q.parent, to_delta--, from_delta++;
  }
  p.src.attr.ctime_ns = p.dst.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, p.src));
  BATON_RETURN_IF_ERROR(StoreInode(c, p.dst));
  BATON_RETURN_IF_ERROR(TouchDir(c, q.parent, from_delta));
  return q.parent == q.new_parent ? Status::Ok() : TouchDir(c, q.new_parent, to_delta);
}

Status DoMove(ApplyCtx& c, RenamePlan& p) {
  const Request& q = *c.req;
  bool src_dir = IsDir(p.src.attr.mode);
  bool moved_dir = src_dir && q.parent != q.new_parent;
  int to_delta = moved_dir ? 1 : 0;
  if (p.has_dst) {
    BATON_RETURN_IF_ERROR(DelEntry(c, q.new_parent, q.new_name, p.dst_dv.cookie));
    if (IsDir(p.dst.attr.mode)) {
      BATON_RETURN_IF_ERROR(DeleteInode(c, p.dst));
      to_delta--;
    } else {
      BATON_RETURN_IF_ERROR(DropLink(c, &p.dst));
    }
  }
  BATON_RETURN_IF_ERROR(DelEntry(c, q.parent, q.name, p.src_dv.cookie));
  InodeRec to;
  BATON_RETURN_IF_ERROR(ReadInode(c, q.new_parent, &to));
  BATON_RETURN_IF_ERROR(AddEntry(c, &to, q.new_name, p.src.attr.ino, p.src_dv.type));
  to.attr.nlink = static_cast<uint32_t>(static_cast<int64_t>(to.attr.nlink) + to_delta);
  to.attr.mtime_ns = to.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, to));
  if (q.parent != q.new_parent) BATON_RETURN_IF_ERROR(TouchDir(c, q.parent, moved_dir ? -1 : 0));
  if (moved_dir) p.src.parent = q.new_parent;
  p.src.attr.ctime_ns = c.now();
  return StoreInode(c, p.src);
}

}  // namespace

Status ApplyRename(ApplyCtx& c) {
  RenamePlan p;
  bool noop = false;
  BATON_RETURN_IF_ERROR(Plan(c, &p, &noop));
  if (noop) return Status::Ok();
  // --- mutations
  if (c.req->flags & kExchange) return DoExchange(c, p);
  return DoMove(c, p);
}

}  // namespace baton::fs
