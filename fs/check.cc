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
  Ino dentry_parent = 0;
  uint64_t chunk_bytes = 0;
};

struct Checker {
  TxnRef t;
  PersistState st;
  size_t max_problems;
  std::vector<CheckProblem> problems;
  std::map<Ino, Node> nodes;
  std::map<Ino, std::vector<Ino>> children;  // directory -> child inodes
  std::unordered_set<Ino> orphans;
  std::unordered_map<uint64_t, SessionVal> sessions;

  void Report(const char* kind, std::string msg) {
    if (problems.size() < max_problems) problems.push_back(CheckProblem{kind, std::move(msg)});
  }
};

using Visit = Status (*)(Checker&, MDB_val, MDB_val);

Status Walk(Checker& c, MDB_dbi dbi, Visit fn) {
  LmdbCursor cur;
  BATON_RETURN_IF_ERROR(cur.Open(c.t.txn, dbi));
  MDB_val k, v;
  int rc = cur.Get(&k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) BATON_RETURN_IF_ERROR(fn(c, k, v));
  return rc == MDB_NOTFOUND ? Status::Ok() : LmdbStatus(rc, "check cursor");
}

Ino KeyIno(MDB_val k) { return LoadU64BE(static_cast<const char*>(k.mv_data)); }
std::string Num(uint64_t v) { return std::to_string(v); }

Status VisitInode(Checker& c, MDB_val k, MDB_val v) {
  Node n;
  if (k.mv_size != 8 || !DecodeInode(View(v), &n.rec).ok() || n.rec.attr.ino != KeyIno(k)) {
    c.Report("bad-record", "undecodable inode record");
    return Status::Ok();
  }
  c.nodes.emplace(n.rec.attr.ino, std::move(n));
  return Status::Ok();
}

Status VisitDentry(Checker& c, MDB_val k, MDB_val v) {
  DentryVal dv;
  if (k.mv_size <= 8 || !DecodeDentry(View(v), &dv).ok()) return (c.Report("bad-record", "bad dentry"), Status::Ok());
  Ino parent = KeyIno(k);
  std::string name(View(k).substr(8));
  std::string where = "entry " + Num(parent) + "/" + name;
  auto p = c.nodes.find(parent);
  if (p == c.nodes.end() || !S_ISDIR(p->second.rec.attr.mode)) c.Report("dentry-parent", where);
  auto ch = c.nodes.find(dv.ino);
  if (ch == c.nodes.end()) return (c.Report("dangling-dentry", where + " -> missing " + Num(dv.ino)), Status::Ok());
  Node& n = ch->second;
  if ((n.rec.attr.mode & S_IFMT) != dv.type) c.Report("dentry-type", where);
  n.links++;
  if (S_ISDIR(n.rec.attr.mode)) {
    if (n.links > 1) c.Report("dir-hardlink", where);
    n.dentry_parent = parent;
    if (p != c.nodes.end()) p->second.subdirs++;
  }
  c.children[parent].push_back(dv.ino);
  Key16 ck = PairKey(parent, dv.cookie);
  MDB_val cv;
  Status s = GetRaw(c.t, c.t.d.dircookies, ck.val(), &cv);
  if (!s.ok() || View(cv) != name) c.Report("dircookie", where + ": cookie " + Num(dv.cookie) + " missing");
  if (p != c.nodes.end() && dv.cookie >= p->second.rec.next_cookie) c.Report("dircookie", where + ": cookie too high");
  return Status::Ok();
}

Status VisitCookie(Checker& c, MDB_val k, MDB_val v) {
  if (k.mv_size != 16) return (c.Report("bad-record", "bad dircookie key"), Status::Ok());
  DentryVal dv;
  Ino parent = KeyIno(k);
  uint64_t cookie = LoadU64BE(static_cast<const char*>(k.mv_data) + 8);
  Status s = GetDentry(c.t, parent, View(v), &dv);
  if (!s.ok() || dv.cookie != cookie) c.Report("dircookie", "stale cookie " + Num(cookie) + " in " + Num(parent));
  return Status::Ok();
}

Status VisitXattr(Checker& c, MDB_val k, MDB_val) {
  if (k.mv_size <= 8 || !c.nodes.count(KeyIno(k))) c.Report("xattr-owner", "xattr of missing inode");
  return Status::Ok();
}

