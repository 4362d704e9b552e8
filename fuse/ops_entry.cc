// FUSE handlers for names and attributes: lookup, forget, getattr, setattr,
// readlink, mknod, mkdir, unlink, rmdir, symlink, rename, link.
#include <cerrno>

#include "fuse/fuse_fs.h"

namespace baton::fuse {

namespace {

using fs::Op;

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kLookup);
  r.parent = parent;
  r.name = name;
  fs::Reply rep;
  int err = f->Call(r, &rep);
  if (err == ENOENT && f->config().negative_timeout_s > 0) {
    fuse_entry_param e{};  // ino 0: a cacheable "no such name"
    e.entry_timeout = f->config().negative_timeout_s;
    fuse_reply_entry(req, &e);
    return;
  }
  if (err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  f->ReplyEntry(req, rep.attr);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  FsOf(req)->Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  FuseFs* f = FsOf(req);
  for (size_t i = 0; i < count; i++) f->Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  FuseFs* f = FsOf(req);
  fs::Attr known;
  double timeout_s = 0;
  if (f->TakeParentAttr(ino, &known, &timeout_s)) {
    f->ReplyAttr(req, known, timeout_s);
    return;
  }
  fs::Request r = f->NewRequest(req, Op::kGetattr);
  r.ino = ino;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  f->ReplyAttr(req, rep.attr);
}

int64_t TimespecNs(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

fs::SetattrArgs ToSetattr(const struct stat* st, int to_set, bool has_fh) {
  fs::SetattrArgs s;
  if (to_set & FUSE_SET_ATTR_MODE) {
    s.valid |= fs::kSetMode;
    s.mode = st->st_mode & 07777;
  }
  if (to_set & FUSE_SET_ATTR_UID) {
    s.valid |= fs::kSetUid;
    s.uid = st->st_uid;
  }
  if (to_set & FUSE_SET_ATTR_GID) {
    s.valid |= fs::kSetGid;
    s.gid = st->st_gid;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    s.valid |= fs::kSetSize;
    if (has_fh) s.valid |= fs::kSetSizeOpenFd;
    s.size = static_cast<uint64_t>(st->st_size);
  }
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) s.valid |= fs::kSetAtimeNow;
  else if (to_set & FUSE_SET_ATTR_ATIME) s.valid |= fs::kSetAtime, s.atime_ns = TimespecNs(st->st_atim);
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) s.valid |= fs::kSetMtimeNow;
  else if (to_set & FUSE_SET_ATTR_MTIME) s.valid |= fs::kSetMtime, s.mtime_ns = TimespecNs(st->st_mtim);
  if (to_set & FUSE_SET_ATTR_CTIME) s.valid |= fs::kSetCtime, s.ctime_ns = TimespecNs(st->st_ctim);
  return s;
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kSetattr);
  r.ino = ino;
  r.set = ToSetattr(attr, to_set, fi != nullptr);
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  f->ReplyAttr(req, rep.attr);
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kReadlink);
  r.ino = ino;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_readlink(req, rep.data.c_str());
}

// The entry-creating ops share one ending.
void CallForEntry(fuse_req_t req, const fs::Request& r) {
  FuseFs* f = FsOf(req);
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  f->ReplyEntry(req, rep.attr);
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  fs::Request r = FsOf(req)->NewRequest(req, Op::kMknod);
  r.parent = parent;
  r.name = name;
  r.mode = mode;  // the kernel has applied the umask
  r.rdev = rdev;
  CallForEntry(req, r);
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  fs::Request r = FsOf(req)->NewRequest(req, Op::kMkdir);
  r.parent = parent;
  r.name = name;
  r.mode = mode;
  CallForEntry(req, r);
}

void OpSymlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  fs::Request r = FsOf(req)->NewRequest(req, Op::kSymlink);
  r.parent = parent;
  r.name = name;
  r.data = link;
  CallForEntry(req, r);
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name) {
  fs::Request r = FsOf(req)->NewRequest(req, Op::kLink);
  r.ino = ino;
  r.new_parent = new_parent;
  r.new_name = new_name;
  CallForEntry(req, r);
}

void CallForErr(fuse_req_t req, const fs::Request& r) {
  fs::Reply rep;
  fuse_reply_err(req, FsOf(req)->Call(r, &rep));
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fs::Request r = FsOf(req)->NewRequest(req, Op::kUnlink);
  r.parent = parent;
  r.name = name;
  CallForErr(req, r);
}

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fs::Request r = FsOf(req)->NewRequest(req, Op::kRmdir);
  r.parent = parent;
  r.name = name;
  CallForErr(req, r);
}

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent, const char* new_name,
              unsigned int flags) {
  fs::Request r = FsOf(req)->NewRequest(req, Op::kRename);
  r.parent = parent;
  r.name = name;
  r.new_parent = new_parent;
  r.new_name = new_name;
  r.flags = flags;  // RENAME_NOREPLACE / RENAME_EXCHANGE; the MDS refuses others
  CallForErr(req, r);
}

}  // namespace

void AddEntryOps(fuse_lowlevel_ops* ops) {
  ops->lookup = OpLookup;
  ops->forget = OpForget;
  ops->forget_multi = OpForgetMulti;
  ops->getattr = OpGetattr;
  ops->setattr = OpSetattr;
  ops->readlink = OpReadlink;
  ops->mknod = OpMknod;
  ops->mkdir = OpMkdir;
  ops->symlink = OpSymlink;
  ops->link = OpLink;
  ops->unlink = OpUnlink;
  ops->rmdir = OpRmdir;
  ops->rename = OpRename;
}

}  // namespace baton::fuse
