// apply(): the exactly-once table. Every outcome of a session's request is
// stored in "replies" in the same transaction as its change; a resent request
// gets the stored answer. Pruning is lazy but deterministic (a function of the
// store and the record only, so replay agrees) and leaves a watermark,
// pruned_below, under which a request without a stored reply is a late
// duplicate: it answers ESTALE and is not applied.
#include "base/seeded_bugs.h"
#include "fs/apply_internal.h"
#include "fs/meta_store_impl.h"

namespace baton::fs {
namespace {

// A session prunes on its first mutation at least this many request ids past
// the one that pruned last.
constexpr uint64_t kPruneEveryRequests = 64;

// Drops the session's replies below `below` (never the current one): those
// of this batch, then the stored ones (one seek, then a walk forward deleting
// as it goes).
Status PruneReplies(ApplyCtx& c, uint64_t session, uint64_t below) {
  c.replies.erase(c.replies.lower_bound({session, 0}), c.replies.lower_bound({session, below}));
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

// The batch's cached copy of a session row (read from the store once), or
// nullptr if the session has no row yet and `create` is false.
StatusOr<SessionVal*> FindSession(ApplyCtx& c, uint64_t session, bool create) {
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
  } else if (!create) {
    return nullptr;
  }
  c.sessions.emplace_back(session, sv);
  return &c.sessions.back().second;
}

StatusOr<SessionVal*> SessionOf(ApplyCtx& c, uint64_t session) { return FindSession(c, session, true); }

}  // namespace

Status FlushSessions(ApplyCtx& c) {
  for (const auto& [key, reply] : c.replies) {
    Key16 rk = PairKey(key.first, key.second);
    BATON_RETURN_IF_ERROR(PutRaw(c.t, c.t.d.replies, rk.val(), reply));
  }
  c.replies.clear();
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
  BATON_ASSIGN_OR_RETURN(SessionVal * sv, SessionOf(c, s.session_id));
  // Keeping a few more replies never breaks exactly-once; the watermark only
  // rises, and only to ids the client said it no longer waits for.
  if (s.request_id >= sv->last_prune_request_id + kPruneEveryRequests) {
    uint64_t below = std::min(s.oldest_unreplied, s.request_id);
    BATON_RETURN_IF_ERROR(PruneReplies(c, s.session_id, below));
    sv->pruned_below = std::max(sv->pruned_below, below);
    sv->last_prune_request_id = s.request_id;
  }
  c.replies[{s.session_id, s.request_id}] = EncodeReply(c.res->reply);
  sv->last_request_id = std::max(sv->last_request_id, s.request_id);
  sv->last_seen_ns = std::max(sv->last_seen_ns, s.time_ns);
  return Status::Ok();
}

StatusOr<bool> CheckExactlyOnce(ApplyCtx& c, const Stamp& s, ApplyResult* res) {
  if (s.session_id == 0) return false;
  if (seeded::Planted(seeded::Bug::kApplyNotIdempotent)) return false;  // seeded bug: applies a duplicate again
  if (auto pending = c.replies.find({s.session_id, s.request_id}); pending != c.replies.end()) {
    BATON_RETURN_IF_ERROR(DecodeReply(pending->second, &res->reply));
    res->duplicate = true;
    return true;
  }
  // Every stored reply has an id at most its session's last_request_id
  // (RecordOutcome; fsck reports any other as reply-future), so a request
  // past it is new without a look-up. A session with no row (or 0) is always
  // looked up, and gets no row from this check: a repair may have dropped
  // the row and kept replies.
  BATON_ASSIGN_OR_RETURN(const SessionVal* known, FindSession(c, s.session_id, false));
  if (known != nullptr && known->last_request_id != 0 && s.request_id > known->last_request_id) return false;
  Key16 rk = PairKey(s.session_id, s.request_id);
  MDB_val v;
  Status got = GetRaw(c.t, c.t.d.replies, rk.val(), &v);
  if (got.ok()) {
    BATON_RETURN_IF_ERROR(DecodeReply(View(v), &res->reply));
    res->duplicate = true;
    return true;
  }
  if (!got.IsNotFound()) return got;
  BATON_ASSIGN_OR_RETURN(SessionVal * sv, SessionOf(c, s.session_id));
  if (s.request_id >= sv->pruned_below) return false;
  res->reply = Reply{};  // a late duplicate whose reply was pruned: not applied
  res->reply.err = ESTALE;
  res->stale = true;
  return true;
}

}  // namespace baton::fs
