// LMDB's power-loss guarantee with our flags, checked on LMDB's real I/O.
//
// The claim (docs/ARCHITECTURE.md, "Crash safety of the two stores"; the
// crash-torture harness models LMDB by it): with MDB_NOMETASYNC |
// MDB_NOTLS | MDB_NORDAHEAD (never MDB_NOSYNC / MDB_WRITEMAP), after a power
// loss at any moment data.mdb opens and holds exactly the contents of one
// of the last two committed write transactions, and after MetaStore::Sync
// following commit n it holds commit n.
//
// The exact rule, from LMDB 0.9.24's mdb.c. A commit (mdb_txn_commit)
// writes its dirty pages (pwrite / lseek+writev), fdatasyncs data.mdb
// (mdb_env_sync(env, 0)), then writes its meta page with one 120-byte
// pwrite (mm_mapsize .. mm_txnid, inside the first 512-byte sector of meta
// page txnid & 1) and returns without syncing it (NOMETASYNC). That meta
// page becomes durable with the next fdatasync of the file: the next
// commit's, or MetaStore::Sync's (mdb_env_sync(env, 1)). A transaction
// reuses only pages freed by transactions at least two older than itself
// (mdb_page_alloc takes freeDB records with txnid < mdb_find_oldest(), at
// most its own txnid - 1, lower with live readers), so it never writes a
// page that the trees of the previous two commits reach; on open
// (mdb_env_read_header) LMDB takes the meta page with the larger txnid.
// Hence, for a crash at any point, with n the last commit whose
// mdb_txn_commit returned, the store holds:
//
//   commit n, always allowed;
//   commit n-1, only if no fdatasync of data.mdb completed since commit n
//     returned (neither MetaStore::Sync nor the next commit's own sync);
//   commit n+1, once commit n+1 has issued its meta-page write (its pages
//     are already synced; only the return is missing).
//
// So the documented "commit n or n-1" holds until commit n+1 writes its
// meta page; from then on the store may already hold n+1 (whose pages and
// records are durable), never n-1. "After MetaStore::Sync following commit
// n, commit n" is the special case of the second line. The test asserts
// exactly this rule, state by state.
//
// How. lmdb_crash_child runs a real MetaStore (Format, Open, 48 ApplyBatch
// commits of real op records, some MetaStore::Sync calls, one reopen)
// under the LD_PRELOAD shim lmdb_io_shim.so, which logs every write and
// sync of data.mdb (lmdb_crash_log.h); after each commit the child logs the
// commit's DigestStoreContents. The test checks the log against LMDB's
// protocol above (one meta-page write per commit, after a sync, carrying
// the commit's txnid; the replayed log equals the child's final data.mdb
// byte for byte), then for every log position (after each write or sync,
// from the formatted store on) builds crash images of data.mdb under three
// models of what the unsynced writes left on disk:
//
//   prefix       the file as of the last sync plus an in-order prefix of
//                the unsynced writes (every prefix length).
//   realistic    per 4 KiB page, an in-order prefix of the unsynced writes
//                that touch it (a random subset of the writes overall), the
//                last kept one possibly torn at a 512-byte sector boundary,
//                its lost sectors reading as zeros.
//   adversarial  any subset of the unsynced writes applied in any order,
//                each write spanning several sectors possibly torn: each of
//                its sectors new, old, zeros or garbage. A write that fits
//                in one 512-byte sector is atomic (the sector atomicity
//                assumption; LMDB's meta-page update is such a write).
//
// Each image is written as data.mdb into a fresh directory (lock.mdb is
// recreated by LMDB), opened with MetaStore::Open in a worker process (a
// store that crashes LMDB kills the worker and is a reported violation, not
// a crashed test), digested, and must equal one of the allowed commits;
// then the recovered store must accept one more ApplyBatch. Identical
// images are opened once. Every violation is reported with its model, log
// position and allowed commits.
//
// A fourth, informational model ("torn-meta") drops the sector atomicity
// assumption for the meta-page write only (its 8-byte words land
// independently, everything else lands): it shows what LMDB's safety rests
// on. LMDB has no checksum on meta pages, so a meta page mixing two
// transactions is taken as is: stores that do not open, trees LMDB aborts
// on, and stores that open silently holding an older commit than allowed.
// Its outcome is reported, not asserted.
//
// BATON_TEST_SEED reruns with another seed (workload and sampling).
#define BOOST_TEST_MODULE lmdb_crash
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "fs/apply.h"
#include "fs/meta_store.h"
#include "fs/store_contents.h"
#include "tests/torture/lmdb_crash_log.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

