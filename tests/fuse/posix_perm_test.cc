// Permissions through a real FUSE mount, as root and as unprivileged users
// (uid 65534 "nobody" and a second uid 65533, switched with RunAs):
// ownership of new files, EACCES/EPERM denials, chmod/chown rules, sticky and
// setgid directories, setuid/setgid clearing, access(2), utimensat rules and
// supplementary groups.
#define BOOST_TEST_MODULE posix_perm_test
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <string>

#include "tests/fuse/posix_test_util.h"

using namespace baton::testing;

BOOST_TEST_GLOBAL_FIXTURE(PosixGlobalFixture);

namespace {

constexpr gid_t kSharedGroup = 4242;  // a group neither test user has by default

int Touch(const std::string& p, mode_t mode) {
  int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, mode);
  if (fd < 0) return -1;
  ::close(fd);
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(new_files_belong_to_the_caller) {
  std::string d = FreshDir("owner");
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(Touch(d + "/f", 0644) == 0);
    C_CHECK(::mkdir((d + "/sub").c_str(), 0755) == 0);
    C_CHECK(::symlink("f", (d + "/ln").c_str()) == 0);
    C_CHECK(::mkfifo((d + "/fifo").c_str(), 0644) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
  for (const char* n : {"/f", "/sub", "/ln", "/fifo"}) {
    struct stat st = StatOrZero(d + n);
    BOOST_TEST(st.st_uid == kNobody, n);
    BOOST_TEST(st.st_gid == kNogroup, n);
  }
  // create(2) with a read-only mode still gives the creator a writable fd.
  rc = RunAs(kNobody, kNogroup, [&] {
    int fd = ::open((d + "/ro").c_str(), O_CREAT | O_RDWR | O_EXCL, 0444);
    C_CHECK(fd >= 0);
    C_CHECK(::write(fd, "ok", 2) == 2);
    ::close(fd);
    C_CHECK_ERR(::open((d + "/ro").c_str(), O_RDWR), EACCES);  // but not a later open
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(StatOrZero(d + "/ro").st_size == 2);
}

BOOST_AUTO_TEST_CASE(mode_bits_deny_the_unprivileged_user) {
  std::string d = FreshDir("modes");
  BOOST_REQUIRE(WriteFile(d + "/none", "secret", 0000));
  BOOST_REQUIRE(::chmod((d + "/none").c_str(), 0000) == 0);
  BOOST_REQUIRE(WriteFile(d + "/readonly", "r", 0644));
  BOOST_REQUIRE(::mkdir((d + "/noexec").c_str(), 0777) == 0);
  BOOST_REQUIRE(WriteFile(d + "/noexec/f", "x", 0644));
  BOOST_REQUIRE(::chmod((d + "/noexec").c_str(), 0666) == 0);  // rw, no search
  BOOST_REQUIRE(::mkdir((d + "/noread").c_str(), 0711) == 0);
  BOOST_REQUIRE(WriteFile(d + "/noread/f", "x", 0644));
  BOOST_REQUIRE(::mkdir((d + "/nowrite").c_str(), 0755) == 0);
  BOOST_REQUIRE(WriteFile(d + "/nowrite/f", "x", 0666));
  BOOST_REQUIRE(::chmod((d + "/nowrite/f").c_str(), 0666) == 0);
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK_ERR(::open((d + "/none").c_str(), O_RDONLY), EACCES);
    C_CHECK_ERR(::open((d + "/none").c_str(), O_WRONLY), EACCES);
    C_CHECK_ERR(::open((d + "/readonly").c_str(), O_WRONLY), EACCES);
    C_CHECK_ERR(::open((d + "/readonly").c_str(), O_RDWR | O_TRUNC), EACCES);
    C_CHECK_ERR(::truncate((d + "/readonly").c_str(), 0), EACCES);
    int fd = ::open((d + "/readonly").c_str(), O_RDONLY);
    C_CHECK(fd >= 0);
    ::close(fd);
    struct stat st;
    C_CHECK_ERR(::stat((d + "/noexec/f").c_str(), &st), EACCES);
    C_CHECK_ERR(::open((d + "/noexec/f").c_str(), O_RDONLY), EACCES);
    C_CHECK_ERR(::open((d + "/noexec/new").c_str(), O_CREAT | O_WRONLY, 0644), EACCES);
    C_CHECK_ERR(::open((d + "/noread").c_str(), O_RDONLY | O_DIRECTORY), EACCES);
    C_CHECK(::stat((d + "/noread/f").c_str(), &st) == 0);  // search without read is enough
    C_CHECK_ERR(::open((d + "/nowrite/new").c_str(), O_CREAT | O_WRONLY, 0644), EACCES);
    C_CHECK_ERR(::mkdir((d + "/nowrite/sub").c_str(), 0755), EACCES);
    C_CHECK_ERR(::unlink((d + "/nowrite/f").c_str()), EACCES);
    C_CHECK_ERR(::rename((d + "/nowrite/f").c_str(), (d + "/moved").c_str()), EACCES);
    C_CHECK_ERR(::symlink("x", (d + "/nowrite/ln").c_str()), EACCES);
    C_CHECK_ERR(::link((d + "/nowrite/f").c_str(), (d + "/nowrite/f2").c_str()), EACCES);
    fd = ::open((d + "/nowrite/f").c_str(), O_WRONLY);  // the file itself is writable
    C_CHECK(fd >= 0);
    C_CHECK(::write(fd, "y", 1) == 1);
    ::close(fd);
    return 0;
  });
  BOOST_TEST(rc == 0);
  // Root reads and writes whatever the mode.
  std::string got;
  BOOST_TEST(ReadFile(d + "/none", &got));
  BOOST_TEST(got == "secret");
  BOOST_TEST(StatOrZero(d + "/noexec/f").st_size == 1);
}

BOOST_AUTO_TEST_CASE(access_for_root_and_others) {
  std::string d = FreshDir("access");
  BOOST_REQUIRE(WriteFile(d + "/none", "x", 0000));
  BOOST_REQUIRE(::chmod((d + "/none").c_str(), 0000) == 0);
  BOOST_REQUIRE(WriteFile(d + "/rw", "x", 0644));
  BOOST_REQUIRE(WriteFile(d + "/exe", "x", 0755));
  BOOST_TEST(::access((d + "/none").c_str(), R_OK | W_OK) == 0);
  BOOST_TEST(ERR(::access((d + "/none").c_str(), X_OK)) == EACCES);  // root needs one x bit
  BOOST_TEST(ERR(::access((d + "/rw").c_str(), X_OK)) == EACCES);
  BOOST_TEST(::access((d + "/exe").c_str(), X_OK) == 0);
  BOOST_TEST(ERR(::access((d + "/missing").c_str(), F_OK)) == ENOENT);
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(::access((d + "/none").c_str(), F_OK) == 0);
    C_CHECK_ERR(::access((d + "/none").c_str(), R_OK), EACCES);
    C_CHECK(::access((d + "/rw").c_str(), R_OK) == 0);
    C_CHECK_ERR(::access((d + "/rw").c_str(), W_OK), EACCES);
    C_CHECK(::access((d + "/exe").c_str(), R_OK | X_OK) == 0);
    C_CHECK(::access(d.c_str(), R_OK | W_OK | X_OK) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(chmod_and_chown_rules) {
  std::string d = FreshDir("chown");
  BOOST_REQUIRE(WriteFile(d + "/roots", "x", 0644));
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(Touch(d + "/mine", 0644) == 0);
    C_CHECK_ERR(::chmod((d + "/roots").c_str(), 0777), EPERM);
    C_CHECK_ERR(::chown((d + "/roots").c_str(), kNobody, kNogroup), EPERM);
    C_CHECK(::chmod((d + "/mine").c_str(), 0600) == 0);
    C_CHECK_ERR(::chown((d + "/mine").c_str(), kOther, static_cast<gid_t>(-1)), EPERM);
    C_CHECK_ERR(::chown((d + "/mine").c_str(), static_cast<uid_t>(-1), kSharedGroup), EPERM);
    C_CHECK(::chown((d + "/mine").c_str(), kNobody, kNogroup) == 0);  // to itself: allowed
    C_CHECK(::chown((d + "/mine").c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(-1)) == 0);
    // Setting the setgid bit on a file of a group one is not in: silently dropped.
    C_CHECK(::chmod((d + "/mine").c_str(), 02755) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST((StatOrZero(d + "/roots").st_mode & 07777) == 0644u);
  BOOST_TEST(StatOrZero(d + "/roots").st_uid == 0u);
  BOOST_TEST((StatOrZero(d + "/mine").st_mode & 07777) == 02755u);  // nogroup is its own group: kept
  // A file whose group the owner is not in loses S_ISGID on the owner's chmod.
  BOOST_REQUIRE(::chown((d + "/mine").c_str(), kNobody, kSharedGroup) == 0);
  rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(::chmod((d + "/mine").c_str(), 02755) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST((StatOrZero(d + "/mine").st_mode & 07777) == 0755u);
  // Root may give a file away; the new owner may then chmod it, the old one not.
  BOOST_TEST(::chown((d + "/roots").c_str(), kOther, kOtherGroup) == 0);
  BOOST_TEST(StatOrZero(d + "/roots").st_uid == kOther);
  BOOST_TEST(StatOrZero(d + "/roots").st_gid == kOtherGroup);
  rc = RunAs(kOther, kOtherGroup, [&] {
    C_CHECK(::chmod((d + "/roots").c_str(), 0600) == 0);
    C_CHECK_ERR(::chmod((d + "/mine").c_str(), 0600), EPERM);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(ERR(::chown((d + "/missing").c_str(), 0, 0)) == ENOENT);
}

BOOST_AUTO_TEST_CASE(owner_can_chgrp_to_a_supplementary_group) {
  std::string d = FreshDir("chgrp");
  int rc = RunAsGroups(kNobody, kNogroup, {kNogroup, kSharedGroup}, [&] {
    C_CHECK(Touch(d + "/f", 0640) == 0);
    C_CHECK(::chown((d + "/f").c_str(), static_cast<uid_t>(-1), kSharedGroup) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(StatOrZero(d + "/f").st_gid == kSharedGroup);
  // Group permission through a supplementary group (the client passes the caller's groups).
  BOOST_REQUIRE(WriteFile(d + "/group_only", "g", 0640));
  BOOST_REQUIRE(::chown((d + "/group_only").c_str(), 0, kSharedGroup) == 0);
  BOOST_REQUIRE(::chmod((d + "/group_only").c_str(), 0640) == 0);
  rc = RunAsGroups(kOther, kOtherGroup, {kOtherGroup, kSharedGroup}, [&] {
    int fd = ::open((d + "/group_only").c_str(), O_RDONLY);
    C_CHECK(fd >= 0);
    ::close(fd);
    C_CHECK_ERR(::open((d + "/group_only").c_str(), O_WRONLY), EACCES);
    return 0;
  });
  BOOST_TEST(rc == 0);
  rc = RunAs(kOther, kOtherGroup, [&] {
    C_CHECK_ERR(::open((d + "/group_only").c_str(), O_RDONLY), EACCES);
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(sticky_directory_protects_other_users_files) {
  std::string d = FreshDir("sticky");
  BOOST_REQUIRE(::chmod(d.c_str(), 01777) == 0);
  BOOST_TEST((StatOrZero(d).st_mode & 07777) == 01777u);
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(Touch(d + "/nobodys", 0666) == 0);
    C_CHECK(::chmod((d + "/nobodys").c_str(), 0666) == 0);
    return 0;
  });
  BOOST_REQUIRE(rc == 0);
  rc = RunAs(kOther, kOtherGroup, [&] {
    C_CHECK_ERR(::unlink((d + "/nobodys").c_str()), EPERM);
    C_CHECK_ERR(::rename((d + "/nobodys").c_str(), (d + "/stolen").c_str()), EPERM);
    C_CHECK(Touch(d + "/others", 0644) == 0);
    // Nor may it replace the file by renaming its own over it.
    C_CHECK_ERR(::rename((d + "/others").c_str(), (d + "/nobodys").c_str()), EPERM);
    int fd = ::open((d + "/nobodys").c_str(), O_WRONLY);  // writing is allowed by the mode
    C_CHECK(fd >= 0);
    ::close(fd);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(StatOrZero(d + "/nobodys").st_uid == kNobody);
  rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(::rename((d + "/nobodys").c_str(), (d + "/renamed").c_str()) == 0);
    C_CHECK(::unlink((d + "/renamed").c_str()) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(::unlink((d + "/others").c_str()) == 0);  // root may
}

BOOST_AUTO_TEST_CASE(setgid_directory_passes_its_group) {
  std::string d = FreshDir("setgid");
  BOOST_REQUIRE(::chown(d.c_str(), 0, kSharedGroup) == 0);
  BOOST_REQUIRE(::chmod(d.c_str(), 02777) == 0);
  BOOST_TEST((StatOrZero(d).st_mode & 07777) == 02777u);
  BOOST_REQUIRE(WriteFile(d + "/by_root", "x"));
  BOOST_TEST(StatOrZero(d + "/by_root").st_gid == kSharedGroup);
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(Touch(d + "/by_nobody", 0644) == 0);
    C_CHECK(::mkdir((d + "/sub").c_str(), 0755) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(StatOrZero(d + "/by_nobody").st_gid == kSharedGroup);
  BOOST_TEST(StatOrZero(d + "/by_nobody").st_uid == kNobody);
  struct stat sub = StatOrZero(d + "/sub");
  BOOST_TEST(sub.st_gid == kSharedGroup);
  BOOST_TEST((sub.st_mode & S_ISGID) != 0u);  // subdirectories inherit the bit
  // A plain directory gives the creator's group.
  std::string plain = FreshDir("plain");
  rc = RunAs(kNobody, kNogroup, [&] { return Touch(plain + "/f", 0644) == 0 ? 0 : 1; });
  BOOST_TEST(rc == 0);
  BOOST_TEST(StatOrZero(plain + "/f").st_gid == kNogroup);
}

BOOST_AUTO_TEST_CASE(setuid_and_setgid_cleared_on_write_and_chown) {
  std::string d = FreshDir("suid");
  for (const char* n : {"/w", "/c", "/rootw"}) {
    BOOST_REQUIRE(WriteFile(d + n, "x"));
    BOOST_REQUIRE(::chown((d + n).c_str(), kNobody, kNogroup) == 0);
    BOOST_REQUIRE(::chmod((d + n).c_str(), 06777) == 0);
    BOOST_TEST((StatOrZero(d + n).st_mode & 07777) == 06777u);
  }
  int rc = RunAs(kNobody, kNogroup, [&] {
    int fd = ::open((d + "/w").c_str(), O_WRONLY);
    C_CHECK(fd >= 0);
    C_CHECK(::write(fd, "y", 1) == 1);
    ::close(fd);
    C_CHECK(::chown((d + "/c").c_str(), static_cast<uid_t>(-1), kNogroup) == 0);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST((StatOrZero(d + "/w").st_mode & 07777) == 0777u);
  BOOST_TEST((StatOrZero(d + "/c").st_mode & 07777) == 0777u);
  // Another user writing (the file is world-writable) clears them too.
  BOOST_REQUIRE(::chmod((d + "/w").c_str(), 06777) == 0);
  rc = RunAs(kOther, kOtherGroup, [&] {
    int fd = ::open((d + "/w").c_str(), O_WRONLY | O_TRUNC);
    C_CHECK(fd >= 0);
    ::close(fd);
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST((StatOrZero(d + "/w").st_mode & 07777) == 0777u);
  // Root writing keeps them (CAP_FSETID).
  int fd = ::open((d + "/rootw").c_str(), O_WRONLY);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(::write(fd, "z", 1) == 1);
  ::close(fd);
  BOOST_TEST((StatOrZero(d + "/rootw").st_mode & 07777) == 06777u);
}

BOOST_AUTO_TEST_CASE(utimensat_permission_rules) {
  std::string d = FreshDir("utime");
  BOOST_REQUIRE(WriteFile(d + "/writable", "x", 0666));
  BOOST_REQUIRE(::chmod((d + "/writable").c_str(), 0666) == 0);
  BOOST_REQUIRE(WriteFile(d + "/readonly", "x", 0644));
  int rc = RunAs(kNobody, kNogroup, [&] {
    struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    struct timespec set[2] = {{1000, 0}, {2000, 0}};
    C_CHECK(::utimensat(AT_FDCWD, (d + "/writable").c_str(), now, 0) == 0);  // write access is enough
    C_CHECK(::utimensat(AT_FDCWD, (d + "/writable").c_str(), nullptr, 0) == 0);
    C_CHECK_ERR(::utimensat(AT_FDCWD, (d + "/writable").c_str(), set, 0), EPERM);  // exact times: owner only
    C_CHECK_ERR(::utimensat(AT_FDCWD, (d + "/readonly").c_str(), now, 0), EACCES);
    C_CHECK_ERR(::utimensat(AT_FDCWD, (d + "/readonly").c_str(), set, 0), EPERM);
    C_CHECK(Touch(d + "/mine", 0400) == 0);
    C_CHECK(::utimensat(AT_FDCWD, (d + "/mine").c_str(), set, 0) == 0);
    C_CHECK(::utimensat(AT_FDCWD, (d + "/mine").c_str(), now, 0) == 0);  // owner, even without write
    return 0;
  });
  BOOST_TEST(rc == 0);
  BOOST_TEST(StatOrZero(d + "/readonly").st_mtim.tv_sec != 2000);
}

BOOST_AUTO_TEST_CASE(cross_user_reads_follow_the_mode) {
  std::string d = FreshDir("cross");
  int rc = RunAs(kNobody, kNogroup, [&] {
    C_CHECK(WriteFile(d + "/private", "p", 0600));
    C_CHECK(WriteFile(d + "/public", "q", 0644));
    C_CHECK(::chmod((d + "/private").c_str(), 0600) == 0);
    C_CHECK(::mkdir((d + "/closed").c_str(), 0700) == 0);
    C_CHECK(WriteFile(d + "/closed/f", "c", 0644));
    return 0;
  });
  BOOST_REQUIRE(rc == 0);
  rc = RunAs(kOther, kOtherGroup, [&] {
    std::string got;
    C_CHECK_ERR(::open((d + "/private").c_str(), O_RDONLY), EACCES);
    C_CHECK(ReadFile(d + "/public", &got) && got == "q");
    C_CHECK_ERR(::open((d + "/public").c_str(), O_WRONLY), EACCES);
    C_CHECK_ERR(::open((d + "/closed/f").c_str(), O_RDONLY), EACCES);
    C_CHECK_ERR(::rmdir((d + "/closed").c_str()), ENOTEMPTY);
    return 0;
  });
  BOOST_TEST(rc == 0);
}
