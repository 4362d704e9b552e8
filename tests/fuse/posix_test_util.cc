#include "tests/fuse/posix_test_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace baton::testing {

namespace {
std::unique_ptr<MountedVolume> g_volume;
bool g_tried = false;
}  // namespace

MountedVolume* SharedVolume() {
  if (!g_tried) {
    g_tried = true;
    // BATON_POSIX_MOUNT_OPTIONS runs the suite with extra -o options
    // (default_permissions, writeback_cache, attr_timeout=0...).
    const char* opts = std::getenv("BATON_POSIX_MOUNT_OPTIONS");
    auto v = std::make_unique<MountedVolume>(opts != nullptr ? opts : "");
    if (opts != nullptr) fprintf(stderr, "mounting with -o %s\n", opts);
    if (v->Start()) {
      g_volume = std::move(v);
    } else {
      fprintf(stderr, "the shared test volume did not start\n");
    }
  }
  return g_volume.get();
}

void StopSharedVolume() { g_volume.reset(); }

std::string FreshDir(const std::string& name) {
  static std::atomic<int> counter{0};
  MountedVolume* v = SharedVolume();
  if (v == nullptr) throw std::runtime_error("no mounted volume (see the messages above)");
  std::string path = v->P(name + "." + std::to_string(counter++));
  if (::mkdir(path.c_str(), 0777) != 0 || ::chmod(path.c_str(), 0777) != 0) {
    throw std::runtime_error("FreshDir " + path + ": " + strerror(errno));
  }
  return path;
}

bool WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

bool ReadFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

struct stat StatOrZero(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) std::memset(&st, 0, sizeof st);
  return st;
}

int64_t Ns(const struct timespec& ts) { return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec; }

}  // namespace baton::testing

#include <grp.h>
#include <sys/wait.h>

namespace baton::testing {

}  // namespace baton::testing
