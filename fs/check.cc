// The namespace checker (fs/check.h).
#include "fs/check.h"

#include <sys/stat.h>

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "fs/lmdb_txn.h"
#include "fs/meta_store_impl.h"
#include "fs/store_ops.h"

namespace baton::fs {
namespace {

struct Node {
  InodeRec rec;
  uint64_t links = 0;    // dentries pointing here
  uint64_t subdirs = 0;  // child directories (for directories)
  Ino dentry_parent = 0;       // directories: the parent of the (first) dentry naming it
  std::string dentry_name;     // directories: that dentry's name
  uint64_t chunk_bytes = 0;
};

struct Checker {
  TxnRef t;
  PersistState st;
  size_t max_problems;
  const CheckProgress* progress;
  std::vector<CheckProblem> problems;
  std::map<Ino, Node> nodes;
  std::map<Ino, std::vector<Ino>> children;  // directory -> child inodes
  std::unordered_set<Ino> orphans;
  std::unordered_map<uint64_t, SessionVal> sessions;

  // Reports a problem and returns it so the caller can fill in the fields
  // the repair planner needs (a scratch problem once the list is full).
  CheckProblem& Report(const char* kind, std::string msg) {
    if (problems.size() >= max_problems) return (overflow = CheckProblem{}, overflow);
    CheckProblem& p = problems.emplace_back();
    p.kind = kind;
    p.message = std::move(msg);
    return p;
  }
  // A record to drop: its database and raw key.
  void ReportKey(const char* kind, std::string msg, StoreDb db, MDB_val k) {
    CheckProblem& p = Report(kind, std::move(msg));
    p.db = db;
    p.key.assign(static_cast<const char*>(k.mv_data), k.mv_size);
  }
  // An entry parent/name.
  CheckProblem& ReportEntry(const char* kind, std::string msg, Ino parent, std::string_view name, Ino ino) {
    CheckProblem& p = Report(kind, std::move(msg));
    p.parent = parent;
    p.name = name;
    p.ino = ino;
    return p;
  }
  CheckProblem overflow;
};

using Visit = Status (*)(Checker&, MDB_val, MDB_val);

Status Walk(Checker& c, const char* phase, MDB_dbi dbi, Visit fn) {
  MDB_stat ms;
  uint64_t total = mdb_stat(c.t.txn, dbi, &ms) == MDB_SUCCESS ? ms.ms_entries : 0, done = 0;
  if (*c.progress) (*c.progress)(phase, 0, total);
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, dbi));
  MDB_val k, v;
  int rc = cur.Get(&k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
    BATON_RETURN_IF_ERROR(fn(c, k, v));
    if (*c.progress && (++done & 0xffff) == 0) (*c.progress)(phase, done, total);
  }
  if (*c.progress) (*c.progress)(phase, total, total);
  return rc == MDB_NOTFOUND ? Status::Ok() : LmdbStatus(rc, "check cursor");
}

Ino KeyIno(MDB_val k) { return LoadU64BE(static_cast<const char*>(k.mv_data)); }
std::string Num(uint64_t v) { return std::to_string(v); }

Status VisitInode(Checker& c, MDB_val k, MDB_val v) {
  Node n;
  if (k.mv_size != 8 || !DecodeInode(View(v), &n.rec).ok() || n.rec.attr.ino != KeyIno(k)) {
    c.ReportKey("bad-record", "undecodable inode record" + (k.mv_size == 8 ? " " + Num(KeyIno(k)) : ""),
                StoreDb::kInodes, k);
    return Status::Ok();
  }
  c.nodes.emplace(n.rec.attr.ino, std::move(n));
  return Status::Ok();
}

