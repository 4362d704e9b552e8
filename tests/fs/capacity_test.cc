// The deterministic capacity rule of apply() (review finding 1): every
// allocating op is capped, the store's usage never passes a capacity fixed at
// Format from its map size, and client input only ever yields an errno reply.
#define BOOST_TEST_MODULE fs_capacity
#include "fs/check.h"
#include "tests/fs/fs_test_util.h"

using namespace baton::fs;
using namespace baton::fs::testing;

namespace {
constexpr uint64_t kMiB = 1ull << 20;

Request Fallocate(Ino f, uint32_t flags, uint64_t off, uint64_t len) {
  return Request{.op = Op::kFallocate, .ino = f, .flags = flags, .offset = off, .length = len};
}

void RequireClean(MetaStore& store) {
  auto problems = CheckNamespace(store, 10);
  BOOST_REQUIRE(problems.ok());
  for (auto& p : *problems) BOOST_ERROR(p.kind << ": " << p.message);
}
}  // namespace

BOOST_AUTO_TEST_CASE(fallocate_keep_size_over_a_pib_file_answers_quickly) {
  Fs fs;
  Ino f = fs.Mknod(kRootIno, "f").attr.ino;
  BOOST_REQUIRE(fs.Setattr(f, SetattrArgs{.valid = kSetSize, .size = kFileSizeMaxBytes}).err == 0);
  auto t0 = std::chrono::steady_clock::now();
  ApplyResult r = fs.Do(Fallocate(f, FALLOC_FL_KEEP_SIZE, 0, kFileSizeMaxBytes));
  BOOST_TEST(r.reply.err == ENOSPC);  // an errno reply, not a store failure (fs.Do requires ok)
  BOOST_TEST(fs.Do(Fallocate(f, 0, 0, 2048 * kMiB)).reply.err == ENOSPC);
  BOOST_TEST(fs.Do(Fallocate(f, FALLOC_FL_KEEP_SIZE, 5 * kMiB, 1025 * kMiB)).reply.err == ENOSPC);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST_MESSAGE("three refused allocations took " << secs << " s");  // no timed assertion: noisy machines
  BOOST_TEST(fs.store().ReadState()->bytes_stored == 0u);  // nothing changed
  // KEEP_SIZE past the end of a small file allocates only up to its size.
  Ino g = fs.Mknod(kRootIno, "g").attr.ino;
  fs.Write(g, 0, "abc");
  BOOST_TEST(fs.Do(Fallocate(g, FALLOC_FL_KEEP_SIZE, 0, kFileSizeMaxBytes)).reply.err == 0);
  BOOST_TEST(fs.Getattr(g).attr.size == 3u);
  // The store stays usable.
  BOOST_TEST(fs.Do(Fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 1 * kMiB)).reply.err == 0);
  BOOST_TEST(fs.Getattr(f).attr.blocks == 2048u);
  fs.Write(f, 7, "xyz");
  BOOST_TEST(fs.Read(f, 6, 5).data == std::string("\0xyz\0", 5));
  RequireClean(fs.store());
}

BOOST_AUTO_TEST_CASE(filling_to_the_limit_answers_enospc_and_deleting_frees) {
  Fs fs(4096, 64 * kMiB);
  StoreState st0 = fs.store().ReadState().value();
  BOOST_TEST(st0.capacity_bytes == CapacityForMapSize(64 * kMiB));
  BOOST_TEST(st0.capacity_bytes <= 48 * kMiB);
  std::vector<Ino> files;
  const std::string mib(kMiB, 'd');
  int err = 0;
  for (int i = 0; i < 200 && err == 0; i++) {
    if (i % 4 == 0) files.push_back(fs.Mknod(kRootIno, "f" + std::to_string(i)).attr.ino);
    uint64_t size_before = fs.Getattr(files.back()).attr.size;
    err = fs.Write(files.back(), size_before, mib).err;
    if (err != 0) BOOST_TEST(fs.Getattr(files.back()).attr.size == size_before);  // unchanged
  }
  BOOST_REQUIRE(err == ENOSPC);
  StoreState full = fs.store().ReadState().value();
  BOOST_TEST(full.used_bytes <= full.capacity_bytes);
  BOOST_TEST(full.capacity_bytes - full.used_bytes < 3 * kMiB);  // a 1 MiB write charges ~2 MiB on 4 KiB chunks
  // Top it up with 4 KiB writes: then not even one more chunk fits.
  int small = 0;
  auto write_4k = [&] { return fs.Write(files.back(), fs.Getattr(files.back()).attr.size, std::string(4096, 'e')).err; };
  while (small < 2000 && write_4k() == 0) small++;
  BOOST_REQUIRE(small < 2000);
  BOOST_TEST(write_4k() == ENOSPC);
  full = fs.store().ReadState().value();
  BOOST_TEST(full.capacity_bytes - full.used_bytes < ChunkCharge(4096));
  Ino x = files[0];
  BOOST_TEST(fs.Do(Fallocate(x, 0, 0, 16 * kMiB)).reply.err == ENOSPC);
  BOOST_TEST(fs.Do(Request{.op = Op::kSetxattr, .ino = x, .name = "user.big", .data = std::string(60000, 'x')})
                 .reply.err == ENOSPC);
  Reply sf = fs.Q(Request{.op = Op::kStatfs});
  BOOST_TEST(sf.statfs.blocks_total == full.capacity_bytes / 4096);
  BOOST_TEST(sf.statfs.blocks_free <= (full.capacity_bytes - full.used_bytes) / 4096);
  RequireClean(fs.store());
  // Deleting (unlink, then reclaim) frees the space again.
  Reply del = fs.Unlink(kRootIno, "f0").reply;
  BOOST_TEST(del.err == 0);
  BOOST_TEST(fs.Do(Request{.op = Op::kReclaim, .ino = x}, 0).reply.err == 0);
  StoreState after = fs.store().ReadState().value();
  BOOST_TEST(after.used_bytes + 4 * kMiB < full.used_bytes);
  BOOST_TEST(fs.Write(files.back(), fs.Getattr(files.back()).attr.size, mib).err == 0);
  BOOST_TEST(fs.Q(Request{.op = Op::kStatfs}).statfs.blocks_free * 4096 <
             after.capacity_bytes - after.used_bytes);
  RequireClean(fs.store());
}

