// FUSE handlers for the rest: init, statfs, access and the xattr family;
// and MakeLowlevelOps(), the one table of every handler.
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "fuse/fuse_fs.h"

namespace baton::fuse {

namespace {

using fs::Op;

void OpInit(void* userdata, fuse_conn_info* conn) {
  auto* f = static_cast<FuseFs*>(userdata);
  conn->max_write = fs::kWriteMaxBytes;  // one journal record per write request
  if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV) conn->want |= FUSE_CAP_HANDLE_KILLPRIV;  // the MDS clears S_ISUID/S_ISGID
  if (f->config().writeback_cache) {
    if (conn->capable & FUSE_CAP_WRITEBACK_CACHE) conn->want |= FUSE_CAP_WRITEBACK_CACHE;
    else LOG_WARN("fuse", "the kernel has no writeback cache for FUSE; writing through");
  } else {
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  }
  // Byte-range and flock locks are left to the kernel: they hold within one
  // mount, not across mounts (README, "Mount options").
  conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  LOG_INFO("fuse", "mounted (max_write %u, writeback cache %s)", conn->max_write,
           (conn->want & FUSE_CAP_WRITEBACK_CACHE) ? "on" : "off");
}

void OpStatfs(fuse_req_t req, fuse_ino_t) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kStatfs);
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) return (void)fuse_reply_err(req, err);
  const fs::StatfsInfo& s = rep.statfs;
  struct statvfs st{};
  st.f_bsize = s.block_size;
  st.f_frsize = s.block_size;
  st.f_blocks = s.blocks_total;
  st.f_bfree = s.blocks_free;
  st.f_bavail = s.blocks_avail;
  st.f_files = s.files_total;
  st.f_ffree = s.files_free;
  st.f_favail = s.files_free;
  st.f_namemax = s.name_max;
  fuse_reply_statfs(req, &st);
}

void OpAccess(fuse_req_t req, fuse_ino_t ino, int mask) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kAccess);
  r.ino = ino;
  r.mode = static_cast<uint32_t>(mask);
  fs::Reply rep;
  fuse_reply_err(req, f->Call(r, &rep));
}

constexpr const char* kCapsXattr = "security.capability";

void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
  FuseFs* f = FsOf(req);
  f->ForgetCaps(ino);
  fs::Request r = f->NewRequest(req, Op::kSetxattr);
  r.ino = ino;
  r.name = name;
  r.data.assign(value, size);
  r.flags = static_cast<uint32_t>(flags);
  fs::Reply rep;
  fuse_reply_err(req, f->Call(r, &rep));
}

// getxattr/listxattr: size 0 asks for the length only; a smaller buffer than
// the value is ERANGE.
void ReplySized(fuse_req_t req, const std::string& data, size_t size) {
  if (size == 0) fuse_reply_xattr(req, data.size());
  else if (data.size() > size) fuse_reply_err(req, ERANGE);
  else fuse_reply_buf(req, data.data(), data.size());
}

void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  FuseFs* f = FsOf(req);
  const bool caps = strcmp(name, kCapsXattr) == 0;
  if (caps && f->KnownWithoutCaps(ino)) return (void)fuse_reply_err(req, ENODATA);
  fs::Request r = f->NewRequest(req, Op::kGetxattr);
  r.ino = ino;
  r.name = name;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    if (caps && err == ENODATA) f->NoteWithoutCaps(ino);
    return (void)fuse_reply_err(req, err);
  }
  ReplySized(req, rep.data, size);
}

void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kListxattr);
  r.ino = ino;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) return (void)fuse_reply_err(req, err);
  ReplySized(req, rep.data, size);
}

void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  FuseFs* f = FsOf(req);
  f->ForgetCaps(ino);
  fs::Request r = f->NewRequest(req, Op::kRemovexattr);
  r.ino = ino;
  r.name = name;
  fs::Reply rep;
  fuse_reply_err(req, f->Call(r, &rep));
}

}  // namespace

void AddMiscOps(fuse_lowlevel_ops* ops) {
  ops->init = OpInit;
  ops->statfs = OpStatfs;
  ops->access = OpAccess;
  ops->setxattr = OpSetxattr;
  ops->getxattr = OpGetxattr;
  ops->listxattr = OpListxattr;
  ops->removexattr = OpRemovexattr;
}

fuse_lowlevel_ops MakeLowlevelOps() {
  fuse_lowlevel_ops ops{};
  AddEntryOps(&ops);
  AddFileOps(&ops);
  AddDirOps(&ops);
  AddMiscOps(&ops);
  return ops;
}

}  // namespace baton::fuse
