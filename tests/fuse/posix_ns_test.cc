// The namespace through a real FUSE mount: lookup, getattr, mknod, mkdir,
// rmdir, unlink, symlink, readlink, link, rename (and renameat2), link counts,
// name limits, deep paths, statfs and extended attributes, with errno values.
#define BOOST_TEST_MODULE posix_ns_test
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/fuse/posix_test_util.h"

using namespace baton::testing;

BOOST_TEST_GLOBAL_FIXTURE(PosixGlobalFixture);

namespace {

int Renameat2(const std::string& from, const std::string& to, unsigned flags) {
  return static_cast<int>(::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags));
}

std::map<std::string, std::pair<ino_t, unsigned char>> List(const std::string& dir) {
  std::map<std::string, std::pair<ino_t, unsigned char>> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) out[e->d_name] = {e->d_ino, e->d_type};
  ::closedir(d);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(lookup_and_getattr) {
  std::string d = FreshDir("getattr");
  std::string f = d + "/f";
  BOOST_REQUIRE(WriteFile(f, "hello", 0640));
  struct stat st = StatOrZero(f);
  BOOST_TEST(S_ISREG(st.st_mode));
  BOOST_TEST((st.st_mode & 07777) == 0640u);
  BOOST_TEST(st.st_nlink == 1u);
  BOOST_TEST(st.st_uid == 0u);
  BOOST_TEST(st.st_gid == 0u);
  BOOST_TEST(st.st_size == 5);
  int fd = ::open(f.c_str(), O_RDONLY);
  BOOST_REQUIRE(fd >= 0);
  struct stat fst;
  BOOST_TEST(::fstat(fd, &fst) == 0);
  BOOST_TEST(fst.st_ino == st.st_ino);
  ::close(fd);
  BOOST_TEST(ERR(::lstat((d + "/missing").c_str(), &st)) == ENOENT);
  BOOST_TEST(ERR(::lstat((f + "/x").c_str(), &st)) == ENOTDIR);
  BOOST_TEST(ERR(::open((d + "/missing/x").c_str(), O_RDONLY)) == ENOENT);
  struct stat root = StatOrZero(SharedVolume()->mnt());
  BOOST_TEST(S_ISDIR(root.st_mode));
}