extern char** environ;

namespace {

using namespace baton;
using namespace baton::fs;
namespace lmdblog = baton::torture::lmdblog;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Sizes: the normal build checks ~7000 states in ~15 s on 2 cores; the
// sanitizer build (every open and digest several times slower) fewer.
constexpr int kCommits = kSanitized ? 30 : 48;
constexpr int kRealisticSamples = kSanitized ? 4 : 8;
constexpr int kAdversarialSamples = kSanitized ? 4 : 8;
constexpr int kTornMetaSamples = 2;
constexpr uint64_t kSector = 512;
constexpr uint64_t kPage = 4096;

uint64_t TestSeed(uint64_t fallback) {
  const char* s = std::getenv("BATON_TEST_SEED");
  uint64_t seed = s ? std::strtoull(s, nullptr, 0) : fallback;
  BOOST_TEST_MESSAGE("seed " << seed << " (set BATON_TEST_SEED to rerun)");
  return seed;
}

StoreOptions Options() {  // as lmdb_crash_child.cc
  StoreOptions o;
  o.map_size_bytes = 1ull << 30;
  o.chunk_size_bytes = 4096;
  o.volume_id = "0123456789abcdef";
  return o;
}

// ---------------------------------------------------------------- the log

struct Event {
  lmdblog::RecType type;
  uint32_t flags = 0;
  int fd = -1;
  uint64_t offset = 0;
  std::string data;
};

std::vector<Event> ReadLog(const std::string& path) {
  std::vector<Event> out;
  FILE* f = std::fopen(path.c_str(), "rb");
  BOOST_REQUIRE_MESSAGE(f != nullptr, "cannot open the shim's log " << path);
  lmdblog::RecHeader h;
  while (std::fread(&h, sizeof h, 1, f) == 1) {
    BOOST_REQUIRE_MESSAGE(h.magic == lmdblog::kMagic, "bad record in the shim's log at record " << out.size());
    Event e{static_cast<lmdblog::RecType>(h.type), h.flags, h.fd, h.offset, std::string(h.length, '\0')};
    if (h.length > 0) BOOST_REQUIRE(std::fread(e.data.data(), h.length, 1, f) == 1);
    out.push_back(std::move(e));
  }
  std::fclose(f);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::string s;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return s;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

void ApplyBytes(std::string* img, uint64_t off, std::string_view bytes) {
  if (img->size() < off + bytes.size()) img->resize(off + bytes.size(), '\0');
  std::memcpy(img->data() + off, bytes.data(), bytes.size());
}

struct Commit {
  int index = 0;
  uint64_t txnid = 0;
  uint64_t digest = 0;
  size_t marker = 0;  // event index of its "C" marker
};

// The log, checked against LMDB's commit protocol.
struct Trace {
  std::vector<Event> ev;
  std::vector<Commit> commits;  // by index, 0 = the formatted store
  uint64_t psize = 0;
  size_t start = 0;  // first crash position checked: just after marker "C 0"
  size_t syncs = 0, writes = 0, store_syncs = 0;
};

bool IsMetaWrite(const Trace& t, const Event& e) { return e.type == lmdblog::kWrite && e.offset < 2 * t.psize; }

Trace Analyze(std::vector<Event> ev, const std::string& data_mdb) {
  Trace t;
  t.ev = std::move(ev);
  std::string path;
  bool format_done = false;
  for (size_t i = 0; i < t.ev.size(); i++) {
    const Event& e = t.ev[i];
    switch (e.type) {
      case lmdblog::kOpen:
        if (path.empty()) path = e.data;
        BOOST_REQUIRE_MESSAGE(e.data == path, "the child opened two data.mdb files: " << path << " and " << e.data);
        break;
      case lmdblog::kWrite:
        if (t.psize == 0) {
          // mdb_env_init_meta: both meta pages in one pwrite at offset 0.
          BOOST_REQUIRE_MESSAGE(e.offset == 0 && e.data.size() % 2 == 0,
                                "the first write to data.mdb is not LMDB's initial meta pages");
          t.psize = e.data.size() / 2;
          BOOST_REQUIRE_MESSAGE(t.psize == kPage, "LMDB page size " << t.psize << ", the models assume 4096");
        }
        t.writes++;
        break;
      case lmdblog::kSync:
        t.syncs++;
        break;
      case lmdblog::kTruncate:
        BOOST_FAIL("LMDB truncated data.mdb (event " << i << "): only MDB_WRITEMAP does that; not modeled");
        break;
      case lmdblog::kMsync:
        BOOST_FAIL("msync in the child (event " << i << "): only MDB_WRITEMAP does that; not modeled");
        break;
      case lmdblog::kMark: {
        const std::string& m = e.data;
        if (m == "F") format_done = true;
        if (m.rfind("S ", 0) == 0) t.store_syncs++;
        if (m.rfind("C ", 0) != 0) break;
        Commit c;
        char hex[32];
        BOOST_REQUIRE(std::sscanf(m.c_str(), "C %d %" SCNu64 " %31s", &c.index, &c.txnid, hex) == 3);
        c.digest = std::strtoull(hex, nullptr, 16);
        c.marker = i;
        BOOST_REQUIRE_MESSAGE(format_done, "commit marker before the store was formatted");
        BOOST_REQUIRE_EQUAL(static_cast<size_t>(c.index), t.commits.size());
        t.commits.push_back(c);
        break;
      }
    }
  }
  BOOST_REQUIRE_MESSAGE(t.commits.size() >= 2, "the child logged " << t.commits.size() << " commits");
  BOOST_REQUIRE(!t.ev.empty() && t.ev.back().type == lmdblog::kMark && t.ev.back().data == "END");
  t.start = t.commits[0].marker + 1;

  // LMDB's protocol, commit by commit: data pages, then an fdatasync, then
  // exactly one meta-page write (the last write of the commit) in slot
  // txnid & 1 whose last 8 bytes (mm_txnid) are the commit's txnid, within
  // one 512-byte sector. The rule the test asserts rests on this order.
  for (size_t k = 1; k < t.commits.size(); k++) {
    const Commit& prev = t.commits[k - 1];
    const Commit& c = t.commits[k];
    BOOST_REQUIRE_MESSAGE(c.txnid == prev.txnid + 1, "commit " << k << " has txnid " << c.txnid);
    std::vector<size_t> metas;
    size_t last_write = 0, last_sync = 0;
    for (size_t i = prev.marker + 1; i < c.marker; i++) {
      const Event& e = t.ev[i];
      if (e.type == lmdblog::kWrite) {
        if (IsMetaWrite(t, e)) metas.push_back(i);
        else last_write = i;
      }
      if (e.type == lmdblog::kSync) last_sync = i;
    }
    BOOST_REQUIRE_MESSAGE(metas.size() == 1, "commit " << k << " wrote " << metas.size() << " meta pages");
    const Event& m = t.ev[metas[0]];
    uint64_t txnid = 0;
    BOOST_REQUIRE(m.data.size() >= 8);
    std::memcpy(&txnid, m.data.data() + m.data.size() - 8, 8);
    BOOST_REQUIRE_MESSAGE(txnid == c.txnid, "commit " << k << "'s meta page carries txnid " << txnid);
    BOOST_REQUIRE_MESSAGE(m.offset / t.psize == (c.txnid & 1), "commit " << k << " wrote the wrong meta slot");
    BOOST_REQUIRE_MESSAGE(m.offset / kSector == (m.offset + m.data.size() - 1) / kSector,
                          "commit " << k << "'s meta-page write spans two sectors");
    BOOST_REQUIRE_MESSAGE(last_sync > last_write && metas[0] > last_sync,
                          "commit " << k << ": the meta page was not written after its data pages were synced");
  }
  // MetaStore::Open writes nothing: no I/O between Format's end ("F") and
  // the first commit marker, nor between a close ("R") and the reopen ("O").
  for (size_t i = 0, quiet = 0; i < t.ev.size(); i++) {
    const Event& e = t.ev[i];
    if (e.type == lmdblog::kMark) {
      if (e.data == "F" || e.data == "R") quiet = 1;
      if (e.data == "O" || e.data.rfind("C ", 0) == 0) quiet = 0;
    } else if (quiet && (e.type == lmdblog::kWrite || e.type == lmdblog::kSync)) {
      BOOST_FAIL("MetaStore::Open wrote to data.mdb (event " << i << ")");
    }
  }
  // The shim saw every write: the replayed log is the child's data.mdb.
  std::string img;
  for (const Event& e : t.ev)
    if (e.type == lmdblog::kWrite) ApplyBytes(&img, e.offset, e.data);
  std::string real = ReadFile(data_mdb);
  BOOST_REQUIRE_MESSAGE(img == real, "replaying the shim's log does not give the child's data.mdb ("
                                         << img.size() << " vs " << real.size() << " bytes): a write escaped the shim");
  return t;
}

// ------------------------------------------------------------ checking a state

enum class Kind : int { kOk = 0, kOpenFailed, kDigestFailed, kWriteFailed, kCrashed };

struct Outcome {
  Kind kind = Kind::kOk;
  uint64_t digest = 0;
  std::string message;
};

struct WireOutcome {
  int kind;
  uint64_t digest;
  char message[480];
};

void Send(int fd, Kind k, uint64_t digest, const std::string& msg) {
  WireOutcome w{};
  w.kind = static_cast<int>(k);
  w.digest = digest;
  std::snprintf(w.message, sizeof w.message, "%s", msg.c_str());
  if (::write(fd, &w, sizeof w) != static_cast<ssize_t>(sizeof w)) ::_exit(1);
}

// In the worker: open the store in dir, digest it, then one more
// transaction. The store is closed before the answer goes back.
void CheckOne(const std::string& dir, int out) {
  StatusOr<std::unique_ptr<MetaStore>> opened = MetaStore::Open(dir, Options());
  if (!opened.ok()) return Send(out, Kind::kOpenFailed, 0, opened.status().ToString());
  std::unique_ptr<MetaStore> store = std::move(opened).value();
  StatusOr<uint64_t> digest = DigestStoreContents(*store);
  if (!digest.ok()) {
    store.reset();
    return Send(out, Kind::kDigestFailed, 0, digest.status().ToString());
  }
  // The recovered store goes on: one more record, as replay would apply.
  std::string werr;
  StatusOr<StoreState> st = store->ReadState();
  if (!st.ok()) {
    werr = "ReadState: " + st.status().ToString();
  } else {
    JournaledOp op;
    op.lsn = st->applied_lsn + 1;
    op.rec.stamp = Stamp{.session_id = 99, .request_id = 1, .oldest_unreplied = 1, .time_ns = 99,
                         .new_ino = st->next_ino};
    op.rec.req = Request{.op = Op::kMkdir, .parent = kRootIno, .name = "after-crash", .mode = 0755};
    std::vector<ApplyResult> res;
    Status s = ApplyBatch(*store, std::span<const JournaledOp>(&op, 1), &res);
    if (!s.ok()) {
      werr = "ApplyBatch: " + s.ToString();
    } else if (res.size() != 1 || res[0].reply.err != 0) {
      werr = "mkdir after the crash answered an error";
    } else {
      StatusOr<StoreState> st2 = store->ReadState();
      StatusOr<uint64_t> d2 = DigestStoreContents(*store);
      if (!st2.ok() || st2->applied_lsn != op.lsn) werr = "applied_lsn did not advance";
      else if (!d2.ok()) werr = "digest after one more commit: " + d2.status().ToString();
    }
  }
  store.reset();
  Send(out, werr.empty() ? Kind::kOk : Kind::kWriteFailed, *digest, werr);
}

// The worker process: one check per request byte. LMDB asserts (abort) or
// faults on some corrupt trees; then the worker dies, the parent records
// the crash and starts another. It is forked while the test process is
// small: forking per state from the big parent cost ~15 ms each (page
// table copies and copy-on-write faults), a request costs ~2 ms.
[[noreturn]] void WorkerMain(const std::string& dir, const std::string& err_path, int in, int out) {
  for (int s : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM}) ::signal(s, SIG_DFL);
  int efd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (efd >= 0) ::dup2(efd, 2);  // LMDB's assertion messages: read back by the parent
  char req;
  while (::read(in, &req, 1) == 1) {
    if (::ftruncate(2, 0) == 0) ::lseek(2, 0, SEEK_SET);
    ::alarm(60);  // a corrupt tree could loop
    CheckOne(dir, out);
    ::alarm(0);
  }
  ::_exit(0);
}

class Checker {
 public:
  explicit Checker(std::string scratch)
      : scratch_(std::move(scratch)), dir_(scratch_ + "/state"), err_(scratch_ + "/worker.stderr") {
    Spawn();
  }
  ~Checker() { Stop(); }