Status VisitDentry(Checker& c, MDB_val k, MDB_val v) {
  DentryVal dv;
  if (k.mv_size <= 8 || !DecodeDentry(View(v), &dv).ok())
    return (c.ReportKey("bad-record", "bad dentry", StoreDb::kDentries, k), Status::Ok());
  Ino parent = KeyIno(k);
  std::string name(View(k).substr(8));
  std::string where = "entry " + Num(parent) + "/" + name;
  auto p = c.nodes.find(parent);
  if (p == c.nodes.end() || !S_ISDIR(p->second.rec.attr.mode)) {
    // The entry goes; its inode (if any) is then unreachable and is moved to /lost+found.
    c.ReportEntry("dentry-parent", where + ": parent missing or not a directory", parent, name, dv.ino);
    return Status::Ok();
  }
  auto ch = c.nodes.find(dv.ino);
  if (ch == c.nodes.end())
    return (c.ReportEntry("dangling-dentry", where + " -> missing inode " + Num(dv.ino), parent, name, dv.ino),
            Status::Ok());
  Node& n = ch->second;
  if ((n.rec.attr.mode & S_IFMT) != dv.type) c.ReportEntry("dentry-type", where, parent, name, dv.ino);
  if (S_ISDIR(n.rec.attr.mode) && n.links > 0) {
    // A second entry of a directory: keep the one its '..' names.
    if (parent == n.rec.parent && n.dentry_parent != n.rec.parent) {
      c.ReportEntry("dir-hardlink", "entry " + Num(n.dentry_parent) + "/" + n.dentry_name + " also names directory " +
                    Num(dv.ino), n.dentry_parent, n.dentry_name, dv.ino);
      p->second.subdirs++;
      c.nodes[n.dentry_parent].subdirs--;
      n.dentry_parent = parent;
      n.dentry_name = name;
    } else {
      c.ReportEntry("dir-hardlink", where + " also names directory " + Num(dv.ino), parent, name, dv.ino);
    }
    c.children[parent].push_back(dv.ino);
    return Status::Ok();
  }
  n.links++;
  if (S_ISDIR(n.rec.attr.mode)) {
    n.dentry_parent = parent;
    n.dentry_name = name;
    p->second.subdirs++;
  }
  c.children[parent].push_back(dv.ino);
  Key16 ck = PairKey(parent, dv.cookie);
  MDB_val cv;
  Status s = GetRaw(c.t, c.t.d.dircookies, ck.val(), &cv);
  if (!s.ok() || View(cv) != name)
    c.ReportEntry("dircookie", where + ": cookie " + Num(dv.cookie) + " missing", parent, name, dv.ino);
  else if (dv.cookie >= p->second.rec.next_cookie)
    c.ReportEntry("dircookie", where + ": cookie too high", parent, name, dv.ino);
  return Status::Ok();
}

Status VisitCookie(Checker& c, MDB_val k, MDB_val v) {
  if (k.mv_size != 16) return (c.ReportKey("bad-record", "bad dircookie key", StoreDb::kDircookies, k), Status::Ok());
  DentryVal dv;
  Ino parent = KeyIno(k);
  uint64_t cookie = LoadU64BE(static_cast<const char*>(k.mv_data) + 8);
  Status s = GetDentry(c.t, parent, View(v), &dv);
  if (!s.ok() || dv.cookie != cookie)
    c.ReportKey("dircookie", "stale cookie " + Num(cookie) + " in " + Num(parent), StoreDb::kDircookies, k);
  return Status::Ok();
}

Status VisitXattr(Checker& c, MDB_val k, MDB_val) {
  if (k.mv_size <= 8 || !c.nodes.count(KeyIno(k)))
    c.ReportKey("xattr-owner", "xattr of missing inode" + (k.mv_size > 8 ? " " + Num(KeyIno(k)) : ""),
                StoreDb::kXattrs, k);
  return Status::Ok();
}

Status VisitChunk(Checker& c, MDB_val k, MDB_val v) {
  if (k.mv_size != 16) return (c.ReportKey("bad-record", "bad chunk key", StoreDb::kChunks, k), Status::Ok());
  Ino ino = KeyIno(k);
  uint64_t index = LoadU64BE(static_cast<const char*>(k.mv_data) + 8);
  auto it = c.nodes.find(ino);
  const std::string what = "chunk " + Num(index) + " of inode " + Num(ino);
  if (it == c.nodes.end() || !S_ISREG(it->second.rec.attr.mode))
    return (c.ReportKey("chunk-owner", what + ": no such regular file (leaked data)", StoreDb::kChunks, k),
            Status::Ok());
  uint64_t end = index * c.st.chunk_size_bytes + v.mv_size;
  if (v.mv_size == 0 || v.mv_size > c.st.chunk_size_bytes || index >= kFileSizeMaxBytes / c.st.chunk_size_bytes) {
    c.ReportKey("chunk-owner", what + ": impossible size " + Num(v.mv_size), StoreDb::kChunks, k);
    return Status::Ok();
  }
  it->second.chunk_bytes += v.mv_size;
  if (end > it->second.rec.attr.size) {
    // Data past the recorded size: the size is what was damaged (a write
    // stores bytes only below the size), so the repair extends the size.
    CheckProblem& p = c.Report("chunk-beyond-eof", what + " ends at " + Num(end) + ", past the size " +
                                                       Num(it->second.rec.attr.size));
    p.ino = ino;
    p.value = end;
  }
  return Status::Ok();
}

