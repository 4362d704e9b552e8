// The repair planner and apply() of kRepair records (fs/repair.h), on a
// store without a volume: one damage per case, made with raw store edits;
// then rounds of CheckNamespace -> PlanRepairs -> ApplyBatch until clean.
// Each case also requires that applying the last round again (new LSNs, as a
// second fsck or a replay past a crash would) changes nothing, and that the
// files that were not damaged keep their contents.
#define BOOST_TEST_MODULE fs_repair_test
#include <boost/test/unit_test.hpp>

#include <functional>

#include "fs/check.h"
#include "fs/repair.h"
#include "fs/store_contents.h"
#include "fs/store_ops.h"
#include "tests/fs/fs_test_util.h"

using namespace baton;
using namespace baton::fs;
using namespace baton::fs::testing;

namespace {

struct Tree {
  Ino a = 0, b = 0, f = 0, g = 0, big = 0;
};

// /a (dir) /a/b (dir) /a/f (3 bytes) /a/b/g (hard link /g) /big (3 chunks of 4 KiB)
Tree Build(Fs& fs) {
  Tree t;
  t.a = fs.Mkdir(kRootIno, "a").attr.ino;
  t.b = fs.Mkdir(t.a, "b").attr.ino;
  t.f = fs.Mknod(t.a, "f").attr.ino;
  fs.Write(t.f, 0, "abc");
  t.g = fs.Mknod(t.b, "g").attr.ino;
  fs.Do(Request{.op = Op::kLink, .ino = t.g, .new_parent = kRootIno, .new_name = "g"});
  t.big = fs.Mknod(kRootIno, "big").attr.ino;
  fs.Write(t.big, 0, std::string(3 * 4096, 'z'));
  fs.Do(Request{.op = Op::kSetxattr, .ino = t.f, .name = "user.k", .data = "v"});
  BOOST_REQUIRE(CheckNamespace(fs.store())->empty());
  return t;
}

void Edit(Fs& fs, const std::function<void(TxnRef)>& fn) {
  LmdbMetaStore& impl = Impl(fs.store());
  LmdbTxn txn;
  BOOST_REQUIRE(txn.Begin(impl.env(), false).ok());
  fn(TxnRef{txn.get(), impl.dbis()});
  BOOST_REQUIRE(txn.Commit().ok());
}

InodeRec Inode(TxnRef t, Ino ino) {
  InodeRec r;
  BOOST_REQUIRE(GetInode(t, ino, &r).ok());
  return r;
}

void Put(TxnRef t, const InodeRec& r) {
  std::string scratch;
  BOOST_REQUIRE(PutInode(t, r, &scratch).ok());
}

std::vector<JournaledOp> StampPlan(Fs& fs, const RepairPlan& plan) {
  std::vector<JournaledOp> ops;
  for (const Request& q : plan.actions) {
    JournaledOp op = fs.StampOp(q, /*session=*/0);
    op.rec.stamp.new_ino = q.op == Op::kMkdir ? plan.mkdir_ino : 0;
    ops.push_back(op);
  }
  return ops;
}

// Every entry but the state row (whose applied LSN moves).
std::string Contents(Fs& fs) {
  std::string out;
  BOOST_REQUIRE(ForEachStoreEntry(fs.store(), [&](std::string_view dbi, std::string_view k, std::string_view v) {
                  if (dbi == "state") return;
                  out.append(dbi).append(1, '\0').append(k).append(1, '\0').append(v).append(1, '\n');
                }).ok());
  return out;
}

// Repairs until clean; returns the kinds the first check found.
std::set<std::string> Repair(Fs& fs) {
  std::set<std::string> kinds;
  auto first = CheckNamespace(fs.store());
  BOOST_REQUIRE(first.ok());
  for (const CheckProblem& p : *first) kinds.insert(p.kind);
  std::vector<JournaledOp> last;
  for (int round = 0; round < 8; round++) {
    auto problems = CheckNamespace(fs.store());
    BOOST_REQUIRE(problems.ok());
    if (problems->empty()) break;
    Reply lf = fs.Lookup(kRootIno, kLostFoundName);
    StatusOr<StoreState> st = fs.store().ReadState();
    BOOST_REQUIRE(st.ok());
    RepairPlan plan = PlanRepairs(*problems, lf.err ? 0 : lf.attr.ino, lf.err == 0 && S_ISDIR(lf.attr.mode),
                                  st->next_ino);
    BOOST_REQUIRE_MESSAGE(plan.unrepairable.empty(),
                          (plan.unrepairable.empty() ? std::string() : plan.unrepairable[0].message));
    BOOST_REQUIRE(!plan.actions.empty());
    last = StampPlan(fs, plan);
    std::vector<ApplyResult> res;
    BOOST_REQUIRE(ApplyBatch(fs.store(), last, &res).ok());
  }
  auto after = CheckNamespace(fs.store());
  BOOST_REQUIRE(after.ok());
  BOOST_TEST(after->empty(), (after->empty() ? "" : after->front().kind + ": " + after->front().message));
  // Idempotent: the last round once more (fresh LSNs) changes nothing but
  // the applied LSN.
  const std::string before = Contents(fs);
  for (JournaledOp& op : last) op = fs.StampOp(op.rec.req, 0), op.rec.stamp.new_ino = 0;
  std::vector<ApplyResult> res;
  BOOST_REQUIRE(ApplyBatch(fs.store(), last, &res).ok());
  BOOST_TEST(CheckNamespace(fs.store())->empty());
  BOOST_TEST((Contents(fs) == before), "applying the last repair round again changed the store");
  return kinds;
}

void Intact(Fs& fs, const Tree& t, bool big = true) {
  BOOST_TEST(fs.Read(t.f, 0, 10).data == "abc");
  if (big) BOOST_TEST((fs.Read(t.big, 0, 3 * 4096).data == std::string(3 * 4096, 'z')));
}

}  // namespace