  const Outcome& Check(const std::string& img) {
    XXH128_hash_t h = XXH3_128bits(img.data(), img.size());
    auto key = std::make_pair(h.high64, h.low64 ^ img.size());
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    opened_++;
    return cache_.emplace(key, Run(img)).first->second;
  }
  size_t opened() const { return opened_; }
  size_t worker_deaths() const { return deaths_; }

 private:
  void Spawn() {
    int req[2], rep[2];
    BOOST_REQUIRE(::pipe2(req, O_CLOEXEC) == 0 && ::pipe2(rep, O_CLOEXEC) == 0);
    pid_ = ::fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(req[1]);
      ::close(rep[0]);
      WorkerMain(dir_, err_, req[0], rep[1]);
    }
    ::close(req[0]);
    ::close(rep[1]);
    to_ = req[1];
    from_ = rep[0];
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::close(to_);
    ::close(from_);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  Outcome Run(const std::string& img) {
    std::filesystem::remove_all(dir_);
    BOOST_REQUIRE(::mkdir(dir_.c_str(), 0755) == 0);
    {
      int fd = ::open((dir_ + "/data.mdb").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      BOOST_REQUIRE(fd >= 0);
      BOOST_REQUIRE(::write(fd, img.data(), img.size()) == static_cast<ssize_t>(img.size()));
      ::close(fd);
    }
    char req = 'c';
    BOOST_REQUIRE(::write(to_, &req, 1) == 1);
    WireOutcome w{};
    ssize_t n = ::read(from_, &w, sizeof w);
    Outcome o;
    if (n == static_cast<ssize_t>(sizeof w)) {
      o.kind = static_cast<Kind>(w.kind);
      o.digest = w.digest;
      o.message = w.message;
      return o;
    }
    // The worker died on this image.
    ::close(to_);
    ::close(from_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    deaths_++;
    o.kind = Kind::kCrashed;
    o.message = WIFSIGNALED(status) ? std::string("LMDB crashed: signal ") + ::strsignal(WTERMSIG(status))
                                    : "the worker exited with status " + std::to_string(WEXITSTATUS(status));
    std::string err = ReadFile(err_);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    if (!err.empty()) o.message += " (" + err.substr(err.size() > 200 ? err.size() - 200 : 0) + ")";
    Spawn();
    return o;
  }

  struct PairHash {
    size_t operator()(const std::pair<uint64_t, uint64_t>& p) const { return p.first ^ (p.second * 31); }
  };
  std::string scratch_, dir_, err_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::unordered_map<std::pair<uint64_t, uint64_t>, Outcome, PairHash> cache_;
  size_t opened_ = 0, deaths_ = 0;
};

// --------------------------------------------------------------- the models

enum Model { kPrefix = 0, kRealistic, kAdversarial, kTornMeta, kModels };
const char* kModelNames[] = {"prefix", "realistic", "adversarial", "torn-meta (informational)"};

struct Pending {
  uint64_t offset;
  std::string_view data;
};

// realistic: per 4 KiB page an in-order prefix of the writes touching it,
// the last kept one possibly torn at a sector boundary (rest zeros).
void Realistic(const std::string& synced, const std::vector<Pending>& pending, std::mt19937_64& rng,
               std::string* out) {
  std::map<uint64_t, std::vector<Pending>> pages;  // page -> its pieces, in issue order
  for (const Pending& w : pending) {
    for (uint64_t off = w.offset; off < w.offset + w.data.size();) {
      uint64_t end = std::min<uint64_t>((off / kPage + 1) * kPage, w.offset + w.data.size());
      pages[off / kPage].push_back(Pending{off, w.data.substr(off - w.offset, end - off)});
      off = end;
    }
  }
  std::string& img = *out;
  img = synced;
  for (auto& [page, pieces] : pages) {
    size_t keep = rng() % (pieces.size() + 1);
    for (size_t i = 0; i < keep; i++) {
      const Pending& p = pieces[i];
      uint64_t first = p.offset / kSector, last = (p.offset + p.data.size() - 1) / kSector;
      if (i + 1 == keep && last > first && rng() % 2 == 0) {
        uint64_t landed = first + rng() % (last - first + 1);  // sectors [first, landed) land
        uint64_t cut = std::max(p.offset, landed * kSector) - p.offset;
        ApplyBytes(&img, p.offset, p.data.substr(0, cut));
        ApplyBytes(&img, p.offset + cut, std::string(p.data.size() - cut, '\0'));
      } else {
        ApplyBytes(&img, p.offset, p.data);
      }
    }
  }
}

// adversarial: any subset, any order; a write over several sectors may be
// torn, each sector new / old / zeros / garbage; one-sector writes atomic.
void Adversarial(const std::string& synced, const std::vector<Pending>& pending, std::mt19937_64& rng,
                 std::string* out) {
  const int keep_pct[] = {15, 50, 85, 100};
  int pct = keep_pct[rng() % 4];
  std::vector<Pending> chosen;
  for (const Pending& w : pending)
    if (static_cast<int>(rng() % 100) < pct) chosen.push_back(w);
  std::shuffle(chosen.begin(), chosen.end(), rng);
  std::string& img = *out;
  img = synced;
  for (const Pending& w : chosen) {
    uint64_t first = w.offset / kSector, last = (w.offset + w.data.size() - 1) / kSector;
    if (first == last || rng() % 2 == 0) {
      ApplyBytes(&img, w.offset, w.data);
      continue;
    }
    if (img.size() < w.offset + w.data.size()) img.resize(w.offset + w.data.size(), '\0');  // "old" past EOF: zeros
    for (uint64_t s = first; s <= last; s++) {
      uint64_t b = std::max(w.offset, s * kSector), e = std::min(w.offset + w.data.size(), (s + 1) * kSector);
      switch (rng() % 4) {
        case 0: ApplyBytes(&img, b, w.data.substr(b - w.offset, e - b)); break;
        case 1: break;  // old bytes
        case 2: ApplyBytes(&img, b, std::string(e - b, '\0')); break;
        default: {
          std::string g(e - b, '\0');
          for (char& c : g) c = static_cast<char>(rng());
          ApplyBytes(&img, b, g);
        }
      }
    }
  }
}

// torn-meta (informational): every unsynced write lands, except that the
// unsynced meta-page writes land word by word (8-byte words independently).
void TornMeta(const Trace& t, const std::string& synced, const std::vector<size_t>& pending_ev,
              std::mt19937_64& rng, std::string* out) {
  std::string& img = *out;
  img = synced;
  for (size_t i : pending_ev) {
    const Event& e = t.ev[i];
    if (!IsMetaWrite(t, e)) {
      ApplyBytes(&img, e.offset, e.data);
      continue;
    }
    for (uint64_t w = 0; w < e.data.size(); w += 8)
      if (rng() % 2 == 0) ApplyBytes(&img, e.offset + w, std::string_view(e.data).substr(w, 8));
  }
}

// ---------------------------------------------------------------- the rule

struct Position {
  size_t pos;            // events [0, pos) happened
  int n;                 // last commit whose mdb_txn_commit returned
  bool synced_since_n;   // an fdatasync of data.mdb completed after commit n returned
  bool next_meta;        // commit n+1 has written its meta page
  std::set<int> allowed;
};

std::string Describe(const Trace& t, const Position& p) {
  const Event& e = t.ev[p.pos - 1];
  char buf[256];
  if (e.type == lmdblog::kWrite)
    std::snprintf(buf, sizeof buf, "after event %zu (%s of %zu bytes at offset %" PRIu64 ")", p.pos - 1,
                  IsMetaWrite(t, e) ? "meta-page write" : "write", e.data.size(), e.offset);
  else
    std::snprintf(buf, sizeof buf, "after event %zu (fdatasync)", p.pos - 1);
  std::string s = buf;
  s += ", commit " + std::to_string(p.n) + " returned" + (p.synced_since_n ? ", synced since" : ", not synced since") +
       (p.next_meta ? ", commit " + std::to_string(p.n + 1) + "'s meta page written" : "");
  return s;
}

std::string SetString(const std::set<int>& s) {
  std::string o = "{";
  for (int i : s) o += (o.size() > 1 ? ", " : "") + std::to_string(i);
  return o + "}";
}

struct Violation {
  Model model;
  std::string where;
  std::string what;
};

struct Stats {
  size_t states = 0;
  size_t older = 0, current = 0, newer = 0;  // matched n-1, n, n+1
  size_t violations = 0;
  std::map<std::string, size_t> kinds;  // violations by kind
};

}  // namespace

BOOST_AUTO_TEST_CASE(lmdb_power_loss_keeps_one_of_the_last_two_commits) {
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t seed = TestSeed(20241128);
  std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path().string();
  std::string tmpl = base + "/baton-lmdbcrash-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  const std::string scratch = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{scratch};
  Checker checker(scratch);  // forks its worker now, while this process is small

  // 1. Run the child under the shim.
  const std::string store_dir = scratch + "/store", log_path = scratch + "/io.log";
  {
    std::string preload = LMDB_IO_SHIM;
    // An ASan program must load libasan before any other library: preload
    // it first (the shim itself is not instrumented).
    if (void* sym = ::dlsym(RTLD_DEFAULT, "__asan_init")) {
      Dl_info info;
      if (::dladdr(sym, &info) != 0 && info.dli_fname != nullptr && std::strstr(info.dli_fname, "libasan") != nullptr)
        preload = std::string(info.dli_fname) + ":" + preload;
    }
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; e++) {
      std::string_view v(*e);
      if (v.rfind("LD_PRELOAD=", 0) == 0 || v.rfind(std::string(lmdblog::kLogEnv) + "=", 0) == 0) continue;
      env.emplace_back(v);
    }
    env.push_back("LD_PRELOAD=" + preload);
    env.push_back(std::string(lmdblog::kLogEnv) + "=" + log_path);
    std::vector<std::string> args = {LMDB_CRASH_CHILD, store_dir, std::to_string(kCommits), std::to_string(seed)};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "lmdb_crash_child failed (status " << status << "); LD_PRELOAD=" << preload);
  }

