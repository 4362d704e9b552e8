// ApplyBatch: one write transaction for many journaled ops; idempotent replay
// (applied_lsn in the same transaction) and the exactly-once table.
#include "fs/apply.h"

#include <algorithm>

#include "fs/apply_internal.h"
#include "fs/meta_store_impl.h"

namespace baton::fs {

Status ReadInode(ApplyCtx& c, Ino ino, InodeRec* out) {
  if (auto it = c.inodes.find(ino); it != c.inodes.end()) {
    *out = it->second.rec;
    return Status::Ok();
  }
  BATON_RETURN_IF_ERROR(GetInode(c.t, ino, out));
  c.inodes.emplace(ino, ApplyCtx::CachedInode{*out, false});
  return Status::Ok();
}

Status FlushInodes(ApplyCtx& c) {
  std::vector<const InodeRec*> dirty;
  for (const auto& [ino, e] : c.inodes)
    if (e.dirty) dirty.push_back(&e.rec);
  std::sort(dirty.begin(), dirty.end(), [](const InodeRec* a, const InodeRec* b) { return a->attr.ino < b->attr.ino; });
  for (const InodeRec* r : dirty) BATON_RETURN_IF_ERROR(PutInode(c.t, *r, &c.scratch));
  c.inodes.clear();
  return Status::Ok();
}

Status CreateInode(ApplyCtx& c, const InodeRec& r) {
  BATON_ASSIGN_OR_RETURN(bool created, PutNewInode(c.t, r, &c.scratch));
  if (!created) return Err(EIO);  // never reuse an inode number
  c.inodes.insert_or_assign(r.attr.ino, ApplyCtx::CachedInode{r, false});
  return Status::Ok();
}

Status LoadInode(ApplyCtx& c, Ino ino, InodeRec* out) {
  Status s = ReadInode(c, ino, out);
  if (s.IsNotFound()) return Err(ENOENT);
  return s;
}

Status LoadDir(ApplyCtx& c, Ino ino, InodeRec* out) {
  BATON_RETURN_IF_ERROR(LoadInode(c, ino, out));
  return IsDir(out->attr.mode) ? Status::Ok() : Err(ENOTDIR);
}

void SetBlocks(InodeRec* r) { r->attr.blocks = (r->stored_bytes + 511) / 512; }

Status StoreInode(ApplyCtx& c, const InodeRec& r) {
  c.inodes.insert_or_assign(r.attr.ino, ApplyCtx::CachedInode{r, true});
  return Status::Ok();
}

Status StoreInodeAndReply(ApplyCtx& c, InodeRec* r) {
  SetBlocks(r);
  BATON_RETURN_IF_ERROR(StoreInode(c, *r));
  c.res->reply.attr = r->attr;
  return Status::Ok();
}

Status TouchDir(ApplyCtx& c, Ino dir, int nlink_delta) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(ReadInode(c, dir, &r));
  r.attr.nlink = static_cast<uint32_t>(static_cast<int64_t>(r.attr.nlink) + nlink_delta);
  r.attr.mtime_ns = r.attr.ctime_ns = c.now();
  return StoreInode(c, r);
}

Status DropLink(ApplyCtx& c, InodeRec* r) {
  if (r->attr.nlink > 0) r->attr.nlink--;
  r->attr.ctime_ns = c.now();
  if (r->attr.nlink == 0) {
    BATON_RETURN_IF_ERROR(AddOrphan(c.t, r->attr.ino));
    c.res->orphaned.push_back(r->attr.ino);
  }
  return StoreInode(c, *r);
}

Status DeleteInode(ApplyCtx& c, const InodeRec& r) {
  uint64_t bytes = 0, charge = InodeCharge(r.target.size());
  BATON_RETURN_IF_ERROR(DelAllOf(c.t, c.t.d.xattrs, r.attr.ino, nullptr, &charge));
  BATON_RETURN_IF_ERROR(DelAllOf(c.t, c.t.d.chunks, r.attr.ino, &bytes, &charge));
  c.inodes.erase(r.attr.ino);
  BATON_RETURN_IF_ERROR(DelInode(c.t, r.attr.ino));
  c.st.bytes_stored -= std::min(bytes, c.st.bytes_stored);
  Charge(c, 0, charge);
  if (c.st.inode_count > 0) c.st.inode_count--;
  return Status::Ok();
}

Status CheckRoom(ApplyCtx& c, uint64_t growth_bytes) {
  if (c.st.used_bytes > c.st.capacity_bytes || growth_bytes > c.st.capacity_bytes - c.st.used_bytes)
    return Err(ENOSPC);
  return Status::Ok();
}

void Charge(ApplyCtx& c, uint64_t add_bytes, uint64_t remove_bytes) {
  c.st.used_bytes += add_bytes;
  c.st.used_bytes -= std::min(remove_bytes, c.st.used_bytes);
}

Status AddEntry(ApplyCtx& c, InodeRec* parent, std::string_view name, Ino child, uint32_t type) {
  Charge(c, DentryCharge(name.size()), 0);
  return AddDentry(c.t, parent, name, child, type);
}

Status DelEntry(ApplyCtx& c, Ino parent, std::string_view name, uint64_t cookie) {
  Charge(c, 0, DentryCharge(name.size()));
  return DelDentry(c.t, parent, name, cookie);
}

