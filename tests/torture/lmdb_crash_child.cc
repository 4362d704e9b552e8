// The traced program of lmdb_crash_test.cc: runs a real MetaStore under the
// lmdb_io_shim.so LD_PRELOAD shim and marks every commit in the shim's log.
//
//   lmdb_crash_child STORE_DIR COMMITS SEED
//
// Formats a store in STORE_DIR, opens it, and performs COMMITS write
// transactions through fs::ApplyBatch, each a batch of 1..6 stamped op
// records (creates, mkdirs, writes of data chunks from a few bytes to
// 96 KiB, truncates, renames, xattrs, unlinks and reclaims of the orphans,
// which free chunk pages), with
// MetaStore::Sync after some commits and one close + reopen half-way. After
// each commit it computes DigestStoreContents of the committed state and
// writes through the shim's marker function, in the same log as LMDB's
// I/O:
//
//   C <index> <txnid> <digest>   commit <index> returned (index 0: the
//                                formatted store, after Format + Open)
//   S <index>                    MetaStore::Sync returned after commit <index>
//   R / O                        the store was closed / reopened
//   END                          done, store closed
//
// Exit status: 0 done, 2 usage, 3 the shim is not loaded, 4 a store error.
#include <dlfcn.h>
#include <lmdb.h>
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fs/apply.h"
#include "fs/meta_store.h"
#include "fs/store_contents.h"
#include "tests/torture/lmdb_crash_log.h"

namespace {

using namespace baton;
using namespace baton::fs;
namespace lmdblog = baton::torture::lmdblog;

lmdblog::MarkFn g_mark = nullptr;

void Mark(const std::string& line) {
  if (g_mark(line.data(), line.size()) != 0) {
    std::fprintf(stderr, "lmdb_crash_child: the shim has no log (is %s set?)\n", lmdblog::kLogEnv);
    std::exit(3);
  }
}

[[noreturn]] void Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "lmdb_crash_child: %s: %s\n", what, s.ToString().c_str());
  std::exit(4);
}

uint64_t LastTxnid(MetaStore& store) {
  MDB_envinfo info;
  int rc = mdb_env_info(store.env(), &info);
  if (rc != 0) Fail("mdb_env_info", LmdbStatus(rc, "mdb_env_info"));
  return info.me_last_txnid;
}

void MarkCommit(MetaStore& store, int index) {
  StatusOr<uint64_t> d = DigestStoreContents(store);
  if (!d.ok()) Fail("digest", d.status());
  char buf[128];
  std::snprintf(buf, sizeof buf, "C %d %" PRIu64 " %016" PRIx64, index, LastTxnid(store), *d);
  Mark(buf);
}

