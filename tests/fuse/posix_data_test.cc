// File data through a real FUSE mount: open flags, read/write, append, sync
// calls, truncate, fallocate, SEEK_DATA/SEEK_HOLE, a sparse file past 4 GiB,
// a 64 MiB file of random writes checked against a model, open-unlinked
// files, and the timestamps each operation must change.
#define BOOST_TEST_MODULE posix_data_test
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/fuse/posix_test_util.h"

using namespace baton::testing;

BOOST_TEST_GLOBAL_FIXTURE(PosixGlobalFixture);

namespace {

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

std::string PreadAll(int fd, off_t off, size_t n) {
  std::string s(n, '\0');
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, s.data() + done, n - done, off + static_cast<off_t>(done));
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  s.resize(done);
  return s;
}

bool PwriteAll(int fd, const char* p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, off);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return true;
}

void Tick() { std::this_thread::sleep_for(std::chrono::milliseconds(15)); }

}  // namespace

BOOST_AUTO_TEST_CASE(open_flags_and_errors) {
  std::string d = FreshDir("open");
  std::string f = d + "/f";
  BOOST_REQUIRE(WriteFile(f, "0123456789"));
  BOOST_TEST(ERR(::open(f.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644)) == EEXIST);
  BOOST_TEST(ERR(::open((d + "/missing").c_str(), O_RDONLY)) == ENOENT);
  BOOST_TEST(ERR(::open(f.c_str(), O_RDONLY | O_DIRECTORY)) == ENOTDIR);
  BOOST_TEST(ERR(::open(d.c_str(), O_WRONLY)) == EISDIR);
  BOOST_TEST(ERR(::open(d.c_str(), O_RDWR)) == EISDIR);
  // O_TRUNC empties the file.
  int fd = ::open(f.c_str(), O_WRONLY | O_TRUNC);
  BOOST_REQUIRE(fd >= 0);
  struct stat st;
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(st.st_size == 0);
  ::close(fd);
  BOOST_TEST(StatOrZero(f).st_size == 0);
  // A read-only descriptor cannot write, a write-only one cannot read.
  BOOST_REQUIRE(WriteFile(f, "abc"));
  fd = ::open(f.c_str(), O_RDONLY);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(ERR(::write(fd, "x", 1)) == EBADF);
  ::close(fd);
  fd = ::open(f.c_str(), O_WRONLY);
  BOOST_REQUIRE(fd >= 0);
  char c;
  BOOST_TEST(ERR(::read(fd, &c, 1)) == EBADF);
  ::close(fd);
  // O_CREAT modes go through the umask.
  mode_t old = ::umask(022);
  fd = ::open((d + "/m644").c_str(), O_CREAT | O_WRONLY, 0666);
  BOOST_TEST(fd >= 0);
  ::close(fd);
  ::umask(077);
  fd = ::open((d + "/m600").c_str(), O_CREAT | O_WRONLY, 0666);
  BOOST_TEST(fd >= 0);
  ::close(fd);
  ::umask(027);
  BOOST_TEST(::mkdir((d + "/d750").c_str(), 0777) == 0);
  ::umask(0);
  fd = ::open((d + "/m777").c_str(), O_CREAT | O_WRONLY, 0777);
  BOOST_TEST(fd >= 0);
  ::close(fd);
  ::umask(old);
  BOOST_TEST((StatOrZero(d + "/m644").st_mode & 07777) == 0644u);
  BOOST_TEST((StatOrZero(d + "/m600").st_mode & 07777) == 0600u);
  BOOST_TEST((StatOrZero(d + "/d750").st_mode & 07777) == 0750u);
  BOOST_TEST((StatOrZero(d + "/m777").st_mode & 07777) == 0777u);
  // create(2) on a read-only mode still hands back a writable descriptor.
  fd = ::open((d + "/ro").c_str(), O_CREAT | O_RDWR, 0444);
  BOOST_TEST(fd >= 0);
  BOOST_TEST(::write(fd, "ok", 2) == 2);
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(read_write_across_chunks) {
  std::string d = FreshDir("rw");
  int fd = ::open((d + "/f").c_str(), O_CREAT | O_RDWR, 0644);
  BOOST_REQUIRE(fd >= 0);
  std::string a = Pattern(200000, 1);
  BOOST_TEST(PwriteAll(fd, a.data(), a.size(), 0));
  std::string b = Pattern(70001, 2);
  BOOST_TEST(PwriteAll(fd, b.data(), b.size(), 65535));  // crosses chunk boundaries unaligned
  a.replace(65535, b.size(), b);
  BOOST_TEST(PreadAll(fd, 0, 300000) == a);  // short at EOF
  BOOST_TEST(PreadAll(fd, 65530, 20) == a.substr(65530, 20));
  char buf[16];
  BOOST_TEST(::pread(fd, buf, sizeof buf, 200000) == 0);  // at EOF
  BOOST_TEST(::pread(fd, buf, sizeof buf, 1 << 30) == 0);  // far past EOF
  // Sequential write/read with the file offset.
  BOOST_TEST(::lseek(fd, 0, SEEK_SET) == 0);
  BOOST_TEST(::write(fd, "head", 4) == 4);
  BOOST_TEST(::lseek(fd, 0, SEEK_CUR) == 4);
  BOOST_TEST(::read(fd, buf, 4) == 4);
  BOOST_TEST(std::string(buf, 4) == a.substr(4, 4));
  BOOST_TEST(::lseek(fd, 0, SEEK_END) == 200000);
  ::close(fd);
  BOOST_TEST(StatOrZero(d + "/f").st_size == 200000);
}

BOOST_AUTO_TEST_CASE(append_from_two_descriptors) {
  std::string d = FreshDir("append");
  std::string f = d + "/log";
  BOOST_REQUIRE(WriteFile(f, "start\n"));
  int a = ::open(f.c_str(), O_WRONLY | O_APPEND);
  int b = ::open(f.c_str(), O_WRONLY | O_APPEND);
  BOOST_REQUIRE(a >= 0);
  BOOST_REQUIRE(b >= 0);
  std::string expect = "start\n";
  for (int i = 0; i < 50; ++i) {
    std::string la = "a" + std::to_string(i) + "\n", lb = "bb" + std::to_string(i) + "\n";
    BOOST_TEST(::write(a, la.data(), la.size()) == static_cast<ssize_t>(la.size()));
    BOOST_TEST(::write(b, lb.data(), lb.size()) == static_cast<ssize_t>(lb.size()));
    expect += la + lb;
  }
  // pwrite on an O_APPEND descriptor appends too (Linux), leaving the offset alone.
  off_t before = ::lseek(a, 0, SEEK_CUR);
  BOOST_TEST(::pwrite(a, "P\n", 2, 0) == 2);
  expect += "P\n";
  BOOST_TEST(::lseek(a, 0, SEEK_CUR) == before);
  ::close(a);
  ::close(b);
  std::string got;
  BOOST_TEST(ReadFile(f, &got));
  BOOST_TEST(got == expect);
}

BOOST_AUTO_TEST_CASE(fsync_fdatasync_and_directory_fsync) {
  std::string d = FreshDir("fsync");
  int fd = ::open((d + "/f").c_str(), O_CREAT | O_RDWR, 0644);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(::write(fd, "data", 4) == 4);
  BOOST_TEST(::fsync(fd) == 0);
  BOOST_TEST(::fdatasync(fd) == 0);
  ::close(fd);
  int dfd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY);
  BOOST_REQUIRE(dfd >= 0);
  BOOST_TEST(::fsync(dfd) == 0);
  BOOST_TEST(::fdatasync(dfd) == 0);
  ::close(dfd);
  ::sync();
  int ro = ::open((d + "/f").c_str(), O_RDONLY);
  BOOST_TEST(::fsync(ro) == 0);  // allowed on a read-only descriptor
  ::close(ro);
}

