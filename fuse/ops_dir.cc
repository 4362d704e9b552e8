// FUSE handlers for directory streams: opendir, readdir, readdirplus,
// releasedir, fsyncdir.
//
// Offsets: "." is at offset 1, ".." at 2, and every other entry's offset is
// its readdir cookie from the MDS (cookies start at 3 and never move while the
// entry exists), so a stream resumed at any offset neither repeats nor skips
// entries that stayed, whatever was added or removed meanwhile. A handle
// keeps the rest of the last batch fetched, so a listing costs one MDS round
// trip per batch rather than per kernel buffer.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <vector>

#include "fuse/fuse_fs.h"

namespace baton::fuse {

namespace {

using fs::Op;

constexpr uint64_t kDotOffset = 1, kDotDotOffset = 2;
constexpr uint64_t kBatchMax = 4096;  // the MDS's own limit per kReaddir

struct DirHandle {
  std::mutex mu;
  std::vector<fs::DirEntry> batch;  // fetched, not yet returned from `pos` on
  size_t pos = 0;
  uint64_t batch_after = 0;         // cookie that batch[pos] follows
  uint64_t end_after = UINT64_MAX;  // the MDS had nothing after this cookie
  fs::Ino dotdot = 0;
};

DirHandle* HandleOf(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  FuseFs* f = FsOf(req);
  fs::Request r = f->NewRequest(req, Op::kAccess);
  r.ino = ino;
  r.mode = R_OK;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) {
    fuse_reply_err(req, err);
    return;
  }
  auto* h = new DirHandle;
  fi->fh = reinterpret_cast<uint64_t>(h);
  if (fuse_reply_open(req, fi) != 0) delete h;
}

void OpReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete HandleOf(fi);
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  fuse_reply_err(req, FsOf(req)->SyncBarrier(req, ino));
}

// One kernel buffer being filled.
class DirBuffer {
 public:
  DirBuffer(fuse_req_t req, size_t size, bool plus) : req_(req), plus_(plus), buf_(size) {}
  // False when the entry does not fit (nothing was added). `bare`: no
  // attributes and no lookup reference for the kernel (. and .., and in
  // readdirplus entries whose attributes were fetched by an earlier call and
  // may be stale: the kernel would apply them, size included).
  bool Add(FuseFs* f, const std::string& name, const fs::Attr& a, bool bare, uint64_t next_off) {
    char* p = buf_.data() + used_;
    size_t room = buf_.size() - used_, need;
    if (plus_) {
      fuse_entry_param e{};
      if (bare) {
        e.attr.st_ino = a.ino;  // ino 0 in e: a plain dirent, no lookup reference
        e.attr.st_mode = a.mode & S_IFMT;
      } else {
        f->FillEntry(a, &e);
      }
      need = fuse_add_direntry_plus(req_, p, room, name.c_str(), &e, static_cast<off_t>(next_off));
      if (need <= room && !bare) {
        f->AddLookup(a.ino, 1);
        f->NoteAttr(a);
        counted_.push_back(a.ino);
      }
    } else {
      struct stat st{};
      st.st_ino = a.ino;
      st.st_mode = a.mode;
      need = fuse_add_direntry(req_, p, room, name.c_str(), &st, static_cast<off_t>(next_off));
    }
    if (need > room) return false;
    used_ += need;
    return true;
  }
  bool empty() const { return used_ == 0; }
  void Reply(FuseFs* f) {
    if (fuse_reply_buf(req_, buf_.data(), used_) == 0) return;
    for (fs::Ino ino : counted_) f->Forget(ino, 1);  // the kernel took none of them
  }
  uint64_t batch_hint() const { return std::clamp<uint64_t>(buf_.size() / (plus_ ? 136 : 24), 1, kBatchMax); }

 private:
  fuse_req_t req_;
  bool plus_;
  std::vector<char> buf_;
  size_t used_ = 0;
  std::vector<fs::Ino> counted_;  // lookup references added for this buffer
};

int DotEntries(FuseFs* f, fuse_ino_t ino, DirHandle* h, uint64_t off, DirBuffer* out) {
  fs::Attr a;
  a.mode = S_IFDIR;
  if (off < kDotOffset) {
    a.ino = ino;
    if (!out->Add(f, ".", a, true, kDotOffset)) return 0;
  }
  if (h->dotdot == 0) {
    fs::Request r;  // root credentials: reveals only the parent's number
    r.op = Op::kLookup;
    r.parent = ino;
    r.name = "..";
    fs::Reply rep;
    int err = f->Call(r, &rep);
    if (err == ENOENT) rep.attr.ino = ino;  // a removed directory: Linux lists it empty
    else if (err != 0) return err;
    h->dotdot = rep.attr.ino;
  }
  a.ino = h->dotdot;
  out->Add(f, "..", a, true, kDotDotOffset);
  return 0;
}

int Fetch(FuseFs* f, fuse_req_t req, fuse_ino_t ino, DirHandle* h, uint64_t after, uint64_t want) {
  fs::Request r = f->NewRequest(req, Op::kReaddir);
  r.ino = ino;
  r.offset = after;
  r.length = want;
  fs::Reply rep;
  if (int err = f->Call(r, &rep)) return err;
  h->batch = std::move(rep.entries);
  h->pos = 0;
  h->batch_after = after;
  h->end_after = h->batch.size() < want ? (h->batch.empty() ? after : h->batch.back().cookie) : UINT64_MAX;
  return 0;
}

// Fills `out` from offset off_in; 0 or the errno to answer instead.
int FillDirBuffer(FuseFs* f, fuse_req_t req, fuse_ino_t ino, DirHandle* h, uint64_t off, DirBuffer* out) {
  std::lock_guard<std::mutex> l(h->mu);
  if (off == 0) {  // rewinddir: look again
    h->batch.clear();
    h->pos = 0;
    h->end_after = UINT64_MAX;
  }
  if (off < kDotDotOffset) {
    if (int err = DotEntries(f, ino, h, off, out)) return err;
    off = kDotDotOffset;
  }
  bool fresh = false;  // the batch was fetched by this call
  while (true) {
    if (h->pos >= h->batch.size() || h->batch_after != off) {
      if (off == h->end_after && h->batch_after == off) break;
      if (int err = Fetch(f, req, ino, h, off, out->batch_hint())) {
        if (out->empty()) return err;
        break;  // answer what fits; the error comes back on the next call
      }
      fresh = true;
      if (h->batch.empty()) break;
    }
    const fs::DirEntry& e = h->batch[h->pos];
    if (!out->Add(f, e.name, e.attr, /*bare=*/!fresh, e.cookie)) break;
    h->pos++;
    off = h->batch_after = e.cookie;
  }
  return 0;
}

// The reply is sent with the handle's lock released: once the kernel has it,
// the program may closedir() and releasedir (another thread) frees the handle.
void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  DirBuffer out(req, size, plus);
  if (int err = FillDirBuffer(FsOf(req), req, ino, HandleOf(fi), static_cast<uint64_t>(off), &out)) {
    fuse_reply_err(req, err);
    return;
  }
  out.Reply(FsOf(req));
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Readdir(req, ino, size, off, fi, false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Readdir(req, ino, size, off, fi, true);
}

}  // namespace

void AddDirOps(fuse_lowlevel_ops* ops) {
  ops->opendir = OpOpendir;
  ops->readdir = OpReaddir;
  ops->readdirplus = OpReaddirplus;
  ops->releasedir = OpReleasedir;
  ops->fsyncdir = OpFsyncdir;
}

}  // namespace baton::fuse