Status VisitOrphan(Checker& c, MDB_val k, MDB_val) {
  Ino ino = k.mv_size == 8 ? KeyIno(k) : 0;
  auto it = c.nodes.find(ino);
  if (it == c.nodes.end())
    return (c.ReportKey("orphan", "orphan " + Num(ino) + " has no inode", StoreDb::kOrphans, k), Status::Ok());
  if (it->second.links != 0) {
    c.ReportKey("orphan", "orphan " + Num(ino) + " is linked", StoreDb::kOrphans, k);
    return Status::Ok();
  }

  c.orphans.insert(ino);
  return Status::Ok();
}

Status VisitSession(Checker& c, MDB_val k, MDB_val v) {
  SessionVal sv;
  if (k.mv_size != 8 || !DecodeSession(View(v), &sv).ok()) {
    c.ReportKey("bad-record", "undecodable session record", StoreDb::kSessions, k);
    return Status::Ok();
  }
  c.sessions.emplace(KeyIno(k), sv);
  return Status::Ok();
}

// The exactly-once table: every stored reply belongs to a known session,
// decodes, lies at or above the session's pruning watermark and at or below
// its last request id.
Status VisitReply(Checker& c, MDB_val k, MDB_val v) {
  Reply rep;
  if (k.mv_size != 16 || !DecodeReply(View(v), &rep).ok()) {
    c.ReportKey("bad-record", "undecodable exactly-once reply", StoreDb::kReplies, k);
    return Status::Ok();
  }
  const uint64_t session = KeyIno(k), req = LoadU64BE(static_cast<const char*>(k.mv_data) + 8);
  auto it = c.sessions.find(session);
  const std::string what = "reply of session " + Num(session) + " request " + Num(req);
  if (it == c.sessions.end()) c.ReportKey("reply-session", what + ": no session record", StoreDb::kReplies, k);
  else if (req < it->second.pruned_below)
    c.ReportKey("reply-pruned", what + " lies below the pruning watermark " + Num(it->second.pruned_below),
                StoreDb::kReplies, k);
  else if (req > it->second.last_request_id)
    c.ReportKey("reply-future", what + " is past the session's last request " + Num(it->second.last_request_id),
                StoreDb::kReplies, k);
  return Status::Ok();
}

void CheckNodes(Checker& c) {
  uint64_t bytes = 0;
  Ino max_ino = 0;
  for (auto& [ino, n] : c.nodes) {
    const Attr& a = n.rec.attr;
    bool dir = S_ISDIR(a.mode);
    uint64_t want = dir ? 2 + n.subdirs : n.links;
    if (a.nlink != want) {
      CheckProblem& p = c.Report("nlink", "inode " + Num(ino) + " nlink " + Num(a.nlink) + " want " + Num(want));
      p.ino = ino;
      p.value = want;
    }
    Ino want_parent = ino == kRootIno ? kRootIno : n.dentry_parent;
    if (dir && n.rec.parent != want_parent && want_parent != 0) {
      CheckProblem& p = c.Report("dotdot", "directory " + Num(ino) + " '..' is " + Num(n.rec.parent) + ", want " +
                                               Num(want_parent));
      p.ino = ino;
      p.parent = want_parent;
    }
    if (n.rec.stored_bytes != n.chunk_bytes) {
      CheckProblem& p = c.Report("stored-bytes", "inode " + Num(ino) + " stored_bytes " + Num(n.rec.stored_bytes) +
                                                     " but its chunks hold " + Num(n.chunk_bytes));
      p.ino = ino;
    }
    bytes += n.chunk_bytes;
    max_ino = std::max(max_ino, ino);
  }
  if (c.nodes.size() != c.st.inode_count) c.Report("state", "inode_count " + Num(c.st.inode_count) + " but " + Num(c.nodes.size()) + " inodes");
  if (bytes != c.st.bytes_stored) c.Report("state", "bytes_stored " + Num(c.st.bytes_stored) + " but " + Num(bytes));
  if (max_ino >= c.st.next_ino) c.Report("state", "next_ino " + Num(c.st.next_ino) + " not above " + Num(max_ino));
}

