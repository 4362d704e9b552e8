// Helpers for the fs/ tests: a temp store, a stamping op driver, a logical
// dump of the store and a seeded random workload.
#pragma once

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fs/apply.h"
#include "fs/lmdb_txn.h"
#include "fs/meta_schema.h"
#include "fs/meta_store_impl.h"

namespace baton::fs::testing {

inline uint64_t TestSeed(uint64_t fallback) {
  const char* s = std::getenv("BATON_TEST_SEED");
  uint64_t seed = s ? std::strtoull(s, nullptr, 0) : fallback;
  BOOST_TEST_MESSAGE("seed " << seed << " (set BATON_TEST_SEED to rerun)");
  return seed;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/baton-fs-test-XXXXXX";
    char* p = mkdtemp(tmpl);
    BOOST_REQUIRE(p != nullptr);
    path_ = p;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Creds Root() { return Creds{}; }
inline Creds User(uint32_t uid, uint32_t gid = 100, std::vector<uint32_t> groups = {}) {
  return Creds{uid, gid, std::move(groups)};
}

// A fresh store and a driver that stamps and applies one op per batch.
class Fs {
 public:
  explicit Fs(uint32_t chunk_size_bytes = 4096, uint64_t map_size_bytes = 1ull << 32) {
    StoreOptions o;
    o.map_size_bytes = map_size_bytes;
    o.chunk_size_bytes = chunk_size_bytes;
    BOOST_REQUIRE(MetaStore::Format(dir_.path(), o, 0, 0, 1000).ok());
    auto s = MetaStore::Open(dir_.path(), o);
    BOOST_REQUIRE(s.ok());
    store_ = std::move(s).value();
  }
  MetaStore& store() { return *store_; }
  const std::string& path() const { return dir_.path(); }

  JournaledOp StampOp(Request r, uint64_t session = 1) {
    JournaledOp op;
    op.lsn = ++lsn_;
    op.rec.stamp.session_id = session;
    op.rec.stamp.request_id = ++req_;
    op.rec.stamp.oldest_unreplied = req_;
    op.rec.stamp.time_ns = (now_ += 1000);
    if (r.op == Op::kMknod || r.op == Op::kMkdir || r.op == Op::kSymlink) op.rec.stamp.new_ino = next_ino_++;
    op.rec.req = std::move(r);
    return op;
  }
  ApplyResult Do(Request r, uint64_t session = 1) { return Apply(StampOp(std::move(r), session)); }
  ApplyResult Apply(const JournaledOp& op) {
    std::vector<ApplyResult> res;
    Status s = ApplyBatch(*store_, std::span<const JournaledOp>(&op, 1), &res);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
    BOOST_REQUIRE_EQUAL(res.size(), 1u);
    return res[0];
  }
  Reply Q(Request r) { return Query(*store_, r); }

  // Shorthands; each returns the reply.
  Reply Mknod(Ino parent, const std::string& name, uint32_t mode = S_IFREG | 0644, Creds c = Root()) {
    Request r{.op = Op::kMknod, .creds = c, .parent = parent, .name = name, .mode = mode};
    return Do(r).reply;
  }
  Reply Mkdir(Ino parent, const std::string& name, uint32_t mode = 0755, Creds c = Root()) {
    Request r{.op = Op::kMkdir, .creds = c, .parent = parent, .name = name, .mode = mode};
    return Do(r).reply;
  }
  Reply Write(Ino ino, uint64_t off, const std::string& data, uint32_t flags = 0, Creds c = Root()) {
    Request r{.op = Op::kWrite, .creds = c, .ino = ino, .flags = flags, .offset = off, .data = data};
    return Do(r).reply;
  }
  Reply Read(Ino ino, uint64_t off, uint64_t len) {
    return Q(Request{.op = Op::kRead, .ino = ino, .offset = off, .length = len});
  }
  Reply Lookup(Ino parent, const std::string& name, Creds c = Root()) {
    return Q(Request{.op = Op::kLookup, .creds = c, .parent = parent, .name = name});
  }
  Reply Getattr(Ino ino) { return Q(Request{.op = Op::kGetattr, .ino = ino}); }
  ApplyResult Unlink(Ino parent, const std::string& name, Creds c = Root()) {
    return Do(Request{.op = Op::kUnlink, .creds = c, .parent = parent, .name = name});
  }
  Reply Rename(Ino p, const std::string& n, Ino np, const std::string& nn, uint32_t flags = 0, Creds c = Root()) {
    Request r{.op = Op::kRename, .creds = c, .parent = p, .name = n, .new_parent = np, .new_name = nn, .flags = flags};
    return Do(r).reply;
  }
  Reply Setattr(Ino ino, SetattrArgs set, Creds c = Root()) {
    return Do(Request{.op = Op::kSetattr, .creds = c, .ino = ino, .set = set}).reply;
  }

 private:
  TempDir dir_;
  std::unique_ptr<MetaStore> store_;
  uint64_t lsn_ = 0, req_ = 0;
  int64_t now_ = 1000000;
  Ino next_ino_ = 2;
};

// Every key and value of every DBI, in order: the logical contents.
inline std::string DumpStore(MetaStore& store) {
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn txn;
  BOOST_REQUIRE(txn.Begin(impl.env(), true).ok());
  std::string out;
  const Dbis& d = impl.dbis();
  for (MDB_dbi dbi : {d.state, d.inodes, d.dentries, d.dircookies, d.xattrs, d.chunks, d.orphans, d.replies,
                      d.sessions}) {
    LmdbCursor cur;
    BOOST_REQUIRE(cur.Open(txn.get(), dbi).ok());
    MDB_val k, v;
    for (int rc = cur.Get(&k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT)) {
      PutBytes(&out, View(k));
      PutBytes(&out, View(v));
    }
    out += "|";
  }
  return out;
}

// A seeded random workload over a small namespace: the records only (stamped
// with lsn, session, request ids and new inode numbers).
inline std::vector<JournaledOp> RandomWorkload(uint64_t seed, size_t n, uint64_t first_lsn = 1) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t k) { return rng() % k; };
  std::vector<JournaledOp> ops;
  Ino next_ino = 2;
  uint64_t req = 0;
  const char* names[] = {"a", "b", "c", "d", "e", "f"};
  for (size_t i = 0; i < n; i++) {
    JournaledOp op;
    op.lsn = first_lsn + i;
    Stamp& st = op.rec.stamp;
    st.session_id = 1 + pick(3);
    st.request_id = ++req;
    st.oldest_unreplied = req > 5 ? req - 5 : 1;
    st.time_ns = 1000000 + static_cast<int64_t>(i) * 10;
    Request& r = op.rec.req;
    Ino dir = pick(3) == 0 ? kRootIno : 2 + pick(next_ino);  // may not exist / not be a dir
    Ino ino = 2 + pick(next_ino);
    r.parent = dir;
    r.name = names[pick(6)];
    r.new_parent = pick(2) ? kRootIno : 2 + pick(next_ino);
    r.new_name = names[pick(6)];
    r.ino = ino;
    if (pick(10) == 0) r.creds = User(1000);
    switch (pick(13)) {
      case 0: case 1: r.op = Op::kMknod; r.mode = S_IFREG | 0644; st.new_ino = next_ino++; break;
      case 2: case 3: r.op = Op::kMkdir; r.mode = 0755; st.new_ino = next_ino++; break;
      case 4: r.op = Op::kSymlink; r.data = "target"; st.new_ino = next_ino++; break;
      case 5: r.op = Op::kLink; break;
      case 6: r.op = Op::kUnlink; break;
      case 7: r.op = Op::kRmdir; break;
      case 8: r.op = Op::kRename; r.flags = pick(4) == 0 ? RENAME_EXCHANGE : 0; break;
      case 9: r.op = Op::kWrite; r.offset = pick(20000); r.data.assign(1 + pick(9000), static_cast<char>('a' + pick(26))); break;
      case 10: r.op = Op::kSetattr; r.set.valid = kSetSize; r.set.size = pick(30000); break;
      case 11: r.op = Op::kSetxattr; r.name = "user.x"; r.data = "v"; break;
      default: r.op = Op::kReclaim; st.session_id = 0; break;
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

}  // namespace baton::fs::testing
