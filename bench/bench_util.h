// Helpers for baton_bench: temporary directories and an MDS child process
// that are cleaned up on every exit path (normal return, error, SIGINT or
// SIGTERM), a start barrier for worker threads, and the clock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace baton::bench {

uint64_t NowNanos();  // monotonic

// Installs SIGINT/SIGTERM/SIGHUP handlers that kill the MDS child and remove
// every registered temp dir before exiting. Call once, early.
void InstallCleanupHandlers();

// A fresh directory parent/baton-bench-XXXXXX, removed (rm -rf) on destruction
// and by the signal handlers.
class TempDir {
 public:
  explicit TempDir(const std::string& parent);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int slot_ = -1;  // index in the signal handler's table
};

// `baton mds VOLUME --listen ADDR` as a child process. It dies with the bench
// (PR_SET_PDEATHSIG) and is killed and reaped by the destructor.
class MdsChild {
 public:
  // extra_args are appended to `baton mds VOLUME --listen ADDR --log-level warn`.
  MdsChild(std::string baton_bin, std::string volume, std::string log_path,
           std::vector<std::string> extra_args = {});
  ~MdsChild();
  MdsChild(const MdsChild&) = delete;
  MdsChild& operator=(const MdsChild&) = delete;
  // Starts it on a free loopback port and waits until it answers STATUS.
  // On failure *error says why (with the tail of its log).
  bool Start(int timeout_ms, std::string* error);
  void Kill();
  const std::string& address() const { return address_; }

 private:
  std::string bin_, volume_, log_path_, address_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

// Runs `baton_bin args...` with stderr to log_path; true if it exited 0.
bool RunBaton(const std::string& baton_bin, const std::vector<std::string>& args, const std::string& log_path);

// A free 127.0.0.1:PORT (bound and released); empty on failure.
std::string FreeLocalAddress();
// The last max_bytes of a file, for error messages.
std::string FileTail(const std::string& path, size_t max_bytes);

// Runs fn(i) on `threads` threads released together; returns the wall time
// in ns from release to the last thread's end.
uint64_t RunTimed(int threads, const std::function<void(int)>& fn);

}  // namespace baton::bench
