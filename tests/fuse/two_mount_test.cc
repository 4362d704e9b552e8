// Two mounts of one volume (two FUSE daemons, two sessions on one MDS):
// close-to-open consistency of file contents, and visibility of entries
// created, removed and renamed on the other mount, within the attribute
// timeout by default and at once with attr_timeout=0,entry_timeout=0.
#define BOOST_TEST_MODULE two_mount_test
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/fuse/mount_fixture.h"

using baton::testing::ContentDiff;
using baton::testing::FuseMount;
using baton::testing::MountedVolume;

namespace {

using Clock = std::chrono::steady_clock;

bool WriteWhole(const std::string& path, const std::string& data, int flags = O_WRONLY | O_CREAT | O_TRUNC) {
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 && done == data.size();
}

// Opens, reads to end of file, closes; nullopt (errno kept) on any failure.
std::optional<std::string> ReadWhole(const std::string& path, off_t* fstat_size = nullptr) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return std::nullopt;
  struct stat st;
  if (fstat_size != nullptr) *fstat_size = ::fstat(fd, &st) == 0 ? st.st_size : -1;
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return out;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool Listed(const std::string& dir, const std::string& name) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (struct dirent* e = ::readdir(d)) found = found || name == e->d_name;
  ::closedir(d);
  return found;
}

// Calls ok() until it is true or timeout_ms passed: elapsed ms, or -1.
long Poll(const std::function<bool()>& ok, int timeout_ms) {
  auto t0 = Clock::now();
  for (;;) {
    if (ok()) return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    if (Clock::now() - t0 > std::chrono::milliseconds(timeout_ms)) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}


// BOOST_TEST(Same(...), context) states the difference with the context.
boost::test_tools::assertion_result Same(const std::optional<std::string>& got, const std::string& want) {
  std::string d = ContentDiff(got, want);
  boost::test_tools::assertion_result r(d.empty());
  r.message() << d;
  return r;
}

uint64_t Seed() {
  uint64_t seed = baton::testing::SeedFromEnv();
  BOOST_TEST_MESSAGE("seed " << seed << " (rerun with BATON_SEED=" << seed << ")");
  return seed;
}

// One volume mounted twice: A (the fixture's mount) and B.
struct TwoMounts {
  MountedVolume vol;
  std::unique_ptr<FuseMount> b_mount;
  explicit TwoMounts(const std::string& options = "") : vol(options) {
    BOOST_REQUIRE_MESSAGE(vol.Start(), "volume, MDS and mount A must come up");
    b_mount = vol.AddMount("b", options);
    BOOST_REQUIRE_MESSAGE(b_mount != nullptr, "mount B must come up");
  }
  std::string A(const std::string& rel) const { return vol.P(rel); }
  std::string B(const std::string& rel) const { return b_mount->path() + "/" + rel; }
};

const size_t kSizes[] = {0, 1, 100, 4095, 4096, 4097, 65535, 65536, 65537, 131072 + 7, 300001, (1 << 20) + 13};

}  // namespace

BOOST_AUTO_TEST_CASE(close_to_open_many_sizes) {
  TwoMounts m;
  std::mt19937_64 rng(Seed());
  for (size_t size : kSizes) {
    std::string name = "f" + std::to_string(size), data = RandomBytes(rng, size);
    BOOST_REQUIRE(WriteWhole(m.A(name), data));
    BOOST_TEST(Same(ReadWhole(m.B(name)), data), "file of " << size << " bytes written on A, read on B");
  }
  // One file rewritten on A at every size in turn, read on B after each.
  std::vector<size_t> order(std::begin(kSizes), std::end(kSizes));
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t size : order) {
    std::string data = RandomBytes(rng, size);
    BOOST_REQUIRE(WriteWhole(m.A("same"), data));
    BOOST_TEST(Same(ReadWhole(m.B("same")), data), "'same' rewritten on A with " << size << " bytes");
    BOOST_TEST(Same(ReadWhole(m.A("same")), data), "'same' read back on A, " << size << " bytes");
  }
}

