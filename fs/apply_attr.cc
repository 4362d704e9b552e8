// apply(): setattr, xattrs and reclaim.
#include <sys/xattr.h>

#include "fs/apply_internal.h"

namespace baton::fs {
namespace {

constexpr uint32_t kExplicitTimes = kSetAtime | kSetMtime | kSetCtime;
constexpr uint32_t kNowTimes = kSetAtimeNow | kSetMtimeNow;

Status CheckChown(const Attr& a, const Creds& cr, const SetattrArgs& s) {
  if (cr.uid == 0) return Status::Ok();
  if ((s.valid & kSetUid) && !(cr.uid == a.uid && s.uid == a.uid)) return Err(EPERM);
  if ((s.valid & kSetGid) && !(cr.uid == a.uid && (cr.InGroup(s.gid) || s.gid == a.gid))) return Err(EPERM);
  return Status::Ok();
}

Status CheckSetattr(const Attr& a, const Creds& cr, const SetattrArgs& s) {
  bool owner = IsOwnerOrRoot(a, cr);
  if ((s.valid & kSetMode) && !owner) return Err(EPERM);
  BATON_RETURN_IF_ERROR(CheckChown(a, cr, s));
  if (s.valid & kSetSize) {
    if (IsDir(a.mode)) return Err(EISDIR);
    if (!IsReg(a.mode)) return Err(EINVAL);
    if (s.size > kFileSizeMaxBytes) return Err(EFBIG);
    // ftruncate on a descriptor open for writing: checked at open (Linux).
    if ((s.valid & kSetSizeOpenFd) == 0)
      if (int e = CheckAccess(a, cr, kMayWrite)) return Err(e);
  }
  if ((s.valid & kExplicitTimes) && !owner) return Err(EPERM);
  if ((s.valid & kNowTimes) && !owner)
    if (int e = CheckAccess(a, cr, kMayWrite)) return Err(e);
  return Status::Ok();
}

void SetOwnerAndMode(Attr* a, const Creds& cr, const SetattrArgs& s) {
  if (s.valid & (kSetUid | kSetGid)) {
    if (s.valid & kSetUid) a->uid = s.uid;
    if (s.valid & kSetGid) a->gid = s.gid;
    if (!IsDir(a->mode)) a->mode = KillPriv(a->mode);
  }
  if (s.valid & kSetMode) {
    a->mode = (a->mode & S_IFMT) | (s.mode & 07777);
    if (cr.uid != 0 && !cr.InGroup(a->gid)) a->mode &= ~static_cast<uint32_t>(S_ISGID);
  }
}

void SetTimes(Attr* a, const SetattrArgs& s, int64_t now) {
  if (s.valid & kSetAtime) a->atime_ns = s.atime_ns;
  if (s.valid & kSetAtimeNow) a->atime_ns = now;
  if (s.valid & kSetMtime) a->mtime_ns = s.mtime_ns;
  if (s.valid & kSetMtimeNow) a->mtime_ns = now;
  a->ctime_ns = (s.valid & kSetCtime) ? s.ctime_ns : now;
}

bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

int XattrWriteRule(const Attr& a, const Creds& cr, std::string_view name) {
  if (name.empty() || name.size() > kXattrNameMaxBytes) return ERANGE;
  if (HasPrefix(name, "user.")) {
    if (name.size() == 5) return EINVAL;
    if (!IsReg(a.mode) && !IsDir(a.mode)) return EPERM;
    return CheckAccess(a, cr, kMayWrite);
  }
  if (HasPrefix(name, "trusted.")) return cr.uid == 0 ? 0 : EPERM;
  // Without an LSM, Linux needs CAP_SYS_ADMIN to change security.*: root only.
  if (HasPrefix(name, "security.")) return cr.uid == 0 ? 0 : EPERM;
  return EOPNOTSUPP;  // system.* (ACLs) and unknown namespaces
}

Status ApplySetattr(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, q.ino, &r));
  BATON_RETURN_IF_ERROR(CheckSetattr(r.attr, q.creds, q.set));
  // --- mutations
  if (q.set.valid & kSetSize) {
    BATON_RETURN_IF_ERROR(TruncateData(c, &r, q.set.size));
    r.attr.size = q.set.size;
    r.attr.mtime_ns = c.now();
    if (q.creds.uid != 0) r.attr.mode = KillPriv(r.attr.mode);
  }
  SetOwnerAndMode(&r.attr, q.creds, q.set);
  SetTimes(&r.attr, q.set, c.now());
  return StoreInodeAndReply(c, &r);
}

Status ApplySetxattr(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, q.ino, &r));
  if (q.flags & ~static_cast<uint32_t>(XATTR_CREATE | XATTR_REPLACE)) return Err(EINVAL);
  if (int e = XattrWriteRule(r.attr, q.creds, q.name)) return Err(e);
  if (q.data.size() > kXattrValueMaxBytes) return Err(E2BIG);
  NameKey k(q.ino, q.name);
  MDB_val v;
  Status got = GetRaw(c.t, c.t.d.xattrs, k.val(), &v);
  if (!got.ok() && !got.IsNotFound()) return got;
  if (got.ok() && (q.flags & XATTR_CREATE)) return Err(EEXIST);
  if (got.IsNotFound() && (q.flags & XATTR_REPLACE)) return Err(ENODATA);
  uint64_t old_charge = got.ok() ? XattrCharge(q.name.size(), v.mv_size) : 0;
  uint64_t new_charge = XattrCharge(q.name.size(), q.data.size());
  BATON_RETURN_IF_ERROR(CheckRoom(c, new_charge > old_charge ? new_charge - old_charge : 0));
  // --- mutations
  Charge(c, new_charge, old_charge);
  BATON_RETURN_IF_ERROR(PutRaw(c.t, c.t.d.xattrs, k.val(), q.data));
  r.attr.ctime_ns = c.now();
  return StoreInode(c, r);
}

Status ApplyRemovexattr(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, q.ino, &r));
  if (int e = XattrWriteRule(r.attr, q.creds, q.name)) return Err(e);
  NameKey k(q.ino, q.name);
  MDB_val v;
  Status got = GetRaw(c.t, c.t.d.xattrs, k.val(), &v);
  if (got.IsNotFound()) return Err(ENODATA);
  BATON_RETURN_IF_ERROR(got);
  // --- mutations
  Charge(c, 0, XattrCharge(q.name.size(), v.mv_size));
  BATON_RETURN_IF_ERROR(DelRaw(c.t, c.t.d.xattrs, k.val()));
  r.attr.ctime_ns = c.now();
  return StoreInode(c, r);
}

Status ApplyReclaim(ApplyCtx& c) {
  InodeRec r;
  Status s = ReadInode(c, c.req->ino, &r);
  if (s.IsNotFound()) return Status::Ok();  // nothing to reclaim
  BATON_RETURN_IF_ERROR(s);
  if (r.attr.nlink != 0) return Status::Ok();
  BATON_ASSIGN_OR_RETURN(bool was_orphan, DelOrphan(c.t, c.req->ino));
  if (!was_orphan) return Status::Ok();
  return DeleteInode(c, r);
}

}  // namespace baton::fs