Status VisitChunk(Checker& c, MDB_val k, MDB_val v) {
  if (k.mv_size != 16) return (c.Report("bad-record", "bad chunk key"), Status::Ok());
  Ino ino = KeyIno(k);
  uint64_t index = LoadU64BE(static_cast<const char*>(k.mv_data) + 8);
  auto it = c.nodes.find(ino);
  if (it == c.nodes.end() || !S_ISREG(it->second.rec.attr.mode))
    return (c.Report("chunk-owner", "chunk of inode " + Num(ino)), Status::Ok());
  it->second.chunk_bytes += v.mv_size;
  uint64_t end = index * c.st.chunk_size_bytes + v.mv_size;
  if (v.mv_size == 0 || v.mv_size > c.st.chunk_size_bytes || end > it->second.rec.attr.size)
    c.Report("chunk-beyond-eof", "inode " + Num(ino) + " chunk " + Num(index));
  return Status::Ok();
}

Status VisitOrphan(Checker& c, MDB_val k, MDB_val) {
  Ino ino = k.mv_size == 8 ? KeyIno(k) : 0;
  auto it = c.nodes.find(ino);
  if (it == c.nodes.end()) return (c.Report("orphan", "orphan " + Num(ino) + " has no inode"), Status::Ok());
  if (it->second.rec.attr.nlink != 0 || it->second.links != 0) c.Report("orphan", "orphan " + Num(ino) + " is linked");
  c.orphans.insert(ino);
  return Status::Ok();
}

Status VisitSession(Checker& c, MDB_val k, MDB_val v) {
  SessionVal sv;
  if (k.mv_size != 8 || !DecodeSession(View(v), &sv).ok()) {
    c.Report("bad-record", "undecodable session record");
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
    c.Report("bad-record", "undecodable exactly-once reply");
    return Status::Ok();
  }
  const uint64_t session = KeyIno(k), req = LoadU64BE(static_cast<const char*>(k.mv_data) + 8);
  auto it = c.sessions.find(session);
  const std::string what = "reply of session " + Num(session) + " request " + Num(req);
  if (it == c.sessions.end()) c.Report("reply-session", what + ": no session record");
  else if (req < it->second.pruned_below) c.Report("reply-pruned", what + " lies below the pruning watermark " + Num(it->second.pruned_below));
  else if (req > it->second.last_request_id) c.Report("reply-future", what + " is past the session's last request " + Num(it->second.last_request_id));
  return Status::Ok();
}

void CheckNodes(Checker& c) {
  uint64_t bytes = 0;
  Ino max_ino = 0;
  for (auto& [ino, n] : c.nodes) {
    const Attr& a = n.rec.attr;
    bool dir = S_ISDIR(a.mode);
    uint64_t want = dir ? 2 + n.subdirs : n.links;
    if (a.nlink != want) c.Report("nlink", "inode " + Num(ino) + " nlink " + Num(a.nlink) + " want " + Num(want));
    Ino want_parent = ino == kRootIno ? kRootIno : n.dentry_parent;
    if (dir && n.rec.parent != want_parent && want_parent != 0) c.Report("dotdot", "directory " + Num(ino));
    if (n.rec.stored_bytes != n.chunk_bytes) c.Report("stored-bytes", "inode " + Num(ino));
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
  for (auto& [ino, n] : c.nodes)
    if (!seen.count(ino) && !c.orphans.count(ino)) c.Report("unreachable", "inode " + Num(ino) + " not reachable from the root");
}

}  // namespace

StatusOr<std::vector<CheckProblem>> CheckNamespace(MetaStore& store, size_t max_problems) {
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(impl.env(), true));
  Checker c{TxnRef{txn.get(), impl.dbis()}, PersistState{}, max_problems, {}, {}, {}, {}, {}};
  BATON_RETURN_IF_ERROR(ReadPersistState(txn.get(), impl.dbis(), &c.st));
  const Dbis& d = impl.dbis();
  BATON_RETURN_IF_ERROR(Walk(c, d.inodes, VisitInode));
  BATON_RETURN_IF_ERROR(Walk(c, d.dentries, VisitDentry));
  BATON_RETURN_IF_ERROR(Walk(c, d.dircookies, VisitCookie));
  BATON_RETURN_IF_ERROR(Walk(c, d.xattrs, VisitXattr));
  BATON_RETURN_IF_ERROR(Walk(c, d.chunks, VisitChunk));
  BATON_RETURN_IF_ERROR(Walk(c, d.orphans, VisitOrphan));
  BATON_RETURN_IF_ERROR(Walk(c, d.sessions, VisitSession));
  BATON_RETURN_IF_ERROR(Walk(c, d.replies, VisitReply));
  CheckNodes(c);
  CheckConnected(c);
  BATON_ASSIGN_OR_RETURN(uint64_t used, ComputeUsedBytes(c.t));
  if (c.st.capacity_bytes != 0 && used != c.st.used_bytes)
    c.Report("state", "used_bytes " + Num(c.st.used_bytes) + " but " + Num(used));
  return std::move(c.problems);
}

}  // namespace baton::fs