BOOST_AUTO_TEST_CASE(truncate_up_and_down) {
  std::string d = FreshDir("truncate");
  std::string f = d + "/f";
  std::string data = Pattern(150000, 3);
  BOOST_REQUIRE(WriteFile(f, data));
  BOOST_TEST(::truncate(f.c_str(), 70000) == 0);
  BOOST_TEST(StatOrZero(f).st_size == 70000);
  std::string got;
  BOOST_TEST(ReadFile(f, &got));
  BOOST_TEST(got == data.substr(0, 70000));
  BOOST_TEST(::truncate(f.c_str(), 300000) == 0);  // up: the new bytes read as zeros
  BOOST_TEST(ReadFile(f, &got));
  BOOST_TEST(got.size() == 300000u);
  BOOST_TEST(got.substr(0, 70000) == data.substr(0, 70000));
  BOOST_TEST(got.substr(70000) == std::string(230000, '\0'));
  // Down inside a chunk, then up again: the cut bytes do not come back.
  int fd = ::open(f.c_str(), O_RDWR);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(::ftruncate(fd, 100) == 0);
  BOOST_TEST(::ftruncate(fd, 5000) == 0);
  BOOST_TEST(PreadAll(fd, 0, 6000) == data.substr(0, 100) + std::string(4900, '\0'));
  BOOST_TEST(ERR(::ftruncate(fd, -1)) == EINVAL);
  BOOST_TEST(::ftruncate(fd, 0) == 0);
  struct stat st;
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(st.st_size == 0);
  ::close(fd);
  BOOST_TEST(ERR(::truncate(d.c_str(), 0)) == EISDIR);
  BOOST_TEST(ERR(::truncate((d + "/missing").c_str(), 0)) == ENOENT);
}

