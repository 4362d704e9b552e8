#include "tests/failover/failover_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include "base/coding.h"
#include "client/client.h"
#include "journal/journal_format.h"
#include "tests/fuse/mount_fixture.h"

namespace baton::testing::failover {

long MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

void SleepMs(long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// ---- MDS processes -----------------------------------------------------

std::optional<proto::StatusInfo> QueryMds(const std::string& addr, int timeout_ms) {
  auto st = client::QueryStatus(addr, timeout_ms);
  if (!st.ok()) return std::nullopt;
  return *st;
}

namespace {

// Uses MdsProcess::WaitRole where it exists, else polls STATUS here.
template <class M>
bool WaitRoleImpl(M& m, proto::Role role, int timeout_ms) {
  if constexpr (requires { m.WaitRole(role, timeout_ms); }) {
    return m.WaitRole(role, timeout_ms);
  } else {
    auto t0 = Clock::now();
    while (m.running() && MsSince(t0) < timeout_ms) {
      auto st = QueryMds(m.address(), 300);
      if (st && st->role == role) return true;
      if (m.WaitExit(0) != -1) return false;  // it exited (and is reaped)
      SleepMs(10);
    }
    return false;
  }
}

}  // namespace

bool WaitRole(MdsProcess& m, proto::Role role, int timeout_ms) { return WaitRoleImpl(m, role, timeout_ms); }

int ReapIfExited(MdsProcess& m) {
  if (m.pid() <= 0) return -1;
  int st;
  if (::waitpid(m.pid(), &st, WNOHANG) != m.pid()) return -1;
  m.pid_ = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Cluster::Cluster(int n, uint32_t lease_ms) {
  ::chmod(dir_.path().c_str(), 0755);  // the mount's users reach dir/mnt
  volume_ = MakeVolume(dir_);
  for (int i = 0; i < n; ++i) {
    names_.push_back(std::string(1, static_cast<char>('a' + i)));
    addrs_.push_back(FreeLocalAddress());
    mds_.push_back(std::make_unique<MdsProcess>(volume_, addrs_.back(), 30000, /*standby=*/true));
    Configure(*mds_.back(), names_.back(), lease_ms);
  }
}

Cluster::~Cluster() {
  for (auto& m : mds_) {
    if (m->running()) ::kill(m->pid(), SIGCONT);
    m->Kill9();
  }
}

std::string Cluster::addresses() const {
  std::string s;
  for (const auto& a : addrs_) s += (s.empty() ? "" : ",") + a;
  return s;
}

bool Cluster::StartActive(int i, int timeout_ms) {
  return mds(i).Spawn() && mds(i).WaitReady(timeout_ms) && WaitRole(mds(i), proto::Role::kActive, timeout_ms);
}

bool Cluster::StartStandby(int i, int timeout_ms) {
  return mds(i).Spawn() && mds(i).WaitReady(timeout_ms) && WaitRole(mds(i), proto::Role::kStandby, timeout_ms);
}

int Cluster::WaitActive(int timeout_ms, uint64_t min_epoch, uint64_t* epoch) {
  auto t0 = Clock::now();
  do {
    for (int i = 0; i < size(); ++i) {
      if (!mds(i).running()) continue;
      auto st = QueryMds(address(i), 200);
      if (st && st->role == proto::Role::kActive && st->epoch >= min_epoch) {
        if (epoch != nullptr) *epoch = st->epoch;
        return i;
      }
    }
    SleepMs(5);
  } while (MsSince(t0) < timeout_ms);
  return -1;
}

int Cluster::WaitActiveExcept(int skip, int timeout_ms, uint64_t min_epoch, uint64_t* epoch) {
  auto t0 = Clock::now();
  do {
    for (int i = 0; i < size(); ++i) {
      if (i == skip || !mds(i).running()) continue;
      auto st = QueryMds(address(i), 200);
      if (st && st->role == proto::Role::kActive && st->epoch >= min_epoch) {
        if (epoch != nullptr) *epoch = st->epoch;
        return i;
      }
    }
    SleepMs(5);
  } while (MsSince(t0) < timeout_ms);
  return -1;
}

bool Cluster::StopAll() {
  bool ok = true;
  // Standbys first, so that stopping the active starts no takeover.
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < size(); ++i) {
      if (!mds(i).running()) continue;
      auto st = QueryMds(address(i), 300);
      bool active = st && st->role == proto::Role::kActive;
      if (pass == 0 && active) continue;
      int rc = mds(i).Terminate();
      if (rc != 0) {
        fprintf(stderr, "MDS %s (%s) exited with %d on SIGTERM\n", name(i).c_str(), address(i).c_str(), rc);
        ok = false;
      }
    }
  }
  return ok;
}

std::string Cluster::Logs(size_t tail_bytes) const {
  std::set<std::string> paths;
  for (const auto& m : mds_) paths.insert(m->stderr_path());
  std::string out;
  for (const auto& p : paths) {
    std::string s = ReadWholeFile(p);
    if (s.size() > tail_bytes) s = "..." + s.substr(s.size() - tail_bytes);
    out += "---- " + p + " ----\n" + s + "\n";
  }
  return out;
}

ContinueGuard::~ContinueGuard() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

// ---- volume files ------------------------------------------------------

std::map<std::string, SegmentFile> SnapshotJournal(const std::string& volume) {
  namespace jf = baton::journal::format;
  std::map<std::string, SegmentFile> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(volume + "/journal", ec)) {
    struct stat st;
    if (::stat(e.path().c_str(), &st) != 0) continue;
    SegmentFile f;
    f.size = static_cast<uint64_t>(st.st_size);
    f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    int fd = ::open(e.path().c_str(), O_RDONLY);
    char h[jf::kSegmentHeaderSize];
    if (fd >= 0 && ::pread(fd, h, sizeof h, 0) == static_cast<ssize_t>(sizeof h))
      f.epoch = LoadU64(h + jf::kSegEpochOffset);
    if (fd >= 0) ::close(fd);
    out[e.path().filename().string()] = f;
  }
  return out;
}

