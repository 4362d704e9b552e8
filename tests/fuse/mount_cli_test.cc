// `baton mount` as an administrator meets it: bad addresses, bad options and
// bad mount points are refused quickly, with a message and no mount left
// behind; without -f it daemonizes once mounted and fusermount3 -u ends it;
// mount(8) reaches it through /sbin/mount.baton.
#define BOOST_TEST_MODULE mount_cli_test
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/fuse/mount_fixture.h"

using baton::testing::FuseMount;
using baton::testing::MountedVolume;
using baton::testing::TempDir;

namespace {

using Clock = std::chrono::steady_clock;

long MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string BatonBin() {
  const char* b = std::getenv("BATON_BIN");
  BOOST_REQUIRE_MESSAGE(b != nullptr, "BATON_BIN must name the baton binary (ctest sets it)");
  return b;
}

struct Run {
  int rc = -1;  // exit status; -2 if it had to be killed at the deadline
  std::string output;  // stdout and stderr
  long elapsed_ms = 0;
};

// Runs argv (stdin /dev/null, output to a file), killing it at the deadline.
Run Exec(const std::vector<std::string>& args, int timeout_ms) {
  static TempDir scratch;
  std::string log = scratch.path() + "/output";
  Run r;
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY), out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0), ::dup2(out, 1), ::dup2(out, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  int st = 0;
  for (;;) {
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (MsSince(t0) > timeout_ms) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      r.rc = -2;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.elapsed_ms = MsSince(t0);
  r.output = Slurp(log);
  return r;
}

Run Mount(const std::vector<std::string>& args, int timeout_ms = 30000) {
  std::vector<std::string> argv = {BatonBin(), "mount"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Exec(argv, timeout_ms);
}

// fstype and source of the mount at path, from /proc/self/mountinfo.
struct MountInfo {
  std::string fstype, source;
};
std::optional<MountInfo> FindMount(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::optional<MountInfo> found;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mountpoint;
    fields >> id >> parent >> devno >> root >> mountpoint;
    size_t sep = line.find(" - ");
    if (mountpoint != path || sep == std::string::npos) continue;
    std::istringstream rest(line.substr(sep + 3));
    MountInfo m;
    rest >> m.fstype >> m.source;
    found = m;  // the last one is on top
  }
  return found;
}

bool IsZombieOrGone(pid_t pid) {
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return stat.empty() || (paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z');
}

// Live processes whose command line names `mountpoint` (a unique temporary
// path) as one of its arguments, and `mount`: the daemons of that mount.
std::vector<pid_t> DaemonsOf(const std::string& mountpoint) {
  std::vector<pid_t> pids;
  DIR* d = ::opendir("/proc");
  BOOST_REQUIRE(d != nullptr);
  while (struct dirent* e = ::readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::string cmdline = Slurp("/proc/" + std::string(e->d_name) + "/cmdline");
    std::vector<std::string> args;
    for (size_t i = 0; i < cmdline.size();) {
      size_t end = cmdline.find('\0', i);
      if (end == std::string::npos) end = cmdline.size();
      args.push_back(cmdline.substr(i, end - i));
      i = end + 1;
    }
    bool names_mnt = false, is_mount = false;
    for (const auto& a : args) {
      names_mnt = names_mnt || a == mountpoint;
      is_mount = is_mount || a == "mount" || a.find("mount.baton") != std::string::npos;
    }
    if (names_mnt && is_mount && !IsZombieOrGone(pid)) pids.push_back(pid);
  }
  ::closedir(d);
  return pids;
}

bool WaitGone(const std::vector<pid_t>& pids, int timeout_ms) {
  auto t0 = Clock::now();
  for (;;) {
    bool all = true;
    for (pid_t p : pids) all = all && IsZombieOrGone(p);
    if (all) return true;
    if (MsSince(t0) > timeout_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Whatever a case leaves at `path` is removed on every exit path: the mount
// (fusermount3 -u, then a lazy unmount) and the daemons identified by
// DaemonsOf(path), which are ours.
struct MountGuard {
  std::string path;
  ~MountGuard() {
    std::vector<pid_t> pids = DaemonsOf(path);
    if (FindMount(path)) {
      Exec({"fusermount3", "-u", path}, 10000);
      if (FindMount(path)) ::umount2(path.c_str(), MNT_DETACH);
    }
    if (!WaitGone(pids, 3000))
      for (pid_t p : pids) ::kill(p, SIGKILL);
  }
};

// A fresh empty directory to mount on.
std::string MountPoint(const TempDir& dir, const std::string& name) {
  std::string p = dir.path() + "/" + name;
  BOOST_REQUIRE(::mkdir(p.c_str(), 0755) == 0);
  return p;
}

// The common checks of a refused mount: non-zero exit in time, a message,
// nothing mounted, no daemon left.
void ExpectRefused(const Run& r, const std::string& mnt, long within_ms, const std::string& what) {
  BOOST_TEST_MESSAGE(what << ": exit " << r.rc << " after " << r.elapsed_ms << " ms: " << r.output);
  BOOST_TEST(r.rc != 0, what << " is refused");
  BOOST_TEST(r.rc != -2, what << ": baton mount did not exit within the test's deadline");
  BOOST_TEST(r.elapsed_ms <= within_ms, what << ": refused after " << r.elapsed_ms << " ms, limit " << within_ms);
  BOOST_TEST(!r.output.empty(), what << ": says why on stderr");
  BOOST_TEST(!FindMount(mnt).has_value(), what << ": leaves no mount");
  BOOST_TEST(DaemonsOf(mnt).empty(), what << ": leaves no daemon");
}

std::string Port(const std::string& address) { return address.substr(address.rfind(':') + 1); }

}  // namespace

// ---- unreachable MDS ------------------------------------------------------

BOOST_AUTO_TEST_CASE(unreachable_address_fails_within_connect_timeout) {
  TempDir dir;
  std::string addr = baton::testing::FreeLocalAddress();  // nothing listens there
  std::string mnt = MountPoint(dir, "mnt");
  MountGuard guard{mnt};
  Run fg = Mount({addr, mnt, "-f", "-o", "connect_timeout=3"});
  ExpectRefused(fg, mnt, 3000 + 1500, "-f -o connect_timeout=3 to a closed port");
  BOOST_TEST(fg.output.find(Port(addr)) != std::string::npos, "the message names the address: " << fg.output);

  Run bg = Mount({addr, mnt, "-o", "connect_timeout=3"});
  ExpectRefused(bg, mnt, 3000 + 1500, "daemon mode, -o connect_timeout=3, to a closed port");
  BOOST_TEST(bg.output.find(Port(addr)) != std::string::npos, "the message names the address: " << bg.output);

  Run dflt = Mount({addr, mnt});
  ExpectRefused(dflt, mnt, 10000 + 1500, "daemon mode, default connect_timeout (10 s), to a closed port");
  BOOST_TEST(dflt.output.find(Port(addr)) != std::string::npos, "the message names the address: " << dflt.output);
}

// A peer that accepts connections (the kernel's backlog does) but never
// answers the handshake must not hang the mount either.
BOOST_AUTO_TEST_CASE(silent_peer_fails_within_connect_timeout) {
  TempDir dir;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd, 16) == 0);
  BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  std::string addr = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  std::string mnt = MountPoint(dir, "mnt");
  MountGuard guard{mnt};
  Run r = Mount({addr, mnt, "-f", "-o", "connect_timeout=3"});
  ::close(fd);
  ExpectRefused(r, mnt, 3000 + 1500, "-o connect_timeout=3 to a peer that never answers");
}

// ---- bad options and mount points ----------------------------------------

BOOST_AUTO_TEST_CASE(invalid_options_are_refused_and_fstab_noise_accepted) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  std::string mnt = MountPoint(v.dir(), "m2");
  MountGuard guard{mnt};
  Run r = Mount({v.address(), mnt, "-f", "-o", "attr_timeout=1,no_such_option"});
  ExpectRefused(r, mnt, 10000, "-o no_such_option");
  BOOST_TEST(r.output.find("unknown mount option") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("no_such_option") != std::string::npos, "the message names the option: " << r.output);
  ExpectRefused(Mount({v.address(), mnt, "-o", "bogus"}), mnt, 10000, "daemon mode, -o bogus");
  ExpectRefused(Mount({v.address(), mnt, "-f", "-o", "attr_timeout=abc"}), mnt, 10000, "-o attr_timeout=abc");

  // What mount(8) and fstab pass along is accepted and ignored.
  FuseMount noise(v.address(), mnt, "defaults,_netdev,noauto,nofail,nodev,nosuid,noexec,async,x-systemd.automount");
  BOOST_TEST(noise.Mount(), "fstab options are accepted; log: " << Slurp(noise.log_path()));
  BOOST_TEST(noise.Unmount() == 0);
}

BOOST_AUTO_TEST_CASE(bad_mount_points_are_refused) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  std::string full = MountPoint(v.dir(), "full");
  MountGuard guard_full{full};
  {
    std::ofstream(full + "/precious") << "keep me";
  }
  ExpectRefused(Mount({v.address(), full, "-f"}), full, 10000, "a non-empty mount point");
  BOOST_TEST(Slurp(full + "/precious") == "keep me");

  std::string missing = v.dir().path() + "/no/such/dir";
  MountGuard guard_missing{missing};
  ExpectRefused(Mount({v.address(), missing, "-f"}), missing, 10000, "a mount point that does not exist");
  BOOST_TEST(::access(missing.c_str(), F_OK) != 0, "and it is not created");

  std::string file = v.dir().path() + "/regular";
  std::ofstream(file) << "x";
  MountGuard guard_file{file};
  ExpectRefused(Mount({v.address(), file, "-f"}), file, 10000, "a regular file as mount point");

  // -o nonempty allows the non-empty directory.
  FuseMount over(v.address(), full, "nonempty");
  BOOST_TEST(over.Mount(), "-o nonempty mounts over a non-empty directory; log: " << Slurp(over.log_path()));
  BOOST_TEST(::access((full + "/precious").c_str(), F_OK) != 0, "the mount hides what was there");
  BOOST_TEST(over.Unmount() == 0);
  BOOST_TEST(Slurp(full + "/precious") == "keep me");
}

