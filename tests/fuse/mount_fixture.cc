#include "tests/fuse/mount_fixture.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace baton::testing {

namespace {

// ---- The process-wide registry of live mounts --------------------------
// Plain fixed arrays, so the fatal-signal handlers can walk it with
// async-signal-safe calls only. A slot is published (state = 1) only after
// its path and pid are written.

constexpr int kSlots = 64;
constexpr size_t kPathMax = 1024;

struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 live
  char path[kPathMax];
  std::atomic<pid_t> pid{-1};
  std::atomic<pid_t> owner{0};  // the process that registered it: a forked child leaves its parent's mounts alone
};

Slot g_slots[kSlots];
std::mutex g_mu;                // guards slot allocation (not used by the handlers)

constexpr int kFatalSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT, SIGHUP};
struct sigaction g_old_actions[sizeof(kFatalSignals) / sizeof(kFatalSignals[0])];

void SleepMs(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  ::nanosleep(&ts, nullptr);
}

// Async-signal-safe: detach every registered mount and SIGKILL its daemon.
void CleanupAllFast() {
  pid_t self = ::getpid();
  for (Slot& s : g_slots) {
    if (s.state.load() != 1 || s.owner.load() != self) continue;
    ::umount2(s.path, MNT_DETACH);
    pid_t pid = s.pid.load();
    if (pid > 0) ::kill(pid, SIGKILL);
    s.state.store(0);
  }
}

// At exit: detach, give each daemon a moment to see the unmount and exit
// cleanly, then SIGKILL and reap.
void CleanupAtExit() {
  pid_t self = ::getpid();
  for (Slot& s : g_slots) {
    if (s.state.load() != 1 || s.owner.load() != self) continue;
    fprintf(stderr, "mount_fixture: cleaning up the mount at %s left behind\n", s.path);
    ::umount2(s.path, MNT_DETACH);
    pid_t pid = s.pid.load();
    if (pid > 0) {
      int st;
      bool gone = false;
      for (int i = 0; i < 200 && !gone; ++i) {
        gone = ::waitpid(pid, &st, WNOHANG) == pid;
        if (!gone) SleepMs(10);
      }
      if (!gone) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &st, 0);
      }
    }
    s.state.store(0);
  }
}

void OnFatalSignal(int sig, siginfo_t* info, void* ctx) {
  CleanupAllFast();
  size_t i = 0;
  while (kFatalSignals[i] != sig) ++i;
  const struct sigaction& old = g_old_actions[i];
  // Chain to a previous real handler (ASan's, say), else die by the default action.
  if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction != nullptr) {
    ::sigaction(sig, &old, nullptr);
    old.sa_sigaction(sig, info, ctx);
  } else if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    ::sigaction(sig, &old, nullptr);
    old.sa_handler(sig);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void InstallCleanupOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(CleanupAtExit);
    for (size_t i = 0; i < sizeof(kFatalSignals) / sizeof(kFatalSignals[0]); ++i) {
      struct sigaction sa {};
      sa.sa_sigaction = OnFatalSignal;
      sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
      sigemptyset(&sa.sa_mask);
      ::sigaction(kFatalSignals[i], nullptr, &g_old_actions[i]);
      bool ignored = !(g_old_actions[i].sa_flags & SA_SIGINFO) && g_old_actions[i].sa_handler == SIG_IGN;
      if (!ignored) ::sigaction(kFatalSignals[i], &sa, nullptr);
    }
  });
}

Slot* Register(const std::string& path, pid_t pid) {
  InstallCleanupOnce();
  if (path.size() >= kPathMax) return nullptr;
  std::lock_guard<std::mutex> l(g_mu);
  for (Slot& s : g_slots) {
    if (s.state.load() != 0) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.pid.store(pid);
    s.owner.store(::getpid());
    s.state.store(1);
    return &s;
  }
  fprintf(stderr, "mount_fixture: registry full; %s will not be cleaned up on a crash\n", path.c_str());
  return nullptr;
}

void Unregister(const std::string& path, pid_t pid) {
  std::lock_guard<std::mutex> l(g_mu);
  for (Slot& s : g_slots) {
    if (s.state.load() == 1 && s.owner.load() == ::getpid() && s.pid.load() == pid && path == s.path) s.state.store(0);
  }
}

