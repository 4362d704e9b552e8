// Test fixtures that really mount BatonFS through FUSE.
//
// FuseMount runs `baton mount ADDRS MOUNTPOINT -f -o OPTIONS` in a child
// process and waits until MOUNTPOINT is a fuse.baton mount. It unmounts on
// every exit path: the destructor (fusermount3 -u, then umount -l, then
// SIGKILL of the daemon, reaped), and a process-wide registry that does the
// same from atexit and from fatal-signal handlers (SIGSEGV, SIGABRT, SIGTERM,
// SIGINT...), so a crashed or aborted test never leaves a dead mount behind.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/mds/mds_test_util.h"

namespace baton::testing {

class FuseMount {
 public:
  // addresses: "127.0.0.1:PORT[,127.0.0.1:PORT...]"; options: the -o list
  // (allow_other is always added so unprivileged test users can enter).
  FuseMount(std::string addresses, std::string mountpoint, std::string options = "");
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Spawns the daemon and waits until the mount is visible in
  // /proc/self/mountinfo. False on timeout or if the daemon exited.
  bool Mount(int timeout_ms = 20000);
  // fusermount3 -u and waits for the daemon to exit; returns its exit status
  // (0 = clean), or -1 if it had to be killed.
  int Unmount(int timeout_ms = 10000);
  void KillDaemon9();  // SIGKILL the client daemon (the mount goes dead), then unmount

  bool mounted() const;
  const std::string& path() const { return mountpoint_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }  // the daemon's stderr

 private:
  std::string addresses_, mountpoint_, options_, log_path_;
  pid_t pid_ = -1;
};

// The common case: a fresh volume in a TempDir, one MDS on a free loopback
// port, and one mount at dir/mnt.
class MountedVolume {
 public:
  explicit MountedVolume(std::string mount_options = "");
  ~MountedVolume();
  // The MDS's --orphan-grace-ms (before Start; kept across mds().Start()).
  uint32_t orphan_grace_ms = 30000;
  // Builds the volume, starts the MDS and mounts; false (with a message on
  // stderr) when any step fails.
  bool Start();
  // A second mount of the same volume at dir/<name>.
  std::unique_ptr<FuseMount> AddMount(const std::string& name, const std::string& options = "");

  const std::string& mnt() const { return mount_->path(); }
  std::string P(const std::string& rel) const { return mnt() + "/" + rel; }  // path inside the mount
  const std::string& volume() const { return volume_; }
  const std::string& address() const { return address_; }
  MdsProcess& mds() { return *mds_; }
  FuseMount& mount() { return *mount_; }
  TempDir& dir() { return dir_; }

 private:
  TempDir dir_;
  std::string options_, volume_, address_;
  std::unique_ptr<MdsProcess> mds_;
  std::unique_ptr<FuseMount> mount_;
};

// Runs fn in a forked child with the given uid/gid (supplementary groups =
// {gid}), returning the child's exit status (0 = success). fn returns 0 on
// success or a non-zero code; it must not use Boost.Test macros.
int RunAs(uid_t uid, gid_t gid, const std::function<int()>& fn);
// The same with the given supplementary groups.
int RunAsGroups(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::function<int()>& fn);

// Reads the whole file after dropping its cached pages, so the bytes come
// from the file system and not from this kernel's page cache; nullopt (errno
// set) when it cannot be opened or read.
std::optional<std::string> ReadUncached(const std::string& path);

// "" when got equals want, else the sizes and the first differing offset
// (or the errno when the read failed: got is empty).
std::string ContentDiff(const std::optional<std::string>& got, const std::string& want);

}  // namespace baton::testing