std::string DescribeJournal(const std::map<std::string, SegmentFile>& j) {
  std::ostringstream s;
  for (const auto& [name, f] : j) s << "  " << name << " size " << f.size << " epoch " << f.epoch << "\n";
  return s.str();
}

int RunCapture(const std::vector<std::string>& args, std::string* out) {
  int p[2];
  if (::pipe(p) != 0) return -1;
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    ::close(p[0]);
    ::close(p[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    std::_Exit(127);
  }
  ::close(p[1]);
  out->clear();
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out->append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int st;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int RunFsck(const std::string& volume, std::string* out) {
  const char* bin = std::getenv("BATON_BIN");
  if (bin == nullptr) {
    *out = "BATON_BIN is not set (ctest sets it to the baton binary)";
    return -1;
  }
  return RunCapture({bin, "fsck", volume}, out);
}

std::string ReadWholeFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}


// ---- the FUSE workload -------------------------------------------------

namespace {

int Depth(const std::string& rel) { return static_cast<int>(std::count(rel.begin(), rel.end(), '/')); }

bool Inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

template <class T>
const T& Pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

}  // namespace

Workload::Workload(std::string root, int threads, uint64_t seed) : root_(std::move(root)), seed_(seed) {
  for (int i = 0; i < threads; ++i) {
    auto t = std::make_unique<Thread>();
    t->id = i;
    t->rng.seed(seed * 7919 + static_cast<uint64_t>(i));
    threads_.push_back(std::move(t));
  }
}

Workload::~Workload() {
  stop_ = true;
  Join();
}

void Workload::SetRoot(const std::string& root) { root_ = root; }

void Workload::Start() {
  stop_ = false;
  for (auto& t : threads_) {
    ++running_;
    t->thread = std::thread([this, tp = t.get()] { Run(*tp); });
  }
}

bool Workload::Stop(int timeout_ms) {
  stop_ = true;
  auto t0 = Clock::now();
  while (running_.load() > 0 && MsSince(t0) < timeout_ms) SleepMs(5);
  if (running_.load() > 0) return false;
  Join();
  return true;
}

void Workload::Join() {
  for (auto& t : threads_)
    if (t->thread.joinable()) t->thread.join();
}

bool Workload::failed() const {
  std::lock_guard<std::mutex> l(mu_);
  return !failure_.empty();
}

std::string Workload::failure() const {
  std::lock_guard<std::mutex> l(mu_);
  return failure_;
}

bool Workload::WaitProgress(uint64_t count, int timeout_ms) {
  uint64_t want = ops() + count;
  auto t0 = Clock::now();
  while (ops() < want && !failed() && MsSince(t0) < timeout_ms) SleepMs(5);
  return ops() >= want && !failed();
}

std::vector<std::string> Workload::TopNames() const {
  std::vector<std::string> v;
  for (const auto& t : threads_) v.push_back("t" + std::to_string(t->id));
  return v;
}

std::string Workload::SomeNonEmptyFile() const {
  for (const auto& t : threads_)
    for (const auto& [p, node] : t->model)
      if (!node.dir && !node.data.empty()) return p;
  return "";
}

size_t Workload::ModelFiles() const {
  size_t n = 0;
  for (const auto& t : threads_)
    for (const auto& [p, node] : t->model) n += node.dir ? 0 : 1;
  return n;
}

bool Workload::Fail(Thread& t, const char* op, const std::string& path, int err) {
  if (mount_may_die_.load() && (err == ENOTCONN || err == ECONNABORTED)) {  // the client daemon was killed
    t.interrupted = true;
    t.interrupted_by = std::string(op) + " " + path + ": " + strerror(err);
    return false;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (failure_.empty()) {
    std::ostringstream s;
    s << "writer t" << t.id << ": " << op << " " << path << " failed with errno " << err << " (" << strerror(err)
      << "); seed " << seed_ << ", iteration " << iteration.load() << ", op " << t.op_count << " of this writer";
    failure_ = s.str();
  }
  return false;
}

void Workload::Run(Thread& t) {
  std::string top = "t" + std::to_string(t.id);
  bool ok = true;
  if (t.model.empty()) {  // first start: the writer's own directory
    t.pending = Pending{Pending::kMkdir, top};
    if (::mkdir(P(top).c_str(), 0755) != 0) ok = Fail(t, "mkdir", P(top), errno);
    else t.model[top] = Node{true, "", false};
  }
  while (ok && !stop_.load()) {
    auto t0 = Clock::now();
    ++t.op_count;
    ok = Step(t);
    long ms = MsSince(t0);
    long prev = max_op_ms_.load();
    while (ms > prev && !max_op_ms_.compare_exchange_weak(prev, ms)) {
    }
    if (ok) ++ops_;
  }
  --running_;
}

bool Workload::Step(Thread& t) {
  size_t files = 0;
  for (const auto& [p, n] : t.model) files += n.dir ? 0 : 1;
  if (files < 4) return OpCreate(t);
  int r = static_cast<int>(t.rng() % 100);
  if (r < 25) return files < 60 ? OpCreate(t) : OpUnlink(t);
  if (r < 50) return OpWrite(t);
  if (r < 62) return OpRename(t);
  if (r < 66) return OpRenameDir(t);
  if (r < 76) return OpUnlink(t);
  if (r < 84) return OpMkdir(t);
  if (r < 88) return OpRmdir(t);
  return OpFsync(t);
}

namespace {

// Distinct bytes for every write: a header naming the writer and op, then
// pseudo-random bytes.
std::string Content(std::mt19937_64& rng, int id, uint64_t op, size_t n) {
  std::string s = "<t" + std::to_string(id) + "#" + std::to_string(op) + ">";
  while (s.size() < n) s.push_back(static_cast<char>(rng()));
  s.resize(n);
  return s;
}

}  // namespace

bool Workload::WriteAll(Thread& t, int fd, const std::string& path, const std::string& data, uint64_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) return Fail(t, "pwrite", path, errno);
    if (n == 0) return Fail(t, "pwrite (wrote 0 bytes)", path, EIO);
    done += static_cast<size_t>(n);
  }
  return true;
}