BOOST_AUTO_TEST_CASE(fallocate_modes) {
  std::string d = FreshDir("fallocate");
  int fd = ::open((d + "/f").c_str(), O_CREAT | O_RDWR, 0644);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(::fallocate(fd, 0, 0, 200000) == 0);
  struct stat st;
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(st.st_size == 200000);
  BOOST_TEST(PreadAll(fd, 0, 200000) == std::string(200000, '\0'));
  // KEEP_SIZE beyond EOF leaves the size alone.
  BOOST_TEST(::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 400000) == 0);
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(st.st_size == 200000);
  std::string data = Pattern(200000, 4);
  BOOST_TEST(PwriteAll(fd, data.data(), data.size(), 0));
  int rc = ::fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 1000, 100000);
  if (rc != 0) {
    BOOST_TEST(errno == EOPNOTSUPP);
  } else {
    std::string expect = data;
    expect.replace(1000, 100000, std::string(100000, '\0'));
    BOOST_TEST(PreadAll(fd, 0, 200000) == expect);
    BOOST_TEST(::fstat(fd, &st) == 0);
    BOOST_TEST(st.st_size == 200000);
  }
  BOOST_TEST(ERR(::fallocate(fd, 0, 0, 0)) == EINVAL);
  BOOST_TEST(ERR(::fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10)) == EOPNOTSUPP);  // PUNCH_HOLE needs KEEP_SIZE
  ::close(fd);
  int ro = ::open((d + "/f").c_str(), O_RDONLY);
  BOOST_TEST(ERR(::fallocate(ro, 0, 0, 10)) == EBADF);
  ::close(ro);
}

