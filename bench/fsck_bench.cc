// baton_fsck_bench: `baton fsck`'s namespace check (fs::CheckNamespace) on a
// metadata store of N inodes, side by side with a baseline in the same run
// (docs/PERFORMANCE.md, "fsck: 1,000,000 inodes").
//
//   1. Builds a store through the real write path: fs::ApplyBatch of stamped
//      op records (mkdir, mknod, symlink, link, write, setxattr, unlink), many
//      thousand records per LMDB transaction, as replay does. The shape: a
//      tree of directories of ~1,000 entries each (16 under the root, each
//      directory with up to 8 subdirectories), regular files, some with one
//      or two data chunks, xattrs, hard links, symlinks and a few orphans
//      (unlinked while "open"); 8 client sessions, so the exactly-once table
//      looks like a live store's. The build runs in a child process so that
//      the memory numbers below are the checker's.
//   2. Opens the store read-only (as `baton fsck` does) and times, twice each
//      and interleaved: the baseline, a raw read-only pass over every key and
//      value of every LMDB database with plain mdb cursors (the floor any
//      checker pays to read the data), and fs::CheckNamespace. Reports the
//      better of each, the ratio check / baseline and peak RSS.
//
// Never asserts on time. Exit status: 0 the store built and CheckNamespace
// found no problem; 1 a phase failed or CheckNamespace reported problems (a
// correctness failure: the store was made by apply()); 2 bad usage.
#include <fcntl.h>
#include <lmdb.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "fs/apply.h"
#include "fs/check.h"
#include "fs/meta_store.h"
#include "fs/ops.h"

