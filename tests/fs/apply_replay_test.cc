// apply() invariants: idempotent replay, exactly-once, determinism, the
// checker, and the store itself (format, reopen, read-only).
#define BOOST_TEST_MODULE fs_apply_replay
#include "fs/check.h"
#include "fs/store_ops.h"
#include "tests/fs/fs_test_util.h"

using namespace baton::fs;
using namespace baton::fs::testing;

namespace {
std::vector<ApplyResult> Batch(MetaStore& store, const std::vector<JournaledOp>& ops) {
  std::vector<ApplyResult> res;
  baton::Status s = ApplyBatch(store, ops, &res);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return res;
}

std::string Kinds(const std::vector<CheckProblem>& ps) {
  std::string s;
  for (auto& p : ps) s += p.kind + " (" + p.message + "); ";
  return s;
}
}  // namespace

BOOST_AUTO_TEST_CASE(idempotent_replay) {
  Fs fs;
  std::vector<JournaledOp> ops;
  ops.push_back(fs.StampOp(Request{.op = Op::kMkdir, .parent = kRootIno, .name = "d", .mode = 0755}));
  ops.push_back(fs.StampOp(Request{.op = Op::kMknod, .parent = 2, .name = "f", .mode = S_IFREG | 0644}));
  ops.push_back(fs.StampOp(Request{.op = Op::kWrite, .ino = 3, .flags = kWriteAppend, .data = "abc"}));
  auto r1 = Batch(fs.store(), ops);
  for (auto& r : r1) BOOST_TEST((r.reply.err == 0 && !r.skipped && !r.duplicate));
  std::string dump1 = DumpStore(fs.store());
  BOOST_TEST(fs.store().ReadState()->applied_lsn == ops.back().lsn);
  auto r2 = Batch(fs.store(), ops);
  for (auto& r : r2) BOOST_TEST(r.skipped);
  BOOST_TEST(DumpStore(fs.store()) == dump1);
  BOOST_TEST(fs.Read(3, 0, 10).data == "abc");
  // a batch overlapping the applied prefix applies only the new part
  ops.push_back(fs.StampOp(Request{.op = Op::kWrite, .ino = 3, .flags = kWriteAppend, .data = "def"}));
  auto r3 = Batch(fs.store(), ops);
  BOOST_TEST(r3[2].skipped);
  BOOST_TEST(!r3[3].skipped);
  BOOST_TEST(fs.Read(3, 0, 10).data == "abcdef");
}

BOOST_AUTO_TEST_CASE(exactly_once) {
  Fs fs;
  JournaledOp create = fs.StampOp(Request{.op = Op::kMknod, .parent = kRootIno, .name = "f", .mode = S_IFREG | 0644});
  create.rec.stamp.oldest_unreplied = 1;
  ApplyResult first = fs.Apply(create);
  BOOST_TEST(first.reply.err == 0);
  JournaledOp append = fs.StampOp(Request{.op = Op::kWrite, .ino = first.reply.attr.ino, .flags = kWriteAppend, .data = "xy"});
  append.rec.stamp.oldest_unreplied = 1;
  ApplyResult w1 = fs.Apply(append);
  BOOST_TEST(w1.reply.attr.size == 2u);
  std::string dump = DumpStore(fs.store());
  // The same requests resent after a failover get new LSNs (and a new inode number).
  JournaledOp again = create;
  again.lsn = 100;
  again.rec.stamp.new_ino = 50;
  ApplyResult dup = fs.Apply(again);
  BOOST_TEST(dup.duplicate);
  BOOST_TEST(dup.reply.err == 0);  // the original answer, not EEXIST
  BOOST_TEST(dup.reply.attr.ino == first.reply.attr.ino);
  JournaledOp append2 = append;
  append2.lsn = 101;
  ApplyResult w2 = fs.Apply(append2);
  BOOST_TEST(w2.duplicate);
  BOOST_TEST(w2.reply.attr.size == 2u);
  BOOST_TEST(fs.Read(first.reply.attr.ino, 0, 10).data == "xy");  // not doubled
  BOOST_TEST(fs.Getattr(50).err == ENOENT);
  // nothing but the state row (applied_lsn) changed: 4+5+4+57 bytes, then '|'
  BOOST_TEST(DumpStore(fs.store()).substr(71) == dump.substr(71));
  auto stored = LookupStoredReply(fs.store(), 1, append.rec.stamp.request_id);
  BOOST_REQUIRE(stored.ok());
  BOOST_TEST(stored->attr.size == 2u);
  BOOST_TEST(LookupStoredReply(fs.store(), 1, 999).status().IsNotFound());
  // Replies below oldest_unreplied are dropped, lazily: on the first mutation
  // at least 64 request ids past the last prune (state kept in the session
  // row, so replay agrees).
  auto mkdir_at = [&](const std::string& name, uint64_t lsn, uint64_t id) {
    JournaledOp op = fs.StampOp(Request{.op = Op::kMkdir, .parent = kRootIno, .name = name, .mode = 0755});
    op.lsn = lsn;
    op.rec.stamp.request_id = op.rec.stamp.oldest_unreplied = id;
    return op;
  };
  JournaledOp kept = mkdir_at("k", 102, 63);
  fs.Apply(kept);
  BOOST_TEST(LookupStoredReply(fs.store(), 1, create.rec.stamp.request_id).ok());
  JournaledOp later = mkdir_at("d", 103, 64);
  fs.Apply(later);
  BOOST_TEST(LookupStoredReply(fs.store(), 1, kept.rec.stamp.request_id).status().IsNotFound());
  BOOST_TEST(LookupStoredReply(fs.store(), 1, create.rec.stamp.request_id).status().IsNotFound());
  BOOST_TEST(LookupStoredReply(fs.store(), 1, later.rec.stamp.request_id).ok());
  fs.Apply(mkdir_at("e", 104, 100));  // < 64 past the last prune: keeps 64
  BOOST_TEST(LookupStoredReply(fs.store(), 1, later.rec.stamp.request_id).ok());
  // A late copy of the pruned create is stale: ESTALE, nothing applied.
  JournaledOp late = create;
  late.lsn = 105;
  late.rec.stamp.new_ino = 60;
  ApplyResult st = fs.Apply(late);
  BOOST_TEST(st.stale);
  BOOST_TEST(st.reply.err == ESTALE);
  BOOST_TEST(fs.Getattr(60).err == ENOENT);
}

