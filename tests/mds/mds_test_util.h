// Helpers for MDS and client tests: temporary volumes, MDS child processes
// (killed and reaped on every exit path), raw protocol sessions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"
#include "fs/ops.h"
#include "proto/frame.h"
#include "proto/messages.h"

namespace baton::testing {

// A fresh directory under /tmp, removed (rm -rf) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Creates a volume at dir/vol and returns its path.
std::string MakeVolume(const TempDir& dir);

// A free 127.0.0.1 port (bound and released).
std::string FreeLocalAddress();

// Seed from BATON_SEED or random; printed by the caller.
uint64_t SeedFromEnv();
uint64_t EnvU64(const char* name, uint64_t dflt);

// Runs a shell command line (popen), capturing its stdout (add 2>&1 for
// stderr). code: its exit status, -1 if it did not exit normally.
struct CommandResult {
  int code = -1;
  std::string out;
};
CommandResult RunCommand(const std::string& command_line);

// An MDS in a child process: the real `baton` binary when BATON_BIN names
// one (as under ctest), else this test executable re-executed in MDS mode.
// The destructor kills (SIGKILL) and reaps it, whatever happened.
// standby = false runs it with --exclusive (it exits 2 if another MDS is
// active); true lets it become a standby. Ready (WaitReady) means it answers
// STATUS, in either role; WaitRole waits for a given role.
class MdsProcess {
 public:
  MdsProcess(std::string volume, std::string address, uint32_t orphan_grace_ms = 30000, bool standby = false);
  ~MdsProcess();
  MdsProcess(const MdsProcess&) = delete;
  MdsProcess& operator=(const MdsProcess&) = delete;
  // Starts it and waits until it answers STATUS (false on timeout or exit).
  bool Start(int timeout_ms = 20000);
  // Starts it without waiting (a standby blocks on the lock until takeover).
  bool Spawn();
  // Waits until it answers STATUS; false on timeout or exit.
  bool WaitReady(int timeout_ms);
  // Waits until STATUS reports `role`; false on timeout or exit.
  bool WaitRole(proto::Role role, int timeout_ms);
  void Kill9();        // SIGKILL and reap
  int Terminate();     // SIGTERM, reap, returns the exit status (or -1)
  int WaitExit(int timeout_ms);  // reaps an exiting child; -1 on timeout
  bool running() const { return pid_ > 0; }
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  std::string stderr_path() const { return log_path_; }

 private:
  std::string volume_, address_, log_path_;
  uint32_t orphan_grace_ms_;
  bool standby_;

 public:
  // Passed as --checkpoint-interval-ms to the real binary (the self-exec
  // mode keeps the MDS default). Tests that replay the whole journal from
  // scratch set it high so no segment is trimmed.
  uint32_t checkpoint_interval_ms = 500;
  // --min-free-bytes (0 = the MDS default).
  uint64_t min_free_bytes = 0;
  std::string name;       // --name ("" = the MDS default, from the address)
  uint32_t lease_ms = 0;  // --lease-ms (0 = the MDS default)
  std::string metrics_address;  // --metrics ADDR:PORT ("" = none)
  pid_t pid_ = -1;
};

// Must be called first in main-less tests: if this process was started as a
// child MDS (self-exec mode), runs it and exits. Done by a static initializer
// in mds_test_util.cc, so tests need not call it.

// A hand-driven protocol session: raw frames, explicit request ids.
class RawSession {
 public:
  static StatusOr<std::unique_ptr<RawSession>> Open(const std::string& addr, uint64_t session_id);
  ~RawSession();
  uint64_t session_id() const { return session_id_; }
  StatusOr<fs::Reply> Call(uint64_t request_id, uint64_t oldest_unreplied, const fs::Request& req);
  // Pipelining by hand: send frames, then read the replies in arrival order.
  Status Send(uint64_t request_id, uint64_t oldest_unreplied, const fs::Request& req);
  StatusOr<fs::Reply> Receive(uint64_t* request_id);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  uint64_t session_id_ = 0;
  proto::FrameDecoder dec_;
};

// Request builders.
fs::Request MkReq(fs::Op op);
fs::Request CreateReq(fs::Ino parent, const std::string& name, uint32_t mode = 0100644);
fs::Request MkdirReq(fs::Ino parent, const std::string& name);
fs::Request LookupReq(fs::Ino parent, const std::string& name);
fs::Request WriteReq(fs::Ino ino, uint64_t offset, const std::string& data, bool append = false);
fs::Request ReadReq(fs::Ino ino, uint64_t offset, uint64_t length);
fs::Request InoReq(fs::Op op, fs::Ino ino);

}  // namespace baton::testing