BOOST_AUTO_TEST_CASE(mkdir_rmdir_and_directory_link_counts) {
  std::string d = FreshDir("mkdir");
  BOOST_TEST(StatOrZero(d).st_nlink == 2u);
  BOOST_REQUIRE(::mkdir((d + "/a").c_str(), 0755) == 0);
  BOOST_TEST(StatOrZero(d).st_nlink == 3u);
  BOOST_TEST(StatOrZero(d + "/a").st_nlink == 2u);
  BOOST_REQUIRE(::mkdir((d + "/a/s1").c_str(), 0755) == 0);
  BOOST_REQUIRE(::mkdir((d + "/a/s2").c_str(), 0755) == 0);
  BOOST_REQUIRE(WriteFile(d + "/a/file", "x"));
  BOOST_TEST(StatOrZero(d + "/a").st_nlink == 4u);  // files do not count
  BOOST_TEST(ERR(::mkdir((d + "/a").c_str(), 0755)) == EEXIST);
  BOOST_TEST(ERR(::mkdir((d + "/a/file").c_str(), 0755)) == EEXIST);
  BOOST_TEST(ERR(::rmdir((d + "/a").c_str())) == ENOTEMPTY);
  BOOST_TEST(ERR(::rmdir((d + "/a/file").c_str())) == ENOTDIR);
  BOOST_TEST(ERR(::rmdir((d + "/a/missing").c_str())) == ENOENT);
  BOOST_TEST(ERR(::rmdir((d + "/a/s1/.").c_str())) == EINVAL);
  BOOST_TEST(ERR(::unlink((d + "/a/s1").c_str())) == EISDIR);
  BOOST_TEST(::rmdir((d + "/a/s1").c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/a").st_nlink == 3u);
  BOOST_TEST(::rmdir((d + "/a/s2").c_str()) == 0);
  BOOST_TEST(::unlink((d + "/a/file").c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/a").st_nlink == 2u);
  BOOST_TEST(::rmdir((d + "/a").c_str()) == 0);
  BOOST_TEST(StatOrZero(d).st_nlink == 2u);
  struct stat st;
  BOOST_TEST(ERR(::stat((d + "/a").c_str(), &st)) == ENOENT);
}

// A directory's attributes right after an entry change in it (the kernel's
// GETATTR is then answered from that change's reply, fuse/fuse_fs.h
// TakeParentAttr) are those the change left: its time is the new entry's,
// its link count counts the new subdirectory, and later changes show.
BOOST_AUTO_TEST_CASE(directory_attributes_right_after_entry_changes) {
  std::string d = FreshDir("parent_attr");
  auto ns = [](const struct timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; };
  int fd = ::open((d + "/f").c_str(), O_CREAT | O_WRONLY, 0644);
  BOOST_REQUIRE(fd >= 0);
  ::close(fd);
  struct stat dir = StatOrZero(d);
  struct stat f = StatOrZero(d + "/f");
  BOOST_TEST(dir.st_nlink == 2u);
  BOOST_TEST(ns(dir.st_mtim) == ns(f.st_ctim));  // one stamp for the create and its directory
  BOOST_REQUIRE(::mkdir((d + "/s").c_str(), 0755) == 0);
  dir = StatOrZero(d);
  struct stat sub = StatOrZero(d + "/s");
  BOOST_TEST(dir.st_nlink == 3u);
  BOOST_TEST(ns(dir.st_mtim) == ns(sub.st_ctim));
  BOOST_REQUIRE(::link((d + "/f").c_str(), (d + "/g").c_str()) == 0);
  dir = StatOrZero(d);
  BOOST_TEST(ns(dir.st_mtim) == ns(StatOrZero(d + "/g").st_ctim));
  BOOST_REQUIRE(::rmdir((d + "/s").c_str()) == 0);
  struct stat after_rmdir = StatOrZero(d);
  BOOST_TEST(after_rmdir.st_nlink == 2u);
  BOOST_TEST(ns(after_rmdir.st_mtim) >= ns(dir.st_mtim));
  BOOST_REQUIRE(::chmod(d.c_str(), 0711) == 0);
  BOOST_REQUIRE(::unlink((d + "/g").c_str()) == 0);
  struct stat after_unlink = StatOrZero(d);
  BOOST_TEST((after_unlink.st_mode & 07777) == 0711u);
  BOOST_TEST(ns(after_unlink.st_mtim) >= ns(after_rmdir.st_mtim));
  BOOST_TEST(ns(after_unlink.st_ctim) >= ns(after_unlink.st_mtim));
}

BOOST_AUTO_TEST_CASE(mknod_regular_fifo_and_devices) {
  std::string d = FreshDir("mknod");
  BOOST_TEST(::mknod((d + "/reg").c_str(), S_IFREG | 0600, 0) == 0);
  struct stat st = StatOrZero(d + "/reg");
  BOOST_TEST(S_ISREG(st.st_mode));
  BOOST_TEST((st.st_mode & 07777) == 0600u);
  BOOST_TEST(st.st_size == 0);
  BOOST_TEST(ERR(::mknod((d + "/reg").c_str(), S_IFREG | 0600, 0)) == EEXIST);

  BOOST_TEST(::mkfifo((d + "/fifo").c_str(), 0644) == 0);
  st = StatOrZero(d + "/fifo");
  BOOST_TEST(S_ISFIFO(st.st_mode));
  // A FIFO on the mount is a real pipe (the kernel serves it).
  int fd = ::open((d + "/fifo").c_str(), O_RDWR | O_NONBLOCK);
  BOOST_TEST(fd >= 0);
  if (fd >= 0) {
    BOOST_TEST(::write(fd, "ping", 4) == 4);
    char buf[8] = {};
    BOOST_TEST(::read(fd, buf, sizeof buf) == 4);
    BOOST_TEST(std::string(buf, 4) == "ping");
    ::close(fd);
  }

  BOOST_TEST(::mknod((d + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
  st = StatOrZero(d + "/null");
  BOOST_TEST(S_ISCHR(st.st_mode));
  BOOST_TEST(major(st.st_rdev) == 1u);
  BOOST_TEST(minor(st.st_rdev) == 3u);
  BOOST_TEST(::mknod((d + "/blk").c_str(), S_IFBLK | 0600, makedev(7, 0)) == 0);
  BOOST_TEST(S_ISBLK(StatOrZero(d + "/blk").st_mode));
  BOOST_TEST(::mknod((d + "/sock").c_str(), S_IFSOCK | 0600, 0) == 0);
  BOOST_TEST(S_ISSOCK(StatOrZero(d + "/sock").st_mode));
  // Unprivileged users may not make device nodes.
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK_ERR(::mknod((d + "/null2").c_str(), S_IFCHR | 0666, makedev(1, 3)), EPERM);
    C_CHECK(::mkfifo((d + "/fifo2").c_str(), 0600) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(symlink_readlink_and_loops) {
  std::string d = FreshDir("symlink");
  BOOST_REQUIRE(WriteFile(d + "/target", "content"));
  BOOST_TEST(::symlink("target", (d + "/ln").c_str()) == 0);
  char buf[4096];
  ssize_t n = ::readlink((d + "/ln").c_str(), buf, sizeof buf);
  BOOST_TEST(n == 6);
  BOOST_TEST(std::string(buf, n > 0 ? n : 0) == "target");
  struct stat st = StatOrZero(d + "/ln");
  BOOST_TEST(S_ISLNK(st.st_mode));
  BOOST_TEST(st.st_size == 6);
  std::string content;
  BOOST_TEST(ReadFile(d + "/ln", &content));
  BOOST_TEST(content == "content");
  BOOST_TEST(ERR(::symlink("x", (d + "/ln").c_str())) == EEXIST);
  BOOST_TEST(ERR(::readlink((d + "/target").c_str(), buf, sizeof buf)) == EINVAL);
  // A long target (4095 bytes) round-trips.
  std::string long_target(4095, 'a');
  for (size_t i = 255; i < long_target.size(); i += 256) long_target[i] = '/';
  BOOST_TEST(::symlink(long_target.c_str(), (d + "/long").c_str()) == 0);
  n = ::readlink((d + "/long").c_str(), buf, sizeof buf);
  BOOST_TEST(n == 4095);
  BOOST_TEST(std::string(buf, n > 0 ? n : 0) == long_target);
  // Dangling, absolute, loops.
  BOOST_TEST(::symlink("nowhere", (d + "/dangling").c_str()) == 0);
  BOOST_TEST(ERR(::stat((d + "/dangling").c_str(), &st)) == ENOENT);
  BOOST_TEST(::symlink((d + "/target").c_str(), (d + "/abs").c_str()) == 0);
  BOOST_TEST(ReadFile(d + "/abs", &content));
  BOOST_TEST(::symlink("loop_b", (d + "/loop_a").c_str()) == 0);
  BOOST_TEST(::symlink("loop_a", (d + "/loop_b").c_str()) == 0);
  BOOST_TEST(::symlink("self", (d + "/self").c_str()) == 0);
  BOOST_TEST(ERR(::open((d + "/loop_a").c_str(), O_RDONLY)) == ELOOP);
  BOOST_TEST(ERR(::stat((d + "/self").c_str(), &st)) == ELOOP);
  BOOST_TEST(ERR(::open((d + "/target").c_str(), O_RDONLY | O_NOFOLLOW)) == 0);
  BOOST_TEST(ERR(::open((d + "/ln").c_str(), O_RDONLY | O_NOFOLLOW)) == ELOOP);
  // A chain of 41 links is too deep (Linux follows at most 40).
  for (int i = 0; i < 41; ++i) {
    std::string to = i == 0 ? "target" : "chain" + std::to_string(i - 1);
    BOOST_REQUIRE(::symlink(to.c_str(), (d + "/chain" + std::to_string(i)).c_str()) == 0);
  }
  BOOST_TEST(ERR(::stat((d + "/chain39").c_str(), &st)) == 0);
  BOOST_TEST(ERR(::stat((d + "/chain40").c_str(), &st)) == ELOOP);
  BOOST_TEST(::unlink((d + "/ln").c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/target").st_size == 7);  // unlinking the link leaves the target
}

BOOST_AUTO_TEST_CASE(link_and_file_link_counts) {
  std::string d = FreshDir("link");
  BOOST_REQUIRE(::mkdir((d + "/sub").c_str(), 0755) == 0);
  BOOST_REQUIRE(WriteFile(d + "/a", "data"));
  struct stat a0 = StatOrZero(d + "/a");
  BOOST_TEST(::link((d + "/a").c_str(), (d + "/b").c_str()) == 0);
  BOOST_TEST(::link((d + "/a").c_str(), (d + "/sub/c").c_str()) == 0);
  struct stat a = StatOrZero(d + "/a"), b = StatOrZero(d + "/b"), c = StatOrZero(d + "/sub/c");
  BOOST_TEST(a.st_nlink == 3u);
  BOOST_TEST(b.st_nlink == 3u);
  BOOST_TEST(c.st_nlink == 3u);
  BOOST_TEST(b.st_ino == a0.st_ino);
  BOOST_TEST(c.st_ino == a0.st_ino);
  BOOST_TEST(ERR(::link((d + "/a").c_str(), (d + "/b").c_str())) == EEXIST);
  BOOST_TEST(ERR(::link((d + "/sub").c_str(), (d + "/sub2").c_str())) == EPERM);
  BOOST_TEST(ERR(::link((d + "/missing").c_str(), (d + "/x").c_str())) == ENOENT);
  BOOST_TEST(ERR(::link((d + "/a").c_str(), (d + "/nodir/x").c_str())) == ENOENT);
  BOOST_TEST(::unlink((d + "/a").c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/b").st_nlink == 2u);
  std::string content;
  BOOST_TEST(ReadFile(d + "/sub/c", &content));
  BOOST_TEST(content == "data");
  BOOST_TEST(ERR(::unlink((d + "/a").c_str())) == ENOENT);
  BOOST_TEST(::unlink((d + "/sub/c").c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/b").st_nlink == 1u);
  // Writes through one name are seen through another.
  BOOST_TEST(::link((d + "/b").c_str(), (d + "/b2").c_str()) == 0);
  BOOST_TEST(WriteFile(d + "/b2", "rewritten"));
  BOOST_TEST(ReadFile(d + "/b", &content));
  BOOST_TEST(content == "rewritten");
}

BOOST_AUTO_TEST_CASE(rename_files_and_directories) {
  std::string d = FreshDir("rename");
  BOOST_REQUIRE(WriteFile(d + "/a", "A"));
  BOOST_REQUIRE(WriteFile(d + "/b", "B"));
  ino_t a_ino = StatOrZero(d + "/a").st_ino;
  // Over an existing file: the target is replaced.
  BOOST_TEST(::rename((d + "/a").c_str(), (d + "/b").c_str()) == 0);
  struct stat st;
  BOOST_TEST(ERR(::stat((d + "/a").c_str(), &st)) == ENOENT);
  std::string content;
  BOOST_TEST(ReadFile(d + "/b", &content));
  BOOST_TEST(content == "A");
  BOOST_TEST(StatOrZero(d + "/b").st_ino == a_ino);
  BOOST_TEST(ERR(::rename((d + "/missing").c_str(), (d + "/c").c_str())) == ENOENT);
  // Two names of one inode: rename is a no-op that succeeds.
  BOOST_TEST(::link((d + "/b").c_str(), (d + "/b_link").c_str()) == 0);
  BOOST_TEST(::rename((d + "/b").c_str(), (d + "/b_link").c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/b").st_nlink == 2u);
  BOOST_TEST(::rename((d + "/b").c_str(), (d + "/b").c_str()) == 0);

  // Directories.
  BOOST_REQUIRE(::mkdir((d + "/d1").c_str(), 0755) == 0);
  BOOST_REQUIRE(::mkdir((d + "/d1/inner").c_str(), 0755) == 0);
  BOOST_REQUIRE(::mkdir((d + "/empty").c_str(), 0755) == 0);
  BOOST_REQUIRE(::mkdir((d + "/full").c_str(), 0755) == 0);
  BOOST_REQUIRE(WriteFile(d + "/full/f", "x"));
  BOOST_TEST(ERR(::rename((d + "/d1").c_str(), (d + "/full").c_str())) == ENOTEMPTY);
  BOOST_TEST(ERR(::rename((d + "/d1").c_str(), (d + "/b").c_str())) == ENOTDIR);
  BOOST_TEST(ERR(::rename((d + "/b").c_str(), (d + "/empty").c_str())) == EISDIR);
  BOOST_TEST(ERR(::rename((d + "/d1").c_str(), (d + "/d1/inner/x").c_str())) == EINVAL);
  BOOST_TEST(ERR(::rename((d + "/d1").c_str(), (d + "/d1/x").c_str())) == EINVAL);
  ino_t d1_ino = StatOrZero(d + "/d1").st_ino;
  nlink_t parent_links = StatOrZero(d).st_nlink;
  BOOST_TEST(::rename((d + "/d1").c_str(), (d + "/empty").c_str()) == 0);  // over an empty directory
  BOOST_TEST(StatOrZero(d + "/empty").st_ino == d1_ino);
  BOOST_TEST(StatOrZero(d).st_nlink == parent_links - 1);
  BOOST_TEST(S_ISDIR(StatOrZero(d + "/empty/inner").st_mode));
  // Moving a directory to another parent moves its ".." link.
  nlink_t full_links = StatOrZero(d + "/full").st_nlink;
  BOOST_TEST(::rename((d + "/empty/inner").c_str(), (d + "/full/inner").c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/full").st_nlink == full_links + 1);
  BOOST_TEST(StatOrZero(d + "/empty").st_nlink == 2u);
  BOOST_TEST(StatOrZero(d + "/full/inner/..").st_ino == StatOrZero(d + "/full").st_ino);
}

BOOST_AUTO_TEST_CASE(renameat2_noreplace_and_exchange) {
  std::string d = FreshDir("renameat2");
  BOOST_REQUIRE(WriteFile(d + "/a", "A"));
  BOOST_REQUIRE(WriteFile(d + "/b", "B"));
  BOOST_REQUIRE(::mkdir((d + "/dir").c_str(), 0755) == 0);
  BOOST_REQUIRE(WriteFile(d + "/dir/inside", "I"));
  BOOST_TEST(ERR(Renameat2(d + "/a", d + "/b", RENAME_NOREPLACE)) == EEXIST);
  std::string content;
  BOOST_TEST(ReadFile(d + "/b", &content));
  BOOST_TEST(content == "B");
  BOOST_TEST(Renameat2(d + "/a", d + "/c", RENAME_NOREPLACE) == 0);
  struct stat st;
  BOOST_TEST(ERR(::stat((d + "/a").c_str(), &st)) == ENOENT);
  // Exchange two files, then a file and a directory.
  BOOST_TEST(Renameat2(d + "/b", d + "/c", RENAME_EXCHANGE) == 0);
  BOOST_TEST(ReadFile(d + "/b", &content));
  BOOST_TEST(content == "A");
  BOOST_TEST(ReadFile(d + "/c", &content));
  BOOST_TEST(content == "B");
  ino_t dir_ino = StatOrZero(d + "/dir").st_ino;
  BOOST_TEST(Renameat2(d + "/b", d + "/dir", RENAME_EXCHANGE) == 0);
  BOOST_TEST(StatOrZero(d + "/b").st_ino == dir_ino);
  BOOST_TEST(S_ISREG(StatOrZero(d + "/dir").st_mode));
  BOOST_TEST(ReadFile(d + "/b/inside", &content));
  BOOST_TEST(content == "I");
  BOOST_TEST(ERR(Renameat2(d + "/c", d + "/missing", RENAME_EXCHANGE)) == ENOENT);
  BOOST_TEST(ERR(Renameat2(d + "/c", d + "/b", RENAME_EXCHANGE | RENAME_NOREPLACE)) == EINVAL);
  // Exchange across directories moves the ".." of a directory.
  BOOST_REQUIRE(::mkdir((d + "/other").c_str(), 0755) == 0);
  BOOST_REQUIRE(WriteFile(d + "/other/f", "F"));
  BOOST_TEST(Renameat2(d + "/b", d + "/other/f", RENAME_EXCHANGE) == 0);
  BOOST_TEST(StatOrZero(d + "/other/f/..").st_ino == StatOrZero(d + "/other").st_ino);
  BOOST_TEST(StatOrZero(d + "/other").st_nlink == 3u);
  BOOST_TEST(ReadFile(d + "/b", &content));
  BOOST_TEST(content == "F");
}

BOOST_AUTO_TEST_CASE(readdir_dot_dotdot_and_types) {
  std::string d = FreshDir("readdir");
  BOOST_REQUIRE(WriteFile(d + "/file", "x"));
  BOOST_REQUIRE(::mkdir((d + "/sub").c_str(), 0755) == 0);
  BOOST_REQUIRE(::symlink("file", (d + "/ln").c_str()) == 0);
  BOOST_REQUIRE(::mkfifo((d + "/fifo").c_str(), 0644) == 0);
  auto entries = List(d);
  BOOST_TEST(entries.size() == 6u);
  BOOST_TEST(entries.count("."));
  BOOST_TEST(entries.count(".."));
  BOOST_TEST(entries["."].first == StatOrZero(d).st_ino);
  BOOST_TEST(entries[".."].first == StatOrZero(SharedVolume()->mnt()).st_ino);
  BOOST_TEST(entries["file"].first == StatOrZero(d + "/file").st_ino);
  BOOST_TEST(entries["file"].second == DT_REG);
  BOOST_TEST(entries["sub"].second == DT_DIR);
  BOOST_TEST(entries["ln"].second == DT_LNK);
  BOOST_TEST(entries["fifo"].second == DT_FIFO);
  auto sub = List(d + "/sub");
  BOOST_TEST(sub.size() == 2u);
  BOOST_TEST(sub[".."].first == StatOrZero(d).st_ino);
  BOOST_TEST(ERR(::opendir((d + "/file").c_str()) == nullptr ? -1 : 0) == ENOTDIR);
}

BOOST_AUTO_TEST_CASE(names_of_255_bytes_and_too_long) {
  std::string d = FreshDir("names");
  std::string n255(255, 'n'), n256(256, 'n');
  BOOST_TEST(WriteFile(d + "/" + n255, "x"));
  BOOST_TEST(StatOrZero(d + "/" + n255).st_size == 1);
  BOOST_TEST(List(d).count(n255) == 1u);
  BOOST_TEST(ERR(::open((d + "/" + n256).c_str(), O_CREAT | O_WRONLY, 0644)) == ENAMETOOLONG);
  BOOST_TEST(ERR(::mkdir((d + "/" + n256).c_str(), 0755)) == ENAMETOOLONG);
  BOOST_TEST(ERR(::symlink("x", (d + "/" + n256).c_str())) == ENAMETOOLONG);
  BOOST_TEST(ERR(::link((d + "/" + n255).c_str(), (d + "/" + n256).c_str())) == ENAMETOOLONG);
  BOOST_TEST(ERR(::rename((d + "/" + n255).c_str(), (d + "/" + n256).c_str())) == ENAMETOOLONG);
  struct stat st;
  BOOST_TEST(ERR(::stat((d + "/" + n256).c_str(), &st)) == ENAMETOOLONG);
  std::string m255(254, 'm');
  m255 += "\xc3";  // any byte but '/' and NUL is allowed
  BOOST_TEST(::mkdir((d + "/" + m255).c_str(), 0755) == 0);
  BOOST_TEST(::rename((d + "/" + n255).c_str(), (d + "/" + m255 + "/" + n255).c_str()) == 0);
  BOOST_TEST(StatOrZero(d + "/" + m255 + "/" + n255).st_size == 1);
}

BOOST_AUTO_TEST_CASE(deep_paths_with_openat_chains) {
  std::string d = FreshDir("deep");
  constexpr int kDepth = 100;
  std::vector<int> fds;
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY);
  BOOST_REQUIRE(fd >= 0);
  fds.push_back(fd);
  std::string path = d;
  for (int i = 0; i < kDepth; ++i) {
    std::string name = "level" + std::to_string(i);
    BOOST_REQUIRE(::mkdirat(fds.back(), name.c_str(), 0755) == 0);
    int next = ::openat(fds.back(), name.c_str(), O_RDONLY | O_DIRECTORY);
    BOOST_REQUIRE(next >= 0);
    fds.push_back(next);
    path += "/" + name;
  }
  int f = ::openat(fds.back(), "leaf", O_CREAT | O_RDWR, 0644);
  BOOST_REQUIRE(f >= 0);
  BOOST_TEST(::write(f, "deep", 4) == 4);
  ::close(f);
  std::string content;
  BOOST_TEST(ReadFile(path + "/leaf", &content));  // the full path, ~1000 bytes
  BOOST_TEST(content == "deep");
  struct stat st;
  BOOST_TEST(::fstatat(fds[1], (path.substr(d.size() + 8) + "/leaf").c_str(), &st, 0) == 0);
  // Tear down bottom-up through the fds.
  BOOST_TEST(::unlinkat(fds.back(), "leaf", 0) == 0);
  for (int i = kDepth; i >= 1; --i) {
    ::close(fds[i]);
    BOOST_TEST(::unlinkat(fds[i - 1], ("level" + std::to_string(i - 1)).c_str(), AT_REMOVEDIR) == 0);
  }
  ::close(fds[0]);
  BOOST_TEST(List(d).size() == 2u);
}

BOOST_AUTO_TEST_CASE(statfs_values) {
  struct statfs sf;
  BOOST_REQUIRE(::statfs(SharedVolume()->mnt().c_str(), &sf) == 0);
  BOOST_TEST(sf.f_type == 0x65735546);  // FUSE_SUPER_MAGIC
  BOOST_TEST(sf.f_bsize > 0);
  BOOST_TEST(sf.f_namelen == 255);
  BOOST_TEST(sf.f_blocks > 0u);
  BOOST_TEST(sf.f_bfree <= sf.f_blocks);
  BOOST_TEST(sf.f_bavail <= sf.f_bfree);
  BOOST_TEST(sf.f_ffree <= sf.f_files);
  struct statvfs sv;
  BOOST_REQUIRE(::statvfs(SharedVolume()->mnt().c_str(), &sv) == 0);
  BOOST_TEST(sv.f_namemax == 255u);
  BOOST_TEST((sv.f_flag & ST_RDONLY) == 0u);
}

BOOST_AUTO_TEST_CASE(xattrs_user_namespace) {
  std::string d = FreshDir("xattr");
  std::string f = d + "/f";
  BOOST_REQUIRE(WriteFile(f, "x"));
  const char* p = f.c_str();
  char buf[70000];
  BOOST_TEST(ERR(::getxattr(p, "user.a", buf, sizeof buf)) == ENODATA);
  BOOST_TEST(::setxattr(p, "user.a", "one", 3, 0) == 0);
  BOOST_TEST(::getxattr(p, "user.a", buf, sizeof buf) == 3);
  BOOST_TEST(std::string(buf, 3) == "one");
  BOOST_TEST(::getxattr(p, "user.a", nullptr, 0) == 3);  // size query
  BOOST_TEST(ERR(::getxattr(p, "user.a", buf, 2)) == ERANGE);
  BOOST_TEST(ERR(::setxattr(p, "user.a", "two", 3, XATTR_CREATE)) == EEXIST);
  BOOST_TEST(ERR(::setxattr(p, "user.b", "two", 3, XATTR_REPLACE)) == ENODATA);
  BOOST_TEST(::setxattr(p, "user.a", "three", 5, XATTR_REPLACE) == 0);
  BOOST_TEST(::getxattr(p, "user.a", buf, sizeof buf) == 5);
  BOOST_TEST(::setxattr(p, "user.b", "", 0, XATTR_CREATE) == 0);  // empty value
  BOOST_TEST(::getxattr(p, "user.b", buf, sizeof buf) == 0);
  ssize_t n = ::listxattr(p, buf, sizeof buf);
  BOOST_TEST(n == static_cast<ssize_t>(sizeof("user.a") + sizeof("user.b")));
  std::set<std::string> names;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(strlen(buf + i)) + 1) names.insert(buf + i);
  BOOST_TEST((names == std::set<std::string>{"user.a", "user.b"}));
  BOOST_TEST(::listxattr(p, nullptr, 0) == n);
  BOOST_TEST(ERR(::listxattr(p, buf, 3)) == ERANGE);
  BOOST_TEST(::removexattr(p, "user.a") == 0);
  BOOST_TEST(ERR(::getxattr(p, "user.a", buf, sizeof buf)) == ENODATA);
  BOOST_TEST(ERR(::removexattr(p, "user.a")) == ENODATA);
  // A 64 KiB value, the largest Linux allows.
  std::string big(65536, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);
  BOOST_TEST(::setxattr(p, "user.big", big.data(), big.size(), 0) == 0);
  BOOST_TEST(::getxattr(p, "user.big", buf, sizeof buf) == 65536);
  BOOST_TEST((std::string(buf, 65536) == big));
  BOOST_TEST(ERR(::setxattr(p, "user.bigger", buf, 65537, 0)) == E2BIG);
  // Directories carry user xattrs too; a missing file answers ENOENT.
  BOOST_TEST(::setxattr(d.c_str(), "user.dir", "d", 1, 0) == 0);
  BOOST_TEST(::getxattr(d.c_str(), "user.dir", buf, sizeof buf) == 1);
  BOOST_TEST(ERR(::getxattr((d + "/missing").c_str(), "user.a", buf, sizeof buf)) == ENOENT);
  // Another user may read but not change them on a file it cannot write.
  int rc = RunAs(kNobody, kNogroup, [&] {
    char b[16];
    C_CHECK(::getxattr(p, "user.b", b, sizeof b) == 0);
    C_CHECK_ERR(::setxattr(p, "user.c", "x", 1, 0), EACCES);
    C_CHECK_ERR(::removexattr(p, "user.b"), EACCES);
    return 0;
  });
  BOOST_TEST(rc == 0);
}
