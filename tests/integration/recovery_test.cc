// Crash recovery through the client library (issue: core acceptance).
//
// Four client threads run a seeded mixed workload (create, write, append,
// truncate, rename over files, link, unlink, mkdir, rmdir, symlink, setxattr,
// removexattr, fsync), each in its own directory with an exact model of what
// the MDS acknowledged. Meanwhile the MDS is killed with SIGKILL at random
// moments and restarted; the client library reconnects and resends. Then:
//   1. every acknowledged operation is there, and nothing more (the model);
//   2. the recovered store equals the journal applied from scratch into an
//      empty store (the state is the result of a prefix of the journal:
//      here, the whole durable journal), compared entry by entry;
//   3. `baton fsck` exits 0.
// BATON_SEED replays a run, BATON_KILLS sets the kills (default 20),
// BATON_RECOVERY_OPS the operations (default 10,000).
#define BOOST_TEST_MODULE recovery_test
#include <filesystem>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "client/client.h"
#include "fs/meta_store.h"
#include "fs/store_contents.h"
#include "mds/replay.h"
#include "tests/mds/mds_test_util.h"
#include "volume/volume.h"

using namespace baton;
using namespace baton::testing;

namespace {

struct Node {  // one inode of the model
  enum Kind { kFile, kDir, kSymlink } kind = kFile;
  fs::Ino ino = 0;
  std::string data;  // file content or symlink target
  std::map<std::string, std::string> xattrs;
  uint32_t nlink = 1;
};

// The model of one thread's directory: names -> nodes (hard links share).
struct Model {
  fs::Ino dir = 0;
  std::map<std::string, std::shared_ptr<Node>> names;
  int next_name = 0;
  std::string Fresh() { return "n" + std::to_string(next_name++); }
};

class Worker {
 public:
  Worker(client::Client& c, int id, uint64_t seed) : c_(c), id_(id), rng_(seed) {}
  Model& model() { return m_; }
  const std::string& error() const { return error_; }

  bool Setup() {
    fs::Request r = Req(fs::Op::kMkdir);
    r.parent = fs::kRootIno, r.name = "t" + std::to_string(id_), r.mode = 040755;
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    m_.dir = rep.attr.ino;
    return true;
  }

  // One random operation that must succeed. False (with error()) if it did not.
  bool Step() {
    switch (rng_() % 14) {
      case 0: case 1: return Create();
      case 2: case 3: return Write(false);
      case 4: return Write(true);
      case 5: return Truncate();
      case 6: return Rename();
      case 7: return Link();
      case 8: return Unlink();
      case 9: return Mkdir();
      case 10: return Rmdir();
      case 11: return Symlink();
      case 12: return Xattr();
      default: return Fsync();
    }
  }

 private:
  static fs::Request Req(fs::Op op) {
    fs::Request r;
    r.op = op;
    return r;
  }
  bool Call(const fs::Request& r, fs::Reply* out) {
    auto rep = c_.Call(r);
    if (!rep.ok()) return Fail(std::string(fs::OpName(r.op)) + ": " + rep.status().ToString());
    if (rep->err != 0) return Fail(std::string(fs::OpName(r.op)) + " " + r.name + ": errno " + std::to_string(rep->err));
    *out = std::move(rep).value();
    return true;
  }
  bool Fail(const std::string& e) {
    error_ = "thread " + std::to_string(id_) + ": " + e;
    return false;
  }
  // A random existing name of the given kind, or "" if none.
  std::string Pick(Node::Kind kind) {
    std::vector<std::string> v;
    for (auto& [n, node] : m_.names)
      if (node->kind == kind) v.push_back(n);
    return v.empty() ? "" : v[rng_() % v.size()];
  }
  std::string RandomBytes(size_t n) {
    std::string s(n, '\0');
    for (auto& ch : s) ch = static_cast<char>('a' + rng_() % 26);
    return s;
  }