BOOST_AUTO_TEST_CASE(seek_data_and_hole_in_a_sparse_file_past_4_gib) {
  std::string d = FreshDir("sparse");
  int fd = ::open((d + "/f").c_str(), O_CREAT | O_RDWR, 0644);
  BOOST_REQUIRE(fd >= 0);
  constexpr off_t kFar = 5LL << 30;
  std::string tail = Pattern(100000, 5);
  BOOST_TEST(PwriteAll(fd, tail.data(), tail.size(), kFar));
  struct stat st;
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(st.st_size == kFar + 100000);
  BOOST_TEST(st.st_blocks < 4096);  // the hole takes no space (under 2 MiB stored)
  BOOST_TEST(PreadAll(fd, kFar, 100000) == tail);
  BOOST_TEST(PreadAll(fd, 0, 1 << 20) == std::string(1 << 20, '\0'));
  BOOST_TEST(PreadAll(fd, 1LL << 32, 1 << 20) == std::string(1 << 20, '\0'));  // across 4 GiB
  BOOST_TEST(PreadAll(fd, kFar - 4096, 4096 + 10) == std::string(4096, '\0') + tail.substr(0, 10));
  // SEEK_DATA finds the data (at or before kFar, to the storage granularity), SEEK_HOLE the end.
  off_t data = ::lseek(fd, 0, SEEK_DATA);
  BOOST_TEST(data <= kFar);
  BOOST_TEST(data > kFar - (1 << 20));
  BOOST_TEST(::lseek(fd, 0, SEEK_HOLE) <= data);
  BOOST_TEST(::lseek(fd, 0, SEEK_HOLE) >= 0);
  BOOST_TEST(::lseek(fd, kFar, SEEK_HOLE) == kFar + 100000);
  BOOST_TEST(::lseek(fd, kFar + 10, SEEK_DATA) == kFar + 10);
  BOOST_TEST(ERR(::lseek(fd, kFar + 100000, SEEK_DATA)) == ENXIO);
  BOOST_TEST(ERR(::lseek(fd, kFar + 200000, SEEK_HOLE)) == ENXIO);
  // A file with no hole: SEEK_HOLE is its size.
  int g = ::open((d + "/dense").c_str(), O_CREAT | O_RDWR, 0644);
  BOOST_REQUIRE(g >= 0);
  BOOST_TEST(PwriteAll(g, tail.data(), tail.size(), 0));
  BOOST_TEST(::lseek(g, 0, SEEK_DATA) == 0);
  BOOST_TEST(::lseek(g, 0, SEEK_HOLE) == 100000);
  ::close(g);
  ::close(fd);
  BOOST_TEST(StatOrZero(d + "/f").st_size == kFar + 100000);
}

BOOST_AUTO_TEST_CASE(random_writes_to_a_64_mib_file_match_a_model) {
  std::string d = FreshDir("random");
  uint64_t seed = SeedFromEnv();
  BOOST_TEST_MESSAGE("seed " << seed << " (BATON_SEED)");
  std::mt19937_64 rng(seed);
  constexpr size_t kSize = 64u << 20;
  std::vector<char> model(kSize, '\0');
  int fd = ::open((d + "/f").c_str(), O_CREAT | O_RDWR, 0644);
  BOOST_REQUIRE(fd >= 0);
  size_t written = 0, writes = 0, model_size = 0;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<char> buf(1 << 20);
  while (written < kSize + kSize / 2) {
    size_t len = 1 + rng() % (rng() % 4 == 0 ? (1 << 20) : 65536);
    size_t off = rng() % (kSize - len + 1);
    if (writes == 0) off = kSize - len;  // the file reaches its full size early
    for (size_t i = 0; i < len; ++i) buf[i] = static_cast<char>(rng());
    BOOST_REQUIRE(PwriteAll(fd, buf.data(), len, static_cast<off_t>(off)));
    std::copy(buf.begin(), buf.begin() + static_cast<long>(len), model.begin() + static_cast<long>(off));
    model_size = std::max(model_size, off + len);
    written += len;
    writes++;
  }
  auto t1 = std::chrono::steady_clock::now();
  BOOST_TEST(model_size == kSize);
  struct stat st;
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(static_cast<size_t>(st.st_size) == kSize);
  ::close(fd);
  fd = ::open((d + "/f").c_str(), O_RDONLY);  // a fresh descriptor: no page cache of the writer's
  BOOST_REQUIRE(fd >= 0);
  size_t first_diff = kSize;
  for (size_t off = 0; off < kSize && first_diff == kSize; off += buf.size()) {
    std::string got = PreadAll(fd, static_cast<off_t>(off), buf.size());
    if (got.size() != buf.size() || std::memcmp(got.data(), model.data() + off, buf.size()) != 0) {
      size_t i = 0;
      while (i < got.size() && got[i] == model[off + i]) ++i;
      first_diff = off + i;
    }
  }
  ::close(fd);
  BOOST_TEST(first_diff == kSize, "first byte that differs from the model: " << first_diff);
  BOOST_TEST_MESSAGE(writes << " writes (" << written << " bytes) in "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count()
                            << " ms, verified in "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - t1)
                                   .count()
                            << " ms");
}