// Reachability from the root (a visited set also stops at cycles).
void CheckConnected(Checker& c) {
  std::unordered_set<Ino> seen{kRootIno};
  std::vector<Ino> todo{kRootIno};
  if (!c.nodes.count(kRootIno)) c.Report("unreachable", "no root inode");
  while (!todo.empty()) {
    Ino dir = todo.back();
    todo.pop_back();
    auto it = c.children.find(dir);
    if (it == c.children.end()) continue;
    for (Ino child : it->second)
      if (seen.insert(child).second) todo.push_back(child);
  }
  for (auto& [ino, n] : c.nodes) {
    if (seen.count(ino) || c.orphans.count(ino)) continue;
    // value = the entries naming it (0: nothing does, the top of a detached
    // tree); parent/name = a directory's entry (to break a cycle).
    CheckProblem& p = c.Report("unreachable", "inode " + Num(ino) + " not reachable from the root" +
                                                  (n.links ? "" : " (no entry names it)"));
    p.ino = ino;
    p.value = n.links;
    p.parent = n.dentry_parent;
    p.name = n.dentry_name;
  }
}

}  // namespace

const char* StoreDbName(StoreDb db) {
  switch (db) {
    case StoreDb::kNone: return "none";
    case StoreDb::kInodes: return "inodes";
    case StoreDb::kDentries: return "dentries";
    case StoreDb::kDircookies: return "dircookies";
    case StoreDb::kXattrs: return "xattrs";
    case StoreDb::kChunks: return "chunks";
    case StoreDb::kOrphans: return "orphans";
    case StoreDb::kSessions: return "sessions";
    case StoreDb::kReplies: return "replies";
  }
  return "unknown";
}

StatusOr<std::vector<CheckProblem>> CheckNamespace(MetaStore& store, const CheckOptions& options) {
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(impl.env(), true));
  Checker c{TxnRef{txn.get(), impl.dbis()}, PersistState{}, options.max_problems, &options.progress, {}, {}, {}, {}, {},
            {}};
  BATON_RETURN_IF_ERROR(ReadPersistState(txn.get(), impl.dbis(), &c.st));
  const Dbis& d = impl.dbis();
  BATON_RETURN_IF_ERROR(Walk(c, "inodes", d.inodes, VisitInode));
  BATON_RETURN_IF_ERROR(Walk(c, "entries", d.dentries, VisitDentry));
  BATON_RETURN_IF_ERROR(Walk(c, "cookies", d.dircookies, VisitCookie));
  BATON_RETURN_IF_ERROR(Walk(c, "xattrs", d.xattrs, VisitXattr));
  BATON_RETURN_IF_ERROR(Walk(c, "data", d.chunks, VisitChunk));
  BATON_RETURN_IF_ERROR(Walk(c, "orphans", d.orphans, VisitOrphan));
  BATON_RETURN_IF_ERROR(Walk(c, "sessions", d.sessions, VisitSession));
  BATON_RETURN_IF_ERROR(Walk(c, "replies", d.replies, VisitReply));
  CheckNodes(c);
  CheckConnected(c);
  BATON_ASSIGN_OR_RETURN(uint64_t used, ComputeUsedBytes(c.t));
  if (c.st.capacity_bytes != 0 && used != c.st.used_bytes)
    c.Report("state", "used_bytes " + Num(c.st.used_bytes) + " but " + Num(used));
  return std::move(c.problems);
}

}  // namespace baton::fs
