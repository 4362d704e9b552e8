#include "bench/failover/tick_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench/failover/procs.h"

namespace baton::bench::failover {

namespace {
constexpr uint64_t kPeriodNs = 1000000;  // one op per millisecond
constexpr size_t kWriteBytes = 64;
constexpr uint64_t kSlots = 64;          // the writes cycle over the first 4 KiB
}  // namespace

bool TickWriter::Start(const std::string& path, std::string* error) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return *error = "open " + path + ": " + std::strerror(errno), false;
  completions_.reserve(1 << 20);
  thread_ = std::thread([this] { Loop(); });
  return true;
}

void TickWriter::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TickWriter::Loop() {
  char buf[kWriteBytes];
  uint64_t next_ns = NowNs();
  for (uint64_t i = 0; !stop_.load(); i++) {
    uint64_t now = NowNs();
    if (next_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(next_ns - now));
    next_ns = std::max(next_ns + kPeriodNs, NowNs());  // never a burst to catch up after a stall
    std::snprintf(buf, sizeof buf, "%020llu\n", static_cast<unsigned long long>(i));
    const char* what = nullptr;
    if (::pwrite(fd_, buf, kWriteBytes, static_cast<off_t>((i % kSlots) * kWriteBytes)) !=
        static_cast<ssize_t>(kWriteBytes))
      what = "pwrite";
    else if (::fsync(fd_) != 0)
      what = "fsync";
    if (what != nullptr) {
      std::lock_guard<std::mutex> l(mu_);
      if (errors_.fetch_add(1) == 0) first_error_ = std::string(what) + ": " + std::strerror(errno);
      continue;
    }
    uint64_t done = NowNs();
    {
      std::lock_guard<std::mutex> l(mu_);
      completions_.push_back(done);
    }
    last_ns_.store(done);
    completed_.fetch_add(1);
  }
}

bool TickWriter::WaitCompletionAfter(uint64_t t_ns, int64_t timeout_ms) const {
  uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_ms) * 1000000;
  while (last_ns_.load() <= t_ns) {
    if (NowNs() >= deadline) return false;
    SleepMs(1);
  }
  return true;
}

std::string TickWriter::first_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return first_error_;
}

std::vector<uint64_t> TickWriter::completions() const {
  std::lock_guard<std::mutex> l(mu_);
  return completions_;
}

uint64_t LongestGapNs(const std::vector<uint64_t>& c, uint64_t from_ns, uint64_t to_ns) {
  auto it = std::lower_bound(c.begin(), c.end(), from_ns);
  if (it == c.begin() && it != c.end()) ++it;  // the first completion has no gap before it
  uint64_t longest = 0;
  for (; it != c.end() && *it <= to_ns; ++it) longest = std::max(longest, *it - *(it - 1));
  return longest;
}

}  // namespace baton::bench::failover