BOOST_AUTO_TEST_CASE(determinism_and_checker_after_random_workload) {
  uint64_t seed = TestSeed(20240611);
  auto ops = RandomWorkload(seed, 3000);
  Fs a, b, c;
  // a: one big batch; b: many small batches (and each batch twice); c: one
  // op per batch, so no op reads what an earlier one left in the batch's
  // inode cache (ApplyCtx::inodes): a's cache must give the same store.
  Batch(a.store(), ops);
  for (size_t i = 0; i < ops.size(); i += 37) {
    std::vector<JournaledOp> part(ops.begin() + i, ops.begin() + std::min(ops.size(), i + 37));
    Batch(b.store(), part);
    Batch(b.store(), part);
  }
  for (const JournaledOp& op : ops) Batch(c.store(), {op});
  BOOST_TEST((DumpStore(a.store()) == DumpStore(b.store())));
  BOOST_TEST((DumpStore(a.store()) == DumpStore(c.store())));
  auto problems = CheckNamespace(a.store());
  BOOST_REQUIRE(problems.ok());
  BOOST_TEST(problems->empty(), Kinds(*problems));
  StoreState st = a.store().ReadState().value();
  BOOST_TEST(st.inode_count > 10u);
  BOOST_TEST_MESSAGE("inodes " << st.inode_count << " bytes " << st.bytes_stored);
}

BOOST_AUTO_TEST_CASE(checker_finds_planted_damage) {
  Fs fs;
  Ino d = fs.Mkdir(kRootIno, "d").attr.ino;
  Ino f = fs.Mknod(d, "f").attr.ino;
  Ino g = fs.Mknod(kRootIno, "g").attr.ino;
  fs.Write(f, 0, "data");
  BOOST_TEST(CheckNamespace(fs.store())->empty());
  LmdbMetaStore& impl = Impl(fs.store());
  {
    LmdbTxn txn;
    BOOST_REQUIRE(txn.Begin(impl.env(), false).ok());
    TxnRef t{txn.get(), impl.dbis()};
    BOOST_REQUIRE(DelInode(t, f).ok());  // dentry d/f now dangles
    InodeRec r;
    BOOST_REQUIRE(GetInode(t, g, &r).ok());
    r.attr.nlink = 3;  // wrong link count
    std::string scratch;
    BOOST_REQUIRE(PutInode(t, r, &scratch).ok());
    BOOST_REQUIRE(txn.Commit().ok());
  }
  auto problems = CheckNamespace(fs.store());
  BOOST_REQUIRE(problems.ok());
  std::set<std::string> kinds;
  for (auto& p : *problems) kinds.insert(p.kind);
  BOOST_TEST(kinds.count("dangling-dentry") == 1u, Kinds(*problems));
  BOOST_TEST(kinds.count("nlink") == 1u);
  BOOST_TEST(kinds.count("chunk-owner") == 1u);  // f's data has no inode
  BOOST_TEST(kinds.count("state") == 1u);
}

