// apply(): file data in the chunks DBI: write, truncate, fallocate.
// Invariant kept by every function here: no chunk byte lies at or past the
// file size, so growing a file never exposes old bytes.
#include <linux/falloc.h>

#include <vector>

#include "fs/apply_internal.h"
#include "fs/lmdb_txn.h"

namespace baton::fs {
namespace {

// One fallocate record allocates at most this range (any allocating mode);
// a larger one answers ENOSPC, changing nothing (a client may split it). It
// bounds the size of one LMDB transaction: 64 MiB of 64 KiB chunks is about
// 17,000 dirty pages, well below LMDB's limit of 131,072 per transaction.
constexpr uint64_t kAllocateMaxBytes = 64ull << 20;

struct ChunkRef {
  uint64_t index;
  size_t len;
};

// The stored chunk `index` of `ino` (empty view when missing).
Status PeekChunk(ApplyCtx& c, Ino ino, uint64_t index, std::string_view* out) {
  Key16 k = PairKey(ino, index);
  MDB_val v;
  Status s = GetRaw(c.t, c.t.d.chunks, k.val(), &v);
  if (s.IsNotFound()) return (*out = {}, Status::Ok());
  BATON_RETURN_IF_ERROR(s);
  *out = View(v);
  return Status::Ok();
}

// Replaces chunk `index` (old length old_len) with `bytes`; empty deletes it.
Status PutChunk(ApplyCtx& c, InodeRec* r, uint64_t index, size_t old_len, std::string_view bytes) {
  Key16 k = PairKey(r->attr.ino, index);
  if (bytes.empty()) {
    BATON_RETURN_IF_ERROR(DelRaw(c.t, c.t.d.chunks, k.val()));
  } else {
    BATON_RETURN_IF_ERROR(PutRaw(c.t, c.t.d.chunks, k.val(), bytes));
  }
  r->stored_bytes = r->stored_bytes - old_len + bytes.size();
  c.st.bytes_stored = c.st.bytes_stored - old_len + bytes.size();
  Charge(c, ChunkCharge(bytes.size()), ChunkCharge(old_len));
  return Status::Ok();
}

// Existing chunks of ino with first <= index < last.
Status ListChunks(ApplyCtx& c, Ino ino, uint64_t first, uint64_t last, std::vector<ChunkRef>* out) {
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.chunks));
  Key16 start = PairKey(ino, first);
  MDB_val k = start.val(), v;
  int rc = cur.Get(&k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
    const char* kp = static_cast<const char*>(k.mv_data);
    if (k.mv_size != 16 || LoadU64BE(kp) != ino || LoadU64BE(kp + 8) >= last) break;
    out->push_back(ChunkRef{LoadU64BE(kp + 8), v.mv_size});
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "chunk cursor");
  return Status::Ok();
}

// Writes data at byte `pos` within chunk `index`.
Status WriteInChunk(ApplyCtx& c, InodeRec* r, uint64_t index, size_t pos, std::string_view data) {
  std::string_view old;
  BATON_RETURN_IF_ERROR(PeekChunk(c, r->attr.ino, index, &old));
  size_t old_len = old.size();
  if (pos == 0 && data.size() >= old_len) return PutChunk(c, r, index, old_len, data);  // no merge
  c.chunk_buf.assign(old);
  if (c.chunk_buf.size() < pos + data.size()) c.chunk_buf.resize(pos + data.size(), '\0');
  std::memcpy(c.chunk_buf.data() + pos, data.data(), data.size());
  return PutChunk(c, r, index, old_len, c.chunk_buf);
}

// Zero-fills chunk `index` up to `len` bytes (allocation).
Status AllocateChunk(ApplyCtx& c, InodeRec* r, uint64_t index, size_t len) {
  std::string_view old;
  BATON_RETURN_IF_ERROR(PeekChunk(c, r->attr.ino, index, &old));
  if (old.size() >= len) return Status::Ok();
  size_t old_len = old.size();
  c.chunk_buf.assign(old);
  c.chunk_buf.resize(len, '\0');
  return PutChunk(c, r, index, old_len, c.chunk_buf);
}

