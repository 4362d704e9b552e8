#include "mds/metrics.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>

#include "base/log.h"
#include "proto/net.h"

namespace baton::mds {

// ---- Histogram ----

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i < bounds_.size(); i++) {
    assert(std::isfinite(bounds_[i]));
    assert(i == 0 || bounds_[i - 1] < bounds_[i]);
  }
}

void Histogram::Observe(double v) {
  // The first bucket whose bound is >= v: "le" is inclusive. NaN goes to +Inf.
  size_t i = std::isnan(v) ? bounds_.size()
                           : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < out.size(); i++) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

// ---- Text format ----

namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool StartsWithDigit(const std::string& n) { return std::isdigit(static_cast<unsigned char>(n[0])) != 0; }

bool ValidMetricName(const std::string& n) {
  if (n.empty() || StartsWithDigit(n)) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return IsWordChar(c) || c == ':'; });
}

bool ValidLabelName(const std::string& n) {
  if (n.empty() || StartsWithDigit(n) || n.rfind("__", 0) == 0 || n == "le") return false;
  return std::all_of(n.begin(), n.end(), IsWordChar);
}

// {a="x",b="y"}, with `le` last when given; "" for no labels at all.
std::string FormatLabels(const MetricLabels& labels, const std::string* le = nullptr) {
  if (labels.empty() && le == nullptr) return "";
  std::string s = "{";
  for (const auto& [k, v] : labels) {
    if (s.size() > 1) s += ',';
    s += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (le != nullptr) s += std::string(s.size() > 1 ? "," : "") + "le=\"" + *le + "\"";
  return s + "}";
}

const char* TypeName(int type) {
  static const char* const kNames[] = {"counter", "gauge", "histogram"};
  return kNames[type];
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integers (LSNs, epochs, counts) exactly and in full, not as 1e+06.
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  assert(r.ec == std::errc());
  return std::string(buf, r.ptr);
}

// ---- MetricsRegistry ----

MetricsRegistry::Child& MetricsRegistry::NewChild(const std::string& name, const std::string& help, Type type,
                                                  const MetricLabels& labels) {
  assert(ValidMetricName(name));
  for (const auto& kv : labels) assert(ValidLabelName(kv.first));
  auto it = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == name; });
  if (it == families_.end()) {
    families_.push_back(Family{name, help, type, {}});
    it = families_.end() - 1;
  }
  assert(it->type == type);
  for (const Child& c : it->children) assert(c.labels != labels);
  it->children.push_back(Child{labels, nullptr, nullptr, nullptr});
  return it->children.back();
}

Counter* MetricsRegistry::AddCounter(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  Child& c = NewChild(name, help, Type::kCounter, labels);
  c.counter = std::make_unique<Counter>();
  return c.counter.get();
}

Gauge* MetricsRegistry::AddGauge(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  Child& c = NewChild(name, help, Type::kGauge, labels);
  c.gauge = std::make_unique<Gauge>();
  return c.gauge.get();
}

Histogram* MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> upper_bounds, const MetricLabels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  Child& c = NewChild(name, help, Type::kHistogram, labels);
  c.histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return c.histogram.get();
}

void MetricsRegistry::ExposeFamily(const Family& f, std::string* out) {
  *out += "# HELP " + f.name + " " + EscapeHelp(f.help) + "\n";
  *out += "# TYPE " + f.name + " " + TypeName(static_cast<int>(f.type)) + "\n";
  for (const Child& c : f.children) {
    if (c.counter) *out += f.name + FormatLabels(c.labels) + " " + std::to_string(c.counter->value()) + "\n";
    if (c.gauge) *out += f.name + FormatLabels(c.labels) + " " + FormatSampleValue(c.gauge->value()) + "\n";
    if (!c.histogram) continue;
    const std::vector<double>& bounds = c.histogram->upper_bounds();
    const std::vector<uint64_t> counts = c.histogram->CumulativeCounts();
    for (size_t i = 0; i < counts.size(); i++) {
      const std::string le = i < bounds.size() ? FormatSampleValue(bounds[i]) : "+Inf";
      *out += f.name + "_bucket" + FormatLabels(c.labels, &le) + " " + std::to_string(counts[i]) + "\n";
    }
    *out += f.name + "_sum" + FormatLabels(c.labels) + " " + FormatSampleValue(c.histogram->sum()) + "\n";
    *out += f.name + "_count" + FormatLabels(c.labels) + " " + std::to_string(counts.back()) + "\n";
  }
}

std::string MetricsRegistry::Expose() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  for (const Family& f : families_) ExposeFamily(f, &out);
  return out;
}

