// The mount fixture itself: a mount appears as fuse.baton with its fsname,
// unmounts cleanly, and is cleaned up when the test process is terminated, is
// killed with SIGKILL, or kills the daemon.
#define BOOST_TEST_MODULE posix_mount_test
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "tests/fuse/posix_test_util.h"

using namespace baton::testing;

namespace {

// The mountinfo line of a fuse.baton mount at path, or "".
std::string MountLine(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" " + path + " ") != std::string::npos && line.find(" - fuse.baton ") != std::string::npos)
      return line;
  }
  return "";
}

bool GoneWithin(const std::string& path, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (MountLine(path).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return MountLine(path).empty();
}

// Forks a child that mounts at dir/name, says so through a pipe, then
// `dies()`; returns the child's pid after the mount is up (-1 on failure).
pid_t ChildThatMountsThen(MountedVolume& v, const std::string& name, void (*dies)()) {
  int p[2];
  if (::pipe(p) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    FuseMount m(v.address(), v.dir().path() + "/" + name);
    char ok = m.Mount() ? 'y' : 'n';
    (void)!::write(p[1], &ok, 1);
    dies();
    std::_Exit(0);
  }
  ::close(p[1]);
  char ok = 'n';
  (void)!::read(p[0], &ok, 1);
  ::close(p[0]);
  return ok == 'y' ? pid : -1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(mount_shows_fsname_and_unmounts_cleanly) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  std::string line = MountLine(v.mnt());
  BOOST_TEST(line.find("baton:" + v.address()) != std::string::npos, line);
  BOOST_TEST(v.mount().mounted());
  BOOST_TEST(WriteFile(v.P("f"), "x"));
  auto second = v.AddMount("second");
  BOOST_REQUIRE(second != nullptr);
  BOOST_TEST(StatOrZero(second->path() + "/f").st_size == 1);  // the same volume
  BOOST_TEST(second->Unmount() == 0);
  BOOST_TEST(!second->mounted());
  BOOST_TEST(v.mount().Unmount() == 0);
  BOOST_TEST(MountLine(v.mnt()).empty());
}

BOOST_AUTO_TEST_CASE(runas_switches_identity) {
  int rc = RunAs(kNobody, kNogroup, [] {
    if (::getuid() != kNobody || ::geteuid() != kNobody || ::getgid() != kNogroup) return 1;
    gid_t groups[4];
    int n = ::getgroups(4, groups);
    return n == 1 && groups[0] == kNogroup ? 0 : 2;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(RunAs(kOther, kOtherGroup, [] { return 7; }) == 7);
}

BOOST_AUTO_TEST_CASE(killed_daemon_leaves_no_mount) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  pid_t daemon = v.mount().pid();
  v.mount().KillDaemon9();
  BOOST_TEST(!v.mount().mounted());
  BOOST_TEST(::kill(daemon, 0) == -1);  // reaped
}

// SIGTERM (what `timeout` and an interrupted ctest send), which Boost.Test
// does not catch: the fixture's own handler must unmount. (Inside a test case
// Boost.Test catches SIGABRT and SIGSEGV itself and carries on; the mounts
// are then cleaned at exit.)
BOOST_AUTO_TEST_CASE(terminated_test_process_unmounts) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  pid_t child = ChildThatMountsThen(v, "aborted", [] { ::raise(SIGTERM); });
  BOOST_REQUIRE(child > 0);
  int st = 0;
  ::waitpid(child, &st, 0);
  BOOST_TEST(WIFSIGNALED(st));
  BOOST_TEST(WTERMSIG(st) == SIGTERM);
  BOOST_TEST(GoneWithin(v.dir().path() + "/aborted", 5000));
  BOOST_TEST(v.mount().mounted());  // the parent's own mount is untouched
}

BOOST_AUTO_TEST_CASE(sigkilled_test_process_unmounts_through_the_daemon) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  pid_t child = ChildThatMountsThen(v, "killed", [] {
    for (;;) ::pause();
  });
  BOOST_REQUIRE(child > 0);
  ::kill(child, SIGKILL);  // no handler runs: the daemon's parent-death signal must do it
  ::waitpid(child, nullptr, 0);
  BOOST_TEST(GoneWithin(v.dir().path() + "/killed", 10000));
  if (!MountLine(v.dir().path() + "/killed").empty()) ::umount2((v.dir().path() + "/killed").c_str(), MNT_DETACH);
  BOOST_TEST(v.mount().mounted());
}