// A seeded workload over a small tree that keeps most ops succeeding.
class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}

  std::vector<JournaledOp> NextBatch(int index) {
    std::vector<JournaledOp> ops;
    int n = 1 + static_cast<int>(Pick(6));
    for (int i = 0; i < n; i++) ops.push_back(Stamp(NextRequest(index, i)));
    return ops;
  }

 private:
  struct File {
    std::string name;
    Ino ino;
    Ino parent;
  };

  uint64_t Pick(uint64_t k) { return rng_() % k; }

  std::string Data(size_t len) {
    std::string d(len, '\0');
    char c = static_cast<char>('a' + Pick(26));
    for (size_t i = 0; i < len; i++) d[i] = static_cast<char>(c + (i % 7));
    return d;
  }

  JournaledOp Stamp(Request r) {
    JournaledOp op;
    op.lsn = ++lsn_;
    op.rec.stamp.session_id = r.op == Op::kReclaim ? 0 : 1;  // kReclaim is internal (session 0)
    op.rec.stamp.request_id = ++req_;
    op.rec.stamp.oldest_unreplied = req_;
    op.rec.stamp.time_ns = (now_ += 1000);
    if (r.op == Op::kMknod || r.op == Op::kMkdir) {
      op.rec.stamp.new_ino = next_ino_++;
      if (r.op == Op::kMknod) files_.push_back(File{r.name, op.rec.stamp.new_ino, r.parent});
      else dirs_.push_back(op.rec.stamp.new_ino);
    }
    op.rec.req = std::move(r);
    return op;
  }

  Ino SomeDir() { return dirs_.empty() || Pick(3) == 0 ? kRootIno : dirs_[Pick(dirs_.size())]; }

  Request NextRequest(int index, int slot) {
    Request r;
    // The first commits build a tree; a big write every 11th commit spans
    // many pages (several writev runs); unlinks free pages for reuse.
    uint64_t what = files_.size() < 3 ? 0 : Pick(20);
    if (index % 11 == 5 && slot == 0) what = 100;
    if (!unlinked_.empty() && Pick(3) == 0) what = 101;
    switch (what) {
      case 0: case 1: case 2:
        r.op = Op::kMknod;
        r.parent = SomeDir();
        r.name = "f" + std::to_string(name_seq_++);
        r.mode = S_IFREG | 0644;
        return r;
      case 3:
        r.op = Op::kMkdir;
        r.parent = kRootIno;
        r.name = "d" + std::to_string(name_seq_++);
        r.mode = 0755;
        return r;
      case 4: case 5: {
        File& f = files_[Pick(files_.size())];
        r.op = Op::kSetattr;
        r.ino = f.ino;
        r.set.valid = kSetSize;
        r.set.size = Pick(3) == 0 ? 0 : Pick(20000);
        return r;
      }
      case 6: case 7: {
        size_t i = Pick(files_.size());
        r.op = Op::kUnlink;
        r.parent = files_[i].parent;
        r.name = files_[i].name;
        unlinked_.push_back(files_[i].ino);  // kept as an orphan until reclaimed
        files_.erase(files_.begin() + static_cast<std::ptrdiff_t>(i));
        return r;
      }
      case 8: {
        File& f = files_[Pick(files_.size())];
        r.op = Op::kRename;
        r.parent = f.parent;
        r.name = f.name;
        r.new_parent = SomeDir();
        r.new_name = "r" + std::to_string(name_seq_++);
        f.parent = r.new_parent;
        f.name = r.new_name;
        return r;
      }
      case 9:
        r.op = Op::kSetxattr;
        r.ino = files_[Pick(files_.size())].ino;
        r.name = "user.k" + std::to_string(Pick(4));
        r.data = Data(1 + Pick(600));
        return r;
      case 101:  // delete an orphan and its chunks: frees pages
        r.op = Op::kReclaim;
        r.ino = unlinked_.back();
        unlinked_.pop_back();
        return r;
      case 100:
        r.op = Op::kWrite;
        r.ino = files_[Pick(files_.size())].ino;
        r.offset = 0;
        r.data = Data(96 << 10);
        return r;
      default: {
        r.op = Op::kWrite;
        r.ino = files_[Pick(files_.size())].ino;
        r.offset = Pick(24000);
        uint64_t kind = Pick(3);
        r.data = Data(kind == 0 ? 1 + Pick(300) : kind == 1 ? 1 + Pick(8000) : 12000 + Pick(20000));
        return r;
      }
    }
  }

  std::mt19937_64 rng_;
  std::vector<File> files_;
  std::vector<Ino> dirs_;
  std::vector<Ino> unlinked_;
  uint64_t lsn_ = 0, req_ = 0, name_seq_ = 0;
  int64_t now_ = 1000000;
  Ino next_ino_ = kRootIno + 1;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s STORE_DIR COMMITS SEED\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int commits = std::atoi(argv[2]);
  const uint64_t seed = std::strtoull(argv[3], nullptr, 0);
  g_mark = reinterpret_cast<lmdblog::MarkFn>(dlsym(RTLD_DEFAULT, lmdblog::kMarkSymbol));
  if (g_mark == nullptr) {
    std::fprintf(stderr, "lmdb_crash_child: %s not found: run me with LD_PRELOAD=lmdb_io_shim.so\n",
                 lmdblog::kMarkSymbol);
    return 3;
  }

  StoreOptions o;
  o.map_size_bytes = 1ull << 30;
  o.chunk_size_bytes = 4096;
  o.volume_id = "0123456789abcdef";
  Status s = MetaStore::Format(dir, o, 0, 0, 1000);
  if (!s.ok()) Fail("format", s);
  Mark("F");
  auto opened = MetaStore::Open(dir, o);
  if (!opened.ok()) Fail("open", opened.status());
  std::unique_ptr<MetaStore> store = std::move(opened).value();
  MarkCommit(*store, 0);

  Workload w(seed);
  for (int i = 1; i <= commits; i++) {
    std::vector<JournaledOp> ops = w.NextBatch(i);
    std::vector<ApplyResult> res;
    s = ApplyBatch(*store, ops, &res);
    if (!s.ok()) Fail("apply", s);
    MarkCommit(*store, i);
    // Syncs: a few isolated ones, and two in a row.
    if (i % 9 == 4 || i == commits / 3 + 1 || i == commits - 2) {
      s = store->Sync();
      if (!s.ok()) Fail("sync", s);
      Mark("S " + std::to_string(i));
    }
    if (i == commits / 2) {  // close and reopen: the next commits start from a non-durable meta page
      store.reset();
      Mark("R");
      opened = MetaStore::Open(dir, o);
      if (!opened.ok()) Fail("reopen", opened.status());
      store = std::move(opened).value();
      Mark("O");
    }
  }
  store.reset();
  Mark("END");
  return 0;
}