namespace {

Status Dispatch(ApplyCtx& c) {
  switch (c.req->op) {
    case Op::kMknod: case Op::kMkdir: case Op::kSymlink: return ApplyCreate(c);
    case Op::kLink: return ApplyLink(c);
    case Op::kUnlink: return ApplyUnlink(c);
    case Op::kRmdir: return ApplyRmdir(c);
    case Op::kRename: return ApplyRename(c);
    case Op::kSetattr: return ApplySetattr(c);
    case Op::kWrite: return ApplyWrite(c);
    case Op::kSetxattr: return ApplySetxattr(c);
    case Op::kRemovexattr: return ApplyRemovexattr(c);
    case Op::kFallocate: return ApplyFallocate(c);
    case Op::kReclaim: return ApplyReclaim(c);
    case Op::kRepair: {  // it reads and writes the inode table itself
      BATON_RETURN_IF_ERROR(FlushInodes(c));
      Status s = ApplyRepair(c);
      BATON_RETURN_IF_ERROR(FlushInodes(c));
      return s;
    }
    default: return Err(EINVAL);  // queries and session control are never journaled
  }
}

Status ApplyOne(ApplyCtx& c, const OpRecord& rec, ApplyResult* res) {
  BATON_ASSIGN_OR_RETURN(bool done, CheckExactlyOnce(c, rec.stamp, res));
  if (done) return Status::Ok();
  c.stamp = &rec.stamp;
  c.req = &rec.req;
  c.res = res;
  Status s = Dispatch(c);
  if (s.code() == Code::kPosix) {
    res->reply = Reply{};
    res->reply.err = s.posix_errno();
    res->orphaned.clear();
  } else if (!s.ok()) {
    return s;
  }
  if (rec.stamp.new_ino != 0 && rec.stamp.new_ino < UINT64_MAX)
    c.st.next_ino = std::max(c.st.next_ino, rec.stamp.new_ino + 1);
  if (rec.stamp.session_id != 0) return RecordOutcome(c);
  return Status::Ok();
}

// A version-1 state row has no capacity: record it (from this open's map
// size, a volume constant) and recount the usage, once.
Status UpgradeState(ApplyCtx& c, uint64_t map_size_bytes) {
  c.st.capacity_bytes = CapacityForMapSize(map_size_bytes);
  BATON_ASSIGN_OR_RETURN(c.st.used_bytes, ComputeUsedBytes(c.t));
  return Status::Ok();
}

}  // namespace

namespace {

// Applies ops inside txn (the state row and the batch's exactly-once rows
// written at the end); *changed says whether anything was applied.
Status ApplyInTxn(MetaStore& store, MDB_txn* txn, std::span<const JournaledOp> ops,
                  std::vector<ApplyResult>* results, bool* changed) {
  LmdbMetaStore& impl = Impl(store);
  results->clear();
  results->resize(ops.size());
  *changed = false;
  ApplyCtx c{TxnRef{txn, impl.dbis()}};
  BATON_RETURN_IF_ERROR(ReadPersistState(txn, impl.dbis(), &c.st));
  if (c.st.capacity_bytes == 0) BATON_RETURN_IF_ERROR(UpgradeState(c, store.options().map_size_bytes));
  c.chunk_bytes = c.st.chunk_size_bytes;
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].lsn <= c.st.applied_lsn) {
      (*results)[i].skipped = true;
      continue;
    }
    BATON_RETURN_IF_ERROR(ApplyOne(c, ops[i].rec, &(*results)[i]));
    c.st.applied_lsn = ops[i].lsn;
    *changed = true;
  }
  if (!*changed) return Status::Ok();
  c.replies_cur.Close();
  BATON_RETURN_IF_ERROR(FlushInodes(c));
  BATON_RETURN_IF_ERROR(FlushSessions(c));
  return WritePersistState(txn, impl.dbis(), c.st);
}

Status ApplyInOneTxn(MetaStore& store, std::span<const JournaledOp> ops, std::vector<ApplyResult>* results) {
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(Impl(store).env(), false));
  bool changed = false;
  BATON_RETURN_IF_ERROR(ApplyInTxn(store, txn.get(), ops, results, &changed));
  if (!changed) return Status::Ok();  // the transaction aborts: nothing to write
  return txn.Commit();
}

}  // namespace

// A batch whose transaction outgrows LMDB's dirty-page limit is aborted whole
// and applied again as two halves (the outcome is the same: ops apply in
// order either way). Every single op is bounded (1 MiB writes, 64 MiB
// allocations) so that one op always fits.
Status ApplyBatch(MetaStore& store, std::span<const JournaledOp> ops, std::vector<ApplyResult>* results) {
  Status st = ApplyInOneTxn(store, ops, results);
  if (!st.IsTooLarge() || ops.size() < 2) return st;
  const size_t half = ops.size() / 2;
  std::vector<ApplyResult> second;
  BATON_RETURN_IF_ERROR(ApplyBatch(store, ops.first(half), results));
  BATON_RETURN_IF_ERROR(ApplyBatch(store, ops.subspan(half), &second));
  for (ApplyResult& r : second) results->push_back(std::move(r));
  return Status::Ok();
}

Status OpenTxn::Apply(std::span<const JournaledOp> ops, std::vector<ApplyResult>* results) {
  const bool fresh = txn_.get() == nullptr;
  if (fresh) BATON_RETURN_IF_ERROR(txn_.Begin(Impl(store_).env(), false));
  bool changed = false;
  Status st = ApplyInTxn(store_, txn_.get(), ops, results, &changed);
  if (st.ok()) return st;
  txn_.Abort();  // LMDB refuses every further use of a transaction that failed
  // Alone in its transaction, a batch too large for one is split (ApplyBatch).
  if (fresh && st.IsTooLarge()) return ApplyBatch(store_, ops, results);
  return st;
}

}  // namespace baton::fs