BOOST_AUTO_TEST_CASE(store_format_open_readonly) {
  TempDir dir;
  StoreOptions o;
  o.map_size_bytes = 1ull << 30;
  o.chunk_size_bytes = 8192;
  BOOST_REQUIRE(MetaStore::Format(dir.path(), o, 7, 8, 42).ok());
  BOOST_TEST(!MetaStore::Format(dir.path(), o, 0, 0, 0).ok());  // refuses to overwrite
  {
    StoreOptions other = o;
    other.chunk_size_bytes = 65536;
    auto s = MetaStore::Open(dir.path(), other);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST((*s)->options().chunk_size_bytes == 8192u);  // the store's own
    Reply root = Query(**s, Request{.op = Op::kGetattr, .ino = kRootIno});
    BOOST_TEST(root.attr.uid == 7u);
    BOOST_TEST(root.attr.gid == 8u);
    BOOST_TEST(root.attr.mode == (S_IFDIR | 0755u));
    BOOST_TEST((*s)->ReadState()->next_ino == 2u);
    BOOST_TEST((*s)->Sync().ok());
  }
  StoreOptions ro = o;
  ro.read_only = true;
  auto s = MetaStore::Open(dir.path(), ro);
  BOOST_REQUIRE(s.ok());
  JournaledOp op;
  op.lsn = 1;
  op.rec.req = Request{.op = Op::kMkdir, .parent = kRootIno, .name = "x", .mode = 0755};
  op.rec.stamp.new_ino = 2;
  std::vector<ApplyResult> res;
  BOOST_TEST(!ApplyBatch(**s, std::span<const JournaledOp>(&op, 1), &res).ok());
  BOOST_TEST(!MetaStore::Open(dir.path() + "/missing", o).ok());
}

BOOST_AUTO_TEST_CASE(replay_throughput) {
  // Not a benchmark gate, a smoke measure: many small records in one txn.
  Fs fs(65536);
  std::vector<JournaledOp> ops;
  Ino f = fs.Mknod(kRootIno, "f").attr.ino;
  for (int i = 0; i < 100000; i++) {
    if (i % 2 == 0) {
      ops.push_back(fs.StampOp(Request{.op = Op::kWrite, .ino = f, .flags = kWriteAppend, .data = "0123456789"}));
    } else {
      ops.push_back(fs.StampOp(Request{.op = Op::kMknod, .parent = kRootIno, .name = "n" + std::to_string(i), .mode = S_IFREG | 0644}));
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < ops.size(); i += 10000) {
    std::vector<JournaledOp> part(ops.begin() + i, ops.begin() + i + 10000);
    Batch(fs.store(), part);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST_MESSAGE("replay " << ops.size() / secs << " records/s");
  BOOST_TEST(fs.Getattr(f).attr.size == 500000u);
}

// The exactly-once table is checked too: replies of unknown sessions, below
// the pruning watermark, or past the session's last request.
BOOST_AUTO_TEST_CASE(checker_finds_exactly_once_table_damage) {
  Fs fs;
  for (int i = 0; i < 3; i++) fs.Mknod(kRootIno, "f" + std::to_string(i));  // session 1, requests 1..3
  BOOST_TEST(CheckNamespace(fs.store())->empty());
  LmdbMetaStore& impl = Impl(fs.store());
  {
    LmdbTxn txn;
    BOOST_REQUIRE(txn.Begin(impl.env(), false).ok());
    TxnRef t{txn.get(), impl.dbis()};
    const std::string rep = EncodeReply(Reply{});
    Key16 unknown = PairKey(99, 1), future = PairKey(1, 50);
    BOOST_REQUIRE(PutRaw(t, t.d.replies, unknown.val(), rep).ok());
    BOOST_REQUIRE(PutRaw(t, t.d.replies, future.val(), rep).ok());
    BOOST_REQUIRE(txn.Commit().ok());
  }
  auto problems = CheckNamespace(fs.store());
  BOOST_REQUIRE(problems.ok());
  std::set<std::string> kinds;
  for (auto& p : *problems) kinds.insert(p.kind);
  BOOST_TEST(kinds.count("reply-session") == 1u, Kinds(*problems));
  BOOST_TEST(kinds.count("reply-future") == 1u, Kinds(*problems));
}