// ---- daemon mode ------------------------------------------------------------

namespace {

// The mount at mnt is BatonFS on addr and works; its daemons (at least one).
std::vector<pid_t> CheckLiveMount(const std::string& mnt, const std::string& addr, const std::string& other_view) {
  auto info = FindMount(mnt);
  BOOST_REQUIRE_MESSAGE(info.has_value(), "mounted at " << mnt << " once the command returned");
  BOOST_TEST(info->fstype == "fuse.baton");
  BOOST_TEST(info->source == "baton:" + addr);
  std::vector<pid_t> pids = DaemonsOf(mnt);
  BOOST_TEST(pids.size() >= 1u, "a daemon process serves " << mnt);
  std::ofstream(mnt + "/hello") << "through the daemon";
  BOOST_TEST(Slurp(mnt + "/hello") == "through the daemon");
  BOOST_TEST(Slurp(other_view + "/hello") == "through the daemon", "seen through the fixture's mount");
  return pids;
}

}  // namespace

BOOST_AUTO_TEST_CASE(without_f_daemonizes_and_fusermount_u_ends_it) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  std::string mnt = MountPoint(v.dir(), "daemon");
  MountGuard guard{mnt};
  Run r = Mount({v.address(), mnt}, 20000);
  BOOST_TEST_MESSAGE("baton mount (daemon mode) returned " << r.rc << " after " << r.elapsed_ms << " ms: " << r.output);
  BOOST_REQUIRE_MESSAGE(r.rc == 0, "baton mount without -f exits 0 once mounted: " << r.output);
  std::vector<pid_t> pids = CheckLiveMount(mnt, v.address(), v.mnt());

  Run u = Exec({"fusermount3", "-u", mnt}, 10000);
  BOOST_TEST(u.rc == 0, "fusermount3 -u: " << u.output);
  BOOST_TEST(WaitGone(pids, 5000), "the daemon exits after fusermount3 -u");
  BOOST_TEST(!FindMount(mnt).has_value());
}