BOOST_AUTO_TEST_CASE(open_unlinked_file_lives_until_close) {
  std::string d = FreshDir("unlinked");
  std::string f = d + "/f";
  BOOST_REQUIRE(WriteFile(f, "before"));
  int fd = ::open(f.c_str(), O_RDWR);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(::unlink(f.c_str()) == 0);
  struct stat st;
  BOOST_TEST(ERR(::stat(f.c_str(), &st)) == ENOENT);
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(st.st_nlink == 0u);
  BOOST_TEST(PreadAll(fd, 0, 100) == "before");
  std::string more = Pattern(300000, 6);
  BOOST_TEST(PwriteAll(fd, more.data(), more.size(), 6));
  BOOST_TEST(PreadAll(fd, 0, 400000) == "before" + more);
  BOOST_TEST(::ftruncate(fd, 10) == 0);
  BOOST_TEST(::fstat(fd, &st) == 0);
  BOOST_TEST(st.st_size == 10);
  BOOST_TEST(::fsync(fd) == 0);
  // A new file under the same name is a different file.
  BOOST_REQUIRE(WriteFile(f, "new"));
  BOOST_TEST(PreadAll(fd, 0, 100) == "before" + more.substr(0, 4));
  std::string got;
  BOOST_TEST(ReadFile(f, &got));
  BOOST_TEST(got == "new");
  BOOST_TEST(::close(fd) == 0);
}

