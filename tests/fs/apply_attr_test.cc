// apply() attributes, data, xattrs and permissions.
#define BOOST_TEST_MODULE fs_apply_attr
#include "tests/fs/fs_test_util.h"

using namespace baton::fs;
using namespace baton::fs::testing;

BOOST_AUTO_TEST_CASE(write_read_truncate) {
  Fs fs(4096);
  Ino f = fs.Mknod(kRootIno, "f").attr.ino;
  Reply w = fs.Write(f, 0, std::string(10000, 'a'));
  BOOST_TEST(w.err == 0);
  BOOST_TEST(w.offset == 10000u);
  BOOST_TEST(w.attr.size == 10000u);
  BOOST_TEST(w.attr.blocks == (10000u + 511) / 512);
  BOOST_TEST(fs.Write(f, 5000, "XYZ").err == 0);
  std::string want(10000, 'a');
  want.replace(5000, 3, "XYZ");
  BOOST_TEST(fs.Read(f, 0, 20000).data == want);  // short at EOF
  BOOST_TEST(fs.Read(f, 20000, 10).data.empty());
  Reply ap = fs.Write(f, 0, "tail", kWriteAppend);
  BOOST_TEST(ap.attr.size == 10004u);
  // truncate down into the middle of a chunk, then up: the tail reads zeros
  SetattrArgs s{.valid = kSetSize, .size = 4100};
  BOOST_TEST(fs.Setattr(f, s).attr.size == 4100u);
  s.size = 9000;
  BOOST_TEST(fs.Setattr(f, s).attr.size == 9000u);
  std::string got = fs.Read(f, 0, 9000).data;
  BOOST_REQUIRE_EQUAL(got.size(), 9000u);
  BOOST_TEST(got.substr(0, 4100) == want.substr(0, 4100));
  BOOST_TEST(got.substr(4100) == std::string(4900, '\0'));
  BOOST_TEST(fs.store().ReadState()->bytes_stored == 4100u);
  s.size = kFileSizeMaxBytes + 1;
  BOOST_TEST(fs.Setattr(f, s).err == EFBIG);
  Ino d = fs.Mkdir(kRootIno, "d").attr.ino;
  BOOST_TEST(fs.Write(d, 0, "x").err == EISDIR);
  BOOST_TEST(fs.Write(f, kFileSizeMaxBytes, "x").err == EFBIG);
}

BOOST_AUTO_TEST_CASE(sparse_write_at_5_gib) {
  Fs fs(65536);
  Ino f = fs.Mknod(kRootIno, "big").attr.ino;
  const uint64_t off = 5ull << 30;
  BOOST_TEST(fs.Write(f, off, "far away").err == 0);
  Reply a = fs.Getattr(f);
  BOOST_TEST(a.attr.size == off + 8);
  BOOST_TEST(a.attr.blocks == 1u);
  BOOST_TEST(fs.Read(f, off - 4, 12).data == std::string(4, '\0') + "far away");
  BOOST_TEST(fs.Read(f, 1ull << 30, 16).data == std::string(16, '\0'));
  Reply sd = fs.Q(Request{.op = Op::kSeekData, .ino = f, .flags = SEEK_DATA, .offset = 0});
  BOOST_TEST(sd.offset == off);
  Reply sh = fs.Q(Request{.op = Op::kSeekData, .ino = f, .flags = SEEK_HOLE, .offset = 0});
  BOOST_TEST(sh.offset == 0u);
  sh = fs.Q(Request{.op = Op::kSeekData, .ino = f, .flags = SEEK_HOLE, .offset = off});
  BOOST_TEST(sh.offset == off + 8);
  BOOST_TEST(fs.Q(Request{.op = Op::kSeekData, .ino = f, .flags = SEEK_DATA, .offset = off + 8}).err == ENXIO);
}

BOOST_AUTO_TEST_CASE(fallocate_modes) {
  Fs fs(4096);
  Ino f = fs.Mknod(kRootIno, "f").attr.ino;
  Request fa{.op = Op::kFallocate, .ino = f, .flags = 0, .offset = 0, .length = 10000};
  Reply r = fs.Do(fa).reply;
  BOOST_TEST(r.err == 0);
  BOOST_TEST(r.attr.size == 10000u);
  BOOST_TEST(fs.store().ReadState()->bytes_stored == 10000u);
  fs.Write(f, 0, std::string(10000, 'z'));
  Request punch{.op = Op::kFallocate, .ino = f, .flags = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
                .offset = 100, .length = 5000};
  r = fs.Do(punch).reply;
  BOOST_TEST(r.err == 0);
  BOOST_TEST(r.attr.size == 10000u);
  std::string want(10000, 'z');
  std::fill(want.begin() + 100, want.begin() + 5100, '\0');
  BOOST_TEST(fs.Read(f, 0, 10000).data == want);
  Request bad{.op = Op::kFallocate, .ino = f, .flags = FALLOC_FL_COLLAPSE_RANGE, .offset = 0, .length = 4096};
  BOOST_TEST(fs.Do(bad).reply.err == EOPNOTSUPP);
  fa.length = 0;
  BOOST_TEST(fs.Do(fa).reply.err == EINVAL);
}

