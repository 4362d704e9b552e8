// The exactly-once table (review findings 4 and 5): pruning is driven by the
// session row, not by request-id arithmetic, and a late duplicate whose reply
// was pruned is answered ESTALE without being applied, deterministically.
#define BOOST_TEST_MODULE fs_exactly_once
#include "fs/check.h"
#include "tests/fs/fs_test_util.h"

using namespace baton::fs;
using namespace baton::fs::testing;

namespace {

size_t StoredReplies(MetaStore& store, uint64_t session) {
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn txn;
  BOOST_REQUIRE(txn.Begin(impl.env(), true).ok());
  LmdbCursor cur;
  BOOST_REQUIRE(cur.Open(txn.get(), impl.dbis().replies).ok());
  size_t n = 0;
  MDB_val k, v;
  for (int rc = cur.Get(&k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT))
    if (baton::LoadU64BE(static_cast<const char*>(k.mv_data)) == session) n++;
  return n;
}

// A stamped op with an explicit request id; the client has every reply below it.
JournaledOp At(Fs& fs, Request r, uint64_t id) {
  JournaledOp op = fs.StampOp(std::move(r));
  op.rec.stamp.request_id = op.rec.stamp.oldest_unreplied = id;
  return op;
}

std::vector<ApplyResult> Batch(MetaStore& store, const std::vector<JournaledOp>& ops) {
  std::vector<ApplyResult> res;
  baton::Status s = ApplyBatch(store, ops, &res);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return res;
}

}  // namespace

BOOST_AUTO_TEST_CASE(write_then_getattr_pattern_still_prunes) {
  // Mutations only on odd request ids (the even ones are getattrs, never
  // journaled): the old "request_id % 64 == 0" rule never pruned.
  Fs fs;
  Ino f = fs.Mknod(kRootIno, "f").attr.ino;
  for (uint64_t i = 0; i < 500; i++)
    BOOST_REQUIRE(fs.Apply(At(fs, Request{.op = Op::kWrite, .ino = f, .offset = i, .data = "x"}, 2 * i + 11))
                      .reply.err == 0);
  BOOST_TEST(StoredReplies(fs.store(), 1) <= 40u);
  BOOST_TEST(StoredReplies(fs.store(), 1) >= 1u);
}

BOOST_AUTO_TEST_CASE(late_write_below_watermark_is_not_applied) {
  Fs fs;
  Ino f = fs.Mknod(kRootIno, "f").attr.ino;
  JournaledOp old_write = At(fs, Request{.op = Op::kWrite, .ino = f, .offset = 0, .data = "old"}, 10);
  BOOST_REQUIRE(fs.Apply(old_write).reply.err == 0);
  for (uint64_t id = 11; id < 150; id++)
    fs.Apply(At(fs, Request{.op = Op::kWrite, .ino = f, .offset = 0, .data = "new"}, id));
  BOOST_REQUIRE(LookupStoredReply(fs.store(), 1, 10).status().IsNotFound());  // pruned
  // The same request arrives late (a copy buffered on a dead connection).
  JournaledOp late = old_write;
  late.lsn = 1000;
  ApplyResult r = fs.Apply(late);
  BOOST_TEST(r.stale);
  BOOST_TEST(!r.duplicate);
  BOOST_TEST(r.reply.err == ESTALE);
  BOOST_TEST(fs.Read(f, 0, 3).data == "new");
  BOOST_TEST(fs.store().ReadState()->applied_lsn == 1000u);
  // Another session's requests are unaffected by this session's watermark.
  JournaledOp other = At(fs, Request{.op = Op::kWrite, .ino = f, .offset = 0, .data = "two"}, 10);
  other.rec.stamp.session_id = 2;
  other.lsn = 1001;
  BOOST_TEST(fs.Apply(other).reply.err == 0);
  BOOST_TEST(fs.Read(f, 0, 3).data == "two");
}