BOOST_AUTO_TEST_CASE(entry_type_and_cookies) {
  Fs fs;
  Tree t = Build(fs);
  Edit(fs, [&](TxnRef x) {
    DentryVal dv;
    BOOST_REQUIRE(GetDentry(x, t.a, "f", &dv).ok());
    dv.type = S_IFDIR;  // wrong type
    BOOST_REQUIRE(SetDentry(x, t.a, "f", dv).ok());
    BOOST_REQUIRE(GetDentry(x, kRootIno, "big", &dv).ok());
    BOOST_REQUIRE(DelRaw(x, x.d.dircookies, PairKey(kRootIno, dv.cookie).val()).ok());  // cookie lost
    BOOST_REQUIRE(PutRaw(x, x.d.dircookies, PairKey(t.a, 999).val(), "nothing").ok());  // stale cookie
  });
  auto kinds = Repair(fs);
  BOOST_TEST(kinds.count("dentry-type"));
  BOOST_TEST(kinds.count("dircookie"));
  Intact(fs, t);
  BOOST_TEST(fs.Lookup(t.a, "f").attr.ino == t.f);
}

BOOST_AUTO_TEST_CASE(xattr_and_chunks_of_missing_inodes_and_a_short_size) {
  Fs fs;
  Tree t = Build(fs);
  Edit(fs, [&](TxnRef x) {
    BOOST_REQUIRE(PutRaw(x, x.d.xattrs, NameKey(55555, "user.lost").val(), "v").ok());
    BOOST_REQUIRE(PutRaw(x, x.d.chunks, PairKey(t.a, 0).val(), "dir data?").ok());  // chunk of a directory
    InodeRec big = Inode(x, t.big);
    big.attr.size = 100;  // the size was damaged; the data is there
    Put(x, big);
  });
  auto kinds = Repair(fs);
  BOOST_TEST(kinds.count("xattr-owner"));
  BOOST_TEST(kinds.count("chunk-owner"));
  BOOST_TEST(kinds.count("chunk-beyond-eof"));
  Intact(fs, t);
  BOOST_TEST(fs.Getattr(t.big).attr.size == 3u * 4096);
}

