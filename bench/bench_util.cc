#include "bench/bench_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <latch>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "proto/net.h"

namespace baton::bench {

namespace {

// State the signal handler reads: only fixed-size, async-signal-safe data.
constexpr int kMaxDirs = 8;
constexpr size_t kPathMax = 512;
char g_dirs[kMaxDirs][kPathMax];
std::atomic<bool> g_dir_used[kMaxDirs];
std::atomic<pid_t> g_mds_pid{-1};

// Async-signal-safe: kill, waitpid, fork, execv, _exit.
void OnFatalSignal(int sig) {
  pid_t pid = g_mds_pid.load();
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  for (int i = 0; i < kMaxDirs; i++) {
    if (!g_dir_used[i].load()) continue;
    pid_t rm = ::fork();
    if (rm == 0) {
      char* argv[] = {const_cast<char*>("rm"), const_cast<char*>("-rf"), g_dirs[i], nullptr};
      ::execv("/bin/rm", argv);
      ::_exit(127);
    }
    if (rm > 0) ::waitpid(rm, nullptr, 0);
  }
  ::_exit(128 + sig);
}

int RegisterDir(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kMaxDirs; i++) {
    if (g_dir_used[i].load()) continue;
    std::memcpy(g_dirs[i], path.c_str(), path.size() + 1);
    g_dir_used[i].store(true);
    return i;
  }
  return -1;
}

}  // namespace

uint64_t NowNanos() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

void InstallCleanupHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnFatalSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

TempDir::TempDir(const std::string& parent) {
  std::string tmpl = parent + "/baton-bench-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return;
  path_ = buf.data();
  slot_ = RegisterDir(path_);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (slot_ >= 0) g_dir_used[slot_].store(false);
}

MdsChild::MdsChild(std::string baton_bin, std::string volume, std::string log_path,
                   std::vector<std::string> extra_args)
    : bin_(std::move(baton_bin)),
      volume_(std::move(volume)),
      log_path_(std::move(log_path)),
      extra_args_(std::move(extra_args)) {}

MdsChild::~MdsChild() { Kill(); }

void MdsChild::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  g_mds_pid.store(-1);
  pid_ = -1;
}

bool MdsChild::Start(int timeout_ms, std::string* error) {
  Kill();
  address_ = FreeLocalAddress();
  if (address_.empty()) return *error = "no free loopback port", false;
  std::vector<std::string> args = {bin_, "mds", volume_, "--listen", address_, "--log-level", "warn"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) return *error = std::string("fork: ") + std::strerror(errno), false;
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) ::dup2(log, 2);
    ::execv(bin_.c_str(), argv.data());
    ::_exit(127);
  }
  g_mds_pid.store(pid_);
  uint64_t deadline = NowNanos() + static_cast<uint64_t>(timeout_ms) * 1000000;
  while (NowNanos() < deadline) {
    if (client::QueryStatus(address_, 500).ok()) return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      g_mds_pid.store(-1);
      *error = "baton mds exited (status " + std::to_string(st) + "): " + FileTail(log_path_, 2000);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "baton mds did not answer STATUS within " + std::to_string(timeout_ms) + " ms: " +
           FileTail(log_path_, 2000);
  Kill();
  return false;
}

bool RunBaton(const std::string& baton_bin, const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv{const_cast<char*>(baton_bin.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) ::dup2(log, 1), ::dup2(log, 2);
    ::execv(baton_bin.c_str(), argv.data());
    ::_exit(127);
  }
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return false;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

std::string FreeLocalAddress() {
  std::string addr;
  StatusOr<int> fd = proto::ListenTcp("127.0.0.1:0", &addr);
  if (!fd.ok()) return "";
  proto::CloseFd(*fd);
  return addr;
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

uint64_t RunTimed(int threads, const std::function<void(int)>& fn) {
  std::latch ready(threads + 1);
  std::latch go(1);
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++) {
    ts.emplace_back([&, i] {
      ready.count_down();
      go.wait();
      fn(i);
    });
  }
  ready.arrive_and_wait();
  uint64_t start = NowNanos();
  go.count_down();
  for (auto& t : ts) t.join();
  return NowNanos() - start;
}

}  // namespace baton::bench