BOOST_AUTO_TEST_CASE(late_mkdir_does_not_recreate_a_removed_directory) {
  Fs fs;
  JournaledOp mk = At(fs, Request{.op = Op::kMkdir, .parent = kRootIno, .name = "d", .mode = 0755}, 5);
  BOOST_REQUIRE(fs.Apply(mk).reply.err == 0);
  BOOST_REQUIRE(fs.Apply(At(fs, Request{.op = Op::kRmdir, .parent = kRootIno, .name = "d"}, 6)).reply.err == 0);
  // A request before anything was pruned is still a new request (no watermark yet).
  fs.Apply(At(fs, Request{.op = Op::kMknod, .parent = kRootIno, .name = "x", .mode = S_IFREG | 0644}, 70));
  JournaledOp late = mk;
  late.lsn = 500;
  late.rec.stamp.new_ino = 400;
  ApplyResult r = fs.Apply(late);
  BOOST_TEST(r.reply.err == ESTALE);
  BOOST_TEST(fs.Lookup(kRootIno, "d").err == ENOENT);
  BOOST_TEST(fs.Getattr(400).err == ENOENT);
  auto problems = CheckNamespace(fs.store(), 10);
  BOOST_REQUIRE(problems.ok());
  BOOST_TEST(problems->empty());
}

BOOST_AUTO_TEST_CASE(stale_answers_replay_identically) {
  // The same journal (with a late duplicate in it) applied one op per batch
  // and in one batch gives the same store, and the same replies.
  Fs a, b;
  std::vector<JournaledOp> ops;
  ops.push_back(At(a, Request{.op = Op::kMkdir, .parent = kRootIno, .name = "d", .mode = 0755}, 3));
  ops.push_back(At(a, Request{.op = Op::kRmdir, .parent = kRootIno, .name = "d"}, 4));
  for (uint64_t id = 5; id < 140; id += 2)
    ops.push_back(At(a, Request{.op = Op::kSetxattr, .ino = kRootIno, .name = "user.n", .data = std::to_string(id)}, id));
  JournaledOp late = ops[0];
  late.lsn = ops.back().lsn + 1;
  ops.push_back(late);
  std::vector<ApplyResult> ra;
  for (const JournaledOp& op : ops) ra.push_back(a.Apply(op));
  std::vector<ApplyResult> rb = Batch(b.store(), ops);
  BOOST_REQUIRE(ra.size() == rb.size());
  for (size_t i = 0; i < ra.size(); i++) {
    BOOST_TEST(EncodeReply(ra[i].reply) == EncodeReply(rb[i].reply));
    BOOST_TEST(ra[i].stale == rb[i].stale);
  }
  BOOST_TEST(ra.back().stale);
  BOOST_TEST(DumpStore(a.store()) == DumpStore(b.store()));
  // Replaying everything again changes nothing (idempotent).
  std::string before = DumpStore(b.store());
  Batch(b.store(), ops);
  BOOST_TEST(DumpStore(b.store()) == before);
}

BOOST_AUTO_TEST_CASE(session_row_layout) {
  SessionVal s{.last_request_id = 7, .last_seen_ns = -3, .last_prune_request_id = 64, .pruned_below = 60};
  char buf[kSessionValueBytes];
  EncodeSession(s, buf);
  SessionVal out;
  BOOST_REQUIRE(DecodeSession(std::string_view(buf, sizeof(buf)), &out).ok());
  BOOST_TEST(out.last_request_id == 7u);
  BOOST_TEST(out.last_seen_ns == -3);
  BOOST_TEST(out.last_prune_request_id == 64u);
  BOOST_TEST(out.pruned_below == 60u);
  // A version-1 row (no watermark) still reads, with no watermark.
  std::string v1(1, '\1');
  baton::PutU64(&v1, 9);
  baton::PutU64(&v1, 5);
  BOOST_REQUIRE(DecodeSession(v1, &out).ok());
  BOOST_TEST(out.last_request_id == 9u);
  BOOST_TEST(out.pruned_below == 0u);
  BOOST_TEST(!DecodeSession(std::string_view(buf, sizeof(buf) - 1), &out).ok());
  buf[0] = 9;
  BOOST_TEST(!DecodeSession(std::string_view(buf, sizeof(buf)), &out).ok());
}