namespace baton::bench {
namespace {

const char* kHelp =
    "usage: baton_fsck_bench [options]\n"
    "  --inodes N     inodes in the store, the root included (default 1000000)\n"
    "  --quick        smoke run: 20000 inodes\n"
    "  --dir DIR      parent of the temp dir (default /dev/shm if it has room, else /tmp)\n"
    "  --batch N      op records per ApplyBatch / LMDB transaction (default 65536)\n"
    "  --keep         keep the store (prints its path) instead of removing it\n"
    "  --store DIR    check an existing store made with --keep (no build)\n"
    "  --runs N       timed runs of each side (default 2; the better one is reported)\n";

constexpr uint64_t kTargetInodes = 1000000;
constexpr double kTargetSeconds = 30.0;
constexpr uint64_t kEntriesPerDir = 1000;
constexpr uint64_t kRootSubdirs = 16;  // directories 0..15 live in the root
constexpr uint64_t kFanout = 8;        // others: directory k in directory (k - 16) / 8
constexpr uint64_t kSessions = 8;
constexpr uint64_t kMapBytes = 64ull << 30;  // virtual; data.mdb grows as needed
constexpr uint32_t kChunkBytes = 65536;      // the volume default (volume::MkfsOptions)

struct Options {
  uint64_t inodes = kTargetInodes;
  std::string dir;
  uint64_t batch = 65536;
  bool keep = false;
  std::string store;
  int runs = 2;
};

std::string Commas(uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); i++) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

double Secs(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

// ---------------------------------------------------------------- the store

// What the generator put in (counted as it stamps; each op must succeed).
struct Shape {
  uint64_t dirs = 0, files = 0, symlinks = 0, links = 0, xattrs = 0, chunks = 0, orphans = 0, ops = 0,
           batches = 0;
};

// Stamps op records the way the MDS sequencer does (session, request id,
// oldest unreplied, time, new inode number) and applies them in batches.
class Builder {
 public:
  Builder(fs::MetaStore& store, uint64_t batch) : store_(store), batch_(batch) {}

  Status Add(fs::Request req, fs::Ino new_ino = 0) {
    fs::JournaledOp op;
    op.lsn = ++lsn_;
    const uint64_t session = 1 + (lsn_ % kSessions);
    fs::Stamp& st = op.rec.stamp;
    st.session_id = session;
    st.request_id = ++request_ids_[session - 1];
    st.oldest_unreplied = st.request_id;  // one request in flight per session
    st.time_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(lsn_) * 1000;
    st.new_ino = new_ino;
    op.rec.req = std::move(req);
    pending_.push_back(std::move(op));
    shape.ops++;
    if (pending_.size() >= batch_) return Flush();
    return Status::Ok();
  }

  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    BATON_RETURN_IF_ERROR(fs::ApplyBatch(store_, pending_, &results_));
    shape.batches++;
    for (size_t i = 0; i < results_.size(); i++) {
      const fs::ApplyResult& r = results_[i];
      if (r.reply.err != 0 || r.duplicate || r.skipped || r.stale)
        return Status::Corruption("generator op lsn " + std::to_string(pending_[i].lsn) + " (" +
                                  fs::OpName(pending_[i].rec.req.op) + " " + pending_[i].rec.req.name +
                                  ") failed: errno " + std::to_string(r.reply.err));
    }
    pending_.clear();
    return Status::Ok();
  }

  Shape shape;

 private:
  fs::MetaStore& store_;
  uint64_t batch_;
  uint64_t lsn_ = 0;
  uint64_t request_ids_[kSessions] = {};
  std::vector<fs::JournaledOp> pending_;
  std::vector<fs::ApplyResult> results_;
};

// Requests (root credentials, umask 0), one field at a time.
fs::Request Named(fs::Op op, fs::Ino parent, std::string name) {
  fs::Request r;
  r.op = op;
  r.parent = parent;
  r.name = std::move(name);
  return r;
}
fs::Request OnInode(fs::Op op, fs::Ino ino) {
  fs::Request r;
  r.op = op;
  r.ino = ino;
  return r;
}

fs::Ino DirIno(uint64_t k) { return 2 + k; }
uint64_t DirParent(uint64_t k) { return k < kRootSubdirs ? UINT64_MAX : (k - kRootSubdirs) / kFanout; }

// N inodes: the root, D directories, the rest files and symlinks spread
// ~1,000 per directory in directory order. For entry i (0-based):
//   i % 50 == 49        a symlink, else a regular file 0644;
//   i % 10 == 1         one 1,000-byte chunk;
//   i % 100 == 2        two chunks (200 bytes at 0 and at chunk_size: sparse);
//   i % 20 == 3         an xattr user.bench;
//   i % 100 == 4        also a hard link to entry i - 1000 (a regular file in
//                       an earlier directory) named h<i> in this directory;
//   i % 10000 == 5      unlinked right away: an orphan (nlink 0, kept).
Status Generate(fs::MetaStore& store, uint64_t inodes, uint64_t batch, Shape* out) {
  Builder b(store, batch);
  const uint64_t rest = inodes - 1;
  const uint64_t dirs = std::max<uint64_t>(1, rest / (kEntriesPerDir + 1));
  const uint64_t entries = rest - dirs;
  for (uint64_t k = 0; k < dirs; k++) {
    uint64_t p = DirParent(k);
    fs::Request r = Named(fs::Op::kMkdir, p == UINT64_MAX ? fs::kRootIno : DirIno(p), "d" + std::to_string(k));
    r.mode = 0755;
    BATON_RETURN_IF_ERROR(b.Add(std::move(r), DirIno(k)));
    b.shape.dirs++;
  }
  const fs::Ino first = DirIno(dirs);
  for (uint64_t i = 0; i < entries; i++) {
    const uint64_t k = static_cast<uint64_t>((static_cast<unsigned __int128>(i) * dirs) / entries);
    const fs::Ino dir = DirIno(k), ino = first + i;
    if (i % 50 == 49) {
      fs::Request r = Named(fs::Op::kSymlink, dir, "s" + std::to_string(i));
      r.data = "../d" + std::to_string(k) + "/f" + std::to_string(i - 1);
      BATON_RETURN_IF_ERROR(b.Add(std::move(r), ino));
      b.shape.symlinks++;
      continue;
    }
    const std::string name = "f" + std::to_string(i);
    fs::Request mknod = Named(fs::Op::kMknod, dir, name);
    mknod.mode = S_IFREG | 0644;
    BATON_RETURN_IF_ERROR(b.Add(std::move(mknod), ino));
    b.shape.files++;
    if (i % 10 == 1) {
      fs::Request w = OnInode(fs::Op::kWrite, ino);
      w.data = std::string(1000, static_cast<char>('a' + i % 26));
      BATON_RETURN_IF_ERROR(b.Add(std::move(w)));
      b.shape.chunks++;
    }
    if (i % 100 == 2) {
      fs::Request w0 = OnInode(fs::Op::kWrite, ino), w1 = OnInode(fs::Op::kWrite, ino);
      w0.data = std::string(200, 'x');
      w1.offset = kChunkBytes;  // the second chunk; the bytes between read as zeros
      w1.data = std::string(200, 'y');
      BATON_RETURN_IF_ERROR(b.Add(std::move(w0)));
      BATON_RETURN_IF_ERROR(b.Add(std::move(w1)));
      b.shape.chunks += 2;
    }
    if (i % 20 == 3) {
      fs::Request x = OnInode(fs::Op::kSetxattr, ino);
      x.name = "user.bench";
      x.data = "v" + std::to_string(i);
      BATON_RETURN_IF_ERROR(b.Add(std::move(x)));
      b.shape.xattrs++;
    }
    if (i % 100 == 4 && i >= 1000) {
      fs::Request l = OnInode(fs::Op::kLink, first + (i - 1000));
      l.new_parent = dir;
      l.new_name = "h" + std::to_string(i);
      BATON_RETURN_IF_ERROR(b.Add(std::move(l)));
      b.shape.links++;
    }
    if (i % 10000 == 5) {
      BATON_RETURN_IF_ERROR(b.Add(Named(fs::Op::kUnlink, dir, name)));
      b.shape.orphans++;
    }
  }
  BATON_RETURN_IF_ERROR(b.Flush());
  BATON_ASSIGN_OR_RETURN(fs::StoreState st, store.ReadState());
  if (st.inode_count != inodes)
    return Status::Corruption("built store holds " + std::to_string(st.inode_count) + " inodes, wanted " +
                              std::to_string(inodes));
  *out = b.shape;
  return Status::Ok();
}

fs::StoreOptions StoreOpts(bool read_only) {
  fs::StoreOptions o;
  o.map_size_bytes = kMapBytes;
  o.chunk_size_bytes = kChunkBytes;
  o.read_only = read_only;
  return o;
}

Status Build(const std::string& dir, uint64_t inodes, uint64_t batch, Shape* shape) {
  BATON_RETURN_IF_ERROR(fs::MetaStore::Format(dir, StoreOpts(false), 0, 0, 1'700'000'000'000'000'000));
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<fs::MetaStore> store, fs::MetaStore::Open(dir, StoreOpts(false)));
  BATON_RETURN_IF_ERROR(Generate(*store, inodes, batch, shape));
  return store->Sync();
}