  bool Create() {
    fs::Request r = Req(fs::Op::kMknod);
    r.parent = m_.dir, r.name = m_.Fresh(), r.mode = 0100644;
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    auto n = std::make_shared<Node>();
    n->ino = rep.attr.ino;
    m_.names[r.name] = n;
    return true;
  }
  bool Write(bool append) {
    std::string name = Pick(Node::kFile);
    if (name.empty()) return Create();
    Node& n = *m_.names[name];
    fs::Request r = Req(fs::Op::kWrite);
    r.ino = n.ino;
    r.offset = append ? 0 : rng_() % (n.data.size() + 3000);
    r.data = RandomBytes(1 + rng_() % 5000);
    r.flags = append ? fs::kWriteAppend : 0;
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    uint64_t at = append ? n.data.size() : r.offset;
    if (n.data.size() < at + r.data.size()) n.data.resize(at + r.data.size(), '\0');
    n.data.replace(at, r.data.size(), r.data);
    return true;
  }
  bool Truncate() {
    std::string name = Pick(Node::kFile);
    if (name.empty()) return Create();
    Node& n = *m_.names[name];
    fs::Request r = Req(fs::Op::kSetattr);
    r.ino = n.ino;
    r.set.valid = fs::kSetSize;
    r.set.size = rng_() % (n.data.size() + 4000);
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    n.data.resize(r.set.size, '\0');
    return true;
  }
  bool Rename() {
    std::string from = Pick(Node::kFile);
    if (from.empty()) return Create();
    std::string to = Pick(Node::kFile);  // over an existing file, or a fresh name
    if (to.empty() || to == from || m_.names[to] == m_.names[from] || rng_() % 2) to = m_.Fresh();
    fs::Request r = Req(fs::Op::kRename);
    r.parent = m_.dir, r.name = from, r.new_parent = m_.dir, r.new_name = to;
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    if (auto it = m_.names.find(to); it != m_.names.end()) it->second->nlink--;
    m_.names[to] = m_.names[from];
    m_.names.erase(from);
    return true;
  }
  bool Link() {
    std::string from = Pick(Node::kFile);
    if (from.empty()) return Create();
    fs::Request r = Req(fs::Op::kLink);
    r.ino = m_.names[from]->ino, r.new_parent = m_.dir, r.new_name = m_.Fresh();
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    m_.names[r.new_name] = m_.names[from];
    m_.names[from]->nlink++;
    return true;
  }
  bool Unlink() {
    std::string name = rng_() % 3 ? Pick(Node::kFile) : Pick(Node::kSymlink);
    if (name.empty()) return Create();
    fs::Request r = Req(fs::Op::kUnlink);
    r.parent = m_.dir, r.name = name;
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    m_.names[name]->nlink--;
    m_.names.erase(name);
    return true;
  }
  bool Mkdir() {
    fs::Request r = Req(fs::Op::kMkdir);
    r.parent = m_.dir, r.name = m_.Fresh(), r.mode = 040755;
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    auto n = std::make_shared<Node>();
    n->kind = Node::kDir, n->ino = rep.attr.ino, n->nlink = 2;
    m_.names[r.name] = n;
    return true;
  }
  bool Rmdir() {
    std::string name = Pick(Node::kDir);
    if (name.empty()) return Mkdir();
    fs::Request r = Req(fs::Op::kRmdir);
    r.parent = m_.dir, r.name = name;
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    m_.names.erase(name);
    return true;
  }
  bool Symlink() {
    fs::Request r = Req(fs::Op::kSymlink);
    r.parent = m_.dir, r.name = m_.Fresh(), r.data = "target/" + RandomBytes(1 + rng_() % 40);
    fs::Reply rep;
    if (!Call(r, &rep)) return false;
    auto n = std::make_shared<Node>();
    n->kind = Node::kSymlink, n->ino = rep.attr.ino, n->data = r.data;
    m_.names[r.name] = n;
    return true;
  }
  bool Xattr() {
    std::string name = Pick(Node::kFile);
    if (name.empty()) return Create();
    Node& n = *m_.names[name];
    fs::Reply rep;
    if (!n.xattrs.empty() && rng_() % 3 == 0) {
      fs::Request r = Req(fs::Op::kRemovexattr);
      r.ino = n.ino, r.name = n.xattrs.begin()->first;
      if (!Call(r, &rep)) return false;
      n.xattrs.erase(n.xattrs.begin());
      return true;
    }
    fs::Request r = Req(fs::Op::kSetxattr);
    r.ino = n.ino, r.name = "user.k" + std::to_string(rng_() % 4), r.data = RandomBytes(rng_() % 300);
    if (!Call(r, &rep)) return false;
    n.xattrs[r.name] = r.data;
    return true;
  }
  bool Fsync() {
    std::string name = Pick(Node::kFile);
    fs::Request r = Req(fs::Op::kFsync);
    r.ino = name.empty() ? 0 : m_.names[name]->ino;
    fs::Reply rep;
    return Call(r, &rep);
  }

