// Metrics of the MDS, in the Prometheus text format (version 0.0.4), served
// on `baton mds --metrics ADDR:PORT` at GET /metrics.
//
// Three layers, each usable alone:
//   - MetricsRegistry: counters, gauges and fixed-bucket histograms, each a
//     family (name, help, type) of children told apart by their labels.
//     Registering takes a lock (at startup); updating a metric is a relaxed
//     atomic or two (the sequencer and the journal's leader update them per
//     batch, connection threads per request: never a lock). Expose() writes
//     the text format; a scrape reads each atomic once, so a scrape taken
//     during an update may see a histogram's _sum one observation apart from
//     its buckets, but _count always equals the +Inf bucket.
//   - MdsMetrics: every metric an MDS publishes (README.md, `baton mds`,
//     lists them), made once per process before the election and handed to
//     each role in turn, so one endpoint serves the standby, its takeover and
//     the active that follows.
//   - MetricsServer: a minimal HTTP/1.x server on its own thread: one
//     connection at a time, a request head of at most kMaxRequestHeadBytes
//     read within kRequestDeadlineMs, one answer, then the connection is
//     closed. GET /metrics gets 200; any other path 404, another method on
//     /metrics 405, a malformed or oversized request 400 / 431. Nothing a
//     peer sends can stop it or the MDS; a silent peer delays other scrapes by
//     kRequestDeadlineMs at most. There is no authentication: bind it to
//     loopback or a trusted network.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "fs/ops.h"
#include "journal/journal.h"

namespace baton::mds {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Goes up only.
class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that is set.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed buckets. Invariant: upper_bounds is
// strictly increasing and finite (+Inf is implicit, the last bucket);
// counts_ has upper_bounds.size() + 1 slots, not cumulative (Expose adds
// them up).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Cumulative counts per bucket (the last is +Inf, the total) and the sum.
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

class MetricsRegistry {
 public:
  // Each returns a metric that lives as long as the registry. A name names
  // one family: registering it again adds a child with other labels (same
  // type; the help of the first registration is kept). Bad names, a label
  // "le" or a child registered twice are programming errors (assert).
  Counter* AddCounter(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Gauge* AddGauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Histogram* AddHistogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds,
                          const MetricLabels& labels = {});
  // The text format 0.0.4: families in registration order, each with
  // # HELP and # TYPE, children in registration order.
  std::string Expose() const;
  // Names of every family, in registration order.
  std::vector<std::string> FamilyNames() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Child {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::vector<Child> children;
  };
  Child& NewChild(const std::string& name, const std::string& help, Type type, const MetricLabels& labels);
  static void ExposeFamily(const Family& f, std::string* out);

  mutable std::mutex mu_;
  std::vector<Family> families_;  // GUARDED_BY(mu_); children point at heap objects that never move
};

// Text-format helpers (exposed for tests).
std::string EscapeLabelValue(std::string_view v);  // \ " and newline escaped
std::string EscapeHelp(std::string_view v);        // \ and newline escaped
std::string FormatSampleValue(double v);           // shortest exact form; +Inf, -Inf, NaN

// Every metric of one MDS process; all names start with baton_mds_.
class MdsMetrics {
 private:
  MetricsRegistry registry_;

 public:
  // start_time_s: the process start, in seconds since the Unix epoch.
  explicit MdsMetrics(double start_time_s);
  MdsMetrics(const MdsMetrics&) = delete;
  MdsMetrics& operator=(const MdsMetrics&) = delete;

  const MetricsRegistry& registry() const { return registry_; }

  // One request served, by its op (any thread).
  void CountOp(fs::Op op);
  // The journal's group observer (JournalOptions::on_group_synced).
  void ObserveGroupSynced(const journal::GroupSyncStats& s);
  // One LMDB write transaction of a batch took this long (either role).
  void ObserveApplyNanos(uint64_t ns);
  // "active", "standby" or "taking-over": its role gauge is 1, the others 0
  // (set one after the other: a scrape at that moment may see both or none).
  void SetRole(std::string_view role);

  // Set by the roles (any thread); never null.
  Gauge* applied_lsn = nullptr;
  Gauge* durable_lsn = nullptr;
  Gauge* standby_lag_records = nullptr;
  Gauge* sessions = nullptr;
  Gauge* epoch = nullptr;
  Counter* checkpoints_total = nullptr;

 private:
  static constexpr size_t kOpCodes = 256;  // every fs::Op value is below this
  std::array<Counter*, kOpCodes> ops_{};  // by op value; nullptr: not an op
  Counter* ops_unknown_ = nullptr;
  Counter* journal_records_ = nullptr;
  Counter* journal_bytes_ = nullptr;
  Counter* group_commits_ = nullptr;
  Histogram* group_commit_records_ = nullptr;
  Histogram* fsync_seconds_ = nullptr;
  Histogram* apply_seconds_ = nullptr;
  std::vector<std::pair<std::string, Gauge*>> roles_;
};

// The whole HTTP response to a request head (tests call it directly).
// complete: the head ended with an empty line; false means it was cut at
// kMaxRequestHeadBytes (answered 431).
std::string MetricsHttpResponse(std::string_view head, bool complete, const MetricsRegistry& registry);

class MetricsServer {
 public:
  static constexpr size_t kMaxRequestHeadBytes = 8192;
  static constexpr int kRequestDeadlineMs = 2000;  // to read the head, and again to send the answer

  // Binds addr (host:port, IPv4; port 0 picks one); the server answers only
  // once started. An address in use is an error here.
  static StatusOr<std::unique_ptr<MetricsServer>> Listen(const std::string& addr, const MetricsRegistry* registry);
  ~MetricsServer();
  void Start();
  // Stops accepting, drops the connection being answered (within 100 ms)
  // and joins the thread.
  void Stop();
  const std::string& address() const { return address_; }

 private:
  MetricsServer(int fd, std::string address, const MetricsRegistry* registry)
      : fd_(fd), address_(std::move(address)), registry_(registry) {}
  void Loop();
  void Answer(int fd);

  int fd_;
  std::string address_;
  const MetricsRegistry* registry_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace baton::mds