BOOST_AUTO_TEST_CASE(timestamps_follow_each_operation) {
  std::string d = FreshDir("times");
  std::string f = d + "/f";
  struct stat dir0 = StatOrZero(d);
  Tick();
  BOOST_REQUIRE(WriteFile(f, "x"));
  struct stat dir1 = StatOrZero(d), f1 = StatOrZero(f);
  BOOST_TEST(Ns(dir1.st_mtim) > Ns(dir0.st_mtim));  // create updates the parent
  BOOST_TEST(Ns(dir1.st_ctim) > Ns(dir0.st_ctim));
  Tick();
  int fd = ::open(f.c_str(), O_WRONLY);
  BOOST_REQUIRE(fd >= 0);
  BOOST_TEST(::write(fd, "more", 4) == 4);
  ::close(fd);
  struct stat f2 = StatOrZero(f);
  BOOST_TEST(Ns(f2.st_mtim) > Ns(f1.st_mtim));  // write advances mtime and ctime
  BOOST_TEST(Ns(f2.st_ctim) > Ns(f1.st_ctim));
  BOOST_TEST(Ns(StatOrZero(d).st_mtim) == Ns(dir1.st_mtim));  // but not the parent's
  Tick();
  BOOST_TEST(::chmod(f.c_str(), 0600) == 0);
  struct stat f3 = StatOrZero(f);
  BOOST_TEST(Ns(f3.st_ctim) > Ns(f2.st_ctim));  // chmod: ctime, not mtime
  BOOST_TEST(Ns(f3.st_mtim) == Ns(f2.st_mtim));
  Tick();
  {  // O_TRUNC of an empty file still marks mtime and ctime (POSIX open())
    std::string e = d + "/empty";
    BOOST_REQUIRE(WriteFile(e, ""));
    struct stat e0 = StatOrZero(e);
    Tick();
    int efd = ::open(e.c_str(), O_WRONLY | O_TRUNC);
    BOOST_REQUIRE(efd >= 0);
    ::close(efd);
    struct stat e1 = StatOrZero(e);
    BOOST_TEST(Ns(e1.st_mtim) > Ns(e0.st_mtim));
    BOOST_TEST(Ns(e1.st_ctim) > Ns(e0.st_ctim));
  }
  BOOST_TEST(::truncate(f.c_str(), 2) == 0);
  struct stat f4 = StatOrZero(f);
  BOOST_TEST(Ns(f4.st_mtim) > Ns(f3.st_mtim));
  BOOST_TEST(Ns(f4.st_ctim) > Ns(f3.st_ctim));
  // utimensat sets exactly; UTIME_OMIT keeps, UTIME_NOW takes the time now.
  struct timespec ts[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
  BOOST_TEST(::utimensat(AT_FDCWD, f.c_str(), ts, 0) == 0);
  struct stat f5 = StatOrZero(f);
  BOOST_TEST(f5.st_atim.tv_sec == 1000000000);
  BOOST_TEST(f5.st_atim.tv_nsec == 123456789);
  BOOST_TEST(f5.st_mtim.tv_sec == 1100000000);
  BOOST_TEST(f5.st_mtim.tv_nsec == 987654321);
  BOOST_TEST(Ns(f5.st_ctim) > Ns(f4.st_ctim));
  struct timespec omit_now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  auto before = std::chrono::system_clock::now();
  BOOST_TEST(::utimensat(AT_FDCWD, f.c_str(), omit_now, 0) == 0);
  struct stat f6 = StatOrZero(f);
  BOOST_TEST(Ns(f6.st_atim) == Ns(f5.st_atim));
  int64_t before_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch()).count();
  BOOST_TEST(Ns(f6.st_mtim) >= before_ns - 1000000000);  // now, within a second of clock skew
  BOOST_TEST(Ns(f6.st_mtim) > Ns(f5.st_mtim));
  struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  BOOST_TEST(::utimensat(AT_FDCWD, f.c_str(), now_omit, 0) == 0);
  struct stat f7 = StatOrZero(f);
  BOOST_TEST(Ns(f7.st_mtim) == Ns(f6.st_mtim));
  BOOST_TEST(Ns(f7.st_atim) > Ns(f6.st_atim));
  BOOST_TEST(::utimensat(AT_FDCWD, f.c_str(), nullptr, 0) == 0);  // both now
  // Link, rename and unlink change the parent; link and unlink the file's ctime.
  Tick();
  struct stat dir2 = StatOrZero(d), f8 = StatOrZero(f);
  BOOST_TEST(::link(f.c_str(), (d + "/g").c_str()) == 0);
  struct stat dir3 = StatOrZero(d), f9 = StatOrZero(f);
  BOOST_TEST(Ns(dir3.st_mtim) > Ns(dir2.st_mtim));
  BOOST_TEST(Ns(f9.st_ctim) > Ns(f8.st_ctim));
  Tick();
  BOOST_TEST(::unlink((d + "/g").c_str()) == 0);
  struct stat dir4 = StatOrZero(d), f10 = StatOrZero(f);
  BOOST_TEST(Ns(dir4.st_mtim) > Ns(dir3.st_mtim));
  BOOST_TEST(Ns(f10.st_ctim) > Ns(f9.st_ctim));
  Tick();
  BOOST_TEST(::mkdir((d + "/sub").c_str(), 0755) == 0);
  struct stat dir5 = StatOrZero(d);
  BOOST_TEST(Ns(dir5.st_mtim) > Ns(dir4.st_mtim));
  Tick();
  BOOST_TEST(::rename(f.c_str(), (d + "/sub/f").c_str()) == 0);
  BOOST_TEST(Ns(StatOrZero(d).st_mtim) > Ns(dir5.st_mtim));
  BOOST_TEST(Ns(StatOrZero(d + "/sub").st_mtim) > Ns(dir5.st_mtim));
}