BOOST_AUTO_TEST_CASE(setattr_permissions) {
  Fs fs;
  Ino f = fs.Mknod(kRootIno, "f", S_IFREG | 06755).attr.ino;
  SetattrArgs own{.valid = kSetUid | kSetGid, .uid = 1000, .gid = 100};
  Reply r = fs.Setattr(f, own);
  BOOST_TEST(r.err == 0);
  BOOST_TEST(r.attr.uid == 1000u);
  BOOST_TEST((r.attr.mode & (S_ISUID | S_ISGID)) == 0u);  // chown clears setuid/setgid
  Creds alice = User(1000, 100, {200});
  Creds bob = User(1001, 100);
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetMode, .mode = 0600}, bob).err == EPERM);
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetMode, .mode = 02640}, alice).attr.mode == (S_IFREG | 02640u));
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetUid, .uid = 1001}, alice).err == EPERM);
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetGid, .gid = 200}, alice).attr.gid == 200u);
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetGid, .gid = 300}, alice).err == EPERM);
  // non-group-member chmod with setgid: cleared
  Creds carol = User(1000, 500);
  BOOST_TEST((fs.Setattr(f, SetattrArgs{.valid = kSetMode, .mode = 02644}, carol).attr.mode & S_ISGID) == 0u);
  // explicit times: owner only; *_NOW: write permission is enough
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetMtime, .mtime_ns = 5}, bob).err == EPERM);
  BOOST_TEST(fs.Setattr(f, SetattrArgs{.valid = kSetMtimeNow}, bob).err == EACCES);
  fs.Setattr(f, SetattrArgs{.valid = kSetMode, .mode = 0666});
  Reply now = fs.Setattr(f, SetattrArgs{.valid = kSetMtimeNow | kSetAtimeNow}, bob);
  BOOST_TEST(now.err == 0);
  BOOST_TEST(now.attr.mtime_ns == now.attr.ctime_ns);
  Reply ex = fs.Setattr(f, SetattrArgs{.valid = kSetAtime | kSetMtime, .atime_ns = 7, .mtime_ns = 9}, alice);
  BOOST_TEST(ex.attr.atime_ns == 7);
  BOOST_TEST(ex.attr.mtime_ns == 9);
  // write by non-root clears setuid
  fs.Setattr(f, SetattrArgs{.valid = kSetMode, .mode = 04777});
  BOOST_TEST((fs.Write(f, 0, "x", 0, bob).attr.mode & S_ISUID) == 0u);
}

BOOST_AUTO_TEST_CASE(permission_denials_for_non_root) {
  Fs fs;
  Creds alice = User(1000, 100);
  Ino d = fs.Mkdir(kRootIno, "d", 0755).attr.ino;  // owned by root
  BOOST_TEST(fs.Mknod(d, "x", S_IFREG | 0644, alice).err == EACCES);
  BOOST_TEST(fs.Mkdir(d, "x", 0755, alice).err == EACCES);
  fs.Mknod(d, "f", S_IFREG | 0600);
  BOOST_TEST(fs.Unlink(d, "f", alice).reply.err == EACCES);
  BOOST_TEST(fs.Rename(d, "f", kRootIno, "g", 0, alice).err == EACCES);
  Ino closed = fs.Mkdir(kRootIno, "closed", 0700).attr.ino;
  BOOST_TEST(fs.Lookup(closed, "x", alice).err == EACCES);
  BOOST_TEST(fs.Mknod(kRootIno, "dev", S_IFCHR | 0600, alice).err == EACCES);
  Ino open = fs.Mkdir(kRootIno, "open", 0777).attr.ino;
  BOOST_TEST(fs.Mknod(open, "dev", S_IFCHR | 0600, alice).err == EPERM);
  Reply own = fs.Mknod(open, "mine", S_IFREG | 0640, alice);
  BOOST_TEST(own.attr.uid == 1000u);
  BOOST_TEST(own.attr.gid == 100u);
  Ino g = fs.Lookup(d, "f").attr.ino;
  BOOST_TEST(fs.Q(Request{.op = Op::kOpen, .creds = alice, .ino = g, .flags = O_RDONLY}).err == EACCES);
  BOOST_TEST(fs.Q(Request{.op = Op::kOpen, .creds = Root(), .ino = g, .flags = O_RDWR}).err == 0);
  BOOST_TEST(fs.Q(Request{.op = Op::kOpen, .ino = d, .flags = O_WRONLY}).err == EISDIR);
  BOOST_TEST(fs.Q(Request{.op = Op::kAccess, .creds = alice, .ino = g, .mode = R_OK}).err == EACCES);
  BOOST_TEST(fs.Q(Request{.op = Op::kAccess, .creds = alice, .ino = own.attr.ino, .mode = R_OK | W_OK}).err == 0);
  BOOST_TEST(fs.Q(Request{.op = Op::kAccess, .creds = Root(), .ino = g, .mode = X_OK}).err == EACCES);
}