  // 2. The log, checked against LMDB's protocol.
  Trace t = Analyze(ReadLog(log_path), store_dir + "/data.mdb");
  BOOST_TEST_MESSAGE("log: " << t.ev.size() << " events, " << t.writes << " writes, " << t.syncs
                             << " fdatasyncs of data.mdb, " << t.commits.size() - 1 << " commits after Format, "
                             << t.store_syncs << " MetaStore::Sync; data.mdb grew to "
                             << std::filesystem::file_size(store_dir + "/data.mdb") << " bytes");
  std::unordered_map<uint64_t, int> by_digest;
  for (const Commit& c : t.commits) {
    BOOST_REQUIRE_MESSAGE(by_digest.emplace(c.digest, c.index).second, "two commits with the same contents");
  }

  // 3. Every crash position, every model.
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  Stats stats[kModels];
  std::vector<Violation> violations;

  std::string full, synced;  // data.mdb with every write so far / as of the last sync
  std::string img;           // the crash image being built (one buffer, reused)
  std::vector<size_t> pending_ev;
  size_t positions = 0;
  int n = -1;
  bool synced_since_n = false, next_meta = false;
  for (size_t i = 0; i < t.ev.size(); i++) {
    const Event& e = t.ev[i];
    if (e.type == lmdblog::kWrite) {
      ApplyBytes(&full, e.offset, e.data);
      pending_ev.push_back(i);
      if (IsMetaWrite(t, e) && n >= 0) next_meta = true;
    } else if (e.type == lmdblog::kSync) {
      synced = full;
      pending_ev.clear();
      synced_since_n = true;
    } else if (e.type == lmdblog::kMark && e.data.rfind("C ", 0) == 0) {
      n++;
      synced_since_n = false;
      next_meta = false;
    }
    const size_t pos = i + 1;
    if (pos < t.start || (e.type != lmdblog::kWrite && e.type != lmdblog::kSync)) continue;

    positions++;
    Position p{pos, n, synced_since_n, next_meta, {}};
    p.allowed.insert(n);
    if (!synced_since_n && n >= 1) p.allowed.insert(n - 1);
    if (next_meta) p.allowed.insert(n + 1);

    std::vector<Pending> pending;
    for (size_t j : pending_ev) pending.push_back(Pending{t.ev[j].offset, t.ev[j].data});

    auto judge = [&](Model m, const std::string& image, const std::string& how) {
      Stats& s = stats[m];
      s.states++;
      const Outcome& o = checker.Check(image);
      std::string what, kind;
      if (o.kind == Kind::kOk || o.kind == Kind::kWriteFailed) {
        auto it = by_digest.find(o.digest);
        if (it == by_digest.end()) {
          kind = "opens, holds the contents of no commit";
          what = kind;
        } else if (!p.allowed.count(it->second)) {
          kind = "opens, holds a commit not allowed";
          what = "holds commit " + std::to_string(it->second);
        } else {
          if (it->second == n - 1) s.older++;
          else if (it->second == n) s.current++;
          else s.newer++;
          if (o.kind == Kind::kWriteFailed) {
            kind = "holds an allowed commit, refuses the next commit";
            what = "holds allowed commit " + std::to_string(it->second) + " but refused a new commit: " + o.message;
          }
        }
      } else {
        kind = o.kind == Kind::kOpenFailed     ? "does not open"
               : o.kind == Kind::kDigestFailed ? "opens, contents unreadable"
                                               : "LMDB crashes reading it";
        what = kind + ": " + o.message;
      }
      if (what.empty()) return;
      s.violations++;
      s.kinds[kind]++;
      violations.push_back(Violation{m, Describe(t, p) + how, what + "; allowed " + SetString(p.allowed)});
    };

    // prefix: every in-order prefix of the unsynced writes
    {
      img = synced;
      judge(kPrefix, img, ", prefix of 0 unsynced writes");
      for (size_t j = 0; j < pending.size(); j++) {
        ApplyBytes(&img, pending[j].offset, pending[j].data);
        judge(kPrefix, img, ", prefix of " + std::to_string(j + 1) + " unsynced writes");
      }
    }
    const int rs = pending.empty() ? 1 : kRealisticSamples, as = pending.empty() ? 1 : kAdversarialSamples;
    for (int k = 0; k < rs; k++) {
      Realistic(synced, pending, rng, &img);
      judge(kRealistic, img, ", sample " + std::to_string(k));
    }
    for (int k = 0; k < as; k++) {
      Adversarial(synced, pending, rng, &img);
      judge(kAdversarial, img, ", sample " + std::to_string(k));
    }
    bool meta_pending = false;
    for (size_t j : pending_ev) meta_pending |= IsMetaWrite(t, t.ev[j]);
    if (meta_pending)
      for (int k = 0; k < kTornMetaSamples; k++) {
        TornMeta(t, synced, pending_ev, rng, &img);
        judge(kTornMeta, img, ", sample " + std::to_string(k));
      }
  }

