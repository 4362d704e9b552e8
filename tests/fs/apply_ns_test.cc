// apply() namespace operations: create, link, unlink, rmdir, rename, orphans.
#define BOOST_TEST_MODULE fs_apply_namespace
#include "tests/fs/fs_test_util.h"

using namespace baton::fs;
using namespace baton::fs::testing;

BOOST_AUTO_TEST_CASE(create_lookup_and_errors) {
  Fs fs;
  Reply f = fs.Mknod(kRootIno, "f", S_IFREG | 0666);
  BOOST_TEST(f.err == 0);
  BOOST_TEST(f.attr.ino == 2u);
  BOOST_TEST(f.attr.nlink == 1u);
  BOOST_TEST(fs.Lookup(kRootIno, "f").attr.ino == 2u);
  BOOST_TEST(fs.Mknod(kRootIno, "f").err == EEXIST);
  BOOST_TEST(fs.Mknod(kRootIno, std::string(256, 'x')).err == ENAMETOOLONG);
  BOOST_TEST(fs.Mknod(2, "under-file").err == ENOTDIR);
  BOOST_TEST(fs.Mknod(999, "x").err == ENOENT);
  BOOST_TEST(fs.Lookup(kRootIno, "nope").err == ENOENT);
  Reply d = fs.Mkdir(kRootIno, "d", 0777);
  BOOST_TEST(d.err == 0);
  BOOST_TEST(d.attr.nlink == 2u);
  BOOST_TEST(fs.Getattr(kRootIno).attr.nlink == 3u);
  BOOST_TEST(fs.Lookup(d.attr.ino, "..").attr.ino == kRootIno);
  // umask applies.
  Request r{.op = Op::kMkdir, .parent = kRootIno, .name = "um", .mode = 0777, .umask = 022};
  BOOST_TEST(fs.Do(r).reply.attr.mode == (S_IFDIR | 0755u));
  // symlink + readlink
  Request s{.op = Op::kSymlink, .parent = kRootIno, .name = "ln", .data = "/some/where"};
  Reply sl = fs.Do(s).reply;
  BOOST_TEST(sl.err == 0);
  BOOST_TEST(S_ISLNK(sl.attr.mode));
  BOOST_TEST(sl.attr.size == 11u);
  BOOST_TEST(fs.Q(Request{.op = Op::kReadlink, .ino = sl.attr.ino}).data == "/some/where");
  BOOST_TEST(fs.Q(Request{.op = Op::kReadlink, .ino = 2}).err == EINVAL);
}