  client::Client& c_;
  int id_;
  std::mt19937_64 rng_;
  Model m_;
  std::string error_;
};

// Checks one thread's directory against its model, through a fresh client.
void VerifyModel(client::Client& c, const Model& m) {
  std::set<std::string> listed;
  uint64_t cookie = 0;
  for (;;) {
    fs::Request r;
    r.op = fs::Op::kReaddir, r.ino = m.dir, r.offset = cookie, r.length = 512;
    auto rep = c.Call(r);
    BOOST_REQUIRE(rep.ok() && rep->err == 0);
    if (rep->entries.empty()) break;
    for (const auto& e : rep->entries) listed.insert(e.name), cookie = e.cookie;
  }
  std::set<std::string> want;
  for (const auto& [n, node] : m.names) want.insert(n);
  BOOST_REQUIRE_MESSAGE(listed == want, "directory " << m.dir << " lists " << listed.size() << " names, model has "
                                                     << want.size());
  for (const auto& [name, node] : m.names) {
    fs::Request lk;
    lk.op = fs::Op::kLookup, lk.parent = m.dir, lk.name = name;
    auto a = c.Call(lk);
    BOOST_REQUIRE(a.ok() && a->err == 0);
    BOOST_REQUIRE_MESSAGE(a->attr.ino == node->ino, name << ": inode " << a->attr.ino << " != " << node->ino);
    BOOST_REQUIRE_MESSAGE(a->attr.nlink == node->nlink, name << ": nlink " << a->attr.nlink << " != " << node->nlink);
    if (node->kind == Node::kDir) continue;
    fs::Request rd;
    rd.op = node->kind == Node::kFile ? fs::Op::kRead : fs::Op::kReadlink, rd.ino = node->ino;
    rd.offset = 0, rd.length = fs::kReadMaxBytes;
    auto d = c.Call(rd);
    BOOST_REQUIRE(d.ok() && d->err == 0);
    BOOST_REQUIRE_MESSAGE(d->data == node->data, name << ": content differs (" << d->data.size() << " bytes, model "
                                                      << node->data.size() << ")");
    if (node->kind == Node::kFile) BOOST_REQUIRE(a->attr.size == node->data.size());
    for (const auto& [k, v] : node->xattrs) {
      fs::Request gx;
      gx.op = fs::Op::kGetxattr, gx.ino = node->ino, gx.name = k;
      auto x = c.Call(gx);
      BOOST_REQUIRE(x.ok() && x->err == 0 && x->data == v);
    }
    fs::Request lx;
    lx.op = fs::Op::kListxattr, lx.ino = node->ino;
    auto l = c.Call(lx);
    size_t count = 0;
    for (char ch : l->data) count += ch == '\0';
    BOOST_REQUIRE_MESSAGE(count == node->xattrs.size(), name << ": " << count << " xattrs, model "
                                                            << node->xattrs.size());
  }
}

using Entries = std::vector<std::tuple<std::string, std::string, std::string>>;

Entries AllEntries(fs::MetaStore& s) {
  Entries e;
  BOOST_REQUIRE(fs::ForEachStoreEntry(s, [&](std::string_view d, std::string_view k, std::string_view v) {
                  e.emplace_back(std::string(d), std::string(k), std::string(v));
                }).ok());
  return e;
}

// Replays the volume's journal into an MDS's own store (as takeover does)
// and into a fresh empty store, and compares the two entry by entry.
void CompareStoreWithReplayFromScratch(volume::Volume* vol, const std::string& store_dir, const TempDir& tmp) {
  BOOST_TEST_MESSAGE("comparing " << store_dir << " with a replay from scratch");
  const auto& sb = vol->superblock();
  const fs::StoreOptions so = vol->store_options();
  auto live = fs::MetaStore::Open(store_dir, so);
  BOOST_REQUIRE(live.ok());
  BOOST_REQUIRE(mds::ReplayJournal(*vol, **live).ok());
  const std::string scratch = tmp.path() + "/scratch-meta";
  std::filesystem::remove_all(scratch);
  BOOST_REQUIRE(Env::Default()->CreateDir(scratch).ok());
  BOOST_REQUIRE(fs::MetaStore::Format(scratch, so, 0, 0, sb.created_ns).ok());
  auto fresh = fs::MetaStore::Open(scratch, so);
  BOOST_REQUIRE(fresh.ok());
  BOOST_REQUIRE(mds::ReplayJournal(*vol, **fresh).ok());
  auto a = AllEntries(**live), b = AllEntries(**fresh);
  BOOST_TEST_MESSAGE("store entries: recovered " << a.size() << ", replayed from scratch " << b.size());
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) i++;
  BOOST_REQUIRE_MESSAGE(i == a.size() && i == b.size(),
                        "stores differ at entry " << i << " (dbi "
                                                  << (i < a.size() ? std::get<0>(a[i]) : std::get<0>(b[i])) << ")");
  BOOST_TEST(*fs::DigestStoreContents(**live) == *fs::DigestStoreContents(**fresh));
}