// Builds in a child process (its memory never counts in this process's peak
// RSS); the shape comes back through a pipe.
Status BuildInChild(const std::string& dir, uint64_t inodes, uint64_t batch, Shape* shape) {
  int fds[2];
  if (::pipe(fds) != 0) return Status::IOError("pipe", errno);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("fork", errno);
  if (pid == 0) {
    ::close(fds[0]);
    Shape s;
    Status st = Build(dir, inodes, batch, &s);
    if (!st.ok()) {
      fprintf(stderr, "build failed: %s\n", st.ToString().c_str());
      fflush(stderr);
      ::_exit(1);
    }
    ssize_t n = ::write(fds[1], &s, sizeof(s));
    ::_exit(n == static_cast<ssize_t>(sizeof(s)) ? 0 : 1);
  }
  ::close(fds[1]);
  ssize_t n = ::read(fds[0], shape, sizeof(*shape));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != static_cast<ssize_t>(sizeof(*shape)))
    return Status::IOError("the build child failed");
  return Status::Ok();
}

// ---------------------------------------------------------------- the baseline

struct DbiScan {
  std::string name;
  uint64_t records = 0;
  uint64_t bytes = 0;  // keys + values
};

struct RawScan {
  std::vector<DbiScan> dbis;
  uint64_t records = 0;
  uint64_t fold = 0;  // a fold of the first byte of every key and value (kept so the reads stay)
};