// B has read (and cached) an older version; each new version written and
// closed on A is what B's next open reads, at once, with the default timeouts.
BOOST_AUTO_TEST_CASE(close_to_open_after_b_cached_an_older_version) {
  TwoMounts m;
  std::mt19937_64 rng(Seed());
  std::string v1 = RandomBytes(rng, 100000), longer = RandomBytes(rng, 250000), shorter = RandomBytes(rng, 5000),
              same_size = RandomBytes(rng, 5000);
  BOOST_REQUIRE(WriteWhole(m.A("f"), v1));
  struct stat st;
  BOOST_REQUIRE(::stat(m.B("f").c_str(), &st) == 0);
  BOOST_TEST(st.st_size == 100000);
  BOOST_TEST(Same(ReadWhole(m.B("f")), v1));

  BOOST_REQUIRE(WriteWhole(m.A("f"), longer));
  BOOST_TEST(Same(ReadWhole(m.B("f")), longer), "overwritten on A with a longer version");
  BOOST_REQUIRE(WriteWhole(m.A("f"), shorter));
  BOOST_TEST(Same(ReadWhole(m.B("f")), shorter), "overwritten on A with a shorter version");
  BOOST_REQUIRE(WriteWhole(m.A("f"), same_size));
  BOOST_TEST(Same(ReadWhole(m.B("f")), same_size), "overwritten on A with a version of the same size");

  // In place, no truncation: the size stays, only bytes in the middle change.
  std::string patch = RandomBytes(rng, 300);
  int fd = ::open(m.A("f").c_str(), O_WRONLY);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(::pwrite(fd, patch.data(), patch.size(), 1000) == 300);
  BOOST_REQUIRE(::close(fd) == 0);
  std::string patched = same_size;
  patched.replace(1000, 300, patch);
  BOOST_TEST(Same(ReadWhole(m.B("f")), patched), "patched in place on A");
}

// A program that sizes its buffer with fstat after open (a common idiom)
// must see the new size too, not the one cached from before.
BOOST_AUTO_TEST_CASE(close_to_open_fstat_after_open_sees_new_size) {
  TwoMounts m;
  std::mt19937_64 rng(Seed());
  BOOST_REQUIRE(WriteWhole(m.A("g"), RandomBytes(rng, 70000)));
  off_t size = -2;
  BOOST_REQUIRE(ReadWhole(m.B("g"), &size));
  BOOST_TEST(size == 70000);
  for (size_t want : {size_t{140000}, size_t{3000}, size_t{0}, size_t{65537}}) {
    std::string data = RandomBytes(rng, want);
    BOOST_REQUIRE(WriteWhole(m.A("g"), data));
    auto got = ReadWhole(m.B("g"), &size);
    BOOST_TEST(size == static_cast<off_t>(want), "fstat on B right after open, A wrote " << want << " bytes");
    BOOST_TEST(Same(got, data));
  }
}

BOOST_AUTO_TEST_CASE(entries_visible_within_attr_timeout_by_default) {
  TwoMounts m;
  const int kWithin_ms = 3000;
  BOOST_REQUIRE(!Exists(m.B("new")));
  BOOST_REQUIRE(WriteWhole(m.A("new"), "content"));
  long ms = Poll([&] { return Exists(m.B("new")); }, kWithin_ms);
  BOOST_TEST(ms >= 0, "a file created on A appears on B");
  BOOST_TEST_MESSAGE("created file seen on B after " << ms << " ms");
  BOOST_TEST(Poll([&] { return Listed(m.b_mount->path(), "new"); }, kWithin_ms) >= 0, "and in B's readdir");
  BOOST_TEST(Same(ReadWhole(m.B("new")), "content"));

  BOOST_REQUIRE(::mkdir(m.A("dir").c_str(), 0755) == 0);
  BOOST_TEST(Poll([&] { return Exists(m.B("dir")); }, kWithin_ms) >= 0, "a directory made on A appears on B");

  BOOST_REQUIRE(::unlink(m.A("new").c_str()) == 0);
  ms = Poll([&] { return !Exists(m.B("new")); }, kWithin_ms);
  BOOST_TEST(ms >= 0, "a file removed on A (B had it cached) disappears on B");
  BOOST_TEST_MESSAGE("removed file gone on B after " << ms << " ms");
  BOOST_TEST(Poll([&] { return !Listed(m.b_mount->path(), "new"); }, kWithin_ms) >= 0, "and from B's readdir");

  BOOST_REQUIRE(::rmdir(m.A("dir").c_str()) == 0);
  BOOST_TEST(Poll([&] { return !Exists(m.B("dir")); }, kWithin_ms) >= 0, "a directory removed on A disappears on B");
}