BOOST_AUTO_TEST_CASE(orphan_list_replies_and_undecodable_records) {
  Fs fs;
  Tree t = Build(fs);
  Edit(fs, [&](TxnRef x) {
    BOOST_REQUIRE(AddOrphan(x, t.f).ok());      // linked, yet on the orphan list
    BOOST_REQUIRE(AddOrphan(x, 77777).ok());    // no such inode
    BOOST_REQUIRE(PutRaw(x, x.d.replies, PairKey(31337, 1).val(), EncodeReply(Reply{})).ok());  // no session
    BOOST_REQUIRE(PutRaw(x, x.d.inodes, InoKey(88888).val(), "garbage").ok());
  });
  auto kinds = Repair(fs);
  BOOST_TEST(kinds.count("orphan"));
  BOOST_TEST(kinds.count("reply-session"));
  BOOST_TEST(kinds.count("bad-record"));
  Intact(fs, t);
}

BOOST_AUTO_TEST_CASE(counts_dotdot_and_stored_bytes) {
  Fs fs;
  Tree t = Build(fs);
  Edit(fs, [&](TxnRef x) {
    InodeRec b = Inode(x, t.b);
    b.parent = kRootIno;  // wrong '..'
    Put(x, b);
    InodeRec a = Inode(x, t.a);
    a.attr.nlink = 9;
    Put(x, a);
    InodeRec big = Inode(x, t.big);
    big.stored_bytes = 5;
    Put(x, big);
  });
  auto kinds = Repair(fs);
  BOOST_TEST(kinds.count("dotdot"));
  BOOST_TEST(kinds.count("nlink"));
  BOOST_TEST(kinds.count("stored-bytes"));
  BOOST_TEST(fs.Getattr(t.a).attr.nlink == 3u);
  BOOST_TEST(fs.Lookup(t.b, "..").attr.ino == t.a);
  Intact(fs, t);
}

BOOST_AUTO_TEST_CASE(second_entry_of_a_directory_goes_and_the_real_one_stays) {
  Fs fs;
  Tree t = Build(fs);
  Edit(fs, [&](TxnRef x) {
    InodeRec root = Inode(x, kRootIno);
    BOOST_REQUIRE(AddDentry(x, &root, "alias", t.b, S_IFDIR).ok());  // sorts before a's entries
    Put(x, root);
  });
  auto kinds = Repair(fs);
  BOOST_TEST(kinds.count("dir-hardlink"));
  BOOST_TEST(fs.Lookup(kRootIno, "alias").err == ENOENT);
  BOOST_TEST(fs.Lookup(t.a, "b").attr.ino == t.b);
  Intact(fs, t);
}

BOOST_AUTO_TEST_CASE(detached_cycle_is_cut_and_moved_to_lost_found) {
  Fs fs;
  Tree t = Build(fs);
  Edit(fs, [&](TxnRef x) {
    // /a leaves the root and becomes a child of its own child b: a cycle.
    DentryVal dv;
    BOOST_REQUIRE(GetDentry(x, kRootIno, "a", &dv).ok());
    BOOST_REQUIRE(DelDentry(x, kRootIno, "a", dv.cookie).ok());
    InodeRec b = Inode(x, t.b);
    BOOST_REQUIRE(AddDentry(x, &b, "loop", t.a, S_IFDIR).ok());
    Put(x, b);
  });
  auto kinds = Repair(fs);
  BOOST_TEST(kinds.count("unreachable"));
  Reply lf = fs.Lookup(kRootIno, kLostFoundName);
  BOOST_REQUIRE(lf.err == 0);
  // The cycle was cut at its lowest inode (a): a moved to lost+found, b under it.
  BOOST_TEST(fs.Lookup(lf.attr.ino, "#" + std::to_string(t.a)).attr.ino == t.a);
  BOOST_TEST(fs.Lookup(t.b, "loop").err == ENOENT);
  Intact(fs, t);
}

BOOST_AUTO_TEST_CASE(no_root_is_unrepairable) {
  std::vector<CheckProblem> problems(1);
  problems[0].kind = "unreachable";
  problems[0].message = "no root inode";
  RepairPlan plan = PlanRepairs(problems, 0, false, 10);
  BOOST_TEST(plan.actions.empty());
  BOOST_TEST(plan.unrepairable.size() == 1u);
}