// Zeroes [from, to) of the file within existing chunks; drops what empties.
Status PunchRange(ApplyCtx& c, InodeRec* r, uint64_t from, uint64_t to) {
  const uint64_t cs = c.chunk_bytes;
  std::vector<ChunkRef> chunks;
  BATON_RETURN_IF_ERROR(ListChunks(c, r->attr.ino, from / cs, (to + cs - 1) / cs, &chunks));
  for (const ChunkRef& ch : chunks) {
    uint64_t base = ch.index * cs;
    uint64_t zs = std::max(from, base) - base, ze = std::min<uint64_t>(to, base + ch.len) - base;
    if (zs >= ze) continue;
    if (ze == ch.len) {  // the tail goes: cut the chunk (or drop it)
      std::string_view old;
      BATON_RETURN_IF_ERROR(PeekChunk(c, r->attr.ino, ch.index, &old));
      c.chunk_buf.assign(old.substr(0, zs));
      BATON_RETURN_IF_ERROR(PutChunk(c, r, ch.index, ch.len, c.chunk_buf));
      continue;
    }
    std::string_view old;
    BATON_RETURN_IF_ERROR(PeekChunk(c, r->attr.ino, ch.index, &old));
    c.chunk_buf.assign(old);
    std::memset(c.chunk_buf.data() + zs, 0, ze - zs);
    BATON_RETURN_IF_ERROR(PutChunk(c, r, ch.index, ch.len, c.chunk_buf));
  }
  return Status::Ok();
}

Status AllocateRange(ApplyCtx& c, InodeRec* r, uint64_t from, uint64_t to) {
  const uint64_t cs = c.chunk_bytes;
  for (uint64_t idx = from / cs; idx * cs < to; idx++) {
    uint64_t need = std::min<uint64_t>(cs, to - idx * cs);
    BATON_RETURN_IF_ERROR(AllocateChunk(c, r, idx, need));
  }
  return Status::Ok();
}

// How much chunk (old -> new length) grows the charged usage.
uint64_t ChunkGrowth(uint64_t old_len, uint64_t new_len) {
  return new_len > old_len ? ChunkCharge(new_len) - ChunkCharge(old_len) : 0;
}

// Growth of the charged usage if `data` were written at `off`.
Status WriteGrowth(ApplyCtx& c, const InodeRec& r, uint64_t off, std::string_view data, uint64_t* growth) {
  const uint64_t cs = c.chunk_bytes;
  for (uint64_t done = 0; done < data.size();) {
    uint64_t pos = off + done, in_chunk = pos % cs, n = std::min<uint64_t>(data.size() - done, cs - in_chunk);
    std::string_view old;
    BATON_RETURN_IF_ERROR(PeekChunk(c, r.attr.ino, pos / cs, &old));
    *growth += ChunkGrowth(old.size(), std::max<uint64_t>(old.size(), in_chunk + n));
    done += n;
  }
  return Status::Ok();
}

// Growth of the charged usage if [from, to) were allocated.
Status AllocateGrowth(ApplyCtx& c, const InodeRec& r, uint64_t from, uint64_t to, uint64_t* growth) {
  const uint64_t cs = c.chunk_bytes;
  std::vector<ChunkRef> have;
  BATON_RETURN_IF_ERROR(ListChunks(c, r.attr.ino, from / cs, (to + cs - 1) / cs, &have));
  size_t h = 0;
  for (uint64_t idx = from / cs; idx * cs < to; idx++) {
    while (h < have.size() && have[h].index < idx) h++;
    uint64_t old_len = (h < have.size() && have[h].index == idx) ? have[h].len : 0;
    *growth += ChunkGrowth(old_len, std::min<uint64_t>(cs, to - idx * cs));
  }
  return Status::Ok();
}

