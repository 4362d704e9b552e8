// Large directories through a real FUSE mount: 20,000 entries listed
// completely with no duplicates, and a listing that stays correct while
// entries come and go under it.
#define BOOST_TEST_MODULE posix_readdir_test
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "fs/ops.h"
#include "tests/fuse/posix_test_util.h"

using namespace baton::testing;

BOOST_TEST_GLOBAL_FIXTURE(PosixGlobalFixture);

namespace {

// Creates names prefix+i for i in [0, count) in dir with `threads` parallel
// mknod calls through the mount; returns the number that failed.
int CreateMany(const std::string& dir, const std::string& prefix, int count, int threads) {
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = t; i < count; i += threads) {
        std::string p = dir + "/" + prefix + std::to_string(i);
        // mknod: two round trips (lookup, mknod) where open+close takes four.
        if (::mknod(p.c_str(), S_IFREG | 0644, 0) != 0) {
          if (failures++ < 3) fprintf(stderr, "create %s: %s\n", p.c_str(), strerror(errno));
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  return failures.load();
}

// The same, but straight to the MDS through the client library from many
// threads, so its group commit batches them. (Through the mount, creates in
// one directory are serialised by the kernel's directory lock: one journal
// sync each, ~2 ms apiece here, too slow for 20,000 in the time budget.)
int CreateManyDirect(const std::string& address, ino_t dir_ino, const std::string& prefix, int from, int count,
                     int threads) {
  auto client = baton::client::Client::Connect({address});
  if (!client.ok()) {
    fprintf(stderr, "connect %s: %s\n", address.c_str(), client.status().ToString().c_str());
    return count;
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = from + t; i < from + count; i += threads) {
        baton::fs::Request r;
        r.op = baton::fs::Op::kMknod;
        r.parent = dir_ino;
        r.name = prefix + std::to_string(i);
        r.mode = S_IFREG | 0644;
        auto rep = (*client)->Call(r);
        if (!rep.ok() || rep->err != 0) {
          if (failures++ < 3) fprintf(stderr, "mknod %s: %s\n", r.name.c_str(), rep.ok() ? strerror(rep->err) : "no reply");
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  (*client)->Close();
  return failures.load();
}

// Reads a directory with getdents64 in small buffers; calls between(n) after
// each batch (n = entries read so far). Returns every name seen, in order.
std::vector<std::string> ListInSmallBatches(const std::string& dir, const std::function<void(size_t)>& between) {
  std::vector<std::string> names;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return names;
  alignas(8) char buf[1024];
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      auto* rec = reinterpret_cast<struct dirent64*>(buf + off);
      names.push_back(rec->d_name);
      off += rec->d_reclen;
    }
    between(names.size());
  }
  ::close(fd);
  return names;
}

}  // namespace

BOOST_AUTO_TEST_CASE(twenty_thousand_entries_listed_once_each) {
  std::string d = FreshDir("big");
  constexpr int kCount = 20000;
  auto t0 = std::chrono::steady_clock::now();
  constexpr int kThroughMount = 1000;
  BOOST_REQUIRE(CreateMany(d, "entry-", kThroughMount, 4) == 0);
  BOOST_REQUIRE(CreateManyDirect(SharedVolume()->address(), StatOrZero(d).st_ino, "entry-", kThroughMount,
                                 kCount - kThroughMount, 32) == 0);
  auto t1 = std::chrono::steady_clock::now();
  BOOST_TEST_MESSAGE("created " << kCount << " files in "
                                << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count() << " ms");
  std::map<std::string, int> seen;
  DIR* dir = ::opendir(d.c_str());
  BOOST_REQUIRE(dir != nullptr);
  while (dirent* e = ::readdir(dir)) seen[e->d_name]++;
  ::closedir(dir);
  BOOST_TEST(seen.size() == static_cast<size_t>(kCount + 2));
  int duplicates = 0, missing = 0;
  for (auto& [name, n] : seen) duplicates += n > 1;
  for (int i = 0; i < kCount; ++i) missing += seen.count("entry-" + std::to_string(i)) == 0;
  BOOST_TEST(duplicates == 0);
  BOOST_TEST(missing == 0);
  BOOST_TEST(seen["."] == 1);
  BOOST_TEST(seen[".."] == 1);
  BOOST_TEST(StatOrZero(d + "/entry-19999").st_size == 0);
  BOOST_TEST_MESSAGE("listed in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - t1)
                                         .count()
                                  << " ms");
}

BOOST_AUTO_TEST_CASE(entries_added_and_removed_during_a_listing) {
  std::string d = FreshDir("churn");
  constexpr int kStable = 1500, kDoomed = 500;
  BOOST_REQUIRE(CreateManyDirect(SharedVolume()->address(), StatOrZero(d).st_ino, "stable-", 0, kStable, 32) == 0);
  BOOST_REQUIRE(CreateManyDirect(SharedVolume()->address(), StatOrZero(d).st_ino, "doomed-", 0, kDoomed, 32) == 0);
  uint64_t seed = SeedFromEnv();
  BOOST_TEST_MESSAGE("seed " << seed << " (BATON_SEED)");
  std::mt19937_64 rng(seed);
  int added = 0, removed = 0;
  std::vector<int> doomed(kDoomed);
  for (int i = 0; i < kDoomed; ++i) doomed[i] = i;
  std::shuffle(doomed.begin(), doomed.end(), rng);
  auto churn = [&](size_t) {
    // Between batches: add a few new names and remove a few doomed ones.
    for (int k = 0; k < 3; ++k) {
      std::string p = d + "/new-" + std::to_string(added++);
      int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0644);
      if (fd >= 0) ::close(fd);
    }
    for (int k = 0; k < 2 && removed < kDoomed; ++k) {
      ::unlink((d + "/doomed-" + std::to_string(doomed[removed++])).c_str());
    }
  };
  std::vector<std::string> names = ListInSmallBatches(d, churn);
  std::map<std::string, int> seen;
  for (auto& n : names) seen[n]++;
  int duplicates = 0, stable_missing = 0;
  for (auto& [name, n] : seen) {
    if (n > 1) {
      duplicates++;
      BOOST_TEST_MESSAGE("listed " << n << " times: " << name);
    }
  }
  for (int i = 0; i < kStable; ++i) stable_missing += seen.count("stable-" + std::to_string(i)) == 0;
  BOOST_TEST(removed > 0);
  BOOST_TEST(added > 0);
  BOOST_TEST(duplicates == 0);
  BOOST_TEST(stable_missing == 0);
  BOOST_TEST(seen.count(".") == 1u);
  BOOST_TEST(seen.count("..") == 1u);
  // Every listed name other than the churned ones is a real entry.
  for (auto& [name, n] : seen) {
    if (name.rfind("stable-", 0) == 0) BOOST_TEST(StatOrZero(d + "/" + name).st_ino != 0u);
  }
}
