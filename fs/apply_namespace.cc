// apply(): entry creation and removal (mknod, mkdir, symlink, link, unlink,
// rmdir).
#include "fs/apply_internal.h"

namespace baton::fs {
namespace {

// 0 if parent/name is free, EEXIST if taken.
Status CheckFree(ApplyCtx& c, Ino parent, std::string_view name) {
  DentryVal dv;
  Status s = GetDentry(c.t, parent, name, &dv);
  if (s.ok()) return Err(EEXIST);
  return s.IsNotFound() ? Status::Ok() : s;
}

// The mode of the new inode, or an errno.
Status NewMode(const Request& q, uint32_t* mode) {
  uint32_t perms = q.mode & 07777 & ~q.umask;
  switch (q.op) {
    // Linux masks mkdir's mode to S_IRWXUGO|S_ISVTX; setgid comes only from
    // a setgid parent (InitOwner), setuid never.
    case Op::kMkdir: *mode = S_IFDIR | (q.mode & (0777 | S_ISVTX) & ~q.umask); return Status::Ok();
    case Op::kSymlink:
      if (q.data.empty()) return Err(ENOENT);
      if (q.data.size() > kSymlinkMaxBytes) return Err(ENAMETOOLONG);
      *mode = S_IFLNK | 0777;
      return Status::Ok();
    default: break;
  }
  uint32_t type = q.mode & S_IFMT;
  if (type == 0) type = S_IFREG;
  if (type != S_IFREG && type != S_IFIFO && type != S_IFCHR && type != S_IFBLK && type != S_IFSOCK)
    return Err(EINVAL);
  if ((type == S_IFCHR || type == S_IFBLK) && q.creds.uid != 0) return Err(EPERM);
  *mode = type | perms;
  return Status::Ok();
}

// Owner, group and setgid inheritance (Linux inode_init_owner).
void InitOwner(const InodeRec& parent, const Creds& cr, Attr* a) {
  a->uid = cr.uid;
  a->gid = cr.gid;
  if ((parent.attr.mode & S_ISGID) == 0) return;
  a->gid = parent.attr.gid;
  if (IsDir(a->mode)) {
    a->mode |= S_ISGID;
  } else if ((a->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !cr.InGroup(a->gid) && cr.uid != 0) {
    a->mode &= ~static_cast<uint32_t>(S_ISGID);
  }
}

InodeRec NewInode(ApplyCtx& c, const InodeRec& parent, uint32_t mode) {
  const Request& q = *c.req;
  InodeRec n;
  n.attr.ino = c.stamp->new_ino;
  n.attr.mode = mode;
  n.attr.nlink = IsDir(mode) ? 2 : 1;
  InitOwner(parent, q.creds, &n.attr);
  if (S_ISCHR(mode) || S_ISBLK(mode)) n.attr.rdev = q.rdev;
  n.attr.atime_ns = n.attr.mtime_ns = n.attr.ctime_ns = c.now();
  n.attr.generation = 1;
  if (IsDir(mode)) {
    n.parent = parent.attr.ino;
    n.next_cookie = kFirstDirCookie;
  }
  if (S_ISLNK(mode)) {
    n.target = q.data;
    n.attr.size = q.data.size();
  }
  return n;
}

// The MDS must assign a number; that it is unused is checked by CreateInode.
Status CheckNewIno(ApplyCtx& c) { return c.stamp->new_ino <= kRootIno ? Err(EIO) : Status::Ok(); }

// The entry parent/name as a victim of unlink/rmdir: loads parent and child.
Status LoadVictim(ApplyCtx& c, InodeRec* dir, DentryVal* dv, InodeRec* child) {
  const Request& q = *c.req;
  BATON_RETURN_IF_ERROR(LoadDir(c, q.parent, dir));
  if (int e = CheckName(q.name)) return Err(e);
  if (int e = CheckAccess(dir->attr, q.creds, kMayWrite | kMayExec)) return Err(e);
  Status s = GetDentry(c.t, q.parent, q.name, dv);
  if (s.IsNotFound()) return Err(ENOENT);
  BATON_RETURN_IF_ERROR(s);
  return LoadInode(c, dv->ino, child);
}

}  // namespace

Status ApplyCreate(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec parent;
  BATON_RETURN_IF_ERROR(LoadDir(c, q.parent, &parent));
  if (int e = CheckName(q.name)) return Err(e);
  if (IsDotOrDotDot(q.name)) return Err(EEXIST);
  if (int e = CheckAccess(parent.attr, q.creds, kMayWrite | kMayExec)) return Err(e);
  BATON_RETURN_IF_ERROR(CheckFree(c, q.parent, q.name));
  uint32_t mode = 0;
  BATON_RETURN_IF_ERROR(NewMode(q, &mode));
  if (IsDir(mode) && parent.attr.nlink >= kLinkMax) return Err(EMLINK);
  BATON_RETURN_IF_ERROR(CheckNewIno(c));
  InodeRec n = NewInode(c, parent, mode);
  BATON_RETURN_IF_ERROR(CheckRoom(c, InodeCharge(n.target.size()) + DentryCharge(q.name.size())));
  BATON_RETURN_IF_ERROR(CreateInode(c, n));  // the last check (a number in use) and the first change
  // --- no failure past this point but a store failure.
  Charge(c, InodeCharge(n.target.size()), 0);
  BATON_RETURN_IF_ERROR(AddEntry(c, &parent, q.name, n.attr.ino, mode & S_IFMT));
  if (IsDir(mode)) parent.attr.nlink++;
  parent.attr.mtime_ns = parent.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, parent));
  c.st.inode_count++;
  c.res->reply.attr = n.attr;
  c.res->reply.parent_attr = parent.attr;
  return Status::Ok();
}

