// Shared helpers for the POSIX suites that run through a real FUSE mount
// (posix_*_test.cc). Each test executable mounts one volume, lazily, and each
// test case works in its own fresh directory of it.
#pragma once

#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "tests/fuse/mount_fixture.h"

namespace baton::testing {

constexpr uid_t kNobody = 65534;  // "nobody"
constexpr gid_t kNogroup = 65534;
constexpr uid_t kOther = 65533;   // a second unprivileged user, for cross-user checks
constexpr gid_t kOtherGroup = 65533;

// The executable's one mounted volume (started on first use; nullptr if it
// could not start). Torn down by PosixGlobalFixture.
MountedVolume* SharedVolume();
void StopSharedVolume();

struct PosixGlobalFixture {
  PosixGlobalFixture() = default;
  ~PosixGlobalFixture() { StopSharedVolume(); }
};

// A fresh directory in the shared mount, mode 0777 (so unprivileged users can
// work in it), named after the test; returns its path. Throws (failing the
// test case) when the mount is not up.
std::string FreshDir(const std::string& name);

// Small file helpers; Read/Write return false (errno set) on error.
bool WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644);
bool ReadFile(const std::string& path, std::string* out);
struct stat StatOrZero(const std::string& path);  // zeroed struct on error
int64_t Ns(const struct timespec& ts);

}  // namespace baton::testing

// errno of a call that should fail, or 0 if it succeeded: BOOST_TEST(ERR(f()) == ENOENT).
#define ERR(expr)                                  \
  ([&]() -> int {                                  \
    errno = 0;                                     \
    long r_ = static_cast<long>(expr);             \
    return r_ == -1 ? errno : 0;                   \
  }())

// Checks inside RunAs children (no Boost.Test there): print and return 1.
#define C_CHECK(cond)                                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      int e_ = errno;                                                                              \
      fprintf(stderr, "%s:%d: check failed in child: %s (errno %d %s)\n", __FILE__, __LINE__, #cond, \
              e_, strerror(e_));                                                                   \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

// In a child: expr must fail with errno want.
#define C_CHECK_ERR(expr, want)                                                                    \
  do {                                                                                             \
    int got_ = ERR(expr);                                                                          \
    if (got_ != (want)) {                                                                          \
      fprintf(stderr, "%s:%d: in child: %s gave errno %d (%s), want %d (%s)\n", __FILE__, __LINE__, \
              #expr, got_, strerror(got_), (want), strerror(want));                                \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

// RunAsGroups (explicit supplementary groups) is in tests/fuse/mount_fixture.h.