BOOST_AUTO_TEST_CASE(hard_links_unlink_orphan_reclaim) {
  Fs fs;
  Ino f = fs.Mknod(kRootIno, "f").attr.ino;
  BOOST_TEST(fs.Write(f, 0, "hello").err == 0);
  Reply l = fs.Do(Request{.op = Op::kLink, .ino = f, .new_parent = kRootIno, .new_name = "g"}).reply;
  BOOST_TEST(l.err == 0);
  BOOST_TEST(l.attr.nlink == 2u);
  Ino d = fs.Mkdir(kRootIno, "d").attr.ino;
  BOOST_TEST(fs.Do(Request{.op = Op::kLink, .ino = d, .new_parent = kRootIno, .new_name = "dl"}).reply.err == EPERM);
  BOOST_TEST(fs.Do(Request{.op = Op::kLink, .ino = f, .new_parent = kRootIno, .new_name = "g"}).reply.err == EEXIST);
  ApplyResult u = fs.Unlink(kRootIno, "f");
  BOOST_TEST(u.reply.err == 0);
  BOOST_TEST(u.orphaned.empty());
  BOOST_TEST(fs.Getattr(f).attr.nlink == 1u);
  u = fs.Unlink(kRootIno, "g");
  BOOST_TEST(u.reply.err == 0);
  BOOST_REQUIRE_EQUAL(u.orphaned.size(), 1u);
  BOOST_TEST(u.orphaned[0] == f);
  BOOST_TEST(fs.Lookup(kRootIno, "g").err == ENOENT);
  BOOST_TEST(fs.Getattr(f).attr.nlink == 0u);
  BOOST_TEST(fs.Read(f, 0, 100).data == "hello");  // still readable by ino
  auto orphans = ListOrphans(fs.store());
  BOOST_REQUIRE(orphans.ok());
  BOOST_TEST(orphans->size() == 1u);
  // link of an orphan is refused
  BOOST_TEST(fs.Do(Request{.op = Op::kLink, .ino = f, .new_parent = kRootIno, .new_name = "back"}).reply.err == ENOENT);
  StoreState before = fs.store().ReadState().value();
  BOOST_TEST(fs.Do(Request{.op = Op::kReclaim, .ino = f}, 0).reply.err == 0);
  BOOST_TEST(fs.Getattr(f).err == ENOENT);
  BOOST_TEST(ListOrphans(fs.store())->empty());
  StoreState after = fs.store().ReadState().value();
  BOOST_TEST(after.inode_count == before.inode_count - 1);
  BOOST_TEST(after.bytes_stored == 0u);
  // reclaim of a linked inode is a no-op
  BOOST_TEST(fs.Do(Request{.op = Op::kReclaim, .ino = d}, 0).reply.err == 0);
  BOOST_TEST(fs.Getattr(d).err == 0);
}

// Each change of a directory's entries answers with the directory as it left
// it (the FUSE client answers the kernel's next GETATTR of it from that); a
// failed one, and every other op, with none.
BOOST_AUTO_TEST_CASE(entry_changes_answer_with_the_parent_attr) {
  Fs fs;
  Ino d = fs.Mkdir(kRootIno, "d").attr.ino;
  auto same_as_stored = [&](const Reply& r, Ino parent) {
    Attr now = fs.Getattr(parent).attr;
    return r.err == 0 && r.parent_attr.ino == parent && r.parent_attr.nlink == now.nlink &&
           r.parent_attr.mtime_ns == now.mtime_ns && r.parent_attr.ctime_ns == now.ctime_ns &&
           r.parent_attr.size == now.size && r.parent_attr.mode == now.mode;
  };
  Reply f = fs.Mknod(d, "f");
  BOOST_TEST(same_as_stored(f, d));
  Reply sub = fs.Mkdir(d, "sub");
  BOOST_TEST(same_as_stored(sub, d));
  BOOST_TEST(sub.parent_attr.nlink == 3u);  // the new subdirectory's ".."
  BOOST_TEST(same_as_stored(fs.Do(Request{.op = Op::kSymlink, .parent = d, .name = "s", .data = "f"}).reply, d));
  BOOST_TEST(same_as_stored(
      fs.Do(Request{.op = Op::kLink, .ino = f.attr.ino, .new_parent = kRootIno, .new_name = "g"}).reply, kRootIno));
  BOOST_TEST(same_as_stored(fs.Unlink(d, "f").reply, d));
  BOOST_TEST(same_as_stored(fs.Do(Request{.op = Op::kRmdir, .parent = d, .name = "sub"}).reply, d));
  BOOST_TEST(fs.Mknod(d, "s").parent_attr.ino == 0u);  // EEXIST
  BOOST_TEST(fs.Write(f.attr.ino, 0, "x").parent_attr.ino == 0u);
  BOOST_TEST(fs.Getattr(d).parent_attr.ino == 0u);
}