  // 4. Report.
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t total = 0;
  for (int m = 0; m < kModels; m++) {
    const Stats& s = stats[m];
    total += s.states;
    BOOST_TEST_MESSAGE("model " << kModelNames[m] << ": " << s.states << " crash states, " << s.violations
                                << " violations; held commit n-1: " << s.older << ", n: " << s.current
                                << ", n+1: " << s.newer);
    for (auto& [kind, count] : s.kinds) BOOST_TEST_MESSAGE("  " << count << " x " << kind);
  }
  BOOST_TEST_MESSAGE(total << " crash states at " << positions << " crash positions, " << checker.opened() << " distinct data.mdb images opened ("
                           << checker.worker_deaths() << " crashed LMDB), in " << secs << " s");
  // Every violation of the asserted models (up to 100 each); a few examples
  // of the informational one.
  std::map<int, size_t> shown;
  for (const Violation& v : violations) {
    const size_t limit = v.model == kTornMeta ? 5 : 100;
    if (++shown[v.model] > limit) continue;
    std::string line = std::string("[") + kModelNames[v.model] + "] " + v.where + ": " + v.what;
    if (v.model == kTornMeta) BOOST_TEST_MESSAGE("  e.g. " << line);
    else BOOST_ERROR(line);
  }
  for (auto& [m, k] : shown) {
    const size_t limit = m == kTornMeta ? 5 : 100;
    if (k > limit) BOOST_TEST_MESSAGE("[" << kModelNames[m] << "] ... " << k - limit << " more not shown");
  }

  // The claim under the three models (torn-meta is informational: it breaks
  // the sector atomicity the claim assumes).
  BOOST_CHECK_MESSAGE(stats[kPrefix].violations == 0, "LMDB's guarantee fails under the prefix model");
  BOOST_CHECK_MESSAGE(stats[kRealistic].violations == 0, "LMDB's guarantee fails under the realistic model");
  BOOST_CHECK_MESSAGE(stats[kAdversarial].violations == 0, "LMDB's guarantee fails under the adversarial model");
  // Not vacuous: both the older and the newer allowed commit did occur.
  BOOST_CHECK(stats[kPrefix].older > 0 && stats[kPrefix].newer > 0);
  BOOST_CHECK(stats[kAdversarial].older > 0);
}
