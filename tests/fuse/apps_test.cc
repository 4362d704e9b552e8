// Real programs on a real BatonFS mount: git, tar, sqlite3 and cp -a, each
// checked with the program's own verifier (git fsck, PRAGMA integrity_check)
// and with checksums or stat output compared against a local copy.
#define BOOST_TEST_MODULE apps_test
#include <boost/test/unit_test.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <set>
#include <sstream>
#include <vector>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "tests/fuse/mount_fixture.h"

using baton::testing::MountedVolume;
using baton::testing::TempDir;

namespace {

struct Cmd {
  int rc = -1;
  std::string out, err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs cmd with bash -o pipefail (a failure anywhere in a pipeline counts);
// stdout and stderr captured apart.
Cmd Sh(const std::string& cmd) {
  static TempDir scratch;
  std::string cmd_path = scratch.path() + "/cmd", err_path = scratch.path() + "/stderr";
  {
    std::ofstream(cmd_path) << cmd << "\n";
  }
  Cmd r;
  FILE* p = popen(("bash -o pipefail " + cmd_path + " 2>" + err_path).c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = Slurp(err_path);
  return r;
}

// The log of the current case's mount daemon, shown when a command fails.
std::string g_mount_log;

// Runs cmd and requires exit status 0, printing its stderr otherwise.
std::string MustSh(const std::string& cmd) {
  Cmd r = Sh(cmd);
  BOOST_REQUIRE_MESSAGE(r.rc == 0, "`" << cmd << "` exited " << r.rc << "\nstdout: " << r.out << "\nstderr: " << r.err
                                       << "\nmount daemon log:\n" << Slurp(g_mount_log));
  return r.out;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  BOOST_REQUIRE_MESSAGE(out.good(), "writing " << path);
}

// Equal multi-line texts, or the lines found on only one side (at most 20).
boost::test_tools::assertion_result SameLines(const std::string& got, const std::string& want) {
  auto lines = [](const std::string& s) {
    std::multiset<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.insert(l);
    return out;
  };
  boost::test_tools::assertion_result r(got == want);
  if (got == want) return r;
  auto g = lines(got), w = lines(want);
  std::vector<std::string> extra, missing;
  std::set_difference(g.begin(), g.end(), w.begin(), w.end(), std::back_inserter(extra));
  std::set_difference(w.begin(), w.end(), g.begin(), g.end(), std::back_inserter(missing));
  r.message() << extra.size() << " unexpected lines, " << missing.size() << " missing lines";
  for (size_t i = 0; i < extra.size() && i < 20; ++i) r.message() << "\n  + " << extra[i];
  for (size_t i = 0; i < missing.size() && i < 20; ++i) r.message() << "\n  - " << missing[i];
  return r;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

uint64_t Seed() {
  uint64_t seed = baton::testing::SeedFromEnv();
  BOOST_TEST_MESSAGE("seed " << seed << " (rerun with BATON_SEED=" << seed << ")");
  return seed;
}

// A mounted fresh volume; fails the test case if any step fails.
struct Mounted {
  MountedVolume vol;
  Mounted() {
    BOOST_REQUIRE_MESSAGE(vol.Start(), "volume, MDS and mount must come up");
    g_mount_log = vol.mount().log_path();
  }
};

}  // namespace

// ---- git ------------------------------------------------------------------

namespace {

// git with no user or system configuration and a fixed identity.
std::string Git(const std::string& repo, const std::string& args) {
  return "env HOME=/nonexistent GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git -C " + repo +
         " -c user.name=Baton -c user.email=baton@example.com " + args;
}

}  // namespace

BOOST_AUTO_TEST_CASE(git_two_commits_fsck_clean) {
  Mounted m;
  std::string repo = m.vol.P("repo");
  MustSh("git init -q " + repo);
  MustSh("mkdir -p " + repo + "/src/lib");
  WriteFile(repo + "/README", "first version\n");
  WriteFile(repo + "/src/main.c", "int main(void) { return 0; }\n");
  WriteFile(repo + "/src/lib/big.bin", std::string(200000, 'x') + "end\n");
  MustSh(Git(repo, "add -A"));
  MustSh(Git(repo, "commit -q -m first"));

  WriteFile(repo + "/README", "second version, longer than the first\n");
  MustSh("rm " + repo + "/src/main.c");
  WriteFile(repo + "/src/new.txt", "added in the second commit\n");
  MustSh(Git(repo, "add -A"));
  MustSh(Git(repo, "commit -q -m second"));

  BOOST_TEST(MustSh(Git(repo, "log --format=%s")) == "second\nfirst\n");
  BOOST_TEST(MustSh(Git(repo, "status --porcelain")) == "");
  BOOST_TEST(MustSh(Git(repo, "show HEAD~1:README")) == "first version\n");
  BOOST_TEST(MustSh(Git(repo, "show HEAD~1:src/main.c")) == "int main(void) { return 0; }\n");
  BOOST_TEST(MustSh(Git(repo, "diff --name-status HEAD~1 HEAD")) == "M\tREADME\nD\tsrc/main.c\nA\tsrc/new.txt\n");
  Cmd fsck = Sh(Git(repo, "fsck --full --strict"));
  BOOST_TEST(fsck.rc == 0, "git fsck --full: " << fsck.out << fsck.err);

  // Packing rewrites everything through mmap'd pack and index files.
  MustSh(Git(repo, "gc -q --prune=now"));
  fsck = Sh(Git(repo, "fsck --full --strict"));
  BOOST_TEST(fsck.rc == 0, "git fsck --full after gc: " << fsck.out << fsck.err);
  BOOST_TEST(MustSh(Git(repo, "log --format=%s")) == "second\nfirst\n");
  BOOST_TEST(MustSh(Git(repo, "count-objects -v")).find("count: 0\n") != std::string::npos);
}

// ---- tar ------------------------------------------------------------------

namespace {

// A seeded tree under root: nested directories, files of very varied sizes
// and modes, empty files, an empty directory and relative symlinks.
int MakeTree(const std::string& root, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> dirs = {root};
  for (int i = 0; i < 24; ++i) {
    std::string d = dirs[rng() % dirs.size()] + "/d" + std::to_string(i);
    BOOST_REQUIRE(::mkdir(d.c_str(), 0755) == 0);
    dirs.push_back(d);
  }
  BOOST_REQUIRE(::mkdir((root + "/empty_dir").c_str(), 0700) == 0);
  const mode_t modes[] = {0644, 0600, 0755, 0444, 0640};
  int files = 200;  // a few hundred MDS records per second: keep the case well under a minute
  for (int i = 0; i < files; ++i) {
    size_t size;
    int kind = rng() % 100;
    if (kind < 5) size = 0;
    else if (kind < 45) size = rng() % 1024;
    else if (kind < 85) size = 1024 + rng() % (16 << 10);
    else if (kind < 97) size = (16 << 10) + rng() % (128 << 10);
    else size = (128 << 10) + rng() % (512 << 10);
    std::string data(size, '\0');
    bool compressible = rng() % 2;
    for (size_t j = 0; j < size; ++j) data[j] = compressible ? "abc\n"[rng() % 4] : static_cast<char>(rng());
    std::string path = dirs[rng() % dirs.size()] + "/f" + std::to_string(i) + ".dat";
    WriteFile(path, data);
    BOOST_REQUIRE(::chmod(path.c_str(), modes[rng() % 5]) == 0);
  }
  BOOST_REQUIRE(::symlink("d0", (root + "/link_to_dir").c_str()) == 0);
  BOOST_REQUIRE(::symlink("no/such/target", (root + "/dangling").c_str()) == 0);
  return files;
}

// Type, path, mode, size (files) and link target of everything under dir.
std::string Listing(const std::string& dir) {
  return MustSh("cd " + dir + " && find . -mindepth 1 \\( -type f -printf '%y %P %m %s\\n' \\) -o -printf '%y %P %m %l\\n'"
                " | LC_ALL=C sort");
}

std::string Checksums(const std::string& dir) {
  return MustSh("cd " + dir + " && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum");
}

}  // namespace

BOOST_AUTO_TEST_CASE(tar_tree_in_and_out_same_checksums) {
  Mounted m;
  TempDir local;
  std::string src = local.path() + "/src", back = local.path() + "/back", in = m.vol.P("tree");
  BOOST_REQUIRE(::mkdir(src.c_str(), 0755) == 0 && ::mkdir(back.c_str(), 0755) == 0);
  int files = MakeTree(src, Seed());
  BOOST_TEST_MESSAGE("data: " << MustSh("du -sh --apparent-size " + src));

  auto t0 = std::chrono::steady_clock::now();
  MustSh("mkdir " + in + " && tar -C " + src + " -cf - . | tar -C " + in + " -xpf -");
  double in_s = SecondsSince(t0);
  t0 = std::chrono::steady_clock::now();
  MustSh("tar -C " + in + " -cf - . | tar -C " + back + " -xpf -");
  BOOST_TEST_MESSAGE("tar into the mount " << in_s << " s, out of it " << SecondsSince(t0) << " s");

  std::string want = Checksums(src);
  BOOST_TEST(std::count(want.begin(), want.end(), '\n') == files);
  BOOST_TEST(SameLines(Checksums(in), want), "checksums in the mount");
  BOOST_TEST(SameLines(Checksums(back), want), "checksums of the tree copied back out");
  std::string listing = Listing(src);
  BOOST_TEST(SameLines(Listing(in), listing), "types, modes, sizes and link targets in the mount");
  BOOST_TEST(SameLines(Listing(back), listing), "and in the tree copied back out");
}

// ---- sqlite3 --------------------------------------------------------------

// One sqlite3 process runs `txns` transactions of one INSERT each, each
// committed durably (synchronous=FULL), then PRAGMA integrity_check and the
// row count and sums are checked.
void RunSqlite(const std::string& db, const std::string& script_dir, const std::string& journal_mode, int txns) {
  std::string script = script_dir + "/load-" + journal_mode + ".sql";
  {
    std::ofstream s(script);
    s << "PRAGMA journal_mode=" << journal_mode << ";\nPRAGMA synchronous=FULL;\n"
      << "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, v TEXT);\n";
    for (int i = 1; i <= txns; ++i)
      s << "BEGIN; INSERT INTO t(n, v) VALUES(" << i << ", printf('%0*d', " << (i % 97) + 1 << ", " << i
        << ")); COMMIT;\n";
    BOOST_REQUIRE(s.good());
  }
  auto t0 = std::chrono::steady_clock::now();
  std::string mode = MustSh("sqlite3 -bail " + db + " < " + script);
  double load_s = SecondsSince(t0);
  BOOST_TEST_MESSAGE(txns << " sqlite transactions (journal_mode " << mode.substr(0, mode.size() - 1) << ") in "
                          << load_s << " s, " << txns / load_s << " per second");
  BOOST_TEST(mode == journal_mode + "\n");
  std::string expect_sum = std::to_string(static_cast<int64_t>(txns) * (txns + 1) / 2);
  BOOST_TEST(MustSh("sqlite3 " + db + " 'PRAGMA integrity_check; SELECT count(*), sum(n), max(id) FROM t;'") ==
             "ok\n" + std::to_string(txns) + "|" + expect_sum + "|" + std::to_string(txns) + "\n");
  BOOST_TEST(MustSh("sqlite3 " + db + " \"SELECT count(*) FROM t WHERE CAST(v AS INTEGER) != n\"") == "0\n");
}

// The 10,000 transactions, in WAL mode: each commit appends to the
// WAL and fsyncs it (the -shm index is a shared mmap of a file on the mount).
// BATON_SQLITE_TXNS changes the count.
BOOST_AUTO_TEST_CASE(sqlite_wal_10000_transactions_integrity_ok) {
  Mounted m;
  TempDir local;
  RunSqlite(m.vol.P("wal.db"), local.path(), "wal",
            static_cast<int>(baton::testing::EnvU64("BATON_SQLITE_TXNS", 10000)));
}

// The default rollback journal: each commit creates, writes, fsyncs and
// deletes the journal and writes and fsyncs the database (about 15 MDS
// records), so it runs fewer (BATON_SQLITE_ROLLBACK_TXNS, default 300).
BOOST_AUTO_TEST_CASE(sqlite_rollback_journal_transactions_integrity_ok) {
  Mounted m;
  TempDir local;
  const std::string db = m.vol.P("test.db");
  RunSqlite(db, local.path(), "delete", static_cast<int>(baton::testing::EnvU64("BATON_SQLITE_ROLLBACK_TXNS", 300)));
  // No hot journal left behind: every transaction was committed and its journal deleted.
  BOOST_TEST(::access((db + "-journal").c_str(), F_OK) != 0);
}

// ---- cp -a ----------------------------------------------------------------

namespace {

// Modes, owners, nanosecond times, xattrs, a hard-linked pair and a symlink.
void MakeAttrTree(const std::string& src) {
  MustSh("mkdir -p " + src + "/sub/deeper && cd " + src +
         " && printf 'alpha\\n' > a.txt && printf '#!/bin/sh\\necho hi\\n' > run.sh"
         " && head -c 100000 /dev/urandom > sub/blob && printf 'linked\\n' > sub/hl && ln sub/hl pair"
         " && printf 'owned\\n' > owned && chown 1234:5678 owned && printf 'ro\\n' > sub/deeper/ro"
         " && ln -s a.txt sym"
         " && chmod 0640 a.txt && chmod 4755 run.sh && chmod 0400 sub/deeper/ro && chmod 0600 sub/hl"
         " && chmod 0750 sub && chmod 2775 sub/deeper"
         " && setfattr -n user.color -v blue a.txt && setfattr -n user.empty owned"
         " && setfattr -n user.bin -v 0x00ff10ee00 sub/blob && setfattr -n user.dir -v yes sub"
         " && setfattr -n user.long -v $(head -c 3000 /dev/zero | tr '\\0' z) sub/hl"
         " && touch -h -d '2001-02-03 04:05:06.123456789 +0000' a.txt sym"
         " && touch -d '1999-12-31 23:59:59.5 +0000' run.sh sub/blob pair owned"
         " && touch -d '2010-06-07 08:09:10.000000001 +0000' sub/deeper/ro sub/deeper"
         " && touch -d '2020-01-01 00:00:00 +0000' sub . ");
}

// One line per entry: path, type, mode, owner, size, nlink (not for
// directories), mtime to the nanosecond, symlink target.
std::string AttrListing(const std::string& dir) {
  return MustSh("cd " + dir + " && TZ=UTC0 find . \\( -type d -printf '%p %y %m %U:%G - %TY-%Tm-%Td %TT\\n' \\)"
                " -o -printf '%p %y %m %U:%G %s %n %TY-%Tm-%Td %TT %l\\n' | LC_ALL=C sort");
}

std::string Xattrs(const std::string& dir) {
  return MustSh("cd " + dir + " && find . -print0 | LC_ALL=C sort -z | xargs -0 getfattr -h -d -m '^user\\.' -e hex");
}

void CheckCopy(const std::string& src, const std::string& copy) {
  BOOST_TEST(SameLines(AttrListing(copy), AttrListing(src)), "attributes in " << copy);
  BOOST_TEST(SameLines(Xattrs(copy), Xattrs(src)), "xattrs in " << copy);
  BOOST_TEST(MustSh("sha256sum " + copy + "/sub/blob | cut -d' ' -f1") ==
             MustSh("sha256sum " + src + "/sub/blob | cut -d' ' -f1"));
  std::string ino = MustSh("stat -c %i " + copy + "/sub/hl " + copy + "/pair " + copy + "/a.txt");
  size_t nl1 = ino.find('\n'), nl2 = ino.find('\n', nl1 + 1);
  std::string hl = ino.substr(0, nl1), pair = ino.substr(nl1 + 1, nl2 - nl1 - 1), other = ino.substr(nl2 + 1);
  BOOST_TEST(hl == pair, "the hard-linked pair shares one inode in " << copy);
  BOOST_TEST(hl + "\n" != other);
  BOOST_TEST(MustSh("stat -c '%h %a %y' " + copy + "/pair") == "2 600 " + MustSh("stat -c %y " + src + "/pair"));
}

}  // namespace

BOOST_AUTO_TEST_CASE(cp_a_keeps_modes_times_xattrs_hardlinks) {
  Mounted m;
  TempDir local;
  std::string src = local.path() + "/src";
  MakeAttrTree(src);
  // The source itself must carry what we check, or the comparison proves nothing.
  std::string listing = AttrListing(src);
  BOOST_TEST_MESSAGE("source tree:\n" << listing);
  BOOST_REQUIRE(listing.find("./a.txt f 640 0:0 6 1 2001-02-03 04:05:06.1234567890") != std::string::npos);
  BOOST_REQUIRE(listing.find("./owned f 644 1234:5678") != std::string::npos);
  BOOST_REQUIRE(listing.find(" 2 1999-12-31 23:59:59.5000000000") != std::string::npos);
  BOOST_REQUIRE(Xattrs(src).find("user.color=0x626c7565") != std::string::npos);

  // Local disk -> mount, mount -> mount, mount -> local disk.
  MustSh("cp -a " + src + " " + m.vol.P("copy"));
  CheckCopy(src, m.vol.P("copy"));
  MustSh("cp -a " + m.vol.P("copy") + " " + m.vol.P("copy2"));
  CheckCopy(src, m.vol.P("copy2"));
  MustSh("cp -a " + m.vol.P("copy2") + " " + local.path() + "/back");
  CheckCopy(src, local.path() + "/back");
}
