#include "bench/failover/procs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace baton::bench::failover {

namespace {

// State the signal handler reads: fixed-size arrays and atomics only.
constexpr int kMaxChildren = 16;
constexpr size_t kPathMax = 512;
constexpr int64_t kUnmountTimeoutMs = 5000;  // fusermount3 can hang on a hung daemon
std::atomic<pid_t> g_children[kMaxChildren];
char g_work_dir[kPathMax];
char g_mount_point[kPathMax];
std::atomic<bool> g_have_work_dir{false};
std::atomic<bool> g_have_mount{false};
std::atomic<pid_t> g_mount_pid{0};

void SetPath(char* dst, std::atomic<bool>* flag, const std::string& path) {
  flag->store(false);
  if (path.empty() || path.size() >= kPathMax) return;
  std::memcpy(dst, path.c_str(), path.size() + 1);
  flag->store(true);
}

void Track(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void Untrack(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

// Async-signal-safe: fork, execv, waitpid, _exit.
void RunQuiet(const char* path, const char* a1, const char* a2) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
    }
    char* argv[] = {const_cast<char*>(path), const_cast<char*>(a1), const_cast<char*>(a2), nullptr};
    ::execvp(path, argv);
    ::_exit(127);
  }
  if (pid <= 0) return;
  // With the FUSE daemon hung, this child can hang before it even runs the
  // command: execve flushes the FUSE files this process holds open (the
  // writer's). After 5 s the daemon is killed, which aborts those flushes.
  for (int i = 0; i < 500; i++) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    timespec ts{0, 10000000};
    ::nanosleep(&ts, nullptr);
  }
  pid_t daemon = g_mount_pid.load();
  if (daemon > 0) ::kill(daemon, SIGKILL);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

void OnFatalSignal(int sig) {
  EmergencyCleanup();
  ::_exit(128 + sig);
}

}  // namespace

uint64_t NowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void SleepMs(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void InstallSignalCleanup() {
  struct sigaction sa {};
  sa.sa_handler = OnFatalSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

void RegisterWorkDir(const std::string& path) { SetPath(g_work_dir, &g_have_work_dir, path); }
void RegisterMountPoint(const std::string& path) { SetPath(g_mount_point, &g_have_mount, path); }

void EmergencyCleanup() {
  if (g_have_mount.load()) {
    RunQuiet("fusermount3", "-u", g_mount_point);
    RunQuiet("umount", "-l", g_mount_point);
  }
  for (auto& slot : g_children) {
    pid_t pid = slot.exchange(0);
    if (pid <= 0) continue;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (g_have_work_dir.exchange(false)) RunQuiet("rm", "-rf", g_work_dir);
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path, int pdeath_sig) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, pdeath_sig);
    if (::getppid() != parent) ::_exit(126);
    int log = ::open(log_path.empty() ? "/dev/null" : log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  Track(pid);
  return pid;
}

bool WaitExit(pid_t pid, int64_t timeout_ms, int* status) {
  uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_ms) * 1000000;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      Untrack(pid);
      *status = r == pid ? st : -1;
      return true;
    }
    if (NowNs() >= deadline) return false;
    SleepMs(2);
  }
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  Untrack(pid);
}

void RegisterMountDaemon(pid_t pid) { g_mount_pid.store(pid); }

int RunCommand(const std::vector<std::string>& argv, const std::string& log_path, int64_t timeout_ms) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int log = ::open(log_path.empty() ? "/dev/null" : log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int st = 0;
  if (timeout_ms >= 0 && !WaitExit(pid, timeout_ms, &st)) {
    // See RunQuiet: a hung FUSE daemon can hold the child inside execve.
    pid_t daemon = g_mount_pid.load();
    if (daemon > 0) ::kill(daemon, SIGKILL);
    KillAndReap(pid);
    return -1;
  }
  if (timeout_ms < 0 && ::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string DescribeStatus(int status) {
  if (status < 0) return "unknown (not our child)";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

bool IsMounted(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f;
    for (int i = 0; i < 5 && fields >> f; i++) {
    }
    if (f == mountpoint) return true;
  }
  return false;
}

bool WaitMounted(const std::string& mountpoint, pid_t pid, int64_t timeout_ms) {
  uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_ms) * 1000000;
  while (NowNs() < deadline) {
    if (IsMounted(mountpoint)) return true;
    if (::kill(pid, 0) != 0 || ::waitpid(pid, nullptr, WNOHANG) == pid) return false;
    SleepMs(20);
  }
  return false;
}

bool Unmount(const std::string& mountpoint) {
  if (!IsMounted(mountpoint)) return true;
  RunCommand({"fusermount3", "-u", mountpoint}, "", kUnmountTimeoutMs);
  if (IsMounted(mountpoint)) RunCommand({"umount", "-l", mountpoint}, "", kUnmountTimeoutMs);
  return !IsMounted(mountpoint);
}

std::string FileFrom(const std::string& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

uint64_t FileSizeOr0(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  uint64_t size = FileSizeOr0(path);
  return FileFrom(path, size > max_bytes ? size - max_bytes : 0);
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

}  // namespace baton::bench::failover