bool Workload::OpCreate(Thread& t) {
  std::vector<std::string> dirs;
  for (const auto& [p, n] : t.model)
    if (n.dir) dirs.push_back(p);
  std::string rel = Pick(t.rng, dirs) + "/f" + std::to_string(t.next_name++);
  std::string path = P(rel);
  t.pending = Pending{Pending::kCreate, rel};
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(t, "open(O_CREAT|O_EXCL)", path, errno);
  Node& node = t.model[rel];
  node = Node{};
  size_t size = t.rng() % 10 < 7 ? 1 + t.rng() % 4096 : 4097 + t.rng() % 61440;
  std::string data = Content(t.rng, t.id, t.op_count, size);
  t.pending.stage = 1;
  t.pending.data = data;
  bool ok = WriteAll(t, fd, path, data, 0);
  if (ok) node.data = data;
  if (ok) t.pending.stage = 2;
  if (ok && t.rng() % 2 == 0) {
    ok = ::fsync(fd) == 0 || Fail(t, "fsync", path, errno);
    node.synced = ok;
  }
  if (::close(fd) != 0 && ok) ok = Fail(t, "close", path, errno);
  return ok;
}

bool Workload::OpWrite(Thread& t) {
  std::vector<std::string> files;
  for (const auto& [p, n] : t.model)
    if (!n.dir) files.push_back(p);
  const std::string rel = Pick(t.rng, files);
  std::string path = P(rel);
  Node& node = t.model[rel];
  bool trunc = t.rng() % 10 == 0;
  t.pending = Pending{Pending::kWrite, rel};
  t.pending.trunc = trunc;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (trunc ? O_TRUNC : 0));
  if (fd < 0) return Fail(t, trunc ? "open(O_TRUNC)" : "open(O_WRONLY)", path, errno);
  if (trunc) node.data.clear();
  node.synced = false;
  uint64_t offset = t.rng() % (node.data.size() + 1);
  if (t.rng() % 8 == 0) offset += t.rng() % 5000;  // past the end: a hole of zeros
  std::string data = Content(t.rng, t.id, t.op_count, 1 + t.rng() % 16384);
  t.pending.stage = 1;
  t.pending.offset = offset;
  t.pending.data = data;
  bool ok = WriteAll(t, fd, path, data, offset);
  if (ok) {
    if (node.data.size() < offset + data.size()) node.data.resize(offset + data.size(), '\0');
    node.data.replace(offset, data.size(), data);
    t.pending.stage = 2;
  }
  if (ok && t.rng() % 10 < 4) {
    ok = ::fsync(fd) == 0 || Fail(t, "fsync", path, errno);
    node.synced = ok;
  }
  if (::close(fd) != 0 && ok) ok = Fail(t, "close", path, errno);
  return ok;
}