BOOST_AUTO_TEST_CASE(unlink_rmdir_rules) {
  Fs fs;
  Ino d = fs.Mkdir(kRootIno, "d").attr.ino;
  fs.Mknod(d, "f");
  BOOST_TEST(fs.Unlink(kRootIno, "d").reply.err == EISDIR);
  Request rm{.op = Op::kRmdir, .parent = kRootIno, .name = "d"};
  BOOST_TEST(fs.Do(rm).reply.err == ENOTEMPTY);
  BOOST_TEST(fs.Do(Request{.op = Op::kRmdir, .parent = d, .name = "f"}).reply.err == ENOTDIR);
  BOOST_TEST(fs.Do(Request{.op = Op::kRmdir, .parent = d, .name = "."}).reply.err == EINVAL);
  BOOST_TEST(fs.Unlink(d, "f").reply.err == 0);
  BOOST_TEST(fs.Do(rm).reply.err == 0);
  BOOST_TEST(fs.Getattr(d).err == ENOENT);  // deleted at once
  BOOST_TEST(fs.Getattr(kRootIno).attr.nlink == 2u);
  BOOST_TEST(fs.Unlink(kRootIno, "d").reply.err == ENOENT);
}

BOOST_AUTO_TEST_CASE(rename_over_file_and_empty_dir) {
  Fs fs;
  Ino a = fs.Mknod(kRootIno, "a").attr.ino;
  Ino b = fs.Mknod(kRootIno, "b").attr.ino;
  Reply r = fs.Rename(kRootIno, "a", kRootIno, "b");
  BOOST_TEST(r.err == 0);
  BOOST_TEST(fs.Lookup(kRootIno, "b").attr.ino == a);
  BOOST_TEST(fs.Lookup(kRootIno, "a").err == ENOENT);
  BOOST_TEST(fs.Getattr(b).attr.nlink == 0u);  // victim orphaned
  BOOST_TEST(ListOrphans(fs.store())->size() == 1u);

  Ino d1 = fs.Mkdir(kRootIno, "d1").attr.ino;
  Ino d2 = fs.Mkdir(kRootIno, "d2").attr.ino;
  BOOST_TEST(fs.Getattr(kRootIno).attr.nlink == 4u);
  BOOST_TEST(fs.Rename(kRootIno, "b", kRootIno, "d2").err == EISDIR);
  BOOST_TEST(fs.Rename(kRootIno, "d1", kRootIno, "b").err == ENOTDIR);
  BOOST_TEST(fs.Rename(kRootIno, "d1", kRootIno, "d2").err == 0);
  BOOST_TEST(fs.Lookup(kRootIno, "d2").attr.ino == d1);
  BOOST_TEST(fs.Getattr(d2).err == ENOENT);  // empty dir replaced: deleted
  BOOST_TEST(fs.Getattr(kRootIno).attr.nlink == 3u);
  Ino d3 = fs.Mkdir(kRootIno, "d3").attr.ino;
  fs.Mknod(d3, "x");
  BOOST_TEST(fs.Rename(kRootIno, "d2", kRootIno, "d3").err == ENOTEMPTY);
  // same inode: no-op
  fs.Do(Request{.op = Op::kLink, .ino = a, .new_parent = kRootIno, .new_name = "a2"});
  BOOST_TEST(fs.Rename(kRootIno, "b", kRootIno, "a2").err == 0);
  BOOST_TEST(fs.Lookup(kRootIno, "b").attr.ino == a);
  BOOST_TEST(fs.Lookup(kRootIno, "a2").attr.ino == a);
}

BOOST_AUTO_TEST_CASE(rename_directory_moves_dotdot_and_refuses_own_subtree) {
  Fs fs;
  Ino a = fs.Mkdir(kRootIno, "a").attr.ino;
  Ino b = fs.Mkdir(a, "b").attr.ino;
  Ino c = fs.Mkdir(b, "c").attr.ino;
  BOOST_TEST(fs.Rename(kRootIno, "a", c, "a").err == EINVAL);
  BOOST_TEST(fs.Rename(kRootIno, "a", a, "x").err == EINVAL);
  BOOST_TEST(fs.Rename(a, "b", b, "x").err == EINVAL);
  BOOST_TEST(fs.Rename(b, "c", kRootIno, "c").err == 0);
  BOOST_TEST(fs.Lookup(c, "..").attr.ino == kRootIno);
  BOOST_TEST(fs.Getattr(b).attr.nlink == 2u);
  BOOST_TEST(fs.Getattr(kRootIno).attr.nlink == 4u);
  // now c is outside a: moving a into c is fine
  BOOST_TEST(fs.Rename(kRootIno, "a", c, "a").err == 0);
  BOOST_TEST(fs.Lookup(a, "..").attr.ino == c);
  BOOST_TEST(fs.Getattr(c).attr.nlink == 3u);
  BOOST_TEST(fs.Getattr(kRootIno).attr.nlink == 3u);
}