Status CheckDataTarget(const Attr& a, int not_reg_err) {
  if (IsDir(a.mode)) return Err(EISDIR);
  if (!IsReg(a.mode)) return Err(not_reg_err);
  return Status::Ok();
}

}  // namespace

Status TruncateData(ApplyCtx& c, InodeRec* r, uint64_t new_size) {
  if (new_size >= r->attr.size) return Status::Ok();  // growing is sparse
  return PunchRange(c, r, new_size, r->attr.size);
}

// Permission to write was checked at open; apply() only checks the target.
Status ApplyWrite(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, q.ino, &r));
  BATON_RETURN_IF_ERROR(CheckDataTarget(r.attr, EINVAL));
  uint64_t off = (q.flags & kWriteAppend) ? r.attr.size : q.offset;
  uint64_t len = q.data.size();
  if (len > kWriteMaxBytes) return Err(EINVAL);  // the codec refuses it too; apply() trusts no record
  if (off > kFileSizeMaxBytes || len > kFileSizeMaxBytes - off) return Err(EFBIG);
  c.res->reply.offset = len;
  if (len == 0) return (c.res->reply.attr = r.attr, Status::Ok());
  uint64_t growth = 0;
  BATON_RETURN_IF_ERROR(WriteGrowth(c, r, off, q.data, &growth));
  BATON_RETURN_IF_ERROR(CheckRoom(c, growth));
  // --- mutations
  const uint64_t cs = c.chunk_bytes;
  for (uint64_t done = 0; done < len;) {
    uint64_t pos = off + done, index = pos / cs, in_chunk = pos % cs;
    uint64_t n = std::min(len - done, cs - in_chunk);
    BATON_RETURN_IF_ERROR(WriteInChunk(c, &r, index, in_chunk, std::string_view(q.data).substr(done, n)));
    done += n;
  }
  r.attr.size = std::max(r.attr.size, off + len);
  r.attr.mtime_ns = r.attr.ctime_ns = c.now();
  if (q.creds.uid != 0) r.attr.mode = KillPriv(r.attr.mode);
  return StoreInodeAndReply(c, &r);
}

Status ApplyFallocate(ApplyCtx& c) {
  const Request& q = *c.req;
  InodeRec r;
  BATON_RETURN_IF_ERROR(LoadInode(c, q.ino, &r));
  BATON_RETURN_IF_ERROR(CheckDataTarget(r.attr, ENODEV));
  const uint32_t punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
  if (q.flags != 0 && q.flags != FALLOC_FL_KEEP_SIZE && q.flags != punch) return Err(EOPNOTSUPP);
  if (q.length == 0) return Err(EINVAL);
  if (q.offset > kFileSizeMaxBytes || q.length > kFileSizeMaxBytes - q.offset) return Err(EFBIG);
  uint64_t end = q.offset + q.length;
  uint64_t clip = std::min(end, r.attr.size);
  uint64_t to = q.flags == 0 ? end : clip;  // the range an allocating mode fills
  if (q.flags != punch && q.offset < to) {
    if (to - q.offset > kAllocateMaxBytes) return Err(ENOSPC);
    uint64_t growth = 0;
    BATON_RETURN_IF_ERROR(AllocateGrowth(c, r, q.offset, to, &growth));
    BATON_RETURN_IF_ERROR(CheckRoom(c, growth));
  }
  // --- mutations
  if (q.flags == punch) {
    if (q.offset < clip) BATON_RETURN_IF_ERROR(PunchRange(c, &r, q.offset, clip));
    r.attr.mtime_ns = c.now();
  } else {
    if (q.offset < to) BATON_RETURN_IF_ERROR(AllocateRange(c, &r, q.offset, to));
    if (end > r.attr.size && q.flags == 0) r.attr.size = end, r.attr.mtime_ns = c.now();
  }
  r.attr.ctime_ns = c.now();
  return StoreInodeAndReply(c, &r);
}

}  // namespace baton::fs
