// POSIX details where apply() must match Linux (review finding 11).
#define BOOST_TEST_MODULE fs_posix
#include "tests/fs/fs_test_util.h"

using namespace baton::fs;
using namespace baton::fs::testing;

BOOST_AUTO_TEST_CASE(mkdir_masks_setuid_and_setgid) {
  Fs fs;
  Reply d = fs.Mkdir(kRootIno, "d", 06777);
  BOOST_REQUIRE(d.err == 0);
  BOOST_TEST((d.attr.mode & 07777) == 0777u);
  BOOST_TEST((fs.Mkdir(kRootIno, "t", 01777).attr.mode & 07777) == 01777u);  // sticky kept
  // setgid only from a setgid parent.
  Ino g = fs.Mkdir(kRootIno, "g", 0777).attr.ino;
  fs.Setattr(g, SetattrArgs{.valid = kSetMode, .mode = 02777});
  BOOST_TEST((fs.Mkdir(g, "sub", 0755).attr.mode & 07777) == 02755u);
  BOOST_TEST((fs.Mkdir(g, "sub2", 04755).attr.mode & 07777) == 02755u);
}

BOOST_AUTO_TEST_CASE(ftruncate_on_an_open_fd_needs_no_write_permission) {
  Fs fs;
  Creds alice = User(1000, 100);
  Ino dir = fs.Mkdir(kRootIno, "home", 0777).attr.ino;
  Ino f = fs.Mknod(dir, "f", S_IFREG | 0644, alice).attr.ino;
  fs.Write(f, 0, "hello");
  BOOST_REQUIRE(fs.Setattr(f, SetattrArgs{.valid = kSetMode, .mode = 0}, alice).err == 0);
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetSize, .size = 2}, alice).err == EACCES);  // truncate(2)
  Reply r = fs.Setattr(f, SetattrArgs{.valid = kSetSize | kSetSizeOpenFd, .size = 2}, alice);  // ftruncate(2)
  BOOST_TEST(r.err == 0);
  BOOST_TEST(r.attr.size == 2u);
  // The other size rules still hold.
  BOOST_TEST(fs.Setattr(dir, SetattrArgs{.valid = kSetSize | kSetSizeOpenFd, .size = 0}, alice).err == EISDIR);
}

BOOST_AUTO_TEST_CASE(security_xattrs_need_root_to_change) {
  Fs fs;
  Creds alice = User(1000, 100);
  Ino dir = fs.Mkdir(kRootIno, "home", 0777).attr.ino;
  Ino f = fs.Mknod(dir, "f", S_IFREG | 0644, alice).attr.ino;
  auto set = [&](Creds c) {
    return fs.Do(Request{.op = Op::kSetxattr, .creds = c, .ino = f, .name = "security.selinux", .data = "v"}).reply.err;
  };
  auto rm = [&](Creds c) {
    return fs.Do(Request{.op = Op::kRemovexattr, .creds = c, .ino = f, .name = "security.selinux"}).reply.err;
  };
  BOOST_TEST(set(alice) == EPERM);  // even the owner
  BOOST_TEST(set(Root()) == 0);
  BOOST_TEST(fs.Q(Request{.op = Op::kGetxattr, .creds = alice, .ino = f, .name = "security.selinux"}).data == "v");
  BOOST_TEST(fs.Q(Request{.op = Op::kListxattr, .creds = alice, .ino = f}).data == std::string("security.selinux\0", 17));
  BOOST_TEST(rm(alice) == EPERM);
  BOOST_TEST(rm(Root()) == 0);
}

BOOST_AUTO_TEST_CASE(unlink_dot_and_dotdot_is_eisdir) {
  Fs fs;
  Ino d = fs.Mkdir(kRootIno, "d").attr.ino;
  BOOST_TEST(fs.Unlink(d, "..").reply.err == EISDIR);
  BOOST_TEST(fs.Unlink(d, ".").reply.err == EISDIR);
  BOOST_TEST(fs.Lookup(kRootIno, "d").err == 0);
}
