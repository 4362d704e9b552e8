// FUSE handlers for open files: open, create, read, write, flush, release,
// fsync, fallocate, lseek.
//
// Every write is journaled and durable before the MDS answers it, so flush
// has nothing to push and fsync is a barrier the MDS answers once every
// earlier request of this session is durable (never ENOSYS: the kernel would
// stop sending fsync and report success with nothing done).
#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "fuse/fuse_fs.h"

namespace baton::fuse {

namespace {

using fs::Op;

void SetOpenFlags(FuseFs*, fuse_file_info* fi) {
  fi->keep_cache = 0;  // drop cached pages at open: close-to-open consistency across mounts
  fi->direct_io = 0;
  fi->fh = 0;
}

int TruncateOpen(FuseFs* f, fuse_req_t req, fs::Ino ino, fs::Attr* attr) {
  fs::Request r = f->NewRequest(req, Op::kSetattr);
  r.ino = ino;
  r.set.valid = fs::kSetSize | fs::kSetSizeOpenFd;  // write permission was checked by the open
  r.set.size = 0;
  fs::Reply rep;
  int err = f->Call(r, &rep);
  if (err == 0) *attr = rep.attr;
  return err;
}

// O_TRUNC arrives here (FUSE_CAP_ATOMIC_O_TRUNC, on by default) rather than
// as a separate setattr: the kOpen checks write permission, then truncate.
void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  FuseFs* f = FsOf(req);
  fs::Attr attr;
  int err = f->OpenInode(req, ino, fi->flags, &attr);
  if (err == 0 && (fi->flags & O_TRUNC)) {  // even when empty: O_TRUNC updates mtime and ctime
    err = TruncateOpen(f, req, ino, &attr);
    if (err != 0) f->ReleaseInode(ino);
  }
  if (err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  f->RefreshIfChanged(attr);
  SetOpenFlags(f, fi);
  if (fuse_reply_open(req, fi) != 0) f->ReleaseInode(ino);  // the kernel never saw the open
}

// O_CREAT without O_EXCL that lost a race with another creator: open the
// file that won, as open(2) would.
int OpenExisting(FuseFs* f, fuse_req_t req, fuse_ino_t parent, const char* name, fuse_file_info* fi,
                 fs::Attr* attr) {
  fs::Request r = f->NewRequest(req, Op::kLookup);
  r.parent = parent;
  r.name = name;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) return err;
  if (S_ISDIR(rep.attr.mode)) return EISDIR;
  // FUSE's create must answer with a regular file (the kernel turns anything
  // else into EIO); a FIFO, device or symlink that won the race is EEXIST.
  if (!S_ISREG(rep.attr.mode)) return EEXIST;
  if (int err = f->OpenInode(req, rep.attr.ino, fi->flags, attr)) return err;
  if (!(fi->flags & O_TRUNC)) return 0;
  int err = TruncateOpen(f, req, rep.attr.ino, attr);
  if (err != 0) f->ReleaseInode(rep.attr.ino);
  return err;
}

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kMknod);
  r.parent = parent;
  r.name = name;
  r.mode = S_IFREG | (mode & 07777);  // the kernel has applied the umask
  r.flags = fs::kMknodOpen;            // and open it (POSIX grants the open whatever the mode)
  const uint64_t mark = f->ReleaseMark();
  fs::Reply rep;
  int err = f->Call(r, &rep);
  fs::Attr attr = rep.attr;
  if (err == 0) {
    err = f->CountCreatedOpen(req, attr.ino, fi->flags, mark);
    // A file just made has no xattrs: the kernel's security.capability
    // question before its first write needs no round trip.
    if (err == 0) f->NoteWithoutCaps(attr.ino);
  } else if (err == EEXIST && !(fi->flags & O_EXCL)) {
    err = OpenExisting(f, req, parent, name, fi, &attr);
  }
  if (err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  SetOpenFlags(f, fi);
  fuse_entry_param e;
  f->FillEntry(attr, &e);
  f->AddLookup(attr.ino, 1);
  f->NoteAttr(attr);
  if (fuse_reply_create(req, &e, fi) != 0) {
    f->Forget(attr.ino, 1);
    f->ReleaseInode(attr.ino);
  }
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kRead);
  r.ino = ino;
  r.offset = static_cast<uint64_t>(off);
  r.length = std::min<uint64_t>(size, fs::kReadMaxBytes);
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_buf(req, rep.data.data(), rep.data.size());
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kWrite);
  r.ino = ino;
  r.offset = static_cast<uint64_t>(off);
  r.data.assign(buf, size);  // max_write keeps size within fs::kWriteMaxBytes
  // Without the writeback cache the kernel computes an O_APPEND position from
  // its cached size, which another mount may have outgrown: let the MDS
  // append at the true end. With it, the kernel owns the positions.
  if ((fi->flags & O_APPEND) && !f->config().writeback_cache) r.flags = fs::kWriteAppend;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  f->NoteAttr(rep.attr);  // the kernel extends its size itself
  fuse_reply_write(req, rep.offset);
}

void OpFlush(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
  fuse_reply_err(req, 0);  // every write was durable when answered
}

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  FsOf(req)->ReleaseInode(ino);
  fuse_reply_err(req, 0);
}

void OpFsync(fuse_req_t req, fuse_ino_t ino, int /*datasync*/, fuse_file_info*) {
  fuse_reply_err(req, FsOf(req)->SyncBarrier(req, ino));
}

void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info*) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kFallocate);
  r.ino = ino;
  r.flags = static_cast<uint32_t>(mode);
  r.offset = static_cast<uint64_t>(offset);
  r.length = static_cast<uint64_t>(length);
  fs::Reply rep;
  fuse_reply_err(req, f->Call(r, &rep));
}

void OpLseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info*) {
  FuseFs* f = FsOf(req);
  if (whence != SEEK_DATA && whence != SEEK_HOLE) {
    fuse_reply_err(req, EINVAL);  // the kernel handles SEEK_SET/CUR/END itself
    return;
  }
  fs::Request r = f->NewRequest(req, Op::kSeekData);
  r.ino = ino;
  r.offset = static_cast<uint64_t>(off);
  r.flags = static_cast<uint32_t>(whence);
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  fuse_reply_lseek(req, static_cast<off_t>(rep.offset));
}

}  // namespace

void AddFileOps(fuse_lowlevel_ops* ops) {
  ops->open = OpOpen;
  ops->create = OpCreate;
  ops->read = OpRead;
  ops->write = OpWrite;
  ops->flush = OpFlush;
  ops->release = OpRelease;
  ops->fsync = OpFsync;
  ops->fallocate = OpFallocate;
  ops->lseek = OpLseek;
}

}  // namespace baton::fuse