std::vector<std::string> MetricsRegistry::FamilyNames() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> names;
  for (const Family& f : families_) names.push_back(f.name);
  return names;
}

// ---- MdsMetrics ----

namespace {
// 50 us .. 5 s: an fdatasync on NVMe to a stalled disk; an LMDB transaction.
const std::vector<double> kSecondsBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                             0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,    5};
// The sequencer's batches hold at most max_batch_records (default 1024) plus reclaims.
const std::vector<double> kRecordsBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
const char* const kRoles[] = {"active", "standby", "taking-over"};
}  // namespace

MdsMetrics::MdsMetrics(double start_time_s) {
  MetricsRegistry& r = registry_;
  r.AddGauge("baton_mds_start_time_seconds", "Start time of the MDS process, in seconds since the Unix epoch.")
      ->Set(start_time_s);
  for (const char* role : kRoles) {
    roles_.emplace_back(role, r.AddGauge("baton_mds_role", "1 for the role this MDS is in now, 0 for the others.",
                                         {{"role", role}}));
  }
  epoch = r.AddGauge("baton_mds_epoch",
                     "Volume epoch: the one this MDS serves (active, taking-over) or last read from the superblock "
                     "(standby).");
  sessions = r.AddGauge("baton_mds_sessions", "Client sessions with a connection to this MDS (0 on a standby).");
  const char* ops_help =
      "Client requests received, by operation (queries, mutations, open, release, fsync; unknown: a code this MDS "
      "does not know).";
  for (size_t v = 0; v < kOpCodes; v++) {
    const std::string name = fs::OpName(static_cast<fs::Op>(v));
    if (name != "unknown") ops_[v] = r.AddCounter("baton_mds_ops_total", ops_help, {{"op", name}});
  }
  ops_unknown_ = r.AddCounter("baton_mds_ops_total", ops_help, {{"op", "unknown"}});
  journal_records_ =
      r.AddCounter("baton_mds_journal_records_total", "Records this MDS wrote to the journal and fdatasynced.");
  journal_bytes_ =
      r.AddCounter("baton_mds_journal_bytes_total", "Bytes this MDS wrote to the journal (record headers included).");
  group_commits_ = r.AddCounter("baton_mds_journal_group_commits_total",
                                "Group commits: one journal write and one fdatasync each.");
  group_commit_records_ =
      r.AddHistogram("baton_mds_group_commit_records", "Records per group commit.", kRecordsBuckets);
  fsync_seconds_ = r.AddHistogram("baton_mds_journal_fsync_seconds",
                                  "The fdatasync of one group commit (its write not included).", kSecondsBuckets);
  apply_seconds_ = r.AddHistogram("baton_mds_apply_seconds",
                                  "One LMDB write transaction applying a batch of journal records (the active's "
                                  "batches, a standby's follow batches).",
                                  kSecondsBuckets);
  applied_lsn = r.AddGauge("baton_mds_applied_lsn", "Last journal LSN applied to this MDS's metadata store.");
  durable_lsn = r.AddGauge("baton_mds_durable_lsn",
                           "Last journal LSN known durable: the active's own; on a standby, the one the active last "
                           "published.");
  standby_lag_records = r.AddGauge("baton_mds_standby_lag_records",
                                   "On a standby, records the active had made durable that this standby had not "
                                   "applied when it last polled (STATUS lag); 0 otherwise.");
  checkpoints_total =
      r.AddCounter("baton_mds_checkpoints_total", "Checkpoints by the active: metadata store synced, journal trimmed.");
}

void MdsMetrics::CountOp(fs::Op op) {
  const auto v = static_cast<size_t>(op);
  Counter* c = v < kOpCodes ? ops_[v] : nullptr;
  (c != nullptr ? c : ops_unknown_)->Add();
}

void MdsMetrics::ObserveGroupSynced(const journal::GroupSyncStats& s) {
  journal_records_->Add(s.records);
  journal_bytes_->Add(s.bytes);
  group_commits_->Add();
  group_commit_records_->Observe(static_cast<double>(s.records));
  fsync_seconds_->Observe(static_cast<double>(s.sync_ns) / 1e9);
}

void MdsMetrics::ObserveApplyNanos(uint64_t ns) { apply_seconds_->Observe(static_cast<double>(ns) / 1e9); }

void MdsMetrics::SetRole(std::string_view role) {
  for (auto& [name, gauge] : roles_) gauge->Set(name == role ? 1 : 0);
}

// ---- HTTP ----