BOOST_AUTO_TEST_CASE(lost_found_that_is_a_file_is_unrepairable_not_overwritten) {
  Fs fs;
  Tree t = Build(fs);
  Reply lf = fs.Mknod(kRootIno, kLostFoundName);
  Edit(fs, [&](TxnRef x) {
    DentryVal dv;
    BOOST_REQUIRE(GetDentry(x, t.a, "f", &dv).ok());
    BOOST_REQUIRE(DelDentry(x, t.a, "f", dv.cookie).ok());
  });
  // Round 1 recounts the volume (the entry went without its charge); then
  // connectivity refuses, and /lost+found stays the file it is.
  RepairPlan plan;
  for (int round = 0; round < 3; round++) {
    auto problems = CheckNamespace(fs.store());
    BOOST_REQUIRE(problems.ok());
    plan = PlanRepairs(*problems, lf.attr.ino, false, 100);
    if (!plan.unrepairable.empty() || plan.actions.empty()) break;
    std::vector<ApplyResult> res;
    BOOST_REQUIRE(ApplyBatch(fs.store(), StampPlan(fs, plan), &res).ok());
  }
  BOOST_TEST(plan.actions.empty());
  BOOST_TEST(plan.unrepairable.size() == 1u);
  BOOST_TEST(fs.Getattr(lf.attr.ino).attr.mode == (S_IFREG | 0644u));
}

BOOST_AUTO_TEST_CASE(repair_records_round_trip_through_the_codec) {
  Request q = MakeRepair(RepairAction::kDropKey);
  q.length = static_cast<uint64_t>(StoreDb::kChunks);
  q.data = std::string("\0\0\0\0\0\0\0\x07\0\0\0\0\0\0\0\x01", 16);
  OpRecord rec;
  rec.req = q;
  OpRecord back;
  BOOST_REQUIRE(DecodeOpRecord(EncodeOpRecord(rec), &back).ok());
  BOOST_TEST((back.req.op == Op::kRepair));
  BOOST_TEST(back.req.flags == q.flags);
  BOOST_TEST(back.req.length == q.length);
  BOOST_TEST(back.req.data == q.data);
  BOOST_TEST(DescribeRepair(back.req).find("drop-record chunks key 0000000000000007") == 0u);
  BOOST_TEST(IsInternalOp(Op::kRepair));
  BOOST_TEST(IsMutation(Op::kRepair));
}

// A drop-record of a reply (or session row) in the same batch as the client
// op that wrote it: the batch's pending replies and cached session rows
// must not write it back at the end (the result may not depend on where
// replay batches are cut).
BOOST_AUTO_TEST_CASE(drop_record_of_a_reply_written_in_the_same_batch) {
  for (bool one_batch : {true, false}) {
    Fs fs;
    JournaledOp op = fs.StampOp(Request{.op = Op::kMkdir, .parent = kRootIno, .name = "x", .mode = 0755}, 7);
    Request drop = MakeRepair(RepairAction::kDropKey);
    drop.length = static_cast<uint64_t>(StoreDb::kReplies);
    Key16 k = PairKey(7, op.rec.stamp.request_id);
    drop.data.assign(k.b, 16);
    Request drop_session = MakeRepair(RepairAction::kDropKey);
    drop_session.length = static_cast<uint64_t>(StoreDb::kSessions);
    Key8 sk = InoKey(7);
    drop_session.data.assign(sk.b, 8);
    std::vector<JournaledOp> ops{op, fs.StampOp(drop, 0), fs.StampOp(drop_session, 0)};
    std::vector<ApplyResult> res;
    if (one_batch) {
      BOOST_REQUIRE(ApplyBatch(fs.store(), ops, &res).ok());
    } else {
      for (const JournaledOp& o : ops) fs.Apply(o);
    }
    StatusOr<Reply> stored = LookupStoredReply(fs.store(), 7, op.rec.stamp.request_id);
    BOOST_TEST(stored.status().IsNotFound(), (one_batch ? "one batch" : "three batches"));
    std::string sessions;
    BOOST_REQUIRE(ForEachStoreEntry(fs.store(), [&](std::string_view dbi, std::string_view, std::string_view) {
                    if (dbi == "sessions") sessions += "x";
                  }).ok());
    BOOST_TEST(sessions.empty(), (one_batch ? "one batch" : "three batches"));
  }
}
