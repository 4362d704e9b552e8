// ApplyBatch: one write transaction for many journaled ops; idempotent replay
// (applied_lsn in the same transaction) and the exactly-once table.
#include "fs/apply.h"

#include "fs/apply_internal.h"
#include "fs/meta_store_impl.h"

namespace baton::fs {

Status LoadInode(ApplyCtx& c, Ino ino, InodeRec* out) {
  Status s = GetInode(c.t, ino, out);
  if (s.IsNotFound()) return Err(ENOENT);
  return s;
}

Status LoadDir(ApplyCtx& c, Ino ino, InodeRec* out) {
  BATON_RETURN_IF_ERROR(LoadInode(c, ino, out));
  return IsDir(out->attr.mode) ? Status::Ok() : Err(ENOTDIR);
}

void SetBlocks(InodeRec* r) { r->attr.blocks = (r->stored_bytes + 511) / 512; }

Status StoreInode(ApplyCtx& c, const InodeRec& r) { return PutInode(c.t, r, &c.scratch); }

Status TouchDir(ApplyCtx& c, Ino dir, int nlink_delta) {
  InodeRec r;
  BATON_RETURN_IF_ERROR(GetInode(c.t, dir, &r));
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
  uint64_t bytes = 0;
  BATON_RETURN_IF_ERROR(DelAllOf(c.t, c.t.d.xattrs, r.attr.ino, nullptr));
  BATON_RETURN_IF_ERROR(DelAllOf(c.t, c.t.d.chunks, r.attr.ino, &bytes));
  BATON_RETURN_IF_ERROR(DelInode(c.t, r.attr.ino));
  c.st.bytes_stored -= std::min(bytes, c.st.bytes_stored);
  if (c.st.inode_count > 0) c.st.inode_count--;
  return Status::Ok();
}

namespace {

constexpr uint64_t kPruneEveryRequests = 64;

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
    default: return Err(EINVAL);  // queries and session control are never journaled
  }
}

// Drops the session's stored replies below `below` (never the current one):
// one seek, then a walk forward deleting as it goes.
Status PruneReplies(ApplyCtx& c, uint64_t session, uint64_t below) {
  LmdbCursor& cur = c.replies_cur;
  if (cur.get() == nullptr) BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, c.t.d.replies));
  Key16 start = PairKey(session, 0);
  MDB_val k = start.val(), v;
  int rc = cur.Get(&k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS && k.mv_size == 16 && LoadU64BE(static_cast<char*>(k.mv_data)) == session &&
         LoadU64BE(static_cast<char*>(k.mv_data) + 8) < below) {
    BATON_RETURN_IF_ERROR(LmdbStatus(mdb_cursor_del(cur.get(), 0), "prune reply"));
    rc = cur.Get(&k, &v, MDB_NEXT);  // after a delete, MDB_NEXT yields the item that followed it
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "reply cursor");
  return Status::Ok();
}

// The batch's cached copy of a session row (read from the store once).
StatusOr<SessionVal*> SessionOf(ApplyCtx& c, uint64_t session) {
  for (auto& [id, val] : c.sessions)
    if (id == session) return &val;
  SessionVal sv;
  Key8 sk = InoKey(session);
  MDB_val v;
  Status got = GetRaw(c.t, c.t.d.sessions, sk.val(), &v);
  if (got.ok()) {
    BATON_RETURN_IF_ERROR(DecodeSession(View(v), &sv));
  } else if (!got.IsNotFound()) {
    return got;
  }
  c.sessions.emplace_back(session, sv);
  return &c.sessions.back().second;
}

Status FlushSessions(ApplyCtx& c) {
  for (auto& [id, val] : c.sessions) {
    char buf[kSessionValueBytes];
    EncodeSession(val, buf);
    Key8 sk = InoKey(id);
    BATON_RETURN_IF_ERROR(PutRaw(c.t, c.t.d.sessions, sk.val(), std::string_view(buf, sizeof(buf))));
  }
  return Status::Ok();
}

Status RecordOutcome(ApplyCtx& c) {
  const Stamp& s = *c.stamp;
  // Pruning is lazy but deterministic (a function of the record alone): every
  // kPruneEveryRequests-th request of a session drops the replies its client
  // no longer waits for. Keeping a few more replies never breaks exactly-once.
  if (s.request_id % kPruneEveryRequests == 0)
    BATON_RETURN_IF_ERROR(PruneReplies(c, s.session_id, std::min(s.oldest_unreplied, s.request_id)));
  Key16 rk = PairKey(s.session_id, s.request_id);
  BATON_RETURN_IF_ERROR(PutRaw(c.t, c.t.d.replies, rk.val(), EncodeReply(c.res->reply)));
  BATON_ASSIGN_OR_RETURN(SessionVal * sv, SessionOf(c, s.session_id));
  sv->last_request_id = std::max(sv->last_request_id, s.request_id);
  sv->last_seen_ns = std::max(sv->last_seen_ns, s.time_ns);
  return Status::Ok();
}

// Returns true (and the stored reply) when (session, request id) was applied.
StatusOr<bool> FindDuplicate(ApplyCtx& c, const Stamp& s, Reply* out) {
  if (s.session_id == 0) return false;
  Key16 rk = PairKey(s.session_id, s.request_id);
  MDB_val v;
  Status got = GetRaw(c.t, c.t.d.replies, rk.val(), &v);
  if (got.IsNotFound()) return false;
  BATON_RETURN_IF_ERROR(got);
  BATON_RETURN_IF_ERROR(DecodeReply(View(v), out));
  return true;
}

Status ApplyOne(ApplyCtx& c, const OpRecord& rec, ApplyResult* res) {
  BATON_ASSIGN_OR_RETURN(bool dup, FindDuplicate(c, rec.stamp, &res->reply));
  if (dup) {
    res->duplicate = true;
    return Status::Ok();
  }
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

}  // namespace

Status ApplyBatch(MetaStore& store, std::span<const JournaledOp> ops, std::vector<ApplyResult>* results) {
  LmdbMetaStore& impl = Impl(store);
  results->clear();
  results->resize(ops.size());
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(impl.env(), false));
  ApplyCtx c{TxnRef{txn.get(), impl.dbis()}};
  BATON_RETURN_IF_ERROR(ReadPersistState(txn.get(), impl.dbis(), &c.st));
  c.chunk_bytes = c.st.chunk_size_bytes;
  bool changed = false;
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].lsn <= c.st.applied_lsn) {
      (*results)[i].skipped = true;
      continue;
    }
    BATON_RETURN_IF_ERROR(ApplyOne(c, ops[i].rec, &(*results)[i]));
    c.st.applied_lsn = ops[i].lsn;
    changed = true;
  }
  if (!changed) return Status::Ok();  // the transaction aborts: nothing to write
  c.replies_cur.Close();
  BATON_RETURN_IF_ERROR(FlushSessions(c));
  BATON_RETURN_IF_ERROR(WritePersistState(txn.get(), impl.dbis(), c.st));
  return txn.Commit();
}

}  // namespace baton::fs