Status ScanDbi(MDB_txn* txn, MDB_dbi dbi, DbiScan* out, uint64_t* fold) {
  MDB_cursor* cur = nullptr;
  BATON_RETURN_IF_ERROR(fs::LmdbStatus(mdb_cursor_open(txn, dbi, &cur), "mdb_cursor_open"));
  MDB_val k, v;
  int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    out->records++;
    out->bytes += k.mv_size + v.mv_size;
    if (k.mv_size) *fold += static_cast<const unsigned char*>(k.mv_data)[k.mv_size - 1];
    if (v.mv_size) *fold ^= static_cast<const unsigned char*>(v.mv_data)[0];
  }
  mdb_cursor_close(cur);
  return rc == MDB_NOTFOUND ? Status::Ok() : fs::LmdbStatus(rc, "scan cursor");
}

// Every key and value of every named database (the main database lists
// them), in one read transaction, with plain LMDB cursors.
StatusOr<RawScan> ScanAll(MDB_env* env) {
  RawScan out;
  MDB_txn* txn = nullptr;
  BATON_RETURN_IF_ERROR(fs::LmdbStatus(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin"));
  auto fail = [&](Status s) {
    mdb_txn_abort(txn);
    return s;
  };
  MDB_dbi main_dbi;
  int rc = mdb_dbi_open(txn, nullptr, 0, &main_dbi);
  if (rc != 0) return fail(fs::LmdbStatus(rc, "open main dbi"));
  DbiScan names;
  std::vector<std::string> dbi_names;
  {
    MDB_cursor* cur = nullptr;
    rc = mdb_cursor_open(txn, main_dbi, &cur);
    if (rc != 0) return fail(fs::LmdbStatus(rc, "mdb_cursor_open"));
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
      dbi_names.emplace_back(static_cast<const char*>(k.mv_data), k.mv_size);
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) return fail(fs::LmdbStatus(rc, "main cursor"));
  }
  for (const std::string& name : dbi_names) {
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn, name.c_str(), 0, &dbi);
    if (rc == MDB_INCOMPATIBLE) continue;  // a plain key of the main database, not a database
    if (rc != 0) return fail(fs::LmdbStatus(rc, "mdb_dbi_open"));
    DbiScan s;
    s.name = name;
    Status st = ScanDbi(txn, dbi, &s, &out.fold);
    if (!st.ok()) return fail(st);
    out.records += s.records;
    out.dbis.push_back(std::move(s));
  }
  rc = mdb_txn_commit(txn);  // read-only: ends it and keeps the handles
  BATON_RETURN_IF_ERROR(fs::LmdbStatus(rc, "mdb_txn_commit"));
  return out;
}

// ---------------------------------------------------------------- memory

struct ProcMem {
  uint64_t rss_kb = 0, anon_kb = 0, file_kb = 0, shmem_kb = 0, hwm_kb = 0;
};

ProcMem ReadProcMem() {
  ProcMem m;
  std::ifstream in("/proc/self/status");
  std::string key;
  uint64_t v;
  while (in >> key) {
    if (!(in >> v)) {
      in.clear();
      in.ignore(4096, '\n');
      continue;
    }
    if (key == "VmRSS:") m.rss_kb = v;
    else if (key == "RssAnon:") m.anon_kb = v;
    else if (key == "RssFile:") m.file_kb = v;
    else if (key == "RssShmem:") m.shmem_kb = v;
    else if (key == "VmHWM:") m.hwm_kb = v;
    in.ignore(4096, '\n');
  }
  return m;
}

uint64_t MaxRssKb() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss);
}