Status ApplyLink(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec src, dir;
  BATON_RETURN_IF_ERROR(LoadInode(c, q.ino, &src));
  if (IsDir(src.attr.mode)) return Err(EPERM);
  BATON_RETURN_IF_ERROR(LoadDir(c, q.new_parent, &dir));
  if (int e = CheckName(q.new_name)) return Err(e);
  if (IsDotOrDotDot(q.new_name)) return Err(EEXIST);
  if (int e = CheckAccess(dir.attr, q.creds, kMayWrite | kMayExec)) return Err(e);
  if (src.attr.nlink == 0) return Err(ENOENT);
  if (src.attr.nlink >= kLinkMax) return Err(EMLINK);
  BATON_RETURN_IF_ERROR(CheckFree(c, q.new_parent, q.new_name));
  BATON_RETURN_IF_ERROR(CheckRoom(c, DentryCharge(q.new_name.size())));
  // --- mutations
  BATON_RETURN_IF_ERROR(AddEntry(c, &dir, q.new_name, src.attr.ino, src.attr.mode & S_IFMT));
  dir.attr.mtime_ns = dir.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, dir));
  src.attr.nlink++;
  src.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, src));
  c.res->reply.attr = src.attr;
  c.res->reply.parent_attr = dir.attr;
  return Status::Ok();
}

Status ApplyUnlink(ApplyCtx& c) {
  if (IsDotOrDotDot(c.req->name)) return Err(EISDIR);  // as Linux: both name directories
  InodeRec dir, child;
  DentryVal dv;
  BATON_RETURN_IF_ERROR(LoadVictim(c, &dir, &dv, &child));
  if (IsDir(child.attr.mode)) return Err(EISDIR);
  if (int e = CheckSticky(dir.attr, child.attr, c.req->creds)) return Err(e);
  // --- mutations
  BATON_RETURN_IF_ERROR(DelEntry(c, dir.attr.ino, c.req->name, dv.cookie));
  dir.attr.mtime_ns = dir.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, dir));
  c.res->reply.parent_attr = dir.attr;
  return DropLink(c, &child);
}

Status ApplyRmdir(ApplyCtx& c) {
  if (c.req->name == ".") return Err(EINVAL);
  if (c.req->name == "..") return Err(ENOTEMPTY);
  InodeRec dir, child;
  DentryVal dv;
  BATON_RETURN_IF_ERROR(LoadVictim(c, &dir, &dv, &child));
  if (!IsDir(child.attr.mode)) return Err(ENOTDIR);
  if (child.attr.ino == kRootIno || child.attr.ino == dir.attr.ino) return Err(EBUSY);
  if (int e = CheckSticky(dir.attr, child.attr, c.req->creds)) return Err(e);
  BATON_ASSIGN_OR_RETURN(bool empty, DirIsEmpty(c.t, child.attr.ino));
  if (!empty) return Err(ENOTEMPTY);
  // --- mutations
  BATON_RETURN_IF_ERROR(DelEntry(c, dir.attr.ino, c.req->name, dv.cookie));
  if (dir.attr.nlink > 2) dir.attr.nlink--;
  dir.attr.mtime_ns = dir.attr.ctime_ns = c.now();
  BATON_RETURN_IF_ERROR(StoreInode(c, dir));
  c.res->reply.parent_attr = dir.attr;
  return DeleteInode(c, child);
}

}  // namespace baton::fs
