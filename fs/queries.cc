// Query(): read-only operations served from one LMDB read transaction, plus
// LookupStoredReply and ListOrphans.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs/apply.h"
#include "fs/lmdb_txn.h"
#include "fs/meta_store_impl.h"
#include "fs/posix_rules.h"
#include "fs/store_ops.h"

namespace baton::fs {
namespace {

constexpr uint64_t kReaddirEntriesMax = 4096;
constexpr uint64_t kFilesMax = 1ull << 32;

struct QCtx {
  TxnRef t;
  uint32_t chunk_bytes;
  const Request& q;
  LmdbMetaStore& store;
  Reply* rep;
};

Status Err(int e) { return Status::Posix(e); }

Status Load(QCtx& c, Ino ino, InodeRec* r) {
  Status s = GetInode(c.t, ino, r);
  return s.IsNotFound() ? Err(ENOENT) : s;
}

void FillAttr(const InodeRec& r, Attr* out) {
  *out = r.attr;
  out->blocks = (r.stored_bytes + 511) / 512;
}

Status QLookup(QCtx& c) {
  InodeRec dir, child;
  BATON_RETURN_IF_ERROR(Load(c, c.q.parent, &dir));
  if (!IsDir(dir.attr.mode)) return Err(ENOTDIR);
  if (c.q.name.size() > kNameMaxBytes) return Err(ENAMETOOLONG);
  if (int e = CheckAccess(dir.attr, c.q.creds, kMayExec)) return Err(e);
  Ino ino = 0;
  if (c.q.name == ".") {
    ino = dir.attr.ino;
  } else if (c.q.name == "..") {
    ino = dir.parent;
  } else {
    DentryVal dv;
    Status s = GetDentry(c.t, c.q.parent, c.q.name, &dv);
    if (s.IsNotFound()) return Err(ENOENT);
    BATON_RETURN_IF_ERROR(s);
    ino = dv.ino;
  }
  BATON_RETURN_IF_ERROR(Load(c, ino, &child));
  FillAttr(child, &c.rep->attr);
  return Status::Ok();
}

Status QReaddir(QCtx& c) {
  InodeRec dir;
  BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &dir));
  if (!IsDir(dir.attr.mode)) return Err(ENOTDIR);
  uint64_t max = c.q.length == 0 ? kReaddirEntriesMax : std::min(c.q.length, kReaddirEntriesMax);
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.dircookies));
  Key16 start = PairKey(c.q.ino, c.q.offset == UINT64_MAX ? UINT64_MAX : c.q.offset + 1);
  MDB_val k = start.val(), v;
  int rc = c.q.offset == UINT64_MAX ? MDB_NOTFOUND : cur.Get(&k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS && c.rep->entries.size() < max; rc = cur.Get(&k, &v, MDB_NEXT)) {
    const char* kp = static_cast<const char*>(k.mv_data);
    if (k.mv_size != 16 || LoadU64BE(kp) != c.q.ino) break;
    DirEntry e;
    e.name.assign(View(v));
    e.cookie = LoadU64BE(kp + 8);
    DentryVal dv;
    BATON_RETURN_IF_ERROR(GetDentry(c.t, c.q.ino, e.name, &dv));
    InodeRec child;
    BATON_RETURN_IF_ERROR(GetInode(c.t, dv.ino, &child));
    e.ino = dv.ino;
    e.type = dv.type;
    FillAttr(child, &e.attr);
    c.rep->entries.push_back(std::move(e));
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "readdir cursor");
  return Status::Ok();
}

Status QRead(QCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
  if (IsDir(r.attr.mode)) return Err(EISDIR);
  if (!IsReg(r.attr.mode)) return Err(EINVAL);
  if (c.q.offset >= r.attr.size) return Status::Ok();
  uint64_t len = std::min({c.q.length, uint64_t{kReadMaxBytes}, r.attr.size - c.q.offset});
  const uint64_t cs = c.chunk_bytes, from = c.q.offset, to = from + len;
  std::string& out = c.rep->data;
  out.assign(len, '\0');
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.chunks));
  Key16 start = PairKey(r.attr.ino, from / cs);
  MDB_val k = start.val(), v;
  int rc = cur.Get(&k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
    const char* kp = static_cast<const char*>(k.mv_data);
    if (k.mv_size != 16 || LoadU64BE(kp) != r.attr.ino) break;
    uint64_t base = LoadU64BE(kp + 8) * cs;
    if (base >= to) break;
    uint64_t s = std::max(base, from), e = std::min(base + v.mv_size, to);
    if (s < e) std::memcpy(out.data() + (s - from), static_cast<const char*>(v.mv_data) + (s - base), e - s);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "read cursor");
  return Status::Ok();
}

bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Whether `name` is visible/readable to the caller: 0 or errno.
int XattrReadRule(const Attr& a, const Creds& cr, std::string_view name) {
  if (HasPrefix(name, "user.")) {
    if (!IsReg(a.mode) && !IsDir(a.mode)) return ENODATA;
    return CheckAccess(a, cr, kMayRead);
  }
  if (HasPrefix(name, "trusted.")) return cr.uid == 0 ? 0 : ENODATA;
  if (HasPrefix(name, "security.")) return 0;
  return EOPNOTSUPP;
}

Status QGetxattr(QCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
  if (c.q.name.empty() || c.q.name.size() > kXattrNameMaxBytes) return Err(ERANGE);
  if (int e = XattrReadRule(r.attr, c.q.creds, c.q.name)) return Err(e);
  NameKey k(c.q.ino, c.q.name);
  MDB_val v;
  Status s = GetRaw(c.t, c.t.d.xattrs, k.val(), &v);
  if (s.IsNotFound()) return Err(ENODATA);
  BATON_RETURN_IF_ERROR(s);
  c.rep->data.assign(View(v));
  return Status::Ok();
}

Status QListxattr(QCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.xattrs));
  Key8 start = InoKey(c.q.ino);
  MDB_val k = start.val(), v;
  int rc = cur.Get(&k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
    if (k.mv_size < 8 || std::memcmp(k.mv_data, start.b, 8) != 0) break;
    std::string_view name = View(k).substr(8);
    if (HasPrefix(name, "trusted.") && c.q.creds.uid != 0) continue;
    c.rep->data.append(name);
    c.rep->data.push_back('\0');
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "xattr cursor");
  return Status::Ok();
}

// Blocks from the store's capacity rule (total = capacity_bytes, free =
// what is left of it), free and avail capped by the disk under the store.
Status QStatfs(QCtx& c) {
  PersistState st;
  BATON_RETURN_IF_ERROR(ReadPersistState(c.t.txn, c.t.d, &st));
  StatfsInfo& f = c.rep->statfs;
  c.rep->has_statfs = true;
  uint64_t capacity = st.capacity_bytes != 0 ? st.capacity_bytes : CapacityForMapSize(c.store.options().map_size_bytes);
  uint64_t room = capacity - std::min(capacity, st.used_bytes);
  f.blocks_total = capacity / f.block_size;
  f.blocks_free = f.blocks_avail = room / f.block_size;
  struct statvfs sv {};
  if (::statvfs(c.store.dir().c_str(), &sv) == 0) {
    uint64_t frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    f.blocks_free = std::min(f.blocks_free, static_cast<uint64_t>(sv.f_bfree) * frsize / f.block_size);
    f.blocks_avail = std::min(f.blocks_avail, static_cast<uint64_t>(sv.f_bavail) * frsize / f.block_size);
  }
  f.files_total = std::max(kFilesMax, st.inode_count);
  f.files_free = f.files_total - st.inode_count;
  return Status::Ok();
}

Status QOpen(QCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
  int acc = c.q.flags & O_ACCMODE;
  int mask = acc == O_RDONLY ? kMayRead : acc == O_WRONLY ? kMayWrite : kMayRead | kMayWrite;
  if (c.q.flags & O_TRUNC) mask |= kMayWrite;
  if (IsDir(r.attr.mode) && (mask & kMayWrite)) return Err(EISDIR);
  if (int e = CheckAccess(r.attr, c.q.creds, mask)) return Err(e);
  FillAttr(r, &c.rep->attr);
  return Status::Ok();
}

Status QAccess(QCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
  int mask = static_cast<int>(c.q.mode & 7);
  if (mask == 0) return Status::Ok();  // F_OK
  if (int e = CheckAccess(r.attr, c.q.creds, mask)) return Err(e);
  return Status::Ok();
}