// Every MDS's own store (VOLUME/mds/NAME/meta) against a replay from scratch.
void CompareWithReplayFromScratch(const std::string& vol_path, const TempDir& tmp) {
  auto vol = volume::Volume::Open(Env::Default(), vol_path);
  BOOST_REQUIRE(vol.ok());
  int stores = 0;
  for (const auto& d : std::filesystem::directory_iterator(vol_path + "/mds")) {
    if (!std::filesystem::exists(d.path() / "meta" / "data.mdb")) continue;
    CompareStoreWithReplayFromScratch(vol->get(), (d.path() / "meta").string(), tmp);
    stores++;
  }
  BOOST_TEST(stores >= 1);
}

int RunFsck(const std::string& vol, std::string* out) {
  const char* bin = getenv("BATON_BIN");
  BOOST_REQUIRE(bin != nullptr);
  FILE* p = popen((std::string(bin) + " fsck " + vol + " 2>&1").c_str(), "r");
  char buf[1024];
  while (fgets(buf, sizeof buf, p)) *out += buf;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(kill9_during_mixed_workload_loses_nothing_acknowledged) {
  const uint64_t seed = SeedFromEnv();
  const uint64_t kills = EnvU64("BATON_KILLS", 20);
  const uint64_t target_ops = EnvU64("BATON_RECOVERY_OPS", 10000);
  BOOST_TEST_MESSAGE("seed " << seed << ", kills " << kills << ", ops " << target_ops
                             << " (BATON_SEED, BATON_KILLS, BATON_RECOVERY_OPS)");
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string vol = MakeVolume(dir);
  MdsProcess mds(vol, FreeLocalAddress());
  mds.checkpoint_interval_ms = 3600 * 1000;  // keep the whole journal for the comparison
  BOOST_REQUIRE(mds.Start());
  client::ClientOptions co;
  co.call_timeout_ms = 120000;
  auto c = client::Client::Connect({mds.address()}, co);
  BOOST_REQUIRE(c.ok());

  constexpr int kThreads = 4;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < kThreads; t++) workers.push_back(std::make_unique<Worker>(**c, t, seed * 31 + t));
  for (auto& w : workers) BOOST_REQUIRE_MESSAGE(w->Setup(), w->error());
  std::atomic<uint64_t> done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> ts;
  for (auto& w : workers) {
    ts.emplace_back([&, wp = w.get()] {
      while (done.load() < target_ops && !failed) {
        if (!wp->Step()) failed = true;
        done++;
      }
    });
  }
  // Spread the kills over the workload.
  for (uint64_t k = 0; k < kills && !failed; k++) {
    uint64_t until = target_ops * (k + 1) / (kills + 1) + rng() % (target_ops / (kills + 1) + 1);
    while (done.load() < until && !failed && done.load() < target_ops)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    mds.Kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 50));
    BOOST_REQUIRE_MESSAGE(mds.Start(), "restart " << k << " failed; see " << mds.stderr_path());
  }
  for (auto& t : ts) t.join();
  for (auto& w : workers) BOOST_REQUIRE_MESSAGE(w->error().empty(), w->error());
  BOOST_TEST_MESSAGE(done.load() << " operations, " << (*c)->stats().reconnects << " reconnects, "
                                 << (*c)->stats().resent_requests << " resent requests");
  BOOST_TEST((*c)->stats().reconnects >= kills);
  (*c)->Close();

  // 1. The model, through a new session after one more crash.
  mds.Kill9();
  BOOST_REQUIRE(mds.Start());
  auto fresh = client::Client::Connect({mds.address()}, co);
  BOOST_REQUIRE(fresh.ok());
  for (auto& w : workers) VerifyModel(**fresh, w->model());
  (*fresh)->Close();
  mds.Kill9();

  // 2. The recovered store is the journal applied from scratch.
  CompareWithReplayFromScratch(vol, dir);
  // 3. fsck is clean.
  std::string out;
  int rc = RunFsck(vol, &out);
  BOOST_TEST(rc == 0, out);
}