BOOST_AUTO_TEST_CASE(sticky_directory) {
  Fs fs;
  Creds alice = User(1000, 100), bob = User(1001, 100);
  Ino tmp = fs.Mkdir(kRootIno, "tmp", 01777).attr.ino;
  fs.Mknod(tmp, "a", S_IFREG | 0666, alice);
  BOOST_TEST(fs.Unlink(tmp, "a", bob).reply.err == EPERM);
  BOOST_TEST(fs.Rename(tmp, "a", tmp, "b", 0, bob).err == EPERM);
  fs.Mknod(tmp, "bobs", S_IFREG | 0666, bob);
  BOOST_TEST(fs.Rename(tmp, "bobs", tmp, "a", 0, bob).err == EPERM);  // would replace alice's
  BOOST_TEST(fs.Unlink(tmp, "a", alice).reply.err == 0);
  BOOST_TEST(fs.Unlink(tmp, "bobs", Root()).reply.err == 0);
}

BOOST_AUTO_TEST_CASE(setgid_directory_inheritance) {
  Fs fs;
  Ino d = fs.Mkdir(kRootIno, "shared", 0777).attr.ino;
  fs.Setattr(d, SetattrArgs{.valid = kSetGid | kSetMode, .mode = 02777, .gid = 500});
  Creds alice = User(1000, 100);
  Reply f = fs.Mknod(d, "f", S_IFREG | 0644, alice);
  BOOST_TEST(f.attr.gid == 500u);
  Reply sub = fs.Mkdir(d, "sub", 0755, alice);
  BOOST_TEST(sub.attr.gid == 500u);
  BOOST_TEST((sub.attr.mode & S_ISGID) != 0u);
  Ino open = fs.Mkdir(kRootIno, "open", 0777).attr.ino;
  Reply plain = fs.Mknod(open, "p", S_IFREG | 0644, alice);
  BOOST_TEST(plain.attr.gid == 100u);
}

BOOST_AUTO_TEST_CASE(xattrs) {
  Fs fs;
  Ino f = fs.Mknod(kRootIno, "f", S_IFREG | 0644).attr.ino;
  auto set = [&](const std::string& n, const std::string& v, uint32_t flags, Creds c = Root()) {
    return fs.Do(Request{.op = Op::kSetxattr, .creds = c, .ino = f, .name = n, .flags = flags, .data = v}).reply.err;
  };
  auto get = [&](const std::string& n, Creds c = Root()) {
    return fs.Q(Request{.op = Op::kGetxattr, .creds = c, .ino = f, .name = n});
  };
  BOOST_TEST(set("user.a", "1", XATTR_REPLACE) == ENODATA);
  BOOST_TEST(set("user.a", "1", XATTR_CREATE) == 0);
  BOOST_TEST(set("user.a", "2", XATTR_CREATE) == EEXIST);
  BOOST_TEST(set("user.a", "3", XATTR_REPLACE) == 0);
  BOOST_TEST(get("user.a").data == "3");
  BOOST_TEST(get("user.none").err == ENODATA);
  BOOST_TEST(set("system.posix_acl_access", "x", 0) == EOPNOTSUPP);
  BOOST_TEST(set("weird.a", "x", 0) == EOPNOTSUPP);
  BOOST_TEST(set("trusted.t", "x", 0, User(1000)) == EPERM);
  BOOST_TEST(set("trusted.t", "x", 0) == 0);
  BOOST_TEST(set("security.s", "x", 0) == 0);
  BOOST_TEST(set("user.b", "x", 0, User(1000)) == EACCES);  // no write permission
  BOOST_TEST(get("user.a", User(1000)).data == "3");
  BOOST_TEST(get("trusted.t", User(1000)).err == ENODATA);
  std::string list = fs.Q(Request{.op = Op::kListxattr, .ino = f}).data;
  BOOST_TEST(list == std::string("security.s\0trusted.t\0user.a\0", 28));
  std::string ulist = fs.Q(Request{.op = Op::kListxattr, .creds = User(1000), .ino = f}).data;
  BOOST_TEST(ulist == std::string("security.s\0user.a\0", 18));
  BOOST_TEST(set("user.big", std::string(kXattrValueMaxBytes + 1, 'v'), 0) == E2BIG);
  Request rm{.op = Op::kRemovexattr, .ino = f, .name = "user.a"};
  BOOST_TEST(fs.Do(rm).reply.err == 0);
  BOOST_TEST(fs.Do(rm).reply.err == ENODATA);
}

BOOST_AUTO_TEST_CASE(statfs_reports) {
  Fs fs;
  Reply r = fs.Q(Request{.op = Op::kStatfs});
  BOOST_TEST(r.err == 0);
  BOOST_TEST(r.has_statfs);
  BOOST_TEST(r.statfs.blocks_total > 0u);
  BOOST_TEST(r.statfs.files_total - r.statfs.files_free == 1u);
}
