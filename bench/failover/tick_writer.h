// The application the failover bench watches: one thread doing a 64-byte
// pwrite + fsync to one file every millisecond (or back to back when an op
// takes longer), keeping the completion time of every op. The stall an
// application sees around an event is the longest gap between consecutive
// completions that ends in the event's window.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace baton::bench::failover {

class TickWriter {
 public:
  TickWriter() = default;
  ~TickWriter() { Stop(); }
  TickWriter(const TickWriter&) = delete;
  TickWriter& operator=(const TickWriter&) = delete;

  bool Start(const std::string& path, std::string* error);
  void Stop();  // joins the thread and closes the file

  uint64_t completed() const { return completed_.load(); }
  uint64_t last_completion_ns() const { return last_ns_.load(); }
  // Waits until an op completes after t_ns; false after timeout_ms.
  bool WaitCompletionAfter(uint64_t t_ns, int64_t timeout_ms) const;
  uint64_t errors() const { return errors_.load(); }
  std::string first_error() const;
  std::vector<uint64_t> completions() const;  // CLOCK_MONOTONIC ns, ascending

 private:
  void Loop();

  int fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> last_ns_{0};
  std::atomic<uint64_t> errors_{0};
  mutable std::mutex mu_;
  std::vector<uint64_t> completions_;  // GUARDED_BY(mu_)
  std::string first_error_;            // GUARDED_BY(mu_)
};

// The longest gap c[k] - c[k-1] with c[k] in [from_ns, to_ns] (0 if none).
uint64_t LongestGapNs(const std::vector<uint64_t>& c, uint64_t from_ns, uint64_t to_ns);

}  // namespace baton::bench::failover