BOOST_AUTO_TEST_CASE(rename_noreplace_and_exchange) {
  Fs fs;
  Ino a = fs.Mknod(kRootIno, "a").attr.ino;
  Ino b = fs.Mknod(kRootIno, "b").attr.ino;
  Ino d = fs.Mkdir(kRootIno, "d").attr.ino;
  BOOST_TEST(fs.Rename(kRootIno, "a", kRootIno, "b", RENAME_NOREPLACE).err == EEXIST);
  BOOST_TEST(fs.Rename(kRootIno, "a", kRootIno, "zz", RENAME_EXCHANGE).err == ENOENT);
  BOOST_TEST(fs.Rename(kRootIno, "a", kRootIno, "b", RENAME_EXCHANGE | RENAME_NOREPLACE).err == EINVAL);
  BOOST_TEST(fs.Rename(kRootIno, "a", kRootIno, "b", RENAME_EXCHANGE).err == 0);
  BOOST_TEST(fs.Lookup(kRootIno, "a").attr.ino == b);
  BOOST_TEST(fs.Lookup(kRootIno, "b").attr.ino == a);
  // exchange a dir in root with a file in d: '..' and nlinks follow
  Ino f = fs.Mknod(d, "f").attr.ino;
  Ino e = fs.Mkdir(kRootIno, "e").attr.ino;
  BOOST_TEST(fs.Rename(kRootIno, "e", d, "f", RENAME_EXCHANGE).err == 0);
  BOOST_TEST(fs.Lookup(d, "f").attr.ino == e);
  BOOST_TEST(fs.Lookup(kRootIno, "e").attr.ino == f);
  BOOST_TEST(fs.Lookup(e, "..").attr.ino == d);
  BOOST_TEST(fs.Getattr(d).attr.nlink == 3u);
  BOOST_TEST(fs.Getattr(kRootIno).attr.nlink == 3u);
  BOOST_TEST(fs.Rename(kRootIno, "a", kRootIno, "new", RENAME_NOREPLACE).err == 0);
}

BOOST_AUTO_TEST_CASE(readdir_cookies_are_stable) {
  Fs fs;
  for (int i = 0; i < 10; i++) fs.Mknod(kRootIno, "f" + std::to_string(i));
  Reply first = fs.Q(Request{.op = Op::kReaddir, .ino = kRootIno, .length = 4});
  BOOST_REQUIRE_EQUAL(first.entries.size(), 4u);
  BOOST_TEST(first.entries[0].name == "f0");
  BOOST_TEST(first.entries[0].attr.ino == first.entries[0].ino);
  // remove an entry already returned and one not yet returned, add one
  fs.Unlink(kRootIno, "f1");
  fs.Unlink(kRootIno, "f6");
  fs.Mknod(kRootIno, "new");
  Reply rest = fs.Q(Request{.op = Op::kReaddir, .ino = kRootIno, .offset = first.entries.back().cookie});
  std::vector<std::string> names;
  for (auto& e : rest.entries) names.push_back(e.name);
  std::vector<std::string> want{"f4", "f5", "f7", "f8", "f9", "new"};
  BOOST_TEST(names == want, boost::test_tools::per_element());
  BOOST_TEST(fs.Q(Request{.op = Op::kReaddir, .ino = 2}).err == ENOTDIR);
}