namespace {

std::string HttpAnswer(int code, const char* reason, const std::string& body, bool with_body = true,
                       const char* content_type = "text/plain; charset=utf-8") {
  std::string s = "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\nContent-Type: " + content_type +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (code == 405) s += "Allow: GET, HEAD\r\n";
  s += "\r\n";
  if (with_body) s += body;
  return s;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

constexpr int kStopCheckMs = 100;  // a stopping server gives up on a peer this soon

// Waits for `events` on fd until the deadline; false on timeout, error or stop.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop) {
  for (;;) {
    const int ms = RemainingMs(deadline);
    if (ms <= 0 || stop.load()) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, std::min(ms, kStopCheckMs));
    if (r == 0 || (r < 0 && errno == EINTR)) continue;
    return r > 0;
  }
}

enum class HeadRead { kComplete, kTooLong, kIncomplete };

// Reads a request head up to its empty line, within the deadline and the size bound.
HeadRead ReadHead(int fd, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop,
                  std::string* head) {
  char buf[1024];
  while (head->size() < MetricsServer::kMaxRequestHeadBytes) {
    if (!WaitFor(fd, POLLIN, deadline, stop)) return HeadRead::kIncomplete;
    const size_t want = std::min(sizeof buf, MetricsServer::kMaxRequestHeadBytes - head->size());
    ssize_t n = ::recv(fd, buf, want, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return HeadRead::kIncomplete;  // EOF before the head ended, or an error
    const size_t from = head->size() < 3 ? 0 : head->size() - 3;
    head->append(buf, static_cast<size_t>(n));
    if (head->find("\r\n\r\n", from) != std::string::npos || head->find("\n\n", from) != std::string::npos) {
      return HeadRead::kComplete;
    }
  }
  return HeadRead::kTooLong;
}

bool SendAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline,
             const std::atomic<bool>& stop) {
  while (!data.empty()) {
    if (!WaitFor(fd, POLLOUT, deadline, stop)) return false;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// After the answer: reads what the peer still sends (briefly), so that
// closing with unread bytes does not reset the connection under the answer.
void Drain(int fd, const std::atomic<bool>& stop) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  char buf[4096];
  for (size_t total = 0; total < (64u << 10) && WaitFor(fd, POLLIN, deadline, stop);) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    total += static_cast<size_t>(n);
  }
}

}  // namespace

std::string MetricsHttpResponse(std::string_view head, bool complete, const MetricsRegistry& registry) {
  if (!complete) return HttpAnswer(431, "Request Header Fields Too Large", "request head too large\n");
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return HttpAnswer(400, "Bad Request", "bad request line\n");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || target.empty() || target[0] != '/' || (version != "HTTP/1.0" && version != "HTTP/1.1")) {
    return HttpAnswer(400, "Bad Request", "bad request line\n");
  }
  if (target.substr(0, target.find('?')) != "/metrics") {
    return HttpAnswer(404, "Not Found", "not found; try /metrics\n");
  }
  if (method != "GET" && method != "HEAD") return HttpAnswer(405, "Method Not Allowed", "use GET\n");
  return HttpAnswer(200, "OK", registry.Expose(), method == "GET", "text/plain; version=0.0.4; charset=utf-8");
}

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Listen(const std::string& addr,
                                                               const MetricsRegistry* registry) {
  std::string bound;
  BATON_ASSIGN_OR_RETURN(int fd, proto::ListenTcp(addr, &bound));
  return std::unique_ptr<MetricsServer>(new MetricsServer(fd, bound, registry));
}

MetricsServer::~MetricsServer() {
  Stop();
  proto::CloseFd(fd_);
}

void MetricsServer::Start() {
  stop_.store(false);
  thread_ = std::thread([this] { Loop(); });
}

void MetricsServer::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::Loop() {
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        LOG_WARN("mds", "metrics: accept failed (errno %d)", errno);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // EMFILE: do not spin
      }
      continue;
    }
    Answer(fd);
    proto::CloseFd(fd);
  }
}

void MetricsServer::Answer(int fd) {
  std::string head;
  HeadRead r =
      ReadHead(fd, std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestDeadlineMs), stop_, &head);
  if (r == HeadRead::kIncomplete) {
    LOG_DEBUG("mds", "metrics: %s sent no whole request in time; closed", proto::PeerName(fd).c_str());
    return;
  }
  const std::string answer = MetricsHttpResponse(head, r == HeadRead::kComplete, *registry_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestDeadlineMs);
  if (!SendAll(fd, answer, deadline, stop_)) return;
  ::shutdown(fd, SHUT_WR);
  Drain(fd, stop_);
}

}  // namespace baton::mds