// Samples anonymous RSS (the checker's heap; the store's mmap is file or
// shmem RSS) every 5 ms while it lives, keeping the peak.
class AnonSampler {
 public:
  AnonSampler() : thread_([this] {
      while (!stop_.load()) {
        peak_ = std::max(peak_.load(), ReadProcMem().anon_kb);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }) {}
  uint64_t Stop() {
    stop_.store(true);
    thread_.join();
    return std::max(peak_.load(), ReadProcMem().anon_kb);
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> peak_{0};
  std::thread thread_;
};

double Mb(uint64_t kb) { return static_cast<double>(kb) / 1024.0; }

// ---------------------------------------------------------------- main

uint64_t FreeBytes(const std::string& dir) {
  struct statvfs sv {};
  if (::statvfs(dir.c_str(), &sv) != 0) return 0;
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

// data.mdb takes ~470 bytes per inode in this shape (472 MB for 1,000,000);
// ask for 2.5x that.
uint64_t NeededBytes(uint64_t inodes) { return inodes * 1200 + (64ull << 20); }

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--quick") {
      o->inodes = 20000;
    } else if (a == "--inodes" || a == "--batch" || a == "--runs") {
      const char* v = next();
      if (v == nullptr) return false;
      uint64_t n = std::strtoull(v, nullptr, 10);
      if (a == "--inodes") {
        if (n < 1000) return false;
        o->inodes = n;
      } else if (a == "--batch") {
        if (n < 1) return false;
        o->batch = n;
      } else {
        if (n < 1 || n > 100) return false;
        o->runs = static_cast<int>(n);
      }
    } else if (a == "--dir") {
      const char* v = next();
      if (v == nullptr) return false;
      o->dir = v;
    } else if (a == "--store") {
      const char* v = next();
      if (v == nullptr) return false;
      o->store = v;
    } else if (a == "--keep") {
      o->keep = true;
    } else {
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    fputs(kHelp, stderr);
    return 2;
  }
  InstallCleanupHandlers();
  std::unique_ptr<TempDir> tmp;
  std::string store_dir = o.store;
  Shape shape;
  uint64_t build_ns = 0;
  if (store_dir.empty()) {
    if (o.dir.empty()) o.dir = FreeBytes("/dev/shm") >= 2 * NeededBytes(o.inodes) ? "/dev/shm" : "/tmp";
    const uint64_t free_bytes = FreeBytes(o.dir);
    printf("baton_fsck_bench: %s inodes; store under %s (%.1f GB free, ~%.1f GB needed)\n",
           Commas(o.inodes).c_str(), o.dir.c_str(), free_bytes / 1e9, NeededBytes(o.inodes) / 1e9);
    if (free_bytes < NeededBytes(o.inodes)) {
      fprintf(stderr, "not enough free space in %s\n", o.dir.c_str());
      return 1;
    }
    if (o.keep) {
      std::string tmpl = o.dir + "/baton-fsck-bench-XXXXXX";
      if (::mkdtemp(tmpl.data()) == nullptr) {
        fprintf(stderr, "mkdtemp %s: %s\n", tmpl.c_str(), strerror(errno));
        return 1;
      }
      store_dir = tmpl + "/meta";
    } else {
      tmp = std::make_unique<TempDir>(o.dir);
      if (!tmp->ok()) {
        fprintf(stderr, "cannot make a temp dir in %s\n", o.dir.c_str());
        return 1;
      }
      store_dir = tmp->path() + "/meta";
    }
    const uint64_t start = NowNanos();
    Status st = BuildInChild(store_dir, o.inodes, o.batch, &shape);
    build_ns = NowNanos() - start;
    if (!st.ok()) {
      fprintf(stderr, "build: %s\n", st.ToString().c_str());
      return 1;
    }
    std::error_code ec;
    const uint64_t mdb_bytes = std::filesystem::file_size(store_dir + "/data.mdb", ec);
    printf("store: %s directories, %s regular files, %s symlinks, %s hard links, %s xattrs, %s chunks, %s orphans\n",
           Commas(shape.dirs).c_str(), Commas(shape.files).c_str(), Commas(shape.symlinks).c_str(),
           Commas(shape.links).c_str(), Commas(shape.xattrs).c_str(), Commas(shape.chunks).c_str(),
           Commas(shape.orphans).c_str());
    printf("build: %.1f s (%s op records through fs::ApplyBatch in %s LMDB transactions, %s records/s); "
           "data.mdb %.0f MB\n",
           Secs(build_ns), Commas(shape.ops).c_str(), Commas(shape.batches).c_str(),
           Commas(static_cast<uint64_t>(static_cast<double>(shape.ops) / Secs(build_ns))).c_str(), mdb_bytes / 1e6);
    if (o.keep) printf("kept: %s\n", store_dir.c_str());
  } else {
    printf("baton_fsck_bench: existing store %s\n", store_dir.c_str());
  }
  fflush(stdout);

  auto opened = fs::MetaStore::Open(store_dir, StoreOpts(/*read_only=*/true));
  if (!opened.ok()) {
    fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  fs::MetaStore& store = **opened;
  auto state = store.ReadState();
  if (!state.ok()) {
    fprintf(stderr, "state: %s\n", state.status().ToString().c_str());
    return 1;
  }
  const uint64_t inodes = state->inode_count;

  const uint64_t rss_start_kb = MaxRssKb();
  std::optional<RawScan> scan;
  uint64_t best_base = UINT64_MAX, best_check = UINT64_MAX, rss_before_check_kb = 0, anon_peak_kb = 0;
  size_t problems = 0;
  std::vector<fs::CheckProblem> first_problems;
  printf("\nrun  baseline (raw LMDB scan)  CheckNamespace\n");
  for (int run = 1; run <= o.runs; run++) {
    uint64_t t0 = NowNanos();
    auto s = ScanAll(store.env());
    const uint64_t base_ns = NowNanos() - t0;
    if (!s.ok()) {
      fprintf(stderr, "baseline: %s\n", s.status().ToString().c_str());
      return 1;
    }
    scan = std::move(*s);
    best_base = std::min(best_base, base_ns);
    if (run == 1) rss_before_check_kb = MaxRssKb();
    AnonSampler sampler;
    t0 = NowNanos();
    auto p = fs::CheckNamespace(store);
    const uint64_t check_ns = NowNanos() - t0;
    anon_peak_kb = std::max(anon_peak_kb, sampler.Stop());
    if (!p.ok()) {
      fprintf(stderr, "CheckNamespace: %s\n", p.status().ToString().c_str());
      return 1;
    }
    problems = p->size();
    if (first_problems.empty()) first_problems.assign(p->begin(), p->begin() + std::min<size_t>(p->size(), 10));
    best_check = std::min(best_check, check_ns);
    printf("%3d  %10.3f s %14.3f s   (%zu problems)\n", run, Secs(base_ns), Secs(check_ns), p->size());
    fflush(stdout);
  }
  const uint64_t rss_after_check_kb = MaxRssKb();
  const ProcMem now = ReadProcMem();

  printf("\nrecords per database (baseline scan, %s in all):", Commas(scan->records).c_str());
  for (const DbiScan& d : scan->dbis) printf(" %s %s;", d.name.c_str(), Commas(d.records).c_str());
  printf(" [fold %" PRIu64 "]\n", scan->fold % 1000);
  const double check_s = Secs(best_check), base_s = Secs(best_base);
  printf("inodes:            %s\n", Commas(inodes).c_str());
  if (build_ns) printf("build:             %.1f s\n", Secs(build_ns));
  printf("baseline:          %.3f s (%s records/s)\n", base_s,
         Commas(static_cast<uint64_t>(static_cast<double>(scan->records) / base_s)).c_str());
  printf("CheckNamespace:    %.3f s (%s inodes/s)\n", check_s,
         Commas(static_cast<uint64_t>(static_cast<double>(inodes) / check_s)).c_str());
  printf("ratio check/baseline: %.1f\n", check_s / base_s);
  if (inodes >= kTargetInodes) {
    printf("target: 1,000,000 inodes checked in < %.0f s: %s (%.1f s)\n", kTargetSeconds,
           check_s < kTargetSeconds ? "met" : "MISSED", check_s);
  } else {
    printf("target: 1,000,000 inodes checked in < %.0f s: n/a at %s inodes (linear extrapolation %.1f s)\n",
           kTargetSeconds, Commas(inodes).c_str(), check_s * static_cast<double>(kTargetInodes) / inodes);
  }
  printf("peak RSS (getrusage ru_maxrss): %.0f MB at open, %.0f MB before the check (after a baseline scan), "
         "%.0f MB after the checks\n",
         Mb(rss_start_kb), Mb(rss_before_check_kb), Mb(rss_after_check_kb));
  printf("  anonymous RSS peak during CheckNamespace: %.0f MB (the checker's heap; the store's mmap is not in it);"
         " now: RSS %.0f MB = anon %.0f + file %.0f + shmem %.0f MB\n",
         Mb(anon_peak_kb), Mb(now.rss_kb), Mb(now.anon_kb), Mb(now.file_kb), Mb(now.shmem_kb));
  printf("problems reported by CheckNamespace: %zu\n", problems);
  for (const fs::CheckProblem& p : first_problems) printf("  %s: %s\n", p.kind.c_str(), p.message.c_str());
  return problems == 0 ? 0 : 1;
}

}  // namespace
}  // namespace baton::bench

int main(int argc, char** argv) { return baton::bench::Main(argc, argv); }