// With both timeouts 0 nothing is cached: every change on A is seen by B's
// very next call, no polling.
BOOST_AUTO_TEST_CASE(entries_and_attrs_seen_at_once_with_zero_timeouts) {
  TwoMounts m("attr_timeout=0,entry_timeout=0");
  for (int i = 0; i < 20; ++i) {
    std::string name = "n" + std::to_string(i);
    BOOST_REQUIRE(!Exists(m.B(name)));
    BOOST_REQUIRE(WriteWhole(m.A(name), std::string(i * 100, 'x')));
    struct stat st;
    BOOST_TEST(::stat(m.B(name).c_str(), &st) == 0, "created on A, round " << i);
    BOOST_TEST(st.st_size == i * 100);
    BOOST_REQUIRE(WriteWhole(m.A(name), std::string(1000, 'y'), O_WRONLY | O_APPEND));
    BOOST_TEST((::stat(m.B(name).c_str(), &st) == 0 && st.st_size == i * 100 + 1000), "appended on A, round " << i);
    BOOST_REQUIRE(::chmod(m.A(name).c_str(), 0600) == 0);
    BOOST_TEST((::stat(m.B(name).c_str(), &st) == 0 && (st.st_mode & 07777) == 0600), "chmod on A, round " << i);
    BOOST_REQUIRE(::unlink(m.A(name).c_str()) == 0);
    BOOST_TEST(!Exists(m.B(name)), "removed on A, round " << i);
    BOOST_TEST(!Listed(m.b_mount->path(), name));
  }
  BOOST_REQUIRE(::mkdir(m.A("d").c_str(), 0755) == 0);
  BOOST_TEST(Exists(m.B("d")));
  BOOST_REQUIRE(::rmdir(m.A("d").c_str()) == 0);
  BOOST_TEST(!Exists(m.B("d")));
}

namespace {

// Renames on A of a file, over an existing file B had read, and of a
// directory into another; `within_ms` = 0 means B must see each at once.
void CheckRenames(const TwoMounts& m, int within_ms) {
  auto soon = [&](const std::function<bool()>& ok) { return within_ms == 0 ? ok() : Poll(ok, within_ms) >= 0; };
  BOOST_REQUIRE(WriteWhole(m.A("old"), "one"));
  BOOST_REQUIRE(Same(ReadWhole(m.B("old")), "one"));
  BOOST_REQUIRE(::rename(m.A("old").c_str(), m.A("new").c_str()) == 0);
  BOOST_TEST(soon([&] { return !Exists(m.B("old")); }), "the old name is gone on B");
  BOOST_TEST(soon([&] { return ContentDiff(ReadWhole(m.B("new")), "one").empty(); }), "the new name reads on B");

  BOOST_REQUIRE(WriteWhole(m.A("target"), "replaced"));
  BOOST_REQUIRE(Same(ReadWhole(m.B("target")), "replaced"));
  BOOST_REQUIRE(WriteWhole(m.A("tmp"), "replacement"));
  BOOST_REQUIRE(::rename(m.A("tmp").c_str(), m.A("target").c_str()) == 0);
  BOOST_TEST(soon([&] { return ContentDiff(ReadWhole(m.B("target")), "replacement").empty(); }),
             "rename over a file B had read: B reads the new one");
  BOOST_TEST(soon([&] { return !Exists(m.B("tmp")); }));

  BOOST_REQUIRE(::mkdir(m.A("d1").c_str(), 0755) == 0 && ::mkdir(m.A("d2").c_str(), 0755) == 0);
  BOOST_REQUIRE(::mkdir(m.A("d1/sub").c_str(), 0755) == 0 && WriteWhole(m.A("d1/sub/file"), "deep"));
  BOOST_REQUIRE(Same(ReadWhole(m.B("d1/sub/file")), "deep"));
  BOOST_REQUIRE(::rename(m.A("d1/sub").c_str(), m.A("d2/moved").c_str()) == 0);
  BOOST_TEST(soon([&] { return ContentDiff(ReadWhole(m.B("d2/moved/file")), "deep").empty(); }),
             "a directory moved into another on A, its file reads on B");
  BOOST_TEST(soon([&] { return !Exists(m.B("d1/sub")) && !Listed(m.B("d1"), "sub"); }));
  BOOST_TEST(soon([&] { return Listed(m.B("d2"), "moved"); }));
}

}  // namespace

BOOST_AUTO_TEST_CASE(rename_on_a_seen_on_b_default_timeouts) {
  TwoMounts m;
  CheckRenames(m, 3000);
}

BOOST_AUTO_TEST_CASE(rename_on_a_seen_on_b_at_once_with_zero_timeouts) {
  TwoMounts m("attr_timeout=0,entry_timeout=0");
  CheckRenames(m, 0);
}
