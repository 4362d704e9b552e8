// `baton mount` and mount.baton: check the arguments and the mount point,
// connect to an MDS, mount, then serve FUSE requests until unmounted.
//
// Without -f the process forks first (before any thread exists); the child
// connects and mounts and reports back through a pipe, so the command exits 0
// only once the file system is mounted, and otherwise prints the child's
// reason and exits 1 with nothing mounted. mount(8) relies on that.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "base/log.h"
#include "fuse/fuse_fs.h"

namespace baton::fuse {

namespace {

// Where the outcome of mounting goes: stderr (-f), or the pipe to the parent.
class Outcome {
 public:
  explicit Outcome(int fd) : fd_(fd) {}
  int Fail(const std::string& msg) {
    std::string line = "baton mount: " + msg + "\n";
    if (fd_ >= 0) {
      (void)!write(fd_, line.data(), line.size());
      close(fd_);
      fd_ = -1;
    } else {
      fputs(line.c_str(), stderr);
    }
    return 1;
  }
  void Mounted() {
    if (fd_ < 0) return;
    (void)!write(fd_, "OK\n", 3);
    close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string CheckMountpoint(const MountConfig& cfg) {
  struct stat st;
  if (stat(cfg.mountpoint.c_str(), &st) != 0)
    return "mount point " + cfg.mountpoint + ": " + strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "mount point " + cfg.mountpoint + " is not a directory";
  if (cfg.nonempty) return "";
  DIR* d = opendir(cfg.mountpoint.c_str());
  if (!d) return "mount point " + cfg.mountpoint + ": " + strerror(errno);
  bool empty = true;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
  }
  closedir(d);
  if (!empty) return "mount point " + cfg.mountpoint + " is not empty (use -o nonempty to mount over it)";
  return "";
}

std::string Seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

std::string FuseMountOptions(const MountConfig& cfg) {
  std::string o = "fsname=baton:";
  for (char c : cfg.spec) {
    if (c == ',' || c == '\\') o += '\\';  // fuse_opt splits at unescaped commas
    o += c;
  }
  // default_permissions always: without it the kernel checks no search (x)
  // permission on directories whose names it has cached, so a cached path
  // would bypass the MDS's check. The MDS checks every request in any case.
  o += ",subtype=baton,default_permissions";
  if (cfg.allow_other) o += ",allow_other";
  if (cfg.read_only) o += ",ro";
  for (const std::string& k : cfg.kernel_flags) o += "," + k;
  return o;
}

// Runs the FUSE loop. The loop returns only once every worker is idle, and
// during an MDS outage workers wait in the client library (forever by
// default); so when the session ends (unmount, SIGTERM) a watcher closes the
// client, which fails those calls and lets the loop return.
int Serve(fuse_session* se, FuseFs* fs, const MountConfig& cfg) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread watcher([&] {
    std::unique_lock<std::mutex> l(mu);
    while (!done && !fuse_session_exited(se)) cv.wait_for(l, std::chrono::milliseconds(100));
    if (!done) fs->client().Close();
  });
  fuse_loop_config* lc = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(lc, cfg.max_threads);
  fuse_loop_cfg_set_idle_threads(lc, cfg.max_threads / 2 + 1);
  int rc = fuse_session_loop_mt(se, lc);
  fuse_loop_cfg_destroy(lc);
  {
    std::lock_guard<std::mutex> l(mu);
    done = true;
  }
  cv.notify_all();
  watcher.join();
  // libfuse's signal handlers end the loop with the signal's number: a
  // SIGTERM, SIGINT or SIGHUP is an orderly stop, not a failure.
  if (rc == SIGTERM || rc == SIGINT || rc == SIGHUP) {
    LOG_INFO("fuse", "stopping on signal %d", rc);
    rc = 0;
  }
  return rc;
}

// Leaves the terminal: stdin/stdout to /dev/null, stderr (the log) to
// log_path or /dev/null.
void Detach(const MountConfig& cfg) {
  if (chdir("/") != 0) return;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  int log = cfg.log_path.empty() ? -1 : open(cfg.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (!cfg.log_path.empty() && log < 0)
    LOG_WARN("fuse", "cannot open log %s: %s; logging nowhere", cfg.log_path.c_str(), strerror(errno));
  dup2(null, 0);
  dup2(null, 1);
  dup2(log >= 0 ? log : null, 2);
  if (log > 2) close(log);
  if (null > 2) close(null);
}

// A 1 MiB WRITE passes through several buffers of its own size (the request,
// its encoding, the frame). glibc serves such sizes with mmap and gives them
// back at free, and trims freed heap tops the same way, so every request
// faulted its buffers in again page by page: in a 1 MiB sequential write that
// was 70% of this process's CPU (perf: memmove in page faults) and held the
// mount at ~40 MB/s. Keep them: heap for anything under 4 MiB, and up to
// 64 MiB of freed memory per arena before trimming.
void KeepLargeBuffers() {
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

int MountAndServe(const MountConfig& cfg, Outcome* out) {
  KeepLargeBuffers();
  client::ClientOptions co;
  co.client_name = "fuse:" + cfg.mountpoint;
  co.initial_connect_timeout_ms = static_cast<int64_t>(cfg.connect_timeout_s * 1000);
  co.outage_timeout_ms = cfg.failover_timeout_s < 0 ? -1 : static_cast<int64_t>(cfg.failover_timeout_s * 1000);
  auto client = client::Client::Connect(cfg.addresses, co);
  if (!client.ok())
    return out->Fail("no MDS answered at " + cfg.spec + " within " + Seconds(cfg.connect_timeout_s) + " (" +
                     client.status().ToString() + "); nothing was mounted");
  FuseFs fs(std::move(*client), cfg);
  std::string opts = FuseMountOptions(cfg);
  const char* argv[] = {"baton", "-o", opts.c_str(), "-d"};
  fuse_args args = FUSE_ARGS_INIT(cfg.debug ? 4 : 3, const_cast<char**>(argv));
  fuse_lowlevel_ops ops = MakeLowlevelOps();
  fuse_session* se = fuse_session_new(&args, &ops, sizeof(ops), &fs);
  fuse_opt_free_args(&args);
  if (!se) return out->Fail("could not set up the FUSE session (options: " + opts + ")");
  fs.set_session(se);
  int rc = 1;
  if (fuse_set_signal_handlers(se) != 0) {
    out->Fail("could not install signal handlers");
  } else if (fuse_session_mount(se, cfg.mountpoint.c_str()) != 0) {
    out->Fail("could not mount at " + cfg.mountpoint + " (is /dev/fuse there, and are you root or is fusermount3 installed?)");
  } else {
    LOG_INFO("fuse", "mounted %s at %s, session %llu", cfg.spec.c_str(), cfg.mountpoint.c_str(),
             (unsigned long long)fs.client().session_id());
    if (!cfg.foreground) Detach(cfg);  // before the parent returns: nothing more on its terminal
    out->Mounted();
    rc = Serve(se, &fs, cfg) == 0 ? 0 : 1;
    fuse_session_unmount(se);
    LOG_INFO("fuse", "unmounted %s", cfg.mountpoint.c_str());
  }
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  fs.client().Close();
  return rc;
}

// The parent of a daemonizing mount: waits for the child's verdict.
int AwaitChild(pid_t child, int fd) {
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) msg.append(buf, static_cast<size_t>(n));
  close(fd);
  if (msg == "OK\n") return 0;
  int status = 0;
  waitpid(child, &status, 0);
  if (msg.empty()) msg = "baton mount: the mount process ended without mounting\n";
  fputs(msg.c_str(), stderr);
  return 1;
}

}  // namespace

int RunMount(int argc, char** argv, int first) {
  const char* self = strrchr(argv[0], '/');
  const bool helper = strcmp(self ? self + 1 : argv[0], "mount.baton") == 0;
  StatusOr<MountConfig> parsed = ParseMountArgs(argc, argv, first, helper);
  if (!parsed.ok()) {
    fprintf(stderr, "baton mount: %s (see baton mount --help)\n", parsed.status().message().c_str());
    return 1;
  }
  MountConfig cfg = *parsed;
  char real[PATH_MAX];
  if (realpath(cfg.mountpoint.c_str(), real)) cfg.mountpoint = real;
  Outcome direct(-1);
  if (std::string why = CheckMountpoint(cfg); !why.empty()) return direct.Fail(why);
  if (cfg.fake) return 0;
  if (cfg.debug) SetLogLevel(LogLevel::kDebug);
  if (cfg.foreground) return MountAndServe(cfg, &direct);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return direct.Fail(std::string("pipe: ") + strerror(errno));
  pid_t pid = fork();
  if (pid < 0) return direct.Fail(std::string("fork: ") + strerror(errno));
  if (pid > 0) {
    close(p[1]);
    return AwaitChild(pid, p[0]);
  }
  close(p[0]);
  setsid();
  signal(SIGHUP, SIG_IGN);
  Outcome to_parent(p[1]);
  _exit(MountAndServe(cfg, &to_parent));
}

}  // namespace baton::fuse