// ---- Helpers -------------------------------------------------------------

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMountField(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsBatonMount(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, devno, root, mp;
    ls >> id >> parent >> devno >> root >> mp;
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream rest(line.substr(sep + 3));
    std::string fstype;
    rest >> fstype;
    if (fstype == "fuse.baton" && UnescapeMountField(mp) == mountpoint) return true;
  }
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs argv with stdout/stderr appended to log; returns its exit status (or -1).
int RunCommand(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  int st;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Reaps pid within timeout_ms; its exit status (128+sig if signalled), or -2 on timeout.
int WaitChild(pid_t pid, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int st;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string BatonBin() {
  const char* bin = std::getenv("BATON_BIN");
  return bin != nullptr ? bin : "baton";
}

}  // namespace

// ---- FuseMount -----------------------------------------------------------

FuseMount::FuseMount(std::string addresses, std::string mountpoint, std::string options)
    : addresses_(std::move(addresses)), mountpoint_(std::move(mountpoint)), options_(std::move(options)) {
  log_path_ = mountpoint_ + ".fuse.log";
}

FuseMount::~FuseMount() {
  if (pid_ > 0 || mounted()) Unmount();
}

bool FuseMount::mounted() const { return IsBatonMount(mountpoint_); }

bool FuseMount::Mount(int timeout_ms) {
  if (pid_ > 0) Unmount();
  ::mkdir(mountpoint_.c_str(), 0755);
  std::string opts = "allow_other";
  if (!options_.empty()) opts += "," + options_;
  std::vector<std::string> args = {BatonBin(), "mount", addresses_, mountpoint_, "-f", "-o", opts};
  InstallCleanupOnce();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // If the test process dies by SIGKILL (a ctest timeout), the daemon gets
    // SIGTERM and unmounts itself. Tied to the forking thread: mount from the
    // test's main thread.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) std::_Exit(126);
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    std::_Exit(127);
  }
  pid_ = pid;
  Register(mountpoint_, pid_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (IsBatonMount(mountpoint_)) return true;
    int rc = WaitChild(pid_, 0);
    if (rc != -2) {
      fprintf(stderr, "baton mount %s exited (status %d) before mounting; its log:\n%s\n", mountpoint_.c_str(), rc,
              ReadFile(log_path_).c_str());
      Unregister(mountpoint_, pid_);
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fprintf(stderr, "baton mount %s: not mounted after %d ms; its log:\n%s\n", mountpoint_.c_str(), timeout_ms,
          ReadFile(log_path_).c_str());
  KillDaemon9();
  return false;
}

int FuseMount::Unmount(int timeout_ms) {
  if (IsBatonMount(mountpoint_) && RunCommand({"fusermount3", "-u", mountpoint_}, log_path_) != 0) {
    fprintf(stderr, "fusermount3 -u %s failed; trying umount -l\n", mountpoint_.c_str());
    RunCommand({"umount", "-l", mountpoint_}, log_path_);
  }
  if (pid_ <= 0) return -1;
  int rc = WaitChild(pid_, timeout_ms);
  if (rc == -2) {
    fprintf(stderr, "baton mount %s: daemon %d still running %d ms after unmount; SIGKILL. Its log:\n%s\n",
            mountpoint_.c_str(), pid_, timeout_ms, ReadFile(log_path_).c_str());
    ::kill(pid_, SIGKILL);
    WaitChild(pid_, 10000);
    rc = -1;
  }
  if (rc != 0 && rc != -1) {
    fprintf(stderr, "baton mount %s: daemon exited with status %d; its log:\n%s\n", mountpoint_.c_str(), rc,
            ReadFile(log_path_).c_str());
  }
  if (IsBatonMount(mountpoint_)) ::umount2(mountpoint_.c_str(), MNT_DETACH);
  Unregister(mountpoint_, pid_);
  pid_ = -1;
  return rc;
}

void FuseMount::KillDaemon9() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    WaitChild(pid_, 10000);
    Unregister(mountpoint_, pid_);
    pid_ = -1;
  }
  for (int i = 0; i < 10 && IsBatonMount(mountpoint_); ++i) ::umount2(mountpoint_.c_str(), MNT_DETACH);
}

// ---- MountedVolume -------------------------------------------------------

MountedVolume::MountedVolume(std::string mount_options) : options_(std::move(mount_options)) {}

MountedVolume::~MountedVolume() {
  mount_.reset();  // unmount before the MDS stops and the directory goes
  mds_.reset();
}

bool MountedVolume::Start() {
  // mkdtemp made dir 0700; unprivileged test users must reach dir/mnt.
  ::chmod(dir_.path().c_str(), 0755);
  volume_ = MakeVolume(dir_);
  address_ = FreeLocalAddress();
  mds_ = std::make_unique<MdsProcess>(volume_, address_, orphan_grace_ms);
  if (!mds_->Start()) {
    fprintf(stderr, "MDS on %s did not start; its log:\n%s\n", address_.c_str(),
            ReadFile(mds_->stderr_path()).c_str());
    return false;
  }
  mount_ = std::make_unique<FuseMount>(address_, dir_.path() + "/mnt", options_);
  return mount_->Mount();
}

std::unique_ptr<FuseMount> MountedVolume::AddMount(const std::string& name, const std::string& options) {
  auto m = std::make_unique<FuseMount>(address_, dir_.path() + "/" + name, options);
  if (!m->Mount()) return nullptr;
  return m;
}

// ---- RunAs -----------------------------------------------------------------

int RunAsGroups(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::function<int()>& fn) {
  fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
      fprintf(stderr, "RunAs(%u, %u): %s\n", uid, gid, strerror(errno));
      std::_Exit(125);
    }
    int code = fn();
    fflush(nullptr);
    std::_Exit(code);
  }
  int st;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int RunAs(uid_t uid, gid_t gid, const std::function<int()>& fn) { return RunAsGroups(uid, gid, {gid}, fn); }

std::string ContentDiff(const std::optional<std::string>& got, const std::string& want) {
  if (!got) return std::string("read failed: ") + strerror(errno);
  if (*got == want) return "";
  size_t i = 0;
  while (i < got->size() && i < want.size() && (*got)[i] == want[i]) ++i;
  return "got " + std::to_string(got->size()) + " bytes, want " + std::to_string(want.size()) +
         ", first difference at " + std::to_string(i);
}

std::optional<std::string> ReadUncached(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return std::nullopt;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int e = errno;
  ::close(fd);
  if (n < 0) {
    errno = e;
    return std::nullopt;
  }
  return out;
}

}  // namespace baton::testing