bool Workload::OpRename(Thread& t) {
  std::vector<std::string> files, dirs;
  for (const auto& [p, n] : t.model) (n.dir ? dirs : files).push_back(p);
  const std::string src = Pick(t.rng, files);
  std::string dst;
  if (files.size() > 1 && t.rng() % 10 < 3) {  // onto another file: it is replaced
    do dst = Pick(t.rng, files);
    while (dst == src);
  } else {
    dst = Pick(t.rng, dirs) + "/r" + std::to_string(t.next_name++);
  }
  t.pending = Pending{Pending::kRename, src, dst};
  if (::rename(P(src).c_str(), P(dst).c_str()) != 0) return Fail(t, "rename", P(src) + " -> " + P(dst), errno);
  Node node = t.model[src];
  t.model.erase(src);
  t.model[dst] = node;
  return true;
}

bool Workload::OpRenameDir(Thread& t) {
  std::vector<std::string> movable, dirs;
  for (const auto& [p, n] : t.model) {
    if (!n.dir) continue;
    dirs.push_back(p);
    if (Depth(p) >= 1) movable.push_back(p);
  }
  if (movable.empty()) return OpMkdir(t);
  const std::string src = Pick(t.rng, movable);
  std::vector<std::string> parents;
  for (const auto& d : dirs)
    if (d != src && !Inside(d, src) && Depth(d) < 3) parents.push_back(d);
  std::string dst = Pick(t.rng, parents) + "/m" + std::to_string(t.next_name++);
  t.pending = Pending{Pending::kRenameDir, src, dst};
  if (::rename(P(src).c_str(), P(dst).c_str()) != 0) return Fail(t, "rename(dir)", P(src) + " -> " + P(dst), errno);
  std::map<std::string, Node> moved;
  for (auto it = t.model.begin(); it != t.model.end();) {
    if (it->first == src || Inside(it->first, src)) {
      moved[dst + it->first.substr(src.size())] = std::move(it->second);
      it = t.model.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [p, n] : moved) t.model[p] = std::move(n);
  return true;
}

bool Workload::OpUnlink(Thread& t) {
  std::vector<std::string> files;
  for (const auto& [p, n] : t.model)
    if (!n.dir) files.push_back(p);
  const std::string rel = Pick(t.rng, files);
  t.pending = Pending{Pending::kUnlink, rel};
  if (::unlink(P(rel).c_str()) != 0) return Fail(t, "unlink", P(rel), errno);
  t.model.erase(rel);
  return true;
}

bool Workload::OpMkdir(Thread& t) {
  std::vector<std::string> dirs;
  for (const auto& [p, n] : t.model)
    if (n.dir && Depth(p) < 3) dirs.push_back(p);
  std::string rel = Pick(t.rng, dirs) + "/d" + std::to_string(t.next_name++);
  t.pending = Pending{Pending::kMkdir, rel};
  if (::mkdir(P(rel).c_str(), 0755) != 0) return Fail(t, "mkdir", P(rel), errno);
  t.model[rel] = Node{true, "", false};
  return true;
}

bool Workload::OpRmdir(Thread& t) {
  std::vector<std::string> empty;
  for (const auto& [p, n] : t.model) {
    if (!n.dir || Depth(p) == 0) continue;
    auto next = t.model.upper_bound(p);
    if (next == t.model.end() || !Inside(next->first, p)) empty.push_back(p);
  }
  if (empty.empty()) return OpFsync(t);
  const std::string rel = Pick(t.rng, empty);
  t.pending = Pending{Pending::kRmdir, rel};
  if (::rmdir(P(rel).c_str()) != 0) return Fail(t, "rmdir", P(rel), errno);
  t.model.erase(rel);
  return true;
}

bool Workload::OpFsync(Thread& t) {
  std::vector<std::string> files, dirs;
  for (const auto& [p, n] : t.model) (n.dir ? dirs : files).push_back(p);
  bool dir = t.rng() % 10 < 3;
  const std::string rel = Pick(t.rng, dir ? dirs : files);
  std::string path = P(rel);
  t.pending = Pending{};  // changes nothing
  int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_WRONLY) | O_CLOEXEC);
  if (fd < 0) return Fail(t, dir ? "open(dir)" : "open(O_WRONLY)", path, errno);
  bool ok = ::fsync(fd) == 0 || Fail(t, dir ? "fsync(dir)" : "fsync", path, errno);
  if (ok && !dir) t.model[rel].synced = true;
  if (::close(fd) != 0 && ok) ok = Fail(t, "close", path, errno);
  return ok;
}