Status QSeek(QCtx& c);  // below

Status Dispatch(QCtx& c) {
  InodeRec r;
  switch (c.q.op) {
    case Op::kLookup: return QLookup(c);
    case Op::kGetattr:
      BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
      FillAttr(r, &c.rep->attr);
      return Status::Ok();
    case Op::kReadlink:
      BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
      if (!S_ISLNK(r.attr.mode)) return Err(EINVAL);
      c.rep->data = std::move(r.target);
      return Status::Ok();
    case Op::kReaddir: return QReaddir(c);
    case Op::kRead: return QRead(c);
    case Op::kGetxattr: return QGetxattr(c);
    case Op::kListxattr: return QListxattr(c);
    case Op::kStatfs: return QStatfs(c);
    case Op::kOpen: return QOpen(c);
    case Op::kAccess: return QAccess(c);
    case Op::kSeekData: return QSeek(c);
    default: return Err(EINVAL);
  }
}

// SEEK_DATA / SEEK_HOLE over the chunk map.
Status QSeek(QCtx& c) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(Load(c, c.q.ino, &r));
  if (!IsReg(r.attr.mode)) return Err(EINVAL);
  if (c.q.flags != SEEK_DATA && c.q.flags != SEEK_HOLE) return Err(EINVAL);
  const uint64_t size = r.attr.size, cs = c.chunk_bytes;
  uint64_t pos = c.q.offset;
  if (pos >= size) return Err(ENXIO);
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.chunks));
  Key16 start = PairKey(r.attr.ino, pos / cs);
  MDB_val k = start.val(), v;
  int rc = cur.Get(&k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
    const char* kp = static_cast<const char*>(k.mv_data);
    if (k.mv_size != 16 || LoadU64BE(kp) != r.attr.ino) break;
    uint64_t base = LoadU64BE(kp + 8) * cs, end = base + v.mv_size;
    if (end <= pos) continue;
    if (c.q.flags == SEEK_DATA) return (c.rep->offset = std::max(pos, base), Status::Ok());
    if (base > pos) break;  // pos is in a hole
    pos = end;              // data runs to `end`; continue only if the next chunk is adjacent
    if (end < base + cs) break;
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "seek cursor");
  if (c.q.flags == SEEK_DATA) return Err(ENXIO);
  c.rep->offset = std::min(pos, size);
  return Status::Ok();
}

}  // namespace

Reply Query(MetaStore& store, const Request& req, MDB_txn* given) {
  Reply rep;
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn own;
  Status s = given != nullptr ? Status::Ok() : own.Begin(impl.env(), true);
  if (s.ok()) {
    QCtx c{TxnRef{given != nullptr ? given : own.get(), impl.dbis()}, impl.options().chunk_size_bytes, req, impl,
           &rep};
    s = Dispatch(c);
  }
  if (!s.ok()) {
    int err = s.code() == Code::kPosix ? s.posix_errno() : EIO;
    rep = Reply{};
    rep.err = err;
  }
  return rep;
}

StatusOr<Reply> LookupStoredReply(MetaStore& store, uint64_t session_id, uint64_t request_id, MDB_txn* given) {
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn own;
  if (given == nullptr) BATON_RETURN_IF_ERROR(own.Begin(impl.env(), true));
  Key16 k = PairKey(session_id, request_id);
  MDB_val v;
  BATON_RETURN_IF_ERROR(
      GetRaw(TxnRef{given != nullptr ? given : own.get(), impl.dbis()}, impl.dbis().replies, k.val(), &v));
  Reply rep;
  BATON_RETURN_IF_ERROR(DecodeReply(View(v), &rep));
  return rep;
}

StatusOr<std::vector<Ino>> ListOrphans(MetaStore& store) {
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(impl.env(), true));
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(txn.get(), impl.dbis().orphans));
  std::vector<Ino> out;
  MDB_val k, v;
  int rc = cur.Get(&k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
    if (k.mv_size != 8) return Status::Corruption("bad orphan key");
    out.push_back(LoadU64BE(static_cast<const char*>(k.mv_data)));
  }
  if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "orphan cursor");
  return out;
}

}  // namespace baton::fs