BOOST_AUTO_TEST_CASE(namespace_and_xattrs_count_against_the_limit) {
  Fs fs(4096, 16 * kMiB);
  int enospc = 0, made = 0;
  for (int round = 0; round < 100 && enospc == 0; round++) {  // batches of 1000: one commit each
    std::vector<JournaledOp> ops;
    for (int i = 0; i < 1000; i++)
      ops.push_back(fs.StampOp(Request{.op = Op::kMknod, .parent = kRootIno,
                                       .name = "a-rather-long-name-to-fill-the-store-" + std::to_string(made++),
                                       .mode = S_IFREG | 0644}));
    std::vector<ApplyResult> res;
    BOOST_REQUIRE(ApplyBatch(fs.store(), ops, &res).ok());
    for (auto& r : res) enospc += r.reply.err == ENOSPC;
  }
  BOOST_TEST(enospc > 0);
  Ino f = fs.Lookup(kRootIno, "a-rather-long-name-to-fill-the-store-0").attr.ino;
  BOOST_TEST(fs.Do(Request{.op = Op::kSetxattr, .ino = f, .name = "user.a", .data = std::string(4000, 'x')})
                 .reply.err == ENOSPC);
  StoreState st = fs.store().ReadState().value();
  BOOST_TEST(st.used_bytes <= st.capacity_bytes);
  RequireClean(fs.store());
}

BOOST_AUTO_TEST_CASE(capacity_is_fixed_at_format) {
  TempDir dir;
  StoreOptions o;
  o.map_size_bytes = 64 * kMiB;
  BOOST_REQUIRE(MetaStore::Format(dir.path(), o, 0, 0, 1).ok());
  o.map_size_bytes = 1ull << 32;  // a later open with another map size
  auto store = MetaStore::Open(dir.path(), o);
  BOOST_REQUIRE(store.ok());
  BOOST_TEST((*store)->ReadState()->capacity_bytes == CapacityForMapSize(64 * kMiB));
}

// A batch of the largest allocations (five 64 MiB fallocates of 4 KiB
// chunks: about 170,000 pages, more than LMDB's 131,072 dirty pages per
// transaction; LMDB spills dirty pages to disk mid-transaction) applies whole
// in one call. Should LMDB still answer MDB_TXN_FULL, ApplyBatch re-applies
// the batch in halves.
BOOST_AUTO_TEST_CASE(batch_of_the_largest_allocations_applies) {
  Fs fs(4096, 4ull << 30);
  std::vector<JournaledOp> ops;
  std::vector<Ino> files;
  for (int i = 0; i < 5; i++) files.push_back(fs.Mknod(kRootIno, "big" + std::to_string(i)).attr.ino);
  for (Ino f : files) ops.push_back(fs.StampOp(Fallocate(f, 0, 0, 64 * kMiB)));
  std::vector<ApplyResult> res;
  baton::Status st = ApplyBatch(fs.store(), ops, &res);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  BOOST_REQUIRE_EQUAL(res.size(), 5u);
  for (size_t i = 0; i < res.size(); i++) {
    BOOST_TEST(res[i].reply.err == 0);
    BOOST_TEST(fs.Getattr(files[i]).attr.size == 64 * kMiB);
  }
  BOOST_TEST(fs.store().ReadState()->applied_lsn == ops.back().lsn);
  RequireClean(fs.store());
}

// The same largest allocations applied by the MDS's deferred commit: into an
// open transaction that already holds another batch (fs::OpenTxn), readable
// through it before the commit, and in the store after it.
BOOST_AUTO_TEST_CASE(open_transaction_takes_the_largest_allocations_after_another_batch) {
  Fs fs(4096, 4ull << 30);
  std::vector<Ino> files;
  for (int i = 0; i < 5; i++) files.push_back(fs.Mknod(kRootIno, "big" + std::to_string(i)).attr.ino);
  OpenTxn txn(fs.store());
  std::vector<ApplyResult> res;
  std::vector<JournaledOp> first = {fs.StampOp(Request{.op = Op::kMkdir, .parent = kRootIno, .name = "d", .mode = 0755})};
  BOOST_REQUIRE(txn.Apply(first, &res).ok());
  std::vector<JournaledOp> ops;
  for (Ino f : files) ops.push_back(fs.StampOp(Fallocate(f, 0, 0, 64 * kMiB)));
  baton::Status st = txn.Apply(ops, &res);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.ToString());
  BOOST_REQUIRE(txn.txn() != nullptr);  // still the one open transaction
  BOOST_TEST(Query(fs.store(), Request{.op = Op::kGetattr, .ino = files[4]}, txn.txn()).attr.size == 64 * kMiB);
  BOOST_TEST(fs.Getattr(files[4]).attr.size == 0u);  // a read transaction sees the committed store
  BOOST_REQUIRE(txn.Commit().ok());
  for (Ino f : files) BOOST_TEST(fs.Getattr(f).attr.size == 64 * kMiB);
  BOOST_TEST(fs.Lookup(kRootIno, "d").err == 0);
  BOOST_TEST(fs.store().ReadState()->applied_lsn == ops.back().lsn);
  RequireClean(fs.store());
}