BOOST_AUTO_TEST_CASE(mount_t_baton_through_mount_helper,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                       if (::access("/sbin/mount.baton", X_OK) == 0) return boost::test_tools::assertion_result(true);
                       boost::test_tools::assertion_result r(false);
                       r.message() << "/sbin/mount.baton is not installed (the lead installs it): skipped";
                       return r;
                     })) {
  MountedVolume v;
  BOOST_REQUIRE(v.Start());
  std::string mnt = MountPoint(v.dir(), "helper");
  MountGuard guard{mnt};
  Run r = Exec({"mount", "-t", "baton", v.address(), mnt, "-o", "allow_other"}, 20000);
  BOOST_REQUIRE_MESSAGE(r.rc == 0, "mount -t baton exited " << r.rc << ": " << r.output);
  std::vector<pid_t> pids = CheckLiveMount(mnt, v.address(), v.mnt());
  Run u = Exec({"umount", mnt}, 10000);
  BOOST_TEST(u.rc == 0, "umount: " << u.output);
  BOOST_TEST(WaitGone(pids, 5000), "the daemon exits after umount");
  BOOST_TEST(!FindMount(mnt).has_value());
  // mount -f ("fake") checks everything and mounts nothing.
  Run fake = Exec({"mount", "-f", "-t", "baton", v.address(), mnt}, 20000);
  BOOST_TEST(fake.rc == 0, "mount -f: " << fake.output);
  BOOST_TEST(!FindMount(mnt).has_value(), "mount -f mounted nothing");
}