namespace {

struct Seen {
  bool dir = false;
  uint64_t size = 0;
  nlink_t nlink = 0;
};

void Walk(const std::string& root, const std::string& rel, std::map<std::string, Seen>* out,
          std::vector<std::string>* problems) {
  std::string path = root + "/" + rel;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    problems->push_back("lstat " + rel + ": " + strerror(errno));
    return;
  }
  (*out)[rel] = Seen{S_ISDIR(st.st_mode), static_cast<uint64_t>(st.st_size), st.st_nlink};
  if (!S_ISDIR(st.st_mode)) return;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    problems->push_back("opendir " + rel + ": " + strerror(errno));
    return;
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  if (errno != 0) problems->push_back("readdir " + rel + ": " + strerror(errno));
  ::closedir(d);
  std::set<std::string> unique(names.begin(), names.end());
  if (unique.size() != names.size()) problems->push_back("readdir " + rel + " lists a name twice");
  for (const auto& n : unique) Walk(root, rel + "/" + n, out, problems);
}

}  // namespace

std::string Workload::Verify(const std::string& root) const {
  std::vector<std::string> problems;
  for (const auto& t : threads_) {
    std::map<std::string, Seen> seen;
    Walk(root, "t" + std::to_string(t->id), &seen, &problems);
    for (const auto& [rel, node] : t->model) {
      auto it = seen.find(rel);
      if (it == seen.end()) {
        problems.push_back("missing: " + rel + (node.dir ? " (directory)" : " (file)") + ", acknowledged");
        continue;
      }
      if (it->second.dir != node.dir) {
        problems.push_back("wrong type: " + rel);
        continue;
      }
      if (node.dir) continue;
      if (it->second.nlink != 1) problems.push_back(rel + " has " + std::to_string(it->second.nlink) + " links");
      std::string diff = ContentDiff(ReadUncached(root + "/" + rel), node.data);
      if (!diff.empty()) problems.push_back("content of " + rel + (node.synced ? " (fsync'd)" : " (not fsync'd)") +
                                            ": " + diff);
    }
    for (const auto& [rel, s] : seen)
      if (t->model.count(rel) == 0) problems.push_back("extra: " + rel + (s.dir ? " (directory)" : " (file)"));
  }
  std::ostringstream out;
  for (size_t i = 0; i < problems.size() && i < 40; ++i) out << problems[i] << "\n";
  if (problems.size() > 40) out << "... and " << problems.size() - 40 << " more\n";
  return out.str();
}

// ---- kill -9 of the client daemon ----------------------------------------

int Workload::InterruptedWriters() const {
  int n = 0;
  for (const auto& t : threads_) n += t->interrupted ? 1 : 0;
  return n;
}

size_t Workload::ModelSyncedFiles() const {
  size_t n = 0;
  for (const auto& t : threads_)
    for (const auto& [p, node] : t->model) n += !node.dir && node.synced ? 1 : 0;
  return n;
}

namespace {

// base with data[0, k) written at offset (zeros filling a hole), the state a
// write of data cut short after its first k bytes leaves.
std::string Written(std::string base, uint64_t offset, const std::string& data, size_t k) {
  if (k == 0) return base;
  if (base.size() < offset + k) base.resize(offset + k, '\0');
  base.replace(offset, k, data, 0, k);
  return base;
}

// The k for which got == Written(base, offset, data, k), or -1 if none.
long WrittenPrefix(const std::string& base, uint64_t offset, const std::string& data, const std::string& got) {
  if (got == base) return 0;
  std::vector<size_t> ks;
  if (got.size() > base.size() && got.size() > offset && got.size() - offset <= data.size())
    ks.push_back(got.size() - offset);  // the file grew: its new end says how much was written
  if (offset < got.size()) {  // else: the longest run of data's bytes at offset
    size_t k = 0;
    while (k < data.size() && offset + k < got.size() && got[offset + k] == data[k]) ++k;
    ks.push_back(k);
  }
  for (size_t k : ks)
    if (k > 0 && Written(base, offset, data, k) == got) return static_cast<long>(k);
  return -1;
}

// Moves src (and, for a directory, everything inside it) to dst in a model.
template <class Map>
void MoveInModel(Map& model, const std::string& src, const std::string& dst) {
  Map moved;
  for (auto it = model.begin(); it != model.end();) {
    if (it->first == src || Inside(it->first, src)) {
      moved[dst + it->first.substr(src.size())] = std::move(it->second);
      it = model.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [p, n] : moved) model[p] = std::move(n);
}

}  // namespace

std::string Workload::ResolveInterrupted(const std::string& root, std::string* how) {
  std::vector<std::string> problems;
  std::ostringstream said;
  for (auto& tp : threads_) {
    Thread& t = *tp;
    if (!t.interrupted) continue;
    t.interrupted = false;
    Pending p = std::move(t.pending);
    t.pending = Pending{};
    std::string who = "writer t" + std::to_string(t.id) + " (" + t.interrupted_by + "): ";
    std::string path = root + "/" + p.a;
    struct stat st;
    bool there = ::lstat(path.c_str(), &st) == 0;
    int lstat_errno = there ? 0 : errno;
    std::string outcome;
    switch (p.kind) {
      case Pending::kNone:
        outcome = "changes nothing";
        break;
      case Pending::kCreate: {
        if (!there) {
          if (p.stage == 0 && lstat_errno == ENOENT) outcome = "create " + p.a + " not done";
          else problems.push_back(who + "create " + p.a + " (stage " + std::to_string(p.stage) + "): lstat says " +
                                  strerror(lstat_errno));
          break;
        }
        if (p.stage == 2) {
          outcome = "create " + p.a + " done, all bytes written (the model has it)";
          break;
        }
        auto got = ReadUncached(path);
        if (!got || !S_ISREG(st.st_mode)) {
          problems.push_back(who + "create " + p.a + ": not a readable file");
          break;
        }
        bool prefix = got->size() <= p.data.size() && p.data.compare(0, got->size(), *got) == 0;
        if (p.stage == 0 ? !got->empty() : !prefix) {
          problems.push_back(who + "create " + p.a + " (stage " + std::to_string(p.stage) + ") left " +
                             std::to_string(got->size()) + " bytes that are not a prefix of the " +
                             std::to_string(p.data.size()) + " being written");
          break;
        }
        t.model[p.a] = Node{false, *got, false};
        outcome = p.stage == 0 ? "create " + p.a + " done, its open not answered"
                               : "create " + p.a + " done, " + std::to_string(got->size()) + " of " +
                                     std::to_string(p.data.size()) + " bytes written";
        break;
      }
      case Pending::kWrite: {
        auto it = t.model.find(p.a);
        auto got = there ? ReadUncached(path) : std::nullopt;
        if (it == t.model.end() || !got) {
          problems.push_back(who + "write to " + p.a + ": the file is gone or unreadable");
          break;
        }
        Node& node = it->second;
        if (p.stage == 2) {
          outcome = "write to " + p.a + " done (the model has it)";
        } else if (p.stage == 0) {
          if (*got == node.data) {
            outcome = std::string(p.trunc ? "open(O_TRUNC)" : "open") + " of " + p.a + ": nothing changed";
          } else if (p.trunc && got->empty()) {
            node.data.clear();
            node.synced = false;
            outcome = "open(O_TRUNC) of " + p.a + ": truncated";
          } else {
            problems.push_back(who + "open of " + p.a + " changed it: " + ContentDiff(got, node.data));
          }
        } else {
          long k = WrittenPrefix(node.data, p.offset, p.data, *got);
          if (k < 0) {
            problems.push_back(who + "write of " + std::to_string(p.data.size()) + " bytes at " +
                               std::to_string(p.offset) + " to " + p.a +
                               " left neither the old bytes nor a prefix of the write: " +
                               ContentDiff(got, Written(node.data, p.offset, p.data, p.data.size())));
            break;
          }
          node.data = *got;
          node.synced = false;
          outcome = "write to " + p.a + ": " + std::to_string(k) + " of " + std::to_string(p.data.size()) +
                    " bytes written at offset " + std::to_string(p.offset);
        }
        break;
      }
      case Pending::kRename:
      case Pending::kRenameDir:
        if (there) {
          outcome = "rename " + p.a + " -> " + p.b + " not done";
        } else {
          MoveInModel(t.model, p.a, p.b);
          outcome = "rename " + p.a + " -> " + p.b + " done";
        }
        break;
      case Pending::kUnlink:
      case Pending::kRmdir:
        if (there) {
          outcome = (p.kind == Pending::kUnlink ? "unlink " : "rmdir ") + p.a + " not done";
        } else {
          t.model.erase(p.a);
          outcome = (p.kind == Pending::kUnlink ? "unlink " : "rmdir ") + p.a + " done";
        }
        break;
      case Pending::kMkdir:
        if (there && S_ISDIR(st.st_mode)) {
          t.model[p.a] = Node{true, "", false};
          outcome = "mkdir " + p.a + " done";
        } else if (!there && lstat_errno == ENOENT) {
          outcome = "mkdir " + p.a + " not done";
        } else {
          problems.push_back(who + "mkdir " + p.a + ": neither a directory nor absent");
        }
        break;
    }
    if (!outcome.empty()) said << who << outcome << "\n";
  }
  if (how != nullptr) *how = said.str();
  std::ostringstream out;
  for (const auto& p : problems) out << p << "\n";
  return out.str();
}

}  // namespace baton::testing::failover
